//! A JSON body read as it streams in, keeping only what a send's decision needs.
//!
//! The reader checks the whole document's syntax (RFC 8259) as the bytes come, in pieces of any
//! size, and builds a *pruned* document ([`Tree`]): the API's [`Selector`] says, for each value by its
//! path, whether to keep it whole ([`Select::Keep`]: the recipient fields), to descend into it
//! ([`Select::Descend`]: the objects and arrays on the way to them), to read the head of the
//! message a string holds ([`Select::Head`]: Gmail's `raw`), or to skip it ([`Select::Skip`]:
//! attachments, bodies, everything else). A skipped value leaves a placeholder of its type (`""`,
//! `0`, `{}`, `[]`), so that the API's reading code sees the same shape as in the whole document
//! and fails the same way on a value of the wrong type; a skipped string is scanned, never copied.
//! Keys are compared decoded (`"\u0074o"` is `to`), and duplicate keys behave as in a whole parse
//! (the last one counts).
//!
//! What is kept is bounded ([`super::KEPT_LIMIT`]), and so is the nesting (128 levels, as
//! `serde_json` allows).

mod whole;

pub use super::json_path::{Kind, Seg, Select, Selector};

use super::head::Head;
use super::json_lex::{is_space, run_until, skip_space};
use super::json_path::{chosen, Fate, Mode, MAX_DEPTH, MAX_KEY};
use super::request::KEPT_LIMIT;
use super::spare;
use super::tree::{Leaf, Tree, Val};
use serde_json::Number;

/// How far into a document each piece is validated as UTF-8 at once (see [`Reader::feed`]).
const VALIDATE_WHOLE: usize = 64 * 1024;
// (A whole first piece, read by `whole`, is kept whole: the limit must hold it.)
const _: () = assert!(VALIDATE_WHOLE <= KEPT_LIMIT);

/// A read document: the pruned value and the message heads read from its strings.
#[derive(Debug)]
pub struct Doc {
    /// The pruned values.
    pub tree: Tree,
    /// Each head read, with the path of its string.
    pub heads: Vec<(Vec<Seg>, Head)>,
}

impl Doc {
    /// The pruned document's value.
    pub fn root(&self) -> Val<'_> {
        self.tree.root()
    }

    /// The head read from the string at `path` (the last one, as for a duplicate key).
    pub fn head(&self, path: &[Seg]) -> Option<&Head> {
        self.heads
            .iter()
            .rev()
            .find(|(p, _)| p.as_slice() == path)
            .map(|(_, h)| h)
    }
}

/// A selector that keeps everything.
pub fn keep_all(_: &[Seg], _: Kind) -> Select {
    Select::Keep
}

/// A whole document, in one piece, as `select` chooses.
pub fn read_whole(select: Selector, doc: &[u8]) -> Result<Doc, String> {
    let mut r = Reader::new(select);
    r.feed(doc);
    r.into_doc()
}

/// A `serde_json` value read back as a document, everything kept (for tests of the code that
/// reads documents).
#[cfg(test)]
pub fn doc_of(v: &serde_json::Value) -> Doc {
    let text = v.to_string();
    match read_whole(keep_all, text.as_bytes()) {
        Ok(d) => d,
        Err(e) => panic!("{text}: {e}"),
    }
}

#[derive(Debug)]
struct Frame {
    object: bool,
    mode: Mode,
    /// The container's node in the tree, unless it is dropped.
    node: Option<usize>,
    /// The next element's index (arrays).
    count: usize,
    /// The member's value's path segment was pushed when it started.
    pushed: bool,
    /// The member's key was too long to be selected: its value is skipped and not inserted.
    skip_member: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Num {
    Minus,
    Zero,
    Int,
    Dot,
    Frac,
    E,
    ESign,
    Exp,
}

/// Where a string's content goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sink {
    /// An object key, decoded.
    Key,
    /// A key that is too long to match anything: scanned only.
    LongKey,
    /// A kept string, decoded.
    Keep,
    /// The head reader at this index.
    Head(usize),
    /// Scanned only.
    Skip,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lex {
    Value,
    FirstKey,
    Key,
    Colon,
    Next,
    FirstValue,
    Str,
    Escape,
    /// A `\uXXXX` escape's digits ([`Reader::digits`] read so far, [`Reader::code`]).
    Unicode,
    /// `true`, `false` or `null` ([`Reader::word`], [`Reader::word_at`]).
    Literal,
    /// A number ([`Reader::num`]).
    Number,
    End,
}

/// A JSON document being read.
#[derive(Debug)]
pub struct Reader {
    select: Selector,
    lex: Lex,
    /// (The state of the lexer's longer tokens, beside `lex` so that it stays one byte: the
    /// reading loop's dispatch is then a jump table.)
    num: Num,
    word: &'static [u8],
    word_at: u8,
    digits: u8,
    code: u16,
    frames: Vec<Frame>,
    path: Vec<Seg>,
    /// The current string's (or number's) destination and its fate.
    sink: Sink,
    fate: Fate,
    /// The decoded text of the current key, kept string or kept number.
    text: Vec<u8>,
    /// The last key read: the key of the member whose value comes next.
    key: String,
    /// Key strings of the path, popped, for reuse.
    spare: Vec<String>,
    /// The node of the current string, number or literal, unless it is dropped.
    node: Option<usize>,
    /// A high surrogate waiting for its low half (`\uD83D\uDE00`).
    high: Option<u16>,
    /// The current string is an object key.
    in_key: bool,
    heads: Vec<(Vec<Seg>, Head)>,
    tree: Tree,
    /// Bytes read before the current piece.
    offset: usize,
    kept: usize,
    error: Option<String>,
    finished: bool,
    /// Reading stops once the head of the string at this path is read (Gmail's `raw`: nothing
    /// after it is needed), wherever the body's pieces end.
    stop_at: Option<Vec<Seg>>,
    stopped: bool,
    /// An error or the stop: nothing more is read (one flag for the reading loop to test).
    halted: bool,
    /// A first piece that holds the whole document is read by [`whole`] (off in tests that
    /// compare the two).
    whole: bool,
}

fn hex(b: u8) -> Option<u16> {
    match b {
        b'0'..=b'9' => Some(u16::from(b - b'0')),
        b'a'..=b'f' => Some(u16::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u16::from(b - b'A' + 10)),
        _ => None,
    }
}

/// What a reader keeps between documents: its working buffers, emptied. A reader leaves them for
/// the next reader on the same thread (in the filter, the next request of the same Wasm VM, which
/// runs one at a time), so that reading a send allocates no working buffer once one of its size
/// has been read. A buffer that a large document grew is freed instead.
#[derive(Debug)]
struct Buffers {
    frames: Vec<Frame>,
    path: Vec<Seg>,
    spare: Vec<String>,
    text: Vec<u8>,
    key: String,
}

/// The most key strings kept, and the longest (in bytes of capacity).
const SPARE_KEYS: usize = 32;
const SPARE_KEY_BYTES: usize = 256;
/// The largest text buffer kept (a kept string or key's decoded bytes).
const SPARE_TEXT_BYTES: usize = 64 * 1024;

thread_local! {
    static BUFFERS: std::cell::RefCell<Option<Buffers>> = const { std::cell::RefCell::new(None) };
}

impl Buffers {
    /// Sized for a typical send's request, so that reading one grows no buffer.
    fn fresh() -> Buffers {
        Buffers {
            frames: Vec::with_capacity(16),
            path: Vec::with_capacity(16),
            spare: Vec::with_capacity(16),
            text: Vec::with_capacity(128),
            key: String::with_capacity(64),
        }
    }

