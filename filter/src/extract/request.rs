//! The request as the header-only look sees it (its route, method, path and media type) and what
//! every API's reader shares: the path and media-type helpers, the size kept, the error of a send
//! that cannot be read. A leaf of `extract`: the API modules and the body reader build on it.

use super::tree::{Val, View};
use crate::send::{Api, ExtractError};

/// The most a body reader keeps of one request: the fields it reads (recipients, sender, ids), a
/// message's head, a form's fields. Everything else streams past without being kept.
pub const KEPT_LIMIT: usize = 4 << 20;

/// The error of a send through `api` that cannot be read. (Out of line and cold, like [`fail`].)
#[cold]
#[inline(never)]
pub(super) fn err<T>(api: Api, message: impl Into<String>) -> Result<T, ExtractError> {
    Err(ExtractError::new(api, message))
}

/// The same, its message formatted here: a reader's error paths then take a call's room in the
/// code a send runs, not an inlined `format!` between the lines that read it.
#[cold]
#[inline(never)]
pub(super) fn fail<T>(api: Api, message: std::fmt::Arguments<'_>) -> Result<T, ExtractError> {
    Err(ExtractError::new(api, message.to_string()))
}

/// Which route of an API a request matched; decides how its body is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// A JMAP API request.
    Jmap,
    /// Graph `sendMail`.
    GraphSendMail,
    /// Graph `reply` / `replyAll`.
    GraphReply,
    /// Graph `forward`.
    GraphForward,
    /// Graph `/messages/{id}/send`: a saved draft, no recipients in the request.
    GraphDraftSend,
    /// A Graph event created (`POST …/events`) or changed (`PATCH …/events/{id}`): Graph sends
    /// its invitation or update to the attendees.
    GraphEvent {
        /// One event's path (changed by a `PATCH`), not its collection's (created by a `POST`).
        changed: bool,
    },
    /// A Graph message rule created (`POST …/mailFolders/{id}/messageRules`) or changed (`PATCH
    /// …/messageRules/{id}`): its `forwardTo`, `forwardAsAttachmentTo` and `redirectTo` actions
    /// send every matching message that arrives from then on.
    GraphRule {
        /// One rule's path (changed by a `PATCH`), not its collection's (created by a `POST`).
        changed: bool,
    },
    /// Graph `$batch`.
    GraphBatch,
    /// Gmail `messages.send` (`drafts: false`) or `drafts.send` with a JSON body.
    GmailJson {
        /// `drafts.send` rather than `messages.send`.
        drafts: bool,
    },
    /// Gmail `/upload/...` (media, multipart or a resumable session).
    GmailUpload {
        /// `drafts.send` rather than `messages.send`.
        drafts: bool,
    },
    /// A Gmail batch (`POST /batch`, `/batch/gmail/v1`): `multipart/mixed`, one HTTP request
    /// per part, any of which may be a `messages.send` or `drafts.send`.
    GmailBatch,
    /// A Gmail setting saved that forwards the mailbox's mail to an address.
    GmailForwarding(GmailSetting),
    /// A Roundcube form post.
    Roundcube {
        /// `_framed=1`: Roundcube's own compose window, which reads the reply in a hidden iframe.
        framed: bool,
        /// `_action=bounce`: Roundcube's "Bounce", a stored message resent to the recipients
        /// the user types (as `Resent-To`, `Resent-Cc`, `Resent-Bcc`).
        bounce: bool,
    },
    /// A SnappyMail JSON (or RainLoop form) action.
    Snappymail,
    /// Nextcloud Mail outbox create / update (the recipients are in the body).
    NextcloudOutbox,
    /// Nextcloud Mail send of an outbox entry or a draft by id (no recipients).
    NextcloudById,
    /// SOGo `.../send`.
    Sogo,
    /// The check-request JSON on `check_path`: judged like a send.
    Check,
    /// The check-request JSON on `verdict_path`: answered locally with the verdict.
    Verdict,
}

/// A Gmail setting that sends the mailbox's mail on ([`Route::GmailForwarding`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GmailSetting {
    /// `settings.forwardingAddresses.create` (`POST …/settings/forwardingAddresses`): Gmail
    /// mails the address a confirmation request; once it is confirmed, filters and automatic
    /// forwarding may send mail there.
    ForwardingAddress,
    /// `settings.filters.create` (`POST …/settings/filters`): a filter whose `action.forward`
    /// forwards the mail it matches.
    Filter,
    /// `settings.updateAutoForwarding` (`PUT …/settings/autoForwarding`): every incoming
    /// message, while `enabled`.
    AutoForwarding,
}

/// A request the header-only look says may be a send; its body decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The API.
    pub api: Api,
    /// The route within it.
    pub route: Route,
}

