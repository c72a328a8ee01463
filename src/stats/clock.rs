//! The time source of the rolling window: the system clock, or a manual one
//! that tests move forward to watch slots expire.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, read either from the system (anchored
/// once, then advanced by the monotonic clock so a wall-clock step never
/// reorders slots) or from a [`ManualClock`].
#[derive(Debug, Clone)]
pub struct Clock(Source);

#[derive(Debug, Clone)]
enum Source {
    System { anchor: Instant, epoch_ms: u64 },
    Manual(Arc<AtomicU64>),
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        let epoch_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Self(Source::System {
            anchor: Instant::now(),
            epoch_ms,
        })
    }

    /// A clock that only moves when told to, and its handle.
    pub fn manual(start_ms: u64) -> (Self, ManualClock) {
        let ms = Arc::new(AtomicU64::new(start_ms));
        (Self(Source::Manual(ms.clone())), ManualClock(ms))
    }

    /// Milliseconds since the Unix epoch.
    #[inline]
    pub fn now_ms(&self) -> u64 {
        match &self.0 {
            Source::System { anchor, epoch_ms } => {
                // Whole seconds and sub-second millis: no 128-bit division.
                let e = anchor.elapsed();
                epoch_ms + e.as_secs() * 1000 + u64::from(e.subsec_millis())
            }
            Source::Manual(ms) => ms.load(Ordering::Relaxed),
        }
    }

    /// Minutes since the Unix epoch.
    #[inline]
    pub fn minute(&self) -> u64 {
        self.now_ms() / 60_000
    }
}

/// Moves a manual [`Clock`].
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        self.0.fetch_add(d.as_millis() as u64, Ordering::Relaxed);
    }

    /// Milliseconds since the Unix epoch on this clock.
    pub fn now_ms(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}
