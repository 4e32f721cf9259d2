//! A candidate's body, read as it streams in: each chunk is read once, and only what the decision
//! needs is kept (see [`super::json`], [`super::head`], [`super::multipart`], [`super::form`]).
//!
//! A send whose recipients are in a message's head (Gmail's `raw` and uploads, Graph's MIME
//! variant) is decided once the head is read ([`Progress::Enough`]): the rest of the body, the
//! attachments, need not be held or read at all. Every other send is read to its end, because the
//! recipients may come anywhere in it (a JSON object's members are in any order); only a malformed
//! body is decided before its end.

use super::head::{Encoding, Head};
use super::json;
use super::multipart::{self, Chooser};
use super::read::Read;
use super::request::{media_type, split_path, Candidate, Route, Target};
use super::{check, form, gmail, graph, jmap, nextcloud, roundcube, snappymail, sogo};
use crate::send::{ExtractError, Send};

/// Whether the body read so far is enough to decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// More is needed: hold the request and read on.
    More,
    /// Enough: the decision can be taken now; the rest of the body is not needed.
    Enough,
}

/// A Gmail JSON body's reader: it stops at the head of the message.
fn gmail_json(drafts: bool) -> json::Reader {
    let mut r = json::Reader::new(gmail::select);
    r.stop_after_head(gmail::raw_path(drafts));
    r
}

#[derive(Debug)]
enum Reader {
    Nothing,
    Whole(Vec<u8>),
    Json(json::Reader),
    Head(Head),
    Multipart(multipart::Reader),
    Form(form::Reader),
}

/// A candidate's body being read.
#[derive(Debug)]
pub struct Body {
    candidate: Candidate,
    reader: Reader,
    /// Every byte read so far is white space.
    blank: bool,
    /// Body bytes read.
    read: usize,
}

impl Body {
    /// A reader for the body of `candidate` (its route and content type decide how it is read).
    pub fn new(candidate: Candidate, target: Target) -> Body {
        let ct = target.content_type;
        let mt = ct.map(media_type);
        let reader = match candidate.route {
            Route::Jmap => Reader::Json(json::Reader::new(jmap::select)),
            Route::GraphSendMail | Route::GraphReply | Route::GraphForward => {
                if mt.as_deref() == Some("text/plain") {
                    Reader::Head(Head::new(Encoding::Base64))
                } else {
                    Reader::Json(json::Reader::new(graph::select_message))
                }
            }
            Route::GraphEvent { .. } => Reader::Json(json::Reader::new(graph::select_event)),
            Route::GraphRule { .. } => Reader::Json(json::Reader::new(graph::select_rule)),
            Route::GraphDraftSend | Route::NextcloudById => Reader::Nothing,
            Route::GraphBatch => Reader::Json(json::Reader::new(graph::select_batch)),
            Route::GmailJson { drafts } => Reader::Json(gmail_json(drafts)),
            Route::GmailUpload { drafts } => match mt.as_deref() {
                Some("multipart/related") => {
                    let mut r =
                        multipart::Reader::new(ct.unwrap_or_default(), Chooser::Parts(gmail::part));
                    r.stop_after_head();
                    Reader::Multipart(r)
                }
                Some("application/json") => Reader::Json(gmail_json(drafts)),
                _ => Reader::Head(Head::new(Encoding::Identity)),
            },
            Route::GmailForwarding(_) => Reader::Json(json::Reader::new(gmail::select_setting)),
            Route::GmailBatch => Reader::Multipart(multipart::Reader::new(
                ct.unwrap_or_default(),
                Chooser::Parts(gmail::batch_part),
            )),
            Route::Roundcube { .. } => Reader::Form(form::Reader::new(ct, roundcube::field)),
            Route::Snappymail if snappymail::is_form(ct) => {
                Reader::Form(form::Reader::new(ct, snappymail::field))
            }
            Route::Snappymail => Reader::Json(json::Reader::new(snappymail::select)),
            Route::NextcloudOutbox => Reader::Json(json::Reader::new(nextcloud::select)),
            Route::Sogo => Reader::Json(json::Reader::new(sogo::select)),
            Route::Check | Route::Verdict => Reader::Whole(Vec::new()),
        };
        Body {
            candidate,
            reader,
            blank: true,
            read: 0,
        }
    }

