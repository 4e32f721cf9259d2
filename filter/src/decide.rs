//! What to do with a request once it has been looked at: pure, so every branch is unit-tested.
//!
//! | situation | block mode | warn mode | monitor mode |
//! |---|---|---|---|
//! | verdict `allow`, or no recipients | pass | pass | pass |
//! | verdict `warn` | pass + headers | pass + headers | pass |
//! | verdict `warn`, a finding scored ≥ `block_warn_score` | refused (`422`) + confirm token | pass + headers | pass |
//! | verdict `block` | refused (`422`) + verdict (+ confirm token) | pass + headers | pass |
//! | refused verdict + valid token | pass + headers (`x-mistype-verdict: confirmed`) | (as above) | (as above) |
//! | body above `max_body_bytes` | `413` | pass | pass |
//! | recognised send that cannot be parsed | `400` | pass | pass |
//! | recognised send with a compressed body (`content-encoding`) | `415` + `accept-encoding: identity` | pass | pass |
//! | stored message not looked up, `lookup.on_failure` `block` | `503` | pass | pass |
//! | stored message not looked up, `lookup.on_failure` `pass` | pass | pass | pass |
//! | held send got no body ([`crate::stall`]), `stall.action` `refuse` | `503` | continue | continue |
//! | held send got no body, `stall.action` `continue` | continue | continue | continue |
//!
//! "continue" lets a stalled send's headers go on; its body is judged when it comes (as with
//! `hold_headers: false`).
//!
//! "headers" are `x-mistype-verdict` and `x-mistype-findings` on the response. Which findings
//! refuse a send is decided here ([`refused`]); the reply is worded by [`crate::reply`], in the
//! API's own dialect. Every case counts (see [`crate::metrics`]) and the non-trivial ones log.

use crate::config::{Config, Mode, OnFailure, OnStall};
use crate::metrics::Counter;
use crate::reply::{self, Action, Code, Refusal};
use crate::send::{Api, ExtractError, LookupError, Send};
use crate::stall::Stall;
use crate::token::{Binding, Signer};
use mistype::{Finding, Severity, Verdict};
use serde_json::{json, Value};

/// Log severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Routine.
    Debug,
    /// A decision worth keeping.
    Info,
    /// Something the operator should look at.
    Warn,
    /// Something the operator must fix.
    Error,
}

/// The decision: action, counters to increment (each overall and for the API), a log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The API the counters belong to.
    pub api: Api,
    /// What to do.
    pub action: Action,
    /// Counters to increment by one.
    pub counters: Vec<Counter>,
    /// A log line.
    pub log: Option<(Level, String)>,
}

impl Decision {
    fn pass(api: Api, counters: Vec<Counter>) -> Decision {
        Decision {
            api,
            action: Action::Continue {
                response_headers: Vec::new(),
            },
            counters,
            log: None,
        }
    }

    /// A local reply in `api`'s dialect (not a judged send), logged as a warning.
    fn refuse(api: Api, r: Refusal, counters: Vec<Counter>, log: String) -> Decision {
        Decision {
            api,
            action: reply::refuse(api, &[], r),
            counters,
            log: Some((Level::Warn, log)),
        }
    }

    fn log(mut self, level: Level, message: String) -> Decision {
        self.log = Some((level, message));
        self
    }

    /// The reply status, if the request is answered locally.
    pub fn status(&self) -> Option<u32> {
        match &self.action {
            Action::Reply { status, .. } => Some(*status),
            Action::Continue { .. } => None,
        }
    }
}

fn summary(verdict: &Verdict) -> String {
    let parts: Vec<String> = verdict
        .findings
        .iter()
        .map(|f| match &f.suggestion {
            Some(s) => format!("{} -> {} ({})", f.address, s, f.kind.as_str()),
            None => format!("{} ({})", f.address, f.kind.as_str()),
        })
        .collect();
    parts.join(", ")
}

/// A recognised send above `max_body_bytes`.
pub fn too_large(config: &Config, api: Api, size: usize) -> Decision {
    let counters = vec![Counter::Inspected, Counter::BodyTooLarge];
    let message = format!(
        "the request body is {size} bytes or more; this filter inspects at most {} bytes",
        config.max_body_bytes
    );
    match config.mode {
        Mode::Block => {
            let mut r = Refusal::unjudged(413, Code::TooLarge, message.clone(), api);
            r.details
                .insert("max_body_bytes".into(), json!(config.max_body_bytes));
            Decision::refuse(
                api,
                r,
                counters,
                format!("{} send refused: {message}", api.name()),
            )
        }
        _ => Decision::pass(api, counters).log(
            Level::Warn,
            format!("{} send passed uninspected: {message}", api.name()),
        ),
    }
}

