//! Span exports that overlap.
//!
//! The SDK's batch span processor hands a batch to its exporter and waits
//! for the answer before it takes the next one, so its throughput is one
//! batch per round trip. At saturation the round trip is mostly waiting:
//! the encoded batch, the export thread, the collector and the answer each
//! wait for a core behind the service's own threads. On the process bench
//! (2 cores, 64 connections, rotel beside the service) one export of 512
//! spans took about 25 ms end to end for about 1 ms of encoding, so the
//! processor exported some 20 000 spans a second while the service made
//! 80 000, and the bounded queue dropped three spans in four.
//!
//! [`Pipelined`] answers the processor at once and runs the export on a
//! blocking thread of wingspan's export runtime, up to
//! [`MAX_CONCURRENT_EXPORTS`] at a time; the processor blocks only when that
//! many are in flight (then it behaves as before). What is in flight still
//! counts against the queue bound of [`super::dropped::GuardedProcessor`]
//! until its export ends (the counting exporter inside releases it), and a
//! flush or shutdown waits for the exports in flight ([`InFlight::wait_idle`]).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use tokio::sync::Semaphore;

/// Exports in flight at once, at most. Four were enough while the process
/// bench's service made some 50 000 spans a second; on a faster machine it
/// made 60 000, and a stall of the export path (a thread waiting for a core
/// at saturation; the export's CPU is not the limit) dropped up to one span
/// in three hundred in some runs, with four and with eight. With sixteen,
/// none of the runs since dropped any. What may be queued or in flight grows
/// from 4096 to 10 240 spans with the defaults, and that is paid in memory
/// when the export path stalls: the full bench run at the commit that raised
/// it read a peak RSS of 36 MiB at saturation (process bench, 100 %) and
/// 43.4 MiB with the collector down (service bench), where the record
/// before, on another machine, read 26 and 35.0 (BENCHMARKS.md).
pub(crate) const MAX_CONCURRENT_EXPORTS: usize = 16;

/// The exports in flight, shared with the queue guard (which waits for them
/// on a flush).
#[derive(Debug)]
pub(crate) struct InFlight {
    permits: Arc<Semaphore>,
}

impl InFlight {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            permits: Arc::new(Semaphore::new(MAX_CONCURRENT_EXPORTS)),
        })
    }

    /// Waits until no export is in flight, or `timeout` passed; `false` on
    /// the timeout. Polls: a flush is rare and needs no runtime here.
    pub(crate) fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            if self.permits.available_permits() == MAX_CONCURRENT_EXPORTS {
                return true;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Runs `inner`'s exports on the export runtime's blocking threads, several
/// at a time.
pub(crate) struct Pipelined<E> {
    inner: Arc<E>,
    in_flight: Arc<InFlight>,
    /// `None`: no export runtime, each export runs where the processor
    /// calls it, one at a time.
    runtime: Option<tokio::runtime::Handle>,
    /// How long a flush or shutdown waits for the exports in flight.
    timeout: Duration,
}

impl<E> fmt::Debug for Pipelined<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipelined")
            .field("max_concurrent_exports", &MAX_CONCURRENT_EXPORTS)
            .finish_non_exhaustive()
    }
}

impl<E> Pipelined<E> {
    pub(crate) fn new(
        inner: E,
        in_flight: Arc<InFlight>,
        runtime: Option<tokio::runtime::Handle>,
        timeout: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(inner),
            in_flight,
            runtime,
            timeout,
        }
    }
}

impl<E: SpanExporter + 'static> SpanExporter for Pipelined<E> {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let inner = Arc::clone(&self.inner);
        let permits = Arc::clone(&self.in_flight.permits);
        let runtime = self.runtime.clone();
        async move {
            let Some(runtime) = runtime else {
                return inner.export(batch).await;
            };
            // Blocks the processor's thread only when every slot is taken.
            let Ok(permit) = permits.acquire_owned().await else {
                return Err(OTelSdkError::AlreadyShutdown);
            };
            // A blocking thread, as the processor's own: the HTTP exporter's
            // client blocks, and the gRPC one is driven from here while its
            // channel runs on the export runtime's worker.
            runtime.spawn_blocking(move || {
                // Failures are counted and logged by the counting exporter
                // inside; nothing waits for this result.
                let _ = futures_executor::block_on(inner.export(batch));
                drop(permit);
            });
            Ok(())
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        if self.in_flight.wait_idle(self.timeout) {
            self.inner.force_flush()
        } else {
            Err(OTelSdkError::Timeout(self.timeout))
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let start = Instant::now();
        if !self.in_flight.wait_idle(timeout) {
            return Err(OTelSdkError::Timeout(timeout));
        }
        self.inner
            .shutdown_with_timeout(timeout.saturating_sub(start.elapsed()))
    }

    fn set_resource(&mut self, resource: &Resource) {
        // Called when the provider is built, before any export: the exporter
        // is not shared yet.
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.set_resource(resource);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    use super::*;

    /// Blocks each export until released; records how many ran at once.
    #[derive(Debug, Default)]
    struct Slow {
        running: AtomicUsize,
        most: AtomicUsize,
        done: AtomicUsize,
        gate: Mutex<()>,
    }

    #[derive(Debug)]
    struct SlowExporter(Arc<Slow>);

    impl SpanExporter for SlowExporter {
        fn export(
            &self,
            _batch: Vec<SpanData>,
        ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
            let me = Arc::clone(&self.0);
            async move {
                let now = me.running.fetch_add(1, Ordering::SeqCst) + 1;
                me.most.fetch_max(now, Ordering::SeqCst);
                drop(me.gate.lock());
                std::thread::sleep(Duration::from_millis(20));
                me.running.fetch_sub(1, Ordering::SeqCst);
                me.done.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        }
    }

    #[test]
    fn exports_overlap_up_to_the_limit_and_a_flush_waits_for_them() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let slow = Arc::new(Slow::default());
        let in_flight = InFlight::new();
        let p = Pipelined::new(
            SlowExporter(Arc::clone(&slow)),
            Arc::clone(&in_flight),
            Some(rt.handle().clone()),
            Duration::from_secs(10),
        );
        let held = slow.gate.lock().unwrap();
        // The processor's thread is answered at once for the first four.
        for _ in 0..MAX_CONCURRENT_EXPORTS {
            futures_executor::block_on(p.export(Vec::new())).unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while slow.running.load(Ordering::SeqCst) < MAX_CONCURRENT_EXPORTS {
            assert!(Instant::now() < deadline, "the exports did not start");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(!in_flight.wait_idle(Duration::from_millis(20)));
        drop(held);
        // A fifth waits for a slot, then runs too.
        futures_executor::block_on(p.export(Vec::new())).unwrap();
        p.force_flush().unwrap();
        assert_eq!(slow.done.load(Ordering::SeqCst), MAX_CONCURRENT_EXPORTS + 1);
        assert_eq!(slow.most.load(Ordering::SeqCst), MAX_CONCURRENT_EXPORTS);
        p.shutdown_with_timeout(Duration::from_secs(1)).unwrap();
    }

    #[test]
    fn without_a_runtime_each_export_runs_in_place() {
        let slow = Arc::new(Slow::default());
        let p = Pipelined::new(
            SlowExporter(Arc::clone(&slow)),
            InFlight::new(),
            None,
            Duration::from_secs(1),
        );
        futures_executor::block_on(p.export(Vec::new())).unwrap();
        assert_eq!(slow.done.load(Ordering::SeqCst), 1);
        assert_eq!(slow.most.load(Ordering::SeqCst), 1);
    }
}
