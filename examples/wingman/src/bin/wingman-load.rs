//! `wingman-load`: load against a running wingman (`examples/wingman/`), with
//! [goose](https://book.goose.rs) 0.19: weighted scenarios, per-request
//! percentiles from goose's histograms, HTML/JSON/Markdown reports,
//! `--throttle-requests`, users ramped at `-r` per second.
//!
//! ```text
//! cargo build -p wingman
//! target/debug/wingman-load -H http://127.0.0.1:8080 -u 16 -r 16 -t 30s --report-file load.json
//! WINGMAN_MIX=nonllm target/debug/wingman-load -H http://127.0.0.1:8080 -u 64 -r 64 -t 20s
//! python3 scripts/summarize_goose.py load.json      # per route P50/P95/P99, count, errors
//! ```
//!
//! Every goose option applies (`--help`); this program adds guards:
//!
//! - the host must be `127.0.0.1`, `localhost` or `[::1]` (default
//!   `http://127.0.0.1:8080`): anything else is refused before a request;
//! - the run is bounded: without `--run-time`/`-t` or `--iterations` it
//!   stops after 30 s, and a `--run-time` above one hour is refused;
//! - `WINGMAN_MIX=nonllm` leaves the coach (LLM) scenario out; `all`
//!   (default) keeps it. goose's own `--scenarios browse,play` does the same.
//! - `WINGMAN_N_PLUS_ONE_ROUTE=true` (as given to wingman, which then serves
//!   the route) adds `GET /api/users/{id}/matches-n-plus-one` [1] to `browse`;
//!   `WINGMAN_SLOW_ROUTE=true` adds `GET /api/challenges/{id}/top-scores` [1].
//!
//! Scenarios (weights in brackets; requests are named by route template, so
//! goose's per-request table, `GET /api/users/{id}`, is per route, as the
//! server's `http.route`):
//!
//! | scenario | transactions |
//! |---|---|
//! | `browse` [12] | `GET /api/users/{id}` [4], `GET /api/users/{id}/profile` [3], `GET /api/users/{id}/matches` [3], `GET /api/challenges/{id}` [6], `GET /api/challenges?difficulty=…` [2] |
//! | `play` [6] | `POST /api/sessions` [2], `GET /api/sessions/{token}` [4], `POST /api/matches` [2], `POST /api/users` [1] |
//! | `coach` [1] | `POST /api/coach` [1] |
//!
//! Ids are drawn over the seeded range (`WINGMAN_SEED_USERS`, default 5000;
//! 500 challenges), so every request should succeed: any non-2xx answer is an
//! error in the report.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use goose::config::GooseConfiguration;
use goose::prelude::*;

/// The longest `--run-time` accepted, in seconds.
const MAX_RUN_TIME_S: u64 = 3600;
/// The run time when neither `--run-time` nor `--iterations` is given.
const DEFAULT_RUN_TIME_S: usize = 30;
const DEFAULT_HOST: &str = "http://127.0.0.1:8080";
const CHALLENGES: u64 = 500;

