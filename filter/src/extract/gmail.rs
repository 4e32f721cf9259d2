//! Gmail API: `users.messages.send` and `users.drafts.send`.
//!
//! JSON bodies carry the message as `raw` (base64url RFC 5322, padded or not); the `/upload`
//! variants carry it as a `message/rfc822` body (`uploadType=media`, and the `PUT` of a resumable
//! session) or as the `message/*` part of a `multipart/related` body (`uploadType=multipart`).
//! `drafts.send` of a saved draft by `id` is a send by reference: the draft's headers are looked
//! up ([`Reference::GmailDraft`]). The `POST` that opens a resumable upload session carries only
//! metadata and is not a send; the session's first `PUT` carries the message headers, and its later
//! chunks are continuations ([`super::is_continuation`]).
//!
//! A batch (`POST /batch`, as google-api-python-client's `new_batch_http_request()` sends it, or
//! `/batch/gmail/v1`) is `multipart/mixed` with one HTTP request per `application/http` part: each
//! send among them is read as its own body would be, and the batch is judged as one send of all
//! their recipients.
//!
//! The settings that forward the mailbox's mail are judged too ([`GmailSetting`]): a forwarding
//! address created, a filter that forwards, automatic forwarding switched on. Each is read as a
//! send to the address it forwards to, and refused as a rule not saved (`Send::forwarding`).

use super::head::{Encoding, Head as MessageHead};
use super::json::{Doc, Kind, Seg, Select};
use super::multipart::{Content, Part, PartInfo, Request, Sink};
use super::read::Read;
use super::request::{err, fail, under, url_path, GmailSetting, Head, Route};
use super::tree::{Val, View};
use crate::send::{self, Api, ExtractError, LookupError, Reference, Send};

const API: Api = Api::Gmail;

pub fn classify(head: &Head, prefix: &str) -> Option<Route> {
    let rest = under(head.path, prefix)?;
    if matches!(rest, "/batch" | "/batch/gmail/v1") {
        // (A batch is multipart/mixed; another body there is Google's to refuse.)
        let post = head.method.eq_ignore_ascii_case("POST");
        let mixed = head.media_type.is_none_or(|m| m == "multipart/mixed");
        return (post && mixed).then_some(Route::GmailBatch);
    }
    let (upload, rest) = match rest.strip_prefix("/upload") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let after_users = rest.strip_prefix("/gmail/v1/users/")?;
    if !upload {
        if let Some(setting) = forwarding_setting(after_users, head.method) {
            return super::request::is_json(head.media_type)
                .then_some(Route::GmailForwarding(setting));
        }
    }
    let drafts = sends_drafts(after_users)?;
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
        post && super::request::is_json(head.media_type)
    }
    .then_some(if upload {
        Route::GmailUpload { drafts }
    } else {
        Route::GmailJson { drafts }
    })
}

/// The value of query parameter `name` in a path or URL (`None` if absent or empty).
fn query_param<'a>(path: &'a str, name: &str) -> Option<&'a str> {
    let query = path.split_once('?')?.1;
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// The session of a resumable upload a path (or a `Location` URL) names: its `upload_id`.
pub fn upload_id(path: &str) -> Option<&str> {
    query_param(path, "upload_id")
}

/// The resumable upload session a candidate's request carries the message of: the `upload_id`
/// of a Gmail upload (another API's request naming one continues no session).
pub fn continued_session(route: Route, path: &str) -> Option<&str> {
    matches!(route, Route::GmailUpload { .. })
        .then(|| upload_id(path))
        .flatten()
}

/// True for the `POST` that opens a resumable upload session (`uploadType=resumable`, no
/// `upload_id` yet). An app's headers (a confirm token) come only with it: the filter hands the
/// token on to the session's first `PUT` through the session's `upload_id`.
pub fn opens_upload_session(method: &str, path: &str) -> bool {
    method.eq_ignore_ascii_case("POST")
        && query_param(path, "uploadType") == Some("resumable")
        && upload_id(path).is_none()
}

