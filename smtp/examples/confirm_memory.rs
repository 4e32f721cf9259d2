//! Memory of the confirm store at its cap: the store filled with distinct refused pairs up to
//! the cap (and past it, so that the oldest are forgotten), measured as the process's resident
//! memory before and after, and as the bytes its tables reserve.
//!
//!   cargo run --release -p mistype-smtp --example confirm_memory [CAP]

use mistype_smtp::confirm::{ConfirmStore, DEFAULT_WINDOW_MS};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let cap: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(mistype_smtp::confirm::DEFAULT_CAP);
    let before = rss_kib();
    let mut s = ConfirmStore::new(DEFAULT_WINDOW_MS, cap);
    // All within one window (nothing expires): the store is held at its cap.
    for i in 0..cap + cap / 2 {
        s.remember(
            &format!("sender{}@army.mil", i % 5000),
            &format!("r{i}@navy.ml"),
            0,
        );
    }
    let after = rss_kib();
    println!(
        "cap {cap}: {} pairs held, {} forgotten at the cap; tables reserve {:.1} MiB ({:.0} bytes a pair); resident memory grew {:.1} MiB",
        s.len(),
        s.forgotten_at_cap(),
        s.reserved_bytes() as f64 / (1 << 20) as f64,
        s.reserved_bytes() as f64 / cap as f64,
        (after.saturating_sub(before)) as f64 / 1024.0
    );
}
