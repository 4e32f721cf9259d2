//! Embed only what the engine reads of the vendored Public Suffix List: the rules of its ICANN
//! section, each in its ASCII (punycode) form, as a front-coded label tree.
//!
//! Mail goes to registered domains, and the private section lists hosting platforms
//! (`blogspot.com`, ...), so only the ICANN section is kept. The engine looks suffixes up in the
//! ASCII form of a name, so internationalised rules (`公司.cn`) are stored as the `xn--` labels
//! UTS #46 gives them, encoded here once (RFC 3492) instead of at every start-up. The rules are
//! stored as the tree of their labels, right to left (see [`write_trie`]), which
//! `src/suffix_list.rs` searches a top-level domain at a time, decoded on first use. Unit tests
//! in `src/suffix_list.rs` check each encoded rule against `idna`, and every lookup against the
//! whole list as the `publicsuffix` crate reads it. The dated original stays in `data/` as
//! published.
use std::collections::BTreeMap;
use std::path::PathBuf;

fn main() {
    let src = "data/public_suffix_list.dat";
    println!("cargo:rerun-if-changed={src}");
    println!("cargo:rerun-if-changed=build.rs");
    let text =
        std::fs::read_to_string(src).expect("data/public_suffix_list.dat is vendored in the repo");
    // The list's own date (its `// VERSION: 2026-10-22_08-36-41_UTC` line) is the crate's
    // PUBLIC_SUFFIX_LIST_DATE, so the two cannot disagree.
    let date = text
        .lines()
        .find_map(|l| l.strip_prefix("// VERSION: "))
        .and_then(|v| v.get(..10))
        .expect("data/public_suffix_list.dat has a '// VERSION: YYYY-MM-DD' line");
    println!("cargo:rustc-env=MISTYPE_PSL_DATE={date}");
    let start = text
        .find("// ===BEGIN ICANN DOMAINS===")
        .expect("ICANN section start");
    let end = text
        .find("// ===END ICANN DOMAINS===")
        .expect("ICANN section end");
    let mut rules: Vec<Vec<String>> = Vec::new();
    for line in text[start..end].lines() {
        let rule = line.split_whitespace().next().unwrap_or("");
        if rule.is_empty() || rule.starts_with("//") {
            continue;
        }
        rules.push(
            rule.split('.')
                .map(|label| {
                    if label.is_ascii() {
                        label.to_ascii_lowercase()
                    } else {
                        format!("xn--{}", punycode(label))
                    }
                })
                .collect(),
        );
    }
    let mut root = TrieNode::default();
    for labels in &rules {
        let mut node = &mut root;
        for label in labels.iter().rev() {
            let label = label.trim_start_matches('!');
            assert!(
                label == "*"
                    || (!label.is_empty()
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')),
                "suffix list: unexpected label '{label}' in {labels:?}"
            );
            node = node.children.entry(label.to_string()).or_default();
        }
        node.kind = if labels[0].starts_with('!') {
            Kind::Exception
        } else {
            Kind::Rule
        };
    }
    let mut trie = String::new();
    write_trie(&root.children, &mut trie);
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out_dir.join("psl_trie.dat"), trie).expect("write the suffix list's tree");
    std::fs::write(
        out_dir.join("psl_tld_count.rs"),
        root.children.len().to_string(),
    )
    .expect("write the top-level domain count");
    default_policy(&out_dir, &rules);
    confusables(&out_dir);
    dotgov(&out_dir);
    lower_case(&out_dir);
    scripts(&out_dir);
}

