//! The smallest real service using wingspan's HTTP layer.
//!
//! ```text
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 cargo run --example quickstart
//! curl localhost:8080/hello
//! curl localhost:8080/api/users/42
//! curl -X POST localhost:8080/api/coach
//! ```
//!
//! Every request becomes a SERVER span named after its route
//! (`GET /api/users/{id}`) and feeds `http.server.request.duration`; the
//! `#[instrument]`ed helper nests under it and its `info!` becomes a log
//! record carrying the trace ID. `POST /api/coach` is classed as an LLM route
//! (`WINGSPAN_LLM_ROUTES`, default `/api/coach`), so latency alerts can leave
//! it out. Ctrl-C (or SIGTERM) drains the server, then flushes telemetry.
//!
//! Settings: `APP_ADDR` (default `127.0.0.1:8080`), the standard `OTEL_*`
//! variables and `WINGSPAN_*` (the book's Configuration chapter, docs/src/configuration.md).

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::Path;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let config = wingspan::Config::from_env()?;
    let llm_routes = if config.http.llm_routes.is_empty() {
        vec!["/api/coach".to_owned()]
    } else {
        config.http.llm_routes.clone()
    };
    let telemetry = wingspan::init(config)?;

    let app = Router::new()
        .route("/hello", get(hello))
        .route("/api/users/{id}", get(user))
        .route("/api/coach", post(coach))
        .layer(wingspan::http::layer(&telemetry).llm_routes(llm_routes));

    let addr = std::env::var("APP_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let addr = listener.local_addr()?;
    tracing::info!(
        server.address = %addr.ip(),
        server.port = addr.port(),
        "quickstart listening on {addr}"
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;

    // Exports what is still buffered, within a bounded time. A collector
    // that is gone costs the last batch, not a failed exit.
    if let Err(e) = telemetry.shutdown().await {
        eprintln!("telemetry shutdown: {e}");
    }
    Ok(())
}

async fn hello() -> &'static str {
    "hello\n"
}

fn json(value: &Value) -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], value.to_string())
}

async fn user(Path(id): Path<u64>) -> impl IntoResponse {
    json(&load_user(id).await)
}

/// A stand-in for a database call: its span nests under the request span.
/// The id is recorded as the conventions' `user.id` (a string), not as a
/// bare `id` field.
#[tracing::instrument(skip_all, fields(user.id = %id))]
async fn load_user(id: u64) -> Value {
    tokio::time::sleep(Duration::from_millis(2)).await;
    tracing::info!(user.id = %id, "user loaded");
    json!({ "id": id, "name": format!("user-{id}") })
}

/// A stand-in for an LLM call: slow by design.
async fn coach() -> impl IntoResponse {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let latency = Duration::from_millis(50 + u64::from(nanos % 101));
    tokio::time::sleep(latency).await;
    json(&json!({ "advice": "keep your elbow up", "latency_ms": latency.as_millis() as u64 }))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
