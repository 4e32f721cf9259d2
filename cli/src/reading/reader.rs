//! Reading the inputs: files, directories (Maildir folders, directories of message files) and
//! standard input, plain or gzip-compressed, each in its format (told from its content unless
//! `--format` says), handing messages and skips to a [`Sink`]. The mail logs are parsed on
//! worker threads, in chunks, with the order kept.

use std::fs;
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::chunks::{lines, Chunk, Chunker, MAX_LINE};
use super::threads::ordered_map;
use crate::input::format::{csv_header, sniff, Format};
use crate::input::headers::{self, MAX_HEADER_BYTES};
use crate::input::join::{Event, Joiner, MAX_RCPTS};
use crate::input::mbox::{Piece, Splitter};
use crate::input::record::{clip, Loc, Message, Skip};
use crate::input::trace_csv::{quotes_open, Layout, MAX_RECORD};
use crate::input::{exim, postfix};

/// Where messages and skips go.
pub trait Sink {
    /// One message.
    fn message(&mut self, m: Message);
    /// One unreadable line, message or input.
    fn skip(&mut self, s: Skip);
    /// Lines that carry no mail record (other programs' log lines), counted.
    fn other_lines(&mut self, _n: u64) {}
    /// A new input, named as in locations (its index is the next `Loc::input`).
    fn input(&mut self, _name: &str) {}
}

/// How much of the inputs has been read, for the progress bar.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes read from the files (compressed size for gzip).
    pub done: AtomicU64,
    /// Total size of the files, when known.
    pub total: AtomicU64,
}

struct Counting<R> {
    inner: R,
    progress: Arc<Progress>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.done.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

type Stream = Box<dyn Read + Send>;

/// Read up to `n` bytes (fewer at the end of the input).
fn read_head(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n.min(1 << 16));
    r.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// The reader of a run's inputs.
#[derive(Debug)]
pub struct Reader {
    /// The input names, indexed by `Loc::input`.
    pub names: Vec<String>,
    /// Which format each input was read as.
    pub formats: Vec<Option<Format>>,
    format: Option<Format>,
    workers: usize,
    progress: Arc<Progress>,
}

impl Reader {
    /// A reader with a forced format (or `None`: tell from content), parsing logs on `workers`
    /// threads.
    pub fn new(format: Option<Format>, workers: usize, progress: Arc<Progress>) -> Reader {
        Reader {
            names: Vec::new(),
            formats: Vec::new(),
            format,
            workers,
            progress,
        }
    }

    fn add_input(&mut self, name: String, sink: &mut dyn Sink) -> u32 {
        sink.input(&name);
        self.names.push(name);
        self.formats.push(None);
        (self.names.len() - 1) as u32
    }

    /// Read every input in order; no inputs means standard input.
    pub fn read_all(&mut self, paths: &[PathBuf], sink: &mut dyn Sink) {
        for p in paths {
            if let Ok(m) = fs::metadata(p) {
                if m.is_file() {
                    self.progress.total.fetch_add(m.len(), Ordering::Relaxed);
                }
            }
        }
        if paths.is_empty() {
            self.read_stdin(sink);
        }
        for p in paths {
            if p.as_os_str() == "-" {
                self.read_stdin(sink);
            } else {
                self.read_path(p, sink, 0);
            }
        }
    }

    fn read_stdin(&mut self, sink: &mut dyn Sink) {
        let input = self.add_input("<stdin>".into(), sink);
        self.read_stream(input, Box::new(io::stdin()), self.format, sink);
    }

