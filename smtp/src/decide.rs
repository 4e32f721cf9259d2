//! What to do with one recipient once the engine has judged it: pure, so every branch is
//! unit-tested. Both front ends (the policy service and the milter) use this one table.
//!
//! | the engine's verdict for the recipient | enforcing | `--sure-warnings warn` | `--dry-run` |
//! |---|---|---|---|
//! | no finding | pass (`DUNNO`) | pass | pass |
//! | a recipient it could not judge | pass, logged | pass, logged | pass, logged |
//! | a warning only worth a check (score < `SURE_WARNING_SCORE`) | pass + `X-Mistype` header | the same | the same |
//! | a sure warning (score ≥ `SURE_WARNING_SCORE`) | refused | `WARN` (logged by the MTA) | pass + header |
//! | a block finding | refused | refused | pass + header |
//! | refused, and the same sender sent it within the window | pass + `X-Mistype: confirmed` | the same | — |

use mistype::{Finding, Severity, Verdict, SURE_WARNING_SCORE};

/// What to do with sure warnings (score ≥ [`SURE_WARNING_SCORE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SureWarnings {
    /// Refuse them like block findings (the default).
    Refuse,
    /// Let them through with the MTA's `WARN` (a log line only).
    Warn,
}

/// The settings that change the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Log and add the header, never refuse.
    pub dry_run: bool,
    /// Sure warnings: refuse or warn.
    pub sure_warnings: SureWarnings,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            dry_run: false,
            sure_warnings: SureWarnings::Refuse,
        }
    }
}

/// The decision for one recipient.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Nothing found.
    Clean,
    /// The recipient could not be judged (the engine's error message): let through, logged.
    Unjudged(String),
    /// A warning only worth a check: let through with a header.
    Check(Finding),
    /// A sure warning let through with the MTA's `WARN` (`--sure-warnings warn`).
    WarnOnly(Finding),
    /// Refused: the sender is told why and may send it again to confirm.
    Refuse(Finding),
    /// Refused before, sent again within the window: let through with a header.
    Confirmed(Finding),
    /// Would be refused, but this is a dry run: let through with a header.
    WouldRefuse(Finding),
}

impl Decision {
    /// The name in logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Decision::Clean => "clean",
            Decision::Unjudged(_) => "unjudged",
            Decision::Check(_) => "check",
            Decision::WarnOnly(_) => "warn",
            Decision::Refuse(_) => "refused",
            Decision::Confirmed(_) => "confirmed",
            Decision::WouldRefuse(_) => "would-refuse",
        }
    }

    /// Every label, in the order of [`Decision::index`].
    pub const LABELS: [&'static str; 7] = [
        "clean",
        "unjudged",
        "check",
        "warn",
        "refused",
        "confirmed",
        "would-refuse",
    ];

    /// The position of this decision's label in [`Decision::LABELS`].
    pub fn index(&self) -> usize {
        match self {
            Decision::Clean => 0,
            Decision::Unjudged(_) => 1,
            Decision::Check(_) => 2,
            Decision::WarnOnly(_) => 3,
            Decision::Refuse(_) => 4,
            Decision::Confirmed(_) => 5,
            Decision::WouldRefuse(_) => 6,
        }
    }

    /// The finding it is about, if any.
    pub fn finding(&self) -> Option<&Finding> {
        match self {
            Decision::Check(f)
            | Decision::WarnOnly(f)
            | Decision::Refuse(f)
            | Decision::Confirmed(f)
            | Decision::WouldRefuse(f) => Some(f),
            Decision::Clean | Decision::Unjudged(_) => None,
        }
    }

    /// Whether the recipient goes through (everything but a refusal).
    pub fn passes(&self) -> bool {
        !matches!(self, Decision::Refuse(_))
    }
}

/// Whether a finding stops a send: a block finding, or a sure warning.
pub fn refuses(f: &Finding) -> bool {
    f.severity == Severity::Block || (f.severity == Severity::Warn && f.score >= SURE_WARNING_SCORE)
}

