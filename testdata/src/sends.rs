//! Send requests of every API the filter understands, shaped as each vendor's clients send them
//! (the vendors' documentation and sources): one builder per API and route, written once for
//! every harness that drives the filter (its unit tests, the host tests under wasmtime and in
//! real Envoy, the benchmarks).
//!
//! A builder returns an [`HttpRequest`], plain data (method, path, content type, headers,
//! body), which each harness turns into its own request type. The builders that carry a sender
//! take it first; recipients are addresses or RFC 5322 mailboxes (`Lt Ray <c@navy.ml>`).

use base64::Engine as _;
use serde_json::{json, Value};

/// The path the tests configure as `check_path` (a check request judged like a send).
pub const CHECK_PATH: &str = "/mistype/check";
/// The path the tests configure as `verdict_path` (a check request answered with the verdict).
pub const VERDICT_PATH: &str = "/mistype/verdict";
/// The text of every message (a test that needs another body replaces it).
pub const BODY_TEXT: &str = "See you at 0900.";
/// Roundcube's compose window posts here, into a hidden iframe (`_framed=1`).
pub const ROUNDCUBE_COMPOSE_PATH: &str = "/?_task=mail&_action=send&_unlock=loading1&_framed=1";
/// A Roundcube send that reads the JSON reply (a client other than the compose window).
pub const ROUNDCUBE_SEND_PATH: &str = "/?_task=mail&_action=send";

/// One HTTP request, as plain data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// `POST`, `PUT`, ...
    pub method: &'static str,
    /// The path with its query.
    pub path: String,
    /// The `content-type`; `None` for a request without one (a Graph draft sent by id).
    pub content_type: Option<String>,
    /// Other request headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpRequest {
    fn post(path: &str, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> HttpRequest {
        HttpRequest {
            method: "POST",
            path: path.to_string(),
            content_type: content_type.map(str::to_string),
            headers: Vec::new(),
            body: body.into(),
        }
    }

    fn json(path: &str, body: &Value) -> HttpRequest {
        HttpRequest::post(path, Some("application/json"), body.to_string())
    }

    /// The same request on another path (another prefix, user or route of the same API).
    pub fn at(mut self, path: &str) -> HttpRequest {
        self.path = path.to_string();
        self
    }

    /// The same request as a `PATCH` of `path` (a Graph event changed).
    pub fn changed(mut self, path: &str) -> HttpRequest {
        self.method = "PATCH";
        self.path = path.to_string();
        self
    }

    /// The body as text (every builder writes UTF-8).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The standard send of the API named `api` (the filter's configuration names: `jmap`,
/// `graph`, `gmail`, `roundcube`, `snappymail`, `nextcloud`, `sogo`, `check`) from `from` to
/// `to` and `cc`. Roundcube's is the JSON-reading client's ([`ROUNDCUBE_SEND_PATH`]). Panics on
/// another name.
pub fn for_api(api: &str, from: &str, to: &[&str], cc: &[&str]) -> HttpRequest {
    match api {
        "jmap" => jmap(from, to, cc),
        "graph" => graph_send_mail(from, to, cc),
        "gmail" => gmail_raw(&mime_message(from, to, cc)),
        "roundcube" => {
            roundcube_form(&to.join(", "), &cc.join(", "), "", false).at(ROUNDCUBE_SEND_PATH)
        }
        "snappymail" => snappymail(&to.join(", "), &cc.join(", ")),
        "nextcloud" => nextcloud(to, cc),
        "sogo" => sogo(from, to, cc),
        "check" => check(from, to, cc),
        other => panic!("no send fixture for the API {other:?}"),
    }
}

// -------------------------------------------------------------------------------------------
// JMAP (RFC 8620, RFC 8621)

/// JMAP: an `Email/set` creating the message (each recipient with a display name, as webmail
/// clients send them) and an `EmailSubmission/set` sending it by its creation id (`#d1`).
pub fn jmap(from: &str, to: &[&str], cc: &[&str]) -> HttpRequest {
    let addrs = |v: &[&str]| -> Vec<Value> {
        v.iter()
            .map(|a| json!({"name": "Someone", "email": a}))
            .collect()
    };
    let body = json!({
        "using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission"],
        "methodCalls": [
            ["Email/set", {"accountId": "A1", "create": {"d1": {
                "mailboxIds": {"drafts": true}, "keywords": {"$draft": true},
                "from": [{"email": from}], "to": addrs(to), "cc": addrs(cc),
                "subject": "Schedule", "textBody": [{"partId": "p", "type": "text/plain"}],
                "bodyValues": {"p": {"value": BODY_TEXT}}}}}, "c0"],
            ["EmailSubmission/set", {"accountId": "A1", "create": {"s1": {
                "identityId": "I1", "emailId": "#d1"}},
                "onSuccessUpdateEmail": {"#s1": {"keywords/$draft": null}}}, "c1"]
        ]
    });
    HttpRequest::json("/jmap/api/", &body)
}

