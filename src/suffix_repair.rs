//! A suffix that does not exist, repaired: the popular suffix one slip from it (`gmail.cmo` →
//! `gmail.com`), a restricted top-level domain only for a sender who writes from it; and the
//! top-level domains that exist but take names only under their second levels (`.za`).

use crate::domain::{find_byte, last_label, normalize, Domain};
use crate::slips::cost;
use crate::suffix_list::{has_deeper_suffixes, is_known_suffix};

/// Popular suffixes tried when a typed suffix does not exist, with a small prior cost.
const REPAIR_SUFFIXES: &[(&str, f32)] = &[
    ("com", 0.0),
    ("net", 0.05),
    ("org", 0.05),
    ("edu", 0.1),
    ("gov", 0.1),
    ("mil", 0.1),
    ("int", 0.15),
    ("info", 0.1),
    ("biz", 0.15),
    ("io", 0.1),
    ("co", 0.1),
    ("uk", 0.1),
    ("co.uk", 0.1),
    ("de", 0.1),
    ("fr", 0.1),
    ("nl", 0.1),
    ("it", 0.1),
    ("es", 0.1),
    ("ca", 0.1),
    ("us", 0.1),
    ("ru", 0.1),
    ("jp", 0.1),
    ("cn", 0.1),
    ("br", 0.1),
    ("in", 0.1),
    ("au", 0.1),
    ("ch", 0.1),
    ("se", 0.1),
    ("no", 0.1),
    ("dk", 0.1),
    ("fi", 0.1),
    ("pl", 0.1),
    ("be", 0.1),
    ("at", 0.1),
    ("cz", 0.1),
];

/// Top-level domains whose registries admit only one kind of registrant (IANA's sponsored and
/// restricted ones): the US military, US governments, US post-secondary institutions and
/// treaty organisations. Nobody outside meant a name there by chance (`yandex.mail` is not
/// `yandex.mil`), so a suffix is repaired to one of them only for a sender who writes from it.
const RESTRICTED_TLDS: &[&str] = &["mil", "gov", "edu", "int"];

/// A popular suffix one slip from `d`'s, which does not exist (`gmail.cmo` → `gmail.com`);
/// `None` when none is, or two are equally close, or `d` is a single label, or `d`'s suffix is
/// a real top-level domain that only takes names under its second levels (`.za`: `co.za`).
/// `sender_suffix`: the sender's own suffix, which admits a restricted top-level domain.
pub(crate) fn repaired_suffix(d: &Domain, sender_suffix: Option<&str>) -> Option<Domain> {
    let typed = d.suffix();
    if second_levels_only(typed) {
        return None;
    }
    let mut best: Option<(f32, &str)> = None;
    let mut tie = false;
    if !d.head().is_empty() {
        for &(s, prior) in REPAIR_SUFFIXES {
            if RESTRICTED_TLDS.contains(&s) && sender_suffix.map(last_label) != Some(s) {
                continue;
            }
            if let Some(c) = cost(typed.as_bytes(), s.as_bytes(), 1.0) {
                let c = c + prior;
                match best {
                    Some((b, _)) if (c - b).abs() < 0.01 => tie = true,
                    Some((b, _)) if c > b => {}
                    _ => {
                        best = Some((c, s));
                        tie = false;
                    }
                }
            }
        }
    }
    match best {
        Some((_, s)) if !tie => normalize(&format!("{}.{s}", d.head())).ok(),
        _ => None,
    }
}

/// Whether `suffix` is a top-level domain that exists but takes no names directly under it,
/// only under its second levels (`.za`: `co.za`, `ac.za`): the Public Suffix List has rules
/// below it and none for it.
pub(crate) fn second_levels_only(suffix: &str) -> bool {
    find_byte(suffix, b'.').is_none() && has_deeper_suffixes(suffix) && !is_known_suffix(suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_domains_that_take_names_only_below() {
        assert!(second_levels_only("za"));
        assert!(!second_levels_only("uk") && !second_levels_only("com"));
        assert!(!second_levels_only("co.za") && !second_levels_only("cmo"));
    }

    #[test]
    fn restricted_top_level_domains_are_repaired_only_for_their_own() {
        let d = normalize("yandex.mail").unwrap();
        assert_eq!(repaired_suffix(&d, None), None);
        assert_eq!(repaired_suffix(&d, Some("com")), None);
        assert_eq!(
            repaired_suffix(&d, Some("mil")).map(|d| d.ascii),
            Some("yandex.mil".to_string())
        );
        let d = normalize("gmail.cmo").unwrap();
        assert_eq!(
            repaired_suffix(&d, None).map(|d| d.ascii),
            Some("gmail.com".to_string())
        );
        assert_eq!(repaired_suffix(&normalize("yahoo.za").unwrap(), None), None);
    }
}
