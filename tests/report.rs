//! `wingspan-report` against a real Prometheus: two weeks of generated
//! series of known values are backfilled with `promtool tsdb
//! create-blocks-from openmetrics`, the Debian `prometheus` serves them, the
//! built binary reports on them, and its figures are checked against the
//! values generated. The HTML report is opened in headless Chromium and
//! screenshotted (docs/report.png with `WINGSPAN_UPDATE_SCREENSHOTS=1`).

mod series;

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{self, Browser};
use series::{known, Plan, STEPS_PER_WEEK};

const REPORT: &str = env!("CARGO_BIN_EXE_wingspan-report");

/// Prometheus asks for basic auth (its `--web.config.file`), so every query
/// of the report proves the credentials travel. The hash is bcrypt at cost
/// 4 of PASSWORD: a test fixture, not a secret.
const USER: &str = "report";
const PASSWORD: &str = "wingspan-report-test";
const PASSWORD_BCRYPT: &str = "$2b$04$pw/jbHRkBw279oDjjRrzweAxv6gf6dQOE0vw2wK5apyrSTmATlO/y";

/// A Prometheus serving a backfilled TSDB; killed on drop.
struct Prometheus {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn tool(name: &str) -> PathBuf {
    // No silent skip: CI (.ci/run) installs the Debian package.
    let found = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|f| f.is_file())
        })
        .unwrap_or_default();
    found.unwrap_or_else(|| {
        panic!("`{name}` is not on PATH: the report test needs Debian's prometheus package (apt-get install prometheus)")
    })
}

