//! Reading the shared corpus in `testdata/`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use mistype::{CheckRequest, Engine, Policy};
use serde_json::Value;

pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

#[derive(Debug, Clone)]
pub struct Case {
    pub file: String,
    pub name: String,
    pub policy: Option<String>,
    pub group: Option<String>,
    pub request: CheckRequest,
    pub expect: Value,
}

/// Every case of every `testdata/cases/*.jsonl`, files in name order, lines in file order.
pub fn cases() -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(testdata().join("cases"))
        .expect("testdata/cases")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let file = f.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&f).expect("read case file");
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{file}:{}: not JSON: {e}", i + 1));
            let request: CheckRequest = serde_json::from_value(v["request"].clone())
                .unwrap_or_else(|e| panic!("{file}:{}: bad request: {e}", i + 1));
            out.push(Case {
                file: file.clone(),
                name: v["name"].as_str().expect("name").to_string(),
                policy: v["policy"].as_str().map(str::to_string),
                group: v["group"].as_str().map(str::to_string),
                request,
                expect: v["expect"].clone(),
            });
        }
    }
    out
}

/// Engines by policy name, built once.
#[derive(Default)]
pub struct Engines(HashMap<Option<String>, Engine>);

impl Engines {
    pub fn get(&mut self, policy: &Option<String>) -> &Engine {
        self.0
            .entry(policy.clone())
            .or_insert_with(|| match policy {
                None => Engine::with_default_policy(),
                Some(name) => {
                    let path = testdata().join("policies").join(format!("{name}.json"));
                    let text = std::fs::read_to_string(&path).expect("policy file");
                    Engine::new(&Policy::from_json(&text).expect("valid policy"))
                }
            })
    }
}
