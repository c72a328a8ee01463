//! [`StatementCache`]: sanitized statements by text, bounded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Texts longer than this are sanitized every time rather than pinned.
const MAX_CACHED_TEXT: usize = 16 * 1024;

/// A bounded cache of sanitized statements keyed by their text.
///
/// Hashed with foldhash, not the standard SipHash: the lookup is on every
/// query, and SipHash over a statement's text was some 350 instructions of
/// it on the process bench's profile. foldhash is seeded at random per
/// process; the texts are the application's own, and the map is bounded.
///
/// When full it is cleared, not evicted entry by entry: a workload whose
/// statement texts never repeat (literals inlined) gains nothing from LRU
/// bookkeeping, and one that repeats refills at once.
#[derive(Debug)]
pub struct StatementCache<V> {
    map: Mutex<HashMap<Box<str>, Arc<V>, foldhash::fast::RandomState>>,
    capacity: usize,
}

impl<V> StatementCache<V> {
    /// A cache holding at most `capacity` statements.
    pub fn new(capacity: usize) -> Self {
        Self {
            map: Mutex::new(HashMap::with_capacity_and_hasher(
                capacity.min(1024),
                foldhash::fast::RandomState::default(),
            )),
            capacity,
        }
    }

    /// The entry for `sql`, made by `make` on a miss.
    pub fn get_or_insert(&self, sql: &str, make: impl FnOnce(&str) -> V) -> Arc<V> {
        if let Ok(map) = self.map.lock() {
            if let Some(v) = map.get(sql) {
                return Arc::clone(v);
            }
        }
        let v = Arc::new(make(sql));
        if sql.len() <= MAX_CACHED_TEXT {
            if let Ok(mut map) = self.map.lock() {
                if map.len() >= self.capacity {
                    map.clear();
                }
                map.insert(sql.into(), Arc::clone(&v));
            }
        }
        v
    }

    /// The cached text with the largest `key` among the entries `pred`
    /// accepts. Holds the lock while it scans: for background work only
    /// (the plan capture), never a request.
    pub(crate) fn max_by_key(
        &self,
        pred: impl Fn(&V) -> bool,
        key: impl Fn(&V) -> u64,
    ) -> Option<Box<str>> {
        let map = self.map.lock().ok()?;
        map.iter()
            .filter(|(_, v)| pred(v))
            .max_by_key(|(_, v)| key(v))
            .map(|(k, _)| k.clone())
    }

    /// The number of cached statements.
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sanitize::sanitize;

    #[test]
    fn cache_is_bounded() {
        let c = StatementCache::new(4);
        for i in 0..10 {
            c.get_or_insert(&format!("SELECT {i}"), sanitize);
        }
        assert!(c.len() <= 4);
        let a = c.get_or_insert("SELECT 1 FROM t", sanitize);
        let b = c.get_or_insert("SELECT 1 FROM t", |_| unreachable!());
        assert!(Arc::ptr_eq(&a, &b));
    }
}
