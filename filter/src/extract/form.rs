//! HTML form bodies (`application/x-www-form-urlencoded` and `multipart/form-data`), read as they
//! stream in: only the fields an API names are kept (decoded as `form_urlencoded` decodes them);
//! the others, the message text and any file, are scanned and not kept.

use super::multipart::{self, Chooser, Content};
use super::request::KEPT_LIMIT;

/// Which fields an API reads, by name.
pub type FieldSelector = fn(&str) -> bool;

/// The longest field name that is decoded; longer ones are never selected.
const MAX_NAME: usize = 256;

/// A form body being read.
#[derive(Debug)]
pub enum Reader {
    /// `application/x-www-form-urlencoded` (or no content type).
    UrlEncoded(UrlEncoded),
    /// `multipart/form-data`.
    Multipart(multipart::Reader),
}

impl Reader {
    /// A reader of a form posted with `content_type` that keeps the fields `select` names.
    pub fn new(content_type: Option<&str>, select: FieldSelector) -> Reader {
        match content_type {
            Some(ct) if super::request::media_type(ct) == "multipart/form-data" => {
                Reader::Multipart(multipart::Reader::new(ct, Chooser::Fields(select)))
            }
            _ => Reader::UrlEncoded(UrlEncoded::new(select)),
        }
    }

    /// Reads the next bytes of the body.
    pub fn feed(&mut self, bytes: &[u8]) {
        match self {
            Reader::UrlEncoded(r) => r.feed(bytes),
            Reader::Multipart(r) => r.feed(bytes),
        }
    }

    /// The end of the body: the kept fields, in order, or what is wrong.
    pub fn finish(self) -> Result<Vec<(String, String)>, String> {
        match self {
            Reader::UrlEncoded(r) => r.finish(),
            Reader::Multipart(r) => Ok(r
                .finish()?
                .into_iter()
                .filter_map(|p| match (p.info.name, p.content) {
                    (Some(n), Content::Bytes(b)) => {
                        Some((n, String::from_utf8_lossy(&b).into_owned()))
                    }
                    _ => None,
                })
                .collect()),
        }
    }
}

/// An urlencoded body being read.
#[derive(Debug)]
pub struct UrlEncoded {
    select: FieldSelector,
    /// The current pair's name (raw), while it is read.
    name: Vec<u8>,
    /// The name is read (`=` seen).
    in_value: bool,
    /// The current pair's value is kept.
    keep: bool,
    value: Vec<u8>,
    fields: Vec<(String, String)>,
    /// The start of a UTF-8 sequence split by the chunking.
    carry: Vec<u8>,
    kept: usize,
    error: Option<String>,
}

