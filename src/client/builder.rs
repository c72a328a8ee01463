//! [`HttpClientBuilder`]: timeouts, retries, redirects, then the reqwest
//! client and the instrument.

use std::sync::Arc;
use std::time::Duration;

use super::handle::{HttpClient, Shared};
use super::instruments;
use super::redirect::{RedirectPolicy, DEFAULT_MAX_REDIRECTS};
use super::{BuildError, RetryPolicy};
use crate::telemetry::Telemetry;

/// Builds an [`HttpClient`]; made by [`HttpClient::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct HttpClientBuilder {
    telemetry: Telemetry,
    timeout: Duration,
    retry: RetryPolicy,
    redirect: RedirectPolicy,
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
    pub(super) fn new(telemetry: &Telemetry) -> Self {
        let llm = &telemetry.config().llm;
        Self {
            telemetry: telemetry.clone(),
            timeout: llm.timeout,
            retry: RetryPolicy {
                max_retries: llm.max_retries,
                max_retry_wait: llm.max_retry_wait,
                ..RetryPolicy::default()
            },
            redirect: RedirectPolicy {
                max_redirects: DEFAULT_MAX_REDIRECTS,
                cross_origin: llm.cross_origin_redirects,
            },
            baggage: false,
        }
    }

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
    /// with [`HttpError::Redirect`](super::HttpError::Redirect) (`TooMany`), so 0 follows none.
    /// Defaults to [`DEFAULT_MAX_REDIRECTS`] (5).
    pub fn max_redirects(mut self, max: u32) -> Self {
        self.redirect.max_redirects = max;
        self
    }

    /// Follow redirects to another origin (scheme, host, port), carrying
    /// only [`CROSS_ORIGIN_HEADERS`](super::CROSS_ORIGIN_HEADERS): never `x-api-key`, `authorization`,
    /// `proxy-authorization`, `cookie`, nor any header marked sensitive.
    /// Off, such a redirect ends the call with [`HttpError::Redirect`](super::HttpError::Redirect) and
    /// nothing is sent to the other origin. Defaults to
    /// `WINGSPAN_LLM_CROSS_ORIGIN_REDIRECTS` (false).
    pub fn cross_origin_redirects(mut self, allow: bool) -> Self {
        self.redirect.cross_origin = allow;
        self
    }

    /// Also inject the baggage, in the formats `OTEL_PROPAGATORS` names
    /// (W3C `baggage`, Jaeger's `uberctx-*`, OT trace's `ot-baggage-*`). It
    /// may carry values the remote party should not see, so it is off
    /// unless asked for, and never sent to another origin than the
    /// request's. Defaults to false.
    pub fn baggage(mut self, inject: bool) -> Self {
        self.baggage = inject;
        self
    }

    /// Builds the reqwest client (rustls on the `ring` provider, system
    /// roots) and the duration histogram.
    pub fn build(self) -> Result<HttpClient, BuildError> {
        let tls = crate::tls::client_config(crate::tls::system_roots()).map_err(BuildError::Tls)?;
        let reqwest = reqwest::Client::builder()
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            // Followed by `retry::send`, hop by hop (see `redirect`).
            .redirect(reqwest::redirect::Policy::none())
            .use_preconfigured_tls(tls)
            .build()
            .map_err(|e| BuildError::Client(e.without_url()))?;
        let duration = instruments::duration(self.telemetry.meter());
        Ok(HttpClient {
            shared: Arc::new(Shared {
                reqwest,
                tracer: self.telemetry.tracer().clone(),
                recording: self.telemetry.recording(),
                duration,
                timeout: self.timeout,
                retry: self.retry,
                redirect: self.redirect,
                baggage: self.baggage,
                propagation: crate::telemetry::propagators::Propagation::new(
                    &self.telemetry.config().telemetry.propagators,
                ),
            }),
        })
    }
}
