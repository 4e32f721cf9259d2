//! Local replies in each API's own dialect, so that the app's existing error handling shows the
//! reason: what the official client libraries surface is in `docs/filter.md` ("Replies").
//!
//! | API | refused send | `400` / `413` / lookup failure |
//! |---|---|---|
//! | Graph | `422` `{"error": {"code", "message", "mistype"}, "mistype"}` | the same shape |
//! | Gmail | `422` `{"error": {"code", "message", "status", "errors": [{"reason", "domain", "message"}]}, "mistype"}` | the same shape |
//! | JMAP | `200` JMAP response: `notCreated` `forbiddenToSend` for each submission, a `forbidden` method error for every other call | RFC 8620 §3.6.1 problem details |
//! | others | `422` the verdict, plus `message` | `{"error": {"code", "message"}, ...}` |
//!
//! `message` (Graph, Gmail), `description` (JMAP) and `detail` say in one sentence what was typed
//! and what was meant; the `mistype` object carries the full verdict and the confirm token for
//! clients that can use them.

use crate::decide::{Action, VERDICT_HEADER};
use crate::send::{Api, MethodCall};
use mistype::{Severity, Verdict};
use serde_json::{json, Map, Value};

/// Why the filter answers a send itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// Misaddressed: the verdict blocks it.
    Misaddressed,
    /// A recognised send that cannot be parsed.
    Unparseable,
    /// Above `max_body_bytes`.
    TooLarge,
    /// A stored message's recipients could not be looked up.
    LookupFailed,
}

impl Code {
    /// The machine-readable code.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Misaddressed => "misaddressed_recipient",
            Code::Unparseable => "unparseable_send",
            Code::TooLarge => "body_too_large",
            Code::LookupFailed => "lookup_failed",
        }
    }

    /// Google's canonical status name for it.
    fn google_status(self) -> &'static str {
        match self {
            Code::Misaddressed => "FAILED_PRECONDITION",
            Code::Unparseable | Code::TooLarge => "INVALID_ARGUMENT",
            Code::LookupFailed => "UNAVAILABLE",
        }
    }
}

/// A local reply before it is put in an API's dialect.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    /// HTTP status (JMAP blocks answer `200` with the refusal inside the JMAP response).
    pub status: u32,
    /// Why.
    pub code: Code,
    /// One sentence for the person at the keyboard.
    pub message: String,
    /// The details: for a block the verdict (plus `confirm`, `confirm_error`); otherwise `api`
    /// and what else there is to say (`max_body_bytes`).
    pub details: Map<String, Value>,
}

/// True for a finding that refuses a send in block mode: a `block` finding, or one scored at
/// least `escalate_from` (`block_warn_score`).
pub fn refuses(f: &mistype::Finding, escalate_from: Option<f64>) -> bool {
    f.severity == Severity::Block || escalate_from.is_some_and(|min| f.score >= min)
}

/// The findings that refuse a send, in the verdict's order (see [`refuses`]): what every reply to
/// a blocked send names, whatever its wording.
pub fn refused(verdict: &Verdict, escalate_from: Option<f64>) -> Vec<&mistype::Finding> {
    verdict
        .findings
        .iter()
        .filter(|f| refuses(f, escalate_from))
        .collect()
}

/// The sentence for a blocked send: each misaddressed recipient of `refused` (at most three), what
/// was meant and why, and how to confirm when a token comes with the reply.
pub fn block_message(refused: &[&mistype::Finding], confirmable: bool) -> String {
    let parts: Vec<String> = refused
        .iter()
        .take(3)
        .map(|f| match &f.suggestion {
            Some(s) => format!("{} — did you mean {s}? {}", f.address, f.reason),
            None => format!("{} — {}", f.address, f.reason),
        })
        .collect();
    let mut m = format!(
        "Not sent: misaddressed recipient{}: {}.",
        if parts.len() == 1 { "" } else { "s" },
        parts.join("; ")
    );
    let more = refused.len().saturating_sub(parts.len());
    if more > 0 {
        m.push_str(&format!(" ({more} more in the details.)"));
    }
    if confirmable {
        m.push_str(" To send it as written, confirm and send again.");
    }
    m
}

fn bytes(v: &Value) -> Vec<u8> {
    let mut b = serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec());
    b.push(b'\n');
    b
}

fn headers(content_type: &str, verdict: Option<Severity>) -> Vec<(String, String)> {
    let mut h = vec![
        ("content-type".to_string(), content_type.to_string()),
        ("cache-control".to_string(), "no-store".to_string()),
    ];
    if let Some(v) = verdict {
        h.push((VERDICT_HEADER.to_string(), v.as_str().to_string()));
    }
    h
}

