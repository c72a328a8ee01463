//! Label values are the monitored service's data, passed on by Prometheus
//! as sent: Markdown or HTML in one (a model, task, cache name, table,
//! pool, alert label or route) must read as itself in every section of the
//! HTML report, never become a link, an image, markup or a broken table;
//! the JSON keeps it exact; and the page's Content-Security-Policy stops a
//! remote image or any script even if markup got in.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::prometheus::{out_dir, report, stderr, Prometheus, Series};
use super::series::HOSTILE;
use crate::support::Browser;

/// The report of job `hostile` over one day: its JSON and its HTML page.
struct Hostile {
    json: Value,
    html: PathBuf,
    dir: PathBuf,
}

impl Hostile {
    async fn run() -> Hostile {
        let prom = Prometheus::serving(Series::Hostile).await;
        let dir = out_dir();
        let (json, html) = (dir.join("report.json"), dir.join("report.html"));
        let out = report(&[
            "--prom-url",
            &prom.url,
            "--end",
            &prom.end(),
            "--window",
            "1d",
            "--selector",
            r#"job="hostile""#,
            "--json",
            json.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let json = std::fs::read_to_string(&json).unwrap();
        Hostile {
            json: serde_json::from_str(&json).unwrap(),
            html,
            dir,
        }
    }

    /// Chromium on the page.
    async fn browse(&self) -> Browser {
        let browser = Browser::start().await;
        browser
            .goto(&format!("file://{}", self.html.display()))
            .await;
        browser
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Every hostile value, as it is.
fn all() -> BTreeSet<String> {
    HOSTILE.iter().map(|v| v.to_string()).collect()
}

/// How the report shows a label value: as itself, a line break as `\n`
/// (a table row is one line).
fn shown(v: &str) -> String {
    v.replace('\n', r"\n")
}

/// The JSON is data: every value exactly as Prometheus has it, in every
/// list that holds one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_label_values_are_exact_in_the_json() {
    let report = Hostile::run().await;
    let r = &report.json;
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
        assert_eq!(values(list, key), all(), "{key} in the JSON");
    }
}

/// `needle` in `html`, with what surrounds it, for a failure message.
fn around(html: &str, needle: &str) -> String {
    let at = html.to_ascii_lowercase().find(needle).unwrap_or(0);
    let from = (0..=at.saturating_sub(120))
        .rev()
        .find(|i| html.is_char_boundary(*i))
        .unwrap_or(0);
    let to = ((at + 120).min(html.len())..=html.len())
        .find(|i| html.is_char_boundary(*i))
        .unwrap_or(html.len());
    html[from..to].to_owned()
}

/// The elements of the page outside the charts: the report's own, none a label's.
const HTML_ELEMENTS: [&str; 19] = [
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "em", "strong", "ul", "li",
    "table", "thead", "tbody", "tr", "th", "td",
];

/// No value becomes markup: nothing a label could have made is in the
/// page's source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_label_values_make_no_markup_in_the_html_source() {
    let report = Hostile::run().await;
    let html = std::fs::read_to_string(&report.html).unwrap();
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
}

/// The page Chromium parses holds the report's own elements, attributes
/// and headings only.
async fn only_the_reports_own_markup(browser: &Browser) {
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
        json!([["chart", "latency"], ["chart", "traffic"], ["chart", "llm"]]),
        "a <div> other than the three charts"
    );
    // Attributes: none that loads or runs anything, none holding a label.
    let attributes = browser
        .exec("return Array.from(document.querySelectorAll('*')).flatMap(e => Array.from(e.attributes).map(a => [e.localName, a.name, a.value]))")
        .await;
    let loads = [
        "href",
        "xlink:href",
        "src",
        "srcset",
        "action",
        "formaction",
    ];
    for a in attributes.as_array().unwrap() {
        let (name, value) = (a[1].as_str().unwrap(), a[2].as_str().unwrap());
        assert!(
            !name.starts_with("on")
                && !loads.contains(&name)
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
        json!([
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
}

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

/// The page's sections as Chromium parsed them ([`SECTIONS_JS`]).
struct Sections(Value);

impl Sections {
    fn section(&self, title: &str) -> &Value {
        self.0
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["title"] == title)
            .unwrap_or_else(|| panic!("no section {title}"))
    }

    fn texts(&self, title: &str, what: &str) -> Vec<String> {
        self.section(title)[what]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect()
    }

    /// The texts of column `col` of table `table` of section `title`.
    fn column(&self, title: &str, table: usize, col: usize) -> BTreeSet<String> {
        self.section(title)["tables"][table]
            .as_array()
            .unwrap_or_else(|| panic!("no table {table} in {title}"))
            .iter()
            .map(|row| row[col].as_str().unwrap().to_owned())
            .collect()
    }
}

/// `list` has an item holding `want`.
fn has(list: &[String], want: String) {
    assert!(
        list.iter().any(|i| i.contains(&want)),
        "no item with `{want}` in {list:#?}"
    );
}

/// In the page as Chromium parses it, no value became markup, and every
/// value reads as itself: the whole text of its cell in every table, and
/// inside the findings, recommendations and chart labels.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_label_values_read_as_themselves_in_every_section() {
    let report = Hostile::run().await;
    let browser = report.browse().await;
    only_the_reports_own_markup(&browser).await;
    let page = Sections(browser.exec(SECTIONS_JS).await);
    browser.close().await;
    let n = HOSTILE.len();
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
            page.column(title, table, col),
            all_shown,
            "{title}, table {table}, column {col}"
        );
    }
    // The ten statements that grew most: their operations and tables.
    let first_ten = |of: &dyn Fn(usize) -> usize| -> BTreeSet<String> {
        (0..10).map(|i| shown(HOSTILE[of(i)])).collect()
    };
    let statements = "Statements by growth of total time";
    assert_eq!(
        page.column(statements, 0, 0),
        first_ten(&|i| i),
        "operations"
    );
    assert_eq!(
        page.column(statements, 0, 1),
        first_ten(&|i| n - 1 - i),
        "tables"
    );

