//! The per-plugin host state kept in the wasmtime `Store`.

use std::collections::{BTreeMap, HashMap};

use wasmtime::{Memory, TypedFunc};

use crate::abi::{LogLevel, MetricType};
use crate::headers::HeaderMap;

/// One line the plugin logged through `proxy_log`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub level: LogLevel,
    pub message: String,
}

/// A metric's current value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricValue {
    Counter(u64),
    Gauge(i64),
    /// Every recorded value, in order.
    Histogram(Vec<u64>),
}

impl MetricValue {
    /// Counter or gauge value (histograms: the number of samples).
    pub fn value(&self) -> i64 {
        match self {
            MetricValue::Counter(v) => *v as i64,
            MetricValue::Gauge(v) => *v,
            MetricValue::Histogram(v) => v.len() as i64,
        }
    }
}

/// A local reply: what `proxy_send_local_response` asked for (or Envoy's own, such as the
/// 413 when the body outgrows the buffer limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalReply {
    pub status: u32,
    pub details: String,
    pub body: Vec<u8>,
    /// The headers the plugin passed (lower-cased keys, as Envoy adds them).
    pub headers: Vec<(String, String)>,
    pub grpc_status: i32,
    /// True when Envoy itself sent it (buffer limit), not the plugin.
    pub by_envoy: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Metrics {
    /// id → name; ids encode the type in the low two bits, as Envoy's do.
    pub ids: HashMap<u32, (MetricType, String)>,
    pub values: BTreeMap<String, MetricValue>,
    pub next: u32,
}

/// The HTTP stream being driven, seen through the ABI.
#[derive(Debug, Default)]
pub(crate) struct Stream {
    pub ctx: u32,
    pub request_headers: Option<HeaderMap>,
    pub request_trailers: Option<HeaderMap>,
    pub response_headers: Option<HeaderMap>,
    pub response_trailers: Option<HeaderMap>,
    /// The request body buffer the plugin sees right now (`None`: Envoy's null buffer).
    pub request_body: Option<Vec<u8>>,
    pub response_body: Option<Vec<u8>>,
    /// `end_of_stream` of the callback running now.
    pub end_of_stream: bool,
    /// Which callback runs now (for the trailers-may-be-added rule).
    pub in_request_body: bool,
    pub local_reply: Option<LocalReply>,
    pub continue_request: bool,
    /// Body bytes Envoy has received from the client so far (whether or not the plugin has
    /// seen them): what `request.total_size` adds to the headers' size.
    pub received_body: u64,
    pub continue_response: bool,
    pub closed: bool,
    /// Properties the request provides (`request.path`, ...).
    pub properties: BTreeMap<Vec<String>, Vec<u8>>,
}

/// A call the plugin made with `proxy_http_call` (`dispatch_http_call`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCall {
    /// The token the host handed back.
    pub token: u32,
    /// The cluster it was sent to.
    pub upstream: String,
    /// Its headers, pseudo-headers (`:method`, `:path`, `:authority`) included.
    pub headers: HeaderMap,
    /// Its body.
    pub body: Vec<u8>,
    /// Its timeout.
    pub timeout_ms: u32,
}

impl HttpCall {
    /// A header of the call (`:path`, `authorization`, ...).
    pub fn header(&self, key: &str) -> Option<&str> {
        self.headers.get(key)
    }
}

