//! Holding a send until its verdict, and sends by reference (drafts sent by id) whose
//! recipients the filter looks up on the mail server, under the wasmtime host.

mod filter_support;

use filter_support::*;
use host_tests::{Callback, Filter, HttpCall, Request, UpstreamResponse};
use mistype_testdata::sends;
use serde_json::{json, Value};

const AUTH: &str = "Bearer user-1";

fn counter(f: &Filter, name: &str) -> u64 {
    f.counter(&format!("mistype.{name}"))
}

fn json_answer(status: u16, body: Value) -> Option<UpstreamResponse> {
    Some(UpstreamResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    })
}

/// A Graph draft as `GET /me/messages/{id}?$select=...` returns it.
fn graph_draft(to: &str) -> Value {
    json!({"id": "AAMk=", "from": {"emailAddress": {"name": "Sgt Ray", "address": MIL_SENDER}},
           "toRecipients": [{"emailAddress": {"name": "Lt J", "address": to}}],
           "ccRecipients": [], "bccRecipients": []})
}

/// `POST /v1.0/me/messages/AAMk%3D/send` with no body, as Graph apps send a draft.
fn graph_draft_send(to: &'static str) -> Request {
    Request::from(sends::graph_draft_send("AAMk%3D"))
        .header("authorization", AUTH)
        .header("cookie", "session=abc")
        .header("x-other", "not forwarded")
        .on_http_call(move |call: &HttpCall| {
            let expected = "/v1.0/me/messages/AAMk%3D?$select=from,sender,toRecipients,ccRecipients,bccRecipients";
            let ok = call.header(":path") == Some(expected)
                && call.header("authorization") == Some(AUTH);
            if ok {
                json_answer(200, graph_draft(to))
            } else {
                json_answer(401, json!({"error": {"code": "InvalidAuthenticationToken"}}))
            }
        })
}

#[test]
fn a_graph_draft_sent_by_id_is_looked_up_and_judged() {
    let mut f = filter(&config("block"));
    let o = run(&mut f, graph_draft_send(TYPO));
    let body = assert_blocked(&o);
    assert!(
        o.upstream.is_none(),
        "nothing of a blocked send goes upstream"
    );
    // The lookup: the configured cluster, the user's own credentials, nothing else.
    assert_eq!(o.http_calls.len(), 1, "{:?}", o.http_calls);
    let call = &o.http_calls[0];
    assert_eq!(call.upstream, "webmail");
    assert_eq!(call.header(":method"), Some("GET"));
    assert_eq!(call.header(":authority"), Some("mail.example.test"));
    assert_eq!(call.header("authorization"), Some(AUTH));
    assert_eq!(call.header("cookie"), Some("session=abc"));
    assert_eq!(call.header("x-other"), None);
    assert_eq!(call.timeout_ms, 5000);
    // Graph's own error shape, with what was typed and what was meant.
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(TYPO) && message.contains(TYPO_FIXED),
        "{message}"
    );
    assert_eq!(suggestions(verdict_of(&body).unwrap()), vec![TYPO_FIXED]);
    assert_eq!(counter(&f, "lookups"), 1);
    assert_eq!(counter(&f, "blocked"), 1);
    assert_eq!(counter(&f, "no_recipients"), 0);

    // The confirm token binds the looked-up recipients: the same draft goes through with it.
    let token = token_in(&body).expect("a confirm token");
    let o = run(
        &mut f,
        graph_draft_send(TYPO).header(CONFIRM_HEADER, &token),
    );
    assert!(o.passed(), "{:?}\n{}", o.status(), o.log_text());
    assert_eq!(counter(&f, "confirmed"), 1);

    // A clean draft passes: the upstream gets the send as it was.
    let o = run(&mut f, graph_draft_send(CLEAN));
    assert_passed(&o, b"");
    assert_eq!(
        o.forwarded().unwrap().headers.get("authorization"),
        Some(AUTH)
    );
    assert_eq!(counter(&f, "lookups"), 3);
}

