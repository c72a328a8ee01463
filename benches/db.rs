//! `wingspan::db` costs, as the bench thread's CPU time (and wall time):
//! - an instrumented `SELECT 1` against the raw tokio-postgres client of the
//!   same pooled connection;
//! - the acquire span (`pool.get()` + return) against a plain
//!   deadpool-postgres pool's `get()` + return, same server;
//! - the sanitizer, uncached and through the statement cache;
//! - the same query and acquire in callgrind instructions
//!   (`WINGSPAN_BENCH_CALLGRIND=1`): a loopback round trip moves the timings
//!   by more than the query instrument costs, instructions it cannot move.
//!
//! Needs Postgres at `DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//! Run: `cargo bench --all-features --bench db`. Spans go to a no-op exporter
//! through the batch processor (100 % sampled); metrics to a no-op reader.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use wingspan::db::sanitize::{sanitize, StatementCache};
use wingspan::db::{Pool, Queryable};

use support::{fmt_ns, machine, paired, report, Variant};

#[derive(Debug, Default, Clone)]
struct NoopSpans(Arc<AtomicU64>);

impl SpanExporter for NoopSpans {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

const QUERY: &str = "SELECT u.id, u.name, p.bio FROM users u JOIN profiles p ON p.user_id = u.id \
     WHERE u.email = 'someone@example.com' AND u.created_at > '2024-01-01' AND u.id IN (1, 2, 3) \
     ORDER BY u.id LIMIT 10";

fn main() {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    // Plain TCP on both sides: the comparison is instrumentation, not TLS.
    let url = if url.contains("sslmode=") {
        url
    } else if url.contains('?') {
        format!("{url}&sslmode=disable")
    } else {
        format!("{url}?sslmode=disable")
    };
    // One thread: the connection task runs on the bench thread too, so its
    // CPU time is the whole client side of each call.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let cfg = wingspan::Config::builder()
        .var("DATABASE_URL", &url)
        .var("DB_POOL_SIZE", "1")
        .var("DB_MAX_CONNECTIONS", "1")
        .var("OTEL_BSP_MAX_QUEUE_SIZE", "65536")
        .var("WINGSPAN_CONSOLE_LOG", "false")
        .build()
        .expect("config");
    let exported = NoopSpans::default();
    let telemetry = rt.block_on(async {
        wingspan::Telemetry::builder(cfg.clone())
            .with_span_exporter(exported.clone())
            .with_metric_exporter(support::Noop)
            .install_globals(false)
            .install_subscriber(false)
            .build()
            .expect("telemetry")
    });
    let pool = rt
        .block_on(Pool::builder(&telemetry).build())
        .expect("pool (is Postgres running at DATABASE_URL?)");

    // The instruction-count variants; in profiling mode
    // (`WINGSPAN_BENCH_ONLY=<label>`) one of them runs and the bench ends.
    let counted = Counted::new(&rt, &telemetry, &url);
    let mut variants = counted.variants(&rt);
    if support::run_only(&mut variants) {
        return;
    }
    let labels: Vec<String> = variants.iter().map(|v| v.label.clone()).collect();
    drop(variants);

    let rounds = 15;
    let mut rows = String::from(
        "| what | baseline CPU | instrumented CPU | added CPU | ratio (CPU) | baseline wall | instrumented wall |\n|---|---|---|---|---|---|---|\n",
    );
    let mut line = |what: &str, p: &support::Paired| {
        rows.push_str(&format!(
            "| {what} | {} | {} | {} | {:.3} | {} | {} |\n",
            fmt_ns(p.a_cpu_ns_median),
            fmt_ns(p.b_cpu_ns_median),
            fmt_ns(p.added_cpu_ns()),
            p.b_cpu_ns_median / p.a_cpu_ns_median,
            fmt_ns(p.a_wall_ns_median),
            fmt_ns(p.b_wall_ns_median),
        ));
    };

    // SELECT 1 on the same checked-out connection: raw vs instrumented.
    let p = select1_on_one_connection(&rt, &pool, rounds);
    line(
        "`SELECT 1` (query span + duration histogram + client-side bound)",
        &p,
    );

    // The same without the client-side bound (DB_STATEMENT_TIMEOUT=0): the
    // per-call tokio timer's share.
    let unbounded = rt
        .block_on(
            Pool::builder(&telemetry)
                .name("unbounded")
                .statement_timeout(Duration::ZERO)
                .build(),
        )
        .expect("pool");
    let p = select1_on_one_connection(&rt, &unbounded, rounds);
    line(
        "`SELECT 1` without the client-side bound (`DB_STATEMENT_TIMEOUT=0`)",
        &p,
    );
    drop(unbounded);

    // Acquire + return: wingspan's pool vs a plain deadpool-postgres pool.
    let mut dp_cfg = deadpool_postgres::Config::new();
    dp_cfg.url = Some(url.clone());
    let plain = dp_cfg
        .create_pool(
            Some(deadpool_postgres::Runtime::Tokio1),
            tokio_postgres::NoTls,
        )
        .expect("plain pool");
    drop(rt.block_on(plain.get()).expect("plain get"));
    // The same plain pool with wingspan's deadpool timeouts (each a tokio timer).
    let timed = deadpool_postgres::Pool::builder(deadpool_postgres::Manager::new(
        url.parse::<tokio_postgres::Config>().expect("url"),
        tokio_postgres::NoTls,
    ))
    .max_size(1)
    .runtime(deadpool_postgres::Runtime::Tokio1)
    .wait_timeout(Some(Duration::from_secs(10)))
    .create_timeout(Some(Duration::from_secs(5)))
    .recycle_timeout(Some(Duration::from_secs(5)))
    .build()
    .expect("timed pool");
    drop(rt.block_on(timed.get()).expect("timed get"));
    let p = paired(
        "deadpool get",
        || {
            rt.block_on(async { drop(plain.get().await.unwrap()) });
        },
        "deadpool get, with timeouts",
        || {
            rt.block_on(async { drop(timed.get().await.unwrap()) });
        },
        5000,
        rounds,
    );
    line(
        "deadpool's own wait/create/recycle timeouts (no wingspan)",
        &p,
    );
    let p = paired(
        "deadpool get",
        || {
            rt.block_on(async { drop(plain.get().await.unwrap()) });
        },
        "wingspan get",
        || {
            rt.block_on(async { drop(pool.get().await.unwrap()) });
        },
        5000,
        rounds,
    );
    line(
        "acquire + return (acquire span, wait/use time, leak slot)",
        &p,
    );

    // Whole request path: acquire + SELECT 1 + return, against a plain
    // deadpool-postgres pool whose connections are configured as wingspan's
    // (server-side statement_timeout, keepalives, deadpool timeouts), so the
    // difference is the instrumentation alone.
    let mut pg = url.parse::<tokio_postgres::Config>().expect("url");
    pg.options("-c statement_timeout=30000").keepalives(true);
    let same = deadpool_postgres::Pool::builder(deadpool_postgres::Manager::new(
        pg,
        tokio_postgres::NoTls,
    ))
    .max_size(1)
    .runtime(deadpool_postgres::Runtime::Tokio1)
    .wait_timeout(Some(Duration::from_secs(10)))
    .create_timeout(Some(Duration::from_secs(5)))
    .recycle_timeout(Some(Duration::from_secs(5)))
    .build()
    .expect("same-config pool");
    let p = paired(
        "deadpool get + SELECT 1",
        || {
            rt.block_on(async {
                let c = same.get().await.unwrap();
                let st = c.prepare_cached("SELECT 1").await.unwrap();
                c.query_one(&st, &[]).await.unwrap();
            });
        },
        "wingspan get + SELECT 1",
        || {
            rt.block_on(async {
                let c = pool.get().await.unwrap();
                c.query_one("SELECT 1", &[]).await.unwrap();
            });
        },
        500,
        rounds,
    );
    line(
        "acquire + `SELECT 1` + return, same connection settings",
        &p,
    );
    drop(same);

    // Whole request path: acquire + SELECT 1 + return.
    let p = paired(
        "deadpool get + SELECT 1",
        || {
            rt.block_on(async {
                let c = plain.get().await.unwrap();
                let st = c.prepare_cached("SELECT 1").await.unwrap();
                c.query_one(&st, &[]).await.unwrap();
            });
        },
        "wingspan get + SELECT 1",
        || {
            rt.block_on(async {
                let c = pool.get().await.unwrap();
                c.query_one("SELECT 1", &[]).await.unwrap();
            });
        },
        500,
        rounds,
    );
    line("acquire + `SELECT 1` + return", &p);

    // The sanitizer.
    let cache: StatementCache<wingspan::db::sanitize::Sanitized> = StatementCache::new(1024);
    cache.get_or_insert(QUERY, sanitize);
    let p = paired(
        "cached (lookup)",
        || {
            std::hint::black_box(cache.get_or_insert(std::hint::black_box(QUERY), sanitize));
        },
        "uncached (sanitize + summarize)",
        || {
            std::hint::black_box(sanitize(std::hint::black_box(QUERY)));
        },
        20_000,
        rounds,
    );
    rows.push_str(&format!(
        "| sanitizer, {}-byte query: cached lookup vs uncached | {} | {} | {} | {:.1} | {} | {} |\n",
        QUERY.len(),
        fmt_ns(p.a_cpu_ns_median),
        fmt_ns(p.b_cpu_ns_median),
        fmt_ns(p.added_cpu_ns()),
        p.b_cpu_ns_median / p.a_cpu_ns_median,
        fmt_ns(p.a_wall_ns_median),
        fmt_ns(p.b_wall_ns_median),
    ));

    rt.block_on(async {
        let _ = telemetry.force_flush().await;
    });
    let dropped = telemetry.dropped_spans();
    report(
        "db: wingspan::db vs raw tokio-postgres / deadpool-postgres",
        &format!(
            "Machine: {}. Command: `cargo bench --all-features --bench db`. \
             Medians of {rounds} alternating rounds, per operation, thread CPU of the \
             bench thread (current-thread runtime, so the connection task is included) \
             and wall time; Postgres on 127.0.0.1 without TLS; spans 100 % sampled to a no-op \
             exporter through the batch processor ({} exported, {dropped} dropped).\n\n{rows}",
            machine(),
            exported.0.load(Ordering::Relaxed),
        ),
    );

    if support::callgrind_wanted() {
        if let Some(rows) = support::callgrind_counts("db::drive", &labels, 3_000) {
            report("db: instructions per operation", &instructions(&rows));
        }
    }
}

/// Runs `op` `n` times: the function callgrind counts inside (`db::drive`).
#[inline(never)]
fn drive(op: &mut dyn FnMut(), n: u64) {
    for _ in 0..n {
        op();
    }
}

/// What the instruction counts compare, each on a pool of its own so a
/// checked-out connection never blocks an acquire.
struct Counted {
    /// One connection of a wingspan pool, checked out for the whole run.
    client: wingspan::db::Client,
    /// `SELECT 1` prepared on that connection's raw client.
    select1: tokio_postgres::Statement,
    /// A wingspan pool for acquire + return.
    pool: Pool,
    /// A plain deadpool-postgres pool configured as wingspan's.
    plain: deadpool_postgres::Pool,
}

impl Counted {
    fn new(rt: &tokio::runtime::Runtime, telemetry: &wingspan::Telemetry, url: &str) -> Self {
        let (client, select1, pool) = rt.block_on(async {
            let queries = Pool::builder(telemetry)
                .name("counted")
                .build()
                .await
                .expect("pool");
            let client = queries.get().await.expect("get");
            let select1 = client
                .raw()
                .expect("raw client")
                .prepare("SELECT 1")
                .await
                .expect("prepare");
            let pool = Pool::builder(telemetry)
                .name("acquire")
                .build()
                .await
                .expect("pool");
            drop(pool.get().await.expect("get"));
            (client, select1, pool)
        });
        let mut pg = url.parse::<tokio_postgres::Config>().expect("url");
        pg.options("-c statement_timeout=30000").keepalives(true);
        let plain = deadpool_postgres::Pool::builder(deadpool_postgres::Manager::new(
            pg,
            tokio_postgres::NoTls,
        ))
        .max_size(1)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(10)))
        .create_timeout(Some(Duration::from_secs(5)))
        .recycle_timeout(Some(Duration::from_secs(5)))
        .build()
        .expect("plain pool");
        drop(rt.block_on(plain.get()).expect("plain get"));
        Self {
            client,
            select1,
            pool,
            plain,
        }
    }

    fn variants<'a>(&'a self, rt: &'a tokio::runtime::Runtime) -> Vec<Variant<'a>> {
        let raw = self.client.raw().expect("raw client");
        vec![
            Variant::new("raw tokio-postgres `SELECT 1` (prepared)", move |n| {
                drive(
                    &mut || {
                        rt.block_on(async { raw.query_one(&self.select1, &[]).await.unwrap() });
                    },
                    n,
                )
            }),
            Variant::new(
                "wingspan `SELECT 1` (query span, duration, bound)",
                move |n| {
                    drive(
                        &mut || {
                            rt.block_on(async {
                                self.client.query_one("SELECT 1", &[]).await.unwrap()
                            });
                        },
                        n,
                    )
                },
            ),
            Variant::new("deadpool-postgres get + return", move |n| {
                drive(
                    &mut || {
                        rt.block_on(async { drop(self.plain.get().await.unwrap()) });
                    },
                    n,
                )
            }),
            Variant::new(
                "wingspan get + return (acquire span, wait/use time)",
                move |n| {
                    drive(
                        &mut || {
                            rt.block_on(async { drop(self.pool.get().await.unwrap()) });
                        },
                        n,
                    )
                },
            ),
        ]
    }
}

