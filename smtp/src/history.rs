//! Who each sender writes to: per authenticated sender, the recipient domains of the mail that
//! went through, with a count. A domain written to at least `min_messages` times is that sender's
//! contact, which the engine never flags and whose slips it catches (a first contact one slip from
//! a domain the sender writes to every week). No I/O: the file format is text in and text out.
//!
//! Bounded per sender (`max_domains`: the least used domain goes first) and in all
//! (`max_senders`: the sender seen longest ago goes first).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// The limits and the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Times a domain must have been written to before it counts as a contact.
    pub min_messages: u32,
    /// Domains kept per sender.
    pub max_domains: usize,
    /// Senders kept.
    pub max_senders: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            min_messages: 3,
            max_domains: 500,
            max_senders: 50_000,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Sender {
    domains: HashMap<String, u32>,
    /// When this sender was last seen (the store's own sequence number).
    seen: u64,
    /// Bumped whenever the contact list changes, so cached contexts know they are stale.
    version: u64,
}

fn lower(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(s.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// The per-sender histories.
#[derive(Debug, Default)]
pub struct History {
    limits: Limits,
    senders: HashMap<String, Sender>,
    seq: u64,
    changed: bool,
}

/// One line of the history file.
#[derive(Debug, Serialize, Deserialize)]
struct Line {
    sender: String,
    domains: HashMap<String, u32>,
}

impl History {
    /// An empty history.
    pub fn new(limits: Limits) -> History {
        History {
            limits,
            ..History::default()
        }
    }

    /// The limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Count one accepted recipient domain of `sender`. True when that made it a contact.
    pub fn record(&mut self, sender: &str, domain: &str) -> bool {
        let domain = domain.trim_end_matches('.');
        if sender.is_empty() || domain.is_empty() {
            return false;
        }
        self.seq += 1;
        self.changed = true;
        // The usual case, a sender writing to a domain it wrote to before: no allocation.
        let (sender_l, domain_l) = (lower(sender), lower(domain));
        if let Some(s) = self.senders.get_mut(sender_l.as_ref()) {
            if let Some(n) = s.domains.get_mut(domain_l.as_ref()) {
                s.seen = self.seq;
                *n = n.saturating_add(1);
                let became = *n == self.limits.min_messages;
                if became {
                    s.version += 1;
                }
                return became;
            }
        }
        let (sender, domain) = (sender_l.into_owned(), domain_l.into_owned());
        if !self.senders.contains_key(&sender) && self.senders.len() >= self.limits.max_senders {
            self.evict_senders();
        }
        let limits = self.limits;
        let s = self.senders.entry(sender).or_default();
        s.seen = self.seq;
        if !s.domains.contains_key(&domain) && s.domains.len() >= limits.max_domains {
            // The least used domain goes (never a contact while a non-contact is there).
            if let Some(k) = s
                .domains
                .iter()
                .min_by_key(|(_, &n)| n)
                .map(|(k, _)| k.clone())
            {
                if s.domains
                    .remove(&k)
                    .is_some_and(|n| n >= limits.min_messages)
                {
                    s.version += 1;
                }
            }
        }
        let n = s.domains.entry(domain).or_insert(0);
        *n = n.saturating_add(1);
        let became = *n == limits.min_messages;
        if became {
            s.version += 1;
        }
        became
    }

    /// Forget the eighth of the senders seen longest ago (amortises the scan).
    fn evict_senders(&mut self) {
        let mut seen: Vec<u64> = self.senders.values().map(|s| s.seen).collect();
        let k = (seen.len() / 8).max(1).min(seen.len().saturating_sub(1));
        let (_, &mut cut, _) = seen.select_nth_unstable(k);
        self.senders.retain(|_, s| s.seen > cut);
    }

    /// `sender`'s contacts: the domains written to at least `min_messages` times.
    pub fn contacts(&self, sender: &str) -> Vec<String> {
        let min = self.limits.min_messages;
        let mut v: Vec<String> = self
            .senders
            .get(lower(sender).as_ref())
            .map(|s| {
                s.domains
                    .iter()
                    .filter(|(_, &n)| n >= min)
                    .map(|(d, _)| d.clone())
                    .collect()
            })
            .unwrap_or_default();
        v.sort_unstable();
        v
    }

    /// A number that changes whenever `sender`'s contacts change.
    pub fn version(&self, sender: &str) -> u64 {
        self.senders
            .get(lower(sender).as_ref())
            .map_or(0, |s| s.version)
    }

    /// Senders held.
    pub fn senders(&self) -> usize {
        self.senders.len()
    }

    /// Whether something was recorded since the last [`History::take_changed`].
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// The file: one JSON object a line, `{"sender": ..., "domains": {"navy.mil": 12}}`,
    /// senders in order.
    pub fn to_text(&self) -> String {
        let mut senders: Vec<&String> = self.senders.keys().collect();
        senders.sort_unstable();
        let mut out = String::new();
        for s in senders {
            let line = Line {
                sender: s.clone(),
                domains: self.senders[s].domains.clone(),
            };
            if let Ok(j) = serde_json::to_string(&line) {
                out.push_str(&j);
                out.push('\n');
            }
        }
        out
    }

    /// Read a file written by [`History::to_text`], within the limits. Errors name the line.
    pub fn from_text(text: &str, limits: Limits) -> Result<History, String> {
        let mut h = History::new(limits);
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let l: Line = serde_json::from_str(line).map_err(|e| {
                format!(
                    "history line {}: {e}: {}",
                    i + 1,
                    crate::policy_proto::clip(line, 80)
                )
            })?;
            let mut domains: Vec<(String, u32)> = l.domains.into_iter().collect();
            // Keep the most used when the file holds more than the limit.
            domains.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            domains.truncate(limits.max_domains);
            if h.senders.len() >= limits.max_senders {
                break;
            }
            h.seq += 1;
            let key = l.sender.to_ascii_lowercase();
            h.senders.insert(
                key,
                Sender {
                    domains: domains
                        .into_iter()
                        .map(|(d, n)| (d.to_ascii_lowercase(), n))
                        .collect(),
                    seen: h.seq,
                    version: 1,
                },
            );
        }
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Limits {
        Limits {
            min_messages: 2,
            max_domains: 3,
            max_senders: 4,
        }
    }

    #[test]
    fn a_domain_becomes_a_contact_after_min_messages() {
        let mut h = History::new(small());
        assert!(!h.record("Jan@Mindef.nl", "Army.NL"));
        assert!(h.contacts("jan@mindef.nl").is_empty());
        let v = h.version("jan@mindef.nl");
        assert!(h.record("jan@mindef.nl", "army.nl."));
        assert_eq!(h.contacts("jan@mindef.nl"), vec!["army.nl"]);
        assert_ne!(h.version("jan@mindef.nl"), v);
        // Another sender's history is not this one's.
        assert!(h.contacts("piet@mindef.nl").is_empty());
        assert!(!h.record("jan@mindef.nl", "army.nl"));
    }

    #[test]
    fn bounded_per_sender_and_in_all() {
        let mut h = History::new(small());
        for d in ["a.nl", "a.nl", "b.nl", "c.nl", "d.nl"] {
            h.record("jan@mindef.nl", d);
        }
        let kept = h.contacts("jan@mindef.nl");
        assert_eq!(
            kept,
            vec!["a.nl"],
            "the contact stays when the least used goes"
        );
        for i in 0..10 {
            h.record(&format!("u{i}@mindef.nl"), "x.nl");
        }
        assert!(h.senders() <= 4, "{} senders", h.senders());
        // The latest senders are the ones kept.
        assert_eq!(h.version("u9@mindef.nl"), 0);
        h.record("u9@mindef.nl", "x.nl");
        assert_eq!(h.contacts("u9@mindef.nl"), vec!["x.nl"]);
    }

    #[test]
    fn the_file_round_trips_and_bad_lines_are_named() {
        let mut h = History::new(Limits::default());
        for _ in 0..3 {
            h.record("jan@mindef.nl", "army.nl");
        }
        h.record("ray@army.mil", "navy.mil");
        let text = h.to_text();
        assert_eq!(
            text,
            "{\"sender\":\"jan@mindef.nl\",\"domains\":{\"army.nl\":3}}\n{\"sender\":\"ray@army.mil\",\"domains\":{\"navy.mil\":1}}\n"
        );
        let back = History::from_text(&text, Limits::default()).unwrap();
        assert_eq!(back.contacts("jan@mindef.nl"), vec!["army.nl"]);
        assert!(back.contacts("ray@army.mil").is_empty());
        let e = History::from_text("{\"sender\": 1}\n", Limits::default()).unwrap_err();
        assert!(e.starts_with("history line 1:"), "{e}");
    }
}