/// The reply for `api`. `calls` are the JMAP request's method calls (for a JMAP block).
pub fn reply(api: Api, calls: &[MethodCall], r: Refusal) -> Action {
    let verdict = (r.code == Code::Misaddressed).then_some(Severity::Block);
    let details = Value::Object(r.details.clone());
    let (status, content_type, body) = match api {
        Api::Graph => (
            r.status,
            "application/json",
            json!({"error": {"code": r.code.as_str(), "message": r.message, "mistype": details},
                   "mistype": details}),
        ),
        Api::Gmail => (
            r.status,
            "application/json",
            json!({"error": {"code": r.status, "message": r.message,
                             "status": r.code.google_status(),
                             "errors": [{"reason": r.code.as_str(), "domain": "mistype",
                                         "message": r.message}]},
                   "mistype": details}),
        ),
        Api::Jmap if r.code == Code::Misaddressed && !calls.is_empty() => (
            200,
            "application/json",
            jmap_refusal(calls, &r.message, details),
        ),
        Api::Jmap => (
            r.status,
            "application/problem+json",
            json!({"type": format!("urn:mistype:error:{}", r.code.as_str()),
                   "status": r.status, "title": "Refused by mistype", "detail": r.message,
                   "mistype": details}),
        ),
        _ => {
            let mut body = r.details;
            if r.code != Code::Misaddressed {
                body.insert(
                    "error".into(),
                    json!({"code": r.code.as_str(), "message": r.message}),
                );
            }
            body.insert("message".into(), Value::String(r.message));
            (r.status, "application/json", Value::Object(body))
        }
    };
    Action::Reply {
        status,
        headers: headers(content_type, verdict),
        body: bytes(&body),
    }
}

/// A JMAP response refusing a send: each `EmailSubmission/set` gets `notCreated`
/// `forbiddenToSend` (RFC 8621 §7.5) for each of its creations; every other call, which did not
/// run either, gets a `forbidden` method error (RFC 8620 §3.6.2). Each error also carries the
/// `mistype` details: jmap-jam hands an app only the method's arguments.
fn jmap_refusal(calls: &[MethodCall], message: &str, details: Value) -> Value {
    let responses: Vec<Value> = calls
        .iter()
        .map(|c| {
            if c.name == "EmailSubmission/set" {
                let not_created: Map<String, Value> = c
                    .creates
                    .iter()
                    .map(|k| {
                        (
                            k.clone(),
                            json!({"type": "forbiddenToSend", "description": message,
                                   "mistype": details}),
                        )
                    })
                    .collect();
                json!([c.name, {"accountId": c.account_id, "oldState": null, "newState": null,
                                "created": null, "updated": null, "destroyed": null,
                                "notCreated": not_created, "notUpdated": null,
                                "notDestroyed": null}, c.id])
            } else {
                json!(["error", {"type": "forbidden", "description": message, "mistype": details},
                       c.id])
            }
        })
        .collect();
    json!({"methodResponses": responses, "sessionState": "", "mistype": details})
}

#[cfg(test)]
mod tests {
    use super::*;
    use mistype::{Finding, Kind};

    fn verdict() -> Verdict {
        let mut v = Verdict::empty(Value::Null);
        v.verdict = Severity::Block;
        for (addr, sev, score) in [
            ("j.smith@navy.ml", Severity::Block, 0.97),
            ("x@gmial.com", Severity::Warn, 0.95),
            ("y@gmx.de", Severity::Warn, 0.5),
        ] {
            let (local, domain) = addr.split_once('@').unwrap();
            let intended = match domain {
                "navy.ml" => "navy.mil",
                "gmial.com" => "gmail.com",
                _ => "gmx.net",
            };
            v.findings.push(Finding {
                recipient: addr.into(),
                address: addr.into(),
                domain: domain.into(),
                kind: Kind::LabelTypo,
                severity: sev,
                suggestion: Some(format!("{local}@{intended}")),
                intended: Some(intended.into()),
                score,
                reason: format!("{domain} looks like {intended}"),
            });
        }
        v
    }

    fn refusal(code: Code, status: u32) -> Refusal {
        let mut details = Map::new();
        details.insert("verdict".into(), json!("block"));
        Refusal {
            status,
            code,
            message: "M".into(),
            details,
        }
    }

