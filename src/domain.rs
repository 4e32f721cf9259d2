//! Domain names: normalisation (UTS #46 via `idna`), validation, and the split into
//! subdomain / registrable label / public suffix with the vendored Public Suffix List.

use std::sync::OnceLock;

use publicsuffix::{List, Psl};

use crate::index::FastMap;

/// The ICANN rules of the vendored list (see `data/README.md`) as `build.rs` embeds them: comments
/// stripped, internationalised rules in their `xn--` form (names are looked up in ASCII form), and
/// grouped (see [`SuffixList`] and `build.rs`). Mail goes to
/// registered domains, and the private section lists hosting platforms (`blogspot.com`, ...).
const PSL_TEXT: &str = include_str!(concat!(env!("OUT_DIR"), "/psl_icann.dat"));
/// The number of top-level domains in `PSL_TEXT`.
const TLD_COUNT: usize = include!(concat!(env!("OUT_DIR"), "/psl_tld_count.rs"));
/// The section marker a list text needs in front of its rules (the parser files rules under the
/// section they stand in).
const SECTION: &str = "// ===BEGIN ICANN DOMAINS===\n";

/// The suffix list, split so that a process parses only what the names it meets need.
///
/// Deciding the suffix of `x.b.tld` takes only the rules `tld`, `*.tld` and those ending in
/// `b.tld` (`b.tld`, `*.b.tld`, `!x.b.tld`, ...): a rule matches a name only if its labels match
/// the name's last labels. So `build.rs` groups the rules by top-level label, and those of the
/// few top-level domains with many rules (`jp`, `no`, `it`, ...) also by the label left of it; a
/// name is split by a `publicsuffix` list of the groups it needs, parsed on first use and kept.
/// Start-up only indexes the top-level labels. A unit test checks this against the whole list
/// for every rule. Parsing all ~7,000 rules at start-up took most of the browser module's
/// start-up time; the default policy's ~950 domains need a few hundred.
struct SuffixList {
    tlds: FastMap<&'static str, Tld>,
}

/// The rules under one top-level label. Rules are stored a line each without the label (the
/// bare rule as an empty line).
struct Tld {
    /// The rules keyed by the label alone: all of them, or for the top-level domains with many
    /// rules, the bare one.
    own: Option<&'static str>,
    /// The groups keyed by a second label, each behind a '/', unparsed until needed.
    grouped: &'static str,
    /// Boxed, like `list`: ~1,500 of these are indexed at start-up and few are ever used, so
    /// each stays a few words (the unboxed ones made the index ~400 KB of fresh memory).
    seconds: OnceLock<Box<Seconds>>,
    /// The list for names with no group of their own.
    list: OnceLock<Box<List>>,
}

/// A top-level domain's groups, indexed on first use.
struct Seconds {
    /// Second label (`kawasaki`) to its group.
    index: FastMap<&'static str, usize>,
    groups: Vec<&'static str>,
    /// The `*.tld` rules.
    wild: Option<&'static str>,
    lists: Vec<OnceLock<List>>,
}

impl Tld {
    /// The top-level label is the only rule under it (`com`, `de`, `mil` and 1,300 others in
    /// the ICANN section): the suffix of every name under it is that label, with no list to parse.
    fn bare_only(&self) -> bool {
        self.own == Some("") && self.grouped.is_empty()
    }

    fn seconds(&self) -> &Seconds {
        self.seconds.get_or_init(|| Box::new(self.index_seconds()))
    }