/// A recognised send that cannot be parsed.
pub fn parse_error(config: &Config, e: &ExtractError) -> Decision {
    let counters = vec![Counter::Inspected, Counter::ParseErrors];
    match config.mode {
        Mode::Block => Decision::refuse(
            e.api,
            Refusal::unjudged(
                400,
                Code::Unparseable,
                format!("Not sent: the filter cannot read this send: {}", e.message),
                e.api,
            ),
            counters,
            format!("unparseable send refused: {e}"),
        ),
        _ => Decision::pass(e.api, counters).log(
            Level::Warn,
            format!("unparseable send passed uninspected: {e}"),
        ),
    }
}

/// The decompressor filter that decodes a compressed send before this filter reads it, as the
/// operator finds it in Envoy's documentation.
pub const DECOMPRESSOR_FILTER: &str = "envoy.filters.http.decompressor";

/// A recognised send whose body is compressed with `coding` (its `content-encoding`), which no
/// filter before this one decoded: the filter reads only what it can judge. Refused with `415`
/// and `accept-encoding: identity` (RFC 9110, 15.5.16), on which clients that compress their
/// requests (Microsoft's Kiota-based SDKs) send them again uncompressed; passed unjudged outside
/// block mode, as a send that cannot be parsed is.
pub fn encoded(config: &Config, api: Api, coding: &str) -> Decision {
    let counters = vec![Counter::Inspected, Counter::ParseErrors];
    let why = format!(
        "its body is compressed (content-encoding {coding}), and the filter reads only \
         uncompressed sends: put Envoy's {DECOMPRESSOR_FILTER} (gzip) before the filter, as \
         filter/envoy.yaml does, to judge such sends"
    );
    match config.mode {
        Mode::Block => {
            let mut r = Refusal::unjudged(
                415,
                Code::Encoded,
                format!(
                    "Not sent: the filter cannot read a send compressed with {coding}. \
                     Send it again uncompressed."
                ),
                api,
            );
            r.details
                .insert("content_encoding".into(), Value::String(coding.into()));
            let mut d = Decision::refuse(
                api,
                r,
                counters,
                format!("{} send refused: {why}", api.name()),
            );
            if let Action::Reply { headers, .. } = &mut d.action {
                headers.push(("accept-encoding".into(), "identity".into()));
            }
            d
        }
        _ => Decision::pass(api, counters).log(
            Level::Warn,
            format!("{} send passed uninspected: {why}", api.name()),
        ),
    }
}

/// A send by reference whose stored message (or rule: `forwarding`, then it is not saved) could
/// not be looked up.
pub fn lookup_failed(
    config: &Config,
    api: Api,
    what: &str,
    e: &LookupError,
    forwarding: bool,
) -> Decision {
    let counters = vec![Counter::Inspected, Counter::LookupFailed];
    let refuse = config.mode == Mode::Block && config.lookup.on_failure == OnFailure::Block;
    if !refuse {
        return Decision::pass(api, counters).log(
            Level::Warn,
            format!(
                "{} send passed unjudged: looking up {what} failed ({}): {e}",
                api.name(),
                e.reason()
            ),
        );
    }
    let mut r = Refusal::unjudged(
        503,
        Code::LookupFailed,
        format!(
            "{}: the recipients of {what} could not be checked ({e}). Try again in a moment.",
            if forwarding { "Not saved" } else { "Not sent" }
        ),
        api,
    );
    r.details
        .insert("reason".into(), Value::String(e.reason().into()));
    Decision::refuse(
        api,
        r,
        counters,
        format!(
            "{} send refused: looking up {what} failed ({}): {e}",
            api.name(),
            e.reason()
        ),
    )
}

/// The Envoy setting a held send needs, as the operator writes it.
pub const STOP_ITERATION_KNOB: &str = "allow_on_headers_stop_iteration";

