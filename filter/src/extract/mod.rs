//! Recognising send requests and pulling the recipients out of them.
//!
//! Two steps, so that the filter can decide from the request headers alone whether a request is
//! worth buffering:
//!
//! 1. [`Routes::classify`] looks at the method, the `:path` and the content type and returns a
//!    [`Candidate`] (which API, which route) or `None` for everything else;
//! 2. [`extract`] reads the buffered body of a candidate and returns the [`Send`] (recipients,
//!    sender), `Ok(None)` when the body shows it is not a send after all (a Roundcube draft save,
//!    a JMAP request without a submission), or an [`ExtractError`] for a recognised send that
//!    cannot be parsed.
//!
//! A send by reference names a stored message instead of its recipients: `crate::lookup` asks the
//! mail server for it, and [`read_answer`] reads the answer, in the module of the API that stores
//! it, beside the reading of that API's requests.
//!
//! Everything here is pure: no proxy-wasm calls, so all of it is unit-tested natively.

mod body;
mod check;
mod decode;
mod form;
mod gmail;
mod graph;
mod head;
mod jmap;
mod json;
mod json_lex;
mod json_path;
mod mime;
mod multipart;
mod nextcloud;
mod read;
mod request;
mod roundcube;
mod snappymail;
mod sogo;
mod spare;
mod tree;

use crate::send::{Api, ExtractError, LookupError, Reference, Send};
use request::is_json;

pub use body::{send_of, Body, Progress};
pub use gmail::{continued_session, opens_upload_session, upload_id};
pub use read::Read;
pub use request::{
    content_coding, media_type, split_path, Candidate, Head, Route, Target, KEPT_LIMIT,
};
pub use roundcube::CONFIRM_FIELD as ROUNDCUBE_CONFIRM_FIELD;

/// Where each API is recognised: built from the configuration's `apis`, `check_path` and
/// `verdict_path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routes {
    /// Per enabled webmail API, its path prefixes.
    pub apis: Vec<(Api, Vec<String>)>,
    /// The exact path of the check-request endpoint judged like a send.
    pub check_path: Option<String>,
    /// The exact path of the local verdict endpoint.
    pub verdict_path: Option<String>,
}

impl Default for Routes {
    fn default() -> Routes {
        Routes {
            apis: Api::WEBMAIL
                .iter()
                .copied()
                .map(|a| {
                    (
                        a,
                        a.default_prefixes().iter().map(|p| p.to_string()).collect(),
                    )
                })
                .collect(),
            check_path: None,
            verdict_path: None,
        }
    }
}

impl Routes {
    /// The path prefixes `api` is recognised under (empty if it is not enabled).
    pub fn prefixes(&self, api: Api) -> &[String] {
        self.apis
            .iter()
            .find(|(a, _)| *a == api)
            .map_or(&[], |(_, p)| p.as_slice())
    }

    /// The header-only look: is this request possibly a send, and through which route?
    pub fn classify(
        &self,
        method: &str,
        full_path: &str,
        content_type: Option<&str>,
    ) -> Option<Candidate> {
        let (path, query) = split_path(full_path);
        let mt = content_type.map(media_type);
        let head = Head {
            method,
            path,
            query,
            media_type: mt.as_deref(),
        };
        let post = method.eq_ignore_ascii_case("POST");
        if post && is_json(head.media_type) {
            if self.verdict_path.as_deref() == Some(path) {
                return Some(Candidate {
                    api: Api::Check,
                    route: Route::Verdict,
                });
            }
            if self.check_path.as_deref() == Some(path) {
                return Some(Candidate {
                    api: Api::Check,
                    route: Route::Check,
                });
            }
        }
        for (api, prefixes) in &self.apis {
            for prefix in prefixes {
                let route = match api {
                    Api::Jmap => jmap::classify(&head, prefix),
                    Api::Graph => graph::classify(&head, prefix),
                    Api::Gmail => gmail::classify(&head, prefix),
                    Api::Roundcube => roundcube::classify(&head, prefix),
                    Api::Snappymail => snappymail::classify(&head, prefix),
                    Api::Nextcloud => nextcloud::classify(&head, prefix),
                    Api::Sogo => sogo::classify(&head, prefix),
                    Api::Check => None,
                };
                if let Some(route) = route {
                    return Some(Candidate { api: *api, route });
                }
            }
        }
        None
    }
}

/// Reads the whole body of a candidate at once: the send, `None` if the body shows it is not a
/// send, or an error for a recognised send that cannot be parsed. (The filter reads a body as it
/// streams in, with [`Body`]; this is the same reading in one piece.)
pub fn extract(
    candidate: Candidate,
    target: Target,
    body: &[u8],
) -> Result<Option<Send>, ExtractError> {
    body::send_of(candidate, target, Body::read_all(candidate, target, body))
}

/// Reads the mail server's answer (JSON) to the lookup of `reference`: the stored message's
/// recipients and sender, read by the module of the API that stores it.
pub fn read_answer(reference: &Reference, answer: &[u8]) -> Result<Send, LookupError> {
    // The answers carry only the properties the lookup asks for, except Nextcloud's outbox entry,
    // which carries the message's text as well: it is read like a request, its recipients only.
    let select = match reference {
        Reference::NextcloudOutbox { .. } => nextcloud::select_answer,
        _ => json::keep_all,
    };
    let doc = json::read_whole(select, answer)
        .map_err(|e| LookupError::Unreadable(format!("unreadable JSON: {e}")))?;
    let v = doc.root();
    match reference {
        Reference::GraphMessage { .. } => graph::read_message(v),
        Reference::GraphRule { set, enabled, .. } => graph::read_rule(v, *set, *enabled),
        Reference::GmailDraft { .. } => gmail::read_draft(v),
        Reference::JmapEmails { ids, .. } => jmap::read_emails(v, ids),
        Reference::NextcloudOutbox { .. } => nextcloud::read_outbox_entry(v),
    }
}

