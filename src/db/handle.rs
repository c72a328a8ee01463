//! [`Pool`]: borrowing connections (the acquire span), status.

use std::future::Future;
use std::panic::Location;
use std::sync::Arc;
use std::time::Instant;

use opentelemetry::trace::{Span as _, SpanKind, Status, Tracer as _};
use opentelemetry::{Context, KeyValue};

use super::client::Client;
use super::shared::Shared;
use super::{DbError, PoolStatus};
use crate::config::DbConfig;
use crate::instrument::within;
use crate::names;

/// The instrumented PostgreSQL pool. Cheap to clone; clones share the pool.
///
/// ```no_run
/// # async fn run(telemetry: wingspan::Telemetry) -> Result<(), wingspan::db::DbError> {
/// use wingspan::db::{Pool, Queryable};
/// let pool = Pool::builder(&telemetry).build().await?;
/// let client = pool.get().await?;
/// let row = client.query_one("SELECT $1::int4 + 1", &[&41i32]).await?;
/// assert_eq!(row.get::<_, i32>(0), 42);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Pool {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("name", &self.shared.name)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// Borrows a connection, waiting at most `DB_CONNECTION_TIMEOUT` in all
    /// (for a free slot and for opening a connection).
    ///
    /// A plain `fn` so `#[track_caller]` records the caller's location for
    /// leak reports; the acquire span's parent is the context current here.
    /// Fails with [`DbError::PoolTimeout`] when none is free in time, and
    /// [`DbError::ConnectTimeout`] when opening one takes longer than
    /// `DB_CONNECT_TIMEOUT` (both [`DbError::is_timeout`]).
    #[track_caller]
    pub fn get(&self) -> impl Future<Output = Result<Client, DbError>> + Send + 'static {
        let location = Location::caller();
        let shared = Arc::clone(&self.shared);
        let cx = Context::current();
        async move { acquire(shared, location, cx).await }
    }

    /// The pool's name (`db.client.connection.pool.name`).
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The settings the pool runs with.
    pub fn config(&self) -> &DbConfig {
        &self.shared.cfg
    }

    /// What the pool holds right now.
    pub fn status(&self) -> PoolStatus {
        self.shared.status()
    }

    /// Closes the pool: waiting and future `get()`s fail with
    /// [`DbError::Closed`]; borrowed connections close when returned.
    pub fn close(&self) {
        self.shared.pool.close();
    }
}

/// One borrow, under the `acquire {pool}` span.
async fn acquire(
    shared: Arc<Shared>,
    location: &'static Location<'static>,
    cx: Context,
) -> Result<Client, DbError> {
    // Nothing built for a span that cannot record; boxed, so the acquire's
    // future stays small when nothing records (client_call.rs says why).
    let mut span = shared.recording.may_record(&cx).then(|| {
        let s = shared.pool.status();
        let mut attrs = Vec::with_capacity(6);
        attrs.extend_from_slice(&shared.acquire_attrs);
        attrs.push(KeyValue::new(names::WINGSPAN_POOL_SIZE, s.size as i64));
        attrs.push(KeyValue::new(
            names::WINGSPAN_POOL_AVAILABLE,
            s.available as i64,
        ));
        attrs.push(KeyValue::new(
            names::WINGSPAN_POOL_WAITING,
            s.waiting as i64,
        ));
        Box::new(
            shared.tracer.build_with_context(
                shared
                    .tracer
                    .span_builder(shared.acquire_name.clone())
                    .with_kind(SpanKind::Internal)
                    .with_attributes(attrs),
                &cx,
            ),
        )
    });
    let start = Instant::now();
    // The whole acquire (waiting for a slot, recycling, opening a
    // connection) is bounded here; the pool sets no wait or recycle
    // timeout of its own (builder.rs says why).
    let bound = shared.cfg.acquire_timeout;
    let got = match within(start + bound, shared.pool.get()).await {
        Ok(got) => got.map_err(|e| shared.map_pool_error(e)),
        Err(_) => Err(DbError::PoolTimeout(bound)),
    };
    let waited = start.elapsed();
    shared.instruments.wait_time.record(waited.as_secs_f64());
    if let Some(stats) = &shared.pool_stats {
        stats.record_acquire(waited, matches!(&got, Err(e) if e.is_timeout()));
    }
    match got {
        Ok(obj) => {
            if let Some(span) = &mut span {
                span.end();
            }
            Ok(Client::new(obj, shared, location))
        }
        Err(err) => {
            if err.is_timeout() {
                shared.instruments.timeouts.add(1);
            }
            if let Some(span) = &mut span {
                span.set_attribute(KeyValue::new(
                    names::ERROR_TYPE,
                    err.error_type().to_owned(),
                ));
                span.set_status(Status::error(err.error_type().to_owned()));
                span.end();
            }
            Err(err)
        }
    }
}