    /// The buffers a reader left on this thread, or new ones.
    fn take() -> Buffers {
        spare::take(&BUFFERS).unwrap_or_else(Buffers::fresh)
    }

    /// Emptied and kept for the next reader on this thread (what a large document grew is
    /// freed).
    fn keep(mut self) {
        for seg in self.path.drain(..) {
            if let Seg::Key(k) = seg {
                self.spare.push(k);
            }
        }
        self.spare.retain(|k| k.capacity() <= SPARE_KEY_BYTES);
        self.spare.truncate(SPARE_KEYS);
        self.spare.iter_mut().for_each(String::clear);
        if self.text.capacity() > SPARE_TEXT_BYTES {
            self.text = Vec::with_capacity(128);
        }
        if self.key.capacity() > SPARE_KEY_BYTES {
            self.key = String::with_capacity(64);
        }
        self.frames.clear();
        self.text.clear();
        self.key.clear();
        spare::keep(&BUFFERS, self);
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let b = Buffers {
            frames: std::mem::take(&mut self.frames),
            path: std::mem::take(&mut self.path),
            spare: std::mem::take(&mut self.spare),
            text: std::mem::take(&mut self.text),
            key: std::mem::take(&mut self.key),
        };
        b.keep();
    }
}

impl Reader {
    /// A reader that keeps what `select` chooses.
    pub fn new(select: Selector) -> Reader {
        let Buffers {
            frames,
            path,
            spare,
            text,
            key,
        } = Buffers::take();
        Reader {
            select,
            lex: Lex::Value,
            num: Num::Int,
            word: b"",
            word_at: 0,
            digits: 0,
            code: 0,
            frames,
            path,
            sink: Sink::Skip,
            fate: Fate::Drop,
            text,
            key,
            spare,
            node: None,
            high: None,
            in_key: false,
            heads: Vec::new(),
            tree: Tree::with_capacity(64, 1024),
            offset: 0,
            kept: 0,
            error: None,
            finished: false,
            stop_at: None,
            stopped: false,
            halted: false,
            whole: true,
        }
    }

    /// Stops reading once the head of the string at `path` is read.
    pub fn stop_after_head(&mut self, path: Vec<Seg>) {
        self.stop_at = Some(path);
    }

    /// Reading stopped at the head of [`Reader::stop_after_head`]'s string.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// The syntax (or size) error, once there is one: nothing more is read.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    // (Out of the hot loop: errors are rare.)
    #[cold]
    #[inline(never)]
    fn fail(&mut self, what: impl std::fmt::Display, at: usize) {
        if self.error.is_none() {
            self.error = Some(format!("{what} at byte {}", self.offset + at));
            self.halted = true;
        }
    }

    fn count_kept(&mut self, n: usize, at: usize) {
        self.kept += n;
        if self.kept > KEPT_LIMIT {
            self.fail(
                format_args!("the fields read are larger than {KEPT_LIMIT} bytes"),
                at,
            );
        }
    }

    /// The fate of a value starting here, and (for a container) the mode of its members; its
    /// node in the tree, unless it is dropped (a skipped value stands as the placeholder of its
    /// type: `""`, `0`, `{}`, `[]`; a literal as itself).
    fn start_value(&mut self, leaf: Leaf) -> (Fate, Mode, Select) {
        let kind = match leaf {
            Leaf::Object => Kind::Object,
            Leaf::Array => Kind::Array,
            Leaf::String => Kind::String,
            _ => Kind::Other,
        };
        let (parent_mode, in_object) = match self.frames.last() {
            None => (Mode::Select, false),
            Some(f) if f.skip_member => (Mode::Skip, true),
            Some(f) => (f.mode, f.object),
        };
        let (fate, mode, sel) = match parent_mode {
            Mode::Skip => (Fate::Drop, Mode::Skip, Select::Skip),
            Mode::All => (Fate::Keep, Mode::All, Select::Keep),
            Mode::Select => {
                if let Some(f) = self.frames.last_mut() {
                    // The member's key joins the path while its value is read (its string is
                    // reused for a later key once the value is complete).
                    let seg = if f.object {
                        let spare = self.spare.pop().unwrap_or_default();
                        Seg::Key(std::mem::replace(&mut self.key, spare))
                    } else {
                        Seg::Index(f.count)
                    };
                    self.path.push(seg);
                    f.pushed = true;
                }
                chosen((self.select)(&self.path, kind), kind)
            }
        };
        self.node = None;
        if fate != Fate::Drop {
            // (A selected member's key is in the path now.)
            let key = match (in_object, parent_mode, self.path.last()) {
                (false, _, _) => None,
                (true, Mode::Select, Some(Seg::Key(k))) => Some(k.as_str()),
                (true, _, _) => Some(self.key.as_str()),
            };
            self.node = Some(self.tree.push(leaf, key));
        }
        (fate, mode, sel)
    }

