//! Support for the tests that run real Envoy (`envoy.rs`) and the demo (`demo.rs`): paths, the
//! shipped `filter/envoy.yaml` rendered with test ports and plugin configurations, an Envoy
//! process that is killed on drop, a recording upstream, and a `curl` client.
//!
//! Everything listens on 127.0.0.1 on ports the OS chooses and the listener keeps from bind to
//! use: Envoy binds port 0 and its admin interface says which ports it got
//! (`--admin-address-path`, `/listeners?format=json`), the upstreams bind port 0 and report
//! theirs. No port is chosen, released and bound again. Every wait is bounded.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long Envoy may take to become ready: the V8 compile of the filter on first start is slow on
/// a busy machine.
pub const READY_TIMEOUT: Duration = Duration::from_secs(90);

pub use host_tests::repo_root;

/// The built filter (`host_tests::wasm_path`: `$MISTYPE_FILTER_WASM`, else
/// `<target>/wasm32-wasip1/wasm/mistype_filter.wasm`), which must exist.
pub fn filter_wasm() -> PathBuf {
    let path = host_tests::wasm_path();
    assert!(
        path.is_file(),
        "{} is missing: build the filter first (filter/build.sh)",
        path.display()
    );
    path
}

/// The shipped Envoy configuration, as committed.
pub fn shipped_envoy_yaml() -> String {
    let path = repo_root().join("filter/envoy.yaml");
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The plugin configuration of the shipped `filter/envoy.yaml` (the `value: |` block), parsed.
pub fn shipped_plugin_config() -> serde_json::Value {
    let shipped = shipped_envoy_yaml();
    let lines: Vec<&str> = shipped.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == "value: |")
        .expect("filter/envoy.yaml: a `value: |` plugin configuration block");
    let indent = lines[start].len() - lines[start].trim_start().len();
    let block: Vec<&str> = lines[start + 1..]
        .iter()
        .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > indent)
        .copied()
        .collect();
    serde_json::from_str(&block.join("\n"))
        .unwrap_or_else(|e| panic!("filter/envoy.yaml: the plugin configuration is not JSON: {e}"))
}

/// A fresh scratch directory under the system temp dir, removed on drop.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("mistype-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering filter/envoy.yaml

/// What to substitute in the shipped configuration. `None` keeps the shipped value.
#[derive(Debug, Clone, Default)]
pub struct Render {
    pub listener_port: Option<u16>,
    pub admin_port: Option<u16>,
    pub upstream_port: Option<u16>,
    pub wasm: Option<PathBuf>,
    /// The plugin configuration JSON (the StringValue `value:`).
    pub plugin_config: Option<String>,
    /// Drop the lines between the `BEGIN mistype-filter` and `END mistype-filter` markers.
    pub without_filter: bool,
    /// Drop the Wasm filter's `allow_on_headers_stop_iteration: true`, as most Envoy examples
    /// (and Istio's WasmPlugin) load a Wasm filter.
    pub without_stop_iteration: bool,
    /// Drop the decompressor filter before the Wasm filter, as most Envoy examples load a Wasm
    /// filter alone.
    pub without_decompressor: bool,
}

/// Replace the one line that contains `needle`, keeping its indentation and anything before the
/// needle; panics unless exactly one line matches, so a drift in the shipped file fails loudly.
fn replace_unique_line(lines: &mut [String], needle: &str, replacement: &str) {
    let hits: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "filter/envoy.yaml: expected exactly one line containing {needle:?}, found {}",
        hits.len()
    );
    let line = &mut lines[hits[0]];
    *line = line.replacen(needle, replacement, 1);
}