#[test]
fn gmail_jmap_and_nextcloud_sends_by_reference() {
    let mut f = filter(&config("block"));
    // Gmail drafts.send({id}).
    let gmail = Request::from(sends::gmail_draft_send_by_id("r-42"))
        .header("authorization", AUTH)
        .on_http_call(|call: &HttpCall| {
            (call.header(":path") == Some("/gmail/v1/users/me/drafts/r-42?format=metadata"))
                .then(|| {
                    json_answer(
                        200,
                        json!({"id": "r-42", "message": {"id": "m", "payload": {"headers": [
                            {"name": "From", "value": MIL_SENDER},
                            {"name": "To", "value": format!("Lt J <{TYPO}>")}]}}}),
                    )
                })
                .flatten()
        });
    let o = run(&mut f, gmail);
    let body = assert_blocked(&o);
    assert_eq!(body["error"]["status"], "FAILED_PRECONDITION");
    assert_eq!(o.http_calls[0].header(":method"), Some("GET"));

    // JMAP EmailSubmission/set of a stored Email: Email/get on the same API URL.
    let jmap = Request::from(sends::jmap_submit_stored("M42"))
        .header("authorization", AUTH)
        .on_http_call(|call: &HttpCall| {
            let asked: Value = serde_json::from_slice(&call.body).ok()?;
            let get = &asked["methodCalls"][0];
            (get[0] == "Email/get"
                && get[1]["ids"] == json!(["M42"])
                && get[1]["accountId"] == "A1")
                .then(|| {
                    json_answer(
                        200,
                        json!({"methodResponses": [["Email/get", {"accountId": "A1", "state": "1",
                            "list": [{"id": "M42", "from": [{"email": MIL_SENDER}],
                                      "to": [{"email": TYPO}], "cc": null, "bcc": null}],
                            "notFound": []}, "mistype"]], "sessionState": "s"}),
                    )
                })
                .flatten()
        });
    let o = run(&mut f, jmap);
    let body = assert_blocked(&o);
    assert_eq!(o.http_calls[0].header(":path"), Some("/jmap/api/"));
    assert_eq!(o.http_calls[0].header(":method"), Some("POST"));
    let sub = &body["methodResponses"][0];
    assert_eq!(sub[0], "EmailSubmission/set");
    assert_eq!(sub[2], "c1");
    assert_eq!(sub[1]["notCreated"]["k1"]["type"], "forbiddenToSend");
    let description = sub[1]["notCreated"]["k1"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(description.contains(TYPO_FIXED), "{description}");

    // Nextcloud Mail's outbox send of a stored entry.
    let nextcloud = Request::from(sends::nextcloud_outbox_send("17"))
        .header("cookie", "nc_session=1")
        .on_http_call(|call: &HttpCall| {
            (call.header(":path") == Some("/index.php/apps/mail/api/outbox/17")
                && call.header("cookie") == Some("nc_session=1"))
            .then(|| {
                json_answer(
                    200,
                    json!({"data": {"id": 17, "to": [{"label": "Lt J", "email": TYPO}]}}),
                )
            })
            .flatten()
        });
    let o = run(&mut f, nextcloud.header(SENDER_HEADER, MIL_SENDER));
    assert_blocked(&o);
    assert_eq!(counter(&f, "lookups"), 3);
}

#[test]
fn failed_and_timed_out_lookups_are_refused_never_passed_silently() {
    let mut f = filter(&config("block"));
    // No answer (a timeout or a reset: Envoy reports no headers).
    let o = run(
        &mut f,
        Request::from(sends::graph_draft_send("D1")).on_http_call(|_: &HttpCall| None),
    );
    assert_eq!(o.status(), Some(503), "{}", o.log_text());
    assert!(o.upstream.is_none());
    let body = o.json().unwrap();
    assert_eq!(body["error"]["code"], "lookup_failed");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("Graph message D1"), "{message}");
    assert_eq!(body["mistype"]["reason"], "no_answer");
    // The mail server refuses the user, or answers something unreadable.
    for (status, answer) in [(401, json!({})), (200, json!({"odd": true}))] {
        let o = run(
            &mut f,
            Request::from(sends::graph_draft_send("D1"))
                .on_http_call(move |_: &HttpCall| json_answer(status, answer.clone())),
        );
        assert_eq!(o.status(), Some(503), "{status}: {}", o.log_text());
    }
    assert_eq!(counter(&f, "lookup_failed"), 3);
    assert!(
        f.logs()
            .iter()
            .any(|l| l.message.contains("looking up Graph message D1 failed")),
        "the refusal is logged"
    );

    // `lookup.on_failure: pass` lets it through, counted and logged.
    let mut cfg = config("block");
    cfg["lookup"] = json!({"on_failure": "pass", "timeout_ms": 250});
    let mut f = filter(&cfg);
    let o = run(
        &mut f,
        Request::from(sends::graph_draft_send("D1")).on_http_call(|_: &HttpCall| None),
    );
    assert!(o.passed());
    assert_eq!(o.http_calls[0].timeout_ms, 250);
    assert_eq!(counter(&f, "lookup_failed"), 1);

    // A cluster Envoy does not know: the call cannot even be made.
    let mut cfg = config("block");
    cfg["lookup"] = json!({"cluster": "no-such-cluster"});
    let mut f = filter(&cfg);
    let o = run(&mut f, Request::from(sends::graph_draft_send("D1")));
    assert_eq!(o.status(), Some(503));
    assert!(o.http_calls.is_empty());
}

