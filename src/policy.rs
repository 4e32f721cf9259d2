//! The policy: which domains matter, and the destination rules.
//!
//! ```json
//! {"protected": ["*.mil", "mindef.nl", "defence.gov.au", "lockheedmartin.com"],
//!  "trusted":   ["army.nl"],
//!  "known":     ["partner-startup.co"],
//!  "rules":     [{"from": "*.mil", "to": "*.ml", "severity": "block"}],
//!  "defaults":  true}
//! ```
//!
//! - `protected`: domains or whole suffixes (`*.mil`) whose lookalikes are dangerous: findings
//!   against them block.
//! - `trusted`, `known`: legitimate domains, never flagged themselves; typos of them warn.
//! - `rules`: a sender pattern, a recipient pattern, a severity (`warn` or `block`).
//! - `defaults` (default `true`): also use the embedded default policy (the world's major mail
//!   providers, government and military domains, the `.mil`→`.ml` rule). Set it to `false` to use
//!   only what this policy lists.

use serde_json::{Map, Value};

use std::sync::OnceLock;

use crate::domain::{ascii_name, find_byte, Domain};
use crate::error::{Error, ErrorKind};
use crate::hasher::{FastMap, FastSet};
use crate::verdict::Severity;

/// A domain, or a whole suffix (`*.mil`, `*.gov.uk`), or everything (`*`, in rules only).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// Exactly this domain and its subdomains (lower-case ASCII form).
    Domain(String),
    /// Every domain under this suffix (lower-case ASCII form, no leading dot).
    Suffix(String),
    /// Any domain.
    Any,
}

impl Pattern {
    /// Parse `mindef.nl`, `*.mil` or `*`. The error says what would be right.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let t = text.trim();
        if t == "*" {
            return Ok(Pattern::Any);
        }
        let (wild, rest) = match t.strip_prefix("*.") {
            Some(r) => (true, r),
            None => (false, t.strip_prefix('.').unwrap_or(t)),
        };
        if rest.contains('*') {
            return Err(format!(
                "'{text}': a wildcard may only stand first, as in '*.mil'"
            ));
        }
        let ascii = ascii_name(rest).map_err(|e| format!("'{text}' is not a domain: {e}"))?;
        Ok(if wild || t.starts_with('.') {
            Pattern::Suffix(ascii)
        } else {
            Pattern::Domain(ascii)
        })
    }

    /// Whether a lower-case ASCII domain matches.
    pub fn matches(&self, ascii: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Domain(d) | Pattern::Suffix(d) => {
                ascii == d
                    || (ascii.len() > d.len()
                        && ascii.ends_with(d.as_str())
                        && ascii.as_bytes()[ascii.len() - d.len() - 1] == b'.')
            }
        }
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pattern::Any => f.write_str("*"),
            Pattern::Domain(d) => f.write_str(d),
            Pattern::Suffix(s) => write!(f, "*.{s}"),
        }
    }
}

/// A destination rule: mail from senders matching `from` to recipients matching `to` gets a
/// `risky-destination` finding of `severity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Sender pattern.
    pub from: Pattern,
    /// Recipient pattern.
    pub to: Pattern,
    /// `warn` or `block`.
    pub severity: Severity,
}

/// A validated policy. Build it with [`Policy::from_json`] or take [`Policy::embedded`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Domains and suffixes whose lookalikes block.
    pub protected: Vec<Pattern>,
    /// Legitimate domains; typos of them warn.
    pub trusted: Vec<Pattern>,
    /// Legitimate domains; typos of them warn.
    pub known: Vec<Pattern>,
    /// Destination rules.
    pub rules: Vec<Rule>,
    /// Whether the embedded default policy is added to this one.
    pub defaults: bool,
}

/// `data/default-policy.json`, prepared by `build.rs`: a sorted, front-coded table of its names
/// (with their lists and suffix splits; see `prepared`) and its rules as JSON.
mod generated {
    include!(concat!(env!("OUT_DIR"), "/default_policy.rs"));
}

