//! The shared corpus (`mistype-testdata`) through the native engine.

use std::collections::HashMap;

use mistype::{CheckRequest, Engine, Policy, Verdict};
pub use mistype_testdata::Case;

/// Engines by policy name, built once.
#[derive(Default)]
pub struct Engines(HashMap<Option<String>, Engine>);

impl Engines {
    pub fn get(&mut self, policy: &Option<String>) -> &Engine {
        self.0
            .entry(policy.clone())
            .or_insert_with(|| match policy {
                None => Engine::with_default_policy(),
                Some(name) => Engine::new(
                    &Policy::from_json(mistype_testdata::policy_text(name)).expect("valid policy"),
                ),
            })
    }

    /// The native verdict of a case.
    pub fn check(&mut self, case: &Case) -> Verdict {
        let request: CheckRequest = serde_json::from_value(case.request.clone())
            .unwrap_or_else(|e| panic!("{}: {}: bad request: {e}", case.file, case.name));
        self.get(&case.policy).check(&request)
    }
}
