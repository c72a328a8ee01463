//! Row and COPY streams ([`RowStream`], [`CopyOutStream`]): one CLIENT span
//! per call that lasts until the stream ends, fails, or is dropped.
//!
//! The span starts when the call is sent and ends when the last item has
//! been read (`db.response.returned_rows` set), at the first error (its
//! `error.type`, as for any call), or, when the stream is dropped before
//! its end, as `error.type=canceled`. The pool's client-side bound
//! (`DB_STATEMENT_TIMEOUT`) covers the call until the first reply; a slow
//! reader is not cut off mid-stream (the server's `statement_timeout`
//! still applies).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
use futures_core::Stream;
use opentelemetry::{Context, KeyValue};
use pin_project_lite::pin_project;
use tokio_postgres::types::{BorrowToSql, Type};
use tokio_postgres::Row;

use super::manager::ConnState;
use super::meta::Meta;
use super::query::{bounded, failed, start_call, Exec, StatementMetrics, Target};
use super::statement::QueryRef;
use super::DbError;
use crate::instrument::ClientCall;
use crate::names;

/// The span of a stream's call while the stream is read.
struct Call<'a> {
    call: Option<ClientCall<StatementMetrics<'a, Arc<Meta>>>>,
    state: &'a ConnState,
    items: i64,
}

impl Call<'_> {
    /// Counts an item, or ends the span at the end or at an error.
    fn next<T>(
        &mut self,
        polled: Poll<Option<Result<T, tokio_postgres::Error>>>,
        count_rows: bool,
    ) -> Poll<Option<Result<T, DbError>>> {
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(item))) => {
                self.items += 1;
                Poll::Ready(Some(Ok(item)))
            }
            Poll::Ready(Some(Err(e))) => {
                let e = DbError::from_pg(e);
                if let Some(call) = self.call.take() {
                    failed(call, self.state, &e);
                }
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                if let Some(mut call) = self.call.take() {
                    if count_rows {
                        call.set_attribute(KeyValue::new(
                            names::DB_RESPONSE_RETURNED_ROWS,
                            self.items,
                        ));
                    }
                    call.ok();
                }
                Poll::Ready(None)
            }
        }
    }
}

pin_project! {
    /// The rows of [`Client::query_raw`](super::Client::query_raw) and
    /// [`query_typed_raw`](super::Client::query_typed_raw), as they arrive:
    /// a [`Stream`] of `Result<Row, DbError>` (read it with
    /// `futures::TryStreamExt` or `tokio_stream::StreamExt`). Its span ends
    /// when the stream ends, fails or is dropped.
    pub struct RowStream<'a> {
        #[pin]
        inner: tokio_postgres::RowStream,
        call: Call<'a>,
    }
}

impl std::fmt::Debug for RowStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowStream")
            .field("rows", &self.call.items)
            .finish_non_exhaustive()
    }
}

impl RowStream<'_> {
    /// The number of rows the statement changed, once the stream has ended
    /// (an `INSERT … RETURNING`, say).
    pub fn rows_affected(&self) -> Option<u64> {
        self.inner.rows_affected()
    }
}

impl Stream for RowStream<'_> {
    type Item = Result<Row, DbError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        let polled = this.inner.poll_next(cx);
        this.call.next(polled, true)
    }
}

pin_project! {
    /// The data of [`Client::copy_out`](super::Client::copy_out): a
    /// [`Stream`] of `Result<Bytes, DbError>` chunks. Its span ends when the
    /// stream ends, fails or is dropped.
    pub struct CopyOutStream<'a> {
        #[pin]
        inner: tokio_postgres::CopyOutStream,
        call: Call<'a>,
    }
}

impl std::fmt::Debug for CopyOutStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyOutStream")
            .field("chunks", &self.call.items)
            .finish_non_exhaustive()
    }
}

impl Stream for CopyOutStream<'_> {
    type Item = Result<Bytes, DbError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        let polled = this.inner.poll_next(cx);
        this.call.next(polled, false)
    }
}

