//! The proxy-wasm glue: root context (configuration, engine, metrics, the tick that watches
//! held sends) and HTTP context (header-only look, holding the request, lookups of stored
//! messages, decision). All decisions are made by the pure modules.

use crate::decide::{Decision, Level, Now};
use crate::extract::{self, Body, Candidate, Progress};
use crate::lookup;
use crate::metrics::{self, Counter, Tally};
use crate::pipeline::{Filter, Outcome, RequestInfo};
use crate::reply::Action;
use crate::send::{Api, LookupError, Send};
use crate::stall::{Release, Watch};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{
    Action as ProxyAction, BufferType, Bytes, ContextType, LogLevel, MapType, MetricType,
};
use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

proxy_wasm::main! {{
    // Also installs a panic hook that logs the panic at critical level before the trap.
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_root_context(|id| -> Box<dyn RootContext> {
        Box::new(Root {
            id,
            shared: None,
            watch: Rc::default(),
        })
    });
}}

/// The metrics' ids, in the order of [`metrics::all_names`], and the counts not handed to
/// Envoy yet.
#[derive(Debug, Default)]
struct Metrics {
    ids: Vec<u32>,
    /// Counts kept until the root context's next tick, which hands them to Envoy together (a
    /// call out of the VM per count cost a send about a microsecond of Envoy's CPU). `None`:
    /// no tick runs (`hold_headers` off), and each count goes to Envoy at once.
    tally: Option<RefCell<Tally>>,
}

impl Metrics {
    fn define(kept: bool) -> Result<Metrics, String> {
        let mut ids = Vec::new();
        for name in metrics::all_names() {
            ids.push(
                hostcalls::define_metric(MetricType::Counter, &name)
                    .map_err(|s| format!("cannot define metric {name}: {s:?}"))?,
            );
        }
        Ok(Metrics {
            ids,
            tally: kept.then(RefCell::default),
        })
    }

    fn increment(&self, api: Api, c: Counter) {
        if let Some(Ok(mut tally)) = self.tally.as_ref().map(RefCell::try_borrow_mut) {
            tally.add(api, c);
            return;
        }
        for slot in metrics::slots(api, c) {
            self.hand_over(slot, 1);
        }
    }

    /// Hands the kept counts to Envoy.
    fn flush(&self) {
        let counts = match self.tally.as_ref().map(RefCell::try_borrow_mut) {
            Some(Ok(mut tally)) => tally.take(),
            _ => return,
        };
        for (slot, n) in counts {
            self.hand_over(slot, n);
        }
    }

    fn hand_over(&self, slot: usize, n: u64) {
        let Some(id) = self.ids.get(slot) else {
            return;
        };
        if let Err(s) = hostcalls::increment_metric(*id, i64::try_from(n).unwrap_or(i64::MAX)) {
            let names = metrics::all_names();
            let name = names.get(slot).map_or("?", String::as_str);
            log::error!("cannot add {n} to metric {name}: {s:?}");
        }
    }
}

impl Drop for Metrics {
    /// The last holder of a configuration is gone (Envoy deleted the root context once its
    /// configuration was replaced and drained, or at a shutdown; or a stream that outlived
    /// it ended): the counts kept since the last tick go to Envoy now. (The root context's
    /// deletion comes through `proxy_on_delete`, which the filter exports; `proxy_on_done`
    /// would be one more call into the VM on every stream.)
    fn drop(&mut self) {
        self.flush();
    }
}

/// The most body bytes copied into the VM at once. One body callback may bring far more than a
/// socket read (Envoy's decompressor inflates a whole piece of a compressed send at once, up to
/// 100 times its size), and the VM's memory keeps the size of its largest copy for good. A
/// socket read's callback is one slice, as before; each slice more is a call into Envoy (a
/// 23 MiB send read in 64 KiB slices took about 2 ms longer than in its socket reads).
const READ_SLICE: usize = 256 * 1024;

/// What every HTTP context shares: built once per configuration.
#[derive(Debug)]
struct Shared {
    filter: Filter,
    metrics: Metrics,
}