/// The lists a name of the embedded default table is on (bits).
const KNOWN: u8 = 1;
const TRUSTED: u8 = 2;
const PROTECTED: u8 = 4;

/// A domain's public suffix as `build.rs` split it: its length, and whether it is on the list.
type Split = (usize, bool);

/// The embedded default table, decoded once per process: the names in one string, and for each
/// its end in it, its lists and, for a domain, its suffix split (length, on the list).
struct DefaultTable {
    names: String,
    entries: Vec<(u32, u8, Option<Split>)>,
}

fn default_table() -> &'static DefaultTable {
    static TABLE: OnceLock<DefaultTable> = OnceLock::new();
    TABLE.get_or_init(decode_default_table)
}

/// Decode `DEFAULT_TABLE` (see `build.rs`): each entry an upper-case letter (`A` + the bytes it
/// shares with the name before), the rest of its name, its lists (a character from `!` to `'`:
/// space + the bits), and for a domain a digit: the labels of its public suffix, or `0` for a
/// last label that is not on the list. A plain loop over the bytes: the browser runs this at
/// start-up, before its code is optimised.
#[cold]
#[inline(never)]
fn decode_default_table() -> DefaultTable {
    let bytes = generated::DEFAULT_TABLE.as_bytes();
    let mut names: Vec<u8> = Vec::with_capacity(bytes.len() * 2);
    let mut entries = Vec::with_capacity(bytes.len() / 8);
    let mut prev = 0;
    let mut i = 0;
    while i < bytes.len() {
        let shared = usize::from(bytes[i].wrapping_sub(b'A')).min(names.len() - prev);
        i += 1;
        let start = names.len();
        names.extend_from_within(prev..prev + shared);
        while i < bytes.len() && !(b' '..=b'\'').contains(&bytes[i]) {
            names.push(bytes[i]);
            i += 1;
        }
        let classes = bytes.get(i).map_or(0, |c| c.wrapping_sub(b' '));
        i += 1;
        let name = &names[start..];
        let split = match bytes.get(i) {
            Some(&d) if d.is_ascii_digit() => {
                i += 1;
                let labels = usize::from(d - b'0').max(1);
                let mut len = 0;
                for (n, label) in name.rsplit(|&b| b == b'.').take(labels).enumerate() {
                    len += label.len() + usize::from(n > 0);
                }
                Some((len, d != b'0'))
            }
            _ => None,
        };
        entries.push((names.len() as u32, classes, split));
        prev = start;
    }
    DefaultTable {
        // Only what build.rs wrote, which is ASCII.
        names: String::from_utf8(names).unwrap_or_default(),
        entries,
    }
}

/// The entries of the embedded default table: name, lists ([`KNOWN`], [`TRUSTED`],
/// [`PROTECTED`]), and for a domain its suffix split (length, on the list).
pub(crate) fn default_entries() -> impl Iterator<Item = (&'static str, u8, Option<Split>)> {
    let t = default_table();
    let mut start = 0;
    t.entries.iter().map(move |&(end, classes, split)| {
        let name = t.names.get(start..end as usize).unwrap_or_default();
        start = end as usize;
        (name, classes, split)
    })
}

/// A domain of the embedded default policy as `domain::normalize` gives it, split at build time
/// (`build.rs`): building the default engine then parses no part of the suffix list and runs no
/// validation for its ~950 names (the browser does this at every start, before its code is
/// optimised). A unit test checks every one against `normalize`. `None` for other names.
pub(crate) fn prepared(name: &str) -> Option<Domain> {
    static SPLITS: OnceLock<FastMap<&'static str, Split>> = OnceLock::new();
    let splits = SPLITS.get_or_init(|| {
        default_entries()
            .filter_map(|(name, _, split)| Some((name, split?)))
            .collect()
    });
    let &(suffix_len, suffix_known) = splits.get(name)?;
    Some(Domain {
        ascii: name.to_string(),
        unicode: name.to_string(),
        suffix_len,
        suffix_known,
    })
}

fn perr(msg: String) -> Error {
    Error::new(ErrorKind::Policy, msg)
}

