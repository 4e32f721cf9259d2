//! Shared helpers for the `filter_*` tests: configurations, the send fixtures of every API
//! (`mistype_testdata::sends`) as host requests, and assertions that compare the filter's
//! verdicts with the native engine's.
#![allow(dead_code)]

use host_tests::{Filter, HostError, Outcome, Request};
use mistype_testdata::sends;
use serde_json::{json, Value};

/// The confirm secret used by the tests (base64 of 32 bytes).
pub const SECRET: &str = "dGVzdC1zZWNyZXQtZm9yLWhvc3QtdGVzdHMtMDEyMzQ=";
pub const CONFIRM_HEADER: &str = "x-mistype-confirm";
pub const SENDER_HEADER: &str = "x-authenticated-user";
pub use mistype_testdata::sends::{CHECK_PATH, VERDICT_PATH};

/// A `.mil` sender and a recipient the core must block for it (a must-hold case).
pub const MIL_SENDER: &str = "a.b@army.mil";
pub const TYPO: &str = "c@navy.ml";
pub const TYPO_FIXED: &str = "c@navy.mil";
/// A recipient the core warns about (`gmial.com`), sure enough to be refused in block mode
/// (`block_warn_score`).
pub const WARN_TYPO: &str = "x@gmial.com";
/// A recipient the core warns about, below `block_warn_score` (`gnx.de` for `gmx.de`).
pub const SOFT_WARN: &str = "x@gnx.de";
/// Recipients the core allows.
pub const CLEAN: &str = "y@gmail.com";
pub const CLEAN2: &str = "p@gmx.com";

/// The configuration the tests use: every knob set explicitly.
pub fn config(mode: &str) -> Value {
    json!({
        "mode": mode,
        "max_body_bytes": 64 * 1024,
        "confirm": {"header": CONFIRM_HEADER, "secret": SECRET, "ttl_seconds": 600},
        "sender_header": SENDER_HEADER,
        "check_path": CHECK_PATH,
        "verdict_path": VERDICT_PATH,
    })
}

/// Loads the built filter with this configuration; a refused configuration fails the test
/// with the plugin's logs.
pub fn filter(config: &Value) -> Filter {
    match Filter::new(&config.to_string()) {
        Ok(f) => f,
        Err(e) => panic!("cannot start the filter with {config}: {e:#}"),
    }
}

/// The configuration must be refused (`proxy_on_configure` false); returns the logs.
pub fn rejected(config: &str) -> String {
    match Filter::new(config) {
        Ok(_) => panic!("configuration {config} was accepted"),
        Err(e) => match e.downcast_ref::<HostError>() {
            Some(h @ HostError::ConfigRejected { .. }) => h.log_text(),
            _ => panic!("configuration {config}: expected a rejection, got {e:#}"),
        },
    }
}

