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
//! | stored message not looked up, `lookup.on_failure` `block` | `503` | pass | pass |
//! | stored message not looked up, `lookup.on_failure` `pass` | pass | pass | pass |
//!
//! "headers" are `x-mistype-verdict` and `x-mistype-findings` on the response. Refusals are in the
//! API's own dialect ([`crate::reply`]). Every case counts (see [`crate::metrics`]) and the
//! non-trivial ones log.

use crate::config::{Config, Mode, OnFailure};
use crate::extract::{Api, ExtractError, Send};
use crate::lookup::LookupError;
use crate::metrics::Counter;
use crate::reply::{self, Code, Refusal};
use crate::token::{Binding, Signer, TokenError};
use mistype::{Severity, Verdict};
use serde_json::{json, Value};

/// Response header naming the verdict (`warn` or `block`; `confirmed` on a send let through by a
/// valid confirm token, which no client may read as a refusal).
pub const VERDICT_HEADER: &str = "x-mistype-verdict";
/// [`VERDICT_HEADER`]'s value on a send let through by a valid confirm token.
pub const CONFIRMED: &str = "confirmed";
/// Response header with the findings, as ASCII JSON.
pub const FINDINGS_HEADER: &str = "x-mistype-findings";
/// At most this many findings go into [`FINDINGS_HEADER`].
pub const MAX_HEADER_FINDINGS: usize = 10;

/// What the filter does with the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Let it through; add these headers to the response.
    Continue {
        /// Response headers to add.
        response_headers: Vec<(String, String)>,
    },
    /// Answer locally; the upstream never sees the request.
    Reply {
        /// HTTP status.
        status: u32,
        /// Response headers (`content-type` included).
        headers: Vec<(String, String)>,
        /// JSON body.
        body: Vec<u8>,
    },
}

/// Log severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Routine.
    Debug,
    /// A decision worth keeping.
    Info,
    /// Something the operator should look at.
    Warn,
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
            action: reply::reply(api, &[], r),
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

fn json_reply(status: u32, verdict: Option<Severity>, body: &Value) -> Action {
    let mut headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("cache-control".to_string(), "no-store".to_string()),
    ];
    if let Some(v) = verdict {
        headers.push((VERDICT_HEADER.to_string(), v.as_str().to_string()));
    }
    let mut bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    bytes.push(b'\n');
    Action::Reply {
        status,
        headers,
        body: bytes,
    }
}

