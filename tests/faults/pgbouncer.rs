//! wingman through pgbouncer in transaction mode (Supavisor's port 6543
//! setting) with `DB_STATEMENT_CACHE=off`, beside the same wingman on a
//! direct connection, under the same fixed-rate load: 0 errors through the
//! pooler, and the same database spans.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use super::load::{self, Load};
use crate::support::{self, Kind, Receiver, Wingman};

/// A private pgbouncer started by `scripts/pgbouncer.sh`; stopped on drop.
pub struct Bouncer {
    port: u16,
    dir: PathBuf,
}

impl Bouncer {
    /// Starts one on a free port; `databases` are extra `[databases]` lines.
    pub fn start(databases: &str) -> Bouncer {
        // pgbouncer binds it: given up as it starts.
        let port = support::DeadPort::new().release();
        let dir = std::env::temp_dir().join(support::unique("wingspan_pgbouncer"));
        let b = Bouncer { port, dir };
        let out = b
            .script("start")
            .env("PGBOUNCER_DATABASES", databases)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "scripts/pgbouncer.sh start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        b
    }

    fn script(&self, verb: &str) -> Command {
        let mut c = Command::new("bash");
        c.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pgbouncer.sh"))
            .arg(verb)
            .env("DATABASE_URL", support::database_url())
            .env("PGBOUNCER_PORT", self.port.to_string())
            .env("PGBOUNCER_DIR", &self.dir);
        c
    }

    /// `postgres://postgres@127.0.0.1:PORT/{database}`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.script("stop").output();
    }
}

/// The names of the database CLIENT spans of the requests (not those of
/// the start-up migration, which only the first process runs).
fn db_span_names(receiver: &Receiver, schema: &str) -> BTreeSet<String> {
    let spans = receiver.spans();
    // Only the requests' statements: the instance that seeds the schema runs
    // statements at start that the other one skips.
    let requests: BTreeSet<String> = spans
        .iter()
        .filter(|s| s.kind == Kind::Server)
        .map(|s| s.trace_id.clone())
        .collect();
    spans
        .into_iter()
        .filter(|s| requests.contains(&s.trace_id))
        .filter(|s| s.kind == Kind::Client && s.attr_str("db.system.name") == Some("postgresql"))
        .map(|s| s.name)
        .filter(|n| !n.contains(schema) && n != "ANALYZE")
        .collect()
}

async fn drive(wingman: &Wingman) -> (load::Stats, Vec<u16>) {
    let load = Load::start(wingman.url(""), 40, load::non_llm);
    let client = super::http();
    let mut writes = Vec::new();
    for i in 0..20_i64 {
        // A transaction (insert the match, move both ratings) per request.
        let res = client
            .post(wingman.url("/api/matches"))
            .json(&json!({"user_id": 1 + i, "partner_id": 100 + i, "challenge_id": 1 + i, "score": 60}))
            .send()
            .await
            .unwrap();
        writes.push(res.status().as_u16());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let samples = load.stop().await;
    let end = samples.last().unwrap().at + Duration::from_millis(1);
    let s = load::stats(&samples, Duration::ZERO, end);
    assert_eq!(
        s.failed,
        0,
        "{s}: {:#?}",
        load::failures(&samples, Duration::ZERO, end)
    );
    (s, writes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_wingman_through_pgbouncer_transaction_mode_serves_the_same() {
    let direct_rx = Receiver::start().await;
    let pooled_rx = Receiver::start().await;
    let direct = Wingman::builder().otlp(&direct_rx);
    // Startup `options` (wingman's search_path) do not pass the pooler: the
    // alias sets it on each server connection instead.
    let alias = format!("wm_{}", direct.schema_name());
    let bouncer = tokio::task::spawn_blocking({
        let pg = support::database_target();
        let line = format!(
            "{alias} = host={} port={} dbname={} user={} connect_query='SET search_path TO {}'",
            pg.host,
            pg.port,
            pg.namespace,
            pg.user,
            direct.schema_name()
        );
        move || Bouncer::start(&line)
    })
    .await
    .unwrap();
    let schema = direct.schema_name().to_owned();
    let mut direct = direct.start().await;
    let mut pooled = Wingman::builder()
        .otlp(&pooled_rx)
        .schema(&schema)
        .var("DATABASE_URL", bouncer.url(&alias))
        .var("DB_STATEMENT_CACHE", "off")
        .start()
        .await;

    let (direct_stats, direct_writes) = drive(&direct).await;
    let (pooled_stats, pooled_writes) = drive(&pooled).await;
    eprintln!(
        "faults::pgbouncer direct {direct_stats}, writes {direct_writes:?}; through pgbouncer (transaction mode) {pooled_stats}, writes {pooled_writes:?}"
    );
    assert!(pooled_writes.iter().all(|s| *s == 201), "{pooled_writes:?}");
    assert!(direct_writes.iter().all(|s| *s == 201), "{direct_writes:?}");

    tokio::time::sleep(Duration::from_secs(1)).await;
    direct.terminate();
    pooled.terminate();
    let (d, p) = (
        db_span_names(&direct_rx, &schema),
        db_span_names(&pooled_rx, &schema),
    );
    eprintln!("faults::pgbouncer database spans: {p:?}");
    assert!(!p.is_empty());
    assert_eq!(d, p, "database spans differ: direct {d:?}, pooled {p:?}");
    let ports: BTreeSet<i64> = pooled_rx
        .spans()
        .iter()
        .filter(|s| s.attr_str("db.system.name") == Some("postgresql"))
        .filter_map(|s| s.attr_i64("server.port"))
        .collect();
    assert_eq!(ports, BTreeSet::from([i64::from(bouncer.port)]));
    direct.cleanup().await;
    drop(bouncer);
}
