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
//!   "resolved script set" on Script_Extensions, which `build.rs` tabulates compactly from the
//!   `unicode-script` crate (ranges of code points, unpacked the first time a name that is not
//!   ASCII is seen).
//!
//! `data/confusables.txt` is generated from the `unicode-security` crate's data and checked
//! against it by a test (`tests/uts39.rs`), which also compares whole skeletons.

use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/confusables.rs"));
include!(concat!(env!("OUT_DIR"), "/scripts.rs"));
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

/// A Script_Extensions value as the `unicode-script` crate has it: a set of scripts (numbered as
/// `build.rs` numbers them), or all of them for Common and Inherited, which go with any script
/// (`common` tells the two apart; an intersection of Common and Inherited is Inherited).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Scripts {
    bits: [u64; 3],
    common: bool,
}

impl Scripts {
    const ALL: [u64; 3] = [u64::MAX; 3];

    fn is_common(self) -> bool {
        self.bits == Self::ALL && self.common
    }

    fn is_inherited(self) -> bool {
        self.bits == Self::ALL && !self.common
    }

    fn is_empty(self) -> bool {
        self.bits == [0; 3]
    }

    /// Whether the set holds `script` (Common and Inherited hold every script).
    fn contains(self, script: u8) -> bool {
        let (word, bit) = (usize::from(script / 64), script % 64);
        self.bits.get(word).is_some_and(|w| w >> bit & 1 == 1)
    }

    fn intersect_with(&mut self, other: Scripts) {
        for (a, b) in self.bits.iter_mut().zip(other.bits) {
            *a &= b;
        }
        self.common &= other.common;
    }
}

/// The script tables of `build.rs` unpacked: the first code point of each range, each range's
/// entry, and each entry's Script (a number of `names`) and Script_Extensions.
struct ScriptTable {
    starts: Vec<u32>,
    ids: Vec<u16>,
    entries: Vec<(u8, Scripts)>,
    names: Vec<&'static str>,
}

fn script_table() -> &'static ScriptTable {
    static TABLE: OnceLock<ScriptTable> = OnceLock::new();
    TABLE.get_or_init(unpack_scripts)
}

/// The LEB128 numbers of `bytes`, in order.
fn leb128(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    let mut it = bytes.iter();
    std::iter::from_fn(move || {
        let (mut v, mut shift) = (0u32, 0);
        loop {
            let b = *it.next()?;
            v |= u32::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
    })
}

#[cold]
#[inline(never)]
fn unpack_scripts() -> ScriptTable {
    let (mut starts, mut ids) = (
        Vec::with_capacity(SCRIPT_RANGES),
        Vec::with_capacity(SCRIPT_RANGES),
    );
    let mut at = 0;
    for d in leb128(&SCRIPT_STARTS) {
        at += d;
        starts.push(at);
    }
    ids.extend(leb128(&SCRIPT_IDS).map(|id| id as u16));
    let mut entries = Vec::new();
    let mut rest = &SCRIPT_SETS[..];
    while let [script, n, tail @ ..] = rest {
        let (extensions, tail) = match n {
            255 | 254 => (
                Scripts {
                    bits: Scripts::ALL,
                    common: *n == 255,
                },
                tail,
            ),
            &n => {
                let (list, tail) = tail.split_at(usize::from(n).min(tail.len()));
                let mut set = Scripts {
                    bits: [0; 3],
                    common: false,
                };
                for &s in list {
                    if let Some(word) = set.bits.get_mut(usize::from(s / 64)) {
                        *word |= 1 << (s % 64);
                    }
                }
                (set, tail)
            }
        };
        entries.push((*script, extensions));
        rest = tail;
    }
    ScriptTable {
        starts,
        ids,
        entries,
        names: SCRIPT_NAMES.split('\n').collect(),
    }
}

/// The Script (a number of the table's names) and Script_Extensions of `c`.
fn scripts_of(c: char) -> (u8, Scripts) {
    let t = script_table();
    let range = t
        .starts
        .partition_point(|&s| s <= u32::from(c))
        .saturating_sub(1);
    t.ids
        .get(range)
        .and_then(|&id| t.entries.get(usize::from(id)))
        .copied()
        .unwrap_or((
            SCRIPT_UNKNOWN,
            Scripts {
                bits: [0; 3],
                common: false,
            },
        ))
}

/// The full name of the script of `c` (`Cyrillic`, `Latin`, `Common`), for reasons.
pub(crate) fn script_name(c: char) -> &'static str {
    let t = script_table();
    let (script, _) = scripts_of(c);
    t.names
        .get(usize::from(script))
        .copied()
        .unwrap_or("Unknown")
}

/// A resolved script set: Script_Extensions plus the Han-with-Bopomofo, Japanese and Korean
/// writing systems of UTS #39 §5.1.
#[derive(Clone, Copy)]
struct ScriptSet {
    base: Scripts,
    hanb: bool,
    jpan: bool,
    kore: bool,
}

impl ScriptSet {
    fn of(c: char) -> Self {
        let base = scripts_of(c).1;
        let any = base.is_common() || base.is_inherited() || base.contains(HAN);
        ScriptSet {
            base,
            hanb: any || base.contains(BOPOMOFO),
            jpan: any || base.contains(HIRAGANA) || base.contains(KATAKANA),
            kore: any || base.contains(HANGUL),
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
        if of.base.contains(LATIN) && !of.base.is_common() {
            continue;
        }
        set.intersect(of);
    }
    // What is left besides Latin must be one of the Han-based writing systems, not Latin with
    // Cyrillic or Greek.
    (set.hanb || set.jpan || set.kore)
        && s.chars().any(|c| {
            let b = scripts_of(c).1;
            !b.is_common() && !b.is_inherited() && !b.contains(LATIN)
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
    fn script_tables_are_unicode_scripts_for_every_code_point() {
        use unicode_script::{Script, UnicodeScript};
        // The crate's scripts as this table numbers them (by name).
        let names = &script_table().names;
        let number = |s: Script| names.iter().position(|&n| n == s.full_name()).unwrap() as u8;
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            let (script, ours) = scripts_of(c);
            assert_eq!(names[usize::from(script)], c.script().full_name(), "{c:?}");
            assert_eq!(script_name(c), c.script().full_name(), "{c:?}");
            let theirs = c.script_extension();
            let mut want = Scripts {
                bits: [0; 3],
                common: theirs.is_common(),
            };
            if theirs.is_common() || theirs.is_inherited() {
                want.bits = Scripts::ALL;
            } else {
                for s in theirs.iter() {
                    let n = number(s);
                    want.bits[usize::from(n / 64)] |= 1 << (n % 64);
                }
            }
            assert_eq!(ours, want, "{c:?}");
            for s in [Script::Latin, Script::Han, Script::Hangul, Script::Cyrillic] {
                assert_eq!(ours.contains(number(s)), theirs.contains_script(s), "{c:?}");
            }
        }
        assert_eq!(
            (LATIN, HAN, BOPOMOFO, HIRAGANA, KATAKANA, HANGUL),
            (
                number(Script::Latin),
                number(Script::Han),
                number(Script::Bopomofo),
                number(Script::Hiragana),
                number(Script::Katakana),
                number(Script::Hangul)
            )
        );
        assert_eq!(script_table().starts.len(), SCRIPT_RANGES);
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
