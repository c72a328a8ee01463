//! Supabase row-level security: run a transaction as an authenticated user.
//!
//! PostgREST's way: inside a transaction, `set_config(…, true)` sets the JWT
//! claims and the role, so both end with the transaction and the next
//! borrower of the connection sees neither.

use std::future::Future;

use opentelemetry::context::FutureExt as _;
use opentelemetry::Context;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Row;

use super::client::{AsQuery, Client, Queryable, Statement};
use super::pool::Pool;
use super::DbError;

/// The role when the claims carry none.
pub const DEFAULT_ROLE: &str = "authenticated";

const SET_CLAIMS: &str = "SELECT set_config('request.jwt.claims', $1, true), \
     set_config('request.jwt.claim.sub', $2, true), set_config('role', $3, true)";

/// A transaction running as one user; every call is instrumented.
/// Dropped without [`commit`](Self::commit), it rolls back.
#[derive(Debug)]
pub struct UserSession {
    client: Option<Client>,
}

impl Pool {
    /// Borrows a connection and opens a transaction as the user of `claims`
    /// (a JWT payload): `request.jwt.claims` holds them as JSON,
    /// `request.jwt.claim.sub` their `sub`, and the role is their `role`
    /// (`authenticated` when absent), all transaction-local.
    ///
    /// The claims travel as parameters, so they appear in no span.
    #[track_caller]
    pub fn as_user<C: serde::Serialize + ?Sized>(
        &self,
        claims: &C,
    ) -> impl Future<Output = Result<UserSession, DbError>> + Send + 'static {
        let claims = serde_json::to_value(claims).map_err(|_| DbError::Claims);
        let get = self.get();
        let cx = Context::current();
        async move {
            let claims = claims?;
            let role = claims
                .get("role")
                .and_then(|r| r.as_str())
                .unwrap_or(DEFAULT_ROLE)
                .to_owned();
            let sub = claims
                .get("sub")
                .and_then(|s| s.as_str())
                .unwrap_or_default()
                .to_owned();
            let json = claims.to_string();
            let client = get.await?;
            let session = UserSession {
                client: Some(client),
            };
            session.batch_execute("BEGIN").await?;
            session.query(SET_CLAIMS, &[&json, &sub, &role]).await?;
            Ok(session)
        }
        .with_context(cx)
    }
}

impl UserSession {
    fn exec(&self) -> Result<&Client, DbError> {
        self.client.as_ref().ok_or(DbError::Closed)
    }

    /// Commits (`COMMIT`, its own span).
    pub async fn commit(mut self) -> Result<(), DbError> {
        let client = self.client.take().ok_or(DbError::Closed)?;
        client.batch_execute("COMMIT").await
    }

    /// Rolls back (`ROLLBACK`, its own span).
    pub async fn rollback(mut self) -> Result<(), DbError> {
        let client = self.client.take().ok_or(DbError::Closed)?;
        client.batch_execute("ROLLBACK").await
    }
}

impl Drop for UserSession {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        // The connection must not go back mid-transaction with the user's
        // role: roll back first, or close it if that cannot be done.
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    if client.batch_execute("ROLLBACK").await.is_err() {
                        client.discard();
                    }
                });
            }
            Err(_) => client.discard(),
        }
    }
}

impl Queryable for UserSession {
    fn query<Q: AsQuery + ?Sized>(
        &self,
        query: &Q,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Vec<Row>, DbError>> + Send {
        let c = self.exec();
        async move { c?.query(query, params).await }
    }

    fn query_one<Q: AsQuery + ?Sized>(
        &self,
        query: &Q,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Row, DbError>> + Send {
        let c = self.exec();
        async move { c?.query_one(query, params).await }
    }

    fn query_opt<Q: AsQuery + ?Sized>(
        &self,
        query: &Q,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Option<Row>, DbError>> + Send {
        let c = self.exec();
        async move { c?.query_opt(query, params).await }
    }

    fn execute<Q: AsQuery + ?Sized>(
        &self,
        query: &Q,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<u64, DbError>> + Send {
        let c = self.exec();
        async move { c?.execute(query, params).await }
    }

    fn query_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl Future<Output = Result<Vec<Row>, DbError>> + Send {
        let c = self.exec();
        async move { c?.query_typed(sql, params).await }
    }

    fn batch_execute(&self, sql: &str) -> impl Future<Output = Result<(), DbError>> + Send {
        let c = self.exec();
        async move { c?.batch_execute(sql).await }
    }

    fn prepare_cached(&self, sql: &str) -> impl Future<Output = Result<Statement, DbError>> + Send {
        let c = self.exec();
        async move { c?.prepare_cached(sql).await }
    }
}
