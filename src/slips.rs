//! How people really mistype: a weighted edit distance whose costs follow the slips that
//! typosquatting research and the design notes describe — keyboard neighbours (QWERTY, with QWERTZ
//! and AZERTY neighbours slightly dearer), omissions (a doubled letter is the easiest to drop),
//! repetitions, adjacent transpositions, a missing or extra dot or hyphen, and ASCII homoglyphs
//! (`rn`/`m`, `vv`/`w`, `cl`/`d`, `0`/`o`, `1`/`l`).
//!
//! Costs are in "slips": one ordinary slip costs about 1, a likely one (neighbour key, swapped
//! letters, doubled letter) about 0.5. [`cost`] is bounded: it gives up as soon as the cheapest
//! alignment exceeds the budget, so comparing against a far candidate is cheap.

use crate::domain::Domain;
use crate::letter_like::letter_like;

/// Keyboard rows; each row is offset half a key to the right of the row above.
const QWERTY: [&[u8]; 4] = [b"1234567890-", b"qwertyuiop", b"asdfghjkl", b"zxcvbnm"];
const QWERTZ: [&[u8]; 4] = [b"1234567890-", b"qwertzuiop", b"asdfghjkl", b"yxcvbnm"];
const AZERTY: [&[u8]; 4] = [b"1234567890-", b"azertyuiop", b"qsdfghjklm", b"wxcvbn"];

const fn pos(layout: &[&[u8]; 4], c: u8) -> Option<(usize, usize)> {
    let mut r = 0;
    while r < 4 {
        let row = layout[r];
        let mut i = 0;
        while i < row.len() {
            if row[i] == c {
                return Some((r, i));
            }
            i += 1;
        }
        r += 1;
    }
    None
}

const fn adjacent_in(layout: &[&[u8]; 4], a: u8, b: u8) -> bool {
    let (Some((ra, ca)), Some((rb, cb))) = (pos(layout, a), pos(layout, b)) else {
        return false;
    };
    let (ca, cb) = (ca as isize, cb as isize);
    match rb as isize - ra as isize {
        0 => ca - cb == 1 || cb - ca == 1,
        // The row below is shifted right: below `w` sit `a` and `s`.
        1 => cb == ca || cb == ca - 1,
        -1 => cb == ca || cb == ca + 1,
        _ => false,
    }
}

/// Map an ASCII domain byte to 0..64 (letters, digits, `-`, `.`, `_`).
const fn slot(c: u8) -> Option<usize> {
    match c {
        b'a'..=b'z' => Some((c - b'a') as usize),
        b'0'..=b'9' => Some(26 + (c - b'0') as usize),
        b'-' => Some(36),
        b'.' => Some(37),
        b'_' => Some(38),
        _ => None,
    }
}

const KEYS: &[u8; 37] = b"abcdefghijklmnopqrstuvwxyz0123456789-";

/// Neighbour tables, computed at compile time: bit `b` of `QWERTY_ADJ[a]` says key `b` is next
/// to key `a` on QWERTY; `OTHER_ADJ` holds the QWERTZ/AZERTY-only neighbours.
const fn build_adjacency(other: bool) -> [u64; 64] {
    let mut t = [0u64; 64];
    let mut i = 0;
    while i < KEYS.len() {
        let mut j = 0;
        while j < KEYS.len() {
            let (a, b) = (KEYS[i], KEYS[j]);
            let q = adjacent_in(&QWERTY, a, b);
            let o = adjacent_in(&QWERTZ, a, b) || adjacent_in(&AZERTY, a, b);
            if let (Some(sa), Some(sb)) = (slot(a), slot(b)) {
                if (!other && q) || (other && !q && o) {
                    t[sa] |= 1 << sb;
                }
            }
            j += 1;
        }
        i += 1;
    }
    t
}

const QWERTY_ADJ: [u64; 64] = build_adjacency(false);
const OTHER_ADJ: [u64; 64] = build_adjacency(true);

/// `slot` for every byte (255: not a domain character), so the hot loop does one load.
const SLOTS: [u8; 256] = {
    let mut t = [255u8; 256];
    let mut c = 0;
    while c < 256 {
        if let Some(s) = slot(c as u8) {
            t[c] = s as u8;
        }
        c += 1;
    }
    t
};

