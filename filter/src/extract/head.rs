//! The head of an RFC 5322 message (its header fields, up to the blank line that ends them), read
//! as the message streams in. The recipients and the sender are there; the body, with its
//! attachments, is not kept: once the blank line is read, the reader is complete and takes no
//! more. The message may come encoded (Gmail's `raw`, Graph's MIME body, a base64 part), and is
//! then decoded only as far as the head.

use super::decode::Base64;
use super::mime::{self, Addressed};
use super::request::KEPT_LIMIT;

/// How the message is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// The bytes are the message.
    Identity,
    /// Base64, either alphabet (`raw`, Graph's MIME body, a base64 part).
    Base64,
}

/// A message head being read.
#[derive(Clone, Debug)]
pub struct Head {
    decoder: Option<Base64>,
    /// The head so far; when complete, up to and including the blank line.
    bytes: Vec<u8>,
    /// Decoded bytes not yet searched for the blank line start here.
    searched: usize,
    complete: bool,
    error: Option<String>,
    /// Decoded bytes scratch space.
    scratch: Vec<u8>,
}

/// Where the blank line that ends a head ends in `bytes`, searching from `from` (a line start
/// is the beginning or the byte after a `\n`).
pub(super) fn blank_line_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        let line_start = i == 0 || bytes.get(i - 1) == Some(&b'\n');
        if line_start {
            match bytes.get(i..) {
                Some([b'\n', ..]) => return Some(i + 1),
                Some([b'\r', b'\n', ..]) => return Some(i + 2),
                _ => {}
            }
        }
        let rest = bytes.get(i..)?;
        i += memchr::memchr(b'\n', rest)? + 1;
    }
}

impl Head {
    /// A reader of a message encoded as `encoding`.
    pub fn new(encoding: Encoding) -> Head {
        Head {
            decoder: (encoding == Encoding::Base64).then(Base64::new),
            bytes: Vec::new(),
            searched: 0,
            complete: false,
            error: None,
            scratch: Vec::new(),
        }
    }

    /// True once the whole head is read (or the message cannot be read): more bytes are not
    /// needed.
    pub fn is_done(&self) -> bool {
        self.complete || self.error.is_some()
    }

    /// Reads the next bytes of the (encoded) message.
    pub fn feed(&mut self, input: &[u8]) {
        if self.is_done() || input.is_empty() {
            return;
        }
        let Some(mut d) = self.decoder.take() else {
            self.push(input);
            return;
        };
        let mut decoded = std::mem::take(&mut self.scratch);
        // Decode a bounded slice at a time: the head is usually in the first few kilobytes,
        // and nothing after it is decoded.
        for piece in input.chunks(4096) {
            decoded.clear();
            if let Err(e) = d.feed(piece, &mut decoded) {
                // The bytes decoded before the invalid one may end the head: the invalid byte
                // is then after it and not read, as when the head ends in an earlier piece.
                self.push(&decoded);
                if !self.is_done() {
                    self.error = Some(format!("is not base64: {e}"));
                }
                break;
            }
            self.push(&decoded);
            if self.is_done() {
                break;
            }
        }
        self.scratch = decoded;
        self.decoder = Some(d);
    }

    fn push(&mut self, decoded: &[u8]) {
        if self.is_done() || decoded.is_empty() {
            return;
        }
        // The blank line may straddle two pieces: search again from before the new bytes.
        let from = self.searched.saturating_sub(2).min(self.bytes.len());
        let room = KEPT_LIMIT.saturating_sub(self.bytes.len());
        let take = decoded.len().min(room.saturating_add(2));
        self.bytes.extend_from_slice(&decoded[..take]);
        if let Some(end) = blank_line_end(&self.bytes, from) {
            self.bytes.truncate(end);
            self.complete = true;
            return;
        }
        self.searched = self.bytes.len();
        if self.bytes.len() > KEPT_LIMIT {
            self.error = Some(format!(
                "has no end of its header in its first {KEPT_LIMIT} bytes"
            ));
        }
    }

    /// The end of the message: a head without a blank line ends here.
    pub fn finish(&mut self) {
        if self.is_done() {
            return;
        }
        if let Some(d) = self.decoder.as_mut() {
            let mut tail = Vec::new();
            if let Err(e) = d.finish(&mut tail) {
                self.error = Some(format!("is not base64: {e}"));
                return;
            }
            self.push(&tail);
        }
        self.complete = true;
    }

