//! A document whose first piece holds all of it (a send's request, as a rule: a few kilobytes
//! that arrive in one body callback), read by recursive descent over the piece.
//!
//! It builds what the streaming reader (`Reader::feed`) builds, node for node, but without
//! the reader's state between bytes: no dispatch per token, no frames, keys and kept strings
//! taken from the piece as they stand. It reads only the plain case and declines everything
//! else, leaving it to the streaming reader, which then reads the piece from its start as if
//! this had not run: a piece that ends before its document does, a syntax error (the streaming
//! reader names it), a document whose root is a number (complete only at the end of the body),
//! an escape in a key or in a kept string, a key too long to be selected, nesting at the limit,
//! and a message head to read ([`Select::Head`]). It is given a first piece that is valid UTF-8
//! throughout and small enough that what it keeps stays below the reader's limit.

use crate::extract::json_lex::{is_space, run_until};
use crate::extract::json_path::{
    chosen, Fate, Kind, Mode, Seg, Select, Selector, MAX_DEPTH, MAX_KEY,
};
use crate::extract::tree::{Leaf, Tree};

/// Reads the whole document `text` (a reader's first piece, all of it valid UTF-8) into `tree`
/// as `select` chooses, with `path` (empty) for the values' paths and `spare` for its keys'
/// strings. The tree's text is the piece, copied once: its nodes' keys and strings are spans of
/// it. False: declined, the tree emptied and the path empty again.
pub(super) fn read(
    text: &str,
    select: Selector,
    tree: &mut Tree,
    path: &mut Vec<Seg>,
    spare: &mut Vec<String>,
) -> bool {
    let base = tree.add_source(text);
    let mut p = Parser {
        select,
        base,
        tree,
        path,
        spare,
        s: text.as_bytes(),
        text,
        i: 0,
        depth: 0,
    };
    let read = p.document().is_some();
    if !read {
        p.tree.clear();
    }
    read
}

/// Why reading stopped short: the streaming reader reads the piece instead.
struct Declined;

type Step = Result<(), Declined>;

/// A span of the piece: its first byte and the byte after its last.
type Span = (usize, usize);

struct Parser<'r, 't> {
    select: Selector,
    /// Where the piece starts in the tree's text.
    base: usize,
    tree: &'r mut Tree,
    path: &'r mut Vec<Seg>,
    spare: &'r mut Vec<String>,
    s: &'t [u8],
    text: &'t str,
    i: usize,
    /// The containers open around the current value.
    depth: usize,
}

