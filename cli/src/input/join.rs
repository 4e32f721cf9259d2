//! Joining a mail log's lines into messages by queue id: the sender's line, the message-id line,
//! one line per delivery attempt, and the line that says the message left the queue. Shared by
//! the Postfix and Exim readers; pure (no I/O), bounded memory.

use std::collections::{HashMap, VecDeque};

use super::record::{Field, Loc, Message, Rcpt, Status};
use super::short::Short;
use super::timestamp;

/// One mail-log line, reduced to what the join needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The envelope sender (`None`: the null sender of a bounce).
    From {
        /// Queue id.
        qid: Short,
        /// The log line's time stamp as written.
        stamp: Short,
        /// Bare sender address.
        sender: Option<String>,
    },
    /// The message's Message-ID.
    MessageId {
        /// Queue id.
        qid: Short,
        /// Without angle brackets.
        id: String,
    },
    /// One delivery attempt for one recipient.
    To {
        /// Queue id.
        qid: Short,
        /// The log line's time stamp as written.
        stamp: Short,
        /// Bare recipient address.
        rcpt: String,
        /// What happened.
        status: Status,
    },
    /// A recipient refused at submission by mistype-smtpd (Postfix's `reject: RCPT` or
    /// `milter-reject: RCPT` line with the service's reason): nothing was sent to it.
    Refused {
        /// Queue id, when Postfix had one (an earlier recipient of the message was accepted);
        /// `None` for `NOQUEUE`: the refused recipient is a message attempt of its own.
        qid: Option<Short>,
        /// The log line's time stamp as written.
        stamp: Short,
        /// Bare sender address.
        sender: Option<String>,
        /// Bare recipient address.
        rcpt: String,
    },
    /// The message carries `X-Mistype: confirmed ADDR`: its sender sent it again after
    /// mistype-smtpd refused ADDR, and it was let through (Postfix's `header_checks` INFO line).
    Confirmed {
        /// Queue id.
        qid: Short,
        /// Bare recipient address, as the header names it.
        rcpt: String,
    },
    /// The message left the queue: no more lines for it.
    Done {
        /// Queue id.
        qid: Short,
    },
    /// A line of another program, or of a kind that carries no sender or recipient.
    Other,
    /// A line that should have been a record but could not be read.
    Bad(String),
}

/// Most messages kept open (seen, not yet removed from the queue). Past it the oldest is
/// reported as it stands: a log that never says "removed" cannot grow memory without bound.
pub const MAX_OPEN: usize = 200_000;
/// Most recipients kept per message; a message naming more is reported with the first ones and
/// one unreadable-line entry.
pub const MAX_RCPTS: usize = 10_000;

#[derive(Debug)]
struct Open {
    seq: u64,
    msg: Message,
    /// Recipient positions, built once a message has many.
    index: Option<HashMap<String, usize>>,
    overflow: bool,
    /// Recipients its `X-Mistype: confirmed` headers name.
    confirmed: Vec<String>,
}

/// Two spellings of one address: the domain's case does not matter (nor, in practice, the local
/// part's: Postfix logs what the client wrote).
fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

impl Open {
    /// One delivery attempt (or refusal) for `rcpt`.
    fn add(&mut self, rcpt: String, status: Status, loc: Loc) {
        let at = match &self.index {
            Some(ix) => ix.get(&rcpt).copied(),
            None => self.msg.rcpts.iter().position(|r| r.address == rcpt),
        };
        match at {
            // A later attempt: a final status stands, anything else is replaced.
            Some(i) => {
                let r = &mut self.msg.rcpts[i];
                if !matches!(
                    r.status,
                    Status::Delivered | Status::Bounced | Status::Refused
                ) {
                    r.status = status;
                }
            }
            None if self.msg.rcpts.len() >= MAX_RCPTS => self.overflow = true,
            None => {
                if let Some(ix) = &mut self.index {
                    ix.insert(rcpt.clone(), self.msg.rcpts.len());
                }
                let confirmed = self.confirmed.iter().any(|c| same(c, &rcpt));
                self.msg.rcpts.push(Rcpt {
                    address: rcpt,
                    name: None,
                    field: Field::Envelope,
                    status,
                    confirmed,
                    loc,
                });
                if self.index.is_none() && self.msg.rcpts.len() > 16 {
                    self.index = Some(
                        self.msg
                            .rcpts
                            .iter()
                            .enumerate()
                            .map(|(i, r)| (r.address.clone(), i))
                            .collect(),
                    );
                }
            }
        }
    }
}

/// Joins events (in log order) into messages, emitted when the queue says they are done, when
/// too many are open, or at the end.
#[derive(Debug, Default)]
pub struct Joiner {
    open: HashMap<Short, Open>,
    order: VecDeque<(u64, Short)>,
    seq: u64,
    /// Recipients cut off by [`MAX_RCPTS`], as (message location, count).
    pub overflowed: Vec<Loc>,
}

