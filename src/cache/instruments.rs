//! The cache's own instruments, created once per [`Cache`](super::Cache):
//! `db.client.operation.duration` (bound per command for the success path)
//! and `wingspan.cache.requests` (bound per cache name and result).

use std::collections::HashSet;
use std::sync::OnceLock;

use opentelemetry::metrics::{BoundCounter, BoundHistogram, Counter, Histogram, Meter};
use opentelemetry::KeyValue;

use std::time::Duration;

use crate::capped::Capped;
use crate::instrument;
use crate::names;
use crate::stats::{CacheStats, Stats};

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

/// One cache name's three counters, each bound on first use so that no
/// empty series is exported.
struct Bound {
    name: Box<str>,
    results: [OnceLock<BoundCounter<u64>>; 3],
    /// This name's row in the in-process view, when on.
    stats: Option<CacheStats>,
}

impl Bound {
    fn new(name: &str, stats: Option<&Stats>) -> Self {
        Self {
            name: name.into(),
            results: Default::default(),
            stats: stats.map(|s| s.cache(name)),
        }
    }

    fn add(&self, counter: &Counter<u64>, outcome: Outcome, n: u64, elapsed: Duration) {
        if let Some(stats) = &self.stats {
            for _ in 0..n {
                match outcome {
                    Outcome::Hit => stats.record_hit(elapsed),
                    Outcome::Miss => stats.record_miss(elapsed),
                    Outcome::Error => stats.record_error(elapsed),
                }
            }
        }
        let (i, result) = match outcome {
            Outcome::Hit => (0, "hit"),
            Outcome::Miss => (1, "miss"),
            Outcome::Error => (2, "error"),
        };
        self.results[i]
            .get_or_init(|| {
                counter.bind(&[
                    KeyValue::new(names::WINGSPAN_CACHE_NAME, self.name.to_string()),
                    KeyValue::new(names::WINGSPAN_CACHE_RESULT, result),
                ])
            })
            .add(n);
    }
}

pub(crate) struct Instruments {
    duration: Histogram<f64>,
    /// Bound per typed command on first success.
    ok: [OnceLock<BoundHistogram<f64>>; Op::ALL.len()],
    requests: Counter<u64>,
    /// The one registry of cache names: a name's counters and its row in
    /// the in-process view come from the same entry.
    names: Capped<Bound>,
    stats: Option<Stats>,
}

impl Instruments {
    /// `listed`: the only cache names (every other counts as `other`), else
    /// every name met up to `max_names`.
    pub(crate) fn new(
        meter: &Meter,
        max_names: usize,
        listed: Option<&HashSet<Box<str>>>,
        stats: Option<Stats>,
    ) -> Self {
        let duration = instrument::db_operation_duration(meter);
        let requests = meter
            .u64_counter(names::WINGSPAN_CACHE_REQUESTS)
            .with_unit("{request}")
            .with_description("Cache reads by cache name and result (hit, miss, error).")
            .build();
        Self {
            duration,
            ok: Default::default(),
            requests,
            names: match listed {
                Some(listed) => Capped::listed(listed.iter().cloned()),
                None => Capped::new(max_names),
            },
            stats,
        }
    }

    /// Records the duration of a successful typed operation.
    pub(crate) fn ok(&self, op: Op, seconds: f64) {
        if let Some(h) = self.ok.get(op as usize) {
            h.get_or_init(|| {
                self.duration.bind(&[
                    KeyValue::new(names::DB_SYSTEM_NAME, names::DB_SYSTEM_NAME_REDIS),
                    KeyValue::new(names::DB_OPERATION_NAME, op.name()),
                ])
            })
            .record(seconds);
        }
    }

    /// Records the duration of any other call (failures, custom commands).
    pub(crate) fn record(&self, operation: &str, error_type: Option<&str>, seconds: f64) {
        let op = KeyValue::new(names::DB_OPERATION_NAME, operation.to_owned());
        match error_type {
            Some(e) => self.duration.record(
                seconds,
                &[
                    KeyValue::new(names::DB_SYSTEM_NAME, names::DB_SYSTEM_NAME_REDIS),
                    op,
                    KeyValue::new(names::ERROR_TYPE, e.to_owned()),
                ],
            ),
            None => self.duration.record(
                seconds,
                &[
                    KeyValue::new(names::DB_SYSTEM_NAME, names::DB_SYSTEM_NAME_REDIS),
                    op,
                ],
            ),
        }
    }

    /// Counts `n` reads of one cache name. The first use of a name binds its
    /// three counters; after `max_names` names (or, with listed names, for
    /// any name not listed) they count as `other`. `elapsed` is the
    /// command's duration, for the in-process view.
    pub(crate) fn count(&self, name: &str, outcome: Outcome, n: u64, elapsed: Duration) {
        if n == 0 {
            return;
        }
        self.names.with(
            name,
            |name| Bound::new(name, self.stats.as_ref()),
            |bound| bound.add(&self.requests, outcome, n, elapsed),
        );
    }
}
