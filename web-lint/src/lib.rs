//! # mistype-web-lint
//!
//! The [mistype](https://example.invalid/mistype) core in the browser compose window: a thin
//! wasm-bindgen layer over [`mistype::Engine`]. All detection lives in the core; this crate only
//! converts between JavaScript values and the core's types, so the browser reaches exactly the
//! verdicts the CLI and the Envoy filter reach.
//!
//! ```js
//! import init, { Linter, version } from "mistype-web-lint";
//! await init();
//! const linter = new Linter();                 // the embedded default policy
//! linter.check({ from: "a.b@army.mil", to: ["c@navy.ml"] }).verdict;   // "block"
//! linter.checkAddress("j.smith@army.ml", {})[0].suggestion;           // "j.smith@army.mil"
//! ```

// Glue must not panic: a panic in the module is a trap that takes the page's linter with it.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mistype::{CheckRequest, Context, Engine, Policy};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** How serious a finding is; a verdict is the most severe finding, `allow` when there is none. */
export type Severity = "allow" | "warn" | "block";

/** The kind of slip a finding names (mistype: docs/contract.md). */
export type Kind =
  | "suffix-typo" | "label-typo" | "missing-dot" | "lookalike"
  | "embedded" | "invalid-domain" | "risky-destination";

/** One recipient that looks misaddressed. Every key is always present (`null` when empty). */
export interface Finding {
  /** The recipient exactly as given (display name and all). */
  recipient: string;
  /** The bare address `local@domain`. */
  address: string;
  /** The recipient's domain (lower case; Unicode form for IDNs). */
  domain: string;
  kind: Kind;
  /** `warn` or `block`. */
  severity: Severity;
  /** The address the sender probably meant: the local part as typed, the intended domain. */
  suggestion: string | null;
  /** The domain the sender probably meant. */
  intended: string | null;
  /** Confidence that this is a slip, 0 to 1. */
  score: number;
  /** One sentence a person can act on. */
  reason: string;
}

/** Why a recipient (or the sender) could not be judged (mistype: docs/contract.md). */
export type RecipientErrorKind = "syntax" | "too-long" | "domain" | "limit" | "sender";

/** A recipient that could not be judged (unparseable, too long, impossible domain). */
export interface RecipientError {
  recipient: string;
  kind: RecipientErrorKind;
  message: string;
}

/** The answer for one check request. */
export interface Verdict {
  /** The request's `id`, echoed back (`null` when absent). */
  id: unknown;
  verdict: Severity;
  /** The findings, in recipient order (to, cc, bcc). */
  findings: Finding[];
  errors: RecipientError[];
}

/** One check request. Each recipient entry may itself be an address list (`"A <a@x>, b@y"`). */
export interface CheckRequest {
  id?: unknown;
  from?: string | null;
  to: string[] | string;
  cc?: string[] | string | null;
  bcc?: string[] | string | null;
  /** Addresses or bare domains the sender already corresponds with. */
  contacts?: string[] | string | null;
}

/** A destination rule: senders matching `from` writing to `to`. */
export interface Rule {
  from: string;
  to: string;
  severity: "warn" | "block";
}

/** A policy (see the mistype policy reference). */
export interface Policy {
  /** Domains or whole suffixes (`*.mil`) whose lookalikes block. */
  protected?: string[];
  /** Legitimate domains; typos of them warn. */
  trusted?: string[];
  known?: string[];
  rules?: Rule[];
  /** Also use the embedded default policy (default `true`). */
  defaults?: boolean;
}

/** The sender context for `checkAddress`. */
export interface AddressContext {
  /** The sender's mailbox. */
  from?: string | null;
  /** Addresses or bare domains the sender already corresponds with. */
  contacts?: string[] | null;
}
"#;

/// The version of the mistype core inside this module (`"0.1.0"`).
#[wasm_bindgen]
pub fn version() -> String {
    mistype::VERSION.to_string()
}

/// A linter: one engine built from one policy, reused for every check.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Linter {
    engine: Engine,
    /// The sender context of the last `checkAddress` call, kept while `from` and `contacts`
    /// stay the same so that a keystroke costs one recipient check only.
    cached: Option<CachedContext>,
}

#[derive(Debug)]
struct CachedContext {
    from: Option<String>,
    contacts: Vec<String>,
    context: Context,
}

