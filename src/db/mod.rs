//! The instrumented PostgreSQL pool (feature `postgres`).
//!
//! [`Pool`] wraps deadpool-postgres. Every [`Pool::get`] is an INTERNAL span
//! `acquire {pool name}`; every call on the borrowed [`Client`] (through
//! [`Queryable`]) is a CLIENT span named by its `db.query.summary`, with the
//! text sanitized by [`sanitize`]. The pool records the semconv pool metrics,
//! keeps its minimum open, reaps idle and old connections, reports leaks
//! with the caller's location, heals after its backends die, and can run a
//! transaction as a Supabase user ([`Pool::as_user`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use wingspan::db::{Pool, Queryable};
//! let telemetry = wingspan::init(wingspan::Config::from_env()?)?;
//! let pool = Pool::builder(&telemetry).build().await?;
//! let client = pool.get().await?; // span `acquire 127.0.0.1:5432/postgres`
//! let rows = client.query("SELECT id FROM users WHERE name = $1", &[&"ada"]).await?; // span `SELECT users`
//! # let _ = rows; Ok(()) }
//! ```

mod builder;
mod check;
mod client;
mod error;
mod handle;
mod hook;
mod instruments;
mod leak;
mod manager;
mod meta;
mod plan;
mod query;
mod reaper;
mod rls;
pub mod sanitize;
mod shared;
mod statement;
mod stream;
mod tls;

pub use crate::config::PlanCapture;
pub use crate::hooks::{operation, Attributes, MAX_HOOK_ATTRIBUTES, MAX_OPERATION_NAME_LEN};
pub use crate::stats::vocabulary::PoolStatus;
pub use builder::{PoolBuilder, DEFAULT_STATEMENT_CACHE};
pub use client::{Client, Queryable, Transaction};
pub use error::{BuildError, DbError};
pub use handle::Pool;
pub use hook::{CallInfo, QueryAttributes};
pub use rls::{UserSession, DEFAULT_ROLE};
pub use statement::{AsQuery, Query, Statement};
pub use stream::{CopyOutStream, RowStream};
/// The driver, re-exported so applications name its types (`Row`,
/// `types::ToSql`, `Error`) at the version wingspan was built with.
pub use tokio_postgres;
