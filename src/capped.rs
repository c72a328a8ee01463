//! The one registry of capped names: the first names met each get an entry
//! of their own, every later one shares the [`OTHER`] entry, so a service
//! that mints names from data (a key prefix, a task label, a route) cannot
//! grow a metric's series or the in-process view without bound.
//!
//! One registry decides each name once, and its entry holds what every
//! signal needs for that name (the cache's bound counters and its row in
//! the view, say), so a name is `other` everywhere or nowhere.
//!
//! A known name is found under a read lock (or, for a fixed list of names,
//! without any lock), and the work on its entry runs under that same read
//! lock, so the common path clones nothing.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard};

use crate::names::OTHER;

/// Names and their entries, capped.
pub(crate) struct Capped<V> {
    names: Names<V>,
    /// Made on first overflow, so no `other` series exists until needed.
    other: OnceLock<Arc<V>>,
}

enum Names<V> {
    /// Every name met, up to `cap`, in the order they were met.
    Met {
        cap: usize,
        entries: RwLock<Entries<V>>,
    },
    /// Only these names, fixed when built: read without a lock, each entry
    /// made on first use (the cache's listed names).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    Listed(HashMap<Box<str>, OnceLock<Arc<V>>>),
}

struct Entries<V> {
    index: HashMap<Box<str>, usize>,
    rows: Vec<Arc<V>>,
}

impl<V> Capped<V> {
    /// The first `cap` names met get an entry of their own.
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            names: Names::Met {
                cap,
                entries: RwLock::new(Entries {
                    index: HashMap::new(),
                    rows: Vec::new(),
                }),
            },
            other: OnceLock::new(),
        }
    }

    /// Only `names` get an entry of their own.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn listed<I>(names: I) -> Self
    where
        I: IntoIterator<Item = Box<str>>,
    {
        Self {
            names: Names::Listed(names.into_iter().map(|n| (n, OnceLock::new())).collect()),
            other: OnceLock::new(),
        }
    }

    /// Runs `f` on the entry of `name`, made by `make(name)` on first sight
    /// while under the cap; past the cap (or for a name not listed), on the
    /// shared entry, made by `make(OTHER)`.
    pub(crate) fn with<R>(
        &self,
        name: &str,
        make: impl FnOnce(&str) -> V,
        f: impl FnOnce(&Arc<V>) -> R,
    ) -> R {
        match self.own(name, make, f) {
            Ok(r) => r,
            Err((make, f)) => f(self.other.get_or_init(|| Arc::new(make(OTHER)))),
        }
    }

    /// The entry of `name`, made by `make` on first sight; `None` past the
    /// cap, for a caller whose overflow is not `other` (the HTTP layer keeps
    /// the route template and only skips caching).
    pub(crate) fn get(&self, name: &str, make: impl FnOnce(&str) -> V) -> Option<Arc<V>> {
        self.own(name, make, Arc::clone).ok()
    }

    /// `f` on the entry of `name` if it has (or may get) one of its own;
    /// `make` and `f` back otherwise.
    fn own<M, F, R>(&self, name: &str, make: M, f: F) -> Result<R, (M, F)>
    where
        M: FnOnce(&str) -> V,
        F: FnOnce(&Arc<V>) -> R,
    {
        match &self.names {
            Names::Listed(listed) => match listed.get(name) {
                Some(cell) => Ok(f(cell.get_or_init(|| Arc::new(make(name))))),
                None => Err((make, f)),
            },
            Names::Met { cap, entries } => {
                {
                    let e = read(entries);
                    if let Some(&i) = e.index.get(name) {
                        return Ok(f(&e.rows[i]));
                    }
                    if e.rows.len() >= *cap {
                        return Err((make, f));
                    }
                }
                let mut e = entries.write().unwrap_or_else(|p| p.into_inner());
                if let Some(&i) = e.index.get(name) {
                    return Ok(f(&e.rows[i]));
                }
                if e.rows.len() >= *cap {
                    return Err((make, f));
                }
                let i = e.rows.len();
                e.rows.push(Arc::new(make(name)));
                e.index.insert(name.into(), i);
                Ok(f(&e.rows[i]))
            }
        }
    }

    /// Every entry with a name of its own, in the order met (listed ones in
    /// no particular order), then the shared one if it exists.
    pub(crate) fn entries(&self) -> Vec<Arc<V>> {
        let mut out: Vec<Arc<V>> = match &self.names {
            Names::Met { entries, .. } => read(entries).rows.clone(),
            Names::Listed(listed) => listed.values().filter_map(|c| c.get().cloned()).collect(),
        };
        out.extend(self.other.get().cloned());
        out
    }

    /// How many names have an entry of their own.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        match &self.names {
            Names::Met { entries, .. } => read(entries).rows.len(),
            Names::Listed(listed) => listed.values().filter(|c| c.get().is_some()).count(),
        }
    }
}

fn read<V>(entries: &RwLock<Entries<V>>) -> RwLockReadGuard<'_, Entries<V>> {
    entries.read().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str) -> String {
        n.to_owned()
    }

    impl<V> Capped<V> {
        fn get_or_other(&self, name: &str, make: impl FnOnce(&str) -> V) -> Arc<V> {
            self.with(name, make, Arc::clone)
        }
    }

    #[test]
    fn the_first_names_get_entries_then_other() {
        let c: Capped<String> = Capped::new(2);
        assert_eq!(*c.get_or_other("a", name), "a");
        assert_eq!(*c.get_or_other("b", name), "b");
        assert_eq!(*c.get_or_other("a", name), "a");
        assert_eq!(*c.get_or_other("c", name), OTHER);
        assert_eq!(*c.get_or_other("d", name), OTHER);
        assert!(c.get("e", name).is_none());
        assert_eq!(*c.get("b", name).unwrap(), "b");
        let all: Vec<String> = c.entries().iter().map(|e| e.to_string()).collect();
        assert_eq!(all, ["a", "b", OTHER]);
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn listed_names_only() {
        let c: Capped<String> = Capped::listed(["users".into(), "sessions".into()]);
        assert_eq!(*c.get_or_other("users", name), "users");
        assert_eq!(*c.get_or_other("alice@example.com", name), OTHER);
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn an_entry_is_made_once() {
        let c: Capped<usize> = Capped::new(4);
        let mut made = 0;
        for _ in 0..3 {
            c.with(
                "x",
                |_| {
                    made += 1;
                    made
                },
                |_| (),
            );
        }
        assert_eq!(made, 1);
    }
}
