//! White space around names and addresses, trimmed as [`str::trim`] trims it (Unicode
//! `White_Space`), with a short path for the common case: text that starts and ends with a
//! visible ASCII character, which has nothing to trim. The short path runs on every recipient
//! of every send, where the Unicode tables behind [`str::trim`] would be code that nothing else
//! of the check runs.

/// `s` without leading and trailing white space: the same as [`str::trim`].
pub fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(z)) if a.is_ascii_graphic() && z.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// Whether `s` is empty or white space only: the same as `s.trim().is_empty()`.
pub fn is_blank(s: &str) -> bool {
    match s.as_bytes().first() {
        Some(a) if a.is_ascii_graphic() => false,
        _ => s.trim().is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_as_str_trim() {
        let samples = [
            "",
            " ",
            "a",
            "jane@gmail.com",
            " jane@gmail.com",
            "jane@gmail.com\t",
            "\u{b}x\u{c}",
            "\u{a0}a\u{a0}",
            "\u{3000}",
            "\u{2028}a",
            "a\u{85}",
            "\u{1f}a\u{1f}",
            "é",
            " é ",
            "Jane Doe <jane@gmail.com>",
            "<a@b>\r\n",
        ];
        for s in samples {
            assert_eq!(trim(s), s.trim(), "{s:?}");
            assert_eq!(is_blank(s), s.trim().is_empty(), "{s:?}");
        }
    }
}