/// The request as the header-only look sees it.
#[derive(Clone, Copy, Debug)]
pub struct Head<'a> {
    /// `:method`.
    pub method: &'a str,
    /// The path without the query string.
    pub path: &'a str,
    /// The query string (without `?`), empty if none.
    pub query: &'a str,
    /// The media type of `content-type`, lower case, without parameters (`None` if absent).
    pub media_type: Option<&'a str>,
}

/// Splits `:path` into path and query.
pub fn split_path(full: &str) -> (&str, &str) {
    // (A byte search: `str`'s character searches bring in code that nothing else of a send runs.)
    match full.bytes().position(|b| b == b'?') {
        Some(at) => (&full[..at], &full[at + 1..]),
        None => (full, ""),
    }
}

/// The path of a request target or a URL, without its query: the target as written (relative
/// or not), or an absolute URL's path (`/` when it has none).
pub(super) fn url_path(url: &str) -> &str {
    let path = split_path(url).0;
    match path.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => path,
    }
}

/// The media type of a `content-type` value: lower case, without parameters (borrowed when it is
/// lower case already, as clients send it).
pub fn media_type(content_type: &str) -> std::borrow::Cow<'_, str> {
    let end = content_type
        .bytes()
        .position(|b| b == b';')
        .unwrap_or(content_type.len());
    let mt = mistype::text::trim(&content_type[..end]);
    if mt.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(mt.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(mt)
    }
}

/// The first content coding a `content-encoding` value names (RFC 9110, 8.4), lower case: the
/// body is that coding of the send, not the send itself. `None` for no coding: an empty value or
/// only `identity` (which names none, though clients send it).
pub fn content_coding(content_encoding: &str) -> Option<String> {
    content_encoding
        .split(',')
        .map(mistype::text::trim)
        .find(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"))
        .map(str::to_ascii_lowercase)
}

pub(super) fn is_json(mt: Option<&str>) -> bool {
    match mt {
        None => true,
        Some(m) => m == "application/json" || m.ends_with("+json") || m == "text/json",
    }
}

pub(super) fn is_form(mt: Option<&str>) -> bool {
    matches!(
        mt,
        None | Some("application/x-www-form-urlencoded") | Some("multipart/form-data")
    )
}

/// `path` under `prefix`: the rest of the path (starting with `/` or empty), if it is.
pub(super) fn under<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let prefix = prefix.trim_end_matches('/');
    let rest = path.strip_prefix(prefix)?;
    if rest.is_empty() || rest.starts_with('/') {
        Some(rest)
    } else {
        None
    }
}

/// The request line and content type of a candidate, as the body readers need them.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    /// `:path`, with its query.
    pub path: &'a str,
    /// The `content-type` header.
    pub content_type: Option<&'a str>,
    /// The path prefixes of the candidate's API (where its version or API URL starts).
    pub prefixes: &'a [String],
}

/// A list of recipient strings from a JSON value that is a string, an array of strings, or
/// null/absent; `where_` names the key for errors.
pub(super) fn string_list(
    api: Api,
    v: Option<Val>,
    where_: &str,
) -> Result<Vec<String>, ExtractError> {
    match v.map(|v| v.view()) {
        None | Some(View::Null) => Ok(Vec::new()),
        Some(View::String(s)) => Ok(vec![s.to_owned()]),
        Some(View::Array(items)) => items
            .items()
            .enumerate()
            .map(|(i, item)| match item.as_str() {
                Some(s) => Ok(s.to_owned()),
                None => err(api, format!("{where_}[{i}] is not a string")),
            })
            .collect(),
        Some(_) => err(
            api,
            format!("{where_} is neither a string nor a list of strings"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn a_media_type_is_lower_case_without_parameters_and_borrowed_when_it_already_is() {
        for (ct, want) in [
            ("application/json", "application/json"),
            ("application/json; charset=utf-8", "application/json"),
            (" Application/JSON ;charset=UTF-8", "application/json"),
            ("Multipart/Form-Data; boundary=X", "multipart/form-data"),
            ("", ""),
        ] {
            let mt = media_type(ct);
            assert_eq!(mt, want, "{ct:?}");
            let lower = !ct
                .split(';')
                .next()
                .unwrap_or("")
                .bytes()
                .any(|b| b.is_ascii_uppercase());
            assert_eq!(matches!(mt, Cow::Borrowed(_)), lower, "{ct:?}");
        }
    }

    #[test]
    fn a_content_coding_is_the_first_one_named_that_is_not_identity() {
        for (ce, want) in [
            ("gzip", Some("gzip")),
            (" GZip ", Some("gzip")),
            ("x-gzip", Some("x-gzip")),
            ("deflate, br", Some("deflate")),
            ("identity, gzip", Some("gzip")),
            (",, br", Some("br")),
            ("identity", None),
            (" IDENTITY , ", None),
            ("", None),
        ] {
            assert_eq!(content_coding(ce).as_deref(), want, "{ce:?}");
        }
    }
}
