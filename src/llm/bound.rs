//! Bound instruments per call shape, so a call's metric records skip the
//! SDK's per-record attribute lookup: one set per distinct attribute set
//! (model, task, server, response model), each instrument bound on first
//! use so no empty series is exported. Past the cap, records go unbound.

use std::collections::HashMap;
use std::hash::{Hash as _, Hasher as _};
use std::sync::{Arc, OnceLock, RwLock};

use opentelemetry::metrics::{BoundCounter, BoundHistogram, Counter, Histogram};
use opentelemetry::{KeyValue, Value};

use crate::names;

/// Distinct attribute sets bound before records go unbound.
const MAX_SHAPES: usize = 256;

/// Entries by the hash of their attribute set (colliding sets share a
/// bucket and are told apart by comparing the attributes).
type Buckets<T> = HashMap<u64, Vec<(Vec<KeyValue>, Arc<T>)>>;

/// A cache of `T` per attribute set.
pub(crate) struct BoundCache<T> {
    map: RwLock<Buckets<T>>,
}

impl<T> Default for BoundCache<T> {
    fn default() -> Self {
        Self {
            map: RwLock::new(HashMap::new()),
        }
    }
}

fn hash(attrs: &[KeyValue]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for kv in attrs {
        kv.key.as_str().hash(&mut h);
        match &kv.value {
            Value::String(s) => s.as_str().hash(&mut h),
            Value::I64(i) => i.hash(&mut h),
            Value::F64(f) => f.to_bits().hash(&mut h),
            Value::Bool(b) => b.hash(&mut h),
            _ => 0u8.hash(&mut h),
        }
    }
    h.finish()
}

impl<T> BoundCache<T> {
    /// The entry for `attrs`, made by `make` on first sight; `None` once
    /// `MAX_SHAPES` sets are held.
    pub(crate) fn get(&self, attrs: &[KeyValue], make: impl FnOnce() -> T) -> Option<Arc<T>> {
        let key = hash(attrs);
        let find = |map: &Buckets<T>| {
            map.get(&key)?
                .iter()
                .find(|(a, _)| a.as_slice() == attrs)
                .map(|(_, t)| t.clone())
        };
        {
            let map = self.map.read().unwrap_or_else(|p| p.into_inner());
            if let Some(t) = find(&map) {
                return Some(t);
            }
            if map.len() >= MAX_SHAPES {
                return None;
            }
        }
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = find(&map) {
            return Some(t);
        }
        if map.len() >= MAX_SHAPES {
            return None;
        }
        let t = Arc::new(make());
        map.entry(key)
            .or_default()
            .push((attrs.to_vec(), t.clone()));
        Some(t)
    }
}

/// One call shape's histograms, each bound on first use.
pub(crate) struct Shape {
    attrs: Vec<KeyValue>,
    duration: OnceLock<BoundHistogram<f64>>,
    input: OnceLock<BoundHistogram<u64>>,
    output: OnceLock<BoundHistogram<u64>>,
    first_chunk: OnceLock<BoundHistogram<f64>>,
    per_chunk: OnceLock<BoundHistogram<f64>>,
}

impl Shape {
    pub(crate) fn new(attrs: &[KeyValue]) -> Self {
        Self {
            attrs: attrs.to_vec(),
            duration: OnceLock::new(),
            input: OnceLock::new(),
            output: OnceLock::new(),
            first_chunk: OnceLock::new(),
            per_chunk: OnceLock::new(),
        }
    }

    pub(crate) fn duration(&self, h: &Histogram<f64>) -> &BoundHistogram<f64> {
        self.duration.get_or_init(|| h.bind(&self.attrs))
    }

    pub(crate) fn first_chunk(&self, h: &Histogram<f64>) -> &BoundHistogram<f64> {
        self.first_chunk.get_or_init(|| h.bind(&self.attrs))
    }

    pub(crate) fn per_chunk(&self, h: &Histogram<f64>) -> &BoundHistogram<f64> {
        self.per_chunk.get_or_init(|| h.bind(&self.attrs))
    }

    /// `gen_ai.client.token.usage` for `input` (true) or `output`.
    pub(crate) fn tokens(&self, h: &Histogram<u64>, input: bool) -> &BoundHistogram<u64> {
        let (cell, kind) = if input {
            (&self.input, "input")
        } else {
            (&self.output, "output")
        };
        cell.get_or_init(|| {
            let mut a = self.attrs.clone();
            a.push(KeyValue::new(names::GEN_AI_TOKEN_TYPE, kind));
            h.bind(&a)
        })
    }
}

/// The four cost counters of one (requested model, answering model, task), bound on first use:
/// uncached input, cache read, cache write, output.
pub(crate) struct CostSet {
    attrs: Vec<KeyValue>,
    counters: [OnceLock<BoundCounter<f64>>; 4],
}

impl CostSet {
    pub(crate) fn new(attrs: &[KeyValue]) -> Self {
        Self {
            attrs: attrs.to_vec(),
            counters: Default::default(),
        }
    }

    /// The counter of category `i` (0 input, 1 cache read, 2 cache write,
    /// 3 output).
    pub(crate) fn counter(&self, c: &Counter<f64>, i: usize) -> Option<&BoundCounter<f64>> {
        let (token_type, cache) = match i {
            0 => ("input", Some("none")),
            1 => ("input", Some("read")),
            2 => ("input", Some("write")),
            3 => ("output", None),
            _ => return None,
        };
        Some(self.counters[i].get_or_init(|| {
            let mut a = self.attrs.clone();
            a.push(KeyValue::new(names::GEN_AI_TOKEN_TYPE, token_type));
            if let Some(cache) = cache {
                a.push(KeyValue::new(names::WINGSPAN_GEN_AI_CACHE, cache));
            }
            c.bind(&a)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_attributes_share_an_entry_and_the_cache_is_bounded() {
        let cache: BoundCache<usize> = BoundCache::default();
        let a = [KeyValue::new("k", "v"), KeyValue::new("n", 1)];
        let b = [KeyValue::new("k", "w"), KeyValue::new("n", 1)];
        let first = cache.get(&a, || 1).unwrap();
        assert_eq!(*cache.get(&a, || 2).unwrap(), *first);
        assert_eq!(*cache.get(&b, || 3).unwrap(), 3);
        for i in 0..MAX_SHAPES {
            let _ = cache.get(&[KeyValue::new("i", i as i64)], || 0);
        }
        assert!(cache.get(&[KeyValue::new("i", -1)], || 0).is_none());
        assert_eq!(*cache.get(&a, || 9).unwrap(), 1, "known sets stay bound");
    }
}
