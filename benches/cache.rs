//! CPU cost of the cache instrumentation: an instrumented `Cache::get`
//! against a raw fred GET on the same pool, side by side, alternating rounds.
//!
//! Needs Redis at `REDIS_URL` (default `redis://127.0.0.1:6379`). Everything
//! runs on one current-thread runtime, so the bench thread's CPU time covers
//! the whole GET (fred's connection task included) for both variants, and the
//! difference is what the instrumentation adds. Spans go through the batch
//! processor into a no-op exporter, 100 % sampled.

mod support;

use std::time::Duration;

use fred::interfaces::KeysInterface as _;
use wingspan::cache::Cache;

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
        .with_span_exporter(support::Noop)
        .with_metric_exporter(support::Noop)
        .with_log_exporter(support::Noop)
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
        let build = |t: &wingspan::Telemetry| Cache::builder(t).info_metrics(false).build();
        (
            build(&sampled).await.expect("cache"),
            build(&unsampled).await.expect("cache"),
        )
    });
    assert!(cache.is_connected(), "the bench needs Redis at REDIS_URL");
    let key = format!("bench:{}", std::process::id());
    rt.block_on(cache.set(&key, "value", Some(Duration::from_secs(600))))
        .expect("SET");
    // The same value as JSON, for `get_or_load`.
    let json_key = format!("{key}:json");
    rt.block_on(cache.set(&json_key, "\"value\"", Some(Duration::from_secs(600))))
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
        // `get_or_load`'s own cost over a GET and its JSON parse: joining
        // and leaving the key's flight.
        support::Variant::new("Cache::get + JSON parse (sampler off)", |n| {
            rt.block_on(async {
                for _ in 0..n {
                    let v: Option<String> = quiet.get(&json_key).await.expect("GET");
                    let v: String = serde_json::from_str(&v.expect("hit")).expect("JSON");
                    assert_eq!(v, "value");
                }
            })
        }),
        support::Variant::new("Cache::get_or_load hit (sampler off)", |n| {
            rt.block_on(async {
                for _ in 0..n {
                    let v: String = quiet
                        .get_or_load(&json_key, None, || async {
                            Err::<String, _>("a hit never loads")
                        })
                        .await
                        .expect("hit");
                    assert_eq!(v, "value");
                }
            })
        }),
    ];
    let m = support::alternating(&mut variants, iters, rounds);
    drop(variants);
    let mut table = support::added_table(&m, "GET");
    table.push_str(&format!(
        "\n{} GETs per round, {} alternating rounds, medians; one current-thread runtime (the bench thread runs fred's connection task too); Redis on loopback; spans dropped: {}. Machine: {}. Command: `cargo bench --all-features --bench cache`.\n",
        iters,
        rounds,
        sampled.dropped_spans(),
        support::machine(),
    ));
    support::report("Cache GET: instrumented vs raw fred", &table);
    rt.block_on(async {
        let _ = cache.del(&[&key, &json_key]).await;
    });
}
