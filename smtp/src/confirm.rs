//! Confirm by resending: a refused (sender, recipient) pair is remembered for a window; the same
//! pair sent again within it goes through. No clock here: times are milliseconds given by the
//! caller, so every case is a unit test.
//!
//! Memory is bounded: at most `cap` pairs, each held as a 64-bit keyed hash of the pair (never
//! the addresses) and its expiry, in a hash table and an expiry queue. At the cap the oldest pair
//! is forgotten (that sender is asked again, which is safe). Nothing survives a restart.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};

/// The default window: ten minutes.
pub const DEFAULT_WINDOW_MS: u64 = 10 * 60 * 1000;
/// The default cap.
pub const DEFAULT_CAP: usize = 100_000;

/// The refused pairs of the last window.
#[derive(Debug)]
pub struct ConfirmStore {
    window_ms: u64,
    cap: usize,
    /// Key → expiry.
    until: HashMap<u64, u64>,
    /// (key, expiry) in the order remembered, which is the order of expiry (one window for all).
    queue: VecDeque<(u64, u64)>,
    /// Keys are keyed hashes: nobody outside can make two pairs collide on purpose.
    keys: RandomState,
    forgotten_at_cap: u64,
}

impl ConfirmStore {
    /// An empty store.
    pub fn new(window_ms: u64, cap: usize) -> ConfirmStore {
        ConfirmStore {
            window_ms,
            cap: cap.max(1),
            until: HashMap::new(),
            queue: VecDeque::new(),
            keys: RandomState::new(),
            forgotten_at_cap: 0,
        }
    }

    /// The window in milliseconds.
    pub fn window_ms(&self) -> u64 {
        self.window_ms
    }

    fn key(&self, sender: &str, recipient: &str) -> u64 {
        let mut h = self.keys.build_hasher();
        for b in sender.bytes() {
            h.write_u8(b.to_ascii_lowercase());
        }
        h.write_u8(0);
        for b in recipient.bytes() {
            h.write_u8(b.to_ascii_lowercase());
        }
        h.finish()
    }

    fn expire(&mut self, now_ms: u64) {
        while let Some(&(k, t)) = self.queue.front() {
            if t > now_ms {
                break;
            }
            self.queue.pop_front();
            // A pair refused again later has a later expiry: only the latest counts.
            if self.until.get(&k) == Some(&t) {
                self.until.remove(&k);
            }
        }
    }

    /// Remember that `sender` was refused `recipient` at `now_ms`.
    pub fn remember(&mut self, sender: &str, recipient: &str, now_ms: u64) {
        self.expire(now_ms);
        let k = self.key(sender, recipient);
        let t = now_ms.saturating_add(self.window_ms);
        while self.queue.len() >= self.cap {
            if let Some((old, old_t)) = self.queue.pop_front() {
                if self.until.get(&old) == Some(&old_t) {
                    self.until.remove(&old);
                    self.forgotten_at_cap += 1;
                }
            }
        }
        self.until.insert(k, t);
        self.queue.push_back((k, t));
    }

    /// Whether `sender` was refused `recipient` within the window before `now_ms`. The pair stays
    /// remembered until its window ends (a client that sends the confirmed message again, or
    /// retries it, is not asked twice).
    pub fn confirmed(&mut self, sender: &str, recipient: &str, now_ms: u64) -> bool {
        self.expire(now_ms);
        let k = self.key(sender, recipient);
        self.until.get(&k).is_some_and(|&t| t > now_ms)
    }

    /// Pairs remembered now.
    pub fn len(&self) -> usize {
        self.until.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.until.is_empty()
    }

    /// Pairs forgotten because the store was full.
    pub fn forgotten_at_cap(&self) -> u64 {
        self.forgotten_at_cap
    }

    /// The bytes the table and the queue have reserved (their capacity, not their length).
    pub fn reserved_bytes(&self) -> usize {
        // hashbrown: one control byte per bucket plus the entry; buckets ≥ capacity.
        let buckets = (self.until.capacity() * 8 / 7).next_power_of_two();
        buckets * (std::mem::size_of::<(u64, u64)>() + 1)
            + self.queue.capacity() * std::mem::size_of::<(u64, u64)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resend_within_the_window_is_confirmed_and_after_it_is_not() {
        let mut s = ConfirmStore::new(600_000, 10);
        assert!(!s.confirmed("ray.k@army.mil", "c@navy.ml", 0));
        s.remember("ray.k@army.mil", "c@navy.ml", 1_000);
        assert!(s.confirmed("ray.k@army.mil", "c@navy.ml", 2_000));
        // Case does not matter; another sender or recipient is another pair.
        assert!(s.confirmed("Ray.K@Army.mil", "C@NAVY.ML", 2_000));
        assert!(!s.confirmed("ann@army.mil", "c@navy.ml", 2_000));
        assert!(!s.confirmed("ray.k@army.mil", "d@navy.ml", 2_000));
        // Still there for a second resend inside the window, gone once it ends.
        assert!(s.confirmed("ray.k@army.mil", "c@navy.ml", 600_999));
        assert!(!s.confirmed("ray.k@army.mil", "c@navy.ml", 601_000));
        assert!(s.is_empty());
    }

    #[test]
    fn a_pair_refused_again_gets_a_new_window() {
        let mut s = ConfirmStore::new(1_000, 10);
        s.remember("a@x.mil", "b@navy.ml", 0);
        s.remember("a@x.mil", "b@navy.ml", 800);
        // The first entry's expiry (1,000) passes; the second (1,800) holds.
        assert!(s.confirmed("a@x.mil", "b@navy.ml", 1_500));
        assert_eq!(s.len(), 1);
        assert!(!s.confirmed("a@x.mil", "b@navy.ml", 1_800));
    }

    #[test]
    fn at_the_cap_the_oldest_pair_is_forgotten() {
        let mut s = ConfirmStore::new(600_000, 3);
        for (i, r) in ["a@navy.ml", "b@navy.ml", "c@navy.ml", "d@navy.ml"]
            .iter()
            .enumerate()
        {
            s.remember("ray@army.mil", r, i as u64);
        }
        assert_eq!(s.len(), 3);
        assert_eq!(s.forgotten_at_cap(), 1);
        assert!(!s.confirmed("ray@army.mil", "a@navy.ml", 10));
        assert!(s.confirmed("ray@army.mil", "d@navy.ml", 10));
        assert!(s.reserved_bytes() > 0);
    }
}
