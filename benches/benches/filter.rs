//! The filter's per-request work under the wasmtime proxy-wasm host (host-tests): every
//! callback from context creation to `proxy_on_delete`, the hostcalls, and the detection.
//! The module is compiled once; one plugin instance serves all iterations, as in Envoy.
//!
//! Needs the built filter (`filter/build.sh`, or `MISTYPE_FILTER_WASM`).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use host_tests::{Filter, Request};
use serde_json::json;

fn jmap_send_10() -> Request {
    let to: Vec<_> = [
        "j.smith@navy.mil",
        "ops@army.mil",
        "k.jones@gmail.com",
        "p.devries@army.nl",
        "someone@outlook.com",
        "log@af.mil",
        "ray@state.gov",
        "x@gmx.de",
        "y@yahoo.co.uk",
        "z@proton.me",
    ]
    .iter()
    .map(|a| json!({"name": "Someone", "email": a}))
    .collect();
    let body = json!({
        "using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission"],
        "methodCalls": [
            ["Email/set", {"accountId": "A1", "create": {"d1": {
                "mailboxIds": {"drafts": true}, "from": [{"email": "a.b@army.mil"}],
                "to": to, "subject": "Schedule",
                "textBody": [{"partId": "p", "type": "text/plain"}],
                "bodyValues": {"p": {"value": "See you at 0900."}}}}}, "c0"],
            ["EmailSubmission/set", {"accountId": "A1", "create": {"s1": {
                "identityId": "I1", "emailId": "#d1"}}}, "c1"]]
    });
    Request::post("/jmap/api/").json(&body)
}

/// base64url (unpadded) of:
/// ```text
/// From: Sgt Ray <a.b@army.mil>
/// To: Lt J. Smith <j.smith@navy.mil>,
///  k@gmail.com
/// Cc: ops@army.mil
/// Subject: Schedule
/// MIME-Version: 1.0
/// Content-Type: text/plain; charset=utf-8
///
/// See you at 0900.
/// ```
const GMAIL_RAW: &str = "RnJvbTogU2d0IFJheSA8YS5iQGFybXkubWlsPg0KVG86IEx0IEouIFNtaXRoIDxqLnNtaXRoQG5hdnkubWlsPiwNCiBrQGdtYWlsLmNvbQ0KQ2M6IG9wc0Bhcm15Lm1pbA0KU3ViamVjdDogU2NoZWR1bGUNCk1JTUUtVmVyc2lvbjogMS4wDQpDb250ZW50LVR5cGU6IHRleHQvcGxhaW47IGNoYXJzZXQ9dXRmLTgNCg0KU2VlIHlvdSBhdCAwOTAwLg0K";

fn gmail_raw_send() -> Request {
    Request::post("/gmail/v1/users/me/messages/send").json(&json!({"raw": GMAIL_RAW}))
}

fn pass_through() -> Request {
    Request::get("/jmap/api/?session=1").header("accept", "application/json")
}

fn bench(c: &mut Criterion) {
    let mut f = Filter::new(r#"{"mode": "block"}"#)
        .unwrap_or_else(|e| panic!("cannot load the filter: {e:#}"));
    let mut group = c.benchmark_group("filter");
    group.throughput(Throughput::Elements(1));
    for (name, req) in [
        ("jmap_send_10_recipients", jmap_send_10()),
        ("gmail_raw_send", gmail_raw_send()),
        ("pass_through_get", pass_through()),
    ] {
        // Sanity: the request does what the benchmark claims (a clean send passes).
        let out = f.request(req.clone()).expect("request");
        assert!(
            out.passed(),
            "{name}: {:?}\n{}",
            out.status(),
            out.log_text()
        );
        group.bench_function(name, |b| {
            b.iter_batched(
                || req.clone(),
                |r| f.request(r).expect("request"),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
