//! An instrumented outgoing HTTP client over reqwest (feature `llm`).
//!
//! [`HttpClient::send`] sends a `reqwest::Request` with bounded retries and
//! makes **each attempt** a CLIENT span per the HTTP client conventions
//! (`http.request.resend_count` on resends) plus a
//! `http.client.request.duration` record, and injects the attempt's
//! context in the formats of `OTEL_PROPAGATORS` (`traceparent` by default;
//! `baggage` only when configured) into the request. Every
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
//! [`CROSS_ORIGIN_HEADERS`] (see [`RedirectRefused`]).
//!
//! ```no_run
//! # async fn f(telemetry: &wingspan::Telemetry) -> Result<(), Box<dyn std::error::Error>> {
//! use wingspan::client::{HttpClient, RetryPolicy};
//! let client = HttpClient::builder(telemetry)
//!     .retry(RetryPolicy::retries(3))
//!     .build()?;
//! let request = client.reqwest().get("https://api.example.com/v1/items").build()?;
//! // One CLIENT span per attempt, named `GET` (a template names the route).
//! let response = client.send(request).await?;
//! assert!(response.status().is_success());
//! # Ok(()) }
//! ```

mod attempt;
mod builder;
mod error;
mod handle;
mod instruments;
mod redirect;
mod retry;

pub use builder::HttpClientBuilder;
pub use error::{BuildError, HttpError};
pub use handle::HttpClient;
pub use instruments::HTTP_CLIENT_DURATION_BUCKETS;
pub use redirect::{RedirectRefused, CROSS_ORIGIN_HEADERS, DEFAULT_MAX_REDIRECTS};
pub use retry::RetryPolicy;

pub(crate) use handle::Shared;
