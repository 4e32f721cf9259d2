//! The Public Suffix List: where a domain's public suffix begins (`mil`, `co.uk`, `gov.uk`), from
//! the vendored list (`data/public_suffix_list.dat`), searched a top-level domain at a time.

use std::hash::Hasher;
use std::sync::OnceLock;

use hashbrown::HashTable;

use crate::hasher::FastHasher;

/// The ICANN rules of the vendored list (see `data/README.md`) as `build.rs` embeds them: the tree
/// of their labels, right to left, internationalised labels in their `xn--` form (names are looked
/// up in ASCII form). Each list of sibling labels is sorted and front-coded: an upper-case letter
/// (`A` + the number of leading bytes shared with the label before), `!` for an exception rule,
/// the rest of the label, `?` when the label is no rule itself, and its children between `{` and
/// `}`. The top-level labels are the outermost list. Mail goes to registered domains, and the
/// private section lists hosting platforms (`blogspot.com`, ...).
const TRIE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/psl_trie.dat"));
/// The number of top-level labels in `TRIE`.
const TLD_COUNT: usize = include!(concat!(env!("OUT_DIR"), "/psl_tld_count.rs"));

/// The parent of the labels at the top of a [`Labels`].
const TOP: u32 = u32::MAX;

/// What the labels down to a node are.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// No rule: only the way to deeper ones (`kawasaki.jp` on the way to `*.kawasaki.jp`).
    Step,
    Rule,
    /// An exception rule (`!city.kawasaki.jp`): the suffix is what is right of the label.
    Exception,
}

/// One label of the tree.
struct Node {
    /// The node above it, or [`TOP`].
    parent: u32,
    /// Its text in [`Labels::text`].
    start: u32,
    len: u32,
    kind: Kind,
    /// Where its children are encoded in `TRIE` (empty when it has none), for a top-level label;
    /// below the top level, children are decoded with their parents.
    children: (u32, u32),
}

/// Labels decoded from a part of `TRIE`: their text, their nodes, and a table from a (parent,
/// label) pair to the node, so that each step down the tree is one hash lookup.
struct Labels {
    text: Vec<u8>,
    nodes: Vec<Node>,
    table: HashTable<u32>,
}

fn hash(parent: u32, label: &[u8]) -> u64 {
    let mut h = FastHasher::default();
    h.write_u32(parent);
    h.write(label);
    h.finish()
}

impl Labels {
    /// Decode the sibling list encoded at `range`: with `deep`, every label under it too; else the
    /// list alone, each label keeping where its children are encoded. A plain loop over the bytes:
    /// the browser runs this before it has optimised anything.
    #[cold]
    #[inline(never)]
    fn decode((start, end): (u32, u32), deep: bool, capacity: usize) -> Labels {
        let mut l = Labels {
            text: Vec::with_capacity(capacity * 8),
            nodes: Vec::with_capacity(capacity),
            table: HashTable::with_capacity(capacity),
        };
        let bytes = TRIE.get(start as usize..end as usize).unwrap_or_default();
        // The parent of the list being read, the label before in it, and the same for the lists
        // above (while reading children).
        let mut parent = TOP;
        let mut prev = (0usize, 0usize);
        let mut above: Vec<(u32, (usize, usize))> = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            i += 1;
            if c == b'}' {
                (parent, prev) = above.pop().unwrap_or((TOP, (0, 0)));
                continue;
            }
            if !c.is_ascii_uppercase() {
                // Not written by build.rs; a unit test decodes the whole tree.
                continue;
            }
            let shared = usize::from(c - b'A').min(prev.1);
            let mut kind = Kind::Rule;
            if bytes.get(i) == Some(&b'!') {
                kind = Kind::Exception;
                i += 1;
            }
            let label_start = l.text.len();
            l.text.extend_from_within(prev.0..prev.0 + shared);
            while let Some(&b) = bytes.get(i) {
                if !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'*') {
                    break;
                }
                l.text.push(b);
                i += 1;
            }
            if bytes.get(i) == Some(&b'?') {
                kind = Kind::Step;
                i += 1;
            }
            let id = l.nodes.len() as u32;
            let len = l.text.len() - label_start;
            let mut node = Node {
                parent,
                start: label_start as u32,
                len: len as u32,
                kind,
                children: (0, 0),
            };
            prev = (label_start, len);
            if bytes.get(i) == Some(&b'{') {
                i += 1;
                if deep {
                    above.push((parent, prev));
                    (parent, prev) = (id, (0, 0));
                } else {
                    let first = i;
                    let mut depth = 1;
                    while i < bytes.len() && depth > 0 {
                        match bytes[i] {
                            b'{' => depth += 1,
                            b'}' => depth -= 1,
                            _ => {}
                        }
                        i += 1;
                    }
                    node.children = (start + first as u32, start + i as u32 - 1);
                }
            }
            let h = hash(node.parent, &l.text[label_start..]);
            l.nodes.push(node);
            let (nodes, text) = (&l.nodes, &l.text);
            l.table.insert_unique(h, id, |&n| {
                let n = &nodes[n as usize];
                hash(
                    n.parent,
                    &text[n.start as usize..(n.start + n.len) as usize],
                )
            });
        }
        l
    }

    /// The node for `label` under `parent`.
    fn get(&self, parent: u32, label: &str) -> Option<u32> {
        self.table
            .find(hash(parent, label.as_bytes()), |&n| {
                let n = &self.nodes[n as usize];
                n.parent == parent
                    && self.text.get(n.start as usize..(n.start + n.len) as usize)
                        == Some(label.as_bytes())
            })
            .copied()
    }
}

