//! A short text kept inline (queue ids, time stamps as written), so that reading a log line
//! allocates nothing for them.

/// Up to [`Short::CAP`] bytes of text, inline; longer text is cut at a character boundary.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Short {
    len: u8,
    bytes: [u8; Short::CAP],
}

impl Short {
    /// The most bytes kept (an RFC 3339 stamp with microseconds and an offset is 32).
    pub const CAP: usize = 39;

    /// `s`, cut to [`Short::CAP`] bytes.
    pub fn new(s: &str) -> Short {
        let mut end = s.len().min(Short::CAP);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0u8; Short::CAP];
        bytes[..end].copy_from_slice(&s.as_bytes()[..end]);
        Short {
            len: end as u8,
            bytes,
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Built from a `&str` cut at a character boundary.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or_default()
    }
}

impl std::hash::Hash for Short {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Only the text (the unused tail is zeros).
        self.as_str().hash(state);
    }
}

impl From<&str> for Short {
    fn from(s: &str) -> Short {
        Short::new(s)
    }
}

impl std::fmt::Debug for Short {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_short_text_and_cuts_long_text_at_a_boundary() {
        assert_eq!(Short::new("A14A298C010").as_str(), "A14A298C010");
        assert_eq!(Short::new(&"é".repeat(30)).as_str(), "é".repeat(19));
        assert_eq!(Short::new("").as_str(), "");
    }
}