    /// True when the decision needs the whole body: the request is held to its end (and
    /// `max_body_bytes` applies to all of it). False when the head of a message is enough.
    pub fn needs_the_end(&self) -> bool {
        !matches!(
            self.candidate.route,
            Route::GmailUpload { .. } | Route::GmailJson { .. }
        ) && !matches!(self.reader, Reader::Head(_))
    }

    /// Body bytes read so far.
    pub fn bytes_read(&self) -> usize {
        self.read
    }

    /// Reads the next bytes of the body.
    pub fn feed(&mut self, bytes: &[u8]) -> Progress {
        self.read += bytes.len();
        if self.blank {
            // White space to every reader (JSON's, base64's): not a form feed, which they
            // refuse, so that a body is blank or not wherever its pieces end.
            self.blank = bytes
                .iter()
                .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
        }
        match &mut self.reader {
            Reader::Nothing => {}
            Reader::Whole(b) => b.extend_from_slice(bytes),
            Reader::Json(r) => r.feed(bytes),
            Reader::Head(h) => h.feed(bytes),
            Reader::Multipart(r) => r.feed(bytes),
            Reader::Form(r) => r.feed(bytes),
        }
        self.progress()
    }

    fn progress(&self) -> Progress {
        let enough = match (&self.reader, self.candidate.route) {
            (Reader::Head(h), _) => h.is_done(),
            (Reader::Json(r), Route::GmailJson { .. } | Route::GmailUpload { .. }) => {
                r.error().is_some() || r.stopped()
            }
            (Reader::Json(r), _) => r.error().is_some(),
            (Reader::Multipart(r), Route::GmailUpload { .. }) => {
                r.error().is_some() || r.head_done()
            }
            (Reader::Multipart(r), _) => r.error().is_some(),
            _ => false,
        };
        if enough {
            Progress::Enough
        } else {
            Progress::More
        }
    }

    /// What was read: at the end of the body, or when [`Progress::Enough`] said so.
    pub fn finish(self) -> Read {
        let blank = self.blank;
        let enough = self.progress() == Progress::Enough;
        match self.reader {
            Reader::Nothing => Read::Nothing,
            Reader::Whole(b) => Read::Whole(b),
            // An empty body: Graph answers "without a body", a resumable upload's start is not
            // a send; a message upload goes on to "empty message".
            Reader::Json(_) if blank => Read::Blank,
            Reader::Head(_)
                if blank && !matches!(self.candidate.route, Route::GmailUpload { .. }) =>
            {
                Read::Blank
            }
            Reader::Head(mut h) => {
                h.finish();
                Read::Head(h)
            }
            Reader::Json(r) => {
                if let (true, None, Route::GmailJson { drafts } | Route::GmailUpload { drafts }) =
                    (enough, r.error(), self.candidate.route)
                {
                    // The message's head is read before the end: the rest is not needed.
                    if let Some(h) = r.into_head(&gmail::raw_path(drafts)) {
                        return Read::Head(h);
                    }
                    return Read::Json(Err("the body ends early".into()));
                }
                Read::Json(r.into_doc())
            }
            Reader::Multipart(r) => Read::Parts(r.finish()),
            Reader::Form(r) => Read::Fields(r.finish()),
        }
    }

    /// Reads a whole body at once.
    pub fn read_all(candidate: Candidate, target: Target, body: &[u8]) -> Read {
        let mut b = Body::new(candidate, target);
        b.feed(body);
        b.finish()
    }
}

