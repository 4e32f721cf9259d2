//! The plugin configuration: JSON in Envoy's `configuration` (a `google.protobuf.StringValue`).
//!
//! ```json
//! {"policy": {...}, "mode": "block", "max_body_bytes": 36700160,
//!  "confirm": {"header": "x-mistype-confirm", "secret": "...", "ttl_seconds": 600},
//!  "stall": {"timeout_ms": 10000, "action": "refuse"},
//!  "sender_header": "x-authenticated-user",
//!  "apis": ["jmap", {"api": "graph", "prefix": ["/v1.0"]}],
//!  "check_path": "/mistype/check", "verdict_path": "/mistype/verdict"}
//! ```
//!
//! Every key is optional; an empty configuration (zero bytes, whitespace or `{}`) is the embedded
//! policy in block mode with every webmail API enabled at its standard paths. Unknown keys and bad
//! values are errors that name the key.

use crate::extract::Routes;
use crate::send::Api;
use mistype::Policy;
use serde_json::{Map, Value};
use std::fmt;

/// What the filter does with a misaddressed send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Answer `422` with the verdict; the upstream never sees the send.
    Block,
    /// Let it through; add `x-mistype-verdict` and `x-mistype-findings` to the response.
    Warn,
    /// Only count and log.
    Monitor,
}

impl Mode {
    /// The configuration name.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Block => "block",
            Mode::Warn => "warn",
            Mode::Monitor => "monitor",
        }
    }
}

/// Confirmation tokens: a blocked send may be resent with a token in `header`.
#[derive(Clone, PartialEq, Eq)]
pub struct Confirm {
    /// The request header that carries the token (lower case).
    pub header: String,
    /// The HMAC key; `None` disables confirmation (blocked sends cannot be confirmed).
    pub secret: Option<Vec<u8>>,
    /// How long a token is good for.
    pub ttl_seconds: u64,
}

impl fmt::Debug for Confirm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Confirm")
            .field("header", &self.header)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("ttl_seconds", &self.ttl_seconds)
            .finish()
    }
}

/// The parsed configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The policy; `None` is the embedded default policy.
    pub policy: Option<Policy>,
    /// Block, warn or monitor.
    pub mode: Mode,
    /// Bodies above this are not inspected: `413` in block mode, counted and passed otherwise.
    pub max_body_bytes: usize,
    /// Confirmation tokens.
    pub confirm: Confirm,
    /// A request header (set by the authenticating layer) naming the sender; it wins over the
    /// sender the message states.
    pub sender_header: Option<String>,
    /// Which APIs are recognised where.
    pub routes: Routes,
    /// Sends by reference: how the stored message's recipients are looked up.
    pub lookup: Lookup,
    /// Hold a possible send's headers until its body is judged (Envoy's
    /// `allow_on_headers_stop_iteration: true` is needed; without it a held send gets no body and
    /// is answered by `stall`). `false` lets the headers go upstream at once and holds only the
    /// body.
    pub hold_headers: bool,
    /// What happens to a send whose held headers get no body (see [`crate::stall`]).
    pub stall: Stall,
    /// In block mode, a `warn` finding scored at least this is handled like a `block` finding:
    /// the send is answered `422` (with a confirm token when confirmation is on). `None`: warn
    /// findings never block.
    pub block_warn_score: Option<f64>,
}

/// What happens to a send whose stored message cannot be looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFailure {
    /// Refuse it (block mode only; warn and monitor mode pass it): the safe default.
    Block,
    /// Let it through, counted and logged.
    Pass,
}

/// What a held send that gets no body is answered with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnStall {
    /// `503`, naming the Envoy setting (block mode only; warn and monitor mode continue).
    Refuse,
    /// Let the headers go on; the body is still judged when it comes, as with
    /// `hold_headers: false`.
    Continue,
}

