//! Loading a proxy-wasm module and driving HTTP streams through it in Envoy's call order.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context as _};
use wasmtime::{
    Config, Engine, Instance, InstancePre, Module, Store, TypedFunc, WasmParams, WasmResults,
};

use crate::abi::{Action, LogLevel};
use crate::headers::HeaderMap;
use crate::request::{Callback, Outcome, Request, Response, Upstream};
use crate::state::{HostState, HttpCall, LocalReply, LogEntry, MetricValue, Stream};

/// Why a plugin could not be used.
#[derive(Debug, Clone)]
pub enum HostError {
    /// `proxy_on_configure` returned false: Envoy refuses such a configuration.
    ConfigRejected { logs: Vec<LogEntry> },
    /// `proxy_on_vm_start` returned false.
    VmStartFailed { logs: Vec<LogEntry> },
    /// The module trapped (a panic in a Rust plugin is a trap). Envoy fails the VM: with the
    /// default `FAIL_CLOSED` every later request gets a 503.
    Trap {
        callback: &'static str,
        message: String,
        logs: Vec<LogEntry>,
    },
    /// The VM failed earlier; nothing more runs in it.
    Failed,
}

impl HostError {
    pub fn logs(&self) -> &[LogEntry] {
        match self {
            HostError::ConfigRejected { logs }
            | HostError::VmStartFailed { logs }
            | HostError::Trap { logs, .. } => logs,
            HostError::Failed => &[],
        }
    }

    /// All log messages joined, for assertions.
    pub fn log_text(&self) -> String {
        self.logs()
            .iter()
            .map(|l| format!("[{:?}] {}", l.level, l.message))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::ConfigRejected { .. } => {
                write!(
                    f,
                    "proxy_on_configure returned false; logs:\n{}",
                    self.log_text()
                )
            }
            HostError::VmStartFailed { .. } => {
                write!(
                    f,
                    "proxy_on_vm_start returned false; logs:\n{}",
                    self.log_text()
                )
            }
            HostError::Trap {
                callback, message, ..
            } => write!(
                f,
                "the module trapped in {callback}: {message}\nlogs:\n{}",
                self.log_text()
            ),
            HostError::Failed => write!(f, "the VM failed earlier (trap); no more calls"),
        }
    }
}

impl std::error::Error for HostError {}

fn wt(e: wasmtime::Error) -> anyhow::Error {
    anyhow!("{e:?}")
}

// ---------------------------------------------------------------------------------------------
// Compilation, once per process and module file.

fn engine() -> anyhow::Result<&'static Engine> {
    static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut config = Config::new();
            config.cranelift_opt_level(wasmtime::OptLevel::Speed);
            // For benches/code-lines.py's table by function: wasmtime names the module's compiled
            // functions in /tmp/perf-PID.map.
            if std::env::var_os("MISTYPE_WASMTIME_PERFMAP").is_some() {
                config.profiler(wasmtime::ProfilingStrategy::PerfMap);
            }
            // Compiled code is cached on disk next to the build output, so each test binary
            // does not recompile the same module.
            let mut cache = wasmtime::CacheConfig::new();
            cache.with_directory(target_dir().join("wasmtime-cache"));
            match wasmtime::Cache::new(cache) {
                Ok(c) => {
                    config.cache(Some(c));
                }
                Err(e) => eprintln!("host-tests: wasmtime cache disabled: {e}"),
            }
            Engine::new(&config).map_err(|e| format!("{e:?}"))
        })
        .as_ref()
        .map_err(|e| anyhow!("cannot create the wasmtime engine: {e}"))
}

fn compiled(path: &Path) -> anyhow::Result<Arc<InstancePre<HostState>>> {
    type Cache = Mutex<HashMap<PathBuf, Arc<InstancePre<HostState>>>>;
    static COMPILED: OnceLock<Cache> = OnceLock::new();
    let cache = COMPILED.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(pre) = cache.get(path) {
        return Ok(pre.clone());
    }
    let engine = engine()?;
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "cannot read the filter module {}: build it first with filter/build.sh \
             (make test does), or point MISTYPE_FILTER_WASM at a built mistype_filter.wasm",
            path.display()
        )
    })?;
    let module = Module::new(engine, &bytes)
        .map_err(wt)
        .with_context(|| format!("cannot compile {}", path.display()))?;
    let linker = crate::imports::linker(engine).map_err(wt)?;
    let pre = linker
        .instantiate_pre(&module)
        .map_err(wt)
        .with_context(|| {
            format!(
                "cannot link {} (an import this host lacks?)",
                path.display()
            )
        })?;
    let pre = Arc::new(pre);
    cache.insert(path.to_path_buf(), pre.clone());
    Ok(pre)
}

