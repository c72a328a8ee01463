//! Histogram bucket boundaries, one place for all of them.
//!
//! They are applied as views on the meter provider (so they hold whoever
//! creates the instrument) and as advice on wingspan's own instruments.
//!
//! With `OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION=
//! base2_exponential_bucket_histogram` the same view gives every histogram
//! instrument base-2 exponential buckets instead ([`EXPONENTIAL`]).
//!
//! **Why edges below 5 ms.** A Rust service answers most requests and
//! queries in well under 5 ms; with the semconv advice alone every such
//! request falls in the first bucket and `histogram_quantile` reads
//! P95 ≈ 4.8 ms whatever the truth (seen with a real Prometheus scraping the
//! quickstart). 0.5, 1 and 2.5 ms give that range a 1-2-5 ladder.
//!
//! **Series count.** Each added edge is one more `_bucket` series per
//! attribute set: +3 per (route, method, status, scheme, class) for HTTP
//! (18 → 21 series with `_sum` and `_count`, +17 %), +2 per (system,
//! namespace, operation, collection) for database calls (12 → 14). A service
//! of 20 routes × 3 status codes gains 180 series: small beside what one
//! extra route costs, and it buys readable percentiles where the service
//! actually lives.

use opentelemetry_sdk::metrics::{Aggregation, Instrument, InstrumentKind, Stream};

use crate::config::HistogramAggregation;

/// `http.server.request.duration` (s): the semconv advice, plus 0.5, 1 and
/// 2.5 ms (sub-5 ms resolution, see the module docs) and **0.3**, so the
/// 300 ms P95 alert reads a bucket edge instead of interpolating.
pub const HTTP_SERVER_DURATION: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.3, 0.5, 0.75, 1.0, 2.5,
    5.0, 7.5, 10.0,
];

/// `db.client.operation.duration` (s), Postgres and Redis: the semconv
/// advice plus 0.5 and 2.5 ms (sub-5 ms resolution, see the module docs).
pub const DB_CLIENT_DURATION: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0,
];

/// The base-2 exponential aggregation: 160 buckets (the specification's
/// default), scale at most 20, min and max kept. The SDK lowers the scale
/// until the recorded range fits in 160 buckets: durations spanning
/// 100 µs..10 s still get scale 3, a relative bucket width of 2^(1/8) ≈ 9 %.
pub const EXPONENTIAL: Aggregation = Aggregation::Base2ExponentialHistogram {
    max_size: 160,
    max_scale: 20,
    record_min_max: true,
};

/// `db.client.connection.create_time`, `.wait_time`, `.use_time` (s).
pub const DB_POOL_TIMES: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// `gen_ai.client.operation.duration` (s): the semconv advice.
pub const GEN_AI_DURATION: &[f64] = &[
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/// `gen_ai.client.token.usage` (`{token}`): the semconv advice.
pub const GEN_AI_TOKENS: &[f64] = &[
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];

/// The boundaries for an instrument name, if wingspan defines them.
pub fn for_instrument(name: &str) -> Option<&'static [f64]> {
    use crate::names as n;
    match name {
        n::HTTP_SERVER_REQUEST_DURATION => Some(HTTP_SERVER_DURATION),
        n::DB_CLIENT_OPERATION_DURATION => Some(DB_CLIENT_DURATION),
        n::DB_CLIENT_CONNECTION_CREATE_TIME
        | n::DB_CLIENT_CONNECTION_WAIT_TIME
        | n::DB_CLIENT_CONNECTION_USE_TIME => Some(DB_POOL_TIMES),
        n::GEN_AI_CLIENT_OPERATION_DURATION => Some(GEN_AI_DURATION),
        n::GEN_AI_CLIENT_TOKEN_USAGE => Some(GEN_AI_TOKENS),
        _ => None,
    }
}

/// The aggregation the view gives an instrument, `None` to leave it as the
/// SDK would.
fn aggregation(
    name: &str,
    kind: InstrumentKind,
    mode: HistogramAggregation,
) -> Option<Aggregation> {
    match mode {
        HistogramAggregation::Base2Exponential => {
            (kind == InstrumentKind::Histogram).then_some(EXPONENTIAL)
        }
        HistogramAggregation::ExplicitBucket => {
            for_instrument(name).map(|boundaries| Aggregation::ExplicitBucketHistogram {
                boundaries: boundaries.to_vec(),
                record_min_max: true,
            })
        }
    }
}

/// The view installed on the meter provider: one function, since every
/// view that matches an instrument adds a stream of its own.
pub(crate) fn view(
    mode: HistogramAggregation,
) -> impl Fn(&Instrument) -> Option<Stream> + Send + Sync + 'static {
    move |instrument| {
        let aggregation = aggregation(instrument.name(), instrument.kind(), mode)?;
        Stream::builder().with_aggregation(aggregation).build().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_ascend() {
        for b in [
            HTTP_SERVER_DURATION,
            DB_CLIENT_DURATION,
            DB_POOL_TIMES,
            GEN_AI_DURATION,
            GEN_AI_TOKENS,
        ] {
            assert!(b.windows(2).all(|w| w[0] < w[1]), "{b:?}");
        }
        assert!(HTTP_SERVER_DURATION.contains(&0.3));
        // The alert rules, their promtool tests and the dashboards read these.
        for edge in [0.1, 0.3, 0.5, 2.5] {
            assert!(HTTP_SERVER_DURATION.contains(&edge), "{edge}");
        }
        for b in [HTTP_SERVER_DURATION, DB_CLIENT_DURATION] {
            assert!(b[..3] == [0.0005, 0.001, 0.0025], "{b:?}");
        }
    }

    #[test]
    fn explicit_mode_gives_wingspan_edges_to_wingspan_instruments_only() {
        use crate::config::HistogramAggregation::ExplicitBucket;
        let Some(Aggregation::ExplicitBucketHistogram { boundaries, .. }) = aggregation(
            crate::names::HTTP_SERVER_REQUEST_DURATION,
            InstrumentKind::Histogram,
            ExplicitBucket,
        ) else {
            panic!("explicit buckets expected");
        };
        assert_eq!(boundaries, HTTP_SERVER_DURATION);
        assert!(aggregation("app.histogram", InstrumentKind::Histogram, ExplicitBucket).is_none());
    }

    #[test]
    fn exponential_mode_covers_every_histogram_and_nothing_else() {
        use crate::config::HistogramAggregation::Base2Exponential;
        for name in [crate::names::DB_CLIENT_OPERATION_DURATION, "app.histogram"] {
            assert_eq!(
                aggregation(name, InstrumentKind::Histogram, Base2Exponential),
                Some(EXPONENTIAL)
            );
        }
        assert!(aggregation("app.counter", InstrumentKind::Counter, Base2Exponential).is_none());
    }
}
