//! The layer's instruments, created once per layer.
//!
//! `http.server.active_requests` has a closed attribute set (method × scheme),
//! so every series is bound up front; the duration histogram is bound lazily
//! per (route, method, scheme, outcome) in [`super::route`].

use opentelemetry::metrics::{BoundUpDownCounter, Histogram, Meter};
use opentelemetry::KeyValue;

use super::attributes::{HTTP_REQUEST_METHOD, METHODS, METHOD_SLOTS, SCHEMES, URL_SCHEME};
use crate::telemetry::buckets;

/// `http.server.request.duration`.
pub const REQUEST_DURATION: &str = "http.server.request.duration";
/// `http.server.active_requests`.
pub const ACTIVE_REQUESTS: &str = "http.server.active_requests";

pub(crate) struct Instruments {
    pub(crate) duration: Option<Histogram<f64>>,
    /// Indexed by `method * SCHEMES.len() + scheme`.
    active: Option<Box<[BoundUpDownCounter<i64>]>>,
}

impl Instruments {
    pub(crate) fn new(meter: &Meter, duration: bool, active: bool) -> Self {
        let duration = duration.then(|| {
            meter
                .f64_histogram(REQUEST_DURATION)
                .with_unit("s")
                .with_description("Duration of HTTP server requests.")
                .with_boundaries(buckets::HTTP_SERVER_DURATION.to_vec())
                .build()
        });
        let active = active.then(|| {
            let counter = meter
                .i64_up_down_counter(ACTIVE_REQUESTS)
                .with_unit("{request}")
                .with_description("Number of active HTTP server requests.")
                .build();
            (0..METHOD_SLOTS * SCHEMES.len())
                .map(|i| {
                    counter.bind(&[
                        KeyValue::new(HTTP_REQUEST_METHOD, METHODS[i / SCHEMES.len()]),
                        KeyValue::new(URL_SCHEME, SCHEMES[i % SCHEMES.len()]),
                    ])
                })
                .collect()
        });
        Self { duration, active }
    }

    /// Adds `delta` to the active requests of (method, scheme).
    pub(crate) fn active(&self, method: usize, scheme: usize, delta: i64) {
        if let Some(c) = self
            .active
            .as_ref()
            .and_then(|a| a.get(method * SCHEMES.len() + scheme))
        {
            c.add(delta);
        }
    }
}
