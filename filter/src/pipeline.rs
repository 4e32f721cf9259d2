//! The filter's per-request work without the proxy-wasm calls: configuration → engine once;
//! then per request classify, extract, check, decide. The glue only moves bytes in and out.

use crate::config::Config;
use crate::decide::{self, Decision, Judged, Now};
use crate::extract::{self, Body, Candidate, Read, Route, Target};
use crate::metrics::Counter;
use crate::reply::{self, Action};
use crate::send::{Api, ExtractError, LookupError, Send};
use crate::stall::{self, Stall};
use crate::token::Signer;
use mistype::Engine;

/// Everything built once per plugin configuration.
#[derive(Debug)]
pub struct Filter {
    /// The configuration.
    pub config: Config,
    /// The core engine.
    pub engine: Engine,
    /// The confirm-token signer, when `confirm.secret` is set.
    pub signer: Option<Signer>,
}

/// What the request inspection concluded.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Not a send after all (a draft save, a JMAP request without submission): pass, uncounted.
    NotASend,
    /// A decision on a send (counted).
    Decided(Decision),
    /// The answer on `verdict_path` (uncounted).
    Answer(Action),
    /// A send by reference: look up `send.references` (in order), then [`Filter::resume`].
    Lookup(Send),
}

/// The per-request inputs besides the body.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestInfo<'a> {
    /// `:path`, with its query.
    pub path: &'a str,
    /// The `content-type` header.
    pub content_type: Option<&'a str>,
    /// The value of `sender_header`, if configured and present.
    pub sender: Option<&'a str>,
    /// The value of `confirm.header`, if present.
    pub token: Option<&'a str>,
    /// Now (read only when a confirm token is checked or issued).
    pub now: Now<'a>,
}

impl Filter {
    /// Parses the configuration and builds the engine; errors name the key at fault.
    pub fn from_bytes(bytes: &[u8]) -> Result<Filter, String> {
        let config = Config::parse(bytes).map_err(|e| e.to_string())?;
        Filter::new(config)
    }

    /// Builds the engine for a parsed configuration.
    pub fn new(config: Config) -> Result<Filter, String> {
        // Everything is built here, at configure time: the suffix list whole, so that no
        // request pays for parsing a part of it.
        let engine = match &config.policy {
            Some(p) => Engine::new(p),
            None => Engine::with_default_policy(),
        }
        .load_suffix_list();
        let signer = match &config.confirm.secret {
            Some(s) => Some(Signer::new(s).map_err(|e| format!("confirm.secret: {e}"))?),
            None => None,
        };
        Ok(Filter {
            config,
            engine,
            signer,
        })
    }

    /// The header-only look.
    pub fn classify(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
    ) -> Option<Candidate> {
        self.config.routes.classify(method, path, content_type)
    }

    /// A candidate whose body is compressed with `coding` (its `content-encoding`).
    pub fn encoded(&self, candidate: Candidate, coding: &str) -> Outcome {
        if candidate.route == Route::Verdict {
            return Outcome::Answer(reply::bad_request(&ExtractError {
                api: Api::Check,
                message: format!(
                    "the request body is compressed (content-encoding {coding}); send it \
                     uncompressed"
                ),
            }));
        }
        Outcome::Decided(decide::encoded(&self.config, candidate.api, coding))
    }

    /// A candidate whose body is larger than `max_body_bytes`.
    pub fn too_large(&self, candidate: Candidate, size: usize) -> Outcome {
        if candidate.route == Route::Verdict {
            return Outcome::Answer(reply::bad_request(&ExtractError {
                api: Api::Check,
                message: format!(
                    "the request body is {size} bytes or more; the limit is {}",
                    self.config.max_body_bytes
                ),
            }));
        }
        Outcome::Decided(decide::too_large(&self.config, candidate.api, size))
    }

