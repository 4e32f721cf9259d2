//! RFC 5322 mailboxes and address lists.
//!
//! Written for this crate rather than taken from a mail crate: the engine needs the local part
//! *exactly as typed* (suggestions keep it), one error per bad address that names it, hard caps on
//! work for hostile input, and no dependency that would weigh on the browser module (the mail
//! parsing crates bring charset tables with them). It accepts what people and mail clients
//! actually send: display names (atoms, quoted strings, UTF-8), angle brackets, quoted local
//! parts, nested comments, groups (`undisclosed-recipients:;`), folding white space, obsolete
//! routes (`<@relay:a@b>`) and `;` as well as `,` between addresses.
//!
//! ```
//! use mistype::parse_address_list;
//! let list = parse_address_list(r#"Lt "J." Smith <j.smith@navy.mil>, team: a@x.org, (boss) b@y.org;"#);
//! let addrs: Vec<String> = list.iter().map(|m| m.as_ref().unwrap().address()).collect();
//! assert_eq!(addrs, ["j.smith@navy.mil", "a@x.org", "b@y.org"]);
//! ```

use std::fmt;
use std::ops::Range;

use crate::verdict::RecipientErrorKind;

/// RFC 5321 §4.5.3.1.1: at most 64 octets of local part.
pub const MAX_LOCAL_LEN: usize = 64;
/// RFC 5321 §4.5.3.1.2: at most 255 octets of domain.
pub const MAX_DOMAIN_LEN: usize = 255;
/// RFC 5321 path limit (256 with the angle brackets): at most 254 octets of address.
pub const MAX_ADDRESS_LEN: usize = 254;
/// Longest input this parser reads; the rest of a longer input is one `too-long` error.
pub const MAX_INPUT_LEN: usize = 64 * 1024;
/// Most addresses read from one list; later ones are one `limit` error.
pub const MAX_LIST_LEN: usize = 1000;

/// One mailbox: an address with its optional display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// The mailbox as it stood in the input (trimmed).
    pub raw: String,
    /// The display name, unquoted (`Lt J. Smith`), if any.
    pub display_name: Option<String>,
    /// The local part exactly as typed (quotes kept).
    pub local: String,
    /// The domain as typed (not yet normalised).
    pub domain: String,
}

impl Mailbox {
    /// `local@domain`, as typed.
    pub fn address(&self) -> String {
        format!("{}@{}", self.local, self.domain)
    }
}

/// Why an address could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressError {
    /// The offending text (the whole mailbox, cut to 256 characters).
    pub input: String,
    /// `syntax`, `too-long` or `limit`.
    pub kind: RecipientErrorKind,
    /// What is wrong with it, naming it.
    pub message: String,
    /// Where the offending text stands in the parsed input (byte offsets): the whole mailbox,
    /// or the whole input when it could not be split into mailboxes.
    pub span: Range<usize>,
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AddressError {}

/// Cut `s` to at most `max` characters for use in a message.
pub(crate) fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((i, _)) => format!("{}…", &s[..i]),
    }
}

/// The error for `input`; its span is set where the mailbox's place in the input is known.
fn err(input: &str, kind: RecipientErrorKind, message: String) -> AddressError {
    AddressError {
        input: clip(input, 256),
        kind,
        message,
        span: 0..0,
    }
}

/// The error of the mailbox made of `toks`, with its place in the input.
fn at_tokens(mut e: AddressError, toks: &[Tok]) -> AddressError {
    if let (Some(first), Some(last)) = (toks.first(), toks.last()) {
        e.span = first.start..last.end;
    }
    e
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum T {
    /// A run of atom characters (dots included).
    Atom,
    /// A quoted string.
    Quoted,
    /// A domain literal `[...]`.
    Literal,
    /// One of `< > @ , ; :`.
    Special(u8),
}

#[derive(Debug, Clone, Copy)]
struct Tok {
    t: T,
    start: usize,
    end: usize,
}

/// RFC 5322 specials: the characters that end an atom.
pub(crate) fn is_special(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b':' | b';' | b'@' | b'\\' | b',' | b'"'
    )
}

