//! The detection core under criterion.
//!
//! - `check_one_recipient/<N>`: one typo recipient judged against N reference domains (1,000,
//!   10,000, 100,000), beside `naive_strsim_scan/<N>`: the same recipient compared with every
//!   reference by `strsim::damerau_levenshtein`, the linear scan the index replaces.
//! - `check_clean_recipient/100000`: a correctly addressed recipient (the common case).
//! - `build_engine/100000`: building the engine (parsing, normalising and indexing 100,000
//!   references; the suffix list is parsed once per process, before the measurement).
//!
//! Run: cargo bench -p mistype-benches --bench engine

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mistype::{Engine, Policy};
use mistype_benches::{synthetic_domains, typo_of};
use std::hint::black_box;

fn engine_with(refs: &[String]) -> Engine {
    let policy = Policy::embedded();
    Engine::with_references(&policy, refs.iter().map(|d| (d.as_str(), "known")))
}

fn lookups(c: &mut Criterion) {
    let all = synthetic_domains(100_000, 7);
    let mut group = c.benchmark_group("check_one_recipient");
    for n in [1_000usize, 10_000, 100_000] {
        let refs = &all[..n];
        let engine = engine_with(refs);
        let ctx = engine.context(Some("someone@example.org"), &[]);
        // A typo of a reference that sits in every size (the first one).
        let target = &refs[0];
        let typo = format!("j.smith@{}", typo_of(target));
        let v = engine.check_recipient(&typo, &ctx);
        assert_eq!(v.findings.len(), 1, "{typo} should be flagged: {v:?}");
        group.bench_with_input(BenchmarkId::new("indexed", n), &typo, |b, t| {
            b.iter(|| engine.check_recipient(black_box(t), &ctx))
        });
        let typed = typo_of(target);
        group.bench_with_input(BenchmarkId::new("naive_strsim_scan", n), &typed, |b, t| {
            b.iter(|| {
                refs.iter()
                    .map(|r| strsim::damerau_levenshtein(black_box(t), r))
                    .min()
            })
        });
    }
    group.finish();

    let engine = engine_with(&all);
    let ctx = engine.context(Some("someone@example.org"), &[]);
    let clean = "Jane Doe <jane@kestrel-analytics.com>";
    assert!(engine.check_recipient(clean, &ctx).findings.is_empty());
    c.bench_function("check_clean_recipient/100000", |b| {
        b.iter(|| engine.check_recipient(black_box(clean), &ctx))
    });
}

fn build(c: &mut Criterion) {
    let all = synthetic_domains(100_000, 7);
    // Parse the suffix list before measuring: it is parsed once per process.
    let _ = Engine::with_default_policy().load_suffix_list();
    let mut group = c.benchmark_group("build_engine");
    group.sample_size(10);
    group.bench_function("100000", |b| b.iter(|| engine_with(black_box(&all))));
    group.finish();
}

criterion_group!(benches, lookups, build);
criterion_main!(benches);
