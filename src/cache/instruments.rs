//! The cache's own instruments, created once per [`Cache`](super::Cache):
//! `db.client.operation.duration` (bound per command for the success path)
//! and `wingspan.cache.requests` (bound per cache name and result).

use std::collections::HashMap;
use std::sync::RwLock;

use opentelemetry::metrics::{BoundCounter, BoundHistogram, Counter, Histogram, Meter};
use opentelemetry::KeyValue;

use crate::telemetry::buckets;

/// The commands with a typed operation: their bound duration histograms are
/// made at build time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Get,
    Set,
    Del,
    MGet,
    MSet,
    Exists,
    Expire,
    Ttl,
    Incr,
    IncrBy,
    HGet,
    HSet,
    HGetAll,
    Pipeline,
}

impl Op {
    pub(crate) const ALL: [Op; 14] = [
        Op::Get,
        Op::Set,
        Op::Del,
        Op::MGet,
        Op::MSet,
        Op::Exists,
        Op::Expire,
        Op::Ttl,
        Op::Incr,
        Op::IncrBy,
        Op::HGet,
        Op::HSet,
        Op::HGetAll,
        Op::Pipeline,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::Get => "GET",
            Op::Set => "SET",
            Op::Del => "DEL",
            Op::MGet => "MGET",
            Op::MSet => "MSET",
            Op::Exists => "EXISTS",
            Op::Expire => "EXPIRE",
            Op::Ttl => "TTL",
            Op::Incr => "INCR",
            Op::IncrBy => "INCRBY",
            Op::HGet => "HGET",
            Op::HSet => "HSET",
            Op::HGetAll => "HGETALL",
            Op::Pipeline => "PIPELINE",
        }
    }
}

/// The outcome of one counted read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Hit,
    Miss,
    Error,
}

struct Bound {
    hit: BoundCounter<u64>,
    miss: BoundCounter<u64>,
    error: BoundCounter<u64>,
}

impl Bound {
    fn new(counter: &Counter<u64>, name: &str) -> Self {
        let bind = |result: &'static str| {
            counter.bind(&[
                KeyValue::new("wingspan.cache.name", name.to_owned()),
                KeyValue::new("wingspan.cache.result", result),
            ])
        };
        Self {
            hit: bind("hit"),
            miss: bind("miss"),
            error: bind("error"),
        }
    }

    fn add(&self, outcome: Outcome, n: u64) {
        match outcome {
            Outcome::Hit => self.hit.add(n),
            Outcome::Miss => self.miss.add(n),
            Outcome::Error => self.error.add(n),
        }
    }
}

pub(crate) struct Instruments {
    duration: Histogram<f64>,
    ok: Vec<BoundHistogram<f64>>,
    requests: Counter<u64>,
    names: RwLock<HashMap<Box<str>, Bound>>,
    other: Bound,
    max_names: usize,
}

impl Instruments {
    pub(crate) fn new(meter: &Meter, max_names: usize) -> Self {
        let duration = meter
            .f64_histogram("db.client.operation.duration")
            .with_unit("s")
            .with_description("Duration of database client operations.")
            .with_boundaries(buckets::DB_CLIENT_DURATION.to_vec())
            .build();
        let ok = Op::ALL
            .iter()
            .map(|op| {
                duration.bind(&[
                    KeyValue::new("db.system.name", "redis"),
                    KeyValue::new("db.operation.name", op.name()),
                ])
            })
            .collect();
        let requests = meter
            .u64_counter("wingspan.cache.requests")
            .with_unit("{request}")
            .with_description("Cache reads by cache name and result (hit, miss, error).")
            .build();
        let other = Bound::new(&requests, "other");
        Self {
            duration,
            ok,
            requests,
            names: RwLock::new(HashMap::new()),
            other,
            max_names,
        }
    }

    /// Records the duration of a successful typed operation.
    pub(crate) fn ok(&self, op: Op, seconds: f64) {
        if let Some(h) = self.ok.get(op as usize) {
            h.record(seconds);
        }
    }

    /// Records the duration of any other call (failures, custom commands).
    pub(crate) fn record(&self, operation: &str, error_type: Option<&str>, seconds: f64) {
        let op = KeyValue::new("db.operation.name", operation.to_owned());
        match error_type {
            Some(e) => self.duration.record(
                seconds,
                &[
                    KeyValue::new("db.system.name", "redis"),
                    op,
                    KeyValue::new("error.type", e.to_owned()),
                ],
            ),
            None => self
                .duration
                .record(seconds, &[KeyValue::new("db.system.name", "redis"), op]),
        }
    }

    /// Counts `n` reads of one cache name. The first use of a name binds its
    /// three counters; after `max_names` names, new ones count as `other`.
    pub(crate) fn count(&self, name: &str, outcome: Outcome, n: u64) {
        if n == 0 {
            return;
        }
        {
            let names = self.names.read().unwrap_or_else(|p| p.into_inner());
            if let Some(b) = names.get(name) {
                b.add(outcome, n);
                return;
            }
            if names.len() >= self.max_names {
                self.other.add(outcome, n);
                return;
            }
        }
        let mut names = self.names.write().unwrap_or_else(|p| p.into_inner());
        if names.len() >= self.max_names && !names.contains_key(name) {
            self.other.add(outcome, n);
            return;
        }
        names
            .entry(name.into())
            .or_insert_with(|| Bound::new(&self.requests, name))
            .add(outcome, n);
    }
}
