//! For the `large-code` variant: 3,000 distinct small functions and a table of them, written to
//! `$OUT_DIR/large_code.rs` (the floor and the other variants do not include it).

use std::fmt::Write as _;

const FUNCTIONS: u64 = 3_000;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_LARGE_CODE").is_none() {
        return;
    }
    let mut code = String::new();
    for i in 0..FUNCTIONS {
        // Constants that differ per function, so that no two bodies are merged.
        let a = (i.wrapping_mul(2_654_435_761) % (1 << 32)) | 1;
        let b = (i * 40_503 + 7) % (1 << 32);
        let _ = writeln!(
            code,
            "#[inline(never)] fn f{i}(x: u64) -> u64 {{ let mut y = x.wrapping_mul({a}).rotate_left({r}) ^ {b}; \
             y = y.wrapping_add(y >> {s}).wrapping_mul({c}); \
             if y & {bit} != 0 {{ y ^= {a} << 7 }} else {{ y = y.wrapping_sub({b}) }} y.rotate_right({t}) }}",
            r = i % 63 + 1,
            s = i % 29 + 3,
            c = b | 1,
            bit = 1u64 << (i % 16),
            t = i % 31 + 1,
        );
    }
    let names: Vec<String> = (0..FUNCTIONS).map(|i| format!("f{i}")).collect();
    let _ = writeln!(
        code,
        "pub static FUNCTIONS: [fn(u64) -> u64; {FUNCTIONS}] = [{}];",
        names.join(", ")
    );
    let out = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".to_string());
    if let Err(e) = std::fs::write(format!("{out}/large_code.rs"), code) {
        panic!("cannot write {out}/large_code.rs: {e}");
    }
}