pub fn run(f: &mut Filter, req: Request) -> Outcome {
    match f.request(req) {
        Ok(o) => o,
        Err(e) => panic!("request failed: {e:#}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Verdicts

/// The native engine's verdict for this sender and recipients (default policy).
pub fn native(from: Option<&str>, to: &[&str]) -> Value {
    let engine = mistype::Engine::with_default_policy();
    let req = mistype::CheckRequest {
        id: Value::Null,
        from: from.map(str::to_string),
        to: to.iter().map(|s| s.to_string()).collect(),
        cc: Vec::new(),
        bcc: Vec::new(),
        contacts: Vec::new(),
    };
    serde_json::to_value(engine.check(&req)).expect("verdict serialises")
}

/// The verdict object in a filter reply: the body itself if it has `findings`, else its
/// `mistype` member (the Graph, Gmail and JMAP dialects), else its `verdict` member if that is
/// an object.
pub fn verdict_of(body: &Value) -> Option<&Value> {
    if body.get("findings").is_some() {
        return Some(body);
    }
    if let Some(m) = body.get("mistype").filter(|m| m.get("findings").is_some()) {
        return Some(m);
    }
    match body.get("verdict") {
        Some(v @ Value::Object(_)) => Some(v),
        _ => None,
    }
}

/// The verdict alone: the reply body without the filter's own additions (`confirm`,
/// `confirm_error`), for comparison with the engine's verdict.
pub fn bare_verdict(body: &Value) -> Option<Value> {
    let mut v = verdict_of(body)?.clone();
    if let Value::Object(m) = &mut v {
        m.remove("confirm");
        m.remove("confirm_error");
        m.remove("message");
    }
    Some(v)
}

/// The native engine's verdict under a policy given as JSON.
pub fn native_with_policy(policy: &Value, from: Option<&str>, to: &[&str]) -> Value {
    let engine = mistype::Engine::from_policy_json(&policy.to_string()).expect("policy");
    let req = mistype::CheckRequest {
        id: Value::Null,
        from: from.map(str::to_string),
        to: to.iter().map(|s| s.to_string()).collect(),
        cc: Vec::new(),
        bcc: Vec::new(),
        contacts: Vec::new(),
    };
    serde_json::to_value(engine.check(&req)).expect("verdict serialises")
}

/// The verdict word (`allow`/`warn`/`block`) in a reply body.
pub fn verdict_word(body: &Value) -> Option<String> {
    verdict_of(body)
        .and_then(|v| v.get("verdict"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The suggestions of the findings, sorted.
pub fn suggestions(verdict: &Value) -> Vec<String> {
    let mut s: Vec<String> = verdict["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|x| x["suggestion"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    s.sort();
    s
}

/// Finds a string that looks like the confirm token anywhere in a reply body: the value of a
/// key named `token` (or `confirm_token`), at any depth.
pub fn token_in(body: &Value) -> Option<String> {
    match body {
        Value::Object(map) => {
            for (k, v) in map {
                if (k == "token" || k == "confirm_token") && v.is_string() {
                    return v.as_str().map(str::to_string);
                }
            }
            map.values().find_map(token_in)
        }
        Value::Array(items) => items.iter().find_map(token_in),
        _ => None,
    }
}

/// A blocked send: a local 422 JSON reply with a `block` verdict, and the upstream never got
/// the complete request.
#[track_caller]
pub fn assert_blocked(o: &Outcome) -> Value {
    // JMAP refuses inside a 200 JMAP response (notCreated / method errors), Roundcube's compose
    // window (`_framed=1`) with a 200 page it displays; the others with a 422.
    let html = o
        .response_header("content-type")
        .is_some_and(|c| c.starts_with("text/html"));
    let jmap = o.json().is_some_and(|b| b.get("methodResponses").is_some());
    assert_eq!(
        o.status(),
        Some(if jmap || html { 200 } else { 422 }),
        "expected a refusal; got {:?}\nbody: {:?}\nlogs:\n{}",
        o.status(),
        o.response.as_ref().map(|r| r.body_str()),
        o.log_text()
    );
    assert_eq!(o.response_header("x-mistype-verdict"), Some("block"));
    assert!(o.local_reply.is_some(), "a refusal must be a local reply");
    assert!(
        o.forwarded().is_none(),
        "a blocked send must not reach the upstream in full"
    );
    let body = if html {
        // The page hands the verdict to the plugin: `var verdict = {...};`.
        let page = o
            .response
            .as_ref()
            .map(|r| r.body_str())
            .unwrap_or_default();
        let json = page
            .split_once("var verdict = ")
            .and_then(|(_, rest)| rest.split_once(";\n"))
            .map(|(v, _)| v.to_string())
            .unwrap_or_else(|| panic!("no verdict in the Roundcube page: {page}"));
        serde_json::from_str(&json).expect("the page's verdict is JSON")
    } else {
        assert!(
            o.response_header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "a refusal must be JSON: {:?}",
            o.response.as_ref().map(|r| &r.headers)
        );
        o.json().expect("the refusal is JSON")
    };
    assert_eq!(verdict_word(&body).as_deref(), Some("block"), "{body}");
    if jmap {
        assert_jmap_refusal(&body);
    }
    body
}

/// A JMAP refusal tells the client that nothing was sent: each `EmailSubmission/set` answers
/// every creation `notCreated` with `forbiddenToSend` (RFC 8621 §7.5) and created nothing; every
/// other call is a `forbidden` method error.
#[track_caller]
pub fn assert_jmap_refusal(body: &Value) {
    let responses = body["methodResponses"]
        .as_array()
        .unwrap_or_else(|| panic!("no methodResponses: {body}"));
    let mut submissions = 0;
    for r in responses {
        if r[0] == "EmailSubmission/set" {
            submissions += 1;
            assert_eq!(r[1]["created"], Value::Null, "nothing created: {r}");
            let not_created = r[1]["notCreated"]
                .as_object()
                .unwrap_or_else(|| panic!("no notCreated: {r}"));
            assert!(!not_created.is_empty(), "every creation refused: {r}");
            for (id, e) in not_created {
                assert_eq!(e["type"], "forbiddenToSend", "{id}: {r}");
                assert!(
                    e["description"]
                        .as_str()
                        .is_some_and(|d| d.starts_with("Not sent: ")),
                    "{id}: {r}"
                );
            }
        } else {
            assert_eq!(r[0], "error", "every other call did not run: {r}");
            assert_eq!(r[1]["type"], "forbidden", "{r}");
        }
    }
    assert!(submissions > 0, "a refusal answers the submission: {body}");
}

/// A send that went through untouched: the upstream got exactly the request's body.
#[track_caller]
pub fn assert_passed(o: &Outcome, body: &[u8]) {
    assert!(
        o.passed(),
        "expected the request to pass; status {:?} body {:?} stalled {:?}\nlogs:\n{}",
        o.status(),
        o.response.as_ref().map(|r| r.body_str()),
        o.stalled,
        o.log_text()
    );
    let up = o.forwarded().expect("forwarded");
    assert_eq!(
        String::from_utf8_lossy(&up.body),
        String::from_utf8_lossy(body),
        "the upstream must receive the body byte for byte"
    );
    assert_eq!(o.status(), Some(200));
}

// ---------------------------------------------------------------------------------------------
// Send requests: the shared fixtures (`mistype_testdata::sends`) as host requests.

pub fn jmap(from: &str, to: &[&str], cc: &[&str]) -> Request {
    sends::jmap(from, to, cc).into()
}

pub fn jmap_envelope(from: &str, rcpt: &[&str]) -> Request {
    sends::jmap_envelope(from, rcpt).into()
}

pub fn graph_send_mail(from: &str, to: &[&str], cc: &[&str]) -> Request {
    sends::graph_send_mail(from, to, cc).into()
}

pub fn graph_reply(to: &[&str]) -> Request {
    sends::graph_reply(to).into()
}

pub fn graph_forward(to: &[&str]) -> Request {
    sends::graph_forward(to).into()
}

pub fn graph_batch(batch: &[&[&str]]) -> Request {
    sends::graph_batch(batch).into()
}

pub fn gmail_raw(mime: &str) -> Request {
    sends::gmail_raw(mime).into()
}

pub fn gmail_upload_media(mime: &str) -> Request {
    sends::gmail_upload_media(mime).into()
}

pub fn gmail_upload_multipart(mime: &str) -> Request {
    sends::gmail_upload_multipart(mime).into()
}

pub fn gmail_batch(mimes: &[&str]) -> Request {
    sends::gmail_batch(mimes, None).into()
}

pub fn roundcube_form(to: &str, cc: &str, bcc: &str, draft: bool) -> Request {
    sends::roundcube_form(to, cc, bcc, draft).into()
}

pub fn roundcube_multipart(to: &str, cc: &str, draft: bool) -> Request {
    sends::roundcube_multipart(to, cc, draft).into()
}

pub fn snappymail(to: &str, cc: &str) -> Request {
    sends::snappymail(to, cc).into()
}

pub fn nextcloud(to: &[&str], cc: &[&str]) -> Request {
    sends::nextcloud(to, cc).into()
}

pub fn sogo(from: &str, to: &[&str], cc: &[&str]) -> Request {
    sends::sogo(from, to, cc).into()
}

pub fn check(from: &str, to: &[&str]) -> Request {
    sends::check(from, to, &[]).into()
}
