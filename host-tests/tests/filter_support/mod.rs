//! Shared helpers for the `filter_*` tests: configurations, one request builder per webmail
//! API, and assertions that compare the filter's verdicts with the native engine's.
#![allow(dead_code)]

use base64::Engine as _;
use host_tests::{Filter, HostError, Outcome, Request};
use serde_json::{json, Value};

/// The confirm secret used by the tests (base64 of 32 bytes).
pub const SECRET: &str = "dGVzdC1zZWNyZXQtZm9yLWhvc3QtdGVzdHMtMDEyMzQ=";
pub const CONFIRM_HEADER: &str = "x-mistype-confirm";
pub const SENDER_HEADER: &str = "x-authenticated-user";
pub const CHECK_PATH: &str = "/mistype/check";
pub const VERDICT_PATH: &str = "/mistype/verdict";

/// A `.mil` sender and a recipient the core must block for it (contract must-hold).
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
    // JMAP refuses inside a 200 JMAP response (notCreated / method errors); the others 422.
    let jmap = o.json().is_some_and(|b| b.get("methodResponses").is_some());
    assert_eq!(
        o.status(),
        Some(if jmap { 200 } else { 422 }),
        "expected a 422 local reply; got {:?}\nbody: {:?}\nlogs:\n{}",
        o.status(),
        o.response.as_ref().map(|r| r.body_str()),
        o.log_text()
    );
    assert_eq!(o.response_header("x-mistype-verdict"), Some("block"));
    assert!(o.local_reply.is_some(), "the 422 must be a local reply");
    assert!(
        o.forwarded().is_none(),
        "a blocked send must not reach the upstream in full"
    );
    assert!(
        o.response_header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "422 must be JSON: {:?}",
        o.response.as_ref().map(|r| &r.headers)
    );
    let body = o.json().expect("422 body is JSON");
    assert_eq!(verdict_word(&body).as_deref(), Some("block"), "{body}");
    body
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
// Request builders, one per API (shapes from the vendors' docs and sources).

pub fn jmap(from: &str, to: &[&str], cc: &[&str]) -> Request {
    let addrs = |v: &[&str]| -> Vec<Value> { v.iter().map(|a| json!({"email": a})).collect() };
    let body = json!({
        "using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission"],
        "methodCalls": [
            ["Email/set", {"accountId": "A1", "create": {"d1": {
                "mailboxIds": {"drafts": true}, "keywords": {"$draft": true},
                "from": [{"email": from}], "to": addrs(to), "cc": addrs(cc),
                "subject": "Schedule", "textBody": [{"partId": "p", "type": "text/plain"}],
                "bodyValues": {"p": {"value": "See you at 0900."}}}}}, "c0"],
            ["EmailSubmission/set", {"accountId": "A1", "create": {"s1": {
                "identityId": "I1", "emailId": "#d1"}},
                "onSuccessUpdateEmail": {"#s1": {"keywords/$draft": null}}}, "c1"]
        ]
    });
    Request::post("/jmap/api/").json(&body)
}

/// JMAP with an explicit envelope (the envelope decides the recipients).
pub fn jmap_envelope(from: &str, rcpt: &[&str]) -> Request {
    let rcpt: Vec<Value> = rcpt.iter().map(|a| json!({"email": a})).collect();
    let body = json!({
        "using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:submission"],
        "methodCalls": [["EmailSubmission/set", {"accountId": "A1", "create": {"s1": {
            "identityId": "I1", "emailId": "M42",
            "envelope": {"mailFrom": {"email": from}, "rcptTo": rcpt}}}}, "c1"]]
    });
    Request::post("/jmap/api/").json(&body)
}

fn graph_recipients(v: &[&str]) -> Vec<Value> {
    v.iter()
        .map(|a| json!({"emailAddress": {"address": a, "name": "Someone"}}))
        .collect()
}

pub fn graph_message(to: &[&str], cc: &[&str]) -> Value {
    json!({"subject": "Schedule", "body": {"contentType": "Text", "content": "See you."},
           "toRecipients": graph_recipients(to), "ccRecipients": graph_recipients(cc),
           "bccRecipients": []})
}

pub fn graph_send_mail(to: &[&str], cc: &[&str]) -> Request {
    Request::post("/v1.0/me/sendMail")
        .json(&json!({"message": graph_message(to, cc), "saveToSentItems": true}))
}

pub fn graph_reply(to: &[&str]) -> Request {
    Request::post("/v1.0/me/messages/AAMkAD123/replyAll")
        .json(&json!({"message": graph_message(to, &[]), "comment": "Agreed."}))
}

pub fn graph_forward(to: &[&str]) -> Request {
    Request::post("/v1.0/me/messages/AAMkAD123/forward")
        .json(&json!({"comment": "FYI", "toRecipients": graph_recipients(to)}))
}

