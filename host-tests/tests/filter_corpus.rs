//! The shared case corpus (`testdata/cases/*.jsonl`) through the built filter: every case's
//! verdict, as the filter answers it on its `verdict_path`, must equal the golden verdict the
//! native engine produces (`testdata/golden/verdicts.jsonl`), compared as parsed JSON.

mod filter_support;

use std::collections::BTreeMap;

use filter_support::*;
use host_tests::{Filter, Request};
use mistype_testdata::{cases, check_golden, golden, policy, Case};
use serde_json::{json, Value};

/// The golden verdicts by (file, name).
fn golden_by_case() -> BTreeMap<(String, String), Value> {
    golden()
        .into_iter()
        .map(|g| ((g.file, g.name), g.verdict))
        .collect()
}

/// One plugin per policy, as a deployment would configure it, with `extra` configuration.
fn filter_for<'a>(
    filters: &'a mut BTreeMap<Option<String>, Filter>,
    case: &Case,
    extra: &Value,
) -> &'a mut Filter {
    filters.entry(case.policy.clone()).or_insert_with(|| {
        let mut cfg = json!({"mode": "block"});
        for (k, v) in extra.as_object().into_iter().flatten() {
            cfg[k] = v.clone();
        }
        if let Some(p) = &case.policy {
            cfg["policy"] = policy(p);
        }
        filter(&cfg)
    })
}

#[test]
fn every_corpus_case_gets_the_golden_verdict_through_the_filter() {
    let cases = cases();
    let mut filters = BTreeMap::new();
    // The corpus crate's comparison: one golden line per case, in order, equal field for field.
    let compared = check_golden(&cases, &golden(), 20, |case| {
        let f = filter_for(&mut filters, case, &json!({"verdict_path": VERDICT_PATH}));
        let o = run(
            f,
            Request::post(VERDICT_PATH).json(&case.request).chunked(5),
        );
        assert!(
            o.forwarded().is_none(),
            "{}: the verdict endpoint answers locally",
            case.name
        );
        // Not JSON: the text, which differs from any golden verdict and is shown.
        o.json().unwrap_or_else(|| {
            Value::String(format!(
                "status {:?}: {}",
                o.status(),
                o.response
                    .as_ref()
                    .map(|r| r.body_str())
                    .unwrap_or_default()
            ))
        })
    });
    if let Err(e) = compared {
        panic!("through the filter's verdict_path: {e}");
    }
}

#[test]
fn corpus_blocks_through_the_check_path_match_the_golden_verdict_word() {
    // The same cases judged as sends on the generic check path (block mode): a golden
    // `block` (or a `warn` at block_warn_score or above) is a 422 carrying that verdict;
    // anything else passes to the upstream.
    let cases = cases();
    let golden = golden_by_case();
    let mut filters = BTreeMap::new();
    let mut failures = Vec::new();
    for case in &cases {
        let want = golden
            .get(&(case.file.to_string(), case.name.clone()))
            .unwrap_or_else(|| panic!("{}: {} has no golden verdict", case.file, case.name));
        let f = filter_for(&mut filters, case, &json!({"check_path": CHECK_PATH}));
        let o = run(f, Request::post(CHECK_PATH).json(&case.request));
        // A `warn` verdict is refused too when a finding reaches the default block_warn_score,
        // the core's SURE_WARNING_SCORE.
        let sure = want["findings"].as_array().is_some_and(|fs| {
            fs.iter()
                .any(|f| f["score"].as_f64().unwrap_or(0.0) >= mistype::SURE_WARNING_SCORE)
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