/// The suffix list: its top-level labels, decoded on first use, and the labels under each,
/// decoded the first time a name under it is looked up. Names under the ~1,300 top-level domains
/// whose only rule is the label itself (`com`, `de`, `mil`) need nothing more. Start-up decodes
/// nothing; the default policy's names come split from `build.rs`.
struct SuffixList {
    top: Labels,
    below: Vec<OnceLock<Labels>>,
}

fn suffix_list() -> &'static SuffixList {
    static LIST: OnceLock<SuffixList> = OnceLock::new();
    LIST.get_or_init(|| SuffixList {
        top: Labels::decode((0, TRIE.len() as u32), false, TLD_COUNT),
        below: (0..TLD_COUNT).map(|_| OnceLock::new()).collect(),
    })
}

impl SuffixList {
    /// The labels under top-level label `t`.
    fn below(&self, t: u32) -> Option<&Labels> {
        let node = self.top.nodes.get(t as usize)?;
        let cell = self.below.get(t as usize)?;
        Some(cell.get_or_init(|| {
            let (start, end) = node.children;
            Labels::decode((start, end), true, (end - start) as usize / 6)
        }))
    }
}

/// The public suffix of `ascii` (a lower-case ASCII name): its length in bytes and whether it is
/// on the list (else the last label, by the implicit `*` rule). The algorithm of the list's
/// definition: the matching rule with the most labels, `*` matching any one label, an exception
/// rule ending the suffix right of its first label.
pub(crate) fn suffix_of(ascii: &str) -> (usize, bool) {
    // (A byte search: the character searcher's code is more than this whole lookup.)
    let (rest, tld) = match ascii.bytes().rposition(|b| b == b'.') {
        Some(i) => (Some(&ascii[..i]), &ascii[i + 1..]),
        None => (None, ascii),
    };
    let list = suffix_list();
    let Some(t) = list.top.get(TOP, tld) else {
        return (tld.len(), false);
    };
    let node = &list.top.nodes[t as usize];
    let (mut len, mut known) = (tld.len(), node.kind == Kind::Rule);
    let Some(rest) = rest.filter(|_| node.children.0 < node.children.1) else {
        return (len, known);
    };
    let Some(below) = list.below(t) else {
        return (len, known);
    };
    let mut so_far = len;
    let mut parent = TOP;
    for label in rest.rsplit('.') {
        let Some(n) = below.get(parent, label).or_else(|| below.get(parent, "*")) else {
            break;
        };
        match below.nodes[n as usize].kind {
            Kind::Rule => (len, known) = (so_far + 1 + label.len(), true),
            Kind::Exception => return (so_far, true),
            Kind::Step => {}
        }
        so_far += 1 + label.len();
        parent = n;
    }
    (len, known)
}

/// Decode the whole suffix list now, for hosts where start-up is cheap and the first request
/// under each top-level domain should not pay for its part (the proxy filter). Idempotent.
pub(crate) fn parse_all() {
    let sl = suffix_list();
    for t in 0..sl.top.nodes.len() as u32 {
        let _ = sl.below(t);
    }
}