    /// A value is complete.
    fn complete(&mut self) {
        let Some(f) = self.frames.last_mut() else {
            self.lex = Lex::End;
            return;
        };
        if f.pushed {
            f.pushed = false;
            if let Some(Seg::Key(k)) = self.path.pop() {
                self.spare.push(k);
            }
        }
        f.skip_member = false;
        f.count += 1;
        self.lex = Lex::Next;
    }

    fn open(&mut self, object: bool, at: usize) {
        let leaf = if object { Leaf::Object } else { Leaf::Array };
        let (_, mode, _) = self.start_value(leaf);
        if self.frames.len() >= MAX_DEPTH {
            self.fail(format_args!("nesting deeper than {MAX_DEPTH}"), at);
            return;
        }
        self.frames.push(Frame {
            object,
            mode,
            node: self.node.take(),
            count: 0,
            pushed: false,
            skip_member: false,
        });
        self.lex = if object {
            Lex::FirstKey
        } else {
            Lex::FirstValue
        };
    }

    fn close(&mut self, object: bool, at: usize) {
        let Some(f) = self.frames.pop() else {
            self.fail("unbalanced bracket", at);
            return;
        };
        if f.object != object {
            self.fail(
                if object {
                    "'}' closes an array"
                } else {
                    "']' closes an object"
                },
                at,
            );
            return;
        }
        if let Some(n) = f.node {
            self.tree.close(n);
        }
        self.complete();
    }

    fn start_string(&mut self, key: bool) {
        self.text.clear();
        self.high = None;
        self.in_key = key;
        if key {
            let skipped = self.frames.last().is_none_or(|f| f.mode == Mode::Skip);
            self.sink = if skipped { Sink::Skip } else { Sink::Key };
        } else {
            let (fate, _, sel) = self.start_value(Leaf::String);
            self.fate = fate;
            self.sink = match (fate, sel) {
                (Fate::Keep, _) => Sink::Keep,
                (_, Select::Head(encoding)) => {
                    self.heads.push((self.path.clone(), Head::new(encoding)));
                    Sink::Head(self.heads.len() - 1)
                }
                _ => Sink::Skip,
            };
        }
        self.lex = Lex::Str;
    }

    /// Decoded string bytes.
    fn emit(&mut self, bytes: &[u8], at: usize) {
        match self.sink {
            Sink::Key => {
                let selecting = self.frames.last().is_some_and(|f| f.mode == Mode::Select);
                if selecting && self.text.len() + bytes.len() > MAX_KEY {
                    self.sink = Sink::LongKey;
                    self.text.clear();
                } else {
                    self.text.extend_from_slice(bytes);
                    self.count_kept(bytes.len(), at);
                }
            }
            Sink::Keep => {
                self.text.extend_from_slice(bytes);
                self.count_kept(bytes.len(), at);
            }
            Sink::Head(i) => {
                if let Some((path, h)) = self.heads.get_mut(i) {
                    h.feed(bytes);
                    if h.is_done() && self.stop_at.as_ref() == Some(path) {
                        self.stopped = true;
                        self.halted = true;
                    }
                }
            }
            Sink::LongKey | Sink::Skip => {}
        }
    }

    fn emit_char(&mut self, c: char, at: usize) {
        let mut buf = [0u8; 4];
        let s = c.encode_utf8(&mut buf);
        self.emit(s.as_bytes(), at);
    }

    fn end_string(&mut self, at: usize) {
        if self.high.is_some() {
            self.fail("a lone leading surrogate in a \\u escape", at);
            return;
        }
        match self.sink {
            // (Copied out, so that the text buffer keeps its capacity for the next string.)
            Sink::Key => match std::str::from_utf8(&self.text) {
                Ok(k) => {
                    self.key.clear();
                    self.key.push_str(k);
                    self.lex = Lex::Colon;
                }
                Err(_) => self.fail("invalid UTF-8 in a key", at),
            },
            Sink::LongKey => {
                // Too long to be selected: the member's value is skipped and not inserted.
                if let Some(f) = self.frames.last_mut() {
                    f.skip_member = true;
                }
                self.lex = Lex::Colon;
            }
            Sink::Keep => match std::str::from_utf8(&self.text) {
                Ok(s) => {
                    if let Some(n) = self.node {
                        self.tree.set_text(n, s);
                    }
                    self.complete();
                }
                Err(_) => self.fail("invalid UTF-8 in a string", at),
            },
            Sink::Head(_) | Sink::Skip if self.in_key => {
                self.lex = Lex::Colon;
            }
            Sink::Head(_) | Sink::Skip => self.complete(),
        }
    }

    /// A key or kept string that ends in this piece (at `bytes`' end) and has nothing decoded
    /// before this run (no escape, no earlier piece): taken as it stands in the input (`valid`:
    /// the same bytes, if the piece's validation covered them), without going through the text
    /// buffer. False (nothing done) when it must be read the general way:
    /// invalid UTF-8 (an error there), a key too long to be selected.
    fn read_in_place(&mut self, bytes: &[u8], valid: Option<&str>, at: usize) -> bool {
        if !self.text.is_empty() || self.high.is_some() {
            return false;
        }
        let Some(s) = valid.or_else(|| std::str::from_utf8(bytes).ok()) else {
            return false;
        };
        match self.sink {
            Sink::Key => {
                let selecting = self.frames.last().is_some_and(|f| f.mode == Mode::Select);
                if selecting && bytes.len() > MAX_KEY {
                    return false;
                }
                self.count_kept(bytes.len(), at);
                self.key.clear();
                self.key.push_str(s);
                self.lex = Lex::Colon;
            }
            Sink::Keep => {
                self.count_kept(bytes.len(), at);
                if let Some(n) = self.node {
                    self.tree.set_text(n, s);
                }
                self.complete();
            }
            _ => return false,
        }
        true
    }

