//! Embed only what the engine reads of the vendored Public Suffix List: the rules of its ICANN
//! section, without comments, each in its ASCII (punycode) form.
//!
//! Mail goes to registered domains, and the private section lists hosting platforms
//! (`blogspot.com`, ...), so only the ICANN section is kept. The engine looks suffixes up in the
//! ASCII form of a name, so internationalised rules (`公司.cn`) are stored as the `xn--` labels
//! UTS #46 gives them, encoded here once (RFC 3492) instead of at every start-up: the list then
//! parses without calling IDNA for each of its thousands of rules. The rules are grouped (by
//! top-level domain, and the largest ones by their last two labels) so that each group can be
//! parsed on first use. A unit test in `src/suffix_list.rs`
//! checks each encoded rule against `idna`, and the grouped lookups against the whole list.
//! The dated original stays in `data/` as published.
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
    // Rules grouped by top-level domain, and the largest top-level domains by their last two
    // labels: `src/suffix_list.rs` parses the groups a name needs the first time such a name is
    // looked up, so start-up parses nothing and a process parses only the few groups it meets.
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
    let tld = |labels: &[String]| labels[labels.len() - 1].trim_start_matches('!').to_string();
    let mut per_tld: std::collections::HashMap<String, usize> = Default::default();
    for labels in &rules {
        *per_tld.entry(tld(labels)).or_default() += 1;
    }
    // Per top-level label: the rules keyed by it alone (all of them for most top-level domains;
    // only the bare rule for the few with many rules: `jp`, `no`, `it`, ...), and for those few,
    // groups keyed by the label left of it (`kawasaki` for `kawasaki.jp`, `*.kawasaki.jp`, ...;
    // `*` for a `*.tld` rule). Rules are stored without the top-level label (the bare rule as an empty
    // line), which gzips better.
    type Groups = std::collections::BTreeMap<String, Vec<String>>;
    let mut tlds: std::collections::BTreeMap<String, (Vec<String>, Groups)> = Default::default();
    for labels in &rules {
        let top = tld(labels);
        let short: String = labels[..labels.len() - 1].join(".");
        let entry = tlds.entry(top.clone()).or_default();
        if per_tld[&top] > 16 && labels.len() > 1 {
            let second = labels[labels.len() - 2].trim_start_matches('!').to_string();
            entry.1.entry(second).or_default().push(short);
        } else {
            entry.0.push(short);
        }
    }
    // Each top-level domain: '|', its label, then a line feed and its own rules if it has any;
    // then each group of it: '/' and the group's rules. No rule holds '|' or '/'.
    let mut out = String::new();
    for (top, (own, groups)) in &tlds {
        out.push('|');
        out.push_str(top);
        if !own.is_empty() {
            out.push('\n');
            out.push_str(&own.join("\n"));
        }
        for rules in groups.values() {
            out.push('/');
            out.push_str(&rules.join("\n"));
        }
    }
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out_dir.join("psl_icann.dat"), out).expect("write the stripped suffix list");
    std::fs::write(out_dir.join("psl_tld_count.rs"), tlds.len().to_string())
        .expect("write the top-level domain count");
    default_policy(&out_dir, &rules);
    confusables(&out_dir);
}

/// The embedded default policy, prepared: one sorted table, a line per name or suffix pattern
/// (`name TAB classes`, where classes are `k`nown, `t`rusted and `p`rotected, then for a domain
/// `TAB suffix-length TAB 1|0` with its public suffix, split here by `publicsuffix` from the
/// rules above, as the runtime splits names). The engine
/// then builds its default without JSON and without parsing any part of the suffix list (the
/// browser does this at every start). Unit tests check the table against the JSON parser and
/// every split against the runtime's own.
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
    let mut table: std::collections::BTreeMap<String, String> = Default::default();
    for (key, class) in [("known", 'k'), ("trusted", 't'), ("protected", 'p')] {
        let items = v[key]
            .as_array()
            .unwrap_or_else(|| panic!("default policy: '{key}' is a list"));
        for x in items {
            let s = x.as_str().expect("default policy entries are strings");
            assert!(
                s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.*".contains(&b)),
                "default policy: '{s}' must be written in lower-case ASCII"
            );
            let classes = table.entry(s.to_string()).or_default();
            if !classes.contains(class) {
                classes.push(class);
            }
        }
    }
    let mut lines = String::new();
    for (name, classes) in &table {
        lines.push_str(name);
        lines.push('\t');
        lines.push_str(classes);
        if !name.starts_with('*') && !name.contains("xn--") {
            let s = list
                .suffix(name.as_bytes())
                .unwrap_or_else(|| panic!("default policy: '{name}' has no suffix"));
            lines.push_str(&format!(
                "\t{}\t{}",
                s.as_bytes().len(),
                u8::from(s.is_known())
            ));
        }
        lines.push('\n');
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
/// before, the byte length of each one's prototype, and all prototypes in one string (about half
/// the compressed size of arrays of code points and offsets).
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
        let mut delta = key - last;
        last = key;
        loop {
            let byte = (delta & 0x7f) as u8;
            delta >>= 7;
            if delta == 0 {
                deltas.push(byte);
                break;
            }
            deltas.push(byte | 0x80);
        }
        let before = prototypes.len();
        for p in proto.split_whitespace() {
            let p = u32::from_str_radix(p, 16).expect("hexadecimal code point");
            prototypes.push(char::from_u32(p).expect("a scalar value"));
        }
        lens.push(u8::try_from(prototypes.len() - before).expect("a prototype of under 256 bytes"));
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
