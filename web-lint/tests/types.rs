//! The TypeScript types the package ships (the `typescript_custom_section` in `src/lib.rs`)
//! against the Rust types they describe: every union lists exactly the names the core
//! serialises, and every interface exactly the keys of the JSON the core writes. Runs natively
//! (`cargo test -p mistype-web-lint --test types`).
#![cfg(not(target_arch = "wasm32"))]
// Tests fail by panicking; the crate-wide denials are for the shipped glue.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mistype::{CheckRequest, Engine, Kind, RecipientErrorKind, Severity};
use serde_json::Value;
use std::collections::BTreeSet;

/// The TypeScript text of `src/lib.rs`.
fn types() -> &'static str {
    let src = include_str!("../src/lib.rs");
    let start = src
        .find("const TYPES: &'static str = r#\"")
        .expect("the TYPES section");
    let rest = &src[start..];
    let end = rest.find("\"#;").expect("the end of the TYPES section");
    &rest[..end]
}

/// The quoted names of `export type NAME = "a" | "b" ...;`.
fn union(name: &str) -> BTreeSet<String> {
    let t = types();
    let head = format!("export type {name} =");
    let start = t.find(&head).unwrap_or_else(|| panic!("no type {name}"));
    let body = &t[start + head.len()..];
    let body = &body[..body.find(';').unwrap()];
    body.split('|')
        .map(|p| p.trim().trim_matches('"').to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The keys of `export interface NAME { ... }` (doc comments skipped).
fn interface(name: &str) -> BTreeSet<String> {
    let t = types();
    let head = format!("export interface {name} {{");
    let start = t
        .find(&head)
        .unwrap_or_else(|| panic!("no interface {name}"));
    let body = &t[start + head.len()..];
    let body = &body[..body.find("\n}").unwrap()];
    body.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("/**") && !l.starts_with('*') && !l.is_empty())
        .map(|l| {
            let key = l.split(':').next().unwrap();
            key.trim_end_matches('?').to_string()
        })
        .collect()
}

fn names<T: serde::Serialize>(all: &[T]) -> BTreeSet<String> {
    all.iter()
        .map(|v| {
            serde_json::to_value(v)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn unions_list_exactly_the_rust_names() {
    assert_eq!(union("Severity"), names(&Severity::ALL));
    assert_eq!(union("Kind"), names(&Kind::ALL));
    assert_eq!(union("RecipientErrorKind"), names(&RecipientErrorKind::ALL));
}

#[test]
fn interfaces_list_exactly_the_json_keys() {
    let request = CheckRequest::from_json(
        r#"{"id": 1, "from": "a.b@army.mil", "to": ["c@navy.ml", "bad@@"], "cc": [], "bcc": [],
            "contacts": []}"#,
    )
    .unwrap();
    let verdict = serde_json::to_value(Engine::with_default_policy().check(&request)).unwrap();
    assert_eq!(interface("Verdict"), keys(&verdict));
    assert_eq!(interface("Finding"), keys(&verdict["findings"][0]));
    assert_eq!(interface("RecipientError"), keys(&verdict["errors"][0]));
    let request = serde_json::to_value(&request).unwrap();
    assert_eq!(interface("CheckRequest"), keys(&request));
}