/// JMAP: an `EmailSubmission/set` with an explicit envelope (the envelope decides the
/// recipients).
pub fn jmap_envelope(from: &str, rcpt: &[&str]) -> HttpRequest {
    let rcpt: Vec<Value> = rcpt.iter().map(|a| json!({"email": a})).collect();
    let body = json!({
        "using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:submission"],
        "methodCalls": [["EmailSubmission/set", {"accountId": "A1", "create": {"s1": {
            "identityId": "I1", "emailId": "M42",
            "envelope": {"mailFrom": {"email": from}, "rcptTo": rcpt}}}}, "c1"]]
    });
    HttpRequest::json("/jmap/api/", &body)
}

/// JMAP: an `EmailSubmission/set` of an Email stored earlier (`email_id`), without an envelope:
/// a send by reference (creation id `k1`).
pub fn jmap_submit_stored(email_id: &str) -> HttpRequest {
    let body = json!({
        "using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:submission"],
        "methodCalls": [["EmailSubmission/set", {"accountId": "A1",
            "create": {"k1": {"emailId": email_id, "identityId": "I1"}}}, "c1"]]
    });
    HttpRequest::json("/jmap/api/", &body)
}

// -------------------------------------------------------------------------------------------
// Microsoft Graph

fn graph_recipients(v: &[&str]) -> Vec<Value> {
    v.iter()
        .map(|a| json!({"emailAddress": {"address": a, "name": "Someone"}}))
        .collect()
}

/// A Graph `message` resource with these recipients.
pub fn graph_message(to: &[&str], cc: &[&str]) -> Value {
    json!({"subject": "Schedule", "body": {"contentType": "Text", "content": BODY_TEXT},
           "toRecipients": graph_recipients(to), "ccRecipients": graph_recipients(cc),
           "bccRecipients": []})
}

/// Graph `POST /me/sendMail`, the message `from` the sender.
pub fn graph_send_mail(from: &str, to: &[&str], cc: &[&str]) -> HttpRequest {
    let mut message = graph_message(to, cc);
    message["from"] = json!({"emailAddress": {"address": from}});
    HttpRequest::json(
        "/v1.0/me/sendMail",
        &json!({"message": message, "saveToSentItems": true}),
    )
}

/// Graph `replyAll` of a stored message, with the reply's recipients.
pub fn graph_reply(to: &[&str]) -> HttpRequest {
    HttpRequest::json(
        "/v1.0/me/messages/AAMkAD123/replyAll",
        &json!({"message": graph_message(to, &[]), "comment": "Agreed."}),
    )
}

/// Graph `forward` of a stored message, the recipients at the top level.
pub fn graph_forward(to: &[&str]) -> HttpRequest {
    HttpRequest::json(
        "/v1.0/me/messages/AAMkAD123/forward",
        &json!({"comment": "FYI", "toRecipients": graph_recipients(to)}),
    )
}

/// Graph `$batch`: a read, then one `sendMail` per recipient list.
pub fn graph_batch(sends: &[&[&str]]) -> HttpRequest {
    let mut requests = vec![json!({"id": "0", "method": "GET", "url": "/me/messages?$top=1"})];
    for (i, to) in sends.iter().enumerate() {
        requests.push(
            json!({"id": (i + 1).to_string(), "method": "POST", "url": "/me/sendMail",
            "headers": {"Content-Type": "application/json"},
            "body": {"message": graph_message(to, &[]), "saveToSentItems": false}}),
        );
    }
    HttpRequest::json("/v1.0/$batch", &json!({"requests": requests}))
}

/// Graph `POST /me/messages/{id}/send` with no body: a stored draft sent by id (a send by
/// reference).
/// A Graph event created with `attendees` (`POST /v1.0/me/events`): Graph sends them the
/// invitation. [`HttpRequest::changed`] makes it a `PATCH` of one event.
pub fn graph_event(attendees: &[&str]) -> HttpRequest {
    HttpRequest::json(
        "/v1.0/me/events",
        &json!({
            "subject": "Site visit",
            "start": {"dateTime": "2026-12-14T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-14T10:00:00", "timeZone": "UTC"},
            "location": {"displayName": "Hotel, room 1207"},
            "attendees": attendees.iter().map(|a| json!({"emailAddress": {"address": a}, "type": "required"})).collect::<Vec<_>>(),
        }),
    )
}

