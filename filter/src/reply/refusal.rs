//! A refusal before it is put in an API's dialect: why the filter answers a send itself
//! ([`Code`]), what it says ([`Refusal`]), and the sentence that names a blocked send's
//! misaddressed recipients ([`block_message`]).

use crate::send::Api;
use mistype::Finding;
use serde_json::{Map, Value};

/// Why the filter answers a send itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// Misaddressed: the verdict blocks it.
    Misaddressed,
    /// A recognised send that cannot be parsed.
    Unparseable,
    /// A send whose body is compressed (`content-encoding`), which the filter does not read.
    Encoded,
    /// Above `max_body_bytes`.
    TooLarge,
    /// A stored message's recipients could not be looked up.
    LookupFailed,
    /// The held send got no body from Envoy (see `crate::stall`).
    Stalled,
}

impl Code {
    /// The machine-readable code.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Misaddressed => "misaddressed_recipient",
            Code::Unparseable => "unparseable_send",
            Code::Encoded => "encoded_send",
            Code::TooLarge => "body_too_large",
            Code::LookupFailed => "lookup_failed",
            Code::Stalled => "send_stalled",
        }
    }
}

/// A local reply before it is put in an API's dialect.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    /// HTTP status (JMAP blocks answer `200` with the refusal inside the JMAP response).
    pub status: u32,
    /// Why.
    pub code: Code,
    /// One sentence for the person at the keyboard.
    pub message: String,
    /// The details: for a block the verdict (plus `confirm`, `confirm_error`); otherwise `api`
    /// and what else there is to say (`max_body_bytes`).
    pub details: Map<String, Value>,
}

impl Refusal {
    /// A refusal of a send through `api` that was not judged (too large, unparseable, not looked
    /// up): its details name the API.
    pub fn unjudged(status: u32, code: Code, message: String, api: Api) -> Refusal {
        let mut details = Map::new();
        details.insert("api".into(), Value::String(api.name().into()));
        Refusal {
            status,
            code,
            message,
            details,
        }
    }
}

/// The sentence for a blocked send: each misaddressed recipient of `refused` (at most three), what
/// was meant and why, and how to confirm when a token comes with the reply. `forwarding`: the
/// request saves a rule or setting that forwards mail to them (`Send::forwarding`), which is then
/// not saved, rather than a message that is not sent.
pub fn block_message(refused: &[&Finding], confirmable: bool, forwarding: bool) -> String {
    let parts: Vec<String> = refused
        .iter()
        .take(3)
        .map(|f| match &f.suggestion {
            Some(s) => format!("{} — did you mean {s}? {}", f.address, f.reason),
            None => format!("{} — {}", f.address, f.reason),
        })
        .collect();
    let mut m = format!(
        "{}misaddressed recipient{}: {}.",
        if forwarding {
            "Not saved: mail would be forwarded to a "
        } else {
            "Not sent: "
        },
        if parts.len() == 1 { "" } else { "s" },
        parts.join("; ")
    );
    let more = refused.len().saturating_sub(parts.len());
    if more > 0 {
        m.push_str(&format!(" ({more} more in the details.)"));
    }
    if confirmable {
        m.push_str(if forwarding {
            " To save it as written, confirm and save again."
        } else {
            " To send it as written, confirm and send again."
        });
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use mistype::{Kind, Severity};

    fn finding(addr: &str, intended: &str) -> Finding {
        let (local, domain) = addr.split_once('@').unwrap();
        Finding {
            recipient: addr.into(),
            address: addr.into(),
            domain: domain.into(),
            kind: Kind::LabelTypo,
            severity: Severity::Block,
            suggestion: Some(format!("{local}@{intended}")),
            intended: Some(intended.into()),
            score: 0.97,
            reason: format!("{domain} looks like {intended}"),
        }
    }

    #[test]
    fn block_message_names_typed_and_meant() {
        let navy = finding("j.smith@navy.ml", "navy.mil");
        let gmial = finding("x@gmial.com", "gmail.com");
        assert_eq!(
            block_message(&[&navy], false, false),
            "Not sent: misaddressed recipient: j.smith@navy.ml — did you mean j.smith@navy.mil? navy.ml looks like navy.mil."
        );
        assert_eq!(
            block_message(&[&navy, &gmial], true, false),
            "Not sent: misaddressed recipients: j.smith@navy.ml — did you mean j.smith@navy.mil? \
             navy.ml looks like navy.mil; x@gmial.com — did you mean x@gmail.com? gmial.com looks \
             like gmail.com. To send it as written, confirm and send again."
        );
        let m = block_message(&[&navy, &navy, &navy, &gmial, &gmial], false, false);
        assert!(m.ends_with("navy.mil. (2 more in the details.)"), "{m}");
        assert!(!m.contains("gmial"), "{m}");
    }

    #[test]
    fn block_message_of_a_forwarding_rule_says_it_is_not_saved() {
        let navy = finding("j.smith@navy.ml", "navy.mil");
        assert_eq!(
            block_message(&[&navy], true, true),
            "Not saved: mail would be forwarded to a misaddressed recipient: j.smith@navy.ml — did \
             you mean j.smith@navy.mil? navy.ml looks like navy.mil. To save it as written, confirm \
             and save again."
        );
    }

    #[test]
    fn unjudged_refusals_name_the_api() {
        let r = Refusal::unjudged(413, Code::TooLarge, "M".into(), Api::Nextcloud);
        assert_eq!(
            r.details.get("api"),
            Some(&Value::String("nextcloud".into()))
        );
        assert_eq!(r.code.as_str(), "body_too_large");
    }
}
