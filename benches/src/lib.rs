//! Shared helpers for the benchmarks: deterministic synthetic reference domains.

pub use mistype_testdata::lcg::Lcg;

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mer", "tan", "vo", "ri", "sen", "dal", "po", "ne", "gra", "fil", "tor", "ben",
    "sta", "qui", "mo", "lex", "dor", "ia", "cor", "pan", "ves", "tri", "nu", "hel", "zar", "bo",
    "fen", "gal", "rok", "sil", "wen", "yor", "ul", "ema",
];
const SUFFIXES: &[&str] = &[
    "com", "com", "com", "net", "org", "de", "fr", "nl", "co.uk", "it", "es", "pl", "se", "ch",
    "io", "com.au", "ca", "be", "at", "mil", "gov", "gov.uk",
];

/// `n` distinct plausible organisation domains (two to four syllables plus a suffix).
pub fn synthetic_domains(n: usize, seed: u64) -> Vec<String> {
    let mut rng = Lcg::new(seed);
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let parts = 2 + rng.below(3);
        let mut label = String::new();
        for _ in 0..parts {
            label.push_str(SYLLABLES[rng.below(SYLLABLES.len())]);
        }
        let d = format!("{label}.{}", SUFFIXES[rng.below(SUFFIXES.len())]);
        if seen.insert(d.clone()) {
            out.push(d);
        }
    }
    out
}

/// A one-slip typo of `domain`: two adjacent letters of the name swapped.
pub fn typo_of(domain: &str) -> String {
    let dot = domain.find('.').unwrap_or(domain.len());
    let mut b = domain.as_bytes().to_vec();
    if dot >= 4 {
        b.swap(1, 2);
    }
    String::from_utf8(b).unwrap_or_else(|_| domain.to_string())
}

pub use mistype_testdata::maillog;