/// 1 for QWERTY neighbours, 2 for QWERTZ/AZERTY-only neighbours, 0 otherwise.
#[inline]
fn neighbour(a: u8, b: u8) -> u8 {
    let (sa, sb) = (SLOTS[a as usize], SLOTS[b as usize]);
    if sa == 255 || sb == 255 {
        return 0;
    }
    if QWERTY_ADJ[sa as usize] >> sb & 1 == 1 {
        1
    } else if OTHER_ADJ[sa as usize] >> sb & 1 == 1 {
        2
    } else {
        0
    }
}

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

/// One-character homoglyphs in lower-case ASCII.
fn homoglyph(a: u8, b: u8) -> bool {
    let pair = |x: u8, y: u8| (a == x && b == y) || (a == y && b == x);
    pair(b'0', b'o') || pair(b'1', b'l') || pair(b'1', b'i') || pair(b'l', b'i') || pair(b'5', b's')
}

/// Letters that pass for each other at a glance in lower case, less closely than
/// [`homoglyph`]s: the single-character ASCII glyphs of dnstwist's homoglyph fuzzer (`b`/`d`,
/// `c`/`e`, `g`/`q`, `m`/`n`, `n`/`r`, `u`/`v`), which typosquatters register.
fn near_glyph(a: u8, b: u8) -> bool {
    matches!(
        (a.min(b), a.max(b)),
        (b'b', b'd') | (b'c', b'e') | (b'g', b'q') | (b'm', b'n') | (b'n', b'r') | (b'u', b'v')
    )
}

/// A one-character homoglyph typed for the letter it imitates (`0` for `o`, `1` for `l`): the
/// cheapest substitution.
const HOMOGLYPH_COST: f32 = 0.3;

/// A letter next to the same letter typed once more or once less (`gmaill`, `yaho`): the
/// cheapest insertion and the cheapest omission.
const REPEAT_COST: f32 = 0.45;

/// The least any substitution costs (see [`sub_cost`]); the alignment looks no substitution up
/// that cannot win. A test checks every pair of domain characters against it.
const MIN_SUBSTITUTION_COST: f32 = HOMOGLYPH_COST;

/// The least any insertion costs (see [`insert_cost`]); the alignment looks no insertion up that
/// cannot win. A test checks every character and neighbours against it.
const MIN_INSERTION_COST: f32 = REPEAT_COST;

/// The least a character more or fewer costs by insertion or omission, so that names whose
/// lengths differ by more than the budget buys are not aligned at all. Two-letter glyphs change
/// the length for less (`rn` for `m`, 0.25; `cl` for `d`, 0.35), but those fold alike in the
/// skeletons, which `score` compares (and aligns) besides the names as typed.
const MIN_LENGTH_CHANGE_COST: f32 = REPEAT_COST;

/// Cost of typing `t` where `i` was intended; `in_name`: in the name rather than the suffix.
fn sub_cost(i: u8, t: u8, first: bool, in_name: bool) -> f32 {
    if homoglyph(i, t) {
        return HOMOGLYPH_COST;
    }
    if i.is_ascii_digit() && t.is_ascii_digit() {
        // `site45` vs `site35`: different numbers are different names, not slips.
        return 1.6;
    }
    if i == b'.' || t == b'.' {
        return 1.2;
    }
    let base = match neighbour(i, t) {
        // Likelier than an unrelated letter, a little less likely than a neighbouring key, and
        // above the strong slips short names are held to (`tun.de` is not `tum.de`, `fec.gov`
        // not `fcc.gov`). Not on the first letter, which is read first (`qmail.com` is a
        // provider).
        _ if in_name && !first && near_glyph(i, t) => 0.58,
        1 => 0.6,
        2 => 0.75,
        // A misspelt vowel in a name (`daam` for `daum`, `meil` for `mail`); in a suffix it is
        // another country (`.at` is not `.it`, `.ru` is not `.ro`).
        _ if is_vowel(i) && is_vowel(t) && in_name => 0.7,
        _ if is_vowel(i) && is_vowel(t) => 0.85,
        _ => 1.0,
    };
    // People rarely get the first letter wrong (`hank`/`tank` are different words).
    if first && base > 0.6 {
        base + 0.3
    } else {
        base
    }
}

