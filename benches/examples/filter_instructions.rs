//! A driver for the filter's instruction count (`benches/instructions.sh` runs it under
//! callgrind): a judged JMAP send with three clean recipients, N times, through the built filter
//! under the wasmtime proxy-wasm host (`host_tests::Filter`, one plugin instance as in Envoy),
//! so that the count of one send is the difference between a run with N and a run with none,
//! divided by N. The count includes the host's own work for each request.
//!
//! With a configuration file and a body file, the send is that body posted as JSON to
//! `/jmap/api` through the filter so configured: `benches/load/` holds the Envoy load test's
//! (`benches/load-envoy.sh`), so that its send is counted here too.
//!
//!   filter_instructions N [CONFIG BODY]   # needs the built filter (filter/build.sh, or MISTYPE_FILTER_WASM)

use host_tests::{Filter, Request};
use mistype_testdata::sends;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (n, files) = match args.as_slice() {
        [n] => (n.parse::<usize>().ok(), None),
        [n, config, body] => (n.parse::<usize>().ok(), Some((config, body))),
        _ => (None, None),
    };
    let Some(n) = n else {
        eprintln!("usage: filter_instructions N [CONFIG BODY]");
        return ExitCode::from(2);
    };
    let (config, send) = match files {
        None => (
            r#"{"mode": "block"}"#.to_string(),
            Request::from(sends::jmap(
                "ray.k@army.mil",
                &["j.smith@navy.mil", "ops@army.mil", "friend@gmail.com"],
                &[],
            )),
        ),
        Some((config, body)) => {
            let read = |path: &String| {
                std::fs::read(path).map_err(|e| eprintln!("filter_instructions: {path}: {e}"))
            };
            let (Ok(config), Ok(body)) = (read(config), read(body)) else {
                return ExitCode::FAILURE;
            };
            let request = Request::post("/jmap/api")
                .header("content-type", "application/json")
                .body(body);
            (String::from_utf8_lossy(&config).into_owned(), request)
        }
    };
    // (A send alone: Envoy runs the filter's tick once a period, not once a send.)
    let mut filter = match Filter::builder()
        .config(config.as_str())
        .without_ticks_after_requests()
        .start()
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!("filter_instructions: cannot load the filter: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    for _ in 0..n {
        match filter.request(send.clone()) {
            Ok(out) if out.passed() => {}
            Ok(out) => {
                eprintln!(
                    "filter_instructions: the clean send was not passed: {:?}",
                    out.status()
                );
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("filter_instructions: {e:#}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
