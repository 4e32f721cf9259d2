//! The two UTS #39 checks the engine makes on internationalised names, on compact tables:
//!
//! - [`skeleton`]: the confusable skeleton, `NFD(map(NFD(s)))` where `map` replaces each
//!   character by its prototype in Unicode's confusables data, for names UTS #46 has mapped (the
//!   table holds only characters that can stand in one, which leaves out upper case, full-width
//!   forms and the rest of what UTS #46 maps away).
//!   NFD comes from ICU4X's normalizer, which `idna` already links for UTS #46; the prototypes
//!   are `data/confusables.txt`, which `build.rs` packs small for the browser module's download
//!   (code points as deltas, prototype lengths in characters, one string of prototypes) and
//!   which is unpacked into a searchable table the first time a name that is not ASCII is seen.
//! - [`is_single_script`]: whether a label's characters share a script (Common and Inherited go
//!   with any; Han goes with Hiragana/Katakana and Hangul as in Japanese and Korean), UTS #39's
//!   "resolved script set" on `unicode-script`'s Script_Extensions.
//!
//! `data/confusables.txt` is generated from the `unicode-security` crate's data and checked
//! against it by a test (`tests/uts39.rs`), which also compares whole skeletons.

use std::sync::OnceLock;

use unicode_script::{Script, ScriptExtension};

include!(concat!(env!("OUT_DIR"), "/confusables.rs"));
include!(concat!(env!("OUT_DIR"), "/lower_case.rs"));

/// The confusables unpacked: sorted code points, and where each one's prototype starts in
/// `CONFUSABLE_PROTOTYPES` (one more entry than code points: the end).
struct Confusables {
    keys: Vec<u32>,
    starts: Vec<u32>,
}

fn confusables() -> &'static Confusables {
    static TABLE: OnceLock<Confusables> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut keys = Vec::with_capacity(CONFUSABLE_COUNT);
        let mut starts = Vec::with_capacity(CONFUSABLE_COUNT + 1);
        let (mut key, mut delta, mut shift, mut start) = (0u32, 0u32, 0, 0u32);
        for &b in &CONFUSABLE_DELTAS {
            delta |= u32::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                key += delta;
                keys.push(key);
                (delta, shift) = (0, 0);
            }
        }
        // Each prototype is CONFUSABLE_LENGTHS[i] characters of CONFUSABLE_PROTOTYPES.
        let mut chars = CONFUSABLE_PROTOTYPES.chars();
        for &len in &CONFUSABLE_LENGTHS {
            starts.push(start);
            for c in chars.by_ref().take(usize::from(len)) {
                start += c.len_utf8() as u32;
            }
        }
        starts.push(start);
        Confusables { keys, starts }
    })
}

/// The prototype of `c` (already in NFD): `None` when `c` is its own prototype.
pub(crate) fn prototype(c: char) -> Option<&'static str> {
    let t = confusables();
    let i = t.keys.binary_search(&u32::from(c)).ok()?;
    let (start, end) = (*t.starts.get(i)?, *t.starts.get(i + 1)?);
    CONFUSABLE_PROTOTYPES.get(start as usize..end as usize)
}

/// The UTS #39 skeleton of `s`, a name as UTS #46 maps it (no case folding).
pub fn skeleton(s: &str) -> String {
    let nfd = icu_normalizer::DecomposingNormalizerBorrowed::new_nfd();
    let decomposed = nfd.normalize(s);
    let mut mapped = String::with_capacity(decomposed.len());
    for c in decomposed.chars() {
        match prototype(c) {
            Some(p) => mapped.push_str(p),
            None => mapped.push(c),
        }
    }
    match nfd.normalize(&mapped) {
        std::borrow::Cow::Borrowed(_) => mapped,
        std::borrow::Cow::Owned(o) => o,
    }
}

/// `str::to_lowercase` of a skeleton ([`skeleton`]): ASCII lowered, and the other characters
/// that can stand in a skeleton and have a lower case, from `data/lower-case.txt`; any other
/// character that can stand in one is its own lower case. `tests/uts39.rs` checks this against `to_lowercase` for the
/// skeleton of every code point, and that no skeleton holds `Σ` (whose lower case depends on its
/// place in a word). Unicode's case tables would be about 9 KB of the browser module as served.
pub fn lowercase(skeleton: &str) -> String {
    let mut out = String::with_capacity(skeleton.len());
    for c in skeleton.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        match LOWER_CASE.binary_search_by_key(&c, |&(k, _)| k) {
            Ok(i) => out.push_str(LOWER_CASE[i].1),
            Err(_) => out.push(c),
        }
    }
    out
}