impl Shared {
    /// Counts and logs a decision (carrying it out is the caller's).
    fn record(&self, d: &Decision) {
        for c in &d.counters {
            self.metrics.increment(d.api, *c);
        }
        if let Some((level, msg)) = &d.log {
            match level {
                Level::Debug => log::debug!("{msg}"),
                Level::Info => log::info!("{msg}"),
                Level::Warn => log::warn!("{msg}"),
                Level::Error => log::error!("{msg}"),
            }
        }
    }
}

/// Milliseconds since the Unix epoch (0 before 1970).
fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The body bytes Envoy has received for the effective context's request, from its
/// `request.total_size` (body bytes received plus the headers' names and values) less
/// `header_bytes`; `None` when Envoy does not say.
fn body_bytes_received(header_bytes: u64) -> Option<u64> {
    let total = hostcalls::get_property(vec!["request", "total_size"]).ok()??;
    let total = i64::from_le_bytes(total.as_slice().try_into().ok()?);
    Some(u64::try_from(total).ok()?.saturating_sub(header_bytes))
}

/// Now, in seconds since the Unix epoch, from the host's clock (0 if the host cannot say, which
/// fails closed: every confirm token is then expired).
fn host_seconds() -> u64 {
    hostcalls::get_current_time().map_or(0, millis) / 1000
}

struct Root {
    /// This root context's id.
    id: u32,
    shared: Option<Rc<Shared>>,
    /// The streams whose headers are held, watched by the tick.
    watch: Rc<RefCell<Watch>>,
}

impl Context for Root {}

impl Root {
    fn configure(&mut self, bytes: &[u8]) -> Result<Shared, String> {
        let filter = Filter::from_bytes(bytes)?;
        // Counts wait for the tick only where a tick runs.
        let metrics = Metrics::define(filter.config.hold_headers)?;
        Ok(Shared { filter, metrics })
    }

    /// Every held send without a body callback yet: answered when Envoy keeps its body from
    /// the filter, or when none has come for `stall.timeout_ms`.
    fn watch_held(&mut self, shared: &Shared) {
        if self.watch.borrow().is_empty() {
            return;
        }
        let now = millis(self.get_current_time());
        let pending = self.watch.borrow_mut().pending(now);
        for p in pending {
            // Envoy answers for a stream that is gone with BadArgument.
            if hostcalls::set_effective_context(p.context_id).is_err() {
                self.watch.borrow_mut().forget(p.context_id);
                continue;
            }
            let received = body_bytes_received(p.header_bytes);
            log::debug!(
                "{} send held {} ms; body bytes at Envoy: {}",
                p.api.name(),
                p.held_ms,
                received.map_or_else(|| "unknown".to_string(), |n| n.to_string())
            );
            let Some(d) = shared.filter.watch(p.api, p.held_ms, received) else {
                continue;
            };
            shared.record(&d);
            match d.action {
                Action::Reply {
                    status,
                    headers,
                    body,
                } => {
                    let h: Vec<(&str, &str)> = headers
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    if let Err(e) = hostcalls::send_http_response(status, h, Some(&body)) {
                        log::error!("mistype: cannot answer a stalled send: {e:?}");
                    }
                    self.watch.borrow_mut().refused(p.context_id);
                }
                Action::Continue { .. } => {
                    if let Err(e) = hostcalls::resume_http_request() {
                        log::error!("mistype: cannot resume a stalled send: {e:?}");
                    }
                    self.watch.borrow_mut().forget(p.context_id);
                }
            }
        }
        if let Err(e) = hostcalls::set_effective_context(self.id) {
            log::debug!("mistype: cannot return to the root context: {e:?}");
        }
    }
}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        match self.configure(&bytes) {
            Ok(shared) => {
                log::info!(
                    "mistype {} configured: mode {}, {} APIs{}{}",
                    mistype::VERSION,
                    shared.filter.config.mode.name(),
                    shared.filter.config.routes.apis.len(),
                    if shared.filter.signer.is_some() {
                        ", confirm tokens on"
                    } else {
                        ""
                    },
                    if shared.filter.config.policy.is_some() {
                        ", custom policy"
                    } else {
                        ", embedded policy"
                    },
                );
                // The tick watches held sends (crate::stall); without holding there is nothing
                // to watch.
                let tick = if shared.filter.config.hold_headers {
                    shared.filter.config.stall.tick_ms()
                } else {
                    0
                };
                self.set_tick_period(Duration::from_millis(u64::from(tick)));
                self.shared = Some(Rc::new(shared));
                true
            }
            Err(e) => {
                log::error!("mistype: bad plugin configuration: {e}");
                false
            }
        }
    }

    /// Answers held sends that get no body (below), then hands the counts kept since the last
    /// tick to Envoy.
    fn on_tick(&mut self) {
        let Some(shared) = self.shared.clone() else {
            return;
        };
        self.watch_held(&shared);
        shared.metrics.flush();
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream {
            id: context_id,
            watch: self.watch.clone(),
            held: false,
            shared: self.shared.clone(),
            candidate: None,
            content_type: None,
            token: None,
            sender: None,
            done: false,
            response_headers: Vec::new(),
            body: None,
            body_open: false,
            body_seen: 0,
            pending_reply: None,
            path: String::new(),
            lookup: None,
            lookup_headers: None,
            session_token: None,
        }))
    }
}

