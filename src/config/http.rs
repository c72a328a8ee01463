//! Settings of the HTTP layer.

use super::{ConfigError, Env};

/// Settings of [`crate::http`]; the layer's builder can override each.
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
        Ok(Self {
            llm_routes,
            trust_traceparent: env.bool("WINGSPAN_TRUST_TRACEPARENT", true)?,
        })
    }
}
