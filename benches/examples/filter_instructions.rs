//! A driver for the filter's instruction count (`benches/instructions.sh` runs it under
//! callgrind): a judged JMAP send with three clean recipients, N times, through the built filter
//! under the wasmtime proxy-wasm host (`host_tests::Filter`, one plugin instance as in Envoy),
//! so that the count of one send is the difference between a run with N and a run with none,
//! divided by N. The count includes the host's own work for each request.
//!
//!   filter_instructions N      # needs the built filter (filter/build.sh, or MISTYPE_FILTER_WASM)

use host_tests::{Filter, Request};
use mistype_testdata::sends;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(Ok(n)) = std::env::args().nth(1).map(|n| n.parse::<usize>()) else {
        eprintln!("usage: filter_instructions N");
        return ExitCode::from(2);
    };
    let mut filter = match Filter::new(r#"{"mode": "block"}"#) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("filter_instructions: cannot load the filter: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let send = Request::from(sends::jmap(
        "ray.k@army.mil",
        &["j.smith@navy.mil", "ops@army.mil", "friend@gmail.com"],
        &[],
    ));
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
