//! `mistype audit` end to end, as a user runs it: the release binary on a generated Postfix log
//! (`mistype_benches::maillog`: 1,000 people, 10 working days and a weekend, 8 messages a
//! person a day), reported in recipients per second.
//!
//! - `audit_postfix/threads/N`: the whole run (start-up, reading, parsing on N threads, joining by
//!   queue id, judging each distinct domain pair once, the report) with `--threads N`.
//! - `audit_postfix_gzip/threads/2`: the same log gzip-compressed.
//!
//! The benchmark builds the release CLI first (`cargo build --release -p mistype-cli`).
//!
//! Run: cargo bench -p mistype-benches --bench audit

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn release_binary() -> PathBuf {
    let st = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "-q",
            "-p",
            "mistype-cli",
            "--bin",
            "mistype",
        ])
        .status()
        .expect("cargo build");
    assert!(st.success(), "cargo build --release -p mistype-cli failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("release/mistype")
}

fn audit(c: &mut Criterion) {
    let bin = release_binary();
    let dir = std::env::temp_dir().join(format!("mistype-bench-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("mail.log");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&log).unwrap());
    let written = mistype_benches::maillog::write_postfix_log(&mut f, 1000, 12, 8, 2026).unwrap();
    drop(f);
    let gz = dir.join("mail.log.gz");
    let st = Command::new("sh")
        .arg("-c")
        .arg(format!("gzip -c '{}' > '{}'", log.display(), gz.display()))
        .status()
        .unwrap();
    assert!(st.success());
    let run = |threads: usize, input: &PathBuf| {
        let out = Command::new(&bin)
            .args(["audit", "--json", "--threads", &threads.to_string()])
            .arg(input)
            .output()
            .expect("run mistype");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout.len()
    };
    // The run finds what the generator slipped in.
    let out = Command::new(&bin)
        .args(["audit", "--json"])
        .arg(&log)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let summary: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(summary["recipients"], written.recipients);
    let mut group = c.benchmark_group("audit_postfix");
    group.throughput(Throughput::Elements(written.recipients));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for threads in [1usize, 2] {
        group.bench_with_input(BenchmarkId::new("threads", threads), &threads, |b, &t| {
            b.iter(|| run(t, &log))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("audit_postfix_gzip");
    group.throughput(Throughput::Elements(written.recipients));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_with_input(BenchmarkId::new("threads", 2), &2usize, |b, &t| {
        b.iter(|| run(t, &gz))
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, audit);
criterion_main!(benches);
