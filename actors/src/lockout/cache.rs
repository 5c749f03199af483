//! The actor's bounded in-memory cache of counters.
//!
//! Two generations: new and recently used entries go to `hot`; when `hot` holds half the
//! capacity it becomes `cold` (the previous `cold` is dropped). A hit in `cold` moves the entry
//! back to `hot`. Every operation is O(1) and the cache never holds more than `cap` entries.
//! Dropping an entry forgets nothing: the store is the source of truth and a miss reloads it,
//! so a flood of distinct names cannot evict a victim's counter.

use std::collections::HashMap;

use super::counter::Counter;

#[derive(Debug)]
pub(crate) struct Cache {
    hot: HashMap<Vec<u8>, Counter>,
    cold: HashMap<Vec<u8>, Counter>,
    half: usize,
}

impl Cache {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            hot: HashMap::new(),
            cold: HashMap::new(),
            half: (cap / 2).max(1),
        }
    }

    pub(crate) fn get(&mut self, key: &[u8]) -> Option<Counter> {
        if let Some(c) = self.hot.get(key) {
            return Some(*c);
        }
        let c = self.cold.remove(key)?;
        self.insert(key.to_vec(), c);
        Some(c)
    }

    pub(crate) fn insert(&mut self, key: Vec<u8>, c: Counter) {
        self.cold.remove(&key);
        self.hot.insert(key, c);
        if self.hot.len() >= self.half {
            self.cold = std::mem::take(&mut self.hot);
        }
    }

    pub(crate) fn remove(&mut self, key: &[u8]) {
        self.hot.remove(key);
        self.cold.remove(key);
    }

    pub(crate) fn clear(&mut self) {
        self.hot = HashMap::new();
        self.cold = HashMap::new();
    }

    pub(crate) fn len(&self) -> usize {
        self.hot.len() + self.cold.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(n: u64) -> Counter {
        Counter {
            failures: n,
            ..Counter::default()
        }
    }

    #[test]
    fn never_holds_more_than_the_capacity() {
        let mut cache = Cache::new(100);
        for i in 0u32..10_000 {
            cache.insert(i.to_be_bytes().to_vec(), c(u64::from(i)));
            assert!(cache.len() <= 100);
        }
        // The most recent entries are still there.
        assert_eq!(cache.get(&9_999u32.to_be_bytes()), Some(c(9_999)));
    }

    #[test]
    fn a_hit_keeps_an_entry_alive_and_remove_forgets_it() {
        let mut cache = Cache::new(4);
        cache.insert(b"victim".to_vec(), c(7));
        for i in 0u8..20 {
            cache.insert(vec![i], c(0));
            assert_eq!(cache.get(b"victim"), Some(c(7)), "after {i} inserts");
        }
        cache.remove(b"victim");
        assert_eq!(cache.get(b"victim"), None);
        let mut one = Cache::new(1);
        one.insert(b"a".to_vec(), c(1));
        one.insert(b"b".to_vec(), c(2));
        assert!(one.len() <= 1);
    }
}
