//! # mistype-testdata
//!
//! The one case corpus every surface runs (the native core in `tests/`, the filter under the
//! wasmtime host in `host-tests/`, the browser module under wasm-bindgen-test in `web-lint/`),
//! embedded so that it works without a filesystem, with the comparisons they share: a case's
//! `expect`, and the golden verdicts of the native engine. The file formats are in
//! `testdata/README.md`.
//!
//! Verdicts are handled as JSON values ([`serde_json::Value`]): each surface hands over the
//! verdict it produced, parsed, and the comparison is field for field.
//!
//! [`sends`] holds the send requests of every API the filter understands, for every harness
//! that drives the filter (its unit tests, the host tests, the Envoy tests, the benchmarks).
//! [`maillog`] writes a generated Postfix log of an organisation (the audit benchmark's input and
//! the sender-history run of `mistype-smtp`), from the deterministic [`lcg::Lcg`].
#![forbid(unsafe_code)]

pub mod lcg;
pub mod maillog;
pub mod sends;

use std::fmt::Write as _;

use serde_json::{json, Value};

include!(concat!(env!("OUT_DIR"), "/testdata.rs"));

/// The golden verdicts: the native engine's verdict for every case, one line each.
pub const GOLDEN: &str = include_str!("../golden/verdicts.jsonl");

/// Where the golden file lives in the repository (native re-blessing writes it).
pub const GOLDEN_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/golden/verdicts.jsonl");

/// The file of the promised cases.
pub const MUST_HOLD: &str = "must-hold.jsonl";

/// The file of the accuracy corpus (written by `testdata/make-corpus.py`).
pub const CORPUS: &str = "corpus.jsonl";

/// One case of a `cases/*.jsonl` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The file it comes from (`must-hold.jsonl`).
    pub file: &'static str,
    /// Its name, unique within the file.
    pub name: String,
    /// The policy it runs under (a name in `policies/`); `None` for the embedded default.
    pub policy: Option<String>,
    /// The accuracy bucket (`typo`, `legit`) in the corpus.
    pub group: Option<String>,
    /// The check request, as JSON.
    pub request: Value,
    /// What the verdict must be (see `testdata/README.md`).
    pub expect: Value,
}

/// One line of the golden file.
#[derive(Debug, Clone, PartialEq)]
pub struct Golden {
    /// The case's file.
    pub file: String,
    /// The case's name.
    pub name: String,
    /// The native engine's verdict.
    pub verdict: Value,
}

/// The non-empty lines of a JSON-lines text that are not `//` comments, parsed. Panics naming
/// the file and line of a line that is not JSON.
pub fn jsonl(file: &str, text: &str) -> Vec<Value> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with("//"))
        .map(|(i, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{file}:{}: not JSON: {e}", i + 1))
        })
        .collect()
}

/// Every case of every `cases/*.jsonl`, files in name order, lines in file order.
pub fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for (file, text) in CASE_FILES {
        for v in jsonl(file, text) {
            let text = |key: &str| v[key].as_str().map(str::to_string);
            out.push(Case {
                file,
                name: text("name").unwrap_or_else(|| panic!("{file}: a case without a name")),
                policy: text("policy"),
                group: text("group"),
                request: v["request"].clone(),
                expect: v["expect"].clone(),
            });
        }
    }
    out
}

/// The cases of one file.
pub fn cases_in(file: &str) -> Vec<Case> {
    cases().into_iter().filter(|c| c.file == file).collect()
}

/// The text of `policies/<name>.json`. Panics when there is no such policy.
pub fn policy_text(name: &str) -> &'static str {
    POLICY_FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("testdata/policies/{name}.json is not embedded"))
}

/// `policies/<name>.json`, parsed.
pub fn policy(name: &str) -> Value {
    serde_json::from_str(policy_text(name))
        .unwrap_or_else(|e| panic!("testdata/policies/{name}.json: {e}"))
}

/// The golden verdicts, in case order.
pub fn golden() -> Vec<Golden> {
    jsonl("golden/verdicts.jsonl", GOLDEN)
        .into_iter()
        .map(|g| Golden {
            file: g["file"].as_str().unwrap_or_default().to_string(),
            name: g["name"].as_str().unwrap_or_default().to_string(),
            verdict: g["verdict"].clone(),
        })
        .collect()
}

/// The golden line of `case` with `verdict`, as the golden file stores it.
pub fn golden_line(case: &Case, verdict: &Value) -> String {
    json!({"file": case.file, "name": case.name, "verdict": verdict}).to_string()
}

/// Compare a verdict (as JSON) with a case's `expect`: its verdict word, and when given the exact
/// suggestions, the exact kinds, the number of errors, and `score_below`: a bound every finding's
/// score stays under (a warning the filter does not refuse: `block_warn_score` is 0.65). `None` when it matches, else what
/// differs, naming the case.
pub fn expectation_mismatch(case: &Case, verdict: &Value) -> Option<String> {
    let e = &case.expect;
    let findings = verdict["findings"].as_array().cloned().unwrap_or_default();
    let field = |key: &str| Value::Array(findings.iter().map(|f| f[key].clone()).collect());
    let mut msg = String::new();
    if verdict["verdict"] != e["verdict"] {
        let _ = write!(
            msg,
            " verdict {} (expected {})",
            verdict["verdict"], e["verdict"]
        );
    }
    if let Some(want) = e.get("suggestions") {
        let have = field("suggestion");
        if have != *want {
            let _ = write!(msg, " suggestions {have} (expected {want})");
        }
    }
    if let Some(want) = e.get("kinds") {
        let have = field("kind");
        if have != *want {
            let _ = write!(msg, " kinds {have} (expected {want})");
        }
    }
    if let Some(bound) = e.get("score_below").and_then(Value::as_f64) {
        let high: Vec<f64> = findings
            .iter()
            .filter_map(|f| f["score"].as_f64())
            .filter(|&s| s >= bound)
            .collect();
        if !high.is_empty() {
            let _ = write!(msg, " scores {high:?} (expected below {bound})");
        }
    }
    if let Some(want) = e.get("errors").and_then(Value::as_u64) {
        let errors = verdict["errors"].as_array().cloned().unwrap_or_default();
        if errors.len() as u64 != want {
            let _ = write!(
                msg,
                " {} errors (expected {want}): {}",
                errors.len(),
                Value::Array(errors)
            );
        }
    }
    (!msg.is_empty()).then(|| format!("{}: {}:{msg}", case.file, case.name))
}

