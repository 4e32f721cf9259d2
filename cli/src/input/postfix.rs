//! Postfix logs (syslog or `maillog_file`): each line reduced to a join [`Event`]. Pure.
//!
//! ```text
//! Nov 29 20:07:57 host postfix/qmgr[79]: A14A298C010: from=<ray.k@army.mil>, size=305, nrcpt=2 (queue active)
//! Nov 29 20:07:57 host postfix/cleanup[18]: A14A298C010: message-id=<2026...@host>
//! Nov 29 20:07:57 host postfix/smtp[24]: A14A298C010: to=<c@navy.ml>, relay=..., dsn=2.0.0, status=sent (250 ok)
//! Nov 29 20:07:57 host postfix/qmgr[79]: A14A298C010: removed
//! ```
//!
//! The stamp may also be RFC 3339 (`2026-11-29T20:07:57.123+00:00`, rsyslog's high-precision
//! format); the program may be any `syslog_name` (`postfix-out/smtp`); delivery lines of every
//! agent count (`smtp`, `lmtp`, `local`, `virtual`, `pipe`, `error`, `discard`, `qmgr` expiry).

use super::join::Event;
use super::record::{bare, Status};
use super::short::Short;

/// The stamp (as written), and what follows the host name.
fn stamp_and_rest(line: &str) -> Option<(&str, &str)> {
    let used = if line.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        line.find(' ')? // RFC 3339
    } else {
        // `Nov 29 20:07:57` or `Mar  2 01:02:03`, maybe with a fraction.
        let b = line.as_bytes();
        if b.len() < 16 || b[3] != b' ' || !b[0].is_ascii_alphabetic() {
            return None;
        }
        let mut i = 4;
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if b.get(i) != Some(&b' ') {
            return None;
        }
        i + 1 + line[i + 1..].find(' ')?
    };
    let rest = line[used..].trim_start();
    let host_end = rest.find(' ')?;
    Some((&line[..used], &rest[host_end + 1..]))
}

/// A queue id: letters and digits, short (`A14A298C010`) or long (`4Xq1Tz3Rm9z1Q`).
fn is_qid(s: &str) -> bool {
    (5..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The value of `key=<...>` in `rest`: the text up to the first `>` outside double quotes
/// (a quoted local part may hold `>` and `,`).
fn angle_value<'a>(rest: &'a str, key: &str) -> Option<&'a str> {
    let tail = rest.strip_prefix(key)?;
    let (mut quoted, mut escaped) = (false, false);
    for (i, b) in tail.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b'>' if !quoted => return Some(&tail[..i]),
            _ => {}
        }
    }
    None
}

static STATUS: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new("status="));

/// The first `": "` in `s`.
fn colon_space(s: &str) -> Option<usize> {
    memchr::memchr_iter(b':', s.as_bytes()).find(|&i| s.as_bytes().get(i + 1) == Some(&b' '))
}

fn status_of(rest: &str) -> Option<Option<Status>> {
    let s = STATUS.find(rest.as_bytes())? + 7;
    let word: &str = rest[s..]
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("");
    Some(match word {
        "sent" | "delivered" => Some(Status::Delivered),
        "bounced" | "expired" => Some(Status::Bounced),
        "deferred" => Some(Status::Deferred),
        // Address verification probes (`deliverable`, `undeliverable`) and `sendmail -bv`
        // reports carry no mail.
        _ => None,
    })
}

/// Read one log line.
pub fn parse_line(raw: &[u8]) -> Event {
    if raw.contains(&0) {
        return Event::Bad("binary data (a NUL byte) in a log line".into());
    }
    // Valid UTF-8 is borrowed; only a line with invalid bytes is copied (and they replaced).
    let text = match std::str::from_utf8(raw) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(raw),
    };
    let line = text.trim_end_matches(['\r', '\n']);
    let Some((stamp, rest)) = stamp_and_rest(line) else {
        return Event::Other;
    };
    // `postfix/smtp[123]: ` (the pid is optional in some relays' formats).
    let Some(colon) = colon_space(rest) else {
        return Event::Other;
    };
    let prog = &rest[..colon];
    let prog = prog.split('[').next().unwrap_or(prog);
    let Some(slash) = prog.rfind('/') else {
        return Event::Other;
    };
    if !prog[..slash].contains("postfix") {
        return Event::Other;
    }
    let service = &prog[slash + 1..];
    let body = &rest[colon + 2..];
    let Some(qcolon) = colon_space(body) else {
        return Event::Other;
    };
    let qid = &body[..qcolon];
    if !is_qid(qid) {
        return Event::Other;
    }
    let msg = &body[qcolon + 2..];
    let qid = Short::new(qid);
    if msg.starts_with("to=<") {
        let Some(rcpt) = angle_value(msg, "to=<") else {
            return Event::Bad(format!(
                "a to= record without its closing '>': {}",
                clip(msg)
            ));
        };
        let Some(status) = status_of(msg) else {
            return Event::Bad(format!("a to= record without status=: {}", clip(msg)));
        };
        let Some(status) = status else {
            return Event::Other;
        };
        let Some(rcpt) = bare(rcpt) else {
            return Event::Bad(format!("a to= record with an empty address: {}", clip(msg)));
        };
        return Event::To {
            qid,
            stamp: Short::new(stamp),
            rcpt: rcpt.to_string(),
            status,
        };
    }
    if service == "qmgr" {
        if msg == "removed" {
            return Event::Done { qid };
        }
        if msg.starts_with("from=<") {
            if STATUS.find(msg.as_bytes()).is_some() {
                return Event::Other;
            }
            let Some(sender) = angle_value(msg, "from=<") else {
                return Event::Bad(format!(
                    "a from= record without its closing '>': {}",
                    clip(msg)
                ));
            };
            return Event::From {
                qid,
                stamp: Short::new(stamp),
                sender: bare(sender).map(str::to_string),
            };
        }
    }
    if service == "cleanup" {
        if let Some(id) = msg.strip_prefix("message-id=") {
            return Event::MessageId {
                qid,
                id: id
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string(),
            };
        }
    }
    Event::Other
}