    /// A `\uXXXX` escape's code unit.
    fn unicode(&mut self, code: u16, at: usize) {
        let decoding = matches!(self.sink, Sink::Key | Sink::Keep);
        match (self.high.take(), code) {
            (None, 0xD800..=0xDBFF) => self.high = Some(code),
            (Some(h), 0xDC00..=0xDFFF) => {
                let c = 0x10000 + ((u32::from(h) - 0xD800) << 10) + (u32::from(code) - 0xDC00);
                self.emit_char(char::from_u32(c).unwrap_or('\u{fffd}'), at);
            }
            (Some(_), _) if decoding => self.fail("a lone leading surrogate in a \\u escape", at),
            (None, 0xDC00..=0xDFFF) if decoding => {
                self.fail("a lone trailing surrogate in a \\u escape", at)
            }
            (_, c) => self.emit_char(char::from_u32(u32::from(c)).unwrap_or('\u{fffd}'), at),
        }
        self.lex = Lex::Str;
    }

    fn start_number(&mut self, b: u8) {
        let (fate, _, _) = self.start_value(Leaf::Number);
        self.fate = fate;
        self.text.clear();
        if fate == Fate::Keep {
            self.text.push(b);
        }
        self.num = if b == b'-' {
            Num::Minus
        } else if b == b'0' {
            Num::Zero
        } else {
            Num::Int
        };
        self.lex = Lex::Number;
    }

    fn end_number(&mut self, at: usize) {
        if self.fate == Fate::Keep {
            // (The lexer lets only ASCII digits, signs, dots and exponents into a number.)
            let text = std::str::from_utf8(&self.text).unwrap_or("0");
            if text.parse::<Number>().is_err() {
                self.fail("a number out of range", at);
                return;
            }
            if let Some(n) = self.node {
                self.tree.set_text(n, text);
            }
        }
        self.complete();
    }

    fn literal(&mut self, word: &'static [u8]) {
        let leaf = match word {
            b"true" => Leaf::True,
            b"false" => Leaf::False,
            _ => Leaf::Null,
        };
        let (fate, _, _) = self.start_value(leaf);
        self.fate = fate;
        self.word = word;
        self.word_at = 1;
        self.lex = Lex::Literal;
    }

