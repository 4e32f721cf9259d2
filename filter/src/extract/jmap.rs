//! JMAP (RFC 8620 / RFC 8621): a send is an `EmailSubmission/set` with `create`.
//!
//! Recipients are `envelope.rcptTo[].email` when the submission has an envelope, else the
//! `to`/`cc`/`bcc` of the Email it references (`"emailId": "#creationId"`) when that Email is
//! created by an `Email/set` in the same request. A submission of an existing Email (by id, or a
//! `#creationId` the request's `createdIds` resolves) is a send by reference: the Email's
//! addresses are looked up ([`Reference::JmapEmails`]).
//!
//! A JMAP request is recognised by its body, whatever its content type says: clients that set
//! their own headers post JMAP JSON as `text/plain`.

use super::json::{Doc, Kind, Seg, Select};
use super::mime::format_mailbox;
use super::request::{err, fail, is_json, under, Head, Route};
use super::tree::{Val, View};
use crate::send::{checked_jmap_id, Api, ExtractError, LookupError, MethodCall, Reference, Send};

const API: Api = Api::Jmap;

pub fn classify(head: &Head, prefix: &str) -> Option<Route> {
    if !head.method.eq_ignore_ascii_case("POST") || head.media_type == Some("multipart/form-data") {
        return None;
    }
    let rest = under(head.path, prefix)?;
    // Blob uploads and downloads, the event source and the session resource share the prefix on
    // many servers; they are never API requests.
    let rest = rest.trim_start_matches('/');
    let first = &rest[..rest.bytes().position(|b| b == b'/').unwrap_or(rest.len())];
    let other = ["upload", "download", "eventsource", "session", "ws"]
        .iter()
        .any(|o| first.eq_ignore_ascii_case(o));
    (!other).then_some(Route::Jmap)
}

/// The recipients of one JMAP `EmailAddress[]`, `EmailAddressGroup[]` or raw header string.
fn addresses(
    v: Val,
    at: &dyn std::fmt::Display,
    out: &mut Vec<String>,
) -> Result<(), ExtractError> {
    match v.view() {
        View::Null => Ok(()),
        View::String(s) => {
            out.push(s.to_owned());
            Ok(())
        }
        View::Array(items) => {
            for (i, item) in items.items().enumerate() {
                let Some(o) = item.as_object() else {
                    return fail(API, format_args!("{at}[{i}] is not an object"));
                };
                if let Some(group) = o.get("addresses") {
                    addresses(group, &format!("{at}[{i}].addresses"), out)?;
                    continue;
                }
                let Some(email) = o.get("email").and_then(|e| e.as_str()) else {
                    return fail(API, format_args!("{at}[{i}].email is not a string"));
                };
                let name = o.get("name").and_then(|n| n.as_str());
                out.push(format_mailbox(name, email));
            }
            Ok(())
        }
        _ => fail(API, format_args!("{at} is not a list of addresses")),
    }
}

/// Which recipient field a property of an Email names: `to`, `header:To`,
/// `header:To:asAddresses`, `header:To:asGroupedAddresses:all`, ...
fn field_of(key: &str) -> Option<&'static str> {
    // (Compared without case, in place: this runs for every member of every created object.)
    let name = match key.get(..7).filter(|p| p.eq_ignore_ascii_case("header:")) {
        Some(_) => {
            let mut it = key[7..].split(':');
            let name = it.next().unwrap_or("");
            for form in it {
                let known = ["asaddresses", "asgroupedaddresses", "raw", "all"]
                    .iter()
                    .any(|f| form.eq_ignore_ascii_case(f));
                if !known {
                    return None;
                }
            }
            name
        }
        None => key,
    };
    ["to", "cc", "bcc", "from"]
        .into_iter()
        .find(|f| name.eq_ignore_ascii_case(f))
}

/// Where a field is, for errors: `at.key`, written only when an error names it.
struct Member<'a> {
    at: &'a dyn std::fmt::Display,
    key: &'a str,
}