/// Cost of omitting intended `c` (with `prev`/`next` its intended neighbours).
fn omit_cost(c: u8, prev: Option<u8>, next: Option<u8>) -> f32 {
    let digit_run = |x: Option<u8>| x.is_some_and(|x| x.is_ascii_digit());
    if c.is_ascii_digit()
        && (digit_run(prev) || digit_run(next))
        && prev != Some(c)
        && next != Some(c)
    {
        // Numbers are names: `site45` is not `site345`.
        1.2
    } else if prev == Some(c) || next == Some(c) {
        REPEAT_COST
    } else if c == b'.' {
        0.5
    } else if c == b'-' {
        0.55
    } else if prev.is_none() {
        0.75
    } else if next.is_none() {
        // The last letter is the one most often left off (`gmail.co`, `navy.mi`).
        0.55
    } else {
        0.7
    }
}

/// Cost of inserting `c` between intended `prev` and `next`.
#[inline]
fn insert_cost(c: u8, prev: Option<u8>, next: Option<u8>) -> f32 {
    let digit = |x: Option<u8>| x.is_some_and(|x| x.is_ascii_digit());
    if prev == Some(c) || next == Some(c) {
        return REPEAT_COST;
    }
    if c.is_ascii_digit() && (digit(prev) || digit(next)) {
        // Numbers are names: `site45` is not `site345`.
        return 1.2;
    }
    match c {
        b'.' => return 0.5,
        b'-' => return 0.6,
        _ => {}
    }
    let np = prev.map_or(0, |p| neighbour(p, c));
    // Run on past the end of a name of letters, before the dot: a digit (`aol0`, `mail2`,
    // `nato2`), the shape of registered typo domains (`hotmail4.com`, `usps5.com` in the public
    // throwaway lists), or a letter, the hand running on (`maila.ru`, `natox.int`, dnstwist's
    // addition fuzzer). Likelier than a character inside the name; a letter makes another word
    // more often (`mailw.com` is a real provider), so a short name holds it only as a warning to
    // check (see `score::short_open_name`).
    if next == Some(b'.') && prev.is_some_and(|p| p.is_ascii_lowercase()) {
        if c.is_ascii_digit() || np == 1 {
            return 0.6;
        }
        if c.is_ascii_lowercase() {
            return 0.75;
        }
    }
    let nn = next.map_or(0, |n| neighbour(n, c));
    if np == 1 || nn == 1 {
        0.6
    } else if np == 2 || nn == 2 {
        0.75
    } else {
        1.0
    }
}

/// Two typed characters that stand for one intended one (`rn` for `m`), and the reverse.
fn glyph_2_1(t: &[u8], i: u8) -> Option<f32> {
    match (t, i) {
        (b"rn", b'm') | (b"vv", b'w') => Some(0.25),
        (b"cl", b'd') => Some(0.35),
        (b"nn", b'm') | (b"rr", b'm') | (b"ii", b'u') => Some(0.5),
        // dnstwist's two-character glyphs: `lb` for `b`, `dl` for `d`, `lh` for `h`, `lc`
        // for `k`.
        (b"lb", b'b') | (b"dl", b'd') | (b"lh", b'h') | (b"lc", b'k') => Some(0.5),
        _ => None,
    }
}

const MAX_LEN: usize = 128;

/// The cheapest sequence of slips turning `intended` into `typed`, or `None` when it costs more
/// than `budget`. Both are lower-case ASCII; longer than 128 bytes compares as too far. Both are
/// read as suffixes; see [`cost_named`].
pub(crate) fn cost(typed: &[u8], intended: &[u8], budget: f32) -> Option<f32> {
    cost_named(typed, intended, 0, budget)
}