/// A held send that got no body ([`crate::stall`]): refused (`503`, naming the setting) or
/// continued by `stall.action`, always counted and logged as one error line.
pub fn stalled(config: &Config, api: Api, stall: Stall) -> Decision {
    let refuse = config.mode == Mode::Block && config.stall.action == OnStall::Refuse;
    let fix = format!(
        "set {STOP_ITERATION_KNOB}: true on the Wasm filter (Envoy 1.35 or later), or \
         hold_headers: false in the plugin configuration where that cannot be set (Istio's \
         WasmPlugin)"
    );
    let what = match stall {
        Stall::Undelivered { bytes, held_ms } => format!(
            "Envoy has {bytes} bytes of its body and gave the filter none in {held_ms} ms: \
             Envoy stops the whole stream on the filter's held headers (hold_headers: true \
             needs {STOP_ITERATION_KNOB}: true); {fix}"
        ),
        Stall::Silent { held_ms } => format!(
            "no body came to the filter in {held_ms} ms after its headers were held \
             (stall.timeout_ms {}): the client stopped sending, or Envoy stops the stream on \
             held headers; if so, {fix}",
            config.stall.timeout_ms
        ),
    };
    let answer = if refuse {
        "answered 503 (stall.action: refuse)".to_string()
    } else if config.mode == Mode::Block {
        "its headers went on and its body is judged when it comes (stall.action: continue)"
            .to_string()
    } else {
        format!(
            "its headers went on and its body is judged when it comes ({} mode)",
            config.mode.name()
        )
    };
    let log = format!("{} send stalled: {what}; {answer}", api.name());
    if !refuse {
        return Decision::pass(api, vec![Counter::Stalled]).log(Level::Error, log);
    }
    let message = match stall {
        Stall::Undelivered { .. } => format!(
            "Not sent: the proxy in front of the mail server stopped this send before its \
             recipients could be checked (Envoy's {STOP_ITERATION_KNOB} is off). Nothing was \
             sent; tell your administrator."
        ),
        Stall::Silent { held_ms } => format!(
            "Not sent: no message body arrived in {} seconds, so its recipients could not be \
             checked (if this happens to every send, Envoy's {STOP_ITERATION_KNOB} is off). \
             Nothing was sent; try again.",
            held_ms / 1000
        ),
    };
    let mut r = Refusal::unjudged(503, Code::Stalled, message, api);
    r.details
        .insert("reason".into(), Value::String(stall.reason().into()));
    r.details
        .insert("setting".into(), Value::String(STOP_ITERATION_KNOB.into()));
    r.details.insert("fix".into(), Value::String(fix));
    Decision {
        api,
        action: reply::refuse(api, &[], r),
        counters: vec![Counter::Inspected, Counter::Stalled],
        log: Some((Level::Error, log)),
    }
}

/// The inputs of a judged send.
#[derive(Clone, Copy, Debug)]
pub struct Judged<'a> {
    /// The send.
    pub send: &'a Send,
    /// The effective sender (header, else the message's).
    pub sender: Option<&'a str>,
    /// The core's verdict.
    pub verdict: &'a Verdict,
    /// The confirm token presented with the request, if any.
    pub token: Option<&'a str>,
    /// Now, from the host; read only when a confirm token is checked or issued.
    pub now: Now<'a>,
}

/// The time a decision may need, Unix seconds. Only a confirm token (checked or issued) needs it,
/// and the host's clock is a call out of the VM, so a clock is read only then.
#[derive(Clone, Copy)]
pub enum Now<'a> {
    /// A known time.
    At(u64),
    /// A clock, read when the time is needed.
    Clock(&'a dyn Fn() -> u64),
}

impl Now<'_> {
    /// The time, Unix seconds.
    pub fn seconds(self) -> u64 {
        match self {
            Now::At(s) => s,
            Now::Clock(read) => read(),
        }
    }
}

impl Default for Now<'_> {
    fn default() -> Self {
        Now::At(0)
    }
}

impl std::fmt::Debug for Now<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Now::At(s) => write!(f, "At({s})"),
            Now::Clock(_) => f.write_str("Clock"),
        }
    }
}