/// JSON text with every non-ASCII character escaped as `\uXXXX`, so it is a valid header value.
pub fn ascii_json(v: &Value) -> String {
    let s = v.to_string();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() && !c.is_ascii_control() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// The response headers that describe a verdict.
pub fn verdict_headers(verdict: &Verdict) -> Vec<(String, String)> {
    let findings: Vec<Value> = verdict
        .findings
        .iter()
        .take(MAX_HEADER_FINDINGS)
        .map(|f| {
            json!({"address": f.address, "kind": f.kind.as_str(), "severity": f.severity.as_str(),
                   "suggestion": f.suggestion})
        })
        .collect();
    vec![
        (
            VERDICT_HEADER.to_string(),
            verdict.verdict.as_str().to_string(),
        ),
        (
            FINDINGS_HEADER.to_string(),
            ascii_json(&Value::Array(findings)),
        ),
    ]
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

fn refusal(status: u32, code: Code, message: String, api: Api) -> Refusal {
    let mut details = serde_json::Map::new();
    details.insert("api".into(), Value::String(api.name().into()));
    Refusal {
        status,
        code,
        message,
        details,
    }
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
            let mut r = refusal(413, Code::TooLarge, message.clone(), api);
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
            refusal(
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

/// A send by reference whose stored message could not be looked up.
pub fn lookup_failed(config: &Config, api: Api, what: &str, e: &LookupError) -> Decision {
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
    let mut r = refusal(
        503,
        Code::LookupFailed,
        format!(
            "Not sent: the recipients of {what} could not be checked ({e}). Try again in a moment."
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
    /// Now, Unix seconds (from the host).
    pub now: u64,
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
    let headers = || verdict_headers(j.verdict);
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
        .any(|f| reply::refuses(f, config.block_warn_score))
}

fn block(config: &Config, signer: Option<&Signer>, j: Judged) -> Decision {
    let api = j.send.api;
    let binding = Binding::new(j.sender, j.send.recipients());
    let mut counters = vec![Counter::Inspected];
    let mut confirm_error: Option<Value> = None;
    if let Some(token) = j.token {
        let result = match signer {
            Some(s) => s
                .verify(token, &binding, j.now)
                .map_err(|e| (e.as_str(), e.message())),
            None => Err(("disabled", "confirmation is not enabled on this filter")),
        };
        match result {
            Ok(()) => {
                counters.push(Counter::Confirmed);
                let mut response_headers = verdict_headers(j.verdict);
                for (name, value) in &mut response_headers {
                    if name == VERDICT_HEADER {
                        *value = CONFIRMED.to_string();
                    }
                }
                return Decision {
                    api,
                    action: Action::Continue { response_headers },
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
        let expires_at = j.now.saturating_add(config.confirm.ttl_seconds);
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
    let refused = reply::refused(j.verdict, escalate_from);
    let message = reply::block_message(&refused, signer.is_some());
    Decision {
        api,
        // Roundcube's compose window shows only pages shaped like its own (reply_roundcube).
        action: if api == Api::Roundcube && j.send.framed {
            crate::reply_roundcube::blocked_page(&Value::Object(details), &refused)
        } else {
            reply::reply(
                api,
                &j.send.calls,
                Refusal {
                    status: 422,
                    code: Code::Misaddressed,
                    message,
                    details,
                },
            )
        },
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

/// The answer on `verdict_path`: `200` with the verdict.
pub fn verdict_reply(verdict: &Verdict) -> Action {
    let body = serde_json::to_value(verdict).unwrap_or_else(|_| json!({}));
    json_reply(200, Some(verdict.verdict), &body)
}

/// The answer on `verdict_path` to a body that is not a check request.
pub fn bad_request(e: &ExtractError) -> Action {
    json_reply(
        400,
        None,
        &json!({"error": "bad_request", "message": e.message}),
    )
}

/// Reason names of refused tokens, for documentation and tests.
pub fn token_reasons() -> [&'static str; 4] {
    [
        TokenError::Malformed.as_str(),
        TokenError::Forged.as_str(),
        TokenError::AlteredRecipients.as_str(),
        TokenError::Expired.as_str(),
    ]
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
                now,
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
        assert_eq!(h[0], (VERDICT_HEADER.into(), "confirmed".into()));
        assert_eq!(h[1].0, FINDINGS_HEADER);
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
        assert_eq!(token_reasons().len(), 4);
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
                    now: NOW,
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
        let d = lookup_failed(&config("block", false), Api::Graph, "Graph message D1", &e);
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
        let d = lookup_failed(&pass, Api::Graph, "x", &LookupError::Status(401));
        assert_eq!(d.status(), None);
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::LookupFailed]);
        assert!(d.log.unwrap().1.contains("passed unjudged"));
        let d = lookup_failed(&config("monitor", false), Api::Graph, "x", &e);
        assert_eq!(d.status(), None);
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
                now: NOW,
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
        let d = parse_error(&config("monitor", false), &e);
        assert_eq!(d.status(), None);
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::ParseErrors]);

        let d = too_large(&config("block", false), Api::Jmap, 5_000_000);
        assert_eq!(d.status(), Some(413));
        assert_eq!(body(&d)["mistype"]["max_body_bytes"], 4 * 1024 * 1024);
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::BodyTooLarge]);
        for mode in ["warn", "monitor"] {
            let d = too_large(&config(mode, false), Api::Jmap, 5_000_000);
            assert_eq!(d.status(), None);
            assert_eq!(d.counters, vec![Counter::Inspected, Counter::BodyTooLarge]);
        }
    }

    #[test]
    fn verdict_endpoint_replies() {
        let v = verdict(Severity::Warn);
        match verdict_reply(&v) {
            Action::Reply { status, body, .. } => {
                assert_eq!(status, 200);
                let b: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(b, serde_json::to_value(&v).unwrap());
            }
            other => panic!("{other:?}"),
        }
        let e = ExtractError {
            api: Api::Check,
            message: "x".into(),
        };
        assert!(matches!(bad_request(&e), Action::Reply { status: 400, .. }));
    }

    #[test]
    fn header_json_is_ascii() {
        let v = json!([{"address": "x@аrmy.mil", "e": "😀"}]);
        let s = ascii_json(&v);
        assert!(s.is_ascii());
        assert_eq!(serde_json::from_str::<Value>(&s).unwrap(), v);
    }
}
