//! Multipart bodies (`multipart/form-data`, `multipart/related`) read as they stream in.
//!
//! The parts are found as `mailparse` finds them (a delimiter is `--boundary` at the start of a
//! line; the line break before it belongs to it; `--boundary--` ends the body), and each part's
//! headers decide what its body is for ([`Sink`]): a form field kept whole, a message whose head
//! is read, a JSON document read by [`super::json`], or nothing. A skipped part, an attachment, is
//! scanned for the next delimiter and not kept.

use super::decode::Base64;
use super::head::{blank_line_end, Encoding, Head};
use super::json::{Doc, Reader as JsonReader, Selector};
use super::request::KEPT_LIMIT;
use mailparse::MailHeaderMap;

/// A part as its headers describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartInfo {
    /// Media type, lower case, no parameters (`text/plain` when the part names none).
    pub media_type: String,
    /// `name` of `Content-Disposition: form-data; name=...`.
    pub name: Option<String>,
    /// The part is a file upload (`filename=`).
    pub is_file: bool,
}

/// What to do with a part's body.
#[derive(Clone, Copy, Debug)]
pub enum Sink {
    /// Keep it, decoded (a form field).
    Keep,
    /// It is a message: read its head.
    Head,
    /// It is a JSON document: read it with this selector.
    Json(Selector),
    /// Skip it.
    Skip,
}

/// An API's choice of what to do with each part.
#[derive(Clone, Copy, Debug)]
pub enum Chooser {
    /// By the part's headers.
    Parts(fn(&PartInfo) -> Sink),
    /// The form fields (not files) whose names this accepts are kept; the rest is skipped.
    Fields(fn(&str) -> bool),
}

impl Chooser {
    fn choose(&self, info: &PartInfo) -> Sink {
        match self {
            Chooser::Parts(f) => f(info),
            Chooser::Fields(f) => {
                if !info.is_file && info.name.as_deref().is_some_and(f) {
                    Sink::Keep
                } else {
                    Sink::Skip
                }
            }
        }
    }
}

/// What was read of a part.
#[derive(Debug)]
pub enum Content {
    /// The decoded body.
    Bytes(Vec<u8>),
    /// The head of the message it holds.
    Head(Head),
    /// The JSON document it holds (or its syntax error).
    Json(Result<Doc, String>),
    /// Nothing.
    Skipped,
}

/// A part read.
#[derive(Debug)]
pub struct Part {
    /// What its headers say.
    pub info: PartInfo,
    /// What was read of its body.
    pub content: Content,
}

#[derive(Debug)]
enum Body {
    /// Kept raw (with its headers, for `mailparse` to decode at the end): a field, or a message
    /// or document in a transfer encoding other than identity and base64.
    Raw {
        headers: Vec<u8>,
        body: Vec<u8>,
        then: Sink,
    },
    Head(Head),
    Json {
        decoder: Option<Base64>,
        reader: Box<JsonReader>,
        scratch: Vec<u8>,
    },
    Skip,
}

#[derive(Debug)]
struct Current {
    /// The part's headers while they are read; `None` once the body has started.
    headers: Option<Vec<u8>>,
    info: PartInfo,
    body: Body,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Before the first delimiter.
    Preamble,
    /// After a delimiter: the rest of its line.
    DelimiterLine,
    /// In a part.
    Part,
    /// After a delimiter that ends a part: `--` ends the body.
    AfterDelimiter,
    /// After the close delimiter.
    Epilogue,
}

/// A multipart body being read.
#[derive(Debug)]
pub struct Reader {
    boundary: String,
    /// `--boundary`.
    needle: Vec<u8>,
    choose: Chooser,
    state: State,
    /// Bytes not yet consumed (a possible delimiter or line break split by the chunking).
    buf: Vec<u8>,
    /// The first byte of `buf` starts a line.
    at_line_start: bool,
    current: Option<Current>,
    parts: Vec<Part>,
    seen_delimiter: bool,
    kept: usize,
    error: Option<String>,
    /// Reading stops once the first message part's head is read.
    stop_after_head: bool,
    stopped: bool,
}