    #[cold]
    #[inline(never)]
    fn index_seconds(&self) -> Seconds {
        let mut s = Seconds {
            index: FastMap::default(),
            groups: Vec::new(),
            wild: None,
            lists: Vec::new(),
        };
        // A plain loop over the bytes, for the same reason as in `index_suffix_list`.
        let text = self.grouped;
        let mut add = |rules: &'static str| {
            if rules.is_empty() {
                return;
            }
            let first = rules.split('\n').next().unwrap_or(rules);
            let first = first.strip_prefix('!').unwrap_or(first);
            match first.rsplit('.').next().unwrap_or(first) {
                "*" => s.wild = Some(rules),
                second => {
                    s.index.insert(second, s.groups.len());
                    s.groups.push(rules);
                    s.lists.push(OnceLock::new());
                }
            }
        };
        let mut start = 0;
        for (i, &c) in text.as_bytes().iter().enumerate() {
            if c == b'/' {
                add(&text[start..i]);
                start = i + 1;
            }
        }
        add(&text[start..]);
        s
    }

    /// The list that splits `…second.tld`.
    fn list(&self, tld: &str, second: Option<&str>) -> &List {
        if self.grouped.is_empty() {
            return self
                .list
                .get_or_init(|| Box::new(parse_rules(tld, [self.own, None, None])));
        }
        let s = self.seconds();
        match second.and_then(|l| s.index.get(l)) {
            Some(&i) => {
                s.lists[i].get_or_init(|| parse_rules(tld, [self.own, s.wild, Some(s.groups[i])]))
            }
            None => self
                .list
                .get_or_init(|| Box::new(parse_rules(tld, [self.own, s.wild, None]))),
        }
    }
}

/// Append rules stored without their top-level label to a list text, a line each, with it.
fn push_rules(text: &mut String, tld: &str, rules: &str) {
    for rule in rules.split('\n') {
        if !rule.is_empty() {
            text.push_str(rule);
            text.push('.');
        }
        text.push_str(tld);
        text.push('\n');
    }
}

#[cold]
#[inline(never)]
fn parse_rules(tld: &str, parts: [Option<&str>; 3]) -> List {
    let mut text = String::from(SECTION);
    for rules in parts.into_iter().flatten() {
        push_rules(&mut text, tld, rules);
    }
    // The embedded rules are known to parse (a unit test parses them all); an empty list is the
    // conservative fallback that keeps the engine alive rather than panicking.
    text.parse().unwrap_or_default()
}

fn suffix_list() -> &'static SuffixList {
    static LIST: OnceLock<SuffixList> = OnceLock::new();
    LIST.get_or_init(index_suffix_list)
}

#[cold]
#[inline(never)]
fn index_suffix_list() -> SuffixList {
    // One plain pass over the bytes. The browser runs this before it has optimised anything,
    // and there `split`/`split_once` (memchr, three passes over the ~67 KB) took milliseconds.
    let text = PSL_TEXT;
    let bytes = text.as_bytes();
    let mut tlds = FastMap::with_capacity_and_hasher(TLD_COUNT, Default::default());
    let mut add = |start: usize, nl: Option<usize>, slash: Option<usize>, end: usize| {
        let head_end = slash.unwrap_or(end);
        let tld_end = nl.unwrap_or(head_end);
        if tld_end > start {
            tlds.insert(
                &text[start..tld_end],
                Tld {
                    own: nl.map(|n| &text[n + 1..head_end]),
                    grouped: slash.map_or("", |s| &text[s + 1..end]),
                    seconds: OnceLock::new(),
                    list: OnceLock::new(),
                },
            );
        }
    };
    let (mut start, mut nl, mut slash) = (None, None, None);
    for (i, &c) in bytes.iter().enumerate() {
        match c {
            b'|' => {
                if let Some(s) = start {
                    add(s, nl, slash, i);
                }
                (start, nl, slash) = (Some(i + 1), None, None);
            }
            b'\n' if nl.is_none() && slash.is_none() => nl = Some(i),
            b'/' if slash.is_none() => slash = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        add(s, nl, slash, bytes.len());
    }
    SuffixList { tlds }
}

/// The public suffix of `ascii` (a lower-case ASCII name): its length in bytes and whether it is
/// on the list (else the last label, by the implicit `*` rule).
fn suffix_of(ascii: &str) -> (usize, bool) {
    let (rest, tld) = match ascii.rfind('.') {
        Some(i) => (&ascii[..i], &ascii[i + 1..]),
        None => ("", ascii),
    };
    let Some(t) = suffix_list().tlds.get(tld) else {
        return (tld.len(), false);
    };
    if t.bare_only() {
        return (tld.len(), true);
    }
    let second = rest
        .rsplit('.')
        .next()
        .filter(|s| !s.is_empty() && *s != "*");
    match t.list(tld, second).suffix(ascii.as_bytes()) {
        Some(s) => (s.as_bytes().len(), s.is_known()),
        None => (tld.len(), false),
    }
}

/// Parse every group of the suffix list now, for hosts where start-up is cheap and the first
/// request under each top-level domain should not pay for its group (the proxy filter). Idempotent.
pub(crate) fn parse_all() {
    let sl = suffix_list();
    for (tld, t) in sl.tlds.iter().filter(|(_, t)| !t.bare_only()) {
        let _ = t.list(tld, None);
        if !t.grouped.is_empty() {
            for second in t.seconds().index.keys() {
                let _ = t.list(tld, Some(second));
            }
        }
    }
}

/// A normalised, valid domain name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Domain {
    /// Lower-case ASCII (punycode) form, no trailing dot.
    pub ascii: String,
    /// Unicode form for display (equal to `ascii` for ASCII domains).
    pub unicode: String,
    /// Byte length of the public suffix in `ascii` (the whole name for a single label).
    pub suffix_len: usize,
    /// Whether the suffix is on the list (not merely the implicit `*` rule).
    pub suffix_known: bool,
}

