//! A proxy-wasm ABI 0.2.1 host on wasmtime, written for testing `mistype_filter.wasm`
//! the way Envoy runs it.
//!
//! - WASI preview1: the functions Envoy provides (stdout/stderr captured, no environment,
//!   no arguments, a settable clock, deterministic randomness, `proc_exit` traps).
//! - Start: `_initialize`, then `proxy_on_context_create(root, 0)`, `proxy_on_vm_start`,
//!   `proxy_on_configure` (the plugin configuration is readable only there; `false` is a
//!   rejected configuration, [`HostError::ConfigRejected`]).
//! - Per request: `proxy_on_context_create`, request headers, body (as chunks; a `Pause`d
//!   body is buffered and each later callback sees the whole buffer, as Envoy's
//!   `StopIterationAndBuffer` does), trailers, the response path (also for local replies),
//!   then `proxy_on_done`, `proxy_on_log`, `proxy_on_delete`.
//! - Header maps, buffers, local replies, metrics, logs, time and properties behave as in
//!   Envoy's `context.cc`, including its error statuses.
//!
//! ```no_run
//! use host_tests::{Filter, Request};
//! let mut f = Filter::new(r#"{"mode":"block"}"#)?;
//! let out = f.request(
//!     Request::post("/jmap/api")
//!         .content_type("application/json")
//!         .body(r#"{"using":[],"methodCalls":[]}"#)
//!         .chunked(5),
//! )?;
//! assert!(out.passed());
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod abi;
mod filter;
pub mod headers;
mod imports;
mod request;
mod state;

pub use abi::{Action, LogLevel};
pub use filter::{repo_root, target_dir, wasm_path, Filter, FilterBuilder, HostError};
pub use headers::HeaderMap;
pub use request::{Callback, Outcome, Request, Responder, Response, Upstream, UpstreamResponse};
pub use state::{HttpCall, LocalReply, LogEntry, MetricValue};