/// The shipped configuration with `r` applied.
pub fn render(template: &str, r: &Render) -> String {
    let mut lines: Vec<String> = template.lines().map(str::to_owned).collect();
    if let Some(p) = r.listener_port {
        replace_unique_line(
            &mut lines,
            "port_value: 8080}",
            &format!("port_value: {p}}}"),
        );
    }
    if let Some(p) = r.admin_port {
        replace_unique_line(
            &mut lines,
            "port_value: 9901}",
            &format!("port_value: {p}}}"),
        );
    }
    if let Some(p) = r.upstream_port {
        replace_unique_line(
            &mut lines,
            "port_value: 8081}",
            &format!("port_value: {p}}}"),
        );
    }
    if let Some(w) = &r.wasm {
        replace_unique_line(
            &mut lines,
            "filename: target/wasm32-wasip1/wasm/mistype_filter.wasm",
            &format!("filename: {}", w.display()),
        );
    }
    if let Some(cfg) = &r.plugin_config {
        // `value: |` followed by the more deeply indented block scalar: replace the block.
        let start = lines
            .iter()
            .position(|l| l.trim() == "value: |")
            .expect("filter/envoy.yaml: no `value: |` plugin configuration block");
        let indent = lines[start].len() - lines[start].trim_start().len();
        let mut end = start + 1;
        while end < lines.len() {
            let l = &lines[end];
            if !l.trim().is_empty() && l.len() - l.trim_start().len() <= indent {
                break;
            }
            end += 1;
        }
        let pad = " ".repeat(indent + 2);
        let mut block: Vec<String> = cfg.lines().map(|l| format!("{pad}{l}")).collect();
        if block.is_empty() {
            // An empty configuration: a block scalar with no content is the empty string.
            block.push(String::new());
        }
        lines.splice(start + 1..end, block);
    }
    if r.without_stop_iteration {
        let knob = "allow_on_headers_stop_iteration: true";
        let hits: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.trim() == knob)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            hits.len(),
            1,
            "filter/envoy.yaml: expected exactly one line `{knob}`"
        );
        lines.remove(hits[0]);
    }
    if r.without_decompressor {
        // Its list item: from its `- name:` line to the next item at the same indentation.
        let start = lines
            .iter()
            .position(|l| l.trim() == "- name: envoy.filters.http.decompressor")
            .expect("filter/envoy.yaml: no decompressor filter");
        let indent = lines[start].len() - lines[start].trim_start().len();
        let end = (start + 1..lines.len())
            .find(|&i| {
                let l = &lines[i];
                !l.trim().is_empty() && l.len() - l.trim_start().len() <= indent
            })
            .unwrap_or(lines.len());
        lines.drain(start..end);
    }
    if r.without_filter {
        let begin = lines
            .iter()
            .position(|l| l.trim() == "# BEGIN mistype-filter")
            .expect("filter/envoy.yaml: no BEGIN mistype-filter marker");
        let end = lines
            .iter()
            .position(|l| l.trim() == "# END mistype-filter")
            .expect("filter/envoy.yaml: no END mistype-filter marker");
        lines.drain(begin..=end);
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/// Poll `f` every 100 ms until it returns `Some`, or give up after `timeout`.
pub fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// A plain HTTP/1.1 GET (`connection: close`) on loopback, for admin endpoints: `(status, body)`, or `None` when
/// nothing answers.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    if !chunked {
        return Some((status, body.to_owned()));
    }
    let mut reader = BufReader::new(body.as_bytes());
    let mut out = Vec::new();
    loop {
        let size_line = read_line(&mut reader)?;
        let size = usize::from_str_radix(size_line.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            break;
        }
        let mut chunk = vec![0; size];
        reader.read_exact(&mut chunk).ok()?;
        out.extend_from_slice(&chunk);
        read_line(&mut reader)?;
    }
    Some((status, String::from_utf8_lossy(&out).into_owned()))
}

// ---------------------------------------------------------------------------------------------
// Envoy

/// A running Envoy; killed (and reaped) on drop.
#[derive(Debug)]
pub struct Envoy {
    child: Child,
    pub admin_port: u16,
    pub listener_port: u16,
    pub log: PathBuf,
    _dir: TempDir,
}

/// `envoy` from `$ENVOY_BIN`, else from PATH.
pub fn envoy_bin() -> String {
    std::env::var("ENVOY_BIN").unwrap_or_else(|_| "envoy".to_owned())
}

