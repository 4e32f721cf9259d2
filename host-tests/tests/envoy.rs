//! The built filter in real Envoy (1.40, V8), in front of a recording upstream, all on 127.0.0.1
//! with OS-chosen ports. Envoy runs the shipped `filter/envoy.yaml` with only the ports, the wasm
//! path and the plugin configuration substituted.
//!
//! Needs `envoy` on PATH (scripts/ensure-tools.sh), `curl`, and the built filter
//! (filter/build.sh; `$CARGO_TARGET_DIR` is honoured, `$MISTYPE_FILTER_WASM` overrides).

mod support_envoy;

use mistype_testdata::sends;
use support_envoy::*;

/// A fixed secret for the tests (32 bytes, base64); production secrets come from the operator.
const SECRET: &str = "dGVzdC1zZWNyZXQtZm9yLW1pc3R5cGUtZW52b3ktdGVzdHM=";
const CONFIRM: &str = "x-mistype-confirm";

fn plugin_config(mode: &str, max_body_bytes: u64) -> String {
    serde_json::json!({
        "mode": mode,
        "max_body_bytes": max_body_bytes,
        "check_path": "/check",
        "confirm": {"header": CONFIRM, "secret": SECRET, "ttl_seconds": 600}
    })
    .to_string()
}

/// What the tests substitute in the shipped config: ports 0, the upstream's port, the built
/// filter, and `config` as plugin configuration (`None`: the shipped one).
fn test_render(upstream: &Upstream, config: Option<String>) -> Render {
    Render {
        listener_port: Some(0),
        admin_port: Some(0),
        upstream_port: Some(upstream.port),
        wasm: Some(filter_wasm()),
        plugin_config: config,
        ..Render::default()
    }
}

/// The shipped config on ports 0 in front of `upstream`, with `config` as plugin configuration.
fn test_yaml(upstream: &Upstream, config: Option<String>) -> String {
    render(&shipped_envoy_yaml(), &test_render(upstream, config))
}

fn start(upstream: &Upstream, config: Option<String>) -> Envoy {
    Envoy::start(&test_yaml(upstream, config)).unwrap_or_else(|e| panic!("{e}"))
}

/// The shipped config as [`start`] runs it, but with the Wasm filter alone, as most Envoy
/// examples load one: without `allow_on_headers_stop_iteration`, and without the decompressor.
fn start_without_the_knob(upstream: &Upstream, config: String) -> Envoy {
    let r = Render {
        without_stop_iteration: true,
        without_decompressor: true,
        ..test_render(upstream, Some(config))
    };
    let yaml = render(&shipped_envoy_yaml(), &r);
    assert!(!yaml.contains("allow_on_headers_stop_iteration"));
    assert!(!yaml.contains("name: envoy.filters.http.decompressor"));
    Envoy::start(&yaml).unwrap_or_else(|e| panic!("{e}"))
}

/// The filter's log lines about stalled sends (one per stall), at error level.
fn stall_errors(envoy: &Envoy) -> Vec<String> {
    let log = envoy.log_text();
    let lines: Vec<String> = log
        .lines()
        .filter(|l| l.contains(" send stalled: "))
        .map(str::to_owned)
        .collect();
    for l in &lines {
        assert!(l.contains("[error][wasm]"), "logged as an error: {l}");
        assert!(
            l.contains("allow_on_headers_stop_iteration: true")
                && l.contains("hold_headers: false"),
            "the line names both settings: {l}"
        );
    }
    lines
}

fn url(envoy: &Envoy, path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", envoy.listener_port)
}

/// The recorded requests for `path`.
fn arrived(upstream: &Upstream, path: &str) -> Vec<Recorded> {
    upstream
        .requests()
        .into_iter()
        .filter(|r| r.path == path)
        .collect()
}

/// The filter's overall counter `mistype.<name>`. Envoy 1.40 lists proxy-wasm metrics in
/// `/stats` with their `wasmcustom.` namespace (`wasmcustom.mistype.blocked`) and strips it in
/// Prometheus (`mistype_blocked`); older releases stripped it in `/stats` too, so both are
/// accepted here.
/// How long the filter may keep counts before its tick hands them to Envoy (the tick's longest
/// period, `MAX_STALL_TICK_MS`, 500 ms, and a margin for a busy machine).
const COUNTS_SETTLE: std::time::Duration = std::time::Duration::from_millis(800);

/// A counter's value once the counts of the requests made so far have reached Envoy.
fn counter(envoy: &Envoy, name: &str) -> u64 {
    std::thread::sleep(COUNTS_SETTLE);
    let stats = envoy.stats("mistype");
    let found = stats
        .get(&format!("wasmcustom.mistype.{name}"))
        .or_else(|| stats.get(&format!("mistype.{name}")));
    *found.unwrap_or_else(|| {
        let mut names: Vec<_> = stats.keys().collect();
        names.sort();
        panic!("no counter mistype.{name} in /stats; the filter's stats are {names:?}")
    })
}

/// The value of a Prometheus sample `metric{} N` from `/stats/prometheus`.
fn prometheus(envoy: &Envoy, metric: &str) -> Option<u64> {
    std::thread::sleep(COUNTS_SETTLE);
    let (status, body) = http_get(envoy.admin_port, "/stats/prometheus")?;
    assert_eq!(status, 200);
    body.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (name, value) = l.rsplit_once(' ')?;
        (name == metric || name == format!("{metric}{{}}")).then(|| value.parse().ok())?
    })
}

/// Sends a misaddressed JMAP send, checks the 422 answer, and returns its confirm token.
fn blocked_send(envoy: &Envoy, upstream: &Upstream, body: &[u8], http2: bool) -> String {
    let mut req = Request::post(url(envoy, "/jmap/api"), "application/json", body);
    req.http2 = http2;
    let resp = curl(&req);
    // JMAP refuses in its own terms: a 200 JMAP response whose submission is `notCreated`.
    assert_eq!(
        resp.status,
        200,
        "a misaddressed send is refused: {}",
        resp.text()
    );
    assert_eq!(resp.header("x-mistype-verdict"), Some("block"));
    assert_eq!(resp.http_version, if http2 { "2" } else { "1.1" });
    assert!(
        resp.header("content-type")
            .is_some_and(|v| v.starts_with("application/json")),
        "the refusal is JSON: {:?}",
        resp.headers
    );
    let reply = resp.json();
    let not_created = reply["methodResponses"]
        .as_array()
        .and_then(|r| r.iter().find(|m| m[0] == "EmailSubmission/set"))
        .map(|m| m[1]["notCreated"].clone())
        .unwrap_or_default();
    let refusal = not_created
        .as_object()
        .and_then(|o| o.values().next())
        .cloned()
        .unwrap_or_default();
    assert_eq!(refusal["type"], "forbiddenToSend", "{reply}");
    assert!(
        refusal["description"]
            .as_str()
            .is_some_and(|d| d.contains("c@navy.ml") && d.contains("c@navy.mil")),
        "{reply}"
    );
    let v = reply["mistype"].clone();
    assert_eq!(v["verdict"], "block", "{v}");
    let findings = v["findings"].as_array().expect("findings array");
    assert!(
        findings
            .iter()
            .any(|f| f["address"] == "c@navy.ml" && f["suggestion"] == "c@navy.mil"),
        "the 422 names the slip and the suggestion: {v}"
    );
    assert_eq!(v["confirm"]["header"], CONFIRM, "{v}");
    assert!(v["confirm"]["expires_at"].is_number() || v["confirm"]["expires_at"].is_string());
    let token = v["confirm"]["token"]
        .as_str()
        .expect("confirm.token string")
        .to_owned();
    assert!(!token.is_empty());
    assert!(
        arrived(upstream, "/jmap/api").is_empty(),
        "a blocked send never reaches the upstream"
    );
    token
}

#[test]
fn the_http2_test_client_reads_the_status_as_hpack_codes_it() {
    // RFC 7541 C.6.1 (Huffman-coded 302 and 307), an indexed 200, a plain literal 503.
    assert_eq!(hpack_status(&[0x48, 0x82, 0x64, 0x02]), Some(302));
    assert_eq!(hpack_status(&[0x48, 0x83, 0x64, 0x0e, 0xff]), Some(307));
    assert_eq!(hpack_status(&[0x88]), Some(200));
    assert_eq!(hpack_status(&[0x08, 0x03, b'5', b'0', b'3']), Some(503));
    // After a field it skips (a literal with a new name).
    assert_eq!(
        hpack_status(&[0x00, 0x01, b'x', 0x01, b'y', 0x8d]),
        Some(404)
    );
}