impl std::fmt::Display for Member<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.at, self.key)
    }
}

/// The recipients and sender of one JMAP `Email` object; `at` names it in errors.
fn email_send(email: Val, at: &dyn std::fmt::Display) -> Result<Send, ExtractError> {
    let mut s = Send::new(API);
    let mut from = Vec::new();
    for (k, v) in email.members() {
        let Some(field) = field_of(k) else { continue };
        let at = Member { at, key: k };
        match field {
            "to" => addresses(v, &at, &mut s.to)?,
            "cc" => addresses(v, &at, &mut s.cc)?,
            "bcc" => addresses(v, &at, &mut s.bcc)?,
            _ => addresses(v, &at, &mut from)?,
        }
    }
    s.from = from.into_iter().next();
    Ok(s)
}

/// Where a created object is, for errors: `methodCalls[i][1].create.id`, written only when an
/// error names it.
#[derive(Clone, Copy)]
struct Created<'a> {
    call: usize,
    id: &'a str,
}

impl std::fmt::Display for Created<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "methodCalls[{}][1].create.{}", self.call, self.id)
    }
}

/// What the filter reads of a JMAP request: each method call's name, id and `accountId`, and of
/// each `create` the ids and, per created object, the address fields (`to`, `header:To:...`), the
/// `envelope` and the `emailId`; and `createdIds`. Bodies, attachments and every other argument
/// are skipped.
pub fn select(path: &[Seg], _kind: Kind) -> Select {
    use Seg::{Index, Key};
    // (By the path's length first, then its last step: the reader asks only about the members
    // of what this descended into, but every step is still checked.)
    let calls = |c: &String| c == "methodCalls";
    match path {
        [] => Select::Descend,
        [Key(c)] => match c.as_str() {
            "methodCalls" => Select::Descend,
            "createdIds" => Select::Keep,
            _ => Select::Skip,
        },
        [Key(c), Index(_)] if calls(c) => Select::Descend,
        [Key(c), Index(_), Index(i)] if calls(c) => match i {
            0 | 2 => Select::Keep,
            1 => Select::Descend,
            _ => Select::Skip,
        },
        [Key(c), Index(_), Index(1), Key(a)] if calls(c) => match a.as_str() {
            "accountId" => Select::Keep,
            "create" => Select::Descend,
            _ => Select::Skip,
        },
        [Key(c), Index(_), Index(1), Key(a), Key(_)] if a == "create" && calls(c) => {
            Select::Descend
        }
        [Key(c), Index(_), Index(1), Key(a), Key(_), Key(field)] if a == "create" && calls(c) => {
            if field == "envelope" || field == "emailId" || field_of(field).is_some() {
                Select::Keep
            } else {
                Select::Skip
            }
        }
        _ => Select::Skip,
    }
}