/// Split into tokens, skipping white space and comments. Errors name what is unclosed.
fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'(' => {
                let start = i;
                let mut depth = 0usize;
                loop {
                    if i >= b.len() {
                        return Err(format!(
                            "unclosed comment '(' in '{}'",
                            clip(&s[start..], 60)
                        ));
                    }
                    match b[i] {
                        b'\\' => i += 1,
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            b')' => return Err(format!("a ')' without its '(' in '{}'", clip(s, 80))),
            b'"' => {
                let start = i;
                i += 1;
                loop {
                    if i >= b.len() {
                        return Err(format!(
                            "unclosed quote '\"' in '{}'",
                            clip(&s[start..], 60)
                        ));
                    }
                    match b[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
                let end = i.min(b.len());
                out.push(Tok {
                    t: T::Quoted,
                    start,
                    end,
                });
            }
            b'[' => {
                let start = i;
                match b[i..].iter().position(|&x| x == b']') {
                    Some(p) => i += p + 1,
                    None => {
                        return Err(format!("unclosed '[' in '{}'", clip(&s[start..], 60)));
                    }
                }
                out.push(Tok {
                    t: T::Literal,
                    start,
                    end: i,
                });
            }
            b'<' | b'>' | b'@' | b',' | b';' | b':' => {
                out.push(Tok {
                    t: T::Special(c),
                    start: i,
                    end: i + 1,
                });
                i += 1;
            }
            b']' => return Err(format!("a ']' without its '[' in '{}'", clip(s, 80))),
            b'\\' => return Err(format!("a stray '\\' in '{}'", clip(s, 80))),
            _ => {
                let start = i;
                while i < b.len()
                    && !is_special(b[i])
                    && !matches!(b[i], b' ' | b'\t' | b'\r' | b'\n')
                {
                    i += 1;
                }
                out.push(Tok {
                    t: T::Atom,
                    start,
                    end: i,
                });
            }
        }
    }
    Ok(out)
}

fn unquote(q: &str) -> String {
    let inner = q.strip_prefix('"').unwrap_or(q);
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '\r' | '\n' => {}
            _ => out.push(c),
        }
    }
    out
}

fn display_name(s: &str, toks: &[Tok]) -> Option<String> {
    let words: Vec<String> = toks
        .iter()
        .map(|t| match t.t {
            T::Quoted => unquote(&s[t.start..t.end]),
            _ => s[t.start..t.end].to_string(),
        })
        .collect();
    let name = words.join(" ");
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_string())
}

fn span(s: &str, toks: &[Tok]) -> String {
    match (toks.first(), toks.last()) {
        (Some(a), Some(b)) => s[a.start..b.end].trim().to_string(),
        _ => String::new(),
    }
}

/// Read an addr-spec from its tokens (no angle brackets).
fn addr_spec(s: &str, toks: &[Tok], whole: &str) -> Result<(String, String), AddressError> {
    let ats: Vec<usize> = toks
        .iter()
        .enumerate()
        .filter(|(_, t)| t.t == T::Special(b'@'))
        .map(|(i, _)| i)
        .collect();
    let text = span(s, toks);
    match ats.len() {
        0 => {
            return Err(err(
                whole,
                RecipientErrorKind::Syntax,
                format!(
                    "no '@' in '{}'; an address is local-part@domain",
                    clip(&text, 80)
                ),
            ))
        }
        1 => {}
        _ => {
            return Err(err(
                whole,
                RecipientErrorKind::Syntax,
                format!("two '@' signs in '{}'", clip(&text, 80)),
            ))
        }
    }
    let at = ats[0];
    let (lt, dt) = (&toks[..at], &toks[at + 1..]);
    if lt.is_empty() {
        return Err(err(
            whole,
            RecipientErrorKind::Syntax,
            format!("nothing before '@' in '{}'", clip(&text, 80)),
        ));
    }
    if dt.is_empty() {
        return Err(err(
            whole,
            RecipientErrorKind::Syntax,
            format!("no domain after '@' in '{}'", clip(&text, 80)),
        ));
    }
    if let Some(t) = lt.iter().chain(dt).find(|t| matches!(t.t, T::Special(_))) {
        let c = s.as_bytes()[t.start] as char;
        return Err(err(
            whole,
            RecipientErrorKind::Syntax,
            format!("unexpected '{c}' in '{}'", clip(&text, 80)),
        ));
    }
    // Words separated by white space in the local part: a display name without brackets.
    if lt.len() > 1 {
        let contiguous = lt.windows(2).all(|w| w[0].end == w[1].start);
        if !contiguous {
            return Err(err(
                whole,
                RecipientErrorKind::Syntax,
                format!(
                    "words before the address in '{}'; write a display name as Name <local@domain>",
                    clip(&text, 80)
                ),
            ));
        }
    }
    if dt.len() > 1 {
        return Err(err(
            whole,
            RecipientErrorKind::Syntax,
            format!("white space inside the domain in '{}'", clip(&text, 80)),
        ));
    }
    let local = s[lt[0].start..lt[lt.len() - 1].end].to_string();
    let domain = s[dt[0].start..dt[0].end].to_string();
    if local.len() > MAX_LOCAL_LEN {
        return Err(err(
            whole,
            RecipientErrorKind::TooLong,
            format!(
                "the local part of '{}' is {} octets; at most {MAX_LOCAL_LEN} are allowed (RFC 5321)",
                clip(&text, 80),
                local.len()
            ),
        ));
    }
    if domain.len() > MAX_DOMAIN_LEN {
        return Err(err(
            whole,
            RecipientErrorKind::TooLong,
            format!(
                "the domain of '{}' is {} octets; at most {MAX_DOMAIN_LEN} are allowed (RFC 5321)",
                clip(&text, 80),
                domain.len()
            ),
        ));
    }
    if local.len() + 1 + domain.len() > MAX_ADDRESS_LEN {
        return Err(err(
            whole,
            RecipientErrorKind::TooLong,
            format!(
                "'{}' is {} octets; an address may have at most {MAX_ADDRESS_LEN} (RFC 5321)",
                clip(&text, 80),
                local.len() + 1 + domain.len()
            ),
        ));
    }
    Ok((local, domain))
}

