//! SnappyMail (`./?/Json/`, JSON, lowercase `to`/`cc`/`bcc`) and RainLoop (`./?/Ajax/`, form,
//! capitalised `To`/`Cc`/`Bcc`): the `SendMessage` action. `SaveMessage` (drafts) is not a send.

use super::form;
use super::json::{Doc, Kind, Seg, Select};
use super::request::{self, err, fail, is_json, media_type, string_list, under, Head, Route};
use crate::send::{Api, ExtractError, Send};

const API: Api = Api::Snappymail;

pub fn classify(head: &Head, prefix: &str) -> Option<Route> {
    if !head.method.eq_ignore_ascii_case("POST") {
        return None;
    }
    under(head.path, prefix).or_else(|| (prefix == "/").then_some(""))?;
    let q = head.query;
    let json = q.starts_with("/Json/") && is_json(head.media_type);
    let ajax =
        q.starts_with("/Ajax/") && (request::is_form(head.media_type) || is_json(head.media_type));
    (json || ajax).then_some(Route::Snappymail)
}

fn field_values<'a>(get: &dyn Fn(&str) -> Option<&'a str>, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .find_map(|n| get(n))
        .map(|v| vec![v.to_string()])
        .unwrap_or_default()
}

/// The names the filter reads, in a form or a JSON body.
const NAMES: [&str; 7] = ["Action", "to", "To", "cc", "Cc", "bcc", "Bcc"];

/// The form fields the filter reads (RainLoop).
pub fn field(name: &str) -> bool {
    NAMES.contains(&name)
}

/// What the filter reads of a JSON action: `Action` and the recipient fields.
pub fn select(path: &[Seg], _kind: Kind) -> Select {
    match path {
        [] => Select::Descend,
        [Seg::Key(k)] if NAMES.contains(&k.as_str()) => Select::Keep,
        _ => Select::Skip,
    }
}

/// True when the body is a form (RainLoop's `?/Ajax/`), not JSON.
pub fn is_form(content_type: Option<&str>) -> bool {
    content_type
        .map(|ct| media_type(ct) != "application/json")
        .unwrap_or(false)
}

/// A form's fields (as [`field`] kept them) or a JSON body (as [`select`] read it).
pub enum Body {
    /// A RainLoop form.
    Form(Result<Vec<(String, String)>, String>),
    /// A SnappyMail JSON action.
    Json(Result<Doc, String>),
}

pub fn extract(body: Body) -> Result<Option<Send>, ExtractError> {
    let mut s = Send::new(API);
    let doc = match body {
        Body::Form(fields) => {
            let fields = fields.or_else(|e| err(API, e))?;
            if form::get(&fields, "Action") != Some("SendMessage") {
                return Ok(None);
            }
            let get = |k: &str| form::get(&fields, k);
            s.to = field_values(&get, &["To", "to"]);
            s.cc = field_values(&get, &["Cc", "cc"]);
            s.bcc = field_values(&get, &["Bcc", "bcc"]);
            return Ok(Some(s));
        }
        Body::Json(doc) => doc.or_else(|e| fail(API, format_args!("malformed JSON: {e}")))?,
    };
    let v = doc.root();
    if v.get("Action").and_then(|a| a.as_str()) != Some("SendMessage") {
        return Ok(None);
    }
    for (names, out) in [
        (["to", "To"], &mut s.to),
        (["cc", "Cc"], &mut s.cc),
        (["bcc", "Bcc"], &mut s.bcc),
    ] {
        if let Some(key) = names.iter().find(|k| v.get(k).is_some()) {
            *out = string_list(API, v.get(key), key)?;
        }
    }
    Ok(Some(s))
}

#[cfg(test)]
mod tests {
    use crate::extract::tests::{error, extract_at, send};
    use crate::extract::Routes;

    const JSON: Option<&str> = Some("application/json");
    const PATH: &str = "/?/Json/&q[]=/0/";

    #[test]
    fn snappymail_json() {
        let body = br#"{"Action":"SendMessage","identityID":"main","to":"Lt Ray <ray@base.example.ml>","cc":"","bcc":"log@unit.example.mil","subject":"Schedule","plain":"..."}"#;
        let s = send("POST", PATH, JSON, body);
        assert_eq!(s.to, vec!["Lt Ray <ray@base.example.ml>"]);
        assert_eq!(s.bcc, vec!["log@unit.example.mil"]);
        assert_eq!(
            extract_at(
                "POST",
                PATH,
                JSON,
                br#"{"Action":"SaveMessage","to":"c@navy.ml"}"#
            ),
            Ok(None)
        );
        assert_eq!(
            extract_at("POST", PATH, JSON, br#"{"Action":"Folders"}"#),
            Ok(None)
        );
        assert!(
            error("POST", PATH, JSON, br#"{"Action":"SendMessage","to":7}"#)
                .message
                .contains("to")
        );
        assert!(error("POST", PATH, JSON, b"{").message.contains("JSON"));
    }

    #[test]
    fn rainloop_form() {
        let s = send(
            "POST",
            "/webmail/?/Ajax/&q[]=/tok/",
            Some("application/x-www-form-urlencoded"),
            b"Action=SendMessage&XToken=t&To=c%40navy.ml&Cc=&Bcc=",
        );
        assert_eq!(s.to, vec!["c@navy.ml"]);
        assert!(Routes::default()
            .classify("POST", "/?/Other/", JSON)
            .is_none());
        assert!(Routes::default().classify("GET", PATH, JSON).is_none());
    }
}
