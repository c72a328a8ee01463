//! Bench helpers shared by every bench: thread-CPU time, a criterion
//! measurement of it, alternating side-by-side runs and the report writer.
//!
//! Thread CPU time (`CLOCK_THREAD_CPUTIME_ID`) is the figure BENCHMARKS.md
//! quotes: on a shared 2-core box wall-clock medians drift by up to 20 %,
//! the request thread's CPU time by well under 1 %. Wall time is reported
//! beside it.

// Each bench uses a different part of this API.
#![allow(dead_code)]

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::Throughput;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// An exporter of all three signals that drops what it gets: the benches
/// measure the instrumentation and the batch processors, not a transport.
#[derive(Debug, Default, Clone, Copy)]
pub struct Noop;

impl SpanExporter for Noop {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        drop(batch);
        std::future::ready(Ok(()))
    }
}

impl PushMetricExporter for Noop {
    fn export(
        &self,
        _metrics: &ResourceMetrics,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        std::future::ready(Ok(()))
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
    fn export(
        &self,
        _batch: LogBatch<'_>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        std::future::ready(Ok(()))
    }
}

/// CPU time consumed by the calling thread, in ns.
pub fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant
    // every Linux kernel since 2.6.12 supports.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// A criterion [`Measurement`] of the bench thread's CPU time, in ns.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadCpu;

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }

    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().saturating_sub(start)
    }

    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }

    fn zero(&self) -> u64 {
        0
    }

    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical < 1e3 {
            (1.0, "ns cpu")
        } else if typical < 1e6 {
            (1e-3, "µs cpu")
        } else if typical < 1e9 {
            (1e-6, "ms cpu")
        } else {
            (1e-9, "s cpu")
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }

    fn scale_throughputs(
        &self,
        _typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let n = match throughput {
            Throughput::Elements(n)
            | Throughput::Bytes(n)
            | Throughput::BytesDecimal(n)
            | Throughput::Bits(n) => *n as f64,
        };
        values.iter_mut().for_each(|v| *v = n * 1e9 / *v);
        "elem/s cpu"
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns cpu"
    }
}

/// Per-operation medians of two alternating measurements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Paired {
    /// A's thread-CPU median, ns per operation.
    pub a_cpu_ns_median: f64,
    /// B's thread-CPU median, ns per operation.
    pub b_cpu_ns_median: f64,
    /// A's wall-clock median, ns per operation.
    pub a_wall_ns_median: f64,
    /// B's wall-clock median, ns per operation.
    pub b_wall_ns_median: f64,
}

impl Paired {
    /// B's added CPU over A, ns per operation.
    pub fn added_cpu_ns(&self) -> f64 {
        self.b_cpu_ns_median - self.a_cpu_ns_median
    }
}

/// Per-operation medians of one variant of an [`alternating`] run.
#[derive(Debug, Clone, PartialEq)]
pub struct Medians {
    /// The variant's label.
    pub label: String,
    /// Thread-CPU median, ns per operation.
    pub cpu_ns: f64,
    /// Wall-clock median, ns per operation.
    pub wall_ns: f64,
}

/// The Markdown table of an [`alternating`] run against its first variant
/// (the baseline): CPU, added CPU, CPU ratio and wall time per `per` (`GET`,
/// `call`).
pub fn added_table(m: &[Medians], per: &str) -> String {
    let mut table = format!(
        "| variant | thread CPU / {per} | added CPU | CPU ratio | wall / {per} |\n|---|---|---|---|---|\n"
    );
    let Some(base) = m.first() else {
        return table;
    };
    for v in m {
        table.push_str(&format!(
            "| {} | {} | {} | {:.3} | {} |\n",
            v.label,
            fmt_ns(v.cpu_ns),
            fmt_ns(v.cpu_ns - base.cpu_ns),
            v.cpu_ns / base.cpu_ns,
            fmt_ns(v.wall_ns),
        ));
    }
    table
}