/// Read one mailbox from its tokens.
fn mailbox(s: &str, toks: &[Tok]) -> Result<Mailbox, AddressError> {
    let raw = span(s, toks);
    let open = toks.iter().position(|t| t.t == T::Special(b'<'));
    match open {
        Some(o) => {
            let close = toks[o..]
                .iter()
                .position(|t| t.t == T::Special(b'>'))
                .map(|p| p + o);
            let Some(c) = close else {
                return Err(err(
                    &raw,
                    RecipientErrorKind::Syntax,
                    format!("unclosed '<' in '{}'", clip(&raw, 80)),
                ));
            };
            if c + 1 < toks.len() {
                return Err(err(
                    &raw,
                    RecipientErrorKind::Syntax,
                    format!("text after '>' in '{}'", clip(&raw, 80)),
                ));
            }
            let name_toks = &toks[..o];
            if let Some(t) = name_toks.iter().find(|t| matches!(t.t, T::Special(_))) {
                let ch = s.as_bytes()[t.start] as char;
                let msg = if ch == '@' {
                    format!(
                        "an '@' in the display name of '{}'; quote the name",
                        clip(&raw, 80)
                    )
                } else {
                    format!(
                        "unexpected '{ch}' in the display name of '{}'",
                        clip(&raw, 80)
                    )
                };
                return Err(err(&raw, RecipientErrorKind::Syntax, msg));
            }
            let mut inner = &toks[o + 1..c];
            // obs-route: <@relay1,@relay2:local@domain>
            if inner.first().map(|t| t.t) == Some(T::Special(b'@')) {
                if let Some(p) = inner.iter().position(|t| t.t == T::Special(b':')) {
                    inner = &inner[p + 1..];
                }
            }
            if inner.is_empty() {
                return Err(err(
                    &raw,
                    RecipientErrorKind::Syntax,
                    format!("empty '<>' in '{}'", clip(&raw, 80)),
                ));
            }
            let (local, domain) = addr_spec(s, inner, &raw)?;
            Ok(Mailbox {
                display_name: display_name(s, name_toks),
                raw,
                local,
                domain,
            })
        }
        None => {
            if let Some(t) = toks.iter().find(|t| t.t == T::Special(b'>')) {
                let _ = t;
                return Err(err(
                    &raw,
                    RecipientErrorKind::Syntax,
                    format!("a '>' without its '<' in '{}'", clip(&raw, 80)),
                ));
            }
            let (local, domain) = addr_spec(s, toks, &raw)?;
            Ok(Mailbox {
                display_name: None,
                raw,
                local,
                domain,
            })
        }
    }
}

/// A mailbox in one of the two shapes most recipients have, `local@domain` and
/// `Display Name <local@domain>` (printable ASCII atoms only: no quotes, comments, groups, lists
/// or white space inside the brackets), as slices of the input, read without the tokenizer and
/// without allocating. [`plain_mailbox`] finds it; [`parse_address_list`] reads the same input as
/// the same mailbox ([`Plain::to_mailbox`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plain<'a> {
    /// The mailbox as it stands (the input without surrounding white space).
    pub raw: &'a str,
    /// The display name's words as typed (white space between them not yet folded); empty when
    /// there is none.
    pub name: &'a str,
    /// The local part.
    pub local: &'a str,
    /// The domain as typed.
    pub domain: &'a str,
}

