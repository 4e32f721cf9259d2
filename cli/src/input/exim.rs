//! Exim main logs (`mainlog`): each line reduced to a join [`Event`]. Pure.
//!
//! ```text
//! 2026-11-29 20:07:57 1tXyZ1-000ABC-Q1 <= ray.k@army.mil H=ws1 [10.0.0.5] P=esmtps S=1234 id=abc@army.mil
//! 2026-11-29 20:07:58 1tXyZ1-000ABC-Q1 => c@navy.ml R=dnslookup T=remote_smtp H=mx.navy.ml [1.2.3.4]
//! 2026-11-29 20:07:58 1tXyZ1-000ABC-Q1 -> d@navy.ml R=dnslookup T=remote_smtp H=mx.navy.ml [1.2.3.4]
//! 2026-11-29 20:07:58 1tXyZ1-000ABC-Q1 ** e@gmial.com R=dnslookup T=remote_smtp: SMTP error ... 550
//! 2026-11-29 20:07:58 1tXyZ1-000ABC-Q1 == f@example.org R=dnslookup T=remote_smtp defer (-53): ...
//! 2026-11-29 20:07:58 1tXyZ1-000ABC-Q1 Completed
//! ```
//!
//! The stamp may carry a fraction (`log_selector = +millisec`) and a zone (`+0100`, with
//! `log_timezone`), and a `[pid]` may follow (`+pid`). Message ids are Exim's old
//! (`1tXyZ1-000ABC-Q1`) or 4.97 (`1tXyZ1-000000ABCD-Qxyz`) form. A local delivery names the
//! original address in angle brackets after the local one (`=> bob <bob@army.mil> R=...`).

use super::join::Event;
use super::record::{bare, Status};
use super::short::Short;
use super::timestamp;

fn is_exim_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 3
        && parts[0].len() == 6
        && (6..=11).contains(&parts[1].len())
        && (2..=4).contains(&parts[2].len())
        && parts
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Stamp (as written), message id and what follows it.
fn split(line: &str) -> Option<(&str, &str, &str)> {
    let mut rest = line;
    let mut take = || -> Option<&str> {
        let r = rest.trim_start();
        let end = r.find(' ').unwrap_or(r.len());
        let (tok, tail) = r.split_at(end);
        rest = tail;
        (!tok.is_empty()).then_some(tok)
    };
    let date = take()?;
    let clock = take()?;
    if date.len() != 10
        || !date.as_bytes()[0].is_ascii_digit()
        || !clock.as_bytes()[0].is_ascii_digit()
    {
        return None;
    }
    let stamp = &line[..date.len() + 1 + clock.len()];
    let mut tok = take()?;
    if tok.starts_with(['+', '-']) && tok.len() == 5 {
        tok = take()?;
    }
    if tok.starts_with('[') && tok.ends_with(']') {
        tok = take()?;
    }
    Some((stamp, tok, rest.trim_start()))
}

/// Read one log line.
pub fn parse_line(raw: &[u8]) -> Event {
    if raw.contains(&0) {
        return Event::Bad("binary data (a NUL byte) in a log line".into());
    }
    let text = match std::str::from_utf8(raw) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(raw),
    };
    let line = text.trim_end_matches(['\r', '\n']);
    let Some((stamp, id, rest)) = split(line) else {
        return Event::Other;
    };
    if !is_exim_id(id) {
        return Event::Other;
    }
    if timestamp::parse(stamp).is_none() {
        return Event::Other;
    }
    let qid = Short::new(id);
    if rest == "Completed" || rest.starts_with("Completed ") {
        return Event::Done { qid };
    }
    let (flag, args) = match rest.split_once(' ') {
        Some((f, a)) => (f, a.trim_start()),
        None => (rest, ""),
    };
    let status = match flag {
        "<=" => {
            let sender = args.split(' ').next().unwrap_or("");
            if sender.is_empty() {
                return Event::Bad(format!("an arrival (<=) without a sender: {}", clip(line)));
            }
            return Event::From {
                qid,
                stamp: Short::new(stamp),
                sender: bare(sender).filter(|s| *s != "<>").map(str::to_string),
            };
        }
        "=>" | "->" | ">>" | "*>" => Status::Delivered,
        "**" => Status::Bounced,
        "==" => Status::Deferred,
        _ => return Event::Other,
    };
    let mut toks = args.split(' ');
    let first = toks.next().unwrap_or("").trim_end_matches(':');
    if first.is_empty() {
        return Event::Bad(format!(
            "a delivery ({flag}) without an address: {}",
            clip(line)
        ));
    }
    // `=> bob <bob@army.mil> R=...`: the original address, when given, is the one the sender wrote.
    let rcpt = match toks.next() {
        Some(t) if t.starts_with('<') && t.trim_end_matches(':').ends_with('>') => {
            t.trim_end_matches(':')
        }
        _ => first,
    };
    let Some(rcpt) = bare(rcpt) else {
        return Event::Bad(format!(
            "a delivery ({flag}) with an empty address: {}",
            clip(line)
        ));
    };
    Event::To {
        qid,
        stamp: Short::new(stamp),
        rcpt: rcpt.to_string(),
        status,
    }
}