fn show(v: &Value) -> String {
    crate::address::clip(&v.to_string(), 80)
}

fn patterns(key: &str, v: &Value, allow_any: bool) -> Result<Vec<Pattern>, Error> {
    let Value::Array(items) = v else {
        return Err(perr(format!(
            "'{key}' must be an array of domains such as [\"mindef.nl\", \"*.mil\"], not {}",
            show(v)
        )));
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::String(s) = item else {
            return Err(perr(format!(
                "'{key}[{i}]' must be a domain string such as \"mindef.nl\" or \"*.mil\", not {}",
                show(item)
            )));
        };
        let p = Pattern::parse(s).map_err(|e| perr(format!("'{key}[{i}]': {e}")))?;
        if p == Pattern::Any && !allow_any {
            return Err(perr(format!(
                "'{key}[{i}]': \"*\" would cover every domain; list domains or suffixes such as \"*.mil\""
            )));
        }
        out.push(p);
    }
    Ok(out)
}

fn rules(v: &Value) -> Result<Vec<Rule>, Error> {
    let Value::Array(items) = v else {
        return Err(perr(format!(
            "'rules' must be an array of {{\"from\", \"to\", \"severity\"}} objects, not {}",
            show(v)
        )));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Value::Object(m) = item else {
            return Err(perr(format!(
                "'rules[{i}]' must be an object such as {{\"from\": \"*.mil\", \"to\": \"*.ml\", \"severity\": \"block\"}}, not {}",
                show(item)
            )));
        };
        for k in m.keys() {
            if !matches!(k.as_str(), "from" | "to" | "severity") {
                return Err(perr(format!(
                    "'rules[{i}]' has an unknown key '{k}'; a rule has 'from', 'to' and 'severity'"
                )));
            }
        }
        let pat = |k: &str| -> Result<Pattern, Error> {
            match m.get(k) {
                Some(Value::String(s)) => {
                    Pattern::parse(s).map_err(|e| perr(format!("'rules[{i}].{k}': {e}")))
                }
                Some(other) => Err(perr(format!(
                    "'rules[{i}].{k}' must be a domain pattern such as \"*.mil\", not {}",
                    show(other)
                ))),
                None => Err(perr(format!(
                    "'rules[{i}]' has no '{k}'; a rule needs 'from' and 'to' patterns"
                ))),
            }
        };
        let severity = match m.get("severity") {
            None => Severity::Block,
            Some(Value::String(s)) if s == "block" => Severity::Block,
            Some(Value::String(s)) if s == "warn" => Severity::Warn,
            Some(other) => {
                return Err(perr(format!(
                    "'rules[{i}].severity' is {}; use \"warn\" or \"block\"",
                    show(other)
                )))
            }
        };
        out.push(Rule {
            from: pat("from")?,
            to: pat("to")?,
            severity,
        });
    }
    Ok(out)
}

impl Policy {
    /// Parse and validate a policy. Unknown keys and unusable values are errors that name the key
    /// and the value; nothing falls back silently.
    pub fn from_json(text: &str) -> Result<Policy, Error> {
        let v: Value =
            serde_json::from_str(text).map_err(|e| perr(format!("not valid JSON ({e})")))?;
        Policy::from_value(&v)
    }

    /// As [`Policy::from_json`], from an already parsed JSON value.
    pub fn from_value(v: &Value) -> Result<Policy, Error> {
        let Value::Object(m) = v else {
            return Err(perr(format!(
                "a policy is a JSON object with 'protected', 'trusted', 'known' and 'rules', not {}",
                show(v)
            )));
        };
        Policy::from_map(m)
    }