impl OnStall {
    /// The configuration name.
    pub fn name(self) -> &'static str {
        match self {
            OnStall::Refuse => "refuse",
            OnStall::Continue => "continue",
        }
    }
}

/// Held headers that get no body: how long to wait, and the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stall {
    /// How long a held send may go without any body before it is answered, when Envoy's count
    /// does not already show a body it keeps from the filter.
    pub timeout_ms: u32,
    /// The answer.
    pub action: OnStall,
}

/// Default `stall.timeout_ms`.
pub const DEFAULT_STALL_TIMEOUT_MS: u32 = 10_000;
/// The longest `stall.timeout_ms` accepted (Envoy's default stream idle timeout is 5 minutes).
pub const MAX_STALL_TIMEOUT_MS: u64 = 300_000;
/// The longest period of the root context's tick that watches held sends.
pub const MAX_STALL_TICK_MS: u32 = 500;

impl Stall {
    /// The period of the tick that watches held sends: at most [`MAX_STALL_TICK_MS`], never
    /// longer than the timeout.
    pub fn tick_ms(&self) -> u32 {
        self.timeout_ms.clamp(1, MAX_STALL_TICK_MS)
    }
}

impl Default for Stall {
    fn default() -> Stall {
        Stall {
            timeout_ms: DEFAULT_STALL_TIMEOUT_MS,
            action: OnStall::Refuse,
        }
    }
}

/// The lookup of stored messages (drafts sent by id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    /// The Envoy cluster the lookups go to (the mail server's).
    pub cluster: String,
    /// How long a lookup may take.
    pub timeout_ms: u32,
    /// What a failed, timed-out or unreadable lookup leads to.
    pub on_failure: OnFailure,
    /// The request headers copied into a lookup, so that it sees what the user may see.
    pub forward_headers: Vec<String>,
}

/// Default lookup cluster: the shipped `filter/envoy.yaml` names the mail server `webmail`.
pub const DEFAULT_LOOKUP_CLUSTER: &str = "webmail";
/// Default lookup timeout.
pub const DEFAULT_LOOKUP_TIMEOUT_MS: u32 = 5000;
/// Default `block_warn_score`: the core's score of a warning sure enough to stop a send.
pub const DEFAULT_BLOCK_WARN_SCORE: f64 = mistype::SURE_WARNING_SCORE;

impl Default for Lookup {
    fn default() -> Lookup {
        Lookup {
            cluster: DEFAULT_LOOKUP_CLUSTER.into(),
            timeout_ms: DEFAULT_LOOKUP_TIMEOUT_MS,
            on_failure: OnFailure::Block,
            forward_headers: vec!["authorization".into(), "cookie".into()],
        }
    }
}

/// Defaults. `max_body_bytes`: 35 MiB, the largest message the common providers take (Gmail's
/// API); a send decided by its message's head holds far less whatever its size.
pub const DEFAULT_MAX_BODY_BYTES: usize = 35 * 1024 * 1024;
/// The largest `max_body_bytes` accepted (V8's Wasm memory limit is 1 GiB).
pub const MAX_MAX_BODY_BYTES: u64 = 256 * 1024 * 1024;
/// Default confirm header.
pub const DEFAULT_CONFIRM_HEADER: &str = "x-mistype-confirm";
/// Default token lifetime.
pub const DEFAULT_TTL_SECONDS: u64 = 600;
/// The shortest secret accepted.
pub const MIN_SECRET_LEN: usize = 16;

impl Default for Config {
    fn default() -> Config {
        Config {
            policy: None,
            mode: Mode::Block,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            confirm: Confirm {
                header: DEFAULT_CONFIRM_HEADER.into(),
                secret: None,
                ttl_seconds: DEFAULT_TTL_SECONDS,
            },
            sender_header: None,
            routes: Routes::default(),
            lookup: Lookup::default(),
            hold_headers: true,
            stall: Stall::default(),
            block_warn_score: Some(DEFAULT_BLOCK_WARN_SCORE),
        }
    }
}

