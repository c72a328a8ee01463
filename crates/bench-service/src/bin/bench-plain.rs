//! The process-level bench's service without wingspan: axum, deadpool-postgres
//! (prepared statements through `prepare_cached`) and a fred pool, served by
//! `axum::serve`. `bench-wingspan` is the same handlers wired with wingspan.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use fred::prelude::{Builder, ClientLike, Config, KeysInterface};
use wingspan_bench_service::{announce, items, shutdown, Item, Settings};

#[derive(Clone)]
struct App {
    db: Pool,
    cache: fred::clients::Pool,
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

async fn load(
    client: &deadpool_postgres::Client,
    select: &str,
    id: i64,
) -> Result<Item, StatusCode> {
    let st = client.prepare_cached(select).await.map_err(fail)?;
    let row = client.query_one(&st, &[&id]).await.map_err(fail)?;
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
    let cached: Option<String> = app.cache.get(app.settings.key(id)).await.map_err(fail)?;
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

async fn counts() -> &'static str {
    "{}"
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::from_env()?;
    let manager = Manager::from_config(
        settings.database_url.parse::<tokio_postgres::Config>()?,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let db = Pool::builder(manager)
        .max_size(settings.connections)
        .build()?;
    db.get().await?.batch_execute(&settings.setup_sql()).await?;
    let cache = Builder::from_config(Config::from_url(&settings.redis_url)?)
        .build_pool(settings.redis_pool)?;
    cache.init().await?;
    for id in 1..=10 {
        let _: () = cache
            .set(settings.key(id), format!("cached {id}"), None, None, false)
            .await?;
    }

    let app = Router::new()
        .route("/json", get(json))
        .route("/query/{id}", get(query))
        .route("/query-cache/{id}", get(query_cache))
        .route("/queries10", get(queries10))
        .route("/_counts", get(counts))
        .route("/_flush", get(|| async { StatusCode::NO_CONTENT }))
        .with_state(App {
            db,
            cache,
            select: settings.select_sql().into(),
            settings: Arc::new(settings.clone()),
        });
    let listener = tokio::net::TcpListener::bind(&settings.addr).await?;
    announce(listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await?;
    Ok(())
}
