//! [`AnthropicBuilder`]: the base URL, the key, the bounds, and the `Llm`
//! and client the adapter records and sends through.

use std::time::Duration;

use super::handle::{Anthropic, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_EVENT_BYTES, MESSAGES_PATH};
use super::BuildError;
use crate::client::{HttpClient, RetryPolicy};
use crate::config::{redact_url, ConfigError, LlmConfig, Secret};
use crate::llm::Llm;
use crate::telemetry::Telemetry;

/// Builds an [`Anthropic`]; made by [`Anthropic::builder`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct AnthropicBuilder {
    telemetry: Telemetry,
    config: LlmConfig,
    llm: Option<Llm>,
    http: Option<HttpClient>,
    retry: Option<RetryPolicy>,
    timeout: Option<Duration>,
    max_body: usize,
    max_event: usize,
}

impl AnthropicBuilder {
    pub(super) fn new(telemetry: &Telemetry) -> Self {
        Self {
            telemetry: telemetry.clone(),
            config: telemetry.config().llm.clone(),
            llm: None,
            http: None,
            retry: None,
            timeout: None,
            max_body: DEFAULT_MAX_BODY_BYTES,
            max_event: DEFAULT_MAX_EVENT_BYTES,
        }
    }

    /// Replaces the LLM configuration. Defaults to `telemetry.config().llm`.
    pub fn config(mut self, config: LlmConfig) -> Self {
        self.config = config;
        self
    }

    /// The API's base URL. Defaults to `ANTHROPIC_BASE_URL`
    /// (`https://api.anthropic.com`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.config.anthropic_base_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// The API key sent as `x-api-key`. Defaults to `ANTHROPIC_API_KEY`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.config.anthropic_api_key = Some(Secret::new(key));
        self
    }

    /// Records into this [`Llm`] (shares its instruments, pricing and task
    /// labels). Defaults to a new one from the configuration.
    pub fn llm(mut self, llm: Llm) -> Self {
        self.llm = Some(llm);
        self
    }

    /// Sends through this client. Defaults to a new one from the
    /// configuration.
    pub fn http(mut self, http: HttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// The retry policy of the client built here. Defaults to
    /// `WINGSPAN_LLM_MAX_RETRIES` (2) and `WINGSPAN_LLM_MAX_RETRY_WAIT` (30 s).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The per-attempt timeout of the client built here. Defaults to
    /// `WINGSPAN_LLM_TIMEOUT` (60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The largest non-streamed answer read, in bytes. Defaults to
    /// [`DEFAULT_MAX_BODY_BYTES`] (16 MiB).
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body = max;
        self
    }

    /// The largest stream event read, in bytes. Defaults to
    /// [`DEFAULT_MAX_EVENT_BYTES`] (1 MiB).
    pub fn max_event_bytes(mut self, max: usize) -> Self {
        self.max_event = max;
        self
    }

    /// Builds the adapter, and the [`Llm`] and [`HttpClient`] it was not
    /// given. Fails on a base URL that is not a URL or an API key that
    /// cannot be a header ([`BuildError::Config`]), or when the `Llm` or
    /// the client cannot be built.
    pub fn build(self) -> Result<Anthropic, BuildError> {
        let base = &self.config.anthropic_base_url;
        let url = reqwest::Url::parse(&format!("{base}{MESSAGES_PATH}")).map_err(|e| {
            ConfigError::invalid(
                "ANTHROPIC_BASE_URL",
                &redact_url(base),
                &format!("an http:// or https:// URL ({e})"),
            )
        })?;
        let api_key = match &self.config.anthropic_api_key {
            Some(key) => {
                let mut value = http::HeaderValue::from_str(key.expose()).map_err(|_| {
                    ConfigError::invalid(
                        "ANTHROPIC_API_KEY",
                        "<redacted>",
                        "visible ASCII, as an HTTP header value",
                    )
                })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let server = (
            url.host_str().unwrap_or_default().to_owned(),
            url.port_or_known_default().unwrap_or(443),
        );
        let llm = match self.llm {
            Some(llm) => llm,
            None => Llm::builder(&self.telemetry)
                .config(self.config.clone())
                .build()?,
        };
        let http = match self.http {
            Some(http) => http,
            None => {
                let mut b = HttpClient::builder(&self.telemetry)
                    .timeout(self.timeout.unwrap_or(self.config.timeout))
                    .cross_origin_redirects(self.config.cross_origin_redirects);
                b = b.retry(self.retry.unwrap_or_else(|| {
                    RetryPolicy::retries(self.config.max_retries)
                        .max_retry_wait(self.config.max_retry_wait)
                }));
                b.build()?
            }
        };
        Ok(Anthropic {
            llm,
            http,
            url,
            server,
            api_key,
            max_body: self.max_body,
            max_event: self.max_event,
        })
    }
}
