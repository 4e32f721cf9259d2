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

/// One request: the attributes in the order they came, held as one text with the positions of
/// each name and value (two allocations a request, not two an attribute).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    text: String,
    /// (start of the name, the `=`, the end of the value) in `text`.
    attrs: Vec<(u32, u32, u32)>,
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
    }

    /// The value of attribute `name` (the last one when repeated); `None` when absent.
    pub fn get(&self, name: &str) -> Option<&str> {
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
    pub fn feed(&mut self, mut data: &[u8], out: &mut Vec<Event>) {
        while !data.is_empty() {
            let nl = data.iter().position(|&b| b == b'\n');
            let (chunk, rest, ended) = match nl {
                Some(i) => (&data[..i], &data[i + 1..], true),
                None => (data, &data[data.len()..], false),
            };
            data = rest;
            if !self.skipping {
                if self.line.len() + chunk.len() > MAX_LINE + 1 {
                    // +1: room for the '\r' of a CRLF line.
                    self.line.clear();
                    self.skipping = true;
                    self.fail(Problem::LineTooLong);
                } else {
                    self.line.extend_from_slice(chunk);
                }
            }
            if ended {
                if self.skipping {
                    self.skipping = false;
                } else {
                    self.end_line(out);
                }
            }
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

    fn end_line(&mut self, out: &mut Vec<Event>) {
        // The line buffer goes back for the next line (no allocation a line).
        let mut line = std::mem::take(&mut self.line);
        self.read_line(&mut line, out);
        line.clear();
        self.line = line;
    }

    fn read_line(&mut self, line: &mut Vec<u8>, out: &mut Vec<Event>) {
        if line.last() == Some(&b'\r') {
            line.pop();
        }
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
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            let shown = clip(&String::from_utf8_lossy(line), 64);
            self.fail(Problem::NoEquals(shown));
            return;
        };
        let (name, value) = (&line[..eq], &line[eq + 1..]);
        let (Ok(name), Ok(value)) = (std::str::from_utf8(name), std::str::from_utf8(value)) else {
            let shown = clip(&String::from_utf8_lossy(name), 64);
            self.fail(Problem::NotUtf8(shown));
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
    s.push_str("action=");
    s.extend(action.chars().map(|c| if c.is_control() { ' ' } else { c }));
    s.push_str("\n\n");
    s
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