macro_rules! on {
    ($target:expr, $c:ident => $body:expr) => {
        match $target {
            Target::Client($c) => $body,
            Target::Tx($c) => $body,
        }
    };
}

impl<'a> Exec<'a> {
    /// Starts the span, sends the call, and hands the span to the stream.
    async fn stream<S, F>(
        &self,
        meta: Arc<Meta>,
        cx: &Context,
        send: F,
    ) -> Result<(S, Call<'a>), DbError>
    where
        F: std::future::Future<Output = Result<S, DbError>>,
    {
        let call = start_call(self.shared, meta, cx);
        match bounded(self.shared, self.state, call.started(), send).await {
            Ok(s) => Ok((
                s,
                Call {
                    call: Some(call),
                    state: self.state,
                    items: 0,
                },
            )),
            Err(e) => {
                failed(call, self.state, &e);
                Err(e)
            }
        }
    }

    /// How `q` is sent: named (the caller's statement, or the connection's
    /// cached one when `prepare` is true and the cache is on), else as text.
    async fn sent<'q>(&self, q: &QueryRef<'q>, prepare: bool) -> Result<Sent<'q>, DbError> {
        let sql: &'q str = match *q {
            QueryRef::Driver(st) => return Ok(Sent::Named(st.clone())),
            QueryRef::Prepared(st) => match &st.raw {
                Some(raw) => return Ok(Sent::Named(raw.clone())),
                None => &st.text,
            },
            QueryRef::Text(sql) => sql,
        };
        if prepare {
            if let Some(st) = self.prepare(sql).await? {
                return Ok(Sent::Named(st));
            }
        }
        Ok(Sent::Text(sql))
    }

    pub(crate) async fn query_raw<P, I>(
        &self,
        q: QueryRef<'_>,
        cx: &Context,
        params: I,
    ) -> Result<RowStream<'a>, DbError>
    where
        P: BorrowToSql,
        I: IntoIterator<Item = P>,
        I::IntoIter: ExactSizeIterator,
    {
        let meta = self.meta(&q);
        let send = async {
            match self.sent(&q, true).await? {
                Sent::Named(st) => on!(&self.target, c => c.query_raw(&st, params).await),
                Sent::Text(sql) => on!(&self.target, c => c.query_raw(sql, params).await),
            }
            .map_err(DbError::from_pg)
        };
        let (inner, call) = self.stream(meta, cx, send).await?;
        Ok(RowStream { inner, call })
    }

    pub(crate) async fn query_typed_raw<P, I>(
        &self,
        sql: &str,
        cx: &Context,
        params: I,
    ) -> Result<RowStream<'a>, DbError>
    where
        P: BorrowToSql,
        I: IntoIterator<Item = (P, Type)>,
    {
        let meta = self.meta(&QueryRef::Text(sql));
        let send = async {
            on!(&self.target, c => c.query_typed_raw(sql, params).await).map_err(DbError::from_pg)
        };
        let (inner, call) = self.stream(meta, cx, send).await?;
        Ok(RowStream { inner, call })
    }

    pub(crate) async fn copy_out(
        &self,
        q: QueryRef<'_>,
        cx: &Context,
    ) -> Result<CopyOutStream<'a>, DbError> {
        let meta = self.meta(&q);
        let send = async {
            // COPY is not worth a cached statement: sent as text unless the
            // caller prepared it.
            match self.sent(&q, false).await? {
                Sent::Named(st) => on!(&self.target, c => c.copy_out(&st).await),
                Sent::Text(sql) => on!(&self.target, c => c.copy_out(sql).await),
            }
            .map_err(DbError::from_pg)
        };
        let (inner, call) = self.stream(meta, cx, send).await?;
        Ok(CopyOutStream { inner, call })
    }
}

/// How a streamed call reaches the server.
enum Sent<'q> {
    Named(tokio_postgres::Statement),
    Text(&'q str),
}
