//! Sends by reference: a request that sends a message stored on the mail server (a Graph draft
//! sent by id, Gmail's `drafts.send({id})`, a JMAP `EmailSubmission/set` of an existing Email,
//! Nextcloud Mail's outbox send) names no recipients, and a change of a Graph message rule names
//! only what it changes. The filter asks the mail server for the rest before it decides.
//!
//! Pure: [`request`] builds the lookup request (method, path, body) and [`read`] reads the mail
//! server's answer into a [`Send`]. The glue sends the lookup
//! with `dispatch_http_call` to the configured cluster only, with the user's own credentials
//! (`lookup.forward_headers`), so the lookup sees exactly what that user may see.
//!
//! Ids come from the request, so they are validated and percent-encoded before they go into a
//! lookup path: a lookup can only ever name one resource below the API the request itself used.

use crate::extract;
use crate::send::{encode_segment, LookupError, Reference, Send};
use serde_json::json;

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
        Reference::GraphRule {
            base, folder, id, ..
        } => LookupRequest {
            method: "GET",
            path: format!(
                "{base}/mailFolders/{}/messageRules/{}",
                encode_segment(folder),
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
    extract::read_answer(reference, body)
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
        let rule = Reference::GraphRule {
            base: "/v1.0/me".into(),
            folder: "inbox".into(),
            id: "AQAAAJ5d/=".into(),
            set: [false; 3],
            enabled: None,
        };
        assert_eq!(
            request(&rule).path,
            "/v1.0/me/mailFolders/inbox/messageRules/AQAAAJ5d%2F%3D"
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
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
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
    fn answers_are_read_by_status_then_by_the_apis_reader() {
        let g = Reference::GraphMessage {
            base: "/v1.0/me".into(),
            id: "m1".into(),
        };
        let body = br#"{"toRecipients": [{"emailAddress": {"address": "j.smith@navy.ml"}}]}"#;
        assert_eq!(
            read(&g, Some(200), body).unwrap().to,
            vec!["j.smith@navy.ml"]
        );
        assert_eq!(read(&g, None, b""), Err(LookupError::NoAnswer));
        assert_eq!(read(&g, Some(401), body), Err(LookupError::Status(401)));
        assert_eq!(
            read(&g, Some(404), body),
            Err(LookupError::NotFound("Graph message m1".into()))
        );
        assert!(matches!(
            read(&g, Some(200), b"<html>"),
            Err(LookupError::Unreadable(m)) if m.starts_with("unreadable JSON")
        ));
        // Each reference is read by its own API's reader.
        let d = Reference::GmailDraft {
            base: "/gmail/v1/users/me".into(),
            id: "r-1".into(),
        };
        let draft =
            br#"{"message": {"payload": {"headers": [{"name": "To", "value": "a@navy.ml"}]}}}"#;
        assert_eq!(read(&d, Some(200), draft).unwrap().to, vec!["a@navy.ml"]);
        let j = Reference::JmapEmails {
            api_path: "/jmap/api".into(),
            account_id: "u1".into(),
            ids: vec!["M1".into()],
        };
        let emails = br#"{"methodResponses": [["Email/get", {"list": [
            {"id": "M1", "to": [{"email": "j.smith@navy.ml"}]}]}, "mistype"]]}"#;
        assert_eq!(
            read(&j, Some(200), emails).unwrap().to,
            vec!["j.smith@navy.ml"]
        );
        let n = Reference::NextcloudOutbox {
            base: "/apps/mail/api/outbox".into(),
            id: "3".into(),
        };
        let entry = br#"{"id": 3, "to": [{"label": "", "email": "x@y.org"}]}"#;
        assert_eq!(read(&n, Some(200), entry).unwrap().to, vec!["x@y.org"]);
    }
}
