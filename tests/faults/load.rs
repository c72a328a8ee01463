//! A fixed-rate, open-loop load driver: one request per tick, sent whatever
//! the earlier ones are doing, each recorded with when it was sent, its
//! route, its latency and its status (0: no answer). Bounded: at most
//! [`MAX_IN_FLIGHT`] requests at once (a tick beyond that is recorded as a
//! failure, status 0), each under [`REQUEST_TIMEOUT`].

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

/// Requests at once before a tick is counted as failed instead of sent.
pub const MAX_IN_FLIGHT: usize = 256;
/// The longest a request may take before it counts as failed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Users and challenges the harness seeds (`WINGMAN_SEED_USERS=1000`; 500 challenges).
const USERS: u64 = 1000;
const CHALLENGES: u64 = 500;

/// One request of the mix.
#[derive(Debug, Clone)]
pub struct Req {
    pub route: &'static str,
    pub method: reqwest::Method,
    pub path: String,
    pub body: Option<serde_json::Value>,
}

impl Req {
    fn get(route: &'static str, path: String) -> Self {
        Req {
            route,
            method: reqwest::Method::GET,
            path,
            body: None,
        }
    }

    fn post(route: &'static str, path: &str, body: serde_json::Value) -> Self {
        Req {
            route,
            method: reqwest::Method::POST,
            path: path.to_owned(),
            body: Some(body),
        }
    }
}

/// A cheap deterministic spread over ids (no RNG needed: `i` is the tick).
fn id(i: u64, n: u64, salt: u64) -> u64 {
    (i.wrapping_mul(2_654_435_761).wrapping_add(salt) % n) + 1
}

/// The non-LLM mix: user, profile, matches, challenge by id and by
/// difficulty (through the cache's loader), a session written to Redis.
pub fn non_llm(i: u64) -> Req {
    match i % 8 {
        0 | 1 => Req::get("/api/users/{id}", format!("/api/users/{}", id(i, USERS, 1))),
        2 => Req::get(
            "/api/users/{id}/profile",
            format!("/api/users/{}/profile", id(i, USERS, 2)),
        ),
        3 => Req::get(
            "/api/users/{id}/matches",
            format!("/api/users/{}/matches", id(i, USERS, 3)),
        ),
        4 | 5 => Req::get(
            "/api/challenges/{id}",
            format!("/api/challenges/{}", id(i, CHALLENGES, 4)),
        ),
        6 => Req::get(
            "/api/challenges",
            format!(
                "/api/challenges?difficulty={}",
                ["easy", "medium", "hard"][(i / 8 % 3) as usize]
            ),
        ),
        _ => Req::post(
            "/api/sessions",
            "/api/sessions",
            json!({"user_id": id(i, USERS, 7)}),
        ),
    }
}

/// Challenge reads only, over 20 hot ids: what the cache serves (and its
/// loader when Redis is gone).
pub fn challenges(i: u64) -> Req {
    Req::get(
        "/api/challenges/{id}",
        format!("/api/challenges/{}", id(i, 20, 5)),
    )
}

/// One answered (or failed) request.
#[derive(Debug, Clone)]
pub struct Sample {
    /// When it was sent, from the start of the run.
    pub at: Duration,
    pub route: &'static str,
    pub latency: Duration,
    /// The HTTP status; 0 when no answer came (error, timeout, over the in-flight bound).
    pub status: u16,
    /// The body's first bytes, for failure messages.
    pub body: String,
}

