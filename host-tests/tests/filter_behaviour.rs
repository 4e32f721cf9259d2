//! The filter's modes, confirm tokens, body handling, configuration checks and metrics, under
//! the wasmtime host.

mod filter_support;

use std::time::Duration;

use filter_support::*;
use host_tests::{Callback, Filter, LogLevel, MetricValue, Request};
use mistype_testdata::sends;
use serde_json::json;

/// The filter's counter `mistype.<name>` (0 when it was never defined or never moved).
fn counter(f: &Filter, name: &str) -> u64 {
    f.counter(&format!("mistype.{name}"))
}

fn counter_names(f: &Filter) -> Vec<String> {
    f.metrics().keys().cloned().collect()
}

// ---------------------------------------------------------------------------------------------
// Modes

#[test]
fn warn_mode_passes_the_send_and_annotates_the_response() {
    let mut f = filter(&config("warn"));
    let req = jmap(MIL_SENDER, &[CLEAN], &[TYPO]).header(SENDER_HEADER, MIL_SENDER);
    let body = req.body_bytes();
    let o = run(&mut f, req.chunked(5));
    assert_passed(&o, &body);
    assert_eq!(o.response_header("x-mistype-verdict"), Some("block"));
    let findings = o
        .response_header("x-mistype-findings")
        .expect("x-mistype-findings on the response");
    assert!(findings.contains(TYPO_FIXED), "{findings}");
    assert!(findings.is_ascii(), "header values stay ASCII: {findings}");
    let parsed: serde_json::Value =
        serde_json::from_str(findings).unwrap_or_else(|e| panic!("{findings}: {e}"));
    assert_eq!(
        parsed,
        json!([{"address": TYPO, "kind": "suffix-typo", "severity": "block",
                "suggestion": TYPO_FIXED}])
    );
    // The upstream request itself is not changed.
    let up = o.forwarded().unwrap();
    assert!(up
        .headers
        .pairs()
        .iter()
        .all(|(k, _)| !k.starts_with("x-mistype")));

    // A warn-level finding is annotated as warn; a clean send not at all.
    let o = run(&mut f, graph_send_mail(MIL_SENDER, &[WARN_TYPO], &[]));
    assert!(o.passed());
    assert_eq!(o.response_header("x-mistype-verdict"), Some("warn"));
    let o = run(&mut f, graph_send_mail(MIL_SENDER, &[CLEAN], &[]));
    assert!(o.passed());
    assert_eq!(o.response_header("x-mistype-verdict"), None, "clean send");
    assert_eq!(o.response_header("x-mistype-findings"), None, "clean send");
}

#[test]
fn monitor_mode_only_counts_and_logs() {
    let mut f = filter(&config("monitor"));
    let req = nextcloud(&[TYPO], &[]).header(SENDER_HEADER, MIL_SENDER);
    let body = req.body_bytes();
    let o = run(&mut f, req.chunked(5));
    assert_passed(&o, &body);
    assert!(o.response_header("x-mistype-verdict").is_none());
    assert!(
        o.logs.iter().any(|l| l.message.contains("navy.ml")),
        "monitor mode logs the finding:\n{}",
        o.log_text()
    );
    assert_eq!(counter(&f, "blocked"), 1, "{:?}", f.metrics());
    assert_eq!(counter(&f, "inspected"), 1);
}

// ---------------------------------------------------------------------------------------------
// Confirm tokens

fn blocked_token(f: &mut Filter, req: &Request) -> String {
    let o = run(f, req.clone());
    let body = assert_blocked(&o);
    let body = verdict_of(&body).cloned().unwrap_or(body);
    assert_eq!(body["confirm"]["header"], CONFIRM_HEADER, "{body}");
    token_in(&body).unwrap_or_else(|| panic!("a confirm token in the 422: {body}"))
}

