//! mbox files (mboxo, mboxrd, mboxcl): split at `From ` lines into messages, keeping each
//! message's header block. Pure: fed one line at a time.

use super::headers::MAX_HEADER_BYTES;

/// One message's header block and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A header block (without the `From ` line), from the message starting at `line`.
    Headers {
        /// The `From ` line's number.
        line: u64,
        /// The header block, up to and including the blank line.
        block: Vec<u8>,
    },
    /// A message whose header block was longer than [`MAX_HEADER_BYTES`].
    TooLong {
        /// The `From ` line's number.
        line: u64,
    },
    /// Text before the first `From ` line.
    Stray {
        /// Its first line.
        line: u64,
    },
}

#[derive(Debug, Default)]
enum State {
    #[default]
    Start,
    Headers,
    Body,
    Skipping,
}

/// Feeds lines, yields [`Piece`]s.
#[derive(Debug, Default)]
pub struct Splitter {
    state: State,
    start: u64,
    block: Vec<u8>,
    prev_blank: bool,
}

impl Splitter {
    /// A splitter at the start of an mbox.
    pub fn new() -> Splitter {
        Splitter {
            prev_blank: true,
            ..Splitter::default()
        }
    }

    fn close(&mut self) -> Option<Piece> {
        match self.state {
            State::Headers => Some(Piece::Headers {
                line: self.start,
                block: std::mem::take(&mut self.block),
            }),
            _ => None,
        }
    }

    /// Take line number `n` (with its line ending, if any).
    pub fn line(&mut self, n: u64, line: &[u8]) -> Option<Piece> {
        let blank = line.iter().all(|b| matches!(b, b'\r' | b'\n'));
        let is_sep = self.prev_blank && line.starts_with(b"From ");
        // A `From ` line ends the previous message; a blank line ends a header block.
        let mut out = None;
        if is_sep {
            out = self.close();
            self.state = State::Headers;
            self.start = n;
            self.block.clear();
            self.prev_blank = false;
            return out;
        }
        self.prev_blank = blank;
        match self.state {
            State::Start if blank => {}
            State::Start => {
                self.state = State::Body;
                out = Some(Piece::Stray { line: n });
            }
            State::Headers => {
                if self.block.len() + line.len() > MAX_HEADER_BYTES {
                    self.block.clear();
                    self.state = State::Skipping;
                    return Some(Piece::TooLong { line: self.start });
                }
                self.block.extend_from_slice(line);
                if blank {
                    out = self.close();
                    self.state = State::Body;
                }
            }
            State::Body | State::Skipping => {}
        }
        out
    }

    /// The end of the mbox.
    pub fn finish(&mut self) -> Option<Piece> {
        let out = self.close();
        self.state = State::Body;
        out
    }
}

/// Whether an input starts like an mbox.
pub fn looks_like(head: &[u8]) -> bool {
    head.starts_with(b"From ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<Piece> {
        let mut s = Splitter::new();
        let mut out = Vec::new();
        for (i, l) in text.split_inclusive('\n').enumerate() {
            out.extend(s.line(i as u64 + 1, l.as_bytes()));
        }
        out.extend(s.finish());
        out
    }

    #[test]
    fn splits_messages_and_ignores_bodies() {
        let text = "From a@x Sun Nov 29 20:07:57 2026\nFrom: a@x.org\nTo: b@y.org\n\nbody\n>From the body\nFrom is not a separator here\n\nFrom b@x Sun Nov 29 20:07:58 2026\nFrom: c@x.org\n\n";
        let got = split(text);
        assert_eq!(
            got,
            vec![
                Piece::Headers {
                    line: 1,
                    block: b"From: a@x.org\nTo: b@y.org\n\n".to_vec()
                },
                Piece::Headers {
                    line: 9,
                    block: b"From: c@x.org\n\n".to_vec()
                },
            ]
        );
    }

    #[test]
    fn stray_text_and_truncated_files() {
        let got = split("junk\n\nFrom a@x Sun\nFrom: a@x.org\nTo: b@y.org");
        assert_eq!(got[0], Piece::Stray { line: 1 });
        assert_eq!(
            got[1],
            Piece::Headers {
                line: 3,
                block: b"From: a@x.org\nTo: b@y.org".to_vec()
            }
        );
    }

    #[test]
    fn header_blocks_are_bounded() {
        let mut s = Splitter::new();
        assert_eq!(s.line(1, b"From a@x Sun\n"), None);
        let long = vec![b'X'; 4096];
        let mut got = None;
        for i in 0..(MAX_HEADER_BYTES / 4096 + 2) {
            if let Some(p) = s.line(i as u64 + 2, &long) {
                got = Some(p);
                break;
            }
        }
        assert_eq!(got, Some(Piece::TooLong { line: 1 }));
        assert_eq!(s.finish(), None);
    }
}
