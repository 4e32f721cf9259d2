//! Embed only what the engine reads of the vendored Public Suffix List: the rules of its ICANN
//! section, without comments (about half the bytes, and half the parse at start-up, which
//! matters most in the browser). The dated original stays in `data/` as published.
use std::path::PathBuf;

fn main() {
    let src = "data/public_suffix_list.dat";
    println!("cargo:rerun-if-changed={src}");
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
        if !rule.is_empty() && !rule.starts_with("//") {
            out.push_str(rule);
            out.push('\n');
        }
    }
    out.push_str("// ===END ICANN DOMAINS===\n");
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("psl_icann.dat");
    std::fs::write(dest, out).expect("write the stripped suffix list");
}