/// A Graph message rule of the inbox that forwards what it matches to `forward_to` (created:
/// `POST`; [`HttpRequest::changed`] makes it a change of rule `R1`).
pub fn graph_rule(forward_to: &[&str]) -> HttpRequest {
    HttpRequest::json(
        "/v1.0/me/mailFolders/inbox/messageRules",
        &json!({
            "displayName": "From the unit",
            "sequence": 2,
            "isEnabled": true,
            "conditions": {"senderContains": ["army.mil"]},
            "actions": {
                "forwardTo": forward_to.iter().map(|a| json!({"emailAddress": {"address": a}})).collect::<Vec<_>>(),
                "stopProcessingRules": true,
            },
        }),
    )
}

pub fn graph_draft_send(id: &str) -> HttpRequest {
    HttpRequest::post(&format!("/v1.0/me/messages/{id}/send"), None, Vec::new())
}

// -------------------------------------------------------------------------------------------
// Gmail API

/// An RFC 5322 message with these headers (a folded `To` when there are several recipients).
pub fn mime_message(from: &str, to: &[&str], cc: &[&str]) -> String {
    let mut m = format!("From: Sender <{from}>\r\n");
    if !to.is_empty() {
        m.push_str(&format!("To: {}\r\n", to.join(",\r\n ")));
    }
    if !cc.is_empty() {
        m.push_str(&format!("Cc: {}\r\n", cc.join(", ")));
    }
    m.push_str(
        "Subject: Schedule\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
    );
    m.push_str(BODY_TEXT);
    m.push_str("\r\n");
    m
}

/// base64url without padding, as Gmail's `raw`.
pub fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

/// Gmail `messages.send` with `raw`.
pub fn gmail_raw(mime: &str) -> HttpRequest {
    HttpRequest::json(
        "/gmail/v1/users/me/messages/send",
        &json!({"raw": b64url(mime.as_bytes()), "threadId": "18c0ffee"}),
    )
}

/// Gmail `drafts.send` of a draft given whole (`message.raw`).
pub fn gmail_draft_send_raw(mime: &str) -> HttpRequest {
    HttpRequest::json(
        "/gmail/v1/users/me/drafts/send",
        &json!({"id": "r-1", "message": {"raw": b64url(mime.as_bytes())}}),
    )
}

/// Gmail `drafts.send` of a stored draft named only by its id (a send by reference).
pub fn gmail_draft_send_by_id(id: &str) -> HttpRequest {
    HttpRequest::json("/gmail/v1/users/me/drafts/send", &json!({"id": id}))
}

/// Gmail's upload endpoint, `uploadType=media`: the message itself.
pub fn gmail_upload_media(mime: &str) -> HttpRequest {
    HttpRequest::post(
        "/upload/gmail/v1/users/me/messages/send?uploadType=media",
        Some("message/rfc822"),
        mime,
    )
}

/// Gmail's upload endpoint, `uploadType=multipart`: metadata, then the message.
pub fn gmail_upload_multipart(mime: &str) -> HttpRequest {
    let boundary = "foo_bar_baz";
    let body = format!(
        "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{{\"threadId\":\"18c0ffee\"}}\r\n--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n{mime}\r\n--{boundary}--\r\n"
    );
    HttpRequest::post(
        "/upload/gmail/v1/users/me/messages/send?uploadType=multipart",
        Some(&format!("multipart/related; boundary={boundary}")),
        body,
    )
}

/// A Gmail batch (`POST /batch`) as google-api-python-client's `new_batch_http_request()`
/// writes it: `multipart/mixed`, line breaks `\n`, one `application/http` part per call, each
/// a request line, headers and the call's JSON. Here a `messages.send` of each message (its
/// `raw`), a `drafts.send` of the stored draft `draft_id` (if any) and a `messages.list`.
pub fn gmail_batch(mimes: &[&str], draft_id: Option<&str>) -> HttpRequest {
    let mut calls: Vec<(&str, &str, String)> = mimes
        .iter()
        .map(|m| {
            let body = json!({"raw": b64url(m.as_bytes())}).to_string();
            ("POST", "/gmail/v1/users/me/messages/send?alt=json", body)
        })
        .collect();
    if let Some(id) = draft_id {
        let body = json!({"id": id}).to_string();
        calls.push(("POST", "/gmail/v1/users/me/drafts/send?alt=json", body));
    }
    calls.push(("GET", "/gmail/v1/users/me/messages?alt=json", String::new()));
    gmail_batch_of(&calls)
}

