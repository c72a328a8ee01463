//! The window against known distributions and a manual clock.

use std::time::Duration;

use opentelemetry::trace::TraceId;

use super::buckets::RELATIVE_ERROR;
use super::vocabulary::RouteClass;
use super::*;
use crate::names::OTHER;

const T0: u64 = 1_800_000_000_000; // a minute boundary: 2027-01-15T08:00Z

fn manual() -> (Stats, ManualClock) {
    let (clock, hand) = Clock::manual(T0);
    (Stats::builder().clock(clock).build(), hand)
}

/// Nearest-rank percentile of sorted values.
fn exact(sorted: &[u64], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64
}

fn check_distribution(name: &str, mut values: Vec<u64>) {
    let (stats, _) = manual();
    let route = stats.route("GET", "/d", RouteClass::Standard);
    for v in &values {
        route.record(200, Duration::from_micros(*v), TraceId::INVALID);
    }
    values.sort_unstable();
    let f = stats.snapshot(1).api;
    assert_eq!(f.count, values.len() as u64);
    for (q, got) in [(0.50, f.p50_ms), (0.95, f.p95_ms), (0.99, f.p99_ms)] {
        let want = exact(&values, q);
        let err = (got * 1000.0 - want).abs() / want;
        assert!(
            err <= RELATIVE_ERROR,
            "{name} p{}: got {got} ms, exact {} ms, error {err:.5}",
            q * 100.0,
            want / 1000.0
        );
    }
}

/// A deterministic generator (SplitMix64), so failures reproduce.
fn uniforms(n: usize, seed: u64) -> impl Iterator<Item = f64> {
    let mut s = seed;
    (0..n).map(move |_| {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    })
}

#[test]
fn percentiles_of_known_distributions_are_within_the_stated_error() {
    // Uniform 1 ms .. 500 ms.
    check_distribution(
        "uniform",
        uniforms(100_000, 1)
            .map(|u| 1000 + (u * 499_000.0) as u64)
            .collect(),
    );
    // Exponential, mean 40 ms.
    check_distribution(
        "exponential",
        uniforms(100_000, 2)
            .map(|u| 200 + (-(1.0 - u).ln() * 40_000.0) as u64)
            .collect(),
    );
    // Log-normal around 20 ms with a long tail (Box-Muller).
    let u: Vec<f64> = uniforms(200_000, 3).collect();
    check_distribution(
        "lognormal",
        u.chunks(2)
            .map(|p| {
                let z = (-2.0 * (1.0 - p[0]).ln()).sqrt() * (std::f64::consts::TAU * p[1]).cos();
                (20_000.0 * (z * 1.2).exp()) as u64 + 128
            })
            .collect(),
    );
    // Bimodal: cache hits near 2 ms, misses near 250 ms.
    check_distribution(
        "bimodal",
        uniforms(50_000, 4)
            .enumerate()
            .map(|(i, u)| {
                if i % 10 < 8 {
                    2_000 + (u * 500.0) as u64
                } else {
                    250_000 + (u * 50_000.0) as u64
                }
            })
            .collect(),
    );
}

