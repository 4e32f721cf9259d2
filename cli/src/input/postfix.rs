//! Postfix logs (syslog or `maillog_file`): each line reduced to a join [`Event`]. Pure.
//!
//! ```text
//! Nov 29 20:07:57 host postfix/qmgr[79]: A14A298C010: from=<ray.k@army.mil>, size=305, nrcpt=2 (queue active)
//! Nov 29 20:07:57 host postfix/cleanup[18]: A14A298C010: message-id=<2026...@host>
//! Nov 29 20:07:57 host postfix/smtp[24]: A14A298C010: to=<c@navy.ml>, relay=..., dsn=2.0.0, status=sent (250 ok)
//! Nov 29 20:07:57 host postfix/qmgr[79]: A14A298C010: removed
//! ```
//!
//! Where mistype-smtpd guards the server, its refusals are read too: a recipient refused at
//! submission (the policy service's `reject: RCPT`, the milter's `milter-reject: RCPT`, with or
//! without a queue id) and a message refused at its end on the `sendmail(1)` path (its `to=`
//! lines say `status=bounced (Not sent: misaddressed recipient...)`) were never sent; a resend
//! let through after a refusal carries `X-Mistype: confirmed ADDR`, which Postfix logs when
//! `header_checks` (and `milter_header_checks`) say `/^X-Mistype: / INFO`:
//!
//! ```text
//! Nov 29 20:07:55 mx postfix/smtpd[24]: NOQUEUE: reject: RCPT from ws[10.1.2.3]: 550 5.1.1 <c@navy.ml>: Recipient address rejected: navy.ml is in Mali, not navy.mil - did you mean c@navy.mil? To send it as written, send it again within 10 minutes.; from=<ray.k@army.mil> to=<c@navy.ml> proto=ESMTP helo=<ws>
//! Nov 29 20:07:57 mx postfix/cleanup[18]: A14A298C010: info: header X-Mistype: confirmed c@navy.ml: navy.ml is in Mali, ... from ws[10.1.2.3]; from=<ray.k@army.mil> to=<c@navy.ml> proto=ESMTP helo=<ws>
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

/// The sender of a `from=<...>` record (`record` starts with `from=<`; `msg` is the whole
/// message, named in the error when the record is not closed).
fn from_event(qid: Short, stamp: &str, record: &str, msg: &str) -> Event {
    let Some(sender) = angle_value(record, "from=<") else {
        return Event::Bad(format!(
            "a from= record without its closing '>': {}",
            clip(msg)
        ));
    };
    Event::From {
        qid,
        stamp: Short::new(stamp),
        sender: bare(sender).map(str::to_string),
    }
}

/// The sentence that ends every refusal of mistype-smtpd (the policy service's and the milter's,
/// for a recipient or a whole message): how it tells its refusals from the server's other ones,
/// which say nothing of whether the recipient was misaddressed.
pub const MISTYPE_REFUSAL: &str = mistype::RESEND_TO_CONFIRM;