fn tail(path: &Path, n: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Envoy {
    /// Start Envoy with `yaml` (admin and listener should use port 0; the real ports are read
    /// back from the admin API) and wait until `/ready` says LIVE. `Err` carries the log tail
    /// when Envoy exits or does not become ready in time.
    pub fn start(yaml: &str) -> Result<Envoy, String> {
        Envoy::start_with(yaml, &[])
    }

    /// [`Envoy::start`] with more command-line arguments.
    pub fn start_with(yaml: &str, args: &[&str]) -> Result<Envoy, String> {
        let dir = TempDir::new("envoy");
        let config = dir.path().join("envoy.yaml");
        let admin_path = dir.path().join("admin-address");
        let log = dir.path().join("envoy.log");
        fs::write(&config, yaml).map_err(|e| e.to_string())?;
        let log_file = fs::File::create(&log).map_err(|e| e.to_string())?;
        let log_err = log_file.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(envoy_bin())
            .arg("-c")
            .arg(&config)
            .arg("--disable-hot-restart")
            .args(["--concurrency", "1", "--log-level", "warn"])
            .args(args)
            .arg("--admin-address-path")
            .arg(&admin_path)
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("spawning envoy: {e}"))?;
        let mut envoy = Envoy {
            child,
            admin_port: 0,
            listener_port: 0,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = envoy.child.try_wait() {
                return Err(format!(
                    "envoy exited with {status} before it was ready:\n{}",
                    tail(&envoy.log, 30)
                ));
            }
            if envoy.admin_port == 0 {
                if let Ok(addr) = fs::read_to_string(&admin_path) {
                    if let Some(port) = addr.trim().rsplit(':').next().and_then(|p| p.parse().ok())
                    {
                        envoy.admin_port = port;
                    }
                }
            }
            if envoy.admin_port != 0 {
                if let Some((200, body)) = http_get(envoy.admin_port, "/ready") {
                    if body.trim() == "LIVE" {
                        break;
                    }
                }
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "envoy not ready after {READY_TIMEOUT:?}:\n{}",
                    tail(&envoy.log, 30)
                ));
            }
            thread::sleep(Duration::from_millis(100));
        }
        envoy.listener_port = envoy.bound_port("webmail").ok_or_else(|| {
            format!(
                "no bound port for listener webmail:\n{}",
                tail(&envoy.log, 30)
            )
        })?;
        Ok(envoy)
    }

    /// The port the named listener is bound to, from `/listeners?format=json`.
    pub fn bound_port(&self, listener: &str) -> Option<u16> {
        let (_, body) = http_get(self.admin_port, "/listeners?format=json")?;
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        v["listener_statuses"]
            .as_array()?
            .iter()
            .find(|l| l["name"] == listener)
            .and_then(|l| l["local_address"]["socket_address"]["port_value"].as_u64())
            .and_then(|p| u16::try_from(p).ok())
    }

    /// Counters and gauges from `/stats?format=json` whose names contain `filter`.
    pub fn stats(&self, filter: &str) -> HashMap<String, u64> {
        let (status, body) = http_get(
            self.admin_port,
            &format!("/stats?format=json&filter={filter}"),
        )
        .expect("admin /stats answers");
        assert_eq!(status, 200, "admin /stats: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("/stats JSON");
        let mut out = HashMap::new();
        for s in v["stats"].as_array().into_iter().flatten() {
            if let (Some(name), Some(value)) = (s["name"].as_str(), s["value"].as_u64()) {
                out.insert(name.to_owned(), value);
            }
        }
        out
    }

    /// The whole log so far.
    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run `envoy --mode validate` on `yaml`: `(success, output)`.
pub fn envoy_validate(yaml: &str) -> (bool, String) {
    let dir = TempDir::new("validate");
    let config = dir.path().join("envoy.yaml");
    fs::write(&config, yaml).expect("write config");
    let out = Command::new(envoy_bin())
        .args(["--mode", "validate", "--disable-hot-restart", "-c"])
        .arg(&config)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .output()
        .expect("spawn envoy --mode validate");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

// ---------------------------------------------------------------------------------------------
// The recording upstream

/// One request as the upstream saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Header names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the upstream answers to one request: status, headers, body.
pub type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// How an [`Upstream`] answers.
type Handler = Arc<dyn Fn(&Recorded) -> Answer + Send + Sync>;

/// An HTTP/1.1 server on 127.0.0.1 that records every request and answers
/// `200 {"upstream":"ok"}` (or what its handler says). Stops accepting on drop.
pub struct Upstream {
    pub port: u16,
    requests: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("port", &self.port)
            .finish()
    }
}

/// The answer of the plain upstream.
pub fn upstream_ok() -> Answer {
    (
        200,
        vec![("content-type".into(), "application/json".into())],
        br#"{"upstream":"ok"}"#.to_vec(),
    )
}

impl Upstream {
    pub fn start() -> Upstream {
        Upstream::serve(false, Arc::new(|_: &Recorded| upstream_ok()))
    }

    /// An upstream that answers `200` as soon as it has a request's headers, before any body
    /// (as a route or server that decides on headers alone does); it records the request
    /// without its body.
    pub fn eager() -> Upstream {
        Upstream::serve(true, Arc::new(|_: &Recorded| upstream_ok()))
    }

    /// An upstream whose answers come from `handler` (a mail server that stores drafts).
    pub fn with(handler: impl Fn(&Recorded) -> Answer + Send + Sync + 'static) -> Upstream {
        Upstream::serve(false, Arc::new(handler))
    }

    fn serve(eager: bool, handler: Handler) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind upstream");
        let port = listener.local_addr().expect("upstream addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (reqs, stopped) = (requests.clone(), stop.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (reqs, handler) = (reqs.clone(), handler.clone());
                thread::spawn(move || serve_connection(conn, reqs, eager, handler));
            }
        });
        Upstream {
            port,
            requests,
            stop,
        }
    }

    /// Everything recorded so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve_connection(
    conn: TcpStream,
    reqs: Arc<Mutex<Vec<Recorded>>>,
    eager: bool,
    handler: Handler,
) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(60)));
    let Ok(mut writer) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    while let Some(req) = read_request(&mut reader, !eager) {
        let close = eager
            || req
                .header("connection")
                .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let (status, headers, body) = handler(&req);
        if let Ok(mut r) = reqs.lock() {
            r.push(req);
        }
        let mut head = format!("HTTP/1.1 {status} X\r\n");
        for (k, v) in &headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!("content-length: {}\r\n", body.len()));
        if close {
            head.push_str("connection: close\r\n");
        }
        head.push_str("\r\n");
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(&body).is_err() {
            break;
        }
        if close {
            break;
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
}