    /// The head's addresses. `what` names the message in errors (`raw`, `the MIME body`);
    /// errors from the decoding say "`what` is not base64: ...".
    pub fn addresses(&self, what: &str) -> Result<Addressed, String> {
        if let Some(e) = &self.error {
            return Err(format!("{what} {e}"));
        }
        mime::message_addresses(&self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    const MESSAGE: &[u8] = b"From: Ray <ray@army.mil>\r\nTo: a@navy.ml,\r\n b@gmail.com\r\nCc: c@x.org\r\n\r\nTo: not@header.org\r\n\r\nmore";

    fn read(encoding: Encoding, input: &[u8], pieces: &[usize]) -> Head {
        let mut h = Head::new(encoding);
        let mut rest = input;
        for &n in pieces {
            let (a, b) = rest.split_at(n.min(rest.len()));
            h.feed(a);
            rest = b;
        }
        h.feed(rest);
        h.finish();
        h
    }

    #[test]
    fn the_head_ends_at_the_blank_line_wherever_the_bytes_split() {
        let whole = mime::message_addresses(MESSAGE).unwrap();
        assert_eq!(whole.to, vec!["a@navy.ml", "b@gmail.com"]);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(MESSAGE);
        for split in 0..=MESSAGE.len() {
            let h = read(Encoding::Identity, MESSAGE, &[split]);
            assert!(h.complete, "{split}");
            assert!(h.bytes.ends_with(b"c@x.org\r\n\r\n"), "{split}");
            assert_eq!(h.addresses("m").unwrap(), whole, "{split}");
        }
        for split in 0..=b64.len() {
            for second in [1, 3, 1000] {
                let h = read(Encoding::Base64, b64.as_bytes(), &[split, second]);
                assert_eq!(h.addresses("raw").unwrap(), whole, "{split} {second}");
            }
        }
    }

    #[test]
    fn bytes_after_the_head_are_not_read() {
        let mut h = Head::new(Encoding::Base64);
        let b64 = base64::engine::general_purpose::STANDARD.encode(b"To: a@b.org\n\nbody");
        h.feed(b64.as_bytes());
        assert!(h.is_done());
        // Not even looked at: an invalid byte after the head is no error.
        h.feed(b"*** not base64 ***");
        assert_eq!(h.addresses("raw").unwrap().to, vec!["a@b.org"]);
        assert_eq!(h.bytes, b"To: a@b.org\n\n");
    }

    #[test]
    fn an_invalid_byte_after_the_head_is_not_read_wherever_the_pieces_end() {
        let mut input = base64::engine::general_purpose::STANDARD
            .encode(b"To: a@b.org\n\nbody!")
            .into_bytes();
        // (No padding, which would end the data before the invalid byte.)
        assert!(!input.ends_with(b"="));
        input.extend_from_slice(b"\0 not base64");
        for split in 0..=input.len() {
            let h = read(Encoding::Base64, &input, &[split]);
            assert_eq!(
                h.addresses("raw").unwrap().to,
                vec!["a@b.org"],
                "split at {split}"
            );
        }
        // Before the head ends, it is an error, wherever the pieces end.
        let mut early = b"VG86IGFA".to_vec();
        early.extend_from_slice(b"\0YkBvcmcKCg==");
        for split in 0..=early.len() {
            let h = read(Encoding::Base64, &early, &[split]);
            let e = h.addresses("raw").unwrap_err();
            assert!(
                e.starts_with("raw is not base64: invalid byte"),
                "split at {split}: {e}"
            );
        }
    }

    #[test]
    fn a_head_without_a_blank_line_ends_with_the_message() {
        let h = read(Encoding::Identity, b"To: a@b.org\r\nCc: c@d.org", &[5]);
        assert_eq!(h.addresses("m").unwrap().cc, vec!["c@d.org"]);
        // A message without a header at all.
        let h = read(Encoding::Identity, b"\r\nbody", &[]);
        assert!(h.addresses("m").is_err());
    }

    #[test]
    fn errors_name_the_message() {
        let h = read(Encoding::Base64, b"VG86*", &[]);
        assert_eq!(
            h.addresses("raw").unwrap_err(),
            "raw is not base64: invalid byte '*' at offset 4"
        );
        let mut h = Head::new(Encoding::Identity);
        let line = b"X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        while !h.is_done() {
            h.feed(line);
        }
        assert!(h
            .addresses("the message")
            .unwrap_err()
            .contains("has no end of its header"));
        assert!(h.bytes.len() <= KEPT_LIMIT + 2);
    }
}
