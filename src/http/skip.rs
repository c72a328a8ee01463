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

/// The route templates skipped by default: those of wingspan's own routers,
/// `Health::router()` (`/health`, `/health/ready`, `/health/detailed`,
/// `/observability`) and `Telemetry::prometheus_router()` (`/metrics`), for
/// an application that merges them into its layered router. Matched as
/// templates, so a router nested under a prefix (`/admin/health`) is not
/// covered: name its templates with [`super::HttpLayer::skip_routes`] or
/// `WINGSPAN_HTTP_SKIP_ROUTES`.
pub const DEFAULT_SKIP_ROUTES: [&str; 5] = [
    "/health",
    "/health/ready",
    "/health/detailed",
    "/observability",
    "/metrics",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults are the templates wingspan's own routers register: a
    /// renamed route fails here before it is traced again.
    #[tokio::test]
    async fn the_defaults_are_the_templates_of_wingspans_routers() {
        use axum::extract::MatchedPath;
        use tower::ServiceExt as _;

        let stats = crate::stats::Stats::builder().build();
        let health = crate::health::Health::builder(&stats).build();
        for template in DEFAULT_SKIP_ROUTES.iter().filter(|t| **t != "/metrics") {
            let seen = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
            let record = seen.clone();
            let app = health.router().layer(axum::middleware::from_fn(
                move |req: axum::extract::Request, next: axum::middleware::Next| {
                    let record = record.clone();
                    async move {
                        *record.lock().unwrap() = req
                            .extensions()
                            .get::<MatchedPath>()
                            .map(|m| m.as_str().to_owned());
                        next.run(req).await
                    }
                },
            ));
            let req = http::Request::get(*template)
                .body(axum::body::Body::empty())
                .unwrap();
            let _ = app.oneshot(req).await.unwrap();
            assert_eq!(seen.lock().unwrap().as_deref(), Some(*template));
        }
    }
}