/// A send by reference waiting for its lookups: one call per reference, in order.
struct Pending {
    send: Send,
    /// The token of each reference's call (`None`: it could not be dispatched).
    tokens: Vec<Option<u32>>,
    results: Vec<Option<Result<Send, LookupError>>>,
}

struct Stream {
    /// This stream's context id.
    id: u32,
    /// The root context's watch of held sends.
    watch: Rc<RefCell<Watch>>,
    /// Its headers are held and it is in the watch, until its first body or trailers callback.
    held: bool,
    shared: Option<Rc<Shared>>,
    candidate: Option<Candidate>,
    content_type: Option<String>,
    token: Option<String>,
    sender: Option<String>,
    /// The decision is taken; later callbacks pass through.
    done: bool,
    response_headers: Vec<(String, String)>,
    /// The candidate's body, read as it streams in: each chunk is copied into the VM once, and
    /// only what the decision needs is kept.
    body: Option<Body>,
    /// A body callback is running and the body has not ended: a reply decided now waits for
    /// the end of the body ([`Stream::pending_reply`]).
    body_open: bool,
    /// The body bytes the proxy holds in the running body callback.
    body_seen: usize,
    /// A reply decided before the end of the body, sent when it ends.
    pending_reply: Option<Action>,
    /// `:path` of a candidate.
    path: String,
    lookup: Option<Pending>,
    /// What a lookup carries, read in the header callback: Envoy lets a filter read a
    /// request's headers only while it holds them, and a lookup may start in a body callback of
    /// a request whose headers went on (`hold_headers` off, or a stalled send let continue).
    lookup_headers: Option<LookupHeaders>,
    /// A confirm token that came with the start of a Gmail resumable upload: handed on to the
    /// session's first `PUT` (which carries the message) through shared data.
    session_token: Option<String>,
}

/// The request headers a lookup carries: the send's own host, and the user's credentials
/// (`lookup.forward_headers`), or the name of one that is not UTF-8 (then no call is made: an
/// altered credential would not be the user's).
#[derive(Debug, Default)]
struct LookupHeaders {
    authority: String,
    credentials: Vec<(String, String)>,
    not_forwarded: Option<String>,
}

impl LookupHeaders {
    /// From the request's header map as the header callback read it (the first value of each
    /// name, names compared without case).
    fn of_map(headers: &[(String, Bytes)], forward: &[String]) -> LookupHeaders {
        let value = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| same_name(k, name))
                .map(|(_, v)| v.as_slice())
        };
        let mut out = LookupHeaders {
            authority: value(":authority")
                .or_else(|| value("host"))
                .map(|v| text(v).into_owned())
                .unwrap_or_default(),
            ..LookupHeaders::default()
        };
        for h in forward {
            match value(h).map(std::str::from_utf8) {
                Some(Ok(v)) => out.credentials.push((h.clone(), v.to_string())),
                Some(Err(_)) => out.not_forwarded = Some(h.clone()),
                None => {}
            }
        }
        out
    }
}

/// The shared-data key of a resumable upload session's confirm token.
fn session_key(upload_id: &str) -> String {
    format!("mistype.upload.{upload_id}")
}

