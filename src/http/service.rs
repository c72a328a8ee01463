//! [`HttpService`]: starts the request span and the measurements.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};
use std::task::{Context as TaskContext, Poll};
use std::time::{Instant, SystemTime};

use axum::extract::MatchedPath;
use http::{Request, Response};
use opentelemetry::trace::{SpanBuilder, SpanKind, TraceContextExt, Tracer};
use opentelemetry::KeyValue;
use tower_service::Service;

use super::attributes::{
    client_address, method_index, owned, protocol_version, recent, scan, scheme_index,
    server_address, Scanned, HTTP_REQUEST_METHOD, HTTP_REQUEST_METHOD_ORIGINAL, HTTP_ROUTE,
    METHODS, NETWORK_PROTOCOL_VERSION, OTHER_METHOD, RECENT_AGENTS, RECENT_HOSTS, ROUTE_CLASS,
    SCHEMES, SERVER_ADDRESS, SERVER_PORT, URL_PATH, URL_QUERY, URL_SCHEME, USER_AGENT_ORIGINAL,
};
use super::body::{RequestGuard, ResponseBody};
use super::future::ResponseFuture;
use super::hook::{Attributes, MAX_HOOK_ATTRIBUTES};
use super::layer::Shared;
use super::propagation;
use super::route::RouteEntry;
use super::skip::Skip;

/// The service [`super::HttpLayer`] wraps around each route.
pub struct HttpService<S> {
    inner: S,
    shared: Arc<Shared>,
    // axum layers each route separately, so a service almost always sees one
    // template: remember it and skip the shared table.
    last_route: Arc<OnceLock<(Box<str>, Arc<RouteEntry>)>>,
}

impl<S: Clone> Clone for HttpService<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: self.shared.clone(),
            last_route: self.last_route.clone(),
        }
    }
}

impl<S> std::fmt::Debug for HttpService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpService").finish_non_exhaustive()
    }
}

impl<S> HttpService<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self {
            inner,
            shared,
            last_route: Arc::default(),
        }
    }

    fn route<B>(&self, req: &Request<B>) -> Arc<RouteEntry> {
        let Some(matched) = req.extensions().get::<MatchedPath>() else {
            return self.shared.routes.unmatched().clone();
        };
        let template = matched.as_str();
        if let Some((t, e)) = self.last_route.get() {
            if **t == *template {
                return e.clone();
            }
        }
        let entry = self.shared.routes.get(template);
        let _ = self.last_route.set((template.into(), entry.clone()));
        entry
    }

    fn attributes<B>(
        &self,
        req: &Request<B>,
        headers: &Scanned<'_>,
        route: &RouteEntry,
        method: usize,
        hook: bool,
    ) -> Vec<KeyValue> {
        let s = &self.shared.settings;
        let query = if s.record_query {
            req.uri().query()
        } else {
            None
        };
        let server = if s.server_address {
            server_address(req, headers.host)
        } else {
            None
        };
        let agent = if s.user_agent {
            headers.user_agent
        } else {
            None
        };
        let version = protocol_version(req.version());
        // Exact capacity, counting the two the guard adds at the end
        // (status code, error.type), so the Vec never grows.
        // With a hook, room for what its two calls may add.
        let capacity = 4
            + 2
            + if hook { 2 * MAX_HOOK_ATTRIBUTES } else { 0 }
            + usize::from(method == OTHER_METHOD)
            + usize::from(query.is_some())
            + usize::from(route.route.is_some())
            + usize::from(version.is_some())
            + usize::from(s.client_address)
            + server.map_or(0, |(_, port)| 1 + usize::from(port.is_some()))
            + usize::from(agent.is_some());
        let mut attrs = Vec::with_capacity(capacity);
        attrs.push(KeyValue::new(HTTP_REQUEST_METHOD, METHODS[method]));
        if method == OTHER_METHOD {
            attrs.push(owned(HTTP_REQUEST_METHOD_ORIGINAL, req.method().as_str()));
        }
        let path = req.uri().path();
        let path = match &s.redact_path {
            Some(hook) => hook(path),
            None => Cow::Borrowed(path),
        };
        attrs.push(owned(URL_PATH, &path));
        if let Some(q) = query {
            attrs.push(owned(URL_QUERY, q));
        }
        attrs.push(KeyValue::new(URL_SCHEME, SCHEMES[scheme_index(req)]));
        if let Some(r) = &route.route {
            attrs.push(KeyValue::new(HTTP_ROUTE, r.clone()));
        }
        if let Some(v) = version {
            attrs.push(KeyValue::new(NETWORK_PROTOCOL_VERSION, v));
        }
        attrs.push(KeyValue::new(ROUTE_CLASS, route.class.as_str()));
        if s.client_address {
            let forwarded = if s.forwarded_for {
                headers.forwarded_for
            } else {
                None
            };
            if let Some(kv) = client_address(req, forwarded) {
                attrs.push(kv);
            }
        }
        if let Some((host, port)) = server {
            attrs.push(recent(&RECENT_HOSTS, SERVER_ADDRESS, host));
            if let Some(p) = port {
                attrs.push(KeyValue::new(SERVER_PORT, i64::from(p)));
            }
        }
        if let Some(ua) = agent {
            attrs.push(recent(&RECENT_AGENTS, USER_AGENT_ORIGINAL, ua));
        }
        attrs
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HttpService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let route = self.route(&req);
        let (req, skip) = self.skipped(req, &route);
        if skip {
            return self.call_skipped(req, route);
        }
        if self.shared.recording.is_off() {
            // The SDK disabled: no span, nothing extracted or propagated
            // (the specification's no-op SDK); measured, and tracked for
            // N+1 detection when the in-process view wants it.
            return self.call_measured(req, route, crate::n_plus_one::tracker());
        }
        let start = Instant::now();
        let shared = self.shared.clone();
        let method = method_index(req.method());
        let scheme = scheme_index(&req);
        shared.instruments.active(method, scheme, 1);

        let headers = scan(req.headers());
        let (parent, link) = propagation::extract(
            req.headers(),
            &shared.settings.propagation,
            headers.context,
            shared.settings.trust_traceparent,
        );
        let mut builder = SpanBuilder::from_name(route.method(method).span_name.clone());
        builder.span_kind = Some(SpanKind::Server);
        builder.links = link.map(|l| vec![l]);
        // Nothing built for a span that cannot record (a caller's context
        // still continues through it); its end needs no wall-clock start.
        let recording = shared.recording.may_record(&parent);
        let mut start_time = SystemTime::UNIX_EPOCH;
        let hook = shared
            .settings
            .span_attributes
            .clone()
            .filter(|_| recording);
        let req = if recording {
            start_time = SystemTime::now();
            let mut attrs = self.attributes(&req, &headers, &route, method, hook.is_some());
            let req = match &hook {
                Some(hook) => {
                    let (parts, body) = req.into_parts();
                    hook.on_request(&parts, &mut Attributes::new(&mut attrs));
                    Request::from_parts(parts, body)
                }
                None => req,
            };
            builder.start_time = Some(start_time);
            builder.attributes = Some(attrs);
            req
        } else {
            req
        };
        let span = shared.tracer.build_with_context(builder, &parent);
        let cx = parent.with_span(span);

        // Not made current for `call` itself: axum (and most services) do
        // their work when the future is polled, where the context is
        // current; attaching here too would cost every request ~5 % of the
        // layer for the rare service that works inside `call`.
        let inner = self.inner.call(req);
        let response_traceparent = shared.settings.response_traceparent;
        let guard = RequestGuard::new(Some(cx), shared, route, method, scheme, start, start_time)
            .tracked(crate::n_plus_one::tracker());
        ResponseFuture::new(inner, Some(guard), response_traceparent, hook)
    }
}

