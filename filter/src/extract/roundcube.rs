//! Roundcube's compose form: `POST ?_task=mail&_action=send` with `_to`, `_cc`, `_bcc`
//! (RFC 5322 address lists), urlencoded or multipart. `_draft=1` saves a draft: not a send.
//! Roundcube's "Bounce" (`POST ?_task=mail&_action=bounce`, from its `http_post`) resends a
//! stored message to the `_to`, `_cc` and `_bcc` the user types: a send too.
//!
//! `_from` is an identity id, never an address; the mistype Roundcube plugin adds the identity's
//! address as [`FROM_FIELD`], and a confirm token as [`CONFIRM_FIELD`] (Roundcube posts its form
//! into a hidden iframe with `form.submit()`, so it cannot add the confirm header).

use super::form;
use super::request::{err, is_form, under, Head, Route};
use crate::send::{Api, ExtractError, RemoteCall, Send};

const API: Api = Api::Roundcube;

/// The form field that carries a confirm token.
pub const CONFIRM_FIELD: &str = "_mistype_confirm";
/// The form field with the sending identity's address (the plugin's sender context).
pub const FROM_FIELD: &str = "_mistype_from";

pub fn classify(head: &Head, prefix: &str) -> Option<Route> {
    if !head.method.eq_ignore_ascii_case("POST") || !is_form(head.media_type) {
        return None;
    }
    under(head.path, prefix).or_else(|| (prefix == "/").then_some(""))?;
    let q = form::query(head.query);
    let task = form::get(&q, "_task");
    let action = form::get(&q, "_action");
    let ok = matches!(
        (task, action),
        (Some("mail") | None, Some("send" | "bounce")) | (Some("mail"), None)
    );
    let framed = form::get(&q, "_framed").map(str::trim) == Some("1");
    let bounce = action == Some("bounce");
    ok.then_some(Route::Roundcube { framed, bounce })
}

/// The form fields the filter reads; the message text and everything else are skipped.
pub fn field(name: &str) -> bool {
    matches!(
        name,
        "_to"
            | "_cc"
            | "_bcc"
            | "_from"
            | FROM_FIELD
            | CONFIRM_FIELD
            | "_action"
            | "_draft"
            | "_id"
            | "_remote"
            | "_unlock"
    )
}

/// A compose form's send, or a bounce (`bounce`), from the fields [`field`] keeps.
pub fn extract(
    fields: Result<Vec<(String, String)>, String>,
    framed: bool,
    bounce: bool,
) -> Result<Option<Send>, ExtractError> {
    let fields = fields.or_else(|e| err(API, e))?;
    // The query was checked by `classify`; the body may carry `_action` when the query does not.
    let action = match form::get(&fields, "_action") {
        None if bounce => "bounce",
        None | Some("send") => "send",
        Some("bounce") => "bounce",
        Some(_) => return Ok(None),
    };
    if form::get(&fields, "_draft").map(str::trim) == Some("1") {
        return Ok(None);
    }
    let has_any = ["_to", "_cc", "_bcc"]
        .iter()
        .any(|k| form::get(&fields, k).is_some());
    if !has_any && form::get(&fields, "_id").is_none() {
        // Neither recipients nor a compose id: some other mail-task post (not a send).
        return Ok(None);
    }
    let mut s = Send::new(API);
    s.framed = framed;
    if form::get(&fields, "_remote").map(str::trim) == Some("1") {
        s.remote = Some(RemoteCall {
            action,
            unlock: form::get(&fields, "_unlock").unwrap_or("0").to_string(),
        });
    }
    let mut plugin_from = None;
    for (k, v) in &fields {
        match k.as_str() {
            "_to" => s.to.push(v.clone()),
            "_cc" => s.cc.push(v.clone()),
            "_bcc" => s.bcc.push(v.clone()),
            "_from" if v.contains('@') => s.from = Some(v.clone()),
            FROM_FIELD if v.contains('@') => plugin_from = Some(v.trim().to_string()),
            CONFIRM_FIELD if !v.trim().is_empty() => s.confirm = Some(v.trim().to_string()),
            _ => {}
        }
    }
    // An address in `_from` (an identity-less set-up) is what Roundcube sends as; else the
    // plugin's identity address.
    if s.from.is_none() && plugin_from.is_some() {
        s.from = plugin_from;
        s.from_is_hint = true;
    }
    Ok(Some(s))
}

#[cfg(test)]
mod tests {
    use crate::extract::tests::{error, extract_at, send};
    use crate::extract::Routes;

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");
    const PATH: &str = "/?_task=mail&_action=send&_unlock=loading1&_framed=1";

    #[test]
    fn urlencoded_send() {
        let body = b"_token=3fa9&_id=66a1&_draft=&_from=1&_to=Lt+Ray+%3Cray%40base.example.ml%3E%2C+x%40gmail.com&_cc=&_bcc=log%40unit.example.mil&_subject=Schedule&_message=hi&_is_html=0";
        let s = send("POST", PATH, FORM, body);
        assert_eq!(s.to, vec!["Lt Ray <ray@base.example.ml>, x@gmail.com"]);
        assert_eq!(s.cc, vec![""]);
        assert_eq!(s.bcc, vec!["log@unit.example.mil"]);
        assert_eq!(s.from, None);
        let r = s.to_request(None);
        assert!(r.cc.is_empty());
    }

