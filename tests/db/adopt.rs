//! What a service ported from tokio-postgres / deadpool-postgres uses as it
//! was: row and COPY streams under one span each, the driver's prepared
//! statements, the driver's error behind `DbError`, a URL on the builder,
//! the prepare span named apart, the settings logged at start.

use futures_util::TryStreamExt as _;
use wingspan::db::tokio_postgres::error::SqlState;
use wingspan::db::{BuildError, DbError, Pool, Queryable};

use super::{Db, WAIT};
use crate::support::{self, Kind, Status};

/// A pool on a table `{schema}.t` of ids 1..=3.
async fn table(db: &Db) -> Pool {
    let s = &db.schema;
    db.admin
        .batch_execute(&format!(
            "CREATE TABLE {s}.t (id int8 PRIMARY KEY); INSERT INTO {s}.t VALUES (1), (2), (3);"
        ))
        .await
        .unwrap();
    db.pool().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_raw_streams_rows_under_one_span_that_ends_with_the_stream() {
    let db = Db::new(&[("DB_POOL_SIZE", "1")]).await;
    let pool = table(&db).await;
    let c = pool.get().await.unwrap();
    let sql = format!("SELECT id FROM {}.t ORDER BY id", db.schema);
    let rows: Vec<wingspan::db::tokio_postgres::Row> = c
        .query_raw(&sql, std::iter::empty::<i64>())
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    let typed = c
        .query_typed_raw(
            "SELECT $1::int8 + 1",
            [(&41i64, wingspan::db::tokio_postgres::types::Type::INT8)],
        )
        .await
        .unwrap();
    let typed: Vec<_> = typed.try_collect().await.unwrap();
    assert_eq!(typed[0].get::<_, i64>(0), 42);
    drop(c);
    db.flush().await;
    // The row count is known only at the stream's end: the span ended there.
    let span = db
        .receiver
        .wait_for_span(|s| s.attr_i64("db.response.returned_rows") == Some(3))
        .await;
    assert_eq!(span.name, format!("SELECT {}.t", db.schema));
    assert_eq!((span.kind, span.status), (Kind::Client, Status::Unset));
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_dropped_before_its_end_or_failing_ends_its_span_as_such() {
    let db = Db::new(&[("DB_POOL_SIZE", "1")]).await;
    let pool = db.pool().await;
    let c = pool.get().await.unwrap();
    let mut stream = Box::pin(
        c.query_raw(
            "SELECT g FROM generate_series(1, 100000) g",
            std::iter::empty::<i64>(),
        )
        .await
        .unwrap(),
    );
    assert!(stream.try_next().await.unwrap().is_some());
    drop(stream); // the reader stops early
    let failing = c
        .query_raw(
            "SELECT 1 / (3 - g) FROM generate_series(1, 5) g",
            std::iter::empty::<i64>(),
        )
        .await
        .unwrap();
    let err = failing.try_collect::<Vec<_>>().await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::DIVISION_BY_ZERO));
    // The connection is still good.
    let one: i32 = c.query_one("SELECT 1", &[]).await.unwrap().get(0);
    assert_eq!(one, 1);
    drop(c);
    db.flush().await;
    let canceled = db
        .receiver
        .wait_for_span(|s| s.attr_str("error.type") == Some("canceled"))
        .await;
    assert_eq!(canceled.name, "SELECT");
    let failed = db
        .receiver
        .wait_for_span(|s| s.attr_str("error.type") == Some("22012"))
        .await;
    assert_eq!(failed.status, Status::Error);
    assert_eq!(failed.attr_str("db.response.status_code"), Some("22012"));
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_out_streams_the_data_under_one_span() {
    let db = Db::new(&[("DB_POOL_SIZE", "1")]).await;
    let pool = db.pool().await;
    let c = pool.get().await.unwrap();
    let chunks: Vec<_> = c
        .copy_out("COPY (SELECT g FROM generate_series(1, 3) g) TO STDOUT")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(chunks.concat(), b"1\n2\n3\n");
    drop(c);
    db.flush().await;
    let span = db
        .receiver
        .wait_for_span(|s| s.name.starts_with("COPY"))
        .await;
    assert_eq!((span.kind, span.status), (Kind::Client, Status::Unset));
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_driver_statement_runs_as_it_is_and_prepare_is_named_apart() {
    let db = Db::new(&[("DB_POOL_SIZE", "1")]).await;
    let pool = table(&db).await;
    let c = pool.get().await.unwrap();
    let sql = format!("SELECT id FROM {}.t WHERE id = $1", db.schema);
    let ours = c.prepare_cached(&sql).await.unwrap();
    // The driver's statement (deadpool's `prepare_cached` returns one) as it is.
    let driver: wingspan::db::tokio_postgres::Statement = ours.raw().unwrap().clone();
    let id: i64 = c.query_one(&driver, &[&2i64]).await.unwrap().get(0);
    assert_eq!(id, 2);
    let raw = c.raw().unwrap().prepare("SELECT 7::int8").await.unwrap();
    let seven: i64 = c.query_one(&raw, &[]).await.unwrap().get(0);
    assert_eq!(seven, 7);
    drop(c);
    db.flush().await;
    let summary = format!("SELECT {}.t", db.schema);
    let prepare = format!("PREPARE {summary}");
    let spans = db
        .receiver
        .wait_for_spans(
            |s| s.iter().any(|s| s.name == prepare) && s.iter().any(|s| s.name == summary),
            WAIT,
        )
        .await;
    let p = spans.iter().find(|s| s.name == prepare).unwrap();
    assert_eq!(p.attr_str("db.operation.name"), Some("PREPARE"));
    assert_eq!(p.attr_str("db.query.summary"), Some(prepare.as_str()));
    let run = spans.iter().find(|s| s.name == summary).unwrap();
    assert_eq!(run.attr_str("db.operation.name"), Some("SELECT"));
    // A statement wingspan did not prepare: its text is unknown.
    db.receiver.wait_for_span(|s| s.name == "EXECUTE").await;
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_error_hands_out_the_driver_error_and_its_sqlstate() {
    let db = Db::new(&[("DB_POOL_SIZE", "1")]).await;
    let pool = table(&db).await;
    let c = pool.get().await.unwrap();
    let insert = format!("INSERT INTO {}.t VALUES ($1)", db.schema);
    let err = c.execute(&insert, &[&1i64]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNIQUE_VIOLATION));
    assert_eq!(
        err.as_db_error().and_then(|e| e.constraint()),
        Some("t_pkey")
    );
    let driver = err.into_inner().expect("a server error has the driver's");
    assert_eq!(driver.code(), Some(&SqlState::UNIQUE_VIOLATION));
    // `?` from a driver call in a function returning DbError.
    let raw = c.raw().unwrap();
    let converted: DbError = raw.execute(&insert, &[&1i64]).await.unwrap_err().into();
    assert_eq!(converted.status_code(), Some("23505"));
    assert!(DbError::RowCount {
        expected: "x",
        got: 0
    }
    .into_inner()
    .is_none());
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builder_takes_a_url_and_the_pool_logs_its_settings_once() {
    // The configuration's DATABASE_URL leads nowhere: only url() can make the pool work.
    let db = Db::new(&[
        ("DB_POOL_SIZE", "1"),
        ("DATABASE_URL", "postgres://nobody@127.0.0.1:1/nowhere"),
    ])
    .await;
    // The real server with a password, there only to be redacted (trust auth and
    // pgbouncer's auth_type=any ignore it).
    let base = support::database_url();
    let (scheme, rest) = base.split_once("://").expect("DATABASE_URL has a scheme");
    let (user, host) = rest.split_once('@').map_or(("postgres", rest), |(u, h)| {
        (u.split(':').next().unwrap_or(u), h)
    });
    let url = format!("{scheme}://{user}:hunter2@{host}");
    let pool = db.builder().url(&url).build().await.unwrap();
    let one: i32 = pool
        .get()
        .await
        .unwrap()
        .query_one("SELECT 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(one, 1);
    let err = db
        .builder()
        .url("mysql://root@db/app")
        .build()
        .await
        .unwrap_err();
    assert!(matches!(err, BuildError::Url { .. }), "{err:?}");
    db.flush().await;
    let log = db
        .receiver
        .wait_for_log(|l| l.body.starts_with("PostgreSQL pool") && l.body.contains(&db.app))
        .await;
    assert!(log.body.contains("1..10 connections"), "{}", log.body);
    assert!(log.body.contains("development profile"), "{}", log.body);
    // The fields are the conventions' pool name and wingspan.db.pool.*.
    assert_eq!(
        log.attributes
            .get("wingspan.db.pool.min_connections")
            .and_then(|v| v.as_i64()),
        Some(1),
        "{log:?}"
    );
    assert_eq!(
        log.attributes
            .get("wingspan.db.pool.profile")
            .and_then(|v| v.as_str()),
        Some("development"),
        "{log:?}"
    );
    assert!(
        log.attributes
            .contains_key("db.client.connection.pool.name"),
        "{log:?}"
    );
    let url = log.attributes["wingspan.db.pool.url"].as_str().unwrap();
    assert!(!url.contains("hunter2"), "{url}");
    let all = support::dump_logs(&db.receiver.logs());
    assert!(!all.contains("hunter2"), "{all}");
    assert_eq!(
        db.receiver
            .logs()
            .iter()
            .filter(|l| l.body.starts_with("PostgreSQL pool"))
            .count(),
        1,
        "one line per pool built: {all}"
    );
    db.drop_schema().await;
}
