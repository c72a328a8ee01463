//! `POST /api/coach`: advice from Claude through wingspan's Anthropic
//! adapter (streamed, so time to first chunk is measured too), with the
//! player's profile read through the cache for the prompt.
//!
//! By default the Messages API is the in-process fake
//! (`wingspan::llm::fake`): log-normal latency (`WINGMAN_LLM_MEDIAN_MS`,
//! `WINGMAN_LLM_P95_MS`), a large system prompt served from the prompt cache
//! (cache-read tokens), and an occasional 529 `overloaded_error`: every
//! `WINGMAN_LLM_OVERLOAD_EVERY`-th call meets one (the adapter retries it),
//! every fourth of those three in a row (the retries run out and the route
//! answers a canned tip with `"degraded": true` instead of failing).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json as j;
use wingspan::db::{DbError, Queryable};
use wingspan::llm::anthropic::MessagesRequest;
use wingspan::llm::fake::{Behaviour, Failure, FakeAnthropic, Latency};
use wingspan::llm::Usage;

use crate::app::App;
use crate::error::{json, parse_body, ApiError};

/// The model asked for (priced in wingspan's shipped table).
pub const MODEL: &str = "claude-sonnet-4-5";
/// How long a profile summary stays cached for prompts.
const PROFILE_TTL: Duration = Duration::from_secs(120);
/// The answer when the API stays unavailable past the retries.
const FALLBACK: &str =
    "Warm up for ten minutes, then play points against someone one level above you.";
const SYSTEM: &str =
    "You are Wingman, a friendly sports coach. Give one concrete, encouraging tip \
    in two sentences, adapted to the player's sport and level.";

/// The in-process fake's behaviour: an LLM's long-tailed latency, a cached
/// system prompt (1 800 cache-read tokens, 60 fresh input tokens), about 180
/// output tokens streamed in 12 chunks.
pub fn fake_behaviour(median: Duration, p95: Duration) -> Behaviour {
    Behaviour::default()
        .latency(Latency::LogNormal { median, p95 })
        .usage(Usage {
            input_tokens: 60,
            cache_read_input_tokens: 1800,
            cache_creation_input_tokens: 0,
            output_tokens: 180,
        })
        .chunks(12, Duration::from_millis(15))
        .text("Serve to your partner's backhand early in the rally, then move forward: at your level the net wins points.")
}

/// Counts coach calls and queues 529s on the fake at the configured rate.
pub struct Overload {
    fake: Arc<FakeAnthropic>,
    every: u64,
    calls: AtomicU64,
}

impl Overload {
    pub fn new(fake: Arc<FakeAnthropic>, every: u64) -> Self {
        Self {
            fake,
            every,
            calls: AtomicU64::new(0),
        }
    }

    /// Called once per coach call, before the Messages call.
    fn tick(&self) {
        if self.every == 0 {
            return;
        }
        let n = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(self.every * 4) {
            // More than WINGSPAN_LLM_MAX_RETRIES (2) allows: the call fails.
            self.fake.fail_next([
                Failure::Overloaded,
                Failure::Overloaded,
                Failure::Overloaded,
            ]);
        } else if n.is_multiple_of(self.every) {
            self.fake.fail_next([Failure::Overloaded]);
        }
    }
}

#[derive(Deserialize)]
pub struct Question {
    user_id: i32,
    question: String,
}

#[derive(Clone, Serialize, Deserialize)]
struct Player {
    sport: String,
    skill_level: i32,
}

pub async fn advise(State(app): State<App>, body: Bytes) -> Result<Response, ApiError> {
    let q: Question = parse_body(&body)?;
    if q.user_id <= 0 {
        return Err(ApiError::BadRequest("user_id must be a positive integer"));
    }
    if q.question.trim().is_empty() || q.question.len() > 2000 {
        return Err(ApiError::BadRequest("question must be 1 to 2000 bytes"));
    }
    let pool = app.pool.clone();
    let user_id = q.user_id;
    let player: Option<Player> = app
        .cache
        .get_or_load(
            &app.keys.key("players", user_id),
            Some(PROFILE_TTL),
            || async move {
                let client = pool.get().await?;
                let row = client
                    .query_opt(
                        "SELECT sport, skill_level FROM profiles WHERE user_id = $1",
                        &[&user_id],
                    )
                    .await?;
                Ok::<_, DbError>(row.map(|r| Player {
                    sport: r.get(0),
                    skill_level: r.get(1),
                }))
            },
        )
        .await
        .map_err(|e| ApiError::from(&*e))?;
    let player = player.ok_or(ApiError::NotFound("no such user"))?;

    if let Some(overload) = &app.overload {
        overload.tick();
    }
    let request = MessagesRequest::new(MODEL, 400)
        .system(SYSTEM)
        .user(format!(
            "I play {} at level {}/10. {}",
            player.sport, player.skill_level, q.question
        ))
        .task("coach");
    let answer = match app.claude.stream(&request).await {
        Ok(stream) => stream.text().await,
        Err(e) => Err(e),
    };
    let (advice, degraded) = match answer {
        Ok(text) => (text, false),
        Err(e) => {
            // The span and metrics already carry `error.type`; the user gets a tip.
            tracing::warn!(error.type = e.error_type(), "coach degraded to the fallback tip");
            (FALLBACK.to_owned(), true)
        }
    };
    Ok(json(
        StatusCode::OK,
        &j!({ "advice": advice, "degraded": degraded, "model": MODEL }),
    ))
}