impl Joiner {
    /// A joiner with nothing open.
    pub fn new() -> Joiner {
        Joiner::default()
    }

    fn entry(&mut self, qid: Short, loc: Loc, out: &mut impl FnMut(Message)) -> &mut Open {
        if !self.open.contains_key(&qid) {
            if self.open.len() >= MAX_OPEN {
                self.evict_oldest(out);
            }
            self.seq += 1;
            let key = qid;
            self.order.push_back((self.seq, key));
            self.open.insert(
                key,
                Open {
                    seq: self.seq,
                    msg: Message {
                        loc,
                        ..Message::default()
                    },
                    index: None,
                    overflow: false,
                    confirmed: Vec::new(),
                },
            );
            if self.order.len() > 2 * self.open.len() + 1024 {
                let open = &self.open;
                self.order
                    .retain(|(s, q)| open.get(q).is_some_and(|o| o.seq == *s));
            }
        }
        self.open.get_mut(&qid).expect("inserted above")
    }

    fn evict_oldest(&mut self, out: &mut impl FnMut(Message)) {
        while let Some((seq, qid)) = self.order.pop_front() {
            if self.open.get(&qid).is_some_and(|o| o.seq == seq) {
                self.finish_one(qid, out);
                return;
            }
        }
    }

    fn finish_one(&mut self, qid: Short, out: &mut impl FnMut(Message)) {
        if let Some(o) = self.open.remove(&qid) {
            if o.overflow {
                self.overflowed.push(o.msg.loc);
            }
            if !o.msg.rcpts.is_empty() {
                out(o.msg);
            }
        }
    }

    /// Take one event read at `loc`; completed messages go to `out`.
    pub fn push(&mut self, ev: Event, loc: Loc, out: &mut impl FnMut(Message)) {
        match ev {
            Event::From { qid, stamp, sender } => {
                let o = self.entry(qid, loc, out);
                if o.msg.time.is_none() {
                    o.msg.time = timestamp::any(stamp.as_str());
                }
                o.msg.sender = sender;
            }
            Event::MessageId { qid, id } => {
                let o = self.entry(qid, loc, out);
                o.msg.message_id = Some(id);
            }
            Event::To {
                qid,
                stamp,
                rcpt,
                status,
            } => {
                let o = self.entry(qid, loc, out);
                if o.msg.time.is_none() {
                    o.msg.time = timestamp::any(stamp.as_str());
                }
                o.add(rcpt, status, loc);
            }
            Event::Refused {
                qid: Some(qid),
                stamp,
                sender,
                rcpt,
            } => {
                let o = self.entry(qid, loc, out);
                if o.msg.time.is_none() {
                    o.msg.time = timestamp::any(stamp.as_str());
                }
                if o.msg.sender.is_none() {
                    o.msg.sender = sender;
                }
                o.add(rcpt, Status::Refused, loc);
            }
            Event::Refused {
                qid: None,
                stamp,
                sender,
                rcpt,
            } => out(Message {
                loc,
                time: timestamp::any(stamp.as_str()),
                sender,
                message_id: None,
                rcpts: vec![Rcpt {
                    address: rcpt,
                    name: None,
                    field: Field::Envelope,
                    status: Status::Refused,
                    confirmed: false,
                    loc,
                }],
            }),
            Event::Confirmed { qid, rcpt } => {
                let o = self.entry(qid, loc, out);
                if let Some(r) = o.msg.rcpts.iter_mut().find(|r| same(&r.address, &rcpt)) {
                    r.confirmed = true;
                } else if o.confirmed.len() < MAX_RCPTS {
                    o.confirmed.push(rcpt);
                }
            }
            Event::Done { qid } => self.finish_one(qid, out),
            Event::Other | Event::Bad(_) => {}
        }
    }

