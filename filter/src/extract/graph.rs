//! Microsoft Graph: `sendMail`, `messages/{id}/reply|replyAll|forward|send`, `$batch`, the
//! calendar's sends: an event created or changed with attendees (Graph sends them the
//! invitation or the update) and `events/{id}/forward`, and the message rules that forward or
//! redirect mail (`mailFolders/{id}/messageRules`): a rule to a typo sends every matching message
//! there from then on.
//!
//! JSON bodies carry `message.toRecipients` / `ccRecipients` / `bccRecipients` (and `forward`
//! may carry `toRecipients` at the top level); the MIME variant is a `text/plain` body holding the
//! base64 of an RFC 5322 message. Graph reads JSON names case-insensitively (Microsoft's own
//! Python SDK writes `Message`, `ToRecipients`, `SaveToSentItems`), and so does this module.
//! `messages/{id}/send` sends a stored draft: its recipients are looked up
//! ([`Reference::GraphMessage`]).

use std::borrow::Cow;

use super::head::{Encoding, Head as MessageHead};
use super::json::{Doc, Kind, Seg, Select};
use super::mime::format_mailbox;
use super::request::{err, fail, under, Head, Route};
use super::tree::{Val, View};
use crate::send::{self, Api, ExtractError, LookupError, Reference, Send};

const API: Api = Api::Graph;

/// `v[key]`, the name compared without regard to ASCII case (an exact match first).
fn get<'a>(v: Val<'a>, key: &str) -> Option<Val<'a>> {
    v.entry_ignore_case(key).map(|(_, v)| v)
}

/// The message properties a send's recipients and sender are in.
fn message_field(key: &str) -> bool {
    [
        "toRecipients",
        "ccRecipients",
        "bccRecipients",
        "from",
        "sender",
    ]
    .iter()
    .any(|f| f.eq_ignore_ascii_case(key))
}

/// Whether `seg` is the member `name`, compared without regard to ASCII case as Graph reads
/// names (in place: the selector runs for every value on the way to the recipients).
fn is(seg: &Seg, name: &str) -> bool {
    seg.key().is_some_and(|k| k.eq_ignore_ascii_case(name))
}

/// What the filter reads of a `sendMail`, `reply`, `replyAll` or `forward` body: `message`'s
/// recipient lists and sender, and a forward's top-level `toRecipients`. The message's body and
/// attachments are skipped.
pub fn select_message(path: &[Seg], _kind: Kind) -> Select {
    match path {
        [] => Select::Descend,
        [m] if is(m, "message") => Select::Descend,
        [m, f] if is(m, "message") && f.key().is_some_and(message_field) => Select::Keep,
        [t] if is(t, "toRecipients") => Select::Keep,
        _ => Select::Skip,
    }
}

/// What the filter reads of an event created or changed: its `attendees`.
pub fn select_event(path: &[Seg], _kind: Kind) -> Select {
    match path {
        [] => Select::Descend,
        [a] if is(a, "attendees") => Select::Keep,
        _ => Select::Skip,
    }
}

/// What the filter reads of a message rule created or changed: the recipients of its forwarding
/// actions, and whether it is enabled.
pub fn select_rule(path: &[Seg], _kind: Kind) -> Select {
    match path {
        [] => Select::Descend,
        [a] if is(a, "actions") => Select::Descend,
        [a, f] if is(a, "actions") && RULE_ACTIONS.iter().any(|n| is(f, n)) => Select::Keep,
        [e] if is(e, "isEnabled") => Select::Keep,
        _ => Select::Skip,
    }
}

/// A message rule's actions that send mail on: each a list of recipients.
const RULE_ACTIONS: [&str; 3] = ["forwardTo", "forwardAsAttachmentTo", "redirectTo"];

/// What the filter reads of a `$batch`: each request's `method`, `url` and `headers`, and its
/// `body` as [`select_message`] reads a send's (and [`select_event`] an event's attendees), or,
/// for a MIME send, the head of the message its base64 string holds.
pub fn select_batch(path: &[Seg], kind: Kind) -> Select {
    let [requests, rest @ ..] = path else {
        return Select::Descend;
    };
    if !is(requests, "requests") {
        return Select::Skip;
    }
    match rest {
        [] | [Seg::Index(_)] => Select::Descend,
        [Seg::Index(_), f] if ["method", "url", "headers"].iter().any(|n| is(f, n)) => Select::Keep,
        [Seg::Index(_), b] if is(b, "body") && kind == Kind::String => {
            Select::Head(Encoding::Base64)
        }
        [Seg::Index(_), b, rest @ ..] if is(b, "body") => match select_message(rest, kind) {
            Select::Skip => match select_event(rest, kind) {
                Select::Skip => select_rule(rest, kind),
                s => s,
            },
            s => s,
        },
        _ => Select::Skip,
    }
}

/// A resource path's segments (below the version prefix). A key in OData's parenthesis syntax
/// (`users('ops@army.mil')`, `messages('AAMk…')`, as Graph's documentation and the `@odata.id`
/// of its answers write them, and Graph accepts) is a segment of its own after its name, as in
/// `users/ops@army.mil`, without its quotes.
fn segments(rest: &str) -> Vec<Cow<'_, str>> {
    let mut out = Vec::new();
    for seg in rest.trim_matches('/').split('/') {
        match keyed(seg) {
            Some((name, key)) => {
                out.push(Cow::Borrowed(name));
                out.push(key);
            }
            None => out.push(Cow::Borrowed(seg)),
        }
    }
    out
}

/// `name(key)`: the name and the key, unquoted (`'…'`, or `%27…%27` as some clients encode the
/// quotes; a doubled quote inside is one quote). `None` for a segment without a key.
fn keyed(seg: &str) -> Option<(&str, Cow<'_, str>)> {
    let (name, inner) = seg.strip_suffix(')')?.split_once('(')?;
    if name.is_empty() {
        return None;
    }
    for quote in ["'", "%27"] {
        if let Some(key) = inner
            .strip_prefix(quote)
            .and_then(|k| k.strip_suffix(quote))
        {
            let doubled = [quote, quote].concat();
            return Some((name, Cow::Owned(key.replace(&doubled, quote))));
        }
    }
    Some((name, Cow::Borrowed(inner)))
}

