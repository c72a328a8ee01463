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

/// Whether a route serves the API or calls a model: LLM routes are reported
/// apart so their seconds-long latencies do not drown the API's percentiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteClass {
    /// An ordinary API route.
    Api,
    /// A route whose work is mostly an LLM call.
    Llm,
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

/// What a cache lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// The key was there.
    Hit,
    /// The key was not there.
    Miss,
    /// The command failed (neither hit nor miss).
    Error,
    /// A command that is not a lookup (SET, DEL): counted in ops, not in the
    /// hit rate.
    Write,
}

/// One cache name (the key prefix the cache module derives).
#[derive(Clone)]
pub struct CacheStats {
    pub(crate) series: Arc<Series>,
    pub(crate) clock: Clock,
}

impl CacheStats {
    /// Records one cache command.
    #[inline]
    pub fn record(&self, outcome: CacheOutcome, duration: Duration) {
        let Some(slot) = self.series.slot(self.clock.minute()) else {
            return;
        };
        slot.observe(micros(duration), outcome == CacheOutcome::Error);
        match outcome {
            CacheOutcome::Hit => slot.add(HITS, 1),
            CacheOutcome::Miss => slot.add(MISSES, 1),
            CacheOutcome::Error | CacheOutcome::Write => {}
        }
    }
}

/// One model (`gen_ai.request.model`).
#[derive(Clone)]
pub struct ModelStats {
    pub(crate) series: Arc<Series>,
    pub(crate) clock: Clock,
}

/// What one LLM call used.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LlmUsage {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
    /// Cost in US dollars (kept to the micro-dollar).
    pub cost_usd: f64,
}

impl ModelStats {
    /// Records one call: its duration, whether it failed, what it used.
    #[inline]
    pub fn record(&self, duration: Duration, error: bool, usage: LlmUsage) {
        let Some(slot) = self.series.slot(self.clock.minute()) else {
            return;
        };
        slot.observe(micros(duration), error);
        slot.add(INPUT_TOKENS, usage.input_tokens);
        slot.add(OUTPUT_TOKENS, usage.output_tokens);
        let micro_usd = (usage.cost_usd * 1e6).round();
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
