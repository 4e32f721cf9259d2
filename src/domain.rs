//! Domain names: normalisation (UTS #46 via `idna`), validation, and the split into
//! subdomain / registrable label / public suffix (the suffix from `suffix_list`).

use crate::suffix_list::suffix_of;

/// A normalised, valid domain name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Domain {
    /// Lower-case ASCII (punycode) form, no trailing dot.
    pub ascii: String,
    /// Unicode form for display (equal to `ascii` for ASCII domains).
    pub unicode: String,
    /// Byte length of the public suffix in `ascii` (the whole name for a single label).
    pub suffix_len: usize,
    /// Whether the suffix is on the list (not merely the implicit `*` rule).
    pub suffix_known: bool,
}

impl Domain {
    /// The public suffix (`mil`, `co.uk`).
    pub fn suffix(&self) -> &str {
        &self.ascii[self.ascii.len() - self.suffix_len..]
    }

    /// Everything before the suffix, without the dot (`army`, `us.af`); empty when the domain is
    /// itself a suffix.
    pub fn head(&self) -> &str {
        let n = self.ascii.len() - self.suffix_len;
        if n == 0 {
            ""
        } else {
            &self.ascii[..n - 1]
        }
    }

    /// The label just left of the suffix (`army` in `mail.army.mil`).
    pub fn label(&self) -> &str {
        last_label(self.head())
    }

    /// The registrable domain (`army.mil` for `mail.army.mil`), or the whole domain when it is a
    /// suffix itself.
    pub fn registrable(&self) -> &str {
        let l = self.label();
        if l.is_empty() {
            return &self.ascii;
        }
        &self.ascii[self.ascii.len() - self.suffix_len - 1 - l.len()..]
    }

    /// Labels left of the registrable label (`mail` in `mail.army.mil`).
    pub fn subdomain(&self) -> &str {
        let h = self.head();
        let l = self.label();
        if h.len() > l.len() {
            &h[..h.len() - l.len() - 1]
        } else {
            ""
        }
    }
}

/// The position of the first `c` in `s`. A plain loop: on the short names these paths see it is
/// cheaper than `find` (memchr), and much cheaper in the browser before its code is optimised
/// (this runs for every reference at start-up).
pub(crate) fn find_byte(s: &str, c: u8) -> Option<usize> {
    s.bytes().position(|b| b == c)
}

/// The last label of a name (all of it without a dot), by a plain loop as in [`find_byte`].
pub(crate) fn last_label(x: &str) -> &str {
    match x.bytes().rposition(|b| b == b'.') {
        Some(i) => &x[i + 1..],
        None => x,
    }
}

/// Why a domain is not a usable domain name.
pub(crate) fn normalize(input: &str) -> Result<Domain, String> {
    let (d, ascii) = ascii_form(input)?;
    let unicode = if has_punycode_label(&ascii) {
        to_unicode_idn(d, &ascii)?
    } else {
        ascii.clone()
    };
    // A single label (`gmail`) has no suffix; treat the whole name as an unknown one.
    let (suffix_len, suffix_known) = if find_byte(&ascii, b'.').is_some() {
        suffix_of(&ascii)
    } else {
        (ascii.len(), false)
    };
    Ok(Domain {
        ascii,
        unicode,
        suffix_len,
        suffix_known,
    })
}

/// The input trimmed (no trailing dot), and its validated lower-case ASCII form.
fn ascii_form(input: &str) -> Result<(&str, String), String> {
    let trimmed = crate::text::trim(input);
    let d = trimmed.strip_suffix('.').unwrap_or(trimmed);
    if d.is_empty() {
        return Err("an empty domain".into());
    }
    if d.starts_with('[') {
        return Err(format!("'{d}' is an address literal, not a domain name"));
    }
    // The common case, a plain ASCII name, takes the short path; IDNA and the wording of errors
    // live in functions of their own, out of the way of the one that runs for every name.
    let ascii = if d.is_ascii() && !has_punycode_label(d) {
        d.to_ascii_lowercase()
    } else {
        to_ascii_idn(d)?
    };
    if !is_valid_ascii(&ascii) {
        return Err(why_invalid(d, &ascii));
    }
    Ok((d, ascii))
}