/// Session tokens one goose user keeps to read back.
#[derive(Default, Clone)]
struct Tokens(Vec<String>);

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = GooseConfiguration::parse_args_default_or_exit();
    if let Some(host) = &config.host {
        check_host(host)?;
    }
    if let Some(t) = &config.run_time {
        let secs = run_time_secs(t).ok_or_else(|| format!("invalid --run-time {t:?}"))?;
        if secs > MAX_RUN_TIME_S {
            return Err(
                format!("--run-time {t} is above the {MAX_RUN_TIME_S} s this tool allows").into(),
            );
        }
    }
    let bounded = config.run_time.is_some() || config.iterations.is_some_and(|n| n > 0);
    let mix = std::env::var("WINGMAN_MIX").unwrap_or_else(|_| "all".to_owned());
    let with_coach = match mix.as_str() {
        "all" | "" => true,
        "nonllm" => false,
        other => {
            return Err(format!("invalid WINGMAN_MIX={other:?}: expected `all` or `nonllm`").into())
        }
    };
    seed_users()?; // validated before the first request
    let n_plus_one = matches!(
        std::env::var("WINGMAN_N_PLUS_ONE_ROUTE").as_deref(),
        Ok("true" | "1")
    );

    let slow = matches!(
        std::env::var("WINGMAN_SLOW_ROUTE").as_deref(),
        Ok("true" | "1")
    );

    let mut browse = scenario!("browse")
        .set_weight(12)?
        .register_transaction(transaction!(get_user).set_weight(4)?)
        .register_transaction(transaction!(get_profile).set_weight(3)?)
        .register_transaction(transaction!(get_matches).set_weight(3)?)
        .register_transaction(transaction!(get_challenge).set_weight(6)?)
        .register_transaction(transaction!(list_challenges).set_weight(2)?);
    if n_plus_one {
        browse = browse.register_transaction(transaction!(get_matches_n_plus_one).set_weight(1)?);
    }
    if slow {
        browse = browse.register_transaction(transaction!(get_top_scores).set_weight(1)?);
    }
    let mut attack = GooseAttack::initialize_with_config(config)?
        .register_scenario(browse)
        .register_scenario(
            scenario!("play")
                .set_weight(6)?
                .register_transaction(transaction!(create_session).set_weight(2)?)
                .register_transaction(transaction!(read_session).set_weight(4)?)
                .register_transaction(transaction!(create_match).set_weight(2)?)
                .register_transaction(transaction!(create_user).set_weight(1)?),
        );
    if with_coach {
        attack = attack.register_scenario(
            scenario!("coach")
                .set_weight(1)?
                .register_transaction(transaction!(coach)),
        );
    }
    let mut attack = *attack.set_default(GooseDefault::Host, DEFAULT_HOST)?;
    if !bounded {
        attack = *attack.set_default(GooseDefault::RunTime, DEFAULT_RUN_TIME_S)?;
    }
    attack.execute().await?;
    Ok(())
}

/// Refuses any target but this machine's loopback.
fn check_host(host: &str) -> Result<(), String> {
    let rest = host
        .strip_prefix("http://")
        .or_else(|| host.strip_prefix("https://"))
        .ok_or_else(|| format!("invalid --host {host:?}: expected http://127.0.0.1:PORT"))?;
    let authority = rest.split('/').next().unwrap_or("");
    let name = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']')
            .next()
            .map(|h| format!("[{h}]"))
            .unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or("").to_owned()
    };
    match name.as_str() {
        "127.0.0.1" | "localhost" | "[::1]" => Ok(()),
        _ => Err(format!(
            "refusing --host {host:?}: this tool only loads 127.0.0.1, localhost or [::1]"
        )),
    }
}

/// `--run-time` in seconds: `90`, `1h30m`, `2m30s`, `45s`.
fn run_time_secs(t: &str) -> Option<u64> {
    if let Ok(n) = t.parse::<u64>() {
        return Some(n);
    }
    let mut total = 0u64;
    let mut digits = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: u64 = digits.parse().ok()?;
        digits.clear();
        total += n * match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
    }
    digits.is_empty().then_some(total)
}

/// `WINGMAN_SEED_USERS`, as wingman reads it.
fn seed_users() -> Result<u64, String> {
    match std::env::var("WINGMAN_SEED_USERS") {
        Err(_) => Ok(5000),
        Ok(v) => match v.parse::<u64>() {
            Ok(n) if (100..=1_000_000).contains(&n) => Ok(n),
            _ => Err(format!(
                "invalid WINGMAN_SEED_USERS={v:?}: expected a whole number from 100 to 1000000"
            )),
        },
    }
}

/// A uniform draw from 1..=n (splitmix64 over a shared counter: lock-free,
/// plenty for picking ids).
fn pick(n: u64) -> u64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    static SEEDED: std::sync::Once = std::sync::Once::new();
    SEEDED.call_once(|| {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        STATE.store(now ^ u64::from(std::process::id()), Ordering::Relaxed);
    });
    let mut z = STATE
        .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    1 + z % n.max(1)
}

fn user_id() -> u64 {
    pick(seed_users().unwrap_or(5000))
}

/// A GET named by its route template (goose puts the method in front).
async fn get(user: &mut GooseUser, path: &str, name: &str) -> TransactionResult {
    user.get_named(path, name).await?;
    Ok(())
}

