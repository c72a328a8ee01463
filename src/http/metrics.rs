//! The layer's instruments, created once per layer.
//!
//! `http.server.active_requests` has a closed attribute set (method × scheme),
//! so each series is bound once, on first use; the duration histogram is bound lazily
//! per (route, method, scheme, outcome) in [`super::route`].

use std::sync::OnceLock;

use opentelemetry::metrics::{BoundUpDownCounter, Histogram, Meter, UpDownCounter};
use opentelemetry::KeyValue;

use super::attributes::{HTTP_REQUEST_METHOD, METHODS, METHOD_SLOTS, SCHEMES, URL_SCHEME};
use crate::telemetry::buckets;

/// `http.server.request.duration`.
pub const REQUEST_DURATION: &str = crate::names::HTTP_SERVER_REQUEST_DURATION;
/// `http.server.active_requests`.
pub const ACTIVE_REQUESTS: &str = crate::names::HTTP_SERVER_ACTIVE_REQUESTS;

type ActiveSlots = Box<[OnceLock<BoundUpDownCounter<i64>>]>;

pub(crate) struct Instruments {
    pub(crate) duration: Option<Histogram<f64>>,
    /// Bound on first use (so only methods actually seen export a series),
    /// indexed by `method * SCHEMES.len() + scheme`.
    active: Option<(UpDownCounter<i64>, ActiveSlots)>,
    /// `wingspan.db.n_plus_one` (`crate::n_plus_one`).
    pub(crate) n_plus_one: crate::n_plus_one::NPlusOneCounter,
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
            let slots = (0..METHOD_SLOTS * SCHEMES.len())
                .map(|_| OnceLock::new())
                .collect();
            (counter, slots)
        });
        Self {
            duration,
            active,
            n_plus_one: crate::n_plus_one::NPlusOneCounter::new(meter),
        }
    }

    /// Adds `delta` to the active requests of (method, scheme).
    pub(crate) fn active(&self, method: usize, scheme: usize, delta: i64) {
        let Some((counter, slots)) = &self.active else {
            return;
        };
        if let Some(cell) = slots.get(method * SCHEMES.len() + scheme) {
            cell.get_or_init(|| {
                counter.bind(&[
                    KeyValue::new(HTTP_REQUEST_METHOD, METHODS[method]),
                    KeyValue::new(URL_SCHEME, SCHEMES[scheme]),
                ])
            })
            .add(delta);
        }
    }
}
