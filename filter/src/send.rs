//! What a send is, whatever API it came through: the API ([`Api`]), the recipients and sender
//! it names ([`Send`]), the stored messages it sends by reference ([`Reference`]), why a body or a
//! stored message could not be read ([`ExtractError`], [`LookupError`]), and the ids a request
//! names, checked and encoded ([`checked_id`], [`encode_segment`]).
//!
//! Every other module of the filter builds on these types; this one uses none of them.

use mistype::{text, CheckRequest, Engine, Verdict};
use serde_json::Value;

/// The send APIs the filter understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Api {
    /// JMAP (RFC 8621): `Email/set` + `EmailSubmission/set`.
    Jmap,
    /// Microsoft Graph: `sendMail`, `reply`/`replyAll`/`forward`, `$batch`.
    Graph,
    /// Gmail API: `messages.send`, `drafts.send`, and their `/upload` variants.
    Gmail,
    /// Roundcube's compose form (`_task=mail&_action=send`).
    Roundcube,
    /// SnappyMail / RainLoop `SendMessage`.
    Snappymail,
    /// Nextcloud Mail's outbox.
    Nextcloud,
    /// SOGo's `.../send`.
    Sogo,
    /// The check-request JSON of `docs/contract.md` on `check_path`.
    Check,
}

impl Api {
    /// Every API, in the order they are documented (and of [`Api::index`]).
    pub const ALL: [Api; 8] = [
        Api::Jmap,
        Api::Graph,
        Api::Gmail,
        Api::Roundcube,
        Api::Snappymail,
        Api::Nextcloud,
        Api::Sogo,
        Api::Check,
    ];

    /// The webmail APIs that `apis` in the configuration enables: every API but `check`, which
    /// has its own paths (`check_path`, `verdict_path`).
    pub const WEBMAIL: [Api; 7] = [
        Api::Jmap,
        Api::Graph,
        Api::Gmail,
        Api::Roundcube,
        Api::Snappymail,
        Api::Nextcloud,
        Api::Sogo,
    ];

    /// The name used in the configuration, in metrics and in replies.
    pub fn name(self) -> &'static str {
        match self {
            Api::Jmap => "jmap",
            Api::Graph => "graph",
            Api::Gmail => "gmail",
            Api::Roundcube => "roundcube",
            Api::Snappymail => "snappymail",
            Api::Nextcloud => "nextcloud",
            Api::Sogo => "sogo",
            Api::Check => "check",
        }
    }

    /// The API with this configuration name.
    pub fn from_name(name: &str) -> Option<Api> {
        Api::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The position of this API in [`Api::ALL`] (for per-API tables).
    pub fn index(self) -> usize {
        match self {
            Api::Jmap => 0,
            Api::Graph => 1,
            Api::Gmail => 2,
            Api::Roundcube => 3,
            Api::Snappymail => 4,
            Api::Nextcloud => 5,
            Api::Sogo => 6,
            Api::Check => 7,
        }
    }

    /// The path prefixes this API is recognised under when the configuration does not say.
    pub fn default_prefixes(self) -> &'static [&'static str] {
        match self {
            Api::Jmap => &["/jmap"],
            Api::Graph => &["/v1.0", "/beta"],
            Api::Gmail => &[""],
            Api::Roundcube => &["/"],
            Api::Snappymail => &["/"],
            Api::Nextcloud => &["/index.php/apps/mail", "/apps/mail"],
            Api::Sogo => &["/SOGo/so/"],
            Api::Check => &[],
        }
    }
}

/// One method call of a JMAP request, as a refusal needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodCall {
    /// The method name (`EmailSubmission/set`).
    pub name: String,
    /// The client's call id.
    pub id: String,
    /// The `accountId` argument (of an `EmailSubmission/set`, which a refusal answers with it).
    pub account_id: Option<String>,
    /// The creation ids of an `EmailSubmission/set`'s `create` argument.
    pub creates: Vec<String>,
}

