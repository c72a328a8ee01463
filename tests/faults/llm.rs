//! The Messages API misbehaving (the test's own `FakeAnthropic`, given to
//! wingman as `WINGMAN_LLM_URL`): answering 529 `overloaded_error`, then not
//! answering within `WINGSPAN_LLM_TIMEOUT`. The coach route degrades as
//! configured (200 with the fallback tip and `degraded: true`, within the
//! timeout, no retry with `WINGSPAN_LLM_MAX_RETRIES=0`), and the non-LLM
//! routes under a fixed-rate load keep their P95.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wingspan::llm::fake::{Behaviour, Failure, FakeAnthropic, Latency};

use super::load::{self, Load};
use crate::support::Wingman;

const RATE: u32 = 40;

/// `n` coach calls, `parallel` at a time: (status, degraded, latency) each.
async fn coach_calls(wingman: &Wingman, n: usize, parallel: usize) -> Vec<(u16, bool, Duration)> {
    let client = super::http();
    let mut out = Vec::new();
    let ids: Vec<usize> = (0..n).collect();
    for chunk in ids.chunks(parallel) {
        let calls = chunk.iter().copied().map(|i| {
            let client = client.clone();
            let url = wingman.url("/api/coach");
            async move {
                let t = Instant::now();
                let res = client
                    .post(url)
                    .json(&json!({"user_id": 1 + (i as i64 % 50), "question": "Footwork drills?"}))
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await
                    .expect("coach answered");
                let status = res.status().as_u16();
                let body: Value = res.json().await.unwrap_or(Value::Null);
                let degraded = body["degraded"].as_bool().unwrap_or(false);
                (status, degraded, t.elapsed())
            }
        });
        out.extend(futures_join(calls).await);
    }
    out
}

async fn futures_join<F>(futs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_llm_overloaded_and_timing_out_degrade_the_coach_only() {
    let fake = FakeAnthropic::start(
        Behaviour::default().latency(Latency::Fixed(Duration::from_millis(20))),
    )
    .await
    .unwrap();
    let mut wingman = Wingman::builder()
        .var("WINGMAN_LLM_URL", fake.base_url())
        .var("WINGSPAN_LLM_TIMEOUT", "1")
        .var("WINGSPAN_LLM_MAX_RETRIES", "0")
        .start()
        .await;

    let healthy = coach_calls(&wingman, 4, 2).await;
    assert!(
        healthy.iter().all(|(s, d, _)| *s == 200 && !d),
        "healthy coach: {healthy:?}"
    );

    let load = Load::start(wingman.url(""), RATE, load::non_llm);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let overloaded_at = load.now();
    fake.fail_next(std::iter::repeat_n(Failure::Overloaded, 40));
    let overloaded = coach_calls(&wingman, 40, 2).await;
    // At least 2 s of non-LLM samples in this phase.
    tokio::time::sleep(Duration::from_secs(2).saturating_sub(load.now() - overloaded_at)).await;
    let timing_out_at = load.now();
    fake.set_behaviour(Behaviour::default().latency(Latency::Fixed(Duration::from_secs(5))));
    let timed_out = coach_calls(&wingman, 8, 4).await;
    let back_at = load.now();
    fake.set_behaviour(Behaviour::default().latency(Latency::Fixed(Duration::from_millis(20))));
    let back = coach_calls(&wingman, 4, 2).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let samples = load.stop().await;

    let slowest = |calls: &[(u16, bool, Duration)]| calls.iter().map(|c| c.2).max().unwrap();
    let base = load::stats(&samples, Duration::ZERO, overloaded_at);
    let during_529 = load::stats(&samples, overloaded_at, timing_out_at);
    let during_timeout = load::stats(&samples, timing_out_at, back_at);
    eprintln!(
        "faults::llm non-LLM routes: baseline {base}; during 529s {during_529}; during timeouts {during_timeout}"
    );
    eprintln!(
        "faults::llm coach: 529s -> slowest degraded answer {:?}; timeouts (1 s) -> slowest {:?}; back -> slowest {:?}",
        slowest(&overloaded),
        slowest(&timed_out),
        slowest(&back)
    );
    assert!(
        overloaded.iter().all(|(s, d, _)| *s == 200 && *d),
        "coach under 529: {overloaded:?}"
    );
    assert!(
        timed_out.iter().all(|(s, d, _)| *s == 200 && *d),
        "coach under timeouts: {timed_out:?}"
    );
    // No retry: a 529 degrades at once; a hung API after the 1 s timeout (2x bound).
    assert!(
        slowest(&overloaded) < Duration::from_secs(1),
        "{overloaded:?}"
    );
    assert!(
        slowest(&timed_out) < Duration::from_secs(2),
        "{timed_out:?}"
    );
    assert!(
        back.iter().all(|(s, d, _)| *s == 200 && !d),
        "coach after the return: {back:?}"
    );
    for (phase, s) in [("529", during_529), ("timeouts", during_timeout)] {
        assert_eq!(s.failed, 0, "{phase}: {s}");
        let bound = base.p95 * 3 + Duration::from_millis(500);
        assert!(
            s.p95 < bound,
            "{phase}: P95 {:?} vs baseline {:?}",
            s.p95,
            base.p95
        );
    }
    wingman.terminate();
    wingman.cleanup().await;
}
