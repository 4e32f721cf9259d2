//! Lenient reading: the addresses a lenient mail reader still takes from text that is not a
//! valid address, so that a syntax error never hides a misaddressed domain.
//!
//! Mail servers and mail libraries read malformed recipients leniently, and deliver them: given
//! each text below as a `To:` header, Postfix 3.7 (`sendmail -t`) delivers to `ray@navy.ml`, and
//! Python 3.11's `email.utils.parseaddr` and `email.headerregistry` both read `ray@navy.ml` too
//! (docs/contract.md lists what each took):
//!
//! - RFC 5322's obsolete syntax: white space or comments around the dots of a domain and around
//!   the `@` (`ray@navy .ml`, `ray@navy. ml`, `ray @ navy.ml`, `ray@navy.(c)ml`);
//! - stray angle brackets (`ray@navy.ml>`, `<ray@navy.ml`, `Ray <ray@navy.ml`);
//! - text around the address (`Ray <ray@navy.ml> junk`, `ray@navy.ml junk`, `Ray ray@navy.ml`);
//! - more than one `@`, where Postfix takes the last as the domain's (`a@b@navy.ml`).
//!
//! Here every `@` outside quoted strings and comments that is followed by a domain is a reading:
//! the domain runs over the characters an atom may hold, across white space and comments only
//! where they touch a dot; the local part is the word before the `@` (quoted strings, dots and
//! earlier `@` signs included). A domain followed by another `@` belongs to a longer local part.
//! A domain without a dot is no reading: no server on the Internet delivers to a single label
//! (`bad@@x`). An unclosed quote or comment ends the reading: no reader takes what follows.

use crate::address::{is_lexer_space, is_special};

/// One address a lenient reader takes: the local part as typed and the domain with the white
/// space and comments of the obsolete syntax left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reading<'a> {
    /// The local part as typed (a slice of the text).
    pub local: &'a str,
    /// The domain as typed, without the white space and comments around its dots.
    pub domain: String,
}

/// Most readings taken from one text (bounds the work for hostile input).
pub(crate) const MAX_READINGS: usize = 100;

/// The white space between tokens, as the strict parser's tokenizer skips it.
fn space(c: u8) -> bool {
    is_lexer_space(char::from(c))
}

/// A character of a domain or local-part atom.
fn atom(c: u8) -> bool {
    !is_special(c) && !space(c)
}