/// A Roundcube request made by its `http_post` (`_remote=1`), whose answer Roundcube reads as
/// JSON: the action it was posted to, and the lock it releases (`_unlock`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteCall {
    /// `bounce` (Roundcube's "Bounce", which resends a stored message) or `send`.
    pub action: &'static str,
    /// The client's `_unlock` value.
    pub unlock: String,
}

/// A recognised send: who it goes to, and who sends it when the message says so.
#[derive(Clone, Debug, PartialEq)]
pub struct Send {
    /// The API it came through.
    pub api: Api,
    /// The check request's `id` (only the `check` API carries one).
    pub id: Value,
    /// The sender as the message states it (`From`, `envelope.mailFrom`, ...), if it does.
    pub from: Option<String>,
    /// `To` recipients: each string is one RFC 5322 mailbox or address list.
    pub to: Vec<String>,
    /// `Cc` recipients.
    pub cc: Vec<String>,
    /// `Bcc` recipients (and envelope recipients).
    pub bcc: Vec<String>,
    /// Contacts (only the `check` API carries them).
    pub contacts: Vec<String>,
    /// A confirm token carried in the body by a form-posting client that cannot add a request
    /// header (Roundcube's `_mistype_confirm`).
    pub confirm: Option<String>,
    /// The client reads the reply in a hidden iframe (Roundcube's `_framed=1`): a block is
    /// answered with a page it displays.
    pub framed: bool,
    /// The client is Roundcube's `http_post`: a block is answered with the JSON it reads.
    pub remote: Option<RemoteCall>,
    /// `from` is only what a compose-window plugin says (Roundcube's `_mistype_from`), not the
    /// message's own sender: it is not used when `sender_header` is configured.
    pub from_is_hint: bool,
    /// Stored messages the request sends by reference: their recipients are looked up
    /// (`crate::lookup`) and merged in before the send is judged.
    pub references: Vec<Reference>,
    /// The JMAP request's method calls, so that a refusal can answer each in JMAP's terms.
    pub calls: Vec<MethodCall>,
    /// The recipients are where a standing rule or setting forwards the mailbox's mail from now
    /// on (a Graph message rule, Gmail's forwarding address, filter or automatic forwarding),
    /// not those of a message sent now: a refusal says the rule is not saved.
    pub forwarding: bool,
}

impl Send {
    /// An empty send through `api`: no recipients yet.
    pub fn new(api: Api) -> Send {
        Send {
            api,
            id: Value::Null,
            from: None,
            to: Vec::new(),
            cc: Vec::new(),
            bcc: Vec::new(),
            contacts: Vec::new(),
            confirm: None,
            framed: false,
            remote: None,
            from_is_hint: false,
            references: Vec::new(),
            calls: Vec::new(),
            forwarding: false,
        }
    }

    /// Every recipient string (to, cc, bcc).
    pub fn recipients(&self) -> impl Iterator<Item = &str> {
        self.to
            .iter()
            .chain(&self.cc)
            .chain(&self.bcc)
            .map(String::as_str)
    }

    /// True when the request names no recipient at all (sending a saved draft by id).
    pub fn has_no_recipients(&self) -> bool {
        self.recipients().all(text::is_blank)
    }

    /// Adds everything `other` carries (a nested send of a batch).
    pub fn merge(&mut self, other: Send) {
        if self.from.is_none() {
            self.from = other.from;
        }
        self.to.extend(other.to);
        self.cc.extend(other.cc);
        self.bcc.extend(other.bcc);
        self.contacts.extend(other.contacts);
        self.references.extend(other.references);
        // (A batch that also sends a message is refused as a send.)
        self.forwarding &= other.forwarding;
    }

    /// The sender the check uses: `sender` (from the authenticating layer's header) wins over
    /// the sender the message states. Empty form fields (`_cc=`) are not recipients nor a
    /// sender; a check request (`Api::Check`) is taken exactly as written, so that the filter's
    /// verdict is the native engine's for the same request.
    fn checked_from<'s>(&'s self, sender: Option<&'s str>) -> Option<&'s str> {
        let exact = self.api == Api::Check;
        sender
            .or(self.from.as_deref())
            .filter(|f| exact || !text::is_blank(f))
    }

