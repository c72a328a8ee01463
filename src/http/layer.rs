//! [`HttpLayer`]: the builder and the tower `Layer`.

use crate::telemetry::recording::Recording;
use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

use opentelemetry::metrics::Meter;
use opentelemetry_sdk::trace::SdkTracer;
use tower_layer::Layer;

use super::hook::SpanAttributes;
use super::metrics::Instruments;
use super::route::Routes;
use super::service::HttpService;
use super::skip::{Skip, SkipWhen};
use crate::telemetry::propagators::Propagation;
use crate::telemetry::Telemetry;

/// The `url.path` redaction hook.
pub type RedactPath = dyn for<'a> Fn(&'a str) -> Cow<'a, str> + Send + Sync;

#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) llm_routes: Vec<String>,
    pub(crate) trust_traceparent: bool,
    /// `OTEL_PROPAGATORS`: the formats read from requests.
    pub(crate) propagation: Propagation,
    pub(crate) response_traceparent: bool,
    pub(crate) redact_path: Option<Arc<RedactPath>>,
    pub(crate) record_query: bool,
    pub(crate) client_address: bool,
    pub(crate) forwarded_for: bool,
    pub(crate) server_address: bool,
    pub(crate) user_agent: bool,
    pub(crate) duration_metric: bool,
    pub(crate) active_requests_metric: bool,
    pub(crate) skip_routes: Vec<String>,
    pub(crate) skip_mode: Skip,
    pub(crate) skip_when: Option<Arc<SkipWhen>>,
    pub(crate) span_attributes: Option<Arc<dyn SpanAttributes>>,
}

/// What every service of one layer shares: settings, tracer, instruments
/// and the route table.
pub(crate) struct Shared {
    pub(crate) settings: Settings,
    pub(crate) tracer: SdkTracer,
    /// Whether a request's span can record, known before it is built.
    pub(crate) recording: Recording,
    pub(crate) instruments: Instruments,
    pub(crate) routes: Routes,
}

/// A tower [`Layer`] that gives every request a SERVER span and the HTTP
/// server metrics. Made by [`crate::http::layer`]; apply it with
/// `Router::layer` so axum's `MatchedPath` names the span.
#[must_use]
#[derive(Clone)]
pub struct HttpLayer {
    settings: Settings,
    tracer: SdkTracer,
    recording: Recording,
    meter: Meter,
    stats: Option<crate::stats::Stats>,
    // Built on the first `Layer::layer` call and shared by every route's
    // service (axum layers each route separately); a setter starts a new one.
    shared: Arc<OnceLock<Arc<Shared>>>,
}

impl fmt::Debug for HttpLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.settings;
        f.debug_struct("HttpLayer")
            .field("llm_routes", &s.llm_routes)
            .field("trust_traceparent", &s.trust_traceparent)
            .field("response_traceparent", &s.response_traceparent)
            .field("redact_path", &s.redact_path.is_some())
            .field("record_query", &s.record_query)
            .field("skip_routes", &s.skip_routes)
            .field("skip_mode", &s.skip_mode)
            .field("skip_when", &s.skip_when.is_some())
            .field("span_attributes", &s.span_attributes.is_some())
            .finish_non_exhaustive()
    }
}

impl HttpLayer {
    pub(crate) fn new(telemetry: &Telemetry) -> Self {
        let http = &telemetry.config().http;
        Self {
            settings: Settings {
                llm_routes: http.llm_routes.clone(),
                trust_traceparent: http.trust_traceparent,
                propagation: Propagation::new(&telemetry.config().telemetry.propagators),
                response_traceparent: true,
                redact_path: None,
                record_query: false,
                client_address: true,
                forwarded_for: false,
                server_address: true,
                user_agent: true,
                duration_metric: true,
                active_requests_metric: true,
                skip_routes: http.skip_routes.clone(),
                skip_mode: if http.skip_metrics {
                    Skip::SpanAndMetrics
                } else {
                    Skip::Span
                },
                skip_when: None,
                span_attributes: None,
            },
            tracer: telemetry.tracer().clone(),
            recording: telemetry.recording(),
            meter: telemetry.meter().clone(),
            stats: telemetry.stats().cloned(),
            shared: Arc::default(),
        }
    }

    fn set(mut self, f: impl FnOnce(&mut Settings)) -> Self {
        f(&mut self.settings);
        self.shared = Arc::default();
        self
    }

    /// Route templates (as written in the router, e.g. `/api/coach`) whose
    /// requests are classed `wingspan.route.class=llm`. Replaces the list.
    /// Defaults to `WINGSPAN_LLM_ROUTES` (`telemetry.config().http.llm_routes`).
    pub fn llm_routes<I, S>(self, routes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let routes = routes.into_iter().map(Into::into).collect();
        self.set(|s| s.llm_routes = routes)
    }

    /// Whether an incoming `traceparent` becomes the parent of the server
    /// span (`true`), or only a span link on a new trace (`false`, for a
    /// public edge; incoming baggage is then ignored too).
    /// Defaults to `WINGSPAN_TRUST_TRACEPARENT` (true).
    pub fn trust_traceparent(self, yes: bool) -> Self {
        self.set(|s| s.trust_traceparent = yes)
    }