    /// A tick looks at a held send of `api`: held `held_ms`, Envoy's count of its body bytes
    /// (`None`: unknown). `None` while it may still come; else the decision on the stall.
    pub fn watch(&self, api: Api, held_ms: u64, received: Option<u64>) -> Option<Decision> {
        let timeout = u64::from(self.config.stall.timeout_ms);
        stall::assess(held_ms, received, timeout).map(|s| self.stalled(api, s))
    }

    /// A held send of `api` that got no body.
    pub fn stalled(&self, api: Api, stall: Stall) -> Decision {
        decide::stalled(&self.config, api, stall)
    }

    /// The reader of a candidate's body: the filter feeds it the body as it streams in.
    pub fn body(&self, candidate: Candidate, path: &str, content_type: Option<&str>) -> Body {
        Body::new(candidate, self.target(candidate, path, content_type))
    }

    fn target<'a>(
        &'a self,
        candidate: Candidate,
        path: &'a str,
        content_type: Option<&'a str>,
    ) -> Target<'a> {
        Target {
            path,
            content_type,
            prefixes: self.config.routes.prefixes(candidate.api),
        }
    }

    /// The whole body of a candidate at once: extract, check, decide (or look up first).
    pub fn inspect(&self, candidate: Candidate, body: &[u8], info: RequestInfo) -> Outcome {
        let target = self.target(candidate, info.path, info.content_type);
        self.conclude(candidate, Body::read_all(candidate, target, body), info)
    }

    /// A candidate's body is read (to its end, or as far as the decision needs): extract, check,
    /// decide (or look up first).
    pub fn conclude(&self, candidate: Candidate, read: Read, info: RequestInfo) -> Outcome {
        let target = self.target(candidate, info.path, info.content_type);
        let send = extract::send_of(candidate, target, read);
        self.decide_send(candidate, send, info)
    }

    /// The body could not be read from the host: refused (block mode) like a send that cannot
    /// be parsed, naming what went wrong.
    pub fn unreadable(&self, candidate: Candidate, message: String) -> Outcome {
        let e = ExtractError::new(candidate.api, message);
        if candidate.route == Route::Verdict {
            return Outcome::Answer(reply::bad_request(&e));
        }
        Outcome::Decided(decide::parse_error(&self.config, &e))
    }

    fn decide_send(
        &self,
        candidate: Candidate,
        send: Result<Option<Send>, ExtractError>,
        info: RequestInfo,
    ) -> Outcome {
        if candidate.route == Route::Verdict {
            return match send {
                Ok(Some(s)) => Outcome::Answer(reply::verdict(&s.check(&self.engine, None))),
                Ok(None) => Outcome::NotASend,
                Err(e) => Outcome::Answer(reply::bad_request(&e)),
            };
        }
        let mut send = send;
        // A plugin's sender hint counts only where no authenticating layer names the sender.
        if let Ok(Some(s)) = &mut send {
            if s.from_is_hint && self.config.sender_header.is_some() {
                s.from = None;
            }
        }
        match send {
            Ok(Some(s)) if !s.references.is_empty() => Outcome::Lookup(s),
            Ok(Some(s)) => self.judge(&s, info),
            Ok(None) => Outcome::NotASend,
            Err(e) => Outcome::Decided(decide::parse_error(&self.config, &e)),
        }
    }

    /// The lookups of a send by reference are back (one result per reference, in order):
    /// merge what they found, then judge the whole send. A failed lookup decides by
    /// `lookup.on_failure`.
    pub fn resume(
        &self,
        mut send: Send,
        results: Vec<Result<Send, LookupError>>,
        info: RequestInfo,
    ) -> Outcome {
        let references = std::mem::take(&mut send.references);
        for (reference, result) in references.iter().zip(results) {
            match result {
                Ok(found) => send.merge(found),
                Err(e) => {
                    let mut d = decide::lookup_failed(
                        &self.config,
                        send.api,
                        &reference.to_string(),
                        &e,
                        send.forwarding,
                    );
                    d.counters.push(Counter::Lookups);
                    return Outcome::Decided(d);
                }
            }
        }
        match self.judge(&send, info) {
            Outcome::Decided(mut d) => {
                d.counters.push(Counter::Lookups);
                Outcome::Decided(d)
            }
            other => other,
        }
    }

    fn judge(&self, send: &Send, info: RequestInfo) -> Outcome {
        let sender = info.sender.or(send.from.as_deref());
        let verdict = send.check(&self.engine, sender);
        Outcome::Decided(decide::judged(
            &self.config,
            self.signer.as_ref(),
            Judged {
                send,
                sender,
                verdict: &verdict,
                // A form-posting client (Roundcube) carries the token in its body.
                token: info.token.or(send.confirm.as_deref()),
                now: info.now,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Counter;
    use mistype_testdata::sends;
    use serde_json::{json, Value};

    const NOW: u64 = 1_767_225_600;
    const SECRET: &str = "0123456789abcdef0123";

    fn filter(mode: &str) -> Filter {
        Filter::from_bytes(
            json!({"mode": mode, "confirm": {"secret": SECRET},
                   "check_path": sends::CHECK_PATH, "verdict_path": sends::VERDICT_PATH})
            .to_string()
            .as_bytes(),
        )
        .unwrap()
    }

    fn run(
        f: &Filter,
        method: &str,
        path: &str,
        ct: &str,
        body: &[u8],
        sender: Option<&str>,
        token: Option<&str>,
    ) -> Outcome {
        let c = f
            .classify(method, path, Some(ct))
            .unwrap_or_else(|| panic!("{path} not recognised"));
        f.inspect(
            c,
            body,
            RequestInfo {
                path,
                content_type: Some(ct),
                sender,
                token,
                now: Now::At(NOW),
            },
        )
    }

    fn decided(o: Outcome) -> Decision {
        match o {
            Outcome::Decided(d) => d,
            other => panic!("not a decision: {other:?}"),
        }
    }

    /// The verdict object of a refusal: the body, or its `mistype` member (Graph, Gmail, JMAP).
    fn reply_body(d: &Decision) -> Value {
        match &d.action {
            Action::Reply { body, .. } => {
                let b: Value = serde_json::from_slice(body).unwrap();
                match b.get("mistype") {
                    Some(m) => m.clone(),
                    None => b,
                }
            }
            Action::Continue { .. } => panic!("passed: {d:?}"),
        }
    }

    /// The status of a refusal: JMAP answers inside a 200 JMAP response.
    fn refused(api: Api) -> Option<u32> {
        Some(if api == Api::Jmap { 200 } else { 422 })
    }

    /// The standard send of `api` (the shared fixtures of `mistype-testdata`): method, path,
    /// content type, body.
    fn request(
        api: Api,
        to: &[&str],
        cc: &[&str],
        from: &str,
    ) -> (&'static str, String, String, Vec<u8>) {
        let r = sends::for_api(api.name(), from, to, cc);
        let ct = r.content_type.unwrap_or_default();
        (r.method, r.path, ct, r.body)
    }

    fn through(
        f: &Filter,
        api: Api,
        to: &[&str],
        cc: &[&str],
        from: &str,
        sender: Option<&str>,
    ) -> Decision {
        let (m, p, ct, body) = request(api, to, cc, from);
        let d = decided(run(f, m, &p, &ct, &body, sender, None));
        assert_eq!(d.api, api);
        d
    }

    #[test]
    fn every_api_typo_clean_and_mixed() {
        let f = filter("block");
        let warn = filter("warn");
        for api in Api::ALL {
            // A .mil sender's typo of .mil: blocked with the suggestion.
            let d = through(&f, api, &["c@navy.ml"], &[], "a.b@army.mil", None);
            assert_eq!(d.status(), refused(api), "{api:?}: {d:?}");
            let b = reply_body(&d);
            assert_eq!(b["verdict"], "block", "{api:?}");
            assert_eq!(b["findings"][0]["suggestion"], "c@navy.mil", "{api:?}: {b}");
            assert_eq!(b["findings"][0]["kind"], "suffix-typo", "{api:?}: {b}");
            assert!(b["confirm"]["token"].is_string());
            assert_eq!(d.counters, vec![Counter::Inspected, Counter::Blocked]);
            // Clean recipients pass.
            let d = through(
                &f,
                api,
                &["y@gmail.com"],
                &["p@gmx.com"],
                "a.b@army.mil",
                None,
            );
            assert_eq!(d.status(), None, "{api:?}: {d:?}");
            assert_eq!(
                d.counters,
                vec![Counter::Inspected, Counter::Allowed],
                "{api:?}"
            );
            // Mixed: one typo among clean recipients (in Cc) still blocks, and names only it.
            let d = through(
                &f,
                api,
                &["y@gmail.com"],
                &["p@gmx.com", "j.smith@navy.ml"],
                "a.b@army.mil",
                None,
            );
            let b = reply_body(&d);
            let findings = b["findings"].as_array().unwrap();
            assert_eq!(findings.len(), 1, "{api:?}: {b}");
            assert_eq!(findings[0]["address"], "j.smith@navy.ml");
            // A certain provider typo (a warn finding scored at block_warn_score or more) is
            // refused in block mode, confirmably; in warn mode it passes with the headers.
            let d = through(&f, api, &["x@gmial.com"], &[], "me@example.org", None);
            assert_eq!(d.status(), refused(api), "{api:?}: {d:?}");
            assert!(reply_body(&d)["confirm"]["token"].is_string(), "{api:?}");
            let d = through(&warn, api, &["x@gmial.com"], &[], "me@example.org", None);
            match &d.action {
                Action::Continue { response_headers } => {
                    assert_eq!(response_headers[0].1, "warn", "{api:?}");
                    assert!(response_headers[1].1.contains("x@gmail.com"), "{api:?}");
                }
                other => panic!("{api:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_sender_header_wins_over_the_message() {
        let f = filter("block");
        // Without a sender a Gmail user's mail.ml is only judged on its own.
        let d = through(
            &f,
            Api::Sogo,
            &["j.smith.mil@mail.ml"],
            &[],
            "someone@gmail.com",
            None,
        );
        let b = reply_body(&d);
        assert_eq!(
            b["findings"][0]["suggestion"], "j.smith.mil@mail.mil",
            "{b}"
        );
        // The header's .mil sender makes navy.ml a .mil slip even if the message claims otherwise.
        let d = through(
            &f,
            Api::Sogo,
            &["c@navy.ml"],
            &[],
            "x@gmail.com",
            Some("a.b@army.mil"),
        );
        assert_eq!(reply_body(&d)["findings"][0]["suggestion"], "c@navy.mil");
    }

    #[test]
    fn confirm_round_trip_through_the_pipeline() {
        let f = filter("block");
        let (m, p, ct, body) = request(Api::Gmail, &["c@navy.ml"], &[], "a.b@army.mil");
        let d = decided(run(&f, m, &p, &ct, &body, None, None));
        let token = reply_body(&d)["confirm"]["token"]
            .as_str()
            .unwrap()
            .to_string();
        let d = decided(run(&f, m, &p, &ct, &body, None, Some(&token)));
        assert_eq!(d.status(), None);
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::Confirmed]);
        // The same token on another recipient set is refused.
        let (m2, p2, ct2, body2) =
            request(Api::Gmail, &["c@navy.ml", "d@navy.ml"], &[], "a.b@army.mil");
        let d = decided(run(&f, m2, &p2, &ct2, &body2, None, Some(&token)));
        assert_eq!(
            reply_body(&d)["confirm_error"]["reason"],
            "altered-recipients"
        );
    }

    #[test]
    fn a_forwarding_rule_to_a_typo_is_not_saved_and_says_so() {
        let f = filter("block");
        let ct = "application/json";
        let whole = |d: &Decision| match &d.action {
            Action::Reply { body, .. } => serde_json::from_slice::<Value>(body).unwrap(),
            other => panic!("not a reply: {other:?}"),
        };
        // A Graph rule that forwards to a typo of the sender's own service.
        let rule = br#"{"displayName": "To the ship",
            "actions": {"forwardTo": [{"emailAddress": {"address": "j.smith@navy.ml"}}]}}"#;
        let path = "/v1.0/me/mailFolders/inbox/messageRules";
        let d = decided(run(&f, "POST", path, ct, rule, Some("ops@army.mil"), None));
        assert_eq!(d.status(), Some(422));
        let message = whole(&d)["error"]["message"].as_str().unwrap().to_string();
        assert!(
            message.starts_with(
                "Not saved: mail would be forwarded to a misaddressed recipient: j.smith@navy.ml \
                 — did you mean j.smith@navy.mil?"
            ),
            "{message}"
        );
        assert!(
            message.ends_with("To save it as written, confirm and save again."),
            "{message}"
        );
        // Confirmed, it is saved as written.
        let token = reply_body(&d)["confirm"]["token"]
            .as_str()
            .unwrap()
            .to_string();
        let d = decided(run(
            &f,
            "POST",
            path,
            ct,
            rule,
            Some("ops@army.mil"),
            Some(&token),
        ));
        assert_eq!(d.status(), None);
        // Gmail's automatic forwarding switched on to a typo, in Gmail's dialect; switched off,
        // it passes.
        let auto = "/gmail/v1/users/me/settings/autoForwarding";
        let on = br#"{"enabled": true, "emailAddress": "friend@gmial.com"}"#;
        let d = decided(run(&f, "PUT", auto, ct, on, None, None));
        assert_eq!(d.status(), Some(422));
        let b = whole(&d);
        assert_eq!(b["error"]["status"], "FAILED_PRECONDITION");
        let message = b["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("Not saved: mail would be forwarded"),
            "{message}"
        );
        assert!(message.contains("friend@gmail.com"), "{message}");
        let off = br#"{"enabled": false, "emailAddress": "friend@gmial.com"}"#;
        let d = decided(run(&f, "PUT", auto, ct, off, None, None));
        assert_eq!(d.status(), None);
    }

    #[test]
    fn roundcube_compose_window_block_page_and_confirm_field() {
        let f = filter("block");
        let ct = "application/x-www-form-urlencoded";
        let path = "/?_task=mail&_unlock=loading17&_framed=1";
        // `_from` is an identity id; the plugin's `_mistype_from` gives the .mil sender.
        let form = |extra: &str| {
            format!("_id=9&_action=send&_from=1&_mistype_from=ops%40army.mil&_to=%22Lt+J.+Smith%22+%3Cj.smith%40navy.ml%3E%2C&_cc=&_bcc={extra}")
        };
        let d = decided(run(&f, "POST", path, ct, form("").as_bytes(), None, None));
        let (status, headers, body) = match &d.action {
            Action::Reply {
                status,
                headers,
                body,
            } => (
                *status,
                headers.clone(),
                String::from_utf8(body.clone()).unwrap(),
            ),
            other => panic!("passed: {other:?}"),
        };
        assert_eq!(status, 200);
        assert!(headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("text/html")));
        assert!(body.contains("content=\"Roundcube\""));
        assert!(body.contains("did you mean j.smith@navy.mil?"), "{body}");
        // The .mil sender from `_mistype_from` is in the reason.
        assert!(body.contains("you write from .mil"), "{body}");
        let start = body.find("\"token\":\"").unwrap() + "\"token\":\"".len();
        let token = &body[start..start + body[start..].find('"').unwrap()];
        // Resent with the token in the plugin's form field: through.
        let with = format!("{}&_mistype_confirm={}", form(""), token);
        let d = decided(run(&f, "POST", path, ct, with.as_bytes(), None, None));
        assert_eq!(d.status(), None, "{d:?}");
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::Confirmed]);
        // The token does not cover another recipient.
        let other = format!("{}&_mistype_confirm={}", form("x%40gmail.com"), token);
        let d = decided(run(&f, "POST", path, ct, other.as_bytes(), None, None));
        assert_eq!(d.status(), Some(200));
        assert!(d.counters.contains(&Counter::ConfirmRejected));
        // Not from the compose window (no `_framed`): the JSON reply of every API.
        let d = decided(run(
            &f,
            "POST",
            "/?_task=mail&_action=send",
            ct,
            form("").as_bytes(),
            None,
            None,
        ));
        assert_eq!(d.status(), Some(422));
        assert_eq!(
            reply_body(&d)["findings"][0]["suggestion"],
            "j.smith@navy.mil"
        );
    }

    #[test]
    fn roundcube_bounce_block_json_and_confirm_field() {
        let f = filter("block");
        let ct = "application/x-www-form-urlencoded";
        let path = "/?_task=mail&_action=bounce";
        // What Roundcube's bounce dialog posts with `http_post` (its form, less `_action`).
        let form = |to: &str, extra: &str| {
            format!("_token=t1&_from=1&_to={to}&_cc=&_bcc=&_uid=7&_mbox=INBOX&_remote=1&_unlock=loading1731{extra}")
        };
        let typo = form("j.smith%40navy.ml", "");
        let d = decided(run(&f, "POST", path, ct, typo.as_bytes(), None, None));
        assert_eq!(d.status(), Some(200), "{d:?}");
        let Action::Reply { headers, .. } = &d.action else {
            panic!("{d:?}")
        };
        assert!(headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("application/json")));
        // Roundcube's http_response: the lock released, the line shown, the plugin told.
        let b = reply_body(&d);
        assert_eq!(b["action"], "bounce");
        assert_eq!(b["unlock"], "loading1731");
        let exec = b["exec"].as_str().unwrap();
        assert!(
            exec.starts_with("this.display_message(\"Not sent, mistype stopped it. j.smith@navy.ml (did you mean j.smith@navy.mil?)"),
            "{exec}"
        );
        assert!(
            exec.contains("this.triggerEvent('mistype_blocked', {"),
            "{exec}"
        );
        let start = exec.find("\"token\":\"").unwrap() + "\"token\":\"".len();
        let token = &exec[start..start + exec[start..].find('"').unwrap()];
        // Resent with the token in the plugin's form field: through.
        let with = form("j.smith%40navy.ml", &format!("&_mistype_confirm={token}"));
        let d = decided(run(&f, "POST", path, ct, with.as_bytes(), None, None));
        assert_eq!(d.status(), None, "{d:?}");
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::Confirmed]);
        // A clean bounce passes; a bounce posted from its own form (not `http_post`) gets the
        // JSON reply of every API.
        let clean = form("j.smith%40navy.mil", "");
        let d = decided(run(&f, "POST", path, ct, clean.as_bytes(), None, None));
        assert_eq!(d.status(), None, "{d:?}");
        let d = decided(run(
            &f,
            "POST",
            path,
            ct,
            b"_to=j.smith%40navy.ml&_uid=7",
            None,
            None,
        ));
        assert_eq!(d.status(), Some(422));
    }

    #[test]
    fn the_roundcube_plugins_sender_counts_only_without_sender_header() {
        let ct = "application/x-www-form-urlencoded";
        let path = "/?_task=mail&_action=send";
        // From a .nl identity, army.ml is one key from army.nl: a warning (sure enough to ask
        // for confirmation), with army.nl as the suggestion.
        let body = b"_from=1&_mistype_from=k%40mindef.nl&_to=p%40army.ml";
        let f = filter("block");
        let d = decided(run(&f, "POST", path, ct, body, None, None));
        assert_eq!(reply_body(&d)["verdict"], "warn", "{d:?}");
        assert_eq!(reply_body(&d)["findings"][0]["suggestion"], "p@army.nl");
        // With sender_header configured, the hint is ignored even when the header is absent.
        let with_header = Filter::from_bytes(
            json!({"mode": "block", "sender_header": "x-authenticated-user"})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
        let plain = decided(run(
            &f,
            "POST",
            path,
            ct,
            b"_from=1&_to=p%40army.ml",
            None,
            None,
        ));
        let d = decided(run(&with_header, "POST", path, ct, body, None, None));
        assert_eq!(d.status(), plain.status(), "{d:?}");
        assert_eq!(d.counters, plain.counters);
        assert_eq!(reply_body(&d)["verdict"], reply_body(&plain)["verdict"]);
        assert_eq!(reply_body(&plain)["verdict"], "block");
        // And the header, when present, is the sender.
        let d = decided(run(
            &with_header,
            "POST",
            path,
            ct,
            body,
            Some("k@mindef.nl"),
            None,
        ));
        assert_eq!(reply_body(&d)["verdict"], "warn", "{d:?}");
    }

    #[test]
    fn errors_in_addresses_are_reported_not_fatal() {
        let f = filter("block");
        let d = through(
            &f,
            Api::Check,
            &["bad@@", "y@gmail.com"],
            &[],
            "a@example.org",
            None,
        );
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::Allowed]);
        let body = br#"{"to": ["bad@@"]}"#;
        match run(
            &f,
            "POST",
            sends::VERDICT_PATH,
            "application/json",
            body,
            None,
            None,
        ) {
            Outcome::Answer(Action::Reply {
                status: 200, body, ..
            }) => {
                let v: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(v["errors"].as_array().map(Vec::len), Some(1), "{v}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn verdict_path_matches_the_engine() {
        let f = filter("monitor");
        let req = br#"{"id": "q1", "from": "a.b@army.mil", "to": ["c@navy.ml", "x@gmial.com"]}"#;
        let want =
            serde_json::to_value(f.engine.check(
                &mistype::CheckRequest::from_json(std::str::from_utf8(req).unwrap()).unwrap(),
            ))
            .unwrap();
        match run(
            &f,
            "POST",
            sends::VERDICT_PATH,
            "application/json",
            req,
            None,
            None,
        ) {
            Outcome::Answer(Action::Reply { status, body, .. }) => {
                assert_eq!(status, 200);
                assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), want);
            }
            other => panic!("{other:?}"),
        }
        match run(
            &f,
            "POST",
            sends::VERDICT_PATH,
            "application/json",
            b"[",
            None,
            None,
        ) {
            Outcome::Answer(Action::Reply { status, .. }) => assert_eq!(status, 400),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn not_a_send_and_too_large() {
        let f = filter("block");
        let o = run(
            &f,
            "POST",
            "/?_task=mail&_action=send",
            "application/x-www-form-urlencoded",
            b"_draft=1&_to=c%40navy.ml",
            None,
            None,
        );
        assert_eq!(o, Outcome::NotASend);
        let c = f.classify("POST", "/jmap/", None).unwrap();
        match f.too_large(c, 10 << 20) {
            Outcome::Decided(d) => assert_eq!(d.status(), Some(413)),
            other => panic!("{other:?}"),
        }
        let c = f.classify("POST", sends::VERDICT_PATH, None).unwrap();
        assert!(matches!(
            f.too_large(c, 10 << 20),
            Outcome::Answer(Action::Reply { status: 400, .. })
        ));
    }

    #[test]
    fn held_sends_are_watched_until_they_stall() {
        let f = Filter::from_bytes(br#"{"stall": {"timeout_ms": 2000}}"#).unwrap();
        // Nothing yet, within the timeout: keep waiting.
        assert_eq!(f.watch(Api::Jmap, 1_500, Some(0)), None);
        assert_eq!(f.watch(Api::Jmap, 1_500, None), None);
        // Envoy keeps body bytes from the filter: refused at once.
        let d = f.watch(Api::Jmap, 0, Some(300)).unwrap();
        assert_eq!(d.status(), Some(503));
        assert_eq!(d.counters, vec![Counter::Inspected, Counter::Stalled]);
        // Nothing at all for the timeout: refused too.
        let d = f.watch(Api::Graph, 2_000, None).unwrap();
        assert_eq!(d.status(), Some(503));
        assert_eq!(d.api, Api::Graph);
        // Configured to continue: the headers go on.
        let f = Filter::from_bytes(br#"{"stall": {"action": "continue"}}"#).unwrap();
        let d = f.watch(Api::Jmap, 0, Some(300)).unwrap();
        assert_eq!(d.status(), None);
        assert_eq!(d.counters, vec![Counter::Stalled]);
    }

    #[test]
    fn bad_configurations_name_the_key() {
        let e = Filter::from_bytes(br#"{"mode": "blok"}"#).unwrap_err();
        assert_eq!(e, "mode: \"blok\" is not one of block, warn, monitor");
        assert!(Filter::from_bytes(b"").is_ok());
    }

    #[test]
    fn sends_by_reference_wait_for_their_lookups() {
        use crate::send::Reference;
        let f = filter("block");
        let c = f
            .classify("POST", "/v1.0/me/messages/D1/send", None)
            .unwrap();
        let info = RequestInfo {
            path: "/v1.0/me/messages/D1/send",
            now: Now::At(NOW),
            ..RequestInfo::default()
        };
        let Outcome::Lookup(send) = f.inspect(c, b"", info) else {
            panic!("a draft sent by id is looked up");
        };
        assert_eq!(
            send.references,
            vec![Reference::GraphMessage {
                base: "/v1.0/me".into(),
                id: "D1".into()
            }]
        );
        // What the lookup found is judged, and counted as a lookup.
        let mut found = Send::new(Api::Graph);
        found.from = Some("a.b@army.mil".into());
        found.to = vec!["c@navy.ml".into()];
        let d = decided(f.resume(send.clone(), vec![Ok(found)], info));
        assert_eq!(d.status(), Some(422));
        assert_eq!(reply_body(&d)["findings"][0]["suggestion"], "c@navy.mil");
        assert_eq!(
            d.counters,
            vec![Counter::Inspected, Counter::Blocked, Counter::Lookups]
        );
        // A failed lookup refuses (the default), naming the message.
        let d = decided(f.resume(send.clone(), vec![Err(LookupError::Status(403))], info));
        assert_eq!(d.status(), Some(503));
        assert_eq!(
            d.counters,
            vec![Counter::Inspected, Counter::LookupFailed, Counter::Lookups]
        );
        // An empty draft: no recipients after the lookup either.
        let d = decided(f.resume(send, vec![Ok(Send::new(Api::Graph))], info));
        assert_eq!(d.status(), None);
        assert!(d.counters.contains(&Counter::NoRecipients));
    }

    #[test]
    fn a_rule_switched_on_is_judged_with_what_it_forwards_to() {
        let f = filter("block");
        let path = "/v1.0/me/mailFolders/inbox/messageRules/R1";
        let c = f.classify("PATCH", path, Some("application/json")).unwrap();
        let info = RequestInfo {
            path,
            now: Now::At(NOW),
            ..RequestInfo::default()
        };
        let Outcome::Lookup(send) = f.inspect(c, br#"{"isEnabled": true}"#, info) else {
            panic!("a rule switched on is looked up");
        };
        let stored = br#"{"id": "R1", "isEnabled": false,
            "actions": {"forwardTo": [{"emailAddress": {"address": "j.smith@navy.ml"}}]}}"#;
        let found = crate::lookup::read(&send.references[0], Some(200), stored);
        let d = decided(f.resume(send, vec![found], info));
        assert_eq!(d.status(), Some(422));
        let Action::Reply { body, .. } = &d.action else {
            panic!("not a reply: {d:?}");
        };
        let b: Value = serde_json::from_slice(body).unwrap();
        let message = b["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(
                "Not saved: mail would be forwarded to a misaddressed recipient: j.smith@navy.ml"
            ),
            "{message}"
        );
    }
}