    /// The recipients the check judges, in order (to, cc, bcc; see [`Send::checked_from`]).
    fn checked_recipients<'s>(&'s self, field: &'s [String]) -> impl Iterator<Item = &'s str> {
        let exact = self.api == Api::Check;
        field
            .iter()
            .map(String::as_str)
            .filter(move |s| exact || !text::is_blank(s))
    }

    /// The check request for the core (the parts [`Send::check`] judges, copied).
    pub fn to_request(&self, sender: Option<&str>) -> CheckRequest {
        let owned = |field: &[String]| -> Vec<String> {
            self.checked_recipients(field).map(str::to_string).collect()
        };
        CheckRequest {
            id: self.id.clone(),
            from: self.checked_from(sender).map(str::to_string),
            to: owned(&self.to),
            cc: owned(&self.cc),
            bcc: owned(&self.bcc),
            contacts: self.contacts.clone(),
        }
    }

    /// The core's verdict on this send, judged from its parts in place: the verdict of
    /// `engine.check(&self.to_request(sender))`, without copying the request.
    pub fn check(&self, engine: &Engine, sender: Option<&str>) -> Verdict {
        let recipients = self
            .checked_recipients(&self.to)
            .chain(self.checked_recipients(&self.cc))
            .chain(self.checked_recipients(&self.bcc));
        engine.check_parts(
            self.id.clone(),
            self.checked_from(sender),
            recipients,
            &self.contacts,
        )
    }
}

/// A recognised send whose body cannot be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtractError {
    /// The API it came through.
    pub api: Api,
    /// What is wrong, for the reply and the log.
    pub message: String,
}

impl ExtractError {
    /// The error of a send through `api`.
    pub fn new(api: Api, message: impl Into<String>) -> ExtractError {
        ExtractError {
            api,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ExtractError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.api.name(), self.message)
    }
}

impl std::error::Error for ExtractError {}

/// A message stored on the mail server that a send names instead of its recipients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reference {
    /// A Graph message: `{base}/messages/{id}`, `base` being `/v1.0/me` or `/v1.0/users/{u}`.
    GraphMessage {
        /// The owner's resource path, already encoded.
        base: String,
        /// The message id, as the request named it (decoded).
        id: String,
    },
    /// A Graph message rule being changed: `{base}/mailFolders/{folder}/messageRules/{id}`. What
    /// it forwards to after the change is what the change sets and, for the rest, what the
    /// stored rule holds, while it is enabled.
    GraphRule {
        /// The owner's resource path, already encoded.
        base: String,
        /// The mail folder's id (decoded).
        folder: String,
        /// The rule's id (decoded).
        id: String,
        /// Which forwarding actions the change sets itself (`forwardTo`, `forwardAsAttachmentTo`,
        /// `redirectTo`): the stored rule's are not read for those.
        set: [bool; 3],
        /// Whether the change switches the rule on (`Some(true)`); `None` when it keeps the
        /// stored rule's `isEnabled`.
        enabled: Option<bool>,
    },
    /// A Gmail draft: `{base}/drafts/{id}`, `base` being `/gmail/v1/users/{u}`.
    GmailDraft {
        /// The user's resource path, already encoded.
        base: String,
        /// The draft id.
        id: String,
    },
    /// JMAP Emails of one account, read with `Email/get` on the request's own API URL.
    JmapEmails {
        /// The API URL path the request was posted to.
        api_path: String,
        /// The account the submission names.
        account_id: String,
        /// The Email ids.
        ids: Vec<String>,
    },
    /// A Nextcloud Mail outbox entry: `{base}/{id}`, `base` being `.../api/outbox`.
    NextcloudOutbox {
        /// The outbox collection path.
        base: String,
        /// The entry id.
        id: String,
    },
}