static MISTYPE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(MISTYPE_REFUSAL));

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
    if let Some(ev) = mistype_line(qid, stamp, msg) {
        return ev;
    }
    if qid == "NOQUEUE" {
        return Event::Other;
    }
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
        let Some(mut status) = status else {
            return Event::Other;
        };
        if status == Status::Bounced && MISTYPE.find(msg.as_bytes()).is_some() {
            // Refused at the end of the message (the milter, mail handed to sendmail(1)).
            status = Status::Refused;
        }
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
            return from_event(qid, stamp, msg, msg);
        }
    }
    if service == "pickup" {
        // `uid=1000 from=<ray.k@army.mil>`: mail handed to sendmail(1). Its qmgr line names the
        // sender again, but a message refused at its end (a milter) never reaches qmgr.
        if let Some(i) = msg.find(" from=<").filter(|_| msg.starts_with("uid=")) {
            return from_event(qid, stamp, &msg[i + 1..], msg);
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

/// A line about mistype-smtpd's work: a recipient it refused at `RCPT`, or a header naming a
/// recipient it let through on a resend. `None` for every other line.
fn mistype_line(qid: &str, stamp: &str, msg: &str) -> Option<Event> {
    let queued = (qid != "NOQUEUE").then(|| Short::new(qid));
    if msg.starts_with("reject: RCPT from ") || msg.starts_with("milter-reject: RCPT from ") {
        // Refused for another reason: nothing to say about its address.
        MISTYPE.find(msg.as_bytes())?;
        // `...: 550 5.1.1 <rcpt>: TEXT; from=<sender> to=<rcpt> proto=... helo=<...>`
        let envelope = &msg[msg.rfind("; from=<")? + 2..];
        let Some(sender) = angle_value(envelope, "from=<") else {
            return Some(Event::Bad(format!(
                "a refusal without its sender's closing '>': {}",
                clip(msg)
            )));
        };
        let after = &envelope[sender.len() + 7..];
        let Some(rcpt) = after
            .find(" to=<")
            .and_then(|i| angle_value(&after[i + 1..], "to=<"))
        else {
            return Some(Event::Bad(format!(
                "a refusal without its recipient: {}",
                clip(msg)
            )));
        };
        let Some(rcpt) = bare(rcpt) else {
            return Some(Event::Bad(format!(
                "a refusal with an empty recipient: {}",
                clip(msg)
            )));
        };
        return Some(Event::Refused {
            qid: queued,
            stamp: Short::new(stamp),
            sender: bare(sender).map(str::to_string),
            rcpt: rcpt.to_string(),
        });
    }
    let header = msg.strip_prefix("info: header ")?;
    let value = header
        .get(..11)
        .filter(|h| h.eq_ignore_ascii_case("X-Mistype: "))
        .and_then(|_| header[11..].strip_prefix("confirmed "))?;
    let rcpt = bare(&value[..value.find(": ")?])?;
    Some(Event::Confirmed {
        qid: queued?,
        rcpt: rcpt.to_string(),
    })
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

    /// The lines Debian's Postfix 3.7 wrote behind mistype-smtpd (smtp/tests/e2e.py).
    const POLICY_REFUSAL: &str = "Dec 06 12:44:44 mistype-test postfix/smtpd[24749]: NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 550 5.1.1 <c@navy.ml>: Recipient address rejected: navy.ml is in Mali, not navy.mil - did you mean c@navy.mil? To send it as written, send it again within 10 minutes.; from=<ray.k@army.mil> to=<c@navy.ml> proto=ESMTP helo=<vm>";
    const MILTER_REFUSAL: &str = "Dec 06 12:44:46 mistype-test postfix/smtpd[24752]: NOQUEUE: milter-reject: RCPT from localhost[127.0.0.1]: 550 5.1.1 <m@navy.ml>: navy.ml is in Mali, not navy.mil - did you mean m@navy.mil? To send it as written, send it again within 10 minutes.; from=<ray.k@army.mil> to=<m@navy.ml> proto=ESMTP helo=<vm>";
    const QUEUED_REFUSAL: &str = "Dec 06 12:44:45 mistype-test postfix/smtpd[24749]: 520339FE27E: reject: RCPT from localhost[127.0.0.1]: 550 5.1.1 <e@navy.ml>: Recipient address rejected: navy.ml is in Mali, not navy.mil - did you mean e@navy.mil? To send it as written, send it again within 10 minutes.; from=<ray.k@army.mil> to=<e@navy.ml> proto=ESMTP helo=<[127.0.0.1]>";
    const END_OF_MESSAGE: &str = "Dec 06 12:44:46 mistype-test postfix/cleanup[24835]: A604F9FE281: milter-reject: END-OF-MESSAGE from localhost[127.0.0.1]: 5.1.1 Not sent: misaddressed recipient: Lt J. Smith <j.smith@navy.ml>: navy.ml is in Mali, not navy.mil - did you mean j.smith@navy.mil? To send it as written, send it again within 10 minutes.; from=<ray.k@army.mil> to=<j.smith@navy.ml>";
    const END_OF_MESSAGE_TO: &str = "Dec 06 12:44:46 mistype-test postfix/cleanup[24835]: A604F9FE281: to=<j.smith@navy.ml>, relay=none, delay=0.03, delays=0.03/0/0/0, dsn=5.1.1, status=bounced (Not sent: misaddressed recipient: Lt J. Smith <j.smith@navy.ml>: navy.ml is in Mali, not navy.mil - did you mean j.smith@navy.mil? To send it as written, send it again within 10 minutes.)";
    const CONFIRMED: &str = "Dec 06 12:44:45 mistype-test postfix/cleanup[24835]: 28C829FE27E: info: header X-Mistype: confirmed c@navy.ml: navy.ml is in Mali, not navy.mil - did you mean c@navy.mil? from localhost[127.0.0.1]; from=<ray.k@army.mil> to=<c@navy.ml> proto=ESMTP helo=<[127.0.0.1]>";

    #[test]
    fn mistype_smtpd_refusals_and_confirmations() {
        let refused = |qid: Option<&str>, rcpt: &str, stamp: &str| Event::Refused {
            qid: qid.map(Short::new),
            stamp: stamp.into(),
            sender: Some("ray.k@army.mil".into()),
            rcpt: rcpt.into(),
        };
        assert_eq!(
            p(POLICY_REFUSAL),
            refused(None, "c@navy.ml", "Dec 06 12:44:44")
        );
        assert_eq!(
            p(MILTER_REFUSAL),
            refused(None, "m@navy.ml", "Dec 06 12:44:46")
        );
        assert_eq!(
            p(QUEUED_REFUSAL),
            refused(Some("520339FE27E"), "e@navy.ml", "Dec 06 12:44:45")
        );
        // Refused at the end of the message: the to= line says so; the milter's own line adds
        // nothing to it.
        assert_eq!(p(END_OF_MESSAGE), Event::Other);
        assert_eq!(
            p(END_OF_MESSAGE_TO),
            Event::To {
                qid: "A604F9FE281".into(),
                stamp: "Dec 06 12:44:46".into(),
                rcpt: "j.smith@navy.ml".into(),
                status: Status::Refused
            }
        );
        assert_eq!(
            p(CONFIRMED),
            Event::Confirmed {
                qid: "28C829FE27E".into(),
                rcpt: "c@navy.ml".into()
            }
        );
        // Mail handed to sendmail(1): pickup names the sender (a message refused at its end
        // never reaches qmgr).
        assert_eq!(
            p("Dec 06 12:44:46 mistype-test postfix/pickup[24744]: A604F9FE281: uid=0 from=<ray.k@army.mil>"),
            Event::From {
                qid: "A604F9FE281".into(),
                stamp: "Dec 06 12:44:46".into(),
                sender: Some("ray.k@army.mil".into())
            }
        );
    }

    #[test]
    fn other_refusals_and_headers_are_not_mistypes() {
        // Postfix's own refusals say nothing of whether the address was misaddressed.
        assert_eq!(p("Nov 29 20:07:57 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[1.2.3.4]: 554 5.7.1 <a@gmial.com>: Relay access denied; from=<s@spam.example> to=<a@gmial.com> proto=ESMTP helo=<x>"), Event::Other);
        // A bounce from a remote server is a bounce.
        assert!(matches!(
            p("Nov 29 20:07:57 mx postfix/smtp[1]: A14A298C010: to=<a@gmial.com>, relay=x, dsn=5.1.1, status=bounced (host x said: 550 no such user)"),
            Event::To { status: Status::Bounced, .. }
        ));
        // Only a confirmation marks a recipient; a check-only warning is delivered mail.
        assert_eq!(p("Dec 06 12:44:45 mistype-test postfix/cleanup[24835]: 837B39FE27E: info: header X-Mistype: check x@ibn.com: ibn.com looks like a typo of ibm.com from localhost[127.0.0.1]; from=<ray.k@army.mil> to=<x@ibn.com> proto=ESMTP helo=<x>"), Event::Other);
        assert_eq!(p("Dec 06 12:44:45 mx postfix/cleanup[1]: 837B39FE27E: info: header Subject: confirmed a@b.c: x from y; from=<a@b.c> to=<a@b.c>"), Event::Other);
        assert!(matches!(
            p("Dec 06 12:44:44 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[1.2.3.4]: 550 5.1.1 <c@navy.ml>: Recipient address rejected: To send it as written, send it again within 10 minutes.; from=<ray.k@army.mil to=<c@navy.ml>"),
            Event::Bad(_)
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
