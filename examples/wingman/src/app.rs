//! The shared state of the handlers and the router.

use std::borrow::Cow;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use wingspan::cache::Cache;
use wingspan::db::Pool;
use wingspan::llm::anthropic::Anthropic;

use crate::coach::Overload;
use crate::faults::{self, Faults};
use crate::{challenges, coach, matches, sessions, users};

/// What every handler can reach; cheap to clone.
#[derive(Clone)]
pub struct App {
    pub pool: Pool,
    pub cache: Cache,
    pub claude: Anthropic,
    pub keys: Arc<Keys>,
    /// Injects 529s into the in-process fake; `None` with `WINGMAN_LLM_URL`.
    pub overload: Option<Arc<Overload>>,
    /// Session tokens come from here (the kernel's CSPRNG).
    pub urandom: Arc<std::fs::File>,
}

/// Redis keys: `{prefix}{cache name}/{id}`. The cache is built with `/` as
/// its name separator, so `wingspan.cache.name` is `{prefix}challenges`,
/// `{prefix}sessions`, ... and the id is masked in `db.query.text`.
#[derive(Debug)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    pub fn key(&self, name: &str, id: impl std::fmt::Display) -> String {
        format!("{}{name}/{id}", self.prefix)
    }
}

/// The API routes, the wingspan HTTP layer over them.
/// The injected faults run inside the layer, so its spans and metrics see them.
pub fn router(
    app: App,
    telemetry: &wingspan::Telemetry,
    n_plus_one_route: bool,
    slow_route: bool,
    faults: Arc<Faults>,
) -> Router {
    let mut api = Router::new();
    if n_plus_one_route {
        api = api.route(
            "/api/users/{id}/matches-n-plus-one",
            get(matches::list_n_plus_one),
        );
    }
    if slow_route {
        api = api.route(
            "/api/challenges/{id}/top-scores",
            get(challenges::top_scores),
        );
    }
    api.route("/api/users", post(users::create))
        .route("/api/users/{id}", get(users::get))
        .route("/api/users/{id}/profile", get(users::profile))
        .route("/api/users/{id}/matches", get(matches::list))
        .route("/api/matches", post(matches::create))
        .route("/api/challenges", get(challenges::list))
        .route("/api/challenges/{id}", get(challenges::get))
        .route("/api/sessions", post(sessions::create))
        .route("/api/sessions/{token}", get(sessions::get))
        .route("/api/coach", post(coach::advise))
        .layer(axum::middleware::from_fn_with_state(faults, faults::inject))
        .layer(
            wingspan::http::layer(telemetry)
                .llm_routes(["/api/coach"])
                // A session token in the path is a credential: keep it out of `url.path`.
                .redact_path(redact_session_token),
        )
        .with_state(app)
}

fn redact_session_token(path: &str) -> Cow<'_, str> {
    match path.strip_prefix("/api/sessions/") {
        Some(rest) if !rest.is_empty() => Cow::Borrowed("/api/sessions/REDACTED"),
        _ => Cow::Borrowed(path),
    }
}