    fn from_map(m: &Map<String, Value>) -> Result<Policy, Error> {
        let mut p = Policy {
            defaults: true,
            ..Policy::default()
        };
        for (k, v) in m {
            match k.as_str() {
                "protected" => p.protected = patterns("protected", v, false)?,
                "trusted" => p.trusted = patterns("trusted", v, false)?,
                "known" => p.known = patterns("known", v, false)?,
                "rules" => p.rules = rules(v)?,
                "defaults" => match v {
                    Value::Bool(b) => p.defaults = *b,
                    other => {
                        return Err(perr(format!(
                            "'defaults' must be true or false, not {}",
                            show(other)
                        )))
                    }
                },
                // Free-form documentation keys are allowed.
                k if k.starts_with('_') || k == "comment" || k == "description" => {}
                other => {
                    return Err(perr(format!(
                        "unknown key '{other}'; a policy has 'protected', 'trusted', 'known', 'rules' and 'defaults'"
                    )))
                }
            }
        }
        Ok(p)
    }

    /// The embedded default policy as its JSON text (`data/default-policy.json`), for a host that
    /// shows or writes it (`mistype policy --default`). [`Policy::embedded`] is this text,
    /// validated.
    pub const EMBEDDED_JSON: &'static str = include_str!("../data/default-policy.json");

    /// The embedded default policy: major mail providers across regions (`known`), government and
    /// military suffixes and their best-known domains, major defence contractors (`protected`),
    /// and the `.mil`→`.ml` rule.
    pub fn embedded() -> Policy {
        // build.rs wrote the names of the embedded file into a table, lower-case ASCII and
        // checked, so they need neither JSON nor validation here (the browser builds this at
        // every start); a unit test checks the result against `from_json` of the file.
        let (mut protected, mut trusted, mut known) = (Vec::new(), Vec::new(), Vec::new());
        for (name, classes, _) in default_entries() {
            let pattern = match name.strip_prefix("*.") {
                Some(suffix) => Pattern::Suffix(suffix.to_string()),
                None => Pattern::Domain(name.to_string()),
            };
            if classes & PROTECTED != 0 {
                protected.push(pattern.clone());
            }
            if classes & TRUSTED != 0 {
                trusted.push(pattern.clone());
            }
            if classes & KNOWN != 0 {
                known.push(pattern.clone());
            }
        }
        let rules = serde_json::from_str(generated::DEFAULT_RULES)
            .map_err(|e| perr(e.to_string()))
            .and_then(|v| rules(&v))
            .unwrap_or_default();
        Policy {
            protected,
            trusted,
            known,
            rules,
            defaults: false,
        }
    }

    /// This policy with the embedded default added when `defaults` is true.
    pub fn resolved(&self) -> Policy {
        if !self.defaults {
            return self.clone();
        }
        let mut base = Policy::embedded();
        base.protected.extend(self.protected.iter().cloned());
        base.trusted.extend(self.trusted.iter().cloned());
        base.known.extend(self.known.iter().cloned());
        base.rules.extend(self.rules.iter().cloned());
        base
    }
}

/// What a resolved policy protects, as scoring asks it: whether a name is under a protected
/// domain or suffix, and whether it is inside a protected namespace (a government or its forces as
/// a whole). One set lookup per parent domain; built once with the engine.
#[derive(Debug, Default)]
pub(crate) struct Protection {
    /// The protected patterns' names (a domain pattern covers its subdomains, a suffix pattern
    /// everything under it: both are "this name or a parent of it").
    protected: FastSet<String>,
    /// The bases of the protected suffix patterns (`mil`, `gov.uk`, `mod.uk`): namespaces that
    /// belong to a government or its forces as a whole.
    namespaces: FastSet<String>,
}

impl Protection {
    /// The protection of `policy` (resolved: the defaults already added).
    pub(crate) fn of(policy: &Policy) -> Protection {
        let protected = policy
            .protected
            .iter()
            .filter_map(|p| match p {
                Pattern::Domain(d) | Pattern::Suffix(d) => Some(d.clone()),
                Pattern::Any => None,
            })
            .collect();
        let namespaces = policy
            .protected
            .iter()
            .filter_map(|p| match p {
                Pattern::Suffix(d) => Some(d.clone()),
                _ => None,
            })
            .collect();
        Protection {
            protected,
            namespaces,
        }
    }

    /// Whether a protected domain or suffix covers `ascii`: one set lookup per parent domain.
    pub(crate) fn is_protected(&self, ascii: &str) -> bool {
        covered(&self.protected, ascii)
    }