    fn read_path(&mut self, path: &Path, sink: &mut dyn Sink, depth: usize) {
        let meta = match fs::symlink_metadata(path).and_then(|m| {
            if m.file_type().is_symlink() && depth == 0 {
                fs::metadata(path)
            } else {
                Ok(m)
            }
        }) {
            Ok(m) => m,
            Err(e) => {
                let input = self.add_input(path.display().to_string(), sink);
                sink.skip(Skip::new(
                    Loc { input, line: 0 },
                    format!("cannot read '{}': {e}", path.display()),
                ));
                return;
            }
        };
        if meta.is_dir() {
            self.read_dir(path, sink, depth);
            return;
        }
        if !meta.is_file() {
            return; // symlinks inside folders, sockets, devices
        }
        let input = self.add_input(path.display().to_string(), sink);
        match fs::File::open(path) {
            Ok(f) => {
                let format = match self.format {
                    Some(Format::Maildir) => Some(Format::Eml),
                    f => f,
                };
                // Read in large blocks by the chunker itself: no buffer in between.
                let counted = Counting {
                    inner: f,
                    progress: self.progress.clone(),
                };
                self.read_stream(input, Box::new(counted), format, sink)
            }
            Err(e) => sink.skip(Skip::new(
                Loc { input, line: 0 },
                format!("cannot read '{}': {e}", path.display()),
            )),
        }
    }

    /// A Maildir (its `cur/` and `new/`, and Maildir++ subfolders), or a directory of files.
    fn read_dir(&mut self, dir: &Path, sink: &mut dyn Sink, depth: usize) {
        if depth > 8 {
            return;
        }
        let list = |d: &Path| -> Vec<PathBuf> {
            let mut v: Vec<PathBuf> = fs::read_dir(d)
                .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            v.sort();
            v
        };
        let is_maildir = dir.join("cur").is_dir() || dir.join("new").is_dir();
        if is_maildir {
            for sub in ["cur", "new"] {
                for f in list(&dir.join(sub)) {
                    if f.is_file() {
                        let saved = self.format;
                        self.format = Some(Format::Eml);
                        self.read_path(&f, sink, depth + 1);
                        self.format = saved;
                    }
                }
            }
            for f in list(dir) {
                let is_folder = f
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.') && n.len() > 1);
                if is_folder && f.is_dir() {
                    self.read_dir(&f, sink, depth + 1);
                }
            }
        } else {
            for f in list(dir) {
                self.read_path(&f, sink, depth + 1);
            }
        }
    }

    /// One input stream: gzip or not, format told or given, then its reader.
    fn read_stream(
        &mut self,
        input: u32,
        mut r: Stream,
        format: Option<Format>,
        sink: &mut dyn Sink,
    ) {
        let at = |line| Loc { input, line };
        let name = self.names[input as usize].clone();
        let raw_head = match read_head(&mut r, 2) {
            Ok(h) => h,
            Err(e) => return sink.skip(Skip::new(at(0), format!("cannot read '{name}': {e}"))),
        };
        let mut r: Stream = Box::new(Cursor::new(raw_head.clone()).chain(r));
        if raw_head == [0x1f, 0x8b] {
            r = Box::new(flate2::read::MultiGzDecoder::new(r));
        }
        let head = match read_head(&mut r, 1 << 16) {
            Ok(h) => h,
            Err(e) => return sink.skip(Skip::new(at(0), format!("cannot read '{name}': {e}"))),
        };
        if head.is_empty() {
            return; // an empty input holds no mail
        }
        let Some(format) = format.or_else(|| sniff(&head)) else {
            let what = if head.iter().take(512).any(|&b| b == 0) {
                "binary data"
            } else {
                "text"
            };
            return sink.skip(Skip::new(
                at(0),
                format!(
                    "cannot tell the format of '{name}' ({what} that is not a Postfix or Exim log, a message trace CSV, an mbox or a message); give --format"
                ),
            ));
        };
        self.formats[input as usize] = Some(format);
        let r: Stream = Box::new(Cursor::new(head).chain(r));
        match format {
            Format::Postfix => self.read_log(input, r, postfix::parse_line, sink),
            Format::Exim => self.read_log(input, r, exim::parse_line, sink),
            Format::Csv => read_csv(input, r, sink),
            Format::Mbox => read_mbox(input, r, sink),
            Format::Eml | Format::Maildir => read_eml(input, r, sink),
        }
    }