/// Decide for one recipient's verdict. `confirmed` is asked only for a finding that would refuse:
/// whether the same sender was refused this recipient within the window.
pub fn decide(verdict: Verdict, s: Settings, confirmed: impl FnOnce() -> bool) -> Decision {
    let mut findings = verdict.findings;
    // The finding to act on: the first block, else the first sure warning, else the first warning.
    let pick = findings
        .iter()
        .position(|f| f.severity == Severity::Block)
        .or_else(|| findings.iter().position(refuses))
        .or_else(|| (!findings.is_empty()).then_some(0));
    let Some(i) = pick else {
        return match verdict.errors.into_iter().next() {
            Some(e) => Decision::Unjudged(e.message),
            None => Decision::Clean,
        };
    };
    let f = findings.swap_remove(i);
    if !refuses(&f) {
        return Decision::Check(f);
    }
    if s.dry_run {
        return Decision::WouldRefuse(f);
    }
    if f.severity == Severity::Warn && s.sure_warnings == SureWarnings::Warn {
        return Decision::WarnOnly(f);
    }
    if confirmed() {
        Decision::Confirmed(f)
    } else {
        Decision::Refuse(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mistype::{Engine, Kind};

    fn finding(severity: Severity, score: f64) -> Finding {
        Finding {
            recipient: "c@navy.ml".into(),
            address: "c@navy.ml".into(),
            domain: "navy.ml".into(),
            kind: Kind::SuffixTypo,
            severity,
            suggestion: Some("c@navy.mil".into()),
            intended: Some("navy.mil".into()),
            score,
            reason: "r".into(),
        }
    }

    fn verdict(findings: Vec<Finding>) -> Verdict {
        let mut v = Verdict::empty(serde_json::Value::Null);
        v.verdict = findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Allow);
        v.findings = findings;
        v
    }

    const ENFORCE: Settings = Settings {
        dry_run: false,
        sure_warnings: SureWarnings::Refuse,
    };

    #[test]
    fn the_table() {
        let block = || verdict(vec![finding(Severity::Block, 0.8)]);
        let sure = || verdict(vec![finding(Severity::Warn, SURE_WARNING_SCORE)]);
        let check = || verdict(vec![finding(Severity::Warn, 0.6)]);
        let warn_only = Settings {
            sure_warnings: SureWarnings::Warn,
            ..ENFORCE
        };
        let dry = Settings {
            dry_run: true,
            ..ENFORCE
        };
        let label = |v: Verdict, s: Settings, c: bool| decide(v, s, || c).label();
        assert_eq!(label(verdict(vec![]), ENFORCE, false), "clean");
        assert_eq!(label(block(), ENFORCE, false), "refused");
        assert_eq!(label(block(), ENFORCE, true), "confirmed");
        assert_eq!(label(block(), warn_only, false), "refused");
        assert_eq!(label(block(), dry, false), "would-refuse");
        assert_eq!(label(sure(), ENFORCE, false), "refused");
        assert_eq!(label(sure(), ENFORCE, true), "confirmed");
        assert_eq!(label(sure(), warn_only, false), "warn");
        assert_eq!(label(sure(), dry, false), "would-refuse");
        assert_eq!(label(check(), ENFORCE, false), "check");
        assert_eq!(label(check(), dry, true), "check");
    }

    #[test]
    fn the_confirm_store_is_asked_only_for_a_refusal() {
        let mut asked = false;
        decide(verdict(vec![finding(Severity::Warn, 0.6)]), ENFORCE, || {
            asked = true;
            true
        });
        assert!(!asked);
        decide(verdict(vec![]), ENFORCE, || {
            asked = true;
            true
        });
        assert!(!asked);
    }

    #[test]
    fn a_block_is_acted_on_before_an_earlier_warning() {
        let v = verdict(vec![
            finding(Severity::Warn, 0.6),
            finding(Severity::Block, 0.9),
        ]);
        assert!(matches!(decide(v, ENFORCE, || false), Decision::Refuse(f) if f.score == 0.9));
    }

    #[test]
    fn an_unjudged_recipient_passes_with_its_reason() {
        let e = Engine::with_default_policy();
        let v = e.check_recipient("bad@@", &e.context(None, &[]));
        let d = decide(v, ENFORCE, || false);
        assert!(
            matches!(&d, Decision::Unjudged(m) if m.contains("bad@@")),
            "{d:?}"
        );
        assert!(d.passes());
    }

    #[test]
    fn real_findings_take_the_documented_paths() {
        let e = Engine::with_default_policy();
        let judge = |from: &str, rcpt: &str| {
            decide(
                e.check_recipient(rcpt, &e.context(Some(from), &[])),
                ENFORCE,
                || false,
            )
        };
        assert!(
            matches!(judge("ray.k@army.mil", "c@navy.ml"), Decision::Refuse(f) if f.suggestion.as_deref() == Some("c@navy.mil"))
        );
        assert!(
            matches!(judge("ray.k@army.mil", "x@gmial.com"), Decision::Refuse(f) if f.intended.as_deref() == Some("gmail.com"))
        );
        assert!(
            matches!(judge("jan@mindef.nl", "p@army.ml"), Decision::Refuse(f) if f.intended.as_deref() == Some("army.nl"))
        );
        assert_eq!(judge("ray.k@army.mil", "d.jones@navy.mil"), Decision::Clean);
    }
}
