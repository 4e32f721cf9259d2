//! Reading an input in chunks of whole lines, with bounded memory: a line longer than
//! [`MAX_LINE`] is skipped (its length reported), a read error (a broken gzip stream) ends the
//! input after what was read.

use std::io::Read;

/// The size of a chunk, and so the longest line read.
pub const MAX_LINE: usize = 1 << 20;

/// One piece of an input, in order.
#[derive(Debug)]
pub enum Chunk {
    /// Whole lines (the last one may lack its newline at the end of the input).
    Lines(Vec<u8>),
    /// One line longer than [`MAX_LINE`], skipped; its length in bytes.
    Overlong(u64),
    /// The input could not be read further.
    Error(String),
}

/// Splits a reader into [`Chunk`]s.
#[derive(Debug)]
pub struct Chunker<R> {
    r: R,
    buf: Vec<u8>,
    eof: bool,
    error: Option<String>,
    done: bool,
    /// Bytes read so far (for progress).
    pub bytes: u64,
}

impl<R: Read> Chunker<R> {
    /// Chunks of `r`.
    pub fn new(r: R) -> Chunker<R> {
        Chunker {
            r,
            buf: Vec::with_capacity(MAX_LINE + 65536),
            eof: false,
            error: None,
            done: false,
            bytes: 0,
        }
    }

    /// Read until the buffer holds `want` bytes or the input ends.
    fn fill(&mut self, want: usize) {
        while !self.eof && self.error.is_none() && self.buf.len() < want {
            let old = self.buf.len();
            // Zero only what one read can fill (pipes and gzip give 32-64 KiB at a time).
            self.buf
                .resize(want.min(old + (256 << 10)).max(old + 4096), 0);
            match self.r.read(&mut self.buf[old..]) {
                Ok(0) => {
                    self.buf.truncate(old);
                    self.eof = true;
                }
                Ok(n) => {
                    self.buf.truncate(old + n);
                    self.bytes += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => self.buf.truncate(old),
                Err(e) => {
                    self.buf.truncate(old);
                    self.error = Some(e.to_string());
                }
            }
        }
    }
}

impl<R: Read> Iterator for Chunker<R> {
    type Item = Chunk;

    fn next(&mut self) -> Option<Chunk> {
        if self.done {
            return None;
        }
        self.fill(MAX_LINE);
        if self.buf.is_empty() {
            self.done = true;
            return self.error.take().map(Chunk::Error);
        }
        match memchr::memrchr(b'\n', &self.buf) {
            Some(i) => {
                let rest = self.buf.split_off(i + 1);
                let lines = std::mem::replace(&mut self.buf, rest);
                if self.buf.capacity() < MAX_LINE {
                    self.buf.reserve(MAX_LINE + 65536 - self.buf.len());
                }
                Some(Chunk::Lines(lines))
            }
            None if self.eof || self.error.is_some() => {
                Some(Chunk::Lines(std::mem::take(&mut self.buf)))
            }
            None => {
                // A line longer than a chunk: skip to its end.
                let mut len = self.buf.len() as u64;
                self.buf.clear();
                loop {
                    self.fill(65536);
                    if self.buf.is_empty() {
                        break;
                    }
                    if let Some(i) = memchr::memchr(b'\n', &self.buf) {
                        len += i as u64 + 1;
                        self.buf.drain(..=i);
                        break;
                    }
                    len += self.buf.len() as u64;
                    self.buf.clear();
                }
                Some(Chunk::Overlong(len))
            }
        }
    }
}

/// The lines of a chunk, each with its newline (the last may lack one).
pub fn lines(chunk: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'\n', chunk);
    std::iter::from_fn(move || match ends.next() {
        Some(i) => {
            let l = &chunk[start..=i];
            start = i + 1;
            Some(l)
        }
        None if start < chunk.len() => {
            let l = &chunk[start..];
            start = chunk.len();
            Some(l)
        }
        None => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_lines_and_overlong_ones() {
        let mut input = b"a\nb\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 3 * MAX_LINE));
        input.extend(b"\nc\nd");
        let chunks: Vec<Chunk> = Chunker::new(&input[..]).collect();
        let text: Vec<String> = chunks
            .iter()
            .map(|c| match c {
                Chunk::Lines(l) => String::from_utf8_lossy(l).into_owned(),
                Chunk::Overlong(n) => format!("<{n}>"),
                Chunk::Error(e) => format!("!{e}"),
            })
            .collect();
        assert_eq!(
            text,
            vec![
                "a\nb\n".to_string(),
                format!("<{}>", 3 * MAX_LINE + 1),
                "c\n".into(),
                "d".into()
            ]
        );
    }

    struct Broken(usize);
    impl Read for Broken {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("corrupt deflate stream"));
            }
            self.0 -= 1;
            buf[..2].copy_from_slice(b"l\n");
            Ok(2)
        }
    }

    #[test]
    fn lines_of_a_chunk() {
        let got: Vec<&[u8]> = lines(b"a\nbc\n\nd").collect();
        assert_eq!(got, vec![&b"a\n"[..], b"bc\n", b"\n", b"d"]);
        assert_eq!(lines(b"").count(), 0);
        assert_eq!(lines(b"x\n").count(), 1);
    }

    #[test]
    fn a_read_error_ends_the_input_after_what_was_read() {
        let chunks: Vec<Chunk> = Chunker::new(Broken(3)).collect();
        assert!(matches!(&chunks[0], Chunk::Lines(l) if l == b"l\nl\nl\n"));
        assert!(matches!(&chunks[1], Chunk::Error(e) if e.contains("corrupt")));
        assert_eq!(chunks.len(), 2);
    }
}