fn read_line(reader: &mut impl BufRead) -> Option<String> {
    let mut line = Vec::new();
    let n = reader.read_until(b'\n', &mut line).ok()?;
    if n == 0 {
        return None;
    }
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    Some(String::from_utf8_lossy(&line).into_owned())
}

/// The header lines of an HTTP/1.1 message up to the empty line, names in lower case.
fn read_header_block(reader: &mut impl BufRead) -> Option<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?;
        if line.is_empty() {
            return Some(headers);
        }
        let (k, v) = line.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
}

/// The value of header `name` (lower case) in a header block.
fn header_value(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// A chunked body; with `trailers`, also the trailer lines and the empty line after the last
/// chunk are read (and dropped).
fn read_chunked(reader: &mut impl BufRead, trailers: bool) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let size_line = read_line(reader)?;
        let size = usize::from_str_radix(size_line.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            if trailers {
                while !read_line(reader)?.is_empty() {}
            }
            return Some(body);
        }
        let mut chunk = vec![0; size];
        reader.read_exact(&mut chunk).ok()?;
        body.extend_from_slice(&chunk);
        read_line(reader)?;
    }
}

/// Read one HTTP/1.1 request (content-length or chunked body; chunked trailers are skipped);
/// with `with_body` false, only its head.
fn read_request(reader: &mut impl BufRead, with_body: bool) -> Option<Recorded> {
    let request_line = read_line(reader)?;
    let mut parts = request_line.split(' ');
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let headers = read_header_block(reader)?;
    let get = |name: &str| header_value(&headers, name);
    let mut body = Vec::new();
    if !with_body {
    } else if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = read_chunked(reader, true)?;
    } else if let Some(len) = get("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body = vec![0; len];
        reader.read_exact(&mut body).ok()?;
    }
    Some(Recorded {
        method,
        path,
        headers,
        body,
    })
}