/// What the filter reads of a Message or Draft resource: the head of the message in `raw` (or
/// `message.raw`), decoded only as far as the blank line after its header, and the draft's `id`.
pub fn select(path: &[Seg], kind: Kind) -> Select {
    let is = |seg: &Seg, name: &str| seg.key() == Some(name);
    let string = kind == Kind::String;
    match path {
        [] => Select::Descend,
        [m] if is(m, "message") => Select::Descend,
        [r] if is(r, "raw") && string => Select::Head(Encoding::Base64),
        [m, r] if is(m, "message") && is(r, "raw") && string => Select::Head(Encoding::Base64),
        [i] if is(i, "id") => Select::Keep,
        _ => Select::Skip,
    }
}

/// What the filter reads of a `multipart/related` upload: the head of its message part, and its
/// JSON metadata part as [`select`] reads it; other parts are skipped.
pub fn part(info: &PartInfo) -> Sink {
    if info.media_type.starts_with("message/") {
        Sink::Head
    } else if info.media_type == "application/json" {
        Sink::Json(select)
    } else {
        Sink::Skip
    }
}

/// What the filter reads of a batch's part: the HTTP request it holds (`application/http`).
pub fn batch_part(info: &PartInfo) -> Sink {
    if info.media_type == "application/http" {
        Sink::Http(batch_call)
    } else {
        Sink::Skip
    }
}

/// The path after `/gmail/v1/users/`, if it is a send's: `{u}/messages/send` (`false`) or
/// `{u}/drafts/send` (`true`).
fn sends_drafts(after_users: &str) -> Option<bool> {
    let mut segs = after_users.trim_end_matches('/').split('/');
    segs.next().filter(|u| !u.is_empty())?;
    match (segs.next(), segs.next(), segs.next()) {
        (Some("messages"), Some("send"), None) => Some(false),
        (Some("drafts"), Some("send"), None) => Some(true),
        _ => None,
    }
}

/// The setting a `method` request on the path after `/gmail/v1/users/` saves, if it forwards
/// mail: `{u}/settings/forwardingAddresses` and `{u}/settings/filters` (`POST`: created),
/// `{u}/settings/autoForwarding` (`PUT`: updated).
fn forwarding_setting(after_users: &str, method: &str) -> Option<GmailSetting> {
    let mut segs = after_users.trim_end_matches('/').split('/');
    segs.next().filter(|u| !u.is_empty())?;
    let (setting, with) = match (segs.next(), segs.next(), segs.next()) {
        (Some("settings"), Some("forwardingAddresses"), None) => {
            (GmailSetting::ForwardingAddress, "POST")
        }
        (Some("settings"), Some("filters"), None) => (GmailSetting::Filter, "POST"),
        (Some("settings"), Some("autoForwarding"), None) => (GmailSetting::AutoForwarding, "PUT"),
        _ => return None,
    };
    method.eq_ignore_ascii_case(with).then_some(setting)
}

/// What the filter reads of a forwarding setting: where it forwards to (`forwardingEmail`, a
/// filter's `action.forward`, automatic forwarding's `emailAddress`) and whether automatic
/// forwarding is `enabled`, by their JSON names or their proto field names, which Google reads
/// too (`forwarding_email`).
pub fn select_setting(path: &[Seg], _kind: Kind) -> Select {
    let is = |seg: &Seg, names: &[&str]| seg.key().is_some_and(|k| names.contains(&k));
    match path {
        [] => Select::Descend,
        [a] if is(a, &["action"]) => Select::Descend,
        [a, f] if is(a, &["action"]) && is(f, &["forward"]) => Select::Keep,
        [f] if is(f, &SETTING_FIELDS) => Select::Keep,
        _ => Select::Skip,
    }
}

/// The top-level fields of a forwarding setting that [`select_setting`] keeps.
const SETTING_FIELDS: [&str; 5] = [
    "forwardingEmail",
    "forwarding_email",
    "emailAddress",
    "email_address",
    "enabled",
];

