//! `GET /api/challenges/{id}` and `GET /api/challenges?difficulty=…`: hot
//! reads served through `Cache::get_or_load` (Redis first, Postgres on a
//! miss, written back in the background, one loader per key at a time);
//! `GET /api/challenges/{id}/top-scores`, a deliberately slow read.

use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json as j;
use wingspan::db::{DbError, Queryable};

use crate::app::App;
use crate::error::{json, parse_id, ApiError};

/// How long a challenge stays cached. Challenges change rarely.
const TTL: Duration = Duration::from_secs(300);
/// Challenges listed per difficulty.
const LIST_LIMIT: i64 = 50;

#[derive(Clone, Serialize, Deserialize)]
struct Challenge {
    id: i32,
    title: String,
    difficulty: String,
    points: i32,
    description: String,
}

pub async fn get(State(app): State<App>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let pool = app.pool.clone();
    // `None` is cached too: an unknown id costs Redis, not Postgres, next time.
    let challenge: Option<Challenge> = app
        .cache
        .get_or_load(&app.keys.key("challenges", id), Some(TTL), || async move {
            let client = pool.get().await?;
            let row = client
                .query_opt(
                    "SELECT id, title, difficulty, points, description FROM challenges WHERE id = $1",
                    &[&id],
                )
                .await?;
            Ok::<_, DbError>(row.map(|r| Challenge {
                id: r.get(0),
                title: r.get(1),
                difficulty: r.get(2),
                points: r.get(3),
                description: r.get(4),
            }))
        })
        .await
        .map_err(|e| ApiError::from(&*e))?;
    let challenge = challenge.ok_or(ApiError::NotFound("no such challenge"))?;
    Ok(json(
        StatusCode::OK,
        &serde_json::to_value(challenge).map_err(|_| ApiError::Internal)?,
    ))
}

#[derive(Clone, Serialize, Deserialize)]
struct Listed {
    id: i32,
    title: String,
    points: i32,
}

pub async fn list(State(app): State<App>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let difficulty = query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("difficulty="))
        .and_then(|d| ["easy", "medium", "hard"].into_iter().find(|k| *k == d))
        .ok_or(ApiError::BadRequest(
            "difficulty must be easy, medium or hard",
        ))?;
    let pool = app.pool.clone();
    let listed: Vec<Listed> = app
        .cache
        .get_or_load(
            &app.keys.key("challenge_lists", difficulty),
            Some(TTL),
            || async move {
                let client = pool.get().await?;
                let rows = client
                    .query(
                        "SELECT id, title, points FROM challenges \
                         WHERE difficulty = $1 ORDER BY points DESC, id LIMIT $2",
                        &[&difficulty, &LIST_LIMIT],
                    )
                    .await?;
                Ok::<_, DbError>(
                    rows.iter()
                        .map(|r| Listed {
                            id: r.get(0),
                            title: r.get(1),
                            points: r.get(2),
                        })
                        .collect(),
                )
            },
        )
        .await
        .map_err(|e| ApiError::from(&*e))?;
    Ok(json(
        StatusCode::OK,
        &j!({ "difficulty": difficulty, "challenges": listed }),
    ))
}

/// `GET /api/challenges/{id}/top-scores` (`WINGMAN_SLOW_ROUTE=true`): the
/// ten best scores of a challenge, straight from Postgres. Deliberately
/// slow: `matches` has no index on `challenge_id`, so each call scans the
/// table, and wingspan's plan capture (`DB_PLAN_CAPTURE`) shows that scan
/// and the index it lacks beside the statement in `/health/detailed`.
pub async fn top_scores(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let client = app.pool.get().await?;
    let rows = client
        .query(
            "SELECT user_id, score FROM matches WHERE challenge_id = $1 \
             ORDER BY score DESC LIMIT 10",
            &[&id],
        )
        .await?;
    let scores: Vec<_> = rows
        .iter()
        .map(|r| j!({ "user_id": r.get::<_, i32>(0), "score": r.get::<_, i32>(1) }))
        .collect();
    Ok(json(
        StatusCode::OK,
        &j!({ "challenge_id": id, "top_scores": scores }),
    ))
}