/// Check every case of `cases` against its `expect`, with `verdict` giving a surface's verdict
/// for a case. `Err` lists every case that fails.
pub fn check_expectations(
    cases: &[Case],
    mut verdict: impl FnMut(&Case) -> Value,
) -> Result<(), String> {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| expectation_mismatch(c, &verdict(c)))
        .collect();
    if failures.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} of {} cases fail their expectation:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    ))
}

/// Check a surface against the golden verdicts: one golden line per case, in case order, and
/// `verdict` (a surface's verdict for a case, as JSON) equal to the golden one field for field.
/// `Err` says what differs (at most `shown` cases in full).
pub fn check_golden(
    cases: &[Case],
    golden: &[Golden],
    shown: usize,
    mut verdict: impl FnMut(&Case) -> Value,
) -> Result<(), String> {
    if golden.len() != cases.len() {
        return Err(format!(
            "testdata/golden/verdicts.jsonl has {} lines for {} cases; re-bless after checking \
             the change (MISTYPE_BLESS=1 cargo test -p mistype --test integration golden)",
            golden.len(),
            cases.len()
        ));
    }
    let mut failures = Vec::new();
    for (c, g) in cases.iter().zip(golden) {
        if g.file != c.file || g.name != c.name {
            return Err(format!(
                "golden line order differs at {}: {} (golden has {}: {})",
                c.file, c.name, g.file, g.name
            ));
        }
        let got = verdict(c);
        if got != g.verdict {
            failures.push(format!(
                "{}: {}\n     now: {got}\n  golden: {}",
                c.file, c.name, g.verdict
            ));
        }
    }
    if failures.is_empty() {
        return Ok(());
    }
    let n = failures.len();
    failures.truncate(shown);
    Err(format!(
        "{n} of {} cases differ from the golden verdicts:\n{}",
        cases.len(),
        failures.join("\n")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(expect: Value) -> Case {
        Case {
            file: MUST_HOLD,
            name: "t".into(),
            policy: None,
            group: None,
            request: json!({"to": ["c@navy.ml"]}),
            expect,
        }
    }

    #[test]
    fn every_file_is_embedded_and_parses() {
        assert!(CASE_FILES.iter().any(|(f, _)| *f == MUST_HOLD));
        assert!(CASE_FILES.iter().any(|(f, _)| *f == CORPUS));
        let all = cases();
        assert!(cases_in(MUST_HOLD).len() >= 40);
        assert!(cases_in(CORPUS).len() >= 2000);
        for c in &all {
            assert!(c.request.is_object(), "{}: {}", c.file, c.name);
            assert!(c.expect["verdict"].is_string(), "{}: {}", c.file, c.name);
            if let Some(p) = &c.policy {
                assert!(policy(p).is_object(), "{p}");
            }
        }
        assert_eq!(golden().len(), all.len());
    }

    #[test]
    fn expectations_compare_each_field() {
        let v = json!({"verdict": "block", "errors": [],
            "findings": [{"suggestion": "c@navy.mil", "kind": "suffix-typo"}]});
        let ok = case(json!({"verdict": "block", "suggestions": ["c@navy.mil"],
            "kinds": ["suffix-typo"], "errors": 0}));
        assert_eq!(expectation_mismatch(&ok, &v), None);
        let m = |e: Value| expectation_mismatch(&case(e), &v).unwrap();
        assert!(m(json!({"verdict": "warn"})).contains("verdict \"block\""));
        assert!(m(json!({"verdict": "block", "suggestions": []})).contains("suggestions"));
        assert!(m(json!({"verdict": "block", "kinds": ["lookalike"]})).contains("kinds"));
        assert!(m(json!({"verdict": "block", "errors": 1})).contains("0 errors"));
        assert!(check_expectations(std::slice::from_ref(&ok), |_| v.clone()).is_ok());
        assert!(check_expectations(&[ok], |_| json!({})).is_err());
    }

    #[test]
    fn golden_comparison_checks_count_order_and_every_field() {
        let c = case(json!({"verdict": "allow"}));
        let g = |name: &str, verdict: Value| Golden {
            file: MUST_HOLD.into(),
            name: name.into(),
            verdict,
        };
        let v = json!({"verdict": "allow"});
        let one = std::slice::from_ref(&c);
        assert!(check_golden(one, &[g("t", v.clone())], 10, |_| v.clone()).is_ok());
        assert!(check_golden(one, &[], 10, |_| v.clone()).is_err());
        assert!(check_golden(one, &[g("u", v.clone())], 10, |_| v.clone()).is_err());
        let e = check_golden(&[c], &[g("t", v)], 10, |_| json!({"verdict": "warn"}));
        assert!(e.unwrap_err().contains("1 of 1 cases differ"));
        let line = golden_line(&case(json!({})), &json!({"verdict": "allow"}));
        assert_eq!(
            line,
            r#"{"file":"must-hold.jsonl","name":"t","verdict":{"verdict":"allow"}}"#
        );
    }
}