/// `v[name]`, or `v[proto]` (the proto field name, which Google's JSON reader takes as well).
fn either<'a>(v: Val<'a>, name: &str, proto: &str) -> Option<Val<'a>> {
    v.get(name).or_else(|| v.get(proto))
}

/// The send of a forwarding setting: its address, as one recipient (none for automatic
/// forwarding switched off).
fn from_setting(setting: GmailSetting, doc: &Doc) -> Result<Send, ExtractError> {
    let v = doc.root();
    if !v.is_object() {
        return err(API, "body is not a JSON object");
    }
    let mut s = Send::new(API);
    s.forwarding = true;
    let (address, at) = match setting {
        GmailSetting::ForwardingAddress => (
            either(v, "forwardingEmail", "forwarding_email"),
            "forwardingEmail",
        ),
        GmailSetting::Filter => (
            v.get("action").and_then(|a| a.get("forward")),
            "action.forward",
        ),
        GmailSetting::AutoForwarding => {
            let enabled = v.get("enabled").map(|e| e.view());
            match enabled {
                Some(View::Bool(true)) => {}
                None | Some(View::Null) | Some(View::Bool(false)) => return Ok(s),
                Some(_) => return err(API, "enabled is not true or false"),
            }
            (either(v, "emailAddress", "email_address"), "emailAddress")
        }
    };
    match address.map(|a| a.view()) {
        None | Some(View::Null) => {}
        Some(View::String(a)) => s.to.push(a.to_string()),
        Some(_) => return fail(API, format_args!("{at} is not a string")),
    }
    Ok(s)
}

/// A forwarding setting's JSON, as [`select_setting`] read it.
pub fn extract_setting(setting: GmailSetting, read: Read) -> Result<Send, ExtractError> {
    match read {
        Read::Json(Ok(doc)) => from_setting(setting, &doc),
        Read::Json(Err(e)) => fail(API, format_args!("malformed JSON: {e}")),
        _ => err(API, "malformed JSON: the body is empty"),
    }
}

/// A batched call's target, if it is a send: `messages.send` (`false`) or `drafts.send`
/// (`true`), under whatever prefix (a batch's calls are not classified by the API's prefixes).
fn batched_send(call: &Request) -> Option<bool> {
    let (_, rest) = url_path(&call.target).split_once("/gmail/v1/users/")?;
    sends_drafts(rest)
}

/// A batched call's forwarding setting, if it saves one (as [`forwarding_setting`] says).
fn batched_setting(call: &Request) -> Option<GmailSetting> {
    let (_, rest) = url_path(&call.target).split_once("/gmail/v1/users/")?;
    forwarding_setting(rest, &call.method)
}

/// What the filter reads of a batched call: a send's JSON, as [`select`] reads a send's own
/// body, and a forwarding setting's as [`select_setting`] does; nothing of any other call.
fn batch_call(call: &Request) -> Sink {
    if batched_send(call).is_some() {
        Sink::Json(select)
    } else if batched_setting(call).is_some() {
        Sink::Json(select_setting)
    } else {
        Sink::Skip
    }
}

/// A batch: the sends among its calls, as one send of all their recipients (`None`: no call is
/// a send). A send the filter cannot read, or that is not `POST` JSON, makes the batch an error:
/// it is never passed unread.
pub fn extract_batch(read: Read) -> Result<Option<Send>, ExtractError> {
    let parts: Vec<Part> = match read {
        Read::Parts(p) => p.or_else(|e| fail(API, format_args!("malformed batch: {e}")))?,
        _ => return err(API, "malformed batch: the body is empty"),
    };
    let mut batch: Option<Send> = None;
    for (i, part) in parts.iter().enumerate() {
        let Some(call) = &part.request else {
            continue;
        };
        let setting = batched_setting(call);
        let drafts = batched_send(call);
        if setting.is_none() && drafts.is_none() {
            continue;
        }
        let at = format!("batched call {} ({} {})", i + 1, call.method, call.target);
        if setting.is_none() && !call.method.eq_ignore_ascii_case("POST")
            || !super::request::is_json(call.media_type.as_deref())
        {
            return fail(
                API,
                format_args!("{at} is not a {} of JSON", call_method(setting)),
            );
        }
        let one = match &part.content {
            Content::Json(Ok(doc)) => match (setting, drafts) {
                (Some(setting), _) => from_setting(setting, doc),
                (None, drafts) => from_resource(drafts == Some(true), url_path(&call.target), doc),
            },
            Content::Json(Err(e)) => fail(API, format_args!("{at}: malformed JSON: {e}")),
            _ => fail(API, format_args!("{at} was not read")),
        }?;
        match batch.as_mut() {
            Some(b) => b.merge(one),
            None => batch = Some(one),
        }
    }
    Ok(batch)
}

