//! One instrumented call: the CLIENT span, the duration histogram, the
//! client-side bound, and the way a statement reaches the server.

use std::future::Future;
use std::ops::Deref;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::BytesMut;
use opentelemetry::trace::{SpanKind, Tracer as _};
use opentelemetry::{Context, KeyValue};
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Row;

use super::manager::ConnState;
use super::meta::Meta;
use super::shared::Shared;
use super::statement::QueryRef;
use super::DbError;
use crate::instrument::{within, CallError, CallMetrics, ClientCall};
use crate::names;

/// Where a call goes: the pooled client or an open transaction.
pub(crate) enum Target<'a> {
    Client(&'a tokio_postgres::Client),
    Tx(&'a tokio_postgres::Transaction<'a>),
}

macro_rules! on {
    ($target:expr, $c:ident => $body:expr) => {
        match $target {
            Target::Client($c) => $body,
            Target::Tx($c) => $body,
        }
    };
}

/// What a driver statement's span is named after when wingspan did not
/// prepare it (tokio-postgres keeps no text).
const DRIVER_STATEMENT: &str = "EXECUTE";

/// Whether `a` and `b` are one server-side statement (clones share their
/// parameter and column lists; tokio-postgres keeps the name private).
/// `a_debug` holds `a`'s `Debug` once a statement with neither list needed
/// it, so a scan formats `a` at most once.
fn same_statement(
    a: &tokio_postgres::Statement,
    b: &tokio_postgres::Statement,
    a_debug: &mut Option<String>,
) -> bool {
    if !a.params().is_empty() {
        return std::ptr::eq(a.params().as_ptr(), b.params().as_ptr());
    }
    if !a.columns().is_empty() {
        return std::ptr::eq(a.columns().as_ptr(), b.columns().as_ptr());
    }
    if !b.params().is_empty() || !b.columns().is_empty() {
        return false;
    }
    // Neither list to tell them apart: the name is in `Debug`.
    *a_debug.get_or_insert_with(|| format!("{a:?}")) == format!("{b:?}")
}

/// How a call reaches the server.
enum Plan<'a, 'p> {
    /// A named statement: the caller's prepared one, or the connection's
    /// cached one for a text query (one round trip per call).
    Named(tokio_postgres::Statement),
    /// Unnamed, with parameter types inferred (`DB_STATEMENT_CACHE=off`,
    /// for transaction-mode poolers).
    Typed(&'a str, Typed<'p>),
    /// tokio-postgres' own prepare, execute and close.
    Text(&'a str),
}

/// What one call needs: the pool, the target, the connection's state.
pub(crate) struct Exec<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) target: Target<'a>,
    pub(crate) state: &'a ConnState,
}

/// Parameter types tried, in order, when a statement must go out unnamed
/// (`DB_STATEMENT_CACHE=off`) and so needs its types up front.
const PROBE: &[Type] = &[
    Type::BOOL,
    Type::INT2,
    Type::INT4,
    Type::INT8,
    Type::FLOAT4,
    Type::FLOAT8,
    Type::TEXT,
    Type::BYTEA,
    Type::UUID,
    Type::JSONB,
    Type::TIMESTAMPTZ,
    Type::TIMESTAMP,
    Type::DATE,
    Type::TIME,
    Type::NUMERIC,
    Type::OID,
    Type::CHAR,
    Type::INET,
    Type::BOOL_ARRAY,
    Type::INT2_ARRAY,
    Type::INT4_ARRAY,
    Type::INT8_ARRAY,
    Type::FLOAT4_ARRAY,
    Type::FLOAT8_ARRAY,
    Type::TEXT_ARRAY,
    Type::BYTEA_ARRAY,
    Type::UUID_ARRAY,
    Type::JSONB_ARRAY,
];

type Typed<'p> = Vec<(&'p (dyn ToSql + Sync), Type)>;

/// The declared type of each parameter, found by which type its value
/// encodes as; `None` when one fits none of [`PROBE`].
fn infer_types<'p>(params: &[&'p (dyn ToSql + Sync)]) -> Option<Typed<'p>> {
    let mut buf = BytesMut::new();
    params
        .iter()
        .map(|p| {
            PROBE
                .iter()
                .find(|t| {
                    buf.clear();
                    p.to_sql_checked(t, &mut buf).is_ok()
                })
                .map(|t| (*p, t.clone()))
        })
        .collect()
}

impl<'a> Exec<'a> {
    pub(crate) fn meta(&self, q: &QueryRef<'_>) -> Arc<Meta> {
        match q {
            QueryRef::Text(sql) => self.shared.meta(sql),
            QueryRef::Prepared(st) => Arc::clone(&st.meta),
            QueryRef::Driver(st) => {
                // Prepared by wingspan on this connection: its text is known.
                // Looked up under the connection's own lock (no other task
                // uses it), so the text is borrowed, not copied.
                let statements = self.state.statements.lock().ok();
                let mut st_debug = None;
                let text = statements.as_ref().and_then(|m| {
                    m.iter()
                        .find(|(_, s)| same_statement(st, s, &mut st_debug))
                        .map(|(sql, _)| &**sql)
                });
                self.shared.meta(text.unwrap_or(DRIVER_STATEMENT))
            }
        }
    }