/// A configuration that cannot be used; the message names the key and the value at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn bad<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

/// A JSON value shown in an error message, shortened.
fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        let short: String = s.chars().take(57).collect();
        format!("{short}...")
    } else {
        s
    }
}

fn check_keys(m: &Map<String, Value>, at: &str, allowed: &[&str]) -> Result<(), ConfigError> {
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            return bad(format!(
                "{at}{k}: unknown key (known keys: {})",
                allowed.join(", ")
            ));
        }
    }
    Ok(())
}

fn string(v: &Value, key: &str) -> Result<String, ConfigError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        _ => bad(format!("{key}: {} is not a string", show(v))),
    }
}

fn header_name(v: &Value, key: &str) -> Result<String, ConfigError> {
    let s = string(v, key)?;
    let valid = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid {
        return bad(format!("{key}: {} is not an HTTP header name", show(v)));
    }
    Ok(s.to_ascii_lowercase())
}

fn positive(v: &Value, key: &str, max: u64) -> Result<u64, ConfigError> {
    match v.as_u64() {
        Some(n) if n > 0 && n <= max => Ok(n),
        _ => bad(format!(
            "{key}: {} is not a whole number from 1 to {max}",
            show(v)
        )),
    }
}

fn path(v: &Value, key: &str) -> Result<String, ConfigError> {
    let s = string(v, key)?;
    if !s.starts_with('/') || s.contains('?') || s.contains(char::is_whitespace) {
        return bad(format!(
            "{key}: {} is not a path (it starts with '/', without query or spaces)",
            show(v)
        ));
    }
    Ok(s)
}

fn prefixes(v: &Value, key: &str) -> Result<Vec<String>, ConfigError> {
    let one = |v: &Value, key: &str| -> Result<String, ConfigError> {
        let s = string(v, key)?;
        if !(s.is_empty() || s.starts_with('/'))
            || s.contains('?')
            || s.contains(char::is_whitespace)
        {
            return bad(format!(
                "{key}: {} is not a path prefix (empty, or starting with '/')",
                show(v)
            ));
        }
        Ok(s)
    };
    match v {
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, p)| one(p, &format!("{key}[{i}]")))
            .collect(),
        Value::Array(_) => bad(format!(
            "{key}: an empty list enables nothing; remove the API instead"
        )),
        _ => Ok(vec![one(v, key)?]),
    }
}

fn apis(v: &Value) -> Result<Vec<(Api, Vec<String>)>, ConfigError> {
    let Value::Array(items) = v else {
        return bad(format!(
            "apis: {} is not a list of API names or {{\"api\", \"prefix\"}} objects",
            show(v)
        ));
    };
    let names: Vec<&str> = Api::WEBMAIL.iter().map(|a| a.name()).collect();
    let mut out: Vec<(Api, Vec<String>)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("apis[{i}]");
        let (name, pfx) = match item {
            Value::String(n) => (n.as_str(), None),
            Value::Object(o) => {
                check_keys(o, &format!("{at}."), &["api", "prefix"])?;
                let Some(Value::String(n)) = o.get("api") else {
                    return bad(format!("{at}.api: missing, or not a string"));
                };
                (n.as_str(), o.get("prefix"))
            }
            _ => return bad(format!("{at}: {} is not an API name or object", show(item))),
        };
        let api = match Api::from_name(name) {
            Some(a) if a != Api::Check => a,
            _ => {
                return bad(format!(
                    "{at}: \"{name}\" is not one of {}",
                    names.join(", ")
                ))
            }
        };
        if out.iter().any(|(a, _)| *a == api) {
            return bad(format!("{at}: \"{name}\" is listed twice"));
        }
        let p = match pfx {
            Some(p) => prefixes(p, &format!("{at}.prefix"))?,
            None => api
                .default_prefixes()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        };
        out.push((api, p));
    }
    Ok(out)
}

