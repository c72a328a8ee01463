//! Headless Chromium driven over WebDriver (chromedriver) by a few JSON
//! calls, for the tests that check a page as a browser renders it.
//! Screenshots go to the build's temporary directory, or with
//! `WINGSPAN_UPDATE_SCREENSHOTS=1` (`make screenshots`) to docs/, which the
//! README shows.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(30);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// chromedriver and one Chromium session; both end on drop.
pub struct Browser {
    child: Child,
    base: String,
    http: reqwest::Client,
    profile: PathBuf,
}

impl Browser {
    pub async fn start() -> Browser {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) runs");
        let profile = std::env::temp_dir().join(super::unique("wingspan-chromium"));
        let mut b = Browser {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: super::http_client(),
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

    pub async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
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

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", json!({ "url": url }))
            .await;
    }

    pub async fn exec(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    pub async fn size(&self, width: u64, height: u64) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            json!({"width": width, "height": height}),
        )
        .await;
    }

    /// Sizes the window to the whole page and saves a PNG.
    pub async fn screenshot(&self, width: u64, file: &str) {
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
            super::paths::workspace_root().join("docs")
        } else {
            super::paths::target_tmp().join("screenshots")
        };
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, png).unwrap();
    }
}

impl Browser {
    /// Ends the session, which closes Chromium.
    pub async fn close(self) {
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
