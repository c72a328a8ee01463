//! The deadpool `Manager` wrapping deadpool-postgres': it measures
//! `db.client.connection.create_time`, enforces `DB_MAX_LIFETIME` on recycle
//! and discards connections a call found broken.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use opentelemetry::metrics::BoundHistogram;

/// The most prepared statements a connection keeps; past it the cache is
/// cleared (dropping a `Statement` closes it on the server).
pub(crate) const STATEMENTS_PER_CONNECTION: usize = 256;

/// One pooled connection and the bookkeeping deadpool does not keep.
pub(crate) struct Conn {
    pub(crate) client: deadpool_postgres::ClientWrapper,
    pub(crate) created: Instant,
    /// When it was last returned: deadpool's `Metrics::recycled` is the last
    /// checkout, which would let a connection held for an hour look fresh.
    pub(crate) returned: Instant,
    /// Shared with open transactions, which borrow `client` mutably.
    pub(crate) state: Arc<ConnState>,
}

#[derive(Default)]
pub(crate) struct ConnState {
    /// Set when a call timed out client-side or hit a closed connection:
    /// the connection may still be busy or dead, so it is never reused.
    pub(crate) broken: AtomicBool,
    /// Named statements by text; foldhash for the per-query lookup (the
    /// statement cache's reason, `sanitize/cache.rs`).
    pub(crate) statements:
        Mutex<HashMap<Box<str>, tokio_postgres::Statement, foldhash::fast::RandomState>>,
}

pub(crate) struct PgManager {
    pub(crate) inner: deadpool_postgres::Manager,
    pub(crate) create_time: BoundHistogram<f64>,
    pub(crate) max_lifetime: Option<Duration>,
}

impl managed::Manager for PgManager {
    type Type = Conn;
    type Error = tokio_postgres::Error;

    async fn create(&self) -> Result<Conn, tokio_postgres::Error> {
        let start = Instant::now();
        let client = self.inner.create().await?;
        self.create_time.record(start.elapsed().as_secs_f64());
        let now = Instant::now();
        Ok(Conn {
            client,
            created: now,
            returned: now,
            state: Arc::default(),
        })
    }

    async fn recycle(
        &self,
        conn: &mut Conn,
        metrics: &Metrics,
    ) -> RecycleResult<tokio_postgres::Error> {
        if conn.state.broken.load(Ordering::Relaxed) {
            return Err(RecycleError::message("broken"));
        }
        if self
            .max_lifetime
            .is_some_and(|max| conn.created.elapsed() >= max)
        {
            return Err(RecycleError::message("past max lifetime"));
        }
        self.inner.recycle(&mut conn.client, metrics).await
    }

    fn detach(&self, conn: &mut Conn) {
        self.inner.detach(&mut conn.client);
    }
}

pub(crate) type DeadPool = managed::Pool<PgManager>;
pub(crate) type Object = managed::Object<PgManager>;

pub(crate) fn new_manager(
    pg: tokio_postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    create_time: BoundHistogram<f64>,
    max_lifetime: Option<Duration>,
) -> PgManager {
    let mc = deadpool_postgres::ManagerConfig {
        // `is_closed()` only: a killed backend closes the socket, which the
        // connection task sees at once. A round trip per checkout would cost
        // more than the rare call that meets a connection dying in between,
        // which fails once and is then discarded.
        recycling_method: deadpool_postgres::RecyclingMethod::Fast,
    };
    let inner = match tls {
        Some(tls) => deadpool_postgres::Manager::from_config(pg, tls, mc),
        None => deadpool_postgres::Manager::from_config(pg, tokio_postgres::NoTls, mc),
    };
    PgManager {
        inner,
        create_time,
        max_lifetime,
    }
}