fn lookup(v: &Value) -> Result<Lookup, ConfigError> {
    let Value::Object(m) = v else {
        return bad(format!("lookup: {} is not an object", show(v)));
    };
    check_keys(
        m,
        "lookup.",
        &["cluster", "timeout_ms", "on_failure", "forward_headers"],
    )?;
    let mut l = Lookup::default();
    if let Some(c) = m.get("cluster") {
        l.cluster = string(c, "lookup.cluster")?;
        if l.cluster.trim().is_empty() {
            return bad("lookup.cluster: an empty cluster name");
        }
    }
    if let Some(t) = m.get("timeout_ms") {
        l.timeout_ms = u32::try_from(positive(t, "lookup.timeout_ms", 60_000)?)
            .unwrap_or(DEFAULT_LOOKUP_TIMEOUT_MS);
    }
    if let Some(f) = m.get("on_failure") {
        l.on_failure = match f.as_str() {
            Some("block") => OnFailure::Block,
            Some("pass") => OnFailure::Pass,
            _ => {
                return bad(format!(
                    "lookup.on_failure: {} is not one of block, pass",
                    show(f)
                ))
            }
        };
    }
    if let Some(h) = m.get("forward_headers") {
        let Value::Array(items) = h else {
            return bad(format!(
                "lookup.forward_headers: {} is not a list of header names",
                show(h)
            ));
        };
        l.forward_headers = items
            .iter()
            .enumerate()
            .map(|(i, h)| header_name(h, &format!("lookup.forward_headers[{i}]")))
            .collect::<Result<_, _>>()?;
    }
    Ok(l)
}

fn stall(v: &Value) -> Result<Stall, ConfigError> {
    let Value::Object(m) = v else {
        return bad(format!("stall: {} is not an object", show(v)));
    };
    check_keys(m, "stall.", &["timeout_ms", "action"])?;
    let mut s = Stall::default();
    if let Some(t) = m.get("timeout_ms") {
        s.timeout_ms = u32::try_from(positive(t, "stall.timeout_ms", MAX_STALL_TIMEOUT_MS)?)
            .unwrap_or(DEFAULT_STALL_TIMEOUT_MS);
    }
    if let Some(a) = m.get("action") {
        s.action = match a.as_str() {
            Some("refuse") => OnStall::Refuse,
            Some("continue") => OnStall::Continue,
            _ => {
                return bad(format!(
                    "stall.action: {} is not one of refuse, continue",
                    show(a)
                ))
            }
        };
    }
    Ok(s)
}

