//! The shared case corpus (`testdata/cases/*.jsonl`) through the built filter: every case's
//! verdict, as the filter answers it on its `verdict_path`, must equal the golden verdict the
//! native engine produces (`testdata/golden/verdicts.jsonl`), compared as parsed JSON.

mod filter_support;

use std::collections::BTreeMap;
use std::path::Path;

use filter_support::*;
use host_tests::{repo_root, Filter, Request};
use serde_json::{json, Value};

struct Case {
    file: String,
    name: String,
    policy: Option<String>,
    request: Value,
}

fn jsonl(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with("//"))
        .map(|(i, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1))
        })
        .collect()
}

fn cases() -> Vec<Case> {
    let dir = repo_root().join("testdata/cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for v in jsonl(&path) {
            out.push(Case {
                file: file.clone(),
                name: v["name"].as_str().unwrap_or("").to_string(),
                policy: v["policy"].as_str().map(str::to_string),
                request: v["request"].clone(),
            });
        }
    }
    out
}

fn golden() -> BTreeMap<(String, String), Value> {
    jsonl(&repo_root().join("testdata/golden/verdicts.jsonl"))
        .into_iter()
        .map(|g| {
            (
                (
                    g["file"].as_str().unwrap_or("").to_string(),
                    g["name"].as_str().unwrap_or("").to_string(),
                ),
                g["verdict"].clone(),
            )
        })
        .collect()
}

fn policy(name: &str) -> Value {
    let path = repo_root().join(format!("testdata/policies/{name}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_corpus_case_gets_the_golden_verdict_through_the_filter() {
    let cases = cases();
    let golden = golden();
    assert!(!cases.is_empty(), "no cases in testdata/cases");
    // One plugin per policy, as a deployment would configure it.
    let mut filters: BTreeMap<Option<String>, Filter> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut missing_golden = Vec::new();
    for case in &cases {
        let f = filters.entry(case.policy.clone()).or_insert_with(|| {
            let mut cfg = json!({"mode": "block", "verdict_path": VERDICT_PATH});
            if let Some(p) = &case.policy {
                cfg["policy"] = policy(p);
            }
            filter(&cfg)
        });
        let Some(want) = golden.get(&(case.file.clone(), case.name.clone())) else {
            missing_golden.push(format!("{}: {}", case.file, case.name));
            continue;
        };
        let o = run(
            f,
            Request::post(VERDICT_PATH).json(&case.request).chunked(5),
        );
        assert!(
            o.forwarded().is_none(),
            "{}: the verdict endpoint answers locally",
            case.name
        );
        let got = o.json();
        if got.as_ref() != Some(want) {
            failures.push(format!(
                "{} / {}\n  status {:?}\n  filter: {}\n  golden: {want}",
                case.file,
                case.name,
                o.status(),
                got.map(|g| g.to_string()).unwrap_or_else(|| o
                    .response
                    .as_ref()
                    .map(|r| r.body_str())
                    .unwrap_or_default()),
            ));
        }
    }
    assert!(
        missing_golden.is_empty(),
        "cases without a golden line (regenerate the golden file): {missing_golden:#?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from the golden verdicts:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_blocks_through_the_check_path_match_the_golden_verdict_word() {
    // The same cases judged as sends on the generic check path (block mode): a golden
    // `block` (or a `warn` at block_warn_score or above) is a 422 carrying that verdict;
    // anything else passes to the upstream.
    let cases = cases();
    let golden = golden();
    let mut filters: BTreeMap<Option<String>, Filter> = BTreeMap::new();
    let mut failures = Vec::new();
    for case in &cases {
        let Some(want) = golden.get(&(case.file.clone(), case.name.clone())) else {
            continue;
        };
        let f = filters.entry(case.policy.clone()).or_insert_with(|| {
            let mut cfg = json!({"mode": "block", "check_path": CHECK_PATH});
            if let Some(p) = &case.policy {
                cfg["policy"] = policy(p);
            }
            filter(&cfg)
        });
        let o = run(f, Request::post(CHECK_PATH).json(&case.request));
        // A `warn` verdict is refused too when a finding reaches the default block_warn_score.
        let sure = want["findings"].as_array().is_some_and(|fs| {
            fs.iter()
                .any(|f| f["score"].as_f64().unwrap_or(0.0) >= 0.65)
        });
        let ok = if want["verdict"] == "block" || sure {
            o.status() == Some(422)
                && o.json().as_ref().and_then(bare_verdict).as_ref() == Some(want)
        } else {
            o.passed()
        };
        if !ok {
            failures.push(format!(
                "{} / {}: golden {} but status {:?} body {:?}",
                case.file,
                case.name,
                want["verdict"],
                o.status(),
                o.response.as_ref().map(|r| r.body_str())
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