    /// Reads the next bytes of the document.
    pub fn feed(&mut self, input: &[u8]) {
        if self.error.is_some() || self.finished || self.stopped {
            return;
        }
        // The piece as text, as far as it is valid UTF-8, validated at once: a key or kept string
        // in it is then taken without validating it again (one pass over a send's request costs
        // less than one per string). Only near the start of a document, where a send's
        // recipients are: a large body is not validated twice.
        let head = &input[..input.len().min(VALIDATE_WHOLE.saturating_sub(self.offset))];
        let text = match std::str::from_utf8(head) {
            Ok(t) => t,
            Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default(),
        };
        // A first piece that holds the whole document (a send's request, as a rule) is read at
        // once; whatever that declines is read below, from the piece's start.
        if self.offset == 0
            && self.whole
            && self.lex == Lex::Value
            && self.frames.is_empty()
            && self.stop_at.is_none()
            && text.len() == input.len()
            && whole::read(
                text,
                self.select,
                &mut self.tree,
                &mut self.path,
                &mut self.spare,
            )
        {
            self.lex = Lex::End;
            self.offset = input.len();
            return;
        }
        let mut i = 0;
        while i < input.len() {
            if self.halted {
                return;
            }
            let b = input[i];
            match self.lex {
                Lex::Str => {
                    // The run up to the next quote or backslash, at once.
                    let rest = &input[i..];
                    let decoded = matches!(self.sink, Sink::Key | Sink::Keep);
                    // (A decoded string, a key or a kept value, is short: one pass finds its end
                    // and any control character in it.)
                    let run = run_until(rest, decoded);
                    if decoded
                        && rest.get(run) == Some(&b'"')
                        && self.read_in_place(&rest[..run], text.get(i..i + run), i)
                    {
                        i += run + 1;
                        continue;
                    }
                    if run > 0 {
                        if self.high.is_some() {
                            if decoded {
                                self.fail("a lone leading surrogate in a \\u escape", i);
                                return;
                            }
                            self.high = None;
                        }
                        if decoded || matches!(self.sink, Sink::Head(_)) {
                            let bytes = &rest[..run];
                            if !decoded {
                                if let Some(c) = bytes.iter().position(|&c| c < 0x20) {
                                    self.fail("a control character in a string", i + c);
                                    return;
                                }
                            }
                            self.emit(bytes, i);
                            if self.halted {
                                return;
                            }
                        }
                        i += run;
                    }
                    // The run's end, read at once: a quote, a backslash or a control character.
                    let Some(&b) = input.get(i) else {
                        continue;
                    };
                    if b < 0x20 {
                        self.fail("a control character in a string", i);
                        return;
                    }
                    i += 1;
                    if b == b'"' {
                        self.end_string(i - 1);
                    } else {
                        self.lex = Lex::Escape;
                    }
                    continue;
                }
                Lex::Escape => {
                    if self.high.is_some() && b != b'u' {
                        if matches!(self.sink, Sink::Key | Sink::Keep) {
                            self.fail("a lone leading surrogate in a \\u escape", i);
                            return;
                        }
                        self.high = None;
                    }
                    let c = match b {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            self.digits = 0;
                            self.code = 0;
                            self.lex = Lex::Unicode;
                            i += 1;
                            continue;
                        }
                        _ => {
                            self.fail(format_args!("an invalid escape \\{}", b as char), i);
                            return;
                        }
                    };
                    self.emit(&[c], i);
                    self.lex = Lex::Str;
                }
                Lex::Unicode => {
                    let Some(d) = hex(b) else {
                        self.fail("a \\u escape without four hex digits", i);
                        return;
                    };
                    let code = self.code << 4 | d;
                    if self.digits == 3 {
                        self.unicode(code, i);
                    } else {
                        self.digits += 1;
                        self.code = code;
                    }
                }
                Lex::Literal => {
                    let at = self.word_at;
                    if self.word.get(usize::from(at)) != Some(&b) {
                        self.fail("an invalid literal", i);
                        return;
                    }
                    if usize::from(at) + 1 == self.word.len() {
                        self.complete();
                    } else {
                        self.word_at = at + 1;
                    }
                }
                Lex::Number => {
                    let n = self.num;
                    let next = match (n, b) {
                        (Num::Minus, b'0') => Some(Num::Zero),
                        (Num::Minus, b'1'..=b'9') => Some(Num::Int),
                        (Num::Int, b'0'..=b'9') => Some(Num::Int),
                        (Num::Zero | Num::Int, b'.') => Some(Num::Dot),
                        (Num::Dot | Num::Frac, b'0'..=b'9') => Some(Num::Frac),
                        (Num::Zero | Num::Int | Num::Frac, b'e' | b'E') => Some(Num::E),
                        (Num::E, b'+' | b'-') => Some(Num::ESign),
                        (Num::E | Num::ESign | Num::Exp, b'0'..=b'9') => Some(Num::Exp),
                        _ => None,
                    };
                    match next {
                        Some(state) => {
                            if self.fate == Fate::Keep {
                                self.text.push(b);
                                self.count_kept(1, i);
                            }
                            self.num = state;
                        }
                        None if matches!(n, Num::Zero | Num::Int | Num::Frac | Num::Exp) => {
                            // The byte after the number: read again in the next state.
                            self.end_number(i);
                            continue;
                        }
                        None => {
                            self.fail("an incomplete number", i);
                            return;
                        }
                    }
                }
                _ if is_space(b) => {
                    i = skip_space(input, i + 1);
                    continue;
                }
                Lex::Value | Lex::FirstValue => match b {
                    b'{' => self.open(true, i),
                    b'[' => self.open(false, i),
                    b'"' => self.start_string(false),
                    b't' => self.literal(b"true"),
                    b'f' => self.literal(b"false"),
                    b'n' => self.literal(b"null"),
                    b'-' | b'0'..=b'9' => self.start_number(b),
                    b']' if self.lex == Lex::FirstValue => self.close(false, i),
                    _ => {
                        self.fail(
                            format_args!("expected a value, found {}", super::decode::describe(b)),
                            i,
                        );
                        return;
                    }
                },
                Lex::FirstKey | Lex::Key => match b {
                    b'"' => self.start_string(true),
                    b'}' if self.lex == Lex::FirstKey => self.close(true, i),
                    _ => {
                        self.fail(
                            format_args!("expected a key, found {}", super::decode::describe(b)),
                            i,
                        );
                        return;
                    }
                },
                Lex::Colon => {
                    if b != b':' {
                        self.fail(
                            format_args!("expected ':', found {}", super::decode::describe(b)),
                            i,
                        );
                        return;
                    }
                    self.lex = Lex::Value;
                    // (The value's white space, read at once.)
                    i = skip_space(input, i + 1);
                    continue;
                }
                Lex::Next => {
                    let object = self.frames.last().is_some_and(|f| f.object);
                    match b {
                        b',' => {
                            self.lex = if object { Lex::Key } else { Lex::Value };
                            i = skip_space(input, i + 1);
                            continue;
                        }
                        b'}' => self.close(true, i),
                        b']' => self.close(false, i),
                        _ => {
                            self.fail(
                                format_args!(
                                    "expected ',' or a closing bracket, found {}",
                                    super::decode::describe(b)
                                ),
                                i,
                            );
                            return;
                        }
                    }
                }
                Lex::End => {
                    self.fail(
                        format_args!("trailing characters ({})", super::decode::describe(b)),
                        i,
                    );
                    return;
                }
            }
            i += 1;
        }
        self.offset += input.len();
    }

    /// The end of the document.
    pub fn finish(&mut self) {
        if self.finished || self.error.is_some() {
            self.finished = true;
            return;
        }
        if self.lex == Lex::Number
            && matches!(self.num, Num::Zero | Num::Int | Num::Frac | Num::Exp)
        {
            self.end_number(0);
        }
        if self.lex != Lex::End && self.error.is_none() {
            self.fail("unexpected end of the document", 0);
        }
        self.finished = true;
    }

    /// The head read from the string at `path` (the last one), when the rest of the document is
    /// not needed.
    pub fn into_head(mut self, path: &[Seg]) -> Option<Head> {
        std::mem::take(&mut self.heads)
            .into_iter()
            .rev()
            .find(|(p, _)| p.as_slice() == path)
            .map(|(_, h)| h)
    }

