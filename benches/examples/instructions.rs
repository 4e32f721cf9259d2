//! A driver for instruction counts (`benches/instructions.sh` runs it under callgrind): the
//! operations of the `engine` benchmark, N times, so that the count of one is the difference
//! between a run with N and a run with none, divided by N.
//!
//!   instructions check N        # the typo recipient of check_one_recipient/100000, N times
//!   instructions clean N        # the recipient of check_clean_recipient/100000 (an unknown
//!                               # domain with a display name), N times
//!   instructions known N        # `jane@gmail.com`: a reference, no rule (the common case)
//!   instructions known-named N  # the same with a display name, `Jane Doe <jane@gmail.com>`
//!   instructions build N        # build_engine/100000 (and drop it), N times

use mistype::{Engine, Policy};
use mistype_benches::{synthetic_domains, typo_of};
use std::hint::black_box;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(Ok(n))) = (args.get(1), args.get(2).map(|n| n.parse::<usize>())) else {
        eprintln!("usage: instructions check|clean|known|known-named|build N");
        return ExitCode::from(2);
    };
    let all = synthetic_domains(100_000, 7);
    let _ = Engine::with_default_policy().load_suffix_list();
    let policy = Policy::embedded();
    let build = || Engine::with_references(&policy, all.iter().map(|d| (d.as_str(), "known")));
    if mode == "build" {
        for _ in 0..n {
            black_box(build());
        }
        return ExitCode::SUCCESS;
    }
    let engine = build();
    let ctx = engine.context(Some("someone@example.org"), &[]);
    let recipient = match mode.as_str() {
        "check" => format!("j.smith@{}", typo_of(&all[0])),
        "clean" => "Jane Doe <jane@kestrel-analytics.com>".to_string(),
        "known" => "jane@gmail.com".to_string(),
        "known-named" => "Jane Doe <jane@gmail.com>".to_string(),
        other => {
            eprintln!("unknown mode {other}: check, clean, known, known-named or build");
            return ExitCode::from(2);
        }
    };
    let findings = engine.check_recipient(&recipient, &ctx).findings.len();
    if findings != usize::from(mode == "check") {
        eprintln!("{recipient}: {findings} findings, not what the benchmark measures");
        return ExitCode::from(1);
    }
    for _ in 0..n {
        black_box(engine.check_recipient(black_box(&recipient), &ctx));
    }
    ExitCode::SUCCESS
}
