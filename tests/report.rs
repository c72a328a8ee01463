//! `wingspan-report` against a real Prometheus: two weeks of generated
//! series of known values are backfilled (report/prometheus.rs), the built
//! binary reports on them, and its figures are checked against the values
//! generated (report/series.rs); its exit codes, credentials and
//! sections without data; the HTML report in headless Chromium
//! (docs/report.png with `WINGSPAN_UPDATE_SCREENSHOTS=1`); and label values
//! that are Markdown or HTML (report/hostile.rs).

mod hostile;
mod prometheus;
mod series;

use std::path::PathBuf;

use serde_json::Value;

use crate::support::{self, Browser};
use prometheus::{
    bearer_gateway, out_dir, report, run_report, stderr, Prometheus, Series, PASSWORD, TOKEN,
};
use series::{known, STEPS_PER_WEEK};

/// The weekly report of job `api` (`--fail-on-findings`): its JSON,
/// Markdown and HTML, and its exit code.
struct Weekly {
    prom: Prometheus,
    json: Value,
    md: String,
    html: PathBuf,
    code: Option<i32>,
    dir: PathBuf,
}

impl Weekly {
    async fn run() -> Weekly {
        let prom = Prometheus::serving(Series::Weekly).await;
        let dir = out_dir();
        let (json, html) = (dir.join("report.json"), dir.join("report.html"));
        let out = report(&[
            "--prom-url",
            &prom.url,
            "--end",
            &prom.end(),
            "--selector",
            r#"job="api""#,
            "--json",
            json.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
            "--fail-on-findings",
        ]);
        let md = String::from_utf8_lossy(&out.stdout).into_owned();
        let json = std::fs::read_to_string(&json)
            .unwrap_or_else(|e| panic!("no JSON report ({e}): {}\n{md}", stderr(&out)));
        Weekly {
            prom,
            json: serde_json::from_str(&json).unwrap(),
            md,
            html,
            code: out.status.code(),
            dir,
        }
    }
}

impl Drop for Weekly {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// `got` is `want` (to a millionth), or the failure says `what`.
fn close(got: &Value, want: f64, what: &str) {
    let g = num(got);
    assert!(
        (g - want).abs() <= want.abs() * 1e-6 + 1e-9,
        "{what}: report says {g}, generated {want}"
    );
}

/// The entry of `list` whose `key` is `value`.
fn find<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .find(|v| v[key] == value)
        .unwrap_or_else(|| panic!("no {key} = {value} in {list}"))
}

/// A route's P95, its week-over-week change and its days; LLM routes stay
/// out of the latency section.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_p95_and_its_change_are_the_generated_figures() {
    let w = Weekly::run().await;
    let routes = &w.json["latency"]["data"]["routes"];
    let users = find(routes, "route", "/api/users");
    let (now, before) = (known::USERS_P95_CURRENT, known::USERS_P95_PREVIOUS);
    close(&users["p95"]["current"], now, "/api/users P95");
    close(&users["p95"]["previous"], before, "/api/users P95 before");
    close(&users["p95"]["change"], now / before - 1.0, "P95 change");
    assert_eq!(users["regressed"], true);
    let daily = users["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 7);
    for d in daily {
        close(&d["p95"], now, "daily P95");
    }
    assert!(
        w.md.contains("| /api/users | 67.2k | 50.0 ms | 175.0 ms | 100.0 ms | +75.0 % |"),
        "{}",
        w.md
    );
    assert!(!routes.to_string().contains("/api/coach"));
}

/// Requests, the error ratio (2 of 162 a step) and the availability budget
/// it spent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_and_the_budget_they_spent_are_the_generated_figures() {
    let w = Weekly::run().await;
    let t = &w.json["traffic"]["data"];
    close(
        &t["requests"]["current"],
        162.0 * STEPS_PER_WEEK,
        "requests",
    );
    close(&t["error_ratio"]["current"], 2.0 / 162.0, "error ratio");
    close(
        &t["availability_budget_spent"]["current"],
        2.0 / 162.0 / 0.005,
        "budget spent",
    );
}

/// The cost of a model and task, its change, its cost per call, and the
/// cost per LLM request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_costs_are_the_generated_figures() {
    let w = Weekly::run().await;
    let sonnet = &known::LLM[0];
    let per_call = sonnet.usd_per_call();
    let rows = &w.json["llm"]["data"]["by_model_task"];
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["model"] == sonnet.model && v["task"] == sonnet.task)
        .unwrap_or_else(|| panic!("{rows}"));
    close(
        &row["cost_usd"]["current"],
        sonnet.calls_current * per_call * STEPS_PER_WEEK,
        "sonnet coach cost",
    );
    close(
        &row["cost_usd"]["change"],
        sonnet.calls_current / sonnet.calls_previous - 1.0,
        "sonnet coach cost change",
    );
    close(
        &row["cost_per_call_usd"]["current"],
        per_call,
        "cost per call",
    );
    let total: f64 = known::LLM
        .iter()
        .map(|m| m.calls_current * m.usd_per_call())
        .sum();
    close(
        &w.json["llm"]["data"]["cost_per_llm_request_usd"]["current"],
        total / known::COACH_REQUESTS,
        "cost per LLM request",
    );
}

