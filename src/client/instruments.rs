//! The client's one instrument, `http.client.request.duration`, created once
//! per [`HttpClient`](super::HttpClient).

use opentelemetry::metrics::{Histogram, Meter};

use crate::names;

/// `http.client.request.duration` (s): the semconv advice, plus 20, 40 and
/// 80 s because an LLM answer often takes longer than 10 s.
pub const HTTP_CLIENT_DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
    80.0,
];

/// `http.client.request.duration`, with [`HTTP_CLIENT_DURATION_BUCKETS`].
pub(super) fn duration(meter: &Meter) -> Histogram<f64> {
    meter
        .f64_histogram(names::HTTP_CLIENT_REQUEST_DURATION)
        .with_unit("s")
        .with_description("Duration of HTTP client requests.")
        .with_boundaries(HTTP_CLIENT_DURATION_BUCKETS.to_vec())
        .build()
}