/// Gmail's `settings.forwardingAddresses.create` of `address`.
pub fn gmail_forwarding_address(address: &str) -> HttpRequest {
    HttpRequest::json(
        "/gmail/v1/users/me/settings/forwardingAddresses",
        &json!({"forwardingEmail": address}),
    )
}

/// Gmail's `settings.filters.create` of a filter that forwards mail from the unit to `address`.
pub fn gmail_filter(address: &str) -> HttpRequest {
    HttpRequest::json(
        "/gmail/v1/users/me/settings/filters",
        &json!({"criteria": {"from": "army.mil"}, "action": {"forward": address}}),
    )
}

/// Gmail's `settings.updateAutoForwarding`: every incoming message forwarded to `address`.
pub fn gmail_auto_forwarding(address: &str) -> HttpRequest {
    HttpRequest {
        method: "PUT",
        ..HttpRequest::json(
            "/gmail/v1/users/me/settings/autoForwarding",
            &json!({"enabled": true, "emailAddress": address, "disposition": "leaveInInbox"}),
        )
    }
}

/// A Gmail batch of the calls `(method, path, JSON body)` (an empty body: none), as
/// google-api-python-client writes one.
pub fn gmail_batch_of(calls: &[(&str, &str, String)]) -> HttpRequest {
    let boundary = "===============2259265848015652299==";
    let mut body = String::new();
    for (i, (method, path, json)) in calls.iter().enumerate() {
        body.push_str(&format!(
            "--{boundary}\nContent-Type: application/http\nMIME-Version: 1.0\n\
             Content-Transfer-Encoding: binary\nContent-ID: <3999017b-fdd5-4351-80fb-9bd093f0a845 + {}>\n\n\
             {method} {path} HTTP/1.1\nContent-Type: application/json\nMIME-Version: 1.0\n\
             accept: application/json\naccept-encoding: gzip, deflate\nuser-agent: (gzip)\n\
             x-goog-api-client: gdcl/2.202.0 gl-python/3.11.7\nHost: gmail.googleapis.com\n",
            i + 1
        ));
        if !json.is_empty() {
            body.push_str(&format!("content-length: {}\n", json.len()));
        }
        body.push_str(&format!("\n{json}\n"));
    }
    body.push_str(&format!("--{boundary}--\n"));
    HttpRequest::post(
        "/batch",
        Some(&format!("multipart/mixed; boundary=\"{boundary}\"")),
        body,
    )
}

// -------------------------------------------------------------------------------------------
// Roundcube

/// A form value, `application/x-www-form-urlencoded`.
fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Roundcube's compose form, urlencoded, as its compose window posts it
/// ([`ROUNDCUBE_COMPOSE_PATH`]): `_from` is an identity id; `_draft=1` saves a draft.
pub fn roundcube_form(to: &str, cc: &str, bcc: &str, draft: bool) -> HttpRequest {
    let fields = [
        ("_token", "3fa9c0ffee"),
        ("_id", "66a1"),
        ("_draft", if draft { "1" } else { "" }),
        ("_from", "1"),
        ("_to", to),
        ("_cc", cc),
        ("_bcc", bcc),
        ("_subject", "Schedule"),
        ("_message", BODY_TEXT),
        ("_is_html", "0"),
    ];
    let body = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    HttpRequest::post(
        ROUNDCUBE_COMPOSE_PATH,
        Some("application/x-www-form-urlencoded"),
        body,
    )
}

/// Roundcube's "Bounce" of the stored message `uid`, to `to`, as its `http_post` sends it: the
/// bounce form's fields (less `_action` and `_task`), `_remote` and `_unlock`.
pub fn roundcube_bounce(to: &str, uid: &str) -> HttpRequest {
    let body = format!(
        "_token=3fa9c0ffee&_from=1&_to={}&_cc=&_bcc=&_uid={}&_mbox=INBOX&_remote=1&_unlock=loading1731",
        urlencode(to),
        urlencode(uid)
    );
    HttpRequest::post(
        "/?_task=mail&_action=bounce",
        Some("application/x-www-form-urlencoded"),
        body,
    )
}

/// Roundcube's compose form as `multipart/form-data` (with an attachment).
pub fn roundcube_multipart(to: &str, cc: &str, draft: bool) -> HttpRequest {
    let boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
    let fields = [
        ("_token", "3fa9c0ffee"),
        ("_draft", if draft { "1" } else { "" }),
        ("_to", to),
        ("_cc", cc),
        ("_bcc", ""),
        ("_subject", "Schedule"),
        ("_message", BODY_TEXT),
    ];
    let mut body = String::new();
    for (k, v) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"_attachments[]\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nattachment\r\n--{boundary}--\r\n"
    ));
    HttpRequest::post(
        ROUNDCUBE_COMPOSE_PATH,
        Some(&format!("multipart/form-data; boundary={boundary}")),
        body,
    )
}