#[test]
fn slots_expire_as_the_clock_moves() {
    let (stats, hand) = manual();
    let route = stats.route("GET", "/x", RouteClass::Standard);
    for _ in 0..10 {
        route.record(200, Duration::from_millis(100), TraceId::INVALID);
    }
    hand.advance(Duration::from_secs(60));
    for _ in 0..5 {
        route.record(500, Duration::from_millis(10), TraceId::INVALID);
    }
    assert_eq!(stats.snapshot(1).api.count, 5);
    assert_eq!(stats.snapshot(5).api.count, 15);
    assert_eq!(stats.snapshot(5).api.errors, 5);

    // Four minutes later the first minute is still in the 5-minute window...
    hand.advance(Duration::from_secs(3 * 60));
    assert_eq!(stats.snapshot(5).api.count, 15);
    assert_eq!(stats.snapshot(1).api.count, 0);
    // ... one more and it has left it, but not the 15-minute one.
    hand.advance(Duration::from_secs(60));
    assert_eq!(stats.snapshot(5).api.count, 5);
    assert_eq!(stats.snapshot(15).api.count, 15);
    hand.advance(Duration::from_secs(11 * 60));
    assert_eq!(stats.snapshot(15).api.count, 0);

    // The hour's history still has both minutes, also after the slots are
    // reused 16 minutes on (the rotation folds them into summaries).
    for _ in 0..2 {
        hand.advance(Duration::from_secs(60));
        route.record(200, Duration::from_millis(1), TraceId::INVALID);
    }
    let h = stats.history();
    let at = |ms: u64| h.minutes_ms.iter().position(|m| *m == ms).unwrap();
    assert_eq!(h.requests[at(T0)], 10);
    assert_eq!(h.requests[at(T0 + 60_000)], 5);
    assert_eq!(h.errors[at(T0 + 60_000)], 5);
    let p95 = h.routes[0].p95_ms[at(T0)];
    assert!((p95 - 100.0).abs() / 100.0 <= RELATIVE_ERROR, "{p95}");
    assert_eq!(h.requests.iter().sum::<u64>(), 17);

    // An hour later everything has gone.
    hand.advance(Duration::from_secs(3600));
    assert_eq!(stats.history().requests.iter().sum::<u64>(), 0);
}

#[test]
fn names_past_the_cap_share_the_other_row() {
    let (clock, _) = Clock::manual(T0);
    let stats = Stats::builder().clock(clock).max_queries(2).build();
    for s in ["SELECT a", "SELECT b", "SELECT c", "SELECT d"] {
        stats.query(s).record(Duration::from_millis(1), false);
    }
    let snap = stats.snapshot(1);
    let rows: Vec<_> = snap
        .statements
        .iter()
        .map(|q| (q.summary.as_str(), q.figures.count))
        .collect();
    assert_eq!(rows, [("SELECT a", 1), ("SELECT b", 1), (OTHER, 2)]);
    assert_eq!(snap.queries.count, 4);
}

#[test]
fn slowest_traces_cache_rates_and_llm_usage() {
    let (stats, _) = manual();
    let route = stats.route("POST", "/chat", RouteClass::Llm);
    for i in 1..=20u64 {
        let mut id = [0u8; 16];
        id[15] = i as u8;
        route.record(200, Duration::from_millis(i * 10), TraceId::from_bytes(id));
    }
    let snap = stats.snapshot(1);
    let slow: Vec<f64> = snap.routes[0]
        .slowest
        .iter()
        .map(|t| t.duration_ms)
        .collect();
    assert_eq!(slow, [200.0, 190.0, 180.0, 170.0, 160.0]);
    assert_eq!(snap.routes[0].slowest[0].trace_id, format!("{:032x}", 20));
    assert_eq!((snap.api.count, snap.llm.count), (0, 20));

    let users = stats.cache("users");
    let t = Duration::from_micros(300);
    for _ in 0..3 {
        users.record_hit(t);
    }
    users.record_miss(t);
    users.record_error(t);
    let gpt = stats.model("gpt-4o");
    gpt.record(Duration::from_secs(2), false, 100, 50, 0.0125);
    gpt.record(Duration::from_secs(1), true, 100, 50, 0.0125);
    let snap = stats.snapshot(1);
    assert_eq!(snap.cache.hit_rate, Some(0.75));
    assert_eq!((snap.cache.ops, snap.cache.errors), (5, 1));
    let m = &snap.models[0];
    assert_eq!(
        (m.calls, m.errors, m.input_tokens, m.output_tokens),
        (2, 1, 200, 100)
    );
    assert!((m.cost_usd - 0.025).abs() < 1e-9);
}

#[test]
fn concurrent_records_are_all_counted() {
    let (stats, _) = manual();
    let route = stats.route("GET", "/c", RouteClass::Standard);
    std::thread::scope(|s| {
        for t in 0..4 {
            let route = route.clone();
            s.spawn(move || {
                for i in 0..10_000u64 {
                    route.record(
                        200,
                        Duration::from_micros(100 + t * 1000 + i % 7),
                        TraceId::INVALID,
                    );
                }
            });
        }
    });
    assert_eq!(stats.snapshot(1).api.count, 40_000);
}
