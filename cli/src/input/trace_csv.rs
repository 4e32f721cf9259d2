//! Message-trace and email-log CSV exports, one row per recipient (or per message with a
//! recipient list). Columns are found by their header names, so the layouts of the vendors'
//! exports are all read by one parser. Pure.
//!
//! Layouts (see `docs/audit.md` and the tests for the sources):
//! - Microsoft 365 / Exchange Online `Get-MessageTrace` / `Get-MessageTraceV2` piped to
//!   `Export-Csv`: `Received, SenderAddress, RecipientAddress, Subject, Status, ToIP, FromIP,
//!   Size, MessageId, MessageTraceId, ...` (a `#TYPE ...` first line from Windows PowerShell 5.1 is
//!   skipped). `Status`: Delivered, Failed, Pending, Expanded, Quarantined, FilteredAsSpam, ...
//! - Exchange Online historical search ("summary report") downloads: `origin_timestamp_utc,
//!   sender_address, recipient_status, message_subject, ..., message_id, ...` where
//!   `recipient_status` is `addr##Receive, Deliver;addr2##Receive, Fail`.
//! - Google Workspace Email Log Search exports: `Message ID, Start date, End date, Sender,
//!   Message size, Subject, Direction, Attachments, Recipient address, Event target, ...`.

use mistype::parse_address_list;

use super::record::{bare, clip, Field, Loc, Message, Rcpt, Skip, Status};
use super::timestamp;

/// Longest CSV record read (a quoted field may span lines); longer ones are skipped.
pub const MAX_RECORD: usize = 1 << 20;

