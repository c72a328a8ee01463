//! The borrowed connection ([`Client`]), its transactions, and wingspan's
//! own client trait ([`Queryable`]): tokio-postgres' `GenericClient` is
//! sealed.

use std::future::Future;
use std::panic::Location;
use std::pin::pin;
use std::sync::Arc;
use std::time::Instant;

use opentelemetry::Context;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Row;

use super::manager::{ConnState, Object};
use super::query::{instrumented, Exec, Target};
use super::shared::Shared;
use super::statement::{AsQuery, QueryRef, Statement};
use super::stream::{CopyOutStream, RowStream};
use super::DbError;
use tokio_postgres::types::BorrowToSql;

/// The calls of a connection or transaction, each a CLIENT span named by
/// its `db.query.summary` and a `db.client.operation.duration` record.
///
/// The span's parent is the context current when the method is called.
pub trait Queryable: Send + Sync {
    /// Runs a statement and returns its rows.
    fn query<Q: AsQuery + ?Sized>(
        &self,
        query: &Q,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Vec<Row>, DbError>> + Send;

    /// Runs a statement that returns exactly one row.
    fn query_one<Q: AsQuery + ?Sized>(
        &self,
        query: &Q,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Row, DbError>> + Send;

    /// Runs a statement that returns at most one row.
    fn query_opt<Q: AsQuery + ?Sized>(
        &self,
        query: &Q,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Option<Row>, DbError>> + Send;

    /// Runs a statement and returns the number of rows it changed.
    fn execute<Q: AsQuery + ?Sized>(
        &self,
        query: &Q,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<u64, DbError>> + Send;

    /// Runs a statement with declared parameter types, unnamed, in one round
    /// trip (works through transaction-mode poolers).
    fn query_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl Future<Output = Result<Vec<Row>, DbError>> + Send;

    /// Runs one or more statements without parameters (simple protocol).
    fn batch_execute(&self, sql: &str) -> impl Future<Output = Result<(), DbError>> + Send;

    /// A statement prepared once per connection and reused; with
    /// `DB_STATEMENT_CACHE=off`, a statement sent unnamed at each call.
    fn prepare_cached(&self, sql: &str) -> impl Future<Output = Result<Statement, DbError>> + Send;
}

#[allow(clippy::ptr_arg)] // a `fn(&T)` with `T = Vec<Row>`
fn count(rows: &Vec<Row>) -> Option<i64> {
    Some(rows.len() as i64)
}

fn one(_: &Row) -> Option<i64> {
    Some(1)
}

fn opt(row: &Option<Row>) -> Option<i64> {
    Some(i64::from(row.is_some()))
}

fn none<T>(_: &T) -> Option<i64> {
    None
}

/// The one row of a call that read `count` rows, or [`DbError::RowCount`].
fn exactly_one((row, count): (Option<Row>, usize)) -> Result<Row, DbError> {
    match (count, row) {
        (1, Some(row)) => Ok(row),
        (got, _) => Err(DbError::RowCount {
            expected: "exactly one",
            got,
        }),
    }
}

/// The row of a call that read `count` rows, if any, or [`DbError::RowCount`] past one.
fn at_most_one((row, count): (Option<Row>, usize)) -> Result<Option<Row>, DbError> {
    match count {
        0 | 1 => Ok(row),
        got => Err(DbError::RowCount {
            expected: "at most one",
            got,
        }),
    }
}

// Each call's future is pinned where it is made (`pin!`) and passed down as
// `Pin<&mut _>`: a future's size is that of its largest state (here the
// driver's query future, a kilobyte or more), and handed down by value
// through the instrument, the bound and its timer it was copied at every
// step, seven `memcpy`s per query on the process bench's profile.
macro_rules! impl_queryable {
    ($ty:ty) => {
        impl Queryable for $ty {
            fn query<Q: AsQuery + ?Sized>(
                &self,
                query: &Q,
                params: &[&(dyn ToSql + Sync)],
            ) -> impl Future<Output = Result<Vec<Row>, DbError>> + Send {
                let cx = Context::current();
                async move {
                    let exec = self.exec()?;
                    let q = query.as_query().0;
                    let meta = exec.meta(&q);
                    {
                        let fut = pin!(exec.rows(&q, params));
                        exec.instrumented(&meta, &cx, fut, count).await
                    }
                }
            }

            fn query_one<Q: AsQuery + ?Sized>(
                &self,
                query: &Q,
                params: &[&(dyn ToSql + Sync)],
            ) -> impl Future<Output = Result<Row, DbError>> + Send {
                let cx = Context::current();
                async move {
                    let exec = self.exec()?;
                    let q = query.as_query().0;
                    let meta = exec.meta(&q);
                    let fut = async { exactly_one(exec.first_row(&q, params).await?) };
                    {
                        let fut = pin!(fut);
                        exec.instrumented(&meta, &cx, fut, one).await
                    }
                }
            }

            fn query_opt<Q: AsQuery + ?Sized>(
                &self,
                query: &Q,
                params: &[&(dyn ToSql + Sync)],
            ) -> impl Future<Output = Result<Option<Row>, DbError>> + Send {
                let cx = Context::current();
                async move {
                    let exec = self.exec()?;
                    let q = query.as_query().0;
                    let meta = exec.meta(&q);
                    let fut = async { at_most_one(exec.first_row(&q, params).await?) };
                    {
                        let fut = pin!(fut);
                        exec.instrumented(&meta, &cx, fut, opt).await
                    }
                }
            }

            fn execute<Q: AsQuery + ?Sized>(
                &self,
                query: &Q,
                params: &[&(dyn ToSql + Sync)],
            ) -> impl Future<Output = Result<u64, DbError>> + Send {
                let cx = Context::current();
                async move {
                    let exec = self.exec()?;
                    let q = query.as_query().0;
                    let meta = exec.meta(&q);
                    {
                        let fut = pin!(exec.affected(&q, params));
                        exec.instrumented(&meta, &cx, fut, none).await
                    }
                }
            }

            fn query_typed(
                &self,
                sql: &str,
                params: &[(&(dyn ToSql + Sync), Type)],
            ) -> impl Future<Output = Result<Vec<Row>, DbError>> + Send {
                let cx = Context::current();
                async move {
                    let exec = self.exec()?;
                    let meta = exec.meta(&QueryRef::Text(sql));
                    {
                        let fut = pin!(exec.typed(sql, params));
                        exec.instrumented(&meta, &cx, fut, count).await
                    }
                }
            }

            fn batch_execute(&self, sql: &str) -> impl Future<Output = Result<(), DbError>> + Send {
                let cx = Context::current();
                async move {
                    let exec = self.exec()?;
                    let meta = exec.meta(&QueryRef::Text(sql));
                    {
                        let fut = pin!(exec.batch(sql));
                        exec.instrumented(&meta, &cx, fut, none).await
                    }
                }
            }

            fn prepare_cached(
                &self,
                sql: &str,
            ) -> impl Future<Output = Result<Statement, DbError>> + Send {
                let cx = Context::current();
                async move {
                    let exec = self.exec()?;
                    let meta = exec.meta(&QueryRef::Text(sql));
                    let cached = exec
                        .state
                        .statements
                        .lock()
                        .ok()
                        .and_then(|m| m.get(sql).cloned());
                    let raw = match cached {
                        Some(st) => Some(st),
                        // Only a real prepare is a round trip worth a span,
                        // named apart from the statement's executions.
                        None => {
                            let prepare = exec.shared.prepare_meta(&meta);
                            {
                                let fut = pin!(exec.prepare(sql));
                                exec.instrumented(&prepare, &cx, fut, none).await
                            }?
                        }
                    };
                    Ok(Statement {
                        raw,
                        text: Arc::from(sql),
                        meta,
                    })
                }
            }
        }
    };
}

/// The streaming calls, as tokio-postgres has them: each one CLIENT span
/// from the call until its stream ends, fails or is dropped.
macro_rules! impl_streams {
    ($ty:ty) => {
        impl $ty {
            /// Runs a statement and streams its rows as they arrive (the
            /// driver's `query_raw`). The span ends with the stream:
            /// `db.response.returned_rows` at its end, the error at the first
            /// error, `error.type=canceled` if it is dropped before its end.
            pub fn query_raw<'s, Q, P, I>(
                &'s self,
                query: &'s Q,
                params: I,
            ) -> impl Future<Output = Result<RowStream<'s>, DbError>> + Send + 's
            where
                Q: AsQuery + ?Sized,
                P: BorrowToSql + Send + 's,
                I: IntoIterator<Item = P> + Send + 's,
                I::IntoIter: ExactSizeIterator + Send,
            {
                let cx = Context::current();
                async move {
                    let exec = self.exec()?;
                    exec.query_raw(query.as_query().0, &cx, params).await
                }
            }

            /// Like [`query_raw`](Self::query_raw) with declared parameter
            /// types, unnamed, in one round trip (works through
            /// transaction-mode poolers).
            pub fn query_typed_raw<'s, P, I>(
                &'s self,
                sql: &'s str,
                params: I,
            ) -> impl Future<Output = Result<RowStream<'s>, DbError>> + Send + 's
            where
                P: BorrowToSql + Send + 's,
                I: IntoIterator<Item = (P, Type)> + Send + 's,
                I::IntoIter: Send,
            {
                let cx = Context::current();
                async move {
                    let exec = self.exec()?;
                    exec.query_typed_raw(sql, &cx, params).await
                }
            }

            /// Runs a `COPY … TO STDOUT` and streams its data. The span ends
            /// with the stream, as for [`query_raw`](Self::query_raw).
            pub fn copy_out<'s, Q: AsQuery + ?Sized>(
                &'s self,
                query: &'s Q,
            ) -> impl Future<Output = Result<CopyOutStream<'s>, DbError>> + Send + 's {
                let cx = Context::current();
                async move {
                    let exec = self.exec()?;
                    exec.copy_out(query.as_query().0, &cx).await
                }
            }
        }
    };
}

/// A borrowed connection. Returned to the pool when dropped (closed instead
/// when the pool is disabled or the connection broke).
pub struct Client {
    obj: Option<Object>,
    shared: Arc<Shared>,
    checkout: Instant,
    leak_slot: Option<usize>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("pool", &self.shared.name)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub(crate) fn new(
        obj: Object,
        shared: Arc<Shared>,
        location: &'static Location<'static>,
    ) -> Self {
        let leak_slot = if shared.leak_detection {
            shared.leaks.insert(location)
        } else {
            None
        };
        Self {
            obj: Some(obj),
            shared,
            checkout: Instant::now(),
            leak_slot,
        }
    }