/// The method a batched call of `setting` (or of a send, `None`) is made with.
fn call_method(setting: Option<GmailSetting>) -> &'static str {
    match setting {
        Some(GmailSetting::AutoForwarding) => "PUT",
        _ => "POST",
    }
}

/// Where the message of a JSON send is: `raw` (`messages.send`) or `message.raw`
/// (`drafts.send`).
pub fn raw_path(drafts: bool) -> Vec<Seg> {
    if drafts {
        vec![Seg::Key("message".into()), Seg::Key("raw".into())]
    } else {
        vec![Seg::Key("raw".into())]
    }
}

/// The send of a message whose head was read; `at` names it in errors.
fn from_message(head: Option<&MessageHead>, at: &str) -> Result<Send, ExtractError> {
    let Some(head) = head else {
        return fail(API, format_args!("{at} was not read"));
    };
    let a = head.addresses(at).or_else(|e| err(API, e))?;
    let mut s = Send::new(API);
    s.from = a.from;
    s.to = a.to;
    s.cc = a.cc;
    s.bcc = a.bcc;
    Ok(s)
}

/// The stored draft a `drafts.send` of `{"id": ...}` names; `path` is the request's path
/// (`.../gmail/v1/users/{u}/drafts/send`, perhaps under `/upload`).
fn draft_reference(path: &str, id: &str) -> Result<Reference, ExtractError> {
    let path = path.trim_end_matches('/');
    let base = path.strip_suffix("/drafts/send").unwrap_or(path);
    let (before, user) = base.rsplit_once('/').unwrap_or(("", base));
    let user = send::decode_segment(user).ok_or_else(|| ExtractError {
        api: API,
        message: format!("user {user:?} in the path is not percent-encoded text"),
    })?;
    let user = send::checked_id(API, &user, "user")?;
    // The draft resource lives under the plain API, also for an /upload send.
    let before = before.replacen("/upload/gmail/", "/gmail/", 1);
    Ok(Reference::GmailDraft {
        base: format!("{before}/{}", send::encode_segment(&user)),
        id: send::checked_id(API, id, "draft id")?,
    })
}

/// The message of a JSON Message (`messages.send`) or Draft (`drafts.send`) resource.
fn from_resource(drafts: bool, path: &str, doc: &Doc) -> Result<Send, ExtractError> {
    let v = doc.root();
    if !v.is_object() {
        return err(API, "body is not a JSON object");
    }
    let (raw, at) = if drafts {
        (v.get("message").and_then(|m| m.get("raw")), "message.raw")
    } else {
        (v.get("raw"), "raw")
    };
    match raw.map(|r| r.view()) {
        Some(View::String(_)) => from_message(doc.head(&raw_path(drafts)), at),
        None | Some(View::Null) if drafts => {
            let mut s = Send::new(API);
            match v.get("id").map(|id| id.view()) {
                Some(View::String(id)) => s.references.push(draft_reference(path, id)?),
                None | Some(View::Null) => {
                    return err(API, "drafts.send without id or message.raw")
                }
                Some(_) => return err(API, "id is not a string"),
            }
            Ok(s)
        }
        None | Some(View::Null) => err(API, "messages.send without raw"),
        Some(_) => fail(API, format_args!("{at} is not a string")),
    }
}

