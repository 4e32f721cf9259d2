//! The check request and the verdict: the one input shape and the one output shape that the CLI,
//! the Envoy filter and the browser module share (see `docs/contract.md`).

use serde::{Deserialize, Deserializer, Serialize};

/// How serious a finding is. Ordered: `Allow < Warn < Block`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Nothing wrong was found.
    Allow,
    /// Probably a slip: tell the sender, let the mail go.
    Warn,
    /// Almost certainly a slip towards a protected destination: stop the mail until confirmed.
    Block,
}

impl Severity {
    /// Every severity, in order.
    pub const ALL: [Severity; 3] = [Severity::Allow, Severity::Warn, Severity::Block];

    /// The lower-case name used in JSON (`allow`, `warn`, `block`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Allow => "allow",
            Severity::Warn => "warn",
            Severity::Block => "block",
        }
    }
}

/// The kind of slip a finding names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The public suffix was mistyped and the typed one exists: `navy.ml` for `navy.mil`,
    /// `gmail.co` for `gmail.com`, `army.ml` for `army.nl`.
    SuffixTypo,
    /// The registrable label was mistyped: `gmial.com`, `amry.mil`.
    LabelTypo,
    /// A dot between labels is missing: `usaf.mil` for `us.af.mil`, `seibm.com` for `se.ibm.com`.
    MissingDot,
    /// A homoglyph of the intended domain: `arrny.mil`, `gmai1.com`, Cyrillic `аrmy.mil`, or a
    /// label that mixes scripts.
    Lookalike,
    /// The intended domain is embedded in another one: `army.mil.ml`, `army-mil.com`.
    Embedded,
    /// The domain cannot exist (no such public suffix, or no suffix at all): `gmail.cmo`, `navy.mi`.
    InvalidDomain,
    /// A policy rule matched the sender and the destination (`*.mil` senders to `*.ml`).
    RiskyDestination,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 7] = [
        Kind::SuffixTypo,
        Kind::LabelTypo,
        Kind::MissingDot,
        Kind::Lookalike,
        Kind::Embedded,
        Kind::InvalidDomain,
        Kind::RiskyDestination,
    ];

    /// The kebab-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SuffixTypo => "suffix-typo",
            Kind::LabelTypo => "label-typo",
            Kind::MissingDot => "missing-dot",
            Kind::Lookalike => "lookalike",
            Kind::Embedded => "embedded",
            Kind::InvalidDomain => "invalid-domain",
            Kind::RiskyDestination => "risky-destination",
        }
    }
}

/// The score from which a `warn` finding is sure enough to stop a send: the filter refuses such
/// warnings by default (its `block_warn_score`) and `mistype learn` never learns their domains.
/// A warning only worth a check scores below it (see `docs/contract.md`).
pub const SURE_WARNING_SCORE: f64 = 0.65;

/// How a mail server's refusal of a misaddressed recipient tells the sender to confirm it
/// (`mistype-smtpd` ends every refusal with this and the window, "... within 10 minutes."), and
/// so how `mistype audit` tells those refusals in a mail log from the server's other ones.
pub const RESEND_TO_CONFIRM: &str = "To send it as written, send it again within";

/// One recipient that looks misaddressed. Every key is always serialised (`null` when empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The recipient exactly as given (display name and all).
    pub recipient: String,
    /// The bare address `local@domain`, domain lower-cased, in Unicode form for IDNs.
    pub address: String,
    /// The recipient's domain (lower case; Unicode form for IDNs).
    pub domain: String,
    /// What kind of slip this is.
    pub kind: Kind,
    /// `warn` or `block`.
    pub severity: Severity,
    /// The address the sender probably meant: the local part as typed, the intended domain.
    pub suggestion: Option<String>,
    /// The domain the sender probably meant.
    pub intended: Option<String>,
    /// Confidence that this is a slip, 0 to 1 (two decimals).
    pub score: f64,
    /// One sentence a person can act on.
    pub reason: String,
}

/// Why a recipient (or the sender) could not be judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecipientErrorKind {
    /// Not an address: `bad@@`, an empty entry, an unclosed quote or bracket.
    Syntax,
    /// An address, local part or list over the RFC 5321 lengths.
    TooLong,
    /// An address whose domain is not a usable domain name (`a..b`, an address literal).
    Domain,
    /// More recipients than one request may hold; the rest were not judged.
    Limit,
    /// The sender (`from`) could not be read; the recipients were judged without its context.
    Sender,
}

impl RecipientErrorKind {
    /// Every error kind.
    pub const ALL: [RecipientErrorKind; 5] = [
        RecipientErrorKind::Syntax,
        RecipientErrorKind::TooLong,
        RecipientErrorKind::Domain,
        RecipientErrorKind::Limit,
        RecipientErrorKind::Sender,
    ];

