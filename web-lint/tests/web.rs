//! The shared case corpus (`testdata/`) through the browser module, in Node and in headless
//! Chromium: every case must reach exactly the native engine's verdict (the golden lines), and
//! the promised cases are asserted one by one.
//!
//! Requests and policies cross the JS boundary as real JS objects (`JSON.parse`), and verdicts
//! come back as JS objects and are read with `JSON.stringify`, so the conversion layer is tested
//! too. Run with `web-lint/test.sh` (Node: default; Chromium: `WASM_BINDGEN_USE_BROWSER=1`).
#![cfg(target_arch = "wasm32")]
// Tests fail by panicking; the crate-wide denials are for the shipped glue.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mistype_testdata::{cases, policy as policy_named, Case, MUST_HOLD};
use mistype_web_lint::{version, Linter};
use serde_json::{json, Value};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test as test;

fn js(v: &Value) -> JsValue {
    js_sys::JSON::parse(&v.to_string()).unwrap()
}

fn rust(v: &JsValue) -> Value {
    let text = js_sys::JSON::stringify(v).unwrap().as_string().unwrap();
    serde_json::from_str(&text).unwrap()
}

fn thrown_message(e: wasm_bindgen::JsError) -> String {
    let v: JsValue = e.into();
    let err: js_sys::Error = v.dyn_into().unwrap();
    String::from(err.message())
}

fn linter(policy: Option<&Value>) -> Linter {
    Linter::new(policy.map(js)).unwrap()
}

fn check(l: &Linter, request: Value) -> Value {
    rust(&l.check(js(&request)).unwrap())
}

/// Linters built once per policy name (building one indexes every reference).
struct Linters(Vec<(Option<String>, Linter)>);

impl Linters {
    fn get(&mut self, policy: Option<&str>) -> &mut Linter {
        let key = policy.map(str::to_string);
        let i = match self.0.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                let l = linter(policy.map(policy_named).as_ref());
                self.0.push((key, l));
                self.0.len() - 1
            }
        };
        &mut self.0[i].1
    }
}

#[test]
fn corpus_is_embedded() {
    assert!(!mistype_testdata::cases_in(MUST_HOLD).is_empty());
    assert_eq!(mistype_testdata::golden().len(), cases().len());
}

/// Every case of every file gives the native engine's verdict, field for field.
#[test]
fn every_case_matches_the_golden_verdict() {
    let mut linters = Linters(Vec::new());
    let all = cases();
    let golden = mistype_testdata::golden();
    let result = mistype_testdata::check_golden(&all, &golden, usize::MAX, |c| {
        check(linters.get(c.policy.as_deref()), c.request.clone())
    });
    if let Err(e) = result {
        panic!("wasm against native: {e}");
    }
}