    pub(crate) async fn instrumented<T, F>(
        &self,
        meta: &Meta,
        cx: &Context,
        fut: F,
        rows: fn(&T) -> Option<i64>,
    ) -> Result<T, DbError>
    where
        F: Future<Output = Result<T, DbError>>,
    {
        instrumented(self.shared, self.state, meta, cx, fut, rows).await
    }

    fn statement_cache(&self) -> bool {
        self.shared.cfg.statement_cache
    }

    /// How a call reaches the server; one decision for `rows` and `affected`.
    async fn plan<'q, 'p>(
        &self,
        q: &'q QueryRef<'q>,
        params: &[&'p (dyn ToSql + Sync)],
    ) -> Result<Plan<'q, 'p>, DbError> {
        let sql = match q {
            QueryRef::Prepared(st) => match &st.raw {
                Some(raw) => return Ok(Plan::Named(raw.clone())),
                None => &*st.text,
            },
            QueryRef::Driver(st) => return Ok(Plan::Named((*st).clone())),
            QueryRef::Text(sql) => sql,
        };
        if !self.statement_cache() {
            if let Some(typed) = infer_types(params) {
                return Ok(Plan::Typed(sql, typed));
            }
        } else if let Some(st) = self.prepare(sql).await? {
            return Ok(Plan::Named(st));
        }
        Ok(Plan::Text(sql))
    }

    pub(crate) async fn rows(
        &self,
        q: &QueryRef<'_>,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, DbError> {
        match self.plan(q, params).await? {
            Plan::Named(st) => on!(&self.target, c => c.query(&st, params).await),
            Plan::Typed(sql, typed) => on!(&self.target, c => c.query_typed(sql, &typed).await),
            Plan::Text(sql) => on!(&self.target, c => c.query(sql, params).await),
        }
        .map_err(DbError::from_pg)
    }

    /// The first row and how many came: `query_one` and `query_opt` read
    /// the rows off the driver's stream instead of collecting them in a
    /// `Vec` (the collect and its allocation were about 400 instructions
    /// per query on the process bench's profile). Every row is still read,
    /// so a count past one is exact.
    pub(crate) async fn first_row(
        &self,
        q: &QueryRef<'_>,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<(Option<Row>, usize), DbError> {
        let stream = match self.plan(q, params).await? {
            Plan::Named(st) => {
                on!(&self.target, c => c.query_raw(&st, params.iter().copied()).await)
            }
            Plan::Typed(sql, typed) => on!(&self.target, c => {
                c.query_typed_raw(sql, typed.iter().map(|(p, t)| (*p, t.clone()))).await
            }),
            Plan::Text(sql) => {
                on!(&self.target, c => c.query_raw(sql, params.iter().copied()).await)
            }
        }
        .map_err(DbError::from_pg)?;
        let mut stream = std::pin::pin!(stream);
        let mut first = None;
        let mut count = 0;
        while let Some(row) =
            std::future::poll_fn(|cx| futures_core::Stream::poll_next(stream.as_mut(), cx)).await
        {
            let row = row.map_err(DbError::from_pg)?;
            count += 1;
            if first.is_none() {
                first = Some(row);
            }
        }
        Ok((first, count))
    }

    pub(crate) async fn affected(
        &self,
        q: &QueryRef<'_>,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, DbError> {
        match self.plan(q, params).await? {
            Plan::Named(st) => on!(&self.target, c => c.execute(&st, params).await),
            Plan::Typed(sql, typed) => on!(&self.target, c => c.execute_typed(sql, &typed).await),
            Plan::Text(sql) => on!(&self.target, c => c.execute(sql, params).await),
        }
        .map_err(DbError::from_pg)
    }

    pub(crate) async fn typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<Row>, DbError> {
        on!(&self.target, c => c.query_typed(sql, params).await.map_err(DbError::from_pg))
    }

    pub(crate) async fn batch(&self, sql: &str) -> Result<(), DbError> {
        on!(&self.target, c => c.batch_execute(sql).await.map_err(DbError::from_pg))
    }

    /// A named statement from the connection's cache, or prepared now.
    pub(crate) async fn prepare(
        &self,
        sql: &str,
    ) -> Result<Option<tokio_postgres::Statement>, DbError> {
        if !self.statement_cache() {
            return Ok(None);
        }
        if let Some(st) = self
            .state
            .statements
            .lock()
            .ok()
            .and_then(|m| m.get(sql).cloned())
        {
            return Ok(Some(st));
        }
        let st = on!(&self.target, c => c.prepare(sql).await).map_err(DbError::from_pg)?;
        if let Ok(mut m) = self.state.statements.lock() {
            if m.len() >= super::manager::STATEMENTS_PER_CONNECTION {
                m.clear();
            }
            m.insert(sql.into(), st.clone());
        }
        Ok(Some(st))
    }
}

/// Where one statement's duration goes: the bound success series, or the
/// statement's attributes plus `error.type` (and the SQLSTATE).
pub(crate) struct StatementMetrics<'a, M: Deref<Target = Meta> = &'a Meta> {
    pub(super) shared: &'a Shared,
    pub(super) meta: M,
}

/// A measured duration back as a `Duration` (never negative or NaN here;
/// zero if it were).
fn secs(seconds: f64) -> std::time::Duration {
    std::time::Duration::try_from_secs_f64(seconds).unwrap_or_default()
}

impl<M: Deref<Target = Meta>> CallMetrics for StatementMetrics<'_, M> {
    fn ok(&self, seconds: f64) {
        self.meta.ok_duration.record(seconds);
        if self.shared.plan_capture {
            self.meta.spend(seconds);
        }
        if let Some(stats) = &self.meta.stats {
            stats.record(secs(seconds), false);
        }
    }

