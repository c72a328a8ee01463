//! `wingspan-report` against a real Prometheus: two weeks of generated
//! series of known values are backfilled with `promtool tsdb
//! create-blocks-from openmetrics`, the Debian `prometheus` serves them, the
//! built binary reports on them, and its figures are checked against the
//! values generated. The HTML report is opened in headless Chromium and
//! screenshotted (docs/report.png with `WINGSPAN_UPDATE_SCREENSHOTS=1`).

mod series;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{self, Browser};
use series::{known, Plan, DAY, HOSTILE, STEPS_PER_WEEK, WEEK};

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
    /// `openmetrics` (a Plan's series) backfilled into a fresh TSDB.
    fn backfilled(openmetrics: &str) -> Prometheus {
        let dir = std::env::temp_dir().join(support::unique("wingspan-report-prom"));
        let data = dir.join("data");
        std::fs::create_dir_all(&data).unwrap();
        let input = dir.join("series.om");
        std::fs::write(&input, openmetrics).unwrap();
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
    let mut c = Command::new(support::paths::require_binary("wingspan-report"));
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
    let plan = Plan::new(3, WEEK);
    let prom = tokio::task::spawn_blocking(move || Prometheus::backfilled(&plan.openmetrics()))
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
        md.contains("| /api/users | 67.2k | 50.0 ms | 175.0 ms | 100.0 ms | +75.0 % |"),
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

/// plotters writes `xmlns="http://www.w3.org/2000/svg"`: a namespace name,
/// not a fetch; no other URL (`http-equiv` is the CSP's meta tag).
fn only_svg_namespaces(html: &str) -> bool {
    html.matches("http:").count() + html.matches("https:").count() + html.matches("//").count()
        == 2 * html.matches("http://www.w3.org/2000/svg").count()
}

/// How the report shows a label value: as itself, a line break as `\n`
/// (a table row is one line).
fn shown(v: &str) -> String {
    v.replace('\n', r"\n")
}

/// `needle` in `html`, with what surrounds it, for a failure message.
fn around(html: &str, needle: &str) -> String {
    let at = html.to_ascii_lowercase().find(needle).unwrap_or(0);
    let (from, to) = (at.saturating_sub(120), (at + 120).min(html.len()));
    let (from, to) = (
        (0..=from)
            .rev()
            .find(|i| html.is_char_boundary(*i))
            .unwrap_or(0),
        (to..=html.len())
            .find(|i| html.is_char_boundary(*i))
            .unwrap_or(html.len()),
    );
    html[from..to].to_owned()
}

/// The elements of the page outside the charts: the report's own, none a label's.
const HTML_ELEMENTS: [&str; 19] = [
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "em", "strong", "ul", "li",
    "table", "thead", "tbody", "tr", "th", "td",
];

/// Every section of the page as Chromium parsed it: its title, its tables
/// (body rows of cell texts), its list items and its charts' texts.
const SECTIONS_JS: &str = r#"
return Array.from(document.querySelectorAll('h2')).map(h => {
  const s = { title: h.textContent, tables: [], items: [], svg: [] };
  for (let e = h.nextElementSibling; e && e.localName !== 'h2'; e = e.nextElementSibling) {
    if (e.localName === 'table')
      s.tables.push(Array.from(e.querySelectorAll('tbody tr'))
        .map(tr => Array.from(tr.children).map(c => c.textContent)));
    if (e.localName === 'ul') s.items.push(...Array.from(e.children).map(li => li.textContent));
    // plotters writes each text on a line of its own.
    s.svg.push(...Array.from(e.querySelectorAll('svg text'))
      .map(t => t.textContent.replace(/^\n/, '').replace(/\n$/, '')));
  }
  return s;
})"#;

/// Label values are the monitored service's data, passed on by Prometheus
/// as sent: Markdown or HTML in one (a model, task, cache name, table,
/// pool, alert label or route) must read as itself in every section of the
/// HTML report, never become a link, an image, markup or a broken table;
/// the JSON keeps it exact; and the page's Content-Security-Policy stops a
/// remote image or any script even if markup got in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_label_values_are_text_in_every_section_of_the_report() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let plan = Plan::new(3, DAY);
    let prom =
        tokio::task::spawn_blocking(move || Prometheus::backfilled(&plan.hostile_openmetrics()))
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
        "--window",
        "1d",
        "--selector",
        r#"job="hostile""#,
        "--json",
        json_path.to_str().unwrap(),
        "--html",
        html_path.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(prom);
    let n = HOSTILE.len();
    let all: BTreeSet<String> = HOSTILE.iter().map(|v| v.to_string()).collect();

    // The JSON is data: every value exactly as Prometheus has it.
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let values = |list: &Value, key: &str| -> BTreeSet<String> {
        list.as_array()
            .unwrap_or_else(|| panic!("not a list: {list}"))
            .iter()
            .map(|v| v[key].as_str().unwrap().to_owned())
            .collect()
    };
    for (list, key) in [
        (&r["latency"]["data"]["routes"], "route"),
        (&r["pools"]["data"], "pool"),
        (&r["statements"]["data"], "operation"),
        (&r["statements"]["data"], "collection"),
        (&r["caches"]["data"]["caches"], "cache"),
        (&r["caches"]["data"]["avg_ttl"], "db"),
        (&r["llm"]["data"]["by_model_task"], "model"),
        (&r["llm"]["data"]["by_model_task"], "task"),
        (&r["alerts"]["data"], "alertname"),
        (&r["alerts"]["data"], "severity"),
    ] {
        assert_eq!(values(list, key), all, "{key} in the JSON");
    }

    // The HTML source: nothing a label could have made.
    let html = std::fs::read_to_string(&html_path).unwrap();
    let lower = html.to_ascii_lowercase();
    for needle in [
        "javascript:",
        "javascript&#",
        "<a ",
        "<a>",
        "<img",
        "<script",
        "<iframe",
        "<object",
        "<embed",
    ] {
        assert!(
            !lower.contains(needle),
            "`{needle}` in the HTML report: …{}…",
            around(&html, needle)
        );
    }

    // The page as Chromium parses it.
    let browser = Browser::start().await;
    browser
        .goto(&format!("file://{}", html_path.display()))
        .await;
    let elements = browser
        .exec("return [...new Set(Array.from(document.querySelectorAll('*')).filter(e => !e.closest('svg')).map(e => e.localName))]")
        .await;
    for e in elements.as_array().unwrap() {
        let e = e.as_str().unwrap();
        assert!(
            HTML_ELEMENTS.contains(&e) || e == "div" || e == "svg",
            "<{e}> in the HTML report"
        );
    }
    let charts = browser
        .exec("return Array.from(document.querySelectorAll('div')).map(d => [d.className, d.dataset.chart])")
        .await;
    assert_eq!(
        charts,
        serde_json::json!([["chart", "latency"], ["chart", "traffic"], ["chart", "llm"]]),
        "a <div> other than the three charts"
    );
    // Attributes: none that loads or runs anything, none holding a label.
    let attributes = browser
        .exec("return Array.from(document.querySelectorAll('*')).flatMap(e => Array.from(e.attributes).map(a => [e.localName, a.name, a.value]))")
        .await;
    for a in attributes.as_array().unwrap() {
        let (name, value) = (a[1].as_str().unwrap(), a[2].as_str().unwrap());
        assert!(
            !name.starts_with("on")
                && ![
                    "href",
                    "xlink:href",
                    "src",
                    "srcset",
                    "action",
                    "formaction"
                ]
                .contains(&name)
                && !value.to_ascii_lowercase().contains("javascript")
                && !value.contains("evil")
                && !value.contains("alert"),
            "attribute {a}"
        );
    }
    let headings = browser
        .exec("return [document.querySelectorAll('h1').length, Array.from(document.querySelectorAll('h2')).map(h => h.textContent)]")
        .await;
    assert_eq!(
        headings,
        serde_json::json!([
            1,
            [
                "Findings",
                "Recommendations",
                "Latency of non-LLM routes",
                "Requests and errors",
                "Database pools",
                "Statements by growth of total time",
                "Cache",
                "LLM calls",
                "Alerts that fired",
                "Telemetry pipeline losses"
            ]
        ])
    );

    // Every value reads as itself: the whole text of its cell in every
    // table, and inside the findings, recommendations and chart labels.
    let sections = browser.exec(SECTIONS_JS).await;
    let section = |title: &str| -> &Value {
        sections
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["title"] == title)
            .unwrap_or_else(|| panic!("no section {title}"))
    };
    let column = |title: &str, table: usize, col: usize| -> BTreeSet<String> {
        section(title)["tables"][table]
            .as_array()
            .unwrap_or_else(|| panic!("no table {table} in {title}"))
            .iter()
            .map(|row| row[col].as_str().unwrap().to_owned())
            .collect()
    };
    let all_shown: BTreeSet<String> = HOSTILE.iter().map(|v| shown(v)).collect();
    for (title, table, col) in [
        ("Latency of non-LLM routes", 0, 0),
        ("Latency of non-LLM routes", 1, 0),
        ("Database pools", 0, 0),
        ("Cache", 0, 0),
        ("LLM calls", 0, 0),
        ("LLM calls", 0, 1),
        ("Alerts that fired", 0, 0),
        ("Alerts that fired", 0, 1),
    ] {
        assert_eq!(
            column(title, table, col),
            all_shown,
            "{title}, table {table}, column {col}"
        );
    }
    // The ten statements that grew most: their operations and tables.
    let (ops, tables) = (
        column("Statements by growth of total time", 0, 0),
        column("Statements by growth of total time", 0, 1),
    );
    let first_ten = |of: &dyn Fn(usize) -> usize| -> BTreeSet<String> {
        (0..10).map(|i| shown(HOSTILE[of(i)])).collect()
    };
    assert_eq!(ops, first_ten(&|i| i), "statements' operations");
    assert_eq!(tables, first_ten(&|i| n - 1 - i), "statements' tables");

    let items = |title: &str| -> Vec<String> {
        section(title)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_str().unwrap().to_owned())
            .collect()
    };
    let has = |list: &[String], want: String| {
        assert!(
            list.iter().any(|i| i.contains(&want)),
            "no item with `{want}` in {list:#?}"
        )
    };
    let (findings, recs) = (items("Findings"), items("Recommendations"));
    for (i, v) in HOSTILE.iter().map(|v| shown(v)).enumerate() {
        has(&findings, format!("route_p95 {v}: P95 "));
        has(&findings, format!("pool_utilization {v}: peak utilization"));
        has(&findings, format!("cache_hit_ratio {v}: hit rate"));
        has(&findings, format!("alert_fired {v}: fired for"));
        has(&recs, format!("Pool {v}: in the busiest hour"));
        has(&recs, format!("Cache {v}: hit rate"));
        has(&recs, format!("db {v} 300 s"));
        has(
            &recs,
            format!("Task {}: one model, {v}, at", shown(HOSTILE[(i + 1) % n])),
        );
    }
    for i in 0..3 {
        has(
            &recs,
            format!(
                "Statement {} {}: ",
                shown(HOSTILE[i]),
                shown(HOSTILE[n - 1 - i])
            ),
        );
    }
    // The charts' labels (plotters escapes them): the six slowest routes'
    // legend entries and the eight dearest model / task rows.
    let svg_texts = |title: &str| -> Vec<String> {
        section(title)["svg"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect()
    };
    let legend = svg_texts("Latency of non-LLM routes");
    assert_eq!(
        legend.iter().filter(|t| all.contains(*t)).count(),
        6,
        "route legend: {legend:#?}"
    );
    let pairs: BTreeSet<String> = (0..n)
        .map(|i| format!("{} / {}", HOSTILE[i], HOSTILE[(i + 1) % n]))
        .collect();
    let bars = svg_texts("LLM calls");
    assert_eq!(
        bars.iter().filter(|t| pairs.contains(*t)).count(),
        8,
        "LLM chart labels: {bars:#?}"
    );

    // Defence in depth: had markup got in, the page's Content-Security-Policy
    // would stop a remote image and any script.
    let sink = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    sink.set_nonblocking(true).unwrap();
    let port = sink.local_addr().unwrap().port();
    browser
        .exec(&format!(
            r#"window.violations = [];
            document.addEventListener('securitypolicyviolation', e => window.violations.push(e.effectiveDirective));
            const img = document.createElement('img');
            img.src = 'http://127.0.0.1:{port}/p.png';
            document.body.append(img);
            const remote = document.createElement('script');
            remote.src = 'http://127.0.0.1:{port}/s.js';
            document.body.append(remote);
            const inline = document.createElement('script');
            inline.textContent = 'window.ran = true';
            document.body.append(inline);
            return true"#
        ))
        .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let violations = loop {
        let v = browser.exec("return window.violations").await;
        if v.as_array().unwrap().len() >= 3 || Instant::now() > deadline {
            break v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut violations: Vec<&str> = violations
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    violations.sort();
    assert_eq!(
        violations,
        ["img-src", "script-src-elem", "script-src-elem"],
        "the Content-Security-Policy's refusals"
    );
    assert_eq!(
        browser.exec("return window.ran === undefined").await,
        Value::Bool(true),
        "an inline script ran"
    );
    assert!(
        sink.accept()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
        "the page fetched from another origin"
    );
    browser.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
