//! The milter's front end: one conversation's state and the replies to each command, pure. The
//! same decision as the policy service ([`crate::service`]); what differs is where it is said.
//!
//! - Mail received over SMTP (`smtpd_milters`, Sendmail): each recipient is judged at `RCPT`,
//!   and a refused one gets `550 5.1.1 <addr>: TEXT` there (a milter's text goes out as written,
//!   so it names the address). The others get their `X-Mistype` header at the end.
//! - Mail handed to `sendmail(1)` (`non_smtpd_milters`): Postfix cannot refuse one recipient
//!   there, so everything is decided at the end of the message, with the display names from the
//!   headers: the whole message is refused with the reason (the sender gets it back as a bounce),
//!   or put on hold (`--milter-on-block quarantine`). Postfix's sendmail path shows as a client at
//!   port 0; `--milter-decide rcpt|end` overrides the guess.

use std::collections::HashMap;

use crate::decide::Decision;
use crate::milter_proto::{action, protocol, Command, Response, VERSION};
use crate::reply;
use crate::service::{bare, Sender, Service};

/// When to say a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecideAt {
    /// At `RCPT` for SMTP clients, at the end for the sendmail path (a client at port 0).
    Auto,
    /// Always at `RCPT`.
    Rcpt,
    /// Always at the end of the message.
    End,
}

/// What a refusal at the end of a message does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnBlock {
    /// Refuse the message (`550 5.1.1`, the reason).
    Reject,
    /// Accept it onto the MTA's hold queue, with the reason.
    Quarantine,
}

/// The milter's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// When to say a refusal.
    pub decide_at: DecideAt,
    /// What a refusal at the end does.
    pub on_block: OnBlock,
}

/// Headers whose display names explain a refusal at the end, and how many are kept.
const ADDRESS_HEADERS: [&str; 3] = ["to", "cc", "bcc"];
const MAX_HEADERS_KEPT: usize = 64;
const MAX_MACROS: usize = 256;

/// What to do after a command.
#[derive(Debug, Default, PartialEq)]
pub struct Step {
    /// Replies to send, in order.
    pub replies: Vec<Response>,
    /// Decisions made final (for metrics), with their log lines.
    pub decisions: Vec<(Decision, Option<String>)>,
    /// Other log lines.
    pub logs: Vec<String>,
    /// Close the connection.
    pub close: bool,
}

/// One milter conversation.
#[derive(Debug)]
pub struct Session {
    settings: Settings,
    negotiated: bool,
    macros: HashMap<String, String>,
    client: String,
    sendmail_path: bool,
    mail_from: Option<String>,
    rcpts: Vec<(String, Decision)>,
    headers: Vec<String>,
}

impl Session {
    /// A new conversation.
    pub fn new(settings: Settings) -> Session {
        Session {
            settings,
            negotiated: false,
            macros: HashMap::new(),
            client: String::new(),
            sendmail_path: false,
            mail_from: None,
            rcpts: Vec::new(),
            headers: Vec::new(),
        }
    }

    fn end_here(&self) -> bool {
        match self.settings.decide_at {
            DecideAt::Rcpt => false,
            DecideAt::End => true,
            DecideAt::Auto => self.sendmail_path,
        }
    }

    fn sender(&self, svc: &Service) -> Sender {
        let auth = self.macros.get("{auth_authen}").map(String::as_str);
        svc.sender(auth, self.mail_from.as_deref())
    }

    fn reset_message(&mut self) {
        self.mail_from = None;
        self.rcpts.clear();
        self.headers.clear();
    }

    fn log(&self, d: &Decision, who: &Sender, rcpt: &str) -> Option<String> {
        crate::policy::decision_log(
            "milter",
            d,
            &who.address,
            rcpt,
            &[
                ("authenticated", if who.authenticated { "yes" } else { "" }),
                ("client", &self.client),
                ("queue_id", self.macros.get("i").map_or("", String::as_str)),
            ],
        )
    }