// ---------------------------------------------------------------------------------------------
// curl

/// A response as curl saw it.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// "1.1" or "2".
    pub http_version: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A request for [`curl`].
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    pub method: &'a str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Header lines as bytes (`name: value`), for values that are not UTF-8.
    pub byte_headers: Vec<Vec<u8>>,
    pub body: Option<&'a [u8]>,
    /// HTTP/2 over cleartext with prior knowledge.
    pub http2: bool,
    /// HTTP/1.1 `transfer-encoding: chunked`: the body without a `content-length`.
    pub chunked: bool,
    /// The answer may come before the upload ends, and the rest of the upload is then cut off
    /// (an HTTP/2 `RST_STREAM` after the response, a closed HTTP/1.1 connection): curl's error
    /// for that is accepted when a complete response came first.
    pub answered_early: bool,
}

impl<'a> Request<'a> {
    pub fn post(url: String, content_type: &str, body: &'a [u8]) -> Request<'a> {
        Request {
            method: "POST",
            url,
            headers: vec![("content-type".to_owned(), content_type.to_owned())],
            byte_headers: Vec::new(),
            body: Some(body),
            http2: false,
            chunked: false,
            answered_early: false,
        }
    }

    pub fn get(url: String) -> Request<'a> {
        Request {
            method: "GET",
            url,
            ..Request::default()
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Request<'a> {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A header whose value is bytes, sent as they are (HTTP's obs-text, such as Latin-1).
    pub fn header_bytes(mut self, name: &str, value: &[u8]) -> Request<'a> {
        let mut line = format!("{name}: ").into_bytes();
        line.extend_from_slice(value);
        self.byte_headers.push(line);
        self
    }

    /// A send fixture of `mistype_testdata::sends` posted to `base` (the listener's URL, no
    /// trailing slash) and the fixture's path.
    pub fn send(base: &str, s: &'a mistype_testdata::sends::HttpRequest) -> Request<'a> {
        let mut headers: Vec<(String, String)> = s
            .content_type
            .iter()
            .map(|ct| ("content-type".to_owned(), ct.clone()))
            .collect();
        headers.extend(s.headers.iter().cloned());
        // No body and no type (a Graph draft sent by id): no `--data`, which would make curl add
        // a form content type.
        let bare = s.body.is_empty() && s.content_type.is_none();
        Request {
            method: s.method,
            url: format!("{base}{}", s.path),
            headers,
            byte_headers: Vec::new(),
            body: (!bare).then_some(s.body.as_slice()),
            http2: false,
            chunked: false,
            answered_early: false,
        }
    }

    pub fn http2(mut self) -> Request<'a> {
        self.http2 = true;
        self
    }

    pub fn chunked(mut self) -> Request<'a> {
        self.chunked = true;
        self
    }

    pub fn answered_early(mut self) -> Request<'a> {
        self.answered_early = true;
        self
    }
}