#[test]
fn shipped_envoy_config_passes_envoy_validate() {
    let shipped = shipped_envoy_yaml();
    // As committed, run from the repository root: valid when the filter is at the documented
    // path (the default target dir); otherwise with only the wasm path substituted.
    let as_committed =
        filter_wasm() == repo_root().join("target/wasm32-wasip1/wasm/mistype_filter.wasm");
    let with_path = if as_committed {
        shipped.clone()
    } else {
        render(
            &shipped,
            &Render {
                wasm: Some(filter_wasm()),
                ..Render::default()
            },
        )
    };
    let (ok, out) = envoy_validate(&with_path);
    assert!(ok, "envoy --mode validate filter/envoy.yaml:\n{out}");
    assert!(out.contains("OK"), "{out}");

    // The no-filter baseline that benches/load-envoy.sh runs.
    let baseline = render(
        &shipped,
        &Render {
            without_filter: true,
            ..Render::default()
        },
    );
    assert!(!baseline.contains("envoy.extensions.filters.http.wasm.v3.Wasm"));
    assert!(!baseline.contains("filename: target/wasm32-wasip1"));
    let (ok, out) = envoy_validate(&baseline);
    assert!(ok, "the no-filter baseline validates:\n{out}");

    // Every plugin configuration the tests use validates too.
    for mode in ["block", "warn", "monitor"] {
        let yaml = render(
            &shipped,
            &Render {
                wasm: Some(filter_wasm()),
                plugin_config: Some(plugin_config(mode, 65536)),
                ..Render::default()
            },
        );
        let (ok, out) = envoy_validate(&yaml);
        assert!(ok, "mode {mode}:\n{out}");
    }
}

/// The `max_body_bytes` the shipped `filter/envoy.yaml` states (it must state it: the tests
/// check that limit in Envoy, whatever it is).
fn shipped_max_body_bytes() -> usize {
    let v = shipped_plugin_config();
    v["max_body_bytes"]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or_else(|| panic!("filter/envoy.yaml states no max_body_bytes: {v}"))
}

#[test]
fn shipped_plugin_configuration_is_valid_json_with_the_documented_keys() {
    let shipped = shipped_envoy_yaml();
    let v = shipped_plugin_config();
    assert_eq!(v["mode"], "block");
    assert_eq!(v["confirm"]["header"], CONFIRM);
    // The Envoy limit on every send route stays above the filter's limit, so an oversized send
    // gets the filter's 413 JSON (the JMAP route's is tested for real in
    // the_shipped_configuration_in_envoy).
    let max = shipped_max_body_bytes() as u64;
    for l in shipped
        .lines()
        .filter(|l| l.contains("request_body_buffer_limit:"))
    {
        let limit: u64 = l
            .split(':')
            .nth(1)
            .and_then(|n| n.trim().parse().ok())
            .expect("a number");
        assert!(limit > max, "{l} must exceed max_body_bytes {max}");
    }
}

#[test]
fn bad_plugin_configuration_is_rejected() {
    let upstream = Upstream::start();
    for bad in [
        r#"{"mode": "loud"}"#,
        r#"{"mode": "block", "max_body_bytes": -1}"#,
        r#"{"mode": "#,
    ] {
        let yaml = test_yaml(&upstream, Some(bad.to_owned()));
        let (ok, out) = envoy_validate(&yaml);
        assert!(!ok, "envoy --mode validate accepts {bad}:\n{out}");
        assert!(
            out.contains("Unable to create Wasm plugin mistype"),
            "validate names the plugin for {bad}:\n{out}"
        );
        assert!(
            out.contains("bad plugin configuration"),
            "the filter logs why for {bad}:\n{out}"
        );
        match Envoy::start(&yaml) {
            Ok(envoy) => panic!(
                "Envoy started with plugin configuration {bad}:\n{}",
                envoy.log_text()
            ),
            Err(log) => {
                assert!(
                    log.contains("exited with") && log.contains("mistype"),
                    "Envoy refuses to start with {bad}:\n{log}"
                );
                // The log names the key at fault.
                let key = if bad.contains("max_body_bytes") {
                    "max_body_bytes"
                } else if bad.contains("loud") {
                    "mode"
                } else {
                    "not valid JSON"
                };
                assert!(log.contains(key), "the log names {key:?}:\n{log}");
            }
        }
    }
}

#[test]
fn block_mode_over_http1_blocks_confirms_and_passes_clean_sends_unchanged() {
    let upstream = Upstream::start();
    let envoy = start(&upstream, Some(plugin_config("block", 65536)));

    // A misaddressed send: 422 JSON, nothing upstream.
    let typo = sends::jmap("a.b@army.mil", &["c@navy.ml"], &[]).body_text();
    let token = blocked_send(&envoy, &upstream, typo.as_bytes(), false);

    // A forged token and a token for another send are refused; still nothing upstream.
    let forged = format!("{token}x");
    let resp = curl(
        &Request::post(
            url(&envoy, "/jmap/api"),
            "application/json",
            typo.as_bytes(),
        )
        .header(CONFIRM, &forged),
    );
    assert_eq!(
        resp.json()["mistype"]["confirm_error"]["reason"],
        "malformed",
        "a forged token is refused: {}",
        resp.text()
    );
    let other = sends::jmap("a.b@army.mil", &["c@navy.ml", "d@navy.ml"], &[]).body_text();
    let resp = curl(
        &Request::post(
            url(&envoy, "/jmap/api"),
            "application/json",
            other.as_bytes(),
        )
        .header(CONFIRM, &token),
    );
    assert_eq!(
        resp.json()["mistype"]["confirm_error"]["reason"],
        "altered-recipients",
        "a token is for one send only: {}",
        resp.text()
    );
    assert!(arrived(&upstream, "/jmap/api").is_empty());

    // The confirm round trip: the same send with the token arrives, byte for byte.
    let resp = curl(
        &Request::post(
            url(&envoy, "/jmap/api"),
            "application/json",
            typo.as_bytes(),
        )
        .header(CONFIRM, &token),
    );
    assert_eq!(
        resp.status,
        200,
        "a confirmed send goes through: {}",
        resp.text()
    );
    assert_eq!(resp.header("x-mistype-verdict"), Some("confirmed"));
    assert_eq!(resp.text(), r#"{"upstream":"ok"}"#);
    let got = arrived(&upstream, "/jmap/api");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, typo.as_bytes());

    // A clean send arrives byte-identical, with its headers (odd spacing and non-ASCII kept).
    let clean = format!(
        "{}\n",
        sends::jmap("a.b@army.mil", &["c@navy.mil", "y@gmail.com"], &[])
            .body_text()
            .replace(
                sends::BODY_TEXT,
                "Zeitplan anbei \u{2013} \u{1F4CE}  (two spaces)"
            )
    );
    let resp = curl(
        &Request::post(
            url(&envoy, "/jmap/api"),
            "application/json",
            clean.as_bytes(),
        )
        .header("x-request-tag", "clean-1"),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = arrived(&upstream, "/jmap/api");
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].method, "POST");
    assert_eq!(
        got[1].body,
        clean.as_bytes(),
        "the upstream gets the exact bytes"
    );
    assert_eq!(got[1].header("x-request-tag"), Some("clean-1"));
    assert_eq!(got[1].header("content-type"), Some("application/json"));

    // Not a send: passes untouched.
    let resp = curl(&Request::get(url(&envoy, "/mail/inbox?page=2")));
    assert_eq!(resp.status, 200);
    assert_eq!(arrived(&upstream, "/mail/inbox?page=2").len(), 1);

    // The check request of docs/contract.md on /check is judged the same way.
    let check = br#"{"from": "a.b@army.mil", "to": ["c@navy.ml"]}"#;
    let resp = curl(&Request::post(
        url(&envoy, "/check"),
        "application/json",
        check,
    ));
    assert_eq!(resp.status, 422, "{}", resp.text());
    assert!(arrived(&upstream, "/check").is_empty());

    // The filter's counters in /stats: every 422 (the first answer, the two refused tokens and
    // the check request) counts as blocked; the confirmed resend does not.
    assert_eq!(counter(&envoy, "blocked"), 4);
    assert_eq!(counter(&envoy, "confirmed"), 1);
    assert_eq!(counter(&envoy, "confirm_rejected"), 2);
    assert!(counter(&envoy, "allowed") >= 1);
    assert_eq!(counter(&envoy, "inspected"), 6);
    // Per API, and as Prometheus sees them.
    let stats = envoy.stats("mistype");
    let jmap_blocked = stats
        .get("wasmcustom.mistype.api.jmap.blocked")
        .or_else(|| stats.get("mistype.api.jmap.blocked"));
    assert_eq!(jmap_blocked, Some(&3), "{stats:?}");
    assert_eq!(prometheus(&envoy, "mistype_blocked"), Some(4));
    // The shipped stats_tags rule turns the per-API counters into one labelled metric.
    assert_eq!(
        prometheus(&envoy, r#"mistype_api_blocked{api="check"}"#),
        Some(1)
    );
    assert_eq!(
        prometheus(&envoy, r#"mistype_api_blocked{api="jmap"}"#),
        Some(3)
    );
    assert_eq!(prometheus(&envoy, "mistype_confirmed"), Some(1));
}

#[test]
fn block_mode_over_http2() {
    let upstream = Upstream::start();
    let envoy = start(&upstream, Some(plugin_config("block", 65536)));

    let typo = sends::jmap("a.b@army.mil", &["c@navy.ml"], &[]).body_text();
    let token = blocked_send(&envoy, &upstream, typo.as_bytes(), true);

    let resp = curl(
        &Request::post(
            url(&envoy, "/jmap/api"),
            "application/json",
            typo.as_bytes(),
        )
        .header(CONFIRM, &token)
        .http2(),
    );
    assert_eq!(resp.http_version, "2");
    assert_eq!(resp.status, 200, "{}", resp.text());

    let clean = sends::jmap("a.b@army.mil", &["c@navy.mil"], &[]).body_text();
    let resp = curl(
        &Request::post(
            url(&envoy, "/jmap/api"),
            "application/json",
            clean.as_bytes(),
        )
        .http2(),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());

    let got = arrived(&upstream, "/jmap/api");
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].body, typo.as_bytes());
    assert_eq!(got[1].body, clean.as_bytes());
    assert_eq!(counter(&envoy, "blocked"), 1);
    assert_eq!(counter(&envoy, "confirmed"), 1);
}

