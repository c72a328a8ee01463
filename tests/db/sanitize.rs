//! The sanitizer against the server's own reading of a statement: a session
//! with `standard_conforming_strings = off`, where a backslash escapes a
//! quote in a plain `'…'` string, sends no literal to the span.

use wingspan::db::Queryable;

use super::Db;
use crate::support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backslash_quotes_leak_nothing_with_standard_conforming_strings_off() {
    const MARK: &str = "Sekr3tReilly";
    let db = Db::new(&[("DB_POOL_SIZE", "1")]).await;
    let pool = db.pool().await;
    let c = pool.get().await.unwrap();
    c.batch_execute("SET standard_conforming_strings = off")
        .await
        .unwrap();
    // Read with the setting on (the sanitizer's default), `'O\'` would be a
    // literal and the marker a word of the statement; the server, with it
    // off, reads one literal.
    let sql = format!("SELECT 'O\\'{MARK} x', 'y' AS z");
    let row = c.query_one(&sql, &[]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), format!("O'{MARK} x"));
    drop(c);
    db.flush().await;
    let span = db
        .receiver
        .wait_for_span(|s| {
            s.attr_str("db.query.text")
                .is_some_and(|t| t.starts_with("SELECT ?"))
        })
        .await;
    let dump = support::dump_spans(&db.receiver.spans());
    assert!(!dump.contains(MARK), "{dump}");
    assert_eq!(span.attr_str("db.query.text"), Some("SELECT ?"));
    db.drop_schema().await;
}
