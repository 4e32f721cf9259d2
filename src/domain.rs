//! Domain names: normalisation (UTS #46 via `idna`), validation, and the split into
//! subdomain / registrable label / public suffix with the vendored Public Suffix List.

use std::sync::OnceLock;

use publicsuffix::{List, Psl};

use crate::index::FastMap;

/// The ICANN rules of the vendored list (see `data/README.md`) as `build.rs` embeds them: comments
/// stripped, internationalised rules in their `xn--` form (names are looked up in ASCII form), and
/// grouped (see [`SuffixList`]; each group is a mark, `|` or `/`, then its rules, a line each). Mail goes to
/// registered domains, and the private section lists hosting platforms (`blogspot.com`, ...).
const PSL_TEXT: &str = include_str!(concat!(env!("OUT_DIR"), "/psl_icann.dat"));
/// The section marker a list text needs in front of its rules (the parser files rules under the
/// section they stand in).
const SECTION: &str = "// ===BEGIN ICANN DOMAINS===\n";

/// The suffix list, split so that a process parses only what the names it meets need.
///
/// Deciding the suffix of `x.b.tld` takes only the rules `tld`, `*.tld` and those ending in
/// `b.tld` (`b.tld`, `*.b.tld`, `!x.b.tld`, ...): a rule matches a name only if its labels match
/// the name's last labels. So `build.rs` groups the rules by top-level label, and those of the few
/// top-level domains with many rules (`jp`, `no`, `it`, ...) by their last two labels; a name is
/// split by a `publicsuffix` list of its groups (`tld`, `*.tld`, `b.tld`, those that exist),
/// parsed on first use and kept. A unit test checks this against the whole list for every rule.
/// Parsing all ~7,000 rules at start-up took most of the browser module's start-up time; the
/// default policy's ~950 domains need a few hundred.
struct SuffixList {
    /// Per top-level label: the indexes of its own group (`jp`) and of its wildcard group
    /// (`*.ck`).
    tlds: FastMap<&'static str, (Option<usize>, Option<usize>)>,
    /// Per two-label key (`kawasaki.jp`): the index of its group.
    seconds: FastMap<&'static str, usize>,
    /// The rules of each group, a rule a line.
    groups: Vec<&'static str>,
    /// Per group: the list that splits names under its key (for a top-level group, the names
    /// under it with no group of their own).
    lists: Vec<OnceLock<List>>,
}

impl SuffixList {
    fn list(&self, at: usize, parts: [Option<usize>; 3]) -> &List {
        self.lists[at].get_or_init(|| {
            let mut text = String::from(SECTION);
            for i in parts.into_iter().flatten() {
                text.push_str(self.groups[i]);
                text.push('\n');
            }
            // The groups are known to parse (a unit test parses them all); an empty list is the
            // conservative fallback that keeps the engine alive rather than panicking.
            text.parse().unwrap_or_default()
        })
    }
}

fn suffix_list() -> &'static SuffixList {
    static LIST: OnceLock<SuffixList> = OnceLock::new();
    LIST.get_or_init(|| {
        // One pass over the bytes for the groups' marks.
        let bytes = PSL_TEXT.as_bytes();
        let mut starts = Vec::with_capacity(4096);
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'|' || b == b'/' {
                starts.push(i);
            }
        }
        let n = starts.len();
        let mut sl = SuffixList {
            tlds: FastMap::with_capacity_and_hasher(n, Default::default()),
            seconds: FastMap::with_capacity_and_hasher(n, Default::default()),
            groups: Vec::with_capacity(n),
            lists: Vec::with_capacity(n),
        };
        for (i, &start) in starts.iter().enumerate() {
            let end = starts.get(i + 1).copied().unwrap_or(bytes.len());
            let rules = PSL_TEXT.get(start + 1..end).unwrap_or("");
            let key = group_key(rules, bytes[start] == b'/');
            if let Some(tld) = key.strip_prefix("*.") {
                sl.tlds.entry(tld).or_default().1 = Some(i);
            } else if key.contains('.') {
                sl.seconds.insert(key, i);
            } else {
                sl.tlds.entry(key).or_default().0 = Some(i);
            }
            sl.groups.push(rules);
            sl.lists.push(OnceLock::new());
        }
        sl
    })
}

/// A group's key: the last label (or the last two) of its first rule.
fn group_key(rules: &str, two: bool) -> &str {
    let first = rules.split('\n').next().unwrap_or(rules);
    let first = first.strip_prefix('!').unwrap_or(first);
    let mut dots = if two { 2 } else { 1 };
    for (i, &b) in first.as_bytes().iter().enumerate().rev() {
        if b == b'.' {
            dots -= 1;
            if dots == 0 {
                return &first[i + 1..];
            }
        }
    }
    first
}