/// The Script and Script_Extensions of every code point for `src/uts39.rs`, from the
/// `unicode-script` crate, which the core would otherwise link (its tables of ranges were about
/// 14 KB of the browser module as served). The real scripts (not Common, Inherited or Unknown)
/// are numbered in the crate's order; Common, Inherited and Unknown follow them. Each distinct
/// value is one entry of `SCRIPT_SETS`: the Script, then the Script_Extensions (255 for Common,
/// 254 for Inherited, else the number of scripts, then each). The code points come as ranges
/// of one entry: their first code points as LEB128 deltas (`SCRIPT_STARTS`) and their entries'
/// numbers as LEB128 (`SCRIPT_IDS`), the most frequent entries first. `SCRIPT_NAMES` holds the
/// full names, a line each, in the same order as the numbers.
fn scripts(out_dir: &std::path::Path) {
    use unicode_script::{Script, UnicodeScript};
    let special = |s: Script| matches!(s, Script::Common | Script::Inherited | Script::Unknown);
    let mut real: BTreeMap<u8, Script> = BTreeMap::new();
    for c in (0..=0x10ffff).filter_map(char::from_u32) {
        for s in std::iter::once(c.script()).chain(c.script_extension().iter()) {
            if !special(s) {
                real.insert(s as u8, s);
            }
        }
    }
    let count = u8::try_from(real.len()).expect("fewer than 256 scripts");
    assert!(count <= 192, "the core's script sets hold 192 scripts");
    let index: BTreeMap<u8, u8> = real.keys().zip(0..).map(|(&k, i)| (k, i)).collect();
    let number = |s: Script| match s {
        Script::Common => count,
        Script::Inherited => count + 1,
        Script::Unknown => count + 2,
        s => index[&(s as u8)],
    };
    let entry = |c: char| -> Vec<u8> {
        let mut e = vec![number(c.script())];
        let x = c.script_extension();
        if x.is_common() {
            e.push(255);
        } else if x.is_inherited() {
            e.push(254);
        } else {
            let list: Vec<u8> = x.iter().map(number).collect();
            assert!(list.iter().all(|&n| n < count), "{c:?}: {list:?}");
            e.push(list.len() as u8);
            e.extend(list);
        }
        e
    };
    // Ranges of one entry; a surrogate (no character) continues the range before it.
    let mut ranges: Vec<(u32, Vec<u8>)> = Vec::new();
    for cp in 0..=0x10ffffu32 {
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        let e = entry(c);
        if ranges.last().map(|r| &r.1) != Some(&e) {
            ranges.push((cp, e));
        }
    }
    let mut uses: BTreeMap<&Vec<u8>, usize> = BTreeMap::new();
    for (_, e) in &ranges {
        *uses.entry(e).or_default() += 1;
    }
    let mut by_use: Vec<(&Vec<u8>, usize)> = uses.into_iter().collect();
    by_use.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let ids: BTreeMap<&Vec<u8>, usize> = by_use.iter().zip(0..).map(|(e, i)| (e.0, i)).collect();
    let (mut starts, mut numbers, mut last) = (Vec::new(), Vec::new(), 0);
    for (start, e) in &ranges {
        leb128(start - last, &mut starts);
        last = *start;
        leb128(ids[e] as u32, &mut numbers);
    }
    let sets: Vec<u8> = by_use.iter().flat_map(|e| e.0.iter().copied()).collect();
    let mut names: Vec<&str> = real.values().map(|s| s.full_name()).collect();
    names.extend(["Common", "Inherited", "Unknown"]);
    let bytes = |v: &[u8]| v.iter().map(u8::to_string).collect::<Vec<_>>().join(",");
    let mut code = format!(
        "static SCRIPT_RANGES: usize = {};\n\
         static SCRIPT_STARTS: [u8; {}] = [{}];\n\
         static SCRIPT_IDS: [u8; {}] = [{}];\n\
         static SCRIPT_SETS: [u8; {}] = [{}];\n\
         static SCRIPT_NAMES: &str = {:?};\n",
        ranges.len(),
        starts.len(),
        bytes(&starts),
        numbers.len(),
        bytes(&numbers),
        sets.len(),
        bytes(&sets),
        names.join("\n"),
    );
    for (name, s) in [
        ("LATIN", Script::Latin),
        ("HAN", Script::Han),
        ("BOPOMOFO", Script::Bopomofo),
        ("HIRAGANA", Script::Hiragana),
        ("KATAKANA", Script::Katakana),
        ("HANGUL", Script::Hangul),
        ("SCRIPT_UNKNOWN", Script::Unknown),
    ] {
        code.push_str(&format!("const {name}: u8 = {};\n", number(s)));
    }
    std::fs::write(out_dir.join("scripts.rs"), code).expect("write the script tables");
}

