//! Judging recipients with the engine, once per distinct (sender domain, recipient domain) pair:
//! a year of one organisation's mail holds millions of recipients but few distinct pairs.

use std::collections::HashMap;
use std::sync::Arc;

use mistype::{Context, Engine, Finding};

use crate::input::record::domain_of;

/// The engine's answer for one pair.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Nothing wrong.
    Clean,
    /// Findings for the domain (recipient, address and suggestion are filled in per recipient).
    Flagged(Arc<[Finding]>),
    /// The recipient could not be judged (no domain, an impossible name); why.
    Error(Arc<str>),
}

/// Most pairs remembered; past it the cache starts over (bounded memory for hostile inputs).
const MAX_PAIRS: usize = 1 << 20;

/// The pair cache over an engine.
#[derive(Debug)]
pub struct Judge<'e> {
    engine: &'e Engine,
    contexts: HashMap<Box<str>, Context>,
    /// Sender domain → recipient domain → outcome (two levels, so that a lookup by `&str`
    /// allocates nothing).
    pairs: HashMap<Box<str>, HashMap<Box<str>, Outcome>>,
    size: usize,
    /// How many pairs the engine was asked about.
    pub judged: u64,
}

fn lower(s: &str) -> Box<str> {
    s.to_ascii_lowercase().into()
}

impl<'e> Judge<'e> {
    /// A judge with an empty cache.
    pub fn new(engine: &'e Engine) -> Judge<'e> {
        Judge {
            engine,
            contexts: HashMap::new(),
            pairs: HashMap::new(),
            size: 0,
            judged: 0,
        }
    }

    /// The outcome for a recipient address sent by `sender` (bare addresses).
    pub fn judge(&mut self, sender: Option<&str>, rcpt: &str) -> Outcome {
        let sd = sender.and_then(domain_of).unwrap_or("");
        let Some(rd) = domain_of(rcpt) else {
            return Outcome::Error(
                format!("'{}' has no domain", crate::input::record::clip(rcpt, 80)).into(),
            );
        };
        // Look up without allocating when both are lower case (the common case).
        let lower_sd;
        let sd = if sd.bytes().any(|b| b.is_ascii_uppercase()) {
            lower_sd = sd.to_ascii_lowercase();
            lower_sd.as_str()
        } else {
            sd
        };
        let lower_rd;
        let rd = if rd.bytes().any(|b| b.is_ascii_uppercase()) {
            lower_rd = rd.to_ascii_lowercase();
            lower_rd.as_str()
        } else {
            rd
        };
        if let Some(o) = self.pairs.get(sd).and_then(|m| m.get(rd)) {
            return o.clone();
        }
        if self.size >= MAX_PAIRS {
            self.pairs.clear();
            self.size = 0;
        }
        if self.contexts.len() >= MAX_PAIRS / 16 {
            self.contexts.clear();
        }
        let key = (lower(sd), lower(rd));
        let engine = self.engine;
        let ctx = self.contexts.entry(key.0.clone()).or_insert_with(|| {
            let from = (!sd.is_empty()).then(|| format!("postmaster@{sd}"));
            engine.context(from.as_deref(), &[])
        });
        self.judged += 1;
        let v = engine.check_recipient(&format!("x@{}", key.1), ctx);
        let outcome = if !v.findings.is_empty() {
            Outcome::Flagged(v.findings.into())
        } else if let Some(e) = v.errors.first() {
            Outcome::Error(e.message.clone().into())
        } else {
            Outcome::Clean
        };
        self.size += 1;
        self.pairs
            .entry(key.0)
            .or_default()
            .insert(key.1, outcome.clone());
        outcome
    }
}

/// A cached finding made this recipient's: its address and the suggestion with its local part.
pub fn for_recipient(f: &Finding, rcpt: &str, shown: &str) -> Finding {
    let local = rcpt.rfind('@').map(|i| &rcpt[..i]).unwrap_or(rcpt);
    Finding {
        recipient: shown.to_string(),
        address: format!("{local}@{}", f.domain),
        suggestion: f.intended.as_ref().map(|i| format!("{local}@{i}")),
        ..f.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_engine_call_per_pair() {
        let engine = Engine::with_default_policy();
        let mut j = Judge::new(&engine);
        assert!(matches!(
            j.judge(Some("a@army.mil"), "c@navy.ml"),
            Outcome::Flagged(_)
        ));
        assert!(matches!(
            j.judge(Some("b@ARMY.mil"), "d@Navy.ML"),
            Outcome::Flagged(_)
        ));
        assert!(matches!(
            j.judge(Some("a@army.mil"), "c@navy.mil"),
            Outcome::Clean
        ));
        assert!(matches!(
            j.judge(Some("a@army.mil"), "nodomain"),
            Outcome::Error(_)
        ));
        assert_eq!(j.judged, 2);
        let Outcome::Flagged(f) = j.judge(Some("a@army.mil"), "J.Smith@navy.ml") else {
            panic!()
        };
        let mine = for_recipient(&f[0], "J.Smith@navy.ml", "Smith <J.Smith@navy.ml>");
        assert_eq!(mine.suggestion.as_deref(), Some("J.Smith@navy.mil"));
        assert_eq!(mine.address, "J.Smith@navy.ml");
        assert_eq!(mine.recipient, "Smith <J.Smith@navy.ml>");
    }
}