/// A send the core has judged.
pub fn judged(config: &Config, signer: Option<&Signer>, j: Judged) -> Decision {
    let api = j.send.api;
    if j.send.has_no_recipients() {
        return Decision::pass(api, vec![Counter::Inspected, Counter::NoRecipients]).log(
            Level::Debug,
            format!("{} send names no recipients", api.name()),
        );
    }
    let headers = || reply::verdict_headers(j.verdict);
    let with_headers = |counters: Vec<Counter>| Decision {
        api,
        action: Action::Continue {
            response_headers: headers(),
        },
        counters,
        log: None,
    };
    match (j.verdict.verdict, config.mode) {
        (Severity::Allow, _) => Decision::pass(api, vec![Counter::Inspected, Counter::Allowed]),
        (Severity::Warn, Mode::Monitor) | (Severity::Block, Mode::Monitor) => {
            let c = if j.verdict.verdict == Severity::Warn {
                Counter::Warned
            } else {
                Counter::Blocked
            };
            Decision::pass(api, vec![Counter::Inspected, c]).log(
                Level::Info,
                format!(
                    "monitor: {} send would be {}: {}",
                    api.name(),
                    if c == Counter::Warned {
                        "warned"
                    } else {
                        "blocked"
                    },
                    summary(j.verdict)
                ),
            )
        }
        (Severity::Warn, Mode::Block) if escalated(config, j.verdict) => block(config, signer, j),
        (Severity::Warn, _) => with_headers(vec![Counter::Inspected, Counter::Warned]).log(
            Level::Info,
            format!("warned {} send: {}", api.name(), summary(j.verdict)),
        ),
        (Severity::Block, Mode::Warn) => with_headers(vec![Counter::Inspected, Counter::Blocked])
            .log(
                Level::Info,
                format!(
                    "warn mode: passed a {} send with a block verdict: {}",
                    api.name(),
                    summary(j.verdict)
                ),
            ),
        (Severity::Block, Mode::Block) => block(config, signer, j),
    }
}

/// True when a `warn` verdict has a finding sure enough to refuse the send in block mode
/// (`block_warn_score`): a certain provider typo (`gmial.com`) must not pass silently.
fn escalated(config: &Config, verdict: &Verdict) -> bool {
    verdict
        .findings
        .iter()
        .any(|f| refuses(f, config.block_warn_score))
}

/// True for a finding that refuses a send in block mode: a `block` finding, or one scored at
/// least `escalate_from` (`block_warn_score`).
pub fn refuses(f: &Finding, escalate_from: Option<f64>) -> bool {
    f.severity == Severity::Block || escalate_from.is_some_and(|min| f.score >= min)
}

/// The findings that refuse a send, in the verdict's order (see [`refuses`]): what every reply to
/// a blocked send names, whatever its wording.
pub fn refused(verdict: &Verdict, escalate_from: Option<f64>) -> Vec<&Finding> {
    verdict
        .findings
        .iter()
        .filter(|f| refuses(f, escalate_from))
        .collect()
}