    /// Whether a protected suffix pattern covers `ascii` (or `ascii` is its base: `mod.uk`).
    pub(crate) fn in_namespace(&self, ascii: &str) -> bool {
        covered(&self.namespaces, ascii)
    }
}

/// Whether `ascii` or one of its parent domains is in `set`: one lookup per parent.
fn covered(set: &FastSet<String>, ascii: &str) -> bool {
    let mut s = ascii;
    loop {
        if set.contains(s) {
            return true;
        }
        match find_byte(s, b'.') {
            Some(p) => s = &s[p + 1..],
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepared_default_domains_equal_normalized_ones() {
        let names: Vec<&str> = default_entries().map(|e| e.0).collect();
        assert!(names.len() > 800, "{}", names.len());
        assert!(
            names.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
        for name in names.iter().filter(|n| !n.starts_with('*')) {
            assert_eq!(
                prepared(name),
                Some(crate::domain::normalize(name).unwrap()),
                "{name}"
            );
        }
        // Every domain of the embedded policy is prepared.
        let p = crate::Policy::embedded();
        for pat in p.known.iter().chain(&p.trusted).chain(&p.protected) {
            if let crate::Pattern::Domain(d) = pat {
                assert!(prepared(d).is_some(), "{d}");
            }
        }
        assert_eq!(prepared("example.org"), None);
    }

    #[test]
    fn embedded_policy_is_valid_and_large() {
        let p = Policy::from_json(Policy::EMBEDDED_JSON).unwrap();
        // What build.rs prepared is the file, as the public parser reads it (in table order).
        let e = Policy::embedded();
        let sorted = |v: &[Pattern]| {
            let mut v: Vec<String> = v.iter().map(|p| p.to_string()).collect();
            v.sort();
            v
        };
        assert_eq!(sorted(&e.protected), sorted(&p.protected));
        assert_eq!(sorted(&e.trusted), sorted(&p.trusted));
        assert_eq!(sorted(&e.known), sorted(&p.known));
        assert_eq!(e.rules, p.rules);
        assert!(!e.defaults);
        assert!(p.known.len() >= 200, "{}", p.known.len());
        assert!(p.protected.contains(&Pattern::Suffix("mil".into())));
        assert!(p.protected.contains(&Pattern::Domain("army.mil".into())));
        assert_eq!(p.rules.len(), 1);
    }

    #[test]
    fn patterns() {
        assert_eq!(
            Pattern::parse("*.MIL").unwrap(),
            Pattern::Suffix("mil".into())
        );
        assert_eq!(
            Pattern::parse("Mindef.NL").unwrap(),
            Pattern::Domain("mindef.nl".into())
        );
        assert!(Pattern::Suffix("mil".into()).matches("army.mil"));
        assert!(!Pattern::Suffix("mil".into()).matches("armymil"));
        assert!(Pattern::Domain("ibm.com".into()).matches("se.ibm.com"));
        assert!(Pattern::parse("a.*.com").unwrap_err().contains("wildcard"));
    }

    #[test]
    fn errors_name_key_and_value() {
        let e = Policy::from_json(r#"{"protected": ["ok.mil", "bad..mil"]}"#).unwrap_err();
        assert!(e.to_string().contains("'protected[1]'"), "{e}");
        assert!(e.to_string().contains("bad..mil"), "{e}");
        let e = Policy::from_json(r#"{"protectd": []}"#).unwrap_err();
        assert!(e.to_string().contains("unknown key 'protectd'"), "{e}");
        let e = Policy::from_json(
            r#"{"rules": [{"from": "*.mil", "to": "*.ml", "severity": "deny"}]}"#,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("'rules[0].severity' is \"deny\""),
            "{e}"
        );
        let e = Policy::from_json(r#"{"known": "x.com"}"#).unwrap_err();
        assert!(e.to_string().contains("'known' must be an array"), "{e}");
        assert!(Policy::from_json("{")
            .unwrap_err()
            .to_string()
            .contains("not valid JSON"));
    }
}
