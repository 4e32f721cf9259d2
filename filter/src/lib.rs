//! # mistype-filter
//!
//! mistype as a proxy-wasm HTTP filter for Envoy, in front of webmail send APIs: it recognises
//! send requests (JMAP, Microsoft Graph, Gmail API, Roundcube, SnappyMail, Nextcloud Mail, SOGo,
//! and the check-request JSON of `docs/contract.md`), pulls out every recipient, asks the core, and blocks
//! (`422`), warns (response headers) or only counts.
//!
//! Everything but the glue is pure and tested natively (`cargo test -p mistype-filter`):
//! [`config`] (the plugin configuration), [`extract`] (one module per API), [`token`] (confirm
//! tokens), [`decide`] (what to do), [`metrics`] (counter names) and [`pipeline`] (all of it per
//! request, with the engine). The glue (`glue.rs`, built
//! only for `wasm32`) wires them to the proxy-wasm SDK.

pub mod config;
pub mod decide;
pub mod extract;
pub mod lookup;
pub mod metrics;
pub mod pipeline;
pub mod reply;
pub mod send;
pub mod token;

#[cfg(target_arch = "wasm32")]
mod glue;
