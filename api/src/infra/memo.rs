//! Values an instance keeps in its own memory, bounded. Nothing in one is the truth: each user
//! says why an entry it finds may be trusted (a version, an expiry, a check in the statement
//! that uses it).
use std::{
    borrow::Borrow,
    collections::HashMap,
    hash::Hash,
    sync::{Mutex, MutexGuard},
};

/// A map of at most `capacity` entries; when full it starts afresh rather than tracking which
/// entry is oldest: the entries are cheap to load again, and a stranger sending new keys can
/// make it forget but never grow.
pub struct Memo<K, V> {
    entries: Mutex<HashMap<K, V>>,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::default(),
            capacity,
        }
    }

    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.lock().get(key).cloned()
    }

    pub fn put(&self, key: K, value: V) {
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, value);
    }

    pub fn forget(&self, key: &K) {
        self.lock().remove(key);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, V>> {
        // A panic while the map was held cannot leave it half-changed in a way that matters.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::Memo;

    #[test]
    fn a_full_memo_starts_afresh_and_never_holds_more_than_its_capacity() {
        let memo = Memo::new(2);
        memo.put(1, "a");
        memo.put(2, "b");
        memo.put(2, "B");
        assert_eq!((memo.get(&1), memo.get(&2)), (Some("a"), Some("B")));
        memo.put(3, "c");
        assert_eq!((memo.get(&1), memo.get(&2)), (None, None));
        assert_eq!(memo.get(&3), Some("c"));
        memo.forget(&3);
        assert_eq!(memo.get(&3), None);
    }
}