    /// The kebab-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientErrorKind::Syntax => "syntax",
            RecipientErrorKind::TooLong => "too-long",
            RecipientErrorKind::Domain => "domain",
            RecipientErrorKind::Limit => "limit",
            RecipientErrorKind::Sender => "sender",
        }
    }
}

/// `Display` writes the name used in JSON (`as_str`).
macro_rules! display_json_name {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

display_json_name!(Severity, Kind, RecipientErrorKind);

/// A recipient that could not be judged: unparseable, too long, an impossible domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientError {
    /// The recipient as given (cut to 256 characters when longer).
    pub recipient: String,
    /// What kind of problem it is.
    pub kind: RecipientErrorKind,
    /// What is wrong, naming the input.
    pub message: String,
}

/// The answer for one check request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The request's `id`, echoed back (`null` when absent).
    pub id: serde_json::Value,
    /// The most severe finding's severity; `allow` when there is none.
    pub verdict: Severity,
    /// The findings, in recipient order (to, cc, bcc).
    pub findings: Vec<Finding>,
    /// Recipients that could not be judged.
    pub errors: Vec<RecipientError>,
}

impl Verdict {
    /// A verdict with no findings and no errors.
    pub fn empty(id: serde_json::Value) -> Verdict {
        Verdict {
            id,
            verdict: Severity::Allow,
            findings: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Recompute `verdict` from the findings.
    pub(crate) fn settle(&mut self) {
        self.verdict = self
            .findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Allow);
    }
}

/// One check request: the sender, the recipients and the sender's contacts.
///
/// Every key but `to` is optional. Each recipient entry may itself be an RFC 5322 address list
/// (`"A <a@x.org>, b@y.org"`), and `to`/`cc`/`bcc` also accept a single string. Unknown keys are
/// ignored so that clients can add their own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckRequest {
    /// Echoed back in the verdict.
    #[serde(default)]
    pub id: serde_json::Value,
    /// The sender's mailbox (`"Sgt Ray <ray.k@army.mil>"`).
    #[serde(default, deserialize_with = "opt_string")]
    pub from: Option<String>,
    /// Primary recipients.
    #[serde(deserialize_with = "string_list")]
    pub to: Vec<String>,
    /// Carbon-copy recipients.
    #[serde(default, deserialize_with = "string_list")]
    pub cc: Vec<String>,
    /// Blind-copy recipients.
    #[serde(default, deserialize_with = "string_list")]
    pub bcc: Vec<String>,
    /// Addresses or bare domains the sender already corresponds with.
    #[serde(default, deserialize_with = "string_list")]
    pub contacts: Vec<String>,
}

impl CheckRequest {
    /// Parse one request from JSON, with an error that says which key is wrong.
    pub fn from_json(text: &str) -> Result<CheckRequest, crate::Error> {
        serde_json::from_str(text).map_err(|e| {
            crate::Error::new(
                crate::ErrorKind::Request,
                format!("not a check request ({e}); expected {{\"to\": [\"addr\", ...], \"from\"?: \"addr\", \"cc\"?: [...], \"bcc\"?: [...], \"contacts\"?: [...]}}"),
            )
        })
    }

    /// All recipients in order: to, then cc, then bcc.
    pub fn recipients(&self) -> impl Iterator<Item = &str> {
        self.to
            .iter()
            .chain(self.cc.iter())
            .chain(self.bcc.iter())
            .map(String::as_str)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
    Null(()),
}

fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match OneOrMany::deserialize(d) {
        Ok(OneOrMany::One(s)) => Ok(vec![s]),
        Ok(OneOrMany::Many(v)) => Ok(v),
        Ok(OneOrMany::Null(())) => Ok(Vec::new()),
        Err(_) => Err(serde::de::Error::custom(
            "expected a string or an array of strings",
        )),
    }
}

fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
        .map_err(|_| serde::de::Error::custom("expected a string (the sender's address) or null"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json<T: Serialize>(v: &T) -> String {
        serde_json::to_string(v).unwrap()
    }

    #[test]
    fn json_names_are_the_display_names() {
        for s in Severity::ALL {
            assert_eq!(json(&s), format!("\"{s}\""));
        }
        for k in Kind::ALL {
            assert_eq!(json(&k), format!("\"{k}\""));
        }
        for k in RecipientErrorKind::ALL {
            assert_eq!(json(&k), format!("\"{k}\""));
            assert_eq!(
                serde_json::from_str::<RecipientErrorKind>(&json(&k)).unwrap(),
                k
            );
        }
    }
}
