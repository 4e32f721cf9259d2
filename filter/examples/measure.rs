//! Native per-request cost of the filter's pure work (classify; extract + check + decide), for
//! comparison with the wasmtime criterion bench. Run: `cargo run --release -p mistype-filter --example measure`.
use base64::Engine as _;
use mistype_filter::pipeline::{Filter, RequestInfo};
use serde_json::json;
use std::time::Instant;

fn time(name: &str, n: u32, mut f: impl FnMut()) {
    for _ in 0..n / 10 {
        f();
    }
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    let per = t.elapsed().as_secs_f64() / n as f64 * 1e6;
    println!("{name}: {per:.2} µs/request ({n} iterations)");
}

fn main() -> Result<(), String> {
    let f = Filter::from_bytes(br#"{"confirm": {"secret": "0123456789abcdef"}}"#)?;
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
    let jmap = json!({"using": [], "methodCalls": [
        ["Email/set", {"accountId": "A1", "create": {"d1": {"from": [{"email": "a.b@army.mil"}], "to": to, "subject": "s"}}}, "c0"],
        ["EmailSubmission/set", {"accountId": "A1", "create": {"s1": {"identityId": "I1", "emailId": "#d1"}}}, "c1"]]}).to_string();
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("From: a.b@army.mil\r\nTo: Lt J <j.smith@navy.ml>, x@gmail.com\r\nSubject: s\r\n\r\nhello\r\n");
    let gmail = json!({"raw": raw}).to_string();
    let ct = Some("application/json");
    let info = RequestInfo {
        path: "/jmap/api/",
        content_type: ct,
        sender: None,
        token: None,
        now: 1_767_225_600,
    };
    let cj = f
        .classify("POST", "/jmap/api/", ct)
        .ok_or("not recognised")?;
    let cg = f
        .classify("POST", "/gmail/v1/users/me/messages/send", ct)
        .ok_or("not recognised")?;
    time(
        "pass-through classify (GET /static/app.js)",
        1_000_000,
        || {
            std::hint::black_box(f.classify("GET", "/static/app.js", None));
        },
    );
    time(
        "JMAP send, 10 clean recipients (extract+check+decide)",
        20_000,
        || {
            std::hint::black_box(f.inspect(cj, jmap.as_bytes(), info));
        },
    );
    time(
        "Gmail raw send, 1 typo (block, token issued)",
        20_000,
        || {
            std::hint::black_box(f.inspect(cg, gmail.as_bytes(), info));
        },
    );
    Ok(())
}
