//! `wingspan-report`: the weekly performance report of a wingspan service,
//! computed from any Prometheus-compatible HTTP API (`cargo install wingspan-report`;
//! in this repository, `make report`).
//!
//! Exit codes: 0 the report was written; 1 usage or configuration error;
//! 2 Prometheus unreachable or a query failed; 3 figures over their
//! thresholds, with `--fail-on-findings`.
//!
//! A crate of its own, not a library module: its dependencies (clap,
//! plotters, pulldown-cmark) stay out of services that use the library, and
//! the test drives the built binary the way cron or CI would.

mod args;
mod chart;
mod collect;
mod fmt;
mod html;
mod markdown;
mod model;
mod prom;
mod recommend;
mod sections;
mod thresholds;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use args::{ArgsError, Format, Options};
use collect::{utc, Ctx};
use model::{Report, Window};
use prom::{Prom, PromError};

const EXIT_USAGE: u8 = 1;
const EXIT_PROMETHEUS: u8 = 2;
const EXIT_FINDINGS: u8 = 3;

fn main() -> ExitCode {
    let options = match args::parse(std::env::args(), |k| std::env::var(k).ok()) {
        Ok(o) => o,
        Err(ArgsError::Display(e)) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(ArgsError::Usage(m)) => {
            eprintln!("wingspan-report: {m}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match run(&options) {
        Ok(report) => {
            if options.fail_on_findings && !report.findings.is_empty() {
                eprintln!(
                    "wingspan-report: {} finding(s) over their thresholds",
                    report.findings.len()
                );
                ExitCode::from(EXIT_FINDINGS)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(Failure::Usage(m)) => {
            eprintln!("wingspan-report: {m}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(Failure::Prometheus(e)) => {
            eprintln!("wingspan-report: {e}");
            ExitCode::from(EXIT_PROMETHEUS)
        }
    }
}

enum Failure {
    Usage(String),
    Prometheus(PromError),
}

impl From<PromError> for Failure {
    fn from(e: PromError) -> Failure {
        Failure::Prometheus(e)
    }
}

fn run(o: &Options) -> Result<Report, Failure> {
    let thresholds =
        thresholds::load(o.thresholds.as_deref(), o.regression_ratio).map_err(Failure::Usage)?;
    let prom = Prom::new(&o.prom_url, o.auth.clone(), o.timeout).map_err(Failure::Usage)?;
    let secs = o.window.as_secs_f64();
    let ctx = Ctx {
        prom: &prom,
        end: o.end,
        secs,
        selector: o.selector.clone(),
        thresholds: thresholds.clone(),
    };
    let mut report = Report {
        generator: format!("wingspan-report {}", env!("CARGO_PKG_VERSION")),
        window: Window {
            start: o.end - secs,
            end: o.end,
            previous_start: o.end - 2.0 * secs,
            seconds: secs,
            start_utc: utc(o.end - secs),
            end_utc: utc(o.end),
            previous_start_utc: utc(o.end - 2.0 * secs),
            selector: o.selector.clone(),
        },
        thresholds,
        latency: sections::latency::collect(&ctx)?,
        traffic: sections::traffic::collect(&ctx)?,
        pools: sections::pool::collect(&ctx)?,
        statements: sections::statements::collect(&ctx)?,
        caches: sections::cache::collect(&ctx)?,
        llm: sections::llm::collect(&ctx)?,
        alerts: sections::alerts::collect(&ctx)?,
        pipeline: sections::pipeline::collect(&ctx)?,
        recommendations: Vec::new(),
        findings: Vec::new(),
    };
    report.recommendations = recommend::recommendations(&report);
    report.findings = recommend::findings(&report);

    let json =
        serde_json::to_string_pretty(&report).map_err(|e| Failure::Usage(format!("JSON: {e}")))?;
    let md = markdown::render(&report);
    if let Some(p) = &o.json {
        write(p, "--json", &json)?;
    }
    if let Some(p) = &o.markdown {
        write(p, "--md", &md)?;
    }
    if let Some(p) = &o.html {
        write(p, "--html", &html::render(&report))?;
    }
    let stdout = match o.format {
        Format::Markdown => md,
        Format::Json => json + "\n",
        Format::None => String::new(),
    };
    // A reader that stops early (`| head`) is not an error; print! would panic.
    let mut out = std::io::stdout().lock();
    match out.write_all(stdout.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(Failure::Usage(format!("standard output: {e}")))
        }
        _ => {}
    }
    Ok(report)
}

fn write(path: &Path, option: &str, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text)
        .map_err(|e| Failure::Usage(format!("{option} = {}: {e}", path.display())))
}