    fn body(a: &Action) -> (u32, Value, Vec<(String, String)>) {
        match a {
            Action::Reply {
                status,
                headers,
                body,
            } => (
                *status,
                serde_json::from_slice(body).unwrap(),
                headers.clone(),
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn block_message_names_typed_and_meant() {
        let v = verdict();
        let m = block_message(&refused(&v, None), false);
        assert_eq!(
            m,
            "Not sent: misaddressed recipient: j.smith@navy.ml — did you mean j.smith@navy.mil? navy.ml looks like navy.mil."
        );
        let m = block_message(&refused(&v, Some(0.9)), true);
        assert!(
            m.starts_with("Not sent: misaddressed recipients: j.smith@navy.ml"),
            "{m}"
        );
        assert!(m.contains("x@gmial.com — did you mean x@gmail.com?"), "{m}");
        assert!(!m.contains("gmx"), "{m}");
        assert!(m.ends_with("confirm and send again."), "{m}");
    }

    #[test]
    fn graph_and_gmail_dialects() {
        let (status, b, h) = body(&reply(Api::Graph, &[], refusal(Code::Misaddressed, 422)));
        assert_eq!(status, 422);
        assert_eq!(b["error"]["code"], "misaddressed_recipient");
        assert_eq!(b["error"]["message"], "M");
        assert_eq!(b["error"]["mistype"]["verdict"], "block");
        assert_eq!(b["mistype"]["verdict"], "block");
        assert!(h.contains(&("x-mistype-verdict".into(), "block".into())));
        let (status, b, h) = body(&reply(Api::Graph, &[], refusal(Code::Unparseable, 400)));
        assert_eq!(status, 400);
        assert_eq!(b["error"]["code"], "unparseable_send");
        assert!(!h.iter().any(|(k, _)| k == "x-mistype-verdict"));
        let (status, b, _) = body(&reply(Api::Gmail, &[], refusal(Code::Misaddressed, 422)));
        assert_eq!(status, 422);
        assert_eq!(b["error"]["code"], 422);
        assert_eq!(b["error"]["status"], "FAILED_PRECONDITION");
        assert_eq!(b["error"]["errors"][0]["reason"], "misaddressed_recipient");
        assert_eq!(b["error"]["errors"][0]["message"], "M");
        let (_, b, _) = body(&reply(Api::Gmail, &[], refusal(Code::LookupFailed, 503)));
        assert_eq!(b["error"]["status"], "UNAVAILABLE");
    }

    #[test]
    fn jmap_dialect() {
        let calls = vec![
            MethodCall {
                name: "Email/set".into(),
                id: "c0".into(),
                account_id: Some("A".into()),
                creates: vec!["d".into()],
            },
            MethodCall {
                name: "EmailSubmission/set".into(),
                id: "c1".into(),
                account_id: Some("A".into()),
                creates: vec!["s1".into(), "s2".into()],
            },
        ];
        let (status, b, h) = body(&reply(Api::Jmap, &calls, refusal(Code::Misaddressed, 422)));
        assert_eq!(status, 200);
        assert!(h.contains(&("x-mistype-verdict".into(), "block".into())));
        let r = &b["methodResponses"];
        assert_eq!(
            r[0],
            json!(["error", {"type": "forbidden", "description": "M",
                             "mistype": {"verdict": "block"}}, "c0"])
        );
        assert_eq!(r[1][1]["notCreated"]["s1"]["mistype"]["verdict"], "block");
        assert_eq!(r[1][0], "EmailSubmission/set");
        assert_eq!(r[1][2], "c1");
        assert_eq!(r[1][1]["notCreated"]["s2"]["type"], "forbiddenToSend");
        assert_eq!(r[1][1]["notCreated"]["s1"]["description"], "M");
        for k in ["oldState", "newState", "created", "updated", "destroyed"] {
            assert!(r[1][1].get(k).is_some(), "{k}");
        }
        assert_eq!(b["mistype"]["verdict"], "block");
        let (status, b, h) = body(&reply(Api::Jmap, &[], refusal(Code::TooLarge, 413)));
        assert_eq!(status, 413);
        assert_eq!(b["detail"], "M");
        assert_eq!(b["type"], "urn:mistype:error:body_too_large");
        assert!(h.contains(&("content-type".into(), "application/problem+json".into())));
    }

    #[test]
    fn other_apis_keep_the_verdict_at_the_top() {
        let (status, b, _) = body(&reply(Api::Check, &[], refusal(Code::Misaddressed, 422)));
        assert_eq!(status, 422);
        assert_eq!(b["verdict"], "block");
        assert_eq!(b["message"], "M");
        assert!(b.get("error").is_none());
        let (_, b, _) = body(&reply(Api::Sogo, &[], refusal(Code::Unparseable, 400)));
        assert_eq!(b["error"]["code"], "unparseable_send");
        assert_eq!(b["message"], "M");
    }
}
