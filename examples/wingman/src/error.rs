//! The API's errors and JSON answers.
//!
//! Error bodies are `{"error": "<short reason>"}` and never quote a database
//! message (it can hold row values) or a token.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use wingspan::cache::CacheError;
use wingspan::db::DbError;

/// A JSON answer with its status.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// Why a request failed, as the client sees it.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the request is malformed (the reason is ours, not an echo of the input).
    BadRequest(&'static str),
    /// 404: no such resource.
    NotFound(&'static str),
    /// 409: a unique value is taken.
    Conflict(&'static str),
    /// 503: a dependency (Postgres, Redis) is unavailable; retry later.
    Unavailable(&'static str),
    /// 500: anything else.
    Internal,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, reason) = match self {
            ApiError::BadRequest(r) => (StatusCode::BAD_REQUEST, r),
            ApiError::NotFound(r) => (StatusCode::NOT_FOUND, r),
            ApiError::Conflict(r) => (StatusCode::CONFLICT, r),
            ApiError::Unavailable(r) => (StatusCode::SERVICE_UNAVAILABLE, r),
            ApiError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
        };
        let mut response = json(status, &serde_json::json!({ "error": reason }));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<&DbError> for ApiError {
    fn from(e: &DbError) -> Self {
        match e {
            // The pool could not lend a connection in time, could not open
            // one, or the connection broke: the database is (for now) away.
            e if e.is_timeout() => ApiError::Unavailable("database unavailable"),
            DbError::Connect(_) | DbError::Closed | DbError::Client { .. } => {
                ApiError::Unavailable("database unavailable")
            }
            DbError::Server { code, .. } => match code.as_str() {
                "23503" => ApiError::NotFound("unknown user or challenge"),
                "23505" => ApiError::Conflict("already exists"),
                "23514" => ApiError::BadRequest("value out of range"),
                // Class 08 connection exception, 53 insufficient resources,
                // 57P01-57P03 shutdown / cannot connect now.
                c if c.starts_with("08")
                    || c.starts_with("53")
                    || matches!(c, "57P01" | "57P02" | "57P03") =>
                {
                    ApiError::Unavailable("database unavailable")
                }
                _ => internal(e),
            },
            _ => internal(e),
        }
    }
}

/// A 500, logged: `DbError`'s text is the SQLSTATE and constraint name only.
fn internal(e: &DbError) -> ApiError {
    tracing::warn!(error.type = e.error_type(), "database error: {e}");
    ApiError::Internal
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError::from(&e)
    }
}

impl From<CacheError> for ApiError {
    fn from(_: CacheError) -> Self {
        ApiError::Unavailable("cache unavailable")
    }
}

/// Parses a positive id from a path segment: 400 otherwise.
pub fn parse_id(raw: &str) -> Result<i32, ApiError> {
    match raw.parse::<i32>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(ApiError::BadRequest("id must be a positive integer")),
    }
}

/// Parses a JSON body: 400 when it is not the expected object.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|_| ApiError::BadRequest("body is not the expected JSON"))
}
