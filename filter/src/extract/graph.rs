//! Microsoft Graph: `sendMail`, `messages/{id}/reply|replyAll|forward|send`, and `$batch`.
//!
//! JSON bodies carry `message.toRecipients` / `ccRecipients` / `bccRecipients` (and `forward`
//! may carry `toRecipients` at the top level); the MIME variant is a `text/plain` body holding the
//! base64 of an RFC 5322 message.

use super::{err, format_mailbox, mime, parse_json, under, Api, ExtractError, Head, Route, Send};
use base64::Engine as _;
use serde_json::Value;

const API: Api = Api::Graph;

/// The route of a Graph resource path (below the version prefix), if it is a send.
fn route_of(rest: &str) -> Option<Route> {
    let segs: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let n = lower.len();
    if n == 1 && (lower[0] == "$batch" || lower[0] == "%24batch") {
        return Some(Route::GraphBatch);
    }
    let owner_ok = match lower.first().map(String::as_str) {
        Some("me") => true,
        Some("users") => n >= 2,
        _ => false,
    };
    if !owner_ok {
        return None;
    }
    let last = lower[n - 1].as_str();
    if last == "sendmail" && (n == 2 && lower[0] == "me" || n == 3 && lower[0] == "users") {
        return Some(Route::GraphSendMail);
    }
    if n >= 3 && lower[n - 3] == "messages" {
        return match last {
            "reply" | "replyall" => Some(Route::GraphReply),
            "forward" => Some(Route::GraphForward),
            "send" => Some(Route::GraphDraftSend),
            _ => None,
        };
    }
    None
}

pub fn classify(head: &Head, prefix: &str) -> Option<Route> {
    if !head.method.eq_ignore_ascii_case("POST") {
        return None;
    }
    let ct_ok = matches!(
        head.media_type,
        None | Some("application/json") | Some("text/plain")
    );
    if !ct_ok {
        return None;
    }
    let rest = under(head.path, prefix)?;
    let route = route_of(rest)?;
    if route == Route::GraphBatch && head.media_type == Some("text/plain") {
        return None;
    }
    Some(route)
}

fn recipients(v: Option<&Value>, at: &str, out: &mut Vec<String>) -> Result<(), ExtractError> {
    match v {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let Some(ea) = item.get("emailAddress") else {
                    return err(API, format!("{at}[{i}] has no emailAddress"));
                };
                let Some(Value::String(address)) = ea.get("address") else {
                    return err(
                        API,
                        format!("{at}[{i}].emailAddress.address is not a string"),
                    );
                };
                out.push(format_mailbox(
                    ea.get("name").and_then(Value::as_str),
                    address,
                ));
            }
            Ok(())
        }
        Some(_) => err(API, format!("{at} is not a list")),
    }
}

fn from_message(msg: &Value, at: &str, send: &mut Send) -> Result<(), ExtractError> {
    if !msg.is_object() {
        return err(API, format!("{at} is not an object"));
    }
    recipients(
        msg.get("toRecipients"),
        &format!("{at}.toRecipients"),
        &mut send.to,
    )?;
    recipients(
        msg.get("ccRecipients"),
        &format!("{at}.ccRecipients"),
        &mut send.cc,
    )?;
    recipients(
        msg.get("bccRecipients"),
        &format!("{at}.bccRecipients"),
        &mut send.bcc,
    )?;
    for key in ["from", "sender"] {
        if send.from.is_none() {
            if let Some(ea) = msg.get(key).and_then(|f| f.get("emailAddress")) {
                if let Some(Value::String(a)) = ea.get("address") {
                    send.from = Some(format_mailbox(ea.get("name").and_then(Value::as_str), a));
                }
            }
        }
    }
    Ok(())
}

fn from_mime(b64: &[u8]) -> Result<Send, ExtractError> {
    let compact: Vec<u8> = b64
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(&compact))
        .or_else(|e| err(API, format!("MIME body is not base64: {e}")))?;
    let a = mime::message_addresses(&raw).or_else(|e| err(API, e))?;
    let mut s = Send::new(API);
    s.from = a.from;
    s.to = a.to;
    s.cc = a.cc;
    s.bcc = a.bcc;
    Ok(s)
}