/// `v` as LEB128: seven bits a byte, low first, the high bit set on all but the last.
fn leb128(mut v: u32, out: &mut Vec<u8>) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// `data/lower-case.txt` for `src/uts39.rs`: each character other than ASCII that can stand in a
/// skeleton and that Unicode lower-cases, with its lower case (see the file's header).
fn lower_case(out_dir: &std::path::Path) {
    let src = "data/lower-case.txt";
    println!("cargo:rerun-if-changed={src}");
    let text = std::fs::read_to_string(src).expect("data/lower-case.txt is in the repo");
    let mut entries = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (key, lower) = line.split_once('\t').expect("code point<TAB>lower case");
        let hex = |h: &str| {
            char::from_u32(u32::from_str_radix(h, 16).expect("hexadecimal code point"))
                .expect("a scalar value")
        };
        let lower: String = lower.split_whitespace().map(hex).collect();
        entries.push(format!("({:?}, {lower:?})", hex(key)));
    }
    let code = format!(
        "static LOWER_CASE: [(char, &str); {}] = [{}];\n",
        entries.len(),
        entries.join(", ")
    );
    std::fs::write(out_dir.join("lower_case.rs"), code).expect("write the lower-case table");
}

/// `data/dotgov-short.txt` for `src/registries.rs`: its names (sorted, no comments) front-coded
/// as the suffix list's labels are (see [`write_trie`]); the short names of one registry share
/// most of their first letters with the name before, which gzip encodes poorly.
fn dotgov(out_dir: &std::path::Path) {
    let src = "data/dotgov-short.txt";
    println!("cargo:rerun-if-changed={src}");
    let text = std::fs::read_to_string(src).expect("data/dotgov-short.txt is in the repo");
    let mut out = String::new();
    let mut prev = "";
    for name in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        assert!(
            prev < name
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "data/dotgov-short.txt: '{name}' (sorted, lower-case ASCII)"
        );
        front_code(prev, name, &mut out);
        prev = name;
    }
    std::fs::write(out_dir.join("dotgov_short.dat"), out).expect("write the .gov names");
}

/// What the labels from the top down to a node of the tree are.
#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Not a rule: only the way to deeper rules (`kawasaki.jp` on the way to `*.kawasaki.jp`).
    #[default]
    Step,
    Rule,
    /// An exception rule (`!city.kawasaki.jp`).
    Exception,
}

/// A node of the suffix list's label tree (labels right to left: `jp`, `kawasaki`, `*`).
#[derive(Default)]
struct TrieNode {
    kind: Kind,
    children: BTreeMap<String, TrieNode>,
}

/// The label tree as `src/suffix_list.rs` reads it. Each list of sibling labels is sorted, and
/// each label is front-coded against the one before it: an upper-case letter, `A` plus the
/// number of leading bytes it shares with that one (at most 25), then `!` for an exception rule,
/// then the rest of the label; then `?` when the label is no rule itself, and its children
/// between `{` and `}`. The top-level labels are the outermost list. Labels hold only `a-z`,
/// `0-9`, `-` and `*`, so no mark can be read as part of one. Sorted siblings share long
/// prefixes (`kita`, `kitaakita`, `kitagata`, ...) that gzip encodes poorly and the front coding
/// removes: the tree gzips to about four fifths of the plain rules.
fn write_trie(children: &BTreeMap<String, TrieNode>, out: &mut String) {
    let mut prev = "";
    for (label, node) in children {
        let shared = shared_prefix(prev, label);
        out.push(char::from(b'A' + shared as u8));
        if node.kind == Kind::Exception {
            out.push('!');
        }
        out.push_str(&label[shared..]);
        if node.kind == Kind::Step {
            out.push('?');
        }
        if !node.children.is_empty() {
            out.push('{');
            write_trie(&node.children, out);
            out.push('}');
        }
        prev = label;
    }
}