/// The instruction table: each wingspan row against the raw row before it.
fn instructions(rows: &[(String, u64)]) -> String {
    let mut t = String::from(
        "Instructions per operation on the bench thread (callgrind, 3 000 operations per \
         variant; the connection task runs on it too). Deterministic to within a few \
         instructions.\n\n| what | baseline | instrumented | added |\n|---|---|---|---|\n",
    );
    for pair in rows.chunks(2) {
        if let [(raw_label, raw), (label, ours)] = pair {
            t.push_str(&format!(
                "| {label} vs {raw_label} | {raw} | {ours} | {:+} |\n",
                *ours as i64 - *raw as i64
            ));
        }
    }
    t
}

/// `SELECT 1` on one checked-out connection: the raw tokio-postgres client
/// against wingspan's. The fair baseline prepares once, as wingspan does per
/// connection (and as `deadpool_postgres::Client::prepare_cached` would): a
/// text query in tokio-postgres costs an extra prepare/close round trip.
fn select1_on_one_connection(
    rt: &tokio::runtime::Runtime,
    pool: &Pool,
    rounds: usize,
) -> support::Paired {
    let client = rt.block_on(pool.get()).expect("get");
    let raw = client.raw().expect("raw client");
    let select1 = rt.block_on(raw.prepare("SELECT 1")).expect("prepare");
    paired(
        "raw tokio-postgres",
        || {
            rt.block_on(async { raw.query_one(&select1, &[]).await.unwrap() });
        },
        "wingspan",
        || {
            rt.block_on(async { client.query_one("SELECT 1", &[]).await.unwrap() });
        },
        500,
        rounds,
    )
}
