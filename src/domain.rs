//! Domain names: normalisation (UTS #46 via `idna`), validation, and the split into
//! subdomain / registrable label / public suffix with the vendored Public Suffix List.

use std::sync::OnceLock;

use publicsuffix::{List, Psl};

/// The ICANN rules of the vendored list (see `data/README.md`) as `build.rs` embeds them: comments
/// stripped, internationalised rules in their `xn--` form (names are looked up in ASCII form).
/// Mail goes to registered domains, and the private section lists hosting platforms
/// (`blogspot.com`, ...).
const PSL_TEXT: &str = include_str!(concat!(env!("OUT_DIR"), "/psl_icann.dat"));

fn list() -> &'static List {
    static LIST: OnceLock<List> = OnceLock::new();
    // The embedded list is known to parse (a unit test proves it); an empty list is the
    // conservative fallback that keeps the engine alive rather than panicking.
    LIST.get_or_init(|| PSL_TEXT.parse::<List>().unwrap_or_default())
}

/// Parse the suffix list now (it is otherwise parsed on first use). Idempotent.
pub(crate) fn warm_up() {
    let _ = list();
}

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
        let h = self.head();
        h.rsplit('.').next().unwrap_or(h)
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

/// Why a domain is not a usable domain name.
pub(crate) fn normalize(input: &str) -> Result<Domain, String> {
    let trimmed = input.trim();
    let d = trimmed.strip_suffix('.').unwrap_or(trimmed);
    if d.is_empty() {
        return Err("an empty domain".into());
    }
    if d.starts_with('[') {
        return Err(format!("'{d}' is an address literal, not a domain name"));
    }
    let ascii = if d.is_ascii() && !d.contains("xn--") && !d.contains("XN--") {
        d.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(d)
            .map_err(|_| format!("'{d}' is not a valid internationalised domain name (UTS #46)"))?
    };
    if ascii.len() > 253 {
        return Err(format!(
            "'{}' is {} characters long; a domain name has at most 253",
            crate::address::clip(d, 60),
            ascii.len()
        ));
    }
    for label in ascii.split('.') {
        if label.is_empty() {
            return Err(format!(
                "'{d}' has an empty label (two dots in a row, or a leading dot)"
            ));
        }
        if label.len() > 63 {
            return Err(format!(
                "a label of '{}' is {} characters; at most 63 are allowed",
                crate::address::clip(d, 60),
                label.len()
            ));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(format!(
                "'{d}' contains '{c}', which a domain name cannot hold"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "the label '{label}' of '{d}' starts or ends with '-'"
            ));
        }
    }
    let unicode = if ascii.contains("xn--") {
        let (u, r) = idna::domain_to_unicode(&ascii);
        if r.is_err() {
            return Err(format!("'{d}' holds invalid punycode"));
        }
        u
    } else {
        ascii.clone()
    };
    // A single label (`gmail`) has no suffix; treat the whole name as an unknown one.
    let (suffix_len, suffix_known) = match list().suffix(ascii.as_bytes()) {
        Some(s) if ascii.contains('.') => (s.as_bytes().len(), s.is_known()),
        _ => (ascii.len(), false),
    };
    Ok(Domain {
        ascii,
        unicode,
        suffix_len,
        suffix_known,
    })
}

/// Whether `s` (lower-case ASCII, no dots needed) is a public suffix on the list.
pub(crate) fn is_known_suffix(s: &str) -> bool {
    match list().suffix(s.as_bytes()) {
        Some(x) => x.is_known() && x.as_bytes().len() == s.len(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_parses_and_splits() {
        assert!(list()
            .suffix(b"example.co.uk")
            .is_some_and(|s| s.as_bytes() == b"co.uk"));
        let d = normalize("Mail.Army.MIL.").unwrap();
        assert_eq!(d.ascii, "mail.army.mil");
        assert_eq!(
            (d.suffix(), d.label(), d.subdomain()),
            ("mil", "army", "mail")
        );
        assert_eq!(d.registrable(), "army.mil");
        let d = normalize("mod.gov.uk").unwrap();
        assert_eq!((d.suffix(), d.label()), ("gov.uk", "mod"));
        let d = normalize("x.com.ar").unwrap();
        assert_eq!(d.suffix(), "com.ar");
        let d = normalize("gmail.cmo").unwrap();
        assert!(!d.suffix_known);
        assert_eq!(d.suffix(), "cmo");
        let d = normalize("gouv.ml").unwrap();
        assert_eq!((d.head(), d.label(), d.registrable()), ("", "", "gouv.ml"));
    }

    #[test]
    fn embedded_rules_are_the_idna_forms_of_the_vendored_ones() {
        let original = include_str!("../data/public_suffix_list.dat");
        let start = original.find("// ===BEGIN ICANN DOMAINS===").unwrap();
        let end = original.find("// ===END ICANN DOMAINS===").unwrap();
        let embedded: std::collections::HashSet<&str> = PSL_TEXT.lines().collect();
        let mut idn = 0;
        let mut rules = 0;
        for line in original[start..end].lines() {
            let rule = line.split_whitespace().next().unwrap_or("");
            if rule.is_empty() || rule.starts_with("//") {
                continue;
            }
            rules += 1;
            let (prefix, name) = match rule.strip_prefix('!') {
                Some(n) => ("!", n),
                None => ("", rule),
            };
            let ascii = if name.is_ascii() {
                name.to_ascii_lowercase()
            } else {
                idn += 1;
                idna::domain_to_ascii(name).unwrap()
            };
            let want = format!("{prefix}{ascii}");
            assert!(
                embedded.contains(want.as_str()),
                "{rule} should be embedded as {want}"
            );
        }
        assert!(
            rules > 6000 && idn > 300,
            "{rules} rules, {idn} internationalised"
        );
        assert_eq!(
            embedded.len(),
            rules + 2,
            "one line per rule and the two markers"
        );
        // An internationalised suffix is found by the ASCII name normalize gives.
        let d = normalize("例え.公司.cn").unwrap();
        assert_eq!(d.suffix(), "xn--55qx5d.cn");
        assert!(d.suffix_known);
    }

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
        assert!(is_known_suffix("co.uk") && is_known_suffix("ml") && !is_known_suffix("cmo"));
    }
}
