//! RFC 5322: the recipients in a message's header.
//!
//! Header parsing (folding, RFC 2047 encoded words, groups) is `mailparse`'s; each mailbox is
//! handed to the core re-serialised as `"Display Name" <local@domain>`, so a decoded display name
//! with a comma in it stays one mailbox.

use mailparse::{MailAddr, MailHeader};

/// The addresses a message header names.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Addressed {
    pub from: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
}

/// One mailbox as an RFC 5322 string: `"Name" <addr>`, or the bare address without a name.
pub fn format_mailbox(name: Option<&str>, address: &str) -> String {
    // (`mailparse` leaves the list separator on the first address after a group.)
    let address = address.trim_matches(|c: char| c == ',' || c.is_whitespace());
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        None => address.to_string(),
        Some(n) => {
            let mut out = String::with_capacity(n.len() + address.len() + 5);
            out.push('"');
            for c in n.chars() {
                match c {
                    '"' | '\\' => {
                        out.push('\\');
                        out.push(c);
                    }
                    '\r' | '\n' => out.push(' '),
                    _ => out.push(c),
                }
            }
            out.push_str("\" <");
            out.push_str(address);
            out.push('>');
            out
        }
    }
}

/// The mailboxes of an address header, groups flattened; when `mailparse` cannot read the list,
/// the unfolded, decoded value goes to the core whole, and the core reports what is wrong.
fn header_mailboxes(h: &MailHeader) -> Vec<String> {
    match mailparse::addrparse_header(h) {
        Ok(list) => {
            let mut out = Vec::new();
            for a in list.iter() {
                match a {
                    MailAddr::Single(s) => {
                        out.push(format_mailbox(s.display_name.as_deref(), &s.addr))
                    }
                    MailAddr::Group(g) => out.extend(
                        g.addrs
                            .iter()
                            .map(|s| format_mailbox(s.display_name.as_deref(), &s.addr)),
                    ),
                }
            }
            out
        }
        Err(_) => {
            let v = h.get_value();
            if v.trim().is_empty() {
                Vec::new()
            } else {
                vec![v]
            }
        }
    }
}

/// The sender and recipients of an RFC 5322 message (only its header is read).
pub fn message_addresses(raw: &[u8]) -> Result<Addressed, String> {
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err("empty message".into());
    }
    let (headers, _) =
        mailparse::parse_headers(raw).map_err(|e| format!("malformed message header: {e}"))?;
    if headers.is_empty() {
        return Err("message without a header".into());
    }
    // A header name is printable ASCII without ':' or spaces; anything else means the bytes were
    // not a message at all (wrong base64 alphabet, a JSON body, binary).
    for h in &headers {
        let key = h.get_key_raw();
        if key.is_empty() || !key.iter().all(|b| (33..=126).contains(b) && *b != b':') {
            return Err(format!(
                "malformed message header: '{}' is not a header name",
                String::from_utf8_lossy(key)
                    .chars()
                    .take(40)
                    .collect::<String>()
            ));
        }
    }
    let mut out = Addressed::default();
    for h in &headers {
        let key = h.get_key_ref();
        if key.eq_ignore_ascii_case("to") {
            out.to.extend(header_mailboxes(h));
        } else if key.eq_ignore_ascii_case("cc") {
            out.cc.extend(header_mailboxes(h));
        } else if key.eq_ignore_ascii_case("bcc") {
            out.bcc.extend(header_mailboxes(h));
        } else if key.eq_ignore_ascii_case("from") && out.from.is_none() {
            out.from = header_mailboxes(h).into_iter().next();
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_headers_encoded_names_and_groups() {
        let raw = b"From: =?UTF-8?Q?Sgt_Ray_K=C3=B6nig?= <ray.k@army.mil>\r\n\
To: =?utf-8?q?Smith=2C_John?= <j.smith@navy.ml>,\r\n \"Doe, Jane\" <jane@gmial.com>\r\n\
Cc: undisclosed-recipients:;\r\n\
Bcc: Team: a@x.org, B <b@y.org>;, c@z.org\r\n\
Subject: hi\r\n\r\nbody To: not@header.org\r\n";
        let a = message_addresses(raw).unwrap();
        assert_eq!(
            a.from.as_deref(),
            Some("\"Sgt Ray König\" <ray.k@army.mil>")
        );
        assert_eq!(
            a.to,
            vec![
                "\"Smith, John\" <j.smith@navy.ml>",
                "\"Doe, Jane\" <jane@gmial.com>"
            ]
        );
        assert!(a.cc.is_empty());
        assert_eq!(a.bcc, vec!["a@x.org", "\"B\" <b@y.org>", "c@z.org"]);
    }

    #[test]
    fn unreadable_lists_go_to_the_core_whole() {
        let a = message_addresses(b"To: bad@@, x@y.org\r\n\r\n").unwrap();
        assert!(a.to.iter().any(|t| t.contains("bad@@")), "{a:?}");
        let a = message_addresses(b"To: Lt <unclosed@navy.ml\r\n\r\n").unwrap();
        assert_eq!(a.to.len(), 1, "{a:?}");
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(message_addresses(b"").is_err());
        assert!(message_addresses(b"\x00\x01\x02 binary: x\r\n\r\n").is_err());
        assert!(message_addresses(b"just text without a colon").is_err());
        assert!(message_addresses(b"{\"raw\" \"x\"}").is_err());
    }

    #[test]
    fn mailbox_formatting_quotes_names() {
        assert_eq!(format_mailbox(None, " a@b.org "), "a@b.org");
        assert_eq!(format_mailbox(Some(""), "a@b.org"), "a@b.org");
        assert_eq!(
            format_mailbox(Some("A \"B\" \\ C"), "a@b.org"),
            "\"A \\\"B\\\" \\\\ C\" <a@b.org>"
        );
    }
}
