//! The policy service's front end: one request in, one `action=` line out, pure. The table is
//! [`crate::decide`]'s; this module maps it to Postfix's actions.
//!
//! | decision | action |
//! |---|---|
//! | clean, unjudged, not `protocol_state=RCPT`, a bad request | `DUNNO` |
//! | refused | `550 5.1.1 TEXT` (the code is `--reject-code`) |
//! | a warning only worth a check | `PREPEND X-Mistype: check ADDR: ...` |
//! | confirmed | `PREPEND X-Mistype: confirmed ADDR: ...` |
//! | would refuse (dry run) | `PREPEND X-Mistype: would-refuse ADDR: ...` |
//! | sure warning, `--sure-warnings warn` | `WARN mistype: ADDR: ...` |

use std::borrow::Cow;

use crate::decide::Decision;
use crate::log::{self, Level};
use crate::policy_proto::{clip, Event, Problem, Request};
use crate::reply;
use crate::service::Service;

/// The answer to one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The action (without `action=`).
    pub action: Cow<'static, str>,
    /// The decision, when a recipient was judged.
    pub decision: Option<Decision>,
    /// The request could not be read.
    pub protocol_error: bool,
    /// A log line, if the answer is worth one.
    pub log: Option<String>,
}

impl Answer {
    fn dunno(log: Option<String>, protocol_error: bool) -> Answer {
        Answer {
            action: Cow::Borrowed("DUNNO"),
            decision: None,
            protocol_error,
            log,
        }
    }
}

/// The action for a decision.
pub fn action(svc: &Service, d: &Decision) -> Cow<'static, str> {
    let window = svc.config().confirm_window_ms;
    let header = |label: &str, f| {
        format!(
            "PREPEND {}: {}",
            reply::HEADER,
            reply::header_value(label, f)
        )
    };
    Cow::Owned(match d {
        Decision::Clean | Decision::Unjudged(_) => return Cow::Borrowed("DUNNO"),
        Decision::Refuse(f) => svc.reject_line(&reply::refusal(f, window)),
        Decision::Check(f) => header("check", f),
        Decision::Confirmed(f) => header("confirmed", f),
        Decision::WouldRefuse(f) => header("would-refuse", f),
        Decision::WarnOnly(f) => format!("WARN mistype: {}", reply::header_value("warn", f)),
    })
}

/// The log line of a decision (none for a clean recipient).
pub fn decision_log(
    protocol: &str,
    d: &Decision,
    sender: &str,
    recipient: &str,
    extra: &[(&str, &str)],
) -> Option<String> {
    if matches!(d, Decision::Clean) {
        return None;
    }
    let mut fields: Vec<(&str, String)> = vec![
        ("protocol", protocol.to_string()),
        ("sender", sender.to_string()),
        ("recipient", clip(recipient, 256)),
    ];
    match d {
        Decision::Unjudged(m) => fields.push(("error", m.clone())),
        _ => {
            if let Some(f) = d.finding() {
                fields.push(("domain", f.domain.clone()));
                fields.push(("intended", f.intended.clone().unwrap_or_default()));
                fields.push(("kind", f.kind.as_str().to_string()));
                fields.push(("severity", f.severity.as_str().to_string()));
                fields.push(("score", format!("{:.2}", f.score)));
            }
        }
    }
    for (k, v) in extra {
        fields.push((k, v.to_string()));
    }
    let level = if matches!(d, Decision::Unjudged(_)) {
        Level::Warn
    } else {
        Level::Info
    };
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Some(log::line(level, d.label(), &borrowed))
}

fn bad(problem: &Problem, req: &Request, client: &str) -> Answer {
    let line = log::line(
        Level::Warn,
        "bad-request",
        &[
            ("protocol", "policy"),
            ("problem", &problem.to_string()),
            ("client", client),
            ("recipient", &clip(req.get("recipient").unwrap_or(""), 256)),
        ],
    );
    Answer::dunno(Some(line), true)
}

