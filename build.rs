//! Embed only what the engine reads of the vendored Public Suffix List: the rules of its ICANN
//! section, without comments, each in its ASCII (punycode) form.
//!
//! Mail goes to registered domains, and the private section lists hosting platforms
//! (`blogspot.com`, ...), so only the ICANN section is kept. The engine looks suffixes up in the
//! ASCII form of a name, so internationalised rules (`公司.cn`) are stored as the `xn--` labels
//! UTS #46 gives them, encoded here once (RFC 3492) instead of at every start-up: the list then
//! parses without calling IDNA for each of its thousands of rules, which was most of the browser
//! module's start-up time. A unit test in `src/domain.rs` checks each encoded rule against `idna`.
//! The dated original stays in `data/` as published.
use std::path::PathBuf;

fn main() {
    let src = "data/public_suffix_list.dat";
    println!("cargo:rerun-if-changed={src}");
    println!("cargo:rerun-if-changed=build.rs");
    let text =
        std::fs::read_to_string(src).expect("data/public_suffix_list.dat is vendored in the repo");
    let start = text
        .find("// ===BEGIN ICANN DOMAINS===")
        .expect("ICANN section start");
    let end = text
        .find("// ===END ICANN DOMAINS===")
        .expect("ICANN section end");
    // The section markers stay: the parser files rules under the section they stand in.
    let mut out = String::with_capacity(end - start);
    out.push_str("// ===BEGIN ICANN DOMAINS===\n");
    for line in text[start..end].lines() {
        let rule = line.split_whitespace().next().unwrap_or("");
        if rule.is_empty() || rule.starts_with("//") {
            continue;
        }
        let mut first = true;
        for label in rule.split('.') {
            if !first {
                out.push('.');
            }
            first = false;
            if label.is_ascii() {
                out.push_str(&label.to_ascii_lowercase());
            } else {
                out.push_str("xn--");
                out.push_str(&punycode(label));
            }
        }
        out.push('\n');
    }
    out.push_str("// ===END ICANN DOMAINS===\n");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out_dir.join("psl_icann.dat"), out).expect("write the stripped suffix list");
    confusables(&out_dir);
}

/// Pack `data/confusables.txt` into the three tables `src/uts39.rs` searches: sorted code points,
/// the end offset of each one's prototype, and all prototypes in one string.
fn confusables(out_dir: &std::path::Path) {
    let src = "data/confusables.txt";
    println!("cargo:rerun-if-changed={src}");
    let text = std::fs::read_to_string(src).expect("data/confusables.txt is in the repo");
    let mut keys = Vec::new();
    let mut ends = Vec::new();
    let mut prototypes = String::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (key, proto) = line.split_once('\t').expect("code point<TAB>prototype");
        let key = u32::from_str_radix(key, 16).expect("hexadecimal code point");
        assert!(keys.last().is_none_or(|&k| k < key), "sorted, at {line}");
        for p in proto.split_whitespace() {
            let p = u32::from_str_radix(p, 16).expect("hexadecimal code point");
            prototypes.push(char::from_u32(p).expect("a scalar value"));
        }
        keys.push(key);
        ends.push(u16::try_from(prototypes.len()).expect("prototypes fit u16 offsets"));
    }
    let list = |v: &[String]| v.join(",");
    let code = format!(
        "static CONFUSABLE_KEYS: [u32; {n}] = [{keys}];\n\
         static CONFUSABLE_ENDS: [u16; {n}] = [{ends}];\n\
         static CONFUSABLE_PROTOTYPES: &str = {prototypes:?};\n",
        n = keys.len(),
        keys = list(&keys.iter().map(u32::to_string).collect::<Vec<_>>()),
        ends = list(&ends.iter().map(u16::to_string).collect::<Vec<_>>()),
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
