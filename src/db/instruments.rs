//! The pool's instruments, created once per pool, bound to the pool name.

use std::sync::{Arc, Weak};

use opentelemetry::metrics::{BoundCounter, BoundHistogram, Counter, Histogram, Meter};
use opentelemetry::KeyValue;

use crate::instrument;
use crate::names;
use crate::telemetry::buckets;

pub(crate) const POOL_NAME: &str = names::DB_CLIENT_CONNECTION_POOL_NAME;

/// What the observable instruments read.
pub(crate) trait PoolState: Send + Sync + 'static {
    /// (idle, used, pending requests).
    fn counts(&self) -> (i64, i64, i64);
}

/// Instruments of one pool.
pub(crate) struct Instruments {
    pub create_time: BoundHistogram<f64>,
    pub wait_time: BoundHistogram<f64>,
    pub use_time: BoundHistogram<f64>,
    pub timeouts: BoundCounter<u64>,
    pub leaks: Counter<u64>,
    pub operation_duration: Histogram<f64>,
    pool_attr: KeyValue,
}

impl Instruments {
    pub(crate) fn new(meter: &Meter, pool_name: &str) -> Self {
        let pool_attr = KeyValue::new(POOL_NAME, pool_name.to_owned());
        let attrs = std::slice::from_ref(&pool_attr);
        let time = |name: &'static str, description: &'static str| {
            meter
                .f64_histogram(name)
                .with_unit("s")
                .with_description(description)
                .with_boundaries(buckets::DB_POOL_TIMES.to_vec())
                .build()
                .bind(attrs)
        };
        Self {
            create_time: time(
                names::DB_CLIENT_CONNECTION_CREATE_TIME,
                "The time it took to create a new connection.",
            ),
            wait_time: time(
                names::DB_CLIENT_CONNECTION_WAIT_TIME,
                "The time it took to obtain an open connection from the pool.",
            ),
            use_time: time(
                names::DB_CLIENT_CONNECTION_USE_TIME,
                "The time between borrowing a connection and returning it to the pool.",
            ),
            timeouts: meter
                .u64_counter(names::DB_CLIENT_CONNECTION_TIMEOUTS)
                .with_unit("{timeout}")
                .with_description(
                    "The number of connection timeouts that have occurred trying to obtain a connection from the pool.",
                )
                .build()
                .bind(attrs),
            leaks: meter
                .u64_counter(names::WINGSPAN_DB_CONNECTION_LEAKS)
                .with_unit("{connection}")
                .with_description("Connections held past DB_LEAK_THRESHOLD, by caller location.")
                .build(),
            operation_duration: instrument::db_operation_duration(meter),
            pool_attr,
        }
    }

    pub(crate) fn pool_attr(&self) -> &KeyValue {
        &self.pool_attr
    }

    /// Registers the observable instruments; they read `state` for as long as
    /// it lives and report nothing after.
    pub(crate) fn observe(
        meter: &Meter,
        pool_name: &str,
        min: usize,
        max: usize,
        state: Weak<dyn PoolState>,
    ) {
        let pool = KeyValue::new(POOL_NAME, pool_name.to_owned());
        let idle_attrs = [
            pool.clone(),
            KeyValue::new(names::DB_CLIENT_CONNECTION_STATE, "idle"),
        ];
        let used_attrs = [
            pool.clone(),
            KeyValue::new(names::DB_CLIENT_CONNECTION_STATE, "used"),
        ];
        let s = state.clone();
        meter
            .i64_observable_up_down_counter(names::DB_CLIENT_CONNECTION_COUNT)
            .with_unit("{connection}")
            .with_description(
                "The number of connections that are currently in state described by the state attribute.",
            )
            .with_callback(move |o| {
                if let Some(state) = s.upgrade() {
                    let (idle, used, _) = state.counts();
                    o.observe(idle, &idle_attrs);
                    o.observe(used, &used_attrs);
                }
            })
            .build();
        let s = state.clone();
        let attrs = [pool.clone()];
        meter
            .i64_observable_up_down_counter(names::DB_CLIENT_CONNECTION_PENDING_REQUESTS)
            .with_unit("{request}")
            .with_description("The number of current pending requests for an open connection.")
            .with_callback(move |o| {
                if let Some(state) = s.upgrade() {
                    o.observe(state.counts().2, &attrs);
                }
            })
            .build();
        let attrs = [pool.clone()];
        let s = state.clone();
        meter
            .i64_observable_up_down_counter(names::DB_CLIENT_CONNECTION_MAX)
            .with_unit("{connection}")
            .with_description("The maximum number of open connections allowed.")
            .with_callback(move |o| {
                if s.strong_count() > 0 {
                    o.observe(max as i64, &attrs);
                }
            })
            .build();
        let attrs = [pool];
        meter
            .i64_observable_up_down_counter(names::DB_CLIENT_CONNECTION_IDLE_MIN)
            .with_unit("{connection}")
            .with_description("The minimum number of idle open connections allowed.")
            .with_callback(move |o| {
                if state.strong_count() > 0 {
                    o.observe(min as i64, &attrs);
                }
            })
            .build();
    }
}

/// Keeps the `Arc` type of the observed state nameable in `observe`'s caller.
pub(crate) fn downgrade<T: PoolState>(state: &Arc<T>) -> Weak<dyn PoolState> {
    let weak: Weak<T> = Arc::downgrade(state);
    weak
}
