//! What every reader produces: messages with a sender and recipients, where each came from, and
//! the lines or messages that could not be read.

/// Where something was read: an input (file, member of a Maildir, standard input) and a line
/// number in it (1-based; 0 when the whole input is meant, as for one message file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Loc {
    /// Index into the run's list of input names.
    pub input: u32,
    /// Line number, 1-based; 0 for the input as a whole.
    pub line: u64,
}

/// What happened to the mail for one recipient, when the input says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Accepted by the next hop or delivered.
    Delivered,
    /// Refused for good (bounced, failed, rejected).
    Bounced,
    /// Not yet delivered when the input ends (deferred, queued, pending).
    Deferred,
    /// Refused at submission by mistype-smtpd (the sender was told why; nothing left).
    Refused,
    /// The input does not say (a Sent folder, a message file).
    Unknown,
}

impl Status {
    /// The name used in JSON and CSV output.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Delivered => "delivered",
            Status::Bounced => "bounced",
            Status::Deferred => "deferred",
            Status::Refused => "refused",
            Status::Unknown => "unknown",
        }
    }
}

/// Which header or log field named a recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The envelope (a mail log, a message trace).
    Envelope,
    /// `To:`.
    To,
    /// `Cc:`.
    Cc,
    /// `Bcc:`.
    Bcc,
    /// `Resent-To:`, `Resent-Cc:`, `Resent-Bcc:`.
    Resent,
}

impl Field {
    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Envelope => "envelope",
            Field::To => "to",
            Field::Cc => "cc",
            Field::Bcc => "bcc",
            Field::Resent => "resent",
        }
    }
}

/// One recipient of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rcpt {
    /// The bare address `local@domain` as written.
    pub address: String,
    /// The display name, decoded (RFC 2047), when the input has one.
    pub name: Option<String>,
    /// The field that named it.
    pub field: Field,
    /// What happened to the mail for this recipient.
    pub status: Status,
    /// Sent again by the sender after mistype-smtpd refused it, and let through (the log names
    /// it in an `X-Mistype: confirmed` header line).
    pub confirmed: bool,
    /// Where it was read.
    pub loc: Loc,
}

/// One message as read from any input.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// Where the message starts.
    pub loc: Loc,
    /// When it was sent or logged, as a sortable text (see `timestamp`).
    pub time: Option<String>,
    /// The sender's bare address (`From:`/`Sender:` or the envelope sender); `None` for the
    /// null sender of bounces.
    pub sender: Option<String>,
    /// The Message-ID, without angle brackets.
    pub message_id: Option<String>,
    /// The recipients, each once, in the order read.
    pub rcpts: Vec<Rcpt>,
}

/// A line, message or input that could not be read: counted and reported, never fatal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// Where.
    pub loc: Loc,
    /// Why, naming the bad input.
    pub reason: String,
}

impl Skip {
    /// A skip at `loc` for `reason`.
    pub fn new(loc: Loc, reason: impl Into<String>) -> Skip {
        Skip {
            loc,
            reason: reason.into(),
        }
    }
}

/// Bare address from a log field: trims angle brackets and spaces; `None` when empty (`<>`).
pub fn bare(addr: &str) -> Option<&str> {
    let a = addr.trim();
    let a = a.strip_prefix('<').unwrap_or(a);
    let a = a.strip_suffix('>').unwrap_or(a).trim();
    (!a.is_empty()).then_some(a)
}

/// The domain of a bare address: what follows the last `@`.
pub fn domain_of(addr: &str) -> Option<&str> {
    addr.rfind('@')
        .map(|i| &addr[i + 1..])
        .filter(|d| !d.is_empty())
}

/// `s` cut to at most `max` characters, with `…` when cut.
pub fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((i, _)) => format!("{}…", &s[..i]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_addresses() {
        assert_eq!(bare("<a@b.org>"), Some("a@b.org"));
        assert_eq!(bare(" a@b.org "), Some("a@b.org"));
        assert_eq!(bare("<>"), None);
        assert_eq!(domain_of("\"x@y\"@b.org"), Some("b.org"));
        assert_eq!(domain_of("nobody"), None);
        assert_eq!(domain_of("a@"), None);
    }
}
