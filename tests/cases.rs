//! The shared corpus through the native engine: expectations, golden verdicts, accuracy.

use mistype_testdata::{Case, CORPUS, MUST_HOLD};
use serde_json::Value;

use crate::support::Engines;

#[test]
fn must_hold_cases() {
    let mut engines = Engines::default();
    let must = mistype_testdata::cases_in(MUST_HOLD);
    assert!(must.len() >= 40, "must-hold.jsonl has {} cases", must.len());
    if let Err(e) = mistype_testdata::check_expectations(&must, |c| json(&engines.check(c))) {
        panic!("{e}");
    }
}

fn json(v: &mistype::Verdict) -> Value {
    serde_json::to_value(v).expect("a verdict is JSON")
}

#[test]
fn golden_verdicts_are_current() {
    let mut engines = Engines::default();
    let all = mistype_testdata::cases();
    let golden = mistype_testdata::golden();
    let changed = mistype_testdata::check_golden(&all, &golden, 10, |c| json(&engines.check(c)));
    // Bless mode writes the new verdicts and still fails with what changed: a blessing run is
    // never a green run, so it cannot stand in for the test.
    if std::env::var_os("MISTYPE_BLESS").is_some() {
        let lines: Vec<String> = all
            .iter()
            .map(|c| mistype_testdata::golden_line(c, &json(&engines.check(c))))
            .collect();
        std::fs::write(mistype_testdata::GOLDEN_PATH, lines.join("\n") + "\n").unwrap();
        if let Err(e) = changed {
            panic!(
                "MISTYPE_BLESS: wrote {} with these changes; review them, then run the test \
                 again without MISTYPE_BLESS:\n{e}",
                mistype_testdata::GOLDEN_PATH
            );
        }
        return;
    }
    if let Err(e) = changed {
        panic!("verdicts changed (re-bless with MISTYPE_BLESS=1 once reviewed):\n{e}");
    }
}

/// Accuracy on the generated corpus, by group: `typo` cases must be caught (warn or block) with
/// the expected suggestion; `legit` cases must be allowed.
#[test]
fn corpus_accuracy_meets_targets() {
    let mut engines = Engines::default();
    let corpus: Vec<Case> = mistype_testdata::cases_in(CORPUS);
    if corpus.is_empty() {
        panic!("testdata/cases/corpus.jsonl is missing (testdata/make-corpus.py writes it)");
    }
    let (mut typos, mut caught, mut right, mut legit, mut flagged) = (0, 0, 0, 0, 0);
    let mut misses = Vec::new();
    let mut fps = Vec::new();
    for c in &corpus {
        let v = engines.check(c);
        match c.group.as_deref() {
            Some("typo") => {
                typos += 1;
                if v.verdict != mistype::Severity::Allow {
                    caught += 1;
                    // A tie reports every equally likely domain; the right one among them counts.
                    let want = c.expect["suggestions"].get(0).and_then(Value::as_str);
                    if want.is_some() && v.findings.iter().any(|f| f.suggestion.as_deref() == want)
                    {
                        right += 1;
                    } else {
                        misses.push(format!(
                            "wrong suggestion {}: {:?}",
                            c.name,
                            v.findings.first().map(|f| &f.suggestion)
                        ));
                    }
                } else {
                    misses.push(format!("missed {}", c.name));
                }
            }
            Some("legit") => {
                legit += 1;
                if v.verdict != mistype::Severity::Allow {
                    flagged += 1;
                    fps.push(format!(
                        "flagged {}: {:?}",
                        c.name,
                        v.findings.first().map(|f| (&f.kind, &f.suggestion))
                    ));
                }
            }
            _ => {}
        }
    }
    // MISTYPE_ACCURACY_ALL=1 lists every miss and false positive.
    let shown = if std::env::var_os("MISTYPE_ACCURACY_ALL").is_some() {
        usize::MAX
    } else {
        40
    };
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    let report = format!(
        "typos {typos}: caught {:.1}%, right suggestion {:.1}%; legit {legit}: flagged {:.2}%\n{}\n{}",
        pct(caught, typos),
        pct(right, typos),
        pct(flagged, legit),
        misses.iter().take(shown).cloned().collect::<Vec<_>>().join("\n"),
        fps.iter().take(shown).cloned().collect::<Vec<_>>().join("\n"),
    );
    eprintln!("{report}");
    assert!(typos >= 1000 && legit >= 1000, "corpus too small: {report}");
    // Targets: 98% caught, 95% right, at most 0.5% of correct recipients flagged; the suggestion
    // guard sits at the measured level (docs/accuracy.md has the table and the misses).
    assert!(pct(caught, typos) >= 98.0, "{report}");
    assert!(pct(right, typos) >= 97.5, "{report}");
    assert!(pct(flagged, legit) <= 0.5, "{report}");
}