/// The send that `read` holds for `candidate`: `None` if the body shows it is not a send, or an
/// error for a recognised send that cannot be read.
pub fn send_of(
    candidate: Candidate,
    target: Target,
    read: Read,
) -> Result<Option<Send>, ExtractError> {
    let content_type = target.content_type;
    let path = split_path(target.path).0;
    let json = |read: Read| match read {
        Read::Json(doc) => doc,
        Read::Blank => Err("unexpected end of the document at byte 0".into()),
        _ => Err("not read as JSON".into()),
    };
    match candidate.route {
        Route::Jmap => jmap::extract(path, content_type, json(read)),
        Route::GraphSendMail
        | Route::GraphReply
        | Route::GraphForward
        | Route::GraphDraftSend
        | Route::GraphEvent { .. }
        | Route::GraphRule { .. } => {
            let read = match read {
                Read::Nothing => graph::Read::Nothing,
                Read::Blank => graph::Read::Blank,
                Read::Head(ref h) => {
                    return graph::extract(
                        candidate.route,
                        path,
                        target.prefixes,
                        graph::Read::Mime(h),
                    )
                    .map(Some)
                }
                other => graph::Read::Json(json(other)),
            };
            graph::extract(candidate.route, path, target.prefixes, read).map(Some)
        }
        Route::GraphBatch => graph::extract_batch(path, target.prefixes, json(read)),
        Route::GmailJson { drafts } => gmail::extract_json(drafts, path, read).map(Some),
        Route::GmailUpload { drafts } => gmail::extract_upload(drafts, path, read),
        Route::GmailBatch => gmail::extract_batch(read),
        Route::GmailForwarding(setting) => gmail::extract_setting(setting, read).map(Some),
        Route::Roundcube { framed, bounce } => roundcube::extract(fields(read), framed, bounce),
        Route::Snappymail => snappymail::extract(match read {
            Read::Fields(f) => snappymail::Body::Form(f),
            other => snappymail::Body::Json(json(other)),
        }),
        Route::NextcloudOutbox => nextcloud::extract(json(read)).map(Some),
        Route::NextcloudById => nextcloud::extract_by_id(path).map(Some),
        Route::Sogo => sogo::extract(json(read)).map(Some),
        Route::Check | Route::Verdict => match read {
            Read::Whole(b) => check::extract(&b).map(Some),
            _ => check::extract(b"").map(Some),
        },
    }
}

