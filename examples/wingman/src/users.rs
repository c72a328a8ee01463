//! `GET /api/users/{id}`, `GET /api/users/{id}/profile` (a join),
//! `POST /api/users` (a user and its profile in one statement).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json as j;
use wingspan::db::Queryable;

use crate::app::App;
use crate::error::{json, parse_body, parse_id, ApiError};

pub async fn get(State(app): State<App>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let client = app.pool.get().await?;
    let row = client
        .query_opt(
            "SELECT id, name, city, (date_part('epoch', created_at) * 1000)::int8 \
             FROM users WHERE id = $1",
            &[&id],
        )
        .await?
        .ok_or(ApiError::NotFound("no such user"))?;
    Ok(json(
        StatusCode::OK,
        &j!({
            "id": row.get::<_, i32>(0),
            "name": row.get::<_, String>(1),
            "city": row.get::<_, String>(2),
            "created_at_ms": row.get::<_, i64>(3),
        }),
    ))
}

pub async fn profile(State(app): State<App>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let client = app.pool.get().await?;
    // A join plus a correlated count over the matches index: real work per call.
    let row = client
        .query_opt(
            "SELECT u.id, u.name, u.city, p.sport, p.skill_level, p.elo, p.bio, \
                    (SELECT count(*) FROM matches m WHERE m.user_id = u.id) \
             FROM users u JOIN profiles p ON p.user_id = u.id WHERE u.id = $1",
            &[&id],
        )
        .await?
        .ok_or(ApiError::NotFound("no such user"))?;
    Ok(json(
        StatusCode::OK,
        &j!({
            "id": row.get::<_, i32>(0),
            "name": row.get::<_, String>(1),
            "city": row.get::<_, String>(2),
            "sport": row.get::<_, String>(3),
            "skill_level": row.get::<_, i32>(4),
            "elo": row.get::<_, i32>(5),
            "bio": row.get::<_, String>(6),
            "matches_played": row.get::<_, i64>(7),
        }),
    ))
}

#[derive(Deserialize)]
pub struct NewUser {
    name: String,
    email: String,
    #[serde(default = "default_city")]
    city: String,
    #[serde(default = "default_sport")]
    sport: String,
    #[serde(default = "default_level")]
    skill_level: i32,
}

fn default_city() -> String {
    "Berlin".to_owned()
}

fn default_sport() -> String {
    "tennis".to_owned()
}

fn default_level() -> i32 {
    5
}

pub async fn create(State(app): State<App>, body: Bytes) -> Result<Response, ApiError> {
    let user: NewUser = parse_body(&body)?;
    let valid_text = |s: &str| !s.trim().is_empty() && s.len() <= 200;
    if !valid_text(&user.name) || !valid_text(&user.city) || !valid_text(&user.sport) {
        return Err(ApiError::BadRequest(
            "name, city and sport must be 1 to 200 bytes",
        ));
    }
    if !user.email.contains('@') || user.email.len() > 254 {
        return Err(ApiError::BadRequest("email must be an address"));
    }
    if !(1..=10).contains(&user.skill_level) {
        return Err(ApiError::BadRequest("skill_level must be from 1 to 10"));
    }
    let client = app.pool.get().await?;
    let row = client
        .query_one(
            "WITH u AS (INSERT INTO users (name, email, city) VALUES ($1, $2, $3) RETURNING id) \
             INSERT INTO profiles (user_id, sport, skill_level, elo, bio) \
             SELECT id, $4, $5, 1200, '' FROM u RETURNING user_id",
            &[
                &user.name,
                &user.email,
                &user.city,
                &user.sport,
                &user.skill_level,
            ],
        )
        .await?;
    let id: i32 = row.get(0);
    // A log record carrying the request's trace id (never the name or email).
    tracing::info!(user.id = %id, "user created");
    Ok(json(StatusCode::CREATED, &j!({ "id": id })))
}
