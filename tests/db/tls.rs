//! `sslmode=verify-ca` verifies the chain without the host name, as libpq
//! does; `verify-full` also checks the name. Against a private cluster
//! serving a certificate for `wrong.example`, reached as 127.0.0.1.

use std::time::Duration;

use wingspan::db::{Pool, Queryable};

use super::Db;
use crate::support::{Certs, PrivatePostgres};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_ca_checks_the_chain_but_not_the_host_name() {
    let certs = Certs::new();
    let pg = PrivatePostgres::start(Some((&certs.path("server.crt"), &certs.path("server.key"))));
    let db = Db::new(&[]).await;
    let pool_for = |query: String| {
        let cfg = wingspan::Config::builder()
            .var("DATABASE_URL", pg.url(&query))
            .build()
            .unwrap()
            .db;
        Pool::builder(&db.telemetry)
            .config(cfg)
            .min_connections(0)
            .connect_timeout(Duration::from_secs(2))
            .build()
    };
    let root = |file: &str| certs.path(file).display().to_string();

    let trusted = pool_for(format!("sslmode=verify-ca&sslrootcert={}", root("ca.pem")))
        .await
        .unwrap();
    let c = trusted
        .get()
        .await
        .expect("verify-ca accepts a chain to its root");
    let ssl: bool = c
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(ssl);
    drop(c);

    let untrusted = pool_for(format!(
        "sslmode=verify-ca&sslrootcert={}",
        root("other-ca.pem")
    ))
    .await
    .unwrap();
    let err = untrusted.get().await.unwrap_err();
    assert!(!err.is_timeout(), "{err:?}");

    let full = pool_for(format!(
        "sslmode=verify-full&sslrootcert={}",
        root("ca.pem")
    ))
    .await
    .unwrap();
    assert!(
        full.get().await.is_err(),
        "verify-full checks the host name"
    );

    let require = pool_for("sslmode=require".into()).await.unwrap();
    require
        .get()
        .await
        .expect("require encrypts without verifying");

    let missing = pool_for("sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem".into()).await;
    assert!(
        matches!(missing, Err(wingspan::db::BuildError::RootCert { .. })),
        "{missing:?}"
    );
    drop(pg);
    db.drop_schema().await;
}