impl Prometheus {
    fn backfilled(plan: &Plan) -> Prometheus {
        let dir = std::env::temp_dir().join(support::unique("wingspan-report-prom"));
        let data = dir.join("data");
        std::fs::create_dir_all(&data).unwrap();
        let input = dir.join("series.om");
        std::fs::write(&input, plan.openmetrics()).unwrap();
        // One block for the two weeks (a hidden promtool flag): the default
        // 2-hour blocks would re-read the input 168 times.
        let out = Command::new(tool("promtool"))
            .args([
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                "--quiet",
                "--max-block-duration=768h",
            ])
            .arg(&input)
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let config = dir.join("prometheus.yml");
        std::fs::write(&config, "global:\n  scrape_interval: 1m\n").unwrap();
        let web = dir.join("web.yml");
        std::fs::write(
            &web,
            format!("basic_auth_users:\n  {USER}: '{PASSWORD_BCRYPT}'\n"),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(tool("prometheus"))
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg("--storage.tsdb.retention.time=60d")
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg(format!("--web.config.file={}", web.display()))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.join("prometheus.log")).unwrap(),
            ))
            .spawn()
            .unwrap();
        Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        }
    }

    async fn ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let http = reqwest::Client::new();
        while !http
            .get(format!("{}/-/ready", self.url))
            .basic_auth(USER, Some(PASSWORD))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(
                Instant::now() < deadline,
                "Prometheus not ready: {}",
                std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(support::unique("report"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The report with only `env` of its credential variables set.
fn run_report(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(REPORT);
    c.args(args);
    for k in [
        "PROM_URL",
        "PROM_USER",
        "PROM_PASSWORD",
        "PROM_BEARER_TOKEN",
    ] {
        c.env_remove(k);
    }
    c.envs(env.iter().copied()).output().unwrap()
}

/// The report with the test Prometheus's basic auth credentials.
fn report(args: &[&str]) -> Output {
    run_report(args, &[("PROM_USER", USER), ("PROM_PASSWORD", PASSWORD)])
}

const TOKEN: &str = "wingspan-report-test-token";

/// An auth gateway in front of Prometheus, as Mimir or Grafana Cloud put
/// one: a request with `Authorization: Bearer TOKEN` is forwarded (with
/// Prometheus's own basic auth), any other gets 401.
async fn bearer_gateway(prom_url: String) -> String {
    use axum::http::{header, HeaderMap, StatusCode, Uri};
    use axum::response::IntoResponse;
    let http = reqwest::Client::new();
    let forward = move |uri: Uri, headers: HeaderMap, body: axum::body::Bytes| {
        let (http, prom_url) = (http.clone(), prom_url.clone());
        async move {
            let bearer = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            if bearer != Some(format!("Bearer {TOKEN}").as_str()) {
                return (StatusCode::UNAUTHORIZED, "bearer token required").into_response();
            }
            let upstream = http
                .post(format!("{prom_url}{uri}"))
                .basic_auth(USER, Some(PASSWORD))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = StatusCode::from_u16(upstream.status().as_u16()).unwrap();
            (status, upstream.bytes().await.unwrap()).into_response()
        }
    };
    let app = axum::Router::new().fallback(forward);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(got: &Value, want: f64, what: &str) {
    let g = num(got);
    assert!(
        (g - want).abs() <= want.abs() * 1e-6 + 1e-9,
        "{what}: report says {g}, generated {want}"
    );
}

fn find<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .find(|v| v[key] == value)
        .unwrap_or_else(|| panic!("no {key} = {value} in {list}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weekly_report_from_a_backfilled_prometheus_and_its_html_in_the_browser() {
    // reqwest is built without a default TLS provider (the crate picks ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let plan = Plan::new(3);
    let prom = tokio::task::spawn_blocking({
        let plan = Plan { end: plan.end };
        move || Prometheus::backfilled(&plan)
    })
    .await
    .unwrap();
    prom.ready().await;
    let dir = out_dir();
    let (json_path, html_path) = (dir.join("report.json"), dir.join("report.html"));
    let end = plan.end.to_string();
    let out = report(&[
        "--prom-url",
        &prom.url,
        "--end",
        &end,
        "--selector",
        r#"job="api""#,
        "--json",
        json_path.to_str().unwrap(),
        "--html",
        html_path.to_str().unwrap(),
        "--fail-on-findings",
    ]);
    let md = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(3),
        "findings exit 3: {}\n{md}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(dir.join("report.md"), &md).unwrap();
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();

    // A P95 and its week-over-week change.
    let users = find(&r["latency"]["data"]["routes"], "route", "/api/users");
    close(
        &users["p95"]["current"],
        known::USERS_P95_CURRENT,
        "/api/users P95",
    );
    close(
        &users["p95"]["previous"],
        known::USERS_P95_PREVIOUS,
        "/api/users P95 before",
    );
    close(
        &users["p95"]["change"],
        known::USERS_P95_CURRENT / known::USERS_P95_PREVIOUS - 1.0,
        "P95 change",
    );
    assert_eq!(users["regressed"], true);
    assert_eq!(users["daily"].as_array().unwrap().len(), 7);
    for d in users["daily"].as_array().unwrap() {
        close(&d["p95"], known::USERS_P95_CURRENT, "daily P95");
    }
    assert!(
        md.contains("| `/api/users` | 67.2k | 50.0 ms | 175.0 ms | 100.0 ms | +75.0 % |"),
        "{md}"
    );
    // LLM routes stay out of the latency section.
    assert!(!r["latency"]["data"]["routes"]
        .to_string()
        .contains("/api/coach"));

    // Errors: 2 of 162 requests a step, 1 of 161 before.
    let t = &r["traffic"]["data"];
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

    // A cost: the sonnet coach calls, and their change.
    let sonnet = &known::LLM[0];
    let (model, task, cur, prev) = (
        sonnet.model,
        sonnet.task,
        sonnet.calls_current,
        sonnet.calls_previous,
    );
    let per_call = sonnet.usd_per_call();
    let rows = &r["llm"]["data"]["by_model_task"];
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["model"] == model && v["task"] == task)
        .unwrap_or_else(|| panic!("{rows}"));
    close(
        &row["cost_usd"]["current"],
        cur * per_call * STEPS_PER_WEEK,
        "sonnet coach cost",
    );
    close(
        &row["cost_usd"]["change"],
        cur / prev - 1.0,
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
        &r["llm"]["data"]["cost_per_llm_request_usd"]["current"],
        total / known::COACH_REQUESTS,
        "cost per LLM request",
    );

    // An alert's firing time: two episodes (2 h and 30 min) this week, 1 h before.
    let alert = find(&r["alerts"]["data"], "alertname", "WingspanApiLatencyHigh");
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
        (plan.end - known::ALERT_CURRENT[0].0) as f64,
        "first fired",
    );

    // The pool: busiest hour 100 acquires/s × 50 ms = 5 in use → 9 (5 + 1.645·√5).
    let pool = find(&r["pools"]["data"], "pool", "main");
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
    let rec = find(&r["recommendations"], "kind", "pool_size");
    let figure = |name: &str| num(&rec["figures"][name]);
    close(
        &Value::from(figure("connections_in_use")),
        5.0,
        "connections in use",
    );
    assert_eq!(figure("recommended_size"), 9.0, "{rec}");
    assert_eq!(figure("current_max"), 10.0);

    // The other recommendations rest on their figures.
    let cache = find(&r["recommendations"], "kind", "cache_hit_rate");
    assert_eq!(cache["subject"], "sessions");
    assert!(
        cache["text"].as_str().unwrap().contains("db 0 300 s"),
        "{cache}"
    );
    assert_eq!(
        find(&r["recommendations"], "kind", "statement_growth")["subject"],
        "SELECT orders"
    );
    assert_eq!(
        find(&r["recommendations"], "kind", "route_latency")["subject"],
        "/api/orders"
    );
    let choice = find(&r["recommendations"], "kind", "model_choice");
    assert_eq!(choice["subject"], "coach");
    assert!(
        choice["text"]
            .as_str()
            .unwrap()
            .contains("claude-haiku-4-5"),
        "{choice}"
    );
    let pipeline = &r["pipeline"]["data"]["losses"][0];
    close(
        &pipeline["count"]["current"],
        STEPS_PER_WEEK,
        "spans dropped",
    );
    let kinds: Vec<&str> = r["findings"]
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

    // A service without Redis, pool or LLM: those sections say so.
    let bare = report(&[
        "--prom-url",
        &prom.url,
        "--end",
        &end,
        "--selector",
        r#"job="bare""#,
        "--format",
        "json",
    ]);
    assert_eq!(
        bare.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&bare.stderr)
    );
    let b: Value = serde_json::from_slice(&bare.stdout).unwrap();
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
    close(
        &find(&b["latency"]["data"]["routes"], "route", "/health")["requests"]["current"],
        10.0 * STEPS_PER_WEEK,
        "bare requests",
    );
    let bare_md = String::from_utf8_lossy(
        &report(&[
            "--prom-url",
            &prom.url,
            "--end",
            &end,
            "--selector",
            r#"job="bare""#,
        ])
        .stdout,
    )
    .into_owned();
    assert!(
        bare_md.contains("_No wingspan_cache_requests_total series"),
        "{bare_md}"
    );

    // Prometheus unreachable: exit 2, naming the URL; a bad option: exit 1.
    let closed = format!("http://127.0.0.1:{}", support::closed_port());
    let down = report(&["--prom-url", &closed, "--format", "none"]);
    assert_eq!(down.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&down.stderr).contains(&closed));
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
        String::from_utf8_lossy(&rejected.stderr).contains("rejected"),
        "{}",
        String::from_utf8_lossy(&rejected.stderr)
    );
    let anonymous = run_report(&["--prom-url", &prom.url, "--format", "none"], &[]);
    assert_eq!(anonymous.status.code(), Some(2));
    let said = String::from_utf8_lossy(&anonymous.stderr);
    assert!(said.contains("HTTP 401"), "{said}");
    assert!(!said.contains(PASSWORD));
    // Bearer auth, through a gateway: the same figures; a wrong token exits 2.
    let gateway = bearer_gateway(prom.url.clone()).await;
    let through = {
        let (gateway, end) = (gateway.clone(), end.clone());
        tokio::task::spawn_blocking(move || {
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
        .unwrap()
    };
    assert_eq!(
        through.0.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&through.0.stderr)
    );
    let g: Value = serde_json::from_slice(&through.0.stdout).unwrap();
    let users = find(&g["latency"]["data"]["routes"], "route", "/api/users");
    close(
        &users["p95"]["current"],
        known::USERS_P95_CURRENT,
        "P95 through the gateway",
    );
    assert_eq!(through.1.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&through.1.stderr).contains("HTTP 401"));
    let bad = report(&["--window", "a while"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--window"));
    drop(prom);

    // The HTML report, offline, in headless Chromium.
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(
        only_svg_namespaces(&html),
        "the page refers to another origin"
    );
    let browser = Browser::start().await;
    browser.size(1200, 900).await;
    browser
        .goto(&format!("file://{}", html_path.display()))
        .await;
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
        let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs");
        std::fs::write(docs.join("report-sample.md"), &md).unwrap();
    }
    browser.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// plotters writes `xmlns="http://www.w3.org/2000/svg"`: a namespace name, not a fetch.
fn only_svg_namespaces(html: &str) -> bool {
    html.matches("http").count() == html.matches("http://www.w3.org/2000/svg").count()
}