    /// The document read: its pruned value and its heads, or the syntax error.
    pub fn into_doc(mut self) -> Result<Doc, String> {
        self.finish();
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        Ok(Doc {
            tree: std::mem::take(&mut self.tree),
            heads: std::mem::take(&mut self.heads),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::head::Encoding;
    use base64::Engine as _;
    use serde_json::{json, Map, Value};

    #[test]
    fn strings_longer_than_the_short_scan_read_as_a_whole_parse() {
        let long = format!("{}\\\"{}", "x".repeat(40), "y".repeat(70));
        let doc = format!(
            r#"{{"to": ["{long}", "{}"], "skip": "{long}"}}"#,
            "z".repeat(33)
        );
        let want: Value = serde_json::from_str(&doc).unwrap();
        for split in [1, 7, 32, 33, 64, doc.len()] {
            let mut r = Reader::new(keep_all);
            for piece in doc.as_bytes().chunks(split) {
                r.feed(piece);
            }
            assert_eq!(
                r.into_doc().unwrap().root().to_value(),
                want,
                "pieces of {split}"
            );
        }
    }

    fn placeholder(kind: Kind) -> Value {
        match kind {
            Kind::Object => Value::Object(Map::new()),
            Kind::Array => Value::Array(Vec::new()),
            Kind::String => Value::String(String::new()),
            Kind::Other => Value::from(0),
        }
    }

    fn kind_of(v: &Value) -> Kind {
        match v {
            Value::Object(_) => Kind::Object,
            Value::Array(_) => Kind::Array,
            Value::String(_) => Kind::String,
            _ => Kind::Other,
        }
    }

    /// What the reader must build, from the whole parse: the oracle.
    fn prune(v: &Value, path: &mut Vec<Seg>, select: Selector) -> Value {
        let kind = kind_of(v);
        match (select(path, kind), v) {
            (Select::Keep, _) => v.clone(),
            (Select::Descend, Value::Object(m)) => Value::Object(
                m.iter()
                    .map(|(k, x)| {
                        path.push(Seg::Key(k.clone()));
                        let p = prune(x, path, select);
                        path.pop();
                        (k.clone(), p)
                    })
                    .collect(),
            ),
            (Select::Descend, Value::Array(a)) => Value::Array(
                a.iter()
                    .enumerate()
                    .map(|(i, x)| {
                        path.push(Seg::Index(i));
                        let p = prune(x, path, select);
                        path.pop();
                        p
                    })
                    .collect(),
            ),
            (_, Value::Bool(_) | Value::Null) => v.clone(),
            _ => placeholder(kind),
        }
    }

    /// Reads `doc` in the given pieces.
    fn read(select: Selector, doc: &[u8], cuts: &[usize]) -> Result<Doc, String> {
        let mut r = Reader::new(select);
        let mut at = 0;
        for &c in cuts {
            let c = c.clamp(at, doc.len());
            r.feed(&doc[at..c]);
            at = c;
        }
        r.feed(&doc[at..]);
        r.into_doc()
    }

    /// Graph-like: `message` descended, its recipient lists kept; `raw` read as a head.
    fn select(path: &[Seg], kind: Kind) -> Select {
        let keys: Vec<&str> = path.iter().map(|s| s.key().unwrap_or("#")).collect();
        match keys.as_slice() {
            [] | ["message"] | ["list"] | ["list", "#"] => Select::Descend,
            ["message", "to" | "cc"] | ["list", "#", "keep"] => Select::Keep,
            ["raw"] if kind == Kind::String => Select::Head(Encoding::Base64),
            _ => Select::Skip,
        }
    }

    const DOCS: &[&str] = &[
        r#"{"message": {"subject": "x\"y\\z\u00e9", "to": [{"email": "a@b.org", "name": "A \"B\""}], "cc": null,
            "attachments": [{"contentBytes": "QUJD", "size": 3, "deep": [[[{"x": [1, 2.5e-3, -0, true]}]]]}]},
            "saveToSentItems": true, "n": 12345678901234567890}"#,
        r#"{"list": [{"keep": {"k": [1, "two", {"3": null}]}, "drop": "xxxxxxxx"}, 7, "s", [], {}], "message": "not an object"}"#,
        r#"  [1, {"message": {"to": "a"}}, "x"]  "#,
        r#""just a string""#,
        r#"-12.5E+3"#,
        r#"{"\u006dessage": {"\u0074o": ["\ud83d\ude00 x@y.org"]}, "message2": {}}"#,
        // Duplicate keys inside kept values: the last counts, as in a whole parse.
        r#"{"message": {"to": [{"email": "first@x.org", "name": "A", "email": "last@x.org"}], "cc": {"a": 1, "b": [], "a": {"c": 2}}}}"#,
        "{}",
        "[]",
        "null",
    ];

    /// `doc` in one piece, by the streaming reader only: `Debug` of its tree and heads, or its
    /// error; and the same by the reader as it is (a whole first piece read at once).
    fn both_ways(select: Selector, doc: &[u8]) -> (Result<String, String>, Result<String, String>) {
        let shown = |r: Reader| r.into_doc().map(|d| format!("{:?} {:?}", d.tree, d.heads));
        let mut streaming = Reader::new(select);
        streaming.whole = false;
        streaming.feed(doc);
        let mut reader = Reader::new(select);
        reader.feed(doc);
        (shown(streaming), shown(reader))
    }

    /// Whether the whole-piece reader reads `doc` (true) or declines it, leaving the reader as
    /// it was.
    fn read_whole_piece(select: Selector, doc: &str) -> bool {
        let mut r = Reader::new(select);
        let read = whole::read(doc, select, &mut r.tree, &mut r.path, &mut r.spare);
        if !read {
            assert_eq!(
                r.tree.root().to_value(),
                Value::Null,
                "{doc}: the tree is left"
            );
            assert!(r.path.is_empty(), "{doc}: the path is left");
        }
        read
    }

    fn skip_all(_: &[Seg], _: Kind) -> Select {
        Select::Skip
    }

    /// Documents the whole-piece reader must read as the streaming reader does, or decline.
    const WHOLE_CASES: &[&str] = &[
        // Escapes in a kept string, a key, a skipped string; a control character, lone
        // surrogates and invalid escapes in skipped and kept strings.
        r#"{"message": {"to": ["a\nb"]}}"#,
        r#"{"mess\u0061ge": {"to": "x"}}"#,
        r#"{"skip": "a\n\"b\u00e9\ud800", "message": {"to": "x"}}"#,
        "{\"skip\": \"a\u{1}b\", \"message\": {\"to\": \"x\"}}",
        "{\"message\": {\"to\": \"a\u{1}b\"}}",
        r#"{"skip": "\x", "message": {}}"#,
        r#"{"skip": "\u12G4"}"#,
        r#"{"skip": {"k\"ey": [1, {"\u0041": null}]}}"#,
        // Numbers of every shape, kept and skipped, and one out of range.
        r#"{"message": {"to": [0, -0, 1.5, -2e10, 3E+2, 4e-3, 12345678901234567890]}, "n": [01]}"#,
        r#"{"message": {"to": [1e400]}}"#,
        r#"{"n": 1e400, "message": {"to": [-0.0e-0]}}"#,
        r#"{"message": {"to": [-, 1]}}"#,
        r#"{"message": {"to": [1.]}}"#,
        // Roots of every kind; a number (complete only at the end of the body); trailing bytes.
        "7",
        "[7]",
        "true",
        "  null  ",
        r#""a\"b""#,
        "[1] x",
        "{} {}",
        // Truncated, unbalanced, misplaced.
        r#"{"message": {"to": ["a@b.org"]"#,
        r#"{"message": {"to": "a@b.org"]}"#,
        r#"{"message" "x"}"#,
        r#"{"message": {"to": "x"},}"#,
        "[1,]",
        "[tru]",
        "[truex]",
        "[nul",
        // A head to read (declined: the streaming reader reads heads).
        r#"{"raw": "QUJD"}"#,
    ];

    #[test]
    fn a_whole_first_piece_is_read_as_the_streaming_reader_reads_it() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        let too_deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let long = "k".repeat(MAX_KEY + 1);
        let long_key = format!(r#"{{"{long}": 1, "message": {{"to": {{"{long}": "v"}}}}}}"#);
        let mut docs: Vec<String> = DOCS
            .iter()
            .chain(WHOLE_CASES)
            .map(|d| d.to_string())
            .collect();
        docs.extend([deep, too_deep, long_key]);
        let selectors: [(&str, Selector); 3] = [
            ("select", select),
            ("keep_all", keep_all),
            ("skip_all", skip_all),
        ];
        for doc in &docs {
            for (name, sel) in selectors {
                let (streaming, whole) = both_ways(sel, doc.as_bytes());
                assert_eq!(whole, streaming, "{name}: {doc}");
            }
        }
    }

    #[test]
    fn the_whole_piece_reader_reads_a_send_and_declines_what_it_leaves_to_the_streaming_one() {
        let send = include_str!("../../../benches/load/send.json");
        assert!(read_whole_piece(super::super::jmap::select, send));
        assert!(read_whole_piece(select, DOCS[6]));
        assert!(read_whole_piece(
            keep_all,
            r#"{"a": [1, {"b": null}], "c": "d"}"#
        ));
        let long = "k".repeat(MAX_KEY + 1);
        let too_deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        for declined in [
            r#"{"message": {"to": ["a\nb"]}}"#.to_string(),
            r#"{"mess\u0061ge": {"to": "x"}}"#.to_string(),
            r#"{"message": {"to": ["a@b.org"]"#.to_string(),
            r#"{"raw": "QUJD"}"#.to_string(),
            "7".to_string(),
            "[1] x".to_string(),
            r#"{"message": {"to": [1e400]}}"#.to_string(),
            format!(r#"{{"{long}": 1}}"#),
            too_deep,
        ] {
            assert!(!read_whole_piece(select, &declined), "read: {declined}");
        }
        // Escapes and control characters in a string that is only scanned are read.
        assert!(read_whole_piece(
            select,
            "{\"skip\": \"a\\n\\u00e9\u{1}\", \"message\": {\"to\": \"x\"}}"
        ));
    }

    #[test]
    fn pruned_like_the_whole_parse_split_at_every_byte() {
        for doc in DOCS {
            let whole: Value = serde_json::from_str(doc).unwrap();
            let want = prune(&whole, &mut Vec::new(), select);
            for cut in 0..=doc.len() {
                let got = read(select, doc.as_bytes(), &[cut])
                    .unwrap_or_else(|e| panic!("{doc} at {cut}: {e}"));
                assert_eq!(got.root().to_value(), want, "{doc} split at {cut}");
            }
            // Byte by byte.
            let cuts: Vec<usize> = (0..doc.len()).collect();
            assert_eq!(
                read(select, doc.as_bytes(), &cuts)
                    .unwrap()
                    .root()
                    .to_value(),
                want,
                "{doc}"
            );
        }
        // An escaped key is the key it spells.
        let d = read(select, DOCS[5].as_bytes(), &[]).unwrap();
        assert_eq!(
            d.root().to_value(),
            json!({"message": {"to": ["\u{1f600} x@y.org"]}, "message2": {}})
        );
    }

    #[test]
    fn a_key_too_long_to_select_drops_its_member_but_is_kept_inside_a_kept_value() {
        let long = "k".repeat(MAX_KEY + 1);
        let doc = format!(r#"{{"{long}": {{"to": "x"}}, "message": {{"to": {{"{long}": "v"}}}}}}"#);
        let want = json!({"message": {"to": {long.clone(): "v"}}});
        for cut in (0..=doc.len())
            .step_by(97)
            .chain([1, 2, MAX_KEY, MAX_KEY + 2, doc.len() - 1])
        {
            let got =
                read(select, doc.as_bytes(), &[cut]).unwrap_or_else(|e| panic!("at {cut}: {e}"));
            assert_eq!(got.root().to_value(), want, "split at {cut}");
        }
        // One byte shorter, the key is selected like any other: skipped, with a placeholder.
        let fits = &long[1..];
        let doc = format!(r#"{{"{fits}": {{"to": "x"}}, "message": {{}}}}"#);
        for cut in [0, 3, doc.len() / 2, doc.len()] {
            let got = read(select, doc.as_bytes(), &[cut]).unwrap();
            assert_eq!(
                got.root().to_value(),
                json!({fits: {}, "message": {}}),
                "split at {cut}"
            );
        }
    }

    #[test]
    fn a_reader_after_one_left_mid_document_reads_as_a_fresh_one() {
        // The buffers a reader leaves for the next (path keys, a half-read key and text) carry
        // nothing over.
        for left in [
            r#"{"message": {"to": [{"email": "a@b."#,
            r#"{"message": {"t"#,
            r#"{"list": [{"keep": {"k"#,
        ] {
            let mut r = Reader::new(select);
            r.feed(left.as_bytes());
            drop(r);
            for doc in DOCS {
                let whole: Value = serde_json::from_str(doc).unwrap();
                let got = read(select, doc.as_bytes(), &[]).unwrap();
                assert_eq!(
                    got.root().to_value(),
                    prune(&whole, &mut Vec::new(), select),
                    "{doc} after {left}"
                );
            }
        }
    }

    #[test]
    fn strings_read_the_same_whether_or_not_their_piece_validates_as_utf8() {
        // Invalid UTF-8 in a skipped string ends the piece's validation there: the kept strings
        // after it are validated one by one, with the same result; one in a kept string is an
        // error wherever the pieces end.
        let mut doc = br#"{"skip": "x"#.to_vec();
        doc.push(0xff);
        doc.extend_from_slice(
            r#"", "message": {"to": ["a@b.org", "\u00e9t\u00e9", "été"]}}"#.as_bytes(),
        );
        let want = json!({"skip": "", "message": {"to": ["a@b.org", "été", "été"]}});
        let mut bad = br#"{"message": {"to": ["a@b"#.to_vec();
        bad.push(0xff);
        bad.extend_from_slice(br#".org"]}}"#);
        for cut in 0..=doc.len() {
            let got = read(select, &doc, &[cut]).unwrap_or_else(|e| panic!("at {cut}: {e}"));
            assert_eq!(got.root().to_value(), want, "split at {cut}");
        }
        for cut in 0..=bad.len() {
            let e = read(select, &bad, &[cut]).unwrap_err();
            assert!(
                e.starts_with("invalid UTF-8 in a string"),
                "split at {cut}: {e}"
            );
        }
    }

    #[test]
    fn keep_everything_is_the_whole_parse() {
        fn all(_: &[Seg], _: Kind) -> Select {
            Select::Keep
        }
        for doc in DOCS {
            let whole: Value = serde_json::from_str(doc).unwrap();
            for cut in 0..=doc.len() {
                assert_eq!(
                    read(all, doc.as_bytes(), &[cut]).unwrap().root().to_value(),
                    whole,
                    "{doc} at {cut}"
                );
            }
        }
    }

    #[test]
    fn duplicate_keys_count_as_in_a_whole_parse() {
        let doc = r#"{"message": {"to": ["first@x.org"]}, "message": {"to": ["last@x.org"], "cc": ["c@x.org"]}}"#;
        let whole: Value = serde_json::from_str(doc).unwrap();
        assert_eq!(
            read(select, doc.as_bytes(), &[]).unwrap().root().to_value(),
            prune(&whole, &mut Vec::new(), select)
        );
        let doc = r#"{"message": {"to": ["a@x.org"]}, "message": "x"}"#;
        assert_eq!(
            read(select, doc.as_bytes(), &[]).unwrap().root().to_value(),
            json!({"message": ""})
        );
    }

    #[test]
    fn heads_are_read_from_strings_with_escapes() {
        let msg = "To: ray@navy.ml\r\nSubject: hi\r\n\r\nbody";
        let b64 = base64::engine::general_purpose::STANDARD.encode(msg);
        // Some encoders write '/' as '\/'.
        let escaped = b64.replace('/', "\\/");
        for raw in [
            b64.clone(),
            escaped,
            format!("{}\\n{}", &b64[..8], &b64[8..]),
        ] {
            let doc = format!(r#"{{"threadId": "t", "raw": "{raw}", "after": [1, 2]}}"#);
            for cut in 0..=doc.len() {
                let d = read(select, doc.as_bytes(), &[cut]).unwrap();
                assert_eq!(
                    d.root().to_value(),
                    json!({"threadId": "", "raw": "", "after": []})
                );
                let head = d.head(&[Seg::Key("raw".into())]).expect("a head");
                assert_eq!(
                    head.addresses("raw").unwrap().to,
                    vec!["ray@navy.ml"],
                    "{doc} at {cut}"
                );
            }
        }
    }

    #[test]
    fn malformed_documents_are_errors() {
        for bad in [
            "",
            " ",
            "{",
            "[",
            "[1,]",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "[01]",
            "[1.]",
            "[-]",
            "[1e]",
            "tru",
            "\"abc",
            "[1]x",
            "{\"a\":1}}",
            "]",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"\\u12\"}",
            "[1 2]",
            "{1:2}",
            "{\"message\": {\"to\": \"a\u{1}b\"}}",
            "{\"message\": {\"to\": \"\\ud800\"}}",
            "{\"message\": {\"to\": \"\\udc00x\"}}",
            "{\"message\": {\"to\": \"\\ud800\\u0041\"}}",
            "[1}",
            "{\"a\"]",
        ] {
            for cut in 0..=bad.len() {
                assert!(
                    read(select, bad.as_bytes(), &[cut]).is_err(),
                    "{bad:?} at {cut}"
                );
            }
        }
        let e = read(select, br#"{"a": [1, 2,, 3]}"#, &[]).unwrap_err();
        assert_eq!(e, "expected a value, found ',' at byte 12");
        // A skipped string is only scanned for its end: a control character in it is let be.
        assert!(read(select, b"{\"x\": \"a\x01b\"}", &[]).is_ok());
    }

    #[test]
    fn skipped_strings_are_not_kept_and_kept_ones_are_bounded() {
        let big = "A".repeat(KEPT_LIMIT + 10);
        let doc = format!(r#"{{"attachments": ["{big}"], "message": {{"to": ["a@b.org"]}}}}"#);
        let mut r = Reader::new(select);
        for piece in doc.as_bytes().chunks(65536) {
            r.feed(piece);
        }
        assert!(r.kept < 100, "{}", r.kept);
        assert_eq!(
            r.into_doc().unwrap().root().to_value()["message"]["to"],
            json!(["a@b.org"])
        );
        let doc = format!(r#"{{"message": {{"to": ["{big}"]}}}}"#);
        let e = read(select, doc.as_bytes(), &[]).unwrap_err();
        assert!(e.contains("larger than 4194304 bytes"), "{e}");
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(read(select, deep.as_bytes(), &[])
            .unwrap_err()
            .contains("nesting deeper than 128"));
        let ok = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(read(select, ok.as_bytes(), &[]).is_ok());
    }
}