    fn exec(&self) -> Result<Exec<'_>, DbError> {
        let obj = self.obj.as_ref().ok_or(DbError::Closed)?;
        Ok(Exec {
            shared: &self.shared,
            target: Target::Client(&obj.client),
            state: &obj.state,
        })
    }

    /// The uninstrumented tokio-postgres client, for what wingspan does not
    /// wrap (`COPY … FROM STDIN`, LISTEN/NOTIFY). Calls made on it emit nothing.
    pub fn raw(&self) -> Option<&tokio_postgres::Client> {
        self.obj.as_ref().map(|o| &*o.client)
    }

    /// Starts a transaction (`BEGIN`, its own span); its calls are instrumented too.
    /// Dropped without `commit`, it rolls back.
    pub fn transaction(&mut self) -> impl Future<Output = Result<Transaction<'_>, DbError>> + Send {
        let cx = Context::current();
        async move {
            let Client { obj, shared, .. } = self;
            let obj = obj.as_mut().ok_or(DbError::Closed)?;
            let state = Arc::clone(&obj.state);
            let shared: &Shared = shared;
            let meta = shared.meta("BEGIN");
            let raw: &mut tokio_postgres::Client = &mut obj.client;
            let tx = instrumented(
                shared,
                &state,
                &meta,
                &cx,
                async { raw.transaction().await.map_err(DbError::from_pg) },
                none,
            )
            .await?;
            Ok(Transaction { tx, shared, state })
        }
    }
}