/// Everything the hostcalls read and write.
pub struct HostState {
    pub(crate) memory: Option<Memory>,
    pub(crate) alloc: Option<TypedFunc<i32, i32>>,
    pub(crate) now_nanos: u64,
    pub(crate) monotonic_start: u64,
    pub(crate) rng: u64,
    pub(crate) logs: Vec<LogEntry>,
    pub(crate) echo_logs: bool,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
    pub(crate) log_level: LogLevel,
    pub(crate) metrics: Metrics,
    pub(crate) vm_config: Vec<u8>,
    pub(crate) plugin_config: Vec<u8>,
    /// True only while `proxy_on_configure` runs: the plugin configuration is readable then.
    pub(crate) configuring: bool,
    pub(crate) properties: BTreeMap<Vec<String>, Vec<u8>>,
    pub(crate) shared_data: HashMap<Vec<u8>, (Vec<u8>, u32)>,
    pub(crate) current_context: u32,
    pub(crate) effective_context: Option<u32>,
    pub(crate) root_id: u32,
    pub(crate) stream: Option<Stream>,
    pub(crate) hostcalls: BTreeMap<&'static str, u32>,
    pub(crate) request_body_reads: u32,
    pub(crate) tick_period_ms: u32,
    pub(crate) exit_code: Option<i32>,
    /// The clusters `proxy_http_call` may name (as Envoy's cluster manager knows them).
    pub(crate) clusters: Vec<String>,
    /// Calls made and not answered yet.
    pub(crate) pending_calls: Vec<HttpCall>,
    pub(crate) next_call_token: u32,
    /// The answer being delivered in `proxy_on_http_call_response`: headers and body.
    pub(crate) call_response: Option<(HeaderMap, Vec<u8>)>,
}

impl std::fmt::Debug for HostState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostState")
            .field("now_nanos", &self.now_nanos)
            .field("logs", &self.logs.len())
            .field("metrics", &self.metrics.values)
            .field("current_context", &self.current_context)
            .finish_non_exhaustive()
    }
}

impl HostState {
    pub(crate) fn new(now_nanos: u64, vm_config: Vec<u8>, plugin_config: Vec<u8>) -> HostState {
        HostState {
            memory: None,
            alloc: None,
            now_nanos,
            monotonic_start: now_nanos,
            rng: 0x9e37_79b9_7f4a_7c15,
            logs: Vec::new(),
            echo_logs: std::env::var_os("MISTYPE_HOST_LOG").is_some(),
            stdout: Vec::new(),
            stderr: Vec::new(),
            log_level: LogLevel::Trace,
            metrics: Metrics::default(),
            vm_config,
            plugin_config,
            configuring: false,
            properties: BTreeMap::new(),
            shared_data: HashMap::new(),
            current_context: 0,
            effective_context: None,
            root_id: 1,
            stream: None,
            hostcalls: BTreeMap::new(),
            request_body_reads: 0,
            tick_period_ms: 0,
            exit_code: None,
            clusters: Vec::new(),
            pending_calls: Vec::new(),
            next_call_token: 1,
            call_response: None,
        }
    }

    pub(crate) fn count(&mut self, name: &'static str) {
        *self.hostcalls.entry(name).or_insert(0) += 1;
    }

    /// The context a hostcall acts for: the effective one if the plugin set it, else the
    /// context whose callback is running.
    pub(crate) fn acting_context(&self) -> u32 {
        self.effective_context.unwrap_or(self.current_context)
    }

    /// The stream, if the acting context is that stream's.
    pub(crate) fn stream_mut(&mut self) -> Option<&mut Stream> {
        let ctx = self.acting_context();
        self.stream.as_mut().filter(|s| s.ctx == ctx)
    }

    pub(crate) fn next_random(&mut self) -> u64 {
        // xorshift64*: deterministic, good enough for HashMap seeds and the like.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn log(&mut self, level: LogLevel, message: String) {
        if self.echo_logs {
            eprintln!("[wasm {level:?}] {message}");
        }
        self.logs.push(LogEntry { level, message });
    }

    /// Property lookup: the stream's own first, then the plugin-wide ones. A stream's
    /// `request.total_size` is, as in Envoy, the body bytes received so far plus the request
    /// headers' names and values.
    pub(crate) fn property(&self, path: &[String]) -> Option<Vec<u8>> {
        let ctx = self.acting_context();
        if let Some(stream) = self.stream.as_ref().filter(|s| s.ctx == ctx) {
            if let Some(v) = stream.properties.get(path) {
                return Some(v.clone());
            }
            if path == ["request", "total_size"] {
                let headers = stream
                    .request_headers
                    .as_ref()
                    .map_or(0, HeaderMap::byte_size) as u64;
                let total = (headers + stream.received_body) as i64;
                return Some(total.to_le_bytes().to_vec());
            }
        }
        self.properties.get(path).cloned()
    }
}
