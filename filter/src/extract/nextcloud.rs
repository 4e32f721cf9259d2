//! Nextcloud Mail's outbox: `POST /api/outbox` (create) and `PUT /api/outbox/{id}` (update) carry
//! `to`/`cc`/`bcc` as `[{"label", "email"}]`. `POST /api/outbox/{id}` (send now) names no
//! recipients: the outbox entry is looked up ([`Reference::NextcloudOutbox`]).
//! `POST /api/outbox/from-draft/{id}` only moves a draft into the outbox (no recipients, no
//! send). The background job that sends at `sendAt` makes no HTTP request at all, so the
//! decision is taken on create and update.

use super::json::{Doc, Kind, Seg, Select};
use super::mime::format_mailbox;
use super::request::{err, fail, is_json, under, Head, Route};
use super::tree::{Val, View};
use crate::send::{self, Api, ExtractError, LookupError, Reference, Send};

const API: Api = Api::Nextcloud;

pub fn classify(head: &Head, prefix: &str) -> Option<Route> {
    let rest = under(head.path, prefix)?;
    let rest = rest.strip_prefix("/api/outbox")?;
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let post = head.method.eq_ignore_ascii_case("POST");
    let put = head.method.eq_ignore_ascii_case("PUT");
    match segs.as_slice() {
        [] if post && is_json(head.media_type) => Some(Route::NextcloudOutbox),
        [_id] if put && is_json(head.media_type) => Some(Route::NextcloudOutbox),
        [_id] if post => Some(Route::NextcloudById),
        ["from-draft", _id] if post => Some(Route::NextcloudById),
        _ => None,
    }
}

fn recipients(v: Option<Val>, at: &str, out: &mut Vec<String>) -> Result<(), ExtractError> {
    match v.map(|v| v.view()) {
        None | Some(View::Null) => Ok(()),
        Some(View::Array(items)) => {
            for (i, item) in items.items().enumerate() {
                match item.view() {
                    View::String(s) => out.push(s.to_owned()),
                    View::Object(o) => {
                        let Some(email) = o.get("email").and_then(|e| e.as_str()) else {
                            return fail(API, format_args!("{at}[{i}].email is not a string"));
                        };
                        out.push(format_mailbox(
                            o.get("label").and_then(|l| l.as_str()),
                            email,
                        ));
                    }
                    _ => return fail(API, format_args!("{at}[{i}] is not a recipient")),
                }
            }
            Ok(())
        }
        Some(_) => fail(API, format_args!("{at} is not a list")),
    }
}

/// What the filter reads of an outbox entry: `to`, `cc`, `bcc`.
pub fn select(path: &[Seg], _kind: Kind) -> Select {
    match path {
        [] => Select::Descend,
        [Seg::Key(k)] if matches!(k.as_str(), "to" | "cc" | "bcc") => Select::Keep,
        _ => Select::Skip,
    }
}

/// What the filter reads of a looked-up outbox entry: `to`, `cc`, `bcc`, bare or in `data`.
pub fn select_answer(path: &[Seg], kind: Kind) -> Select {
    match path {
        [Seg::Key(d)] if d == "data" => Select::Descend,
        [Seg::Key(d), rest @ ..] if d == "data" => select(rest, kind),
        _ => select(path, kind),
    }
}

pub fn extract(doc: Result<Doc, String>) -> Result<Send, ExtractError> {
    let doc = doc.or_else(|e| fail(API, format_args!("malformed JSON: {e}")))?;
    entry_send(doc.root())
}

/// `POST .../api/outbox/{id}` sends a stored entry: look it up. `from-draft/{id}` names none.
pub fn extract_by_id(path: &str) -> Result<Send, ExtractError> {
    let mut s = Send::new(API);
    let trimmed = path.trim_end_matches('/');
    let Some((base, id)) = trimmed.rsplit_once('/') else {
        return Ok(s);
    };
    if base.ends_with("/from-draft") {
        return Ok(s);
    }
    let id = send::decode_segment(id).ok_or_else(|| ExtractError {
        api: API,
        message: format!("outbox id {id:?} is not percent-encoded text"),
    })?;
    s.references.push(Reference::NextcloudOutbox {
        base: base.to_string(),
        id: send::checked_id(API, &id, "outbox id")?,
    });
    Ok(s)
}