#[test]
fn warn_mode_passes_with_verdict_headers() {
    let upstream = Upstream::start();
    let envoy = start(&upstream, Some(plugin_config("warn", 65536)));

    // A warn-level slip and a block-level one both go through, annotated.
    for (to, verdict, suggestion) in [
        ("x@gmial.com", "warn", "x@gmail.com"),
        ("c@navy.ml", "block", "c@navy.mil"),
    ] {
        let body = sends::jmap("a.b@army.mil", &[to], &[]).body_text();
        let resp = curl(&Request::post(
            url(&envoy, "/jmap/api"),
            "application/json",
            body.as_bytes(),
        ));
        assert_eq!(
            resp.status,
            200,
            "warn mode lets {to} through: {}",
            resp.text()
        );
        assert_eq!(resp.text(), r#"{"upstream":"ok"}"#, "the upstream's answer");
        assert_eq!(
            resp.header("x-mistype-verdict"),
            Some(verdict),
            "{:?}",
            resp.headers
        );
        let findings = resp
            .header("x-mistype-findings")
            .expect("x-mistype-findings");
        assert!(
            findings.contains(suggestion) || findings.contains(to),
            "findings header names the slip: {findings}"
        );
        let got = arrived(&upstream, "/jmap/api");
        assert_eq!(got.last().map(|r| r.body.clone()), Some(body.into_bytes()));
    }

    // A clean send gets no warning.
    let body = sends::jmap("a.b@army.mil", &["y@gmail.com"], &[]).body_text();
    let resp = curl(&Request::post(
        url(&envoy, "/jmap/api"),
        "application/json",
        body.as_bytes(),
    ));
    assert_eq!(resp.status, 200);
    assert_ne!(resp.header("x-mistype-verdict"), Some("warn"));
    assert_ne!(resp.header("x-mistype-verdict"), Some("block"));
    assert_eq!(arrived(&upstream, "/jmap/api").len(), 3);
    // Counted by verdict: one warn, one that block mode would have blocked.
    assert_eq!(counter(&envoy, "warned"), 1);
    assert_eq!(counter(&envoy, "blocked"), 1);
    assert_eq!(counter(&envoy, "allowed"), 1);
}

/// A clean JMAP send whose body is exactly `size` bytes (the text part padded).
/// `body` as gzip writes it (as Kiota's compression handler compresses a request).
fn gzip(body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(body).expect("gzip in memory");
    z.finish().expect("gzip in memory")
}

fn jmap_send_of(size: usize) -> Vec<u8> {
    let text = sends::jmap("a.b@army.mil", &["c@navy.mil"], &[]).body_text();
    let base = text.len() - sends::BODY_TEXT.len();
    assert!(size > base, "a send of {size} bytes");
    let body = text.replace(sends::BODY_TEXT, &"x".repeat(size - base));
    assert_eq!(body.len(), size);
    body.into_bytes()
}

/// A `413` from the filter (not Envoy's plain-text "Payload Too Large"), for JMAP: RFC 8620
/// problem details naming the limit. (The HTTP/2 test client reads no headers but the status;
/// the body tells the two apart.)
#[track_caller]
fn assert_filters_413(resp: &Response, max: usize) {
    assert_eq!(resp.status, 413, "{}", resp.text());
    if resp.http_version == "1.1" {
        assert!(
            resp.header("content-type")
                .is_some_and(|v| v.starts_with("application/problem+json")),
            "the filter's JSON: {:?} {}",
            resp.headers,
            resp.text()
        );
    }
    let v = resp.json();
    assert_eq!(v["type"], "urn:mistype:error:body_too_large", "{v}");
    assert_eq!(v["mistype"]["max_body_bytes"], max as u64, "{v}");
}

/// The shipped `filter/envoy.yaml` as it is (only ports and the wasm path substituted), with the
/// allow_on_headers_stop_iteration it sets: its body limit (from the shipped plugin
/// configuration, whatever it is) holds exactly, with the filter's 413 above it; a send with
/// HTTP/2 trailers is judged at the trailers; nothing stalls.
#[test]
fn the_shipped_configuration_in_envoy() {
    let upstream = Upstream::start();
    let envoy = start(&upstream, None);
    let max = shipped_max_body_bytes();
    let jmap = url(&envoy, "/jmap/api");

    // A send of exactly max_body_bytes goes through whole: nothing in Envoy stops it sooner.
    let at_limit = jmap_send_of(max);
    let resp = curl(&Request::post(jmap.clone(), "application/json", &at_limit));
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.json()["upstream"], "ok");
    let got = arrived(&upstream, "/jmap/api");
    assert_eq!(got.len(), 1);
    assert!(
        got[0].body == at_limit,
        "the upstream got the send byte for byte"
    );

    // One byte more: the filter's 413, whether the size is declared (content-length, over
    // HTTP/1.1 and HTTP/2) or only found while buffering (chunked HTTP/1.1).
    let over = jmap_send_of(max + 1);
    for req in [
        Request::post(jmap.clone(), "application/json", &over),
        Request::post(jmap.clone(), "application/json", &over).chunked(),
    ] {
        assert_filters_413(&curl(&req.answered_early()), max);
    }
    let port = envoy.listener_port;
    let declared = (max + 1).to_string();
    let resp = h2_post(
        port,
        &H2Post {
            path: "/jmap/api",
            headers: &[
                ("content-type", "application/json"),
                ("content-length", &declared),
            ],
            body: &over[..16_384],
            trailers: &[],
            complete: false,
        },
    );
    assert_filters_413(&resp, max);
    assert_eq!(
        arrived(&upstream, "/jmap/api").len(),
        1,
        "nothing more upstream"
    );
    assert_eq!(counter(&envoy, "body_too_large"), 3);

    // HTTP/2 with trailers: no body callback ends the stream, the trailers do.
    let with_trailers = |path: &'static str, body: &[u8]| {
        h2_post(
            port,
            &H2Post {
                path,
                headers: &[("content-type", "application/json")],
                body,
                trailers: &[("x-checksum", "abc")],
                complete: true,
            },
        )
    };
    let typo = sends::jmap("a.b@army.mil", &["c@navy.ml"], &[]).body_text();
    let resp = with_trailers("/jmap/api", typo.as_bytes());
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(
        resp.json()["mistype"]["verdict"],
        "block",
        "{}",
        resp.text()
    );
    assert!(resp.text().contains("forbiddenToSend"), "{}", resp.text());
    // The check request too (its refusal is a 422, which HPACK sends Huffman-coded).
    let check = br#"{"from": "a.b@army.mil", "to": ["c@navy.ml"]}"#;
    let resp = with_trailers("/check", check);
    assert_eq!(resp.status, 422, "{}", resp.text());
    assert_eq!(resp.json()["verdict"], "block", "{}", resp.text());
    let clean = sends::jmap("a.b@army.mil", &["c@navy.mil"], &[]).body_text();
    let resp = with_trailers("/jmap/api", clean.as_bytes());
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.json()["upstream"], "ok");
    let got = arrived(&upstream, "/jmap/api");
    assert_eq!(got.len(), 2, "the typo never arrives, the clean send does");
    assert_eq!(got[1].body, clean.as_bytes());

    // Every send above was judged or refused by size, none stalled.
    assert_eq!(counter(&envoy, "blocked"), 2);
    assert_eq!(counter(&envoy, "inspected"), 7);
    assert_eq!(counter(&envoy, "stalled"), 0);
    assert!(stall_errors(&envoy).is_empty());

    // A header value that is not UTF-8 (obs-text: Envoy passes Latin-1 bytes on), over HTTP/1.1
    // and HTTP/2: the send is judged like any other, and the filter goes on running. (Read
    // through the SDK's text header map, such a value trapped the VM, and a trapped VM answers
    // every later send with a 503.)
    typo_then_clean_over_http1_and_http2(&envoy, &[("x-note", b"caf\xe9")]);
    assert_eq!(arrived(&upstream, "/jmap/api").len(), 4);
    assert_eq!(counter(&envoy, "blocked"), 4);
    assert!(
        !envoy.log_text().contains("panicked"),
        "{}",
        envoy.log_text()
    );

    // A send compressed as Kiota's compression handler compresses every request body (Graph's
    // Go SDK by default): Envoy's decompressor decodes it before the filter, which judges it;
    // the clean one reaches the upstream uncompressed, with nothing added to ask for compressed
    // answers.
    let graph = url(&envoy, "/v1.0/me/sendMail");
    let compressed = |to: &str| {
        let body = sends::graph_send_mail("a.b@army.mil", &[to], &[]).body_text();
        (gzip(body.as_bytes()), body)
    };
    let (typo, _) = compressed("c@navy.ml");
    let resp = curl(
        &Request::post(graph.clone(), "application/json", &typo).header("content-encoding", "gzip"),
    );
    assert_eq!(resp.status, 422, "{}", resp.text());
    assert_eq!(resp.header("x-mistype-verdict"), Some("block"));
    assert!(resp.text().contains("c@navy.mil"), "{}", resp.text());
    let (clean, plain) = compressed("c@navy.mil");
    let resp =
        curl(&Request::post(graph, "application/json", &clean).header("content-encoding", "gzip"));
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.json()["upstream"], "ok");
    let got = arrived(&upstream, "/v1.0/me/sendMail");
    assert_eq!(got.len(), 1, "the typo never arrives: {got:?}");
    assert_eq!(got[0].body, plain.as_bytes(), "decoded");
    assert_eq!(got[0].header("content-encoding"), None);
    assert_eq!(got[0].header("accept-encoding"), None);
    assert_eq!(counter(&envoy, "blocked"), 5);
    // A body that does not decode (cut short, or not deflate data after a gzip header) is
    // refused as a send that cannot be read, never passed on as it came.
    let garbage = b"\x1f\x8b\x08\x00not deflate data".to_vec();
    for body in [typo[..typo.len() / 2].to_vec(), garbage] {
        let resp = curl(
            &Request::post(url(&envoy, "/v1.0/me/sendMail"), "application/json", &body)
                .header("content-encoding", "gzip"),
        );
        assert_eq!(resp.status, 400, "{}", resp.text());
        assert_eq!(resp.json()["error"]["code"], "unparseable_send");
    }
    assert_eq!(arrived(&upstream, "/v1.0/me/sendMail").len(), 1);
    assert_eq!(counter(&envoy, "parse_errors"), 2);
}

