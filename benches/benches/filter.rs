//! The filter's per-request work, on the same three requests:
//!
//! - `filter/<request>`: under the wasmtime proxy-wasm host (host-tests): every callback from
//!   context creation to `proxy_on_delete`, the hostcalls, and the detection. The module is
//!   compiled once; one plugin instance serves all iterations, as in Envoy.
//! - `filter_native/<request>`: the pure work natively (`mistype_filter::pipeline`: classify;
//!   extract, check and decide), without wasm and hostcalls.
//!
//! Needs the built filter (`filter/build.sh`, or `MISTYPE_FILTER_WASM`).
//!
//! Run: cargo bench -p mistype-benches --bench filter

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use host_tests::{Filter, Request};
use mistype_filter::pipeline::{self, RequestInfo};
use serde_json::{json, Value};
use std::hint::black_box;

/// The configuration both groups run with.
const CONFIG: &str = r#"{"mode": "block"}"#;

const JMAP_PATH: &str = "/jmap/api/";
const GMAIL_PATH: &str = "/gmail/v1/users/me/messages/send";
const PASS_THROUGH_PATH: &str = "/jmap/api/?session=1";

fn jmap_send_10_body() -> Value {
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
    json!({
        "using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission"],
        "methodCalls": [
            ["Email/set", {"accountId": "A1", "create": {"d1": {
                "mailboxIds": {"drafts": true}, "from": [{"email": "a.b@army.mil"}],
                "to": to, "subject": "Schedule",
                "textBody": [{"partId": "p", "type": "text/plain"}],
                "bodyValues": {"p": {"value": "See you at 0900."}}}}}, "c0"],
            ["EmailSubmission/set", {"accountId": "A1", "create": {"s1": {
                "identityId": "I1", "emailId": "#d1"}}}, "c1"]]
    })
}

fn jmap_send_10() -> Request {
    Request::post(JMAP_PATH).json(&jmap_send_10_body())
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

fn gmail_raw_body() -> Value {
    json!({"raw": GMAIL_RAW})
}

fn gmail_raw_send() -> Request {
    Request::post(GMAIL_PATH).json(&gmail_raw_body())
}

fn pass_through() -> Request {
    Request::get(PASS_THROUGH_PATH).header("accept", "application/json")
}

fn bench(c: &mut Criterion) {
    let mut f = Filter::new(CONFIG).unwrap_or_else(|e| panic!("cannot load the filter: {e:#}"));
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

/// The same requests through `mistype_filter::pipeline::Filter` natively: the header-only
/// look for the pass-through, classify and inspect (extract, check, decide) for the sends.
fn native(c: &mut Criterion) {
    let f = pipeline::Filter::from_bytes(CONFIG.as_bytes())
        .unwrap_or_else(|e| panic!("cannot load the configuration: {e}"));
    let json = Some("application/json");
    let mut group = c.benchmark_group("filter_native");
    group.throughput(Throughput::Elements(1));
    for (name, path, body) in [
        ("jmap_send_10_recipients", JMAP_PATH, jmap_send_10_body()),
        ("gmail_raw_send", GMAIL_PATH, gmail_raw_body()),
    ] {
        let body = body.to_string().into_bytes();
        let info = RequestInfo {
            path,
            content_type: json,
            sender: None,
            token: None,
            now: 1_767_225_600,
        };
        // Sanity: the request is a send, and a clean one passes.
        let candidate = f
            .classify("POST", path, json)
            .unwrap_or_else(|| panic!("{name}: {path} is not recognised"));
        let outcome = f.inspect(candidate, &body, info);
        assert!(
            matches!(
                &outcome,
                pipeline::Outcome::Decided(d)
                    if matches!(d.action, mistype_filter::reply::Action::Continue { .. })
            ),
            "{name}: {outcome:?}"
        );
        group.bench_function(name, |b| {
            b.iter(|| {
                let candidate = f.classify("POST", black_box(path), json);
                candidate.map(|c| f.inspect(c, black_box(&body), info))
            })
        });
    }
    assert!(f.classify("GET", PASS_THROUGH_PATH, None).is_none());
    group.bench_function("pass_through_get", |b| {
        b.iter(|| f.classify("GET", black_box(PASS_THROUGH_PATH), None))
    });
    group.finish();
}

criterion_group!(benches, bench, native);
criterion_main!(benches);