impl Domain {
    /// The public suffix (`mil`, `co.uk`).
    pub fn suffix(&self) -> &str {
        &self.ascii[self.ascii.len() - self.suffix_len..]
    }

    /// Everything before the suffix, without the dot (`army`, `us.af`); empty when the domain is
    /// itself a suffix.
    pub fn head(&self) -> &str {
        let n = self.ascii.len() - self.suffix_len;
        if n == 0 {
            ""
        } else {
            &self.ascii[..n - 1]
        }
    }

    /// The label just left of the suffix (`army` in `mail.army.mil`).
    pub fn label(&self) -> &str {
        last_label(self.head())
    }

    /// The registrable domain (`army.mil` for `mail.army.mil`), or the whole domain when it is a
    /// suffix itself.
    pub fn registrable(&self) -> &str {
        let l = self.label();
        if l.is_empty() {
            return &self.ascii;
        }
        &self.ascii[self.ascii.len() - self.suffix_len - 1 - l.len()..]
    }

    /// Labels left of the registrable label (`mail` in `mail.army.mil`).
    pub fn subdomain(&self) -> &str {
        let h = self.head();
        let l = self.label();
        if h.len() > l.len() {
            &h[..h.len() - l.len() - 1]
        } else {
            ""
        }
    }
}

/// The position of the first `c` in `s`. A plain loop: on the short names these paths see it is
/// cheaper than `find` (memchr), and much cheaper in the browser before its code is optimised
/// (this runs for every reference at start-up).
pub(crate) fn find_byte(s: &str, c: u8) -> Option<usize> {
    s.bytes().position(|b| b == c)
}

/// The last label of a name (all of it without a dot), by a plain loop as in [`find_byte`].
pub(crate) fn last_label(x: &str) -> &str {
    match x.bytes().rposition(|b| b == b'.') {
        Some(i) => &x[i + 1..],
        None => x,
    }
}

/// CISA's registry of `.gov` names, the short ones only (`data/dotgov-short.txt`, sorted).
const DOTGOV_SHORT: &str = include_str!("../data/dotgov-short.txt");
/// The longest label `DOTGOV_SHORT` holds.
const DOTGOV_MAX_LABEL: usize = 5;

/// Whether `label.gov` is a registered name: `None` when the label is too long for the embedded
/// list to know. `.gov` is a closed registry (only US governments can register), so a short name
/// that is not on it cannot receive mail.
pub(crate) fn dotgov_registered(label: &str) -> Option<bool> {
    if label.is_empty() || label.len() > DOTGOV_MAX_LABEL {
        return None;
    }
    Some(has_line(DOTGOV_SHORT, label))
}