    #[test]
    fn multipart_send_under_a_prefix() {
        let body = b"--b1\r\nContent-Disposition: form-data; name=\"_to\"\r\n\r\nc@navy.ml\r\n\
--b1\r\nContent-Disposition: form-data; name=\"_from\"\r\n\r\nops@army.mil\r\n--b1--\r\n";
        let s = send(
            "POST",
            "/roundcube/?_task=mail&_action=send",
            Some("multipart/form-data; boundary=b1"),
            body,
        );
        assert_eq!(s.to, vec!["c@navy.ml"]);
        assert_eq!(s.from.as_deref(), Some("ops@army.mil"));
    }

    #[test]
    fn drafts_and_other_actions_are_not_sends() {
        let r = Routes::default();
        assert_eq!(
            extract_at("POST", PATH, FORM, b"_draft=1&_to=c%40navy.ml"),
            Ok(None)
        );
        let task = "/?_task=mail";
        assert_eq!(
            extract_at("POST", task, FORM, b"_action=save&_to=c%40navy.ml"),
            Ok(None)
        );
        assert_eq!(
            extract_at("POST", task, FORM, b"_uid=5&_mbox=INBOX"),
            Ok(None)
        );
        assert!(
            extract_at("POST", task, FORM, b"_action=send&_to=c%40navy.ml")
                .unwrap()
                .is_some()
        );
        assert!(r
            .classify("POST", "/?_task=mail&_action=list", FORM)
            .is_none());
        assert!(r.classify("POST", "/?_task=login", FORM).is_none());
        assert!(r.classify("GET", PATH, FORM).is_none());
        assert!(r.classify("POST", PATH, Some("application/json")).is_none());
    }

    #[test]
    fn the_plugins_sender_and_confirm_fields() {
        let body = b"_id=1&_from=2&_mistype_from=ops%40army.mil&_mistype_confirm=tok.123&_to=c%40navy.ml%2C";
        let s = send("POST", PATH, FORM, body);
        assert_eq!(s.from.as_deref(), Some("ops@army.mil"));
        assert!(s.from_is_hint);
        assert_eq!(s.confirm.as_deref(), Some("tok.123"));
        // An address in `_from` itself wins; an empty token is no token.
        let body = b"_from=me%40corp.example&_mistype_from=ops%40army.mil&_mistype_confirm=&_to=c%40navy.ml";
        let s = send("POST", PATH, FORM, body);
        assert_eq!(s.from.as_deref(), Some("me@corp.example"));
        assert!(!s.from_is_hint);
        assert_eq!(s.confirm, None);
        // No address in the plugin's field: no sender.
        let s = send(
            "POST",
            PATH,
            FORM,
            b"_from=2&_mistype_from=2&_to=c%40navy.ml",
        );
        assert_eq!(s.from, None);
        assert!(s.framed);
        let s = send(
            "POST",
            "/?_task=mail&_action=send",
            FORM,
            b"_to=c%40navy.ml",
        );
        assert!(!s.framed);
    }

    #[test]
    fn bounces_are_sends() {
        // Roundcube's "Bounce" (`http_post('bounce', …)`): its form, `_action` and `_task` left
        // out of the body, `_remote` and `_unlock` added.
        let body = b"_token=t&_from=1&_to=Lt+J+%3Cj.smith%40navy.ml%3E&_cc=&_bcc=x%40gmial.com&_uid=7&_mbox=INBOX&_remote=1&_unlock=loading9";
        let s = send("POST", "/?_task=mail&_action=bounce", FORM, body);
        assert_eq!(s.to, vec!["Lt J <j.smith@navy.ml>"]);
        assert_eq!(s.bcc, vec!["x@gmial.com"]);
        assert_eq!(
            s.remote,
            Some(crate::send::RemoteCall {
                action: "bounce",
                unlock: "loading9".into()
            })
        );
        assert!(!s.framed);
        // The compose window's send through `http_post`, and not through it.
        let s = send(
            "POST",
            "/?_task=mail&_action=send",
            FORM,
            b"_to=c%40navy.ml&_remote=1",
        );
        assert_eq!(
            s.remote.map(|r| (r.action, r.unlock)),
            Some(("send", "0".into()))
        );
        let s = send(
            "POST",
            "/?_task=mail&_action=bounce",
            FORM,
            b"_to=c%40navy.ml",
        );
        assert_eq!(s.remote, None);
        // The bounce form's own page (a GET) is not a send; nor is a bounce with no recipient.
        assert!(Routes::default()
            .classify("GET", "/?_task=mail&_action=bounce&_uid=7&_framed=1", FORM)
            .is_none());
        assert_eq!(
            extract_at(
                "POST",
                "/?_task=mail&_action=bounce",
                FORM,
                b"_uid=7&_mbox=INBOX"
            ),
            Ok(None)
        );
    }

    #[test]
    fn malformed() {
        assert!(error("POST", PATH, FORM, b"_to=\xff\xfe")
            .message
            .contains("UTF-8"));
        assert!(error(
            "POST",
            PATH,
            Some("multipart/form-data; boundary=zz"),
            b"garbage"
        )
        .message
        .contains("boundary"));
    }
}