fn clip(s: &str) -> String {
    super::record::clip(s, 120)
}

/// Whether a sample of lines looks like a Postfix log: some line is a Postfix queue record.
pub fn looks_like(lines: &[&[u8]]) -> bool {
    lines.iter().any(|l| {
        let s = String::from_utf8_lossy(l);
        s.contains("postfix") && !matches!(parse_line(l), Event::Other | Event::Bad(_))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Event {
        parse_line(s.as_bytes())
    }

    #[test]
    fn reads_the_lines_that_matter() {
        assert_eq!(
            p("Nov 29 20:07:57 mx postfix/qmgr[30079]: A14A298C010: from=<ray.k@army.mil>, size=305, nrcpt=2 (queue active)"),
            Event::From { qid: "A14A298C010".into(), stamp: "Nov 29 20:07:57".into(), sender: Some("ray.k@army.mil".into()) }
        );
        assert_eq!(
            p("Nov 29 20:07:57 mx postfix/qmgr[30079]: BCDA198CA42: from=<>, size=2277, nrcpt=1 (queue active)"),
            Event::From { qid: "BCDA198CA42".into(), stamp: "Nov 29 20:07:57".into(), sender: None }
        );
        assert_eq!(
            p("2026-11-29T20:07:57.123456+01:00 mx postfix-out/smtp[1]: 4Xq1Tz3Rm9z1Q: to=<c@navy.ml>, orig_to=<c@alias>, relay=x[1.2.3.4]:25, delay=0.1, dsn=5.1.1, status=bounced (host said: 550 no)"),
            Event::To { qid: "4Xq1Tz3Rm9z1Q".into(), stamp: "2026-11-29T20:07:57.123456+01:00".into(), rcpt: "c@navy.ml".into(), status: Status::Bounced }
        );
        assert_eq!(
            p("Nov 29 20:07:57 mx postfix/cleanup[1]: A14A298C010: message-id=<abc@host>"),
            Event::MessageId {
                qid: "A14A298C010".into(),
                id: "abc@host".into()
            }
        );
        assert_eq!(
            p("Nov 29 20:07:57 mx postfix/qmgr[1]: A14A298C010: removed"),
            Event::Done {
                qid: "A14A298C010".into()
            }
        );
        assert!(matches!(
            p("Nov 29 20:07:57 mx postfix/smtp[1]: A14A298C010: to=<\"a>, b\"@x.org>, relay=none, status=deferred (x)"),
            Event::To { ref rcpt, status: Status::Deferred, .. } if rcpt == "\"a>, b\"@x.org"
        ));
    }

    #[test]
    fn other_lines_and_bad_records() {
        assert_eq!(
            p("Nov 29 20:07:57 mx dovecot[1]: imap-login: Login: user=<a>"),
            Event::Other
        );
        assert_eq!(
            p("Nov 29 20:07:57 mx postfix/smtpd[1]: connect from x[1.2.3.4]"),
            Event::Other
        );
        assert_eq!(p("Nov 29 20:07:57 mx postfix/smtp[1]: A14A298C010: to=<a@b.org>, status=undeliverable (x)"), Event::Other);
        assert_eq!(p("garbage"), Event::Other);
        assert!(matches!(
            p("Nov 29 20:07:57 mx postfix/smtp[1]: A14A298C010: to=<a@b.org, relay=x"),
            Event::Bad(_)
        ));
        assert!(matches!(
            p("Nov 29 20:07:57 mx postfix/smtp[1]: A14A298C010: to=<a@b.org>, relay=x"),
            Event::Bad(_)
        ));
        assert!(matches!(
            parse_line(b"Nov 29 20:07:57 mx postfix/smtp[1]: A\0"),
            Event::Bad(_)
        ));
        // Invalid UTF-8 in an address is kept (replaced) for the engine to judge.
        assert!(matches!(
            parse_line(b"Nov 29 20:07:57 mx postfix/smtp[1]: A14A298C010: to=<a@b\xff.org>, status=sent (ok)"),
            Event::To { ref rcpt, .. } if rcpt == "a@b\u{fffd}.org"
        ));
    }
}