/// Envoy as most examples load a Wasm filter (no allow_on_headers_stop_iteration; Istio's
/// WasmPlugin cannot set it), the filter's hold_headers at its default: every held send is
/// refused at the next tick with a 503 that names the setting, one error line each, counted;
/// nothing reaches the upstream.
#[test]
fn without_the_knob_a_held_send_is_refused_naming_it() {
    let upstream = Upstream::eager();
    let envoy = start_without_the_knob(&upstream, plugin_config("block", 65536));
    let typo = sends::jmap("a.b@army.mil", &["c@navy.ml"], &[]).body_text();
    let clean = sends::jmap("a.b@army.mil", &["c@navy.mil"], &[]).body_text();
    for (body, http2) in [(&typo, false), (&typo, true), (&clean, false)] {
        let mut req = Request::post(
            url(&envoy, "/jmap/api"),
            "application/json",
            body.as_bytes(),
        );
        req.http2 = http2;
        let resp = curl(&req);
        assert_eq!(resp.status, 503, "{}", resp.text());
        assert_eq!(resp.http_version, if http2 { "2" } else { "1.1" });
        let v = resp.json();
        assert_eq!(v["type"], "urn:mistype:error:send_stalled", "{v}");
        // Envoy had the body and kept it from the filter: answered at once, not at the timeout.
        assert_eq!(v["mistype"]["reason"], "body_not_delivered", "{v}");
        assert_eq!(v["mistype"]["setting"], "allow_on_headers_stop_iteration");
        assert!(
            v["detail"]
                .as_str()
                .is_some_and(|d| d.contains("allow_on_headers_stop_iteration is off")),
            "{v}"
        );
    }
    assert!(
        upstream.requests().is_empty(),
        "the upstream saw {:?}",
        upstream.requests()
    );
    assert_eq!(counter(&envoy, "stalled"), 3);
    assert_eq!(counter(&envoy, "inspected"), 3);
    let errors = stall_errors(&envoy);
    assert_eq!(
        errors.len(),
        3,
        "one error line per stalled send: {errors:#?}"
    );
    assert!(
        errors.iter().all(|l| l.contains("answered 503")),
        "{errors:#?}"
    );
}

/// A JMAP send to `c@navy.ml` and one to `c@navy.mil`, over HTTP/1.1 and then HTTP/2, each with
/// the `extra` header lines (bytes, as sent): the typo is refused (`200`, `forbiddenToSend`,
/// `x-mistype-verdict: block`), the clean one gets the upstream's answer. Returns the clean
/// send's body.
fn typo_then_clean_over_http1_and_http2(envoy: &Envoy, extra: &[(&str, &[u8])]) -> String {
    let typo = sends::jmap("a.b@army.mil", &["c@navy.ml"], &[]).body_text();
    let clean = sends::jmap("a.b@army.mil", &["c@navy.mil"], &[]).body_text();
    for http2 in [false, true] {
        let post = |body: &str| {
            let mut req =
                Request::post(url(envoy, "/jmap/api"), "application/json", body.as_bytes());
            for (name, value) in extra {
                req = req.header_bytes(name, value);
            }
            req.http2 = http2;
            curl(&req)
        };
        let resp = post(&typo);
        assert_eq!(resp.status, 200, "{}", resp.text());
        assert_eq!(
            resp.header("x-mistype-verdict"),
            Some("block"),
            "{}",
            resp.text()
        );
        assert!(resp.text().contains("forbiddenToSend"), "{}", resp.text());
        let resp = post(&clean);
        assert_eq!(resp.status, 200, "{}", resp.text());
        assert_eq!(resp.json()["upstream"], "ok");
    }
    clean
}

/// The same Envoy with `stall.action: continue`: the headers go on, and the body, which Envoy
/// hands over once the stream continues, is judged as with hold_headers: false.
#[test]
fn without_the_knob_stall_action_continue_judges_the_body() {
    let upstream = Upstream::start();
    let mut config: serde_json::Value =
        serde_json::from_str(&plugin_config("block", 65536)).expect("JSON");
    config["stall"] = serde_json::json!({"action": "continue"});
    let envoy = start_without_the_knob(&upstream, config.to_string());
    let clean = typo_then_clean_over_http1_and_http2(&envoy, &[]);
    let got = arrived(&upstream, "/jmap/api");
    assert_eq!(got.len(), 2, "only the clean sends arrive: {got:?}");
    assert!(got.iter().all(|r| r.body == clean.as_bytes()));
    assert_eq!(counter(&envoy, "stalled"), 4);
    assert_eq!(counter(&envoy, "blocked"), 2);
    let errors = stall_errors(&envoy);
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert!(
        errors
            .iter()
            .all(|l| l.contains("(stall.action: continue)")),
        "{errors:#?}"
    );
}

