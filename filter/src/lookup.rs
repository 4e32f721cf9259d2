//! Sends by reference: a request that sends a message stored on the mail server (a Graph draft
//! sent by id, Gmail's `drafts.send({id})`, a JMAP `EmailSubmission/set` of an existing Email,
//! Nextcloud Mail's outbox send) names no recipients. The filter asks the mail server for them
//! before it decides.
//!
//! Pure: [`request`] builds the lookup request (method, path, body) and [`read`] reads the mail
//! server's answer into a [`Send`]. The glue sends the lookup
//! with `dispatch_http_call` to the configured cluster only, with the user's own credentials
//! (`lookup.forward_headers`), so the lookup sees exactly what that user may see.
//!
//! Ids come from the request, so they are validated and percent-encoded before they go into a
//! lookup path: a lookup can only ever name one resource below the API the request itself used.

use crate::extract;
use crate::send::{encode_segment, Api, ExtractError, LookupError, Reference, Send};
use serde_json::{json, Value};

/// The HTTP request of a lookup (the glue adds `:authority` and the user's credentials).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupRequest {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The path with its query.
    pub path: String,
    /// The body (`POST` only) and its content type.
    pub body: Option<(Vec<u8>, &'static str)>,
}

/// The lookup request of a stored message.
pub fn request(reference: &Reference) -> LookupRequest {
    match reference {
        Reference::GraphMessage { base, id } => LookupRequest {
            method: "GET",
            path: format!(
                "{base}/messages/{}?$select=from,sender,toRecipients,ccRecipients,bccRecipients",
                encode_segment(id)
            ),
            body: None,
        },
        Reference::GmailDraft { base, id } => LookupRequest {
            method: "GET",
            path: format!("{base}/drafts/{}?format=metadata", encode_segment(id)),
            body: None,
        },
        Reference::JmapEmails {
            api_path,
            account_id,
            ids,
        } => {
            let body = json!({
                "using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
                "methodCalls": [["Email/get", {
                    "accountId": account_id, "ids": ids,
                    "properties": ["from", "sender", "to", "cc", "bcc"]}, "mistype"]]
            });
            LookupRequest {
                method: "POST",
                path: api_path.clone(),
                body: Some((body.to_string().into_bytes(), "application/json")),
            }
        }
        Reference::NextcloudOutbox { base, id } => LookupRequest {
            method: "GET",
            path: format!("{base}/{}", encode_segment(id)),
            body: None,
        },
    }
}

/// Reads the mail server's answer to the lookup of `reference`: `status` is `None` when there was
/// none (the call failed or timed out).
pub fn read(reference: &Reference, status: Option<u32>, body: &[u8]) -> Result<Send, LookupError> {
    let status = status.ok_or(LookupError::NoAnswer)?;
    if status == 404 {
        return Err(LookupError::NotFound(format!("{reference}")));
    }
    if !(200..300).contains(&status) {
        return Err(LookupError::Status(status));
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| LookupError::Unreadable(format!("not JSON: {e}")))?;
    let unreadable = |e: ExtractError| LookupError::Unreadable(e.message);
    match reference {
        Reference::GraphMessage { .. } => {
            // `$select` makes Graph answer every selected property, empty lists included.
            let selected = ["toRecipients", "ccRecipients", "bccRecipients"]
                .iter()
                .any(|k| extract::graph::get(&v, k).is_some());
            if !selected {
                return Err(LookupError::Unreadable(
                    "not a Graph message (no recipient properties)".into(),
                ));
            }
            extract::graph::message_send(&v).map_err(unreadable)
        }
        Reference::GmailDraft { .. } => gmail_draft(&v),
        Reference::JmapEmails { ids, .. } => jmap_emails(&v, ids),
        Reference::NextcloudOutbox { .. } => {
            // The entry itself, or wrapped in `data` (Nextcloud's JSON responses do both).
            let entry = v.get("data").filter(|d| d.is_object()).unwrap_or(&v);
            extract::nextcloud::entry_send(entry).map_err(unreadable)
        }
    }
}