/// Send `req` with curl (bounded: 30 s) and return the response.
pub fn curl(req: &Request<'_>) -> Response {
    let dir = TempDir::new("curl");
    let head_file = dir.path().join("head");
    let body_file = dir.path().join("body");
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--max-time", "30", "-X", req.method])
        .arg("-D")
        .arg(&head_file)
        .arg("-o")
        .arg(&body_file)
        .args(["-w", "%{http_code} %{http_version}"])
        // No `Expect: 100-continue` round trip for larger bodies.
        .args(["-H", "Expect:"])
        // The path as written (`/./` and `/../` too): Envoy is what normalizes it.
        .arg("--path-as-is");
    if req.http2 {
        cmd.arg("--http2-prior-knowledge");
    }
    if req.chunked {
        cmd.args(["-H", "transfer-encoding: chunked"]);
    }
    for (k, v) in &req.headers {
        cmd.arg("-H").arg(format!("{k}: {v}"));
    }
    for line in &req.byte_headers {
        cmd.arg("-H")
            .arg(std::ffi::OsStr::from_bytes(line.as_slice()));
    }
    if let Some(body) = req.body {
        let req_file = dir.path().join("request");
        fs::write(&req_file, body).expect("write request body");
        cmd.arg("--data-binary")
            .arg(format!("@{}", req_file.display()));
    }
    cmd.arg(&req.url);
    let out = cmd.output().expect("spawn curl");
    let w = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut w = w.split_whitespace();
    let status = w.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    // curl 55 (send failure) and 92 (HTTP/2 stream error): the upload was cut off.
    let cut_off = matches!(out.status.code(), Some(55 | 92));
    assert!(
        out.status.success() || (req.answered_early && cut_off && status != 0),
        "curl {} {} failed: {}",
        req.method,
        req.url,
        String::from_utf8_lossy(&out.stderr)
    );
    let http_version = w.next().unwrap_or("").to_owned();
    let head = fs::read_to_string(&head_file).unwrap_or_default();
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = fs::read(&body_file).unwrap_or_default();
    Response {
        status,
        http_version,
        headers,
        body,
    }
}

// ---------------------------------------------------------------------------------------------
// Requests curl cannot make

/// An HTTP/1.1 response read off a socket (content-length or chunked body, or up to close).
fn read_http1_response(stream: TcpStream) -> Option<Response> {
    let mut reader = BufReader::new(stream);
    let status_line = read_line(&mut reader)?;
    let status = status_line.split(' ').nth(1)?.parse().ok()?;
    let headers = read_header_block(&mut reader)?;
    let get = |name: &str| header_value(&headers, name);
    let mut body = Vec::new();
    if let Some(len) = get("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body = vec![0; len];
        reader.read_exact(&mut body).ok()?;
    } else if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = read_chunked(&mut reader, false)?;
    } else {
        reader.read_to_end(&mut body).ok()?;
    }
    Some(Response {
        status,
        http_version: "1.1".to_owned(),
        headers,
        body,
    })
}

/// An HTTP/1.1 `POST` that sends its headers (with `content-length: declared`) and then
/// nothing: the client that never sends its body. Waits at most 60 s for the answer.
pub fn post_withholding_body(
    port: u16,
    path: &str,
    content_type: &str,
    declared: usize,
) -> Response {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to Envoy");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("read timeout");
    write!(
        s,
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: {content_type}\r\n\
         content-length: {declared}\r\n\r\n"
    )
    .expect("send the request head");
    read_http1_response(s).expect("an answer to a request whose body never came")
}

/// An HPACK integer with an `n`-bit prefix (RFC 7541 §5.1), `flags` in the prefix's high bits.
fn hpack_int(out: &mut Vec<u8>, flags: u8, n: u32, mut value: usize) {
    let max = (1usize << n) - 1;
    if value < max {
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | max as u8);
    value -= max;
    while value >= 128 {
        out.push((value % 128) as u8 | 0x80);
        value /= 128;
    }
    out.push(value as u8);
}

