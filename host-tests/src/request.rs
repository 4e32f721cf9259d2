//! What a test sends through the filter, and what came out.

use std::collections::BTreeMap;

use crate::abi::Action;
use crate::headers::HeaderMap;
use crate::state::{HttpCall, LocalReply, LogEntry, MetricValue};

/// How the host answers the plugin's `dispatch_http_call`s: the response, or `None` for a call
/// that fails or times out (Envoy then reports no headers and no body).
#[derive(Clone)]
pub struct Responder(std::sync::Arc<Answer>);

/// The function behind a [`Responder`].
type Answer = dyn Fn(&HttpCall) -> Option<UpstreamResponse> + Send + Sync;

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Responder")
    }
}

/// A downstream request, built fluently:
/// `Request::post("/jmap/api").header("content-type", "application/json").body(..).chunked(5)`.
#[derive(Debug, Clone)]
pub struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) authority: String,
    pub(crate) scheme: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) chunk_size: Option<usize>,
    pub(crate) trailers: Vec<(String, String)>,
    pub(crate) no_content_length: bool,
    pub(crate) body_withheld: bool,
    pub(crate) upstream_response: UpstreamResponse,
    pub(crate) properties: Vec<(Vec<String>, Vec<u8>)>,
    pub(crate) responder: Option<Responder>,
}

/// A send fixture of `mistype_testdata::sends` (shared with the filter's unit tests, the Envoy
/// tests and the benchmarks) as a request.
impl From<mistype_testdata::sends::HttpRequest> for Request {
    fn from(r: mistype_testdata::sends::HttpRequest) -> Request {
        let mut req = Request::new(r.method, &r.path);
        if let Some(ct) = &r.content_type {
            req = req.content_type(ct);
        }
        for (k, v) in &r.headers {
            req = req.header(k, v);
        }
        req.body(r.body)
    }
}

/// What the (simulated) upstream answers when the request reaches it.
#[derive(Debug, Clone)]
pub struct UpstreamResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Default for UpstreamResponse {
    fn default() -> Self {
        UpstreamResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: br#"{"upstream":"ok"}"#.to_vec(),
        }
    }
}

impl Request {
    pub fn new(method: &str, path: &str) -> Request {
        Request {
            method: method.to_string(),
            path: path.to_string(),
            authority: "mail.example.test".to_string(),
            scheme: "https".to_string(),
            headers: Vec::new(),
            body: Vec::new(),
            chunk_size: None,
            trailers: Vec::new(),
            no_content_length: false,
            body_withheld: false,
            upstream_response: UpstreamResponse::default(),
            properties: Vec::new(),
            responder: None,
        }
    }

    pub fn get(path: &str) -> Request {
        Request::new("GET", path)
    }

    pub fn post(path: &str) -> Request {
        Request::new("POST", path)
    }

    pub fn put(path: &str) -> Request {
        Request::new("PUT", path)
    }

    pub fn authority(mut self, authority: &str) -> Request {
        self.authority = authority.to_string();
        self
    }

    pub fn header(mut self, key: &str, value: &str) -> Request {
        self.headers.push((key.to_string(), value.to_string()));
        self
    }

