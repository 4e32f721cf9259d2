//! Embeds the case files and policies of this directory: every `cases/*.jsonl` and
//! `policies/*.json` is compiled into the crate (the browser has no filesystem), so a new file is
//! picked up without a code change.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == ext))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn table(name: &str, paths: &[PathBuf], strip: &str) -> String {
    let mut s = format!(
        "/// Embedded `{name}`: (file name, contents).\npub static {name}: &[(&str, &str)] = &[\n"
    );
    for p in paths {
        let file = p.file_name().and_then(|f| f.to_str()).unwrap_or_default();
        let key = file.strip_suffix(strip).unwrap_or(file);
        let _ = writeln!(
            s,
            "    ({key:?}, include_str!({:?})),",
            p.display().to_string()
        );
    }
    s.push_str("];\n");
    s
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    for d in ["cases", "policies"] {
        println!("cargo:rerun-if-changed={}", root.join(d).display());
    }
    let cases = files(&root.join("cases"), "jsonl");
    let policies = files(&root.join("policies"), "json");
    for p in cases.iter().chain(&policies) {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    let mut code = String::new();
    code.push_str(&table("CASE_FILES", &cases, ""));
    code.push_str(&table("POLICY_FILES", &policies, ".json"));
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("testdata.rs");
    if let Err(e) = std::fs::write(&out, code) {
        println!("cargo:warning=cannot write {}: {e}", out.display());
        std::process::exit(1);
    }
}
