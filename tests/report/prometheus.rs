//! The report's world: a real Prometheus (Debian's) serving generated
//! series backfilled with `promtool tsdb create-blocks-from openmetrics`,
//! behind basic auth; the built `wingspan-report` run against it; and a
//! bearer-token gateway in front of it.
//!
//! Generating and backfilling two weeks of series takes seconds, so the
//! TSDB blocks of a plan are built once per test binary and hour (keyed by
//! the generator's source, the series and the plan) under the target's tmp
//! directory, and each test's Prometheus starts on a copy of them.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::series::{Plan, DAY, WEEK};
use crate::support;

/// Prometheus asks for basic auth (its `--web.config.file`), so every query
/// of the report proves the credentials travel. The hash is bcrypt at cost
/// 4 of PASSWORD: a test fixture, not a secret.
pub const USER: &str = "report";
pub const PASSWORD: &str = "wingspan-report-test";
const PASSWORD_BCRYPT: &str = "$2b$04$pw/jbHRkBw279oDjjRrzweAxv6gf6dQOE0vw2wK5apyrSTmATlO/y";
/// The token the gateway wants.
pub const TOKEN: &str = "wingspan-report-test-token";

/// What a Prometheus serves.
#[derive(Clone, Copy, Hash, PartialEq, Eq, Debug)]
pub enum Series {
    /// Two weeks of known figures (jobs `api` and `bare`).
    Weekly,
    /// Two days of hostile label values (job `hostile`).
    Hostile,
    /// Nothing.
    Empty,
}

impl Series {
    /// The plan of the series: ending on the hour, 3 hours ago (backfilled
    /// blocks must be older than the head Prometheus starts with).
    pub fn plan(self) -> Plan {
        Plan::new(3, if self == Series::Weekly { WEEK } else { DAY })
    }

    fn openmetrics(self, plan: &Plan) -> String {
        match self {
            Series::Weekly => plan.openmetrics(),
            Series::Hostile => plan.hostile_openmetrics(),
            Series::Empty => "# EOF\n".to_owned(),
        }
    }
}

/// A Prometheus on a port of its own; killed on drop.
pub struct Prometheus {
    child: Child,
    pub url: String,
    /// The plan of the series it serves.
    pub plan: Plan,
    dir: PathBuf,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Prometheus {
    /// A Prometheus serving `series`, ready.
    pub async fn serving(series: Series) -> Prometheus {
        let prom = tokio::task::spawn_blocking(move || Prometheus::start(series))
            .await
            .unwrap();
        prom.ready().await;
        prom
    }

    fn start(series: Series) -> Prometheus {
        let plan = series.plan();
        let dir = std::env::temp_dir().join(support::unique("wingspan-report-prom"));
        let data = dir.join("data");
        std::fs::create_dir_all(&data).unwrap();
        if series != Series::Empty {
            copy_dir(&blocks(series, &plan), &data);
        }
        let config = dir.join("prometheus.yml");
        std::fs::write(&config, "global:\n  scrape_interval: 1m\n").unwrap();
        let web = dir.join("web.yml");
        std::fs::write(
            &web,
            format!("basic_auth_users:\n  {USER}: '{PASSWORD_BCRYPT}'\n"),
        )
        .unwrap();
        // Held until Prometheus takes it: no other test's bind(0) gets it.
        let port = support::DeadPort::new().release();
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
            plan,
            dir,
        }
    }

    async fn ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let http = support::http_client();
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

    /// The plan's end, as `--end` takes it.
    pub fn end(&self) -> String {
        self.plan.end.to_string()
    }
}

/// The TSDB blocks of `series` over `plan`, built at most once per test
/// binary (the generator's source is in the key) and plan.
fn blocks(series: Series, plan: &Plan) -> PathBuf {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (include_str!("series.rs"), series, plan.end, plan.window).hash(&mut h);
    let root = support::paths::target_tmp().join("report-tsdb");
    let blocks = root.join(format!("{:016x}", h.finish()));
    if blocks.is_dir() {
        return blocks;
    }
    // Built aside and renamed into place: a directory under the key is
    // complete. Two tests may build it at once; one rename wins.
    let building = root.join(support::unique("building"));
    let input = building.with_extension("om");
    std::fs::create_dir_all(&building).unwrap();
    std::fs::write(&input, series.openmetrics(plan)).unwrap();
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
        .arg(&building)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&input);
    assert!(
        out.status.success(),
        "promtool: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if std::fs::rename(&building, &blocks).is_err() {
        let _ = std::fs::remove_dir_all(&building);
    }
    // Blocks of other hours and builds are of no more use after a day.
    for old in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        let stale = old
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().unwrap_or_default() > Duration::from_secs(DAY as u64));
        if stale {
            let _ = std::fs::remove_dir_all(old.path());
        }
    }
    blocks
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `name` on PATH. No silent skip: CI (.ci/run) installs the Debian package.
fn tool(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|f| f.is_file())
        })
        .unwrap_or_else(|| {
            panic!("`{name}` is not on PATH: the report tests need Debian's prometheus package (apt-get install prometheus)")
        })
}

/// The built report with only `env` of its credential variables set.
pub fn run_report(args: &[&str], env: &[(&str, &str)]) -> Output {
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
pub fn report(args: &[&str]) -> Output {
    run_report(args, &[("PROM_USER", USER), ("PROM_PASSWORD", PASSWORD)])
}

/// What the report wrote on stderr.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A directory of the test's own for the report's files.
pub fn out_dir() -> PathBuf {
    let dir = support::paths::target_tmp().join(support::unique("report"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An auth gateway in front of Prometheus, as Mimir or Grafana Cloud put
/// one: a request with `Authorization: Bearer TOKEN` is forwarded (with
/// Prometheus's own basic auth), any other gets 401. Its URL.
pub async fn bearer_gateway(prom_url: String) -> String {
    use axum::http::{header, HeaderMap, StatusCode, Uri};
    use axum::response::IntoResponse;
    let http = support::http_client();
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
    let addr = support::spawn_app(axum::Router::new().fallback(forward)).await;
    format!("http://{addr}")
}