    pub fn content_type(self, value: &str) -> Request {
        self.header("content-type", value)
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    /// A JSON body with `content-type: application/json`.
    pub fn json(self, value: &serde_json::Value) -> Request {
        self.content_type("application/json")
            .body(value.to_string().into_bytes())
    }

    /// Deliver the body in chunks of `size` bytes (one body callback each), without a
    /// `content-length` (as a chunked HTTP/1.1 or an HTTP/2 request).
    pub fn chunked(mut self, size: usize) -> Request {
        self.chunk_size = Some(size.max(1));
        self.no_content_length = true;
        self
    }

    /// The client sends the headers (with `content-length`, not ending the stream) and then
    /// nothing: no body callback ever comes, whatever the filter does.
    pub fn withhold_body(mut self) -> Request {
        self.body_withheld = true;
        self
    }

    /// Request trailers: the last body callback then has `end_of_stream` false and
    /// `proxy_on_request_trailers` ends the request (HTTP/2 and chunked HTTP/1.1).
    pub fn trailer(mut self, key: &str, value: &str) -> Request {
        self.trailers.push((key.to_string(), value.to_string()));
        self
    }

    pub fn trailers(mut self, trailers: &[(&str, &str)]) -> Request {
        for (k, v) in trailers {
            self = self.trailer(k, v);
        }
        self
    }

    /// How the mail server answers the plugin's `dispatch_http_call`s during this request
    /// (`None` from `f`: the call fails or times out). Without it every call fails.
    pub fn on_http_call(
        mut self,
        f: impl Fn(&HttpCall) -> Option<UpstreamResponse> + Send + Sync + 'static,
    ) -> Request {
        self.responder = Some(Responder(std::sync::Arc::new(f)));
        self
    }

    pub(crate) fn answer(&self, call: &HttpCall) -> Option<UpstreamResponse> {
        self.responder.as_ref().and_then(|r| (r.0)(call))
    }

    /// What the upstream answers if the request reaches it.
    pub fn upstream_response(
        mut self,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Request {
        self.upstream_response = UpstreamResponse {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.to_vec(),
        };
        self
    }

    /// A stream property (`proxy_get_property`), e.g. `&["source", "address"]`.
    pub fn property(mut self, path: &[&str], value: &[u8]) -> Request {
        self.properties
            .push((path.iter().map(|s| s.to_string()).collect(), value.to_vec()));
        self
    }

    pub fn body_len(&self) -> usize {
        self.body.len()
    }

    /// The body bytes (what a filter that lets the request through must forward).
    pub fn body_bytes(&self) -> Vec<u8> {
        self.body.clone()
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn method(&self) -> &str {
        &self.method
    }

    /// The request headers as Envoy hands them to the filter chain: pseudo-headers, the
    /// test's headers, `content-length` for a non-chunked body, and the headers Envoy's
    /// connection manager adds before any filter (`x-forwarded-proto`, `x-request-id`).
    pub(crate) fn header_map(&self, request_id: u64) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.add(":authority", &self.authority);
        map.add(":path", &self.path);
        map.add(":method", &self.method);
        map.add(":scheme", &self.scheme);
        for (k, v) in &self.headers {
            map.add(k, v);
        }
        if !self.body.is_empty() && !self.no_content_length && map.get("content-length").is_none() {
            map.add("content-length", &self.body.len().to_string());
        }
        map.add("x-forwarded-proto", &self.scheme);
        if map.get("x-request-id").is_none() {
            map.add(
                "x-request-id",
                &format!("00000000-0000-4000-8000-{request_id:012x}"),
            );
        }
        map
    }

    pub(crate) fn chunks(&self) -> Vec<&[u8]> {
        if self.body.is_empty() {
            return Vec::new();
        }
        match self.chunk_size {
            Some(n) => self.body.chunks(n).collect(),
            None => vec![&self.body[..]],
        }
    }
}

/// Which callback a record or a stall refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callback {
    RequestHeaders,
    RequestBody,
    RequestTrailers,
    ResponseHeaders,
    ResponseBody,
}

/// What reached the upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// The request headers as they were when the filter let them go.
    pub headers: HeaderMap,
    /// The body bytes forwarded (all of them if `complete`).
    pub body: Vec<u8>,
    pub trailers: Option<HeaderMap>,
    /// False when the stream was reset (local reply after the headers went) or stalled.
    pub complete: bool,
}

impl Upstream {
    pub fn header(&self, key: &str) -> Option<&str> {
        self.headers.get(key)
    }
}

/// What the downstream client received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, key: &str) -> Option<&str> {
        self.headers.get(key)
    }

    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Everything that happened to one request.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub upstream: Option<Upstream>,
    /// The local reply, if the plugin (or Envoy's buffer limit) answered instead of the upstream.
    pub local_reply: Option<LocalReply>,
    /// What the client got; `None` when the stream stalled (a `Pause` nobody resumed).
    pub response: Option<Response>,
    pub stalled: Option<Callback>,
    /// How many times the root context's tick ran while the request waited (a stalled
    /// request waits through ticks, as in Envoy, until the plugin answers or resumes it).
    pub ticks: u32,
    /// Every stream callback and what the plugin returned, in order.
    pub actions: Vec<(Callback, Action)>,
    /// Log lines the plugin wrote during this request.
    pub logs: Vec<LogEntry>,
    /// All metrics after the request.
    pub metrics: BTreeMap<String, MetricValue>,
    /// Hostcalls made during this request, by name.
    pub hostcalls: BTreeMap<&'static str, u32>,
    /// How many times the plugin read the request body.
    pub request_body_reads: u32,
    /// The `dispatch_http_call`s the plugin made, in order.
    pub http_calls: Vec<HttpCall>,
}

impl Outcome {
    /// The request reached the upstream in full and the upstream's answer went back.
    pub fn passed(&self) -> bool {
        self.local_reply.is_none() && self.upstream.as_ref().is_some_and(|u| u.complete)
    }

    /// The complete request as the upstream received it.
    pub fn forwarded(&self) -> Option<&Upstream> {
        self.upstream.as_ref().filter(|u| u.complete)
    }

    pub fn status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.status)
    }

    pub fn response_header(&self, key: &str) -> Option<&str> {
        self.response.as_ref().and_then(|r| r.header(key))
    }

    /// The response body as JSON (local replies are JSON for this filter).
    pub fn json(&self) -> Option<serde_json::Value> {
        self.response.as_ref().and_then(Response::json)
    }

    pub fn counter(&self, name: &str) -> u64 {
        match self.metrics.get(name) {
            Some(MetricValue::Counter(v)) => *v,
            _ => 0,
        }
    }

    /// True if the plugin never asked to hold the body: every body callback said Continue
    /// and the body was not read.
    pub fn body_untouched(&self) -> bool {
        self.request_body_reads == 0
            && self
                .actions
                .iter()
                .filter(|(c, _)| *c == Callback::RequestBody)
                .all(|(_, a)| a.is_continue())
    }

    pub fn action(&self, callback: Callback) -> Vec<Action> {
        self.actions
            .iter()
            .filter(|(c, _)| *c == callback)
            .map(|(_, a)| *a)
            .collect()
    }

    /// Logs rendered one per line, for assertion messages.
    pub fn log_text(&self) -> String {
        self.logs
            .iter()
            .map(|l| format!("[{:?}] {}", l.level, l.message))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