#[test]
fn a_confirmed_send_goes_through_once_confirmed() {
    let mut f = filter(&config("block"));
    let req = jmap(MIL_SENDER, &[TYPO], &[CLEAN]).header(SENDER_HEADER, MIL_SENDER);
    let token = blocked_token(&mut f, &req);
    let body = req.body_bytes();
    // The same send with the token, in chunks, passes byte for byte.
    let o = run(
        &mut f,
        req.clone().header(CONFIRM_HEADER, &token).chunked(5),
    );
    assert_passed(&o, &body);
    assert_eq!(o.response_header("x-mistype-verdict"), Some("confirmed"));
    assert_eq!(counter(&f, "confirmed"), 1, "{:?}", f.metrics());
    // A token is about the recipients, not the API: the same send through Graph is the same
    // send. (Sender from the header in both.)
    let graph = graph_send_mail(MIL_SENDER, &[TYPO], &[CLEAN])
        .header(SENDER_HEADER, MIL_SENDER)
        .header(CONFIRM_HEADER, &token);
    let gbody = graph.body_bytes();
    let o = run(&mut f, graph);
    assert_passed(&o, &gbody);
}

#[test]
fn forged_altered_and_expired_tokens_are_refused_with_a_reason() {
    let mut f = filter(&config("block"));
    let req = jmap(MIL_SENDER, &[TYPO], &[]).header(SENDER_HEADER, MIL_SENDER);
    let token = blocked_token(&mut f, &req);

    // A refused token: the send is blocked again (422 with a fresh token), and the reply
    // says why in `confirm_error.reason`.
    let refused = |f: &mut Filter, req: Request, what: &str| -> String {
        let o = run(f, req);
        assert!(!o.passed(), "{what}: must not pass");
        let body = assert_blocked(&o);
        let body = verdict_of(&body).cloned().unwrap_or(body);
        let reason = body["confirm_error"]["reason"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: confirm_error.reason in {body}"))
            .to_string();
        assert!(
            body["confirm_error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{what}: a message for the person: {body}"
        );
        reason
    };

    // Forged: garbage, and a token with one character changed.
    assert_eq!(
        refused(
            &mut f,
            req.clone().header(CONFIRM_HEADER, "not-a-token"),
            "garbage"
        ),
        "malformed"
    );
    let mut flipped: Vec<char> = token.chars().collect();
    let mid = flipped.len() / 2;
    flipped[mid] = if flipped[mid] == 'A' { 'B' } else { 'A' };
    let flipped: String = flipped.into_iter().collect();
    let reason = refused(
        &mut f,
        req.clone().header(CONFIRM_HEADER, &flipped),
        "altered token",
    );
    assert_ne!(reason, "expired");
    // Altered send: the token does not cover another recipient set or another sender.
    assert_eq!(
        refused(
            &mut f,
            jmap(MIL_SENDER, &[TYPO, "d@navy.ml"], &[])
                .header(SENDER_HEADER, MIL_SENDER)
                .header(CONFIRM_HEADER, &token),
            "token for another recipient set",
        ),
        "altered-recipients"
    );
    assert_eq!(
        refused(
            &mut f,
            jmap(MIL_SENDER, &[TYPO], &[])
                .header(SENDER_HEADER, "other@army.mil")
                .header(CONFIRM_HEADER, &token),
            "token for another sender",
        ),
        "forged"
    );
    // Still good now; expired after the TTL (600 s) on the host clock.
    f.advance(Duration::from_secs(599));
    let body = req.body_bytes();
    assert_passed(
        &run(&mut f, req.clone().header(CONFIRM_HEADER, &token)),
        &body,
    );
    f.advance(Duration::from_secs(2));
    assert_eq!(
        refused(
            &mut f,
            req.clone().header(CONFIRM_HEADER, &token),
            "expired token"
        ),
        "expired"
    );
    assert_eq!(counter(&f, "confirm_rejected"), 5, "{:?}", f.metrics());
    assert_eq!(counter(&f, "confirmed"), 1);

    // A token from another secret is forged as far as this plugin knows.
    let mut other_cfg = config("block");
    other_cfg["confirm"]["secret"] = json!("another-secret-of-enough-length");
    let mut other = filter(&other_cfg);
    let foreign = blocked_token(&mut other, &req);
    refused(
        &mut f,
        req.clone().header(CONFIRM_HEADER, &foreign),
        "other secret",
    );
}

// ---------------------------------------------------------------------------------------------
// Bodies

#[test]
fn trailers_end_the_stream_and_the_decision_happens_there() {
    let mut f = filter(&config("block"));
    let typo = jmap(MIL_SENDER, &[TYPO], &[])
        .header(SENDER_HEADER, MIL_SENDER)
        .chunked(5)
        .trailer("x-checksum", "abc");
    let o = run(&mut f, typo);
    assert_blocked(&o);
    assert!(
        o.action(Callback::RequestBody)
            .iter()
            .all(|a| !a.is_continue()),
        "the body is held until the trailers: {:?}",
        o.actions
    );
    let clean = jmap(MIL_SENDER, &[CLEAN], &[])
        .header(SENDER_HEADER, MIL_SENDER)
        .chunked(5)
        .trailer("x-checksum", "abc");
    let body = clean.body_bytes();
    let o = run(&mut f, clean);
    assert_passed(&o, &body);
    let trailers = o
        .forwarded()
        .unwrap()
        .trailers
        .clone()
        .expect("trailers forwarded");
    assert_eq!(trailers.get("x-checksum"), Some("abc"));
}

#[test]
fn a_large_body_piece_is_read_in_slices_and_the_vms_memory_stays_small() {
    // Envoy's decompressor hands the filter a compressed send's piece inflated at once, up to
    // 100 times its size: one body callback of megabytes. The filter copies it into the VM a
    // slice at a time, so the VM's memory (which never shrinks) does not grow by the piece.
    let mut cfg = config("block");
    cfg["max_body_bytes"] = json!(32 << 20);
    let mut f = filter(&cfg);
    let pad = "z".repeat(8 << 20);
    // The recipients after the padding, as Graph's JSON may put them after an attachment.
    let send = |to: &str| {
        let body = json!({"message": {"subject": "s", "body": {"content": pad},
                          "toRecipients": [{"emailAddress": {"address": to}}]}});
        Request::post("/v1.0/me/sendMail").json(&body)
    };
    // A first send sizes the VM's buffers; the second shows what a piece adds for good.
    let o = run(&mut f, send(CLEAN));
    assert_eq!(o.status(), Some(200), "{}", o.log_text());
    let before = f.memory_bytes();
    assert_blocked(&run(&mut f, send(TYPO)));
    let grown = f.memory_bytes() - before;
    assert!(
        grown < 1 << 20,
        "an 8 MiB piece grew the VM's memory by {grown} bytes (from {before})"
    );
    assert!(
        before < 4 << 20,
        "the VM holds {before} bytes after one 8 MiB piece"
    );
}

/// `body` as gzip writes it.
fn gzip(body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(body).expect("gzip in memory");
    z.finish().expect("gzip in memory")
}

#[test]
fn a_compressed_send_is_refused_with_415_asking_for_it_uncompressed() {
    // Microsoft's Kiota-based SDKs (Go's by default) gzip every request body and send it again
    // uncompressed on a 415. The filter alone cannot read the compressed JSON: it refuses it
    // with 415 and `accept-encoding: identity`, before the body, and never lets it pass unjudged.
    let mut block = filter(&config("block"));
    let send = graph_send_mail(MIL_SENDER, &[CLEAN], &[]);
    let compressed = |r: Request, coding: &str| {
        let z = gzip(&r.body_bytes());
        r.header("content-encoding", coding).body(z).chunked(64)
    };
    for coding in ["gzip", "x-gzip", "identity, gzip"] {
        let o = run(&mut block, compressed(send.clone(), coding));
        assert_eq!(o.status(), Some(415), "{coding}: {}", o.log_text());
        assert!(o.forwarded().is_none(), "{coding}: nothing passes");
        assert_eq!(o.response_header("accept-encoding"), Some("identity"));
        let b = o.json().expect("a JSON reply");
        assert_eq!(b["error"]["code"], "encoded_send", "{b}");
    }
    assert!(
        block
            .logs()
            .iter()
            .any(|l| l.message.contains("envoy.filters.http.decompressor")),
        "the log names the fix:\n{:?}",
        block.logs()
    );
    // `identity` names no coding: the send is read and judged as it is.
    let typo = graph_send_mail(MIL_SENDER, &[TYPO], &[]).header("content-encoding", "identity");
    assert_blocked(&run(&mut block, typo));
    let clean = send.clone().header("content-encoding", "identity");
    let body = clean.body_bytes();
    assert_passed(&run(&mut block, clean), &body);
    assert_eq!(counter(&block, "parse_errors"), 3, "{:?}", block.metrics());

    // Outside block mode it passes unjudged and counted, as a send that cannot be parsed does.
    let mut monitor = filter(&config("monitor"));
    let req = compressed(graph_send_mail(MIL_SENDER, &[TYPO], &[]), "gzip");
    let body = req.body_bytes();
    assert_passed(&run(&mut monitor, req), &body);
    assert_eq!(counter(&monitor, "parse_errors"), 1);
}

// ---------------------------------------------------------------------------------------------
// Held sends that get no body

/// Envoy without `allow_on_headers_stop_iteration` (Istio's WasmPlugin), the filter with
/// `config`.
fn without_the_knob(config: &serde_json::Value) -> Filter {
    Filter::builder()
        .config(config.to_string())
        .stop_all_iteration_on_headers()
        .start()
        .unwrap_or_else(|e| panic!("{e:#}"))
}

/// The error lines the plugin logged during one request.
fn errors(o: &host_tests::Outcome) -> Vec<String> {
    o.logs
        .iter()
        .filter(|l| l.level >= LogLevel::Error)
        .map(|l| l.message.clone())
        .collect()
}

#[test]
fn a_held_send_envoy_keeps_the_body_of_is_refused_at_the_next_tick() {
    let mut f = without_the_knob(&config("block"));
    assert_eq!(f.tick_period_ms(), 500);
    for (req, api) in [
        (jmap(MIL_SENDER, &[TYPO], &[]), "jmap"),
        (graph_send_mail(MIL_SENDER, &[CLEAN], &[]), "graph"),
    ] {
        let o = run(&mut f, req);
        assert_eq!(o.ticks, 1, "answered at the first tick: {}", o.log_text());
        assert_eq!(o.stalled, None);
        assert_eq!(o.status(), Some(503), "{}", o.log_text());
        assert!(o.upstream.is_none(), "nothing reaches the upstream");
        assert!(o.action(Callback::RequestBody).is_empty());
        let body = o.json().expect("JSON");
        let details = if api == "jmap" {
            assert_eq!(body["type"], "urn:mistype:error:send_stalled", "{body}");
            &body["mistype"]
        } else {
            assert_eq!(body["error"]["code"], "send_stalled", "{body}");
            &body["mistype"]
        };
        assert_eq!(details["reason"], "body_not_delivered", "{body}");
        assert_eq!(details["setting"], "allow_on_headers_stop_iteration");
        let errors = errors(&o);
        assert_eq!(errors.len(), 1, "one error line: {errors:#?}");
        assert!(
            errors[0].starts_with(&format!("{api} send stalled: Envoy has ")),
            "{}",
            errors[0]
        );
        assert!(errors[0].contains("allow_on_headers_stop_iteration: true"));
        assert!(errors[0].contains("hold_headers: false"));
    }
    assert_eq!(counter(&f, "stalled"), 2);
    assert_eq!(f.counter("mistype.api.graph.stalled"), 1);
    assert_eq!(counter(&f, "inspected"), 2);
}

#[test]
fn a_stalled_send_continues_and_is_judged_on_its_body_when_so_configured() {
    let mut cfg = config("block");
    cfg["stall"] = json!({"action": "continue"});
    for mut f in [without_the_knob(&cfg), without_the_knob(&config("monitor"))] {
        let req = jmap(MIL_SENDER, &[CLEAN], &[]).header(SENDER_HEADER, MIL_SENDER);
        let body = req.body_bytes();
        let o = run(&mut f, req);
        assert_eq!(o.ticks, 1);
        assert_passed(&o, &body);
        assert_eq!(errors(&o).len(), 1, "{}", o.log_text());
        assert_eq!(counter(&f, "stalled"), 1);
        assert_eq!(counter(&f, "inspected"), 1, "judged once, on its body");
    }
    // Block mode: the typo is still refused once its body comes.
    let mut f = without_the_knob(&cfg);
    let o = run(
        &mut f,
        jmap(MIL_SENDER, &[TYPO], &[]).header(SENDER_HEADER, MIL_SENDER),
    );
    assert_eq!(o.ticks, 1);
    assert_blocked(&o);
    assert!(
        o.upstream.as_ref().is_some_and(|u| !u.complete),
        "the headers went on, the body did not: {:?}",
        o.upstream
    );
}

#[test]
fn a_send_whose_body_never_comes_is_refused_after_the_timeout() {
    let mut cfg = config("block");
    cfg["stall"] = json!({"timeout_ms": 2000});
    let mut f = filter(&cfg);
    let o = run(&mut f, jmap(MIL_SENDER, &[TYPO], &[]).withhold_body());
    // The tick runs every 500 ms; the clock starts at the first one.
    assert!((4..=6).contains(&o.ticks), "{} ticks", o.ticks);
    assert_eq!(o.status(), Some(503), "{}", o.log_text());
    assert_eq!(o.json().unwrap()["mistype"]["reason"], "no_body");
    let errors = errors(&o);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("no body came to the filter in"),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("stall.timeout_ms 2000"), "{}", errors[0]);
    assert_eq!(counter(&f, "stalled"), 1);

    // Ordinary sends are never watched for long: nothing stalls, nothing is logged.
    let o = run(&mut f, jmap(MIL_SENDER, &[CLEAN], &[]).chunked(9));
    assert!(o.passed());
    assert_eq!(o.ticks, 0);
    assert_eq!(counter(&f, "stalled"), 1);

    // Without holding there is nothing to watch: no tick at all.
    let mut cfg = config("block");
    cfg["hold_headers"] = json!(false);
    assert_eq!(filter(&cfg).tick_period_ms(), 0);
}

#[test]
fn oversize_bodies_are_413_in_block_mode_and_counted_in_monitor_mode() {
    // max_body_bytes is 64 KiB in the test configuration: a send held whole (JSON) above it is
    // refused; a message upload is held only as far as its head, and refused only when its head
    // alone goes past the limit.
    let big = "z".repeat(70 * 1024);
    let mut block = filter(&config("block"));
    let long_head = sends::mime_message(MIL_SENDER, &[CLEAN], &[]).replacen(
        "\r\n",
        &format!("\r\nX-Pad: {big}\r\n"),
        1,
    );
    let padded = pad_json(sogo(MIL_SENDER, &[CLEAN], &[]), &big);
    // With and without content-length (the filter may answer from the headers), and a head that
    // outgrows the limit while it streams in.
    for r in [
        padded.clone(),
        padded.chunked(4096),
        gmail_upload_media(&long_head).chunked(4096),
    ] {
        let o = run(&mut block, r);
        assert_eq!(o.status(), Some(413), "{}", o.log_text());
        assert!(o.forwarded().is_none());
        assert!(o.json().is_some(), "413 is JSON");
    }
    // Delivered in one piece, the same long head is all there at once, and judged.
    let o = run(&mut block, gmail_upload_media(&long_head));
    assert_eq!(o.status(), Some(200), "{}", o.log_text());
    assert_eq!(
        counter(&block, "body_too_large"),
        3,
        "{:?}",
        block.metrics()
    );

    let mut monitor = filter(&config("monitor"));
    let req = pad_json(sogo(MIL_SENDER, &[TYPO], &[]), &big).chunked(4096);
    let body = req.body_bytes();
    let o = run(&mut monitor, req);
    assert_passed(&o, &body);
    assert_eq!(counter(&monitor, "body_too_large"), 1);
}

#[test]
fn a_message_upload_is_decided_by_its_head_whatever_its_size() {
    let mut f = filter(&config("block"));
    // An attachment above max_body_bytes (64 KiB) after a head that names the recipients.
    let attachment = "QUJD".repeat(60 * 1024);
    for (to, verdict) in [(CLEAN, None), (TYPO, Some(422))] {
        let mime = format!(
            "{}{attachment}",
            sends::mime_message(MIL_SENDER, &[to], &[])
        );
        for (req, pieces) in [
            (gmail_upload_media(&mime), 1),
            (
                gmail_upload_media(&mime).chunked(4096),
                mime.len().div_ceil(4096),
            ),
        ] {
            let body = req.body_bytes();
            let o = run(&mut f, req);
            assert_eq!(o.status(), verdict.or(Some(200)), "{}", o.log_text());
            if verdict.is_none() {
                assert_passed(&o, &body);
            } else {
                // Refused at the head, answered at the end of the body (a client that writes
                // its whole request first still reads the answer); nothing went upstream.
                assert!(o.upstream.is_none(), "{:?}", o.upstream);
                let body_callbacks = o.action(Callback::RequestBody);
                assert!(
                    body_callbacks.iter().all(|a| !a.is_continue()),
                    "{:?}",
                    o.actions
                );
                assert_eq!(
                    body_callbacks.len(),
                    pieces,
                    "the answer waits for the last piece"
                );
            }
            // Decided at the first body callback, which holds the head: the rest of the body
            // is never read into the filter.
            assert_eq!(o.request_body_reads, 1, "{:?}", o.actions);
        }
    }
    assert_eq!(counter(&f, "body_too_large"), 0);
    assert_eq!(counter(&f, "allowed"), 2);
    assert_eq!(counter(&f, "blocked"), 2);
}

/// Pads a JSON body with a large extra member (keeps it valid JSON); other bodies unchanged.
fn pad_json(req: Request, pad: &str) -> Request {
    let body = req.body_bytes();
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(mut v) if v.is_object() => {
            v["padding"] = json!(pad);
            req.body(v.to_string().into_bytes())
        }
        _ => req,
    }
}

