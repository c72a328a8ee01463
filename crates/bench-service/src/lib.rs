//! What the two builds of the process-level bench share (scripts/bench_process.py
//! drives them): the routes, the rows they read, the JSON they write, and the
//! settings both read. The handlers themselves live in each binary, written
//! as a user of that stack writes them: `bench-plain` against deadpool-postgres
//! and fred, `bench-wingspan` against `wingspan::db` and `wingspan::cache`, wired
//! as the README's example is.
//!
//! Routes (every one `GET`, no request body):
//!
//! | route | work |
//! |---|---|
//! | `/json` | ten items serialized to JSON, no I/O |
//! | `/query/{id}` | one pooled query, its row as JSON |
//! | `/query-cache/{id}` | one Redis `GET` and one pooled query |
//! | `/queries10` | ten queries on one pooled connection |
//!
//! `/_counts` (outside the measured routes) answers the pipeline's own counts
//! as JSON (`{}` for the plain build), read by the harness before and after
//! each run.

use serde::Serialize;

/// One row of the bench table.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub id: i64,
    pub name: String,
    pub score: f64,
}

/// Rows in the table; ids 1..=ROWS.
pub const ROWS: i64 = 1000;

/// The ten items `/json` answers (built per request, as a handler would).
pub fn items() -> Vec<Item> {
    (1..=10)
        .map(|id| Item {
            id,
            name: format!("item {id}"),
            score: id as f64 * 1.5,
        })
        .collect()
}

/// The settings both builds read.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub redis_url: String,
    pub addr: String,
    /// The schema holding the bench table (one per harness run).
    pub schema: String,
    /// Pool size for Postgres (both builds).
    pub connections: usize,
    /// Redis pool size (both builds).
    pub redis_pool: usize,
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

impl Settings {
    pub fn from_env() -> Result<Self, String> {
        let number = |name: &str, default: &str| -> Result<usize, String> {
            let v = env(name, default);
            v.parse()
                .map_err(|_| format!("{name}={v:?}: expected a positive integer"))
        };
        let schema = env("BENCH_SCHEMA", "wingspan_bench");
        if schema.is_empty()
            || !schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(format!("BENCH_SCHEMA={schema:?}: expected [a-z0-9_]+"));
        }
        Ok(Self {
            database_url: env(
                "DATABASE_URL",
                "postgres://postgres@127.0.0.1:5432/postgres",
            ),
            redis_url: env("REDIS_URL", "redis://127.0.0.1:6379"),
            addr: env("APP_ADDR", "127.0.0.1:0"),
            schema,
            connections: number("BENCH_CONNECTIONS", "64")?,
            redis_pool: number("BENCH_REDIS_POOL", "4")?,
        })
    }

    /// Creates the schema and its table (idempotent; the harness drops the
    /// schema at the end).
    pub fn setup_sql(&self) -> String {
        let s = &self.schema;
        format!(
            "CREATE SCHEMA IF NOT EXISTS {s};
             CREATE TABLE IF NOT EXISTS {s}.items (id bigint PRIMARY KEY, name text NOT NULL, score float8 NOT NULL);
             INSERT INTO {s}.items SELECT i, 'item ' || i, i * 1.5 FROM generate_series(1, {ROWS}) i
               ON CONFLICT DO NOTHING;"
        )
    }

    /// The one statement every query route runs.
    pub fn select_sql(&self) -> String {
        format!(
            "SELECT id, name, score FROM {}.items WHERE id = $1",
            self.schema
        )
    }

    /// The Redis key of an id (its prefix is the schema, so runs do not meet).
    pub fn key(&self, id: i64) -> String {
        format!("{}:item:{id}", self.schema)
    }
}

/// Prints the address line the harness waits for.
pub fn announce(addr: std::net::SocketAddr) {
    println!("listening http://{addr}");
}

/// SIGTERM (the harness) or Ctrl-C.
pub async fn shutdown() {
    let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        // No handler: Ctrl-C alone.
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
