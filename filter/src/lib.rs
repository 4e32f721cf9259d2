//! # mistype-filter
//!
//! mistype as a proxy-wasm HTTP filter for Envoy, in front of webmail send APIs: it recognises
//! send requests (JMAP, Microsoft Graph, Gmail API, Roundcube, SnappyMail, Nextcloud Mail, SOGo,
//! and the check-request JSON of `docs/contract.md`), pulls out every recipient, asks the core,
//! and blocks (`422`), warns (response headers) or only counts.
//!
//! The modules, each using only those above it (the glue aside, all pure and tested natively
//! with `cargo test -p mistype-filter`):
//!
//! - [`send`]: what a send is: [`send::Api`], [`send::Send`], [`send::Reference`] (a stored
//!   message sent by id), their errors, and the ids a request names, checked and encoded;
//! - [`token`]: confirm tokens (HMAC-SHA256), issued and verified at a time the caller gives;
//! - [`extract`]: the header-only look (`Routes::classify`) and one module per API that reads
//!   its requests, and the mail server's answer about one of its stored messages;
//! - [`lookup`]: the lookup request for a stored message, and the answer's status;
//! - [`config`]: the plugin configuration, with errors that name the key;
//! - [`metrics`]: the counters and their names;
//! - [`reply`]: every answer's wording: each API's error dialect, Roundcube's page, the verdict
//!   headers, and the one place where a local reply's headers and bytes are built;
//! - [`stall`]: held sends that get no body (Envoy without `allow_on_headers_stop_iteration`):
//!   which streams are held, and when to give up on one;
//! - [`decide`]: verdict, mode and token → pass or refuse, counters, log line;
//! - [`pipeline`]: the configuration's engine, built once, and per request classify, extract,
//!   check (or look up first), decide;
//! - `glue` (built only for `wasm32`): the proxy-wasm contexts, which move headers and bodies in
//!   and decisions out.

// Glue must not panic: a panic in the filter is a trap that takes the VM, and every send, with it.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod config;
pub mod decide;
pub mod extract;
pub mod lookup;
pub mod metrics;
pub mod pipeline;
pub mod reply;
pub mod send;
pub mod stall;
pub mod token;

#[cfg(target_arch = "wasm32")]
mod glue;
