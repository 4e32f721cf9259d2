//! A small deterministic generator (64-bit LCG), so runs compare across machines. Used by the
//! benchmarks' synthetic domains and by the generated mail log (`maillog.rs`).

/// A 64-bit LCG.
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