/// The repository root (this crate's parent directory).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `$CARGO_TARGET_DIR` (relative paths are taken from the repository root), else `<repo>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                repo_root().join(dir)
            }
        }
        _ => repo_root().join("target"),
    }
}

/// Where the built filter is: `$MISTYPE_FILTER_WASM`, else
/// `<target>/wasm32-wasip1/wasm/mistype_filter.wasm`.
pub fn wasm_path() -> PathBuf {
    match std::env::var_os("MISTYPE_FILTER_WASM") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => target_dir().join("wasm32-wasip1/wasm/mistype_filter.wasm"),
    }
}

// ---------------------------------------------------------------------------------------------

type Cb1 = Option<TypedFunc<i32, ()>>;
type Cb1I = Option<TypedFunc<i32, i32>>;
type Cb2 = Option<TypedFunc<(i32, i32), ()>>;
type Cb2I = Option<TypedFunc<(i32, i32), i32>>;
type Cb3I = Option<TypedFunc<(i32, i32, i32), i32>>;
type Cb5 = Option<TypedFunc<(i32, i32, i32, i32, i32), ()>>;

struct Exports {
    on_context_create: Cb2,
    on_vm_start: Cb2I,
    on_configure: Cb2I,
    on_tick: Cb1,
    on_request_headers: Cb3I,
    on_request_body: Cb3I,
    on_request_trailers: Cb2I,
    on_response_headers: Cb3I,
    on_response_body: Cb3I,
    on_http_call_response: Cb5,
    on_done: Cb1I,
    on_log: Cb1,
    on_delete: Cb1,
}

fn typed<P: WasmParams, R: WasmResults>(
    instance: &Instance,
    store: &mut Store<HostState>,
    name: &str,
) -> anyhow::Result<Option<TypedFunc<P, R>>> {
    match instance.get_func(&mut *store, name) {
        None => Ok(None),
        Some(f) => f
            .typed::<P, R>(&*store)
            .map(Some)
            .map_err(wt)
            .with_context(|| format!("export {name} has the wrong signature")),
    }
}

impl Exports {
    fn find(instance: &Instance, store: &mut Store<HostState>) -> anyhow::Result<Exports> {
        Ok(Exports {
            on_context_create: typed(instance, store, "proxy_on_context_create")?,
            on_vm_start: typed(instance, store, "proxy_on_vm_start")?,
            on_configure: typed(instance, store, "proxy_on_configure")?,
            on_tick: typed(instance, store, "proxy_on_tick")?,
            on_request_headers: typed(instance, store, "proxy_on_request_headers")?,
            on_request_body: typed(instance, store, "proxy_on_request_body")?,
            on_request_trailers: typed(instance, store, "proxy_on_request_trailers")?,
            on_response_headers: typed(instance, store, "proxy_on_response_headers")?,
            on_response_body: typed(instance, store, "proxy_on_response_body")?,
            on_http_call_response: typed(instance, store, "proxy_on_http_call_response")?,
            on_done: typed(instance, store, "proxy_on_done")?,
            on_log: typed(instance, store, "proxy_on_log")?,
            on_delete: typed(instance, store, "proxy_on_delete")?,
        })
    }
}

/// Options for [`Filter`]; see [`Filter::builder`].
#[derive(Debug, Clone)]
pub struct FilterBuilder {
    wasm: Option<PathBuf>,
    config: Vec<u8>,
    vm_config: Vec<u8>,
    time: Option<SystemTime>,
    buffer_limit: Option<usize>,
    plugin_name: String,
    properties: Vec<(Vec<String>, Vec<u8>)>,
    clusters: Vec<String>,
    stop_iteration_on_headers: bool,
    tick_after_requests: bool,
}

impl FilterBuilder {
    /// No tick after each request: the root context's tick runs only when a stream waits
    /// through ticks or the caller calls [`Filter::tick`]. For measuring a request alone: in
    /// Envoy the tick runs once a period (500 ms at most for this filter), not once a request.
    pub fn without_ticks_after_requests(mut self) -> FilterBuilder {
        self.tick_after_requests = false;
        self
    }

    /// A cluster `dispatch_http_call` may name. Default: `webmail` (the shipped config's).
    pub fn cluster(mut self, name: &str) -> FilterBuilder {
        self.clusters.push(name.to_string());
        self
    }

    /// Envoy without `allow_on_headers_stop_iteration`: a `Pause` from the request headers
    /// stops everything (`StopAllIterationAndWatermark`), and no body callback comes until the
    /// plugin resumes. The default is the shipped config's: the knob on, so a `Pause` from the
    /// headers holds them while the body callbacks still come.
    pub fn stop_all_iteration_on_headers(mut self) -> FilterBuilder {
        self.stop_iteration_on_headers = false;
        self
    }

