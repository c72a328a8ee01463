//! The process-level bench's service wired with wingspan as the README's
//! example is: one `init`, `wingspan::db::Pool`, `wingspan::cache::Cache`, the
//! layer on the router, `wingspan::http::Serve`, a flush on the way out. The
//! handlers are `bench-plain`'s, on wingspan's handles.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use wingspan::cache::Cache;
use wingspan::db::{Client, Pool};
use wingspan::prelude::*;
use wingspan::Telemetry;
use wingspan_bench_service::{announce, items, shutdown, Item, Settings};

#[derive(Clone)]
struct App {
    db: Pool,
    cache: Cache,
    settings: Arc<Settings>,
    select: Arc<str>,
}

type Res<T> = Result<Json<T>, StatusCode>;

fn fail<E>(_: E) -> StatusCode {
    StatusCode::INTERNAL_SERVER_ERROR
}

async fn json() -> Json<Vec<Item>> {
    Json(items())
}

async fn load(client: &Client, select: &str, id: i64) -> Result<Item, StatusCode> {
    let row = client.query_one(select, &[&id]).await.map_err(fail)?;
    Ok(Item {
        id: row.get(0),
        name: row.get(1),
        score: row.get(2),
    })
}

async fn query(State(app): State<App>, Path(id): Path<i64>) -> Res<Item> {
    let client = app.db.get().await.map_err(fail)?;
    Ok(Json(load(&client, &app.select, id).await?))
}

async fn query_cache(State(app): State<App>, Path(id): Path<i64>) -> Res<(Option<String>, Item)> {
    let cached: Option<String> = app.cache.get(&app.settings.key(id)).await.map_err(fail)?;
    let client = app.db.get().await.map_err(fail)?;
    Ok(Json((cached, load(&client, &app.select, id).await?)))
}

async fn queries10(State(app): State<App>) -> Res<Vec<Item>> {
    let client = app.db.get().await.map_err(fail)?;
    let mut out = Vec::with_capacity(10);
    for id in 1..=10 {
        out.push(load(&client, &app.select, id).await?);
    }
    Ok(Json(out))
}

/// The pipeline's own counts, for the harness (not a measured route).
async fn counts(State(telemetry): State<Telemetry>) -> Json<serde_json::Value> {
    let c = telemetry.loss_counts();
    Json(serde_json::json!({
        "spans_exported": c.spans_exported,
        "spans_queue_full": c.spans_queue_full,
        "spans_export_failed": c.spans_export_failed,
    }))
}

/// Exports what is buffered (the harness charges the export to the run that
/// produced it).
async fn flush(State(telemetry): State<Telemetry>) -> StatusCode {
    match telemetry.force_flush().await {
        Ok(()) => StatusCode::NO_CONTENT,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::from_env()?;
    let telemetry = wingspan::init(wingspan::Config::from_env()?)?;
    let db = Pool::builder(&telemetry)
        .url(settings.database_url.clone())
        .max_connections(settings.connections)
        .build()
        .await?;
    db.get().await?.batch_execute(&settings.setup_sql()).await?;
    let cache = Cache::builder(&telemetry)
        .url(settings.redis_url.clone())
        .build()
        .await?;
    for id in 1..=10 {
        cache
            .set(&settings.key(id), format!("cached {id}").as_str(), None)
            .await?;
    }

    let app = Router::new()
        .route("/json", get(json))
        .route("/query/{id}", get(query))
        .route("/query-cache/{id}", get(query_cache))
        .route("/queries10", get(queries10))
        .with_state(App {
            db,
            cache,
            select: settings.select_sql().into(),
            settings: Arc::new(settings.clone()),
        })
        .layer(wingspan::http::layer(&telemetry))
        .merge(
            Router::new()
                .route("/_counts", get(counts))
                .route("/_flush", get(flush))
                .with_state(telemetry.clone()),
        );
    let listener = tokio::net::TcpListener::bind(&settings.addr).await?;
    announce(listener.local_addr()?);
    wingspan::http::Serve::new(listener, app)
        .config(&telemetry.config().http.serve)
        .run_until(shutdown())
        .await?;
    if let Err(e) = telemetry.shutdown().await {
        eprintln!("telemetry shutdown: {e}");
    }
    Ok(())
}