/// A JSON `messages.send` or `drafts.send`, as [`select`] read it; [`Read::Head`] when the head
/// of its message was read before the end of the body.
pub fn extract_json(drafts: bool, path: &str, read: Read) -> Result<Send, ExtractError> {
    let at = if drafts { "message.raw" } else { "raw" };
    match read {
        Read::Head(head) => from_message(Some(&head), at),
        Read::Json(Ok(doc)) => from_resource(drafts, path, &doc),
        Read::Json(Err(e)) => fail(API, format_args!("malformed JSON: {e}")),
        _ => err(API, "malformed JSON: the body is empty"),
    }
}

/// An `/upload` send: the message itself (`message/rfc822`), a `multipart/related` body, or the
/// JSON that opens a resumable session (not a send) or carries `raw`.
pub fn extract_upload(drafts: bool, path: &str, read: Read) -> Result<Option<Send>, ExtractError> {
    match read {
        Read::Parts(parts) => {
            let parts: Vec<Part> = parts.or_else(|e| err(API, e))?;
            let message = parts.iter().find_map(|p| match &p.content {
                Content::Head(h) if p.info.media_type.starts_with("message/") => Some(h),
                _ => None,
            });
            if let Some(h) = message {
                return from_message(Some(h), "the message part").map(Some);
            }
            let json = parts.iter().find_map(|p| match &p.content {
                Content::Json(d) if p.info.media_type == "application/json" => Some(d),
                _ => None,
            });
            match json {
                Some(Ok(doc)) => from_resource(drafts, path, doc).map(Some),
                Some(Err(e)) => fail(API, format_args!("malformed JSON: {e}")),
                None => err(API, "multipart upload without a message/rfc822 part"),
            }
        }
        // The start of a resumable session: metadata only, the message follows in a PUT.
        Read::Blank => Ok(None),
        Read::Json(doc) => {
            let doc = doc.or_else(|e| fail(API, format_args!("malformed JSON: {e}")))?;
            let v = doc.root();
            let has_raw =
                v.get("raw").is_some() || v.get("message").and_then(|m| m.get("raw")).is_some();
            if has_raw {
                from_resource(drafts, path, &doc).map(Some)
            } else {
                Ok(None)
            }
        }
        Read::Head(head) => from_message(Some(&head), "the message").map(Some),
        _ => err(API, "the upload was not read"),
    }
}