/// Where the parts' delimiter is: the first `needle` at a line start in `buf`.
fn find_delimiter(buf: &[u8], at_line_start: bool, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find_iter(buf, needle).find(|&p| {
        if p == 0 {
            at_line_start
        } else {
            buf[p - 1] == b'\n'
        }
    })
}

/// How much of `buf` (in which no delimiter starts a line) can go to the part: all but a last line
/// that may still become a delimiter, with the line break before it.
fn safe_len(buf: &[u8], at_line_start: bool, needle: &[u8]) -> usize {
    let line_start = match memchr::memrchr(b'\n', buf) {
        Some(i) => Some(i + 1),
        None if at_line_start => Some(0),
        None => None,
    };
    if let Some(ls) = line_start {
        let tail = &buf[ls..];
        if tail.len() < needle.len() && needle.starts_with(tail) {
            let mut h = ls;
            if h > 0 && buf[h - 1] == b'\n' {
                h -= 1;
                if h > 0 && buf[h - 1] == b'\r' {
                    h -= 1;
                }
            }
            return h;
        }
    }
    if buf.last() == Some(&b'\r') {
        buf.len() - 1
    } else {
        buf.len()
    }
}

impl Reader {
    /// A reader of a body with this `content-type` value; `choose` says what to keep of each part.
    pub fn new(content_type: &str, choose: Chooser) -> Reader {
        let ct = mailparse::parse_content_type(content_type);
        let boundary = ct.params.get("boundary").cloned().unwrap_or_default();
        let error = if !ct.mimetype.starts_with("multipart/") {
            Some(format!("{} is not multipart", ct.mimetype))
        } else if boundary.is_empty() {
            Some("multipart content-type without a boundary".into())
        } else {
            None
        };
        Reader {
            needle: format!("--{boundary}").into_bytes(),
            boundary,
            choose,
            state: State::Preamble,
            buf: Vec::new(),
            at_line_start: true,
            current: None,
            parts: Vec::new(),
            seen_delimiter: false,
            kept: 0,
            error,
            stop_after_head: false,
            stopped: false,
        }
    }

    /// Stops reading once the first message part's head is read: nothing after it is needed,
    /// wherever the body's pieces end.
    pub fn stop_after_head(&mut self) {
        self.stop_after_head = true;
    }

    /// The error, once there is one: nothing more is read.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// True once the first part whose head is read (a message) has its whole head.
    pub fn head_done(&self) -> bool {
        let first = self
            .parts
            .iter()
            .map(|p| match &p.content {
                Content::Head(h) => Some(h.is_done()),
                _ => None,
            })
            .chain(self.current.iter().map(|c| match &c.body {
                Body::Head(h) => Some(h.is_done()),
                _ => None,
            }))
            .flatten()
            .next();
        first == Some(true)
    }

    /// Reads the next bytes of the body.
    pub fn feed(&mut self, input: &[u8]) {
        if self.error.is_some() || self.state == State::Epilogue || self.stopped {
            return;
        }
        self.buf.extend_from_slice(input);
        self.process(false);
    }

    /// The end of the body: the parts read, or what is wrong.
    pub fn finish(mut self) -> Result<Vec<Part>, String> {
        if self.error.is_none() {
            if !self.stopped {
                self.process(true);
            }
            if self.state == State::Part {
                self.end_part();
            }
        }
        if let Some(e) = self.error {
            return Err(e);
        }
        if !self.seen_delimiter {
            return Err(format!(
                "multipart body without the boundary '{}'",
                self.boundary
            ));
        }
        if self.parts.is_empty() {
            return Err("multipart body without parts".into());
        }
        Ok(self.parts)
    }

    /// Processes `buf`, keeping what is not consumed yet.
    fn process(&mut self, eof: bool) {
        let mut buf = std::mem::take(&mut self.buf);
        let consumed = self.consume(&buf, eof);
        buf.drain(..consumed.min(buf.len()));
        self.buf = buf;
    }