/// True for a request that continues a send already judged: a later chunk of a Gmail resumable
/// upload (`Content-Range: bytes N-M/T` with N > 0). Its body is the middle of a message, and
/// the first chunk, which holds the headers, was judged.
pub fn is_continuation(candidate: Candidate, content_range: Option<&str>) -> bool {
    if !matches!(candidate.route, Route::GmailUpload { .. }) {
        return false;
    }
    let Some(range) = content_range else {
        return false;
    };
    let range = range.trim();
    let Some(rest) = range
        .get(..6)
        .filter(|p| p.eq_ignore_ascii_case("bytes "))
        .map(|_| &range[6..])
    else {
        return false;
    };
    let first = rest.split(['-', '/']).next().unwrap_or("").trim();
    // `bytes */T` asks for the upload's status: it carries no message either.
    first == "*" || first.parse::<u64>().is_ok_and(|n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn routes() -> Routes {
        Routes {
            check_path: Some("/mistype/check".into()),
            verdict_path: Some("/mistype/verdict".into()),
            ..Routes::default()
        }
    }

    /// Classifies and extracts.
    pub fn extract_at(
        method: &str,
        path: &str,
        ct: Option<&str>,
        body: &[u8],
    ) -> Result<Option<Send>, ExtractError> {
        let r = routes();
        let c = r
            .classify(method, path, ct)
            .unwrap_or_else(|| panic!("{method} {path} not recognised"));
        let target = Target {
            path,
            content_type: ct,
            prefixes: r.prefixes(c.api),
        };
        extract(c, target, body)
    }

    /// Classifies and extracts; panics on anything but a send.
    pub fn send(method: &str, path: &str, ct: Option<&str>, body: &[u8]) -> Send {
        extract_at(method, path, ct, body)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("not a send"))
    }

    pub fn error(method: &str, path: &str, ct: Option<&str>, body: &[u8]) -> ExtractError {
        match extract_at(method, path, ct, body) {
            Err(e) => e,
            Ok(s) => panic!("expected an error, got {s:?}"),
        }
    }

    #[test]
    fn continuations_of_resumable_uploads() {
        let r = routes();
        let put = r
            .classify(
                "PUT",
                "/upload/gmail/v1/users/me/messages/send?uploadType=resumable&upload_id=x",
                None,
            )
            .unwrap();
        assert!(!is_continuation(put, None));
        assert!(!is_continuation(put, Some("bytes 0-262143/600000")));
        assert!(is_continuation(put, Some("bytes 262144-524287/600000")));
        assert!(is_continuation(put, Some("Bytes */600000")));
        assert!(!is_continuation(put, Some("items 5-6/7")));
        let json = r
            .classify("POST", "/gmail/v1/users/me/messages/send", None)
            .unwrap();
        assert!(!is_continuation(json, Some("bytes 5-6/7")));
    }

    #[test]
    fn unrelated_requests_are_not_candidates() {
        let r = routes();
        assert_eq!(
            r.classify("GET", "/jmap/api/", Some("application/json")),
            None
        );
        assert_eq!(r.classify("GET", "/", None), None);
        assert_eq!(
            r.classify("POST", "/static/app.js", Some("text/javascript")),
            None
        );
        assert_eq!(
            r.classify("POST", "/mistype/checkx", Some("application/json")),
            None
        );
        assert_eq!(r.classify("POST", "/jmapx", Some("application/json")), None);
        assert_eq!(
            r.classify(
                "POST",
                "/gmail/v1/users/me/messages",
                Some("application/json")
            ),
            None
        );
    }

    #[test]
    fn check_and_verdict_paths() {
        let r = routes();
        assert_eq!(
            r.classify(
                "POST",
                "/mistype/check?x=1",
                Some("application/json; charset=utf-8")
            ),
            Some(Candidate {
                api: Api::Check,
                route: Route::Check
            })
        );
        assert_eq!(
            r.classify("POST", "/mistype/verdict", None)
                .map(|c| c.route),
            Some(Route::Verdict)
        );
        let s = send(
            "POST",
            "/mistype/check",
            Some("application/json"),
            br#"{"id": 7, "from": "a@army.mil", "to": ["c@navy.ml"], "cc": ["d@x.org"], "contacts": ["army.nl"]}"#,
        );
        assert_eq!(s.id, serde_json::json!(7));
        assert_eq!(s.from.as_deref(), Some("a@army.mil"));
        assert_eq!(s.to, vec!["c@navy.ml"]);
        assert_eq!(s.cc, vec!["d@x.org"]);
        assert_eq!(s.contacts, vec!["army.nl"]);
        let e = error("POST", "/mistype/check", None, b"{\"to\": 3}");
        assert_eq!(e.api, Api::Check);
        let e = error("POST", "/mistype/check", None, b"{nope");
        assert!(e.message.contains("check request"), "{e}");
    }
}
