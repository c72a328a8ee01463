//! Database client and connection-pool names (Postgres and Redis share the
//! client ones).

pub use opentelemetry_semantic_conventions::attribute::{
    DB_CLIENT_CONNECTION_POOL_NAME, DB_CLIENT_CONNECTION_STATE, DB_COLLECTION_NAME, DB_NAMESPACE,
    DB_OPERATION_BATCH_SIZE, DB_OPERATION_NAME, DB_QUERY_SUMMARY, DB_QUERY_TEXT,
    DB_RESPONSE_RETURNED_ROWS, DB_RESPONSE_STATUS_CODE, DB_SYSTEM_NAME,
};
pub use opentelemetry_semantic_conventions::metric::{
    DB_CLIENT_CONNECTION_COUNT, DB_CLIENT_CONNECTION_CREATE_TIME, DB_CLIENT_CONNECTION_IDLE_MIN,
    DB_CLIENT_CONNECTION_MAX, DB_CLIENT_CONNECTION_PENDING_REQUESTS, DB_CLIENT_CONNECTION_TIMEOUTS,
    DB_CLIENT_CONNECTION_USE_TIME, DB_CLIENT_CONNECTION_WAIT_TIME, DB_CLIENT_OPERATION_DURATION,
};

/// The constraint a failed statement violated (the server's message and
/// DETAIL, which hold row values, are never recorded). Span only.
pub const WINGSPAN_DB_CONSTRAINT: &str = "wingspan.db.constraint";
/// Open connections at acquire time. Acquire span only.
pub const WINGSPAN_POOL_SIZE: &str = "wingspan.pool.size";
/// Idle connections at acquire time. Acquire span only.
pub const WINGSPAN_POOL_AVAILABLE: &str = "wingspan.pool.available";
/// Callers waiting at acquire time. Acquire span only.
pub const WINGSPAN_POOL_WAITING: &str = "wingspan.pool.waiting";
/// Counter `{connection}`: connections held past `DB_LEAK_THRESHOLD`, with
/// `code.file.path` and `code.line.number` of the `pool.get()` call.
pub const WINGSPAN_DB_CONNECTION_LEAKS: &str = "wingspan.db.connection.leaks";
/// Counter `{occurrence}`, and the server span event of the same name: a
/// request ran one `db.query.summary` more than `DB_N_PLUS_ONE_THRESHOLD`
/// times in a row (an N+1). The counter is by `http.route` and
/// `db.query.summary`; the event carries `db.query.summary`,
/// `wingspan.db.n_plus_one.count` and `db.client.connection.pool.name`.
pub const WINGSPAN_DB_N_PLUS_ONE: &str = "wingspan.db.n_plus_one";
/// The longest run of the statement in the request. Event
/// `wingspan.db.n_plus_one` only.
pub const WINGSPAN_DB_N_PLUS_ONE_COUNT: &str = "wingspan.db.n_plus_one.count";
/// `db.system.name` of PostgreSQL (a value, not a key).
pub const DB_SYSTEM_POSTGRESQL: &str = "postgresql";