    /// Processes `buf`; returns how many bytes are consumed.
    fn consume(&mut self, buf: &[u8], eof: bool) -> usize {
        let mut at = 0;
        loop {
            if self.error.is_some() {
                return buf.len();
            }
            if self.stop_after_head && !self.stopped && self.head_done() {
                self.stopped = true;
            }
            if self.stopped {
                return buf.len();
            }
            let rest = &buf[at..];
            match self.state {
                State::Preamble => match find_delimiter(rest, self.at_line_start, &self.needle) {
                    Some(p) => {
                        at += p + self.needle.len();
                        self.seen_delimiter = true;
                        self.state = State::DelimiterLine;
                    }
                    None => {
                        let keep = safe_len(rest, self.at_line_start, &self.needle);
                        if keep > 0 {
                            self.at_line_start = rest[keep - 1] == b'\n';
                        }
                        return if eof { buf.len() } else { at + keep };
                    }
                },
                State::DelimiterLine => match memchr::memchr(b'\n', rest) {
                    Some(i) => {
                        at += i + 1;
                        self.at_line_start = true;
                        self.start_part();
                    }
                    // The line goes on; at the end of the body, no part follows.
                    None => return buf.len(),
                },
                State::Part => match find_delimiter(rest, self.at_line_start, &self.needle) {
                    Some(p) => {
                        let mut end = p;
                        if end > 0 && rest[end - 1] == b'\n' {
                            end -= 1;
                            if end > 0 && rest[end - 1] == b'\r' {
                                end -= 1;
                            }
                        }
                        self.part_bytes(&rest[..end]);
                        self.end_part();
                        at += p + self.needle.len();
                        self.state = State::AfterDelimiter;
                    }
                    None => {
                        let keep = if eof {
                            rest.len()
                        } else {
                            safe_len(rest, self.at_line_start, &self.needle)
                        };
                        if keep > 0 {
                            self.at_line_start = rest[keep - 1] == b'\n';
                            self.part_bytes(&rest[..keep]);
                        }
                        return at + keep;
                    }
                },
                State::AfterDelimiter => {
                    if rest.len() < 2 {
                        if eof {
                            self.state = State::Epilogue;
                            return buf.len();
                        }
                        return at;
                    }
                    if rest.starts_with(b"--") {
                        self.state = State::Epilogue;
                    } else {
                        self.state = State::DelimiterLine;
                    }
                }
                State::Epilogue => return buf.len(),
            }
        }
    }

    fn start_part(&mut self) {
        self.current = Some(Current {
            headers: Some(Vec::new()),
            info: PartInfo {
                media_type: String::new(),
                name: None,
                is_file: false,
            },
            body: Body::Skip,
        });
        self.state = State::Part;
    }

    fn keep(&mut self, n: usize) -> bool {
        self.kept += n;
        if self.kept > KEPT_LIMIT {
            self.error = Some(format!("the parts read are larger than {KEPT_LIMIT} bytes"));
            return false;
        }
        true
    }

    fn part_bytes(&mut self, mut data: &[u8]) {
        let Some(mut cur) = self.current.take() else {
            return;
        };
        if let Some(headers) = cur.headers.as_mut() {
            let from = headers.len().saturating_sub(3);
            headers.extend_from_slice(data);
            match blank_line_end(headers, from) {
                Some(end) => {
                    let body_start = data.len() - (headers.len() - end);
                    headers.truncate(end);
                    data = &data[body_start..];
                    let headers = cur.headers.take().unwrap_or_default();
                    match self.begin_body(&headers) {
                        Ok((info, body)) => {
                            cur.info = info;
                            cur.body = body;
                        }
                        Err(e) => {
                            self.error = Some(e);
                            return;
                        }
                    }
                }
                None => {
                    if headers.len() > KEPT_LIMIT {
                        self.error = Some(format!(
                            "a multipart part's headers are longer than {KEPT_LIMIT} bytes"
                        ));
                    }
                    self.current = Some(cur);
                    return;
                }
            }
        }
        if !data.is_empty() {
            match &mut cur.body {
                Body::Raw { body, .. } => {
                    body.extend_from_slice(data);
                    let n = data.len();
                    if !self.keep(n) {
                        return;
                    }
                }
                Body::Head(h) => h.feed(data),
                Body::Json {
                    decoder,
                    reader,
                    scratch,
                } => match decoder {
                    Some(d) => {
                        scratch.clear();
                        match d.feed(data, scratch) {
                            Ok(()) => reader.feed(scratch),
                            Err(e) => {
                                self.error = Some(format!("a base64 part is not base64: {e}"));
                                return;
                            }
                        }
                    }
                    None => reader.feed(data),
                },
                Body::Skip => {}
            }
        }
        self.current = Some(cur);
    }

