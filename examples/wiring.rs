//! Every part of wingspan wired into one axum service: the README's example and
//! the book's "Getting started" chapter include this file (between its `ANCHOR`
//! lines), so what they show is what compiles here.
//!
//! ```text
//! cargo run --example wiring --features postgres,redis,llm   # Postgres (DATABASE_URL), Redis (REDIS_URL)
//! curl localhost:8080/api/users/1     # the `users (id bigint, name text)` table it creates
//! curl localhost:8080/health/ready
//! ```
//!
//! `POST /api/coach` calls the Messages API at `ANTHROPIC_BASE_URL` with
//! `ANTHROPIC_API_KEY`; `examples/llm_calls.rs` runs against the fake one.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use wingspan::db::DbError;
use wingspan::llm::anthropic::MessagesRequest;

// ANCHOR: main
use axum::routing::{get, post};
use axum::Router;
use wingspan::prelude::*; // the query calls (`Queryable`)
use wingspan::{cache::Cache, db::Pool, health::Health, llm::anthropic::Anthropic};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. One init: OTLP traces, metrics and logs, propagators, the tracing bridge,
    //    and the in-process view that /health/detailed reads.
    let telemetry = wingspan::init(wingspan::Config::from_env()?)?;

    // 2. One handle per resource, each with its settings from the environment
    //    (DATABASE_URL, DB_*, REDIS_*, ANTHROPIC_*, WINGSPAN_LLM_*).
    let db = Pool::builder(&telemetry).build().await?;
    let cache = Cache::builder(&telemetry).build().await?;
    let claude = Anthropic::builder(&telemetry).build()?;
    // Queries as with tokio-postgres, each a span (`CREATE TABLE users`).
    let client = db.get().await?;
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, name text)")
        .await?;
    // Back to the pool.
    drop(client);
    // ANCHOR: health
    let health = Health::for_telemetry(&telemetry)
        .check(db.clone()) // readiness: Postgres and Redis, short timeouts
        .check(cache.clone())
        .build();
    // The same routes on their own listener too, when WINGSPAN_ADMIN_ADDR is set.
    let _admin = health.serve_admin().await?;
    // ANCHOR_END: health

    // ANCHOR: layer
    // 3. One layer on the Router (not around it: axum's MatchedPath must be there).
    let app = Router::new()
        .route("/api/users/{id}", get(user))
        .route("/api/coach", post(coach))
        .with_state(App { db, cache, claude })
        .layer(wingspan::http::layer(&telemetry).llm_routes(["/api/coach"]))
        // /health, /health/ready, /health/detailed, /observability (not traced)
        .merge(health.router());
    // ANCHOR_END: layer

    // ANCHOR: serve
    // 4. Serve with bounds on slow clients and on connections (WINGSPAN_HTTP_*),
    //    until SIGTERM or Ctrl-C. (Your own accept loop: `wingspan::http::with_peer`.)
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    wingspan::http::Serve::new(listener, app)
        .config(&telemetry.config().http.serve)
        .run_until(wingspan::shutdown_signal())
        .await?;
    // ANCHOR_END: serve

    // 5. Flush on the way out (bounded: 5 s even with the collector gone).
    if let Err(e) = telemetry.shutdown().await {
        eprintln!("telemetry shutdown: {e}");
    }
    Ok(())
}
// ANCHOR_END: main

// ANCHOR: handlers
#[derive(Clone)]
struct App {
    db: Pool,
    cache: Cache,
    claude: Anthropic,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct User {
    id: i64,
    name: String,
}

/// Read-through: one `GET users:?` span, and on a miss one `acquire` and one
/// `SELECT users` span, all children of the request's span.
async fn user(State(app): State<App>, Path(id): Path<i64>) -> Result<String, StatusCode> {
    let key = format!("users:{id}"); // the cache name is the key's prefix: `users`
    let loaded = app
        .cache
        .get_or_load(&key, Some(Duration::from_secs(300)), || async {
            let client = app.db.get().await?;
            let row = client
                .query_one("SELECT id, name FROM users WHERE id = $1", &[&id])
                .await?;
            Ok::<_, DbError>(User {
                id: row.get(0),
                name: row.get(1),
            })
        });
    // Concurrent misses of one key share one loader call, and so its error.
    match loaded.await {
        Ok(user) => Ok(user.name),
        Err(e) if e.is_timeout() => Err(StatusCode::SERVICE_UNAVAILABLE), // pool exhausted
        Err(e) if matches!(*e, DbError::RowCount { .. }) => Err(StatusCode::NOT_FOUND),
        Err(_) => Err(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// One `chat claude-sonnet-4-5` span with tokens and cost, its HTTP attempts below it.
async fn coach(State(app): State<App>, question: String) -> Result<String, StatusCode> {
    let request = MessagesRequest::new("claude-sonnet-4-5", 1024)
        .system("You are a dating coach.")
        .user(question)
        .task("coach"); // labels the cost: which model serves which task
    match app.claude.messages(&request).await {
        Ok(message) => Ok(message.text()),
        Err(_) => Err(StatusCode::BAD_GATEWAY), // the error is on the span already
    }
}
// ANCHOR_END: handlers