/// [`cost`] where the first `name_len` bytes of `intended` are a name (where a misspelt vowel is
/// a likelier slip than in a suffix).
pub(crate) fn cost_named(
    typed: &[u8],
    intended: &[u8],
    name_len: usize,
    budget: f32,
) -> Option<f32> {
    let (n, m) = (intended.len(), typed.len());
    if n > MAX_LEN || m > MAX_LEN {
        return None;
    }
    if n.abs_diff(m) as f32 * MIN_LENGTH_CHANGE_COST > budget {
        return None;
    }
    // The alignment only has work to do between the common prefix and suffix; keep two
    // characters of them as context (transpositions and glyph pairs may straddle the edge).
    // Costs still look at the neighbours in the whole strings.
    let pre = typed
        .iter()
        .zip(intended)
        .take_while(|(a, b)| a == b)
        .count();
    let max_suf = n.min(m) - pre;
    let suf = typed
        .iter()
        .rev()
        .zip(intended.iter().rev())
        .take(max_suf)
        .take_while(|(a, b)| a == b)
        .count();
    if pre == n && n == m {
        return Some(0.0);
    }
    let p = pre.saturating_sub(2);
    let s = suf.saturating_sub(2);
    let (nn, mm) = (n - s - p, m - s - p);
    let it = &intended[p..n - s];
    let tt = &typed[p..m - s];
    // d[i][j]: cost of turning it[..i] into tt[..j]. Three rows suffice for the transpositions
    // and 2↔1 glyphs.
    let w = mm + 1;
    // Most names are short: a small array on the stack, the full size only when needed.
    let mut small = [f32::INFINITY; 3 * 24];
    let mut large = Vec::new();
    let rows: &mut [f32] = if 3 * w <= small.len() {
        &mut small
    } else {
        large.resize(3 * w, f32::INFINITY);
        &mut large
    };
    let at = |i: usize| (i % 3) * w;
    rows[0] = 0.0;
    let mut prev_min = 0.0f32;
    for j in 1..=mm {
        let b = p + j - 1;
        let prev = (b >= 1).then(|| typed[b - 1]);
        rows[j] = rows[j - 1] + insert_cost(typed[b], prev, intended.get(p).copied());
    }
    for i in 1..=nn {
        let (cur, p1) = (at(i), at(i - 1));
        let abs = p + i - 1;
        let ic = intended[abs];
        let iprev = (abs >= 1).then(|| intended[abs - 1]);
        let inext = intended.get(abs + 1).copied();
        let om = omit_cost(ic, iprev, inext);
        rows[cur] = rows[p1] + om;
        let mut row_min = rows[cur];
        for j in 1..=mm {
            let tc = tt[j - 1];
            // Costs are only looked up when they could win (the results are the same, the work
            // is less).
            let mut best = rows[p1 + j] + om;
            let diag = rows[p1 + j - 1];
            if ic == tc {
                best = best.min(diag);
            } else if diag + MIN_SUBSTITUTION_COST < best {
                best =
                    best.min(diag + sub_cost(ic, tc, p == 0 && i == 1 && j == 1, abs < name_len));
            }
            let left = rows[cur + j - 1];
            if left + MIN_INSERTION_COST < best {
                best = best.min(left + insert_cost(tc, Some(ic), inext));
            }
            if i >= 2 && j >= 2 && ic == tt[j - 2] && it[i - 2] == tc && ic != tc {
                best = best.min(rows[at(i - 2) + j - 2] + 0.55);
            }
            // 2↔1 glyphs end in `n`, `v`, `l`, `i`, `b`, `h` or `c` (`rn`, `nn`, `vv`, `cl`,
            // `ii`, `lb`, `lh`, `lc`).
            if j >= 2 && matches!(tc, b'n' | b'r' | b'v' | b'l' | b'i' | b'b' | b'h' | b'c') {
                if let Some(c) = glyph_2_1(&tt[j - 2..j], ic) {
                    best = best.min(rows[p1 + j - 2] + c);
                }
            }
            if i >= 2 && matches!(ic, b'n' | b'v' | b'l' | b'i') {
                if let Some(c) = glyph_2_1(&it[i - 2..i], tc) {
                    best = best.min(rows[at(i - 2) + j - 1] + c + 0.05);
                }
            }
            rows[cur + j] = best;
            row_min = row_min.min(best);
        }
        // Transpositions and 2↔1 glyphs jump two rows, so stop only when two rows are over.
        if row_min > budget && prev_min > budget {
            return None;
        }
        prev_min = row_min;
    }
    let c = rows[at(nn) + mm];
    (c <= budget).then_some(c)
}

