//! # mistype
//!
//! Catches misaddressed outgoing email before it leaves: recipient domains that are typos or
//! lookalikes of the domain the sender meant (`navy.ml` for `navy.mil`, `gmial.com`, `usaf.mil`
//! for `us.af.mil`, Cyrillic `аrmy.mil`, `gmail.cmo`), and says what was meant.
//!
//! The core has no I/O, no clock and no threads; the same code runs natively (the `mistype` CLI),
//! in Envoy (`mistype-filter`, proxy-wasm) and in the browser (`mistype-web-lint`).
//!
//! Build an [`Engine`] once from a [`Policy`] (or the embedded default), then check requests:
//!
//! ```
//! use mistype::{CheckRequest, Engine, Severity};
//!
//! let engine = Engine::with_default_policy();
//! let request = CheckRequest::from_json(
//!     r#"{"from": "a.b@army.mil", "to": ["Lt J. Smith <j.smith@navy.ml>"]}"#,
//! ).unwrap();
//! let verdict = engine.check(&request);
//! assert_eq!(verdict.verdict, Severity::Block);
//! assert_eq!(verdict.findings[0].suggestion.as_deref(), Some("j.smith@navy.mil"));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod address;
mod candidates;
mod context;
mod domain;
mod engine;
mod error;
mod explain;
mod hasher;
mod index;
mod lenient;
mod letter_like;
mod policy;
mod registries;
mod score;
mod slips;
mod suffix_list;
mod suffix_repair;
pub mod text;
#[doc(hidden)]
pub mod uts39;
mod verdict;

pub use address::{parse_address_list, Mailbox};
pub use context::Context;
pub use engine::{Engine, Limits};
pub use error::{Error, ErrorKind};
pub use policy::{Pattern, Policy, Rule};
pub use verdict::{
    CheckRequest, Finding, Kind, RecipientError, RecipientErrorKind, Severity, Verdict,
    RESEND_TO_CONFIRM, SURE_WARNING_SCORE,
};

/// The date of the vendored Public Suffix List (`data/public_suffix_list.dat`, its VERSION line).
pub const PUBLIC_SUFFIX_LIST_DATE: &str = env!("MISTYPE_PSL_DATE");

/// This crate's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