/// The machine-readable code of a refusal, in whichever dialect it comes: Graph's and the
/// others' `error.code`, Gmail's `error.errors[0].reason`, JMAP's problem `type`.
fn refusal_code(body: &serde_json::Value) -> Option<&str> {
    body["error"]["code"]
        .as_str()
        .or_else(|| body["error"]["errors"][0]["reason"].as_str())
        .or_else(|| body["type"].as_str()?.strip_prefix("urn:mistype:error:"))
}

#[test]
fn malformed_sends_are_400_in_block_mode_and_pass_in_monitor_mode() {
    let broken_mime = "From: a.b@army.mil\r\nTo: <c@navy.ml\r\nSubject x\r\n";
    let malformed = || {
        vec![
            (
                "jmap json",
                Request::post("/jmap/api/")
                    .content_type("application/json")
                    .body(r#"{"using": [], "methodCalls": [["Email/set", {"#),
            ),
            (
                "graph json",
                Request::post("/v1.0/me/sendMail")
                    .content_type("application/json")
                    .body("{message: nope}"),
            ),
            (
                "gmail base64",
                Request::post("/gmail/v1/users/me/messages/send")
                    .json(&json!({"raw": "!!!not base64!!!"})),
            ),
            (
                "gmail multipart without any part",
                Request::post("/upload/gmail/v1/users/me/messages/send?uploadType=multipart")
                    .content_type("multipart/related; boundary=b1")
                    .body(format!("no boundary anywhere\r\n{broken_mime}")),
            ),
            (
                "check json",
                Request::post(CHECK_PATH)
                    .content_type("application/json")
                    .body(r#"{"to": 5}"#),
            ),
        ]
    };
    let mut f = filter(&config("block"));
    for (what, req) in malformed() {
        let o = run(&mut f, req.chunked(5));
        assert_eq!(
            o.status(),
            Some(400),
            "{what}: {:?}\n{}",
            o.response.as_ref().map(|r| r.body_str()),
            o.log_text()
        );
        assert!(o.forwarded().is_none(), "{what}");
        let body = o.json().unwrap_or_else(|| panic!("{what}: 400 is JSON"));
        assert_eq!(
            refusal_code(&body),
            Some("unparseable_send"),
            "{what}: {body}"
        );
    }
    assert_eq!(counter(&f, "parse_errors"), 5, "{:?}", f.metrics());

    let mut m = filter(&config("monitor"));
    for (what, req) in malformed() {
        let body = req.body_bytes();
        let o = run(&mut m, req);
        assert!(o.passed(), "{what}: monitor mode lets it through");
        assert_eq!(o.forwarded().unwrap().body, body);
    }
    assert_eq!(counter(&m, "parse_errors"), 5);
}

#[test]
fn a_body_beyond_envoys_buffer_limit_gets_envoys_413_not_a_trap() {
    // If the route's buffer limit is below max_body_bytes, Envoy answers 413 itself; the
    // filter sees only its response path.
    let mut f = Filter::builder()
        .config(config("block").to_string())
        .buffer_limit(1024)
        .start()
        .expect("start");
    let req = pad_json(jmap(MIL_SENDER, &[CLEAN], &[]), &"q".repeat(4096)).chunked(512);
    let o = run(&mut f, req);
    assert_eq!(o.status(), Some(413));
    assert!(o.local_reply.as_ref().unwrap().by_envoy);
    // The plugin keeps working.
    let req = jmap(MIL_SENDER, &[CLEAN], &[]);
    let body = req.body_bytes();
    assert_passed(&run(&mut f, req), &body);
}

// ---------------------------------------------------------------------------------------------
// Configuration

#[test]
fn bad_configurations_are_refused_naming_the_key() {
    for (cfg, key) in [
        ("{", "JSON"),
        ("[1, 2]", "object"),
        (r#"{"mode": "shout"}"#, "mode"),
        (r#"{"max_body_bytes": 0}"#, "max_body_bytes"),
        (r#"{"max_body_bytes": "big"}"#, "max_body_bytes"),
        (r#"{"confirm": {"secret": "short"}}"#, "confirm.secret"),
        (r#"{"confirm": {"ttl_seconds": -5}}"#, "ttl_seconds"),
        (r#"{"confirm": {"header": "bad header"}}"#, "confirm.header"),
        (r#"{"sender_header": 42}"#, "sender_header"),
        (r#"{"apis": ["outlook"]}"#, "apis"),
        (r#"{"check_path": "no-slash"}"#, "check_path"),
        (r#"{"policy": {"protected": [5]}}"#, "policy"),
        (
            r#"{"policy": {"rules": [{"from": "*.mil", "to": "*.ml", "severity": "explode"}]}}"#,
            "policy",
        ),
        (r#"{"mdoe": "block"}"#, "mdoe"),
    ] {
        let logs = rejected(cfg);
        assert!(
            logs.contains(key),
            "config {cfg}: the log names {key:?}:\n{logs}"
        );
    }
}

#[test]
fn an_empty_configuration_is_the_embedded_policy_in_block_mode() {
    for cfg in ["", "{}"] {
        let mut f = Filter::new(cfg).unwrap_or_else(|e| panic!("{cfg:?}: {e:#}"));
        let o = run(&mut f, jmap(MIL_SENDER, &[TYPO], &[]));
        assert_blocked(&o);
        let req = jmap(MIL_SENDER, &[CLEAN], &[]);
        let body = req.body_bytes();
        assert_passed(&run(&mut f, req), &body);
    }
}

#[test]
fn a_custom_policy_is_used() {
    // A policy that protects one company's domain: the filter's verdict is the native
    // engine's under the same policy, and the typo of the protected domain blocks.
    let policy = json!({"protected": ["lockheedmartin.com"]});
    let mut cfg = config("block");
    cfg["policy"] = policy.clone();
    let mut f = filter(&cfg);
    let to = ["ceo@lockheedmartln.com"];
    let want = native_with_policy(&policy, Some("me@example.org"), &to);
    assert_eq!(want["verdict"], "block", "core: {want}");
    let o = run(&mut f, check("me@example.org", &to));
    let body = assert_blocked(&o);
    let mut got = bare_verdict(&body).unwrap();
    got["id"] = serde_json::Value::Null;
    assert_eq!(got, want);
}

#[test]
fn only_the_configured_apis_are_inspected() {
    let mut cfg = config("block");
    cfg["apis"] = json!(["graph"]);
    let mut f = filter(&cfg);
    let req = jmap(MIL_SENDER, &[TYPO], &[]);
    let body = req.body_bytes();
    let o = run(&mut f, req);
    assert_passed(&o, &body);
    assert!(o.body_untouched());
    assert_blocked(&run(
        &mut f,
        graph_send_mail(MIL_SENDER, &[TYPO], &[]).header(SENDER_HEADER, MIL_SENDER),
    ));
}

// ---------------------------------------------------------------------------------------------
// Metrics and logs

#[test]
fn metric_values_after_a_sequence_of_requests() {
    let mut f = filter(&config("block"));
    let h = |r: Request| r.header(SENDER_HEADER, MIL_SENDER);
    // 2 blocked (jmap, graph), 1 warned (graph), 2 allowed (jmap, gmail), 1 parse error (jmap),
    // 1 confirmed (jmap), 1 confirm rejected (jmap), 2 non-sends.
    let typo = h(jmap(MIL_SENDER, &[TYPO], &[]));
    let token = blocked_token(&mut f, &typo);
    run(&mut f, h(graph_send_mail(MIL_SENDER, &[TYPO], &[])));
    run(&mut f, h(graph_send_mail(MIL_SENDER, &[SOFT_WARN], &[])));
    run(&mut f, h(jmap(MIL_SENDER, &[CLEAN], &[])));
    run(
        &mut f,
        h(gmail_raw(&sends::mime_message(MIL_SENDER, &[CLEAN], &[]))),
    );
    run(
        &mut f,
        h(Request::post("/jmap/api/")
            .content_type("application/json")
            .body("{")),
    );
    run(&mut f, typo.clone().header(CONFIRM_HEADER, &token));
    run(&mut f, typo.clone().header(CONFIRM_HEADER, "forged"));
    run(&mut f, Request::get("/jmap/api/"));
    run(&mut f, Request::get("/"));

    // Every counter that moved, overall and per API, and nothing else.
    let moved: Vec<(String, u64)> = f
        .metrics()
        .into_iter()
        .filter_map(|(name, m)| match m {
            MetricValue::Counter(0) => None,
            MetricValue::Counter(n) => Some((name, n)),
            MetricValue::Gauge(_) | MetricValue::Histogram(_) => {
                panic!("{name}: the filter defines counters only, got {m:?}")
            }
        })
        .collect();
    let want = [
        ("mistype.allowed", 2),
        ("mistype.api.gmail.allowed", 1),
        ("mistype.api.gmail.inspected", 1),
        ("mistype.api.graph.blocked", 1),
        ("mistype.api.graph.inspected", 2),
        ("mistype.api.graph.warned", 1),
        ("mistype.api.jmap.allowed", 1),
        ("mistype.api.jmap.blocked", 2),
        ("mistype.api.jmap.confirm_rejected", 1),
        ("mistype.api.jmap.confirmed", 1),
        ("mistype.api.jmap.inspected", 5),
        ("mistype.api.jmap.parse_errors", 1),
        ("mistype.blocked", 3),
        ("mistype.confirm_rejected", 1),
        ("mistype.confirmed", 1),
        ("mistype.inspected", 8),
        ("mistype.parse_errors", 1),
        ("mistype.warned", 1),
    ]
    .map(|(n, v)| (n.to_string(), v));
    assert_eq!(moved, want, "all metrics: {:?}", f.metrics());
    // Each of the 12 counters is defined overall and for each of the 8 APIs.
    assert_eq!(counter_names(&f).len(), 12 * 9, "{:?}", counter_names(&f));
}

#[test]
fn no_errors_logged_for_ordinary_traffic() {
    let mut f = filter(&config("block"));
    run(&mut f, jmap(MIL_SENDER, &[TYPO], &[]));
    run(&mut f, jmap(MIL_SENDER, &[CLEAN], &[]));
    run(&mut f, Request::get("/"));
    let errors: Vec<_> = f
        .logs()
        .iter()
        .filter(|l| l.level >= LogLevel::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}
