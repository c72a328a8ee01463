//! The dashboard page in headless Chromium, driven over WebDriver
//! (chromedriver) by a few JSON calls: every figure the page shows matches
//! the JSON served at the same moment, breached thresholds are highlighted,
//! the page asks nothing from another origin and fits a phone's width.
//! Screenshots go to the build's temporary directory, or with
//! `WINGSPAN_UPDATE_SCREENSHOTS=1` (`make screenshots`) to docs/, which the
//! README shows.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use wingspan::stats::{Clock, Stats};

use super::{at, free_port, get, world_with, TOKEN};
use crate::support::{self, Receiver};

const WAIT: Duration = Duration::from_secs(30);

/// chromedriver and one Chromium session; both end on drop.
struct Browser {
    child: Child,
    base: String,
    http: reqwest::Client,
    profile: PathBuf,
}

impl Browser {
    async fn start() -> Browser {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) runs");
        let profile = std::env::temp_dir().join(support::unique("wingspan-chromium"));
        let mut b = Browser {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            profile,
        };
        let deadline = Instant::now() + WAIT;
        while b
            .http
            .get(format!("{}/status", b.base))
            .send()
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--no-first-run", "--disable-sync", "--hide-scrollbars",
                    "--force-device-scale-factor=1",
                    format!("--user-data-dir={}", b.profile.display()),
                ]
            }
        }}});
        let v = b.call(reqwest::Method::POST, "/session", caps).await;
        let id = v["sessionId"].as_str().expect("session id").to_owned();
        b.base = format!("{}/session/{id}", b.base);
        b
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let rb = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        let rb = if method == reqwest::Method::GET {
            rb
        } else {
            rb.json(&body)
        };
        let r: Value = rb.send().await.unwrap().json().await.unwrap();
        assert!(r["value"]["error"].is_null(), "{path}: {r}");
        r["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", json!({ "url": url }))
            .await;
    }

    async fn exec(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    async fn size(&self, width: u64, height: u64) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            json!({"width": width, "height": height}),
        )
        .await;
    }

    /// Sizes the window to the whole page and saves a PNG.
    async fn screenshot(&self, width: u64, file: &str) {
        self.size(width, 900).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let h = self
            .exec("return document.documentElement.scrollHeight")
            .await;
        self.size(width, h.as_u64().unwrap().max(600)).await;
        let mut png = Vec::new();
        // Wait for the relayout at the new size before the capture.
        let deadline = Instant::now() + WAIT;
        while png.is_empty() {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let b64 = self
                .call(reqwest::Method::GET, "/screenshot", Value::Null)
                .await;
            png = base64(b64.as_str().unwrap());
            assert!(Instant::now() < deadline);
        }
        assert_eq!(&png[1..4], b"PNG");
        // The committed screenshots (docs/, shown in the README) change only
        // when asked: a plain test run writes beside the build, so it leaves
        // the working tree clean.
        let dir = if std::env::var_os("WINGSPAN_UPDATE_SCREENSHOTS").is_some() {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs")
        } else {
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
        };
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, png).unwrap();
    }
}

impl Browser {
    /// Ends the session, which closes Chromium.
    async fn close(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver ends its Chromium when killed (a failed test skips close).
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, c)| n | (u32::from(val(*c)) << (18 - 6 * i)));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

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
    let receiver = Receiver::start().await;
    let db = support::database_url();
    let (_telemetry, w) = world_with(&receiver, db, support::redis_url(), stats).await;
    for round in 0..ROUNDS {
        if round > 0 {
            hand.advance(Duration::from_secs(60));
        }
        w.drive_round(round).await;
    }

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