/// An alert's episodes: two (2 h and 30 min) this week, 1 h the week before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_firing_times_are_the_generated_episodes() {
    let w = Weekly::run().await;
    let alert = find(
        &w.json["alerts"]["data"],
        "alertname",
        "WingspanApiLatencyHigh",
    );
    close(&alert["times_fired"]["current"], 2.0, "times fired");
    close(
        &alert["firing_seconds"]["current"],
        9000.0,
        "firing seconds",
    );
    close(
        &alert["firing_seconds"]["previous"],
        3600.0,
        "firing seconds before",
    );
    close(&alert["longest_seconds"], 7200.0, "longest episode");
    close(
        &alert["episodes"][0]["start"],
        (w.prom.plan.end - known::ALERT_CURRENT[0].0) as f64,
        "first fired",
    );
}

/// The pool's peak utilization and timeouts; its size recommended from the
/// busiest hour: 100 acquires/s × 50 ms = 5 in use → 9 (5 + 1.645·√5).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_size_is_recommended_from_the_busiest_hour() {
    let w = Weekly::run().await;
    let pool = find(&w.json["pools"]["data"], "pool", "main");
    close(
        &pool["peak_utilization"]["current"],
        known::USED_BUSY_CURRENT / known::POOL_MAX,
        "peak utilization",
    );
    close(
        &pool["peak_utilization"]["previous"],
        known::USED_BUSY_PREVIOUS / known::POOL_MAX,
        "peak utilization before",
    );
    close(
        &pool["peak_hour"]["acquires_per_second"],
        known::ACQUIRES_BUSY_CURRENT,
        "peak acquires/s",
    );
    close(
        &pool["peak_hour"]["mean_hold_seconds"],
        known::HOLD_SECONDS,
        "hold time",
    );
    close(
        &pool["timeouts"]["current"],
        12.0,
        "timeouts (one per busy step)",
    );
    let rec = find(&w.json["recommendations"], "kind", "pool_size");
    let figure = |name: &str| num(&rec["figures"][name]);
    close(
        &Value::from(figure("connections_in_use")),
        5.0,
        "connections in use",
    );
    assert_eq!(figure("recommended_size"), 9.0, "{rec}");
    assert_eq!(figure("current_max"), 10.0);
}

/// Each recommendation names what its figures point at, every finding of
/// the week is listed, and `--fail-on-findings` exits 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_and_recommendations_name_their_subjects_and_fail_the_run() {
    let w = Weekly::run().await;
    assert_eq!(w.code, Some(3), "findings exit 3:\n{}", w.md);
    let recs = &w.json["recommendations"];
    let cache = find(recs, "kind", "cache_hit_rate");
    assert_eq!(cache["subject"], "sessions");
    assert!(
        cache["text"].as_str().unwrap().contains("db 0 300 s"),
        "{cache}"
    );
    assert_eq!(
        find(recs, "kind", "statement_growth")["subject"],
        "SELECT orders"
    );
    assert_eq!(
        find(recs, "kind", "route_latency")["subject"],
        "/api/orders"
    );
    let choice = find(recs, "kind", "model_choice");
    assert_eq!(choice["subject"], "coach");
    assert!(
        choice["text"]
            .as_str()
            .unwrap()
            .contains("claude-haiku-4-5"),
        "{choice}"
    );
    close(
        &w.json["pipeline"]["data"]["losses"][0]["count"]["current"],
        STEPS_PER_WEEK,
        "spans dropped",
    );
    let kinds: Vec<&str> = w.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    for k in [
        "route_regressed",
        "availability_budget_spent",
        "pool_utilization",
        "pool_timeouts",
        "cache_hit_ratio",
        "alert_fired",
        "telemetry_loss",
    ] {
        assert!(kinds.contains(&k), "no {k} finding in {kinds:?}");
    }
}

/// A service without Redis, pool or LLM (job `bare`): those sections hold
/// a note and no data, in the JSON and the Markdown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sections_without_series_say_so() {
    let prom = Prometheus::serving(Series::Weekly).await;
    let bare = |format: &str| {
        report(&[
            "--prom-url",
            &prom.url,
            "--end",
            &prom.end(),
            "--selector",
            r#"job="bare""#,
            "--format",
            format,
        ])
    };
    let out = bare("json");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let b: Value = serde_json::from_slice(&out.stdout).unwrap();
    for section in ["caches", "llm", "pools", "alerts", "pipeline", "statements"] {
        assert!(b[section]["data"].is_null(), "{section}: {}", b[section]);
        assert!(
            b[section]["note"]
                .as_str()
                .is_some_and(|n| n.starts_with("No")),
            "{section}: {}",
            b[section]
        );
    }
    let health = find(&b["latency"]["data"]["routes"], "route", "/health");
    close(
        &health["requests"]["current"],
        10.0 * STEPS_PER_WEEK,
        "bare requests",
    );
    let md = String::from_utf8_lossy(&bare("md").stdout).into_owned();
    assert!(
        md.contains("_No wingspan_cache_requests_total series"),
        "{md}"
    );
}