/// Every promised case (`must-hold.jsonl`) meets its own `expect` (verdict, suggestions, kinds,
/// number of errors). The accuracy corpus (`corpus.jsonl`) is scored, not promised; it is held
/// to the native verdicts above.
#[test]
fn must_hold_cases_meet_their_expectation() {
    let mut linters = Linters(Vec::new());
    let all: Vec<Case> = mistype_testdata::cases_in(MUST_HOLD);
    assert!(!all.is_empty());
    let result = mistype_testdata::check_expectations(&all, |c| {
        check(linters.get(c.policy.as_deref()), c.request.clone())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// `checkAddress`, with its cached sender context, finds exactly what `check` finds for a
/// request with one recipient, across many cases with changing senders and contacts.
#[test]
fn check_address_agrees_with_check() {
    let mut linters = Linters(Vec::new());
    let mut compared = 0;
    let mut failures = Vec::new();
    for c in cases() {
        let req = &c.request;
        let recipients: Vec<&Value> = ["to", "cc", "bcc"]
            .iter()
            .flat_map(|k| match &req[*k] {
                Value::Array(a) => a.iter().collect::<Vec<_>>(),
                Value::String(_) => vec![&req[*k]],
                _ => Vec::new(),
            })
            .collect();
        let [one] = recipients[..] else { continue };
        let Some(address) = one.as_str() else {
            continue;
        };
        let contacts = match &req["contacts"] {
            Value::String(s) => json!([s]),
            Value::Array(a) => json!(a),
            _ => json!([]),
        };
        let l = linters.get(c.policy.as_deref());
        let whole = check(
            l,
            json!({"from": req["from"], "to": [address], "contacts": contacts}),
        );
        let ctx = json!({"from": req["from"], "contacts": contacts});
        let findings = rust(&l.check_address(address, Some(js(&ctx))).unwrap());
        compared += 1;
        if findings != whole["findings"] {
            failures.push(format!(
                "{}: {}\n  checkAddress: {findings}\n  check:        {}",
                c.file, c.name, whole["findings"]
            ));
        }
    }
    assert!(compared > 0);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn only_finding(v: &Value) -> &Value {
    let f = v["findings"].as_array().unwrap();
    assert_eq!(f.len(), 1, "expected one finding in {v}");
    &f[0]
}

#[test]
fn mil_sender_to_navy_ml_blocks() {
    let v = check(
        &linter(None),
        json!({"from": "a.b@army.mil", "to": ["c@navy.ml"]}),
    );
    assert_eq!(v["verdict"], "block", "{v}");
    let f = only_finding(&v);
    assert_eq!(f["suggestion"], "c@navy.mil");
    assert_eq!(f["kind"], "suffix-typo");
    assert_eq!(f["severity"], "block");
}

#[test]
fn gmail_user_to_mail_ml_blocks() {
    let v = check(
        &linter(None),
        json!({"from": "someone@gmail.com", "to": ["j.smith.mil@mail.ml"]}),
    );
    assert_eq!(v["verdict"], "block", "{v}");
    assert_eq!(only_finding(&v)["suggestion"], "j.smith.mil@mail.mil");
}

#[test]
fn gmial_warns() {
    let v = check(&linter(None), json!({"to": ["x@gmial.com"]}));
    assert_eq!(v["verdict"], "warn", "{v}");
    assert_eq!(only_finding(&v)["suggestion"], "x@gmail.com");
}

#[test]
fn army_ml_without_sender_blocks() {
    let v = check(&linter(None), json!({"to": "j.smith@army.ml"}));
    assert_eq!(v["verdict"], "block", "{v}");
    assert_eq!(only_finding(&v)["suggestion"], "j.smith@army.mil");
}

#[test]
fn real_providers_are_allowed() {
    let v = check(
        &linter(None),
        json!({"id": 7, "to": ["y@gmail.com"], "cc": ["p@gmx.com"]}),
    );
    assert_eq!(
        v,
        json!({"id": 7, "verdict": "allow", "findings": [], "errors": []})
    );
}

#[test]
fn bad_address_is_an_error_entry_and_others_are_still_judged() {
    let v = check(&linter(None), json!({"to": ["bad@@", "c@navy.ml"]}));
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{v}");
    assert_eq!(errors[0]["recipient"], "bad@@");
    assert!(errors[0]["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(only_finding(&v)["suggestion"], "c@navy.mil");
}

#[test]
fn every_finding_key_is_present_and_nulls_are_kept() {
    let v = check(&linter(None), json!({"to": ["x@gmial.com", "q@navy.ml"]}));
    assert_eq!(v["id"], Value::Null);
    assert!(v.as_object().unwrap().contains_key("id"), "{v}");
    for f in v["findings"].as_array().unwrap() {
        let keys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
        for k in [
            "recipient",
            "address",
            "domain",
            "kind",
            "severity",
            "suggestion",
            "intended",
            "score",
            "reason",
        ] {
            assert!(keys.contains(&k), "{k} missing in {f}");
        }
    }
}

#[test]
fn verdict_is_a_plain_object_not_a_map() {
    let out = linter(None)
        .check(js(&json!({"id": {"n": 1}, "to": ["y@gmail.com"]})))
        .unwrap();
    assert!(!out.is_instance_of::<js_sys::Map>());
    let id = js_sys::Reflect::get(&out, &JsValue::from_str("id")).unwrap();
    assert!(!id.is_instance_of::<js_sys::Map>());
    assert_eq!(rust(&id), json!({"n": 1}));
}

#[test]
fn check_accepts_json_text() {
    let l = linter(None);
    let a = rust(
        &l.check(JsValue::from_str(r#"{"to": ["c@navy.ml"]}"#))
            .unwrap(),
    );
    let b = check(&l, json!({"to": ["c@navy.ml"]}));
    assert_eq!(a, b);
}

#[test]
fn check_address_finds_the_suggestion() {
    let mut l = linter(None);
    let f = rust(&l.check_address("j.smith@army.ml", None).unwrap());
    assert_eq!(f[0]["suggestion"], "j.smith@army.mil", "{f}");
    let clean = rust(
        &l.check_address("y@gmail.com", Some(js(&json!({}))))
            .unwrap(),
    );
    assert_eq!(clean, json!([]));
}

#[test]
fn check_address_follows_a_changed_sender() {
    // The sender is context: a Dutch mindef.nl sender typing army.ml meant army.nl; a .mil
    // sender meant army.mil. The cached context must be dropped when `from` changes.
    let mut l = linter(None);
    let mut intended = |from: &str| {
        let f = rust(
            &l.check_address("p.devries@army.ml", Some(js(&json!({"from": from}))))
                .unwrap(),
        );
        f[0]["intended"].clone()
    };
    let nl = intended("k.jansen@mindef.nl");
    let mil = intended("a.b@army.mil");
    let nl_again = intended("k.jansen@mindef.nl");
    assert_eq!(nl, "army.nl");
    assert_eq!(mil, "army.mil");
    assert_eq!(nl_again, nl);
}

#[test]
fn contacts_are_never_flagged() {
    let mut l = linter(None);
    let ctx = json!({"from": "me@gmail.com", "contacts": ["friend@gmial.com"]});
    let with = rust(&l.check_address("friend@gmial.com", Some(js(&ctx))).unwrap());
    let without = rust(
        &l.check_address(
            "friend@gmial.com",
            Some(js(&json!({"from": "me@gmail.com"}))),
        )
        .unwrap(),
    );
    assert_eq!(with, json!([]));
    assert_ne!(without, json!([]));
}

#[test]
fn bad_policy_throws_naming_the_key() {
    let e = Linter::new(Some(js(&json!({"protectd": ["*.mil"]})))).unwrap_err();
    let msg = thrown_message(e);
    assert!(msg.contains("protectd"), "{msg}");
    let e = Linter::new(Some(JsValue::from_str("{not json"))).unwrap_err();
    assert!(thrown_message(e).contains("policy"));
}

#[test]
fn policy_object_and_text_are_the_same_policy() {
    let p = policy_named("example");
    let a = linter(Some(&p));
    let b = Linter::new(Some(JsValue::from_str(&p.to_string()))).unwrap();
    let req = json!({"from": "k@mindef.nl", "to": ["x@mindef.ml", "y@army.ml"]});
    assert_eq!(check(&a, req.clone()), check(&b, req));
}

#[test]
fn null_policy_is_the_default() {
    let a = Linter::new(Some(JsValue::NULL)).unwrap();
    let req = json!({"to": ["c@navy.ml", "x@gmial.com"]});
    assert_eq!(check(&a, req.clone()), check(&linter(None), req));
}

#[test]
fn bad_request_throws() {
    let l = linter(None);
    let e = l.check(js(&json!({"to": 5}))).unwrap_err();
    assert!(thrown_message(e).contains("check request"));
    let e = l.check(JsValue::from_f64(3.0)).unwrap_err();
    assert!(thrown_message(e).contains("check request"));
}

#[test]
fn bad_address_context_throws() {
    let mut l = linter(None);
    assert!(l
        .check_address("a@b.com", Some(js(&json!({"contacts": "x"}))))
        .is_err());
    assert!(l
        .check_address("a@b.com", Some(js(&json!({"from": 3}))))
        .is_err());
}

#[test]
fn version_is_the_core_version() {
    assert_eq!(version(), mistype::VERSION);
}