    /// The end of the log: emit what is still open, oldest first.
    pub fn finish(&mut self, out: &mut impl FnMut(Message)) {
        while !self.open.is_empty() {
            self.evict_oldest(out);
        }
        self.order.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(line: u64) -> Loc {
        Loc { input: 0, line }
    }

    fn to(qid: &str, rcpt: &str, status: Status) -> Event {
        Event::To {
            qid: qid.into(),
            stamp: "".into(),
            rcpt: rcpt.into(),
            status,
        }
    }

    #[test]
    fn joins_by_queue_id_and_keeps_the_final_status() {
        let mut j = Joiner::new();
        let mut got = Vec::new();
        let mut out = |m: Message| got.push(m);
        j.push(
            Event::From {
                qid: "A1".into(),
                stamp: "2026-11-29 20:07:57".into(),
                sender: Some("a@x.org".into()),
            },
            loc(1),
            &mut out,
        );
        j.push(to("A1", "b@y.org", Status::Deferred), loc(2), &mut out);
        j.push(to("B2", "c@z.org", Status::Delivered), loc(3), &mut out);
        j.push(to("A1", "b@y.org", Status::Delivered), loc(4), &mut out);
        j.push(to("A1", "b@y.org", Status::Deferred), loc(5), &mut out);
        j.push(Event::Done { qid: "A1".into() }, loc(6), &mut out);
        j.finish(&mut out);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].sender.as_deref(), Some("a@x.org"));
        assert_eq!(got[0].rcpts.len(), 1);
        assert_eq!(got[0].rcpts[0].status, Status::Delivered);
        assert_eq!(got[0].rcpts[0].loc, loc(2));
        assert_eq!(got[1].sender, None);
        assert_eq!(got[1].rcpts[0].address, "c@z.org");
    }

    #[test]
    fn refusals_stand_alone_or_join_their_message_and_confirmations_mark_their_recipient() {
        let mut j = Joiner::new();
        let got = std::cell::RefCell::new(Vec::new());
        let mut out = |m: Message| got.borrow_mut().push(m);
        let refused = |qid: Option<&str>, rcpt: &str| Event::Refused {
            qid: qid.map(Short::new),
            stamp: "Dec 06 12:44:44".into(),
            sender: Some("ray.k@army.mil".into()),
            rcpt: rcpt.into(),
        };
        // NOQUEUE: an attempt of its own, reported at once.
        j.push(refused(None, "c@navy.ml"), loc(1), &mut out);
        assert_eq!(got.borrow().len(), 1);
        assert_eq!(got.borrow()[0].rcpts[0].status, Status::Refused);
        assert_eq!(got.borrow()[0].sender.as_deref(), Some("ray.k@army.mil"));
        // With a queue id: one recipient of a message whose others went.
        j.push(to("Q1", "d@navy.mil", Status::Delivered), loc(2), &mut out);
        j.push(refused(Some("Q1"), "e@navy.ml"), loc(3), &mut out);
        j.push(Event::Done { qid: "Q1".into() }, loc(4), &mut out);
        let refused_one = |got: &Vec<Message>| {
            got[1]
                .rcpts
                .iter()
                .map(|r| (r.address.clone(), r.status))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            refused_one(&got.borrow()),
            vec![
                ("d@navy.mil".to_string(), Status::Delivered),
                ("e@navy.ml".to_string(), Status::Refused)
            ]
        );
        // The confirmation comes before the delivery, and names one of two recipients.
        j.push(
            Event::Confirmed {
                qid: "Q2".into(),
                rcpt: "C@Navy.ml".into(),
            },
            loc(5),
            &mut out,
        );
        j.push(to("Q2", "c@navy.ml", Status::Delivered), loc(6), &mut out);
        j.push(to("Q2", "d@navy.mil", Status::Delivered), loc(7), &mut out);
        // ... or after it.
        j.push(to("Q3", "c@navy.ml", Status::Delivered), loc(8), &mut out);
        j.push(
            Event::Confirmed {
                qid: "Q3".into(),
                rcpt: "c@navy.ml".into(),
            },
            loc(9),
            &mut out,
        );
        j.finish(&mut out);
        let got = got.into_inner();
        let marks = |m: &Message| m.rcpts.iter().map(|r| r.confirmed).collect::<Vec<_>>();
        assert_eq!(marks(&got[2]), vec![true, false]);
        assert_eq!(marks(&got[3]), vec![true]);
        assert!(!got[1].rcpts.iter().any(|r| r.confirmed));
    }

    #[test]
    fn memory_is_bounded_when_nothing_is_ever_removed() {
        let mut j = Joiner::new();
        let mut n = 0usize;
        let mut out = |_m: Message| n += 1;
        for i in 0..(MAX_OPEN + 10) {
            j.push(
                to(&format!("Q{i}"), "b@y.org", Status::Delivered),
                loc(i as u64),
                &mut out,
            );
        }
        assert!(j.open.len() <= MAX_OPEN);
        assert!(j.order.len() <= 2 * MAX_OPEN + 1025);
        j.finish(&mut out);
        assert_eq!(n, MAX_OPEN + 10);
    }

    #[test]
    fn recipients_per_message_are_capped() {
        let mut j = Joiner::new();
        let mut got = Vec::new();
        let mut out = |m: Message| got.push(m);
        for i in 0..(MAX_RCPTS + 5) {
            j.push(
                to("Q", &format!("r{i}@y.org"), Status::Delivered),
                loc(1),
                &mut out,
            );
        }
        j.push(to("Q", "r3@y.org", Status::Bounced), loc(2), &mut out);
        j.finish(&mut out);
        assert_eq!(got[0].rcpts.len(), MAX_RCPTS);
        assert_eq!(j.overflowed, vec![loc(1)]);
    }
}
