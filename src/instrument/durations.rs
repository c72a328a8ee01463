//! The client-call duration histograms, built in one place so every user
//! gets the same name, unit, description and buckets.

use opentelemetry::metrics::{Histogram, Meter};

use crate::names;
use crate::telemetry::buckets;

/// `db.client.operation.duration` (s), shared by Postgres and Redis. The SDK
/// hands every caller of one meter the same aggregation for identical
/// instruments, so the pool and the cache can each call this.
pub(crate) fn db_operation_duration(meter: &Meter) -> Histogram<f64> {
    meter
        .f64_histogram(names::DB_CLIENT_OPERATION_DURATION)
        .with_unit("s")
        .with_description("Duration of database client operations.")
        .with_boundaries(buckets::DB_CLIENT_DURATION.to_vec())
        .build()
}
