//! What a call runs: SQL text, a [`Statement`], or a prepared
//! [`tokio_postgres::Statement`], through [`AsQuery`].
//!
//! tokio-postgres' `ToStatement` is sealed and its `Statement` exposes no SQL
//! text, so wingspan has its own statement type that carries the sanitized
//! summary. A driver statement works too: its span is named after the text
//! it was prepared from when wingspan prepared it on that connection
//! (`prepare_cached`, or [`Statement::raw`]), else `EXECUTE`.

use std::sync::Arc;

use tokio_postgres::types::Type;

use super::meta::Meta;

/// A statement: SQL text (`&str`, `String`), a [`Statement`] from
/// `prepare_cached`, or a [`tokio_postgres::Statement`] prepared on the same
/// connection (deadpool-postgres' `prepare_cached`, `Client::raw().prepare`).
pub trait AsQuery: Sync {
    #[doc(hidden)]
    fn as_query(&self) -> Query<'_>;
}

/// What [`AsQuery`] yields; opaque.
#[doc(hidden)]
#[derive(Debug)]
pub struct Query<'a>(pub(crate) QueryRef<'a>);

/// A statement as the caller gave it.
#[derive(Debug)]
pub(crate) enum QueryRef<'a> {
    Text(&'a str),
    Prepared(&'a Statement),
    /// The driver's statement: no text, only its name on the connection.
    Driver(&'a tokio_postgres::Statement),
}

impl QueryRef<'_> {
    /// The SQL text, as written; `None` for a driver statement, whose text
    /// tokio-postgres does not keep.
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Self::Text(sql) => Some(sql),
            Self::Prepared(st) => Some(&st.text),
            Self::Driver(_) => None,
        }
    }
}

impl AsQuery for str {
    fn as_query(&self) -> Query<'_> {
        Query(QueryRef::Text(self))
    }
}

impl AsQuery for String {
    fn as_query(&self) -> Query<'_> {
        Query(QueryRef::Text(self))
    }
}

impl AsQuery for Statement {
    fn as_query(&self) -> Query<'_> {
        Query(QueryRef::Prepared(self))
    }
}

/// A statement the driver prepared, used as it is: no conversion, and the
/// same server-side statement runs.
impl AsQuery for tokio_postgres::Statement {
    fn as_query(&self) -> Query<'_> {
        Query(QueryRef::Driver(self))
    }
}

/// A prepared statement that knows its sanitized text and summary.
///
/// Like tokio-postgres' statements it belongs to the connection it was
/// prepared on. With `DB_STATEMENT_CACHE=off` nothing is prepared on the
/// server: the statement is sent unnamed at each call.
#[derive(Clone)]
pub struct Statement {
    pub(crate) raw: Option<tokio_postgres::Statement>,
    pub(crate) text: Arc<str>,
    pub(crate) meta: Arc<Meta>,
}

impl std::fmt::Debug for Statement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Statement")
            .field("summary", &self.summary())
            .finish_non_exhaustive()
    }
}

impl Statement {
    /// `db.query.summary`, e.g. `SELECT users`.
    pub fn summary(&self) -> &str {
        &self.meta.sanitized.summary
    }

    /// `db.query.text`: the text with literals masked.
    pub fn sanitized_text(&self) -> &str {
        &self.meta.sanitized.text
    }

    /// The server-side statement, when one was prepared (with
    /// `DB_STATEMENT_CACHE=off` none is). It can be passed back to any call
    /// of the same connection as it is, or to the driver's own calls.
    pub fn raw(&self) -> Option<&tokio_postgres::Statement> {
        self.raw.as_ref()
    }

    /// The parameter types the server inferred, when prepared.
    pub fn params(&self) -> &[Type] {
        self.raw.as_ref().map_or(&[], |s| s.params())
    }
}

/// The driver's statement, when one was prepared.
impl From<Statement> for Option<tokio_postgres::Statement> {
    fn from(st: Statement) -> Self {
        st.raw
    }
}
