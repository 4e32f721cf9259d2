//! One message's header block (from an mbox, a Maildir file or an `.eml`) as a [`Message`]:
//! From/Sender, To, Cc, Bcc, Resent-To/Cc/Bcc, Date, Message-ID. Folded lines are unfolded and
//! display names decoded (RFC 2047) by `mailparse`; addresses, groups included, are read by the
//! core's RFC 5322 parser. Pure.

use mistype::parse_address_list;

use super::record::{clip, Field, Loc, Message, Rcpt, Skip, Status};
use super::timestamp;

/// Most bytes of a header block read; the readers cut longer blocks here (and say so).
pub const MAX_HEADER_BYTES: usize = 1 << 20;
/// Most recipients read from one message (a flood of `Resent-To:` headers stops here).
pub const MAX_RCPTS: usize = 10_000;

/// Unfold a raw header value (CRLF or LF followed by white space) into one line.
fn unfold(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    for piece in text.split('\n') {
        let piece = piece.strip_suffix('\r').unwrap_or(piece);
        if !out.is_empty() && !piece.starts_with([' ', '\t']) {
            out.push(' ');
        }
        out.push_str(piece);
    }
    out.trim().to_string()
}

/// Decode RFC 2047 encoded words in a display name.
fn decode_words(s: &str) -> String {
    if !s.contains("=?") {
        return s.to_string();
    }
    match mailparse::parse_header(format!("X: {s}").as_bytes()) {
        Ok((h, _)) => h.get_value(),
        Err(_) => s.to_string(),
    }
}

/// Read a header block that starts at `loc`. Recipients that cannot be read become skips; a
/// block with neither a sender nor a recipient header is no message (`Err`).
pub fn parse(block: &[u8], loc: Loc) -> Result<(Message, Vec<Skip>), String> {
    let (headers, _) =
        mailparse::parse_headers(block).map_err(|e| format!("not a message header block: {e}"))?;
    let mut msg = Message {
        loc,
        ..Message::default()
    };
    let mut skips = Vec::new();
    let mut seen_any = false;
    let mut sender_from_sender = None;
    let mut capped = false;
    for h in &headers {
        let key = h.get_key_ref();
        let field = match key.to_ascii_lowercase().as_str() {
            "to" => Some(Field::To),
            "cc" => Some(Field::Cc),
            "bcc" => Some(Field::Bcc),
            "resent-to" | "resent-cc" | "resent-bcc" => Some(Field::Resent),
            "from" | "sender" => {
                seen_any = true;
                let first = parse_address_list(&unfold(h.get_value_raw()))
                    .into_iter()
                    .find_map(Result::ok)
                    .map(|m| m.address());
                if key.eq_ignore_ascii_case("from") {
                    if msg.sender.is_none() {
                        msg.sender = first;
                    }
                } else {
                    sender_from_sender = sender_from_sender.or(first);
                }
                None
            }
            "date" => {
                if msg.time.is_none() {
                    msg.time = mailparse::dateparse(&h.get_value())
                        .ok()
                        .and_then(timestamp::from_unix);
                }
                None
            }
            "message-id" => {
                if msg.message_id.is_none() {
                    let v = h.get_value();
                    let v = v.trim().trim_start_matches('<').trim_end_matches('>');
                    msg.message_id = (!v.is_empty()).then(|| v.to_string());
                }
                None
            }
            _ => None,
        };
        let Some(field) = field else { continue };
        seen_any = true;
        if capped {
            continue;
        }
        let value = unfold(h.get_value_raw());
        for r in parse_address_list(&value) {
            match r {
                Ok(m) => {
                    let address = m.address();
                    if msg.rcpts.iter().any(|x| x.address == address) {
                        continue;
                    }
                    if msg.rcpts.len() >= MAX_RCPTS {
                        capped = true;
                        skips.push(Skip::new(
                            loc,
                            format!("more than {MAX_RCPTS} recipients in one message; the rest were not read"),
                        ));
                        break;
                    }
                    msg.rcpts.push(Rcpt {
                        address,
                        name: m.display_name.as_deref().map(decode_words),
                        field,
                        status: Status::Unknown,
                        confirmed: false,
                        loc,
                    });
                }
                Err(e) => skips.push(Skip::new(
                    loc,
                    format!("{key}: '{}': {}", clip(&e.input, 80), e.message),
                )),
            }
        }
    }
    if msg.sender.is_none() {
        msg.sender = sender_from_sender;
    }
    if !seen_any {
        return Err("not a message: no From, Sender, To, Cc or Bcc header".into());
    }
    Ok((msg, skips))
}

