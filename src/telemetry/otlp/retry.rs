//! Retries of a failed export, as the OTLP specification asks: only the
//! failures it calls retryable, with exponential backoff and jitter, a
//! server's throttling delay honoured, and the export's timeout as the bound
//! on all attempts together: each attempt gets only what is left of it.
//!
//! The backoff is opentelemetry-otlp's recommended one (3 retries, 100 ms
//! doubling to 1.6 s, up to 100 ms of jitter), so moving spans to
//! wingspan's exporter changed nothing a collector sees when it fails.
//! A server's delay is never cut short: when it does not fit in what is
//! left of the timeout, the export gives up instead of retrying early.

use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher as _, Hasher as _};
use std::time::{Duration, Instant};

const MAX_RETRIES: usize = 3;
const INITIAL_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_millis(1600);
const MAX_JITTER_MS: u64 = 100;

/// What a failed attempt allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Transient (UNAVAILABLE, a 503, no connection): try again.
    Retry,
    /// The server said when to try again.
    Throttled(Duration),
    /// Trying again would fail the same way (a 400, INVALID_ARGUMENT).
    Fatal,
}

/// A failed attempt: what happened, in words that carry no header value or
/// payload, and whether to try again.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) verdict: Verdict,
}

impl Failure {
    pub(crate) fn new(verdict: Verdict, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            verdict,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Runs `attempt` until it succeeds, fails for good, runs out of retries or
/// would outlast `deadline` (counted from the first attempt). Each attempt
/// is given what is left of `deadline`, its own timeout.
pub(crate) async fn with_backoff<T, F, Fut>(
    deadline: Duration,
    mut attempt: F,
) -> Result<T, Failure>
where
    F: FnMut(Duration) -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let start = Instant::now();
    let left = || deadline.saturating_sub(start.elapsed());
    let mut delay = INITIAL_DELAY;
    let mut retries = 0;
    loop {
        let failure = match attempt(left()).await {
            Ok(done) => return Ok(done),
            Err(failure) => failure,
        };
        if retries == MAX_RETRIES {
            return Err(failure);
        }
        let backoff = (delay + jitter()).min(MAX_DELAY);
        let wait = match failure.verdict {
            Verdict::Fatal => return Err(failure),
            Verdict::Retry => backoff,
            // Not before the server's time, however long.
            Verdict::Throttled(server) => server.max(backoff),
        };
        if wait >= left() {
            return Err(failure);
        }
        pause(wait).await;
        retries += 1;
        delay = delay.saturating_mul(2).min(MAX_DELAY);
    }
}

/// Up to [`MAX_JITTER_MS`], from the process's random hash keys and the clock.
fn jitter() -> Duration {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    Duration::from_millis(h.finish() % (MAX_JITTER_MS + 1))
}

/// The export runs on a blocking thread under `block_on` (overlapping
/// exports) or on the SDK's processor thread: tokio's timer where a runtime
/// is entered, the thread's sleep where none is.
async fn pause(wait: Duration) {
    if tokio::runtime::Handle::try_current().is_ok() {
        tokio::time::sleep(wait).await;
    } else {
        std::thread::sleep(wait);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn run(deadline: Duration, verdicts: &[Verdict]) -> (Result<(), Failure>, usize) {
        let calls = AtomicUsize::new(0);
        let result = futures_executor::block_on(with_backoff(deadline, |_| {
            let i = calls.fetch_add(1, Ordering::SeqCst);
            let v = verdicts.get(i).copied();
            async move {
                match v {
                    Some(v) => Err(Failure::new(v, format!("attempt {i}"))),
                    None => Ok(()),
                }
            }
        }));
        (result, calls.load(Ordering::SeqCst))
    }

    #[test]
    fn transient_failures_are_retried_until_success() {
        let (r, calls) = run(Duration::from_secs(10), &[Verdict::Retry, Verdict::Retry]);
        assert!(r.is_ok());
        assert_eq!(calls, 3);
    }

    #[test]
    fn a_fatal_failure_is_not_retried() {
        let (r, calls) = run(Duration::from_secs(10), &[Verdict::Fatal]);
        assert_eq!(r.unwrap_err().message, "attempt 0");
        assert_eq!(calls, 1);
    }

    #[test]
    fn retries_stop_after_three() {
        let (r, calls) = run(Duration::from_secs(30), &[Verdict::Retry; 10]);
        assert_eq!(r.unwrap_err().message, "attempt 3");
        assert_eq!(calls, 4);
    }

    #[test]
    fn no_retry_outlasts_the_deadline() {
        // The first wait (at least 100 ms) does not fit in 50 ms.
        let started = Instant::now();
        let (r, calls) = run(Duration::from_millis(50), &[Verdict::Retry; 10]);
        assert!(r.is_err());
        assert_eq!(calls, 1);
        assert!(started.elapsed() < Duration::from_millis(50));
        // A throttle longer than the deadline gives up at once too.
        let (r, calls) = run(
            Duration::from_secs(2),
            &[Verdict::Throttled(Duration::from_secs(5))],
        );
        assert!(r.is_err());
        assert_eq!(calls, 1);
    }

    #[test]
    fn a_throttle_delay_is_waited_for() {
        let started = Instant::now();
        let (r, calls) = run(
            Duration::from_secs(10),
            &[Verdict::Throttled(Duration::from_millis(400))],
        );
        assert!(r.is_ok());
        assert_eq!(calls, 2);
        assert!(started.elapsed() >= Duration::from_millis(400));
    }

    #[test]
    fn a_throttle_is_never_cut_short() {
        // 45 s does not fit in 40 s: give up now, not retry after 30 s.
        let started = Instant::now();
        let (r, calls) = run(
            Duration::from_secs(40),
            &[Verdict::Throttled(Duration::from_secs(45))],
        );
        assert!(r.is_err());
        assert_eq!(calls, 1);
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn each_attempt_gets_only_what_is_left_of_the_deadline() {
        let given = std::sync::Mutex::new(Vec::new());
        let deadline = Duration::from_secs(1);
        let result = futures_executor::block_on(with_backoff(deadline, |left| {
            given.lock().unwrap().push(left);
            let first = given.lock().unwrap().len() == 1;
            async move {
                if first {
                    // A slow refusal: 300 ms of the second gone.
                    std::thread::sleep(Duration::from_millis(300));
                    Err(Failure::new(Verdict::Retry, "slow 503"))
                } else {
                    Ok(())
                }
            }
        }));
        assert!(result.is_ok());
        let given = given.into_inner().unwrap();
        assert_eq!(given.len(), 2, "{given:?}");
        assert!(given[0] <= deadline);
        // 300 ms of the attempt and at least 100 ms of backoff are gone.
        assert!(given[1] <= Duration::from_millis(600), "{given:?}");
    }

    #[test]
    fn jitter_stays_within_its_bound() {
        for _ in 0..100 {
            assert!(jitter() <= Duration::from_millis(MAX_JITTER_MS));
        }
    }
}
