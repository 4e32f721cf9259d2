//! The CLI examples of the README and of every page in `docs/`, run as written: every
//! ```console block's `$ ` lines are run with `sh -c` (the built `mistype` first on PATH) and
//! their standard output compared with the lines that follow.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `README.md` and `docs/*.md`, in name order.
fn documents() -> Vec<PathBuf> {
    // The repository's root: the CLI's crate is `cli/`.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ is inside the repository");
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    docs.insert(0, root.join("README.md"));
    docs
}

#[test]
fn readme_console_examples_hold() {
    let ran: usize = documents().iter().map(|d| console_examples_hold(d)).sum();
    assert!(ran >= 4, "only {ran} console examples found");
}

/// Runs the console examples of one document; how many it ran.
fn console_examples_hold(doc: &Path) -> usize {
    let text = std::fs::read_to_string(doc).unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_mistype"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    let mut in_block = false;
    let mut current: Option<(String, Vec<String>)> = None;
    let mut examples = Vec::new();
    for line in text.lines() {
        if line.starts_with("```console") {
            in_block = true;
            continue;
        }
        if in_block && line.starts_with("```") {
            in_block = false;
            examples.extend(current.take());
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            examples.extend(current.take());
            current = Some((cmd.to_string(), Vec::new()));
        } else if let Some((_, out)) = current.as_mut() {
            out.push(line.to_string());
        }
    }
    for (cmd, expected) in examples {
        let out = Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .env("PATH", &path)
            .env_remove("NO_COLOR")
            .output()
            .expect("run sh");
        let got = String::from_utf8_lossy(&out.stdout);
        let got: Vec<&str> = got.lines().collect();
        assert_eq!(
            got,
            expected,
            "{} example `{cmd}` printed something else",
            doc.display()
        );
        ran += 1;
    }
    ran
}