#[test]
fn without_the_knob_stall_action_continue_looks_up_a_send_by_reference() {
    // A stalled send let continue gets its body after Envoy has let its headers go: its lookup
    // must not need them (a stored JMAP Email submitted, twice: the filter stays up).
    let upstream = mail_server();
    let mut config: serde_json::Value =
        serde_json::from_str(&plugin_config("block", 65536)).expect("JSON");
    config["stall"] = serde_json::json!({"action": "continue"});
    let envoy = start_without_the_knob(&upstream, config.to_string());
    let submit = sends::jmap_submit_stored("M1").at("/jmap/api");
    for http2 in [false, true] {
        let mut req = Request::send(&url(&envoy, ""), &submit).header("authorization", "Bearer u1");
        req.http2 = http2;
        let resp = curl(&req);
        assert_eq!(
            resp.header("x-mistype-verdict"),
            Some("block"),
            "{}",
            resp.text()
        );
        assert!(resp.text().contains("forbiddenToSend"), "{}", resp.text());
    }
    assert_eq!(counter(&envoy, "lookups"), 2);
    assert!(
        !envoy.log_text().contains("[critical][wasm]"),
        "{}",
        envoy.log_text()
    );
}

/// The same Envoy with `hold_headers: false` (what the docs tell Istio users): every send is
/// judged on its body, nothing stalls, nothing is logged as an error.
#[test]
fn without_the_knob_hold_headers_false_judges_every_send() {
    let upstream = Upstream::start();
    let mut config: serde_json::Value =
        serde_json::from_str(&plugin_config("block", 65536)).expect("JSON");
    config["hold_headers"] = serde_json::json!(false);
    let envoy = start_without_the_knob(&upstream, config.to_string());
    let clean = typo_then_clean_over_http1_and_http2(&envoy, &[]);
    let got = arrived(&upstream, "/jmap/api");
    assert_eq!(got.len(), 2, "only the clean sends arrive whole: {got:?}");
    assert!(got.iter().all(|r| r.body == clean.as_bytes()));
    assert_eq!(counter(&envoy, "blocked"), 2);
    assert_eq!(counter(&envoy, "allowed"), 2);
    assert_eq!(counter(&envoy, "stalled"), 0);

    // A compressed send with no decompressor before the filter, as Kiota's compression handler
    // sends one: refused with 415 before any of it goes upstream; sent again uncompressed (what
    // that handler does on a 415), it is judged.
    for body in [
        sends::jmap("a.b@army.mil", &["c@navy.ml"], &[]).body_text(),
        clean.clone(),
    ] {
        let z = gzip(body.as_bytes());
        let req = Request::post(url(&envoy, "/jmap/api"), "application/json", &z)
            .header("content-encoding", "gzip");
        let resp = curl(&req.answered_early());
        assert_eq!(resp.status, 415, "{}", resp.text());
        assert_eq!(resp.header("accept-encoding"), Some("identity"));
        assert_eq!(resp.json()["mistype"]["content_encoding"], "gzip");
    }
    assert_eq!(
        arrived(&upstream, "/jmap/api").len(),
        2,
        "neither went upstream"
    );
    assert_eq!(counter(&envoy, "parse_errors"), 2);
    typo_then_clean_over_http1_and_http2(&envoy, &[]);
    assert_eq!(counter(&envoy, "blocked"), 4);
    assert!(
        !envoy.log_text().contains("[error][wasm]"),
        "{}",
        envoy.log_text()
    );
}

/// The `pluginConfig` mapping of the Istio example as JSON. Istio hands it to Envoy as a JSON
/// StringValue; this reads the subset of YAML the example uses (nested mappings, 2-space
/// indentation, integer and string scalars).
fn istio_plugin_config() -> serde_json::Value {
    let path = repo_root().join("filter/istio/wasmplugin.yaml");
    let text = std::fs::read_to_string(&path).expect("filter/istio/wasmplugin.yaml");
    let mut lines = text
        .lines()
        .skip_while(|l| l.trim_end() != "  pluginConfig:");
    assert!(lines.next().is_some(), "the example has spec.pluginConfig");
    // (indent, object) stack; the root is the pluginConfig mapping at indent 4.
    let mut stack: Vec<(usize, serde_json::Map<String, serde_json::Value>, String)> =
        vec![(4, serde_json::Map::new(), String::new())];
    for line in lines {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if indent < 4 {
            break;
        }
        while indent < stack.last().map(|s| s.0).unwrap_or(0) {
            let (_, obj, key) = stack.pop().expect("nested mapping");
            let parent = &mut stack.last_mut().expect("parent mapping").1;
            parent.insert(key, serde_json::Value::Object(obj));
        }
        let (key, value) = line
            .trim()
            .split_once(':')
            .unwrap_or_else(|| panic!("not a mapping line: {line}"));
        let value = value.trim();
        if value.is_empty() {
            stack.push((indent + 2, serde_json::Map::new(), key.to_owned()));
        } else {
            let v = match value {
                "true" => serde_json::Value::Bool(true),
                "false" => serde_json::Value::Bool(false),
                _ => value
                    .parse::<u64>()
                    .map(serde_json::Value::from)
                    .unwrap_or_else(|_| serde_json::Value::from(value.trim_matches('"'))),
            };
            stack
                .last_mut()
                .expect("mapping")
                .1
                .insert(key.to_owned(), v);
        }
    }
    while stack.len() > 1 {
        let (_, obj, key) = stack.pop().expect("nested mapping");
        stack
            .last_mut()
            .expect("parent mapping")
            .1
            .insert(key, serde_json::Value::Object(obj));
    }
    serde_json::Value::Object(stack.pop().expect("root").1)
}

#[test]
fn istio_example_plugin_config_is_accepted_by_the_filter_in_envoy() {
    let cfg = istio_plugin_config();
    assert_eq!(cfg["mode"], "block", "{cfg}");
    assert_eq!(cfg["confirm"]["header"], CONFIRM, "{cfg}");
    let yaml = render(
        &shipped_envoy_yaml(),
        &Render {
            wasm: Some(filter_wasm()),
            plugin_config: Some(cfg.to_string()),
            ..Render::default()
        },
    );
    let (ok, out) = envoy_validate(&yaml);
    assert!(ok, "the Istio example's pluginConfig {cfg}:\n{out}");
}

