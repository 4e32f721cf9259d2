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
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("psl_icann.dat");
    std::fs::write(dest, out).expect("write the stripped suffix list");
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