impl Config {
    /// Parses the plugin configuration bytes.
    pub fn parse(bytes: &[u8]) -> Result<Config, ConfigError> {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return bad("the configuration is not UTF-8 text");
        };
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        let v: Value = serde_json::from_str(text)
            .or_else(|e| bad(format!("the configuration is not valid JSON: {e}")))?;
        Config::from_value(&v)
    }

    /// From an already parsed JSON value.
    pub fn from_value(v: &Value) -> Result<Config, ConfigError> {
        let Value::Object(m) = v else {
            return bad(format!(
                "the configuration is a JSON object, not {}",
                show(v)
            ));
        };
        check_keys(
            m,
            "",
            &[
                "policy",
                "mode",
                "max_body_bytes",
                "confirm",
                "sender_header",
                "apis",
                "check_path",
                "verdict_path",
                "lookup",
                "hold_headers",
                "stall",
                "block_warn_score",
            ],
        )?;
        let mut c = Config::default();
        if let Some(p) = m.get("policy").filter(|p| !p.is_null()) {
            c.policy = Some(Policy::from_value(p).or_else(|e| bad(format!("policy: {e}")))?);
        }
        if let Some(mode) = m.get("mode") {
            c.mode = match mode.as_str() {
                Some("block") => Mode::Block,
                Some("warn") => Mode::Warn,
                Some("monitor") => Mode::Monitor,
                _ => {
                    return bad(format!(
                        "mode: {} is not one of block, warn, monitor",
                        show(mode)
                    ))
                }
            };
        }
        if let Some(n) = m.get("max_body_bytes") {
            c.max_body_bytes = usize::try_from(positive(n, "max_body_bytes", MAX_MAX_BODY_BYTES)?)
                .unwrap_or(DEFAULT_MAX_BODY_BYTES);
        }
        if let Some(cv) = m.get("confirm") {
            let Value::Object(cm) = cv else {
                return bad(format!("confirm: {} is not an object", show(cv)));
            };
            check_keys(cm, "confirm.", &["header", "secret", "ttl_seconds"])?;
            if let Some(h) = cm.get("header") {
                c.confirm.header = header_name(h, "confirm.header")?;
            }
            if let Some(s) = cm.get("secret") {
                let s = string(s, "confirm.secret")?;
                if s.len() < MIN_SECRET_LEN {
                    return bad(format!(
                        "confirm.secret: a secret of {} bytes is too short (at least {MIN_SECRET_LEN})",
                        s.len()
                    ));
                }
                c.confirm.secret = Some(s.into_bytes());
            }
            if let Some(t) = cm.get("ttl_seconds") {
                c.confirm.ttl_seconds = positive(t, "confirm.ttl_seconds", 7 * 24 * 3600)?;
            }
        }
        if let Some(h) = m.get("sender_header").filter(|h| !h.is_null()) {
            c.sender_header = Some(header_name(h, "sender_header")?);
        }
        if let Some(a) = m.get("apis") {
            c.routes.apis = apis(a)?;
        }
        if let Some(p) = m.get("check_path").filter(|p| !p.is_null()) {
            c.routes.check_path = Some(path(p, "check_path")?);
        }
        if let Some(p) = m.get("verdict_path").filter(|p| !p.is_null()) {
            c.routes.verdict_path = Some(path(p, "verdict_path")?);
        }
        if let Some(l) = m.get("lookup") {
            c.lookup = lookup(l)?;
        }
        if let Some(h) = m.get("hold_headers") {
            let Value::Bool(b) = h else {
                return bad(format!("hold_headers: {} is not true or false", show(h)));
            };
            c.hold_headers = *b;
        }
        if let Some(s) = m.get("stall") {
            c.stall = stall(s)?;
        }
        if let Some(s) = m.get("block_warn_score") {
            c.block_warn_score = match s {
                Value::Null => None,
                Value::Number(n) if n.as_f64().is_some_and(|f| (0.0..=1.0).contains(&f)) => {
                    n.as_f64()
                }
                _ => {
                    return bad(format!(
                        "block_warn_score: {} is not a number from 0 to 1, or null",
                        show(s)
                    ))
                }
            };
        }
        if c.routes.check_path.is_some() && c.routes.check_path == c.routes.verdict_path {
            return bad("verdict_path: the same path as check_path");
        }
        if c.sender_header.is_some()
            && c.sender_header.as_deref() == Some(c.confirm.header.as_str())
        {
            return bad("sender_header: the same header as confirm.header");
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(json: &str) -> String {
        Config::parse(json.as_bytes()).unwrap_err().0
    }

    #[test]
    fn empty_configuration_is_the_default() {
        for empty in ["", "  \n", "{}"] {
            let c = Config::parse(empty.as_bytes()).unwrap();
            assert_eq!(c.mode, Mode::Block);
            assert!(c.policy.is_none());
            assert_eq!(c.max_body_bytes, 35 * 1024 * 1024);
            assert_eq!(c.confirm.header, "x-mistype-confirm");
            assert_eq!(c.confirm.secret, None);
            assert_eq!(c.routes, Routes::default());
            assert_eq!(c.routes.apis.len(), 7);
        }
    }

    #[test]
    fn lookup_hold_and_warn_score() {
        let c = Config::default();
        assert_eq!(c.lookup.cluster, "webmail");
        assert_eq!(c.lookup.timeout_ms, 5000);
        assert_eq!(c.lookup.on_failure, OnFailure::Block);
        assert_eq!(c.lookup.forward_headers, vec!["authorization", "cookie"]);
        assert!(c.hold_headers);
        assert_eq!(c.block_warn_score, Some(0.65));
        let c = Config::parse(
            br#"{"lookup": {"cluster": "mail", "timeout_ms": 250, "on_failure": "pass",
                 "forward_headers": ["Authorization", "X-Session"]},
                 "hold_headers": false, "block_warn_score": null}"#,
        )
        .unwrap();
        assert_eq!(c.lookup.cluster, "mail");
        assert_eq!(c.lookup.timeout_ms, 250);
        assert_eq!(c.lookup.on_failure, OnFailure::Pass);
        assert_eq!(c.lookup.forward_headers, vec!["authorization", "x-session"]);
        assert!(!c.hold_headers);
        assert_eq!(c.block_warn_score, None);
        assert_eq!(
            error(r#"{"lookup": {"on_failure": "allow"}}"#),
            "lookup.on_failure: \"allow\" is not one of block, pass"
        );
        assert_eq!(
            error(r#"{"lookup": {"timeout": 5}}"#),
            "lookup.timeout: unknown key (known keys: cluster, timeout_ms, on_failure, forward_headers)"
        );
        assert_eq!(
            error(r#"{"lookup": {"timeout_ms": 0}}"#),
            "lookup.timeout_ms: 0 is not a whole number from 1 to 60000"
        );
        assert_eq!(
            error(r#"{"lookup": {"forward_headers": [":path"]}}"#),
            "lookup.forward_headers[0]: \":path\" is not an HTTP header name"
        );
        assert_eq!(
            error(r#"{"hold_headers": "yes"}"#),
            "hold_headers: \"yes\" is not true or false"
        );
        assert_eq!(
            error(r#"{"block_warn_score": 2}"#),
            "block_warn_score: 2 is not a number from 0 to 1, or null"
        );
    }

    #[test]
    fn stall_timeout_and_action() {
        let c = Config::default();
        assert_eq!(c.stall.timeout_ms, 10_000);
        assert_eq!(c.stall.action, OnStall::Refuse);
        assert_eq!(c.stall.tick_ms(), 500);
        let c = Config::parse(br#"{"stall": {"timeout_ms": 200, "action": "continue"}}"#).unwrap();
        assert_eq!(c.stall.timeout_ms, 200);
        assert_eq!(c.stall.action, OnStall::Continue);
        assert_eq!(c.stall.tick_ms(), 200);
        assert_eq!(
            error(r#"{"stall": {"action": "pass"}}"#),
            "stall.action: \"pass\" is not one of refuse, continue"
        );
        assert_eq!(
            error(r#"{"stall": {"timeout_ms": 0}}"#),
            "stall.timeout_ms: 0 is not a whole number from 1 to 300000"
        );
        assert_eq!(
            error(r#"{"stall": {"timeout": 5}}"#),
            "stall.timeout: unknown key (known keys: timeout_ms, action)"
        );
        assert_eq!(error(r#"{"stall": 5}"#), "stall: 5 is not an object");
    }

    #[test]
    fn full_configuration() {
        let c = Config::parse(
            br#"{"policy": {"protected": ["*.mil"], "rules": [{"from": "*.mil", "to": "*.ml", "severity": "block"}]},
                 "mode": "warn", "max_body_bytes": 1024,
                 "confirm": {"header": "X-Confirm", "secret": "0123456789abcdef0123", "ttl_seconds": 60},
                 "sender_header": "X-Auth-User",
                 "apis": ["jmap", {"api": "graph", "prefix": "/graph/v1.0"}, {"api": "sogo", "prefix": ["/a/", "/b/"]}],
                 "check_path": "/c", "verdict_path": "/v"}"#,
        )
        .unwrap();
        assert_eq!(c.mode, Mode::Warn);
        assert!(c.policy.is_some());
        assert_eq!(c.max_body_bytes, 1024);
        assert_eq!(c.confirm.header, "x-confirm");
        assert_eq!(
            c.confirm.secret.as_deref(),
            Some(&b"0123456789abcdef0123"[..])
        );
        assert_eq!(c.confirm.ttl_seconds, 60);
        assert_eq!(c.sender_header.as_deref(), Some("x-auth-user"));
        assert_eq!(
            c.routes.apis,
            vec![
                (Api::Jmap, vec!["/jmap".to_string()]),
                (Api::Graph, vec!["/graph/v1.0".to_string()]),
                (Api::Sogo, vec!["/a/".to_string(), "/b/".to_string()]),
            ]
        );
        assert!(c
            .routes
            .classify("POST", "/graph/v1.0/me/sendMail", None)
            .is_some());
        assert!(c
            .routes
            .classify("POST", "/v1.0/me/sendMail", None)
            .is_none());
        assert_eq!(c.routes.check_path.as_deref(), Some("/c"));
        assert_eq!(c.routes.verdict_path.as_deref(), Some("/v"));
        let none = Config::parse(br#"{"apis": []}"#).unwrap();
        assert!(none.routes.classify("POST", "/jmap", None).is_none());
    }

    #[test]
    fn errors_name_the_key() {
        assert_eq!(
            error(r#"{"mode": "blok"}"#),
            "mode: \"blok\" is not one of block, warn, monitor"
        );
        assert!(error(r#"{"mdoe": "block"}"#).starts_with("mdoe: unknown key"));
        assert!(error(r#"{"max_body_bytes": 0}"#).starts_with("max_body_bytes: 0 is not"));
        assert!(error(r#"{"max_body_bytes": "4M"}"#).starts_with("max_body_bytes: \"4M\""));
        assert!(error(r#"{"confirm": {"secret": "short"}}"#).starts_with("confirm.secret:"));
        assert!(error(r#"{"confirm": {"ttl": 5}}"#).starts_with("confirm.ttl: unknown key"));
        assert!(error(r#"{"confirm": {"ttl_seconds": -1}}"#).starts_with("confirm.ttl_seconds:"));
        assert!(error(r#"{"confirm": {"header": "x confirm"}}"#).starts_with("confirm.header:"));
        assert!(error(r#"{"confirm": true}"#).starts_with("confirm:"));
        assert!(error(r#"{"sender_header": 5}"#).starts_with("sender_header:"));
        assert!(error(r#"{"apis": ["outlook"]}"#)
            .starts_with("apis[0]: \"outlook\" is not one of jmap, graph"));
        assert!(error(r#"{"apis": ["check"]}"#).starts_with("apis[0]:"));
        assert!(error(r#"{"apis": ["jmap", "jmap"]}"#).contains("twice"));
        assert!(error(r#"{"apis": [{"api": "jmap", "path": "/x"}]}"#)
            .starts_with("apis[0].path: unknown key"));
        assert!(
            error(r#"{"apis": [{"api": "jmap", "prefix": "x"}]}"#).starts_with("apis[0].prefix:")
        );
        assert!(error(r#"{"apis": "jmap"}"#).starts_with("apis:"));
        assert!(error(r#"{"check_path": "check"}"#).starts_with("check_path:"));
        assert!(error(r#"{"check_path": "/x", "verdict_path": "/x"}"#).starts_with("verdict_path:"));
        assert!(error(r#"[1]"#).contains("JSON object"));
        assert!(error(r#"{"mode":"#).contains("not valid JSON"));
        assert!(Config::parse(b"\xff").is_err());
    }

    #[test]
    fn policy_errors_pass_through_from_the_core() {
        let e = error(r#"{"policy": {"protected": 5}}"#);
        assert!(e.starts_with("policy: "), "{e}");
        assert!(e.contains("protected"), "{e}");
        let e = error(r#"{"policy": "strict"}"#);
        assert!(e.starts_with("policy: "), "{e}");
    }

    #[test]
    fn the_secret_is_not_printed() {
        let c =
            Config::parse(br#"{"confirm": {"secret": "0123456789abcdef-very-secret"}}"#).unwrap();
        assert!(!format!("{c:?}").contains("very-secret"));
    }

    /// The JSON of the first `value: |` block of YAML in `text`.
    fn plugin_json(text: &str, what: &str) -> serde_json::Value {
        let lines: Vec<&str> = text.lines().collect();
        let start = lines
            .iter()
            .position(|l| l.trim() == "value: |")
            .unwrap_or_else(|| panic!("{what}: no `value: |` block"));
        let indent = lines[start].len() - lines[start].trim_start().len();
        let block: Vec<&str> = lines[start + 1..]
            .iter()
            .take_while(|l| l.len() - l.trim_start().len() > indent && !l.trim().is_empty())
            .copied()
            .collect();
        serde_json::from_str(&block.join("\n"))
            .unwrap_or_else(|e| panic!("{what}: the plugin configuration is not JSON: {e}"))
    }

    /// Every key `part` states has the value `whole` gives it (objects compared key by key; a
    /// secret is a placeholder in the documents).
    fn agrees(part: &serde_json::Value, whole: &serde_json::Value, at: &str) -> Vec<String> {
        let mut wrong = Vec::new();
        match (part.as_object(), whole.as_object()) {
            (Some(p), Some(w)) => {
                for (k, v) in p {
                    let here = format!("{at}.{k}");
                    match w.get(k) {
                        None => wrong.push(format!("{here} is not in filter/envoy.yaml")),
                        Some(_) if k == "secret" => {}
                        Some(x) => wrong.extend(agrees(v, x, &here)),
                    }
                }
            }
            _ if part != whole => {
                wrong.push(format!("{at}: {part} where filter/envoy.yaml has {whole}"))
            }
            _ => {}
        }
        wrong
    }

    #[test]
    fn the_readme_snippet_is_the_shipped_configuration() {
        let shipped = plugin_json(include_str!("../envoy.yaml"), "filter/envoy.yaml");
        let readme = include_str!("../../README.md");
        let snippet = &readme[readme.find("## In Envoy").expect("README: ## In Envoy")..];
        let documented = plugin_json(snippet, "README.md");
        assert_eq!(agrees(&documented, &shipped, "value"), Vec::<String>::new());
        // The filter settings around it, as shipped.
        for setting in [
            "failure_policy: FAIL_CLOSED",
            "allow_on_headers_stop_iteration: true",
            "runtime: envoy.wasm.runtime.v8",
            "filename: target/wasm32-wasip1/wasm/mistype_filter.wasm",
        ] {
            assert!(snippet.contains(setting), "README.md: {setting}");
            assert!(
                include_str!("../envoy.yaml").contains(setting),
                "envoy.yaml: {setting}"
            );
        }
        // What docs/envoy.md shows of the same keys agrees too (it adds a sender_header).
        let mut docs = plugin_json(include_str!("../../docs/envoy.md"), "docs/envoy.md");
        if let Some(o) = docs.as_object_mut() {
            o.remove("sender_header");
        }
        assert_eq!(agrees(&docs, &shipped, "value"), Vec::<String>::new());
        // And neither refuses ordinary mail: at least 35 MiB, the largest common provider limit.
        for (what, v) in [("README.md", &documented), ("filter/envoy.yaml", &shipped)] {
            let c =
                Config::parse(v.to_string().as_bytes()).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(
                c.max_body_bytes >= 35 * 1024 * 1024,
                "{what}: {}",
                c.max_body_bytes
            );
        }
    }
}