#[wasm_bindgen]
impl Linter {
    /// Build a linter. With no policy (`undefined` or `null`), the embedded default policy;
    /// otherwise a policy object or its JSON text.
    ///
    /// # Errors
    /// Throws an `Error` whose message names the key and value at fault when the policy cannot
    /// be used.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "Policy | string | null")] policy: Option<
            JsValue,
        >,
    ) -> Result<Linter, JsError> {
        // A panic would be a bug; make it readable in the console (idempotent).
        #[cfg(feature = "console_error_panic_hook")]
        console_error_panic_hook::set_once();
        let engine = match policy {
            None => Engine::with_default_policy(),
            Some(p) if p.is_null() || p.is_undefined() => Engine::with_default_policy(),
            Some(p) => Engine::new(&Policy::from_json(&json_text(&p, "policy")?)?),
        };
        Ok(Linter {
            engine,
            cached: None,
        })
    }

    /// Judge one check request (an object, or its JSON text) and return the verdict.
    ///
    /// # Errors
    /// Throws an `Error` naming the key at fault when the request is malformed.
    #[wasm_bindgen(unchecked_return_type = "Verdict")]
    pub fn check(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CheckRequest | string")] request: JsValue,
    ) -> Result<JsValue, JsError> {
        let request = CheckRequest::from_json(&json_text(&request, "check request")?)?;
        to_js(&self.engine.check(&request))
    }

    /// The findings for one recipient entry (an address, or a comma-separated list), judged in
    /// the sender context `{from, contacts}`. Cheap enough for every keystroke: the context is
    /// prepared once and reused while `from` and `contacts` are unchanged.
    ///
    /// # Errors
    /// Throws when `context` is not an object of the documented shape.
    #[wasm_bindgen(js_name = checkAddress, unchecked_return_type = "Finding[]")]
    pub fn check_address(
        &mut self,
        address: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "AddressContext | null")] context: Option<
            JsValue,
        >,
    ) -> Result<JsValue, JsError> {
        let (from, contacts) = read_context(context)?;
        let fresh = match &self.cached {
            Some(c) => c.from != from || c.contacts != contacts,
            None => true,
        };
        if fresh {
            let context = self.engine.context(from.as_deref(), &contacts);
            self.cached = Some(CachedContext {
                from,
                contacts,
                context,
            });
        }
        let verdict = match &self.cached {
            Some(c) => self.engine.check_recipient(address, &c.context),
            None => return Err(JsError::new("internal: no sender context")),
        };
        to_js(&verdict.findings)
    }
}

/// A JS value as JSON text: strings are taken as JSON already, objects are stringified.
fn json_text(value: &JsValue, what: &str) -> Result<String, JsError> {
    if let Some(s) = value.as_string() {
        return Ok(s);
    }
    if !value.is_object() {
        return Err(JsError::new(&format!(
            "invalid {what}: expected an object or its JSON text"
        )));
    }
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| JsError::new(&format!("invalid {what}: cannot be written as JSON")))
}

/// Reads `{from, contacts}`; both are optional.
fn read_context(context: Option<JsValue>) -> Result<(Option<String>, Vec<String>), JsError> {
    let Some(context) = context.filter(|c| !c.is_null() && !c.is_undefined()) else {
        return Ok((None, Vec::new()));
    };
    if !context.is_object() {
        return Err(JsError::new(
            "checkAddress: the context must be an object {from?, contacts?}",
        ));
    }
    let get = |key: &str| js_sys::Reflect::get(&context, &JsValue::from_str(key)).ok();
    let from = match get("from") {
        Some(v) if v.is_null() || v.is_undefined() => None,
        Some(v) => Some(
            v.as_string()
                .ok_or_else(|| JsError::new("checkAddress: 'from' must be a string"))?,
        ),
        None => None,
    };
    let contacts = match get("contacts") {
        Some(v) if v.is_null() || v.is_undefined() => Vec::new(),
        Some(v) => {
            let list = v.dyn_into::<js_sys::Array>().map_err(|_| {
                JsError::new("checkAddress: 'contacts' must be an array of strings")
            })?;
            let mut out = Vec::with_capacity(list.length() as usize);
            for item in list.iter() {
                out.push(item.as_string().ok_or_else(|| {
                    JsError::new("checkAddress: 'contacts' must be an array of strings")
                })?);
            }
            out
        }
        None => Vec::new(),
    };
    Ok((from, contacts))
}

/// Plain JS objects (not `Map`s), with `null` kept where `docs/contract.md` has `null`.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    let serializer = serde_wasm_bindgen::Serializer::new()
        .serialize_missing_as_null(true)
        .serialize_maps_as_objects(true);
    value
        .serialize(&serializer)
        .map_err(|e| JsError::new(&e.to_string()))
}
