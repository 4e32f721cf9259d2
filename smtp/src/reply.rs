//! The words: what a refusal says in the sender's own mail client, and the `X-Mistype` header.
//! Pure.
//!
//! A refusal is one ASCII line of at most [`MAX_TEXT`] characters, because Thunderbird and
//! Outlook show it in an error dialog as it came, after Postfix's own `<rcpt>: Recipient address
//! rejected:`; so the text never repeats the address:
//!
//! `navy.ml is in Mali, not navy.mil - did you mean c@navy.mil? To send it as written, send it
//! again within 10 minutes.`

use mistype::Finding;

/// Longest refusal text (characters, all ASCII).
pub const MAX_TEXT: usize = 200;
/// The header every surface of the service adds.
pub const HEADER: &str = "X-Mistype";

/// `s` as ASCII: an IDN domain in its `xn--` form, any other non-ASCII or control character as
/// `?`.
pub fn ascii(s: &str) -> String {
    if s.is_ascii() && !s.bytes().any(|b| b.is_ascii_control()) {
        return s.to_string();
    }
    s.split(' ')
        .map(|word| {
            let (core, tail) = match word.find([',', ';', ':', '?', ')']) {
                Some(i) => word.split_at(i),
                None => (word, ""),
            };
            let core = if core.is_ascii() {
                core.to_string()
            } else if let Some(at) = core.rfind('@') {
                // An address: the local part as it can be shown, the domain in its xn-- form.
                format!("{}@{}", plain(&core[..at]), domain_ascii(&core[at + 1..]))
            } else if core.contains('.') {
                domain_ascii(core)
            } else {
                plain(core)
            };
            format!("{core}{}", plain(tail))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn plain(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .collect()
}

fn domain_ascii(d: &str) -> String {
    match idna::domain_to_ascii(d) {
        Ok(a) if a.is_ascii() && !a.is_empty() => a,
        _ => plain(d),
    }
}

/// The core's reason cut to its first clause (up to `:` or `;`), without the parenthesis that
/// only repeats the suffix (`navy.ml is in Mali (.ml), not navy.mil` becomes `navy.ml is in Mali,
/// not navy.mil`).
pub fn short_reason(f: &Finding) -> String {
    let first = f
        .reason
        .split([':', ';'])
        .next()
        .unwrap_or(&f.reason)
        .trim();
    let mut s = first.to_string();
    if let Some(open) = s.find(" (.") {
        if let Some(close) = s[open..].find(')') {
            let inner = &s[open + 3..open + close];
            if !inner.contains(' ') {
                s.replace_range(open..open + close + 1, "");
            }
        }
    }
    s
}

/// "10 minutes", "1 minute", "90 seconds".
pub fn window_words(window_ms: u64) -> String {
    let secs = window_ms / 1000;
    match secs {
        60 => "1 minute".to_string(),
        s if s % 60 == 0 => format!("{} minutes", s / 60),
        1 => "1 second".to_string(),
        s => format!("{s} seconds"),
    }
}

/// `text` cut at a word boundary so that it fits in `n` characters, with `...` when cut.
fn fit(text: &str, n: usize) -> String {
    if text.len() <= n {
        return text.to_string();
    }
    let room = n.saturating_sub(3);
    let cut = text[..room].rfind(' ').unwrap_or(room);
    format!("{}...", text[..cut].trim_end_matches([',', ' ']))
}

/// What was found and meant: `navy.ml is in Mali, not navy.mil - did you mean c@navy.mil?`,
/// in at most `n` characters.
fn what(f: &Finding, n: usize) -> String {
    let ask = f
        .suggestion
        .as_deref()
        .map(|s| format!(" - did you mean {}?", ascii(s)))
        .unwrap_or_default();
    let reason = ascii(&short_reason(f));
    format!("{}{ask}", fit(&reason, n.saturating_sub(ask.len())))
}

/// The refusal's text for the policy service (Postfix adds the address before it).
pub fn refusal(f: &Finding, window_ms: u64) -> String {
    let confirm = format!(
        " {} {}.",
        mistype::RESEND_TO_CONFIRM,
        window_words(window_ms)
    );
    format!("{}{confirm}", what(f, MAX_TEXT - confirm.len()))
}

/// A refusal the MTA passes on as written (the milter): the address first.
pub fn refusal_with_address(f: &Finding, window_ms: u64) -> String {
    format!("<{}>: {}", ascii(&f.address), refusal(f, window_ms))
}

/// The refusal of a whole message (the milter at end of message, e.g. mail handed to
/// `sendmail`): each refused recipient, with its display name from the headers when there is
/// one, at most three, then how to confirm. One line.
pub fn message_refusal(refused: &[(Option<String>, &Finding)], window_ms: u64) -> String {
    let parts: Vec<String> = refused
        .iter()
        .take(3)
        .map(|(name, f)| {
            let who = match name {
                Some(n) => format!("{} <{}>", ascii(n), ascii(&f.address)),
                None => format!("<{}>", ascii(&f.address)),
            };
            format!("{who}: {}", what(f, MAX_TEXT))
        })
        .collect();
    let more = refused.len().saturating_sub(parts.len());
    let mut s = format!(
        "Not sent: misaddressed recipient{}: {}",
        if refused.len() == 1 { "" } else { "s" },
        parts.join("; ")
    );
    if more > 0 {
        s.push_str(&format!(" (and {more} more)"));
    }
    s.push_str(&format!(
        " To send it as written, send it again within {}.",
        window_words(window_ms)
    ));
    s
}

/// The `X-Mistype` header's value for a recipient let through: `label address: what was found`.
pub fn header_value(label: &str, f: &Finding) -> String {
    format!("{label} {}: {}", ascii(&f.address), what(f, MAX_TEXT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mistype::Engine;

    fn finding(from: &str, rcpt: &str) -> Finding {
        let e = Engine::with_default_policy();
        let v = e.check_recipient(rcpt, &e.context(Some(from), &[]));
        v.findings.into_iter().next().unwrap()
    }

    #[test]
    fn the_refusal_reads_as_the_issue_shows_it() {
        let f = finding("ray.k@army.mil", "c@navy.ml");
        assert_eq!(
            refusal(&f, 600_000),
            "navy.ml is in Mali, not navy.mil - did you mean c@navy.mil? To send it as written, send it again within 10 minutes."
        );
        assert_eq!(
            refusal_with_address(&f, 60_000),
            "<c@navy.ml>: navy.ml is in Mali, not navy.mil - did you mean c@navy.mil? To send it as written, send it again within 1 minute."
        );
    }

    #[test]
    fn every_kind_is_one_short_ascii_line_without_the_address_first() {
        for (from, rcpt) in [
            ("ray.k@army.mil", "x@gmial.com"),
            ("ray.k@army.mil", "ops@usaf.mil"),
            ("ray.k@army.mil", "x@army.mil.ml"),
            ("ray.k@army.mil", "a@gmail.cmo"),
            ("ray.k@army.mil", "b@\u{430}rmy.mil"),
            ("ray.k@army.mil", "\u{fc}ser@\u{430}rmy.mil"),
            ("jan@mindef.nl", "p@army.ml"),
            ("ray.k@army.mil", "x@mali.ml"),
        ] {
            let f = finding(from, rcpt);
            let t = refusal(&f, 600_000);
            assert!(t.is_ascii(), "{t}");
            assert!(!t.chars().any(|c| c.is_control()), "{t}");
            assert!(t.len() <= MAX_TEXT, "{} chars: {t}", t.len());
            assert!(!t.starts_with(&f.address), "{t}");
            assert!(t.ends_with("send it again within 10 minutes."), "{t}");
        }
        let f = finding("ray.k@army.mil", "b@\u{430}rmy.mil");
        assert!(
            refusal(&f, 600_000).starts_with("xn--rmy-5cd.mil imitates army.mil"),
            "{}",
            refusal(&f, 600_000)
        );
    }

    #[test]
    fn a_long_reason_is_cut_at_a_word() {
        let mut f = finding("ray.k@army.mil", "c@navy.ml");
        f.reason = "word ".repeat(100);
        let t = refusal(&f, 600_000);
        assert!(t.len() <= MAX_TEXT, "{t}");
        assert!(t.contains("word... - did you mean c@navy.mil?"), "{t}");
    }

    #[test]
    fn a_message_refusal_names_display_names() {
        let a = finding("ray.k@army.mil", "j.smith@navy.ml");
        let b = finding("ray.k@army.mil", "x@gmial.com");
        let t = message_refusal(&[(Some("Lt J. Smith".into()), &a), (None, &b)], 600_000);
        assert_eq!(
            t,
            "Not sent: misaddressed recipients: Lt J. Smith <j.smith@navy.ml>: navy.ml is in Mali, not navy.mil - did you mean j.smith@navy.mil?; <x@gmial.com>: gmial.com looks like a typo of gmail.com ('ai' swapped) - did you mean x@gmail.com? To send it as written, send it again within 10 minutes."
        );
    }

    #[test]
    fn header_values() {
        let f = finding("ray.k@army.mil", "c@navy.ml");
        assert_eq!(
            header_value("confirmed", &f),
            "confirmed c@navy.ml: navy.ml is in Mali, not navy.mil - did you mean c@navy.mil?"
        );
        assert_eq!(window_words(90_000), "90 seconds");
    }
}
