//! Address parsing and judging never panic, whatever the bytes: every entry is a mailbox, an
//! error, or nothing, and a judged recipient yields findings or errors. And a syntax error never
//! hides a flagged domain: whenever a lenient mail reader (modelled below, apart from the core's
//! own reading) takes a domain from the input that is flagged on its own, the verdict is not
//! `allow`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mistype::Severity;
use std::sync::OnceLock;

fn engine() -> &'static mistype::Engine {
    static E: OnceLock<mistype::Engine> = OnceLock::new();
    E.get_or_init(mistype::Engine::with_default_policy)
}

/// The white space between tokens, and the characters that end a word besides it (the RFC 5322
/// specials but `@` and `"`).
const SPACE: &[char] = &[' ', '\t', '\r', '\n'];
const BREAKS: &[char] = &['(', ')', '<', '>', '[', ']', ':', ';', ',', '\\'];

/// A lenient reader, as Postfix and Python's `email` package read malformed recipients (see
/// docs/contract.md): comments dropped, quoted strings and domain literals (`[...]`) kept opaque
/// (text after an unclosed quote or comment is not read), white space beside a dot or an `@` dropped (RFC 5322's obsolete syntax),
/// then in each word the last `@` with something before it starts a domain, when that domain
/// has a dot before its end. The domains, as written.
fn lenient_domains(text: &str) -> Vec<String> {
    // 1. Comments out, quoted strings and domain literals masked.
    let mut plain: Vec<char> = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' if chars.clone().any(|x| x == ']') => {
                plain.push('[');
                for x in chars.by_ref() {
                    if x == ']' {
                        break;
                    }
                    plain.push('q');
                }
                plain.push(']');
            }
            '"' => {
                let mark = plain.len();
                plain.push('"');
                let mut closed = false;
                while let Some(q) = chars.next() {
                    match q {
                        '\\' => {
                            chars.next();
                            plain.push('q');
                        }
                        '"' => {
                            closed = true;
                            break;
                        }
                        _ => plain.push('q'),
                    }
                }
                if !closed {
                    plain.truncate(mark);
                    break;
                }
                plain.push('"');
            }
            '(' => {
                let mark = plain.len();
                let mut depth = 1;
                while depth > 0 {
                    match chars.next() {
                        Some('\\') => {
                            chars.next();
                        }
                        Some('(') => depth += 1,
                        Some(')') => depth -= 1,
                        Some(_) => {}
                        None => break,
                    }
                }
                if depth > 0 {
                    plain.truncate(mark);
                    break;
                }
                plain.push(' ');
            }
            _ => plain.push(c),
        }
    }
    // 2. White space beside a dot or an `@` out.
    let mut joined: Vec<char> = Vec::new();
    let mut i = 0;
    while i < plain.len() {
        if SPACE.contains(&plain[i]) {
            let start = i;
            while i < plain.len() && SPACE.contains(&plain[i]) {
                i += 1;
            }
            let touches = |c: Option<&char>| matches!(c, Some('.') | Some('@'));
            if !(touches(joined.last()) || touches(plain.get(i))) {
                joined.extend(&plain[start..i]);
            }
        } else {
            joined.push(plain[i]);
            i += 1;
        }
    }
    // 3. Words; the last `@` of each.
    let joined: String = joined.into_iter().collect();
    joined
        .split(|c: char| SPACE.contains(&c) || BREAKS.contains(&c))
        .filter_map(|word| {
            let at = word.rfind('@')?;
            let domain = &word[at + 1..];
            (at > 0 && domain.trim_end_matches('.').contains('.')).then(|| domain.to_string())
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    for m in mistype::parse_address_list(s).into_iter().flatten() {
        // The local part and domain are slices of the input.
        assert!(s.contains(&m.local) && s.contains(&m.domain));
    }
    let e = engine();
    let ctx = e.context(Some(s), &[s.to_string()]);
    let v = e.check_recipient(s, &ctx);
    for f in &v.findings {
        assert!(f.score > 0.0 && f.score <= 1.0);
    }
    // Within the recipient limit, as a lenient reader takes it.
    if s.matches('@').count() > 100 {
        return;
    }
    let nobody = e.context(None, &[]);
    let verdict = e.check_recipient(s, &nobody).verdict;
    for d in lenient_domains(s) {
        let alone = e.check_recipient(&format!("x@{d}"), &nobody).verdict;
        assert!(
            alone == Severity::Allow || verdict != Severity::Allow,
            "{s:?}: a lenient reader delivers to {d:?}, flagged on its own ({alone}), but the verdict is allow"
        );
    }
});
