//! `GET /api/users/{id}/matches`: a join read as that user, through
//! row-level security (`Pool::as_user`); `POST /api/matches`: a match and
//! both players' rating in one transaction.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json as j;
use wingspan::db::Queryable;

use crate::app::App;
use crate::error::{json, parse_body, parse_id, ApiError};

/// Matches listed per call.
const PAGE: i64 = 20;

pub async fn list(State(app): State<App>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    // The claims of the user's JWT, as PostgREST would set them: the RLS
    // policy on `matches` lets this session see this user's rows only.
    let claims = j!({ "sub": id.to_string(), "role": "authenticated" });
    let session = app.pool.as_user(&claims).await?;
    if session
        .query_opt("SELECT 1 FROM users WHERE id = $1", &[&id])
        .await?
        .is_none()
    {
        return Err(ApiError::NotFound("no such user"));
    }
    let rows = session
        .query(
            "SELECT m.id, CASE WHEN m.user_id = $1 THEN m.partner_id ELSE m.user_id END, \
                    partner.name, c.title, c.difficulty, m.score, \
                    (date_part('epoch', m.played_at) * 1000)::int8 \
             FROM matches m \
             JOIN users partner ON partner.id = CASE WHEN m.user_id = $1 THEN m.partner_id ELSE m.user_id END \
             JOIN challenges c ON c.id = m.challenge_id \
             WHERE m.user_id = $1 OR m.partner_id = $1 \
             ORDER BY m.played_at DESC LIMIT $2",
            &[&id, &PAGE],
        )
        .await?;
    session.commit().await?;
    let matches: Vec<_> = rows
        .iter()
        .map(|r| {
            j!({
                "id": r.get::<_, i64>(0),
                "partner_id": r.get::<_, i32>(1),
                "partner": r.get::<_, String>(2),
                "challenge": r.get::<_, String>(3),
                "difficulty": r.get::<_, String>(4),
                "score": r.get::<_, i32>(5),
                "played_at_ms": r.get::<_, i64>(6),
            })
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &j!({ "user_id": id, "matches": matches }),
    ))
}

/// `GET /api/users/{id}/matches-n-plus-one` (`WINGMAN_N_PLUS_ONE_ROUTE`):
/// what `list` answers in one join, done the N+1 way on purpose: the
/// matches, then each partner's name and rating one query at a time.
/// wingspan flags it (`wingspan.db.n_plus_one`); `list` is the fix.
pub async fn list_n_plus_one(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let claims = j!({ "sub": id.to_string(), "role": "authenticated" });
    let session = app.pool.as_user(&claims).await?;
    let rows = session
        .query(
            "SELECT m.id, CASE WHEN m.user_id = $1 THEN m.partner_id ELSE m.user_id END, m.score \
             FROM matches m WHERE m.user_id = $1 OR m.partner_id = $1 \
             ORDER BY m.played_at DESC LIMIT $2",
            &[&id, &PAGE],
        )
        .await?;
    let mut matches = Vec::with_capacity(rows.len());
    for r in &rows {
        let partner: i32 = r.get(1);
        let profile = session
            .query_opt(
                "SELECT u.name, p.elo FROM users u JOIN profiles p ON p.user_id = u.id \
                 WHERE u.id = $1",
                &[&partner],
            )
            .await?;
        matches.push(j!({
            "id": r.get::<_, i64>(0),
            "partner_id": partner,
            "partner": profile.as_ref().map(|p| p.get::<_, String>(0)),
            "partner_elo": profile.as_ref().map(|p| p.get::<_, i32>(1)),
            "score": r.get::<_, i32>(2),
        }));
    }
    session.commit().await?;
    Ok(json(
        StatusCode::OK,
        &j!({ "user_id": id, "matches": matches }),
    ))
}

#[derive(Deserialize)]
pub struct NewMatch {
    user_id: i32,
    partner_id: i32,
    challenge_id: i32,
    score: i32,
}

pub async fn create(State(app): State<App>, body: Bytes) -> Result<Response, ApiError> {
    let m: NewMatch = parse_body(&body)?;
    if m.user_id <= 0 || m.partner_id <= 0 || m.challenge_id <= 0 {
        return Err(ApiError::BadRequest("ids must be positive integers"));
    }
    if m.user_id == m.partner_id {
        return Err(ApiError::BadRequest("a player cannot play themselves"));
    }
    if !(0..=100).contains(&m.score) {
        return Err(ApiError::BadRequest("score must be from 0 to 100"));
    }
    // The winner gains what the loser gives: (score - 50) / 5, -10..=10.
    let delta = (m.score - 50) / 5;
    // One operation name on every statement of the flow
    // (`wingspan.operation.name`, span only): a trace search finds them all.
    let id: i64 = wingspan::db::operation("record match", async {
        let mut client = app.pool.get().await?;
        let tx = client.transaction().await?;
        // An unknown user, partner or challenge fails a foreign key: 404 (see
        // `ApiError::from(&DbError)`); the transaction rolls back when dropped.
        let row = tx
            .query_one(
                "INSERT INTO matches (user_id, partner_id, challenge_id, score) \
                 VALUES ($1, $2, $3, $4) RETURNING id",
                &[&m.user_id, &m.partner_id, &m.challenge_id, &m.score],
            )
            .await?;
        // One statement for both rows: locks are taken in index order, so two
        // concurrent matches of the same pair cannot deadlock.
        tx.execute(
            "UPDATE profiles SET elo = elo + CASE WHEN user_id = $1 THEN $3::int ELSE -$3::int END, \
                    updated_at = now() \
             WHERE user_id IN ($1, $2)",
            &[&m.user_id, &m.partner_id, &delta],
        )
        .await?;
        tx.commit().await?;
        Ok::<i64, ApiError>(row.get(0))
    })
    .await?;
    tracing::info!(match.id = id, elo_change = delta, "match recorded");
    Ok(json(
        StatusCode::CREATED,
        &j!({ "id": id, "elo_change": delta }),
    ))
}
