//! Settings of the HTTP layer and of `wingspan::http::serve`.

use std::time::Duration;

use super::{ConfigError, Env};

/// The route templates skipped by default: those of wingspan's own routers,
/// `Health::router()` (`/health`, `/health/ready`, `/health/detailed`,
/// `/observability`) and `Telemetry::prometheus_router()` (`/metrics`), for
/// an application that merges them into its layered router. Matched as
/// templates, so a router nested under a prefix (`/admin/health`) is not
/// covered: name its templates with `HttpLayer::skip_routes` or
/// `WINGSPAN_HTTP_SKIP_ROUTES`.
pub const DEFAULT_SKIP_ROUTES: [&str; 5] = [
    "/health",
    "/health/ready",
    "/health/detailed",
    "/observability",
    "/metrics",
];

/// Settings of `wingspan::http`; the layer's builder can override each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// `WINGSPAN_LLM_ROUTES`: comma-separated route templates (as written in
    /// the router, e.g. `/api/coach`) whose requests are classed
    /// `wingspan.route.class=llm`, so latency alerts can leave them out.
    /// Defaults to none.
    pub llm_routes: Vec<String>,
    /// `WINGSPAN_TRUST_TRACEPARENT`: `false` on a public edge makes an
    /// incoming `traceparent` a span link instead of the parent. Defaults to true.
    pub trust_traceparent: bool,
    /// `WINGSPAN_HTTP_SKIP_ROUTES`: comma-separated route templates whose
    /// requests get no span (`none` for no template). Defaults to the routes
    /// of wingspan's own routers (`wingspan::http::DEFAULT_SKIP_ROUTES`:
    /// `/health`, `/health/ready`, `/health/detailed`, `/observability`,
    /// `/metrics`).
    pub skip_routes: Vec<String>,
    /// `WINGSPAN_HTTP_SKIP_METRICS`: `true` leaves skipped requests out of
    /// the HTTP metrics and the in-process view too
    /// (`wingspan::http::Skip::SpanAndMetrics`). Defaults to false (no span,
    /// metrics kept).
    pub skip_metrics: bool,
    /// The bounds `wingspan::http::Serve` puts on every connection.
    pub serve: ServeConfig,
}

/// The bounds on every connection of a listener served by
/// `wingspan::http::Serve` (the service's, the admin listener, the
/// Prometheus pull endpoint), so that no client holds a connection, or a
/// task, for longer than they allow. Each `Serve` setter overrides one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeConfig {
    /// `WINGSPAN_HTTP_HEADER_READ_TIMEOUT_MS`: how long a client may take to
    /// send a request head, its first bytes on a new connection, and on a
    /// kept-alive HTTP/1 connection the next request. Defaults to 10000.
    pub header_read_timeout: Duration,
    /// `WINGSPAN_HTTP_BODY_READ_TIMEOUT_MS`: the longest wait for the next
    /// piece of a request body the handler is reading (like nginx's
    /// `client_body_timeout`); past it the read fails and the connection
    /// closes. Defaults to 10000.
    pub body_read_timeout: Duration,
    /// `WINGSPAN_HTTP_IDLE_TIMEOUT_MS`: how long an HTTP/2 connection may
    /// have no open stream before it is closed (HTTP/1's equivalent is the
    /// header read timeout). Defaults to 10000.
    pub idle_timeout: Duration,
    /// `WINGSPAN_HTTP2_KEEP_ALIVE_MS`: the interval of HTTP/2 PINGs while
    /// streams are open, and how long an answer may take before the
    /// connection is closed (a peer that vanished mid-request). Defaults to
    /// 20000.
    pub http2_keep_alive: Duration,
    /// `WINGSPAN_HTTP_MAX_CONNECTIONS`: connections served at once per
    /// listener; at the limit the listener stops accepting (the kernel's
    /// backlog holds new ones) until one closes. Defaults to 1024.
    pub max_connections: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(10),
            http2_keep_alive: Duration::from_secs(20),
            max_connections: 1024,
        }
    }
}

impl ServeConfig {
    pub(crate) fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let ms = |name: &str, default: Duration| {
            env.millis_in(name, default.as_millis() as u64, 100, 3_600_000)
        };
        Ok(Self {
            header_read_timeout: ms(
                "WINGSPAN_HTTP_HEADER_READ_TIMEOUT_MS",
                d.header_read_timeout,
            )?,
            body_read_timeout: ms("WINGSPAN_HTTP_BODY_READ_TIMEOUT_MS", d.body_read_timeout)?,
            idle_timeout: ms("WINGSPAN_HTTP_IDLE_TIMEOUT_MS", d.idle_timeout)?,
            http2_keep_alive: ms("WINGSPAN_HTTP2_KEEP_ALIVE_MS", d.http2_keep_alive)?,
            max_connections: env.u64_in(
                "WINGSPAN_HTTP_MAX_CONNECTIONS",
                d.max_connections as u64,
                1,
                1_000_000,
            )? as usize,
        })
    }
}

impl HttpConfig {
    pub(crate) fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let llm_routes = env.list("WINGSPAN_LLM_ROUTES");
        if let Some(bad) = llm_routes.iter().find(|r| !r.starts_with('/')) {
            return Err(ConfigError::invalid(
                "WINGSPAN_LLM_ROUTES",
                bad,
                "comma-separated route templates starting with '/', such as /api/coach",
            ));
        }
        let skip_routes = match env.get("WINGSPAN_HTTP_SKIP_ROUTES") {
            None => DEFAULT_SKIP_ROUTES
                .iter()
                .map(|r| (*r).to_owned())
                .collect(),
            Some(v) if v.trim().eq_ignore_ascii_case("none") => Vec::new(),
            Some(_) => env.list("WINGSPAN_HTTP_SKIP_ROUTES"),
        };
        if let Some(bad) = skip_routes.iter().find(|r| !r.starts_with('/')) {
            return Err(ConfigError::invalid(
                "WINGSPAN_HTTP_SKIP_ROUTES",
                bad,
                "comma-separated route templates starting with '/', such as /health, or none",
            ));
        }
        Ok(Self {
            llm_routes,
            trust_traceparent: env.bool("WINGSPAN_TRUST_TRACEPARENT", true)?,
            skip_routes,
            skip_metrics: env.bool("WINGSPAN_HTTP_SKIP_METRICS", false)?,
            serve: ServeConfig::from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<HttpConfig, ConfigError> {
        let lookup = |n: &str| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| (*v).to_owned())
        };
        HttpConfig::from_env(&Env::new(&lookup))
    }

    #[test]
    fn skip_routes_default_to_wingspans_own_and_can_be_replaced_or_emptied() {
        let c = read(&[]).unwrap();
        assert_eq!(c.skip_routes, DEFAULT_SKIP_ROUTES);
        assert!(!c.skip_metrics);
        let c = read(&[
            ("WINGSPAN_HTTP_SKIP_ROUTES", "/livez, /readyz"),
            ("WINGSPAN_HTTP_SKIP_METRICS", "true"),
        ])
        .unwrap();
        assert_eq!(c.skip_routes, ["/livez", "/readyz"]);
        assert!(c.skip_metrics);
        assert!(read(&[("WINGSPAN_HTTP_SKIP_ROUTES", "None")])
            .unwrap()
            .skip_routes
            .is_empty());
        let e = read(&[("WINGSPAN_HTTP_SKIP_ROUTES", "/ok,health")]).unwrap_err();
        assert_eq!(
            (e.variable.as_str(), e.value.as_str()),
            ("WINGSPAN_HTTP_SKIP_ROUTES", "health")
        );
    }
}