impl_queryable!(Client);
impl_streams!(Client);

impl Client {
    /// Closes the connection instead of returning it to the pool.
    pub(crate) fn discard(self) {
        if let Some(obj) = &self.obj {
            obj.state
                .broken
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let shared = &self.shared;
        let held = self.checkout.elapsed();
        shared.instruments.use_time.record(held.as_secs_f64());
        if let Some(stats) = &shared.pool_stats {
            stats.record_hold(held);
        }
        if let Some(slot) = self.leak_slot.take() {
            shared.leaks.remove(slot);
        }
        if let Some(mut obj) = self.obj.take() {
            obj.returned = Instant::now();
            let broken = obj.state.broken.load(std::sync::atomic::Ordering::Relaxed);
            if broken || !shared.cfg.pool_enabled {
                // Out of the pool at once: the slot frees for a new connection.
                drop(Object::take(obj));
            }
        }
    }
}

/// An open transaction. Rolls back when dropped without [`commit`](Self::commit).
pub struct Transaction<'a> {
    tx: tokio_postgres::Transaction<'a>,
    shared: &'a Shared,
    state: Arc<ConnState>,
}

impl std::fmt::Debug for Transaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction").finish_non_exhaustive()
    }
}

impl<'a> Transaction<'a> {
    fn exec(&self) -> Result<Exec<'_>, DbError> {
        Ok(Exec {
            shared: self.shared,
            target: Target::Tx(&self.tx),
            state: &self.state,
        })
    }

    async fn end(self, sql: &'static str, commit: bool, cx: Context) -> Result<(), DbError> {
        let shared = self.shared;
        let state = Arc::clone(&self.state);
        let meta = shared.meta(sql);
        let tx = self.tx;
        let fut = async move {
            if commit {
                tx.commit().await
            } else {
                tx.rollback().await
            }
            .map_err(DbError::from_pg)
        };
        instrumented(shared, &state, &meta, &cx, fut, none).await
    }

    /// Commits (`COMMIT`, its own span).
    pub fn commit(self) -> impl Future<Output = Result<(), DbError>> + Send + 'a {
        let cx = Context::current();
        self.end("COMMIT", true, cx)
    }

    /// Rolls back (`ROLLBACK`, its own span).
    pub fn rollback(self) -> impl Future<Output = Result<(), DbError>> + Send + 'a {
        let cx = Context::current();
        self.end("ROLLBACK", false, cx)
    }

    /// A nested transaction (a savepoint).
    pub fn transaction(
        &mut self,
    ) -> impl Future<Output = Result<Transaction<'_>, DbError>> + Send + use<'_, 'a> {
        let cx = Context::current();
        async move {
            let shared = self.shared;
            let state = Arc::clone(&self.state);
            let meta = shared.meta("SAVEPOINT");
            let tx = &mut self.tx;
            let tx = instrumented(
                shared,
                &state,
                &meta,
                &cx,
                async { tx.transaction().await.map_err(DbError::from_pg) },
                none,
            )
            .await?;
            Ok(Transaction { tx, shared, state })
        }
    }

    /// The uninstrumented tokio-postgres transaction.
    pub fn raw(&self) -> &tokio_postgres::Transaction<'a> {
        &self.tx
    }
}

impl_queryable!(Transaction<'_>);
impl_streams!(Transaction<'_>);
