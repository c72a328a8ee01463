//! Histogram bucket boundaries, one place for all of them.
//!
//! They are applied as views on the meter provider (so they hold whoever
//! creates the instrument) and as advice on wingspan's own instruments.

use opentelemetry_sdk::metrics::{Aggregation, Instrument, Stream};

/// `http.server.request.duration` (s): the semconv advice plus **0.3**, so the
/// 300 ms P95 alert reads a bucket edge instead of interpolating.
pub const HTTP_SERVER_DURATION: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// `db.client.operation.duration` (s), Postgres and Redis: the semconv advice.
pub const DB_CLIENT_DURATION: &[f64] = &[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0];

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

/// The view installed on the meter provider.
pub(crate) fn view(instrument: &Instrument) -> Option<Stream> {
    let boundaries = for_instrument(instrument.name())?;
    Stream::builder()
        .with_aggregation(Aggregation::ExplicitBucketHistogram {
            boundaries: boundaries.to_vec(),
            record_min_max: true,
        })
        .build()
        .ok()
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
    }
}