impl<'t> Parser<'_, 't> {
    fn document(&mut self) -> Option<()> {
        self.space();
        if matches!(self.peek()?, b'-' | b'0'..=b'9') {
            // (Complete only once the body ends.)
            return None;
        }
        self.value(Mode::Select, None).ok()?;
        self.space();
        (self.i == self.s.len()).then_some(())
    }

    /// The piece's bytes `span`.
    fn text_at(&self, (start, end): Span) -> Result<&'t str, Declined> {
        self.text.get(start..end).ok_or(Declined)
    }

    /// `span` of the piece as a span of the tree's text.
    fn in_tree(&self, (start, end): Span) -> Span {
        (self.base + start, self.base + end)
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn space(&mut self) {
        // (`json_lex::skip_space` over `self.s` from `self.i` is the same loop; called here, even
        // inlined, it ran 570 more instructions on the load test's send.)
        while self.s.get(self.i).is_some_and(|&b| is_space(b)) {
            self.i += 1;
        }
    }

    /// The container's closing bracket `close` right after its opening one (and white space),
    /// consumed.
    fn closes(&mut self, close: u8) -> bool {
        self.space();
        let closes = self.peek() == Some(close);
        if closes {
            self.i += 1;
        }
        closes
    }

    /// After a member or an element: true at a comma (another follows), false at the closing
    /// bracket `close`; either consumed.
    fn another(&mut self, close: u8) -> Result<bool, Declined> {
        self.space();
        let b = self
            .peek()
            .filter(|&b| b == b',' || b == close)
            .ok_or(Declined)?;
        self.i += 1;
        Ok(b == b',')
    }

    /// Consumes `b`, after white space.
    fn consume(&mut self, b: u8) -> Step {
        self.space();
        if self.peek() != Some(b) {
            return Err(Declined);
        }
        self.i += 1;
        Ok(())
    }

    /// The value at `i` (after white space), a member of a container whose members are read in
    /// `parent` mode, with its key (`None`: an array's element, or the root). In `Select` mode
    /// the value's path is in the reader's path already.
    fn value(&mut self, parent: Mode, key: Option<Span>) -> Step {
        self.space();
        let b = self.peek().ok_or(Declined)?;
        let leaf = match b {
            b'{' => Leaf::Object,
            b'[' => Leaf::Array,
            b'"' => Leaf::String,
            b't' => Leaf::True,
            b'f' => Leaf::False,
            b'n' => Leaf::Null,
            b'-' | b'0'..=b'9' => Leaf::Number,
            _ => return Err(Declined),
        };
        let kind = match leaf {
            Leaf::Object => Kind::Object,
            Leaf::Array => Kind::Array,
            Leaf::String => Kind::String,
            _ => Kind::Other,
        };
        // As the streaming reader's `start_value` decides.
        let (fate, mode) = match parent {
            Mode::Skip => (Fate::Drop, Mode::Skip),
            Mode::All => (Fate::Keep, Mode::All),
            Mode::Select => match chosen((self.select)(self.path, kind), kind) {
                (_, _, Select::Head(_)) => return Err(Declined),
                (fate, mode, _) => (fate, mode),
            },
        };
        let key = key.map(|k| self.in_tree(k));
        let node = (fate != Fate::Drop).then(|| self.tree.push_spanned(leaf, key));
        match leaf {
            Leaf::Object | Leaf::Array => {
                if self.depth >= MAX_DEPTH {
                    return Err(Declined);
                }
                self.depth += 1;
                self.i += 1;
                if leaf == Leaf::Object {
                    self.members(mode)?;
                } else {
                    self.elements(mode)?;
                }
                self.depth -= 1;
                if let Some(n) = node {
                    self.tree.close(n);
                }
            }
            Leaf::String => {
                self.i += 1;
                let s = self.string(fate == Fate::Keep)?;
                if let (Some(n), Fate::Keep) = (node, fate) {
                    let s = self.in_tree(s);
                    self.tree.set_span(n, s);
                }
            }
            Leaf::Number => {
                let digits = self.number()?;
                if let (Some(n), Fate::Keep) = (node, fate) {
                    if self.text_at(digits)?.parse::<serde_json::Number>().is_err() {
                        return Err(Declined);
                    }
                    let digits = self.in_tree(digits);
                    self.tree.set_span(n, digits);
                }
            }
            Leaf::True | Leaf::False | Leaf::Null => {
                let word: &[u8] = match leaf {
                    Leaf::True => b"true",
                    Leaf::False => b"false",
                    _ => b"null",
                };
                if !self.s[self.i..].starts_with(word) {
                    return Err(Declined);
                }
                self.i += word.len();
            }
        }
        Ok(())
    }

    /// An object's members, after its `{`, to its `}`.
    fn members(&mut self, mode: Mode) -> Step {
        if self.closes(b'}') {
            return Ok(());
        }
        loop {
            self.consume(b'"')?;
            // (A key read in a skipped object is only scanned, as by the streaming reader.)
            let key = self.string(mode != Mode::Skip)?;
            self.consume(b':')?;
            if mode == Mode::Select {
                if key.1 - key.0 > MAX_KEY {
                    return Err(Declined);
                }
                let mut k = self.spare.pop().unwrap_or_default();
                k.clear();
                k.push_str(self.text_at(key)?);
                self.path.push(Seg::Key(k));
                let read = self.value(mode, Some(key));
                if let Some(Seg::Key(k)) = self.path.pop() {
                    self.spare.push(k);
                }
                read?;
            } else {
                self.value(mode, Some(key))?;
            }
            if !self.another(b'}')? {
                return Ok(());
            }
        }
    }

    /// An array's elements, after its `[`, to its `]`.
    fn elements(&mut self, mode: Mode) -> Step {
        if self.closes(b']') {
            return Ok(());
        }
        let mut index = 0;
        loop {
            if mode == Mode::Select {
                self.path.push(Seg::Index(index));
                let read = self.value(mode, None);
                self.path.pop();
                read?;
            } else {
                self.value(mode, None)?;
            }
            index += 1;
            if !self.another(b']')? {
                return Ok(());
            }
        }
    }

    /// A string, after its opening quote, to its closing one: the span of its text as it stands
    /// (between the quotes). `plain`: a key or a kept string, which the streaming reader
    /// decodes: one with an escape or a control character is declined. Otherwise the string is
    /// only scanned, its escapes checked.
    fn string(&mut self, plain: bool) -> Result<Span, Declined> {
        let start = self.i;
        loop {
            // (As the streaming reader scans: a string it only scans may hold control
            // characters; one it decodes may not.)
            let run = run_until(&self.s[self.i..], plain);
            self.i += run;
            match self.peek() {
                Some(b'"') => {
                    let s = (start, self.i);
                    self.i += 1;
                    return Ok(s);
                }
                Some(b'\\') if !plain => self.escape()?,
                _ => return Err(Declined),
            }
        }
    }

    /// An escape in a string that is only scanned, at its backslash.
    fn escape(&mut self) -> Step {
        let e = self.s.get(self.i + 1).copied().ok_or(Declined)?;
        match e {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 2,
            b'u' => {
                let hex = self.s.get(self.i + 2..self.i + 6).ok_or(Declined)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return Err(Declined);
                }
                // A leading surrogate (the first half of a pair): the streaming reader refuses
                // one that ends its string, even in a string it only scans.
                if matches!(hex[0], b'd' | b'D')
                    && matches!(hex[1], b'8' | b'9' | b'a'..=b'b' | b'A'..=b'B')
                {
                    return Err(Declined);
                }
                self.i += 6;
            }
            _ => return Err(Declined),
        }
        Ok(())
    }

    /// A number (RFC 8259's grammar), its span.
    fn number(&mut self) -> Result<Span, Declined> {
        let start = self.i;
        let digits = |p: &mut Self| {
            let from = p.i;
            while p.peek().is_some_and(|b| b.is_ascii_digit()) {
                p.i += 1;
            }
            p.i > from
        };
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(Declined),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !digits(self) {
                return Err(Declined);
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !digits(self) {
                return Err(Declined);
            }
        }
        Ok((start, self.i))
    }
}