    /// The display name the headers give `addr`, if any.
    fn display_name(&self, addr: &str) -> Option<String> {
        self.headers
            .iter()
            .flat_map(|v| mistype::parse_address_list(v))
            .flatten()
            .find(|m| m.address().eq_ignore_ascii_case(addr))
            .and_then(|m| m.display_name)
    }

    /// Answer one command.
    pub fn handle(&mut self, svc: &Service, cmd: Command, now_ms: u64) -> Step {
        let mut step = Step::default();
        let cont = |s: &mut Step| s.replies.push(Response::Continue);
        match cmd {
            Command::OptNeg {
                version,
                actions,
                protocol: steps,
            } => {
                if version < 2 {
                    step.logs.push(crate::log::line(
                        crate::log::Level::Warn,
                        "bad-request",
                        &[
                            ("protocol", "milter"),
                            ("problem", &format!("milter protocol version {version}")),
                        ],
                    ));
                    step.close = true;
                } else {
                    self.negotiated = true;
                    step.replies.push(Response::OptNeg {
                        version: version.min(VERSION),
                        actions: actions & (action::ADD_HEADERS | action::QUARANTINE),
                        protocol: steps & protocol::NO_BODY,
                    });
                }
            }
            Command::Macros { pairs, .. } => {
                for (k, v) in pairs {
                    if self.macros.len() < MAX_MACROS || self.macros.contains_key(&k) {
                        self.macros.insert(k, v);
                    }
                }
            }
            Command::Connect {
                hostname,
                port,
                address,
                family,
            } => {
                self.client = if address.is_empty() {
                    hostname
                } else {
                    format!("{hostname}[{address}]")
                };
                self.sendmail_path = port == 0 && matches!(family, b'4' | b'6');
                cont(&mut step);
            }
            Command::Mail(args) => {
                self.reset_message();
                self.mail_from = Some(bare(args.first().map_or("", String::as_str)).to_string());
                cont(&mut step);
            }
            Command::Rcpt(args) => {
                let rcpt = bare(args.first().map_or("", String::as_str)).to_string();
                let who = self.sender(svc);
                let d = svc.decide(&who, &rcpt, now_ms);
                if !self.end_here() {
                    if let Decision::Refuse(f) = &d {
                        step.replies.push(Response::ReplyCode(svc.reject_line(
                            &reply::refusal_with_address(f, svc.config().confirm_window_ms),
                        )));
                        svc.settle(&who, &rcpt, &d, now_ms);
                        let log = self.log(&d, &who, &rcpt);
                        step.decisions.push((d, log));
                        return step;
                    }
                }
                self.rcpts.push((rcpt, d));
                cont(&mut step);
            }
            Command::Header { name, value } => {
                if ADDRESS_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h))
                    && self.headers.len() < MAX_HEADERS_KEPT
                {
                    self.headers.push(value);
                }
                cont(&mut step);
            }
            Command::Helo(_)
            | Command::Data
            | Command::EndOfHeaders
            | Command::Body(_)
            | Command::Unknown(_) => cont(&mut step),
            Command::EndOfMessage => {
                self.end_of_message(svc, now_ms, &mut step);
                self.reset_message();
            }
            Command::Abort => self.reset_message(),
            Command::QuitNewConnection => {
                self.reset_message();
                self.macros.clear();
            }
            Command::Quit => step.close = true,
        }
        step
    }

    fn end_of_message(&mut self, svc: &Service, now_ms: u64, step: &mut Step) {
        let who = self.sender(svc);
        let window = svc.config().confirm_window_ms;
        let rcpts = std::mem::take(&mut self.rcpts);
        let refused: Vec<(Option<String>, &mistype::Finding)> = rcpts
            .iter()
            .filter_map(|(r, d)| match d {
                Decision::Refuse(f) => Some((self.display_name(r), f)),
                _ => None,
            })
            .collect();
        let hold = !refused.is_empty() && self.settings.on_block == OnBlock::Quarantine;
        if !refused.is_empty() && !hold {
            let text = reply::message_refusal(&refused, window);
            step.replies
                .push(Response::ReplyCode(svc.reject_line(&text)));
            // The message does not go: only the refusals count (remembered for the resend).
            for (r, d) in &rcpts {
                if let Decision::Refuse(_) = d {
                    svc.settle(&who, r, d, now_ms);
                    let log = self.log(d, &who, r);
                    step.decisions.push((d.clone(), log));
                }
            }
            return;
        }
        if hold {
            let text = reply::message_refusal(&refused, window);
            step.replies.push(Response::AddHeader {
                name: reply::HEADER.to_string(),
                value: format!("held {text}"),
            });
            step.replies.push(Response::Quarantine(text));
        }
        for (r, d) in &rcpts {
            let label = match d {
                Decision::Check(_) => Some("check"),
                Decision::Confirmed(_) => Some("confirmed"),
                Decision::WouldRefuse(_) => Some("would-refuse"),
                Decision::WarnOnly(_) => Some("warn"),
                _ => None,
            };
            if let (Some(label), Some(f)) = (label, d.finding()) {
                step.replies.push(Response::AddHeader {
                    name: reply::HEADER.to_string(),
                    value: reply::header_value(label, f),
                });
            }
            svc.settle(&who, r, d, now_ms);
            let log = self.log(d, &who, r);
            step.decisions.push((d.clone(), log));
        }
        step.replies.push(Response::Accept);
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

    fn run(s: &Service, sess: &mut Session, cmds: Vec<Command>) -> Vec<Step> {
        cmds.into_iter().map(|c| sess.handle(s, c, 0)).collect()
    }

    fn connect(port: u16) -> Command {
        Command::Connect {
            hostname: "localhost".into(),
            family: b'4',
            port,
            address: "127.0.0.1".into(),
        }
    }

    const AUTO: Settings = Settings {
        decide_at: DecideAt::Auto,
        on_block: OnBlock::Reject,
    };

    #[test]
    fn negotiation_asks_only_for_what_is_offered_and_needed() {
        let s = svc();
        let mut m = Session::new(AUTO);
        let st = m.handle(
            &s,
            Command::OptNeg {
                version: 6,
                actions: 0x1ff,
                protocol: 0x1f_ffff,
            },
            0,
        );
        assert_eq!(
            st.replies,
            vec![Response::OptNeg {
                version: 6,
                actions: 0x21,
                protocol: 0x10
            }]
        );
        let st = m.handle(
            &s,
            Command::OptNeg {
                version: 6,
                actions: 0x01,
                protocol: 0,
            },
            0,
        );
        assert_eq!(
            st.replies,
            vec![Response::OptNeg {
                version: 6,
                actions: 0x01,
                protocol: 0
            }]
        );
        assert!(
            m.handle(
                &s,
                Command::OptNeg {
                    version: 1,
                    actions: 0,
                    protocol: 0
                },
                0
            )
            .close
        );
    }

    #[test]
    fn over_smtp_a_typo_is_refused_at_rcpt_and_the_rest_gets_headers() {
        let s = svc();
        let mut m = Session::new(AUTO);
        let steps = run(
            &s,
            &mut m,
            vec![
                connect(40000),
                Command::Mail(vec!["<ray.k@army.mil>".into()]),
                Command::Rcpt(vec!["<c@navy.ml>".into()]),
                Command::Rcpt(vec!["<d.jones@navy.mil>".into()]),
                Command::Rcpt(vec!["<p@td.co>".into()]),
                Command::Header {
                    name: "To".into(),
                    value: "d.jones@navy.mil".into(),
                },
                Command::EndOfMessage,
            ],
        );
        assert_eq!(steps[2].replies, vec![Response::ReplyCode(
            "550 5.1.1 <c@navy.ml>: navy.ml is in Mali, not navy.mil - did you mean c@navy.mil? To send it as written, send it again within 10 minutes.".into())]);
        assert_eq!(steps[2].decisions[0].0.label(), "refused");
        assert_eq!(steps[3].replies, vec![Response::Continue]);
        let end = &steps[6];
        assert_eq!(end.replies.last(), Some(&Response::Accept));
        let labels: Vec<&str> = end.decisions.iter().map(|(d, _)| d.label()).collect();
        assert_eq!(labels[0], "clean");
        // The refusal was remembered: the same pair again is confirmed, with a header.
        let again = run(
            &s,
            &mut m,
            vec![
                Command::Mail(vec!["<ray.k@army.mil>".into()]),
                Command::Rcpt(vec!["<c@navy.ml>".into()]),
                Command::EndOfMessage,
            ],
        );
        assert_eq!(again[1].replies, vec![Response::Continue]);
        assert_eq!(again[2].replies[0], Response::AddHeader {
            name: "X-Mistype".into(),
            value: "confirmed c@navy.ml: navy.ml is in Mali, not navy.mil - did you mean c@navy.mil?".into()
        });
    }

    #[test]
    fn on_the_sendmail_path_the_message_is_refused_at_the_end_with_display_names() {
        let s = svc();
        let mut m = Session::new(AUTO);
        let steps = run(
            &s,
            &mut m,
            vec![
                connect(0),
                Command::Macros {
                    stage: b'M',
                    pairs: vec![("i".into(), "4ABC".into())],
                },
                Command::Mail(vec!["ray.k@army.mil".into()]),
                Command::Rcpt(vec!["j.smith@navy.ml".into()]),
                Command::Rcpt(vec!["d.jones@navy.mil".into()]),
                Command::Header {
                    name: "To".into(),
                    value: "\"Lt J. Smith\" <j.smith@navy.ml>, d.jones@navy.mil".into(),
                },
                Command::EndOfMessage,
            ],
        );
        assert_eq!(
            steps[3].replies,
            vec![Response::Continue],
            "no per-recipient refusal there"
        );
        assert_eq!(steps[6].replies, vec![Response::ReplyCode(
            "550 5.1.1 Not sent: misaddressed recipient: Lt J. Smith <j.smith@navy.ml>: navy.ml is in Mali, not navy.mil - did you mean j.smith@navy.mil? To send it as written, send it again within 10 minutes.".into())]);
        assert!(steps[6].decisions[0]
            .1
            .as_deref()
            .unwrap_or("")
            .contains("queue_id=4ABC"));
    }

    #[test]
    fn quarantine_holds_the_message_with_the_reason() {
        let s = svc();
        let mut m = Session::new(Settings {
            decide_at: DecideAt::End,
            on_block: OnBlock::Quarantine,
        });
        let steps = run(
            &s,
            &mut m,
            vec![
                connect(25),
                Command::Mail(vec!["<ray.k@army.mil>".into()]),
                Command::Rcpt(vec!["<c@navy.ml>".into()]),
                Command::EndOfMessage,
            ],
        );
        let r = &steps[3].replies;
        assert!(
            matches!(&r[0], Response::AddHeader { value, .. } if value.starts_with("held Not sent: misaddressed recipient: <c@navy.ml>")),
            "{r:?}"
        );
        assert!(matches!(&r[1], Response::Quarantine(t) if t.contains("did you mean c@navy.mil?")));
        assert_eq!(r.last(), Some(&Response::Accept));
    }

    #[test]
    fn the_login_macro_is_the_sender() {
        let s = svc();
        let mut m = Session::new(AUTO);
        let steps = run(
            &s,
            &mut m,
            vec![
                connect(40000),
                Command::Macros {
                    stage: b'M',
                    pairs: vec![("{auth_authen}".into(), "jan@mindef.nl".into())],
                },
                Command::Mail(vec!["<noreply@example.org>".into()]),
                Command::Rcpt(vec!["<p@army.ml>".into()]),
            ],
        );
        assert!(
            matches!(&steps[3].replies[0], Response::ReplyCode(t) if t.contains("did you mean p@army.nl?")),
            "{:?}",
            steps[3]
        );
    }
}