impl Reference {
    /// The API whose mail server holds the message.
    pub fn api(&self) -> Api {
        match self {
            Reference::GraphMessage { .. } | Reference::GraphRule { .. } => Api::Graph,
            Reference::GmailDraft { .. } => Api::Gmail,
            Reference::JmapEmails { .. } => Api::Jmap,
            Reference::NextcloudOutbox { .. } => Api::Nextcloud,
        }
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reference::GraphMessage { id, .. } => write!(f, "Graph message {id}"),
            Reference::GraphRule { id, .. } => write!(f, "Graph message rule {id}"),
            Reference::GmailDraft { id, .. } => write!(f, "Gmail draft {id}"),
            Reference::JmapEmails { ids, .. } => write!(f, "JMAP Email {}", ids.join(", ")),
            Reference::NextcloudOutbox { id, .. } => write!(f, "Nextcloud outbox message {id}"),
        }
    }
}

/// Why a lookup gave no recipients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LookupError {
    /// No answer: the call could not be made, failed or timed out.
    NoAnswer,
    /// The mail server answered with this non-2xx status.
    Status(u32),
    /// The answer could not be read.
    Unreadable(String),
    /// The message is not there (or not visible to this user).
    NotFound(String),
    /// The call was not made: the request's credential header (named) is not UTF-8, which the
    /// proxy's call API cannot carry, and an altered credential would not be the user's.
    NotForwarded(String),
}

impl LookupError {
    /// A short machine-readable reason (logs, replies).
    pub fn reason(&self) -> &'static str {
        match self {
            LookupError::NoAnswer => "no_answer",
            LookupError::Status(_) => "status",
            LookupError::Unreadable(_) => "unreadable",
            LookupError::NotFound(_) => "not_found",
            LookupError::NotForwarded(_) => "not_forwarded",
        }
    }
}

impl std::fmt::Display for LookupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LookupError::NoAnswer => f.write_str("the mail server did not answer in time"),
            LookupError::Status(s) => write!(f, "the mail server answered {s}"),
            LookupError::Unreadable(m) => write!(f, "the mail server's answer is unreadable: {m}"),
            LookupError::NotFound(m) => write!(f, "the mail server has no such message: {m}"),
            LookupError::NotForwarded(h) => write!(
                f,
                "the request's {h} header is not UTF-8, so the filter cannot forward it to the mail server"
            ),
        }
    }
}

/// The longest id accepted from a request (Graph message ids are about 150 characters).
pub const MAX_ID_LEN: usize = 1024;

