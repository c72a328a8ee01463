//! Recording handles, resolved once per route, statement summary, cache name
//! or model (like a bound instrument): a record is then the clock read, an
//! index and a few relaxed atomic adds.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::trace::TraceId;

use super::clock::Clock;
use super::series::Series;

/// Extra counter slots per series kind.
pub(crate) const CLIENT_ERRORS: usize = 0;
pub(crate) const HITS: usize = 0;
pub(crate) const MISSES: usize = 1;
pub(crate) const INPUT_TOKENS: usize = 0;
pub(crate) const OUTPUT_TOKENS: usize = 1;
pub(crate) const COST_MICRO_USD: usize = 2;

#[inline]
fn micros(d: Duration) -> u64 {
    // `as_micros` is 128-bit; this stays in 64 bits (saturating past 584 542 years).
    d.as_secs()
        .saturating_mul(1_000_000)
        .saturating_add(u64::from(d.subsec_micros()))
}

/// One HTTP route (`METHOD /template`).
#[derive(Clone)]
pub struct RouteStats {
    pub(crate) series: Arc<Series>,
    pub(crate) clock: Clock,
}

impl RouteStats {
    /// Records one finished request: 5xx counts as an error, 4xx as a client
    /// error; `trace_id` (or [`TraceId::INVALID`]) is kept if the request is
    /// among the slowest of its minute.
    #[inline]
    pub fn record(&self, status: u16, duration: Duration, trace_id: TraceId) {
        let Some(slot) = self.series.slot(self.clock.minute()) else {
            return;
        };
        let us = micros(duration);
        slot.observe(us, status >= 500);
        if (400..500).contains(&status) {
            slot.add(CLIENT_ERRORS, 1);
        }
        slot.offer_trace(us, trace_id);
    }
}

/// One statement, by its `db.query.summary`.
#[derive(Clone)]
pub struct QueryStats {
    pub(crate) series: Arc<Series>,
    pub(crate) clock: Clock,
}

impl QueryStats {
    /// Records one query's duration and whether it failed.
    #[inline]
    pub fn record(&self, duration: Duration, error: bool) {
        if let Some(slot) = self.series.slot(self.clock.minute()) {
            slot.observe(micros(duration), error);
        }
    }
}

/// The connection pool: waits for a connection and how long each was held.
#[derive(Clone)]
pub struct PoolStats {
    pub(crate) acquire: Arc<Series>,
    pub(crate) hold: Arc<Series>,
    pub(crate) clock: Clock,
}

impl PoolStats {
    /// Records one acquisition: how long the caller waited and whether it
    /// gave up at the pool's timeout.
    #[inline]
    pub fn record_acquire(&self, wait: Duration, timed_out: bool) {
        if let Some(slot) = self.acquire.slot(self.clock.minute()) {
            slot.observe(micros(wait), timed_out);
        }
    }

    /// Records how long a connection was held before it went back to the
    /// pool (the `W` of Little's law in the pool-size recommendation).
    #[inline]
    pub fn record_hold(&self, held: Duration) {
        if let Some(slot) = self.hold.slot(self.clock.minute()) {
            slot.observe(micros(held), false);
        }
    }
}

/// One cache name (the key prefix the cache module derives).
#[derive(Clone)]
pub struct CacheStats {
    pub(crate) series: Arc<Series>,
    pub(crate) clock: Clock,
}

impl CacheStats {
    /// Records a lookup that found its key.
    #[inline]
    pub fn record_hit(&self, duration: Duration) {
        self.record(duration, false, Some(HITS));
    }

    /// Records a lookup that did not find its key.
    #[inline]
    pub fn record_miss(&self, duration: Duration) {
        self.record(duration, false, Some(MISSES));
    }

    /// Records a failed command (neither hit nor miss).
    #[inline]
    pub fn record_error(&self, duration: Duration) {
        self.record(duration, true, None);
    }

    /// Records a command that is not a lookup (SET, DEL): counted in the
    /// operations, not in the hit rate.
    #[inline]
    pub fn record_command(&self, duration: Duration) {
        self.record(duration, false, None);
    }

    #[inline]
    fn record(&self, duration: Duration, error: bool, counter: Option<usize>) {
        let Some(slot) = self.series.slot(self.clock.minute()) else {
            return;
        };
        slot.observe(micros(duration), error);
        if let Some(i) = counter {
            slot.add(i, 1);
        }
    }
}

/// One model (`gen_ai.request.model`).
#[derive(Clone)]
pub struct ModelStats {
    pub(crate) series: Arc<Series>,
    pub(crate) clock: Clock,
}

impl ModelStats {
    /// Records one call: its duration, whether it failed, and what it used:
    /// input tokens (cached ones included: `llm::Usage::total_input_tokens`),
    /// output tokens and the cost in US dollars (kept to the micro-dollar).
    #[inline]
    pub fn record(
        &self,
        duration: Duration,
        error: bool,
        input_tokens: u64,
        output_tokens: u64,
        cost_usd: f64,
    ) {
        let Some(slot) = self.series.slot(self.clock.minute()) else {
            return;
        };
        slot.observe(micros(duration), error);
        slot.add(INPUT_TOKENS, input_tokens);
        slot.add(OUTPUT_TOKENS, output_tokens);
        let micro_usd = (cost_usd * 1e6).round();
        if micro_usd.is_finite() && micro_usd > 0.0 {
            slot.add(COST_MICRO_USD, micro_usd as u64);
        }
    }
}

/// The handles hold atomics and a clock: their `Debug` names the type only.
macro_rules! opaque_debug {
    ($($t:ty),*) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($t)).finish_non_exhaustive()
            }
        }
    )*};
}
opaque_debug!(RouteStats, QueryStats, PoolStats, CacheStats, ModelStats);