/// A JMAP API request posted to `path`, as [`select`] read it. A body that is not JSON, under a
/// content type that does not claim JSON, is not a JMAP request: `None`.
pub fn extract(
    path: &str,
    content_type: Option<&str>,
    doc: Result<Doc, String>,
) -> Result<Option<Send>, ExtractError> {
    let doc = match doc {
        Ok(d) => d,
        Err(e) => {
            let mt = content_type.map(super::media_type);
            if is_json(mt.as_deref()) {
                return fail(API, format_args!("malformed JSON: {e}"));
            }
            return Ok(None);
        }
    };
    let v = doc.root();
    let Some(calls) = v.get("methodCalls") else {
        if !is_json(content_type.map(super::media_type).as_deref()) {
            return Ok(None);
        }
        return err(API, "request without methodCalls");
    };
    // (Looked up only for a submission of an Email created by an earlier request.)
    let created_ids = v.get("createdIds");
    let Some(calls) = calls.as_array() else {
        return err(API, "methodCalls is not a list");
    };
    // The Emails created in this request, by creation id: a few, searched in place (the last of
    // a repeated id counts, as a map would keep it).
    let mut emails: Vec<(&str, Val, Created)> = Vec::new();
    let mut submissions = Vec::new();
    let mut method_calls = Vec::new();
    for (i, call) in calls.items().enumerate() {
        let (Some(name), Some(args)) = (call.at(0).and_then(|n| n.as_str()), call.at(1)) else {
            return fail(
                API,
                format_args!("methodCalls[{i}] is not [name, arguments, id]"),
            );
        };
        let create = args.get("create");
        let created = create.map(|c| c.members()).unwrap_or_default();
        // (A refusal answers a submission with its account and creations; any other call with
        // an error naming its id only.)
        let submission = name == "EmailSubmission/set";
        method_calls.push(MethodCall {
            name: name.to_owned(),
            id: call
                .at(2)
                .and_then(|id| id.as_str())
                .unwrap_or("")
                .to_string(),
            account_id: args
                .get("accountId")
                .filter(|_| submission)
                .and_then(|a| a.as_str())
                .map(str::to_string),
            creates: if submission {
                created.iter().map(|(id, _)| id.to_string()).collect()
            } else {
                Vec::new()
            },
        });
        match create.map(|c| c.view()) {
            None | Some(View::Null) => continue,
            Some(View::Object(_)) => {}
            Some(_) => {
                return fail(
                    API,
                    format_args!("methodCalls[{i}][1].create is not an object"),
                )
            }
        };
        match name {
            "Email/set" => {
                for (id, email) in created {
                    let Some(e) = email.as_object() else {
                        return fail(
                            API,
                            format_args!("methodCalls[{i}][1].create.{id} is not an object"),
                        );
                    };
                    emails.push((id, e, Created { call: i, id }));
                }
            }
            "EmailSubmission/set" => {
                for (id, sub) in created {
                    let Some(sub) = sub.as_object() else {
                        return fail(
                            API,
                            format_args!("methodCalls[{i}][1].create.{id} is not an object"),
                        );
                    };
                    let account = args.get("accountId").and_then(|a| a.as_str());
                    submissions.push((sub, account, Created { call: i, id }));
                }
            }
            _ => {}
        }
    }
    if submissions.is_empty() {
        return Ok(None);
    }
    let mut send = Send::new(API);
    send.calls = method_calls;
    // Emails submitted by id, per account: one Email/get each.
    let mut by_id: Vec<(String, Vec<String>)> = Vec::new();
    for (sub, account, at) in submissions {
        let envelope = match sub.get("envelope").map(|e| e.view()) {
            None | Some(View::Null) => None,
            Some(View::Object(e)) => Some(e),
            Some(_) => return fail(API, format_args!("{at}.envelope is not an object")),
        };
        if let Some(env) = envelope {
            if let Some(mail_from) = env.get("mailFrom") {
                if let Some(f) = mail_from.get("email").and_then(|f| f.as_str()) {
                    if send.from.is_none() {
                        send.from = Some(f.to_owned());
                    }
                }
            }
            let Some(rcpt) = env.get("rcptTo").and_then(|r| r.as_array()) else {
                return fail(API, format_args!("{at}.envelope.rcptTo is not a list"));
            };
            for (j, r) in rcpt.items().enumerate() {
                let Some(email) = r.get("email").and_then(|e| e.as_str()) else {
                    return fail(
                        API,
                        format_args!("{at}.envelope.rcptTo[{j}].email is not a string"),
                    );
                };
                send.bcc.push(email.to_owned());
            }
            continue;
        }
        let stored = match sub.get("emailId").and_then(|id| id.as_str()) {
            Some(id) => match id.strip_prefix('#') {
                Some(reference) => {
                    if let Some((_, email, eat)) = emails.iter().rev().find(|e| e.0 == reference) {
                        send.merge(email_send(*email, eat)?);
                        continue;
                    }
                    // Created by an earlier request: `createdIds` names the real id.
                    match created_ids
                        .and_then(|c| c.get(reference))
                        .and_then(|r| r.as_str())
                    {
                        Some(real) => checked_jmap_id(real, &format!("createdIds.{reference}"))?,
                        // The server refuses an unresolvable reference itself.
                        _ => continue,
                    }
                }
                None => checked_jmap_id(id, &format!("{at}.emailId"))?,
            },
            None => return fail(API, format_args!("{at}.emailId is not a string")),
        };
        let Some(account) = account else {
            return fail(
                API,
                format_args!("{at}: EmailSubmission/set without an accountId"),
            );
        };
        match by_id.iter_mut().find(|(a, _)| a == account) {
            Some((_, ids)) => ids.push(stored),
            None => by_id.push((account.to_string(), vec![stored])),
        }
    }
    for (account_id, ids) in by_id {
        send.references.push(Reference::JmapEmails {
            api_path: path.to_string(),
            account_id,
            ids,
        });
    }
    Ok(Some(send))
}

