//! `get_or_load`'s single-flight: one loader for concurrent misses, a failure
//! shared with every waiting caller, a cancelled or panicking leader handing
//! over.
//!
//! The concurrent callers run as futures of one task ([`join_all`]), so each
//! has joined the flight before any of them can finish: the outcome does not
//! depend on how the scheduler spreads tasks over threads.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{cache, setup, WAIT};
use crate::support;

/// Polls every future on this task until all are done; their outputs in
/// order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(v) => *output = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(|o| o.expect("ready")).collect()
}

/// A latch that opens once `n` callers have entered `get_or_load`.
struct Latch {
    entered: watch::Sender<usize>,
    n: usize,
}

impl Latch {
    fn new(n: usize) -> Self {
        Self {
            entered: watch::Sender::new(0),
            n,
        }
    }

    fn enter(&self) {
        self.entered.send_modify(|e| *e += 1);
    }

    async fn all_entered(&self) {
        let n = self.n;
        let mut rx = self.entered.subscribe();
        rx.wait_for(|e| *e >= n).await.expect("sender alive");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_or_load_runs_one_loader_for_concurrent_misses() {
    const CALLERS: usize = 100;
    let (_receiver, telemetry) = setup(&[]).await;
    let cache = cache(&telemetry).await;
    let key = format!("{}:item", support::unique("sf"));
    let calls = AtomicUsize::new(0);
    let latch = Latch::new(CALLERS);

    // The loader returns only once all 100 callers are inside
    // `get_or_load`, so every one of them finds the flight in progress.
    let callers = (0..CALLERS).map(|_| async {
        latch.enter();
        cache
            .get_or_load(&key, Some(Duration::from_secs(60)), || async {
                calls.fetch_add(1, Ordering::SeqCst);
                latch.all_entered().await;
                Ok::<_, std::io::Error>(vec![1u32, 2, 3])
            })
            .await
            .unwrap()
    });
    for value in join_all(callers.collect()).await {
        assert_eq!(value, vec![1, 2, 3]);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // The write-back lands shortly after; then the loader is not called.
    let deadline = Instant::now() + WAIT;
    while cache.get::<String>(&key).await.unwrap().is_none() {
        assert!(Instant::now() < deadline, "write-back never landed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let v: Vec<u32> = cache
        .get_or_load(&key, None, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok::<_, std::io::Error>(vec![9])
        })
        .await
        .unwrap();
    assert_eq!(v, vec![1, 2, 3]);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    cache.del(&[&key]).await.unwrap();
}

/// Defect: a failing leader handed over to one follower at a time, so the
/// k-th of 20 callers waited k loader times (about 4 s) and the loader ran
/// 20 times in a row. Now every caller gets the leader's error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_loader_fails_every_waiting_caller_at_once() {
    const CALLERS: usize = 20;
    const LOADER: Duration = Duration::from_millis(200);
    let (_receiver, telemetry) = setup(&[]).await;
    let cache = cache(&telemetry).await;
    let key = format!("{}:item", support::unique("sffail"));
    let calls = AtomicUsize::new(0);
    let latch = Latch::new(CALLERS);

    let callers = (0..CALLERS).map(|_| async {
        latch.enter();
        let started = Instant::now();
        let result = cache
            .get_or_load(&key, None, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                latch.all_entered().await;
                tokio::time::sleep(LOADER).await;
                Err::<u32, _>(std::io::Error::other("backend down"))
            })
            .await;
        (result, started.elapsed())
    });
    let outcomes = join_all(callers.collect()).await;

    assert_eq!(calls.load(Ordering::SeqCst), 1, "one loader call");
    let bound = LOADER + cache.command_timeout() * 2;
    let first = outcomes[0].0.as_ref().unwrap_err();
    for (result, elapsed) in &outcomes {
        let err = result.as_ref().unwrap_err();
        assert_eq!(err.to_string(), "backend down");
        assert!(Arc::ptr_eq(err, first), "the leader's error, shared");
        // One loader time plus the cache's timeout, with room for a busy
        // machine (the defect gave the slowest caller about 4 s).
        assert!(elapsed < &bound.max(Duration::from_secs(1)), "{elapsed:?}");
    }
    assert_eq!(cache.exists(&[&key]).await.unwrap(), 0, "nothing cached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_or_panicking_leader_hands_over_to_a_follower() {
    const FOLLOWERS: usize = 10;
    let (_receiver, telemetry) = setup(&[]).await;
    let cache = cache(&telemetry).await;
    for panics in [false, true] {
        let key = format!("{}:item", support::unique("leader"));
        let latch = Arc::new(Latch::new(FOLLOWERS));
        let leader_started = Arc::new(tokio::sync::Notify::new());
        let leader = {
            let (cache, key) = (cache.clone(), key.clone());
            let (latch, started) = (latch.clone(), leader_started.clone());
            tokio::spawn(async move {
                cache
                    .get_or_load(&key, None, || async move {
                        started.notify_one();
                        // Every follower waits on this flight before the
                        // leader goes away.
                        latch.all_entered().await;
                        if panics {
                            panic!("leader's loader panics");
                        }
                        std::future::pending::<()>().await;
                        Ok::<_, std::io::Error>(0u32)
                    })
                    .await
            })
        };
        leader_started.notified().await;
        let calls = AtomicUsize::new(0);
        let started = Instant::now();
        let followers = (0..FOLLOWERS).map(|_| async {
            latch.enter();
            cache
                .get_or_load(&key, None, || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, std::io::Error>(7u32)
                })
                .await
                .unwrap()
        });
        let cancel = async {
            if !panics {
                latch.all_entered().await;
                leader.abort();
            }
        };
        let (values, ()) = tokio::join!(join_all(followers.collect()), cancel);
        assert_eq!(values, vec![7; FOLLOWERS]);
        assert!(leader.await.is_err());
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "one follower took over");
        cache.del(&[&key]).await.unwrap();
    }
}