/// A domain of the embedded default policy as [`normalize`] gives it, split at build time
/// (`build.rs`): building the default engine then parses no part of the suffix list and runs no
/// validation for its ~950 names (the browser does this at every start, before its code is
/// optimised). A unit test checks every one against `normalize`. `None` for other names.
pub(crate) fn prepared(name: &str) -> Option<Domain> {
    static SPLITS: OnceLock<FastMap<&'static str, (usize, bool)>> = OnceLock::new();
    let splits = SPLITS.get_or_init(|| {
        crate::policy::default_entries()
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

/// Whether sorted `body` has the line `key`, by binary search over whole lines in place. A `#`
/// header sorts before every key.
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

/// Why a domain is not a usable domain name.
pub(crate) fn normalize(input: &str) -> Result<Domain, String> {
    let (d, ascii) = ascii_form(input)?;
    let unicode = if has_punycode_label(&ascii) {
        to_unicode_idn(d, &ascii)?
    } else {
        ascii.clone()
    };
    // A single label (`gmail`) has no suffix; treat the whole name as an unknown one.
    let (suffix_len, suffix_known) = if find_byte(&ascii, b'.').is_some() {
        suffix_of(&ascii)
    } else {
        (ascii.len(), false)
    };
    Ok(Domain {
        ascii,
        unicode,
        suffix_len,
        suffix_known,
    })
}

/// The input trimmed (no trailing dot), and its validated lower-case ASCII form.
fn ascii_form(input: &str) -> Result<(&str, String), String> {
    let trimmed = input.trim();
    let d = trimmed.strip_suffix('.').unwrap_or(trimmed);
    if d.is_empty() {
        return Err("an empty domain".into());
    }
    if d.starts_with('[') {
        return Err(format!("'{d}' is an address literal, not a domain name"));
    }
    // The common case, a plain ASCII name, takes the short path; IDNA and the wording of errors
    // live in functions of their own, out of the way of the one that runs for every name.
    let ascii = if d.is_ascii() && !has_punycode_label(d) {
        d.to_ascii_lowercase()
    } else {
        to_ascii_idn(d)?
    };
    if !is_valid_ascii(&ascii) {
        return Err(why_invalid(d, &ascii));
    }
    Ok((d, ascii))
}

/// The lower-case ASCII form of a domain name, validated as [`normalize`] validates it, without
/// the suffix split (policy patterns keep only this).
pub(crate) fn ascii_name(input: &str) -> Result<String, String> {
    let (d, ascii) = ascii_form(input)?;
    if has_punycode_label(&ascii) {
        to_unicode_idn(d, &ascii)?;
    }
    Ok(ascii)
}

/// Whether a label of `d` starts with the ACE prefix `xn--` (in any case).
fn has_punycode_label(d: &str) -> bool {
    let b = d.as_bytes();
    let ace = |at: usize| {
        b.get(at..at + 4)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"xn--"))
    };
    ace(0) || b.iter().enumerate().any(|(i, &c)| c == b'.' && ace(i + 1))
}

#[cold]
#[inline(never)]
fn to_ascii_idn(d: &str) -> Result<String, String> {
    idna::domain_to_ascii(d)
        .map_err(|_| format!("'{d}' is not a valid internationalised domain name (UTS #46)"))
}

#[cold]
#[inline(never)]
fn to_unicode_idn(d: &str, ascii: &str) -> Result<String, String> {
    let (u, r) = idna::domain_to_unicode(ascii);
    match r {
        Ok(()) => Ok(u),
        Err(_) => Err(format!("'{d}' holds invalid punycode")),
    }
}

/// Whether a lower-case ASCII name is at most 253 bytes of labels of 1 to 63 letters, digits,
/// `-` and `_`, none starting or ending with `-`.
fn is_valid_ascii(ascii: &str) -> bool {
    let b = ascii.as_bytes();
    if b.len() > 253 {
        return false;
    }
    let mut start = 0;
    for i in 0..=b.len() {
        if i == b.len() || b[i] == b'.' {
            let label = &b[start..i];
            if label.is_empty()
                || label.len() > 63
                || label[0] == b'-'
                || label[label.len() - 1] == b'-'
            {
                return false;
            }
            start = i + 1;
        } else if !(b[i].is_ascii_alphanumeric() || b[i] == b'-' || b[i] == b'_') {
            return false;
        }
    }
    true
}

/// Why a name [`is_valid_ascii`] refused is not a domain name.
#[cold]
#[inline(never)]
fn why_invalid(d: &str, ascii: &str) -> String {
    if ascii.len() > 253 {
        return format!(
            "'{}' is {} characters long; a domain name has at most 253",
            crate::address::clip(d, 60),
            ascii.len()
        );
    }
    for label in ascii.split('.') {
        if label.is_empty() {
            return format!("'{d}' has an empty label (two dots in a row, or a leading dot)");
        }
        if label.len() > 63 {
            return format!(
                "a label of '{}' is {} characters; at most 63 are allowed",
                crate::address::clip(d, 60),
                label.len()
            );
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return format!("'{d}' contains '{c}', which a domain name cannot hold");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return format!("the label '{label}' of '{d}' starts or ends with '-'");
        }
    }
    format!("'{d}' is not a domain name")
}

/// Whether the top-level domain `tld` has suffixes of two or more labels under it (`uk`:
/// `co.uk`, `gov.uk`), so that a name there could have run into one (`modgov.uk`).
pub(crate) fn has_deeper_suffixes(tld: &str) -> bool {
    suffix_list().tlds.get(tld).is_some_and(|t| !t.bare_only())
}

/// Whether `s` (lower-case ASCII, no dots needed) is a public suffix on the list.
pub(crate) fn is_known_suffix(s: &str) -> bool {
    let (len, known) = suffix_of(s);
    known && len == s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeper_suffixes_only_under_top_level_domains_that_have_them() {
        assert!(
            has_deeper_suffixes("uk") && has_deeper_suffixes("au") && has_deeper_suffixes("jp")
        );
        assert!(!has_deeper_suffixes("com") && !has_deeper_suffixes("mil"));
        assert!(!has_deeper_suffixes("notatld"));
    }

    #[test]
    fn prepared_default_domains_equal_normalized_ones() {
        let names: Vec<&str> = crate::policy::default_entries().map(|e| e.0).collect();
        assert!(names.len() > 800, "{}", names.len());
        assert!(
            names.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
        for name in names.iter().filter(|n| !n.starts_with('*')) {
            assert_eq!(prepared(name), Some(normalize(name).unwrap()), "{name}");
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
    fn dotgov_registry_is_sorted_and_searchable() {
        let labels: Vec<&str> = DOTGOV_SHORT
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect();
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
    fn list_parses_and_splits() {
        assert_eq!(suffix_of("example.co.uk"), (5, true));
        let d = normalize("Mail.Army.MIL.").unwrap();
        assert_eq!(d.ascii, "mail.army.mil");
        assert_eq!(
            (d.suffix(), d.label(), d.subdomain()),
            ("mil", "army", "mail")
        );
        assert_eq!(d.registrable(), "army.mil");
        let d = normalize("mod.gov.uk").unwrap();
        assert_eq!((d.suffix(), d.label()), ("gov.uk", "mod"));
        let d = normalize("x.com.ar").unwrap();
        assert_eq!(d.suffix(), "com.ar");
        let d = normalize("gmail.cmo").unwrap();
        assert!(!d.suffix_known);
        assert_eq!(d.suffix(), "cmo");
        let d = normalize("gouv.ml").unwrap();
        assert_eq!((d.head(), d.label(), d.registrable()), ("", "", "gouv.ml"));
    }

    #[test]
    fn embedded_rules_are_the_idna_forms_of_the_vendored_ones() {
        let original = include_str!("../data/public_suffix_list.dat");
        let start = original.find("// ===BEGIN ICANN DOMAINS===").unwrap();
        let end = original.find("// ===END ICANN DOMAINS===").unwrap();
        let embedded: std::collections::HashSet<String> = embedded_rules().into_iter().collect();
        assert_eq!(embedded_rules().len(), embedded.len());
        let mut idn = 0;
        let mut rules = 0;
        for line in original[start..end].lines() {
            let rule = line.split_whitespace().next().unwrap_or("");
            if rule.is_empty() || rule.starts_with("//") {
                continue;
            }
            rules += 1;
            let (prefix, name) = match rule.strip_prefix('!') {
                Some(n) => ("!", n),
                None => ("", rule),
            };
            let ascii = if name.is_ascii() {
                name.to_ascii_lowercase()
            } else {
                idn += 1;
                idna::domain_to_ascii(name).unwrap()
            };
            let want = format!("{prefix}{ascii}");
            assert!(
                embedded.contains(want.as_str()),
                "{rule} should be embedded as {want}"
            );
        }
        assert!(
            rules > 6000 && idn > 300,
            "{rules} rules, {idn} internationalised"
        );
        assert_eq!(embedded.len(), rules, "one line per rule");
        // An internationalised suffix is found by the ASCII name normalize gives.
        let d = normalize("例え.公司.cn").unwrap();
        assert_eq!(d.suffix(), "xn--55qx5d.cn");
        assert!(d.suffix_known);
    }

    /// Every group of the embedded list as (top-level label, rules without it).
    fn embedded_groups() -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        for (tld, t) in &suffix_list().tlds {
            out.extend(t.own.map(|own| (*tld, own)));
            let s = t.seconds();
            out.extend(s.wild.map(|w| (*tld, w)));
            out.extend(s.groups.iter().map(|g| (*tld, *g)));
        }
        out
    }

    /// Every rule of the embedded list.
    fn embedded_rules() -> Vec<String> {
        let mut text = String::new();
        for (tld, rules) in embedded_groups() {
            push_rules(&mut text, tld, rules);
        }
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn grouped_lists_split_as_the_whole_list() {
        let rules = embedded_rules();
        let whole: List = format!("{SECTION}{}", rules.join("\n")).parse().unwrap();
        let groups = embedded_groups();
        assert!(groups.len() > 2000, "{} groups", groups.len());
        assert!(suffix_list().tlds.len() > 1000);
        assert_eq!(suffix_list().tlds.len(), TLD_COUNT);
        for (tld, rules) in groups {
            let mut text = String::from(SECTION);
            push_rules(&mut text, tld, rules);
            let group: List = text.parse().unwrap();
            assert!(!group.is_empty(), "{text}");
        }
        let mut names = vec![
            "gmail.cmo".to_string(),
            "a.b.c.zz".to_string(),
            "x.*.ck".into(),
        ];
        for rule in &rules {
            let rule = rule.trim_start_matches('!');
            for prefix in ["", "x.", "mail.x.", "a.b.x."] {
                names.push(format!("{prefix}{}", rule.replace('*', "w")));
            }
            let tld = rule.rsplit('.').next().unwrap();
            names.push(format!("qqq.{tld}"));
            names.push(format!("a.qqq.{tld}"));
        }
        for name in &names {
            let want = whole
                .suffix(name.as_bytes())
                .map(|s| (s.as_bytes().len(), s.is_known()))
                .unwrap();
            assert_eq!(suffix_of(name), want, "{name}");
        }
    }

    #[test]
    fn parse_all_fills_every_group() {
        parse_all();
        for t in suffix_list().tlds.values().filter(|t| !t.bare_only()) {
            assert!(t.list.get().is_some());
            if !t.grouped.is_empty() {
                assert!(t.seconds().lists.iter().all(|l| l.get().is_some()));
            }
        }
    }

    #[test]
    fn idn_both_forms() {
        let d = normalize("BÜCHER.de").unwrap();
        assert_eq!(d.ascii, "xn--bcher-kva.de");
        assert_eq!(d.unicode, "bücher.de");
        let d = normalize("xn--bcher-kva.de").unwrap();
        assert_eq!(d.unicode, "bücher.de");
        let d = normalize("\u{430}rmy.mil").unwrap();
        assert_eq!(d.unicode, "\u{430}rmy.mil");
        assert!(d.ascii.starts_with("xn--"));
    }

    #[test]
    fn invalid_domains_are_named() {
        assert!(normalize("a..b").unwrap_err().contains("empty label"));
        assert!(normalize("a b.com").unwrap_err().contains("' '"));
        assert!(normalize(&"a".repeat(64)).unwrap_err().contains("63"));
        assert!(normalize("-x.com").unwrap_err().contains("'-x'"));
        assert!(normalize("[1.2.3.4]").unwrap_err().contains("literal"));
        assert!(is_known_suffix("co.uk") && is_known_suffix("ml") && !is_known_suffix("cmo"));
    }
}