fn clip(s: &str) -> String {
    super::record::clip(s, 120)
}

/// Whether a sample of lines looks like an Exim main log.
pub fn looks_like(lines: &[&[u8]]) -> bool {
    lines
        .iter()
        .any(|l| !matches!(parse_line(l), Event::Other | Event::Bad(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Event {
        parse_line(s.as_bytes())
    }

    #[test]
    fn reads_arrivals_deliveries_and_completion() {
        assert_eq!(
            p("2026-11-29 20:07:57 1tXyZ1-000ABC-Q1 <= ray.k@army.mil H=ws1 [10.0.0.5] P=esmtps S=1234 id=abc@army.mil"),
            Event::From { qid: "1tXyZ1-000ABC-Q1".into(), stamp: "2026-11-29 20:07:57".into(), sender: Some("ray.k@army.mil".into()) }
        );
        assert_eq!(
            p("2026-11-29 20:07:57.123 +0100 [4242] 1tXyZ1-000000ABCD-Qxyz <= <> R=1tXyZ0-000ABC-Q1 U=Debian-exim"),
            Event::From { qid: "1tXyZ1-000000ABCD-Qxyz".into(), stamp: "2026-11-29 20:07:57.123".into(), sender: None }
        );
        let to = |rcpt: &str, status| Event::To {
            qid: "1tXyZ1-000ABC-Q1".into(),
            stamp: "2026-11-29 20:07:58".into(),
            rcpt: rcpt.into(),
            status,
        };
        assert_eq!(p("2026-11-29 20:07:58 1tXyZ1-000ABC-Q1 => c@navy.ml R=dnslookup T=remote_smtp H=mx [1.2.3.4]"), to("c@navy.ml", Status::Delivered));
        assert_eq!(
            p("2026-11-29 20:07:58 1tXyZ1-000ABC-Q1 -> d@navy.ml R=dnslookup"),
            to("d@navy.ml", Status::Delivered)
        );
        assert_eq!(p("2026-11-29 20:07:58 1tXyZ1-000ABC-Q1 ** e@gmial.com R=dnslookup T=remote_smtp: SMTP error from remote mail server after RCPT TO:<e@gmial.com>: 550 no"), to("e@gmial.com", Status::Bounced));
        assert_eq!(
            p("2026-11-29 20:07:58 1tXyZ1-000ABC-Q1 ** e@gmial.com: Unrouteable address"),
            to("e@gmial.com", Status::Bounced)
        );
        assert_eq!(p("2026-11-29 20:07:58 1tXyZ1-000ABC-Q1 == f@example.org R=dnslookup T=remote_smtp defer (-53): retry time not reached"), to("f@example.org", Status::Deferred));
        assert_eq!(p("2026-11-29 20:07:58 1tXyZ1-000ABC-Q1 => bob <bob@army.mil> R=local_user T=local_delivery"), to("bob@army.mil", Status::Delivered));
        assert_eq!(
            p("2026-11-29 20:07:58 1tXyZ1-000ABC-Q1 Completed QT=1s"),
            Event::Done {
                qid: "1tXyZ1-000ABC-Q1".into()
            }
        );
    }

    #[test]
    fn other_lines() {
        assert_eq!(
            p("2026-11-29 20:07:58 Start queue run: pid=123"),
            Event::Other
        );
        assert_eq!(
            p("2026-11-29 20:07:58 1tXyZ1-000ABC-Q1 SMTP connection lost"),
            Event::Other
        );
        assert_eq!(
            p("Nov 29 20:07:57 mx postfix/qmgr[1]: A1: removed"),
            Event::Other
        );
        assert!(matches!(
            p("2026-11-29 20:07:58 1tXyZ1-000ABC-Q1 => "),
            Event::Bad(_)
        ));
    }
}
