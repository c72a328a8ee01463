//! An instrumented outgoing HTTP client over reqwest (feature `llm`).
//!
//! [`HttpClient::send`] sends a `reqwest::Request` with bounded retries and
//! makes **each attempt** a CLIENT span per the HTTP client conventions
//! (`http.request.resend_count` on resends) plus a
//! `http.client.request.duration` record, and injects the attempt's
//! `traceparent` (and `baggage` when configured) into the request. Every
//! attempt is a child of the context the call runs under, so the attempts
//! of one LLM call all nest under its gen_ai span.
//!
//! Why not reqwest-middleware: it supports reqwest 0.13 (0.5.2), but its
//! retry middleware (reqwest-retry 0.9) does not honour `retry-after`, and
//! its error type erases the class `error.type` needs behind `anyhow`;
//! one `send` with its retry loop is shorter than the middleware, the
//! retry middleware and the glue passing the resend count and the parent
//! context between them, and adds no dependency.
//!
//! The span ends when the response headers arrive (or the attempt fails);
//! reading the body is the caller's, and is not part of it.
//!
//! Redirects are followed here, not by reqwest, so each hop is an attempt
//! span too, and by a rule that keeps credentials with their origin: a hop
//! to another origin is refused unless allowed, and then carries only
//! [`CROSS_ORIGIN_HEADERS`] (see [`RedirectRefused`] and the README).

mod attempt;
mod redirect;
mod retry;

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::metrics::Histogram;
use opentelemetry::Context;
use opentelemetry_sdk::trace::SdkTracer;

pub use redirect::{RedirectRefused, CROSS_ORIGIN_HEADERS, DEFAULT_MAX_REDIRECTS};
pub use retry::RetryPolicy;

use crate::names;
use crate::Telemetry;

/// `http.client.request.duration` (s): the semconv advice, plus 20, 40 and
/// 80 s because an LLM answer often takes longer than 10 s.
pub const HTTP_CLIENT_DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
    80.0,
];

/// Why a request got no response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// No response headers within the timeout.
    #[error("no response within {0:?}")]
    Timeout(Duration),
    /// The request failed before a response: connect, TLS, I/O, a malformed
    /// request. `kind` is its `error.type`.
    #[error("{kind}: {source}")]
    Transport {
        /// `connect`, `request`, `redirect`, `body`, `decode` or `_OTHER`.
        kind: &'static str,
        /// reqwest's error, without the URL.
        source: reqwest::Error,
    },
    /// The client could not be built.
    #[error("HTTP client: {0}")]
    Build(String),
    /// A redirect was not followed: nothing was sent to its target. Its
    /// `error.type` is `redirect`.
    #[error("redirect {status} not followed: {reason}")]
    Redirect {
        /// The 3xx status.
        status: u16,
        /// Why.
        reason: RedirectRefused,
    },
}

impl HttpError {
    /// The `error.type` of this failure.
    pub fn error_type(&self) -> &str {
        match self {
            HttpError::Timeout(_) => names::ERROR_TIMEOUT,
            HttpError::Transport { kind, .. } => kind,
            HttpError::Build(_) => names::ERROR_OTHER,
            HttpError::Redirect { .. } => "redirect",
        }
    }

    fn retryable(&self) -> bool {
        match self {
            HttpError::Timeout(_) => true,
            HttpError::Transport { kind, .. } => *kind == names::ERROR_CONNECT,
            HttpError::Build(_) | HttpError::Redirect { .. } => false,
        }
    }
}

pub(crate) struct Shared {
    pub(crate) reqwest: reqwest::Client,
    pub(crate) tracer: SdkTracer,
    pub(crate) duration: Histogram<f64>,
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) redirect: redirect::RedirectPolicy,
    pub(crate) baggage: bool,
}

