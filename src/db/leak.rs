//! Leak detection, like HikariCP's `leakDetectionThreshold`.
//!
//! Each checkout takes a slot in one table; a single sweeper task
//! (`reaper::spawn_sweeper`) scans it
//! and reports, once per checkout, a connection still held past the
//! threshold, naming where it was acquired. A timer per checkout would cost
//! an allocation and a timer-wheel entry on the hot path.

use std::panic::Location;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use opentelemetry::KeyValue;

use super::instruments::Instruments;
use crate::names;

struct Entry {
    since: Instant,
    location: &'static Location<'static>,
    reported: bool,
}

/// The checkouts currently held.
#[derive(Default)]
pub(crate) struct Registry {
    slots: Mutex<Slots>,
}

#[derive(Default)]
struct Slots {
    entries: Vec<Option<Entry>>,
    free: Vec<usize>,
}

impl Registry {
    pub(crate) fn insert(&self, location: &'static Location<'static>) -> Option<usize> {
        let mut s = self.slots.lock().ok()?;
        let entry = Some(Entry {
            since: Instant::now(),
            location,
            reported: false,
        });
        Some(match s.free.pop() {
            Some(i) => {
                s.entries[i] = entry;
                i
            }
            None => {
                s.entries.push(entry);
                s.entries.len() - 1
            }
        })
    }

    pub(crate) fn remove(&self, slot: usize) {
        if let Ok(mut s) = self.slots.lock() {
            if let Some(e) = s.entries.get_mut(slot) {
                *e = None;
                s.free.push(slot);
            }
        }
    }

    /// The locations newly past `threshold`, with how long they have been held.
    pub(crate) fn overdue(
        &self,
        threshold: Duration,
    ) -> Vec<(&'static Location<'static>, Duration)> {
        let mut found = Vec::new();
        if let Ok(mut s) = self.slots.lock() {
            for e in s.entries.iter_mut().flatten() {
                let held = e.since.elapsed();
                if !e.reported && held >= threshold {
                    e.reported = true;
                    found.push((e.location, held));
                }
            }
        }
        found
    }
}

/// Reports one checkout held past the threshold: a WARN event naming where
/// it was acquired, and the leak counter by location.
pub(crate) fn report(
    pool: &str,
    instruments: &Instruments,
    location: &'static Location<'static>,
    held: Duration,
    threshold: Duration,
) {
    tracing::event!(
        target: "wingspan::db",
        tracing::Level::WARN,
        db.client.connection.pool.name = %pool,
        code.file.path = location.file(),
        code.line.number = location.line(),
        held_ms = held.as_millis() as u64,
        "database connection held for {:?}, past the leak threshold of {:?}, acquired at {}:{}",
        held,
        threshold,
        location.file(),
        location.line(),
    );
    instruments.leaks.add(
        1,
        &[
            instruments.pool_attr().clone(),
            KeyValue::new(names::CODE_FILE_PATH, location.file()),
            KeyValue::new(names::CODE_LINE_NUMBER, i64::from(location.line())),
        ],
    );
}
