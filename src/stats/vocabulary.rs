//! The types the view shares with the modules that feed it. They are
//! defined here, below those modules, and published where they belong:
//! [`RouteClass`] as `wingspan::http::RouteClass`, [`PoolStatus`] as
//! `wingspan::db::PoolStatus`.

/// `wingspan.route.class`: whether a route serves the API or calls a model.
/// LLM routes are reported apart, so their seconds-long latencies do not
/// drown the API's percentiles and the latency alert leaves them out.
///
/// The attribute value is [`as_str`](Self::as_str) (`standard`, `llm`); in
/// the in-process view's JSON (`/health/detailed`) a standard route's class
/// reads `api`, the figures it counts towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum RouteClass {
    /// Every route not configured as an LLM route.
    #[serde(rename = "api")]
    Standard,
    /// A route listed in `llm_routes`: slow by design, so latency alerts
    /// leave it out.
    #[serde(rename = "llm")]
    Llm,
}

impl RouteClass {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Llm => "llm",
        }
    }
}

/// What a connection pool holds right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct PoolStatus {
    /// Connections open (idle + used).
    pub size: usize,
    /// Idle connections.
    pub idle: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
    /// The pool's maximum size (`DB_MAX_CONNECTIONS`).
    pub max: usize,
}

impl PoolStatus {
    /// The status of a pool of `max` connections, `size` of them open and
    /// `idle` of those not lent out, with `waiting` callers.
    pub fn new(size: usize, idle: usize, waiting: usize, max: usize) -> Self {
        Self {
            size,
            idle,
            waiting,
            max,
        }
    }

    /// Connections lent out.
    pub fn active(&self) -> usize {
        self.size.saturating_sub(self.idle)
    }

    /// Lent-out connections over the maximum (0 for an empty pool).
    pub fn utilization(&self) -> f64 {
        if self.max == 0 {
            0.0
        } else {
            self.active() as f64 / self.max as f64
        }
    }
}