pub fn graph_batch(sends: &[&[&str]]) -> Request {
    let mut requests = vec![json!({"id": "0", "method": "GET", "url": "/me/messages?$top=1"})];
    for (i, to) in sends.iter().enumerate() {
        requests.push(
            json!({"id": (i + 1).to_string(), "method": "POST", "url": "/me/sendMail",
            "headers": {"Content-Type": "application/json"},
            "body": {"message": graph_message(to, &[]), "saveToSentItems": false}}),
        );
    }
    Request::post("/v1.0/$batch").json(&json!({"requests": requests}))
}

/// An RFC 5322 message with these headers (folded `To` when there are several recipients).
pub fn mime_message(from: &str, to: &[&str], cc: &[&str]) -> String {
    let mut m = format!("From: Sender <{from}>\r\n");
    if !to.is_empty() {
        m.push_str(&format!("To: {}\r\n", to.join(",\r\n ")));
    }
    if !cc.is_empty() {
        m.push_str(&format!("Cc: {}\r\n", cc.join(", ")));
    }
    m.push_str("Subject: Schedule\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee you at 0900.\r\n");
    m
}

pub fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

pub fn gmail_raw(mime: &str) -> Request {
    Request::post("/gmail/v1/users/me/messages/send")
        .json(&json!({"raw": b64url(mime.as_bytes()), "threadId": "18c0ffee"}))
}

pub fn gmail_upload_media(mime: &str) -> Request {
    Request::post("/upload/gmail/v1/users/me/messages/send?uploadType=media")
        .content_type("message/rfc822")
        .body(mime.as_bytes().to_vec())
}

pub fn gmail_upload_multipart(mime: &str) -> Request {
    let boundary = "foo_bar_baz";
    let body = format!(
        "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{{\"threadId\":\"18c0ffee\"}}\r\n--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n{mime}\r\n--{boundary}--\r\n"
    );
    Request::post("/upload/gmail/v1/users/me/messages/send?uploadType=multipart")
        .content_type(&format!("multipart/related; boundary={boundary}"))
        .body(body.into_bytes())
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

const ROUNDCUBE_PATH: &str = "/?_task=mail&_action=send&_unlock=loading1&_framed=1";

pub fn roundcube_form(to: &str, cc: &str, bcc: &str, draft: bool) -> Request {
    let fields = [
        ("_token", "3fa9c0ffee"),
        ("_id", "66a1"),
        ("_draft", if draft { "1" } else { "" }),
        ("_from", "1"),
        ("_to", to),
        ("_cc", cc),
        ("_bcc", bcc),
        ("_subject", "Schedule"),
        ("_message", "See you at 0900."),
        ("_is_html", "0"),
    ];
    let body = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    Request::post(ROUNDCUBE_PATH)
        .content_type("application/x-www-form-urlencoded")
        .body(body.into_bytes())
}

pub fn roundcube_multipart(to: &str, cc: &str, draft: bool) -> Request {
    let boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
    let fields = [
        ("_token", "3fa9c0ffee"),
        ("_draft", if draft { "1" } else { "" }),
        ("_to", to),
        ("_cc", cc),
        ("_bcc", ""),
        ("_subject", "Schedule"),
        ("_message", "See you at 0900."),
    ];
    let mut body = String::new();
    for (k, v) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"_attachments[]\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nattachment\r\n--{boundary}--\r\n"
    ));
    Request::post(ROUNDCUBE_PATH)
        .content_type(&format!("multipart/form-data; boundary={boundary}"))
        .body(body.into_bytes())
}

pub fn snappymail(to: &str, cc: &str) -> Request {
    Request::post("/?/Json/&q[]=/0/")
        .header("x-sm-token", "abc")
        .json(
            &json!({"Action": "SendMessage", "identityID": "main", "to": to, "cc": cc,
                      "bcc": "", "subject": "Schedule", "plain": "See you."}),
        )
}

pub fn nextcloud(to: &[&str], cc: &[&str]) -> Request {
    let list = |v: &[&str]| -> Vec<Value> {
        v.iter()
            .map(|a| json!({"label": "Someone", "email": a}))
            .collect()
    };
    Request::post("/index.php/apps/mail/api/outbox").json(&json!({
        "accountId": 3, "subject": "Schedule", "bodyPlain": "See you.", "isHtml": false,
        "smimeSign": false, "smimeEncrypt": false, "to": list(to), "cc": list(cc), "bcc": [],
        "attachments": [], "sendAt": 1767225600}))
}

pub fn sogo(from: &str, to: &[&str], cc: &[&str]) -> Request {
    Request::post("/SOGo/so/ops/Mail/0/folderDrafts/newDraft1700000000-1/send").json(&json!({
        "from": from, "to": to, "cc": cc, "bcc": [], "subject": "Schedule",
        "text": "See you.", "isHTML": false}))
}

pub fn check(from: &str, to: &[&str]) -> Request {
    Request::post(CHECK_PATH).json(&json!({"id": "t1", "from": from, "to": to}))
}