    /// The part's headers are read: what is it, and what becomes of its body.
    fn begin_body(&mut self, headers: &[u8]) -> Result<(PartInfo, Body), String> {
        let (parsed, _) = mailparse::parse_headers(headers)
            .map_err(|e| format!("malformed multipart part: {e}"))?;
        let ctype = parsed
            .get_first_value("Content-Type")
            .map(|v| mailparse::parse_content_type(&v))
            .unwrap_or_default();
        let disposition = parsed
            .get_first_value("Content-Disposition")
            .map(|v| mailparse::parse_content_disposition(&v));
        let info = PartInfo {
            media_type: ctype.mimetype.to_ascii_lowercase(),
            name: disposition
                .as_ref()
                .and_then(|d| d.params.get("name").cloned()),
            is_file: disposition
                .as_ref()
                .is_some_and(|d| d.params.contains_key("filename")),
        };
        let cte = parsed
            .get_first_value("Content-Transfer-Encoding")
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let identity = matches!(cte.as_str(), "" | "7bit" | "8bit" | "binary");
        let base64 = cte == "base64";
        let sink = self.choose.choose(&info);
        let raw = |then| {
            Ok::<Body, String>(Body::Raw {
                headers: headers.to_vec(),
                body: Vec::new(),
                then,
            })
        };
        let body = match sink {
            Sink::Skip => Body::Skip,
            Sink::Keep => {
                if !self.keep(headers.len()) {
                    return Err(self.error.clone().unwrap_or_default());
                }
                raw(Sink::Keep)?
            }
            Sink::Head if identity => Body::Head(Head::new(Encoding::Identity)),
            Sink::Head if base64 => Body::Head(Head::new(Encoding::Base64)),
            Sink::Json(select) if identity || base64 => Body::Json {
                decoder: base64.then(Base64::new),
                reader: Box::new(JsonReader::new(select)),
                scratch: Vec::new(),
            },
            Sink::Head | Sink::Json(_) => raw(sink)?,
        };
        Ok((info, body))
    }

    fn end_part(&mut self) {
        let Some(cur) = self.current.take() else {
            return;
        };
        let info = cur.info;
        let content = match (cur.headers, cur.body) {
            // A part that ended inside its headers: they are all it has.
            (Some(headers), _) => match self.begin_body(&headers) {
                Ok((info, body)) => {
                    self.parts.push(Part {
                        info,
                        content: finish_body(body),
                    });
                    return;
                }
                Err(e) => {
                    self.error = Some(e);
                    return;
                }
            },
            (None, body) => finish_body(body),
        };
        self.parts.push(Part { info, content });
    }
}

