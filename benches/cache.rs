//! CPU cost of the cache instrumentation: an instrumented `Cache::get`
//! against a raw fred GET on the same pool, side by side, alternating rounds.
//!
//! Needs Redis at `REDIS_URL` (default `redis://127.0.0.1:6379`). Everything
//! runs on one current-thread runtime, so the bench thread's CPU time covers
//! the whole GET (fred's connection task included) for both variants, and the
//! difference is what the instrumentation adds. Spans go through the batch
//! processor into a no-op exporter, 100 % sampled.

/// Minimal local copies of the `benches/support` helpers (branch `http`),
/// whose criterion `Throughput::ElementsAndBytes` arm does not build against
/// criterion 0.7.0 yet; same names, so switching to `mod support;` is a
/// one-line change.
mod support {
    use std::io::Write as _;
    use std::time::Instant;

    pub fn thread_cpu_ns() -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec and the clock id a
        // constant every Linux kernel supports.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }

    pub struct Variant<'a> {
        pub label: String,
        pub run: Box<dyn FnMut(u64) + 'a>,
    }

    impl<'a> Variant<'a> {
        pub fn new(label: impl Into<String>, run: impl FnMut(u64) + 'a) -> Self {
            Self {
                label: label.into(),
                run: Box::new(run),
            }
        }
    }

    pub struct Medians {
        pub label: String,
        pub cpu_ns: f64,
        pub wall_ns: f64,
    }

    fn median(v: &mut [f64]) -> f64 {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    }

    /// Alternating rounds (starting variant rotated), one warm-up round
    /// each, per-operation medians.
    pub fn alternating(variants: &mut [Variant<'_>], iters: u64, rounds: usize) -> Vec<Medians> {
        let mut cpu = vec![Vec::with_capacity(rounds); variants.len()];
        let mut wall = vec![Vec::with_capacity(rounds); variants.len()];
        for v in variants.iter_mut() {
            (v.run)(iters);
        }
        for round in 0..rounds {
            for k in 0..variants.len() {
                let i = (k + round) % variants.len();
                let (c0, w0) = (thread_cpu_ns(), Instant::now());
                (variants[i].run)(iters);
                let w = w0.elapsed();
                let c = thread_cpu_ns() - c0;
                cpu[i].push(c as f64 / iters as f64);
                wall[i].push(w.as_nanos() as f64 / iters as f64);
            }
        }
        variants
            .iter()
            .zip(cpu.iter_mut().zip(wall.iter_mut()))
            .map(|(v, (c, w))| Medians {
                label: v.label.clone(),
                cpu_ns: median(c),
                wall_ns: median(w),
            })
            .collect()
    }

    pub fn report(title: &str, markdown: &str) {
        let text = format!("## {title}\n\n{}\n\n", markdown.trim_end());
        print!("{text}");
        let path = std::env::var_os("WINGSPAN_BENCH_OUT")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/benchmarks.md")
            });
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            let _ = f.write_all(text.as_bytes());
        }
    }

    pub fn machine() -> String {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|m| m.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".to_owned());
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        format!("{cpu}, {cores} cores")
    }

    pub fn fmt_ns(ns: f64) -> String {
        if ns.abs() >= 1000.0 {
            format!("{:.2} µs", ns / 1000.0)
        } else {
            format!("{ns:.0} ns")
        }
    }
}

use std::time::Duration;

use fred::interfaces::KeysInterface as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use wingspan::cache::Cache;

#[derive(Debug)]
struct Noop;

impl SpanExporter for Noop {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        Ok(())
    }
}