impl Plain<'_> {
    /// The mailbox [`parse_address_list`] reads from the same input.
    pub(crate) fn to_mailbox(self) -> Mailbox {
        let display_name = (!self.name.is_empty()).then(|| {
            let mut words = self.name.split(is_lexer_space).filter(|w| !w.is_empty());
            let mut name = String::with_capacity(self.name.len());
            name.extend(words.next());
            for w in words {
                name.push(' ');
                name.push_str(w);
            }
            name
        });
        Mailbox {
            raw: self.raw.to_string(),
            display_name,
            local: self.local.to_string(),
            domain: self.domain.to_string(),
        }
    }
}

/// The white space the tokenizer skips.
pub(crate) fn is_lexer_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// A byte of an atom that [`plain_mailbox`] accepts: printable ASCII that is not special.
fn is_plain_atom(b: u8) -> bool {
    b.is_ascii_graphic() && !is_special(b)
}

/// The domain of the first mailbox in `input`, as [`parse_address_list`] reads it (through
/// [`plain_mailbox`] when the input has a plain shape, without the tokenizer); its error when the
/// first one is not an address, `None` when there is none.
pub(crate) fn first_domain(input: &str) -> Option<Result<String, AddressError>> {
    match plain_mailbox(input) {
        Some(p) => Some(Ok(p.domain.to_string())),
        None => parse_address_list(input)
            .into_iter()
            .next()
            .map(|r| r.map(|m| m.domain)),
    }
}

/// The input as a [`Plain`] mailbox, when it has one of the two plain shapes and is within the
/// RFC 5321 lengths; `None` for everything else (which [`parse_address_list`] reads).
pub(crate) fn plain_mailbox(input: &str) -> Option<Plain<'_>> {
    let raw = input.trim_matches(is_lexer_space);
    let b = raw.as_bytes();
    let (name, spec) = match b.last() {
        Some(b'>') => {
            let open = b.iter().position(|&c| c == b'<')?;
            let phrase = &b[..open];
            if !phrase
                .iter()
                .all(|&c| is_plain_atom(c) || matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
            {
                return None;
            }
            (
                raw[..open].trim_end_matches(is_lexer_space),
                &raw[open + 1..raw.len() - 1],
            )
        }
        Some(_) => ("", raw),
        None => return None,
    };
    let at = spec.bytes().position(|c| c == b'@')?;
    let (local, domain) = (&spec[..at], &spec[at + 1..]);
    let plain = |part: &str| !part.is_empty() && part.bytes().all(is_plain_atom);
    if !plain(local)
        || !plain(domain)
        || local.len() > MAX_LOCAL_LEN
        || local.len() + 1 + domain.len() > MAX_ADDRESS_LEN
    {
        return None;
    }
    Some(Plain {
        raw,
        name,
        local,
        domain,
    })
}

