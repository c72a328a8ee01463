//! The notes service of examples/port/before wired with wingspan: the
//! "after" of the book's chapter "Porting an existing service". It keeps
//! its prepared statements, its row stream, its own error type and its own
//! accept loop; `diff -u` against the before shows the port.
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1/postgres REDIS_URL=redis://127.0.0.1 cargo run -p port-after
//! curl -d 'buy milk' localhost:8080/notes   # 201, the new id
//! curl localhost:8080/notes/1               # read through Redis
//! curl localhost:8080/notes                 # every note, streamed from a row stream
//! ```

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::TryStreamExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use wingspan::cache::{Cache, CacheError};
use wingspan::db::tokio_postgres::error::SqlState;
use wingspan::db::{DbError, Pool};
use wingspan::prelude::*;

/// The service's own error type: each variant a status code.
#[derive(Debug, thiserror::Error)]
enum AppError {
    #[error("database error")]
    Db(#[from] DbError),
    #[error("cache error")]
    Cache(#[from] CacheError),
    #[error("no such note")]
    NotFound,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match &self {
            AppError::Db(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                StatusCode::CONFLICT
            }
            AppError::Db(e) if e.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            AppError::NotFound => StatusCode::NOT_FOUND,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, self.to_string()).into_response()
    }
}

#[derive(Clone)]
struct App {
    db: Pool,
    cache: Cache,
    prefix: String,
}

/// A note, read through Redis: a prepared statement on a miss.
async fn note(State(app): State<App>, Path(id): Path<i64>) -> Result<String, AppError> {
    let key = format!("{}:{id}", app.prefix);
    if let Some(body) = app.cache.get::<String>(&key).await? {
        return Ok(body);
    }
    let client = app.db.get().await?;
    let st = client
        .prepare_cached("SELECT body FROM notes WHERE id = $1")
        .await?;
    let row = client
        .query_opt(&st, &[&id])
        .await?
        .ok_or(AppError::NotFound)?;
    let body: String = row.get(0);
    let ttl = Some(Duration::from_secs(60));
    app.cache.set(&key, body.as_str(), ttl).await?;
    Ok(body)
}

/// A new note (its body unique): 201 with its id, 409 for a duplicate.
async fn create(State(app): State<App>, body: String) -> Result<(StatusCode, String), AppError> {
    let client = app.db.get().await?;
    let st = client
        .prepare_cached("INSERT INTO notes (body) VALUES ($1) RETURNING id")
        .await?;
    let id: i64 = client.query_one(&st, &[&body]).await?.get(0);
    Ok((StatusCode::CREATED, id.to_string()))
}

/// Every note, one per line, read from a row stream.
async fn list(State(app): State<App>) -> Result<String, AppError> {
    let client = app.db.get().await?;
    let st = client
        .prepare_cached("SELECT id, body FROM notes ORDER BY id")
        .await?;
    let rows = client.query_raw(&st, std::iter::empty::<i64>()).await?;
    let mut rows = std::pin::pin!(rows);
    let mut out = String::new();
    while let Some(row) = rows.try_next().await? {
        out.push_str(&format!(
            "{}\t{}\n",
            row.get::<_, i64>(0),
            row.get::<_, String>(1)
        ));
    }
    Ok(out)
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = wingspan::init(wingspan::Config::from_env()?)?;

    let database_url = env(
        "DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/postgres",
    );
    let db = Pool::builder(&telemetry)
        .url(database_url)
        .max_connections(16)
        .build()
        .await?;
    db.get().await?
        .batch_execute("CREATE TABLE IF NOT EXISTS notes (id bigserial PRIMARY KEY, body text UNIQUE NOT NULL)")
        .await?;
    let cache = Cache::builder(&telemetry)
        .url(env("REDIS_URL", "redis://127.0.0.1:6379"))
        .build()
        .await?;

    let app = Router::new()
        .route("/notes", get(list).post(create))
        .route("/notes/{id}", get(note))
        .with_state(App {
            db,
            cache,
            prefix: env("NOTES_KEY_PREFIX", "notes"),
        })
        .layer(wingspan::http::layer(&telemetry));

    // The service's own accept loop: HTTP/1 only, a header read timeout,
    // a graceful drain on SIGTERM or Ctrl-C.
    let listener = tokio::net::TcpListener::bind(env("APP_ADDR", "127.0.0.1:8080")).await?;
    println!("listening http://{}", listener.local_addr()?);
    let graceful = GracefulShutdown::new();
    // ANCHOR: accept_loop
    let mut stop = std::pin::pin!(wingspan::shutdown_signal());
    loop {
        let (tcp, peer): (_, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => continue,
            },
            () = &mut stop => break,
        };
        let service = TowerToHyperService::new(wingspan::http::with_peer(app.clone(), peer));
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(5))
            .serve_connection(TokioIo::new(tcp), service);
        tokio::spawn(graceful.watch(conn));
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
    telemetry.shutdown().await?;
    // ANCHOR_END: accept_loop
    Ok(())
}