// -------------------------------------------------------------------------------------------
// SnappyMail, Nextcloud Mail, SOGo, the check request

/// SnappyMail's JSON `SendMessage` action.
pub fn snappymail(to: &str, cc: &str) -> HttpRequest {
    let mut r = HttpRequest::json(
        "/?/Json/&q[]=/0/",
        &json!({"Action": "SendMessage", "identityID": "main", "to": to, "cc": cc,
                "bcc": "", "subject": "Schedule", "plain": BODY_TEXT}),
    );
    r.headers.push(("x-sm-token".into(), "abc".into()));
    r
}

/// Nextcloud Mail: a new outbox entry.
pub fn nextcloud(to: &[&str], cc: &[&str]) -> HttpRequest {
    let list = |v: &[&str]| -> Vec<Value> {
        v.iter()
            .map(|a| json!({"label": "Someone", "email": a}))
            .collect()
    };
    HttpRequest::json(
        "/index.php/apps/mail/api/outbox",
        &json!({
            "accountId": 3, "subject": "Schedule", "bodyPlain": BODY_TEXT, "isHtml": false,
            "smimeSign": false, "smimeEncrypt": false, "to": list(to), "cc": list(cc), "bcc": [],
            "attachments": [], "sendAt": 1767225600}),
    )
}

/// Nextcloud Mail: the send of a stored outbox entry, by id, no body (a send by reference).
pub fn nextcloud_outbox_send(id: &str) -> HttpRequest {
    HttpRequest::post(
        &format!("/index.php/apps/mail/api/outbox/{id}"),
        None,
        Vec::new(),
    )
}

/// SOGo's `.../send` of a draft, with its JSON recipients.
pub fn sogo(from: &str, to: &[&str], cc: &[&str]) -> HttpRequest {
    HttpRequest::json(
        "/SOGo/so/ops/Mail/0/folderDrafts/newDraft1700000000-1/send",
        &json!({"from": from, "to": to, "cc": cc, "bcc": [], "subject": "Schedule",
                "text": BODY_TEXT, "isHTML": false}),
    )
}

/// The check request of `docs/contract.md` on [`CHECK_PATH`].
pub fn check(from: &str, to: &[&str], cc: &[&str]) -> HttpRequest {
    HttpRequest::json(
        CHECK_PATH,
        &json!({"id": "t1", "from": from, "to": to, "cc": cc}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_has_its_standard_send() {
        for (api, path) in [
            ("jmap", "/jmap/api/"),
            ("graph", "/v1.0/me/sendMail"),
            ("gmail", "/gmail/v1/users/me/messages/send"),
            ("roundcube", ROUNDCUBE_SEND_PATH),
            ("snappymail", "/?/Json/&q[]=/0/"),
            ("nextcloud", "/index.php/apps/mail/api/outbox"),
            (
                "sogo",
                "/SOGo/so/ops/Mail/0/folderDrafts/newDraft1700000000-1/send",
            ),
            ("check", CHECK_PATH),
        ] {
            let r = for_api(api, "a.b@army.mil", &["c@navy.ml"], &["y@gmail.com"]);
            assert_eq!((r.method, r.path.as_str()), ("POST", path), "{api}");
            let text = if api == "gmail" {
                let raw: Value = serde_json::from_slice(&r.body).unwrap();
                let raw = raw["raw"].as_str().unwrap();
                let mime = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(raw)
                    .unwrap();
                String::from_utf8(mime).unwrap()
            } else {
                r.body_text()
            };
            let text = text.replace("%40", "@");
            assert!(
                text.contains("c@navy.ml") && text.contains("y@gmail.com"),
                "{api}: {text}"
            );
        }
    }

    #[test]
    fn forms_and_messages_are_encoded() {
        let r = roundcube_form("Lt Ray <c@navy.ml>", "", "", false);
        assert!(
            r.body_text().contains("_to=Lt+Ray+%3Cc%40navy.ml%3E&"),
            "{}",
            r.body_text()
        );
        assert_eq!(
            mime_message("a@b.mil", &["c@d.mil", "e@f.mil"], &[]),
            "From: Sender <a@b.mil>\r\nTo: c@d.mil,\r\n e@f.mil\r\nSubject: Schedule\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee you at 0900.\r\n"
        );
        assert_eq!(b64url(b"To: y"), "VG86IHk");
    }
}