/// The mail server's answer to the lookup of a draft ([`Reference::GmailDraft`]): a Gmail `Draft`
/// resource with `format=metadata`, whose `message.payload` carries the headers.
pub fn read_draft(v: Val) -> Result<Send, LookupError> {
    let headers = v
        .get("message")
        .and_then(|m| m.get("payload"))
        .and_then(|p| p.get("headers"))
        .and_then(|h| h.as_array())
        .ok_or_else(|| LookupError::Unreadable("a draft without message.payload.headers".into()))?;
    let mut s = Send::new(API);
    for (i, h) in headers.items().enumerate() {
        let (Some(name), Some(value)) = (
            h.get("name").and_then(|n| n.as_str()),
            h.get("value").and_then(|v| v.as_str()),
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

#[cfg(test)]
mod tests {
    use crate::extract::tests::{error, extract_at, send};
    use crate::extract::Routes;
    use crate::send::Reference;
    use base64::Engine as _;

    const CT: Option<&str> = Some("application/json");

    fn b64url(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn messages_send_raw() {
        let body = br#"{"raw":"VG86IHJheUBiYXNlLmV4YW1wbGUubWwNClN1YmplY3Q6IGhpDQoNCmhlbGxv", "threadId":"18c0ffee"}"#;
        for path in [
            "/gmail/v1/users/me/messages/send",
            "/gmail/v1/users/me/messages/send/",
        ] {
            let s = send("POST", path, CT, body);
            assert_eq!(s.to, vec!["ray@base.example.ml"], "{path}");
        }
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
        for path in [
            "/gmail/v1/users/me/drafts/send",
            "/gmail/v1/users/me/drafts/send//",
        ] {
            let s = send("POST", path, CT, br#"{"id":"r-123"}"#);
            assert!(s.has_no_recipients());
            assert_eq!(
                s.references,
                vec![Reference::GmailDraft {
                    base: "/gmail/v1/users/me".into(),
                    id: "r-123".into()
                }],
                "{path}"
            );
        }
        let s = send(
            "POST",
            "/upload/gmail/v1/users/ray%40army.mil/drafts/send?uploadType=multipart",
            Some("multipart/related; boundary=b"),
            b"--b\r\nContent-Type: application/json\r\n\r\n{\"id\": \"r-9\"}\r\n--b--\r\n",
        );
        assert_eq!(
            s.references,
            vec![Reference::GmailDraft {
                base: "/gmail/v1/users/ray%40army.mil".into(),
                id: "r-9".into()
            }]
        );
        assert!(error("POST", "/gmail/v1/users/me/drafts/send", CT, b"{}")
            .message
            .contains("without id"));
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
        // Resumable: the session start has no message and is not a send; the PUT carries it.
        assert_eq!(
            extract_at(
                "POST",
                "/upload/gmail/v1/users/me/messages/send?uploadType=resumable",
                CT,
                br#"{"threadId":"t"}"#,
            ),
            Ok(None)
        );
        let s = send(
            "PUT",
            "/upload/gmail/v1/users/me/messages/send?uploadType=resumable&upload_id=xa",
            Some("message/rfc822"),
            msg,
        );
        assert_eq!(s.to.len(), 1);
    }

    #[test]
    fn resumable_sessions() {
        use super::{opens_upload_session, upload_id};
        let start = "/upload/gmail/v1/users/me/messages/send?alt=json&uploadType=resumable";
        assert!(opens_upload_session("POST", start));
        assert!(!opens_upload_session("PUT", start));
        let put = "/upload/gmail/v1/users/me/messages/send?uploadType=resumable&upload_id=AEnB2U";
        assert!(!opens_upload_session("POST", put));
        assert_eq!(upload_id(put), Some("AEnB2U"));
        assert_eq!(
            upload_id("https://host/upload/gmail/v1/users/me/messages/send?upload_id=x1&uploadType=resumable"),
            Some("x1")
        );
        assert_eq!(upload_id(start), None);
        assert_eq!(upload_id("/x?upload_id="), None);
    }

    #[test]
    fn batches_are_judged_as_one_send_of_all_their_sends() {
        use mistype_testdata::sends;
        let typo = sends::mime_message("a.b@army.mil", &["c@navy.ml"], &[]);
        let clean = sends::mime_message("a.b@army.mil", &["ops@army.mil"], &["x@gmial.com"]);
        // As google-api-python-client writes it: two sends, a draft by id and a list.
        let b = sends::gmail_batch(&[&typo, &clean], Some("r-123"));
        let ct = b.content_type.as_deref();
        let s = send("POST", &b.path, ct, &b.body);
        assert_eq!(s.to, vec!["c@navy.ml", "ops@army.mil"]);
        assert_eq!(s.cc, vec!["x@gmial.com"]);
        assert_eq!(s.from.as_deref(), Some("\"Sender\" <a.b@army.mil>"));
        assert_eq!(
            s.references,
            vec![Reference::GmailDraft {
                base: "/gmail/v1/users/me".into(),
                id: "r-123".into()
            }]
        );
        // A call's absolute URL: the draft is looked up by its path.
        let text = String::from_utf8(b.body.clone()).unwrap();
        let absolute = text.replacen(
            "POST /gmail/v1/users/me/drafts/send",
            "POST https://gmail.googleapis.com/gmail/v1/users/me/drafts/send",
            1,
        );
        let s = send("POST", &b.path, ct, absolute.as_bytes());
        assert_eq!(
            s.references,
            vec![Reference::GmailDraft {
                base: "/gmail/v1/users/me".into(),
                id: "r-123".into()
            }]
        );
        // The per-API batch path too; and a batch of no send is not one.
        let s = send("POST", "/batch/gmail/v1", ct, &b.body);
        assert_eq!(s.to.len(), 2);
        let none = sends::gmail_batch(&[], None);
        assert!(extract_at("POST", "/batch", ct, &none.body)
            .unwrap()
            .is_none());
        // Only POSTs of multipart/mixed to the batch paths are candidates.
        let r = Routes::default();
        assert!(r.classify("GET", "/batch", ct).is_none());
        assert!(r.classify("POST", "/batch", CT).is_none());
        assert!(r.classify("POST", "/batch/other", ct).is_none());
    }

    #[test]
    fn forwarding_settings_are_sends_to_the_address_they_forward_to() {
        use mistype_testdata::sends;
        // A forwarding address created (Gmail mails it a confirmation request), a filter that
        // forwards, automatic forwarding switched on: each sends mail to its address.
        for (method, path, body) in [
            (
                "POST",
                "/gmail/v1/users/me/settings/forwardingAddresses",
                &br#"{"forwardingEmail": "j.smith@navy.ml"}"#[..],
            ),
            (
                "POST",
                "/gmail/v1/users/ops%40army.mil/settings/forwardingAddresses",
                br#"{"forwarding_email": "j.smith@navy.ml"}"#,
            ),
            (
                "POST",
                "/gmail/v1/users/me/settings/filters",
                br#"{"criteria": {"from": "ops@army.mil"}, "action": {"addLabelIds": ["L1"], "forward": "j.smith@navy.ml"}}"#,
            ),
            (
                "PUT",
                "/gmail/v1/users/me/settings/autoForwarding",
                br#"{"enabled": true, "emailAddress": "j.smith@navy.ml", "disposition": "leaveInInbox"}"#,
            ),
            (
                "put",
                "/gmail/v1/users/me/settings/autoForwarding",
                br#"{"email_address": "j.smith@navy.ml", "enabled": true}"#,
            ),
        ] {
            let s = send(method, path, CT, body);
            assert_eq!(s.to, vec!["j.smith@navy.ml"], "{method} {path}");
            assert!(s.forwarding, "{method} {path}");
        }
        // With a trailing slash too, as a send's path.
        let s = send(
            "POST",
            "/gmail/v1/users/me/settings/filters/",
            CT,
            br#"{"action": {"forward": "c@navy.ml"}}"#,
        );
        assert_eq!(s.to, vec!["c@navy.ml"]);
        // Forwarding switched off, a filter that does not forward: no recipient.
        let auto = "/gmail/v1/users/me/settings/autoForwarding";
        for body in [
            &br#"{"enabled": false, "emailAddress": "j.smith@navy.ml"}"#[..],
            br#"{"emailAddress": "j.smith@navy.ml"}"#,
        ] {
            assert!(send("PUT", auto, CT, body).has_no_recipients());
        }
        let filters = "/gmail/v1/users/me/settings/filters";
        let labels = br#"{"criteria": {"from": "x@navy.ml"}, "action": {"addLabelIds": ["L1"]}}"#;
        assert!(send("POST", filters, CT, labels).has_no_recipients());
        // What cannot be read is an error, not a pass.
        let e = error(
            "PUT",
            auto,
            CT,
            br#"{"enabled": "yes", "emailAddress": "c@navy.ml"}"#,
        );
        assert!(e.message.contains("enabled is not true or false"), "{e}");
        let e = error(
            "POST",
            filters,
            CT,
            br#"{"action": {"forward": ["c@navy.ml"]}}"#,
        );
        assert!(e.message.contains("action.forward is not a string"), "{e}");
        let e = error("POST", filters, CT, b"[1]");
        assert!(e.message.contains("not a JSON object"), "{e}");
        // Other methods and settings are not candidates.
        let r = Routes::default();
        for (method, path) in [
            ("GET", "/gmail/v1/users/me/settings/forwardingAddresses"),
            ("POST", auto),
            ("PUT", filters),
            (
                "DELETE",
                "/gmail/v1/users/me/settings/forwardingAddresses/j.smith@navy.ml",
            ),
            ("PUT", "/gmail/v1/users/me/settings/vacation"),
            ("POST", "/upload/gmail/v1/users/me/settings/filters"),
        ] {
            assert!(r.classify(method, path, CT).is_none(), "{method} {path}");
        }
        // In a batch, beside a send: judged with it.
        let forwarding = r#"{"forwardingEmail": "j.smith@navy.ml"}"#.to_string();
        let auto_on = r#"{"enabled": true, "emailAddress": "x@gmial.com"}"#.to_string();
        let b = sends::gmail_batch_of(&[
            (
                "POST",
                "/gmail/v1/users/me/settings/forwardingAddresses?alt=json",
                forwarding,
            ),
            (
                "PUT",
                "/gmail/v1/users/me/settings/autoForwarding?alt=json",
                auto_on,
            ),
        ]);
        let s = send("POST", &b.path, b.content_type.as_deref(), &b.body);
        assert_eq!(s.to, vec!["j.smith@navy.ml", "x@gmial.com"]);
        assert!(s.forwarding);
    }

    #[test]
    fn a_batched_send_that_cannot_be_read_makes_the_batch_an_error() {
        use mistype_testdata::sends;
        let typo = sends::mime_message("a.b@army.mil", &["c@navy.ml"], &[]);
        let b = sends::gmail_batch(&[&typo], None);
        let ct = b.content_type.as_deref();
        let text = String::from_utf8(b.body.clone()).unwrap();
        let call = "POST /gmail/v1/users/me/messages/send?alt=json HTTP/1.1\n";
        for (what, body, says) in [
            (
                "its JSON cut",
                text.replacen(r#""}"#, "", 1),
                "malformed JSON",
            ),
            (
                "not JSON",
                text.replacen(
                    &format!("{call}Content-Type: application/json"),
                    &format!("{call}Content-Type: text/plain"),
                    1,
                ),
                "not a POST of JSON",
            ),
            (
                "compressed",
                text.replacen(call, &format!("{call}Content-Encoding: gzip\n"), 1),
                "compressed",
            ),
            (
                "a request line that is not one",
                text.replacen(call, "POST /gmail/v1/users/me/messages/send\n", 1),
                "request line",
            ),
            (
                "in base64",
                text.replacen("binary", "base64", 1),
                "transfer encoding",
            ),
        ] {
            let e = error("POST", "/batch", ct, body.as_bytes());
            assert!(e.message.contains(says), "{what}: {e}");
        }
        // A batch cut inside a call's head.
        let cut = &text[..text.find("Host:").unwrap()];
        let e = error("POST", "/batch", ct, cut.as_bytes());
        assert!(e.message.contains("ends inside"), "{e}");
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

    #[test]
    fn lookup_answers() {
        use super::read_draft;
        use crate::send::LookupError;
        use serde_json::json;
        let d = json!({"id": "r-1", "message": {"id": "m", "payload": {"headers": [
            {"name": "From", "value": "Ray <ray@army.mil>"}, {"name": "To", "value": "a@navy.ml, b@x.org"},
            {"name": "Subject", "value": "x"}, {"name": "BCC", "value": "z@gmial.com"}]}}});
        let s = read_draft(crate::extract::json::doc_of(&d).root()).unwrap();
        assert_eq!(s.to, vec!["a@navy.ml, b@x.org"]);
        assert_eq!(s.bcc, vec!["z@gmial.com"]);
        assert_eq!(s.from.as_deref(), Some("Ray <ray@army.mil>"));
        assert!(matches!(
            read_draft(crate::extract::json::doc_of(&json!({"id": "r-1"})).root()),
            Err(LookupError::Unreadable(_))
        ));
    }
}
