//! A refusal in each API's own dialect, so that the app's existing error handling shows the
//! reason (what the official client libraries surface: `filter/README.md`, "Replies in each API's
//! dialect"), and the answers of the verdict endpoint.
//!
//! | API | refused send | `400` / `413` / lookup failure |
//! |---|---|---|
//! | Graph | `422` `{"error": {"code", "message", "mistype"}, "mistype"}` | the same shape |
//! | Gmail | `422` `{"error": {"code", "message", "status", "errors": [{"reason", "domain", "message"}]}, "mistype"}` | the same shape |
//! | JMAP | `200` JMAP response: `notCreated` `forbiddenToSend` for each submission, a `forbidden` method error for every other call | RFC 8620 §3.6.1 problem details |
//! | Roundcube's compose window (`_framed=1`) | `200` a page Roundcube displays (`roundcube`) | as below |
//! | Roundcube's `http_post` (`_remote=1`: its "Bounce") | `200` the JSON Roundcube reads (`action`, `unlock`, `exec`) | as below |
//! | others | `422` the verdict, plus `message` | `{"error": {"code", "message"}, ...}` |
//!
//! `message` (Graph, Gmail), `description` (JMAP) and `detail` say in one sentence what was typed
//! and what was meant; the `mistype` object carries the full verdict and the confirm token for
//! clients that can use them.

use super::action::Action;
use super::refusal::{block_message, Code, Refusal};
use super::roundcube;
use crate::send::{Api, ExtractError, MethodCall, Send};
use mistype::{Finding, Severity, Verdict};
use serde_json::{json, Map, Value};

/// Google's canonical status name for a code (the Gmail dialect).
fn google_status(code: Code) -> &'static str {
    match code {
        Code::Misaddressed => "FAILED_PRECONDITION",
        Code::Unparseable | Code::Encoded | Code::TooLarge => "INVALID_ARGUMENT",
        Code::LookupFailed | Code::Stalled => "UNAVAILABLE",
    }
}

/// The reply to a blocked send: `details` is the verdict (with `confirm`, `confirm_error`),
/// `refused` its findings that refuse the send, `confirmable` whether a confirm token comes with
/// it. Roundcube's compose window (`framed`) gets a page it displays, its `http_post` (`remote`)
/// the JSON it reads; every other client the refusal in its API's dialect.
pub fn blocked(
    send: &Send,
    details: Map<String, Value>,
    refused: &[&Finding],
    confirmable: bool,
) -> Action {
    if send.api == Api::Roundcube && send.framed {
        return roundcube::blocked_page(&Value::Object(details), refused);
    }
    if let (Api::Roundcube, Some(call)) = (send.api, &send.remote) {
        return roundcube::blocked_remote(&Value::Object(details), refused, call);
    }
    refuse(
        send.api,
        &send.calls,
        Refusal {
            status: 422,
            code: Code::Misaddressed,
            message: block_message(refused, confirmable, send.forwarding),
            details,
        },
    )
}

/// The refusal `r` in `api`'s dialect. `calls` are the JMAP request's method calls (for a JMAP
/// block).
pub fn refuse(api: Api, calls: &[MethodCall], r: Refusal) -> Action {
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
                             "status": google_status(r.code),
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
    Action::local_json(status, content_type, verdict, &body)
}

/// The answer on `verdict_path`: `200` with the verdict.
pub fn verdict(verdict: &Verdict) -> Action {
    let body = serde_json::to_value(verdict).unwrap_or_else(|_| json!({}));
    Action::local_json(200, "application/json", Some(verdict.verdict), &body)
}

