//! A client-side bound that costs nothing when the call finishes on its
//! first poll: [`within`] arms tokio's timer only once the call is pending.
//!
//! `tokio::time::timeout` builds its `Sleep` (a timer handle lookup and a
//! clock read) before the first poll; a pool acquire with an idle connection
//! is ready at once, so that work is wasted on almost every call. The
//! deadline is computed from the instant the caller already read.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use pin_project_lite::pin_project;
use tokio::time::Sleep;

/// The bound passed before the call finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Elapsed;

pin_project! {
    /// [`within`]'s future.
    pub(crate) struct Within<F> {
        #[pin]
        fut: F,
        deadline: Instant,
        #[pin]
        timer: Option<Sleep>,
    }
}

/// Runs `fut` until `deadline`, as `tokio::time::timeout_at`, arming the
/// timer only if `fut` is pending on its first poll.
pub(crate) fn within<F: Future>(deadline: Instant, fut: F) -> Within<F> {
    Within {
        fut,
        deadline,
        timer: None,
    }
}

impl<F: Future> Future for Within<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(v) = this.fut.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        if this.timer.is_none() {
            let deadline = tokio::time::Instant::from_std(*this.deadline);
            this.timer.set(Some(tokio::time::sleep_until(deadline)));
        }
        match this.timer.as_pin_mut() {
            Some(timer) => timer.poll(cx).map(|()| Err(Elapsed)),
            None => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn ready_at_once_needs_no_timer() {
        let past = Instant::now();
        // Even a deadline already passed: a ready call is not cut.
        assert_eq!(within(past, async { 7 }).await, Ok(7));
    }

    #[tokio::test]
    async fn pending_past_the_deadline_elapses() {
        let start = Instant::now();
        let r = within(
            start + Duration::from_millis(50),
            std::future::pending::<()>(),
        )
        .await;
        assert_eq!(r, Err(Elapsed));
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(50), "{took:?}");
        assert!(took < Duration::from_millis(100) * 20, "{took:?}");
    }

    #[tokio::test]
    async fn pending_then_ready_before_the_deadline() {
        let start = Instant::now();
        let r = within(start + Duration::from_secs(5), async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            3
        })
        .await;
        assert_eq!(r, Ok(3));
    }
}