fn from_json(route: Route, v: &Value, at: &str) -> Result<Send, ExtractError> {
    let mut s = Send::new(API);
    if !v.is_object() {
        return err(API, format!("{at} is not a JSON object"));
    }
    let msg = v.get("message").filter(|m| !m.is_null());
    match route {
        Route::GraphSendMail => {
            let Some(msg) = msg else {
                return err(API, format!("{at}: sendMail without message"));
            };
            from_message(msg, &format!("{at}.message"), &mut s)?;
        }
        Route::GraphReply | Route::GraphForward => {
            if let Some(msg) = msg {
                from_message(msg, &format!("{at}.message"), &mut s)?;
            }
            if route == Route::GraphForward {
                recipients(
                    v.get("toRecipients"),
                    &format!("{at}.toRecipients"),
                    &mut s.to,
                )?;
            }
        }
        _ => {}
    }
    Ok(s)
}

pub fn extract(
    route: Route,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Send, ExtractError> {
    if route == Route::GraphDraftSend || body.iter().all(|b| b.is_ascii_whitespace()) {
        if route == Route::GraphSendMail {
            return err(API, "sendMail without a body");
        }
        return Ok(Send::new(API));
    }
    let mime_body = content_type
        .map(|ct| super::media_type(ct) == "text/plain")
        .unwrap_or(false);
    if mime_body {
        return from_mime(body);
    }
    let v = parse_json(API, body)?;
    from_json(route, &v, "body")
}

/// `$batch`: every nested POST that is a send; `None` if none is.
pub fn extract_batch(body: &[u8]) -> Result<Option<Send>, ExtractError> {
    let v = parse_json(API, body)?;
    let Some(Value::Array(requests)) = v.get("requests") else {
        return err(API, "$batch without a requests list");
    };
    let mut found: Option<Send> = None;
    for (i, r) in requests.iter().enumerate() {
        let at = format!("requests[{i}]");
        let method = r.get("method").and_then(Value::as_str).unwrap_or("GET");
        let Some(url) = r.get("url").and_then(Value::as_str) else {
            return err(API, format!("{at}.url is not a string"));
        };
        if !method.eq_ignore_ascii_case("POST") {
            continue;
        }
        let path = super::split_path(url).0;
        let path = ["/v1.0", "/beta", "v1.0", "beta"]
            .iter()
            .find_map(|p| under(path, p))
            .unwrap_or(path);
        let Some(route) = route_of(path) else {
            continue;
        };
        if route == Route::GraphBatch {
            continue;
        }
        let content_type = r
            .get("headers")
            .and_then(|h| h.as_object())
            .and_then(|h| {
                h.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                    .and_then(|(_, v)| v.as_str())
            })
            .map(super::media_type);
        let nested = match (route, r.get("body")) {
            (Route::GraphDraftSend, _) | (_, None) | (_, Some(Value::Null)) => {
                if route == Route::GraphSendMail {
                    return err(API, format!("{at}: sendMail without a body"));
                }
                Send::new(API)
            }
            (_, Some(Value::String(b64))) if content_type.as_deref() == Some("text/plain") => {
                from_mime(b64.as_bytes())?
            }
            (_, Some(body)) => from_json(route, body, &format!("{at}.body"))?,
        };
        match found.as_mut() {
            Some(s) => s.merge(nested),
            None => found = Some(nested),
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use crate::extract::tests::{error, send};
    use crate::extract::{extract, Routes};
    use base64::Engine as _;

    const CT: Option<&str> = Some("application/json");

    #[test]
    fn send_mail() {
        let body =
            br#"{"message":{"subject":"Schedule","body":{"contentType":"Text","content":"..."},
  "toRecipients":[{"emailAddress":{"address":"ray@base.example.ml","name":"Lt Ray"}}],
  "ccRecipients":[],"bccRecipients":[{"emailAddress":{"address":"log@unit.example.mil"}}],
  "from":{"emailAddress":{"address":"ops@unit.example.mil"}}},
 "saveToSentItems":true}"#;
        for path in [
            "/v1.0/me/sendMail",
            "/v1.0/users/ops@unit.example.mil/sendmail",
            "/beta/me/SendMail",
        ] {
            let s = send("POST", path, CT, body);
            assert_eq!(s.to, vec!["\"Lt Ray\" <ray@base.example.ml>"]);
            assert_eq!(s.bcc, vec!["log@unit.example.mil"]);
            assert_eq!(s.from.as_deref(), Some("ops@unit.example.mil"));
        }
    }

    #[test]
    fn reply_forward_and_draft_send() {
        let s = send(
            "POST",
            "/v1.0/me/messages/AAMk=/replyAll",
            CT,
            br#"{"message":{"toRecipients":[{"emailAddress":{"address":"x@gmial.com"}}]},"comment":"hi"}"#,
        );
        assert_eq!(s.to, vec!["x@gmial.com"]);
        let s = send(
            "POST",
            "/v1.0/me/messages/AAMk=/reply",
            CT,
            br#"{"comment":"thanks"}"#,
        );
        assert!(s.has_no_recipients());
        let s = send(
            "POST",
            "/v1.0/users/u1/mailFolders/inbox/messages/AAMk/forward",
            CT,
            br#"{"comment":"fyi","toRecipients":[{"emailAddress":{"address":"c@navy.ml","name":"C"}}]}"#,
        );
        assert_eq!(s.to, vec!["\"C\" <c@navy.ml>"]);
        let s = send("POST", "/v1.0/me/messages/AAMk/send", None, b"");
        assert!(s.has_no_recipients());
        assert!(Routes::default()
            .classify("POST", "/v1.0/me/messages/AAMk/createReply", CT)
            .is_none());
        assert!(Routes::default()
            .classify("POST", "/v1.0/me/messages", CT)
            .is_none());
        assert!(Routes::default()
            .classify("GET", "/v1.0/me/sendMail", CT)
            .is_none());
    }

    #[test]
    fn mime_variant() {
        let raw = "From: a@army.mil\r\nTo: c@navy.ml\r\nSubject: x\r\n\r\nhi\r\n";
        let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
        let s = send(
            "POST",
            "/v1.0/me/sendMail",
            Some("text/plain"),
            b64.as_bytes(),
        );
        assert_eq!(s.to, vec!["c@navy.ml"]);
        assert_eq!(s.from.as_deref(), Some("a@army.mil"));
        let e = error(
            "POST",
            "/v1.0/me/sendMail",
            Some("text/plain"),
            b"!!not base64!!",
        );
        assert!(e.message.contains("base64"), "{e}");
    }

    #[test]
    fn batch() {
        let raw = "To: p@gmx.com, q@gmial.com\r\n\r\n";
        let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
        let body = format!(
            r#"{{"requests":[
 {{"id":"1","method":"GET","url":"/me/messages"}},
 {{"id":"2","method":"POST","url":"/me/sendMail","headers":{{"Content-Type":"application/json"}},
   "body":{{"message":{{"toRecipients":[{{"emailAddress":{{"address":"c@navy.ml"}}}}]}}}}}},
 {{"id":"3","method":"POST","url":"/users/u/sendMail","headers":{{"content-type":"text/plain"}},"body":"{b64}"}}]}}"#
        );
        let s = send("POST", "/v1.0/$batch", CT, body.as_bytes());
        assert_eq!(s.to, vec!["c@navy.ml", "p@gmx.com", "q@gmial.com"]);
        let c = Routes::default()
            .classify("POST", "/v1.0/$batch", CT)
            .unwrap();
        let none = br#"{"requests":[{"id":"1","method":"GET","url":"/me/messages"},{"id":"2","method":"POST","url":"/me/messages","body":{}}]}"#;
        assert_eq!(extract(c, CT, none), Ok(None));
        assert!(extract(c, CT, b"{\"requests\": 1}").is_err());
        assert!(extract(c, CT, br#"{"requests":[{"method":"POST","url":"/me/sendMail","body":{"message":{"toRecipients":[{"emailAddress":{}}]}}}]}"#).is_err());
    }

    #[test]
    fn malformed_bodies() {
        assert!(error("POST", "/v1.0/me/sendMail", CT, b"{\"message\":")
            .message
            .contains("JSON"));
        assert!(error("POST", "/v1.0/me/sendMail", CT, b"{}")
            .message
            .contains("without message"));
        assert!(error("POST", "/v1.0/me/sendMail", CT, b"")
            .message
            .contains("without a body"));
        let e = error(
            "POST",
            "/v1.0/me/sendMail",
            CT,
            br#"{"message":{"toRecipients":{"emailAddress":{"address":"a@b.c"}}}}"#,
        );
        assert!(e.message.contains("toRecipients is not a list"), "{e}");
    }
}