/// How many leading bytes `name` shares with `prev`, at most 25 (what an upper-case letter can
/// say).
fn shared_prefix(prev: &str, name: &str) -> usize {
    prev.bytes()
        .zip(name.bytes())
        .take_while(|(a, b)| a == b)
        .count()
        .min(25)
}

/// `name` front-coded against `prev`: `A` + the number of leading bytes they share, then the rest.
fn front_code(prev: &str, name: &str, out: &mut String) {
    let shared = shared_prefix(prev, name);
    out.push(char::from(b'A' + shared as u8));
    out.push_str(&name[shared..]);
}

/// The embedded default policy, prepared: one table of its names and suffix patterns, sorted
/// and front-coded as the suffix list's labels are (see [`write_trie`]), each followed by its
/// lists as one character (space + 1 for `known`, + 2 for `trusted`, + 4 for `protected`: `!`
/// to `'`) and, for a domain, a digit for its public suffix, split here by `publicsuffix` from the
/// rules above as the runtime splits names: the number of labels of a suffix on the list, or `0`
/// for a last label that is not on it. The engine then builds its default without JSON and
/// without any part of the suffix list (the browser does this at every start). Unit tests check
/// the table against the JSON parser and every split against the runtime's own.
fn default_policy(out_dir: &std::path::Path, rules: &[Vec<String>]) {
    let src = "data/default-policy.json";
    println!("cargo:rerun-if-changed={src}");
    let text = std::fs::read_to_string(src).expect("data/default-policy.json is in the repo");
    let v: serde_json::Value = serde_json::from_str(&text).expect("the default policy is JSON");
    use publicsuffix::Psl;
    let text_rules: Vec<String> = rules.iter().map(|r| r.join(".")).collect();
    let list: publicsuffix::List =
        format!("// ===BEGIN ICANN DOMAINS===\n{}", text_rules.join("\n"))
            .parse()
            .expect("the ICANN rules parse");
    let mut table: BTreeMap<String, u8> = Default::default();
    for (key, class) in [("known", 1), ("trusted", 2), ("protected", 4)] {
        let items = v[key]
            .as_array()
            .unwrap_or_else(|| panic!("default policy: '{key}' is a list"));
        for x in items {
            let s = x.as_str().expect("default policy entries are strings");
            assert!(
                !s.is_empty()
                    && s.bytes().all(|b| b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || b"-.*".contains(&b)),
                "default policy: '{s}' must be written in lower-case ASCII"
            );
            *table.entry(s.to_string()).or_default() |= class;
        }
    }
    let mut lines = String::new();
    let mut prev = "";
    for (name, &classes) in &table {
        front_code(prev, name, &mut lines);
        lines.push(char::from(b' ' + classes));
        if !name.starts_with('*') && !name.contains("xn--") {
            let s = list
                .suffix(name.as_bytes())
                .unwrap_or_else(|| panic!("default policy: '{name}' has no suffix"));
            let labels = s.as_bytes().split(|&b| b == b'.').count();
            let digit = if s.is_known() { labels } else { 0 };
            assert!(
                (1..=9).contains(&labels) && (s.is_known() || labels == 1),
                "default policy: the suffix of '{name}'"
            );
            lines.push(char::from(b'0' + digit as u8));
        }
        prev = name;
    }
    let rules_json = serde_json::to_string(&v["rules"]).expect("rules serialise");
    let out = format!(
        "// Generated by build.rs from data/default-policy.json.\n\
         pub(crate) const DEFAULT_TABLE: &str = {lines:?};\n\
         pub(crate) const DEFAULT_RULES: &str = {rules_json:?};\n"
    );
    std::fs::write(out_dir.join("default_policy.rs"), out).expect("write the default policy");
}