/// The instrumented client; cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("timeout", &self.shared.timeout)
            .field("retry", &self.shared.retry)
            .field("redirect", &self.shared.redirect)
            .field("baggage", &self.shared.baggage)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A builder with the timeout and retry settings of
    /// `telemetry.config().llm`.
    pub fn builder(telemetry: &Telemetry) -> HttpClientBuilder {
        let llm = &telemetry.config().llm;
        HttpClientBuilder {
            telemetry: telemetry.clone(),
            timeout: llm.timeout,
            retry: RetryPolicy {
                max_retries: llm.max_retries,
                max_retry_wait: llm.max_retry_wait,
                ..RetryPolicy::default()
            },
            redirect: redirect::RedirectPolicy {
                max_redirects: DEFAULT_MAX_REDIRECTS,
                cross_origin: llm.cross_origin_redirects,
            },
            baggage: false,
        }
    }

    /// The underlying reqwest client, to build requests with
    /// (`client.reqwest().post(url).body(..).build()?`).
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.shared.reqwest
    }

    /// The per-attempt timeout.
    pub fn timeout(&self) -> Duration {
        self.shared.timeout
    }

    /// Sends `request` under the current context (see [`send_in`](Self::send_in)).
    pub async fn send(&self, request: reqwest::Request) -> Result<reqwest::Response, HttpError> {
        self.send_in(&Context::current(), request, None).await
    }

    /// Sends `request` with retries, each attempt a CLIENT span under
    /// `parent`, named `{method} {url_template}` (just `{method}` without a
    /// template: the path is never a span name; hops after a redirect have
    /// none). Any HTTP status is a response (`Ok`), the last one when
    /// retries run out; only a request that got no response at all, or a
    /// redirect not followed ([`HttpError::Redirect`]), is an `Err`.
    pub async fn send_in(
        &self,
        parent: &Context,
        request: reqwest::Request,
        url_template: Option<&'static str>,
    ) -> Result<reqwest::Response, HttpError> {
        retry::send(&self.shared, parent, request, url_template).await
    }
}

/// Builds an [`HttpClient`]; made by [`HttpClient::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct HttpClientBuilder {
    telemetry: Telemetry,
    timeout: Duration,
    retry: RetryPolicy,
    redirect: redirect::RedirectPolicy,
    baggage: bool,
}

impl std::fmt::Debug for HttpClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClientBuilder")
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("redirect", &self.redirect)
            .field("baggage", &self.baggage)
            .finish_non_exhaustive()
    }
}

impl HttpClientBuilder {
    /// How long one attempt may wait for the response headers. Defaults to
    /// `WINGSPAN_LLM_TIMEOUT` (60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The retry policy. Defaults to `WINGSPAN_LLM_MAX_RETRIES` (2) resends,
    /// `retry-after` honoured up to `WINGSPAN_LLM_MAX_RETRY_WAIT` (30 s).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Redirect hops followed per call; one more redirect ends the call
    /// with [`HttpError::Redirect`] (`TooMany`), so 0 follows none.
    /// Defaults to [`DEFAULT_MAX_REDIRECTS`] (5).
    pub fn max_redirects(mut self, max: u32) -> Self {
        self.redirect.max_redirects = max;
        self
    }

    /// Follow redirects to another origin (scheme, host, port), carrying
    /// only [`CROSS_ORIGIN_HEADERS`]: never `x-api-key`, `authorization`,
    /// `proxy-authorization`, `cookie`, nor any header marked sensitive.
    /// Off, such a redirect ends the call with [`HttpError::Redirect`] and
    /// nothing is sent to the other origin. Defaults to
    /// `WINGSPAN_LLM_CROSS_ORIGIN_REDIRECTS` (false).
    pub fn cross_origin_redirects(mut self, allow: bool) -> Self {
        self.redirect.cross_origin = allow;
        self
    }

    /// Also inject the W3C `baggage` header (it may carry values the
    /// remote party should not see, so it is off unless asked for, and
    /// never sent to another origin than the request's). Defaults to false.
    pub fn baggage(mut self, inject: bool) -> Self {
        self.baggage = inject;
        self
    }

    /// Builds the reqwest client (rustls on the `ring` provider, system
    /// roots) and the duration histogram.
    pub fn build(self) -> Result<HttpClient, HttpError> {
        let reqwest = reqwest::Client::builder()
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            // Followed by `retry::send`, hop by hop (see `redirect`).
            .redirect(reqwest::redirect::Policy::none())
            .use_preconfigured_tls(
                crate::tls::client_config(crate::tls::system_roots())
                    .map_err(|e| HttpError::Build(format!("TLS: {e}")))?,
            )
            .build()
            .map_err(|e| HttpError::Build(e.without_url().to_string()))?;
        let duration = self
            .telemetry
            .meter()
            .f64_histogram(names::HTTP_CLIENT_REQUEST_DURATION)
            .with_unit("s")
            .with_description("Duration of HTTP client requests.")
            .with_boundaries(HTTP_CLIENT_DURATION_BUCKETS.to_vec())
            .build();
        Ok(HttpClient {
            shared: Arc::new(Shared {
                reqwest,
                tracer: self.telemetry.tracer().clone(),
                duration,
                timeout: self.timeout,
                retry: self.retry,
                redirect: self.redirect,
                baggage: self.baggage,
            }),
        })
    }
}
