//! `POST /api/sessions` (a session for a known user, kept in Redis with a
//! TTL) and `GET /api/sessions/{token}`.
//!
//! The token is 128 bits from the kernel's CSPRNG (`/dev/urandom`), in hex.
//! It never reaches telemetry: the HTTP layer redacts it from `url.path`
//! (see `app::router`) and the cache masks keys after their cache name
//! (unless `WINGSPAN_REDIS_KEYS=full` asks for whole keys: not for this key).

use std::io::Read;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json as j;
use wingspan::db::Queryable;

use crate::app::App;
use crate::error::{json, parse_body, ApiError};

/// How long a session lives in Redis.
const TTL: Duration = Duration::from_secs(1800);

#[derive(Deserialize)]
pub struct NewSession {
    user_id: i32,
}

pub async fn create(State(app): State<App>, body: Bytes) -> Result<Response, ApiError> {
    let req: NewSession = parse_body(&body)?;
    if req.user_id <= 0 {
        return Err(ApiError::BadRequest("user_id must be a positive integer"));
    }
    {
        let client = app.pool.get().await?;
        client
            .query_opt("SELECT 1 FROM users WHERE id = $1", &[&req.user_id])
            .await?
            .ok_or(ApiError::NotFound("no such user"))?;
    } // the connection goes back before the Redis call
    let token = token(&app.urandom).map_err(|_| ApiError::Internal)?;
    let value = j!({ "user_id": req.user_id }).to_string();
    app.cache
        .set(&app.keys.key("sessions", &token), value, Some(TTL))
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &j!({ "token": token, "user_id": req.user_id, "expires_in_s": TTL.as_secs() }),
    ))
}

pub async fn get(State(app): State<App>, Path(token): Path<String>) -> Result<Response, ApiError> {
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::BadRequest("a token is 32 hex digits"));
    }
    let stored: Option<String> = app.cache.get(&app.keys.key("sessions", &token)).await?;
    let stored = stored.ok_or(ApiError::NotFound("no such session"))?;
    let session: serde_json::Value =
        serde_json::from_str(&stored).map_err(|_| ApiError::Internal)?;
    Ok(json(
        StatusCode::OK,
        &j!({ "user_id": session["user_id"], "valid": true }),
    ))
}

/// 16 random bytes as 32 lower-case hex digits.
fn token(urandom: &std::fs::File) -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    let mut file: &std::fs::File = urandom;
    file.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
