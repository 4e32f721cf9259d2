//! Base64 decoding as the bytes stream in: Gmail's `raw` (base64url, padded or not), Graph's
//! MIME body (standard base64) and `Content-Transfer-Encoding: base64` parts. Both alphabets are
//! read (`+` and `-` are 62, `/` and `_` are 63), white space is skipped, and `=` ends the data;
//! any other byte is an error that names it and its offset. The caller stops feeding once it has
//! what it needs, so a message is decoded only as far as its header.

/// A streaming base64 decoder.
#[derive(Clone, Debug, Default)]
pub struct Base64 {
    /// Sextets of the quantum being read.
    quantum: [u8; 4],
    /// How many of `quantum` are filled.
    filled: usize,
    /// Padding was read: the data has ended.
    ended: bool,
    /// Encoded bytes read so far (for error offsets).
    offset: usize,
}

fn sextet(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

impl Base64 {
    /// A decoder at the start of the data.
    pub fn new() -> Base64 {
        Base64::default()
    }

    /// Decodes `input` onto `out`. After padding, the rest is ignored.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        out.reserve(input.len() / 4 * 3 + 3);
        for &b in input {
            self.offset += 1;
            if self.ended {
                continue;
            }
            match sextet(b) {
                Some(s) => {
                    self.quantum[self.filled] = s;
                    self.filled += 1;
                    if self.filled == 4 {
                        let q = self.quantum;
                        out.push(q[0] << 2 | q[1] >> 4);
                        out.push(q[1] << 4 | q[2] >> 2);
                        out.push(q[2] << 6 | q[3]);
                        self.filled = 0;
                    }
                }
                None if b == b'=' => {
                    self.flush(out)?;
                    self.ended = true;
                }
                None if matches!(b, b' ' | b'\t' | b'\r' | b'\n') => {}
                None => {
                    return Err(format!(
                        "invalid byte {} at offset {}",
                        describe(b),
                        self.offset - 1
                    ))
                }
            }
        }
        Ok(())
    }

    /// The end of the data: decodes a last, unpadded quantum.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        if self.ended {
            return Ok(());
        }
        self.ended = true;
        self.flush(out)
    }

    fn flush(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        let q = self.quantum;
        match self.filled {
            0 => {}
            1 => {
                return Err(format!(
                    "the data ends with a single character at offset {}",
                    self.offset.saturating_sub(1)
                ))
            }
            2 => out.push(q[0] << 2 | q[1] >> 4),
            _ => {
                out.push(q[0] << 2 | q[1] >> 4);
                out.push(q[1] << 4 | q[2] >> 2);
            }
        }
        self.filled = 0;
        Ok(())
    }
}

/// A byte as an error message shows it: the character if printable ASCII, else its hex value.
pub fn describe(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else {
        format!("0x{b:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn decode_in(input: &[u8], split: usize) -> Result<Vec<u8>, String> {
        let mut d = Base64::new();
        let mut out = Vec::new();
        let (a, b) = input.split_at(split);
        d.feed(a, &mut out)?;
        d.feed(b, &mut out)?;
        d.finish(&mut out)?;
        Ok(out)
    }

    #[test]
    fn both_alphabets_padded_or_not_split_anywhere() {
        let data: Vec<u8> = (0..=255u8).chain(0..=40).collect();
        for engine in [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::URL_SAFE,
            base64::engine::general_purpose::STANDARD_NO_PAD,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            for len in [0, 1, 2, 3, 4, 5, 100, data.len()] {
                let enc = engine.encode(&data[..len]);
                // Line breaks, as MIME writes them, are skipped.
                let wrapped: Vec<u8> = enc
                    .as_bytes()
                    .chunks(7)
                    .flat_map(|c| c.iter().copied().chain(*b"\r\n"))
                    .collect();
                for input in [enc.as_bytes(), &wrapped[..]] {
                    for split in 0..=input.len() {
                        assert_eq!(
                            decode_in(input, split).as_deref(),
                            Ok(&data[..len]),
                            "{enc} split at {split}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn errors_name_the_byte_and_where() {
        assert_eq!(
            decode_in(b"QUJD*", 2),
            Err("invalid byte '*' at offset 4".into())
        );
        assert_eq!(
            decode_in(b"QU\x00", 0),
            Err("invalid byte 0x00 at offset 2".into())
        );
        assert!(decode_in(b"QUJDR", 5).unwrap_err().contains("single"));
        // After padding the rest is not read.
        assert_eq!(decode_in(b"QQ==trailing junk *", 3), Ok(b"A".to_vec()));
    }
}