/// The mail server's answer to the lookup of stored Emails ([`Reference::JmapEmails`]): the JMAP
/// response to the lookup's `Email/get`, whose `list` must hold every id asked for.
pub fn read_emails(v: Val, ids: &[String]) -> Result<Send, LookupError> {
    let responses = v
        .get("methodResponses")
        .and_then(|r| r.as_array())
        .ok_or_else(|| LookupError::Unreadable("no methodResponses".into()))?;
    let get = responses
        .items()
        .find(|r| r.at(2).and_then(|id| id.as_str()) == Some("mistype"))
        .ok_or_else(|| LookupError::Unreadable("no response to the Email/get call".into()))?;
    match get.at(0).and_then(|n| n.as_str()) {
        Some("Email/get") => {}
        Some("error") => {
            let t = get
                .at(1)
                .and_then(|a| a.get("type"))
                .and_then(|t| t.as_str())
                .unwrap_or("unknown");
            return Err(LookupError::Unreadable(format!("Email/get failed: {t}")));
        }
        other => {
            return Err(LookupError::Unreadable(format!(
                "unexpected response {other:?}"
            )))
        }
    }
    let list = get
        .at(1)
        .and_then(|a| a.get("list"))
        .and_then(|l| l.as_array())
        .ok_or_else(|| LookupError::Unreadable("Email/get without list".into()))?;
    let mut s = Send::new(API);
    for id in ids {
        let Some(email) = list
            .items()
            .find(|e| e.get("id").and_then(|i| i.as_str()) == Some(id.as_str()))
        else {
            return Err(LookupError::NotFound(format!("JMAP Email {id}")));
        };
        let Some(e) = email.as_object() else {
            return Err(LookupError::Unreadable(format!(
                "Email {id} is not an object"
            )));
        };
        let one = email_send(e, &format!("Email {id}"))
            .map_err(|e| LookupError::Unreadable(e.message))?;
        s.merge(one);
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use crate::extract::tests::{error, extract_at, send};
    use crate::extract::Routes;
    use crate::send::{Api, Reference};

    const CT: Option<&str> = Some("application/json");

    #[test]
    fn envelope_recipients() {
        let body = br##"{"using":["urn:ietf:params:jmap:core","urn:ietf:params:jmap:mail","urn:ietf:params:jmap:submission"],
 "methodCalls":[
  ["Email/set",{"accountId":"A1","create":{"d1":{"mailboxIds":{"drafts":true},
     "from":[{"email":"ops@unit.example.mil"}],
     "to":[{"name":"Lt Ray","email":"ray@base.example.ml"}],"cc":[],"bcc":[{"email":"log@unit.example.mil"}],
     "subject":"Schedule"}}},"c0"],
  ["EmailSubmission/set",{"accountId":"A1","create":{"s1":{"identityId":"I1","emailId":"#d1",
     "envelope":{"mailFrom":{"email":"ops@unit.example.mil"},"rcptTo":[{"email":"ray@base.example.ml"}]}}},
     "onSuccessUpdateEmail":{"#s1":{"keywords/$draft":null}}},"c1"]]}"##;
        let s = send("POST", "/jmap/api/", CT, body);
        assert_eq!(s.api, Api::Jmap);
        assert_eq!(s.from.as_deref(), Some("ops@unit.example.mil"));
        assert_eq!(s.bcc, vec!["ray@base.example.ml"]);
        assert!(s.to.is_empty());
    }

    #[test]
    fn a_repeated_key_counts_as_its_last_as_the_server_reads_it() {
        // A JSON parser keeps the last of repeated keys, so that is the recipient the server
        // takes: the one judged.
        let body = br##"{"methodCalls":[["EmailSubmission/set",{"accountId":"A1","create":{"s1":{
     "emailId":"M1","envelope":{"mailFrom":{"email":"ops@army.mil"},
     "rcptTo":[{"email":"ray@navy.mil","email":"ray@navy.ml"}]}}}},"c1"]]}"##;
        assert_eq!(
            send("POST", "/jmap/api/", CT, body).bcc,
            vec!["ray@navy.ml"]
        );
    }

    #[test]
    fn reference_to_an_email_created_in_the_same_request() {
        let body = br##"{"using":[],"methodCalls":[
  ["Email/set",{"accountId":"A","create":{"k":{"from":[{"name":"Ops","email":"ops@army.mil"}],
     "to":[{"name":"Lt Ray","email":"ray@navy.ml"}, {"name":null,"email":"y@gmail.com"}],
     "header:Cc:asAddresses":[{"email":"c@gmial.com"}],
     "bcc":[{"name":"Team","addresses":[{"email":"t@army.mil"}]}]}}},"0"],
  ["EmailSubmission/set",{"accountId":"A","create":{"s":{"emailId":"#k","identityId":"i"}}},"1"]]}"##;
        let s = send("POST", "/jmap", CT, body);
        assert_eq!(s.from.as_deref(), Some("\"Ops\" <ops@army.mil>"));
        assert_eq!(s.to, vec!["\"Lt Ray\" <ray@navy.ml>", "y@gmail.com"]);
        assert_eq!(s.cc, vec!["c@gmial.com"]);
        assert_eq!(s.bcc, vec!["t@army.mil"]);
    }

    #[test]
    fn existing_emails_are_looked_up_and_drafts_are_not_sends() {
        let body = br##"{"methodCalls":[["EmailSubmission/set",{"accountId":"A1","create":{
            "s":{"emailId":"M123"},"t":{"emailId":"#old"},"u":{"emailId":"#gone"}}},"1"],
            ["EmailSubmission/set",{"accountId":"B2","create":{"v":{"emailId":"M9"}}},"2"]],
            "createdIds":{"old":"M77"}}"##;
        let s = send("POST", "/jmap/api", CT, body);
        assert!(s.has_no_recipients());
        assert_eq!(
            s.references,
            vec![
                Reference::JmapEmails {
                    api_path: "/jmap/api".into(),
                    account_id: "A1".into(),
                    ids: vec!["M123".into(), "M77".into()]
                },
                Reference::JmapEmails {
                    api_path: "/jmap/api".into(),
                    account_id: "B2".into(),
                    ids: vec!["M9".into()]
                }
            ]
        );
        let e = error("POST", "/jmap/", CT, br##"{"methodCalls":[["EmailSubmission/set",{"accountId":"A","create":{"s":{"emailId":"../x"}}},"1"]]}"##);
        assert!(e.message.contains("not a JMAP Id"), "{e}");
        let e = error(
            "POST",
            "/jmap/",
            CT,
            br##"{"methodCalls":[["EmailSubmission/set",{"create":{"s":{"emailId":"M1"}}},"1"]]}"##,
        );
        assert!(e.message.contains("accountId"), "{e}");
        let draft = br##"{"methodCalls":[["Email/set",{"create":{"d":{"to":[{"email":"a@navy.ml"}]}}},"0"],["Mailbox/get",{},"1"]]}"##;
        assert_eq!(extract_at("POST", "/jmap/", CT, draft), Ok(None));
    }

    #[test]
    fn any_content_type_is_read_by_its_body() {
        // jmap-jam with its own headers posts JMAP JSON as text/plain.
        let body = br##"{"using":[],"methodCalls":[["Email/set",{"accountId":"A","create":{"k":{"to":[{"email":"j@navy.ml"}]}}},"0"],
            ["EmailSubmission/set",{"accountId":"A","create":{"s":{"emailId":"#k"}}},"1"]]}"##;
        let s = send("POST", "/jmap/api", Some("text/plain;charset=UTF-8"), body);
        assert_eq!(s.to, vec!["j@navy.ml"]);
        // Not JSON under a type that does not claim it: not a JMAP request.
        assert_eq!(
            extract_at("POST", "/jmap/api", Some("text/plain"), b"hello"),
            Ok(None)
        );
        assert_eq!(
            extract_at("POST", "/jmap/api", Some("text/plain"), b"{\"a\": 1}"),
            Ok(None)
        );
    }

    #[test]
    fn malformed_requests() {
        assert!(error("POST", "/jmap", CT, b"{").message.contains("JSON"));
        assert!(error("POST", "/jmap", CT, b"{}")
            .message
            .contains("methodCalls"));
        assert!(error("POST", "/jmap", CT, br##"{"methodCalls":[["EmailSubmission/set",{"create":{"s":{"emailId":"#x","envelope":{"rcptTo":[{"email":3}]}}}},"1"]]}"##)
            .message.contains("rcptTo[0].email"));
        let e = error("POST", "/jmap", CT, br##"{"methodCalls":[["Email/set",{"create":{"d":{"to":5}}},"0"],["EmailSubmission/set",{"create":{"s":{"emailId":"#d"}}},"1"]]}"##);
        assert!(e.message.contains("create.d.to"), "{e}");
    }

    #[test]
    fn headers_only_look() {
        let r = Routes::default();
        assert!(r
            .classify("POST", "/jmap/api/", Some("application/json"))
            .is_some());
        assert!(r
            .classify("POST", "/jmap/api/", Some("text/plain"))
            .is_some());
        assert!(r
            .classify(
                "POST",
                "/jmap/api/",
                Some("multipart/form-data; boundary=x")
            )
            .is_none());
        assert!(r
            .classify("GET", "/jmap/api/", Some("application/json"))
            .is_none());
        assert!(r
            .classify("POST", "/jmap/upload/A1/", Some("image/png"))
            .is_none());
        assert!(r.classify("POST", "/jmap/upload/A1/", None).is_none());
        assert!(r.classify("POST", "/jmap/download/A1/b/x", None).is_none());
        assert!(r.classify("POST", "/jmap/", None).is_some());
    }

    #[test]
    fn lookup_answers() {
        use super::read_emails;
        use crate::send::LookupError;
        use serde_json::json;
        let ids = ["M1".to_string()];
        let v = json!({"methodResponses": [["Email/get", {"accountId": "u1", "state": "1", "list": [
            {"id": "M1", "from": [{"name": "Ray", "email": "ray@army.mil"}], "sender": null,
             "to": [{"name": null, "email": "j.smith@navy.ml"}], "cc": null, "bcc": [{"email": "b@x.org"}]}],
            "notFound": []}, "mistype"]], "sessionState": "s"});
        let s = read_emails(crate::extract::json::doc_of(&v).root(), &ids).unwrap();
        assert_eq!(s.to, vec!["j.smith@navy.ml"]);
        assert_eq!(s.bcc, vec!["b@x.org"]);
        let missing = json!({"methodResponses": [["Email/get", {"list": [], "notFound": ["M1"]}, "mistype"]]});
        assert_eq!(
            read_emails(crate::extract::json::doc_of(&missing).root(), &ids),
            Err(LookupError::NotFound("JMAP Email M1".into()))
        );
        let error = json!({"methodResponses": [["error", {"type": "accountNotFound"}, "mistype"]]});
        let e = read_emails(crate::extract::json::doc_of(&error).root(), &ids).unwrap_err();
        assert!(e.to_string().contains("accountNotFound"), "{e}");
    }
}