/// Parse an RFC 5322 address list (or a single mailbox) into mailboxes, one result per address.
///
/// Bad addresses are `Err` entries naming the fault; good ones around them are still returned.
/// Empty elements (`a@x.org,,b@y.org`) and empty groups are skipped. Nothing panics, whatever the
/// input; work is capped at [`MAX_INPUT_LEN`] bytes and [`MAX_LIST_LEN`] addresses.
pub fn parse_address_list(input: &str) -> Vec<Result<Mailbox, AddressError>> {
    let mut out = Vec::new();
    let whole = |mut e: AddressError| {
        e.span = 0..input.len();
        e
    };
    if input.len() > MAX_INPUT_LEN {
        out.push(Err(whole(err(
            input,
            RecipientErrorKind::TooLong,
            format!(
                "a recipient field of {} bytes; at most {MAX_INPUT_LEN} are read",
                input.len()
            ),
        ))));
        return out;
    }
    let toks = match lex(input) {
        Ok(t) => t,
        Err(message) => {
            out.push(Err(whole(err(
                input.trim(),
                RecipientErrorKind::Syntax,
                message,
            ))));
            return out;
        }
    };
    let mut i = 0;
    let push = |out: &mut Vec<Result<Mailbox, AddressError>>, r: Result<Mailbox, AddressError>| {
        if out.len() < MAX_LIST_LEN {
            out.push(r);
        } else if out.len() == MAX_LIST_LEN {
            out.push(Err(whole(err(
                input,
                RecipientErrorKind::Limit,
                format!("more than {MAX_LIST_LEN} addresses in one field; the rest were not read"),
            ))));
        }
    };
    while i < toks.len() {
        // One address: up to a top-level ',' or ';' (a ':' before any '<' or '@' opens a group).
        let start = i;
        let mut j = i;
        let mut in_angle = false;
        let mut group_colon = None;
        while j < toks.len() {
            match toks[j].t {
                T::Special(b'<') => in_angle = true,
                T::Special(b'>') => in_angle = false,
                T::Special(b':') if !in_angle && group_colon.is_none() => {
                    let before = &toks[start..j];
                    if !before
                        .iter()
                        .any(|t| matches!(t.t, T::Special(b'@') | T::Special(b'<')))
                    {
                        group_colon = Some(j);
                    }
                }
                T::Special(b',') if !in_angle && group_colon.is_none() => break,
                T::Special(b';') if !in_angle => break,
                _ => {}
            }
            j += 1;
        }
        let chunk = &toks[start..j];
        if let Some(gc) = group_colon {
            // A group: members are the mailboxes between ':' and ';', separated by ','.
            let members = &toks[gc + 1..j];
            for m in members.split(|t| t.t == T::Special(b',')) {
                if !m.is_empty() {
                    push(&mut out, mailbox(input, m).map_err(|e| at_tokens(e, m)));
                }
            }
        } else if !chunk.is_empty() {
            push(
                &mut out,
                mailbox(input, chunk).map_err(|e| at_tokens(e, chunk)),
            );
        }
        i = j + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_domain_is_the_domain_of_the_first_mailbox_the_parser_reads() {
        for s in [
            "ray@navy.ml",
            "Ray K <ray@Navy.ML>",
            "\"Ray, K\" <ray@navy.ml>, b@x.org",
            "(note) ray@[10.0.0.1]",
            "bad@@x.org, b@y.org",
            "",
        ] {
            let first = parse_address_list(s)
                .into_iter()
                .next()
                .map(|r| r.map(|m| m.domain));
            assert_eq!(first_domain(s), first, "{s:?}");
        }
    }

    fn ok(s: &str) -> Vec<(Option<String>, String, String)> {
        parse_address_list(s)
            .into_iter()
            .map(|r| {
                let m = r.unwrap_or_else(|e| panic!("{s}: {e}"));
                (m.display_name, m.local, m.domain)
            })
            .collect()
    }

    fn bad(s: &str) -> String {
        let r = parse_address_list(s);
        assert_eq!(r.len(), 1, "{s}: {r:?}");
        r[0].clone().unwrap_err().message
    }

    #[test]
    fn plain_and_named() {
        assert_eq!(ok("a@b.c"), [(None, "a".into(), "b.c".into())]);
        assert_eq!(
            ok("Lt J. Smith <j.smith@navy.ml>"),
            [(
                Some("Lt J. Smith".into()),
                "j.smith".into(),
                "navy.ml".into()
            )]
        );
        assert_eq!(
            ok(r#""Smith, John" <JOHN@ARMY.MIL.>"#),
            [(
                Some("Smith, John".into()),
                "JOHN".into(),
                "ARMY.MIL.".into()
            )]
        );
    }

    #[test]
    fn quoted_local_comments_folding_groups() {
        assert_eq!(ok(r#""john smith"@x.org"#)[0].1, r#""john smith""#);
        assert_eq!(ok("a@x.org (the boss)")[0].2, "x.org");
        assert_eq!(
            ok("(c (nested)) Ann\r\n <ann@x.org>")[0].0.as_deref(),
            Some("Ann")
        );
        assert_eq!(ok("undisclosed-recipients:;"), []);
        let g = ok("team: a@x.org, B <b@y.org>;, c@z.org");
        assert_eq!(g.len(), 3);
        assert_eq!(g[2].2, "z.org");
        assert_eq!(ok("<@relay.org:a@x.org>")[0].1, "a");
        assert_eq!(ok("a@x.org; b@y.org").len(), 2);
        assert_eq!(ok("Ωμέγα <ω@παράδειγμα.δοκιμή>")[0].2, "παράδειγμα.δοκιμή");
    }

    #[test]
    fn errors_name_the_input() {
        assert_eq!(bad("bad@@"), "two '@' signs in 'bad@@'");
        assert!(bad("john.smith").contains("no '@' in 'john.smith'"));
        assert!(bad("@army.mil").contains("nothing before '@'"));
        assert!(bad("x@").contains("no domain after '@' in 'x@'"));
        assert!(bad("A <a@x.org").contains("unclosed '<'"));
        assert!(bad("\"abc@x.org").contains("unclosed quote"));
        assert!(bad("John Smith john@x.org").contains("words before the address"));
        let long = format!("{}@x.org", "a".repeat(65));
        assert_eq!(
            parse_address_list(&long)[0]
                .clone()
                .unwrap_err()
                .kind
                .as_str(),
            "too-long"
        );
    }

    #[test]
    fn bad_and_good_together() {
        let r = parse_address_list("a@x.org, bad@@, b@y.org");
        assert_eq!(r.len(), 3);
        assert!(r[0].is_ok() && r[1].is_err() && r[2].is_ok());
    }

    #[test]
    fn plain_mailboxes_read_as_the_tokenizer_reads_them() {
        let plain = |s: &str| plain_mailbox(s).map(Plain::to_mailbox);
        let full = |s: &str| {
            let mut r = parse_address_list(s);
            assert_eq!(r.len(), 1, "{s}: {r:?}");
            r.remove(0).unwrap()
        };
        for s in [
            "jane@gmail.com",
            " Jane Doe <jane@gmail.com>\r\n",
            "Jane  Q.\tDoe<J.Doe+x@GMAIL.COM.>",
            "<jane@gmail.com>",
            "a!#$%&'*+-/=?^_`{|}~@x.org",
        ] {
            assert_eq!(plain(s), Some(full(s)), "{s}");
        }
        assert_eq!(
            plain("Jane Doe <jane@gmail.com>")
                .unwrap()
                .display_name
                .as_deref(),
            Some("Jane Doe")
        );
        // Every other shape is the tokenizer's.
        for s in [
            "",
            "\"Jane\" <jane@gmail.com>",
            "jane@gmail.com (home)",
            "a@x.org, b@y.org",
            "team: a@x.org;",
            "< jane@gmail.com >",
            "jane@@gmail.com",
            "Jane <jane@gmail.com> x",
            "Ωμέγα <ω@x.org>",
            "jane@gmail.com>",
            "@x.org",
            "jane@",
        ] {
            assert_eq!(plain_mailbox(s), None, "{s}");
        }
        let long = format!("{}@x.org", "a".repeat(MAX_LOCAL_LEN + 1));
        assert_eq!(plain_mailbox(&long), None);
    }

    /// Over many near-misses of plain mailboxes (characters that matter to the grammar put in,
    /// changed or taken out): whenever the plain reader takes one, the tokenizer reads exactly
    /// that mailbox.
    #[test]
    fn plain_mailboxes_agree_with_the_tokenizer_on_generated_input() {
        const ALPHABET: &[u8] = b"a.@<> \"(),;:\\[]\tJx-";
        const SEEDS: &[&str] = &["j@x.org", "J D <j@x.org>", "<j@x.org>", "J <j@x>"];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as usize % below
        };
        let (mut taken, mut left) = (0, 0);
        for _ in 0..50_000 {
            let mut s = SEEDS[next(SEEDS.len())].as_bytes().to_vec();
            for _ in 0..next(4) {
                let (at, c) = (next(s.len() + 1), ALPHABET[next(ALPHABET.len())]);
                match next(3) {
                    0 => s.insert(at, c),
                    1 if at < s.len() => s[at] = c,
                    _ if at < s.len() => {
                        s.remove(at);
                    }
                    _ => {}
                }
            }
            let s = String::from_utf8(s).unwrap();
            match plain_mailbox(&s) {
                Some(p) => {
                    taken += 1;
                    assert_eq!(parse_address_list(&s), vec![Ok(p.to_mailbox())], "{s:?}");
                }
                None => left += 1,
            }
        }
        assert!(taken > 5_000 && left > 5_000, "{taken} plain, {left} not");
    }

    #[test]
    fn hostile_input_is_capped() {
        let many = "a@x.org,".repeat(5000);
        let r = parse_address_list(&many);
        assert_eq!(r.len(), MAX_LIST_LEN + 1);
        assert_eq!(r[MAX_LIST_LEN].clone().unwrap_err().kind.as_str(), "limit");
        let huge = "(".repeat(MAX_INPUT_LEN + 1);
        assert_eq!(
            parse_address_list(&huge)[0]
                .clone()
                .unwrap_err()
                .kind
                .as_str(),
            "too-long"
        );
        let deep = format!("{}a@x.org", "(".repeat(10_000));
        assert!(parse_address_list(&deep)[0].is_err());
    }
}
