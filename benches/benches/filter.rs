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
use mistype_testdata::sends;
use std::hint::black_box;

/// The configuration both groups run with.
const CONFIG: &str = r#"{"mode": "block"}"#;

const PASS_THROUGH_PATH: &str = "/jmap/api/?session=1";

/// A JMAP send to 10 clean recipients (the shared fixture).
fn jmap_send_10() -> sends::HttpRequest {
    sends::jmap(
        "a.b@army.mil",
        &[
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
        ],
        &[],
    )
}

/// A Gmail `raw` send to 3 clean recipients (the shared fixture).
fn gmail_raw_send() -> sends::HttpRequest {
    sends::gmail_raw(&sends::mime_message(
        "a.b@army.mil",
        &["Lt J. Smith <j.smith@navy.mil>", "k@gmail.com"],
        &["ops@army.mil"],
    ))
}

fn pass_through() -> Request {
    Request::get(PASS_THROUGH_PATH).header("accept", "application/json")
}

fn bench(c: &mut Criterion) {
    // (A request alone: Envoy runs the filter's tick once a period, not once a request.)
    let mut f = Filter::builder()
        .config(CONFIG)
        .without_ticks_after_requests()
        .start()
        .unwrap_or_else(|e| panic!("cannot load the filter: {e:#}"));
    let mut group = c.benchmark_group("filter");
    group.throughput(Throughput::Elements(1));
    for (name, req) in [
        ("jmap_send_10_recipients", Request::from(jmap_send_10())),
        ("gmail_raw_send", Request::from(gmail_raw_send())),
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
    let mut group = c.benchmark_group("filter_native");
    group.throughput(Throughput::Elements(1));
    for (name, send) in [
        ("jmap_send_10_recipients", jmap_send_10()),
        ("gmail_raw_send", gmail_raw_send()),
    ] {
        let (path, body, ct) = (send.path.as_str(), &send.body, send.content_type.as_deref());
        let info = RequestInfo {
            path,
            content_type: ct,
            sender: None,
            token: None,
            now: mistype_filter::decide::Now::At(1_767_225_600),
        };
        // Sanity: the request is a send, and a clean one passes.
        let candidate = f
            .classify("POST", path, ct)
            .unwrap_or_else(|| panic!("{name}: {path} is not recognised"));
        let outcome = f.inspect(candidate, body, info);
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
                let candidate = f.classify("POST", black_box(path), ct);
                candidate.map(|c| f.inspect(c, black_box(body), info))
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
