//! Bounded retries: which answers are retried, how long to wait
//! (`retry-after`, else exponential back-off with jitter), and the loop that
//! numbers the attempts.

use std::time::Duration;

use http::StatusCode;
use opentelemetry::Context;

use super::attempt::{self, Attempt};
use super::redirect::{self, Origin};
use super::{HttpError, Shared};

/// When and how often a request is resent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Resends after the first attempt. Defaults to 2.
    pub max_retries: u32,
    /// The longest `retry-after` honoured; a longer one ends the call with
    /// that answer. Defaults to 30 s.
    pub max_retry_wait: Duration,
    /// The first back-off when the server names no wait; doubled each
    /// resend, with up to 25 % jitter. Defaults to 500 ms.
    pub initial_backoff: Duration,
    /// The longest back-off. Defaults to 8 s.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            max_retry_wait: Duration::from_secs(30),
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// No resends.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// `max_retries` resends with the default waits.
    pub fn retries(max_retries: u32) -> Self {
        Self {
            max_retries,
            ..Self::default()
        }
    }

    /// Sets the back-off used when the server names no wait. Defaults to
    /// 500 ms doubling up to 8 s.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// Sets the longest `retry-after` honoured. Defaults to 30 s.
    pub fn max_retry_wait(mut self, wait: Duration) -> Self {
        self.max_retry_wait = wait;
        self
    }

    fn backoff_for(&self, resend: u32) -> Duration {
        let base = self
            .initial_backoff
            .saturating_mul(1u32 << resend.min(16))
            .min(self.max_backoff);
        // Up to 25 % less, so clients that failed together do not retry together.
        let jitter = (random() % 1000) as f64 / 4000.0;
        base.mul_f64(1.0 - jitter)
    }
}

/// 408, 409, 429 and 5xx (Anthropic's 529 "overloaded" included).
fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 409 | 429) || status.is_server_error() || status.as_u16() == 529
}

/// The server's wait: `retry-after-ms`, else `retry-after` in seconds.
/// (An HTTP-date `retry-after` is ignored: back-off applies.)
pub(crate) fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let read = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok();
    let secs = read("retry-after-ms")
        .map(|ms| ms / 1000.0)
        .or_else(|| read("retry-after"))?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// Anthropic's `x-should-retry: false` vetoes a retry.
fn server_vetoes(headers: &http::HeaderMap) -> bool {
    headers
        .get("x-should-retry")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("false"))
}

fn random() -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
}

/// Sends `request`: retries as `shared.retry` says, redirects as
/// `shared.redirect` says (see [`super::redirect`]). Every attempt, retry
/// or hop, is numbered by `http.request.resend_count`, as the conventions
/// count them.
pub(super) async fn send(
    shared: &Shared,
    parent: &Context,
    request: reqwest::Request,
    url_template: Option<&'static str>,
) -> Result<reqwest::Response, HttpError> {
    let policy = shared.retry;
    let redirects = shared.redirect;
    let origin = Origin::of(request.url());
    let mut template = url_template;
    let mut request = request;
    let (mut resend, mut retries, mut hops) = (0u32, 0u32, 0u32);
    loop {
        // A copy for a resend or the next hop; a body that cannot be
        // cloned (a stream) can be neither resent nor repeated by a 307.
        let mut spare = (retries < policy.max_retries || hops < redirects.max_redirects)
            .then(|| request.try_clone())
            .flatten();
        // `baggage` stays with the origin the caller addressed.
        let baggage = shared.baggage && origin.contains(request.url());
        let outcome = attempt::run(
            shared,
            parent,
            request,
            resend,
            template,
            baggage,
            |response| redirect::next_hop(redirects, &origin, hops, &mut spare, response),
        )
        .await;
        resend += 1;
        let outcome = match outcome {
            Ok(Attempt::Redirect(hop)) => {
                request = hop;
                hops += 1;
                // The template named the first URL's route, not the hop's.
                template = None;
                continue;
            }
            Ok(Attempt::Response(response)) => Ok(response),
            Err(e) => Err(e),
        };
        let wait = match &outcome {
            Ok(response) if retryable_status(response.status()) => {
                if server_vetoes(response.headers()) {
                    return outcome;
                }
                match retry_after(response.headers()) {
                    Some(wait) if wait > policy.max_retry_wait => return outcome,
                    Some(wait) => wait,
                    None => policy.backoff_for(retries),
                }
            }
            Ok(_) => return outcome,
            Err(e) if e.retryable() => policy.backoff_for(retries),
            Err(_) => return outcome,
        };
        let Some(spare) = spare.filter(|_| retries < policy.max_retries) else {
            return outcome;
        };
        // The answer being retried is dropped (its connection is released).
        drop(outcome);
        tokio::time::sleep(wait).await;
        request = spare;
        retries += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let mut h = http::HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", "150".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(150)));
        let mut h = http::HeaderMap::new();
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", "-3".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn which_statuses_retry() {
        for s in [408, 409, 429, 500, 503, 529] {
            assert!(retryable_status(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [200, 400, 401, 404, 413] {
            assert!(!retryable_status(StatusCode::from_u16(s).unwrap()), "{s}");
        }
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p =
            RetryPolicy::default().backoff(Duration::from_millis(100), Duration::from_millis(300));
        let b0 = p.backoff_for(0);
        assert!(
            b0 <= Duration::from_millis(100) && b0 >= Duration::from_millis(75),
            "{b0:?}"
        );
        let b5 = p.backoff_for(5);
        assert!(b5 <= Duration::from_millis(300), "{b5:?}");
    }
}