#[test]
fn every_send_route_of_the_shipped_config_reaches_the_filter() {
    let upstream = Upstream::start();
    // Without holding there is no tick, and each count reaches Envoy at once: the counter is
    // read before and after every send, with no wait for a tick between.
    let mut config: serde_json::Value =
        serde_json::from_str(&plugin_config("block", 65536)).expect("JSON");
    config["hold_headers"] = serde_json::json!(false);
    let envoy = start(&upstream, Some(config.to_string()));
    // (api, request): one send per route that enables the filter, each the shared fixture of
    // its API at that route's path.
    let from = "a.b@army.mil";
    let to: &[&str] = &["y@gmail.com"];
    let mime = sends::mime_message(from, to, &[]);
    let graph_send = sends::graph_send_mail(from, to, &[]);
    // Roundcube may post `_action` in the body rather than the query.
    let mut roundcube_body_action = sends::roundcube_form(to[0], "", "", false).at("/?_task=mail");
    roundcube_body_action.body =
        [b"_action=send&".as_slice(), &roundcube_body_action.body].concat();
    let routes = vec![
        ("jmap", sends::jmap(from, to, &[]).at("/jmap/api")),
        ("gmail", sends::gmail_raw(&mime)),
        ("graph", graph_send.clone()),
        ("nextcloud", sends::nextcloud(to, &[])),
        ("sogo", sends::sogo(from, to, &[])),
        (
            "roundcube",
            sends::roundcube_form(to[0], "", "", false).at(sends::ROUNDCUBE_SEND_PATH),
        ),
        ("roundcube", roundcube_body_action),
        ("roundcube", sends::roundcube_bounce(to[0], "7")),
        ("snappymail", sends::snappymail(to[0], "")),
        // Gmail and Graph are routed by their send endpoints only: each form of them.
        ("gmail", sends::gmail_draft_send_raw(&mime)),
        (
            "gmail",
            sends::gmail_raw(&mime).at("/gmail/v1/users/someone%40example.org/messages/send"),
        ),
        ("gmail", sends::gmail_upload_media(&mime)),
        (
            "graph",
            graph_send
                .clone()
                .at("/v1.0/users/ops@example.org/sendMail"),
        ),
        // Paths Envoy normalizes before routing (the shipped normalize_path and merge_slashes):
        // a base URL with a trailing slash, dot segments, a percent-encoded letter.
        ("graph", graph_send.clone().at("//v1.0/me/sendMail")),
        ("graph", graph_send.clone().at("/v1.0//me/sendMail")),
        ("graph", graph_send.clone().at("/v1.0/me/x/../sendMail")),
        ("graph", graph_send.clone().at("/v1.0/me/./%73endMail")),
        ("graph", graph_send.clone().at("/beta/me/sendMail")),
        // Actions named with OData's namespace (Graph's .NET SDK up to v4, Java SDK up to v5).
        (
            "graph",
            graph_send.clone().at("/v1.0/me/microsoft.graph.sendMail"),
        ),
        (
            "graph",
            graph_send.at("/v1.0/users/ops@example.org/Microsoft.Graph.SendMail"),
        ),
        (
            "graph",
            sends::graph_reply(to).at("/v1.0/me/messages/AAMk1/microsoft.graph.replyAll"),
        ),
        (
            "graph",
            sends::graph_draft_send("AAMk1").at("/v1.0/me/messages/AAMk1/microsoft.graph.send"),
        ),
        // The calendar: an event created, changed, forwarded.
        ("graph", sends::graph_event(to)),
        (
            "graph",
            sends::graph_event(to).at("/v1.0/users('u')/calendars('c1')/events"),
        ),
        (
            "graph",
            sends::graph_event(to).changed("/v1.0/me/events/AAMkE"),
        ),
        (
            "graph",
            sends::graph_forward(to).at("/beta/me/calendar/events('AAMkE')/forward"),
        ),
        (
            "graph",
            sends::graph_event(to).at("/v1.0/groups/G1/calendar/events"),
        ),
        (
            "graph",
            sends::graph_forward(to).at("/v1.0/groups/G1/threads/T1/posts/P1/forward"),
        ),
        // Keys in OData's parentheses (Graph's docs, the @odata.id of its answers).
        (
            "graph",
            sends::graph_send_mail(from, to, &[]).at("/v1.0/users('ops@example.org')/sendMail"),
        ),
        (
            "graph",
            sends::graph_reply(to)
                .at("/v1.0/users('u')/mailFolders('inbox')/messages('AAMk1')/reply"),
        ),
        (
            "graph",
            sends::graph_draft_send("AAMk1").at("/beta/me/messages('AAMk1')/send"),
        ),
        (
            "graph",
            sends::graph_reply(to).at("/v1.0/me/messages/AAMk1/reply"),
        ),
        (
            "graph",
            sends::graph_reply(to).at("/v1.0/me/messages/AAMk1/replyAll"),
        ),
        (
            "graph",
            sends::graph_forward(to).at("/v1.0/me/mailFolders/inbox/messages/AAMk1/forward"),
        ),
        ("graph", sends::graph_draft_send("AAMk1")),
        ("graph", sends::graph_batch(&[to])),
        ("graph", sends::graph_rule(to)),
        (
            "graph",
            sends::graph_rule(to)
                .changed("/beta/users('u')/mailFolders('inbox')/messageRules('R1')"),
        ),
        (
            "gmail",
            sends::gmail_raw(&mime).at("/gmail/v1/users/me/messages/send/"),
        ),
        ("gmail", sends::gmail_forwarding_address(to[0])),
        ("gmail", sends::gmail_filter(to[0])),
        ("gmail", sends::gmail_auto_forwarding(to[0])),
        (
            "gmail",
            sends::gmail_batch(&[&sends::mime_message("a.b@army.mil", to, &[])], None),
        ),
        (
            "gmail",
            sends::gmail_batch(&[&sends::mime_message("a.b@army.mil", to, &[])], None)
                .at("/batch/gmail/v1"),
        ),
    ];
    let inspected = |api: &str| {
        let stats = envoy.stats("mistype");
        stats
            .get(&format!("wasmcustom.mistype.api.{api}.inspected"))
            .or_else(|| stats.get(&format!("mistype.api.{api}.inspected")))
            .copied()
            .unwrap_or(0)
    };
    let base = url(&envoy, "");
    for (api, send) in &routes {
        let path = &send.path;
        let before = inspected(api);
        let resp = curl(&Request::send(&base, send));
        assert!(resp.status > 0, "{path}: no answer");
        assert_eq!(
            inspected(api),
            before + 1,
            "a {api} send on {path} reaches the filter (answer {}: {})",
            resp.status,
            resp.text()
        );
    }
    // JMAP over WebSocket (RFC 8887) carries sends in frames the filter does not read, on a
    // path routed past it: the shipped file allows no upgrade, so Envoy refuses the handshake
    // and such a client keeps to HTTP, where every send is judged.
    for path in ["/jmap/ws", "/jmap/api"] {
        let resp = curl(
            &Request::get(url(&envoy, path))
                .header("connection", "Upgrade")
                .header("upgrade", "websocket")
                .header("sec-websocket-version", "13")
                .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        );
        assert_eq!(resp.status, 403, "{path}: {}", resp.text());
    }
    assert!(
        upstream
            .requests()
            .iter()
            .all(|r| !r.path.starts_with("/jmap/ws")),
        "{:?}",
        upstream.requests()
    );
}

#[test]
fn a_blocked_send_never_opens_an_upstream_request() {
    // An upstream that answers 200 as soon as it has a request's headers.
    let upstream = Upstream::eager();
    let mut config: serde_json::Value =
        serde_json::from_str(&plugin_config("block", 65536)).expect("JSON");
    config["stall"] = serde_json::json!({"timeout_ms": 2000});
    let envoy = start(&upstream, Some(config.to_string()));
    let typo = sends::jmap("a.b@army.mil", &["c@navy.ml"], &[]).body_text();
    for http2 in [false, true] {
        let mut req = Request::post(
            url(&envoy, "/jmap/api"),
            "application/json",
            typo.as_bytes(),
        );
        req.http2 = http2;
        let resp = curl(&req);
        assert_eq!(
            resp.header("x-mistype-verdict"),
            Some("block"),
            "{}",
            resp.text()
        );
        assert!(resp.text().contains("forbiddenToSend"), "{}", resp.text());
    }
    assert_eq!(
        upstream.requests().len(),
        0,
        "the upstream saw a blocked send: {:?}",
        upstream.requests()
    );
    // A clean send reaches it (and is answered by it).
    let clean = sends::jmap("a.b@army.mil", &["c@navy.mil"], &[]).body_text();
    let resp = curl(&Request::post(
        url(&envoy, "/jmap/api"),
        "application/json",
        clean.as_bytes(),
    ));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["upstream"], "ok");
    assert_eq!(upstream.requests().len(), 1);
    assert_eq!(counter(&envoy, "blocked"), 2);

    // A client that sends a send's headers and never its body (allow_on_headers_stop_iteration
    // is on here): answered after stall.timeout_ms, never sent upstream.
    let resp = post_withholding_body(envoy.listener_port, "/jmap/api", "application/json", 900);
    assert_eq!(resp.status, 503, "{}", resp.text());
    assert_eq!(
        resp.json()["mistype"]["reason"],
        "no_body",
        "{}",
        resp.text()
    );
    assert_eq!(upstream.requests().len(), 1);
    assert_eq!(counter(&envoy, "stalled"), 1);
    let errors = stall_errors(&envoy);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].contains("stall.timeout_ms 2000"), "{}", errors[0]);
}

/// A mail server that stores drafts: Graph message D1 (a typo) and D2 (clean), Gmail draft
/// r-1 (a typo), JMAP Email M1 (a typo); only for `Bearer u1`. `slow` drafts answer late.
fn mail_server() -> Upstream {
    Upstream::with(|r: &Recorded| {
        let json = |status: u16, v: serde_json::Value| {
            (
                status,
                vec![("content-type".to_string(), "application/json".to_string())],
                v.to_string().into_bytes(),
            )
        };
        if r.header("authorization") != Some("Bearer u1") {
            return json(
                401,
                serde_json::json!({"error": {"code": "InvalidAuthenticationToken"}}),
            );
        }
        let graph = |to: &str| {
            serde_json::json!({"id": "x", "from": {"emailAddress": {"address": "a.b@army.mil"}},
                "toRecipients": [{"emailAddress": {"name": "C", "address": to}}]})
        };
        match (r.method.as_str(), r.path.split('?').next().unwrap_or("")) {
            ("GET", "/v1.0/me/messages/D1") => json(200, graph("c@navy.ml")),
            ("GET", "/v1.0/me/messages/D2") => json(200, graph("c@navy.mil")),
            ("GET", "/v1.0/me/messages/slow") => {
                std::thread::sleep(std::time::Duration::from_millis(1500));
                json(200, graph("c@navy.mil"))
            }
            ("GET", "/v1.0/me/mailFolders/inbox/messageRules/R1") => json(
                200,
                serde_json::json!({"id": "R1", "displayName": "To the ship", "isEnabled": false,
                    "actions": {"forwardTo": [{"emailAddress": {"address": "c@navy.ml"}}]}}),
            ),
            ("GET", "/gmail/v1/users/me/drafts/r-1") => json(
                200,
                serde_json::json!({"id": "r-1", "message": {"id": "m", "payload": {"headers": [
                    {"name": "From", "value": "a.b@army.mil"}, {"name": "To", "value": "c@navy.ml"}]}}}),
            ),
            ("POST", "/jmap/api") if String::from_utf8_lossy(&r.body).contains("Email/get") => {
                json(
                    200,
                    serde_json::json!({"methodResponses": [["Email/get", {"accountId": "A", "state": "1",
                    "list": [{"id": "M1", "from": [{"email": "a.b@army.mil"}], "to": [{"email": "c@navy.ml"}]}],
                    "notFound": []}, "mistype"]], "sessionState": "1"}),
                )
            }
            _ => upstream_ok(),
        }
    })
}