    let findings = page.texts("Findings", "items");
    let recs = page.texts("Recommendations", "items");
    for (i, v) in HOSTILE.iter().map(|v| shown(v)).enumerate() {
        has(&findings, format!("route_p95 {v}: P95 "));
        has(&findings, format!("pool_utilization {v}: peak utilization"));
        has(&findings, format!("cache_hit_ratio {v}: hit rate"));
        has(&findings, format!("alert_fired {v}: fired for"));
        has(&recs, format!("Pool {v}: in the busiest hour"));
        has(&recs, format!("Cache {v}: hit rate"));
        has(&recs, format!("db {v} 300 s"));
        let task = shown(HOSTILE[(i + 1) % n]);
        has(&recs, format!("Task {task}: one model, {v}, at"));
    }
    for i in 0..3 {
        let (op, table) = (shown(HOSTILE[i]), shown(HOSTILE[n - 1 - i]));
        has(&recs, format!("Statement {op} {table}: "));
    }
    // The charts' labels (plotters escapes them): the six slowest routes'
    // legend entries and the eight dearest model / task rows.
    let legend = page.texts("Latency of non-LLM routes", "svg");
    let all = all();
    let in_legend = legend.iter().filter(|t| all.contains(*t)).count();
    assert_eq!(in_legend, 6, "route legend: {legend:#?}");
    let pairs: BTreeSet<String> = (0..n)
        .map(|i| format!("{} / {}", HOSTILE[i], HOSTILE[(i + 1) % n]))
        .collect();
    let bars = page.texts("LLM calls", "svg");
    let in_bars = bars.iter().filter(|t| pairs.contains(*t)).count();
    assert_eq!(in_bars, 8, "LLM chart labels: {bars:#?}");
}

/// Defence in depth: had markup got in, the page's Content-Security-Policy
/// would stop a remote image and any script, inline or remote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_refuses_remote_images_and_scripts() {
    let report = Hostile::run().await;
    let browser = report.browse().await;
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
}