/// Fold ASCII homoglyphs so that lookalikes compare equal: `0`→`o`, `1`→`l`, `rn`→`m`,
/// `vv`→`w`, `cl`→`d`. Applied after the UTS #39 skeleton for non-ASCII input.
pub(crate) fn fold_ascii(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let two = b.get(i..i + 2);
        match two {
            Some(b"rn") => {
                out.push('m');
                i += 2;
                continue;
            }
            Some(b"vv") => {
                out.push('w');
                i += 2;
                continue;
            }
            Some(b"cl") => {
                out.push('d');
                i += 2;
                continue;
            }
            _ => {}
        }
        match b[i] {
            b'0' => out.push('o'),
            b'1' => out.push('l'),
            c if c.is_ascii() => out.push(c as char),
            _ => {
                // Non-ASCII: copy the whole character.
                let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
                out.push(ch);
                i += ch.len_utf8();
                continue;
            }
        }
        i += 1;
    }
    out
}

/// The comparison form of a domain: UTS #39 skeleton (for non-ASCII), lower case, ASCII folds.
/// Borrowed when the name is its own skeleton (most ASCII names).
pub(crate) fn skeleton(unicode: &str) -> std::borrow::Cow<'_, str> {
    if unicode.is_ascii() {
        let b = unicode.as_bytes();
        let folds = b.iter().any(|&c| c == b'0' || c == b'1')
            || b.windows(2).any(|w| matches!(w, b"rn" | b"vv" | b"cl"));
        return if folds {
            std::borrow::Cow::Owned(fold_ascii(unicode))
        } else {
            std::borrow::Cow::Borrowed(unicode)
        };
    }
    std::borrow::Cow::Owned(skeleton_idn(unicode))
}

#[cold]
#[inline(never)]
fn skeleton_idn(unicode: &str) -> String {
    fold_ascii(&bare_idn(unicode))
}

/// An international name read as plain ASCII letters, look-alikes and accents off but two-letter
/// glyphs kept (`aŗnny` reads `arnny`, where the skeleton folds `rn` and has `amny`); `None`
/// when it does not read as ASCII. The slip costs then see the glyphs (`nn` for `m`).
pub(crate) fn plain_idn(unicode: &str) -> Option<String> {
    if unicode.is_ascii() {
        return None;
    }
    // Label by label, so that ASCII labels stay as typed (UTS #39 reads `m` as `rn`).
    let mut plain = String::with_capacity(unicode.len());
    for (i, l) in unicode.split('.').enumerate() {
        if i > 0 {
            plain.push('.');
        }
        if l.is_ascii() {
            plain.push_str(l);
        } else {
            plain.push_str(&bare_idn(l));
        }
    }
    Some(plain).filter(|p| p.is_ascii())
}

fn bare_idn(unicode: &str) -> String {
    // Letters with a hook, stroke or descender, and small capitals, read as their plain letter
    // (`ꞑ` is `n`) before and after the skeleton: UTS #39 leaves most of them, and maps a few
    // Cyrillic letters to such Latin forms (`к` to `ĸ`, whole-script `ьаеѕуѕтемѕ`).
    let plain: String = unicode.chars().map(letter_like).collect();
    let sk = crate::uts39::lowercase(&crate::uts39::skeleton(&plain));
    // Accents off, as browsers compare names with the well-known ones (`googlé` is `google`):
    // the skeleton is decomposed, so the marks stand alone.
    let bare: String = sk
        .chars()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .map(letter_like)
        .collect();
    bare
}

/// Whether `a` becomes `b` by one edit: a character changed, added or left out, or two
/// neighbours swapped.
pub(crate) fn single_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let pre = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[pre..], &b[pre..]);
    let suf = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (
        &a[..a.len() - suf.min(a.len())],
        &b[..b.len() - suf.min(b.len())],
    );
    match (a.len(), b.len()) {
        (1, 1) | (0, 1) | (1, 0) => true,
        (2, 2) => a[0] == b[1] && a[1] == b[0],
        _ => false,
    }
}

