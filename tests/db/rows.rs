//! `query_one` and `query_opt` read their row off the driver's stream: the
//! row, and the exact count in a [`DbError::RowCount`], on every path a
//! statement takes (named with the statement cache, unnamed and typed
//! without it, in a transaction), with Postgres returning the rows.

use super::*;

async fn counts_rows(c: &impl Queryable, table: &str) {
    let one = format!("SELECT id FROM {table} WHERE id = $1");
    let id: i64 = c.query_one(&one, &[&2i64]).await.unwrap().get(0);
    assert_eq!(id, 2);
    let some = c.query_opt(&one, &[&3i64]).await.unwrap();
    assert_eq!(some.map(|r| r.get::<_, i64>(0)), Some(3));
    assert!(c.query_opt(&one, &[&9i64]).await.unwrap().is_none());

    let all = format!("SELECT id FROM {table} WHERE id > $1");
    let row_count = |e: DbError| match e {
        DbError::RowCount { expected, got } => (expected, got),
        other => panic!("not a row count: {other:?}"),
    };
    let none = c.query_one(&one, &[&9i64]).await.unwrap_err();
    assert_eq!(row_count(none), ("exactly one", 0));
    let three = c.query_one(&all, &[&0i64]).await.unwrap_err();
    assert_eq!(row_count(three), ("exactly one", 3));
    let two = c.query_opt(&all, &[&1i64]).await.unwrap_err();
    assert_eq!(row_count(two), ("at most one", 2));
}

async fn rows_on_every_path(statement_cache: &str) {
    let db = Db::new(&[("DB_STATEMENT_CACHE", statement_cache)]).await;
    let table = format!("{}.t", db.schema);
    db.admin
        .batch_execute(&format!(
            "CREATE TABLE {table} (id int8); INSERT INTO {table} VALUES (1), (2), (3)"
        ))
        .await
        .unwrap();
    let pool = db.pool().await;
    let mut c = pool.get().await.unwrap();
    counts_rows(&c, &table).await;
    let tx = c.transaction().await.unwrap();
    counts_rows(&tx, &table).await;
    tx.rollback().await.unwrap();
    drop(c);
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_one_and_opt_count_rows_with_the_statement_cache() {
    rows_on_every_path("on").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_one_and_opt_count_rows_without_the_statement_cache() {
    rows_on_every_path("off").await;
}