    /// The module to load (default: [`wasm_path`]).
    pub fn wasm(mut self, path: impl Into<PathBuf>) -> FilterBuilder {
        self.wasm = Some(path.into());
        self
    }

    /// The plugin configuration (Envoy's `configuration` StringValue, verbatim).
    pub fn config(mut self, config: impl Into<Vec<u8>>) -> FilterBuilder {
        self.config = config.into();
        self
    }

    /// The VM configuration (`vm_config.configuration`).
    pub fn vm_config(mut self, config: impl Into<Vec<u8>>) -> FilterBuilder {
        self.vm_config = config.into();
        self
    }

    /// The host clock's start (it only moves when the test moves it). Default: now.
    pub fn time(mut self, time: SystemTime) -> FilterBuilder {
        self.time = Some(time);
        self
    }

    /// Envoy's request buffer limit (`request_body_buffer_limit` / per-connection limit):
    /// a buffered body beyond it gets Envoy's own 413. Default: no limit.
    pub fn buffer_limit(mut self, bytes: usize) -> FilterBuilder {
        self.buffer_limit = Some(bytes);
        self
    }

    /// A plugin-wide property (`proxy_get_property`).
    pub fn property(mut self, path: &[&str], value: &[u8]) -> FilterBuilder {
        self.properties
            .push((path.iter().map(|s| s.to_string()).collect(), value.to_vec()));
        self
    }

    /// Instantiate and run Envoy's start sequence. A configuration the plugin refuses is
    /// an error that downcasts to [`HostError::ConfigRejected`].
    pub fn start(self) -> anyhow::Result<Filter> {
        Filter::start(self)
    }
}

/// A loaded plugin: one VM and its root context, ready to take requests.
pub struct Filter {
    store: Store<HostState>,
    exports: Exports,
    root_id: u32,
    next_ctx: u32,
    failed: bool,
    requests: u64,
    buffer_limit: Option<usize>,
    stop_iteration_on_headers: bool,
    /// The root context's tick runs once after each request (Envoy's timer fires within one
    /// period of a stream's end).
    tick_after_requests: bool,
    abi_version: &'static str,
}

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filter")
            .field("root_id", &self.root_id)
            .field("requests", &self.requests)
            .field("failed", &self.failed)
            .field("state", self.store.data())
            .finish_non_exhaustive()
    }
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

impl Filter {
    pub fn builder() -> FilterBuilder {
        FilterBuilder {
            wasm: None,
            config: Vec::new(),
            vm_config: Vec::new(),
            time: None,
            buffer_limit: None,
            plugin_name: "mistype".to_string(),
            properties: Vec::new(),
            clusters: Vec::new(),
            stop_iteration_on_headers: true,
            tick_after_requests: true,
        }
    }

    /// Load the default module ([`wasm_path`]) with this plugin configuration.
    pub fn new(config: &str) -> anyhow::Result<Filter> {
        Filter::builder().config(config).start()
    }

    /// Load a given module with this plugin configuration.
    pub fn load(wasm: &Path, config: &str) -> anyhow::Result<Filter> {
        Filter::builder().wasm(wasm).config(config).start()
    }

    fn start(b: FilterBuilder) -> anyhow::Result<Filter> {
        let path = b.wasm.clone().unwrap_or_else(wasm_path);
        let pre = compiled(&path)?;
        let now = nanos(b.time.unwrap_or_else(SystemTime::now));
        let mut store = Store::new(
            engine()?,
            HostState::new(now, b.vm_config.clone(), b.config.clone()),
        );
        for (path, value) in &b.properties {
            store
                .data_mut()
                .properties
                .insert(path.clone(), value.clone());
        }
        store.data_mut().clusters = if b.clusters.is_empty() {
            vec!["webmail".to_string()]
        } else {
            b.clusters.clone()
        };
        let plugin_props: [(&str, &[u8]); 3] = [
            ("plugin_name", b.plugin_name.as_bytes()),
            ("plugin_root_id", b.plugin_name.as_bytes()),
            ("plugin_vm_id", b.plugin_name.as_bytes()),
        ];
        for (k, v) in plugin_props {
            store
                .data_mut()
                .properties
                .entry(vec![k.to_string()])
                .or_insert_with(|| v.to_vec());
        }
        let instance = pre.instantiate(&mut store).map_err(wt)?;

        let abi_version = ["0_2_1", "0_2_0", "0_1_0"]
            .into_iter()
            .find(|v| {
                instance
                    .get_func(&mut store, &format!("proxy_abi_version_{v}"))
                    .is_some()
            })
            .ok_or_else(|| anyhow!("{}: no proxy_abi_version_* export", path.display()))?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| anyhow!("{}: no exported memory", path.display()))?;
        store.data_mut().memory = Some(memory);
        let alloc = match typed::<i32, i32>(&instance, &mut store, "proxy_on_memory_allocate")? {
            Some(f) => Some(f),
            None => typed::<i32, i32>(&instance, &mut store, "malloc")?,
        };
        store.data_mut().alloc = alloc;
        let exports = Exports::find(&instance, &mut store)?;