/// Where the headers that the header callback reads are in the map (the first of each name,
/// names compared without case), and the bytes of all the headers but the confirm token's: one
/// pass over the map, each name told apart by its length first.
#[derive(Debug, Default)]
struct Found {
    method: Option<usize>,
    path: Option<usize>,
    content_type: Option<usize>,
    content_range: Option<usize>,
    content_length: Option<usize>,
    /// The first `content-encoding` line that names a coding.
    content_encoding: Option<usize>,
    token: Option<usize>,
    sender: Option<usize>,
    /// (Without the confirm header, which the filter removes: the headers as Envoy counts them
    /// once it is gone.)
    header_bytes: usize,
}

/// Header names compared without case (one copy of the comparison for all of them).
#[inline(never)]
fn same_name(a: &str, b: &str) -> bool {
    // (Envoy's names are lower case already: the exact comparison mostly decides.)
    a == b || a.eq_ignore_ascii_case(b)
}

impl Found {
    #[inline(never)]
    fn of(headers: &[(String, Bytes)], token: &str, sender: Option<&str>) -> Found {
        let mut f = Found::default();
        for (i, (k, v)) in headers.iter().enumerate() {
            let is = |name: &str| k.len() == name.len() && same_name(k, name);
            let is_token = is(token);
            if !is_token {
                f.header_bytes += k.len() + v.len();
            }
            let slot = match k.len() {
                5 if is(":path") => &mut f.path,
                7 if is(":method") => &mut f.method,
                12 if is("content-type") => &mut f.content_type,
                13 if is("content-range") => &mut f.content_range,
                14 if is("content-length") => &mut f.content_length,
                16 if is("content-encoding") && extract::content_coding(&text(v)).is_some() => {
                    &mut f.content_encoding
                }
                _ if is_token => &mut f.token,
                _ if sender.is_some_and(is) => &mut f.sender,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(i);
            }
        }
        f
    }
}

/// A header value as text. Envoy passes on values with bytes that are not UTF-8 (HTTP's
/// obs-text, such as Latin-1); those are read with U+FFFD in their place, so a value the filter
/// reads is judged like any other malformed value, and one it does not read costs nothing.
fn text(value: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(value) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => not_utf8(value),
    }
}

#[cold]
#[inline(never)]
fn not_utf8(value: &[u8]) -> Cow<'_, str> {
    Cow::Owned(String::from_utf8_lossy(value).into_owned())
}

/// The value of the header at `i` as text, taken out of the map (left empty there).
fn take_value(headers: &mut [(String, Bytes)], i: usize) -> String {
    let bytes = headers
        .get_mut(i)
        .map(|(_, v)| std::mem::take(v))
        .unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_else(|e| not_utf8(e.as_bytes()).into_owned())
}

/// One request or response header's value, as text (`None`: absent or unreadable). Read as
/// bytes: the SDK's text accessors trap on a value that is not UTF-8.
fn header_text(map: MapType, name: &str) -> Option<String> {
    let value = hostcalls::get_map_value_bytes(map, name).ok()??;
    Some(text(&value).into_owned())
}

impl Context for Stream {
    fn on_http_call_response(
        &mut self,
        token_id: u32,
        num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        let status = if num_headers == 0 {
            None
        } else {
            header_text(MapType::HttpCallResponseHeaders, ":status")
                .and_then(|s| s.trim().parse::<u32>().ok())
        };
        let body = self
            .get_http_call_response_body(0, body_size)
            .unwrap_or_default();
        let Some(p) = self.lookup.as_mut() else {
            return;
        };
        let Some(i) = p.tokens.iter().position(|t| *t == Some(token_id)) else {
            return;
        };
        let result = match p.send.references.get(i) {
            Some(r) => lookup::read(r, status, &body),
            None => Err(LookupError::NoAnswer),
        };
        if let Some(slot) = p.results.get_mut(i) {
            *slot = Some(result);
        }
        if p.results.iter().all(Option::is_some) {
            // The request is held in a Pause; a pass resumes it, a reply already ended it.
            if let ProxyAction::Continue = self.finish_lookups() {
                self.resume_http_request();
            }
        }
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // A stream deleted while held (the client went away) leaves the watch. The root's
        // tick never holds the watch across a call into Envoy, so it is free here.
        if self.held {
            if let Ok(mut w) = self.watch.try_borrow_mut() {
                w.forget(self.id);
            }
        }
    }
}