/// A Gmail `Draft` resource with `format=metadata`: the headers of `message.payload`.
fn gmail_draft(v: &Value) -> Result<Send, LookupError> {
    let headers = v
        .get("message")
        .and_then(|m| m.get("payload"))
        .and_then(|p| p.get("headers"))
        .and_then(Value::as_array)
        .ok_or_else(|| LookupError::Unreadable("a draft without message.payload.headers".into()))?;
    let mut s = Send::new(Api::Gmail);
    for (i, h) in headers.iter().enumerate() {
        let (Some(name), Some(value)) = (
            h.get("name").and_then(Value::as_str),
            h.get("value").and_then(Value::as_str),
        ) else {
            return Err(LookupError::Unreadable(format!(
                "message.payload.headers[{i}] has no name and value"
            )));
        };
        let value = value.to_string();
        match name.to_ascii_lowercase().as_str() {
            "to" => s.to.push(value),
            "cc" => s.cc.push(value),
            "bcc" => s.bcc.push(value),
            "from" => s.from = Some(value),
            "sender" if s.from.is_none() => s.from = Some(value),
            _ => {}
        }
    }
    Ok(s)
}

/// A JMAP response to the lookup's `Email/get`: every asked id must be in `list`.
fn jmap_emails(v: &Value, ids: &[String]) -> Result<Send, LookupError> {
    let responses = v
        .get("methodResponses")
        .and_then(Value::as_array)
        .ok_or_else(|| LookupError::Unreadable("no methodResponses".into()))?;
    let get = responses
        .iter()
        .find(|r| r.get(2).and_then(Value::as_str) == Some("mistype"))
        .ok_or_else(|| LookupError::Unreadable("no response to the Email/get call".into()))?;
    match get.get(0).and_then(Value::as_str) {
        Some("Email/get") => {}
        Some("error") => {
            let t = get
                .get(1)
                .and_then(|a| a.get("type"))
                .and_then(Value::as_str)
                .unwrap_or("unknown");
            return Err(LookupError::Unreadable(format!("Email/get failed: {t}")));
        }
        other => {
            return Err(LookupError::Unreadable(format!(
                "unexpected response {other:?}"
            )))
        }
    }
    let args = get.get(1).cloned().unwrap_or(Value::Null);
    let list = args
        .get("list")
        .and_then(Value::as_array)
        .ok_or_else(|| LookupError::Unreadable("Email/get without list".into()))?;
    let mut s = Send::new(Api::Jmap);
    for id in ids {
        let Some(email) = list
            .iter()
            .find(|e| e.get("id").and_then(Value::as_str) == Some(id.as_str()))
        else {
            return Err(LookupError::NotFound(format!("JMAP Email {id}")));
        };
        let Value::Object(e) = email else {
            return Err(LookupError::Unreadable(format!(
                "Email {id} is not an object"
            )));
        };
        let one = extract::jmap::email_send(e, &format!("Email {id}"))
            .map_err(|e| LookupError::Unreadable(e.message))?;
        s.merge(one);
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_cannot_leave_its_path_segment() {
        let r = Reference::GraphMessage {
            base: "/v1.0/me".into(),
            id: "../../users/boss/messages/1".into(),
        };
        assert!(request(&r)
            .path
            .starts_with("/v1.0/me/messages/..%2F..%2Fusers%2Fboss"));
    }

    #[test]
    fn requests() {
        let g = Reference::GraphMessage {
            base: "/v1.0/users/ray%40army.mil".into(),
            id: "AAMkAD=".into(),
        };
        assert_eq!(
            request(&g),
            LookupRequest {
                method: "GET",
                path: "/v1.0/users/ray%40army.mil/messages/AAMkAD%3D?$select=from,sender,toRecipients,ccRecipients,bccRecipients".into(),
                body: None
            }
        );
        let d = Reference::GmailDraft {
            base: "/gmail/v1/users/me".into(),
            id: "r-42".into(),
        };
        assert_eq!(
            request(&d).path,
            "/gmail/v1/users/me/drafts/r-42?format=metadata"
        );
        let j = Reference::JmapEmails {
            api_path: "/jmap/api".into(),
            account_id: "u1".into(),
            ids: vec!["M1".into(), "M2".into()],
        };
        let r = request(&j);
        assert_eq!((r.method, r.path.as_str()), ("POST", "/jmap/api"));
        let (body, ct) = r.body.unwrap();
        assert_eq!(ct, "application/json");
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["methodCalls"][0][0], "Email/get");
        assert_eq!(v["methodCalls"][0][1]["ids"], json!(["M1", "M2"]));
        assert_eq!(v["methodCalls"][0][1]["accountId"], "u1");
        let n = Reference::NextcloudOutbox {
            base: "/index.php/apps/mail/api/outbox".into(),
            id: "17".into(),
        };
        assert_eq!(request(&n).path, "/index.php/apps/mail/api/outbox/17");
    }

    #[test]
    fn graph_answers() {
        let g = Reference::GraphMessage {
            base: "/v1.0/me".into(),
            id: "m1".into(),
        };
        // PascalCase as well as camelCase: Graph reads names case-insensitively.
        let body =
            br#"{"id": "m1", "From": {"emailAddress": {"name": "Ray", "address": "ray@army.mil"}},
            "toRecipients": [{"emailAddress": {"name": "Lt J", "address": "j.smith@navy.ml"}}],
            "CcRecipients": [{"EmailAddress": {"Address": "c@x.org"}}], "bccRecipients": []}"#;
        let s = read(&g, Some(200), body).unwrap();
        assert_eq!(s.to, vec!["\"Lt J\" <j.smith@navy.ml>"]);
        assert_eq!(s.cc, vec!["c@x.org"]);
        assert_eq!(s.from.as_deref(), Some("\"Ray\" <ray@army.mil>"));
        assert_eq!(read(&g, None, b""), Err(LookupError::NoAnswer));
        assert_eq!(read(&g, Some(401), b"{}"), Err(LookupError::Status(401)));
        assert!(matches!(
            read(&g, Some(404), b"{}"),
            Err(LookupError::NotFound(_))
        ));
        assert!(matches!(
            read(&g, Some(200), b"<html>"),
            Err(LookupError::Unreadable(_))
        ));
        assert!(matches!(
            read(&g, Some(200), br#"{"id": "m1"}"#),
            Err(LookupError::Unreadable(_))
        ));
        // An empty draft is a message without recipients, not an unreadable answer.
        let empty = read(&g, Some(200), br#"{"toRecipients": []}"#).unwrap();
        assert!(empty.has_no_recipients());
    }

    #[test]
    fn gmail_answers() {
        let d = Reference::GmailDraft {
            base: "/gmail/v1/users/me".into(),
            id: "r-1".into(),
        };
        let body = br#"{"id": "r-1", "message": {"id": "m", "payload": {"headers": [
            {"name": "From", "value": "Ray <ray@army.mil>"}, {"name": "To", "value": "a@navy.ml, b@x.org"},
            {"name": "Subject", "value": "x"}, {"name": "BCC", "value": "z@gmial.com"}]}}}"#;
        let s = read(&d, Some(200), body).unwrap();
        assert_eq!(s.to, vec!["a@navy.ml, b@x.org"]);
        assert_eq!(s.bcc, vec!["z@gmial.com"]);
        assert_eq!(s.from.as_deref(), Some("Ray <ray@army.mil>"));
        assert!(matches!(
            read(&d, Some(200), br#"{"id": "r-1"}"#),
            Err(LookupError::Unreadable(_))
        ));
    }

    #[test]
    fn jmap_answers() {
        let j = Reference::JmapEmails {
            api_path: "/jmap/api".into(),
            account_id: "u1".into(),
            ids: vec!["M1".into()],
        };
        let body = br#"{"methodResponses": [["Email/get", {"accountId": "u1", "state": "1", "list": [
            {"id": "M1", "from": [{"name": "Ray", "email": "ray@army.mil"}], "sender": null,
             "to": [{"name": null, "email": "j.smith@navy.ml"}], "cc": null, "bcc": [{"email": "b@x.org"}]}],
            "notFound": []}, "mistype"]], "sessionState": "s"}"#;
        let s = read(&j, Some(200), body).unwrap();
        assert_eq!(s.to, vec!["j.smith@navy.ml"]);
        assert_eq!(s.bcc, vec!["b@x.org"]);
        let missing =
            br#"{"methodResponses": [["Email/get", {"list": [], "notFound": ["M1"]}, "mistype"]]}"#;
        assert!(matches!(
            read(&j, Some(200), missing),
            Err(LookupError::NotFound(_))
        ));
        let error = br#"{"methodResponses": [["error", {"type": "accountNotFound"}, "mistype"]]}"#;
        let e = read(&j, Some(200), error).unwrap_err();
        assert!(e.to_string().contains("accountNotFound"), "{e}");
    }

    #[test]
    fn nextcloud_answers() {
        let n = Reference::NextcloudOutbox {
            base: "/apps/mail/api/outbox".into(),
            id: "3".into(),
        };
        let body = br#"{"data": {"id": 3, "to": [{"label": "Ray", "email": "ray@base.example.ml"}], "cc": [], "bcc": []}}"#;
        let s = read(&n, Some(200), body).unwrap();
        assert_eq!(s.to, vec!["\"Ray\" <ray@base.example.ml>"]);
        let bare = br#"{"id": 3, "to": [{"label": "", "email": "x@y.org"}]}"#;
        assert_eq!(read(&n, Some(200), bare).unwrap().to, vec!["x@y.org"]);
    }
}
