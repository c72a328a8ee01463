//! Cost of recording into the in-process view (`wingspan::stats`): one
//! record per request, per query, per cache command, per pool acquisition
//! and per LLM call, on the system clock, against a loop that only reads
//! the same inputs. Also: the disabled view (`Option::None`), and two threads
//! recording on one route at once.
//!
//! No services needed. Thread CPU (`CLOCK_THREAD_CPUTIME_ID`) medians of
//! alternating rounds, then, with `WINGSPAN_BENCH_CALLGRIND=1` (set by
//! `make bench` when valgrind is there), exact instructions per record.

mod support;

use std::hint::black_box;
use std::time::Duration;

use opentelemetry::trace::TraceId;
use support::{fmt_ns, Variant};
use wingspan::http::RouteClass;
use wingspan::stats::{CacheStats, ModelStats, PoolStats, QueryStats, RouteStats, Stats};

const ITERS: u64 = 200_000;
const ROUNDS: usize = 15;

/// Durations spread over 100 µs .. 400 ms, so records land in many buckets.
fn durations() -> Vec<Duration> {
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    (0..4096)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            Duration::from_micros(100 + s % 400_000)
        })
        .collect()
}

struct Handles {
    route: RouteStats,
    query: QueryStats,
    cache: CacheStats,
    pool: PoolStats,
    model: ModelStats,
    off: Option<RouteStats>,
}

fn handles(stats: &Stats) -> Handles {
    Handles {
        route: stats.route("GET", "/users/{id}", RouteClass::Standard),
        query: stats.query("SELECT users"),
        cache: stats.cache("users"),
        pool: stats.pool(),
        model: stats.model("gpt-4o-mini"),
        off: None,
    }
}

const KINDS: [&str; 7] = [
    "baseline: loop, no record",
    "request: RouteStats::record",
    "query: QueryStats::record",
    "cache: CacheStats::record",
    "pool: record_acquire + record_hold",
    "llm: ModelStats::record",
    "view off: `Option<RouteStats>` = None",
];

/// `n` records of kind `k` (an index into [`KINDS`]); the unit callgrind
/// counts (`--toggle-collect=stats::drive`).
#[inline(never)]
fn drive(h: &Handles, d: &[Duration], trace: TraceId, k: usize, n: u64) {
    for i in 0..n as usize {
        let dur = black_box(d[i & 4095]);
        match k {
            0 => {
                black_box(dur);
            }
            1 => h.route.record(200, dur, trace),
            2 => h.query.record(dur, false),
            3 => h.cache.record_hit(dur),
            4 => {
                h.pool.record_acquire(dur / 100, false);
                h.pool.record_hold(dur);
            }
            5 => h.model.record(dur, false, 120, 30, 0.0021),
            _ => {
                if let Some(r) = black_box(&h.off) {
                    r.record(200, dur, trace);
                }
            }
        }
    }
}

fn main() {
    let stats = Stats::builder().build();
    let h = handles(&stats);
    let d = durations();
    let trace = TraceId::from_bytes([7; 16]);

    if let Ok(only) = std::env::var("WINGSPAN_BENCH_ONLY") {
        let n = std::env::var("WINGSPAN_BENCH_ITERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100_000);
        let k = KINDS
            .iter()
            .position(|l| *l == only)
            .expect("a KINDS label");
        drive(&h, &d, trace, k, n);
        return;
    }

    {
        let mut c = support::quick_criterion();
        let mut g = c.benchmark_group("stats");
        for (k, label) in KINDS.iter().enumerate().take(3) {
            g.bench_function(*label, |b| {
                b.iter_custom(|iters| {
                    let t0 = support::thread_cpu_ns();
                    drive(&h, &d, trace, k, iters);
                    support::thread_cpu_ns() - t0
                })
            });
        }
        g.finish();
    }

    let mut variants: Vec<Variant<'_>> = KINDS
        .iter()
        .enumerate()
        .map(|(k, label)| {
            let (h, d) = (&h, &d);
            Variant::new(*label, move |n| drive(h, d, trace, k, n))
        })
        .collect();
    let m = support::alternating(&mut variants, ITERS, ROUNDS);
    drop(variants);
    let base = m[0].cpu_ns;
    let contended = two_threads(&stats, &d);

    let mut table = format!(
        "Thread CPU per record, median of {ROUNDS} alternating rounds of {ITERS} records, \
         system clock, durations spread over 100 µs..400 ms ({}). \"added\" subtracts the \
         loop that only reads the same inputs.\n\n\
         | record | CPU | added | wall |\n|---|---|---|---|\n",
        support::machine()
    );
    for v in &m {
        table.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            v.label,
            fmt_ns(v.cpu_ns),
            fmt_ns(v.cpu_ns - base),
            fmt_ns(v.wall_ns)
        ));
    }
    table.push_str(&format!(
        "| request, 2 threads on one route (per record, per thread) | {} | {} | |\n",
        fmt_ns(contended),
        fmt_ns(contended - base)
    ));
    support::report("In-process view: cost per record", &table);

    if std::env::var("WINGSPAN_BENCH_CALLGRIND").is_ok_and(|v| v == "1") {
        callgrind_table();
    }
}

/// Two threads recording on the same route: the shared counters' cache
/// lines bounce between cores, the worst case of a lock-free record.
fn two_threads(stats: &Stats, d: &[Duration]) -> f64 {
    let route = stats.route("GET", "/contended", RouteClass::Standard);
    let trace = TraceId::from_bytes([9; 16]);
    let mut per = Vec::new();
    for _ in 0..5 {
        let results: Vec<f64> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    let route = route.clone();
                    s.spawn(move || {
                        let t0 = support::thread_cpu_ns();
                        for i in 0..ITERS as usize {
                            route.record(200, black_box(d[i & 4095]), trace);
                        }
                        (support::thread_cpu_ns() - t0) as f64 / ITERS as f64
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().expect("thread")).collect()
        });
        per.extend(results);
    }
    per.sort_by(f64::total_cmp);
    per[per.len() / 2]
}

/// Instructions per record, counted by callgrind in `drive` only.
fn callgrind_table() {
    const N: u64 = 100_000;
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("wingspan-cg-stats-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let mut rows = Vec::new();
    for (i, label) in KINDS.iter().enumerate() {
        let out = dir.join(format!("cg.{i}"));
        let status = std::process::Command::new("valgrind")
            .arg("--tool=callgrind")
            .arg("--toggle-collect=stats::drive")
            .arg(format!("--callgrind-out-file={}", out.display()))
            .arg(&exe)
            .env("WINGSPAN_BENCH_ONLY", label)
            .env("WINGSPAN_BENCH_ITERS", N.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!("valgrind unavailable or failed; no instruction counts");
            return;
        }
        let total = std::fs::read_to_string(&out)
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("totals: "))
                    .and_then(|v| v.trim().parse::<u64>().ok())
            })
            .unwrap_or(0);
        rows.push((*label, total as f64 / N as f64));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let base = rows.first().map_or(0.0, |r| r.1);
    let mut table = format!(
        "Instructions per record (callgrind, {N} records per kind, counted inside the \
         recording loop only). Deterministic: the machine's load does not move them.\n\n\
         | record | instructions | added vs loop |\n|---|---|---|\n"
    );
    for (label, n) in &rows {
        table.push_str(&format!("| {label} | {n:.1} | {:+.1} |\n", n - base));
    }
    support::report("In-process view: instructions per record", &table);
}