/// The public suffix of `ascii` (a lower-case ASCII name): its length in bytes and whether it is
/// on the list (else the last label, by the implicit `*` rule).
fn suffix_of(ascii: &str) -> (usize, bool) {
    let (rest, tld) = match ascii.rfind('.') {
        Some(i) => (&ascii[..i], &ascii[i + 1..]),
        None => ("", ascii),
    };
    let sl = suffix_list();
    let (own, wild) = sl.tlds.get(tld).copied().unwrap_or_default();
    let second = rest.rsplit('.').next().unwrap_or(rest);
    let group = if rest.is_empty() || second == "*" {
        None
    } else {
        // `second.tld`, the tail of `ascii`.
        let key = &ascii[ascii.len() - tld.len() - 1 - second.len()..];
        sl.seconds.get(key).copied()
    };
    let list = match (group, own, wild) {
        (Some(at), ..) => sl.list(at, [own, wild, group]),
        (None, Some(at), _) | (None, None, Some(at)) => sl.list(at, [own, wild, None]),
        (None, None, None) => return (tld.len(), false),
    };
    match list.suffix(ascii.as_bytes()) {
        Some(s) => (s.as_bytes().len(), s.is_known()),
        None => (tld.len(), false),
    }
}

/// Index the suffix list now (it is otherwise indexed on first use). Idempotent and cheap: the
/// groups themselves are parsed on first use.
pub(crate) fn warm_up() {
    let _ = suffix_list();
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
        let h = self.head();
        h.rsplit('.').next().unwrap_or(h)
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

/// Why a domain is not a usable domain name.
pub(crate) fn normalize(input: &str) -> Result<Domain, String> {
    let trimmed = input.trim();
    let d = trimmed.strip_suffix('.').unwrap_or(trimmed);
    if d.is_empty() {
        return Err("an empty domain".into());
    }
    if d.starts_with('[') {
        return Err(format!("'{d}' is an address literal, not a domain name"));
    }
    let ascii = if d.is_ascii() && !d.contains("xn--") && !d.contains("XN--") {
        d.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(d)
            .map_err(|_| format!("'{d}' is not a valid internationalised domain name (UTS #46)"))?
    };
    if ascii.len() > 253 {
        return Err(format!(
            "'{}' is {} characters long; a domain name has at most 253",
            crate::address::clip(d, 60),
            ascii.len()
        ));
    }
    for label in ascii.split('.') {
        if label.is_empty() {
            return Err(format!(
                "'{d}' has an empty label (two dots in a row, or a leading dot)"
            ));
        }
        if label.len() > 63 {
            return Err(format!(
                "a label of '{}' is {} characters; at most 63 are allowed",
                crate::address::clip(d, 60),
                label.len()
            ));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(format!(
                "'{d}' contains '{c}', which a domain name cannot hold"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "the label '{label}' of '{d}' starts or ends with '-'"
            ));
        }
    }
    let unicode = if ascii.contains("xn--") {
        let (u, r) = idna::domain_to_unicode(&ascii);
        if r.is_err() {
            return Err(format!("'{d}' holds invalid punycode"));
        }
        u
    } else {
        ascii.clone()
    };
    // A single label (`gmail`) has no suffix; treat the whole name as an unknown one.
    let (suffix_len, suffix_known) = if ascii.contains('.') {
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

/// Whether `s` (lower-case ASCII, no dots needed) is a public suffix on the list.
pub(crate) fn is_known_suffix(s: &str) -> bool {
    let (len, known) = suffix_of(s);
    known && len == s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let embedded: std::collections::HashSet<&str> = embedded_rules().into_iter().collect();
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

    /// Every rule of the embedded list, without the group keys.
    fn embedded_rules() -> Vec<&'static str> {
        PSL_TEXT
            .split(['|', '/'])
            .skip(1)
            .flat_map(|g| g.split('\n'))
            .collect()
    }

    #[test]
    fn grouped_lists_split_as_the_whole_list() {
        let rules = embedded_rules();
        let whole: List = format!("{SECTION}{}", rules.join("\n")).parse().unwrap();
        let sl = suffix_list();
        assert!(sl.groups.len() > 1000, "{} groups", sl.groups.len());
        for (i, text) in sl.groups.iter().enumerate() {
            let group: List = format!("{SECTION}{text}").parse().unwrap();
            assert!(!group.is_empty(), "group {i}: {text}");
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
