//! Postfix's policy delegation protocol (`SMTPD_POLICY_README`), bytes in and out, no I/O.
//!
//! Postfix writes `name=value` lines and an empty line; the service answers `action=...` and an
//! empty line, on a connection that stays open for the next request. [`Reader`] cuts a byte
//! stream into requests; whatever it cannot read becomes a [`Problem`] that still ends with the
//! request's empty line, so that the service answers every request Postfix sent (`DUNNO` for a
//! bad one) and the conversation stays in step.

/// Longest attribute line read (bytes, without the newline). Postfix's own attributes are far
/// shorter; a longer line makes the request bad and the rest of the line is skipped.
pub const MAX_LINE: usize = 4096;
/// Most attributes in one request (Postfix 3.7 sends about 30).
pub const MAX_ATTRS: usize = 128;

/// The attributes the service reads, found without a search: the service asks for each of them
/// for every request.
const KNOWN: [&str; 8] = [
    "request",
    "protocol_state",
    "recipient",
    "sender",
    "sasl_username",
    "client_address",
    "instance",
    "queue_id",
];

fn known(name: &str) -> Option<usize> {
    KNOWN.iter().position(|k| *k == name)
}

/// One request: the attributes in the order they came, held as one text with the positions of
/// each name and value (no allocation an attribute; the reader reuses the buffers from one
/// request to the next).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    text: String,
    /// (start of the name, the `=`, the end of the value) in `text`.
    attrs: Vec<(u32, u32, u32)>,
    /// For each of [`KNOWN`], 1 + its position in `attrs` (the last when repeated); 0: absent.
    known: [u8; KNOWN.len()],
}

impl Request {
    /// A request from `(name, value)` pairs (tests, benchmarks, the fuzz target).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Request {
        let mut r = Request::default();
        for (n, v) in pairs {
            r.push(n, v);
        }
        r
    }

    fn push(&mut self, name: &str, value: &str) {
        let start = self.text.len() as u32;
        self.text.push_str(name);
        let eq = self.text.len() as u32;
        self.text.push_str(value);
        self.attrs.push((start, eq, self.text.len() as u32));
        if let Some(k) = known(name) {
            // MAX_ATTRS (128) attributes at most: the position fits.
            self.known[k] = self.attrs.len() as u8;
        }
    }

    fn clear(&mut self) {
        self.text.clear();
        self.attrs.clear();
        self.known = [0; KNOWN.len()];
    }

    fn value(&self, at: usize) -> Option<&str> {
        let &(_, eq, e) = self.attrs.get(at)?;
        self.text.get(eq as usize..e as usize)
    }

    /// The value of attribute `name` (the last one when repeated); `None` when absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        if let Some(k) = known(name) {
            return match self.known[k] {
                0 => None,
                n => self.value(n as usize - 1),
            };
        }
        self.attrs.iter().rev().find_map(|&(s, eq, e)| {
            (self.text.get(s as usize..eq as usize) == Some(name))
                .then(|| self.text.get(eq as usize..e as usize))
                .flatten()
        })
    }

    /// The value of `name`, `None` when absent or empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// How many attributes there are.
    pub fn len(&self) -> usize {
        self.attrs.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.attrs.is_empty()
    }
}

/// Why a request could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A line without `=`; the line, cut to 64 characters.
    NoEquals(String),
    /// A line longer than [`MAX_LINE`].
    LineTooLong,
    /// More than [`MAX_ATTRS`] attributes.
    TooManyAttributes,
    /// A line that is not UTF-8; the attribute's name when it could be read.
    NotUtf8(String),
    /// An empty line with no attributes before it.
    Empty,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::NoEquals(l) => write!(f, "a line without '=': {l:?}"),
            Problem::LineTooLong => write!(f, "a line longer than {MAX_LINE} bytes"),
            Problem::TooManyAttributes => write!(f, "more than {MAX_ATTRS} attributes"),
            Problem::NotUtf8(name) => write!(f, "attribute {name:?} is not UTF-8"),
            Problem::Empty => write!(f, "an empty request (no attributes)"),
        }
    }
}

/// What the reader found: a request to judge, or one that could not be read (answer `DUNNO`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A complete request.
    Request(Request),
    /// A request that ended (empty line) but could not be read; what was read of it.
    Bad(Problem, Request),
}

/// Cuts a byte stream into requests. Feed it what the socket gave; it keeps at most one
/// partial line of [`MAX_LINE`] bytes, whatever the input.
#[derive(Debug, Default)]
pub struct Reader {
    line: Vec<u8>,
    /// The rest of an over-long line is being skipped.
    skipping: bool,
    current: Request,
    problem: Option<Problem>,
}

