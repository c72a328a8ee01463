//! The traits a service calls methods of, in one import:
//!
//! ```
//! use wingspan::prelude::*;
//! ```
//!
//! Without it, `client.query(…)` on a [`db::Client`](crate::db::Client)
//! fails with `no method named 'query' found`: the calls shared by a
//! connection, a transaction and a user session are a trait's
//! ([`Queryable`](crate::db::Queryable)).

#[cfg(feature = "postgres")]
pub use crate::db::Queryable;