/// A running load.
pub struct Load {
    started: Instant,
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<Sample>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Load {
    /// Sends `mix(i)` to `base` at `rate` requests per second until stopped.
    pub fn start(base: String, rate: u32, mix: fn(u64) -> Req) -> Load {
        let started = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        crate::support::install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .pool_max_idle_per_host(MAX_IN_FLIGHT)
            .build()
            .unwrap();
        let task = {
            let (stop, samples) = (stop.clone(), samples.clone());
            tokio::spawn(async move {
                let in_flight = Arc::new(AtomicUsize::new(0));
                let mut tasks = tokio::task::JoinSet::new();
                let mut tick =
                    tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                let mut i = 0_u64;
                while !stop.load(Ordering::Relaxed) {
                    tick.tick().await;
                    let req = mix(i);
                    i += 1;
                    let at = started.elapsed();
                    if in_flight.load(Ordering::Relaxed) >= MAX_IN_FLIGHT {
                        samples.lock().unwrap().push(Sample {
                            at,
                            route: req.route,
                            latency: Duration::ZERO,
                            status: 0,
                            body: "not sent: too many requests in flight".into(),
                        });
                        continue;
                    }
                    in_flight.fetch_add(1, Ordering::Relaxed);
                    let (client, samples, in_flight) =
                        (client.clone(), samples.clone(), in_flight.clone());
                    let url = format!("{base}{}", req.path);
                    tasks.spawn(async move {
                        let t = Instant::now();
                        let mut r = client.request(req.method.clone(), &url);
                        if let Some(b) = &req.body {
                            r = r.json(b);
                        }
                        let (status, body) = match r.send().await {
                            Ok(res) => {
                                let status = res.status().as_u16();
                                let body = res.text().await.unwrap_or_default();
                                (status, body)
                            }
                            Err(e) => (0, e.to_string()),
                        };
                        let latency = t.elapsed();
                        in_flight.fetch_sub(1, Ordering::Relaxed);
                        samples.lock().unwrap().push(Sample {
                            at,
                            route: req.route,
                            latency,
                            status,
                            body: body.chars().take(200).collect(),
                        });
                    });
                    while tasks.try_join_next().is_some() {}
                }
                while tasks.join_next().await.is_some() {}
            })
        };
        Load {
            started,
            stop,
            samples,
            task,
        }
    }

    /// Time since the load started.
    pub fn now(&self) -> Duration {
        self.started.elapsed()
    }

    /// Stops sending, waits for the requests in flight, returns every sample.
    pub async fn stop(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        let mut s = self.samples.lock().unwrap().clone();
        s.sort_by_key(|s| s.at);
        s
    }
}

/// Latency figures of a set of samples.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub n: usize,
    pub failed: usize,
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(
            f,
            "n={} failed={} p50={:.2}ms p95={:.2}ms p99={:.2}ms max={:.1}ms",
            self.n,
            self.failed,
            ms(self.p50),
            ms(self.p95),
            ms(self.p99),
            ms(self.max)
        )
    }
}

/// Figures of the samples sent in `[from, to)` that `keep` selects; a
/// sample fails when `ok(status)` says so.
pub fn stats_where(
    samples: &[Sample],
    from: Duration,
    to: Duration,
    keep: impl Fn(&Sample) -> bool,
    ok: impl Fn(u16) -> bool,
) -> Stats {
    let chosen: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.at >= from && s.at < to && keep(s))
        .collect();
    let mut lat: Vec<Duration> = chosen.iter().map(|s| s.latency).collect();
    lat.sort();
    let pick = |p: f64| {
        if lat.is_empty() {
            Duration::ZERO
        } else {
            lat[((lat.len() - 1) as f64 * p).round() as usize]
        }
    };
    Stats {
        n: chosen.len(),
        failed: chosen.iter().filter(|s| !ok(s.status)).count(),
        p50: pick(0.50),
        p95: pick(0.95),
        p99: pick(0.99),
        max: lat.last().copied().unwrap_or_default(),
    }
}

/// [`stats_where`] over every sample, 2xx counting as success.
pub fn stats(samples: &[Sample], from: Duration, to: Duration) -> Stats {
    stats_where(samples, from, to, |_| true, |s| (200..300).contains(&s))
}

/// The first failed samples of `[from, to)`, one line each, for a failure message.
pub fn failures(samples: &[Sample], from: Duration, to: Duration) -> Vec<String> {
    samples
        .iter()
        .filter(|s| s.at >= from && s.at < to && !(200..300).contains(&s.status))
        .take(10)
        .map(|s| {
            format!(
                "at {:?}: {} -> {} after {:?}: {}",
                s.at, s.route, s.status, s.latency, s.body
            )
        })
        .collect()
}

/// Samples `rss_of(pid)` every `every` until dropped; `(time, bytes)`.
pub struct RssSampler {
    points: Arc<Mutex<Vec<(Duration, u64)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    pub fn start(pid: u32, every: Duration) -> Self {
        let points = Arc::new(Mutex::new(Vec::new()));
        let started = Instant::now();
        let task = {
            let points = points.clone();
            tokio::spawn(async move {
                loop {
                    if let Some(b) = super::rss_of(pid) {
                        points.lock().unwrap().push((started.elapsed(), b));
                    }
                    tokio::time::sleep(every).await;
                }
            })
        };
        RssSampler { points, task }
    }

    pub fn points(&self) -> Vec<(Duration, u64)> {
        self.points.lock().unwrap().clone()
    }

    /// The largest sample, in bytes.
    pub fn max(&self) -> u64 {
        self.points().iter().map(|p| p.1).max().unwrap_or(0)
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Bytes as MiB, for messages.
pub fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}
