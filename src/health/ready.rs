//! Readiness: every [`Check`] run at once, each under a short timeout, the
//! answer reused for a moment so a probe storm costs one round of checks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::Mutex;

use super::Check;

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    /// The check's name.
    pub name: String,
    /// Whether it passed within the timeout.
    pub ok: bool,
    /// Why it failed (`timed out after 1000 ms`, or the check's reason).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// How long it took.
    pub duration_ms: f64,
}

/// The readiness answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadyReport {
    /// `ready` or `not_ready`.
    pub status: &'static str,
    /// The names of the failing checks.
    pub failing: Vec<String>,
    /// Every check.
    pub checks: Vec<CheckResult>,
}

impl ReadyReport {
    /// Whether every check passed.
    pub fn is_ready(&self) -> bool {
        self.failing.is_empty()
    }
}

pub(crate) struct Readiness {
    checks: Vec<Arc<dyn Check>>,
    timeout: Duration,
    ttl: Duration,
    last: Mutex<Option<(Instant, ReadyReport)>>,
}

impl Readiness {
    pub(crate) fn new(checks: Vec<Arc<dyn Check>>, timeout: Duration, ttl: Duration) -> Self {
        Self {
            checks,
            timeout,
            ttl,
            last: Mutex::new(None),
        }
    }

    /// The cached answer if fresh, else a new round. Concurrent callers wait
    /// for the round in progress instead of starting their own.
    pub(crate) async fn report(&self) -> ReadyReport {
        let mut last = self.last.lock().await;
        if let Some((at, report)) = last.as_ref() {
            if at.elapsed() < self.ttl {
                return report.clone();
            }
        }
        let report = self.run().await;
        *last = Some((Instant::now(), report.clone()));
        report
    }

    async fn run(&self) -> ReadyReport {
        let mut set = tokio::task::JoinSet::new();
        for (i, check) in self.checks.iter().enumerate() {
            let check = check.clone();
            let timeout = self.timeout;
            set.spawn(async move {
                let started = Instant::now();
                let outcome = tokio::time::timeout(timeout, check.check()).await;
                let reason = match outcome {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(e.reason().to_owned()),
                    Err(_) => Some(format!("timed out after {} ms", timeout.as_millis())),
                };
                let result = CheckResult {
                    name: check.name().to_owned(),
                    ok: reason.is_none(),
                    reason,
                    duration_ms: started.elapsed().as_secs_f64() * 1000.0,
                };
                (i, result)
            });
        }
        let mut results: Vec<(usize, CheckResult)> = Vec::with_capacity(self.checks.len());
        while let Some(joined) = set.join_next().await {
            // A panicking check is a failing one; its name is recovered below.
            results.extend(joined.ok());
        }
        let checks: Vec<CheckResult> = self
            .checks
            .iter()
            .enumerate()
            .map(|(i, c)| {
                results
                    .iter()
                    .position(|(j, _)| *j == i)
                    .map(|p| results[p].1.clone())
                    .unwrap_or_else(|| CheckResult {
                        name: c.name().to_owned(),
                        ok: false,
                        reason: Some("check panicked".to_owned()),
                        duration_ms: 0.0,
                    })
            })
            .collect();
        let failing: Vec<String> = checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.name.clone())
            .collect();
        ReadyReport {
            status: if failing.is_empty() {
                "ready"
            } else {
                "not_ready"
            },
            failing,
            checks,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::health::{CheckError, CheckFuture};

    /// Counts its runs; fails, passes or never answers.
    struct Probe {
        name: &'static str,
        runs: Arc<AtomicUsize>,
        outcome: Option<bool>,
    }

    impl Check for Probe {
        fn name(&self) -> &str {
            self.name
        }
        fn check(&self) -> CheckFuture<'_> {
            self.runs.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                match self.outcome {
                    Some(true) => Ok(()),
                    Some(false) => Err(CheckError::new("refused")),
                    None => std::future::pending().await,
                }
            })
        }
    }

    fn probe(name: &'static str, outcome: Option<bool>) -> (Arc<dyn Check>, Arc<AtomicUsize>) {
        let runs = Arc::new(AtomicUsize::new(0));
        let p = Probe {
            name,
            runs: runs.clone(),
            outcome,
        };
        (Arc::new(p), runs)
    }

    #[tokio::test]
    async fn failing_and_hung_checks_are_named_and_answers_are_reused() {
        let (ok, ok_runs) = probe("postgres", Some(true));
        let (bad, _) = probe("redis", Some(false));
        let (hung, _) = probe("upstream", None);
        let r = Readiness::new(
            vec![ok, bad, hung],
            Duration::from_millis(50),
            Duration::from_secs(60),
        );
        let started = Instant::now();
        let (a, b) = tokio::join!(r.report(), r.report());
        // Bounded by the check timeout, not by the hung check (2× margin).
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(a, b);
        assert_eq!(a.status, "not_ready");
        assert_eq!(a.failing, ["redis", "upstream"]);
        assert_eq!(a.checks[1].reason.as_deref(), Some("refused"));
        assert_eq!(a.checks[2].reason.as_deref(), Some("timed out after 50 ms"));
        // Two concurrent callers and a third one within the TTL: one round.
        r.report().await;
        assert_eq!(ok_runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_stale_answer_is_refreshed() {
        let (ok, runs) = probe("postgres", Some(true));
        let r = Readiness::new(vec![ok], Duration::from_millis(50), Duration::ZERO);
        assert!(r.report().await.is_ready());
        assert!(r.report().await.is_ready());
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }
}
