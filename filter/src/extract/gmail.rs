//! Gmail API: `users.messages.send` and `users.drafts.send`.
//!
//! JSON bodies carry the message as `raw` (base64url RFC 5322, padded or not); the `/upload`
//! variants carry it as a `message/rfc822` body (`uploadType=media`, and the `PUT` of a resumable
//! session) or as the `message/*` part of a `multipart/related` body (`uploadType=multipart`).
//! `drafts.send` of a saved draft by `id` names no recipients.

use super::{err, mime, parse_json, under, Api, ExtractError, Head, Route, Send};
use base64::Engine as _;
use serde_json::Value;

const API: Api = Api::Gmail;

pub fn classify(head: &Head, prefix: &str) -> Option<Route> {
    let rest = under(head.path, prefix)?;
    let (upload, rest) = match rest.strip_prefix("/upload") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let rest = rest.strip_prefix("/gmail/v1/users/")?;
    let mut segs = rest.split('/');
    let _user = segs.next().filter(|u| !u.is_empty())?;
    let drafts = match (segs.next(), segs.next(), segs.next()) {
        (Some("messages"), Some("send"), None) => false,
        (Some("drafts"), Some("send"), None) => true,
        _ => return None,
    };
    let post = head.method.eq_ignore_ascii_case("POST");
    if upload {
        // PUT carries the message of a resumable upload session.
        let put = head.method.eq_ignore_ascii_case("PUT");
        let ct_ok = match head.media_type {
            None => true,
            Some(m) => {
                m.starts_with("message/") || m == "multipart/related" || m == "application/json"
            }
        };
        (post || put) && ct_ok
    } else {
        post && super::is_json(head.media_type)
    }
    .then_some(if upload {
        Route::GmailUpload { drafts }
    } else {
        Route::GmailJson { drafts }
    })
}

fn decode_raw(raw: &str, at: &str) -> Result<Vec<u8>, ExtractError> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let compact: String = raw.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    URL_SAFE_NO_PAD
        .decode(&compact)
        .or_else(|_| URL_SAFE.decode(&compact))
        .or_else(|_| STANDARD.decode(&compact))
        .or_else(|_| STANDARD_NO_PAD.decode(&compact))
        .or_else(|e| err(API, format!("{at} is not base64url: {e}")))
}

fn from_message(raw: &[u8]) -> Result<Send, ExtractError> {
    let a = mime::message_addresses(raw).or_else(|e| err(API, e))?;
    let mut s = Send::new(API);
    s.from = a.from;
    s.to = a.to;
    s.cc = a.cc;
    s.bcc = a.bcc;
    Ok(s)
}

/// The message of a JSON Message (`messages.send`) or Draft (`drafts.send`) resource.
fn from_resource(drafts: bool, v: &Value) -> Result<Send, ExtractError> {
    if !v.is_object() {
        return err(API, "body is not a JSON object");
    }
    let (raw, at) = if drafts {
        (v.get("message").and_then(|m| m.get("raw")), "message.raw")
    } else {
        (v.get("raw"), "raw")
    };
    match raw {
        Some(Value::String(r)) => from_message(&decode_raw(r, at)?),
        None | Some(Value::Null) if drafts => Ok(Send::new(API)),
        None | Some(Value::Null) => err(API, "messages.send without raw"),
        Some(_) => err(API, format!("{at} is not a string")),
    }
}

pub fn extract_json(drafts: bool, body: &[u8]) -> Result<Send, ExtractError> {
    let v = parse_json(API, body)?;
    from_resource(drafts, &v)
}