#[test]
fn sends_by_reference_are_looked_up_with_the_users_credentials() {
    let upstream = mail_server();
    let mut config: serde_json::Value =
        serde_json::from_str(&plugin_config("block", 65536)).unwrap();
    config["lookup"] = serde_json::json!({"timeout_ms": 500});
    let envoy = start(&upstream, Some(config.to_string()));
    let base = url(&envoy, "");
    let (d1, d2, slow) = (
        sends::graph_draft_send("D1"),
        sends::graph_draft_send("D2"),
        sends::graph_draft_send("slow"),
    );
    let sends = |path: &str| {
        arrived(&upstream, path)
            .into_iter()
            .filter(|r| r.method == "POST")
            .count()
    };

    // Graph: POST .../messages/{id}/send with no body, over HTTP/1.1 and HTTP/2 (prior knowledge).
    for http2 in [false, true] {
        let mut req = Request::send(&base, &d1).header("authorization", "Bearer u1");
        req.http2 = http2;
        let resp = curl(&req);
        assert_eq!(resp.status, 422, "{}", resp.text());
        let v = resp.json();
        assert_eq!(v["error"]["code"], "misaddressed_recipient", "{v}");
        let m = v["error"]["message"].as_str().unwrap_or_default();
        assert!(m.contains("c@navy.ml") && m.contains("c@navy.mil"), "{m}");
        assert!(v["error"]["mistype"]["confirm"]["token"].is_string(), "{v}");
    }
    assert_eq!(sends("/v1.0/me/messages/D1/send"), 0);
    let lookups = arrived(
        &upstream,
        "/v1.0/me/messages/D1?$select=from,sender,toRecipients,ccRecipients,bccRecipients",
    );
    assert_eq!(lookups.len(), 2, "{:?}", upstream.requests());
    assert_eq!(lookups[0].header("authorization"), Some("Bearer u1"));
    // A clean draft is sent.
    let resp = curl(
        &Request::send(&base, &d2)
            .header("authorization", "Bearer u1")
            .http2(),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(sends("/v1.0/me/messages/D2/send"), 1);
    // Each send counted once, on both protocols.
    assert_eq!(counter(&envoy, "inspected"), 3);
    assert_eq!(counter(&envoy, "lookups"), 3);

    // Gmail drafts.send({id}) and a JMAP submission of a stored Email.
    let gmail = sends::gmail_draft_send_by_id("r-1");
    let resp = curl(&Request::send(&base, &gmail).header("authorization", "Bearer u1"));
    assert_eq!(resp.status, 422, "{}", resp.text());
    assert_eq!(resp.json()["error"]["status"], "FAILED_PRECONDITION");
    let submit = sends::jmap_submit_stored("M1").at("/jmap/api");
    let resp = curl(&Request::send(&base, &submit).header("authorization", "Bearer u1"));
    assert_eq!(
        resp.header("x-mistype-verdict"),
        Some("block"),
        "{}",
        resp.text()
    );
    assert!(resp.text().contains("forbiddenToSend"));

    // Another user's credentials see nothing: refused, not passed.
    let resp = curl(&Request::send(&base, &d2).header("authorization", "Bearer other"));
    assert_eq!(resp.status, 503, "{}", resp.text());
    // A lookup that does not answer in time.
    let resp = curl(&Request::send(&base, &slow).header("authorization", "Bearer u1"));
    assert_eq!(resp.status, 503, "{}", resp.text());
    // Envoy answers a timed-out call itself (504), or reports no answer at all.
    let reason = resp.json()["mistype"]["reason"].clone();
    assert!(reason == "status" || reason == "no_answer", "{reason}");
    assert_eq!(sends("/v1.0/me/messages/slow/send"), 0);
    assert_eq!(counter(&envoy, "lookup_failed"), 2);

    // A credential that is not UTF-8 cannot be forwarded unaltered: no lookup, a 503 that says
    // why, and the filter goes on running.
    let before = arrived(
        &upstream,
        "/v1.0/me/messages/D2?$select=from,sender,toRecipients,ccRecipients,bccRecipients",
    )
    .len();
    let resp = curl(&Request::send(&base, &d2).header_bytes("authorization", b"Bearer caf\xe9"));
    assert_eq!(resp.status, 503, "{}", resp.text());
    assert_eq!(
        resp.json()["mistype"]["reason"],
        "not_forwarded",
        "{}",
        resp.text()
    );
    assert!(
        resp.text().contains("authorization header is not UTF-8"),
        "{}",
        resp.text()
    );
    assert_eq!(
        arrived(
            &upstream,
            "/v1.0/me/messages/D2?$select=from,sender,toRecipients,ccRecipients,bccRecipients"
        )
        .len(),
        before,
        "no lookup was made"
    );
    let resp = curl(&Request::send(&base, &d2).header("authorization", "Bearer u1"));
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(counter(&envoy, "lookup_failed"), 3);
}

#[test]
fn without_the_knob_sends_by_reference_with_a_body_are_looked_up() {
    // Envoy lets a filter read a request's headers only while it holds them; with hold_headers
    // off (Istio's set-up) a lookup starts in a body callback, with the headers already gone.
    let upstream = mail_server();
    let mut config: serde_json::Value =
        serde_json::from_str(&plugin_config("block", 65536)).expect("JSON");
    config["hold_headers"] = serde_json::json!(false);
    let envoy = start_without_the_knob(&upstream, config.to_string());
    let base = url(&envoy, "");
    // A JMAP submission of a stored Email (a webmail's draft, then send), twice: the filter
    // stays up after the first.
    let submit = sends::jmap_submit_stored("M1").at("/jmap/api");
    for _ in 0..2 {
        let resp = curl(&Request::send(&base, &submit).header("authorization", "Bearer u1"));
        assert_eq!(
            resp.header("x-mistype-verdict"),
            Some("block"),
            "{}",
            resp.text()
        );
        assert!(resp.text().contains("forbiddenToSend"), "{}", resp.text());
    }
    // A draft sent by id over HTTP/2 whose empty body ends in a frame of its own
    // (`content-length: 0`, as httpx, msgraph-sdk's client, sends it): judged before anything
    // goes upstream, where `content-length: 0` would be the whole request.
    let resp = curl(
        &Request::post(
            url(&envoy, "/v1.0/me/messages/D1/send"),
            "application/json",
            b"",
        )
        .header("content-length", "0")
        .header("authorization", "Bearer u1")
        .http2(),
    );
    assert_eq!(resp.status, 422, "{}", resp.text());
    assert!(
        arrived(&upstream, "/v1.0/me/messages/D1/send").is_empty(),
        "{:?}",
        upstream.requests()
    );
    // A Graph inbox rule switched on: the stored rule forwards to a typo.
    let enable = sends::graph_rule(&[]).changed("/v1.0/me/mailFolders/inbox/messageRules/R1");
    let enable = mistype_testdata::sends::HttpRequest {
        body: br#"{"isEnabled": true}"#.to_vec(),
        ..enable
    };
    let resp = curl(&Request::send(&base, &enable).header("authorization", "Bearer u1"));
    assert_eq!(resp.status, 422, "{}", resp.text());
    let m = resp.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        m.starts_with("Not saved: mail would be forwarded to a misaddressed recipient: c@navy.ml"),
        "{m}"
    );
    // Each lookup carried the user's credentials; the refused change did not reach the server.
    let rule_path = "/v1.0/me/mailFolders/inbox/messageRules/R1";
    let methods = |rs: &[Recorded]| rs.iter().map(|r| r.method.clone()).collect::<Vec<_>>();
    let lookups = arrived(&upstream, rule_path);
    assert_eq!(methods(&lookups), ["GET"], "{lookups:?}");
    assert_eq!(lookups[0].header("authorization"), Some("Bearer u1"));
    // Switched on with its forward replaced by a clean address: looked up (for the actions it
    // leaves), judged clean, and the held change goes on to the server whole.
    let fixed = br#"{"isEnabled": true, "actions": {"forwardTo": [{"emailAddress": {"address": "c@navy.mil"}}]}}"#;
    let fix = mistype_testdata::sends::HttpRequest {
        body: fixed.to_vec(),
        ..enable
    };
    let resp = curl(&Request::send(&base, &fix).header("authorization", "Bearer u1"));
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = arrived(&upstream, rule_path);
    assert_eq!(methods(&got), ["GET", "GET", "PATCH"], "{got:?}");
    assert_eq!(got[2].body, fixed.to_vec());
    assert_eq!(counter(&envoy, "lookups"), 5);
    assert_eq!(counter(&envoy, "lookup_failed"), 0);
    assert!(
        !envoy.log_text().contains("[error][wasm]") && !envoy.log_text().contains("panicked"),
        "{}",
        envoy.log_text()
    );
}