        let mut filter = Filter {
            store,
            exports,
            root_id: 1,
            next_ctx: 2,
            failed: false,
            requests: 0,
            buffer_limit: b.buffer_limit,
            stop_iteration_on_headers: b.stop_iteration_on_headers,
            tick_after_requests: b.tick_after_requests,
            abi_version,
        };

        // WASI reactor start, as proxy-wasm-cpp-host does it.
        if let Some(init) = typed::<(), ()>(&instance, &mut filter.store, "_initialize")? {
            filter.call("_initialize", &init, ())?;
        } else if let Some(start) = typed::<(), ()>(&instance, &mut filter.store, "_start")? {
            filter.call("_start", &start, ())?;
        }
        if let Some(main) = typed::<(i32, i32), i32>(&instance, &mut filter.store, "main")? {
            filter.call("main", &main, (0, 0))?;
        }

        let root = filter.root_id as i32;
        filter.store.data_mut().root_id = filter.root_id;
        filter.store.data_mut().current_context = filter.root_id;
        if let Some(f) = filter.exports.on_context_create.clone() {
            filter.call("proxy_on_context_create", &f, (root, 0))?;
        }
        if let Some(f) = filter.exports.on_vm_start.clone() {
            let size = b.vm_config.len() as i32;
            if filter.call("proxy_on_vm_start", &f, (root, size))? == 0 {
                return Err(HostError::VmStartFailed {
                    logs: filter.store.data().logs.clone(),
                }
                .into());
            }
        }
        if let Some(f) = filter.exports.on_configure.clone() {
            let size = b.config.len() as i32;
            filter.store.data_mut().configuring = true;
            let ok = filter.call("proxy_on_configure", &f, (root, size));
            filter.store.data_mut().configuring = false;
            if ok? == 0 {
                return Err(HostError::ConfigRejected {
                    logs: filter.store.data().logs.clone(),
                }
                .into());
            }
        }
        Ok(filter)
    }

    fn call<P: WasmParams, R: WasmResults>(
        &mut self,
        name: &'static str,
        f: &TypedFunc<P, R>,
        params: P,
    ) -> anyhow::Result<R> {
        if self.failed {
            return Err(HostError::Failed.into());
        }
        self.store.data_mut().effective_context = None;
        let result = f.call(&mut self.store, params);
        self.store.data_mut().effective_context = None;
        result.map_err(|e| {
            self.failed = true;
            HostError::Trap {
                callback: name,
                message: format!("{e:?}"),
                logs: self.store.data().logs.clone(),
            }
            .into()
        })
    }

    /// Which ABI version marker the module exports (`"0_2_1"` for the Rust SDK 0.2).
    pub fn abi_version(&self) -> &'static str {
        self.abi_version
    }

    // ----- clock

    /// The host clock (what `proxy_get_current_time_nanoseconds` and WASI realtime answer).
    pub fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.store.data().now_nanos)
    }

    pub fn set_time(&mut self, t: SystemTime) {
        self.store.data_mut().now_nanos = nanos(t);
    }

    pub fn advance(&mut self, by: Duration) {
        let state = self.store.data_mut();
        state.now_nanos = state.now_nanos.saturating_add(by.as_nanos() as u64);
    }

    // ----- observation

    /// Every log line since the plugin started.
    pub fn logs(&self) -> &[LogEntry] {
        &self.store.data().logs
    }

    pub fn logs_at(&self, level: LogLevel) -> Vec<&str> {
        self.logs()
            .iter()
            .filter(|l| l.level == level)
            .map(|l| l.message.as_str())
            .collect()
    }

    /// What the module wrote to WASI stdout and stderr.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.store.data().stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.store.data().stderr).into_owned()
    }

    pub fn metrics(&self) -> std::collections::BTreeMap<String, MetricValue> {
        self.store.data().metrics.values.clone()
    }

    pub fn metric(&self, name: &str) -> Option<MetricValue> {
        self.store.data().metrics.values.get(name).cloned()
    }

    /// A counter's value (0 if it was never defined).
    pub fn counter(&self, name: &str) -> u64 {
        match self.metric(name) {
            Some(MetricValue::Counter(v)) => v,
            _ => 0,
        }
    }

    pub fn tick_period_ms(&self) -> u32 {
        self.store.data().tick_period_ms
    }

    /// The size of the VM's linear memory, in bytes (it grows and never shrinks).
    pub fn memory_bytes(&self) -> usize {
        self.store
            .data()
            .memory
            .map_or(0, |m| m.data_size(&self.store))
    }

    /// Call `proxy_on_tick` on the root context.
    pub fn tick(&mut self) -> anyhow::Result<()> {
        if let Some(f) = self.exports.on_tick.clone() {
            self.store.data_mut().current_context = self.root_id;
            let root = self.root_id as i32;
            self.call("proxy_on_tick", &f, root)?;
        }
        Ok(())
    }

    // ----- streams

    /// Drive one HTTP request through the plugin in Envoy's order and report what happened.
    pub fn request(&mut self, req: Request) -> anyhow::Result<Outcome> {
        if self.failed {
            bail!(HostError::Failed);
        }
        self.requests += 1;
        let ctx = self.next_ctx;
        self.next_ctx += 1;
        let log_start = self.store.data().logs.len();
        {
            let state = self.store.data_mut();
            state.hostcalls.clear();
            state.request_body_reads = 0;
            let mut stream = Stream {
                ctx,
                request_headers: Some(req.header_map(self.requests)),
                ..Stream::default()
            };
            stream.properties = request_properties(&req, ctx);
            state.stream = Some(stream);
            state.current_context = ctx;
        }
        let mut run = Run {
            http_calls: Vec::new(),
            actions: Vec::new(),
            upstream: None,
            local: None,
            stalled: None,
            ticks: 0,
        };
        let result = self.drive(ctx, &req, &mut run);
        self.store.data_mut().pending_calls.clear();
        let state = self.store.data_mut();
        let logs = state.logs[log_start.min(state.logs.len())..].to_vec();
        let hostcalls = std::mem::take(&mut state.hostcalls);
        let request_body_reads = state.request_body_reads;
        state.stream = None;
        state.current_context = self.root_id;
        let response = result?;
        // Envoy's tick timer fires within one period of the stream's end; the plugin may hand
        // over counts it keeps then, so the metrics below are read after one tick.
        if self.tick_after_requests && self.store.data().tick_period_ms > 0 {
            self.tick()?;
        }
        Ok(Outcome {
            upstream: run.upstream,
            local_reply: run.local,
            response,
            stalled: run.stalled,
            ticks: run.ticks,
            actions: run.actions,
            logs,
            metrics: self.store.data().metrics.values.clone(),
            hostcalls,
            request_body_reads,
            http_calls: run.http_calls,
        })
    }

    /// Answers the plugin's outstanding `dispatch_http_call`s, as Envoy does once the callback
    /// that made them has returned: each through `proxy_on_http_call_response` on the root
    /// context, with the request's responder's answer (no answer: a failure or timeout, which
    /// Envoy reports with no headers and no body). Answers may lead to more calls.
    fn settle(&mut self, req: &Request, run: &mut Run) -> anyhow::Result<()> {
        loop {
            let calls = std::mem::take(&mut self.store.data_mut().pending_calls);
            if calls.is_empty() {
                return Ok(());
            }
            for call in calls {
                let answer = req.answer(&call);
                run.http_calls.push(call.clone());
                let (n, size) = match answer {
                    Some(r) => {
                        let mut h = HeaderMap::new();
                        h.add(":status", &r.status.to_string());
                        for (k, v) in &r.headers {
                            h.add(k, v);
                        }
                        let counts = (h.len() as i32, r.body.len() as i32);
                        self.store.data_mut().call_response = Some((h, r.body));
                        counts
                    }
                    None => (0, 0),
                };
                let root = self.root_id;
                let stream_ctx = self.store.data().current_context;
                self.store.data_mut().current_context = root;
                let result = match self.exports.on_http_call_response.clone() {
                    Some(f) => self.call(
                        "proxy_on_http_call_response",
                        &f,
                        (root as i32, call.token as i32, n, size, 0),
                    ),
                    None => Ok(()),
                };
                let state = self.store.data_mut();
                state.current_context = stream_ctx;
                state.call_response = None;
                result?;
            }
        }
    }

    /// The stream waits for its plugin: the root context's tick runs every tick period (the
    /// host clock moves with it) until the plugin answers the stream or resumes it, or Envoy's
    /// stream idle timeout passes.
    fn wait_for_ticks(&mut self, ctx: u32, run: &mut Run) -> anyhow::Result<Woken> {
        let period = u64::from(self.store.data().tick_period_ms);
        if period == 0 || self.exports.on_tick.is_none() {
            return Ok(Woken::Never);
        }
        let period = Duration::from_millis(period);
        let mut waited = Duration::ZERO;
        while waited < STREAM_IDLE_TIMEOUT {
            self.advance(period);
            waited += period;
            let result = self.tick();
            self.store.data_mut().current_context = ctx;
            result?;
            run.ticks += 1;
            if let Some(reply) = self.take_local_reply() {
                run.local = Some(reply);
                return Ok(Woken::Replied);
            }
            if std::mem::take(&mut self.stream().continue_request) {
                return Ok(Woken::Resumed);
            }
        }
        Ok(Woken::Never)
    }

    /// The request headers go upstream (once), as they are now.
    fn send_headers(&mut self, run: &mut Run) {
        if run.upstream.is_none() {
            let headers = self.stream().request_headers.clone().unwrap_or_default();
            run.upstream = Some(Upstream {
                headers,
                body: Vec::new(),
                trailers: None,
                complete: false,
            });
        }
    }

    fn stream(&mut self) -> &mut Stream {
        self.store
            .data_mut()
            .stream
            .get_or_insert_with(Stream::default)
    }

    fn take_local_reply(&mut self) -> Option<LocalReply> {
        self.stream().local_reply.clone()
    }

    fn stream_cb3(
        &mut self,
        name: &'static str,
        which: Callback,
        f: &Cb3I,
        args: (i32, i32, i32),
        run: &mut Run,
    ) -> anyhow::Result<Action> {
        let action = match f {
            Some(f) => Action::from_raw(self.call(name, f, args)?),
            None => Action::Continue,
        };
        run.actions.push((which, action));
        Ok(action)
    }

    fn drive(
        &mut self,
        ctx: u32,
        req: &Request,
        run: &mut Run,
    ) -> anyhow::Result<Option<Response>> {
        let c = ctx as i32;
        if let Some(f) = self.exports.on_context_create.clone() {
            self.call("proxy_on_context_create", &f, (c, self.root_id as i32))?;
        }
        let mut chunks = req.chunks();
        let has_trailers = !req.trailers.is_empty();
        let withheld = req.body_withheld;
        if withheld {
            chunks.clear();
        }

        // ---- request headers
        let n = self
            .stream()
            .request_headers
            .as_ref()
            .map_or(0, HeaderMap::len) as i32;
        let eos = chunks.is_empty() && !has_trailers && !withheld;
        self.stream().end_of_stream = eos;
        let f = self.exports.on_request_headers.clone();
        let a = self.stream_cb3(
            "proxy_on_request_headers",
            Callback::RequestHeaders,
            &f,
            (c, n, eos as i32),
            run,
        )?;
        self.settle(req, run)?;
        let mut resumed = std::mem::take(&mut self.stream().continue_request);
        if let Some(reply) = self.take_local_reply() {
            run.local = Some(reply);
            return self.finish(ctx, run, None);
        }
        let mut held = !(a.is_continue() || resumed);
        if held && !eos && !withheld && !self.stop_iteration_on_headers {
            // StopAllIterationAndWatermark (Envoy without allow_on_headers_stop_iteration):
            // Envoy receives the body and keeps it from the plugin.
            self.stream().received_body = req.body.len() as u64;
        }
        if held && (eos || withheld || !self.stop_iteration_on_headers) {
            // Paused with nothing more to come, with the client sending nothing, or
            // StopAllIterationAndWatermark: no body callbacks until the plugin answers or
            // resumes the stream, which only its root context's tick can do now.
            match self.wait_for_ticks(ctx, run)? {
                Woken::Replied => return self.finish(ctx, run, None),
                Woken::Never => {
                    run.stalled = Some(Callback::RequestHeaders);
                    return self.finish(ctx, run, None);
                }
                Woken::Resumed => {
                    held = false;
                    if !eos && !withheld && !req.body.is_empty() {
                        // continueDecoding(): the body Envoy kept comes to the plugin whole.
                        chunks = vec![&req.body[..]];
                    }
                }
            }
        }
        // Held headers (StopIteration) go upstream with the first body callback that continues.
        if !held {
            self.send_headers(run);
        }
        if withheld {
            // The client never sends the body: the request waits, unanswered, until the
            // client gives up.
            return self.finish(ctx, run, None);
        }

        // ---- request body
        let mut buffering = false;
        let mut pending: Vec<u8> = Vec::new();
        let last = chunks.len().saturating_sub(1);
        for (i, chunk) in chunks.iter().enumerate() {
            let eos = i == last && !has_trailers;
            if buffering {
                pending.extend_from_slice(chunk);
                if self.buffer_limit.is_some_and(|limit| pending.len() > limit) {
                    run.local = Some(envoy_413());
                    return self.finish(ctx, run, None);
                }
            } else {
                pending = chunk.to_vec();
            }
            {
                let s = self.stream();
                s.received_body = s.received_body.max(received_until(&chunks, i));
                s.request_body = Some(std::mem::take(&mut pending));
                s.end_of_stream = eos;
                s.in_request_body = true;
            }
            let size = self.stream().request_body.as_ref().map_or(0, Vec::len) as i32;
            let f = self.exports.on_request_body.clone();
            let a = self.stream_cb3(
                "proxy_on_request_body",
                Callback::RequestBody,
                &f,
                (c, size, eos as i32),
                run,
            );
            self.stream().in_request_body = false;
            let a = a?;
            self.settle(req, run)?;
            pending = self.stream().request_body.take().unwrap_or_default();
            resumed = std::mem::take(&mut self.stream().continue_request);
            if let Some(reply) = self.take_local_reply() {
                run.local = Some(reply);
                return self.finish(ctx, run, None);
            }
            if a.is_continue() || resumed {
                self.send_headers(run);
                if let Some(u) = run.upstream.as_mut() {
                    u.body.extend_from_slice(&pending);
                }
                pending.clear();
                buffering = false;
            } else {
                buffering = true;
            }
        }
        if buffering && !has_trailers {
            // Paused at end of stream: the request waits for a resume that never comes.
            run.stalled = Some(Callback::RequestBody);
            return self.finish(ctx, run, None);
        }

        // ---- request trailers
        if has_trailers {
            let trailers = HeaderMap::from_pairs(&req.trailers);
            let n = trailers.len() as i32;
            {
                let s = self.stream();
                s.request_trailers = Some(trailers);
                s.request_body = if buffering {
                    Some(std::mem::take(&mut pending))
                } else {
                    None
                };
                s.end_of_stream = true;
            }
            let a = match self.exports.on_request_trailers.clone() {
                Some(f) => Action::from_raw(self.call("proxy_on_request_trailers", &f, (c, n))?),
                None => Action::Continue,
            };
            run.actions.push((Callback::RequestTrailers, a));
            self.settle(req, run)?;
            if buffering {
                pending = self.stream().request_body.take().unwrap_or_default();
            }
            resumed = std::mem::take(&mut self.stream().continue_request);
            if let Some(reply) = self.take_local_reply() {
                run.local = Some(reply);
                return self.finish(ctx, run, None);
            }
            if !(a.is_continue() || resumed) {
                run.stalled = Some(Callback::RequestTrailers);
                return self.finish(ctx, run, None);
            }
            self.send_headers(run);
            if let Some(u) = run.upstream.as_mut() {
                u.body.extend_from_slice(&pending);
            }
        }
        let trailers = self.stream().request_trailers.clone();
        if let Some(u) = run.upstream.as_mut() {
            u.trailers = trailers;
            u.complete = true;
        }

        // ---- the upstream answers
        let mut headers = HeaderMap::new();
        headers.add(":status", &req.upstream_response.status.to_string());
        for (k, v) in &req.upstream_response.headers {
            headers.add(k, v);
        }
        if headers.get("content-length").is_none() {
            headers.add(
                "content-length",
                &req.upstream_response.body.len().to_string(),
            );
        }
        let response = Response {
            status: req.upstream_response.status,
            headers,
            body: req.upstream_response.body.clone(),
        };
        self.finish(ctx, run, Some(response))
    }

    /// The response path (the upstream's answer, or the local reply, through the plugin's
    /// response callbacks), then `proxy_on_done`, `proxy_on_log`, `proxy_on_delete`.
    fn finish(
        &mut self,
        ctx: u32,
        run: &mut Run,
        upstream_response: Option<Response>,
    ) -> anyhow::Result<Option<Response>> {
        let c = ctx as i32;
        let response = match (&run.local, upstream_response) {
            (Some(reply), _) => Some(local_reply_response(reply)),
            (None, r) => r,
        };
        let mut delivered = None;
        if let Some(mut resp) = response {
            {
                let s = self.stream();
                s.response_headers = Some(resp.headers.clone());
                s.end_of_stream = resp.body.is_empty();
            }
            let n = resp.headers.len() as i32;
            let f = self.exports.on_response_headers.clone();
            let a = self.stream_cb3(
                "proxy_on_response_headers",
                Callback::ResponseHeaders,
                &f,
                (c, n, resp.body.is_empty() as i32),
                run,
            )?;
            let resumed = std::mem::take(&mut self.stream().continue_response);
            resp.headers = self.stream().response_headers.clone().unwrap_or_default();
            let late_reply = if run.local.is_none() {
                self.take_local_reply()
            } else {
                None
            };
            if let Some(reply) = late_reply {
                // A local reply from the response path replaces the upstream's answer.
                delivered = Some(local_reply_response(&reply));
                run.local = Some(reply);
            } else if !(a.is_continue() || resumed) {
                run.stalled = Some(Callback::ResponseHeaders);
            } else {
                if !resp.body.is_empty() {
                    {
                        let s = self.stream();
                        s.response_body = Some(std::mem::take(&mut resp.body));
                        s.end_of_stream = true;
                    }
                    let size = self.stream().response_body.as_ref().map_or(0, Vec::len) as i32;
                    let f = self.exports.on_response_body.clone();
                    let a = self.stream_cb3(
                        "proxy_on_response_body",
                        Callback::ResponseBody,
                        &f,
                        (c, size, 1),
                        run,
                    )?;
                    let resumed = std::mem::take(&mut self.stream().continue_response);
                    resp.body = self.stream().response_body.take().unwrap_or_default();
                    if !(a.is_continue() || resumed) {
                        run.stalled = Some(Callback::ResponseBody);
                    }
                }
                if run.stalled.is_none() {
                    delivered = Some(resp);
                }
            }
        }
        if let Some(f) = self.exports.on_done.clone() {
            self.call("proxy_on_done", &f, c)?;
        }
        if let Some(f) = self.exports.on_log.clone() {
            self.call("proxy_on_log", &f, c)?;
        }
        if let Some(f) = self.exports.on_delete.clone() {
            self.call("proxy_on_delete", &f, c)?;
        }
        Ok(delivered)
    }
}

