//! What is known about closed registries, where nobody can register a name at will: `.mil`
//! (the US military), `.gov` (US governments; its short names from CISA's registry, embedded)
//! and `.gov.uk` (GOV.UK's naming rules). A name there that is not registered cannot receive
//! mail, which makes a slip towards a listed name near certain.

use std::sync::OnceLock;

use crate::domain::Domain;

/// CISA's registry of `.gov` names, the short ones only (`data/dotgov-short.txt`), as `build.rs`
/// packs it: sorted, each name an upper-case letter (`A` + the bytes it shares with the name
/// before) and the rest of it.
const DOTGOV_PACKED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/dotgov_short.dat"));
/// The longest label the list holds.
const DOTGOV_MAX_LABEL: usize = 5;

/// The short `.gov` names a line each, sorted: `DOTGOV_PACKED` decoded the first time a `.gov`
/// name is judged.
fn dotgov_short() -> &'static str {
    static LINES: OnceLock<String> = OnceLock::new();
    LINES.get_or_init(|| {
        let mut lines: Vec<u8> = Vec::with_capacity(DOTGOV_PACKED.len() * 3);
        let mut prev = 0;
        for &b in DOTGOV_PACKED {
            if b.is_ascii_uppercase() {
                if !lines.is_empty() {
                    lines.push(b'\n');
                }
                let start = lines.len();
                let shared = usize::from(b - b'A').min(start.saturating_sub(prev + 1));
                lines.extend_from_within(prev..prev + shared);
                prev = start;
            } else {
                lines.push(b);
            }
        }
        // Only what build.rs wrote, which is ASCII.
        String::from_utf8(lines).unwrap_or_default()
    })
}

/// Whether `label.gov` is a registered name: `None` when the label is too long for the embedded
/// list to know. `.gov` is a closed registry (only US governments can register), so a short name
/// that is not on it cannot receive mail.
pub(crate) fn dotgov_registered(label: &str) -> Option<bool> {
    // The registry takes letters, digits and hyphens only: no international name is registered.
    if label.starts_with("xn--") {
        return Some(false);
    }
    if label.is_empty() || label.len() > DOTGOV_MAX_LABEL {
        return None;
    }
    Some(has_line(dotgov_short(), label))
}

/// Whether sorted `body` has the line `key`, by binary search over whole lines in place.
fn has_line(body: &str, key: &str) -> bool {
    let (mut lo, mut hi) = (0, body.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        let start = body[..mid].rfind('\n').map_or(0, |i| i + 1).max(lo);
        let end = body[start..].find('\n').map_or(body.len(), |i| start + i);
        match body[start..end].cmp(key) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => lo = end + 1,
            std::cmp::Ordering::Greater => hi = start,
        }
    }
    false
}

/// Whether `d` sits in a closed registry and is not a name anyone could have registered there:
/// anything under `.mil` that is not a reference, a short `.gov` name missing from CISA's
/// registry, or a `.gov.uk` name too short for its rules.
pub(crate) fn closed_and_unregistered(d: &Domain) -> bool {
    is_mil(d) || unregistered_note(d).is_some()
}

/// Whether `d` is under `.mil` or a country's `mil.` second level: military registries, which
/// register plain ASCII names only (IANA's IDN tables list none for them), so an international
/// name there is a disguise.
pub(crate) fn is_mil(d: &Domain) -> bool {
    let s = d.suffix();
    s == "mil" || s.starts_with("mil.") || s.ends_with(".mil")
}

/// Whether `d` is a `.gov` name that may be registered: CISA's registry holds it, or it is too
/// long for the embedded short list to know.
pub(crate) fn registered_gov(d: &Domain) -> bool {
    d.suffix() == "gov" && unregistered_note(d).is_none()
}

/// Why a government name cannot exist, for the finding's reason: a short `.gov` name that
/// CISA's registry does not hold, or a `.gov.uk` name under the 3 characters GOV.UK's naming
/// rules require. Nobody can receive mail there.
pub(crate) fn unregistered_note(d: &Domain) -> Option<&'static str> {
    match d.suffix() {
        "gov" if dotgov_registered(d.label()) == Some(false) => {
            Some("; no such .gov name is registered")
        }
        "gov.uk" if (1..3).contains(&d.label().len()) => {
            Some("; .gov.uk names have at least 3 characters")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::normalize;

    #[test]
    fn dotgov_registers_no_international_name() {
        assert_eq!(dotgov_registered("xn--on-4ib"), Some(false));
        assert_eq!(dotgov_registered("cisa"), Some(true));
        assert_eq!(dotgov_registered("treasury"), None);
    }

    #[test]
    fn dotgov_registry_is_sorted_and_searchable() {
        let labels: Vec<&str> = dotgov_short().lines().collect();
        let file: Vec<&str> = include_str!("../data/dotgov-short.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect();
        assert_eq!(labels, file, "the packed list is the file");
        assert!(labels.len() > 1000, "{} labels", labels.len());
        assert!(
            labels.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
        for l in &labels {
            assert!(l.len() <= DOTGOV_MAX_LABEL && !l.is_empty(), "{l:?}");
            assert!(l
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            assert_eq!(dotgov_registered(l), Some(true), "{l}");
        }
        for l in ["dhs", "fbi", "cisa", "usda", "nasa", "va", "18f"] {
            assert_eq!(dotgov_registered(l), Some(true), "{l}");
        }
        for l in ["dhe", "fb9", "nssa", "aaaaa", "zzzzz", "0", "-", "a"] {
            assert_eq!(dotgov_registered(l), Some(false), "{l}");
        }
        assert_eq!(dotgov_registered("defense"), None);
        assert_eq!(dotgov_registered("aaaaaa"), None);
        assert_eq!(dotgov_registered(""), None);
    }

    #[test]
    fn closed_registries() {
        let closed = |name: &str| closed_and_unregistered(&normalize(name).unwrap());
        // Everything under .mil; a short .gov name only when CISA's registry lacks it.
        assert!(closed("navv.mil") && closed("army.mil") && closed("x.mil.ng"));
        assert!(closed("dhe.gov") && !closed("cisa.gov") && !closed("defense.gov"));
        // GOV.UK names have at least 3 characters.
        assert!(closed("mo.gov.uk") && !closed("mod.gov.uk"));
        assert!(!closed("gmail.com") && !closed("navy.ml"));
        let gov = |name: &str| registered_gov(&normalize(name).unwrap());
        assert!(gov("cisa.gov") && gov("defense.gov") && !gov("dhe.gov") && !gov("army.mil"));
    }
}
