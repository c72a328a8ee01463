//! The book's porting example (examples/port/after): the notes service wired
//! with wingspan, run as a process against its own schema and key prefix,
//! its telemetry checked at a real OTLP receiver. It keeps its prepared
//! statements, its row stream, its own error type and its own accept loop.

use crate::support::{self, Kind, PortAfter, Receiver, Status};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ported_service_keeps_its_code_and_exports_its_telemetry() {
    let receiver = Receiver::start().await;
    let mut port = PortAfter::start(&receiver).await;
    let http = support::http_client();
    let created = http
        .post(port.url("/notes"))
        .body("buy milk")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", port.output());
    let id = created.text().await.unwrap();
    // Its own error type: a unique violation (SqlState through DbError::code) is 409.
    let again = http
        .post(port.url("/notes"))
        .body("buy milk")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409, "{}", port.output());
    for _ in 0..2 {
        let note = http
            .get(port.url(&format!("/notes/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(note.text().await.unwrap(), "buy milk");
    }
    let second = http
        .post(port.url("/notes"))
        .body("call mom")
        .send()
        .await
        .unwrap();
    let second = second.text().await.unwrap();
    let list = http.get(port.url("/notes")).send().await.unwrap();
    assert_eq!(
        list.text().await.unwrap(),
        format!("{id}\tbuy milk\n{second}\tcall mom\n")
    );
    let missing = http.get(port.url("/notes/999999")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    // Timers are off (60 s): nothing has been exported before the stop.
    assert!(receiver.spans().is_empty(), "exported before SIGTERM");
    // SIGTERM: the service's own loop stops on wingspan::shutdown_signal and flushes.
    assert!(port.stop().await, "exit status\n{}", port.output());

    let spans = receiver.spans();
    let dump = support::dump_spans(&spans);
    let server = spans
        .iter()
        .find(|s| s.name == "GET /notes/{id}")
        .unwrap_or_else(|| panic!("{dump}"));
    assert_eq!(server.kind, Kind::Server);
    // The peer address from the service's own accept loop (wingspan::http::with_peer).
    assert_eq!(
        server.attr_str("client.address"),
        Some("127.0.0.1"),
        "{dump}"
    );
    assert_eq!(server.schema_url, "https://opentelemetry.io/schemas/1.44.0");
    // The calls of a request sit under its SERVER span (the first read misses
    // the cache and selects, the second hits).
    let reads: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "GET /notes/{id}")
        .collect();
    let under_server: Vec<&str> = spans
        .iter()
        .filter(|s| {
            reads
                .iter()
                .any(|r| s.trace_id == r.trace_id && s.parent_span_id == r.span_id)
        })
        .map(|s| s.name.as_str())
        .collect();
    for name in ["GET", "SELECT notes"] {
        assert!(
            under_server.contains(&name),
            "no {name} under the request:\n{dump}"
        );
    }
    assert!(
        under_server.iter().any(|n| n.starts_with("acquire")),
        "no pool acquire under the request:\n{dump}"
    );
    // The prepared statement: its prepare span apart from its executions.
    for name in [
        "PREPARE SELECT notes",
        "SELECT notes",
        "PREPARE INSERT notes",
        "INSERT notes",
    ] {
        assert!(spans.iter().any(|s| s.name == name), "no {name}:\n{dump}");
    }
    // The row stream: one span, ended with the stream, with its row count.
    assert!(
        spans
            .iter()
            .any(|s| s.name == "SELECT notes" && s.attr_i64("db.response.returned_rows") == Some(2)),
        "{dump}"
    );
    let conflict = spans
        .iter()
        .find(|s| s.attr_str("db.response.status_code") == Some("23505"))
        .unwrap_or_else(|| panic!("{dump}"));
    assert_eq!(conflict.status, Status::Error);
    assert!(
        spans
            .iter()
            .any(|s| s.name == "GET" && s.kind == Kind::Client),
        "{dump}"
    );
    // The HTTP metrics, flushed at SIGTERM: two reads of one note by route.
    let reads = receiver
        .metric("http.server.request.duration")
        .into_iter()
        .filter(|p| p.matches(&[("http.route", "/notes/{id}")]))
        .map(|p| p.count)
        .sum::<u64>();
    assert!(
        reads >= 2,
        "http.server.request.duration for /notes/{{id}}: {reads}"
    );
    // The pool's settings, logged once at start with the profile they came from.
    let logs = support::dump_logs(&receiver.logs());
    assert!(logs.contains("PostgreSQL pool"), "{logs}");
    assert!(logs.contains("profile"), "{logs}");
    // The console log goes to a pipe here: no colour codes.
    assert!(
        port.stderr().contains("PostgreSQL pool"),
        "{}",
        port.output()
    );
    assert!(!port.stderr().contains('\u{1b}'), "{}", port.output());
}