/// The lower-case ASCII form of a domain name, validated as [`normalize`] validates it, without
/// the suffix split (policy patterns keep only this).
pub(crate) fn ascii_name(input: &str) -> Result<String, String> {
    let (d, ascii) = ascii_form(input)?;
    if has_punycode_label(&ascii) {
        to_unicode_idn(d, &ascii)?;
    }
    Ok(ascii)
}

/// Whether a label of `d` starts with the ACE prefix `xn--` (in any case).
fn has_punycode_label(d: &str) -> bool {
    let b = d.as_bytes();
    let ace = |at: usize| {
        b.get(at..at + 4)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"xn--"))
    };
    ace(0) || b.iter().enumerate().any(|(i, &c)| c == b'.' && ace(i + 1))
}

#[cold]
#[inline(never)]
fn to_ascii_idn(d: &str) -> Result<String, String> {
    idna::domain_to_ascii(d)
        .map_err(|_| format!("'{d}' is not a valid internationalised domain name (UTS #46)"))
}

#[cold]
#[inline(never)]
fn to_unicode_idn(d: &str, ascii: &str) -> Result<String, String> {
    let (u, r) = idna::domain_to_unicode(ascii);
    match r {
        Ok(()) => Ok(u),
        Err(_) => Err(format!("'{d}' holds invalid punycode")),
    }
}

/// Whether a lower-case ASCII name is at most 253 bytes of labels of 1 to 63 letters, digits,
/// `-` and `_`, none starting or ending with `-`.
fn is_valid_ascii(ascii: &str) -> bool {
    let b = ascii.as_bytes();
    if b.len() > 253 {
        return false;
    }
    let mut start = 0;
    for i in 0..=b.len() {
        if i == b.len() || b[i] == b'.' {
            let label = &b[start..i];
            if label.is_empty()
                || label.len() > 63
                || label[0] == b'-'
                || label[label.len() - 1] == b'-'
            {
                return false;
            }
            start = i + 1;
        } else if !(b[i].is_ascii_alphanumeric() || b[i] == b'-' || b[i] == b'_') {
            return false;
        }
    }
    true
}

/// Why a name [`is_valid_ascii`] refused is not a domain name.
#[cold]
#[inline(never)]
fn why_invalid(d: &str, ascii: &str) -> String {
    if ascii.len() > 253 {
        return format!(
            "'{}' is {} characters long; a domain name has at most 253",
            crate::address::clip(d, 60),
            ascii.len()
        );
    }
    for label in ascii.split('.') {
        if label.is_empty() {
            return format!("'{d}' has an empty label (two dots in a row, or a leading dot)");
        }
        if label.len() > 63 {
            return format!(
                "a label of '{}' is {} characters; at most 63 are allowed",
                crate::address::clip(d, 60),
                label.len()
            );
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return format!("'{d}' contains '{c}', which a domain name cannot hold");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return format!("the label '{label}' of '{d}' starts or ends with '-'");
        }
    }
    format!("'{d}' is not a domain name")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idn_both_forms() {
        let d = normalize("BÜCHER.de").unwrap();
        assert_eq!(d.ascii, "xn--bcher-kva.de");
        assert_eq!(d.unicode, "bücher.de");
        let d = normalize("xn--bcher-kva.de").unwrap();
        assert_eq!(d.unicode, "bücher.de");
        let d = normalize("\u{430}rmy.mil").unwrap();
        assert_eq!(d.unicode, "\u{430}rmy.mil");
        assert!(d.ascii.starts_with("xn--"));
    }

    #[test]
    fn invalid_domains_are_named() {
        assert!(normalize("a..b").unwrap_err().contains("empty label"));
        assert!(normalize("a b.com").unwrap_err().contains("' '"));
        assert!(normalize(&"a".repeat(64)).unwrap_err().contains("63"));
        assert!(normalize("-x.com").unwrap_err().contains("'-x'"));
        assert!(normalize("[1.2.3.4]").unwrap_err().contains("literal"));
    }
}