/// Pack `data/confusables.txt` for `src/uts39.rs`: the code points as LEB128 deltas from the one
/// before, the number of characters of each one's prototype, and all prototypes in one string
/// (about half the compressed size of arrays of code points and offsets; character counts, mostly
/// 1 and 2, compress to half of what byte lengths do).
fn confusables(out_dir: &std::path::Path) {
    let src = "data/confusables.txt";
    println!("cargo:rerun-if-changed={src}");
    let text = std::fs::read_to_string(src).expect("data/confusables.txt is in the repo");
    let mut deltas = Vec::new();
    let mut lens = Vec::new();
    let mut prototypes = String::new();
    let mut last = 0u32;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (key, proto) = line.split_once('\t').expect("code point<TAB>prototype");
        let key = u32::from_str_radix(key, 16).expect("hexadecimal code point");
        assert!(key > last || deltas.is_empty(), "sorted, at {line}");
        leb128(key - last, &mut deltas);
        last = key;
        let mut chars = 0u8;
        for p in proto.split_whitespace() {
            let p = u32::from_str_radix(p, 16).expect("hexadecimal code point");
            prototypes.push(char::from_u32(p).expect("a scalar value"));
            chars += 1;
        }
        lens.push(chars);
    }
    let bytes = |v: &[u8]| v.iter().map(u8::to_string).collect::<Vec<_>>().join(",");
    let code = format!(
        "static CONFUSABLE_COUNT: usize = {n};\n\
         static CONFUSABLE_DELTAS: [u8; {d}] = [{deltas}];\n\
         static CONFUSABLE_LENGTHS: [u8; {n}] = [{lens}];\n\
         static CONFUSABLE_PROTOTYPES: &str = {prototypes:?};\n",
        n = lens.len(),
        d = deltas.len(),
        deltas = bytes(&deltas),
        lens = bytes(&lens),
    );
    std::fs::write(out_dir.join("confusables.rs"), code).expect("write the confusables tables");
}

/// RFC 3492 Punycode of one label (its code points as given: the list's rules are already in the
/// lower-case NFC form UTS #46 maps them to).
fn punycode(label: &str) -> String {
    const BASE: u32 = 36;
    const T_MIN: u32 = 1;
    const T_MAX: u32 = 26;
    let code_points: Vec<u32> = label.chars().map(u32::from).collect();
    let mut out: String = label.chars().filter(char::is_ascii).collect();
    let basic = out.len() as u32;
    if basic > 0 {
        out.push('-');
    }
    let digit = |d: u32| -> char {
        let b = if d < 26 {
            b'a' + d as u8
        } else {
            b'0' + (d - 26) as u8
        };
        char::from(b)
    };
    let (mut n, mut delta, mut bias, mut handled) = (128u32, 0u32, 72u32, basic);
    while (handled as usize) < code_points.len() {
        let m = code_points
            .iter()
            .copied()
            .filter(|&c| c >= n)
            .min()
            .expect("a code point not yet handled");
        delta += (m - n) * (handled + 1);
        n = m;
        for &c in &code_points {
            if c < n {
                delta += 1;
            }
            if c == n {
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = if k <= bias {
                        T_MIN
                    } else if k >= bias + T_MAX {
                        T_MAX
                    } else {
                        k - bias
                    };
                    if q < t {
                        break;
                    }
                    out.push(digit(t + (q - t) % (BASE - t)));
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                out.push(digit(q));
                bias = adapt(delta, handled + 1, handled == basic);
                delta = 0;
                handled += 1;
            }
        }
        delta += 1;
        n += 1;
    }
    out
}

fn adapt(delta: u32, points: u32, first: bool) -> u32 {
    const BASE: u32 = 36;
    let mut delta = if first { delta / 700 } else { delta / 2 };
    delta += delta / points;
    let mut k = 0;
    while delta > ((BASE - 1) * 26) / 2 {
        delta /= BASE - 1;
        k += BASE;
    }
    k + (BASE * delta) / (delta + 38)
}