/// Bearer auth through a gateway (as Mimir or Grafana Cloud put one) reads
/// the same figures; a wrong token exits 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_auth_through_a_gateway_reads_the_same_figures() {
    let prom = Prometheus::serving(Series::Weekly).await;
    let gateway = bearer_gateway(prom.url.clone()).await;
    let end = prom.end();
    // The gateway answers on this runtime while the report blocks.
    let (right, wrong) = tokio::task::spawn_blocking(move || {
        let args = [
            "--prom-url",
            &gateway,
            "--end",
            &end,
            "--selector",
            r#"job="api""#,
            "--format",
            "json",
        ];
        (
            run_report(&args, &[("PROM_BEARER_TOKEN", TOKEN)]),
            run_report(&args, &[("PROM_BEARER_TOKEN", "wrong")]),
        )
    })
    .await
    .unwrap();
    assert_eq!(right.status.code(), Some(0), "{}", stderr(&right));
    let g: Value = serde_json::from_slice(&right.stdout).unwrap();
    let users = find(&g["latency"]["data"]["routes"], "route", "/api/users");
    close(
        &users["p95"]["current"],
        known::USERS_P95_CURRENT,
        "P95 through the gateway",
    );
    assert_eq!(wrong.status.code(), Some(2));
    assert!(stderr(&wrong).contains("HTTP 401"), "{}", stderr(&wrong));
}

/// Without credentials Prometheus answers 401: exit 2, and the password
/// (which this run does not have) appears nowhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_exit_2() {
    let prom = Prometheus::serving(Series::Empty).await;
    let anonymous = run_report(&["--prom-url", &prom.url, "--format", "none"], &[]);
    assert_eq!(anonymous.status.code(), Some(2));
    let said = stderr(&anonymous);
    assert!(said.contains("HTTP 401"), "{said}");
    assert!(!said.contains(PASSWORD));
}

/// A selector Prometheus rejects: exit 2, saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_query_exits_2() {
    let prom = Prometheus::serving(Series::Empty).await;
    let rejected = report(&[
        "--prom-url",
        &prom.url,
        "--selector",
        "job=~\"(\"",
        "--format",
        "none",
    ]);
    assert_eq!(rejected.status.code(), Some(2));
    assert!(
        stderr(&rejected).contains("rejected"),
        "{}",
        stderr(&rejected)
    );
}

/// Prometheus unreachable: exit 2, naming the URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_prometheus_exits_2_naming_it() {
    let dead = support::DeadPort::new();
    let down = report(&["--prom-url", &dead.http(), "--format", "none"]);
    assert_eq!(down.status.code(), Some(2));
    assert!(stderr(&down).contains(&dead.http()), "{}", stderr(&down));
}

/// A bad option: exit 1, naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_option_exits_1_naming_it() {
    let bad = report(&["--window", "a while"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("--window"), "{}", stderr(&bad));
}

/// The HTML report, offline, in headless Chromium: the three charts drawn,
/// the tables, a figure; no reference to another origin (plotters' SVG
/// namespace is a name, not a fetch).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_report_draws_its_charts_offline_in_the_browser() {
    let w = Weekly::run().await;
    let html = std::fs::read_to_string(&w.html).unwrap();
    let urls = html.matches("http:").count() + html.matches("https:").count();
    assert_eq!(
        urls + html.matches("//").count(),
        2 * html.matches("http://www.w3.org/2000/svg").count(),
        "the page refers to another origin"
    );
    let browser = Browser::start().await;
    browser.size(1200, 900).await;
    browser.goto(&format!("file://{}", w.html.display())).await;
    let charts = browser.exec("return Array.from(document.querySelectorAll('[data-chart] svg')).map(s => [s.parentElement.dataset.chart, s.querySelectorAll('path,polyline,rect,line').length, s.getBoundingClientRect().width])").await;
    let charts = charts.as_array().unwrap();
    assert_eq!(charts.len(), 3, "{charts:?}");
    for c in charts {
        assert!(
            num(&c[1]) >= 5.0 && num(&c[2]) > 300.0,
            "chart not drawn: {c}"
        );
    }
    let tables = browser
        .exec("return document.querySelectorAll('table').length")
        .await;
    assert!(num(&tables) >= 8.0, "{tables}");
    let p95_cell = browser.exec("return Array.from(document.querySelectorAll('td')).some(td => td.textContent === '175.0 ms')").await;
    assert_eq!(p95_cell, Value::Bool(true));
    browser.screenshot(1200, "report.png").await;
    // The README's sample report, beside its screenshot.
    if std::env::var_os("WINGSPAN_UPDATE_SCREENSHOTS").is_some() {
        let docs = support::paths::workspace_root().join("docs");
        std::fs::write(docs.join("report-sample.md"), &w.md).unwrap();
    }
    browser.close().await;
}
