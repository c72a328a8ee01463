//! Which requests the layer leaves out: by route template, or by a
//! predicate on the request.

/// What a skipped request leaves out ([`super::HttpLayer::skip_mode`]).
///
/// Either way a skipped request builds no span, reads no context headers,
/// adds no `traceparent` to the response and computes no attribute; its
/// handler's own spans, if any, start traces of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Skip {
    /// No span; `http.server.request.duration`,
    /// `http.server.active_requests` and the in-process view still count the
    /// request (a probe storm stays visible).
    #[default]
    Span,
    /// No span and no measurement at all: the request goes straight to the
    /// inner service.
    SpanAndMetrics,
}

/// The predicate of [`super::HttpLayer::skip_when`].
pub type SkipWhen = dyn Fn(&http::request::Parts) -> bool + Send + Sync;

/// The route templates skipped by default: those of wingspan's own routers
/// (defined with the settings, which read them; `health`'s tests check them
/// against the routes `Health::router()` registers).
pub use crate::config::DEFAULT_SKIP_ROUTES;