    fn read_log(&mut self, input: u32, r: Stream, parse: fn(&[u8]) -> Event, sink: &mut dyn Sink) {
        enum Parsed {
            Lines {
                n: u64,
                other: u64,
                events: Vec<(u32, Event)>,
            },
            Overlong(u64),
            Error(String),
        }
        let mut joiner = Joiner::new();
        let mut base = 0u64;
        let at = |line| Loc { input, line };
        ordered_map(
            Chunker::new(r),
            self.workers,
            |chunk| match chunk {
                Chunk::Lines(data) => {
                    let (mut n, mut other, mut events) = (0u64, 0u64, Vec::new());
                    for (i, l) in lines(&data).enumerate() {
                        n += 1;
                        match parse(l) {
                            Event::Other => other += 1,
                            ev => events.push((i as u32, ev)),
                        }
                    }
                    Parsed::Lines { n, other, events }
                }
                Chunk::Overlong(len) => Parsed::Overlong(len),
                Chunk::Error(e) => Parsed::Error(e),
            },
            |parsed| match parsed {
                Parsed::Lines { n, other, events } => {
                    sink.other_lines(other);
                    for (i, ev) in events {
                        let loc = at(base + u64::from(i) + 1);
                        if let Event::Bad(why) = &ev {
                            sink.skip(Skip::new(loc, why.clone()));
                            continue;
                        }
                        joiner.push(ev, loc, &mut |m| sink.message(m));
                    }
                    base += n;
                }
                Parsed::Overlong(len) => {
                    base += 1;
                    sink.skip(Skip::new(
                        at(base),
                        format!("a line of {len} bytes; lines over {MAX_LINE} bytes are not read"),
                    ));
                }
                Parsed::Error(e) => {
                    sink.skip(Skip::new(at(base + 1), format!("the input ends here: {e}")))
                }
            },
        );
        joiner.finish(&mut |m| sink.message(m));
        for loc in std::mem::take(&mut joiner.overflowed) {
            sink.skip(Skip::new(
                loc,
                format!(
                    "more than {MAX_RCPTS} recipients for one queue id; the rest were not read"
                ),
            ));
        }
    }
}

/// Lines of a stream, numbered from 1, with overlong lines and read errors as skips.
fn each_line(
    input: u32,
    r: Stream,
    sink: &mut dyn Sink,
    mut f: impl FnMut(u64, &[u8], &mut dyn Sink),
) {
    let mut n = 0u64;
    for chunk in Chunker::new(r) {
        match chunk {
            Chunk::Lines(data) => {
                for l in lines(&data) {
                    n += 1;
                    f(n, l, sink);
                }
            }
            Chunk::Overlong(len) => {
                n += 1;
                sink.skip(Skip::new(
                    Loc { input, line: n },
                    format!("a line of {len} bytes; lines over {MAX_LINE} bytes are not read"),
                ));
            }
            Chunk::Error(e) => sink.skip(Skip::new(
                Loc { input, line: n + 1 },
                format!("the input ends here: {e}"),
            )),
        }
    }
}

fn read_mbox(input: u32, r: Stream, sink: &mut dyn Sink) {
    let mut split = Splitter::new();
    let handle = |p: Piece, sink: &mut dyn Sink| match p {
        Piece::Headers { line, block } => {
            let loc = Loc { input, line };
            match headers::parse(&block, loc) {
                Ok((m, skips)) => {
                    skips.into_iter().for_each(|s| sink.skip(s));
                    sink.message(m);
                }
                Err(e) => sink.skip(Skip::new(loc, e)),
            }
        }
        Piece::TooLong { line } => sink.skip(Skip::new(
            Loc { input, line },
            format!("a message whose header block is over {MAX_HEADER_BYTES} bytes"),
        )),
        Piece::Stray { line } => sink.skip(Skip::new(
            Loc { input, line },
            "text before the first 'From ' line of an mbox",
        )),
    };
    each_line(input, r, sink, |n, l, sink| {
        if let Some(p) = split.line(n, l) {
            handle(p, sink);
        }
    });
    if let Some(p) = split.finish() {
        handle(p, sink);
    }
}

fn read_eml(input: u32, mut r: Stream, sink: &mut dyn Sink) {
    let loc = Loc { input, line: 0 };
    let head = match read_head(&mut r, MAX_HEADER_BYTES + 1) {
        Ok(h) => h,
        Err(e) => return sink.skip(Skip::new(loc, format!("cannot read the message: {e}"))),
    };
    let end = memchr::memmem::find(&head, b"\n\n")
        .map(|i| i + 2)
        .or_else(|| memchr::memmem::find(&head, b"\r\n\r\n").map(|i| i + 4));
    let block = match end {
        Some(e) => &head[..e],
        None if head.len() > MAX_HEADER_BYTES => {
            return sink.skip(Skip::new(
                loc,
                format!("a message whose header block is over {MAX_HEADER_BYTES} bytes"),
            ))
        }
        None => &head[..],
    };
    match headers::parse(block, loc) {
        Ok((m, skips)) => {
            skips.into_iter().for_each(|s| sink.skip(s));
            sink.message(m);
        }
        Err(e) => sink.skip(Skip::new(loc, e)),
    }
}

fn read_csv(input: u32, r: Stream, sink: &mut dyn Sink) {
    let mut layout: Option<Result<Layout, ()>> = None;
    let mut record: Vec<u8> = Vec::new();
    let mut start = 0u64;
    let mut pending: Option<Message> = None;
    let mut too_long = false;
    let flush = |pending: &mut Option<Message>, sink: &mut dyn Sink| {
        if let Some(m) = pending.take() {
            sink.message(m);
        }
    };
    each_line(input, r, sink, |n, l, sink| {
        if record.is_empty() {
            start = n;
        }
        if too_long || record.len() + l.len() > MAX_RECORD {
            if !too_long {
                sink.skip(Skip::new(
                    Loc { input, line: start },
                    format!("a CSV record over {MAX_RECORD} bytes"),
                ));
            }
            too_long = true;
            record.clear();
            if !quotes_open(l) {
                too_long = false;
            }
            return;
        }
        record.extend_from_slice(l);
        if quotes_open(&record) {
            return;
        }
        let text = String::from_utf8_lossy(&record).into_owned();
        record.clear();
        let loc = Loc { input, line: start };
        match &layout {
            None => {
                let Some((header, _)) = csv_header(text.as_bytes()) else {
                    return;
                };
                if header.starts_with("#TYPE") {
                    return;
                }
                layout =
                    Some(Layout::from_header(&header).map_err(|e| sink.skip(Skip::new(loc, e))));
            }
            Some(Err(())) => {}
            Some(Ok(lay)) => {
                if text.trim().is_empty() {
                    return;
                }
                match lay.row(&text, loc) {
                    Ok((m, skips)) => {
                        skips.into_iter().for_each(|s| sink.skip(s));
                        // Rows of one message (one per recipient) come together.
                        match &mut pending {
                            Some(p)
                                if p.message_id.is_some()
                                    && p.message_id == m.message_id
                                    && p.sender == m.sender =>
                            {
                                for r in m.rcpts {
                                    if !p.rcpts.iter().any(|x| x.address == r.address) {
                                        p.rcpts.push(r);
                                    }
                                }
                            }
                            _ => {
                                flush(&mut pending, sink);
                                pending = Some(m);
                            }
                        }
                    }
                    Err(e) => sink.skip(Skip::new(loc, e)),
                }
            }
        }
    });
    if !record.is_empty() && !too_long {
        sink.skip(Skip::new(
            Loc { input, line: start },
            format!(
                "a CSV record cut off by the end of the input (an open quote): '{}'",
                clip(&String::from_utf8_lossy(&record), 80)
            ),
        ));
    }
    flush(&mut pending, sink);
}