pub fn extract_upload(
    drafts: bool,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Send, ExtractError> {
    let mt = content_type.map(super::media_type);
    match mt.as_deref() {
        Some("multipart/related") => {
            let ct = content_type.unwrap_or_default();
            let parts = mime::multipart_parts(ct, body).or_else(|e| err(API, e))?;
            if let Some(p) = parts.iter().find(|p| p.media_type.starts_with("message/")) {
                return from_message(&p.body);
            }
            match parts.iter().find(|p| p.media_type == "application/json") {
                Some(p) => {
                    let v = parse_json(API, &p.body)?;
                    from_resource(drafts, &v)
                }
                None => err(API, "multipart upload without a message/rfc822 part"),
            }
        }
        // The start of a resumable session: metadata only, the message follows in a PUT.
        Some("application/json") => {
            if body.iter().all(|b| b.is_ascii_whitespace()) {
                return Ok(Send::new(API));
            }
            let v = parse_json(API, body)?;
            let has_raw =
                v.get("raw").is_some() || v.get("message").and_then(|m| m.get("raw")).is_some();
            if has_raw {
                from_resource(drafts, &v)
            } else {
                Ok(Send::new(API))
            }
        }
        _ => from_message(body),
    }
}

#[cfg(test)]
mod tests {
    use crate::extract::tests::{error, send};
    use crate::extract::Routes;
    use base64::Engine as _;

    const CT: Option<&str> = Some("application/json");

    fn b64url(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn messages_send_raw() {
        let body = br#"{"raw":"VG86IHJheUBiYXNlLmV4YW1wbGUubWwNClN1YmplY3Q6IGhpDQoNCmhlbGxv", "threadId":"18c0ffee"}"#;
        let s = send("POST", "/gmail/v1/users/me/messages/send", CT, body);
        assert_eq!(s.to, vec!["ray@base.example.ml"]);
        let msg = "From: =?utf-8?B?UmF5IEvDtm5pZw==?= <ray@army.mil>\r\nTo: a@navy.ml,\r\n\tb@gmail.com\r\nCc: Group: x@gmial.com;\r\nBcc: z@us.af.mil\r\n\r\n?>?>?>\r\n";
        let body = format!(r#"{{"raw":"{}"}}"#, b64url(msg));
        let s = send(
            "POST",
            "/gmail/v1/users/ray%40army.mil/messages/send",
            CT,
            body.as_bytes(),
        );
        assert_eq!(s.from.as_deref(), Some("\"Ray König\" <ray@army.mil>"));
        assert_eq!(s.to, vec!["a@navy.ml", "b@gmail.com"]);
        assert_eq!(s.cc, vec!["x@gmial.com"]);
        assert_eq!(s.bcc, vec!["z@us.af.mil"]);
        // Padded and standard alphabets are accepted too.
        let padded = base64::engine::general_purpose::STANDARD.encode(msg);
        let s = send(
            "POST",
            "/gmail/v1/users/me/messages/send",
            CT,
            format!(r#"{{"raw":"{padded}"}}"#).as_bytes(),
        );
        assert_eq!(s.to, vec!["a@navy.ml", "b@gmail.com"]);
    }

    #[test]
    fn drafts_send() {
        let s = send(
            "POST",
            "/gmail/v1/users/me/drafts/send",
            CT,
            br#"{"id":"r-123"}"#,
        );
        assert!(s.has_no_recipients());
        let body = format!(
            r#"{{"id":"r-1","message":{{"raw":"{}"}}}}"#,
            b64url("To: c@navy.ml\r\n\r\n")
        );
        let s = send(
            "POST",
            "/gmail/v1/users/me/drafts/send",
            CT,
            body.as_bytes(),
        );
        assert_eq!(s.to, vec!["c@navy.ml"]);
        assert!(Routes::default()
            .classify("POST", "/gmail/v1/users/me/drafts", CT)
            .is_none());
        assert!(Routes::default()
            .classify("POST", "/gmail/v1/users/me/messages/send/x", CT)
            .is_none());
    }

    #[test]
    fn uploads() {
        let msg = b"To: Lt Ray <ray@base.example.ml>\r\nSubject: hi\r\n\r\nhello";
        let s = send(
            "POST",
            "/upload/gmail/v1/users/me/messages/send?uploadType=media",
            Some("message/rfc822"),
            msg,
        );
        assert_eq!(s.to, vec!["\"Lt Ray\" <ray@base.example.ml>"]);
        let multipart = b"--foo_bar\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{\"threadId\":\"t\"}\r\n\
--foo_bar\r\nContent-Type: message/rfc822\r\n\r\nTo: c@navy.ml\r\nCc: d@gmail.com\r\n\r\nbody\r\n--foo_bar--\r\n";
        let s = send(
            "POST",
            "/upload/gmail/v1/users/me/messages/send?uploadType=multipart",
            Some("multipart/related; boundary=foo_bar"),
            multipart,
        );
        assert_eq!(s.to, vec!["c@navy.ml"]);
        assert_eq!(s.cc, vec!["d@gmail.com"]);
        // Resumable: the session start has no message; the PUT carries it.
        let s = send(
            "POST",
            "/upload/gmail/v1/users/me/messages/send?uploadType=resumable",
            CT,
            br#"{"threadId":"t"}"#,
        );
        assert!(s.has_no_recipients());
        let s = send(
            "PUT",
            "/upload/gmail/v1/users/me/messages/send?uploadType=resumable&upload_id=xa",
            Some("message/rfc822"),
            msg,
        );
        assert_eq!(s.to.len(), 1);
    }

    #[test]
    fn malformed() {
        let p = "/gmail/v1/users/me/messages/send";
        assert!(error("POST", p, CT, b"{\"raw\":").message.contains("JSON"));
        assert!(error("POST", p, CT, b"{\"raw\":\"***\"}")
            .message
            .contains("base64"));
        assert!(error("POST", p, CT, b"{}").message.contains("without raw"));
        assert!(error("POST", p, CT, b"{\"raw\":5}")
            .message
            .contains("not a string"));
        let e = error(
            "POST",
            p,
            CT,
            format!(r#"{{"raw":"{}"}}"#, b64url("\u{1}\u{2} nonsense")).as_bytes(),
        );
        assert!(e.message.contains("header"), "{e}");
        let e = error(
            "POST",
            "/upload/gmail/v1/users/me/messages/send?uploadType=multipart",
            Some("multipart/related; boundary=zz"),
            b"--zz\r\nContent-Type: text/plain\r\n\r\nx\r\n--zz--\r\n",
        );
        assert!(e.message.contains("message/rfc822"), "{e}");
    }
}
