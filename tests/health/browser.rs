//! The dashboard page in headless Chromium, driven over WebDriver
//! (chromedriver) by a few JSON calls: every figure the page shows matches
//! the JSON served at the same moment, breached thresholds are highlighted,
//! the page asks nothing from another origin and fits a phone's width.
//! Screenshots go to the build's temporary directory, or with
//! `WINGSPAN_UPDATE_SCREENSHOTS=1` (`make screenshots`) to docs/, which the
//! README shows.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use wingspan::stats::{Clock, PlanNode, QueryPlan, Stats};

use super::{at, get, world_with, TOKEN};
use crate::support::{self, Browser, Receiver};

const WAIT: Duration = Duration::from_secs(30);

/// The number a displayed figure shows, scaled back to the JSON's unit, and
/// how far it may be from the JSON value (half the last digit shown).
fn shown(format: &str, text: &str, json: f64, seconds_ratio: f64) -> (f64, f64) {
    let n: f64 = text
        .trim_start_matches('$')
        .trim_end_matches(" ms")
        .trim_end_matches(" %")
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {text:?}"));
    match format {
        "ms" => (n, 0.05 + 1e-9),
        "pct" => (n / 100.0, 0.0005 + 1e-9),
        "int" => (n, 0.5),
        "usd" => (n, 0.00005 + 1e-12),
        // A rate is a count over the window's seconds, which grew between
        // the page's fetch and the test's: scale it to the test's seconds.
        "rate" => (n * seconds_ratio, 0.005 * seconds_ratio + json.abs() * 1e-3),
        other => panic!("unknown format {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_shows_the_json_figures_in_headless_chromium() {
    // Twelve minutes of real traffic, one round per minute of a manual clock
    // that ends now, so the charts have a history to draw.
    const ROUNDS: u64 = 12;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let (clock, hand) = Clock::manual(now_ms - (ROUNDS - 1) * 60_000);
    let stats = Stats::builder().clock(clock).build();
    let view = stats.clone();
    let receiver = Receiver::start().await;
    let db = support::database_url();
    let (_telemetry, w) = world_with(&receiver, db, support::redis_url(), stats).await;
    for round in 0..ROUNDS {
        if round > 0 {
            hand.advance(Duration::from_secs(60));
        }
        w.drive_round(round).await;
    }
    // A captured plan beside one statement (the capture itself is tested
    // in tests/db/plans.rs): the page shows the text the JSON serves.
    let planned = view
        .snapshot(15)
        .statements
        .iter()
        .filter(|q| q.figures.count > 0)
        .max_by(|a, b| a.figures.p95_ms.total_cmp(&b.figures.p95_ms))
        .map(|q| q.summary.clone())
        .expect("the world ran statements");
    let mut scan = PlanNode::new(0, "Seq Scan");
    scan.relation = Some("users".into());
    scan.estimated_rows = 42.0;
    scan.total_cost = 180.5;
    view.record_plan(&planned, QueryPlan::new(view.clock().now_ms(), vec![scan]));

    let browser = Browser::start().await;
    browser.size(1366, 900).await;
    browser
        .goto(&w.admin_url(&format!("/observability#token={TOKEN}")))
        .await;
    let deadline = Instant::now() + WAIT;
    while browser
        .exec("return document.body.dataset.generated || null")
        .await
        .is_null()
    {
        assert!(
            Instant::now() < deadline,
            "the page never rendered the JSON"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let shown_figures = browser
        .exec("return Array.from(document.querySelectorAll('[data-k]')).map(e => [e.dataset.k, e.dataset.f, e.textContent])")
        .await;
    let (status, body) = get(&w.admin_url("/health/detailed"), Some(TOKEN)).await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&body).unwrap();

    let page_seconds: f64 = browser
        .exec("return document.body.dataset.seconds")
        .await
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let seconds_ratio = page_seconds / doc["window"]["seconds"].as_f64().unwrap();
    let figures = shown_figures.as_array().unwrap();
    assert!(
        figures.len() >= 60,
        "only {} figures on the page",
        figures.len()
    );
    let mut compared = 0;
    for f in figures {
        let (key, text) = (f[0].as_str().unwrap(), f[2].as_str().unwrap());
        if key == "status" {
            assert_eq!(text, doc["status"].as_str().unwrap());
            continue;
        }
        let format = f[1].as_str().unwrap();
        let want = at(&doc, key);
        if want.is_null() {
            assert_eq!(text, "–", "{key}");
            continue;
        }
        let want = want.as_f64().unwrap_or_else(|| panic!("{key} is {want}"));
        let (got, tolerance) = shown(format, text, want, seconds_ratio);
        assert!(
            (got - want).abs() <= tolerance,
            "{key}: page shows {text}, JSON has {want}"
        );
        compared += 1;
    }
    assert!(compared >= 50, "{compared}");

    // Breached thresholds are highlighted, the others are not.
    let cards = browser
        .exec("return Array.from(document.querySelectorAll('[data-alert]')).map(e => [e.dataset.alert, e.classList.contains('breached')])")
        .await;
    for c in cards.as_array().unwrap() {
        let a = doc["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == c[0])
            .unwrap();
        assert_eq!(a["breached"], c[1], "{c}");
    }
    assert_eq!(cards.as_array().unwrap().len(), 4);
    let recs = browser
        .exec("return document.querySelectorAll('[data-rec]').length")
        .await;
    assert_eq!(
        recs.as_u64().unwrap() as usize,
        doc["recommendations"].as_array().unwrap().len()
    );

    // The plan, folded beside its statement, unfolds to the JSON's text.
    let row = doc["slow_queries"]["by_p95"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["summary"] == planned.as_str())
        .unwrap_or_else(|| panic!("{planned} not in by_p95"));
    let plan_text = row["plan"]["text"].as_str().unwrap().to_owned();
    assert!(plan_text.contains("Seq Scan on users"), "{plan_text}");
    let unfolded = browser
        .exec("const d = document.querySelector('#t-q-p95 [data-plan]'); if (!d) return null; d.open = true; return d.querySelector('pre').textContent")
        .await;
    assert_eq!(unfolded.as_str(), Some(plan_text.as_str()), "{unfolded}");

    // Nothing was asked from another origin.
    let foreign = browser
        .exec("return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(location.origin))")
        .await;
    assert_eq!(foreign, json!([]));

    browser.screenshot(1366, "observability.png").await;
    // A phone: one column, no sideways scrolling.
    browser.size(390, 844).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let overflow = browser
        .exec("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        .await;
    let wide = browser
        .exec("return [innerWidth, document.documentElement.clientWidth, document.documentElement.scrollWidth].concat(Array.from(document.querySelectorAll('*')).filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible').slice(0, 12).map(e => e.tagName + '.' + e.className + '#' + e.id + ':' + e.scrollWidth + '/' + e.clientWidth))")
        .await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "page scrolls sideways by {overflow} px on a phone: {wide}"
    );
    browser.screenshot(390, "observability-phone.png").await;
    browser.close().await;
}
