//! One measured series (a route, a statement summary, a cache name, a model):
//! a ring of one-minute slots, each a log-linear histogram and a few counters,
//! plus per-minute summaries of the last hour.
//!
//! Recording is an index and a few relaxed atomic adds. The first record of a
//! new minute in a slot takes the series' lock, folds what the slot held (16
//! minutes old) into the hour's history and clears it: about 2 µs, once a
//! minute per series.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use opentelemetry::trace::TraceId;

use super::buckets::{self, BUCKETS};

/// Slots in the ring: the 15-minute window plus the minute being filled.
pub(crate) const SLOTS: u64 = 16;
/// Minutes of per-minute history.
pub(crate) const HISTORY: u64 = 60;
/// Slowest traces kept per slot.
pub(crate) const TOP: usize = 5;
/// Extra counters per slot (meaning depends on the series kind).
pub(crate) const EXTRA: usize = 3;
/// A slot being cleared: readers skip it.
const ROTATING: u64 = u64::MAX;

pub(crate) struct Slot {
    minute: AtomicU64,
    buckets: Box<[AtomicU32]>,
    sum_us: AtomicU64,
    errors: AtomicU64,
    max_us: AtomicU64,
    extra: [AtomicU64; EXTRA],
    floor_us: AtomicU64,
    slowest: Mutex<Vec<(u64, TraceId)>>,
}

impl Slot {
    fn new() -> Self {
        Self {
            minute: AtomicU64::new(0),
            buckets: (0..BUCKETS).map(|_| AtomicU32::new(0)).collect(),
            sum_us: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            max_us: AtomicU64::new(0),
            extra: Default::default(),
            floor_us: AtomicU64::new(0),
            slowest: Mutex::new(Vec::new()),
        }
    }

    /// Adds one observation.
    #[inline]
    pub(crate) fn observe(&self, micros: u64, error: bool) {
        self.buckets[buckets::index(micros)].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(micros, Ordering::Relaxed);
        if error {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        if micros > self.max_us.load(Ordering::Relaxed) {
            self.max_us.fetch_max(micros, Ordering::Relaxed);
        }
    }

    /// Adds `n` to extra counter `i`.
    #[inline]
    pub(crate) fn add(&self, i: usize, n: u64) {
        if n != 0 {
            self.extra[i].fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Keeps `trace` if it is among the slot's [`TOP`] slowest; takes the lock
    /// only when `micros` beats the current floor.
    #[inline]
    pub(crate) fn offer_trace(&self, micros: u64, trace: TraceId) {
        if micros <= self.floor_us.load(Ordering::Relaxed) || trace == TraceId::INVALID {
            return;
        }
        let mut top = lock(&self.slowest);
        top.push((micros, trace));
        top.sort_unstable_by_key(|t| std::cmp::Reverse(t.0));
        top.truncate(TOP);
        if top.len() == TOP {
            self.floor_us.store(top[TOP - 1].0, Ordering::Relaxed);
        }
    }

    fn clear(&self) {
        for b in self.buckets.iter() {
            b.store(0, Ordering::Relaxed);
        }
        for c in [&self.sum_us, &self.errors, &self.max_us, &self.floor_us] {
            c.store(0, Ordering::Relaxed);
        }
        for c in &self.extra {
            c.store(0, Ordering::Relaxed);
        }
        lock(&self.slowest).clear();
    }

    /// Adds this slot into `acc` if it holds `minute`; false when it does not
    /// (or changed while being read).
    fn read_into(&self, minute: u64, acc: &mut Merged) -> bool {
        if self.minute.load(Ordering::Acquire) != minute {
            return false;
        }
        let mut part = Merged::default();
        for (a, b) in part.counts.iter_mut().zip(self.buckets.iter()) {
            *a = u64::from(b.load(Ordering::Relaxed));
        }
        part.sum_us = self.sum_us.load(Ordering::Relaxed);
        part.errors = self.errors.load(Ordering::Relaxed);
        part.max_us = self.max_us.load(Ordering::Relaxed);
        for (a, b) in part.extra.iter_mut().zip(&self.extra) {
            *a = b.load(Ordering::Relaxed);
        }
        part.slowest = lock(&self.slowest).clone();
        if self.minute.load(Ordering::Acquire) != minute {
            return false;
        }
        acc.merge(&part);
        true
    }
}

/// Counts merged over several slots.
#[derive(Debug, Clone)]
pub(crate) struct Merged {
    pub counts: Vec<u64>,
    pub sum_us: u64,
    pub errors: u64,
    pub max_us: u64,
    pub extra: [u64; EXTRA],
    pub slowest: Vec<(u64, TraceId)>,
}

impl Default for Merged {
    fn default() -> Self {
        Self {
            counts: vec![0; BUCKETS],
            sum_us: 0,
            errors: 0,
            max_us: 0,
            extra: [0; EXTRA],
            slowest: Vec::new(),
        }
    }
}

impl Merged {
    pub(crate) fn merge(&mut self, o: &Merged) {
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            *a += b;
        }
        self.sum_us += o.sum_us;
        self.errors += o.errors;
        self.max_us = self.max_us.max(o.max_us);
        for (a, b) in self.extra.iter_mut().zip(&o.extra) {
            *a += b;
        }
        self.slowest.extend_from_slice(&o.slowest);
        self.slowest
            .sort_unstable_by_key(|t| std::cmp::Reverse(t.0));
        self.slowest.truncate(TOP);
    }

    pub(crate) fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Percentile `q` in ms; 0 when empty.
    pub(crate) fn percentile_ms(&self, q: f64) -> f64 {
        buckets::percentile(&self.counts, q).map_or(0.0, |us| us / 1000.0)
    }

    pub(crate) fn summary(&self, minute: u64) -> MinuteSummary {
        MinuteSummary {
            minute,
            count: self.count(),
            errors: self.errors,
            sum_us: self.sum_us,
            p50_ms: self.percentile_ms(0.50),
            p95_ms: self.percentile_ms(0.95),
            p99_ms: self.percentile_ms(0.99),
            max_us: self.max_us,
            extra: self.extra,
        }
    }
}

/// What one minute of a series comes down to in the hour's history.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct MinuteSummary {
    pub minute: u64,
    pub count: u64,
    pub errors: u64,
    pub sum_us: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_us: u64,
    pub extra: [u64; EXTRA],
}

pub(crate) struct Series {
    slots: Box<[Slot]>,
    /// Per-minute summaries by `minute % HISTORY`; also the rotation lock.
    history: Mutex<Vec<MinuteSummary>>,
}

impl Series {
    pub(crate) fn new() -> Self {
        Self {
            slots: (0..SLOTS).map(|_| Slot::new()).collect(),
            history: Mutex::new(vec![MinuteSummary::default(); HISTORY as usize]),
        }
    }

