//! A generated year (or any number of days) of an organisation's Postfix log: the input of the
//! `audit` benchmark, of the documented year-of-logs run (`benches/examples/maillog.rs`) and of
//! the sender-history run (`smtp/examples/history_month.rs`).
//!
//! The organisation (`northwind-traders.com`) has `people` staff who each send `per_day`
//! messages per working day (a tenth of that on weekends). Recipients per message: 1 (60%), 2
//! (25%), 3 (10%) or 5 (5%). Where they go: 40% colleagues (delivered over LMTP), 20% the big
//! mail providers, 40% 3,000 partner organisations with a skewed (Zipf-like) share each. One
//! recipient in 2,000 is a slip of the domain meant (two letters swapped, or a suffix slip), and
//! a third of those bounce. Each message logs five lines plus one per recipient, as Postfix
//! does: smtpd client, cleanup message-id, qmgr from, smtp/lmtp to, qmgr removed.

use std::io::{self, Write};

use crate::lcg::Lcg as Rng;

// Enough syllables, three or four to a name, that partner names are seldom one slip apart (as
// real organisations' names are).
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mer", "tan", "vo", "ri", "sen", "dal", "po", "ne", "gra", "fil", "tor", "ben",
    "sta", "qui", "mo", "lex", "dor", "ia", "cor", "pan", "ves", "tri", "nu", "hel", "zar", "bo",
    "shu", "gent", "wald", "brook", "stein", "ford", "mark", "hold", "quist", "ander", "hav",
    "jun", "ost", "berg", "lind", "crest", "oak", "pine", "rive", "scal", "tek", "prax", "nov",
    "syl", "gard", "wick", "ham", "ton", "ley", "by",
];
const SUFFIXES: &[&str] = &[
    "com", "com", "com", "com", "net", "org", "de", "fr", "nl", "co.uk", "it", "es", "se", "ch",
    "io", "com.au", "ca", "be",
];

/// `n` distinct partner domains.
pub fn partner_domains(n: usize, rng: &mut Rng) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let mut label = String::new();
        for _ in 0..3 + rng.below(2) {
            label.push_str(SYLLABLES[rng.below(SYLLABLES.len())]);
        }
        let d = format!("{label}.{}", SUFFIXES[rng.below(SUFFIXES.len())]);
        if seen.insert(d.clone()) {
            out.push(d);
        }
    }
    out
}

/// Two adjacent letters of the name swapped.
fn swapped(domain: &str) -> String {
    let mut b = domain.as_bytes().to_vec();
    b.swap(1, 2);
    String::from_utf8(b).unwrap_or_else(|_| domain.to_string())
}

/// The organisation's own domain.
pub const ORG: &str = "northwind-traders.com";

/// The big mail providers the staff also write to.
pub const PROVIDERS: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "hotmail.com",
    "icloud.com",
    "gmx.de",
    "web.de",
    "orange.fr",
    "aol.com",
    "protonmail.com",
];

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS_IN: [usize; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// What was written.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Messages.
    pub messages: u64,
    /// Recipients.
    pub recipients: u64,
    /// Misaddressed recipients (slips) among them.
    pub slips: u64,
    /// Lines.
    pub lines: u64,
    /// Bytes.
    pub bytes: u64,
}

/// A suffix slip: `.com` → `.cm`/`.co`/`.comm`, `.de` → `.dr`, others lose their last letter.
fn suffix_slip(domain: &str, pick: usize) -> String {
    let (name, suffix) = domain.split_once('.').unwrap_or((domain, "com"));
    let typed = match (suffix, pick % 3) {
        ("com", 0) => "cm".to_string(),
        ("com", 1) => "co".to_string(),
        ("com", _) => "comm".to_string(),
        ("de", _) => "dr".to_string(),
        (s, _) if s.len() > 2 => s[..s.len() - 1].to_string(),
        (s, _) => format!("{s}{s}"),
    };
    format!("{name}.{typed}")
}

