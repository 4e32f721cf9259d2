//! The shared corpus (`mistype-testdata`) through the native engine, and the `mistype` binary
//! run as a user runs it.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

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

/// The `mistype` binary of this build.
pub fn mistype() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mistype"))
}

/// What a run of the binary left.
pub struct Run {
    pub code: i32,
    pub out: String,
    pub err: String,
}

/// Runs `cmd` with `stdin` (written from another thread, so that a large input cannot block on a
/// full output pipe) and waits for it.
pub fn run(cmd: &mut Command, stdin: &[u8]) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mistype");
    let mut sin = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = sin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