/// A JSON POST named by its route; returns the body of a 2xx answer.
async fn post(
    user: &mut GooseUser,
    path: &str,
    body: serde_json::Value,
) -> Result<Option<serde_json::Value>, Box<TransactionError>> {
    let builder = user
        .get_request_builder(&GooseMethod::Post, path)?
        .header("content-type", "application/json")
        .body(body.to_string());
    let request = GooseRequest::builder()
        .method(GooseMethod::Post)
        .path(path)
        .name(path)
        .set_request_builder(builder)
        .build();
    let goose = user.request(request).await?;
    match goose.response {
        Ok(res) if res.status().is_success() => Ok(res.json().await.ok()),
        _ => Ok(None),
    }
}

async fn get_user(user: &mut GooseUser) -> TransactionResult {
    get(
        user,
        &format!("/api/users/{}", user_id()),
        "/api/users/{id}",
    )
    .await
}

async fn get_profile(user: &mut GooseUser) -> TransactionResult {
    let path = format!("/api/users/{}/profile", user_id());
    get(user, &path, "/api/users/{id}/profile").await
}

async fn get_matches(user: &mut GooseUser) -> TransactionResult {
    let path = format!("/api/users/{}/matches", user_id());
    get(user, &path, "/api/users/{id}/matches").await
}

async fn get_matches_n_plus_one(user: &mut GooseUser) -> TransactionResult {
    let path = format!("/api/users/{}/matches-n-plus-one", user_id());
    get(user, &path, "/api/users/{id}/matches-n-plus-one").await
}

async fn get_top_scores(user: &mut GooseUser) -> TransactionResult {
    let path = format!("/api/challenges/{}/top-scores", pick(CHALLENGES));
    get(user, &path, "/api/challenges/{id}/top-scores").await
}

async fn get_challenge(user: &mut GooseUser) -> TransactionResult {
    // Hot reads: a draw below a draw favours the popular (low) ids, as a
    // front page would; id k is read about ln(500/k) times as often as 500.
    let path = format!("/api/challenges/{}", pick(pick(CHALLENGES)));
    get(user, &path, "/api/challenges/{id}").await
}

async fn list_challenges(user: &mut GooseUser) -> TransactionResult {
    let difficulty = ["easy", "medium", "hard"][pick(3) as usize - 1];
    let path = format!("/api/challenges?difficulty={difficulty}");
    get(user, &path, "/api/challenges").await
}

async fn create_session(user: &mut GooseUser) -> TransactionResult {
    let answer = post(
        user,
        "/api/sessions",
        serde_json::json!({ "user_id": user_id() }),
    )
    .await?;
    if let Some(token) = answer.as_ref().and_then(|a| a["token"].as_str()) {
        if user.get_session_data::<Tokens>().is_none() {
            user.set_session_data(Tokens::default());
        }
        if let Some(tokens) = user.get_session_data_mut::<Tokens>() {
            if tokens.0.len() >= 16 {
                tokens.0.remove(0);
            }
            tokens.0.push(token.to_owned());
        }
    }
    Ok(())
}

async fn read_session(user: &mut GooseUser) -> TransactionResult {
    let token = user
        .get_session_data::<Tokens>()
        .and_then(|t| t.0.get(pick(t.0.len() as u64) as usize - 1))
        .cloned();
    match token {
        Some(token) => {
            let path = format!("/api/sessions/{token}");
            get(user, &path, "/api/sessions/{token}").await
        }
        // No session yet: make one (a read needs something to read).
        None => create_session(user).await,
    }
}

async fn create_match(user: &mut GooseUser) -> TransactionResult {
    let a = user_id();
    let n = seed_users().unwrap_or(5000);
    let b = 1 + (a - 1 + pick(n - 1)) % n; // a different player
    let body = serde_json::json!({
        "user_id": a, "partner_id": b, "challenge_id": pick(CHALLENGES), "score": pick(101) - 1,
    });
    post(user, "/api/matches", body).await?;
    Ok(())
}

async fn create_user(user: &mut GooseUser) -> TransactionResult {
    let n = pick(u64::MAX - 1);
    let body = serde_json::json!({
        "name": format!("Load {n:x}"), "email": format!("load-{n:x}@wingman.test"),
        "sport": "padel", "skill_level": pick(10),
    });
    post(user, "/api/users", body).await?;
    Ok(())
}

async fn coach(user: &mut GooseUser) -> TransactionResult {
    let body = serde_json::json!({
        "user_id": user_id(), "question": "How do I return a fast serve?",
    });
    post(user, "/api/coach", body).await?;
    Ok(())
}