impl<S> HttpService<S> {
    /// Whether the request is skipped: its template is listed (decided once
    /// per template), or the predicate says so.
    fn skipped<B>(&self, req: Request<B>, route: &RouteEntry) -> (Request<B>, bool) {
        if route.skip {
            return (req, true);
        }
        match &self.shared.settings.skip_when {
            None => (req, false),
            Some(predicate) => {
                let (parts, body) = req.into_parts();
                let skip = predicate(&parts);
                (Request::from_parts(parts, body), skip)
            }
        }
    }

    /// A skipped request: no span, no attribute, no propagation; measured
    /// or not as the skip mode says.
    fn call_skipped<ReqBody, ResBody>(
        &mut self,
        req: Request<ReqBody>,
        route: Arc<RouteEntry>,
    ) -> ResponseFuture<S::Future>
    where
        S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    {
        match self.shared.settings.skip_mode {
            Skip::SpanAndMetrics => ResponseFuture::new(self.inner.call(req), None, false, None),
            Skip::Span => self.call_measured(req, route, None),
        }
    }

    /// A request measured without a span: its duration, status and the
    /// in-process view, and N+1 detection when `tracker` is given.
    fn call_measured<ReqBody, ResBody>(
        &mut self,
        req: Request<ReqBody>,
        route: Arc<RouteEntry>,
        tracker: Option<crate::n_plus_one::Tracker>,
    ) -> ResponseFuture<S::Future>
    where
        S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    {
        let start = Instant::now();
        let method = method_index(req.method());
        let scheme = scheme_index(&req);
        self.shared.instruments.active(method, scheme, 1);
        // No span to end, so no wall-clock start is read.
        let guard = RequestGuard::new(
            None,
            self.shared.clone(),
            route,
            method,
            scheme,
            start,
            SystemTime::UNIX_EPOCH,
        )
        .tracked(tracker);
        ResponseFuture::new(self.inner.call(req), Some(guard), false, None)
    }
}