/// The answer on `verdict_path` to a body that is not a check request.
pub fn bad_request(e: &ExtractError) -> Action {
    Action::local_json(
        400,
        "application/json",
        None,
        &json!({"error": "bad_request", "message": e.message}),
    )
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
    fn graph_and_gmail_dialects() {
        let (status, b, h) = body(&refuse(Api::Graph, &[], refusal(Code::Misaddressed, 422)));
        assert_eq!(status, 422);
        assert_eq!(b["error"]["code"], "misaddressed_recipient");
        assert_eq!(b["error"]["message"], "M");
        assert_eq!(b["error"]["mistype"]["verdict"], "block");
        assert_eq!(b["mistype"]["verdict"], "block");
        assert!(h.contains(&("x-mistype-verdict".into(), "block".into())));
        let (status, b, h) = body(&refuse(Api::Graph, &[], refusal(Code::Unparseable, 400)));
        assert_eq!(status, 400);
        assert_eq!(b["error"]["code"], "unparseable_send");
        assert!(!h.iter().any(|(k, _)| k == "x-mistype-verdict"));
        let (status, b, _) = body(&refuse(Api::Gmail, &[], refusal(Code::Misaddressed, 422)));
        assert_eq!(status, 422);
        assert_eq!(b["error"]["code"], 422);
        assert_eq!(b["error"]["status"], "FAILED_PRECONDITION");
        assert_eq!(b["error"]["errors"][0]["reason"], "misaddressed_recipient");
        assert_eq!(b["error"]["errors"][0]["message"], "M");
        let (_, b, _) = body(&refuse(Api::Gmail, &[], refusal(Code::LookupFailed, 503)));
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
        let (status, b, h) = body(&refuse(Api::Jmap, &calls, refusal(Code::Misaddressed, 422)));
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
        let (status, b, h) = body(&refuse(Api::Jmap, &[], refusal(Code::TooLarge, 413)));
        assert_eq!(status, 413);
        assert_eq!(b["detail"], "M");
        assert_eq!(b["type"], "urn:mistype:error:body_too_large");
        assert!(h.contains(&("content-type".into(), "application/problem+json".into())));
    }

    #[test]
    fn other_apis_keep_the_verdict_at_the_top() {
        let (status, b, _) = body(&refuse(Api::Check, &[], refusal(Code::Misaddressed, 422)));
        assert_eq!(status, 422);
        assert_eq!(b["verdict"], "block");
        assert_eq!(b["message"], "M");
        assert!(b.get("error").is_none());
        let (_, b, _) = body(&refuse(Api::Sogo, &[], refusal(Code::Unparseable, 400)));
        assert_eq!(b["error"]["code"], "unparseable_send");
        assert_eq!(b["message"], "M");
    }

    fn navy() -> Finding {
        Finding {
            recipient: "c@navy.ml".into(),
            address: "c@navy.ml".into(),
            domain: "navy.ml".into(),
            kind: mistype::Kind::SuffixTypo,
            severity: Severity::Block,
            suggestion: Some("c@navy.mil".into()),
            intended: Some("navy.mil".into()),
            score: 0.97,
            reason: "navy.ml is in Mali (.ml)".into(),
        }
    }

    #[test]
    fn a_blocked_send_is_refused_in_its_dialect_or_with_roundcubes_page() {
        let mut details = Map::new();
        details.insert("verdict".into(), json!("block"));
        let f = navy();
        let mut s = Send::new(Api::Roundcube);
        let (status, b, _) = body(&blocked(&s, details.clone(), &[&f], true));
        assert_eq!(status, 422);
        assert_eq!(
            b["message"],
            "Not sent: misaddressed recipient: c@navy.ml — did you mean c@navy.mil? navy.ml is in \
             Mali (.ml). To send it as written, confirm and send again."
        );
        s.framed = true;
        match blocked(&s, details.clone(), &[&f], true) {
            Action::Reply {
                status, headers, ..
            } => {
                assert_eq!(status, 200);
                assert_eq!(headers[0].1, "text/html; charset=utf-8");
            }
            other => panic!("{other:?}"),
        }
        let mut j = Send::new(Api::Jmap);
        j.calls = vec![MethodCall {
            name: "EmailSubmission/set".into(),
            id: "c1".into(),
            account_id: None,
            creates: vec!["s1".into()],
        }];
        let (status, b, _) = body(&blocked(&j, details, &[&f], false));
        assert_eq!(status, 200);
        assert_eq!(
            b["methodResponses"][0][1]["notCreated"]["s1"]["description"],
            "Not sent: misaddressed recipient: c@navy.ml — did you mean c@navy.mil? navy.ml is in Mali (.ml)."
        );
    }

    #[test]
    fn verdict_endpoint_answers() {
        let mut v = Verdict::empty(Value::Null);
        v.verdict = Severity::Warn;
        v.findings.push(navy());
        let (status, b, h) = body(&verdict(&v));
        assert_eq!(status, 200);
        assert_eq!(b, serde_json::to_value(&v).unwrap());
        assert!(h.contains(&("x-mistype-verdict".into(), "warn".into())));
        let e = ExtractError::new(Api::Check, "to is not a list");
        let (status, b, h) = body(&bad_request(&e));
        assert_eq!(status, 400);
        assert_eq!(
            b,
            json!({"error": "bad_request", "message": "to is not a list"})
        );
        assert!(!h.iter().any(|(k, _)| k == "x-mistype-verdict"));
    }
}