/// Answer one event of the reader. `client` names the peer for the logs.
pub fn answer(svc: &Service, ev: &Event, now_ms: u64, client: &str) -> Answer {
    let req = match ev {
        Event::Request(r) => r,
        Event::Bad(p, r) => return bad(p, r, client),
    };
    if req.get("request") != Some("smtpd_access_policy") {
        let p = Problem::NoEquals(format!(
            "request={}",
            clip(req.get("request").unwrap_or("(absent)"), 64)
        ));
        return bad(&p, req, client);
    }
    // Only RCPT is judged; a service also listed at other stages has no opinion there.
    if !req
        .get("protocol_state")
        .is_some_and(|s| s.eq_ignore_ascii_case("RCPT"))
    {
        return Answer::dunno(None, false);
    }
    let Some(rcpt) = req.non_empty("recipient") else {
        let line = log::line(
            Level::Warn,
            "bad-request",
            &[
                ("protocol", "policy"),
                ("problem", "protocol_state=RCPT without a recipient"),
                ("client", client),
            ],
        );
        return Answer::dunno(Some(line), true);
    };
    let who = svc.sender(req.get("sasl_username"), req.get("sender"));
    let d = svc.decide(&who, rcpt, now_ms);
    svc.settle(&who, rcpt, &d, now_ms);
    let log = decision_log(
        "policy",
        &d,
        &who.address,
        rcpt,
        &[
            ("authenticated", if who.authenticated { "yes" } else { "" }),
            ("client", req.get("client_address").unwrap_or("")),
            ("instance", req.get("instance").unwrap_or("")),
            ("queue_id", req.get("queue_id").unwrap_or("")),
            ("mta", client),
        ],
    );
    Answer {
        action: action(svc, &d),
        decision: Some(d),
        protocol_error: false,
        log,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::History;
    use crate::service::Config;
    use mistype::Engine;

    fn svc() -> Service {
        Service::new(
            Engine::with_default_policy(),
            Config::default(),
            History::new(Default::default()),
        )
    }

    fn rcpt(sender: &str, rcpt: &str, sasl: &str) -> Event {
        Event::Request(Request::from_pairs([
            ("request", "smtpd_access_policy"),
            ("protocol_state", "RCPT"),
            ("sender", sender),
            ("recipient", rcpt),
            ("sasl_username", sasl),
            ("client_address", "127.0.0.1"),
            ("instance", "1a2b.3c4d.0"),
        ]))
    }

    #[test]
    fn refusal_then_confirmation_then_clean() {
        let s = svc();
        let a = answer(&s, &rcpt("ray.k@army.mil", "c@navy.ml", ""), 0, "mta");
        assert_eq!(
            a.action,
            "550 5.1.1 navy.ml is in Mali, not navy.mil - did you mean c@navy.mil? To send it as written, send it again within 10 minutes."
        );
        let log = a.log.unwrap();
        assert!(log.starts_with("level=info event=refused protocol=policy sender=ray.k@army.mil recipient=c@navy.ml domain=navy.ml intended=navy.mil kind=suffix-typo severity=block score=0.80 client=127.0.0.1 instance=1a2b.3c4d.0 mta=mta"), "{log}");
        let b = answer(&s, &rcpt("ray.k@army.mil", "c@navy.ml", ""), 1_000, "mta");
        assert_eq!(
            b.action,
            "PREPEND X-Mistype: confirmed c@navy.ml: navy.ml is in Mali, not navy.mil - did you mean c@navy.mil?"
        );
        assert!(b.log.unwrap().starts_with("level=info event=confirmed "));
        let c = answer(
            &s,
            &rcpt("ray.k@army.mil", "d.jones@navy.mil", ""),
            0,
            "mta",
        );
        assert_eq!((c.action.as_ref(), c.log), ("DUNNO", None));
    }

    #[test]
    fn an_authenticated_dutch_sender_gets_army_nl() {
        let s = svc();
        let a = answer(
            &s,
            &rcpt("whatever@example.org", "p@army.ml", "jan@mindef.nl"),
            0,
            "mta",
        );
        assert!(
            a.action
                .starts_with("550 5.1.1 army.ml is in Mali, not army.nl - did you mean p@army.nl?"),
            "{}",
            a.action
        );
        assert!(a.log.unwrap().contains(" authenticated=yes "));
    }

    #[test]
    fn other_stages_and_bad_requests_are_dunno() {
        let s = svc();
        let data = Event::Request(Request::from_pairs([
            ("request", "smtpd_access_policy"),
            ("protocol_state", "DATA"),
            ("recipient", "c@navy.ml"),
        ]));
        assert_eq!(answer(&s, &data, 0, "m"), Answer::dunno(None, false));
        let no_rcpt = Event::Request(Request::from_pairs([
            ("request", "smtpd_access_policy"),
            ("protocol_state", "RCPT"),
        ]));
        let a = answer(&s, &no_rcpt, 0, "m");
        assert!(a.protocol_error && a.action == "DUNNO");
        let other = Event::Request(Request::from_pairs([("request", "junk")]));
        let a = answer(&s, &other, 0, "m");
        assert!(a.protocol_error && a.action == "DUNNO");
        assert!(a.log.unwrap().contains("request=junk"));
        let a = answer(
            &s,
            &Event::Bad(Problem::LineTooLong, Request::default()),
            0,
            "m",
        );
        assert!(a.protocol_error && a.action == "DUNNO");
        let unjudged = answer(&s, &rcpt("a@army.mil", "bad@@", ""), 0, "m");
        assert_eq!(unjudged.action, "DUNNO");
        assert!(unjudged
            .log
            .unwrap()
            .starts_with("level=warn event=unjudged "));
    }
}