    fn failed(&self, seconds: f64, error_type: &str, status_code: Option<&str>) {
        if self.shared.plan_capture {
            self.meta.spend(seconds);
        }
        if let Some(stats) = &self.meta.stats {
            stats.record(secs(seconds), true);
        }
        let mut attrs = Vec::with_capacity(self.meta.metric_attrs.len() + 2);
        attrs.extend_from_slice(&self.meta.metric_attrs);
        attrs.push(KeyValue::new(names::ERROR_TYPE, error_type.to_owned()));
        if let Some(code) = status_code {
            attrs.push(KeyValue::new(
                names::DB_RESPONSE_STATUS_CODE,
                code.to_owned(),
            ));
        }
        self.shared
            .instruments
            .operation_duration
            .record(seconds, &attrs);
    }
}

impl CallError for DbError {
    fn error_type(&self) -> &str {
        DbError::error_type(self)
    }

    fn status_code(&self) -> Option<&str> {
        DbError::status_code(self)
    }
}

/// Runs `fut` under a CLIENT span named by the summary, bounded client-side,
/// and records `db.client.operation.duration`. A call whose future the caller
/// drops mid-flight (a client disconnect, a handler's own timeout) still ends
/// its span and records its duration as `error.type=canceled`; tokio-postgres
/// discards the late reply, so the connection stays usable.
pub(crate) async fn instrumented<T, F>(
    shared: &Shared,
    state: &ConnState,
    meta: &Meta,
    cx: &Context,
    fut: F,
    rows: fn(&T) -> Option<i64>,
) -> Result<T, DbError>
where
    F: Future<Output = Result<T, DbError>>,
{
    let mut call = start_call(shared, meta, cx);
    let result = bounded(shared, state, call.started(), fut).await;
    match &result {
        Ok(v) => {
            if let Some(n) = rows(v) {
                call.set_attribute(KeyValue::new(names::DB_RESPONSE_RETURNED_ROWS, n));
            }
            call.ok();
        }
        Err(e) => failed(call, state, e),
    }
    result
}

/// The CLIENT span of one call, started under `cx`, and its clock.
pub(crate) fn start_call<'a, M: Deref<Target = Meta>>(
    shared: &'a Shared,
    meta: M,
    cx: &Context,
) -> ClientCall<StatementMetrics<'a, M>> {
    if meta.n_plus_one {
        crate::n_plus_one::observe(
            &meta.summary,
            &shared.pool_name,
            shared.n_plus_one_threshold,
        );
    }
    let metrics = StatementMetrics { shared, meta };
    if !shared.recording.may_record(cx) {
        // Nothing built for a span that cannot record.
        return ClientCall::untraced(metrics);
    }
    let tracer = &shared.tracer;
    let builder = tracer
        .span_builder(metrics.meta.span_name.clone())
        .with_kind(SpanKind::Client)
        .with_attributes(metrics.meta.span_attrs.clone());
    let mut call = ClientCall::start(tracer, builder, cx, metrics);
    // The caller's operation name and the pool's attribute hook (hook.rs).
    super::hook::decorate(&mut call, cx);
    call
}

/// `fut` under the pool's client-side bound, counted from `started`.
pub(crate) async fn bounded<T, F>(
    shared: &Shared,
    state: &ConnState,
    started: std::time::Instant,
    fut: F,
) -> Result<T, DbError>
where
    F: Future<Output = Result<T, DbError>>,
{
    match shared.call_bound {
        Some(bound) => match within(started + bound, fut).await {
            Ok(r) => r,
            Err(_) => {
                // The server may still be running it: never reuse this connection.
                state.broken.store(true, Ordering::Relaxed);
                Err(DbError::StatementTimeout(bound))
            }
        },
        None => fut.await,
    }
}

/// Ends `call` as failed with `e`; a connection that broke is not reused.
pub(crate) fn failed<M: CallMetrics>(mut call: ClientCall<M>, state: &ConnState, e: &DbError) {
    if matches!(
        e,
        DbError::Client {
            kind: "closed" | "io",
            ..
        }
    ) {
        state.broken.store(true, Ordering::Relaxed);
    }
    if let DbError::Server {
        constraint: Some(c),
        ..
    } = e
    {
        call.set_attribute(KeyValue::new(names::WINGSPAN_DB_CONSTRAINT, c.clone()));
    }
    call.fail(e);
}