/// True for a byte that needs no percent-encoding in a path segment (RFC 3986 unreserved).
fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Percent-encodes one path segment.
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if unreserved(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes of a path segment; `None` if an escape is broken or the result is
/// not UTF-8.
pub fn decode_segment(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// An id taken from a request, checked: not empty, not `.` or `..`, no control characters, at
/// most [`MAX_ID_LEN`] bytes. `what` names it in the error.
pub fn checked_id(api: Api, id: &str, what: &str) -> Result<String, ExtractError> {
    let bad = id.is_empty()
        || id == "."
        || id == ".."
        || id.len() > MAX_ID_LEN
        || id.chars().any(char::is_control);
    if bad {
        let shown: String = id.chars().take(40).collect();
        return Err(ExtractError::new(
            api,
            format!("{what} {shown:?} is not a message id"),
        ));
    }
    Ok(id.to_string())
}

/// A JMAP `Id` (RFC 8620 §1.2): 1 to 255 characters of `A-Za-z0-9_-`.
pub fn checked_jmap_id(id: &str, what: &str) -> Result<String, ExtractError> {
    let ok = !id.is_empty()
        && id.len() <= 255
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        let shown: String = id.chars().take(40).collect();
        return Err(ExtractError::new(
            Api::Jmap,
            format!("{what} {shown:?} is not a JMAP Id"),
        ));
    }
    Ok(id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_names_indexes_and_the_webmail_apis() {
        assert_eq!(
            Api::ALL.map(Api::name),
            [
                "jmap",
                "graph",
                "gmail",
                "roundcube",
                "snappymail",
                "nextcloud",
                "sogo",
                "check"
            ]
        );
        for (i, a) in Api::ALL.into_iter().enumerate() {
            assert_eq!(a.index(), i, "{a:?}");
            assert_eq!(Api::from_name(a.name()), Some(a));
        }
        assert_eq!(Api::from_name("outlook"), None);
        assert_eq!(
            Api::WEBMAIL.map(Api::name),
            [
                "jmap",
                "graph",
                "gmail",
                "roundcube",
                "snappymail",
                "nextcloud",
                "sogo"
            ]
        );
    }

    #[test]
    fn a_send_checked_in_place_has_the_verdict_of_its_check_request() {
        let engine = Engine::with_default_policy();
        let mut webmail = Send::new(Api::Sogo);
        webmail.from = Some("Sgt Ray <ray.k@army.mil>".into());
        webmail.to = vec!["j.smith@navy.ml".into(), " ".into(), "ops@army.mil".into()];
        webmail.cc = vec!["".into(), "friend@gmial.com".into()];
        webmail.bcc = vec!["log@army.nl".into()];
        webmail.contacts = vec!["army.nl".into()];
        webmail.id = serde_json::json!("m1");
        let mut blank_from = webmail.clone();
        blank_from.from = Some("  ".into());
        let mut check = Send::new(Api::Check);
        check.to = vec!["a@navy.ml".into(), "".into()];
        check.from = Some("".into());
        for s in [&webmail, &blank_from, &check, &Send::new(Api::Jmap)] {
            for sender in [None, Some("x@navy.mil"), Some(""), Some("y@army.nl")] {
                let want = engine.check(&s.to_request(sender));
                assert_eq!(s.check(&engine, sender), want, "{s:?} from {sender:?}");
            }
        }
        // (Not all alike: the cases reach different verdicts.)
        let v = webmail.check(&engine, None);
        assert!(!v.findings.is_empty(), "{v:?}");
        assert_ne!(v, webmail.check(&engine, Some("y@army.nl")));
    }

    #[test]
    fn to_request_prefers_the_header_sender() {
        let mut s = Send::new(Api::Sogo);
        s.from = Some("message@x.org".into());
        s.to = vec!["a@b.org".into(), " ".into()];
        assert_eq!(s.to_request(None).from.as_deref(), Some("message@x.org"));
        assert_eq!(
            s.to_request(Some("header@army.mil")).from.as_deref(),
            Some("header@army.mil")
        );
        assert_eq!(s.to_request(None).to, vec!["a@b.org"]);
        let mut c = Send::new(Api::Check);
        c.to = vec!["a@b.org".into(), "".into()];
        assert_eq!(c.to_request(None).to, vec!["a@b.org", ""]);
        assert!(!s.has_no_recipients());
        assert!(Send::new(Api::Sogo).has_no_recipients());
    }

    #[test]
    fn ids_are_checked_and_encoded() {
        assert_eq!(encode_segment("AAMk/a=b+c d"), "AAMk%2Fa%3Db%2Bc%20d");
        assert_eq!(encode_segment("r-123_x.y~"), "r-123_x.y~");
        assert_eq!(decode_segment("a%2Fb%40c").as_deref(), Some("a/b@c"));
        assert_eq!(decode_segment("a%2"), None);
        assert_eq!(decode_segment("a%zz"), None);
        assert!(checked_id(Api::Graph, "..", "id").is_err());
        assert!(checked_id(Api::Graph, "", "id").is_err());
        assert!(checked_id(Api::Graph, "a\nb", "id").is_err());
        assert!(checked_id(Api::Graph, &"x".repeat(MAX_ID_LEN + 1), "id").is_err());
        assert_eq!(
            checked_id(Api::Graph, "AAMk/x", "id").as_deref(),
            Ok("AAMk/x")
        );
        assert!(checked_jmap_id("Mf3a-_9", "emailId").is_ok());
        let e = checked_jmap_id("../x", "emailId").unwrap_err();
        assert!(e.message.contains("emailId \"../x\""), "{e}");
    }
}
