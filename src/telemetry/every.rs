//! A log line let through at most once per interval, from whichever thread
//! asks first: the loss warning and the exporter's partial-success warning
//! share it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// At most one pass per interval; `const`, so it can be a `static`.
#[derive(Debug)]
pub(crate) struct Every {
    every_ms: u64,
    /// The clock's origin, set at the first ask.
    started: OnceLock<Instant>,
    /// Milliseconds since `started` of the last pass, +1 (0 = never).
    last_ms: AtomicU64,
}

impl Every {
    pub(crate) const fn new(every: Duration) -> Self {
        Self {
            every_ms: every.as_millis() as u64,
            started: OnceLock::new(),
            last_ms: AtomicU64::new(0),
        }
    }

    /// `true` for the first ask, then for the first ask after each interval;
    /// of two threads asking at once, one passes.
    pub(crate) fn pass(&self) -> bool {
        let now = self.started.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1;
        let last = self.last_ms.load(Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) < self.every_ms {
            return false;
        }
        self.last_ms
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_once_per_interval() {
        let every = Every::new(Duration::from_secs(3600));
        assert!(every.pass());
        assert!(!every.pass());
        let always = Every::new(Duration::ZERO);
        assert!(always.pass());
        assert!(always.pass());
    }
}
