//! Injected faults (`WINGMAN_FAULT_EVERY`, `WINGMAN_DELAY_EVERY`): every
//! N-th API request answers 500 without running its handler, every M-th
//! waits [`DELAY`] first. They give the demo errors and slow requests to
//! find in the traces, tail sampling's reason to exist. Off by default.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

/// How long a delayed request waits: above the latency alert's 300 ms, so
/// the request counts as slow.
pub const DELAY: Duration = Duration::from_millis(400);

/// The counters of the two injections.
#[derive(Debug, Default)]
pub struct Faults {
    fault_every: u64,
    delay_every: u64,
    requests: AtomicU64,
}

impl Faults {
    /// `fault_every` / `delay_every` of 0 never inject.
    pub fn new(fault_every: u64, delay_every: u64) -> Arc<Self> {
        Arc::new(Self {
            fault_every,
            delay_every,
            requests: AtomicU64::new(0),
        })
    }

    fn is_on(&self) -> bool {
        self.fault_every > 0 || self.delay_every > 0
    }
}

fn hits(n: u64, every: u64) -> bool {
    every > 0 && n.is_multiple_of(every)
}

/// The middleware: inside the wingspan layer, so the server span sees the
/// 500 and the wait.
pub async fn inject(State(faults): State<Arc<Faults>>, req: Request, next: Next) -> Response {
    if !faults.is_on() {
        return next.run(req).await;
    }
    let n = faults.requests.fetch_add(1, Ordering::Relaxed) + 1;
    if hits(n, faults.delay_every) {
        tokio::time::sleep(DELAY).await;
    }
    if hits(n, faults.fault_every) {
        let body = serde_json::json!({ "error": "injected fault (WINGMAN_FAULT_EVERY)" });
        return crate::error::json(StatusCode::INTERNAL_SERVER_ERROR, &body);
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nth_request_and_never_with_zero() {
        let hit: Vec<u64> = (1..=10).filter(|n| hits(*n, 4)).collect();
        assert_eq!(hit, [4, 8]);
        assert!(!(1..=100).any(|n| hits(n, 0)));
    }
}