#[test]
fn headers_are_held_until_the_verdict() {
    let mut f = filter(&config("block"));
    // A blocked send, its body in pieces: not even the headers reach the upstream.
    let o = run(
        &mut f,
        graph_send_mail(MIL_SENDER, &[TYPO], &[])
            .header(SENDER_HEADER, MIL_SENDER)
            .chunked(7),
    );
    assert_blocked(&o);
    assert!(o.upstream.is_none(), "{:?}", o.upstream);
    assert_eq!(
        o.actions[0],
        (Callback::RequestHeaders, host_tests::Action::Pause)
    );
    // A clean one goes on whole once judged.
    let req = graph_send_mail(MIL_SENDER, &[CLEAN], &[]).chunked(7);
    let body = req.body_bytes();
    let o = run(&mut f, req);
    assert_passed(&o, &body);

    // Behind an Envoy without allow_on_headers_stop_iteration, holding would stall every send:
    // `hold_headers: false` lets the headers go at once and holds only the body.
    let mut cfg = config("block");
    cfg["hold_headers"] = json!(false);
    let mut f = Filter::builder()
        .config(cfg.to_string())
        .stop_all_iteration_on_headers()
        .start()
        .unwrap();
    let o = run(
        &mut f,
        graph_send_mail(MIL_SENDER, &[TYPO], &[])
            .header(SENDER_HEADER, MIL_SENDER)
            .chunked(7),
    );
    assert_blocked(&o);
    assert!(o.upstream.as_ref().is_some_and(|u| !u.complete));
}

#[test]
fn later_chunks_of_a_resumable_upload_are_not_parsed() {
    let mut f = filter(&config("block"));
    let put = |range: &str, body: &str| {
        Request::put("/upload/gmail/v1/users/me/messages/send?uploadType=resumable&upload_id=u1")
            .header("content-range", range)
            .body(body.as_bytes().to_vec())
    };
    // The first chunk holds the headers: judged.
    let first = format!("From: {MIL_SENDER}\r\nTo: {TYPO}\r\nSubject: x\r\n\r\nstart of the body");
    assert_blocked(&run(&mut f, put("bytes 0-99/300", &first)));
    // A later chunk is the middle of a message: not a send of its own.
    let o = run(
        &mut f,
        put(
            "bytes 100-199/300",
            "To: looks like a header but is body text",
        ),
    );
    assert!(o.passed());
    assert_eq!(counter(&f, "inspected"), 1);
    assert_eq!(counter(&f, "parse_errors"), 0);
}

#[test]
fn a_certain_provider_typo_is_refused_with_a_confirm_token() {
    let mut f = filter(&config("block"));
    let o = run(&mut f, graph_send_mail(MIL_SENDER, &[WARN_TYPO], &[]));
    // Refused (422, x-mistype-verdict: block) although the engine's verdict stays `warn`.
    assert_eq!(o.status(), Some(422), "{}", o.log_text());
    assert_eq!(o.response_header("x-mistype-verdict"), Some("block"));
    assert!(o.upstream.is_none());
    let body = o.json().unwrap();
    assert_eq!(body["mistype"]["verdict"], "warn");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("x@gmail.com"), "{message}");
    let token = token_in(&body).expect("confirmable");
    let o = run(
        &mut f,
        graph_send_mail(MIL_SENDER, &[WARN_TYPO], &[]).header(CONFIRM_HEADER, &token),
    );
    assert!(o.passed());
    // `block_warn_score: null`: warn findings only annotate the response again.
    let mut cfg = config("block");
    cfg["block_warn_score"] = Value::Null;
    let mut f = filter(&cfg);
    let o = run(&mut f, graph_send_mail(MIL_SENDER, &[WARN_TYPO], &[]));
    assert!(o.passed());
    assert_eq!(o.response_header("x-mistype-verdict"), Some("warn"));
}

#[test]
fn an_upload_sessions_confirm_token_goes_to_that_session_only() {
    let mut f = filter(&config("block"));
    let upload = "/upload/gmail/v1/users/me/messages/send";
    let message = format!("From: {MIL_SENDER}\r\nTo: {TYPO}\r\nSubject: x\r\n\r\nbody");
    let put = |session: &str| {
        Request::put(&format!(
            "{upload}?uploadType=resumable&upload_id={session}"
        ))
        .content_type("message/rfc822")
        .body(message.clone().into_bytes())
    };
    // Refused; the answer carries the token that confirms these recipients.
    let body = assert_blocked(&run(&mut f, put("u1")));
    let token = token_in(&body).expect("a confirm token");
    // The app opens a new session with the token; the server names the session in `Location`.
    let location = format!("https://mail.example.test{upload}?uploadType=resumable&upload_id=u2");
    let start = Request::post(&format!("{upload}?uploadType=resumable"))
        .header(CONFIRM_HEADER, &token)
        .json(&json!({}))
        .upstream_response(200, &[("location", &location)], b"");
    let o = run(&mut f, start);
    assert!(o.passed(), "{}", o.log_text());
    // Another API's send whose query names the session does not take its token...
    let other = jmap(MIL_SENDER, &[TYPO], &[]);
    let other = Request::post(&format!("{}?upload_id=u2", other.path()))
        .content_type("application/json")
        .body(other.body_bytes());
    assert_blocked(&run(&mut f, other));
    // ...which the session's own upload then carries: confirmed.
    let o = run(&mut f, put("u2"));
    assert!(o.passed(), "{}", o.log_text());
    assert_eq!(counter(&f, "confirmed"), 1);
}
