//! Reference domains and the indexes that find, for a typed domain, the few references it may be
//! a slip of — without scanning them all.
//!
//! - `exact`: every reference by its ASCII name.
//! - label keys: each reference's registrable label (`gmail` of `gmail.com`) and, for references
//!   with subdomains, the labels joined without dots (`usaf` of `us.af.mil`).
//! - a symmetric-deletion index over the label keys (each key and every key with one character
//!   deleted, hashed to 64 bits and sorted): two labels within one edit share an entry, so a
//!   lookup costs one binary search per deletion of the typed label, whatever the number of
//!   references.
//! - `skeletons`: references by their lookalike skeleton (UTS #39 plus ASCII folds).

use hashbrown::HashTable;
use std::hash::Hasher;
use std::sync::OnceLock;

use crate::domain::{find_byte, Domain};
use crate::hasher::{FastHasher, FastMap};
use crate::slips::skeleton;

/// Why a domain is a reference; ordered from weakest to strongest context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Class {
    /// A well-known provider (`known` in the policy).
    Known,
    /// A legitimate organisation (`trusted`).
    Trusted,
    /// A domain whose lookalikes are dangerous (`protected`).
    Protected,
    /// In the sender's contacts.
    Contact,
    /// The sender's own domain.
    Sender,
}

#[derive(Debug, Clone)]
pub(crate) struct Ref {
    pub domain: Domain,
    pub class: Class,
    /// Protected by a suffix pattern or listed as protected.
    pub protected: bool,
    /// The lookalike skeleton of the domain, when it differs from the name: computed on first
    /// use, once (a request's sender reference usually never needs it).
    skeleton: OnceLock<Option<String>>,
}

impl Ref {
    /// The lookalike skeleton.
    pub fn skeleton(&self) -> &str {
        let s = self
            .skeleton
            .get_or_init(|| match skeleton(&self.domain.unicode) {
                std::borrow::Cow::Owned(s) if s != self.domain.ascii => Some(s),
                _ => None,
            });
        s.as_deref().unwrap_or(&self.domain.ascii)
    }

