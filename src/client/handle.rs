//! [`HttpClient`]: sending a request with retries, each attempt a span.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::metrics::Histogram;
use opentelemetry::Context;
use opentelemetry_sdk::trace::SdkTracer;

use super::redirect;
use super::retry::{self, RetryPolicy};
use super::{HttpClientBuilder, HttpError};
use crate::telemetry::Telemetry;

pub(crate) struct Shared {
    pub(crate) reqwest: reqwest::Client,
    pub(crate) tracer: SdkTracer,
    /// `Off` with the SDK disabled: no span, nothing propagated.
    pub(crate) recording: crate::telemetry::recording::Recording,
    pub(crate) duration: Histogram<f64>,
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) redirect: redirect::RedirectPolicy,
    pub(crate) baggage: bool,
    /// `OTEL_PROPAGATORS`: the formats written on each attempt.
    pub(crate) propagation: crate::telemetry::propagators::Propagation,
}

/// The instrumented client; cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    pub(super) shared: Arc<Shared>,
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
        HttpClientBuilder::new(telemetry)
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