fn block(config: &Config, signer: Option<&Signer>, j: Judged) -> Decision {
    let api = j.send.api;
    let binding = Binding::new(j.sender, j.send.recipients());
    let mut counters = vec![Counter::Inspected];
    let mut confirm_error: Option<Value> = None;
    if let Some(token) = j.token {
        let result = match signer {
            Some(s) => s
                .verify(token, &binding, j.now.seconds())
                .map_err(|e| (e.as_str(), e.message())),
            None => Err(("disabled", "confirmation is not enabled on this filter")),
        };
        match result {
            Ok(()) => {
                counters.push(Counter::Confirmed);
                return Decision {
                    api,
                    action: Action::Continue {
                        response_headers: reply::confirmed_headers(j.verdict),
                    },
                    counters,
                    log: Some((
                        Level::Info,
                        format!(
                            "confirmed {} send let through: {}",
                            api.name(),
                            summary(j.verdict)
                        ),
                    )),
                };
            }
            Err((reason, message)) => {
                counters.push(Counter::ConfirmRejected);
                confirm_error = Some(json!({"reason": reason, "message": message}));
            }
        }
    }
    counters.push(Counter::Blocked);
    let mut details = match serde_json::to_value(j.verdict) {
        Ok(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    if let Some(s) = signer {
        let expires_at = j.now.seconds().saturating_add(config.confirm.ttl_seconds);
        details.insert(
            "confirm".into(),
            json!({"header": config.confirm.header, "token": s.issue(&binding, expires_at),
                   "expires_at": expires_at}),
        );
    }
    let rejected = confirm_error.is_some();
    if let Some(e) = confirm_error {
        details.insert("confirm_error".into(), e);
    }
    let escalate_from = (j.verdict.verdict == Severity::Warn)
        .then_some(config.block_warn_score)
        .flatten();
    Decision {
        api,
        action: reply::blocked(
            j.send,
            details,
            &refused(j.verdict, escalate_from),
            signer.is_some(),
        ),
        counters,
        log: Some((
            Level::Info,
            format!(
                "blocked {} send{}: {}",
                api.name(),
                if rejected {
                    " (confirm token refused)"
                } else {
                    ""
                },
                summary(j.verdict)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mistype::{Finding, Kind};

    const NOW: u64 = 1_767_225_600;

    fn config(mode: &str, secret: bool) -> Config {
        let secret = if secret {
            r#", "confirm": {"secret": "0123456789abcdef", "ttl_seconds": 300}"#
        } else {
            ""
        };
        Config::parse(format!(r#"{{"mode": "{mode}"{secret}}}"#).as_bytes()).unwrap()
    }

    fn signer() -> Signer {
        Signer::new(b"0123456789abcdef").unwrap()
    }

    fn verdict(sev: Severity) -> Verdict {
        scored(sev, 0.97)
    }

    fn scored(sev: Severity, score: f64) -> Verdict {
        let mut v = Verdict::empty(Value::Null);
        v.verdict = sev;
        if sev != Severity::Allow {
            v.findings.push(Finding {
                recipient: "Lt J <j.smith@navy.ml>".into(),
                address: "j.smith@navy.ml".into(),
                domain: "navy.ml".into(),
                kind: Kind::SuffixTypo,
                severity: sev,
                suggestion: Some("j.smith@navy.mil".into()),
                intended: Some("navy.mil".into()),
                score,
                reason: "navy.ml is in Mali (.ml)".into(),
            });
        }
        v
    }

    fn send() -> Send {
        let mut s = Send::new(Api::Sogo);
        s.to = vec!["Lt J <j.smith@navy.ml>".into()];
        s
    }

    fn judge(c: &Config, sev: Severity, token: Option<&str>, now: u64) -> Decision {
        let s = send();
        let v = verdict(sev);
        let signer = c.confirm.secret.as_ref().map(|_| signer());
        judged(
            c,
            signer.as_ref(),
            Judged {
                send: &s,
                sender: Some("a.b@army.mil"),
                verdict: &v,
                token,
                now: Now::At(now),
            },
        )
    }

    fn body(d: &Decision) -> Value {
        match &d.action {
            Action::Reply { body, headers, .. } => {
                assert!(headers
                    .iter()
                    .any(|(k, v)| k == "content-type" && v.ends_with("json")));
                serde_json::from_slice(body).unwrap()
            }
            Action::Continue { .. } => panic!("not a reply: {d:?}"),
        }
    }

    fn response_headers(d: &Decision) -> Vec<(String, String)> {
        match &d.action {
            Action::Continue { response_headers } => response_headers.clone(),
            Action::Reply { .. } => panic!("not a pass: {d:?}"),
        }
    }

    #[test]
    fn the_clock_is_read_only_for_a_confirm_token() {
        let c = config("block", true);
        let reads = std::cell::Cell::new(0);
        let clock = || {
            reads.set(reads.get() + 1);
            NOW
        };
        let s = send();
        let run = |sev: Severity, token: Option<&str>| {
            let v = verdict(sev);
            let sig = signer();
            judged(
                &c,
                Some(&sig),
                Judged {
                    send: &s,
                    sender: Some("a.b@army.mil"),
                    verdict: &v,
                    token,
                    now: Now::Clock(&clock),
                },
            )
        };
        let d = run(Severity::Allow, None);
        assert_eq!(d.status(), None);
        assert_eq!(reads.get(), 0, "an allowed send needs no time");
        let d = run(Severity::Block, None);
        assert_eq!(body(&d)["confirm"]["expires_at"], NOW + 300);
        assert_eq!(reads.get(), 1, "a token issued reads the clock once");
        let token = body(&d)["confirm"]["token"].as_str().unwrap().to_string();
        let d = run(Severity::Block, Some(&token));
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::Confirmed]);
        assert_eq!(reads.get(), 2, "a token checked reads the clock once");
    }

    #[test]
    fn block_mode_blocks_with_a_token() {
        let c = config("block", true);
        let d = judge(&c, Severity::Block, None, NOW);
        assert_eq!(d.status(), Some(422));
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::Blocked]);
        let b = body(&d);
        assert_eq!(b["verdict"], "block");
        assert_eq!(b["findings"][0]["suggestion"], "j.smith@navy.mil");
        assert_eq!(b["confirm"]["header"], "x-mistype-confirm");
        assert_eq!(b["confirm"]["expires_at"], NOW + 300);
        let token = b["confirm"]["token"].as_str().unwrap().to_string();
        // The resend with the token passes, saying it was confirmed (never `block`, which
        // clients read as a refusal), with the findings.
        let d = judge(&c, Severity::Block, Some(&token), NOW + 10);
        assert_eq!(d.status(), None);
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::Confirmed]);
        let h = response_headers(&d);
        assert_eq!(h[0], (reply::VERDICT_HEADER.into(), "confirmed".into()));
        assert_eq!(h[1].0, reply::FINDINGS_HEADER);
        assert!(h[1].1.contains("j.smith@navy.mil"), "{h:?}");
        // After expiry it is refused with the reason, and a fresh token is offered.
        let d = judge(&c, Severity::Block, Some(&token), NOW + 301);
        assert_eq!(d.status(), Some(422));
        assert_eq!(
            d.counters,
            vec![
                Counter::Inspected,
                Counter::ConfirmRejected,
                Counter::Blocked
            ]
        );
        let b = body(&d);
        assert_eq!(b["confirm_error"]["reason"], "expired");
        assert_ne!(b["confirm"]["token"].as_str().unwrap(), token);
    }

    #[test]
    fn refused_tokens_say_why() {
        let c = config("block", true);
        let d = judge(&c, Severity::Block, Some("garbage"), NOW);
        assert_eq!(body(&d)["confirm_error"]["reason"], "malformed");
        let other = Signer::new(b"some-other-secret!!").unwrap();
        let t = other.issue(
            &Binding::new(Some("a.b@army.mil"), ["j.smith@navy.ml"]),
            NOW + 60,
        );
        let d = judge(&c, Severity::Block, Some(&t), NOW);
        assert_eq!(body(&d)["confirm_error"]["reason"], "forged");
        let t = signer().issue(&Binding::new(Some("a.b@army.mil"), ["x@navy.ml"]), NOW + 60);
        let d = judge(&c, Severity::Block, Some(&t), NOW);
        assert_eq!(body(&d)["confirm_error"]["reason"], "altered-recipients");
    }

    #[test]
    fn without_a_secret_there_is_no_token() {
        let c = config("block", false);
        let d = judge(&c, Severity::Block, None, NOW);
        let b = body(&d);
        assert!(b.get("confirm").is_none());
        let d = judge(&c, Severity::Block, Some("anything"), NOW);
        assert_eq!(body(&d)["confirm_error"]["reason"], "disabled");
    }

    #[test]
    fn warn_and_monitor_modes_pass() {
        let c = config("warn", true);
        let d = judge(&c, Severity::Block, None, NOW);
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::Blocked]);
        let h = response_headers(&d);
        assert_eq!(h[0], ("x-mistype-verdict".into(), "block".into()));
        assert_eq!(h[1].0, "x-mistype-findings");
        let f: Value = serde_json::from_str(&h[1].1).unwrap();
        assert_eq!(f[0]["suggestion"], "j.smith@navy.mil");
        assert_eq!(f[0]["kind"], "suffix-typo");

        let c = config("monitor", false);
        let d = judge(&c, Severity::Block, None, NOW);
        assert!(response_headers(&d).is_empty());
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::Blocked]);
        assert!(d.log.unwrap().1.contains("would be blocked"));
        let d = judge(&c, Severity::Warn, None, NOW);
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::Warned]);
    }

    #[test]
    fn warn_verdicts_pass_with_headers_in_block_mode() {
        let c = config("block", true);
        let s = send();
        let v = scored(Severity::Warn, 0.59);
        let signer = signer();
        let warn = |score: f64, c: &Config| {
            let v = scored(Severity::Warn, score);
            judged(
                c,
                Some(&signer),
                Judged {
                    send: &s,
                    sender: None,
                    verdict: &v,
                    token: None,
                    now: Now::At(NOW),
                },
            )
        };
        let d = warn(v.findings[0].score, &c);
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::Warned]);
        assert_eq!(response_headers(&d)[0].1, "warn");
        let d = judge(&c, Severity::Allow, None, NOW);
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::Allowed]);
        assert!(response_headers(&d).is_empty());
        // A warn finding scored at block_warn_score or more is refused, confirmably.
        let d = warn(0.9, &c);
        assert_eq!(d.status(), Some(422));
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::Blocked]);
        let b = body(&d);
        assert!(b["confirm"]["token"].is_string());
        assert!(b["message"].as_str().unwrap().contains("j.smith@navy.mil"));
        // Not with the setting off, nor in warn mode.
        let mut off = config("block", true);
        off.block_warn_score = None;
        assert_eq!(warn(0.99, &off).status(), None);
        assert_eq!(warn(0.99, &config("warn", true)).status(), None);
    }

    #[test]
    fn failed_lookups_refuse_or_pass_as_configured() {
        let e = LookupError::NoAnswer;
        let d = lookup_failed(
            &config("block", false),
            Api::Graph,
            "Graph message D1",
            &e,
            false,
        );
        assert_eq!(d.status(), Some(503));
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::LookupFailed]);
        let b = body(&d);
        assert_eq!(b["error"]["code"], "lookup_failed");
        assert!(b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Graph message D1"));
        assert_eq!(b["mistype"]["reason"], "no_answer");
        assert!(d.log.unwrap().1.contains("refused"));
        let mut pass = config("block", false);
        pass.lookup.on_failure = OnFailure::Pass;
        let d = lookup_failed(&pass, Api::Graph, "x", &LookupError::Status(401), false);
        assert_eq!(d.status(), None);
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::LookupFailed]);
        assert!(d.log.unwrap().1.contains("passed unjudged"));
        let d = lookup_failed(&config("monitor", false), Api::Graph, "x", &e, false);
        assert_eq!(d.status(), None);
        // A rule's: not saved.
        let d = lookup_failed(
            &config("block", false),
            Api::Graph,
            "Graph message rule R1",
            &e,
            true,
        );
        let m = body(&d)["error"]["message"].as_str().unwrap().to_string();
        assert!(
            m.starts_with("Not saved: the recipients of Graph message rule R1"),
            "{m}"
        );
    }

    #[test]
    fn no_recipients_pass_and_count() {
        let c = config("block", false);
        let s = Send::new(Api::Graph);
        let v = Verdict::empty(Value::Null);
        let d = judged(
            &c,
            None,
            Judged {
                send: &s,
                sender: None,
                verdict: &v,
                token: None,
                now: Now::At(NOW),
            },
        );
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::NoRecipients]);
        assert_eq!(d.api, Api::Graph);
        assert_eq!(d.status(), None);
    }

    #[test]
    fn oversize_and_unparseable() {
        let e = ExtractError {
            api: Api::Gmail,
            message: "raw is not base64url".into(),
        };
        let d = parse_error(&config("block", false), &e);
        assert_eq!(d.status(), Some(400));
        assert_eq!(body(&d)["error"]["errors"][0]["reason"], "unparseable_send");
        assert_eq!(body(&d)["mistype"]["api"], "gmail");
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::ParseErrors]);
        for mode in ["warn", "monitor"] {
            let d = parse_error(&config(mode, false), &e);
            assert_eq!(d.status(), None);
            assert_eq!(d.counters, vec![Counter::Inspected, Counter::ParseErrors]);
        }

        let d = too_large(&config("block", false), Api::Jmap, 40_000_000);
        assert_eq!(d.status(), Some(413));
        assert_eq!(body(&d)["mistype"]["max_body_bytes"], 35 * 1024 * 1024);
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::BodyTooLarge]);
        for mode in ["warn", "monitor"] {
            let d = too_large(&config(mode, false), Api::Jmap, 40_000_000);
            assert_eq!(d.status(), None);
            assert_eq!(d.counters, vec![Counter::Inspected, Counter::BodyTooLarge]);
        }
    }

    #[test]
    fn a_compressed_send_is_refused_with_415_asking_for_it_uncompressed() {
        let d = encoded(&config("block", false), Api::Graph, "gzip");
        assert_eq!(d.status(), Some(415));
        let b = body(&d);
        assert_eq!(b["error"]["code"], "encoded_send");
        assert_eq!(b["mistype"]["content_encoding"], "gzip");
        assert!(b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("compressed with gzip"));
        let Action::Reply { headers, .. } = &d.action else {
            panic!("not a reply: {d:?}");
        };
        assert!(
            headers
                .iter()
                .any(|(k, v)| k == "accept-encoding" && v == "identity"),
            "{headers:?}"
        );
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::ParseErrors]);
        let (level, log) = d.log.unwrap();
        assert_eq!(level, Level::Warn);
        assert!(log.contains(DECOMPRESSOR_FILTER), "{log}");
        for mode in ["warn", "monitor"] {
            let d = encoded(&config(mode, false), Api::Graph, "br");
            assert_eq!(d.status(), None);
            assert_eq!(d.counters, vec![Counter::Inspected, Counter::ParseErrors]);
            assert!(d.log.unwrap().1.contains("uninspected"));
        }
    }

    #[test]
    fn a_stalled_send_is_refused_naming_the_setting() {
        let d = stalled(
            &config("block", false),
            Api::Graph,
            Stall::Undelivered {
                bytes: 812,
                held_ms: 400,
            },
        );
        assert_eq!(d.status(), Some(503));
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::Stalled]);
        let b = body(&d);
        assert_eq!(b["error"]["code"], "send_stalled");
        let m = b["error"]["message"].as_str().unwrap();
        assert!(m.starts_with("Not sent: "), "{m}");
        assert!(m.contains("allow_on_headers_stop_iteration is off"), "{m}");
        assert_eq!(b["mistype"]["reason"], "body_not_delivered");
        assert_eq!(b["mistype"]["setting"], "allow_on_headers_stop_iteration");
        assert!(b["mistype"]["fix"]
            .as_str()
            .unwrap()
            .contains("hold_headers: false"));
        let (level, log) = d.log.unwrap();
        assert_eq!(level, Level::Error);
        assert!(
            log.starts_with("graph send stalled: Envoy has 812 bytes of its body"),
            "{log}"
        );
        for needed in [
            "allow_on_headers_stop_iteration: true",
            "hold_headers: false",
            "answered 503 (stall.action: refuse)",
        ] {
            assert!(log.contains(needed), "{needed}: {log}");
        }
        assert!(!log.contains('\n'), "one line: {log}");
    }

    #[test]
    fn a_silent_send_is_refused_after_the_timeout() {
        let d = stalled(
            &config("block", false),
            Api::Jmap,
            Stall::Silent { held_ms: 10_250 },
        );
        assert_eq!(d.status(), Some(503));
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::Stalled]);
        let b = body(&d);
        assert_eq!(b["type"], "urn:mistype:error:send_stalled", "{b}");
        assert!(b["detail"]
            .as_str()
            .unwrap()
            .contains("no message body arrived in 10 seconds"));
        let log = d.log.unwrap().1;
        assert!(
            log.contains("no body came to the filter in 10250 ms") && log.contains("10000"),
            "{log}"
        );
        assert!(
            log.contains("allow_on_headers_stop_iteration: true"),
            "{log}"
        );
    }

    #[test]
    fn a_stalled_send_continues_by_configuration_or_mode() {
        let stall = Stall::Undelivered {
            bytes: 10,
            held_ms: 0,
        };
        let mut c = config("block", false);
        c.stall.action = OnStall::Continue;
        let d = stalled(&c, Api::Sogo, stall);
        assert_eq!(d.status(), None);
        assert_eq!(d.counters, vec![Counter::Stalled]);
        let (level, log) = d.log.unwrap();
        assert_eq!(level, Level::Error);
        assert!(log.ends_with("(stall.action: continue)"), "{log}");
        assert!(log.contains("allow_on_headers_stop_iteration"), "{log}");
        for mode in ["warn", "monitor"] {
            let d = stalled(&config(mode, false), Api::Sogo, stall);
            assert_eq!(d.status(), None, "{mode}");
            assert_eq!(d.counters, vec![Counter::Stalled]);
            assert!(d.log.unwrap().1.ends_with(&format!("({mode} mode)")));
        }
    }

    #[test]
    fn refused_findings_are_blocks_and_sure_warnings() {
        let mut v = verdict(Severity::Block);
        for (address, score) in [("x@gmial.com", 0.95), ("y@gnx.de", 0.5)] {
            let mut f = v.findings[0].clone();
            f.address = address.into();
            f.severity = Severity::Warn;
            f.score = score;
            v.findings.push(f);
        }
        let addresses = |escalate_from| -> Vec<String> {
            refused(&v, escalate_from)
                .iter()
                .map(|f| f.address.clone())
                .collect()
        };
        assert_eq!(addresses(None), ["j.smith@navy.ml"]);
        assert_eq!(addresses(Some(0.65)), ["j.smith@navy.ml", "x@gmial.com"]);
        assert_eq!(addresses(Some(0.95)), ["j.smith@navy.ml", "x@gmial.com"]);
        assert_eq!(addresses(Some(0.96)), ["j.smith@navy.ml"]);
    }

    #[test]
    fn roundcubes_compose_window_gets_a_page() {
        let c = config("block", true);
        let mut s = Send::new(Api::Roundcube);
        s.to = vec!["j.smith@navy.ml".into()];
        s.framed = true;
        let v = verdict(Severity::Block);
        let j = Judged {
            send: &s,
            sender: None,
            verdict: &v,
            token: None,
            now: Now::At(NOW),
        };
        let d = judged(&c, Some(&signer()), j);
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::Blocked]);
        match &d.action {
            Action::Reply {
                status,
                headers,
                body,
            } => {
                assert_eq!(*status, 200);
                assert_eq!(headers[0].1, "text/html; charset=utf-8");
                let page = String::from_utf8_lossy(body);
                assert!(
                    page.contains("rc.triggerEvent('mistype_blocked', verdict)"),
                    "{page}"
                );
            }
            other => panic!("{other:?}"),
        }
        let unframed = Send {
            framed: false,
            ..s.clone()
        };
        let j = Judged {
            send: &unframed,
            ..j
        };
        assert_eq!(judged(&c, Some(&signer()), j).status(), Some(422));
    }
}