/// A listener whose configuration Envoy replaces from a file (LDS), as a control plane does,
/// with the filter configured as `config` and its Wasm at `wasm`; port `port`.
fn lds_listener(port: u16, wasm: &std::path::Path, config: &str) -> String {
    let config = serde_json::to_string(config).expect("JSON string");
    format!(
        r#"resources:
- "@type": type.googleapis.com/envoy.config.listener.v3.Listener
  name: webmail
  address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}
  filter_chains:
  - filters:
    - name: envoy.filters.network.http_connection_manager
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
        stat_prefix: webmail
        route_config:
          virtual_hosts: [{{name: all, domains: ["*"], routes: [{{match: {{prefix: "/"}}, route: {{cluster: webmail}}}}]}}]
        http_filters:
        - name: envoy.filters.http.wasm
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
            config:
              name: mistype
              root_id: mistype
              failure_policy: FAIL_CLOSED
              allow_on_headers_stop_iteration: true
              configuration: {{"@type": type.googleapis.com/google.protobuf.StringValue, value: {config}}}
              vm_config: {{vm_id: mistype, runtime: envoy.wasm.runtime.v8, code: {{local: {{filename: "{wasm}"}}}}}}
        - name: envoy.filters.http.router
          typed_config: {{"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}
"#,
        wasm = wasm.display()
    )
}

/// Envoy replaces the filter's configuration right after each send and drains the old one at
/// once: the old root context is deleted before its tick has handed the send's counts to Envoy,
/// and hands them over then. (Without that, about half of such sends went uncounted.)
#[test]
fn a_replaced_configuration_hands_over_the_counts_it_kept() {
    let upstream = Upstream::start();
    let dir = TempDir::new("lds");
    let lds = dir.path().join("lds.yaml");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let wasm = filter_wasm();
    // (Envoy watches the file; a rename replaces it in one step.)
    let configure = |n: usize| {
        let config = serde_json::json!({"mode": "block", "check_path": format!("/check{n}")});
        let tmp = dir.path().join("lds.tmp");
        std::fs::write(&tmp, lds_listener(port, &wasm, &config.to_string())).expect("write LDS");
        std::fs::rename(&tmp, &lds).expect("replace LDS");
    };
    configure(0);
    let bootstrap = format!(
        r#"admin: {{address: {{socket_address: {{address: 127.0.0.1, port_value: 0}}}}}}
node: {{id: test, cluster: test}}
dynamic_resources:
  lds_config: {{path_config_source: {{path: "{lds}"}}, resource_api_version: V3}}
static_resources:
  clusters:
  - name: webmail
    type: STATIC
    connect_timeout: 5s
    load_assignment:
      cluster_name: webmail
      endpoints: [{{lb_endpoints: [{{endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {up}}}}}}}}}]}}]
"#,
        lds = lds.display(),
        up = upstream.port
    );
    let envoy = Envoy::start_with(&bootstrap, &["--drain-time-s", "0"]).expect("Envoy starts");
    let send = sends::jmap("a.b@army.mil", &["c@navy.mil"], &[]).body_text();
    let modified = || {
        envoy
            .stats("listener_manager.listener_modified")
            .get("listener_manager.listener_modified")
            .copied()
            .unwrap_or(0)
    };
    let rounds = 5;
    for n in 1..=rounds {
        let resp = curl(&Request::post(
            format!("http://127.0.0.1:{port}/jmap/api"),
            "application/json",
            send.as_bytes(),
        ));
        assert_eq!(resp.status, 200, "{}", resp.text());
        assert_eq!(resp.json()["upstream"], "ok");
        configure(n);
        let replaced = wait_for(std::time::Duration::from_secs(10), || {
            (modified() >= n as u64).then_some(())
        });
        assert!(replaced.is_some(), "Envoy did not take configuration {n}");
    }
    assert_eq!(arrived(&upstream, "/jmap/api").len(), rounds);
    assert_eq!(counter(&envoy, "inspected"), rounds as u64);
    assert_eq!(counter(&envoy, "allowed"), rounds as u64);
}

/// Big sends with the shipped configuration as it is: a message upload larger than the shipped
/// `max_body_bytes` is judged by its head and streams through whole (or is refused after its
/// last byte, not mid-upload); a Graph send whose recipients come after an attachment is read to
/// its end.
#[test]
fn big_sends_are_judged_as_they_stream_with_the_shipped_limits() {
    let max = shipped_plugin_config()["max_body_bytes"]
        .as_u64()
        .expect("the shipped max_body_bytes") as usize;
    let upstream = Upstream::start();
    let envoy = start(&upstream, None);
    let base = format!("http://127.0.0.1:{}", envoy.listener_port);
    let attachment = "QUJD".repeat((max + (1 << 20)) / 4);
    let upload = "/upload/gmail/v1/users/me/messages/send?uploadType=media";

    let clean = sends::gmail_upload_media(&format!(
        "{}{attachment}",
        sends::mime_message("a.b@army.mil", &["j.smith@navy.mil"], &[])
    ));
    assert!(clean.body.len() > max);
    let resp = curl(&Request::send(&base, &clean));
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = arrived(&upstream, upload);
    assert_eq!(got.len(), 1);
    assert!(
        got[0].body == clean.body,
        "the upload reaches the mail server whole"
    );

    let typo = sends::gmail_upload_media(&format!(
        "{}{attachment}",
        sends::mime_message("a.b@army.mil", &["c@navy.ml"], &[])
    ));
    for http2 in [false, true] {
        let mut req = Request::send(&base, &typo);
        req.http2 = http2;
        let resp = curl(&req);
        assert_eq!(resp.status, 422, "http2 {http2}: {}", resp.text());
        assert_eq!(resp.header("x-mistype-verdict"), Some("block"));
        assert_eq!(
            resp.json()["mistype"]["findings"][0]["suggestion"],
            "c@navy.mil"
        );
    }
    assert_eq!(
        arrived(&upstream, upload).len(),
        1,
        "nothing refused went upstream"
    );
    assert_eq!(counter(&envoy, "body_too_large"), 0);

    // Graph: the recipients after a 4 MiB attachment (Graph's own limit for sendMail).
    let graph = |to: &str| {
        format!(
            r##"{{"message": {{"subject": "s", "attachments": [{{"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.pdf", "contentBytes": "{}"}}], "toRecipients": [{{"emailAddress": {{"address": "{to}"}}}}], "from": {{"emailAddress": {{"address": "a.b@army.mil"}}}}}}}}"##,
            "QUJD".repeat(1 << 20)
        )
        .into_bytes()
    };
    let body = graph("c@navy.ml");
    let resp = curl(&Request::post(
        format!("{base}/v1.0/me/sendMail"),
        "application/json",
        &body,
    ));
    assert_eq!(resp.status, 422, "{}", resp.text());
    assert_eq!(resp.json()["error"]["code"], "misaddressed_recipient");
    let body = graph("j.smith@navy.mil");
    let resp = curl(&Request::post(
        format!("{base}/v1.0/me/sendMail"),
        "application/json",
        &body,
    ));
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = arrived(&upstream, "/v1.0/me/sendMail");
    assert_eq!(got.len(), 1);
    assert!(
        got[0].body == body,
        "the send reaches the mail server whole"
    );
    assert_eq!(counter(&envoy, "blocked"), 3);
    assert_eq!(counter(&envoy, "allowed"), 2);
}