struct Run {
    http_calls: Vec<HttpCall>,
    actions: Vec<(Callback, Action)>,
    upstream: Option<Upstream>,
    local: Option<LocalReply>,
    stalled: Option<Callback>,
    ticks: u32,
}

/// How a wait through ticks ended.
enum Woken {
    /// The plugin answered the stream with a local reply.
    Replied,
    /// The plugin resumed the stream.
    Resumed,
    /// Nothing happened until Envoy's stream idle timeout.
    Never,
}

/// Envoy's default stream idle timeout: how long a stopped stream waits at most.
const STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// The body bytes the client has sent once chunk `i` is in.
fn received_until(chunks: &[&[u8]], i: usize) -> u64 {
    chunks.iter().take(i + 1).map(|c| c.len() as u64).sum()
}

/// Envoy's own reply when a buffering filter's body outgrows the buffer limit.
fn envoy_413() -> LocalReply {
    LocalReply {
        status: 413,
        details: "request_payload_too_large".to_string(),
        body: b"Payload Too Large".to_vec(),
        headers: Vec::new(),
        grpc_status: -1,
        by_envoy: true,
    }
}

/// The response Envoy builds for a local reply (`Utility::prepareLocalReply`): `:status`,
/// the plugin's headers, then `content-length` and, for a body without a content type,
/// `content-type: text/plain`.
fn local_reply_response(reply: &LocalReply) -> Response {
    let mut headers = HeaderMap::new();
    headers.add(":status", &reply.status.to_string());
    for (k, v) in &reply.headers {
        headers.add(k, v);
    }
    if !reply.body.is_empty() {
        headers.replace("content-length", &reply.body.len().to_string());
        if headers.get("content-type").is_none() {
            headers.add("content-type", "text/plain");
        }
    }
    Response {
        status: reply.status as u16,
        headers,
        body: reply.body.clone(),
    }
}