impl Stream {
    /// The first body or trailers callback of a held stream: it leaves the watch. True when a
    /// tick already answered it (the callback then passes through).
    fn release(&mut self) -> bool {
        if !std::mem::take(&mut self.held) {
            return false;
        }
        let refused = self.watch.borrow_mut().release(self.id) == Release::Refused;
        if refused {
            self.done = true;
        }
        refused
    }

    /// Counts, logs and carries out a decision.
    fn apply(&mut self, shared: &Shared, d: Decision) -> ProxyAction {
        self.done = true;
        shared.record(&d);
        self.act(d.action)
    }

    fn act(&mut self, action: Action) -> ProxyAction {
        self.done = true;
        match action {
            Action::Continue { response_headers } => {
                self.response_headers = response_headers;
                ProxyAction::Continue
            }
            // Decided before the end of the body (by a message's head): the answer waits for
            // the end, and the rest of the body is dropped as it comes (neither held nor
            // forwarded), so that a client that writes its whole request before it reads the
            // answer gets the answer, not a reset connection.
            reply @ Action::Reply { .. } if self.body_open => {
                self.drain(self.body_seen);
                self.pending_reply = Some(reply);
                ProxyAction::Pause
            }
            Action::Reply {
                status,
                headers,
                body,
            } => {
                self.reply(status, &headers, &body);
                ProxyAction::Pause
            }
        }
    }

    fn reply(&mut self, status: u32, headers: &[(String, String)], body: &[u8]) {
        let h: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.send_http_response(status, h, Some(body));
    }

    /// Drops the `size` body bytes the proxy holds.
    fn drain(&mut self, size: usize) {
        if size > 0 {
            // (The SDK's `set_http_request_body` would trap on an error status.)
            if let Err(e) = hostcalls::set_buffer(BufferType::HttpRequestBody, 0, size, &[]) {
                log::warn!("mistype: cannot drop the rest of a refused send's body: {e:?}");
            }
        }
    }

    /// A reply decided before the end of the body: the body goes on being dropped until it
    /// ends, then the reply is sent.
    fn drain_until_the_end(&mut self, body_size: usize, end_of_stream: bool) -> ProxyAction {
        self.drain(body_size);
        if end_of_stream {
            if let Some(Action::Reply {
                status,
                headers,
                body,
            }) = self.pending_reply.take()
            {
                self.reply(status, &headers, &body);
            }
        }
        ProxyAction::Pause
    }

    fn outcome(&mut self, shared: &Shared, o: Outcome) -> ProxyAction {
        match o {
            Outcome::NotASend => {
                self.done = true;
                ProxyAction::Continue
            }
            Outcome::Answer(action) => self.act(action),
            Outcome::Decided(d) => self.apply(shared, d),
            Outcome::Lookup(send) => self.start_lookups(shared, send),
        }
    }