/// Whether `typed` is `intended` with one slip in the name: the same suffix, and one character
/// of the name changed, added or left out, or two neighbours swapped. What ties are made of.
pub(crate) fn one_slip_in_name(typed: &Domain, intended: &Domain) -> bool {
    intended.suffix() == typed.suffix() && single_edit(&typed.ascii, &intended.ascii)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(t: &str, i: &str) -> f32 {
        cost(t.as_bytes(), i.as_bytes(), 5.0).unwrap()
    }

    #[test]
    fn letter_like_forms_read_as_their_letters() {
        // UTS #39 maps Cyrillic к, м, т, ь to Latin small capitals and the like; they read as k,
        // m, t, b in a name (`ьаеѕуѕтемѕ` is `baesystems`).
        assert_eq!(skeleton("ьаеѕуѕтемѕ.com"), "baesystems.com");
        assert_eq!(skeleton("маіӏ.mil"), "mail.mil");
        assert_eq!(skeleton("aɾmŷ.mil"), "army.mil");
        // A real Cyrillic name keeps letters that have no Latin look-alike.
        assert!(!skeleton("почта.рф").is_ascii());
        // Letters with a hook, stroke or descender, and small capitals (dnstwist's glyphs).
        assert_eq!(skeleton("fṁᶌ.se"), "fmv.se");
        assert_eq!(skeleton("kpꞑ.com"), "kpn.com");
        assert_eq!(skeleton("ʀɪꜱᴇup.net"), "riseup.net");
        assert_eq!(letter_like('ł'), 'l');
        assert_eq!(letter_like('я'), 'я');
        // The plain form keeps two-letter glyphs for the slip costs; ASCII names have none.
        assert_eq!(plain_idn("aŗnny.mil").as_deref(), Some("arnny.mil"));
        assert_eq!(skeleton("aŗnny.mil"), "amny.mil");
        assert_eq!(plain_idn("army.mil"), None);
        assert_eq!(plain_idn("почта.рф"), None);
    }

    #[test]
    fn vowels_cost_less_in_the_name_than_in_the_suffix() {
        let named = |t: &str, i: &str, name_len| {
            cost_named(t.as_bytes(), i.as_bytes(), name_len, 5.0).unwrap()
        };
        // `daum.net`: the name is the first 5 bytes (with its dot).
        assert!((named("daam.net", "daum.net", 5) - 0.7).abs() < 1e-6);
        assert!((named("tiscali.at", "tiscali.it", 8) - 0.85).abs() < 1e-6);
        // Without a name, as `cost` reads it, a vowel costs the suffix price.
        assert!((c("daam.net", "daum.net") - 0.85).abs() < 1e-6);
    }

    #[test]
    fn accents_come_off_in_skeletons() {
        assert_eq!(skeleton("googl\u{e9}.com"), "google.com");
        assert_eq!(skeleton("go\u{f6}gle.com"), "google.com");
        assert_eq!(skeleton("b\u{fc}cher.de"), "bucher.de");
        // Other scripts' look-alikes still map as UTS #39 says.
        assert_eq!(skeleton("\u{430}rmy.mil"), "army.mil");
    }

    #[test]
    fn neighbours() {
        assert_eq!(neighbour(b'n', b'm'), 1);
        assert_eq!(neighbour(b'a', b's'), 1);
        assert_eq!(neighbour(b'w', b'a'), 1);
        assert_eq!(neighbour(b'q', b'a'), 1);
        assert_eq!(neighbour(b'y', b'x'), 2, "QWERTZ: y sits next to x");
        assert_eq!(neighbour(b'a', b'z'), 1);
        assert_eq!(neighbour(b'c', b'b'), 0);
        assert_eq!(neighbour(b'o', b'l'), 1);
    }

    #[test]
    fn slips_cost_what_people_do() {
        assert_eq!(c("gmail.com", "gmail.com"), 0.0);
        assert!(
            (c("gmial.com", "gmail.com") - 0.55).abs() < 1e-6,
            "transposition"
        );
        assert!((c("navy.ml", "navy.mil") - 0.7).abs() < 1e-6, "omission");
        assert!(
            (c("army.ml", "army.nl") - 0.6).abs() < 1e-6,
            "neighbour key"
        );
        assert!(
            (c("yaho.com", "yahoo.com") - 0.45).abs() < 1e-6,
            "dropped double"
        );
        assert!(
            (c("gmaill.com", "gmail.com") - 0.45).abs() < 1e-6,
            "repetition"
        );
        assert!(
            (c("usaf.mil", "us.af.mil") - 0.5).abs() < 1e-6,
            "missing dot"
        );
        assert!((c("arrny.mil", "army.mil") - 0.25).abs() < 1e-6, "rn for m");
        assert!((c("oprr.gov", "opm.gov") - 0.5).abs() < 1e-6, "rr for m");
        assert!(
            (c("maila.ru", "mail.ru") - 0.75).abs() < 1e-6,
            "a letter run on"
        );
        assert!(
            (c("mailk.ru", "mail.ru") - 0.6).abs() < 1e-6,
            "a neighbour run on"
        );
        assert!(c("maial.ru", "mail.ru") > 0.9, "a letter inside costs more");
        assert!((c("gmai1.com", "gmail.com") - 0.3).abs() < 1e-6, "1 for l");
        assert!(
            (c("gmailc.om", "gmail.com") - 0.55).abs() < 1e-6,
            "dot swapped"
        );
        assert!(c("hank.com", "tank.com") > 1.0, "first letter");
        assert!(c("site45.com", "site35.com") > 1.5, "digits");
        assert!(c("army.nl", "army.mil") > 1.0, "two slips");
        assert!(cost(b"abcdefgh", b"zzzzzzzz", 1.0).is_none());
    }

    #[test]
    fn skeletons() {
        assert_eq!(skeleton("arrny.mil"), skeleton("army.mil"));
        assert_eq!(skeleton("g00gle.com"), skeleton("google.com"));
        assert_eq!(skeleton("\u{430}rmy.mil"), skeleton("army.mil"));
        assert_ne!(skeleton("navy.mil"), skeleton("army.mil"));
    }

    #[test]
    fn single_edits() {
        assert!(single_edit("hs.gov", "dhs.gov") && single_edit("hs.gov", "hhs.gov"));
        assert!(single_edit("gmial.com", "gmail.com") && single_edit("gmal.com", "gmail.com"));
        assert!(single_edit("gmsil.com", "gmail.com") && single_edit("gmaill.com", "gmail.com"));
        assert!(!single_edit("gmail.com", "gmail.com") && !single_edit("gmil.con", "gmail.com"));
        assert!(!single_edit("abc.com", "cba.com") && !single_edit("ab.com", "abcd.com"));
    }

    #[test]
    fn pruning_bounds_are_the_least_costs() {
        // Every character a domain holds, and none (the ends of a name).
        let chars: Vec<u8> = (b'a'..=b'z').chain(b'0'..=b'9').chain(*b"-._").collect();
        let around: Vec<Option<u8>> = std::iter::once(None)
            .chain(chars.iter().copied().map(Some))
            .collect();
        let (mut least_sub, mut least_insert, mut least_omit) = (f32::MAX, f32::MAX, f32::MAX);
        for &i in &chars {
            for &t in chars.iter().filter(|&&t| t != i) {
                for (first, in_name) in [(false, false), (false, true), (true, false), (true, true)]
                {
                    least_sub = least_sub.min(sub_cost(i, t, first, in_name));
                }
            }
            for &prev in &around {
                for &next in &around {
                    least_insert = least_insert.min(insert_cost(i, prev, next));
                    least_omit = least_omit.min(omit_cost(i, prev, next));
                }
            }
        }
        assert_eq!(least_sub, MIN_SUBSTITUTION_COST);
        assert_eq!(least_insert, MIN_INSERTION_COST);
        assert_eq!(least_insert.min(least_omit), MIN_LENGTH_CHANGE_COST);
    }
}