fn request_properties(req: &Request, ctx: u32) -> std::collections::BTreeMap<Vec<String>, Vec<u8>> {
    let mut props = std::collections::BTreeMap::new();
    let p = |a: &str, b: &str| vec![a.to_string(), b.to_string()];
    let url_path = req.path.split('?').next().unwrap_or("").to_string();
    props.insert(p("request", "path"), req.path.clone().into_bytes());
    props.insert(p("request", "url_path"), url_path.into_bytes());
    props.insert(p("request", "method"), req.method.clone().into_bytes());
    props.insert(p("request", "host"), req.authority.clone().into_bytes());
    props.insert(p("request", "scheme"), req.scheme.clone().into_bytes());
    props.insert(p("request", "protocol"), b"HTTP/1.1".to_vec());
    props.insert(p("source", "address"), b"127.0.0.1:40000".to_vec());
    props.insert(p("source", "port"), 40000i64.to_le_bytes().to_vec());
    props.insert(p("destination", "address"), b"127.0.0.1:10000".to_vec());
    props.insert(p("destination", "port"), 10000i64.to_le_bytes().to_vec());
    props.insert(
        vec!["connection_id".to_string()],
        (ctx as u64).to_le_bytes().to_vec(),
    );
    for (path, value) in &req.properties {
        props.insert(path.clone(), value.clone());
    }
    props
}