/// `s` cut to `n` characters, for log lines.
pub fn clip(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

impl Reader {
    /// A reader at the start of a conversation.
    pub fn new() -> Reader {
        Reader::default()
    }

    /// Read `data`; every request it completes goes to `out`, in order.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<Event>) {
        // What a socket gives is checked as text once; only a read that is not (bytes that are
        // not UTF-8, or a character cut between two reads) is checked line by line.
        let text = std::str::from_utf8(data).ok();
        let mut start = 0;
        while start < data.len() {
            let nl = memchr::memchr(b'\n', &data[start..]).map(|i| start + i);
            let end = nl.unwrap_or(data.len());
            let (chunk, ended) = (&data[start..end], nl.is_some());
            let from = start;
            start = end + 1;
            if self.skipping {
                self.skipping = !ended;
                continue;
            }
            if self.line.len() + chunk.len() > MAX_LINE + 1 {
                // +1: room for the '\r' of a CRLF line.
                self.line.clear();
                self.skipping = !ended;
                self.fail(Problem::LineTooLong);
                continue;
            }
            if !ended {
                self.line.extend_from_slice(chunk);
            } else if !self.line.is_empty() {
                // The end of a line begun in an earlier read.
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(chunk);
                self.read_bytes(&line, out);
                line.clear();
                self.line = line;
            } else {
                // A whole line in what the socket gave (the usual case): read in place.
                match text.and_then(|t| t.get(from..end)) {
                    Some(line) => self.read_line(line, out),
                    None => self.read_bytes(chunk, out),
                }
            }
        }
    }

    /// Give back an answered request: its buffers hold the next one, so that a conversation
    /// allocates nothing a request once under way.
    pub fn recycle(&mut self, ev: Event) {
        let (Event::Request(mut used) | Event::Bad(_, mut used)) = ev;
        if self.current.is_empty() && self.current.text.capacity() < used.text.capacity() {
            used.clear();
            self.current = used;
        }
    }

    /// The conversation ended: a request left without its empty line, if any (for the log).
    pub fn finish(self) -> Option<Request> {
        (!self.current.is_empty() || !self.line.is_empty() || self.problem.is_some())
            .then_some(self.current)
    }

    fn fail(&mut self, p: Problem) {
        if self.problem.is_none() {
            self.problem = Some(p);
        }
    }

    /// A line that may not be UTF-8.
    fn read_bytes(&mut self, line: &[u8], out: &mut Vec<Event>) {
        match std::str::from_utf8(line) {
            Ok(l) => self.read_line(l, out),
            Err(_) if self.problem.is_some() => {} // the request is bad already
            Err(_) => {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                match memchr::memchr(b'=', line) {
                    None => {
                        let shown = clip(&String::from_utf8_lossy(line), 64);
                        self.fail(Problem::NoEquals(shown));
                    }
                    Some(eq) => {
                        let shown = clip(&String::from_utf8_lossy(&line[..eq]), 64);
                        self.fail(Problem::NotUtf8(shown));
                    }
                }
            }
        }
    }

    fn read_line(&mut self, line: &str, out: &mut Vec<Event>) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            let req = std::mem::take(&mut self.current);
            let problem = self
                .problem
                .take()
                .or_else(|| req.is_empty().then_some(Problem::Empty));
            out.push(match problem {
                None => Event::Request(req),
                Some(p) => Event::Bad(p, req),
            });
            return;
        }
        if self.problem.is_some() {
            return; // the request is bad already; read on to its end
        }
        let Some((name, value)) = line.split_once('=') else {
            self.fail(Problem::NoEquals(clip(line, 64)));
            return;
        };
        if self.current.attrs.len() == MAX_ATTRS {
            self.fail(Problem::TooManyAttributes);
            return;
        }
        self.current.push(name, value);
    }
}

/// The reply to one request: `action=ACTION`, an empty line. Line breaks and other control
/// characters in `action` become spaces, so that one reply is always one line.
pub fn reply(action: &str) -> String {
    let mut s = String::with_capacity(action.len() + 9);
    reply_into(&mut s, action);
    s
}