/// Reads an HPACK integer with an `n`-bit prefix at `*at`.
fn hpack_read_int(block: &[u8], at: &mut usize, n: u32) -> usize {
    let max = (1usize << n) - 1;
    let mut value = usize::from(block[*at]) & max;
    *at += 1;
    if value == max {
        let mut shift = 0;
        loop {
            let b = block[*at];
            *at += 1;
            value += usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    value
}

/// A header block of literal fields without indexing, names and values not Huffman-coded: every
/// HPACK decoder reads it, and it needs no table.
fn hpack_encode(headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in headers {
        out.push(0x00);
        hpack_int(&mut out, 0, 7, k.len());
        out.extend_from_slice(k.as_bytes());
        hpack_int(&mut out, 0, 7, v.len());
        out.extend_from_slice(v.as_bytes());
    }
    out
}

/// The digits of a Huffman-coded string (RFC 7541 Appendix B: `0`-`2` are 5-bit codes
/// 00000-00010, `3`-`9` 6-bit codes 011001-011111; the padding is ones).
fn huffman_digits(bytes: &[u8]) -> String {
    let bits: Vec<u8> = bytes
        .iter()
        .flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1))
        .collect();
    let code = |from: usize, len: usize| -> Option<u8> {
        let b = bits.get(from..from + len)?;
        Some(b.iter().fold(0u8, |acc, bit| acc << 1 | bit))
    };
    let mut out = String::new();
    let mut at = 0;
    while at < bits.len() {
        if bits[at..].iter().all(|b| *b == 1) {
            break; // padding
        }
        match (code(at, 5), code(at, 6)) {
            (Some(c @ 0..=2), _) => {
                out.push(char::from(b'0' + c));
                at += 5;
            }
            (_, Some(c @ 0b011001..=0b011111)) => {
                out.push(char::from(b'3' + (c - 0b011001)));
                at += 6;
            }
            _ => panic!("HTTP/2: a Huffman-coded :status that is not digits: {bytes:?}"),
        }
    }
    out
}

/// The `:status` of a response header block. Only the field that carries it is decoded (an
/// indexed static entry 8-14, or a literal whose name is static entry 8, its value Huffman-coded
/// or not); the other fields are skipped, which needs no table: the test client makes one
/// request per connection, so nothing refers to an earlier block.
pub fn hpack_status(block: &[u8]) -> Option<u16> {
    const INDEXED: [u16; 7] = [200, 204, 206, 304, 400, 404, 500];
    let mut at = 0;
    while at < block.len() {
        let b = block[at];
        if b & 0x80 != 0 {
            let i = hpack_read_int(block, &mut at, 7);
            if (8..=14).contains(&i) {
                return Some(INDEXED[i - 8]);
            }
            continue;
        }
        if b & 0xe0 == 0x20 {
            hpack_read_int(block, &mut at, 5); // dynamic table size update
            continue;
        }
        let prefix = if b & 0x40 != 0 { 6 } else { 4 };
        let name_index = hpack_read_int(block, &mut at, prefix);
        if name_index == 0 {
            let len = hpack_read_int(block, &mut at, 7);
            at += len;
        }
        let huffman = block[at] & 0x80 != 0;
        let len = hpack_read_int(block, &mut at, 7);
        let value = &block[at..at + len];
        at += len;
        if name_index == 8 {
            let text = if huffman {
                huffman_digits(value)
            } else {
                String::from_utf8_lossy(value).into_owned()
            };
            return text.parse().ok();
        }
    }
    None
}

/// An HTTP/2 `POST` for [`h2_post`].
#[derive(Debug, Clone, Copy)]
pub struct H2Post<'a> {
    pub path: &'a str,
    /// Request headers besides the pseudo-headers.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    /// Trailers, which then end the stream.
    pub trailers: &'a [(&'a str, &'a str)],
    /// False: the stream is left open after the body (a `content-length` header may promise
    /// more), as from a client still uploading when the answer comes.
    pub complete: bool,
}

