//! The engine: built once from a policy, then judges requests.

use crate::policy::Policy;
use crate::verdict::{CheckRequest, Verdict};
use crate::Error;

/// Caps on the work done for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most recipients judged per request; the rest get a `limit` error.
    pub max_recipients: usize,
    /// Most contacts read per request; the rest are ignored.
    pub max_contacts: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_recipients: 1000,
            max_contacts: 10_000,
        }
    }
}

/// The detection engine. Build it once (it indexes every reference domain), share it, and call
/// [`Engine::check`] per request.
#[derive(Debug)]
pub struct Engine {
    policy: Policy,
    limits: Limits,
}

/// The per-request context: the sender and the sender's contacts, prepared once and reused for
/// every recipient (and every keystroke in the browser).
#[derive(Debug, Clone, Default)]
pub struct Context {
    _private: (),
}

impl Engine {
    /// The engine with the embedded default policy.
    pub fn with_default_policy() -> Engine {
        Engine::new(&Policy::embedded())
    }

    /// Build from a validated policy (its `defaults` flag adds the embedded default policy).
    pub fn new(policy: &Policy) -> Engine {
        Engine {
            policy: policy.resolved(),
            limits: Limits::default(),
        }
    }

    /// Parse, validate and build from policy JSON.
    pub fn from_policy_json(json: &str) -> Result<Engine, Error> {
        Ok(Engine::new(&Policy::from_json(json)?))
    }

    /// Change the per-request caps.
    pub fn with_limits(mut self, limits: Limits) -> Engine {
        self.limits = limits;
        self
    }

    /// The resolved policy this engine applies.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Prepare the sender context.
    pub fn context(&self, _from: Option<&str>, _contacts: &[String]) -> Context {
        Context::default()
    }

    /// Judge one request.
    pub fn check(&self, request: &CheckRequest) -> Verdict {
        Verdict::empty(request.id.clone())
    }

    /// Judge one recipient entry (which may hold a list) in a prepared context; the verdict's
    /// `id` is `null`.
    pub fn check_recipient(&self, _recipient: &str, _ctx: &Context) -> Verdict {
        Verdict::empty(serde_json::Value::Null)
    }
}