/// A resolved script set: Script_Extensions plus the Han-with-Bopomofo, Japanese and Korean
/// writing systems of UTS #39 §5.1.
#[derive(Clone, Copy)]
struct ScriptSet {
    base: ScriptExtension,
    hanb: bool,
    jpan: bool,
    kore: bool,
}

impl ScriptSet {
    fn of(c: char) -> Self {
        let base = ScriptExtension::from(c);
        let any = base.is_common() || base.is_inherited() || base.contains_script(Script::Han);
        ScriptSet {
            base,
            hanb: any || base.contains_script(Script::Bopomofo),
            jpan: any
                || base.contains_script(Script::Hiragana)
                || base.contains_script(Script::Katakana),
            kore: any || base.contains_script(Script::Hangul),
        }
    }

    fn intersect(&mut self, other: ScriptSet) {
        self.base.intersect_with(other.base);
        self.hanb &= other.hanb;
        self.jpan &= other.jpan;
        self.kore &= other.kore;
    }

    fn is_empty(&self) -> bool {
        self.base.is_empty() && !self.hanb && !self.jpan && !self.kore
    }
}

/// Whether all characters of `s` can be written in one script (UTS #39 single-script).
pub fn is_single_script(s: &str) -> bool {
    let mut set = ScriptSet::of(' ');
    for c in s.chars() {
        set.intersect(ScriptSet::of(c));
        if set.is_empty() {
            return false;
        }
    }
    true
}

/// UTS #39 §5.2 "Highly Restrictive": one script, or Latin with the Han-based writing systems
/// that are ordinarily written with it (Han with Hiragana and Katakana, with Bopomofo, or with
/// Hangul): `51xyz域名` mixes Latin and Han as Chinese names do, and is not a disguise.
pub fn is_highly_restrictive(s: &str) -> bool {
    if is_single_script(s) {
        return true;
    }
    let mut set = ScriptSet::of(' ');
    for c in s.chars() {
        let of = ScriptSet::of(c);
        if of.base.contains_script(Script::Latin) && !of.base.is_common() {
            continue;
        }
        set.intersect(of);
    }
    // What is left besides Latin must be one of the Han-based writing systems, not Latin with
    // Cyrillic or Greek.
    (set.hanb || set.jpan || set.kore)
        && s.chars().any(|c| {
            let b = ScriptExtension::from(c);
            !b.is_common() && !b.is_inherited() && !b.contains_script(Script::Latin)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_skeletons() {
        assert_eq!(skeleton("\u{430}rmy"), skeleton("army"));
        assert_eq!(skeleton("p\u{430}yp\u{430}l"), "paypal");
        assert_eq!(skeleton("g\u{3bf}\u{3bf}gle"), "google");
        // Decomposes: the accent stays, as a combining mark.
        assert_eq!(skeleton("caf\u{e9}"), "cafe\u{301}");
        assert_eq!(prototype('a'), None);
        let t = confusables();
        assert_eq!(t.keys.len(), CONFUSABLE_COUNT);
        assert_eq!(t.starts.len(), CONFUSABLE_COUNT + 1);
        assert_eq!(
            t.starts.last().copied(),
            Some(CONFUSABLE_PROTOTYPES.len() as u32)
        );
    }

    #[test]
    fn lower_case_of_skeletons() {
        assert_eq!(lowercase("PAYPAL"), "paypal");
        // Prototypes in upper case (Greek, Cyrillic, Latin letters beyond ASCII) and a
        // Cherokee letter UTS #46 keeps in upper case.
        let upper = "\u{393}\u{416}\u{190}\u{13a0}";
        assert_eq!(lowercase(upper), upper.to_lowercase());
        assert_ne!(lowercase(upper), upper);
        assert!(LOWER_CASE.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn scripts() {
        assert!(is_single_script("army"));
        assert!(is_single_script("армия"));
        assert!(!is_single_script("\u{430}rmy"));
        assert!(is_single_script("東京タワー"));
        assert!(is_single_script("서울123"));
        assert!(!is_single_script("ελλάδαgr"));
    }

    #[test]
    fn highly_restrictive() {
        // Latin with Han, Japanese or Korean is ordinary; Latin with Cyrillic or Greek is not.
        assert!(is_highly_restrictive("51xyz域名"));
        assert!(is_highly_restrictive("abcテスト東京"));
        assert!(is_highly_restrictive("abc서울"));
        assert!(is_highly_restrictive("army"));
        assert!(!is_highly_restrictive("\u{430}rmy"));
        assert!(!is_highly_restrictive("ελλάδαgr"));
        // Hangul with Katakana is no writing system.
        assert!(!is_highly_restrictive("abc서울テスト"));
    }
}