/// The content of a part whose body has ended.
fn finish_body(body: Body) -> Content {
    match body {
        Body::Raw {
            headers,
            body,
            then,
        } => {
            let mut whole = headers;
            whole.extend_from_slice(&body);
            let decoded = mailparse::parse_mail(&whole)
                .and_then(|m| m.get_body_raw())
                .unwrap_or(body);
            match then {
                Sink::Head => {
                    let mut h = Head::new(Encoding::Identity);
                    h.feed(&decoded);
                    h.finish();
                    Content::Head(h)
                }
                Sink::Json(select) => {
                    let mut r = JsonReader::new(select);
                    r.feed(&decoded);
                    Content::Json(r.into_doc())
                }
                Sink::Keep | Sink::Skip => Content::Bytes(decoded),
            }
        }
        Body::Head(mut h) => {
            h.finish();
            Content::Head(h)
        }
        Body::Json {
            decoder,
            mut reader,
            mut scratch,
        } => {
            if let Some(mut d) = decoder {
                scratch.clear();
                if let Err(e) = d.finish(&mut scratch) {
                    return Content::Json(Err(format!("a base64 part is not base64: {e}")));
                }
                reader.feed(&scratch);
            }
            Content::Json(reader.into_doc())
        }
        Body::Skip => Content::Skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(info: &PartInfo) -> Sink {
        if info.is_file {
            Sink::Skip
        } else if info.media_type.starts_with("message/") {
            Sink::Head
        } else {
            Sink::Keep
        }
    }

    fn read(ct: &str, body: &[u8], cuts: &[usize]) -> Result<Vec<Part>, String> {
        let mut r = Reader::new(ct, Chooser::Parts(fields));
        let mut at = 0;
        for &c in cuts {
            let c = c.clamp(at, body.len());
            r.feed(&body[at..c]);
            at = c;
        }
        r.feed(&body[at..]);
        r.finish()
    }

    /// What the whole-body parse gives: (name, body) of each non-file part.
    fn whole(ct: &str, body: &[u8]) -> Vec<(Option<String>, Vec<u8>)> {
        let mut framed = format!("Content-Type: {ct}\r\n\r\n").into_bytes();
        framed.extend_from_slice(body);
        let mail = mailparse::parse_mail(&framed).unwrap();
        mail.subparts
            .iter()
            .map(|p| {
                (
                    p.get_content_disposition().params.get("name").cloned(),
                    p.get_body_raw().unwrap(),
                )
            })
            .collect()
    }

    fn bytes(parts: &[Part]) -> Vec<(Option<String>, Vec<u8>)> {
        parts
            .iter()
            .map(|p| {
                let b = match &p.content {
                    Content::Bytes(b) => b.clone(),
                    Content::Skipped => b"<skipped>".to_vec(),
                    Content::Head(h) => h
                        .addresses("m")
                        .map(|a| a.to.join(",").into_bytes())
                        .unwrap_or_default(),
                    Content::Json(_) => Vec::new(),
                };
                (p.info.name.clone(), b)
            })
            .collect()
    }

    const FORM: &[u8] = b"preamble\r\n--XX\r\nContent-Disposition: form-data; name=\"_to\"\r\n\r\nA <a@b.org>,\r\n c@d.ml\r\n\
--XX\r\nContent-Disposition: form-data; name=\"_cc\"\r\n\r\n\r\n\
--XX  \r\nContent-Disposition: form-data; name=\"_message\"\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8gLS1YWA==\r\n\
--XX\r\nContent-Disposition: form-data; name=\"q\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db\r\n\
--XX\nContent-Disposition: form-data; name=\"lf\"\n\nline --XXnot a delimiter\n--XXX\n\
--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XX--\r\nepilogue --XX\r\n";

    #[test]
    fn parts_as_mailparse_reads_them_split_at_every_byte() {
        let ct = "multipart/form-data; boundary=XX";
        let mut want = whole(ct, FORM);
        if let Some(last) = want.last_mut() {
            last.1 = b"<skipped>".to_vec();
        }
        assert_eq!(want[0].1, b"A <a@b.org>,\r\n c@d.ml");
        assert_eq!(want[2].1, b"hello --XX");
        assert_eq!(want[3].1, b"a=b");
        for cut in 0..=FORM.len() {
            let parts = read(ct, FORM, &[cut]).unwrap_or_else(|e| panic!("{cut}: {e}"));
            assert_eq!(bytes(&parts), want, "split at {cut}");
        }
        let cuts: Vec<usize> = (0..FORM.len()).collect();
        assert_eq!(bytes(&read(ct, FORM, &cuts).unwrap()), want);
    }

    #[test]
    fn a_message_part_is_read_as_far_as_its_head() {
        let body = b"--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nTo: a@navy.ml\r\n\r\nbody\r\n--b--";
        let ct = "multipart/related; boundary=b";
        let mut r = Reader::new(ct, Chooser::Parts(fields));
        // The blank line that ends the message's head, and the first byte after it: a line
        // break is held back until the next line shows it is not a delimiter's.
        let cut = body.windows(8).position(|w| w == b"\r\n\r\nbody").unwrap() + 4;
        r.feed(&body[..cut]);
        assert!(!r.head_done());
        r.feed(&body[cut..cut + 1]);
        assert!(r.head_done());
        r.feed(&body[cut + 1..]);
        let parts = r.finish().unwrap();
        assert_eq!(bytes(&parts)[1].1, b"a@navy.ml");
    }

    #[test]
    fn nothing_after_the_message_head_is_read_wherever_the_pieces_end() {
        // After the message, a part that is not base64 though it says so: an error, had it
        // been read.
        let body = b"--b\r\nContent-Type: application/json\r\n\r\n{}\r\n\
--b\r\nContent-Type: message/rfc822\r\n\r\nTo: a@navy.ml\r\n\r\nbody\r\n\
--b\r\nContent-Type: application/json\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!\r\n--b--";
        let ct = "multipart/related; boundary=b";
        let head_end = body.windows(8).position(|w| w == b"\r\n\r\nbody").unwrap() + 5;
        // Gmail's upload: the JSON parts are read, the message's head too.
        let gmail = Chooser::Parts(crate::extract::gmail::part);
        for cuts in [vec![], vec![head_end]] {
            let mut r = Reader::new(ct, gmail);
            r.stop_after_head();
            let mut at = 0;
            for c in cuts.into_iter().chain([body.len()]) {
                r.feed(&body[at..c]);
                at = c;
            }
            assert!(r.head_done());
            let parts = r.finish().unwrap();
            assert_eq!(bytes(&parts)[1].1, b"a@navy.ml");
        }
        // Read to its end, the same body is refused.
        let mut r = Reader::new(ct, gmail);
        r.feed(body);
        let err = r.finish().unwrap_err();
        assert!(err.starts_with("a base64 part is not base64"), "{err}");
    }

    #[test]
    fn errors() {
        assert_eq!(
            read("multipart/form-data", FORM, &[]).unwrap_err(),
            "multipart content-type without a boundary"
        );
        assert_eq!(
            read("text/plain", FORM, &[]).unwrap_err(),
            "text/plain is not multipart"
        );
        assert_eq!(
            read("multipart/form-data; boundary=YY", FORM, &[]).unwrap_err(),
            "multipart body without the boundary 'YY'"
        );
        assert_eq!(
            read("multipart/form-data; boundary=Q", b"no parts", &[]).unwrap_err(),
            "multipart body without the boundary 'Q'"
        );
        assert_eq!(
            read("multipart/form-data; boundary=Q", b"--Q--", &[]).unwrap_err(),
            "multipart body without parts"
        );
        // A skipped part is not kept, however large.
        let big = vec![b'x'; 3 * KEPT_LIMIT];
        let mut body =
            b"--Q\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\n".to_vec();
        body.extend_from_slice(&big);
        body.extend_from_slice(
            b"\r\n--Q\r\nContent-Disposition: form-data; name=\"_to\"\r\n\r\nx@y.org\r\n--Q--",
        );
        let mut r = Reader::new("multipart/form-data; boundary=Q", Chooser::Parts(fields));
        for piece in body.chunks(100_000) {
            r.feed(piece);
            assert!(r.buf.len() < 100_100);
        }
        assert_eq!(bytes(&r.finish().unwrap())[1].1, b"x@y.org");
    }
}
