//! Shared helpers for the benchmarks: deterministic synthetic reference domains.

/// A small deterministic generator (64-bit LCG), so runs compare across machines.
#[derive(Debug, Clone)]
pub struct Lcg(u64);

impl Lcg {
    /// Seeded generator.
    pub fn new(seed: u64) -> Lcg {
        Lcg(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    /// Next value below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

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

pub mod maillog;