/// One variant of an [`alternating`] run: a label and a closure running the
/// operation `n` times.
pub struct Variant<'a> {
    /// Shown in reports.
    pub label: String,
    /// Runs the operation the given number of times.
    pub run: Box<dyn FnMut(u64) + 'a>,
}

impl<'a> Variant<'a> {
    /// A variant from a label and a closure running the operation `n` times.
    pub fn new(label: impl Into<String>, run: impl FnMut(u64) + 'a) -> Self {
        Self {
            label: label.into(),
            run: Box::new(run),
        }
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Runs every variant `iters_per_round` times per round, for `rounds`
/// rounds, alternating the variants round by round (so drift hits all of
/// them alike), after one warm-up round each. Returns per-operation medians
/// of thread CPU and wall time, in the variants' order.
pub fn alternating(
    variants: &mut [Variant<'_>],
    iters_per_round: u64,
    rounds: usize,
) -> Vec<Medians> {
    let mut cpu = vec![Vec::with_capacity(rounds); variants.len()];
    let mut wall = vec![Vec::with_capacity(rounds); variants.len()];
    for v in variants.iter_mut() {
        (v.run)(iters_per_round);
    }
    for round in 0..rounds {
        // Rotate the starting variant too, so none always runs first.
        for k in 0..variants.len() {
            let i = (k + round) % variants.len();
            let c0 = thread_cpu_ns();
            let w0 = Instant::now();
            (variants[i].run)(iters_per_round);
            let w = w0.elapsed();
            let c = thread_cpu_ns() - c0;
            cpu[i].push(c as f64 / iters_per_round as f64);
            wall[i].push(w.as_nanos() as f64 / iters_per_round as f64);
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

/// A and B side by side: alternating rounds of `iters_per_round`
/// operations each, `rounds` rounds, per-operation medians.
pub fn paired(
    label_a: &str,
    mut f_a: impl FnMut(),
    label_b: &str,
    mut f_b: impl FnMut(),
    iters_per_round: u64,
    rounds: usize,
) -> Paired {
    let mut variants = [
        Variant::new(label_a, |n| (0..n).for_each(|_| f_a())),
        Variant::new(label_b, |n| (0..n).for_each(|_| f_b())),
    ];
    let m = alternating(&mut variants, iters_per_round, rounds);
    Paired {
        a_cpu_ns_median: m[0].cpu_ns,
        b_cpu_ns_median: m[1].cpu_ns,
        a_wall_ns_median: m[0].wall_ns,
        b_wall_ns_median: m[1].wall_ns,
    }
}

/// The file [`report`] appends to: `$WINGSPAN_BENCH_OUT`, else
/// `target/benchmarks.md` under the crate.
pub fn report_path() -> PathBuf {
    std::env::var_os("WINGSPAN_BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/benchmarks.md"))
}

/// Appends a section (a `##` title, then `markdown`) to [`report_path`],
/// and prints it.
pub fn report(section_title: &str, markdown: &str) {
    let text = format!("## {section_title}\n\n{}\n\n", markdown.trim_end());
    print!("{text}");
    let path = report_path();
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    {
        Ok(mut f) => {
            if let Err(e) = f.write_all(text.as_bytes()) {
                eprintln!("cannot write {}: {e}", path.display());
            }
        }
        Err(e) => eprintln!("cannot open {}: {e}", path.display()),
    }
}

/// One line describing the machine: CPU model, cores, kernel.
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
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, Linux {kernel}")
}

/// Formats ns with one decimal, in µs when large.
pub fn fmt_ns(ns: f64) -> String {
    if ns.abs() >= 1000.0 {
        format!("{:.2} µs", ns / 1000.0)
    } else {
        format!("{ns:.0} ns")
    }
}

/// A short criterion configuration for side benches: the paired medians are
/// what BENCHMARKS.md quotes, criterion's runs are the cross-check.
pub fn quick_criterion() -> criterion::Criterion<ThreadCpu> {
    criterion::Criterion::default()
        .with_measurement(ThreadCpu)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .without_plots()
        .configure_from_args()
}

/// Profiling mode: with `WINGSPAN_BENCH_ONLY=<label>` runs only that variant
/// (an exact label with `WINGSPAN_BENCH_EXACT`, else every label containing
/// it) `WINGSPAN_BENCH_ITERS` times (default 100 000), prints its CPU per
/// operation, and returns true: the bench then exits without a report. This
/// is how [`callgrind_counts`] re-runs a bench, and how to profile one
/// variant by hand (`valgrind --tool=callgrind`, `perf record`).
pub fn run_only(variants: &mut [Variant<'_>]) -> bool {
    let Ok(only) = std::env::var("WINGSPAN_BENCH_ONLY") else {
        return false;
    };
    let n = std::env::var("WINGSPAN_BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let exact = std::env::var_os("WINGSPAN_BENCH_EXACT").is_some();
    for v in variants.iter_mut().filter(|v| {
        if exact {
            v.label == only
        } else {
            v.label.contains(&only)
        }
    }) {
        let t0 = thread_cpu_ns();
        (v.run)(n);
        let per = (thread_cpu_ns() - t0) as f64 / n as f64;
        println!("{}: {} thread CPU per operation", v.label, fmt_ns(per));
    }
    true
}

/// Whether `make bench` asked for instruction counts
/// (`WINGSPAN_BENCH_CALLGRIND`, set by scripts/bench.sh when valgrind is
/// installed).
pub fn callgrind_wanted() -> bool {
    std::env::var_os("WINGSPAN_BENCH_CALLGRIND").is_some()
}

/// Instructions per operation on the calling thread, counted by callgrind:
/// independent of the machine's load, so parts of ~100 ns that timings
/// cannot separate are exact. Re-runs this bench binary under valgrind once
/// per label in [`run_only`] mode for `n` operations, counting only inside
/// `toggle` (the function the variants' loop runs in, e.g. `http::drive`),
/// on the first thread (the bench thread; export threads are not counted).
/// `None` when valgrind is missing or fails.
pub fn callgrind_counts(toggle: &str, labels: &[String], n: u64) -> Option<Vec<(String, u64)>> {
    let exe = std::env::current_exe().ok()?;
    let dir = std::env::temp_dir().join(format!("wingspan-cg-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let mut rows = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        let out = dir.join(format!("cg.{i}"));
        let status = std::process::Command::new("valgrind")
            .arg("--tool=callgrind")
            .arg("--separate-threads=yes")
            .arg(format!("--toggle-collect={toggle}"))
            .arg(format!("--callgrind-out-file={}", out.display()))
            .arg(&exe)
            .env("WINGSPAN_BENCH_ONLY", label)
            .env("WINGSPAN_BENCH_EXACT", "1")
            .env("WINGSPAN_BENCH_ITERS", n.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!("valgrind unavailable or failed on {label:?}; no instruction counts");
            let _ = std::fs::remove_dir_all(&dir);
            return None;
        }
        let total = std::fs::read_to_string(dir.join(format!("cg.{i}-01")))
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("totals: "))
                    .and_then(|v| v.trim().parse::<u64>().ok())
            })
            .unwrap_or(0);
        rows.push((label.clone(), total / n));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Some(rows)
}

/// The Markdown table of [`callgrind_counts`] rows against the first row.
pub fn instructions_table(rows: &[(String, u64)]) -> String {
    let base = rows.first().map_or(0, |r| r.1);
    let mut table = String::from("| variant | instructions | added vs first |\n|---|---|---|\n");
    for (label, n) in rows {
        table.push_str(&format!(
            "| {label} | {n} | {:+} |\n",
            *n as i64 - base as i64
        ));
    }
    table
}