/// Write `days` days (from 1 January) of the log of an organisation of `people` people, each
/// sending `per_day` messages a working day. Deterministic for a seed.
pub fn write_postfix_log(
    w: &mut impl Write,
    people: usize,
    days: usize,
    per_day: usize,
    seed: u64,
) -> io::Result<Written> {
    let mut rng = Rng::new(seed);
    let partners = partner_domains(3000, &mut rng);
    let users: Vec<String> = (0..people)
        .map(|i| {
            let first = (b'a' + (i % 26) as u8) as char;
            format!("{first}.staff{i}")
        })
        .collect();
    let mut out = Written::default();
    let mut qid: u64 = 0x1_0000_0000;
    let mut buf = String::with_capacity(1 << 16);
    for day in 0..days {
        let (mut m, mut d) = (0usize, day % 365);
        while d >= DAYS_IN[m] {
            d -= DAYS_IN[m];
            m += 1;
        }
        // 1 January 2026 is a Thursday.
        let weekend = matches!((day + 3) % 7, 5 | 6);
        let n = if weekend {
            people * per_day / 10
        } else {
            people * per_day
        };
        for k in 0..n {
            // Spread over the working day, in order.
            let secs = 7 * 3600 + (k as u64 * 12 * 3600) / n.max(1) as u64;
            let ts = format!(
                "{} {:>2} {:02}:{:02}:{:02}",
                MONTHS[m],
                d + 1,
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            );
            qid += 1 + rng.below(7) as u64;
            let user = &users[rng.below(people)];
            let nrcpt = match rng.below(20) {
                0..=11 => 1,
                12..=16 => 2,
                17..=18 => 3,
                _ => 5,
            };
            buf.clear();
            use std::fmt::Write as _;
            let _ = writeln!(
                buf,
                "{ts} mx1 postfix/smtpd[{}]: {qid:X}: client=ws{}.{ORG}[10.1.{}.{}], sasl_method=PLAIN, sasl_username={user}",
                1000 + rng.below(9000),
                rng.below(4000),
                rng.below(250),
                rng.below(250)
            );
            let _ = writeln!(
                buf,
                "{ts} mx1 postfix/cleanup[{}]: {qid:X}: message-id=<{qid:x}.{}@{ORG}>",
                1000 + rng.below(9000),
                rng.below(1 << 30)
            );
            let _ = writeln!(
                buf,
                "{ts} mx1 postfix/qmgr[812]: {qid:X}: from=<{user}@{ORG}>, size={}, nrcpt={nrcpt} (queue active)",
                2000 + rng.below(200_000)
            );
            let mut seen: Vec<String> = Vec::with_capacity(nrcpt);
            for _ in 0..nrcpt {
                let roll = rng.below(100);
                let mut domain = if roll < 40 {
                    ORG.to_string()
                } else if roll < 60 {
                    PROVIDERS[rng.below(PROVIDERS.len())].to_string()
                } else {
                    // Zipf-like: a few partners get most of the mail.
                    let u = rng.below(1 << 20) as f64 / (1 << 20) as f64;
                    partners[((u * u * u) * partners.len() as f64) as usize].clone()
                };
                let local = if domain == ORG {
                    users[rng.below(people)].clone()
                } else {
                    format!("contact{}", rng.below(500))
                };
                let addr = format!("{local}@{domain}");
                if seen.contains(&addr) {
                    continue; // the same recipient twice: once is enough
                }
                seen.push(addr);
                let slip = rng.below(2000) == 0;
                if slip {
                    domain = if rng.below(2) == 0
                        && domain.split('.').next().is_some_and(|l| l.len() >= 5)
                    {
                        swapped(&domain)
                    } else {
                        suffix_slip(&domain, rng.below(3))
                    };
                    out.slips += 1;
                }
                let delay = rng.below(90);
                if domain == ORG {
                    let _ = writeln!(
                        buf,
                        "{ts} mx1 postfix/lmtp[{}]: {qid:X}: to=<{local}@{domain}>, relay=mail.{ORG}[private/dovecot-lmtp], delay=0.{delay:02}, delays=0.01/0/0/0.{delay:02}, dsn=2.0.0, status=sent (250 2.0.0 <{local}@{domain}> Saved)",
                        1000 + rng.below(9000)
                    );
                } else if slip && rng.below(3) == 0 {
                    let _ = writeln!(
                        buf,
                        "{ts} mx1 postfix/smtp[{}]: {qid:X}: to=<{local}@{domain}>, relay=none, delay=0.{delay:02}, delays=0.01/0/0.{delay:02}/0, dsn=5.4.4, status=bounced (Host or domain name not found. Name service error for name={domain} type=MX: Host not found)",
                        1000 + rng.below(9000)
                    );
                } else {
                    let _ = writeln!(
                        buf,
                        "{ts} mx1 postfix/smtp[{}]: {qid:X}: to=<{local}@{domain}>, relay=mx.{domain}[203.0.113.{}]:25, delay=0.{delay:02}, delays=0.01/0/0.1/0.{delay:02}, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {:X})",
                        1000 + rng.below(9000),
                        rng.below(250),
                        rng.below(1 << 30)
                    );
                }
                out.recipients += 1;
            }
            let _ = writeln!(buf, "{ts} mx1 postfix/qmgr[812]: {qid:X}: removed");
            out.messages += 1;
            out.lines += 4 + seen.len() as u64;
            out.bytes += buf.len() as u64;
            w.write_all(buf.as_bytes())?;
        }
    }
    Ok(out)
}