/// Whether the top-level domain `tld` has suffixes of two or more labels under it (`uk`:
/// `co.uk`, `gov.uk`), so that a name there could have run into one (`modgov.uk`).
pub(crate) fn has_deeper_suffixes(tld: &str) -> bool {
    let top = &suffix_list().top;
    top.get(TOP, tld).is_some_and(|t| {
        let n = &top.nodes[t as usize];
        n.children.0 < n.children.1
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
    use crate::domain::normalize;
    use publicsuffix::Psl;

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
        // Wildcards and exceptions: `*.kawasaki.jp`, `!city.kawasaki.jp`; `*.ck`, `!www.ck`
        // (`ck` itself is no rule).
        assert_eq!(suffix_of("a.b.kawasaki.jp"), (13, true));
        assert_eq!(suffix_of("city.kawasaki.jp"), (11, true));
        assert_eq!(suffix_of("x.ck"), (4, true));
        assert_eq!(suffix_of("www.ck"), (2, true));
        assert_eq!(suffix_of("ck"), (2, false));
    }

    /// The ICANN rules of the vendored list, each label as UTS #46 gives it in ASCII.
    fn vendored_rules() -> Vec<String> {
        let original = include_str!("../data/public_suffix_list.dat");
        let start = original.find("// ===BEGIN ICANN DOMAINS===").unwrap();
        let end = original.find("// ===END ICANN DOMAINS===").unwrap();
        let mut rules = Vec::new();
        for line in original[start..end].lines() {
            let rule = line.split_whitespace().next().unwrap_or("");
            if rule.is_empty() || rule.starts_with("//") {
                continue;
            }
            let (prefix, name) = match rule.strip_prefix('!') {
                Some(n) => ("!", n),
                None => ("", rule),
            };
            let ascii = if name.is_ascii() {
                name.to_ascii_lowercase()
            } else {
                idna::domain_to_ascii(name).unwrap()
            };
            rules.push(format!("{prefix}{ascii}"));
        }
        rules
    }

    /// Every rule of the embedded tree, decoded.
    fn embedded_rules() -> Vec<String> {
        fn label(l: &Labels, n: u32) -> &str {
            let node = &l.nodes[n as usize];
            std::str::from_utf8(&l.text[node.start as usize..][..node.len as usize]).unwrap()
        }
        fn name(l: &Labels, mut n: u32, tld: &str) -> String {
            let mut labels = Vec::new();
            while n != TOP {
                labels.push(label(l, n));
                n = l.nodes[n as usize].parent;
            }
            labels.push(tld);
            labels.join(".")
        }
        parse_all();
        let sl = suffix_list();
        let mut out = Vec::new();
        for t in 0..sl.top.nodes.len() as u32 {
            let tld = label(&sl.top, t);
            if sl.top.nodes[t as usize].kind == Kind::Rule {
                out.push(tld.to_string());
            }
            let below = sl.below(t).unwrap();
            for (n, node) in below.nodes.iter().enumerate() {
                match node.kind {
                    Kind::Rule => out.push(name(below, n as u32, tld)),
                    Kind::Exception => out.push(format!("!{}", name(below, n as u32, tld))),
                    Kind::Step => {}
                }
            }
        }
        out
    }

    #[test]
    fn embedded_rules_are_the_idna_forms_of_the_vendored_ones() {
        let vendored = vendored_rules();
        let idn = vendored.iter().filter(|r| r.contains("xn--")).count();
        assert!(
            vendored.len() > 6000 && idn > 300,
            "{} rules, {idn} internationalised",
            vendored.len()
        );
        let mut embedded = embedded_rules();
        let mut want = vendored.clone();
        embedded.sort();
        want.sort();
        want.dedup();
        assert_eq!(embedded, want);
        assert_eq!(suffix_list().top.nodes.len(), TLD_COUNT);
        // An internationalised suffix is found by the ASCII name normalize gives.
        let d = normalize("例え.公司.cn").unwrap();
        assert_eq!(d.suffix(), "xn--55qx5d.cn");
        assert!(d.suffix_known);
    }

    #[test]
    fn lookups_split_as_the_whole_list() {
        let rules = vendored_rules();
        let whole: publicsuffix::List =
            format!("// ===BEGIN ICANN DOMAINS===\n{}", rules.join("\n"))
                .parse()
                .unwrap();
        let mut names = vec![
            "gmail.cmo".to_string(),
            "a.b.c.zz".to_string(),
            "x.*.ck".into(),
            "a..ck".into(),
        ];
        for rule in &rules {
            let rule = rule.trim_start_matches('!');
            for prefix in ["", "x.", "mail.x.", "a.b.x.", "*."] {
                names.push(format!("{prefix}{}", rule.replace('*', "w")));
                names.push(format!("{prefix}{rule}"));
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
}