/// The end of the comment that opens at `i` (after its `)`), or `None` when it is not closed.
fn comment_end(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The end of the quoted string that opens at `i` (after its closing quote), or `None`.
fn quote_end(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The first position from `i` that is neither white space nor inside a comment; `None` when a
/// comment is not closed.
fn skip_cfws(b: &[u8], mut i: usize) -> Option<usize> {
    while i < b.len() {
        if space(b[i]) {
            i += 1;
        } else if b[i] == b'(' {
            i = comment_end(b, i)?;
        } else {
            break;
        }
    }
    Some(i)
}

/// The domain after the `@` at `at`: its text (obsolete white space and comments around dots
/// left out) and where reading stopped; `None` when a comment before it is not closed (one after
/// it ends it).
fn domain_after(text: &str, at: usize) -> Option<(String, usize)> {
    let b = text.as_bytes();
    let mut domain = String::new();
    let mut i = skip_cfws(b, at + 1)?;
    loop {
        let start = i;
        while i < b.len() && atom(b[i]) {
            i += 1;
        }
        domain.push_str(&text[start..i]);
        let Some(next) = skip_cfws(b, i) else {
            return Some((domain, i));
        };
        // White space or a comment between a dot and the next piece (`navy .ml`, `navy. ml`).
        let joins = next > i
            && next < b.len()
            && atom(b[next])
            && (domain.ends_with('.') || b[next] == b'.');
        if !joins || domain.is_empty() {
            return Some((domain, i));
        }
        i = next;
    }
}

/// What a lenient reader takes from `text`, in order, at most [`MAX_READINGS`].
pub(crate) fn readings(text: &str) -> Vec<Reading<'_>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    // The word being read (atoms, quoted strings, dots, `@` signs of a longer local part), and
    // the last one when only white space or comments followed it.
    let mut word: Option<usize> = None;
    let mut before_space: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < b.len() && out.len() < MAX_READINGS {
        let c = b[i];
        if c == b'@' {
            let local = match word {
                Some(start) => (start, i),
                None => before_space.unwrap_or((i, i)),
            };
            let Some((domain, end)) = domain_after(text, i) else {
                return out;
            };
            // What follows the domain (an unclosed comment there ends the text, not the domain).
            let after = skip_cfws(b, end).unwrap_or(b.len());
            if b.get(after) == Some(&b'@') {
                // `a@b@navy.ml`: the `@b` belongs to the local part of the next `@`.
                word = Some(local.0);
                before_space = None;
                i = after;
                continue;
            }
            if local.0 < local.1 && domain.trim_end_matches('.').contains('.') {
                out.push(Reading {
                    local: &text[local.0..local.1],
                    domain,
                });
            }
            (word, before_space) = (None, None);
            i = end.max(i + 1);
        } else if c == b'"' {
            let Some(end) = quote_end(b, i) else {
                return out;
            };
            word.get_or_insert(i);
            i = end;
        } else if let Some(close) = (c == b'[')
            .then(|| b[i..].iter().position(|&x| x == b']'))
            .flatten()
        {
            // A domain literal is one token, as the tokenizer reads it: nothing inside it is an
            // address of its own.
            word.get_or_insert(i);
            i += close + 1;
        } else if c == b'(' {
            let Some(end) = comment_end(b, i) else {
                return out;
            };
            if let Some(start) = word.take() {
                before_space = Some((start, i));
            }
            i = end;
        } else if space(c) {
            if let Some(start) = word.take() {
                before_space = Some((start, i));
            }
            i += 1;
        } else if is_special(c) {
            (word, before_space) = (None, None);
            i += 1;
        } else {
            word.get_or_insert(i);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<String> {
        readings(text)
            .into_iter()
            .map(|r| format!("{}@{}", r.local, r.domain))
            .collect()
    }

    #[test]
    fn what_lenient_servers_deliver_to() {
        // The shapes Postfix and Python's email package both read as ray@navy.ml.
        for text in [
            "ray@navy.ml>",
            "Ray <ray@navy.ml> junk",
            "<ray@navy.ml> junk",
            "ray@navy .ml",
            "ray@navy. ml",
            "ray@navy . ml",
            "ray @ navy.ml",
            "ray@(c)navy.ml",
            "ray@navy.(c)ml",
            "<ray@navy.ml",
            "Ray <ray@navy.ml",
            "Ray <ray@navy.ml>>",
            "ray@navy.ml)",
            "ray@navy.ml<",
            "ray@navy .ml>",
            "ray@navy.ml junk",
            "Ray ray@navy.ml",
        ] {
            assert_eq!(read(text), ["ray@navy.ml"], "{text}");
        }
        // Postfix's reading of more than one `@`: the last one starts the domain.
        assert_eq!(read("a@b@navy.ml"), ["a@b@navy.ml"]);
        assert_eq!(read("a@b.org@navy.ml"), ["a@b.org@navy.ml"]);
        // Quoted local parts, several addresses, a trailing dot.
        assert_eq!(read("\"r y\"@navy.ml>"), ["\"r y\"@navy.ml"]);
        assert_eq!(
            read("Ray <ray@navy.ml> <x@army.ml>"),
            ["ray@navy.ml", "x@army.ml"]
        );
        assert_eq!(read("a@b.c <ray@navy.ml.>"), ["a@b.c", "ray@navy.ml."]);
        // A space away from any dot ends the domain; so does what no reader closes after it.
        assert_eq!(read("ray@navy.m l"), ["ray@navy.m"]);
        for text in [
            "ray@navy.ml (unclosed",
            "ray@navy.ml \"unclosed",
            "ray@navy.ml (c) junk",
            "(c) ray@navy.ml",
        ] {
            assert_eq!(read(text), ["ray@navy.ml"], "{text}");
        }
        assert_eq!(read("a@b.org c@navy.ml"), ["a@b.org", "c@navy.ml"]);
        // A domain literal is one token: no address inside it.
        assert_eq!(read("x[a@navy.ml]@b.org"), ["x[a@navy.ml]@b.org"]);
    }

    #[test]
    fn what_no_server_delivers_to() {
        for text in [
            "bad@@x",
            "bad@x",
            "bad@x.",
            "(ray@navy.ml",
            "\"ray@navy.ml",
            "ray@[1.2.3.4]",
            "@navy.ml",
            "<@navy.ml>",
            "\"a@navy.ml\"",
            "(ray@navy.ml) x",
            "",
        ] {
            assert!(readings(text).is_empty(), "{text}: {:?}", readings(text));
        }
        let many = "a@b.c ".repeat(MAX_READINGS * 2);
        assert_eq!(readings(&many).len(), MAX_READINGS);
    }
}