/// The mail server's answer to the lookup of an outbox entry ([`Reference::NextcloudOutbox`]):
/// the entry itself, or wrapped in `data` (Nextcloud's JSON responses do both).
pub fn read_outbox_entry(answer: Val) -> Result<Send, LookupError> {
    let entry = answer
        .get("data")
        .filter(|d| d.is_object())
        .unwrap_or(answer);
    entry_send(entry).map_err(|e| LookupError::Unreadable(e.message))
}

/// An outbox entry (the body of a create or update, or the entry a lookup returns).
fn entry_send(v: Val) -> Result<Send, ExtractError> {
    if !v.is_object() {
        return err(API, "body is not a JSON object");
    }
    let mut s = Send::new(API);
    recipients(v.get("to"), "to", &mut s.to)?;
    recipients(v.get("cc"), "cc", &mut s.cc)?;
    recipients(v.get("bcc"), "bcc", &mut s.bcc)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use crate::extract::tests::{error, send};
    use crate::extract::Routes;

    const JSON: Option<&str> = Some("application/json");

    #[test]
    fn outbox_create_and_update() {
        let body = br#"{"accountId":3,"subject":"Schedule","bodyPlain":"...","isHtml":false,
 "to":[{"label":"Lt Ray","email":"ray@base.example.ml"}],"cc":[],"bcc":[{"label":"log","email":"log@unit.example.mil"}],
 "attachments":[],"sendAt":1767225600}"#;
        let s = send("POST", "/index.php/apps/mail/api/outbox", JSON, body);
        assert_eq!(s.to, vec!["\"Lt Ray\" <ray@base.example.ml>"]);
        assert_eq!(s.bcc, vec!["\"log\" <log@unit.example.mil>"]);
        let s = send("PUT", "/apps/mail/api/outbox/17", JSON, body);
        assert_eq!(s.to.len(), 1);
    }

    #[test]
    fn sends_by_id_and_non_sends() {
        let s = send("POST", "/index.php/apps/mail/api/outbox/17", None, b"");
        assert!(s.has_no_recipients());
        assert_eq!(
            s.references,
            vec![crate::send::Reference::NextcloudOutbox {
                base: "/index.php/apps/mail/api/outbox".into(),
                id: "17".into()
            }]
        );
        assert!(send(
            "POST",
            "/index.php/apps/mail/api/outbox/from-draft/9",
            None,
            b""
        )
        .has_no_recipients());
        let r = Routes::default();
        assert!(r
            .classify("GET", "/index.php/apps/mail/api/outbox", JSON)
            .is_none());
        assert!(r
            .classify("POST", "/index.php/apps/mail/api/drafts", JSON)
            .is_none());
        assert!(r
            .classify("DELETE", "/index.php/apps/mail/api/outbox/17", JSON)
            .is_none());
    }

    #[test]
    fn malformed() {
        let p = "/index.php/apps/mail/api/outbox";
        assert!(error("POST", p, JSON, b"[").message.contains("JSON"));
        assert!(error("POST", p, JSON, br#"{"to":{"email":"x"}}"#)
            .message
            .contains("to is not a list"));
        assert!(error("POST", p, JSON, br#"{"to":[{"label":"x"}]}"#)
            .message
            .contains("email"));
    }

    #[test]
    fn lookup_answers() {
        use crate::extract::read_answer;
        use crate::send::Reference;
        let r = Reference::NextcloudOutbox {
            base: "/index.php/apps/mail/api/outbox".into(),
            id: "3".into(),
        };
        // The message's text is not kept, however long it is.
        let text = "x".repeat(crate::extract::KEPT_LIMIT + 1);
        let wrapped = format!(
            r#"{{"data": {{"id": 3, "body": "{text}", "to": [{{"label": "Ray", "email": "ray@base.example.ml"}}], "cc": [], "bcc": []}}}}"#
        );
        let s = read_answer(&r, wrapped.as_bytes()).unwrap();
        assert_eq!(s.to, vec!["\"Ray\" <ray@base.example.ml>"]);
        let bare = br#"{"id": 3, "to": [{"label": "", "email": "x@y.org"}]}"#;
        assert_eq!(read_answer(&r, bare).unwrap().to, vec!["x@y.org"]);
        // `data` that is not an object: the entry is the answer itself.
        let odd = br#"{"data": "x", "to": ["a@b.org"]}"#;
        assert_eq!(read_answer(&r, odd).unwrap().to, vec!["a@b.org"]);
    }
}