    fn info(&self) -> RequestInfo<'_> {
        RequestInfo {
            path: &self.path,
            content_type: self.content_type.as_deref(),
            sender: self.sender.as_deref(),
            token: self.token.as_deref(),
            now: Now::Clock(&host_seconds),
        }
    }

    /// Asks the mail server (`lookup.cluster` only) for each stored message the send names,
    /// with the user's own credentials; the request stays held until every answer is in.
    fn start_lookups(&mut self, shared: &Shared, send: Send) -> ProxyAction {
        self.done = true;
        let config = &shared.filter.config.lookup;
        let timeout = Duration::from_millis(u64::from(config.timeout_ms));
        let mut tokens = Vec::with_capacity(send.references.len());
        // The send's own host and the user's credentials, as the header callback read them.
        let LookupHeaders {
            authority,
            credentials,
            not_forwarded,
        } = self.lookup_headers.take().unwrap_or_default();
        // A call not made is answered at once with why: a credential that cannot be forwarded
        // stops every call; a call the proxy refuses has no answer.
        let forwardable = not_forwarded.is_none();
        let unmade = match not_forwarded {
            Some(h) => {
                log::warn!("mistype: the request's {h} header is not UTF-8; no lookup is made");
                LookupError::NotForwarded(h)
            }
            None => LookupError::NoAnswer,
        };
        for r in &send.references {
            if !forwardable {
                tokens.push(None);
                continue;
            }
            let req = lookup::request(r);
            let mut headers: Vec<(&str, &str)> = vec![
                (":method", req.method),
                (":path", &req.path),
                (":authority", &authority),
                ("accept", "application/json"),
            ];
            if let Some((_, ct)) = &req.body {
                headers.push(("content-type", ct));
            }
            for (k, v) in &credentials {
                headers.push((k.as_str(), v.as_str()));
            }
            let body = req.body.as_ref().map(|(b, _)| b.as_slice());
            match self.dispatch_http_call(&config.cluster, headers, body, vec![], timeout) {
                Ok(t) => tokens.push(Some(t)),
                Err(status) => {
                    log::warn!(
                        "mistype: cannot look up {r} on cluster {}: {status:?}",
                        config.cluster
                    );
                    tokens.push(None);
                }
            }
        }
        let results = tokens
            .iter()
            .map(|t| t.is_none().then(|| Err(unmade.clone())))
            .collect::<Vec<_>>();
        let all_failed = results.iter().all(Option::is_some);
        self.lookup = Some(Pending {
            send,
            tokens,
            results,
        });
        if all_failed {
            return self.finish_lookups();
        }
        ProxyAction::Pause
    }

    /// Every lookup is back: judge the send with what they found.
    fn finish_lookups(&mut self) -> ProxyAction {
        let (Some(shared), Some(p)) = (self.shared.clone(), self.lookup.take()) else {
            return ProxyAction::Continue;
        };
        let results = p
            .results
            .into_iter()
            .map(|r| r.unwrap_or(Err(LookupError::NoAnswer)))
            .collect();
        let o = shared.filter.resume(p.send, results, self.info());
        self.outcome(&shared, o)
    }

    /// The body is read (to its end, or as far as the decision needs): extract, check, decide.
    fn finish(&mut self) -> ProxyAction {
        let (Some(shared), Some(candidate)) = (self.shared.clone(), self.candidate) else {
            self.done = true;
            return ProxyAction::Continue;
        };
        let Some(body) = self.body.take() else {
            self.done = true;
            return ProxyAction::Continue;
        };
        let o = shared
            .filter
            .conclude(candidate, body.finish(), self.info());
        self.outcome(&shared, o)
    }

    fn encoded(&mut self, candidate: Candidate, coding: &str) -> ProxyAction {
        let Some(shared) = self.shared.clone() else {
            self.done = true;
            return ProxyAction::Continue;
        };
        let o = shared.filter.encoded(candidate, coding);
        self.outcome(&shared, o)
    }

    fn too_large(&mut self, size: usize) -> ProxyAction {
        let (Some(shared), Some(candidate)) = (self.shared.clone(), self.candidate) else {
            self.done = true;
            return ProxyAction::Continue;
        };
        let o = shared.filter.too_large(candidate, size);
        self.outcome(&shared, o)
    }

    /// Reads the body bytes the host holds beyond those already read (`body_size` is all it
    /// buffered so far) into the body reader, at most [`READ_SLICE`] bytes at a time.
    fn read_body(&mut self, body_size: usize) -> Result<Progress, String> {
        loop {
            let Some(from) = self.body.as_ref().map(Body::bytes_read) else {
                return Ok(Progress::Enough);
            };
            if body_size <= from {
                return Ok(Progress::More);
            }
            let want = (body_size - from).min(READ_SLICE);
            let to = from + want;
            // (The SDK's `get_http_request_body` would trap on an error status.)
            let chunk = hostcalls::get_buffer(BufferType::HttpRequestBody, from, want)
                .map_err(|e| {
                    format!("the proxy refused bytes {from} to {to} of the request body: {e:?}")
                })?
                .unwrap_or_default();
            if chunk.len() != want {
                return Err(format!(
                    "the proxy gave {} bytes of the request body where bytes {from} to {to} were asked for",
                    chunk.len()
                ));
            }
            let progress = self
                .body
                .as_mut()
                .map_or(Progress::Enough, |b| b.feed(&chunk));
            if progress == Progress::Enough {
                return Ok(progress);
            }
        }
    }

    /// One body callback of a candidate whose verdict is not taken yet.
    fn body_chunk(&mut self, body_size: usize, end_of_stream: bool) -> ProxyAction {
        let max = self
            .shared
            .as_ref()
            .map(|s| s.filter.config.max_body_bytes)
            .unwrap_or(usize::MAX);
        // `max_body_bytes` bounds what the proxy holds for the decision: all of a send read to
        // its end, only the head of one decided by its message's head.
        let whole = self.body.as_ref().is_some_and(Body::needs_the_end);
        if whole && body_size > max {
            return self.too_large(body_size);
        }
        match self.read_body(body_size) {
            Err(e) => self.unreadable(e),
            Ok(Progress::Enough) => self.finish(),
            Ok(Progress::More) if body_size > max => self.too_large(body_size),
            Ok(Progress::More) if end_of_stream => self.finish(),
            Ok(Progress::More) => ProxyAction::Pause,
        }
    }

    /// The proxy would not give the request's headers (it always does in the headers
    /// callback): the request is refused, loudly, as it cannot be told from a send.
    fn headers_unreadable(&mut self, status: &str) -> ProxyAction {
        self.done = true;
        log::error!("mistype: the proxy refused the request's headers: {status}");
        self.reply(
            503,
            &[("content-type".to_owned(), "text/plain".to_owned())],
            b"mistype: the filter could not read this request's headers\n",
        );
        ProxyAction::Pause
    }

    /// The body could not be read from the proxy: refused, loudly (never passed unread).
    fn unreadable(&mut self, message: String) -> ProxyAction {
        let (Some(shared), Some(candidate)) = (self.shared.clone(), self.candidate) else {
            self.done = true;
            return ProxyAction::Continue;
        };
        log::error!("mistype: {message}");
        let o = shared.filter.unreadable(candidate, message);
        self.outcome(&shared, o)
    }
}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> ProxyAction {
        let Some(shared) = self.shared.clone() else {
            self.done = true;
            return ProxyAction::Continue;
        };
        // One hostcall for the whole header map: every single-header read is a round trip
        // through the VM boundary (and an allocation callback), which dominated the cost of the
        // header-only look on send routes. The values are read as bytes: the SDK's text map
        // traps on one that is not UTF-8, and a trap stops the VM for every later request.
        let mut headers = match hostcalls::get_map_bytes(MapType::HttpRequestHeaders) {
            Ok(h) => h,
            Err(e) => return self.headers_unreadable(&format!("{e:?}")),
        };
        let config = &shared.filter.config;
        let at = Found::of(
            &headers,
            &config.confirm.header,
            config.sender_header.as_deref(),
        );
        // (Borrowed: most requests are not sends, and a send keeps only a few of its headers.)
        let value = |i: Option<usize>| i.and_then(|i| headers.get(i)).map(|(_, v)| text(v));
        let method = value(at.method).unwrap_or_default();
        let path = value(at.path).unwrap_or_default();
        let content_type = value(at.content_type);
        let Some(candidate) = shared
            .filter
            .classify(&method, &path, content_type.as_deref())
        else {
            self.done = true;
            return ProxyAction::Continue;
        };
        if extract::is_continuation(candidate, value(at.content_range).as_deref()) {
            self.done = true;
            return ProxyAction::Continue;
        }
        // A compressed body is not what the filter can judge; only a body that follows counts
        // (one clients never compress an empty one).
        if !end_of_stream {
            if let Some(coding) =
                value(at.content_encoding).and_then(|v| extract::content_coding(&v))
            {
                return self.encoded(candidate, &coding);
            }
        }
        let opens_session = at.token.is_some() && extract::opens_upload_session(&method, &path);
        let declared =
            value(at.content_length).and_then(|l| mistype::text::trim(&l).parse::<usize>().ok());
        // What a lookup would carry, kept now: a body callback cannot read headers that Envoy
        // no longer holds.
        self.lookup_headers = Some(LookupHeaders::of_map(
            &headers,
            &config.lookup.forward_headers,
        ));
        // What the stream keeps is taken out of the map, not copied.
        let mut take = |i: Option<usize>| i.map(|i| take_value(&mut headers, i));
        self.candidate = Some(candidate);
        self.content_type = take(at.content_type);
        self.path = take(at.path).unwrap_or_default();
        if config.sender_header.is_some() {
            self.sender = take(at.sender).filter(|s| !mistype::text::is_blank(s));
        }
        self.token = take(at.token);
        let header_bytes = at.header_bytes;
        let token_header = self.token.is_some();
        if token_header {
            // The token is for this filter only; the upstream does not need it.
            self.remove_http_request_header(&shared.filter.config.confirm.header);
            if opens_session {
                self.session_token = self.token.clone();
            }
        } else if let Some(key) =
            extract::continued_session(candidate.route, &self.path).map(session_key)
        {
            // The session's PUT: the token its start carried, if any (taken once).
            if let (Some(t), _) = self.get_shared_data(&key) {
                self.token = String::from_utf8(t).ok().filter(|t| !t.is_empty());
                if let Err(e) = self.set_shared_data(&key, Some(b""), None) {
                    log::warn!("mistype: cannot clear {key}: {e:?}");
                }
            }
        }
        let body = shared
            .filter
            .body(candidate, &self.path, self.content_type.as_deref());
        // A send read to its end is held whole: one declared above the limit is refused at
        // once. One decided by its message's head holds only that much, whatever its size.
        if let Some(len) = declared {
            if body.needs_the_end() && len > shared.filter.config.max_body_bytes {
                return self.too_large(len);
            }
        }
        self.body = Some(body);
        // A body declared empty is complete now, even when its end comes in an empty frame of
        // its own (HTTP/2 clients send `content-length: 0` so). Decided here, a lookup holds the
        // request until its answer, with or without Envoy's knob; waiting for that frame would
        // let the whole request go upstream before the verdict wherever the headers are not
        // held (`hold_headers` off, or a stalled send let continue).
        if end_of_stream || declared == Some(0) {
            return self.finish();
        }
        // The headers are held with the body (Envoy's allow_on_headers_stop_iteration), so
        // nothing of a send reaches the upstream before the decision. The root's tick watches
        // the stream until its body comes (crate::stall).
        if shared.filter.config.hold_headers {
            self.watch
                .borrow_mut()
                .hold(self.id, candidate.api, header_bytes as u64);
            self.held = true;
            ProxyAction::Pause
        } else {
            ProxyAction::Continue
        }
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> ProxyAction {
        // The first body callback of a held send takes it out of the stall watch; one that a
        // tick already answered passes through.
        if self.release() {
            return ProxyAction::Continue;
        }
        if self.pending_reply.is_some() {
            return self.drain_until_the_end(body_size, end_of_stream);
        }
        if self.lookup.is_some() {
            // The verdict waits for a lookup: nothing goes upstream before it.
            return ProxyAction::Pause;
        }
        if self.done || self.candidate.is_none() {
            return ProxyAction::Continue;
        }
        self.body_open = !end_of_stream;
        self.body_seen = body_size;
        let action = self.body_chunk(body_size, end_of_stream);
        self.body_open = false;
        action
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> ProxyAction {
        if self.release() {
            return ProxyAction::Continue;
        }
        if self.pending_reply.is_some() {
            return self.drain_until_the_end(0, true);
        }
        if self.done || self.candidate.is_none() {
            return ProxyAction::Continue;
        }
        // HTTP/2 (or chunked HTTP/1.1) with trailers: the body ended without end_of_stream.
        // Every body callback read what it was given, so the reader has the whole body.
        self.finish()
    }

    fn on_http_response_headers(
        &mut self,
        _num_headers: usize,
        _end_of_stream: bool,
    ) -> ProxyAction {
        for (k, v) in std::mem::take(&mut self.response_headers) {
            self.add_http_response_header(&k, &v);
        }
        if let Some(token) = self.session_token.take() {
            let location =
                header_text(MapType::HttpResponseHeaders, "location").unwrap_or_default();
            if let Some(id) = extract::upload_id(&location) {
                if let Err(e) = self.set_shared_data(&session_key(id), Some(token.as_bytes()), None)
                {
                    log::warn!("mistype: cannot keep the upload session's confirm token: {e:?}");
                }
            }
        }
        ProxyAction::Continue
    }
}