/// The route of a Graph resource path (below the version prefix), if it is a send.
fn route_of(rest: &str) -> Option<Route> {
    let segs = segments(rest);
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let n = lower.len();
    if n == 1 && (lower[0] == "$batch" || lower[0] == "%24batch") {
        return Some(Route::GraphBatch);
    }
    // An action's name may carry OData's namespace (`microsoft.graph.sendMail`): Graph accepts
    // both, and its .NET SDK up to v4 and Java SDK up to v5 write it so.
    let last = lower[n - 1].as_str();
    let last = last.strip_prefix("microsoft.graph.").unwrap_or(last);
    // The calendar: an event (`…/events`, `…/calendar/events`, `…/calendars/{id}/events`)
    // created or changed, and an event's forward.
    let event = (lower[n - 1] == "events" || n >= 2 && lower[n - 2] == "events").then_some(
        Route::GraphEvent {
            changed: lower[n - 1] != "events",
        },
    );
    // A mail folder's message rules (`…/mailFolders/inbox/messageRules`), created or changed.
    let rule = (lower[n - 1] == "messagerules" || n >= 2 && lower[n - 2] == "messagerules")
        .then_some(Route::GraphRule {
            changed: lower[n - 1] != "messagerules",
        });
    let forward_of = |parent: &str| n >= 3 && lower[n - 3] == parent && last == "forward";
    if lower[0] == "groups" {
        // A Microsoft 365 group: its calendar, and its conversations' posts forwarded.
        if n < 3 {
            return None;
        }
        if event.is_some() {
            return event;
        }
        return (forward_of("events") || forward_of("posts")).then_some(Route::GraphForward);
    }
    let owner_ok = match lower.first().map(String::as_str) {
        Some("me") => true,
        Some("users") => n >= 2,
        _ => false,
    };
    if !owner_ok {
        return None;
    }
    if last == "sendmail" && (n == 2 && lower[0] == "me" || n == 3 && lower[0] == "users") {
        return Some(Route::GraphSendMail);
    }
    if event.is_some() {
        return event;
    }
    if rule.is_some() {
        return rule;
    }
    if forward_of("events") {
        return Some(Route::GraphForward);
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

/// Whether a request of `route` is a send with its method (a POST when `post`, else a PATCH): an
/// event or a message rule is created by a POST to its collection and changed by a PATCH of it;
/// every other send is a POST.
fn method_fits(route: Route, post: bool) -> bool {
    match route {
        Route::GraphEvent { changed } | Route::GraphRule { changed } => post != changed,
        _ => post,
    }
}

/// The stored message a `.../messages/{id}/send` path names. `version` is the prefix the path
/// was found under (`/v1.0`); `rest` the resource path below it.
fn draft_reference(version: &str, rest: &str) -> Result<Reference, ExtractError> {
    let segs = segments(rest);
    let n = segs.len();
    // [me | users {u}] ... messages {id} send
    Ok(Reference::GraphMessage {
        base: owner_base(version, &segs)?,
        id: path_id(&segs, n.wrapping_sub(2), "message id")?,
    })
}

/// The resource path of the owner a path's segments start with (`/v1.0/me`,
/// `/v1.0/users/{u}`), `version` being the prefix the path was found under.
fn owner_base(version: &str, segs: &[Cow<'_, str>]) -> Result<String, ExtractError> {
    let owner = if segs[0].eq_ignore_ascii_case("me") {
        "me".to_string()
    } else {
        format!("users/{}", send::encode_segment(&path_id(segs, 1, "user")?))
    };
    Ok(format!("{}/{owner}", version.trim_end_matches('/')))
}

/// Segment `i` of a path, decoded and checked as an id (`what` names it in errors).
fn path_id(segs: &[Cow<'_, str>], i: usize, what: &str) -> Result<String, ExtractError> {
    let raw = segs.get(i).map_or("", |s| s.as_ref());
    let id = send::decode_segment(raw).ok_or_else(|| ExtractError {
        api: API,
        message: format!("{what} {raw:?} in the path is not percent-encoded text"),
    })?;
    send::checked_id(API, &id, what)
}

/// A message rule's change (`rest`: `…/mailFolders/{f}/messageRules/{id}` below `version`,
/// `change` its body): the stored rule to look up for what the change leaves as it is, or
/// `None` when the change settles all of it (it switches the rule off, or sets every forwarding
/// action).
fn rule_reference(
    version: &str,
    rest: &str,
    change: Val,
) -> Result<Option<Reference>, ExtractError> {
    let enabled = rule_enabled(change)?;
    let actions = get(change, "actions").filter(|a| !a.is_null());
    let set = RULE_ACTIONS.map(|name| actions.is_some_and(|a| get(a, name).is_some()));
    if enabled == Some(false) || set.iter().all(|&s| s) {
        return Ok(None);
    }
    let segs = segments(rest);
    let n = segs.len();
    Ok(Some(Reference::GraphRule {
        base: owner_base(version, &segs)?,
        folder: path_id(&segs, n.wrapping_sub(3), "mail folder id")?,
        id: path_id(&segs, n.wrapping_sub(1), "rule id")?,
        set,
        enabled,
    }))
}

/// A rule's (or a change's) `isEnabled`: `None` when it has none.
fn rule_enabled(v: Val) -> Result<Option<bool>, ExtractError> {
    match get(v, "isEnabled").map(|e| e.view()) {
        None | Some(View::Null) => Ok(None),
        Some(View::Bool(b)) => Ok(Some(b)),
        Some(_) => err(API, "isEnabled is not true or false"),
    }
}

/// The recipients of a rule's forwarding `actions` into `out`, but for the actions `skip`
/// names; `at` names the rule in errors.
fn rule_recipients(
    actions: Option<Val>,
    skip: [bool; 3],
    at: &str,
    out: &mut Vec<String>,
) -> Result<(), ExtractError> {
    let Some(actions) = actions.filter(|a| !a.is_null()) else {
        return Ok(());
    };
    if !actions.is_object() {
        return fail(API, format_args!("{at}.actions is not an object"));
    }
    for (name, skip) in RULE_ACTIONS.iter().zip(skip) {
        if !skip {
            recipients(get(actions, name), &format!("{at}.actions.{name}"), out)?;
        }
    }
    Ok(())
}

/// The mail server's answer to the lookup of a rule being changed ([`Reference::GraphRule`]):
/// the stored rule's forwarding recipients that the change leaves in place (those of the actions
/// it does not `set`), unless the rule stays switched off (the change's `enabled`, else the
/// stored rule's `isEnabled`).
pub fn read_rule(rule: Val, set: [bool; 3], enabled: Option<bool>) -> Result<Send, LookupError> {
    let unreadable = |e: ExtractError| LookupError::Unreadable(e.message);
    if !rule.is_object() || get(rule, "actions").is_none() && get(rule, "isEnabled").is_none() {
        return Err(LookupError::Unreadable(
            "not a Graph message rule (no actions, no isEnabled)".into(),
        ));
    }
    let mut s = Send::new(API);
    s.forwarding = true;
    let on = match enabled {
        Some(on) => on,
        None => rule_enabled(rule).map_err(unreadable)?.unwrap_or(true),
    };
    if on {
        rule_recipients(get(rule, "actions"), set, "rule", &mut s.to).map_err(unreadable)?;
    }
    Ok(s)
}

/// The version prefix and the resource path of a request path under `prefix`.
fn version_and_rest<'a>(path: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    let rest = under(path, prefix)?;
    Some((&path[..path.len() - rest.len()], rest))
}

pub fn classify(head: &Head, prefix: &str) -> Option<Route> {
    let post = head.method.eq_ignore_ascii_case("POST");
    if !post && !head.method.eq_ignore_ascii_case("PATCH") {
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
    method_fits(route, post).then_some(route)
}

fn recipients(v: Option<Val>, at: &str, out: &mut Vec<String>) -> Result<(), ExtractError> {
    match v.map(|v| v.view()) {
        None | Some(View::Null) => Ok(()),
        Some(View::Array(items)) => {
            for (i, item) in items.items().enumerate() {
                let Some(ea) = get(item, "emailAddress") else {
                    return fail(API, format_args!("{at}[{i}] has no emailAddress"));
                };
                let Some(address) = get(ea, "address").and_then(|a| a.as_str()) else {
                    return fail(
                        API,
                        format_args!("{at}[{i}].emailAddress.address is not a string"),
                    );
                };
                out.push(format_mailbox(
                    get(ea, "name").and_then(|n| n.as_str()),
                    address,
                ));
            }
            Ok(())
        }
        Some(_) => fail(API, format_args!("{at} is not a list")),
    }
}

fn from_message(msg: Val, at: &str, send: &mut Send) -> Result<(), ExtractError> {
    if !msg.is_object() {
        return fail(API, format_args!("{at} is not an object"));
    }
    recipients(
        get(msg, "toRecipients"),
        &format!("{at}.toRecipients"),
        &mut send.to,
    )?;
    recipients(
        get(msg, "ccRecipients"),
        &format!("{at}.ccRecipients"),
        &mut send.cc,
    )?;
    recipients(
        get(msg, "bccRecipients"),
        &format!("{at}.bccRecipients"),
        &mut send.bcc,
    )?;
    for key in ["from", "sender"] {
        if send.from.is_none() {
            if let Some(ea) = get(msg, key).and_then(|f| get(f, "emailAddress")) {
                if let Some(a) = get(ea, "address").and_then(|a| a.as_str()) {
                    send.from = Some(format_mailbox(get(ea, "name").and_then(|n| n.as_str()), a));
                }
            }
        }
    }
    Ok(())
}

/// The mail server's answer to the lookup of a stored message ([`Reference::GraphMessage`]): a
/// Graph `message` resource with the properties the lookup `$select`s.
pub fn read_message(msg: Val) -> Result<Send, LookupError> {
    // `$select` makes Graph answer every selected property, empty lists included.
    let selected = ["toRecipients", "ccRecipients", "bccRecipients"]
        .iter()
        .any(|k| get(msg, k).is_some());
    if !selected {
        return Err(LookupError::Unreadable(
            "not a Graph message (no recipient properties)".into(),
        ));
    }
    let mut s = Send::new(API);
    from_message(msg, "message", &mut s).map_err(|e| LookupError::Unreadable(e.message))?;
    Ok(s)
}

/// The send of the MIME variant: the head of the message the base64 body holds.
fn from_mime(head: Option<&MessageHead>) -> Result<Send, ExtractError> {
    let Some(head) = head else {
        return err(API, "MIME body is not base64");
    };
    let a = head.addresses("MIME body").or_else(|e| err(API, e))?;
    let mut s = Send::new(API);
    s.from = a.from;
    s.to = a.to;
    s.cc = a.cc;
    s.bcc = a.bcc;
    Ok(s)
}

fn from_json(route: Route, v: Val, at: &str) -> Result<Send, ExtractError> {
    let mut s = Send::new(API);
    if !v.is_object() {
        return fail(API, format_args!("{at} is not a JSON object"));
    }
    let msg = get(v, "message").filter(|m| !m.is_null());
    match route {
        Route::GraphSendMail => {
            let Some(msg) = msg else {
                return fail(API, format_args!("{at}: sendMail without message"));
            };
            from_message(msg, &format!("{at}.message"), &mut s)?;
        }
        Route::GraphEvent { .. } => {
            recipients(get(v, "attendees"), &format!("{at}.attendees"), &mut s.to)?;
        }
        Route::GraphRule { .. } => {
            s.forwarding = true;
            // A rule switched off forwards nothing.
            if rule_enabled(v)? != Some(false) {
                rule_recipients(get(v, "actions"), [false; 3], at, &mut s.to)?;
            }
        }
        Route::GraphReply | Route::GraphForward => {
            if let Some(msg) = msg {
                from_message(msg, &format!("{at}.message"), &mut s)?;
            }
            if route == Route::GraphForward {
                recipients(
                    get(v, "toRecipients"),
                    &format!("{at}.toRecipients"),
                    &mut s.to,
                )?;
            }
        }
        _ => {}
    }
    Ok(s)
}

/// What the filter read of a body.
#[derive(Debug)]
pub enum Read<'a> {
    /// Nothing (a draft sent by id).
    Nothing,
    /// Only white space, or nothing at all.
    Blank,
    /// The head of the MIME variant's message.
    Mime(&'a MessageHead),
    /// The JSON body, as [`select_message`] read it.
    Json(Result<Doc, String>),
}

/// The version prefix and the resource path of a send's path under the first of `prefixes`
/// it is under.
fn under_a_prefix<'a>(
    path: &'a str,
    prefixes: &[String],
) -> Result<(&'a str, &'a str), ExtractError> {
    prefixes
        .iter()
        .find_map(|p| version_and_rest(path, p))
        .ok_or_else(|| ExtractError {
            api: API,
            message: format!("{path} is not under a Graph prefix"),
        })
}

/// A send through `route` whose request path is `path` (for the draft id of `.../send`).
pub fn extract(
    route: Route,
    path: &str,
    prefixes: &[String],
    read: Read,
) -> Result<Send, ExtractError> {
    if route == Route::GraphDraftSend {
        let (version, rest) = under_a_prefix(path, prefixes)?;
        let mut s = Send::new(API);
        s.references.push(draft_reference(version, rest)?);
        return Ok(s);
    }
    match read {
        Read::Nothing | Read::Blank => {
            if route == Route::GraphSendMail {
                return err(API, "sendMail without a body");
            }
            Ok(Send::new(API))
        }
        Read::Mime(head) => from_mime(Some(head)),
        Read::Json(doc) => {
            let doc = doc.or_else(|e| fail(API, format_args!("malformed JSON: {e}")))?;
            let mut s = from_json(route, doc.root(), "body")?;
            if route == (Route::GraphRule { changed: true }) {
                let (version, rest) = under_a_prefix(path, prefixes)?;
                s.references
                    .extend(rule_reference(version, rest, doc.root())?);
            }
            Ok(s)
        }
    }
}

/// The resource path of a `$batch` item's `url`: relative (`/me/sendMail`, `me/sendMail`), with
/// a version (`/v1.0/me/sendMail`) or absolute (`https://graph.microsoft.com/v1.0/me/sendMail`).
/// Returns the version prefix to use for lookups and the path below it.
fn batch_url(url: &str, version: &str) -> (String, String) {
    let path = super::request::url_path(url);
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    for v in ["/v1.0", "/beta"] {
        if let Some(rest) = under(&path, v) {
            let mut version = version.trim_end_matches('/').to_string();
            // An absolute URL names its version; keep the deployment's prefix before it.
            if let Some(base) = version
                .strip_suffix("/v1.0")
                .or_else(|| version.strip_suffix("/beta"))
            {
                version = format!("{base}{v}");
            }
            return (version, rest.to_string());
        }
    }
    (version.trim_end_matches('/').to_string(), path)
}

/// `$batch`: every nested POST that is a send; `None` if none is. `path` is the request's path
/// (its version prefix is the one nested draft sends are looked up under).
pub fn extract_batch(
    path: &str,
    prefixes: &[String],
    doc: Result<Doc, String>,
) -> Result<Option<Send>, ExtractError> {
    let version = prefixes
        .iter()
        .find_map(|p| version_and_rest(path, p))
        .map_or("/v1.0", |(v, _)| v);
    let doc = doc.or_else(|e| fail(API, format_args!("malformed JSON: {e}")))?;
    let v = doc.root();
    let Some((requests_key, requests)) = v
        .entry_ignore_case("requests")
        .and_then(|(k, r)| Some((k, r.as_array()?)))
    else {
        return err(API, "$batch without a requests list");
    };
    let mut found: Option<Send> = None;
    for (i, r) in requests.items().enumerate() {
        let at = format!("requests[{i}]");
        let method = get(r, "method").and_then(|m| m.as_str()).unwrap_or("GET");
        let Some(url) = get(r, "url").and_then(|u| u.as_str()) else {
            return fail(API, format_args!("{at}.url is not a string"));
        };
        let post = method.eq_ignore_ascii_case("POST");
        if !post && !method.eq_ignore_ascii_case("PATCH") {
            continue;
        }
        let (version, rest) = batch_url(url, version);
        let Some(route) = route_of(&rest).filter(|&r| method_fits(r, post)) else {
            continue;
        };
        if route == Route::GraphBatch {
            continue;
        }
        let content_type = get(r, "headers")
            .and_then(|h| h.as_object())
            .and_then(|h| {
                h.members()
                    .into_iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                    .and_then(|(_, v)| v.as_str())
            })
            .map(super::media_type);
        let body = r.entry_ignore_case("body").filter(|(_, b)| !b.is_null());
        let nested = match (route, body) {
            (Route::GraphDraftSend, _) => {
                let mut s = Send::new(API);
                s.references.push(draft_reference(&version, &rest)?);
                s
            }
            (_, None) => {
                if route == Route::GraphSendMail {
                    return fail(API, format_args!("{at}: sendMail without a body"));
                }
                Send::new(API)
            }
            (_, Some((key, b)))
                if b.as_str().is_some() && content_type.as_deref() == Some("text/plain") =>
            {
                let at = [
                    Seg::Key(requests_key.to_owned()),
                    Seg::Index(i),
                    Seg::Key(key.to_owned()),
                ];
                from_mime(doc.head(&at))?
            }
            (_, Some((_, b))) => {
                let mut s = from_json(route, b, &format!("{at}.body"))?;
                if route == (Route::GraphRule { changed: true }) {
                    s.references.extend(rule_reference(&version, &rest, b)?);
                }
                s
            }
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
    use crate::extract::tests::{error, extract_at, send};
    use crate::extract::Routes;
    use crate::send::Reference;
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
        assert_eq!(
            s.references,
            vec![Reference::GraphMessage {
                base: "/v1.0/me".into(),
                id: "AAMk".into()
            }]
        );
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
        let b = |body: &[u8]| extract_at("POST", "/v1.0/$batch", CT, body);
        let none = br#"{"requests":[{"id":"1","method":"GET","url":"/me/messages"},{"id":"2","method":"POST","url":"/me/messages","body":{}}]}"#;
        assert_eq!(b(none), Ok(None));
        assert!(b(b"{\"requests\": 1}").is_err());
        assert!(b(br#"{"requests":[{"method":"POST","url":"/me/sendMail","body":{"message":{"toRecipients":[{"emailAddress":{}}]}}}]}"#).is_err());
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

    #[test]
    fn pascal_case_names() {
        // msgraph-sdk (Kiota) writes action parameters in PascalCase.
        let body = br#"{"Message": {"Subject": "x", "ToRecipients": [{"EmailAddress": {"Address": "j.smith@navy.ml", "Name": "Lt J"}}],
            "From": {"EmailAddress": {"Address": "ops@army.mil"}}}, "SaveToSentItems": true}"#;
        let s = send("POST", "/v1.0/me/sendMail", CT, body);
        assert_eq!(s.to, vec!["\"Lt J\" <j.smith@navy.ml>"]);
        assert_eq!(s.from.as_deref(), Some("ops@army.mil"));
        let fwd =
            br#"{"Comment": "fyi", "ToRecipients": [{"EmailAddress": {"Address": "c@navy.ml"}}]}"#;
        let s = send("POST", "/v1.0/me/messages/AAMk/forward", CT, fwd);
        assert_eq!(s.to, vec!["c@navy.ml"]);
        let reply = br#"{"Comment": "ok", "Message": {"CcRecipients": [{"EmailAddress": {"Address": "x@gmial.com"}}]}}"#;
        let s = send("POST", "/v1.0/me/messages/AAMk/replyAll", CT, reply);
        assert_eq!(s.cc, vec!["x@gmial.com"]);
    }

    #[test]
    fn actions_named_with_their_namespace() {
        // Graph's .NET SDK up to v4 and its Java SDK up to v5 (and Microsoft's samples of that
        // time) name every action with OData's namespace; Graph accepts both forms.
        let body = br#"{"message":{"toRecipients":[{"emailAddress":{"address":"c@navy.ml"}}]}}"#;
        for path in [
            "/v1.0/me/microsoft.graph.sendMail",
            "/v1.0/users/ops%40army.mil/Microsoft.Graph.SendMail",
            "/beta/me/microsoft.graph.sendmail",
            "/v1.0/me/messages/AAMk/microsoft.graph.replyAll",
        ] {
            assert_eq!(send("POST", path, CT, body).to, vec!["c@navy.ml"], "{path}");
        }
        let fwd = br#"{"toRecipients":[{"emailAddress":{"address":"c@navy.ml"}}]}"#;
        let s = send(
            "POST",
            "/v1.0/me/mailFolders/inbox/messages/AAMk/microsoft.graph.forward",
            CT,
            fwd,
        );
        assert_eq!(s.to, vec!["c@navy.ml"]);
        let s = send(
            "POST",
            "/v1.0/me/messages/AAMk/microsoft.graph.send",
            None,
            b"",
        );
        assert_eq!(
            s.references,
            vec![Reference::GraphMessage {
                base: "/v1.0/me".into(),
                id: "AAMk".into()
            }]
        );
        // In a batch, too.
        let batch = br#"{"requests": [{"id": "1", "method": "POST", "url": "/me/microsoft.graph.sendMail",
            "headers": {"Content-Type": "application/json"},
            "body": {"message": {"toRecipients": [{"emailAddress": {"address": "c@navy.ml"}}]}}}]}"#;
        assert_eq!(
            send("POST", "/v1.0/$batch", CT, batch).to,
            vec!["c@navy.ml"]
        );
        // Another namespace, or the namespace alone, is not a send.
        for path in [
            "/v1.0/me/other.sendMail",
            "/v1.0/me/microsoft.graph.",
            "/v1.0/me/microsoft.graph.createReply",
        ] {
            assert!(
                Routes::default().classify("POST", path, CT).is_none(),
                "{path}"
            );
        }
    }

    #[test]
    fn events_send_to_their_attendees() {
        // Created (POST to a calendar's events) or changed (PATCH of one): Graph sends the
        // invitation or the update to every attendee.
        let body = br#"{"subject": "Site visit", "location": {"displayName": "Hotel, room 1207"},
            "attendees": [{"emailAddress": {"address": "j.smith@navy.ml", "name": "Lt J"}, "type": "required"},
                          {"emailAddress": {"address": "ops@army.mil"}, "type": "optional"}]}"#;
        for (method, path) in [
            ("POST", "/v1.0/me/events"),
            ("POST", "/v1.0/users/ops%40army.mil/calendar/events/"),
            ("POST", "/beta/me/calendars('AAMkC')/events"),
            ("PATCH", "/v1.0/me/events/AAMkE"),
            ("PATCH", "/v1.0/me/calendar/events('AAMkE')"),
        ] {
            let s = send(method, path, CT, body);
            assert_eq!(
                s.to,
                vec!["\"Lt J\" <j.smith@navy.ml>", "ops@army.mil"],
                "{method} {path}"
            );
        }
        // PascalCase, as Kiota writes it; none; a change that names no attendees.
        let pascal = br#"{"Attendees": [{"EmailAddress": {"Address": "c@navy.ml"}}]}"#;
        assert_eq!(
            send("POST", "/v1.0/me/events", CT, pascal).to,
            vec!["c@navy.ml"]
        );
        assert!(
            send("POST", "/v1.0/me/events", CT, br#"{"subject": "Alone"}"#).has_no_recipients()
        );
        assert!(send(
            "PATCH",
            "/v1.0/me/events/E1",
            CT,
            br#"{"subject": "Moved"}"#
        )
        .has_no_recipients());
        let e = error(
            "POST",
            "/v1.0/me/events",
            CT,
            br#"{"attendees": {"emailAddress": {}}}"#,
        );
        assert!(e.message.contains("attendees is not a list"), "{e}");
        // An event's forward sends it to its toRecipients.
        let fwd = br#"{"ToRecipients": [{"EmailAddress": {"Address": "c@navy.ml", "Name": "C"}}], "Comment": "FYI"}"#;
        let s = send(
            "POST",
            "/v1.0/me/calendar/events/E1/microsoft.graph.forward",
            CT,
            fwd,
        );
        assert_eq!(s.to, vec!["\"C\" <c@navy.ml>"]);
        // Not sends: a PATCH of the collection, a POST to one event, an event's other actions.
        let r = Routes::default();
        for (method, path) in [
            ("PATCH", "/v1.0/me/events"),
            ("POST", "/v1.0/me/events/E1"),
            ("POST", "/v1.0/me/events/E1/accept"),
            ("PUT", "/v1.0/me/events/E1"),
            ("PATCH", "/v1.0/me/messages/M1"),
        ] {
            assert!(r.classify(method, path, CT).is_none(), "{method} {path}");
        }
        // A Microsoft 365 group's calendar, and a post of its conversations forwarded.
        for (method, path) in [
            ("POST", "/v1.0/groups/G1/events"),
            ("POST", "/v1.0/groups('G1')/calendar/events"),
            ("PATCH", "/v1.0/groups/G1/events/E1"),
        ] {
            let s = send(method, path, CT, body);
            assert_eq!(s.to.len(), 2, "{method} {path}");
        }
        for path in [
            "/v1.0/groups/G1/events/E1/forward",
            "/v1.0/groups/G1/threads/T1/posts/P1/forward",
            "/beta/groups/G1/conversations/C1/threads/T1/posts/P1/microsoft.graph.forward",
        ] {
            assert_eq!(
                send("POST", path, CT, fwd).to,
                vec!["\"C\" <c@navy.ml>"],
                "{path}"
            );
        }
        for path in [
            "/v1.0/groups/G1/sendMail",
            "/v1.0/groups/events",
            "/v1.0/groups/G1/threads/T1/reply",
        ] {
            assert!(r.classify("POST", path, CT).is_none(), "{path}");
        }
        // In a batch: a POST of an event and a PATCH of one; a PATCH of the collection is not.
        let batch = br#"{"requests": [
            {"id": "1", "method": "POST", "url": "/me/events", "headers": {"Content-Type": "application/json"},
             "body": {"subject": "x", "attendees": [{"emailAddress": {"address": "a@navy.ml"}}]}},
            {"id": "2", "method": "PATCH", "url": "/me/events/E1", "headers": {"Content-Type": "application/json"},
             "body": {"attendees": [{"emailAddress": {"address": "b@navy.ml"}}]}},
            {"id": "3", "method": "PATCH", "url": "/me/events", "body": {"attendees": [{"emailAddress": {"address": "c@navy.ml"}}]}}]}"#;
        assert_eq!(
            send("POST", "/v1.0/$batch", CT, batch).to,
            vec!["a@navy.ml", "b@navy.ml"]
        );
    }

    #[test]
    fn message_rules_that_forward_are_sends_to_their_recipients() {
        // A rule created (POST to a folder's messageRules) or changed (PATCH of one): every
        // message it matches from then on goes to its forwardTo, forwardAsAttachmentTo and
        // redirectTo recipients.
        let body = br#"{"displayName": "To the ship", "sequence": 2, "isEnabled": true,
            "conditions": {"senderContains": ["ops"]},
            "actions": {"moveToFolder": "AAMkF", "stopProcessingRules": true,
              "forwardTo": [{"emailAddress": {"name": "Lt J", "address": "j.smith@navy.ml"}}],
              "forwardAsAttachmentTo": [{"emailAddress": {"address": "log@army.mil"}}],
              "redirectTo": [{"emailAddress": {"address": "x@gmial.com"}}]}}"#;
        for (method, path) in [
            ("POST", "/v1.0/me/mailFolders/inbox/messageRules"),
            (
                "POST",
                "/v1.0/users/ops%40army.mil/mailfolders/inbox/messagerules/",
            ),
            ("POST", "/beta/me/mailFolders('inbox')/messageRules"),
            (
                "PATCH",
                "/v1.0/me/mailFolders/inbox/messageRules/AQAAAJ5dZqA=",
            ),
            (
                "PATCH",
                "/v1.0/users('ops@army.mil')/mailFolders('inbox')/messageRules('R1')",
            ),
        ] {
            let s = send(method, path, CT, body);
            assert_eq!(
                s.to,
                vec!["\"Lt J\" <j.smith@navy.ml>", "log@army.mil", "x@gmial.com"],
                "{method} {path}"
            );
            assert!(s.forwarding, "{method} {path}");
        }
        // PascalCase; a rule that only moves mail; a change that names no action.
        let pascal =
            br#"{"Actions": {"RedirectTo": [{"EmailAddress": {"Address": "c@navy.ml"}}]}}"#;
        let path = "/v1.0/me/mailFolders/inbox/messageRules";
        assert_eq!(send("POST", path, CT, pascal).to, vec!["c@navy.ml"]);
        let moves = br#"{"displayName": "File", "actions": {"moveToFolder": "AAMkF"}}"#;
        assert!(send("POST", path, CT, moves).has_no_recipients());
        // A change that leaves forwarding actions as they are: the stored rule is looked up for
        // them (those the change sets itself are not), unless the change switches it off.
        let enable = br#"{"isEnabled": true}"#;
        let s = send("PATCH", &format!("{path}/R1"), CT, enable);
        assert!(s.has_no_recipients());
        assert_eq!(
            s.references,
            vec![Reference::GraphRule {
                base: "/v1.0/me".into(),
                folder: "inbox".into(),
                id: "R1".into(),
                set: [false; 3],
                enabled: Some(true),
            }]
        );
        let renamed = br#"{"displayName": "x", "Actions": {"RedirectTo": [{"EmailAddress": {"Address": "c@navy.ml"}}]}}"#;
        let s = send(
            "PATCH",
            "/beta/users('ops%40army.mil')/mailFolders('AAMkF%3D')/messageRules('R%2F2')",
            CT,
            renamed,
        );
        assert_eq!(s.to, vec!["c@navy.ml"]);
        assert_eq!(
            s.references,
            vec![Reference::GraphRule {
                base: "/beta/users/ops%40army.mil".into(),
                folder: "AAMkF=".into(),
                id: "R/2".into(),
                set: [false, false, true],
                enabled: None,
            }]
        );
        // Switched off (created so, or changed so): it forwards nothing, and nothing is looked up.
        let off = br#"{"isEnabled": false, "actions": {"forwardTo": [{"emailAddress": {"address": "c@navy.ml"}}]}}"#;
        for (method, path) in [("POST", path.to_string()), ("PATCH", format!("{path}/R1"))] {
            let s = send(method, &path, CT, off);
            assert!(
                s.has_no_recipients() && s.references.is_empty(),
                "{method}: {s:?}"
            );
        }
        // The change's own recipients are judged on a create; a create looks nothing up.
        assert!(send("POST", path, CT, enable).references.is_empty());
        let e = error(
            "PATCH",
            &format!("{path}/R1"),
            CT,
            br#"{"isEnabled": "yes"}"#,
        );
        assert!(e.message.contains("isEnabled is not true or false"), "{e}");
        let e = error(
            "POST",
            path,
            CT,
            br#"{"actions": {"forwardTo": "c@navy.ml"}}"#,
        );
        assert!(e.message.contains("actions.forwardTo is not a list"), "{e}");
        let e = error("POST", path, CT, br#"{"actions": ["forwardTo"]}"#);
        assert!(e.message.contains("actions is not an object"), "{e}");
        // Not rules: a PATCH of the collection, a POST to one rule, a DELETE.
        let r = Routes::default();
        for (method, path) in [
            ("PATCH", "/v1.0/me/mailFolders/inbox/messageRules"),
            ("POST", "/v1.0/me/mailFolders/inbox/messageRules/R1"),
            ("DELETE", "/v1.0/me/mailFolders/inbox/messageRules/R1"),
            ("POST", "/v1.0/groups/G1/mailFolders/inbox/messageRules"),
        ] {
            assert!(r.classify(method, path, CT).is_none(), "{method} {path}");
        }
        // In a batch, beside a message: the batch is refused as a send.
        let batch = br#"{"requests": [
            {"id": "1", "method": "POST", "url": "/me/mailFolders/inbox/messageRules",
             "headers": {"Content-Type": "application/json"},
             "body": {"actions": {"forwardTo": [{"emailAddress": {"address": "a@navy.ml"}}]}}},
            {"id": "2", "method": "PATCH", "url": "/me/mailFolders/inbox/messageRules/R1",
             "headers": {"Content-Type": "application/json"},
             "body": {"actions": {"redirectTo": [{"emailAddress": {"address": "b@navy.ml"}}]}}}]}"#;
        let s = send("POST", "/v1.0/$batch", CT, batch);
        assert_eq!(s.to, vec!["a@navy.ml", "b@navy.ml"]);
        assert!(s.forwarding);
        // (The change sets only redirectTo: the rule's other forwarding actions are looked up.)
        assert_eq!(
            s.references,
            vec![Reference::GraphRule {
                base: "/v1.0/me".into(),
                folder: "inbox".into(),
                id: "R1".into(),
                set: [false, false, true],
                enabled: None,
            }]
        );
        let mixed = br#"{"requests": [
            {"id": "1", "method": "POST", "url": "/me/mailFolders/inbox/messageRules",
             "headers": {"Content-Type": "application/json"},
             "body": {"actions": {"forwardTo": [{"emailAddress": {"address": "a@navy.ml"}}]}}},
            {"id": "2", "method": "POST", "url": "/me/sendMail", "headers": {"Content-Type": "application/json"},
             "body": {"message": {"toRecipients": [{"emailAddress": {"address": "b@navy.ml"}}]}}}]}"#;
        let s = send("POST", "/v1.0/$batch", CT, mixed);
        assert_eq!(s.to, vec!["a@navy.ml", "b@navy.ml"]);
        assert!(!s.forwarding);
        // A message sent is not a rule.
        assert!(!send("POST", "/v1.0/me/events", CT, br#"{"attendees": []}"#).forwarding);
    }

    #[test]
    fn a_looked_up_rule_gives_what_the_change_leaves_in_place_while_enabled() {
        use super::read_rule;
        use crate::extract::json;
        let stored = br#"{"id": "R1", "displayName": "x", "isEnabled": true,
            "actions": {"forwardTo": [{"emailAddress": {"address": "a@navy.ml"}}],
                        "redirectTo": [{"emailAddress": {"address": "b@navy.ml", "name": "B"}}]}}"#;
        let doc = json::read_whole(json::keep_all, stored).unwrap();
        let read = |set, enabled| read_rule(doc.root(), set, enabled).unwrap();
        let s = read([false; 3], None);
        assert_eq!(s.to, vec!["a@navy.ml", "\"B\" <b@navy.ml>"]);
        assert!(s.forwarding);
        assert_eq!(
            read([true, false, false], None).to,
            vec!["\"B\" <b@navy.ml>"]
        );
        assert!(read([false; 3], Some(false)).to.is_empty());
        // A stored rule that is off stays off unless the change switches it on.
        let off = br#"{"isEnabled": false, "actions": {"forwardTo": [{"emailAddress": {"address": "a@navy.ml"}}]}}"#;
        let doc = json::read_whole(json::keep_all, off).unwrap();
        assert!(read_rule(doc.root(), [false; 3], None)
            .unwrap()
            .to
            .is_empty());
        assert_eq!(
            read_rule(doc.root(), [false; 3], Some(true)).unwrap().to,
            vec!["a@navy.ml"]
        );
        // Not a rule.
        let doc = json::read_whole(json::keep_all, br#"{"value": []}"#).unwrap();
        assert!(read_rule(doc.root(), [false; 3], None).is_err());
    }

    #[test]
    fn keys_in_parentheses() {
        // OData's key syntax, as Graph's documentation and the `@odata.id` of its answers write
        // it (`users('…')/messages('…')`); Graph accepts it as `users/…/messages/…`.
        let body = br#"{"message":{"toRecipients":[{"emailAddress":{"address":"c@navy.ml"}}]}}"#;
        for path in [
            "/v1.0/users('ops@army.mil')/sendMail",
            "/beta/users(%27ops%40army.mil%27)/microsoft.graph.sendMail",
            "/v1.0/me/messages('AAMk')/replyAll",
            "/v1.0/users('u')/mailFolders('inbox')/messages('AAMk')/reply",
        ] {
            assert_eq!(send("POST", path, CT, body).to, vec!["c@navy.ml"], "{path}");
        }
        for (path, base, id) in [
            (
                "/beta/users('86b6ceaf@70559e59')/messages('AAMkADA1MTAAAH5JKpAAA=')/send",
                "/beta/users/86b6ceaf%4070559e59",
                "AAMkADA1MTAAAH5JKpAAA=",
            ),
            // Quotes encoded, a doubled quote inside, a slash encoded.
            (
                "/v1.0/users(%27o%27%27neil%40army.mil%27)/messages(%27A%2FB%27)/send",
                "/v1.0/users/o%27neil%40army.mil",
                "A/B",
            ),
            (
                "/v1.0/me/messages('AAMk')/microsoft.graph.send",
                "/v1.0/me",
                "AAMk",
            ),
        ] {
            let s = send("POST", path, None, b"");
            assert_eq!(
                s.references,
                vec![Reference::GraphMessage {
                    base: base.into(),
                    id: id.into()
                }],
                "{path}"
            );
        }
        // Not a send: a key on the action, or no name before the key.
        for path in ["/v1.0/me/sendMail()", "/v1.0/me/('x')/sendMail"] {
            assert!(
                Routes::default().classify("POST", path, CT).is_none(),
                "{path}"
            );
        }
    }

    #[test]
    fn draft_sends_name_their_message() {
        let s = send(
            "POST",
            "/v1.0/users/ops%40army.mil/mailFolders/drafts/messages/AAMk%2Fx%3D/send",
            None,
            b"",
        );
        assert_eq!(
            s.references,
            vec![Reference::GraphMessage {
                base: "/v1.0/users/ops%40army.mil".into(),
                id: "AAMk/x=".into()
            }]
        );
        let e = error("POST", "/beta/me/messages/%zz/send", None, b"");
        assert!(e.message.contains("percent-encoded"), "{e}");
        // Sends of drafts inside a batch, with absolute and relative URLs.
        let body = br#"{"requests": [
            {"id": "1", "method": "POST", "url": "https://graph.microsoft.com/v1.0/me/messages/D1/send"},
            {"id": "2", "method": "POST", "url": "me/messages/D2/send", "dependsOn": ["1"]},
            {"id": "3", "method": "POST", "url": "https://graph.microsoft.com/beta/me/sendMail",
             "headers": {"Content-Type": "application/json"},
             "body": {"Message": {"ToRecipients": [{"EmailAddress": {"Address": "c@navy.ml"}}]}}}]}"#;
        let s = send("POST", "/v1.0/$batch", CT, body);
        assert_eq!(s.to, vec!["c@navy.ml"]);
        assert_eq!(
            s.references,
            vec![
                Reference::GraphMessage {
                    base: "/v1.0/me".into(),
                    id: "D1".into()
                },
                Reference::GraphMessage {
                    base: "/v1.0/me".into(),
                    id: "D2".into()
                }
            ]
        );
    }

    #[test]
    fn lookup_answers() {
        use super::read_message;
        use crate::send::LookupError;
        use serde_json::json;
        // PascalCase as well as camelCase: Graph reads names case-insensitively.
        let m = json!({"id": "m1", "From": {"emailAddress": {"name": "Ray", "address": "ray@army.mil"}},
            "toRecipients": [{"emailAddress": {"name": "Lt J", "address": "j.smith@navy.ml"}}],
            "CcRecipients": [{"EmailAddress": {"Address": "c@x.org"}}], "bccRecipients": []});
        let s = read_message(crate::extract::json::doc_of(&m).root()).unwrap();
        assert_eq!(s.to, vec!["\"Lt J\" <j.smith@navy.ml>"]);
        assert_eq!(s.cc, vec!["c@x.org"]);
        assert_eq!(s.from.as_deref(), Some("\"Ray\" <ray@army.mil>"));
        assert!(matches!(
            read_message(crate::extract::json::doc_of(&json!({"id": "m1"})).root()),
            Err(LookupError::Unreadable(_))
        ));
        // An empty draft is a message without recipients, not an unreadable answer.
        let empty = read_message(crate::extract::json::doc_of(&json!({"toRecipients": []})).root())
            .unwrap();
        assert!(empty.has_no_recipients());
    }
}