impl PushMetricExporter for Noop {
    async fn export(&self, _metrics: &ResourceMetrics) -> OTelSdkResult {
        Ok(())
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

impl LogExporter for Noop {
    async fn export(&self, _batch: LogBatch<'_>) -> OTelSdkResult {
        Ok(())
    }
}

fn telemetry(sampler: &str) -> wingspan::Telemetry {
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let config = wingspan::Config::builder()
        .service_name("bench-cache")
        .var("OTEL_TRACES_SAMPLER", sampler)
        .var("WINGSPAN_CONSOLE_LOG", "false")
        .var("REDIS_URL", redis)
        // A queue large enough that the tight loop does not drop spans.
        .var("OTEL_BSP_MAX_QUEUE_SIZE", "65536")
        .build()
        .expect("bench configuration");
    wingspan::Telemetry::builder(config)
        .with_span_exporter(Noop)
        .with_metric_exporter(Noop)
        .with_log_exporter(Noop)
        .install_globals(false)
        .install_subscriber(false)
        .build()
        .expect("telemetry")
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (sampled, unsampled) =
        rt.block_on(async { (telemetry("always_on"), telemetry("always_off")) });
    let (cache, quiet) = rt.block_on(async {
        let build = |t: &wingspan::Telemetry| {
            Cache::builder(t, t.config().redis.clone())
                .info_metrics(false)
                .build()
        };
        (
            build(&sampled).await.expect("cache"),
            build(&unsampled).await.expect("cache"),
        )
    });
    assert!(cache.is_connected(), "the bench needs Redis at REDIS_URL");
    let key = format!("bench:{}", std::process::id());
    rt.block_on(cache.set(&key, "value", Some(Duration::from_secs(600))))
        .expect("SET");

    let raw = cache.pool().clone();
    // The same client set-up the cache uses (fail-fast, per-command timeout),
    // without any instrumentation: separates fred's cost from wingspan's.
    let options = fred::types::config::Options {
        timeout: Some(cache.command_timeout()),
        fail_fast: true,
        ..Default::default()
    };
    let raw_opts: Vec<_> = raw
        .clients()
        .iter()
        .map(|c| fred::interfaces::ClientLike::with_options(c, &options))
        .collect();
    let mut next = 0usize;
    // Smaller runs (e.g. under callgrind) via the environment.
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let iters = env("CACHE_BENCH_ITERS", 2000);
    let rounds = env("CACHE_BENCH_ROUNDS", 15) as usize;
    let mut variants = [
        support::Variant::new("raw fred GET", |n| {
            rt.block_on(async {
                for _ in 0..n {
                    let v: Option<String> = raw.next().get(&key).await.expect("GET");
                    assert!(v.is_some());
                }
            })
        }),
        support::Variant::new("fred GET, fail-fast options, Value", |n| {
            rt.block_on(async {
                for _ in 0..n {
                    next = next.wrapping_add(1);
                    let c = &raw_opts[next % raw_opts.len()];
                    let v: fred::types::Value = c.get(&key).await.expect("GET");
                    assert!(!v.is_null());
                    let v: Option<String> = v.convert().expect("convert");
                    assert!(v.is_some());
                }
            })
        }),
        support::Variant::new("Cache::get (100 % sampled)", |n| {
            rt.block_on(async {
                for _ in 0..n {
                    let v: Option<String> = cache.get(&key).await.expect("GET");
                    assert!(v.is_some());
                }
            })
        }),
        support::Variant::new("Cache::get (sampler off)", |n| {
            rt.block_on(async {
                for _ in 0..n {
                    let v: Option<String> = quiet.get(&key).await.expect("GET");
                    assert!(v.is_some());
                }
            })
        }),
    ];
    let m = support::alternating(&mut variants, iters, rounds);
    drop(variants);
    let base = &m[0];
    let mut table = String::from(
        "| variant | thread CPU / GET | added CPU | CPU ratio | wall / GET |\n|---|---|---|---|---|\n",
    );
    for v in &m {
        table.push_str(&format!(
            "| {} | {} | {} | {:.3} | {} |\n",
            v.label,
            support::fmt_ns(v.cpu_ns),
            support::fmt_ns(v.cpu_ns - base.cpu_ns),
            v.cpu_ns / base.cpu_ns,
            support::fmt_ns(v.wall_ns),
        ));
    }
    table.push_str(&format!(
        "\n{} GETs per round, {} alternating rounds, medians; one current-thread runtime (the bench thread runs fred's connection task too); Redis on loopback; spans dropped: {}. Machine: {}. Command: `cargo bench --all-features --bench cache`.\n",
        iters,
        rounds,
        sampled.dropped_spans(),
        support::machine(),
    ));
    support::report("Cache GET: instrumented vs raw fred", &table);
    rt.block_on(async {
        let _ = cache.del(&[&key]).await;
    });
}