/// [`reply`], appended to `out` (the glue gathers the replies to one read in one buffer).
pub fn reply_into(out: &mut String, action: &str) {
    out.push_str("action=");
    if action.bytes().any(|b| b.is_ascii_control()) || !action.is_ascii() {
        out.extend(action.chars().map(|c| if c.is_control() { ' ' } else { c }));
    } else {
        out.push_str(action);
    }
    out.push_str("\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(input: &[u8]) -> Vec<Event> {
        let mut r = Reader::new();
        let mut out = Vec::new();
        r.feed(input, &mut out);
        out
    }

    #[test]
    fn a_postfix_request_is_read_whole() {
        let ev = events(
            b"request=smtpd_access_policy\nprotocol_state=RCPT\nsender=ray.k@army.mil\nrecipient=c@navy.ml\nsasl_username=\n\n",
        );
        assert_eq!(ev.len(), 1);
        let Event::Request(r) = &ev[0] else {
            unreachable!("{ev:?}")
        };
        assert_eq!(r.get("recipient"), Some("c@navy.ml"));
        assert_eq!(r.get("sasl_username"), Some(""));
        assert_eq!(r.non_empty("sasl_username"), None);
        assert_eq!(r.get("client_address"), None);
        assert_eq!(r.len(), 5);
    }

    #[test]
    fn requests_split_anywhere_are_the_same_requests() {
        let input = b"a=1\nb=x=y\n\nc=3\r\n\r\n";
        let whole = events(input);
        for cut in 0..input.len() {
            let mut r = Reader::new();
            let mut out = Vec::new();
            r.feed(&input[..cut], &mut out);
            r.feed(&input[cut..], &mut out);
            assert_eq!(out, whole, "cut at {cut}");
        }
        assert_eq!(whole.len(), 2);
        let Event::Request(first) = &whole[0] else {
            unreachable!()
        };
        // Only the first '=' separates: values may hold '='.
        assert_eq!(first.get("b"), Some("x=y"));
        let Event::Request(second) = &whole[1] else {
            unreachable!()
        };
        assert_eq!(second.get("c"), Some("3"));
    }

    #[test]
    fn a_character_cut_between_reads_and_repeated_attributes() {
        let input =
            "sender=j\u{fc}rgen@x.de\nrecipient=first@x.de\nrecipient=l\u{e4}st@x.de\nx=1\n\n";
        let whole = events(input.as_bytes());
        let Event::Request(r) = &whole[0] else {
            unreachable!("{whole:?}")
        };
        assert_eq!(r.get("sender"), Some("j\u{fc}rgen@x.de"));
        // The last of a repeated attribute, known to the service or not.
        assert_eq!(r.get("recipient"), Some("l\u{e4}st@x.de"));
        assert_eq!(r.get("x"), Some("1"));
        for cut in 0..input.len() {
            let mut rd = Reader::new();
            let mut out = Vec::new();
            rd.feed(&input.as_bytes()[..cut], &mut out);
            rd.feed(&input.as_bytes()[cut..], &mut out);
            assert_eq!(out, whole, "cut at {cut}");
        }
    }

    #[test]
    fn a_recycled_request_leaves_nothing_behind() {
        let mut r = Reader::new();
        let mut out = Vec::new();
        r.feed(b"recipient=a@x.de\nsender=s@x.de\n\n", &mut out);
        r.recycle(out.pop().unwrap());
        r.feed(b"recipient=b@x.de\nhelo_name=h\n\n", &mut out);
        let Event::Request(q) = &out[0] else {
            unreachable!()
        };
        assert_eq!(
            (q.get("recipient"), q.get("sender"), q.len()),
            (Some("b@x.de"), None, 2)
        );
    }

    #[test]
    fn a_bad_line_spoils_its_request_only() {
        let ev = events(b"a=1\ngarbage\nb=2\n\nrecipient=x@y.z\n\n");
        assert_eq!(ev.len(), 2);
        assert!(
            matches!(&ev[0], Event::Bad(Problem::NoEquals(l), r) if l == "garbage" && r.get("a") == Some("1"))
        );
        assert!(matches!(&ev[1], Event::Request(r) if r.get("recipient") == Some("x@y.z")));
    }

    #[test]
    fn an_over_long_line_is_skipped_and_the_next_request_is_read() {
        let mut input = b"recipient=".to_vec();
        input.extend(std::iter::repeat_n(b'x', 3 * MAX_LINE));
        input.extend_from_slice(b"\nsender=a@b.c\n\nrecipient=ok@army.mil\n\n");
        let mut r = Reader::new();
        let mut out = Vec::new();
        // In small pieces, as a socket delivers it: the reader never holds the long line.
        for piece in input.chunks(1000) {
            r.feed(piece, &mut out);
            assert!(r.line.len() <= MAX_LINE + 1);
        }
        assert_eq!(out.len(), 2);
        assert!(matches!(&out[0], Event::Bad(Problem::LineTooLong, _)));
        assert!(matches!(&out[1], Event::Request(q) if q.get("recipient") == Some("ok@army.mil")));
    }

    #[test]
    fn binary_empty_and_crowded_requests_are_bad() {
        let ev = events(b"recipient=\xff\xfe@x\n\n\n");
        assert!(matches!(&ev[0], Event::Bad(Problem::NotUtf8(n), _) if n == "recipient"));
        assert!(matches!(&ev[1], Event::Bad(Problem::Empty, _)));
        let mut many = Vec::new();
        for i in 0..=MAX_ATTRS {
            many.extend_from_slice(format!("x{i}=1\n").as_bytes());
        }
        many.push(b'\n');
        assert!(matches!(
            &events(&many)[0],
            Event::Bad(Problem::TooManyAttributes, _)
        ));
    }

    #[test]
    fn an_unfinished_request_is_reported_at_the_end() {
        let mut r = Reader::new();
        let mut out = Vec::new();
        r.feed(b"request=smtpd_access_policy\nrecipient=c@na", &mut out);
        assert!(out.is_empty());
        let left = r.finish();
        assert_eq!(
            left.and_then(|q| q.get("request").map(String::from)),
            Some("smtpd_access_policy".to_string())
        );
        assert_eq!(Reader::new().finish(), None);
    }

    #[test]
    fn a_reply_is_one_line_and_an_empty_line() {
        assert_eq!(reply("DUNNO"), "action=DUNNO\n\n");
        assert_eq!(reply("550 a\nb\r"), "action=550 a b \n\n");
    }
}