    /// The slot of `minute`, rotated into it if needed; `None` when the slot
    /// already holds a later minute (a record from a stalled thread).
    #[inline]
    pub(crate) fn slot(&self, minute: u64) -> Option<&Slot> {
        let slot = &self.slots[(minute % SLOTS) as usize];
        if slot.minute.load(Ordering::Acquire) == minute {
            return Some(slot);
        }
        self.rotate(slot, minute)
    }

    #[cold]
    fn rotate<'a>(&self, slot: &'a Slot, minute: u64) -> Option<&'a Slot> {
        let mut history = lock(&self.history);
        let held = slot.minute.load(Ordering::Acquire);
        if held == minute {
            return Some(slot);
        }
        if held > minute {
            return None;
        }
        let mut old = Merged::default();
        if held != 0 && slot.read_into(held, &mut old) {
            history[(held % HISTORY) as usize] = old.summary(held);
        }
        slot.minute.store(ROTATING, Ordering::Release);
        slot.clear();
        slot.minute.store(minute, Ordering::Release);
        Some(slot)
    }

    /// Everything recorded in minutes `now + 1 - minutes ..= now`.
    pub(crate) fn window(&self, now: u64, minutes: u64) -> Merged {
        let mut acc = Merged::default();
        for m in now.saturating_sub(minutes - 1)..=now {
            self.slots[(m % SLOTS) as usize].read_into(m, &mut acc);
        }
        acc
    }

    /// One summary per minute of the hour ending at `now` (oldest first);
    /// minutes without data have a zero count.
    pub(crate) fn history(&self, now: u64) -> Vec<MinuteSummary> {
        let stored = lock(&self.history).clone();
        (now.saturating_sub(HISTORY - 1)..=now)
            .map(|m| {
                let mut live = Merged::default();
                if self.slots[(m % SLOTS) as usize].read_into(m, &mut live) {
                    return live.summary(m);
                }
                let s = stored[(m % HISTORY) as usize];
                if s.minute == m {
                    s
                } else {
                    MinuteSummary {
                        minute: m,
                        ..MinuteSummary::default()
                    }
                }
            })
            .collect()
    }
}

/// A poisoned lock still holds valid counts: recover it instead of panicking.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
