//! The Public Suffix List: where a domain's public suffix begins (`mil`, `co.uk`, `gov.uk`), from
//! the vendored list (`data/public_suffix_list.dat`), parsed a top-level domain at a time.

use std::sync::OnceLock;

use publicsuffix::{List, Psl};

use crate::hasher::FastMap;

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
pub(crate) fn suffix_of(ascii: &str) -> (usize, bool) {
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
    use crate::domain::normalize;

    #[test]
    fn deeper_suffixes_only_under_top_level_domains_that_have_them() {
        assert!(
            has_deeper_suffixes("uk") && has_deeper_suffixes("au") && has_deeper_suffixes("jp")
        );
        assert!(!has_deeper_suffixes("com") && !has_deeper_suffixes("mil"));
        assert!(!has_deeper_suffixes("notatld"));
        assert!(is_known_suffix("co.uk") && is_known_suffix("ml") && !is_known_suffix("cmo"));
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
}
