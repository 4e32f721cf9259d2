//! SOGo: `POST /SOGo/so/<user>/Mail/<account>/<folder>/<draft>/send` with the editable message as
//! JSON: `to`, `cc`, `bcc` as lists of address strings, `from` a string.

use super::json::{Doc, Kind, Seg, Select};
use super::request::{err, fail, is_json, string_list, under, Head, Route};
use crate::send::{Api, ExtractError, Send};

const API: Api = Api::Sogo;

pub fn classify(head: &Head, prefix: &str) -> Option<Route> {
    if !head.method.eq_ignore_ascii_case("POST") || !is_json(head.media_type) {
        return None;
    }
    let rest = under(head.path, prefix).or_else(|| head.path.strip_prefix(prefix))?;
    (rest.ends_with("/send") && rest.len() > "/send".len()).then_some(Route::Sogo)
}

/// What the filter reads of the editable message: `to`, `cc`, `bcc`, `from`.
pub fn select(path: &[Seg], _kind: Kind) -> Select {
    match path {
        [] => Select::Descend,
        [Seg::Key(k)] if matches!(k.as_str(), "to" | "cc" | "bcc" | "from") => Select::Keep,
        _ => Select::Skip,
    }
}

pub fn extract(doc: Result<Doc, String>) -> Result<Send, ExtractError> {
    let doc = doc.or_else(|e| fail(API, format_args!("malformed JSON: {e}")))?;
    let v = doc.root();
    if !v.is_object() {
        return err(API, "body is not a JSON object");
    }
    let mut s = Send::new(API);
    s.to = string_list(API, v.get("to"), "to")?;
    s.cc = string_list(API, v.get("cc"), "cc")?;
    s.bcc = string_list(API, v.get("bcc"), "bcc")?;
    s.from = match v.get("from") {
        Some(f) => f
            .as_str()
            .filter(|f| !f.trim().is_empty())
            .map(str::to_owned),
        None => None,
    };
    Ok(s)
}

#[cfg(test)]
mod tests {
    use crate::extract::tests::{error, send};
    use crate::extract::Routes;

    const JSON: Option<&str> = Some("application/json;charset=utf-8");
    const PATH: &str = "/SOGo/so/ops/Mail/0/folderDrafts/newDraft1700000000-1/send";

    #[test]
    fn send_json() {
        let body = br#"{"from":"ops@unit.example.mil","to":["Lt Ray <ray@base.example.ml>"],"cc":[],"bcc":["log@unit.example.mil"],"subject":"Schedule","text":"...","isHTML":false}"#;
        let s = send("POST", PATH, JSON, body);
        assert_eq!(s.to, vec!["Lt Ray <ray@base.example.ml>"]);
        assert_eq!(s.bcc, vec!["log@unit.example.mil"]);
        assert_eq!(s.from.as_deref(), Some("ops@unit.example.mil"));
        assert!(Routes::default()
            .classify(
                "POST",
                "/SOGo/so/ops/Mail/0/folderDrafts/newDraft1/save",
                JSON
            )
            .is_none());
        assert!(Routes::default()
            .classify("POST", "/SOGo/so/send", JSON)
            .is_none());
    }

    #[test]
    fn malformed() {
        assert!(error("POST", PATH, JSON, b"{\"to\":")
            .message
            .contains("JSON"));
        assert!(error("POST", PATH, JSON, br#"{"to":[1]}"#)
            .message
            .contains("to[0]"));
    }
}
