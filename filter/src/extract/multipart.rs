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

/// The HTTP request a part holds (`application/http`: one call of a batch), as its request line
/// and headers say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The method, as written.
    pub method: String,
    /// The request target, as written: a path (perhaps with a query) or an absolute URL.
    pub target: String,
    /// Its `content-type`'s media type, lower case, without parameters.
    pub media_type: Option<String>,
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
    /// It is an HTTP request (`application/http`): read its request line and headers, and its
    /// body as this chooses (a JSON document, a message's head, or nothing).
    Http(fn(&Request) -> Sink),
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
    /// The HTTP request it holds ([`Sink::Http`]); `content` is then what was read of that
    /// request's body.
    pub request: Option<Request>,
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
    /// The request line and headers of the HTTP request the part holds, while they are read.
    Request {
        head: Vec<u8>,
        choose: fn(&Request) -> Sink,
    },
    Skip,
}

#[derive(Debug)]
struct Current {
    /// The part's headers while they are read; `None` once the body has started.
    headers: Option<Vec<u8>>,
    info: PartInfo,
    /// The HTTP request the part holds, once its head is read (boxed: most parts hold none).
    request: Option<Box<Request>>,
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
                String::from_utf8_lossy(self.needle.get(2..).unwrap_or_default())
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
            request: None,
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
            let Some(taken) = read_head(headers, data) else {
                if headers.len() > KEPT_LIMIT {
                    self.error = Some(format!(
                        "a multipart part's headers are longer than {KEPT_LIMIT} bytes"
                    ));
                }
                self.current = Some(cur);
                return;
            };
            data = &data[taken..];
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
        if let Body::Request { head, choose } = &mut cur.body {
            let Some(taken) = read_head(head, data) else {
                if head.len() > KEPT_LIMIT {
                    self.error = Some(format!(
                        "a batched request's head is longer than {KEPT_LIMIT} bytes"
                    ));
                }
                self.current = Some(cur);
                return;
            };
            data = &data[taken..];
            match begin_request(head, *choose) {
                Ok((request, body)) => {
                    cur.request = Some(Box::new(request));
                    cur.body = body;
                }
                Err(e) => {
                    self.error = Some(e);
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
                Body::Request { .. } | Body::Skip => {}
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
            Sink::Http(choose) if identity => Body::Request {
                head: Vec::new(),
                choose,
            },
            Sink::Http(_) => {
                return Err(format!(
                    "a batched request in the transfer encoding {cte:?}, not as it was written"
                ))
            }
        };
        Ok((info, body))
    }

    fn end_part(&mut self) {
        let Some(cur) = self.current.take() else {
            return;
        };
        let (info, body) = match cur.headers {
            // A part that ended inside its headers: they are all it has.
            Some(headers) => match self.begin_body(&headers) {
                Ok(read) => read,
                Err(e) => {
                    self.error = Some(e);
                    return;
                }
            },
            None => (cur.info, cur.body),
        };
        if let Body::Request { .. } = body {
            // (A call cut short is not read as no call.)
            self.error = Some("a batched request ends inside its request line or headers".into());
            return;
        }
        self.parts.push(Part {
            info,
            request: cur.request.map(|r| *r),
            content: finish_body(body),
        });
    }
}

/// Adds `data` to a head being read (header lines up to their blank line): how much of `data` it
/// took once the blank line is in (`head` then ends with it), `None` while it goes on.
fn read_head(head: &mut Vec<u8>, data: &[u8]) -> Option<usize> {
    let from = head.len().saturating_sub(3);
    head.extend_from_slice(data);
    let end = blank_line_end(head, from)?;
    let taken = data.len() - (head.len() - end);
    head.truncate(end);
    Some(taken)
}

/// The head of the HTTP request a part holds is read (`head`, up to its blank line): the
/// request, and what becomes of its body as `choose` says. A compressed body is not read.
fn begin_request(head: &[u8], choose: fn(&Request) -> Sink) -> Result<(Request, Body), String> {
    let line_end = memchr::memchr(b'\n', head).unwrap_or(head.len());
    let line = std::str::from_utf8(&head[..line_end])
        .map_err(|_| "a batched request's request line is not UTF-8".to_string())?
        .trim_end_matches('\r');
    let mut words = line.split(' ').filter(|w| !w.is_empty());
    let (Some(method), Some(target), Some(version), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return Err(format!(
            "a batched request's request line {line:?} is not METHOD TARGET HTTP/n"
        ));
    };
    if !version.starts_with("HTTP/") {
        return Err(format!(
            "a batched request's request line {line:?} is not METHOD TARGET HTTP/n"
        ));
    }
    let rest = head.get(line_end + 1..).unwrap_or_default();
    let (headers, _) = mailparse::parse_headers(rest)
        .map_err(|e| format!("a batched request's headers are malformed: {e}"))?;
    if let Some(coding) = headers
        .get_first_value("Content-Encoding")
        .and_then(|v| super::request::content_coding(&v))
    {
        return Err(format!(
            "a batched request's body is compressed (content-encoding {coding})"
        ));
    }
    let request = Request {
        method: method.to_owned(),
        target: target.to_owned(),
        media_type: headers.get_first_value("Content-Type").map(|v| {
            mailparse::parse_content_type(&v)
                .mimetype
                .to_ascii_lowercase()
        }),
    };
    let body = match choose(&request) {
        Sink::Skip => Body::Skip,
        Sink::Head => Body::Head(Head::new(Encoding::Identity)),
        Sink::Json(select) => Body::Json {
            decoder: None,
            reader: Box::new(JsonReader::new(select)),
            scratch: Vec::new(),
        },
        Sink::Keep | Sink::Http(_) => {
            return Err(format!(
                "a batched request to {target} is not one this filter reads"
            ))
        }
    };
    Ok((request, body))
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
                Sink::Keep | Sink::Skip | Sink::Http(_) => Content::Bytes(decoded),
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
        Body::Request { .. } | Body::Skip => Content::Skipped,
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
    fn a_batch_call_is_read_as_its_request_line_headers_and_body_split_at_every_byte() {
        // Two calls: a JSON send, its body read as JSON; a GET, skipped.
        let body = b"--b\nContent-Type: application/http\nContent-Transfer-Encoding: binary\n\n\
POST /gmail/v1/users/me/messages/send?alt=json HTTP/1.1\nContent-Type: application/json; charset=UTF-8\n\n{\"id\": \"r-1\"}\n\
--b\nContent-Type: application/http\n\nGET https://gmail.googleapis.com/gmail/v1/users/me/labels HTTP/1.1\r\n\r\n\n--b--\n";
        fn call(r: &Request) -> Sink {
            if r.method == "POST" {
                Sink::Json(crate::extract::json::keep_all)
            } else {
                Sink::Skip
            }
        }
        fn http(info: &PartInfo) -> Sink {
            if info.media_type == "application/http" {
                Sink::Http(call)
            } else {
                Sink::Skip
            }
        }
        let ct = "multipart/mixed; boundary=b";
        let read = |cuts: &[usize]| {
            let mut r = Reader::new(ct, Chooser::Parts(http));
            let mut at = 0;
            for &c in cuts.iter().chain([&body.len()]) {
                r.feed(&body[at..c]);
                at = c;
            }
            r.finish().unwrap_or_else(|e| panic!("{cuts:?}: {e}"))
        };
        let seen = |parts: &[Part]| -> Vec<String> {
            parts
                .iter()
                .map(|p| {
                    let r = p.request.as_ref().expect("a request");
                    let content = match &p.content {
                        Content::Json(Ok(d)) => format!("{:?}", d.root().get("id")),
                        Content::Skipped => "skipped".into(),
                        other => format!("{other:?}"),
                    };
                    format!("{} {} {:?} {content}", r.method, r.target, r.media_type)
                })
                .collect()
        };
        let want = seen(&read(&[]));
        assert!(want[0].starts_with(
            "POST /gmail/v1/users/me/messages/send?alt=json Some(\"application/json\") Some("
        ));
        assert!(want[0].contains("r-1"), "{want:?}");
        assert_eq!(
            want[1],
            "GET https://gmail.googleapis.com/gmail/v1/users/me/labels None skipped"
        );
        for cut in 0..=body.len() {
            assert_eq!(seen(&read(&[cut])), want, "split at {cut}");
        }
        let every: Vec<usize> = (0..body.len()).collect();
        assert_eq!(seen(&read(&every)), want);
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