/// A minimal HTTP/2 client (cleartext, prior knowledge; RFC 9113) for what curl's command line
/// cannot do: request trailers, and an upload answered before it ends (curl 7.88 drops a
/// response followed by the `RST_STREAM` that stops the rest of the upload). One `POST` per
/// connection, its body in one window (under 64 KiB, so that no flow control is needed). The
/// response's status and body are read; its other headers are not decoded (HPACK's Huffman
/// code), so [`Response::headers`] is empty.
pub fn h2_post(port: u16, req: &H2Post<'_>) -> Response {
    const DATA: u8 = 0x0;
    const HEADERS: u8 = 0x1;
    const RST_STREAM: u8 = 0x3;
    const SETTINGS: u8 = 0x4;
    const PING: u8 = 0x6;
    const GOAWAY: u8 = 0x7;
    const CONTINUATION: u8 = 0x9;
    const END_STREAM: u8 = 0x1;
    const ACK: u8 = 0x1;
    const END_HEADERS: u8 = 0x4;
    const PADDED: u8 = 0x8;
    const PRIORITY: u8 = 0x20;
    assert!(
        req.body.len() < 65_535,
        "the test client sends one window at most"
    );

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = u32::try_from(payload.len()).expect("frame size");
        let mut f = len.to_be_bytes()[1..].to_vec();
        f.extend_from_slice(&[kind, flags]);
        f.extend_from_slice(&stream.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to Envoy");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("read timeout");
    let authority = format!("127.0.0.1:{port}");
    let mut request: Vec<(&str, &str)> = vec![
        (":method", "POST"),
        (":scheme", "http"),
        (":path", req.path),
        (":authority", &authority),
    ];
    request.extend_from_slice(req.headers);
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    out.extend(frame(SETTINGS, 0, 0, &[]));
    out.extend(frame(HEADERS, END_HEADERS, 1, &hpack_encode(&request)));
    for chunk in req.body.chunks(16_384) {
        out.extend(frame(DATA, 0, 1, chunk));
    }
    if !req.trailers.is_empty() {
        let flags = END_HEADERS | if req.complete { END_STREAM } else { 0 };
        out.extend(frame(HEADERS, flags, 1, &hpack_encode(req.trailers)));
    } else if req.complete {
        out.extend(frame(DATA, END_STREAM, 1, &[]));
    }
    s.write_all(&out).expect("send the request");

    let mut block: Vec<u8> = Vec::new();
    let mut status: Option<u16> = None;
    let mut response_body = Vec::new();
    loop {
        let mut head = [0u8; 9];
        s.read_exact(&mut head)
            .unwrap_or_else(|e| panic!("HTTP/2: the connection ended before the answer: {e}"));
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let (kind, flags) = (head[3], head[4]);
        let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
        let mut payload = vec![0u8; len];
        s.read_exact(&mut payload).expect("HTTP/2 frame payload");
        match kind {
            SETTINGS if flags & ACK == 0 => {
                s.write_all(&frame(SETTINGS, ACK, 0, &[]))
                    .expect("settings ack");
            }
            PING if flags & ACK == 0 => {
                s.write_all(&frame(PING, ACK, 0, &payload))
                    .expect("ping ack");
            }
            GOAWAY => panic!("HTTP/2: GOAWAY before the answer: {payload:?}"),
            RST_STREAM if stream == 1 => panic!("HTTP/2: the stream was reset: {payload:?}"),
            HEADERS | CONTINUATION if stream == 1 => {
                let mut fragment: &[u8] = &payload;
                if kind == HEADERS {
                    if flags & PADDED != 0 {
                        let pad = usize::from(fragment[0]);
                        fragment = &fragment[1..fragment.len() - pad];
                    }
                    if flags & PRIORITY != 0 {
                        fragment = &fragment[5..];
                    }
                }
                block.extend_from_slice(fragment);
                if flags & END_HEADERS != 0 {
                    // The first block is the response's headers; a later one its trailers.
                    if status.is_none() {
                        status = Some(hpack_status(&block).unwrap_or_else(|| {
                            panic!("HTTP/2: no :status in the response headers {block:?}")
                        }));
                    }
                    block.clear();
                }
                if kind == HEADERS && flags & END_STREAM != 0 {
                    break;
                }
            }
            DATA if stream == 1 => {
                let mut data: &[u8] = &payload;
                if flags & PADDED != 0 {
                    let pad = usize::from(data[0]);
                    data = &data[1..data.len() - pad];
                }
                response_body.extend_from_slice(data);
                if flags & END_STREAM != 0 {
                    break;
                }
            }
            _ => {}
        }
    }
    Response {
        status: status.expect("HTTP/2: no response headers"),
        http_version: "2".to_owned(),
        headers: Vec::new(),
        body: response_body,
    }
}