/// Split one CSV record (RFC 4180: `"` quotes, `""` inside quotes) into fields.
pub fn fields(record: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = record.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cur.trim().is_empty() => {
                cur.clear();
                quoted = true;
            }
            (',', false) => out.push(std::mem::take(&mut cur)),
            ('\r' | '\n', false) => {}
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Whether a record's quotes are still open at its end (the record continues on the next line).
pub fn quotes_open(record: &[u8]) -> bool {
    record.iter().filter(|&&b| b == b'"').count() % 2 == 1
}

fn norm(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Where each needed column is in a header row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    sender: usize,
    recipient: usize,
    /// `recipient_status` (`addr##events;...`) rather than one address or a list.
    recipient_status: bool,
    time: Option<usize>,
    status: Option<usize>,
    message_id: Option<usize>,
}

fn find(cols: &[String], names: &[&str]) -> Option<usize> {
    names.iter().find_map(|n| cols.iter().position(|c| c == n))
}

impl Layout {
    /// The layout of a header row, or why it is not one this reader knows.
    pub fn from_header(header: &str) -> Result<Layout, String> {
        let cols: Vec<String> = fields(header).iter().map(|c| norm(c)).collect();
        let sender = find(
            &cols,
            &["senderaddress", "sender", "from", "fromaddress", "mailfrom"],
        );
        let (recipient, recipient_status) = match find(
            &cols,
            &[
                "recipientaddress",
                "recipient",
                "recipients",
                "to",
                "toaddress",
                "rcptto",
            ],
        ) {
            Some(i) => (Some(i), false),
            None => (find(&cols, &["recipientstatus"]), true),
        };
        let (Some(sender), Some(recipient)) = (sender, recipient) else {
            return Err(format!(
                "a CSV header without {} column: '{}'; expected a message trace (SenderAddress, RecipientAddress) or an email log search export (Sender, Recipient address)",
                if sender.is_none() { "a sender" } else { "a recipient" },
                clip(header.trim(), 160)
            ));
        };
        Ok(Layout {
            sender,
            recipient,
            recipient_status,
            time: find(
                &cols,
                &[
                    "received",
                    "receiveddatetime",
                    "origintimestamputc",
                    "datetimeutc",
                    "datetime",
                    "date",
                    "startdate",
                    "timestamp",
                    "time",
                ],
            ),
            status: find(
                &cols,
                &[
                    "status",
                    "deliverystatus",
                    "eventstatus",
                    "eventtarget",
                    "eventid",
                ],
            ),
            message_id: find(&cols, &["messageid", "internetmessageid"]),
        })
    }

    /// One data row as a message.
    pub fn row(&self, record: &str, loc: Loc) -> Result<(Message, Vec<Skip>), String> {
        let f = fields(record);
        let get = |i: usize| f.get(i).map(|s| s.trim()).unwrap_or("");
        if f.len() <= self.sender.max(self.recipient) {
            return Err(format!(
                "a row of {} fields where the header has at least {}: '{}'",
                f.len(),
                self.sender.max(self.recipient) + 1,
                clip(record.trim(), 120)
            ));
        }
        let status = self
            .status
            .map(|i| status_word(get(i)))
            .unwrap_or(Status::Unknown);
        let mut msg = Message {
            loc,
            time: self.time.and_then(|i| timestamp::parse(get(i))),
            sender: parse_address_list(get(self.sender))
                .into_iter()
                .find_map(Result::ok)
                .map(|m| m.address())
                .or_else(|| {
                    bare(get(self.sender))
                        .filter(|s| s.contains('@'))
                        .map(str::to_string)
                }),
            message_id: self
                .message_id
                .map(|i| {
                    get(i)
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .to_string()
                })
                .filter(|s| !s.is_empty()),
            rcpts: Vec::new(),
        };
        let mut skips = Vec::new();
        let mut push = |address: String, status: Status| {
            if !msg.rcpts.iter().any(|r| r.address == address) {
                msg.rcpts.push(Rcpt {
                    address,
                    name: None,
                    field: Field::Envelope,
                    status,
                    confirmed: false,
                    loc,
                });
            }
        };
        if self.recipient_status {
            for part in get(self.recipient)
                .split(';')
                .filter(|p| !p.trim().is_empty())
            {
                let (addr, events) = part.split_once("##").unwrap_or((part, ""));
                let st = events
                    .split(',')
                    .map(|e| status_word(e.trim()))
                    .filter(|s| *s != Status::Unknown)
                    .max_by_key(|s| match s {
                        Status::Delivered | Status::Bounced => 2,
                        _ => 1,
                    })
                    .unwrap_or(Status::Unknown);
                match bare(addr) {
                    Some(a) if a.contains('@') => push(a.to_string(), st),
                    _ => skips.push(Skip::new(
                        loc,
                        format!("recipient_status: '{}' is not an address", clip(part, 80)),
                    )),
                }
            }
        } else {
            // One address, or a list (Google's export joins recipients with commas).
            for r in parse_address_list(&get(self.recipient).replace(';', ",")) {
                match r {
                    Ok(m) => push(m.address(), status),
                    Err(e) => skips.push(Skip::new(
                        loc,
                        format!("recipient '{}': {}", clip(&e.input, 80), e.message),
                    )),
                }
            }
        }
        if msg.rcpts.is_empty() && skips.is_empty() {
            return Err(format!(
                "a row without a recipient: '{}'",
                clip(record.trim(), 120)
            ));
        }
        Ok((msg, skips))
    }
}

/// A vendor's status or event word as a delivery status.
fn status_word(s: &str) -> Status {
    match norm(s).as_str() {
        "delivered" | "deliver" | "send" | "sent" | "expanded" | "relayed" | "resolved"
        | "smtpout" | "gmailinbox" | "delivery" => Status::Delivered,
        "failed" | "fail" | "bounced" | "bounce" | "rejected" | "dropped" | "quarantined"
        | "filteredasspam" | "badmail" | "gmailspam" => Status::Bounced,
        "pending" | "deferred" | "defer" | "gettingstatus" | "queued" => Status::Deferred,
        _ => Status::Unknown,
    }
}

/// Whether the first line of an input is a CSV header this reader knows.
pub fn looks_like(first_line: &str) -> bool {
    first_line.contains(',') && Layout::from_header(first_line).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_quoted_fields() {
        assert_eq!(
            fields(r#"a,"b, c","d ""e""",,f"#),
            vec!["a", "b, c", "d \"e\"", "", "f"]
        );
        assert_eq!(fields("x\r\n"), vec!["x"]);
        assert!(quotes_open(br#"a,"b"#));
        assert!(!quotes_open(br#"a,"b""c""#));
    }

    #[test]
    fn status_words() {
        assert_eq!(status_word("Delivered"), Status::Delivered);
        assert_eq!(status_word("FilteredAsSpam"), Status::Bounced);
        assert_eq!(status_word("GettingStatus"), Status::Deferred);
        assert_eq!(status_word("None"), Status::Unknown);
    }

    #[test]
    fn rejects_headers_without_addresses() {
        assert!(Layout::from_header("a,b,c").is_err());
        assert!(!looks_like("Received,Subject"));
    }
}