/// Decodes one urlencoded component (`+` is a space, `%XX` a byte).
fn decode(raw: &[u8]) -> String {
    let mut pair = Vec::with_capacity(raw.len() + 2);
    pair.extend_from_slice(b"x=");
    pair.extend_from_slice(raw);
    form_urlencoded::parse(&pair)
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

impl UrlEncoded {
    fn new(select: FieldSelector) -> UrlEncoded {
        UrlEncoded {
            select,
            name: Vec::new(),
            in_value: false,
            keep: false,
            value: Vec::new(),
            fields: Vec::new(),
            carry: Vec::new(),
            kept: 0,
            error: None,
        }
    }

    /// False (and an error) once the body is not UTF-8 text.
    fn check_utf8(&mut self, mut input: &[u8]) -> bool {
        while !self.carry.is_empty() {
            let Some((&b, rest)) = input.split_first() else {
                return true;
            };
            self.carry.push(b);
            input = rest;
            match std::str::from_utf8(&self.carry) {
                Ok(_) => self.carry.clear(),
                Err(e) if e.error_len().is_none() => {}
                Err(_) => return false,
            }
        }
        match std::str::from_utf8(input) {
            Ok(_) => true,
            Err(e) if e.error_len().is_none() => {
                self.carry = input[e.valid_up_to()..].to_vec();
                true
            }
            Err(_) => false,
        }
    }

    fn end_pair(&mut self) {
        if !self.in_value && !self.name.is_empty() {
            // A name without `=`: its value is empty.
            let name = decode(&self.name);
            if (self.select)(&name) {
                self.fields.push((name, String::new()));
            }
        } else if self.keep {
            let name = decode(&self.name);
            self.fields.push((name, decode(&self.value)));
        }
        self.name.clear();
        self.value.clear();
        self.in_value = false;
        self.keep = false;
    }

    fn feed(&mut self, input: &[u8]) {
        if self.error.is_some() {
            return;
        }
        if !self.check_utf8(input) {
            self.error = Some("form body is not UTF-8 text".into());
            return;
        }
        let mut rest = input;
        while !rest.is_empty() {
            let stop = if self.in_value {
                memchr::memchr(b'&', rest)
            } else {
                memchr::memchr2(b'&', b'=', rest)
            };
            let run = stop.unwrap_or(rest.len());
            let piece = &rest[..run];
            if self.in_value {
                if self.keep {
                    self.value.extend_from_slice(piece);
                    self.kept += piece.len();
                }
            } else {
                // A name longer than any selected one is not kept whole.
                let room = (MAX_NAME + 1).saturating_sub(self.name.len());
                self.name.extend_from_slice(&piece[..piece.len().min(room)]);
            }
            if self.kept > KEPT_LIMIT {
                self.error = Some(format!(
                    "the form fields read are larger than {KEPT_LIMIT} bytes"
                ));
                return;
            }
            let Some(at) = stop else {
                break;
            };
            if rest[at] == b'=' {
                self.in_value = true;
                self.keep = self.name.len() <= MAX_NAME && (self.select)(&decode(&self.name));
                if self.keep {
                    self.kept += self.name.len();
                }
            } else {
                self.end_pair();
            }
            rest = &rest[at + 1..];
        }
    }

    fn finish(mut self) -> Result<Vec<(String, String)>, String> {
        if self.error.is_none() && !self.carry.is_empty() {
            self.error = Some("form body is not UTF-8 text".into());
        }
        if let Some(e) = self.error {
            return Err(e);
        }
        self.end_pair();
        Ok(self.fields)
    }
}

/// The first value of `name`.
pub fn get<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The query string's parameters.
pub fn query(q: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(name: &str) -> bool {
        matches!(name, "_to" | "_cc" | "_bcc" | "a" | "é")
    }

    fn read(ct: Option<&str>, body: &[u8], cut: usize) -> Result<Vec<(String, String)>, String> {
        let mut r = Reader::new(ct, wanted);
        let (a, b) = body.split_at(cut.min(body.len()));
        r.feed(a);
        r.feed(b);
        r.finish()
    }

    #[test]
    fn urlencoded_fields_split_at_every_byte() {
        let ct = Some("application/x-www-form-urlencoded");
        let body = "_to=Lt+Ray+%3Cray%40base.example.ml%3E&_cc=&_draft=&_message=long+text+a%3Db%26c&&a=1=2&_bcc&%C3%A9=%C3%A9t%C3%A9&_to=second";
        // What a whole parse gives, filtered to the wanted names.
        let want: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .filter(|(k, _)| wanted(k))
            .collect();
        assert_eq!(get(&want, "_to"), Some("Lt Ray <ray@base.example.ml>"));
        assert_eq!(get(&want, "a"), Some("1=2"));
        assert_eq!(get(&want, "_bcc"), Some(""));
        assert_eq!(get(&want, "é"), Some("été"));
        assert_eq!(want.len(), 6);
        for cut in 0..=body.len() {
            assert_eq!(
                read(ct, body.as_bytes(), cut).unwrap(),
                want,
                "split at {cut}"
            );
            assert_eq!(
                read(None, body.as_bytes(), cut).unwrap(),
                want,
                "split at {cut}"
            );
        }
    }

    #[test]
    fn other_fields_are_not_kept() {
        let mut r = Reader::new(None, wanted);
        r.feed(b"_message=");
        for _ in 0..1000 {
            r.feed(&[b'x'; 10_000]);
        }
        let Reader::UrlEncoded(u) = &r else {
            panic!("urlencoded")
        };
        assert!(u.value.is_empty() && u.kept == 0, "{}", u.kept);
        r.feed(b"&_to=a%40b.org");
        assert_eq!(r.finish().unwrap(), vec![("_to".into(), "a@b.org".into())]);
    }

    #[test]
    fn not_utf8_is_an_error_wherever_it_splits() {
        let body = "_to=é".as_bytes();
        for cut in 0..=body.len() {
            assert!(read(None, body, cut).is_ok(), "{cut}");
        }
        for bad in [&b"a=\xff"[..], b"a=\xc3", b"\xc3(=x"] {
            for cut in 0..=bad.len() {
                assert_eq!(
                    read(None, bad, cut).unwrap_err(),
                    "form body is not UTF-8 text"
                );
            }
        }
    }

    #[test]
    fn multipart_fields() {
        let body = b"--b\r\nContent-Disposition: form-data; name=\"_to\"\r\n\r\nA <a@b.org>\r\n\
--b\r\nContent-Disposition: form-data; name=\"_message\"\r\n\r\nnot kept\r\n\
--b\r\nContent-Disposition: form-data; name=\"_cc\"; filename=\"x\"\r\n\r\nfile\r\n--b--\r\n";
        for cut in 0..=body.len() {
            assert_eq!(
                read(Some("multipart/form-data; boundary=b"), body, cut).unwrap(),
                vec![("_to".into(), "A <a@b.org>".into())],
                "{cut}"
            );
        }
        assert!(read(Some("multipart/form-data; boundary=Q"), b"no parts", 0).is_err());
    }
}
