//! A header map with Envoy's semantics (`Http::HeaderMapImpl` as seen through the Wasm ABI).
//!
//! - keys are lower-cased on every operation (`Http::LowerCaseString`);
//! - iteration is insertion order, except that pseudo-headers (`:method`, ...) are kept
//!   before all regular headers;
//! - `get` answers the *first* value of a repeated header (Envoy's `getHeaderMapValue`);
//! - `add` appends another value; `replace` removes every value and adds one at the end
//!   (`setCopy` with `http_set_copy_replace_all_headers`, on by default);
//! - `remove` removes every value.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderMap {
    entries: Vec<(String, String)>,
}

impl HeaderMap {
    pub fn new() -> HeaderMap {
        HeaderMap::default()
    }

    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.add(k.as_ref(), v.as_ref());
        }
        map
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.entries
    }

    /// Envoy's `byteSize()`: the sum of key and value lengths.
    pub fn byte_size(&self) -> usize {
        self.entries.iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    /// The first value of `key` (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        let key = key.to_ascii_lowercase();
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub fn get_all(&self, key: &str) -> Vec<&str> {
        let key = key.to_ascii_lowercase();
        self.entries
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn add(&mut self, key: &str, value: &str) {
        let key = key.to_ascii_lowercase();
        if key.starts_with(':') {
            let at = self
                .entries
                .iter()
                .position(|(k, _)| !k.starts_with(':'))
                .unwrap_or(self.entries.len());
            self.entries.insert(at, (key, value.to_string()));
        } else {
            self.entries.push((key, value.to_string()));
        }
    }

    pub fn replace(&mut self, key: &str, value: &str) {
        self.remove(key);
        self.add(key, value);
    }

    pub fn remove(&mut self, key: &str) {
        let key = key.to_ascii_lowercase();
        self.entries.retain(|(k, _)| *k != key);
    }

    /// `setHeaderMapPairs`: drop everything, then add each pair in order.
    pub fn set_all(&mut self, pairs: &[(String, String)]) {
        self.entries.clear();
        for (k, v) in pairs {
            self.add(k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envoy_semantics() {
        let mut m = HeaderMap::from_pairs(&[("Content-Type", "a"), (":path", "/x")]);
        assert_eq!(m.pairs()[0].0, ":path", "pseudo-headers come first");
        m.add("x-a", "1");
        m.add("X-A", "2");
        assert_eq!(m.get("x-a"), Some("1"));
        assert_eq!(m.get_all("x-a"), vec!["1", "2"]);
        m.replace("x-a", "3");
        assert_eq!(m.get_all("x-a"), vec!["3"]);
        m.remove("CONTENT-TYPE");
        assert_eq!(m.get("content-type"), None);
        assert_eq!(m.byte_size(), ":path".len() + 2 + 3 + 1);
    }
}