    /// Whether the response carries the server span's `traceparent`.
    /// Defaults to true.
    pub fn response_traceparent(self, yes: bool) -> Self {
        self.set(|s| s.response_traceparent = yes)
    }

    /// Rewrites `url.path` before it is recorded, e.g. to hide a reset token
    /// or a magic-link secret. It never affects routing or the span name
    /// (which uses the route template). Defaults to the path unchanged.
    pub fn redact_path<F>(self, hook: F) -> Self
    where
        F: for<'a> Fn(&'a str) -> Cow<'a, str> + Send + Sync + 'static,
    {
        let hook: Arc<RedactPath> = Arc::new(hook);
        self.set(|s| s.redact_path = Some(hook))
    }

    /// Whether the query string is recorded as `url.query` (it often carries
    /// tokens). Defaults to false.
    pub fn record_query(self, yes: bool) -> Self {
        self.set(|s| s.record_query = yes)
    }

    /// Whether `client.address` is recorded (the peer from axum's
    /// `ConnectInfo<SocketAddr>`, when the app is served with
    /// `into_make_service_with_connect_info`). Defaults to true.
    pub fn client_address(self, yes: bool) -> Self {
        self.set(|s| s.client_address = yes)
    }

    /// Whether `client.address` is the first hop of `X-Forwarded-For` when
    /// present. Only safe behind a proxy that sets it. Defaults to false.
    pub fn trust_forwarded_for(self, yes: bool) -> Self {
        self.set(|s| s.forwarded_for = yes)
    }

    /// Whether `server.address` and `server.port` are recorded (from the
    /// `Host` header or the `:authority`). Defaults to true.
    pub fn server_address(self, yes: bool) -> Self {
        self.set(|s| s.server_address = yes)
    }

    /// Whether `user_agent.original` is recorded. Defaults to true.
    pub fn user_agent(self, yes: bool) -> Self {
        self.set(|s| s.user_agent = yes)
    }

    /// Whether `http.server.request.duration` is recorded. Defaults to true.
    pub fn duration_metric(self, yes: bool) -> Self {
        self.set(|s| s.duration_metric = yes)
    }

    /// Whether `http.server.active_requests` is recorded. Defaults to true.
    pub fn active_requests_metric(self, yes: bool) -> Self {
        self.set(|s| s.active_requests_metric = yes)
    }

    /// Route templates (as written in the router) whose requests are
    /// skipped as [`skip_mode`](Self::skip_mode) says: no span, and
    /// optionally no metrics. Replaces the list; an empty list traces every
    /// route. Matched on axum's `MatchedPath` once per template, so a
    /// skipped request costs one table lookup. Defaults to
    /// `WINGSPAN_HTTP_SKIP_ROUTES`, else [`super::DEFAULT_SKIP_ROUTES`] (the
    /// routes of `Health::router()` and `Telemetry::prometheus_router()`).
    pub fn skip_routes<I, S>(self, routes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let routes = routes.into_iter().map(Into::into).collect();
        self.set(|s| s.skip_routes = routes)
    }

    /// Skips the requests for which `predicate` returns true (by header,
    /// method, path, extension...), as [`skip_mode`](Self::skip_mode) says,
    /// besides the [`skip_routes`](Self::skip_routes). Called once per
    /// request that is not skipped by template; keep it cheap. Defaults to
    /// none.
    pub fn skip_when<F>(self, predicate: F) -> Self
    where
        F: Fn(&http::request::Parts) -> bool + Send + Sync + 'static,
    {
        let predicate: Arc<SkipWhen> = Arc::new(predicate);
        self.set(|s| s.skip_when = Some(predicate))
    }

    /// What a skipped request leaves out: the span only ([`Skip::Span`]), or
    /// the span and every measurement ([`Skip::SpanAndMetrics`]). Defaults
    /// to `WINGSPAN_HTTP_SKIP_METRICS` (false: [`Skip::Span`]).
    pub fn skip_mode(self, mode: Skip) -> Self {
        self.set(|s| s.skip_mode = mode)
    }

    /// The application's own attributes on the server span, from the
    /// request head and the response head ([`SpanAttributes`]: at most
    /// [`super::MAX_HOOK_ATTRIBUTES`] per call, values capped, never on the
    /// metrics). Replaces any previous hook. Defaults to none.
    pub fn span_attributes(self, hook: impl SpanAttributes) -> Self {
        let hook: Arc<dyn SpanAttributes> = Arc::new(hook);
        self.set(|s| s.span_attributes = Some(hook))
    }

    fn shared(&self) -> Arc<Shared> {
        self.shared
            .get_or_init(|| {
                let s = &self.settings;
                Arc::new(Shared {
                    instruments: Instruments::new(
                        &self.meter,
                        s.duration_metric,
                        s.active_requests_metric,
                    ),
                    routes: Routes::new(&s.llm_routes, &s.skip_routes, self.stats.clone()),
                    tracer: self.tracer.clone(),
                    recording: self.recording,
                    settings: s.clone(),
                })
            })
            .clone()
    }
}

impl<S> Layer<S> for HttpLayer {
    type Service = HttpService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpService::new(inner, self.shared())
    }
}