    pub fn new(domain: Domain, class: Class, protected: bool) -> Ref {
        Ref {
            skeleton: OnceLock::new(),
            domain,
            class,
            protected,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct RefSet {
    pub refs: Vec<Ref>,
    /// Reference ids, found by their ASCII name (held in `refs`, so no key is stored twice).
    exact: HashTable<u32>,
    /// The label keys, one after another: key `k` is `key_text[key_ends[k - 1]..key_ends[k]]`.
    key_text: String,
    key_ends: Vec<u32>,
    /// Key ids, found by their text.
    keys: HashTable<u32>,
    /// The references of key `k`: `members[starts[k]..starts[k + 1]]`, in reference order.
    starts: Vec<u32>,
    members: Vec<u32>,
    /// Hashes of label keys and of their one-deletion variants → key ids.
    deletions: DeletionTable,
    skeletons: FastMap<String, Vec<u32>>,
    /// First labels of references (`army` of `army.mil`, `us` of `us.af.mil`), and their part
    /// before a hyphen, as (reference id, length) of a prefix of its name: an embedded name is
    /// only looked up when its first label is one of these.
    first_labels: HashTable<(u32, u32)>,
}

/// `s` up to the first `c` (all of it without one).
fn before(s: &str, c: u8) -> &str {
    &s[..find_byte(s, c).unwrap_or(s.len())]
}

/// The hash the reference tables use for names and keys.
fn hash_str(s: &str) -> u64 {
    let mut h = FastHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

/// A `first_labels` entry's text: the first `len` bytes of reference `i`'s name.
fn prefix(refs: &[Ref], (i, len): (u32, u32)) -> &str {
    &refs[i as usize].domain.ascii[..len as usize]
}

/// Key `k` of a `key_text`/`key_ends` pair.
fn key_at<'a>(text: &'a str, ends: &[u32], k: u32) -> &'a str {
    let k = k as usize;
    let start = if k == 0 { 0 } else { ends[k - 1] as usize };
    &text[start..ends[k] as usize]
}

/// An open-addressing multi-map from 64-bit hashes to label ids (linear probing, load at most
/// one half): a lookup is one probe run, usually one cache line, where a binary search over a
/// million sorted entries costs twenty misses; building needs no sort.
#[derive(Debug, Clone, Default)]
struct DeletionTable {
    /// Slot → hash (0 = empty; real hashes are forced non-zero).
    keys: Vec<u64>,
    /// Slot → label id.
    ids: Vec<u32>,
    mask: usize,
}

impl DeletionTable {
    fn with_capacity(entries: usize) -> DeletionTable {
        let size = (entries * 2).next_power_of_two().max(16);
        DeletionTable {
            keys: vec![0; size],
            ids: vec![0; size],
            mask: size - 1,
        }
    }

    fn insert(&mut self, h: u64, id: u32) {
        let mut slot = (h as usize) & self.mask;
        while self.keys[slot] != 0 {
            if self.keys[slot] == h && self.ids[slot] == id {
                return;
            }
            slot = (slot + 1) & self.mask;
        }
        self.keys[slot] = h;
        self.ids[slot] = id;
    }

    /// Every id stored under `h`.
    fn for_each(&self, h: u64, mut f: impl FnMut(u32) -> bool) {
        if self.keys.is_empty() {
            return;
        }
        let mut slot = (h as usize) & self.mask;
        loop {
            match self.keys[slot] {
                0 => return,
                k if k == h && !f(self.ids[slot]) => return,
                _ => {}
            }
            slot = (slot + 1) & self.mask;
        }
    }
}

const BASE: u64 = 0x100_0000_01b3;

fn finish(h: u64, len: usize) -> u64 {
    // Mix in the length so that deletions of different strings rarely collide; never 0 (the
    // table's empty mark).
    let h = h ^ (len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let h = (h ^ (h >> 31)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    (h ^ (h >> 29)) | 1
}

/// The hash of `s` and of every one-deletion variant of `s`, in O(len): a polynomial hash, where
/// deleting byte `i` leaves the prefix shifted by one power and the suffix's weights unchanged.
fn deletion_hashes(s: &[u8], mut out: impl FnMut(u64)) {
    const N: usize = MAX_INDEXED_LABEL + 1;
    let n = s.len();
    if n > MAX_INDEXED_LABEL {
        return;
    }
    // prefix[i] = hash of s[..i]; suffix[i] = sum over k >= i of s[k] * BASE^(n-1-k).
    let mut prefix = [0u64; N];
    let mut suffix = [0u64; N + 1];
    for i in 0..n {
        prefix[i + 1] = prefix[i]
            .wrapping_mul(BASE)
            .wrapping_add(u64::from(s[i]) + 1);
    }
    let mut pow = 1u64;
    for i in (0..n).rev() {
        suffix[i] = suffix[i + 1].wrapping_add((u64::from(s[i]) + 1).wrapping_mul(pow));
        pow = pow.wrapping_mul(BASE);
    }
    out(finish(prefix[n], n));
    if n < 3 {
        return;
    }
    // Deleting i: prefix[i] * BASE^(n-1-i) + suffix[i+1].
    let mut pw = 1u64;
    let mut pows = [0u64; N];
    for p in pows.iter_mut().take(n) {
        *p = pw;
        pw = pw.wrapping_mul(BASE);
    }
    for i in 0..n {
        let h = prefix[i]
            .wrapping_mul(pows[n - 1 - i])
            .wrapping_add(suffix[i + 1]);
        out(finish(h, n - 1));
    }
}

/// Longest label indexed by deletion; longer labels are only matched exactly.
const MAX_INDEXED_LABEL: usize = 40;
/// Most candidates returned for one lookup (bounds the work for hostile input).
pub(crate) const MAX_CANDIDATES: usize = 48;

impl RefSet {
    /// Build from references; later duplicates of a domain keep the strongest class.
    pub fn build(refs: impl IntoIterator<Item = Ref>) -> RefSet {
        let refs = refs.into_iter();
        // Sized up front: growing tables of 100,000 entries rehashes them many times over.
        let n = refs.size_hint().0;
        let mut set = RefSet {
            refs: Vec::with_capacity(n),
            exact: HashTable::with_capacity(n),
            key_text: String::with_capacity(n * 8),
            key_ends: Vec::with_capacity(n),
            keys: HashTable::with_capacity(n),
            first_labels: HashTable::with_capacity(n),
            ..RefSet::default()
        };
        // (key id, reference id), in reference order; grouped by key below.
        let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(n + n / 8);
        for r in refs {
            let h = hash_str(&r.domain.ascii);
            let all = &set.refs;
            if let Some(&id) = set
                .exact
                .find(h, |&i| all[i as usize].domain.ascii == r.domain.ascii)
            {
                let old = &mut set.refs[id as usize];
                old.protected |= r.protected;
                if r.class > old.class {
                    old.class = r.class;
                }
                continue;
            }
            let id = set.refs.len() as u32;
            // Most names are their own skeleton and are found through `exact` instead.
            let sk = r.skeleton();
            if sk != r.domain.ascii {
                set.skeletons.entry(sk.to_string()).or_default().push(id);
            }
            set.refs.push(r);
            let all = &set.refs;
            set.exact
                .insert_unique(h, id, |&i| hash_str(&all[i as usize].domain.ascii));
            let d = &all[id as usize].domain;
            let head = d.head();
            // The joined key only differs from the label when the head has several labels.
            let joined = find_byte(head, b'.').map(|_| head.replace('.', ""));
            for key in std::iter::once(d.label()).chain(joined.as_deref()) {
                if key.is_empty() {
                    continue;
                }
                let kh = hash_str(key);
                let (text, ends) = (&mut set.key_text, &mut set.key_ends);
                let k = match set.keys.find(kh, |&k| key_at(text, ends, k) == key) {
                    Some(&k) => k,
                    None => {
                        let k = ends.len() as u32;
                        text.push_str(key);
                        ends.push(text.len() as u32);
                        set.keys
                            .insert_unique(kh, k, |&k| hash_str(key_at(text, ends, k)));
                        k
                    }
                };
                pairs.push((k, id));
            }
            let first = before(&d.ascii, b'.');
            let before_hyphen = before(first, b'-');
            for f in [first, before_hyphen] {
                let fh = hash_str(f);
                if set
                    .first_labels
                    .find(fh, |&e| prefix(all, e) == f)
                    .is_none()
                {
                    set.first_labels
                        .insert_unique(fh, (id, f.len() as u32), |&e| hash_str(prefix(all, e)));
                }
            }
        }
        // Group the references by key (a stable counting sort: reference order within a key).
        let nk = set.key_ends.len();
        let mut starts = vec![0u32; nk + 1];
        for &(k, _) in &pairs {
            starts[k as usize + 1] += 1;
        }
        for i in 0..nk {
            starts[i + 1] += starts[i];
        }
        let mut next = starts.clone();
        let mut members = vec![0u32; pairs.len()];
        for &(k, id) in &pairs {
            let at = &mut next[k as usize];
            members[*at as usize] = id;
            *at += 1;
        }
        set.starts = starts;
        set.members = members;
        let keys = || (0..nk as u32).map(|k| key_at(&set.key_text, &set.key_ends, k));
        let entries: usize = keys()
            .filter(|k| k.len() <= MAX_INDEXED_LABEL)
            .map(|k| k.len() + 1)
            .sum();
        let mut table = DeletionTable::with_capacity(entries);
        for (k, key) in keys().enumerate() {
            let b = key.as_bytes();
            if b.len() > MAX_INDEXED_LABEL {
                continue;
            }
            deletion_hashes(b, |h| table.insert(h, k as u32));
        }
        set.deletions = table;
        set
    }

    pub fn len(&self) -> usize {
        self.refs.len()
    }

    /// The reference for this exact ASCII domain.
    pub fn get(&self, ascii: &str) -> Option<&Ref> {
        self.exact
            .find(hash_str(ascii), |&i| {
                self.refs[i as usize].domain.ascii == ascii
            })
            .map(|&i| &self.refs[i as usize])
    }

    /// The id of the label key `key`.
    fn key_id(&self, key: &str) -> Option<u32> {
        self.keys
            .find(hash_str(key), |&k| {
                key_at(&self.key_text, &self.key_ends, k) == key
            })
            .copied()
    }

    /// The reference equal to `ascii` or to one of its parent domains (`mail.army.mil` →
    /// `army.mil`), stopping at the public suffix.
    pub fn covering(&self, d: &Domain) -> Option<&Ref> {
        let mut s = d.ascii.as_str();
        let stop = d.suffix_len;
        loop {
            if let Some(r) = self.get(s) {
                return Some(r);
            }
            match find_byte(s, b'.') {
                Some(p) if s.len() - p - 1 > stop => s = &s[p + 1..],
                _ => return None,
            }
        }
    }

    fn push_label(&self, k: u32, out: &mut Vec<u32>) {
        let (a, b) = (self.starts[k as usize], self.starts[k as usize + 1]);
        for &id in &self.members[a as usize..b as usize] {
            if out.len() >= MAX_CANDIDATES {
                return;
            }
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }

    /// References whose label key equals `key`.
    pub fn by_label(&self, key: &str, out: &mut Vec<u32>) {
        if let Some(k) = self.key_id(key) {
            self.push_label(k, out);
        }
    }

    fn lookup_hash(&self, h: u64, out: &mut Vec<u32>) {
        self.deletions.for_each(h, |lid| {
            self.push_label(lid, out);
            out.len() < MAX_CANDIDATES
        });
    }

    /// Whether some reference's name starts with this label.
    pub fn has_first_label(&self, label: &str) -> bool {
        self.first_labels
            .find(hash_str(label), |&e| prefix(&self.refs, e) == label)
            .is_some()
    }

    /// References whose label key is within about one edit of `key` (a superset: candidates are
    /// verified by the slip cost afterwards). With `two`, also those within about two edits of
    /// long keys.
    pub fn near_label(&self, key: &str, two: bool, out: &mut Vec<u32>) {
        let b = key.as_bytes();
        if b.len() < 3 || b.len() > MAX_INDEXED_LABEL {
            return;
        }
        deletion_hashes(b, |h| self.lookup_hash(h, out));
        if two && b.len() >= 7 {
            let mut buf = [0u8; MAX_INDEXED_LABEL];
            for i in 0..b.len() {
                // `b` without byte `i`, then its deletions from `i` on (the earlier ones were
                // tried from another `i`).
                let m = b.len() - 1;
                buf[..i].copy_from_slice(&b[..i]);
                buf[i..m].copy_from_slice(&b[i + 1..]);
                let mut seen = 0;
                deletion_hashes(&buf[..m], |h| {
                    if seen > i {
                        self.lookup_hash(h, out);
                    }
                    seen += 1;
                });
            }
        }
    }

    /// References whose label key is one edit from a short `key` (1 to 3 characters), found by
    /// trying every one-edit variant: a fixed number of lookups, whatever the number of references.
    pub fn near_short_label(&self, key: &str, out: &mut Vec<u32>) {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-";
        let b = key.as_bytes();
        if b.is_empty() || b.len() > 3 || !key.is_ascii() {
            return;
        }
        let mut buf: Vec<u8> = Vec::with_capacity(4);
        let probe = |v: &[u8], out: &mut Vec<u32>| {
            if let Ok(k) = std::str::from_utf8(v) {
                if let Some(k) = self.key_id(k) {
                    self.push_label(k, out);
                }
            }
        };
        for i in 0..b.len() {
            buf.clear();
            buf.extend_from_slice(b);
            buf.remove(i);
            probe(&buf, out);
            if i + 1 < b.len() {
                buf.clear();
                buf.extend_from_slice(b);
                buf.swap(i, i + 1);
                probe(&buf, out);
            }
            for &c in ALPHABET {
                buf.clear();
                buf.extend_from_slice(b);
                buf[i] = c;
                probe(&buf, out);
            }
        }
        for i in 0..=b.len() {
            for &c in ALPHABET {
                buf.clear();
                buf.extend_from_slice(&b[..i]);
                buf.push(c);
                buf.extend_from_slice(&b[i..]);
                probe(&buf, out);
            }
        }
    }

    /// References with this lookalike skeleton.
    pub fn by_skeleton(&self, sk: &str, out: &mut Vec<u32>) {
        if let Some(id) = self
            .exact
            .find(hash_str(sk), |&i| self.refs[i as usize].domain.ascii == sk)
            .copied()
        {
            if out.len() < MAX_CANDIDATES
                && !out.contains(&id)
                && self.refs[id as usize].skeleton() == sk
            {
                out.push(id);
            }
        }
        if let Some(v) = self.skeletons.get(sk) {
            for &id in v {
                if out.len() < MAX_CANDIDATES && !out.contains(&id) {
                    out.push(id);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::normalize;

    fn set(names: &[&str]) -> RefSet {
        RefSet::build(
            names
                .iter()
                .map(|n| Ref::new(normalize(n).unwrap(), Class::Known, false)),
        )
    }

    fn names(s: &RefSet, ids: &[u32]) -> Vec<String> {
        let mut v: Vec<String> = ids
            .iter()
            .map(|&i| s.refs[i as usize].domain.ascii.clone())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn finds_near_labels_only() {
        let s = set(&[
            "gmail.com",
            "hotmail.com",
            "us.af.mil",
            "army.mil",
            "navy.mil",
        ]);
        let mut out = Vec::new();
        s.near_label("gmial", false, &mut out);
        assert_eq!(names(&s, &out), ["gmail.com"]);
        out.clear();
        s.near_label("gmai", false, &mut out);
        assert_eq!(names(&s, &out), ["gmail.com"]);
        out.clear();
        s.near_label("amry", false, &mut out);
        assert_eq!(names(&s, &out), ["army.mil"]);
        out.clear();
        s.by_label("usaf", &mut out);
        assert_eq!(names(&s, &out), ["us.af.mil"]);
        out.clear();
        s.near_label("outlook", false, &mut out);
        assert!(out.is_empty());
        let d = normalize("mail.army.mil").unwrap();
        assert_eq!(s.covering(&d).unwrap().domain.ascii, "army.mil");
        let d = normalize("army.mil.ml").unwrap();
        assert!(s.covering(&d).is_none());
    }
}