/// Whether the start of an input looks like a message header block.
pub fn looks_like(head: &[u8]) -> bool {
    let Ok((headers, _)) = mailparse::parse_headers(head) else {
        return false;
    };
    headers.iter().take(200).any(|h| {
        matches!(
            h.get_key_ref().to_ascii_lowercase().as_str(),
            "from" | "to" | "message-id" | "received" | "return-path" | "date" | "subject"
        )
    }) && head.first().is_some_and(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_encoded_and_grouped_headers() {
        let block = concat!(
            "From: =?utf-8?q?Ray_K=C3=B6nig?= <ray.k@army.mil>\r\n",
            "To: \"Smith, J\" <j.smith@navy.ml>,\r\n",
            "  =?iso-8859-1?q?Ren=E9?= <rene@example.fr>\r\n",
            "Cc: Team: a@gmial.com, b@example.org;, undisclosed-recipients:;\r\n",
            "Resent-To: c@example.org\r\n",
            "Resent-To: c@example.org\r\n",
            "Date: Sun, 29 Nov 2026 20:07:57 +0100\r\n",
            "Message-ID: <abc@army.mil>\r\n",
            "\r\n",
        );
        let (m, skips) = parse(block.as_bytes(), Loc::default()).unwrap();
        assert!(skips.is_empty(), "{skips:?}");
        assert_eq!(m.sender.as_deref(), Some("ray.k@army.mil"));
        assert_eq!(m.time.as_deref(), Some("2026-11-29 19:07:57"));
        assert_eq!(m.message_id.as_deref(), Some("abc@army.mil"));
        let got: Vec<(&str, Option<&str>, Field)> = m
            .rcpts
            .iter()
            .map(|r| (r.address.as_str(), r.name.as_deref(), r.field))
            .collect();
        assert_eq!(
            got,
            vec![
                ("j.smith@navy.ml", Some("Smith, J"), Field::To),
                ("rene@example.fr", Some("René"), Field::To),
                ("a@gmial.com", None, Field::Cc),
                ("b@example.org", None, Field::Cc),
                ("c@example.org", None, Field::Resent),
            ]
        );
    }

    #[test]
    fn bad_addresses_are_skips_and_non_messages_errors() {
        let (m, skips) = parse(
            b"From: a@army.mil\nTo: <broken, ok@example.org\n\n",
            Loc::default(),
        )
        .unwrap();
        assert!(!skips.is_empty());
        assert!(skips[0].reason.starts_with("To: "), "{skips:?}");
        assert_eq!(m.sender.as_deref(), Some("a@army.mil"));
        assert!(parse(b"Subject: hello\n\n", Loc::default()).is_err());
        assert!(parse(b"\x00\x01\x02 binary", Loc::default()).is_err());
    }

    #[test]
    fn a_flood_of_resent_headers_is_capped() {
        let mut block = String::from("From: a@army.mil\n");
        for i in 0..(MAX_RCPTS + 50) {
            block.push_str(&format!("Resent-To: r{i}@example.org\n"));
        }
        block.push('\n');
        let (m, skips) = parse(block.as_bytes(), Loc::default()).unwrap();
        assert_eq!(m.rcpts.len(), MAX_RCPTS);
        assert_eq!(skips.len(), 1);
    }
}