fn fields(read: Read) -> Result<Vec<(String, String)>, String> {
    match read {
        Read::Fields(f) => f,
        _ => Err("not read as a form".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{tests::routes, Routes};
    use base64::Engine as _;
    use mistype_testdata::sends::{self, HttpRequest};

    const FROM: &str = "a.b@army.mil";
    const TO: &[&str] = &["c@navy.ml", "Lt Ray <ray@base.example.mil>"];
    const CC: &[&str] = &["x@gmial.com"];

    /// Every kind of send the filter reads, as the fixtures (and their variants) write them.
    fn requests() -> Vec<HttpRequest> {
        let mime = sends::mime_message(FROM, TO, CC);
        let graph_mime = HttpRequest {
            content_type: Some("text/plain".into()),
            body: base64::engine::general_purpose::STANDARD
                .encode(&mime)
                .into_bytes(),
            ..sends::graph_send_mail(FROM, TO, CC)
        };
        let rainloop = HttpRequest {
            path: "/?/Ajax/&q[]=/0/".into(),
            content_type: Some("application/x-www-form-urlencoded".into()),
            body: b"Action=SendMessage&To=c%40navy.ml&Cc=x%40gmial.com&Text=hi".to_vec(),
            ..sends::snappymail("", "")
        };
        let mut all: Vec<HttpRequest> = crate::send::Api::ALL
            .iter()
            .map(|api| sends::for_api(api.name(), FROM, TO, CC))
            .collect();
        all.extend([
            sends::jmap_envelope(FROM, TO),
            sends::jmap_submit_stored("M123"),
            sends::graph_reply(TO),
            sends::graph_forward(TO),
            sends::graph_batch(&[TO, CC]),
            sends::graph_draft_send("AAMk1"),
            graph_mime,
            sends::gmail_draft_send_raw(&mime),
            sends::gmail_draft_send_by_id("r-7"),
            sends::gmail_upload_media(&mime),
            sends::gmail_upload_multipart(&mime),
            sends::roundcube_form("c@navy.ml", "", "x@gmial.com", false),
            sends::roundcube_form("c@navy.ml", "", "", true),
            sends::roundcube_multipart("c@navy.ml", "x@gmial.com", false),
            rainloop,
            sends::nextcloud_outbox_send("17"),
        ]);
        all
    }

    fn target<'a>(r: &'a Routes, req: &'a HttpRequest, c: Candidate) -> Target<'a> {
        Target {
            path: &req.path,
            content_type: req.content_type.as_deref(),
            prefixes: r.prefixes(c.api),
        }
    }

    /// Reads `req`'s body in pieces ending at `cuts`, as the filter does (stopping at
    /// [`Progress::Enough`]); also returns how many bytes were read.
    fn in_pieces(req: &HttpRequest, cuts: &[usize]) -> (Result<Option<Send>, ExtractError>, usize) {
        let r = routes();
        let ct = req.content_type.as_deref();
        let c = r
            .classify(req.method, &req.path, ct)
            .unwrap_or_else(|| panic!("{} {} not recognised", req.method, req.path));
        let mut b = Body::new(c, target(&r, req, c));
        let mut at = 0;
        for &cut in cuts.iter().chain([&req.body.len()]) {
            let cut = cut.clamp(at, req.body.len());
            if b.feed(&req.body[at..cut]) == Progress::Enough {
                at = cut;
                break;
            }
            at = cut;
        }
        (send_of(c, target(&r, req, c), b.finish()), at)
    }

    fn whole(req: &HttpRequest) -> Result<Option<Send>, ExtractError> {
        in_pieces(req, &[]).0
    }

    #[test]
    fn every_send_reads_the_same_in_any_pieces() {
        for req in requests() {
            let want = whole(&req);
            assert!(want.is_ok(), "{}: {want:?}", req.path);
            for cut in 0..=req.body.len() {
                assert_eq!(
                    in_pieces(&req, &[cut]).0,
                    want,
                    "{} split at {cut}",
                    req.path
                );
            }
            let bytes: Vec<usize> = (1..req.body.len()).collect();
            assert_eq!(in_pieces(&req, &bytes).0, want, "{} byte by byte", req.path);
        }
    }

    #[test]
    fn the_fixtures_name_their_recipients() {
        for req in requests() {
            let Ok(Some(s)) = whole(&req) else {
                continue;
            };
            if s.references.is_empty() {
                assert!(
                    s.recipients().any(|r| r.contains("c@navy.ml")),
                    "{}: {s:?}",
                    req.path
                );
            }
        }
    }

    /// A body whose recipients come after a large member (an attachment, a message text).
    fn late_recipients(filler: &str) -> Vec<HttpRequest> {
        let json = |path: &str, body: String| HttpRequest {
            path: path.into(),
            body: body.into_bytes(),
            ..sends::sogo(FROM, &[], &[])
        };
        vec![
            json(
                "/v1.0/me/sendMail",
                format!(
                    r#"{{"message": {{"subject": "s", "attachments": [{{"name": "a.pdf", "contentBytes": "{filler}"}}], "toRecipients": [{{"emailAddress": {{"address": "c@navy.ml"}}}}]}}}}"#
                ),
            ),
            json(
                "/v1.0/$batch",
                format!(
                    r#"{{"requests": [{{"id": "1", "method": "POST", "url": "/me/sendMail", "body": {{"message": {{"body": {{"content": "{filler}"}}}}}}}}, {{"id": "2", "method": "POST", "url": "/me/sendMail", "body": {{"message": {{"toRecipients": [{{"emailAddress": {{"address": "c@navy.ml"}}}}]}}}}}}]}}"#
                ),
            ),
            json(
                "/jmap/api",
                format!(
                    r##"{{"methodCalls": [["Email/set", {{"accountId": "A", "create": {{"k": {{"bodyValues": {{"1": {{"value": "{filler}"}}}}, "to": [{{"email": "c@navy.ml"}}]}}}}}}, "0"], ["EmailSubmission/set", {{"accountId": "A", "create": {{"s": {{"emailId": "#k"}}}}}}, "1"]]}}"##
                ),
            ),
            json(
                "/index.php/apps/mail/api/outbox",
                format!(
                    r#"{{"attachments": [{{"data": "{filler}"}}], "to": [{{"label": "C", "email": "c@navy.ml"}}]}}"#
                ),
            ),
            json(
                "/SOGo/so/u/Mail/0/drafts/d1/send",
                format!(r#"{{"text": "{filler}", "to": ["c@navy.ml"]}}"#),
            ),
            json(
                "/?/Json/&q[]=/0/",
                format!(r#"{{"Action": "SendMessage", "plain": "{filler}", "to": "c@navy.ml"}}"#),
            ),
            HttpRequest {
                body: format!("_id=1&_message={filler}&_to=c%40navy.ml").into_bytes(),
                ..sends::roundcube_form("", "", "", false)
            },
        ]
    }

    #[test]
    fn recipients_after_a_large_member_are_read_to_the_end() {
        let filler = "QUJD".repeat(256 * 1024); // 1 MiB
        for req in late_recipients(&filler) {
            let cuts: Vec<usize> = (1..req.body.len() / 16_384 + 1)
                .map(|i| i * 16_384)
                .collect();
            let (send, read) = in_pieces(&req, &cuts);
            assert_eq!(read, req.body.len(), "{}: read to the end", req.path);
            let send = send
                .unwrap_or_else(|e| panic!("{}: {e}", req.path))
                .expect("a send");
            assert!(
                send.recipients().any(|r| r.contains("c@navy.ml")),
                "{}: {send:?}",
                req.path
            );
        }
    }

    #[test]
    fn a_body_cut_before_its_recipients_is_never_a_send_without_them() {
        // The stream ends inside the large member: a JSON body is then malformed (refused in
        // block mode), never a send with no recipients.
        let filler = "QUJD".repeat(4096);
        let json: Vec<HttpRequest> = late_recipients(&filler)
            .into_iter()
            .filter(|r| r.content_type.as_deref() == Some("application/json"))
            .collect();
        assert_eq!(json.len(), 6);
        for req in json {
            let cut = req.body.len() / 2;
            let short = HttpRequest {
                body: req.body[..cut].to_vec(),
                ..req.clone()
            };
            assert!(whole(&short).is_err(), "{}: {:?}", req.path, whole(&short));
        }
    }

    #[test]
    fn what_follows_a_decided_head_or_a_refused_byte_does_not_matter() {
        // Whatever follows a message's head in a Gmail send is not read, whether the body comes
        // whole or in pieces: a malformed tail neither refuses the send nor changes its verdict.
        let mime = sends::mime_message(FROM, TO, CC);
        let raw = sends::b64url(mime.as_bytes());
        let tail = HttpRequest {
            body: format!(r#"{{"raw": "{raw}", "threadId": }}}} not JSON"#).into_bytes(),
            ..sends::gmail_raw("")
        };
        assert_eq!(whole(&tail).unwrap().unwrap().cc, vec!["x@gmial.com"]);
        // A form feed is white space to Rust, not to JSON or base64: a body that starts with
        // one is malformed, not "without a body", wherever it is cut.
        let feed = |body: &[u8]| HttpRequest {
            body: body.to_vec(),
            ..sends::graph_send_mail(FROM, TO, CC)
        };
        let graph_mime = HttpRequest {
            content_type: Some("text/plain".into()),
            ..feed(b"\x0cVG86IGNAbmF2eS5tbA0KDQo=")
        };
        for req in [tail, feed(b"\x0c{}"), graph_mime] {
            let want = whole(&req);
            for cut in 0..=req.body.len() {
                assert_eq!(
                    in_pieces(&req, &[cut]).0,
                    want,
                    "{} split at {cut}",
                    req.path
                );
            }
        }
        let err = whole(&feed(b"\x0c{}")).unwrap_err();
        assert!(err.message.contains("0x0c"), "{err:?}");
    }

    #[test]
    fn a_message_is_decided_at_its_head() {
        let attachment = "QUJD".repeat(64 * 1024);
        let mime = format!("{}{attachment}", sends::mime_message(FROM, TO, CC));
        let head = mime.find("\r\n\r\n").unwrap_or(0) + 4;
        for req in [
            sends::gmail_upload_media(&mime),
            sends::gmail_raw(&mime),
            sends::gmail_draft_send_raw(&mime),
            sends::gmail_upload_multipart(&mime),
        ] {
            let cuts: Vec<usize> = (1..=req.body.len() / 1024).map(|i| i * 1024).collect();
            let (send, read) = in_pieces(&req, &cuts);
            assert!(
                read < 2 * head + 2048,
                "{}: read {read} of {}",
                req.path,
                req.body.len()
            );
            assert_eq!(send, whole(&req), "{}", req.path);
            let send = send.unwrap().unwrap();
            assert_eq!(send.cc, vec!["x@gmial.com"], "{}", req.path);
        }
        // The order of a JSON send's members does not matter: raw after a large one.
        let raw = sends::b64url(mime.as_bytes());
        let req = HttpRequest {
            body: format!(r#"{{"labelIds": ["{attachment}"], "raw": "{raw}"}}"#).into_bytes(),
            ..sends::gmail_raw("")
        };
        assert_eq!(whole(&req).unwrap().unwrap().cc, vec!["x@gmial.com"]);
    }
}
