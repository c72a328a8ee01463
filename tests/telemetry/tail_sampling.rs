//! In-process tail sampling (`WINGSPAN_TAIL_SAMPLING=true`), end to end over
//! the OTLP receiver: with a base ratio of 0, the traces with an error and
//! the slow ones arrive whole with their decision, the others do not; a
//! sampled remote parent is honoured; spans that end after their root
//! follow its decision; a tiny buffer overflows without harm, counted; and
//! the HTTP metrics still count every request.
//!
//! Absence is asserted after a later kept trace has arrived: the batch
//! processor exports in order, so what was forwarded before it has arrived
//! too.

use std::net::SocketAddr;
use std::time::Duration;

use axum::{routing::get, Router};
use opentelemetry::context::FutureExt as _;
use reqwest::StatusCode;
use tokio::sync::watch;

use crate::support::{self, Protocol, Receiver, SpanRecord};

/// The slow threshold of these tests, far above a fast request even on a
/// loaded machine, and a handler safely above it.
const SLOW_MS: &str = "1000";
const SLOW_HANDLER: Duration = Duration::from_millis(1300);

/// Ratio 0: only errors, slow roots and sampled remote parents are kept.
const TAIL: [(&str, &str); 3] = [
    ("WINGSPAN_TAIL_SAMPLING", "true"),
    ("WINGSPAN_TAIL_SAMPLING_RATIO", "0"),
    ("WINGSPAN_TAIL_SAMPLING_SLOW_MS", SLOW_MS),
];

fn work(step: &'static str) {
    tracing::info_span!("tail.work", step).in_scope(|| {});
}

/// Released by the test once the root of a `/late/*` request has been
/// decided; the detached task then ends its span.
#[derive(Clone)]
struct Late(watch::Sender<bool>);

impl Default for Late {
    fn default() -> Self {
        Self(watch::channel(false).0)
    }
}

impl Late {
    fn release(&self) {
        self.0.send_replace(true);
    }
}

fn detach(late: &Late) {
    let mut gate = late.0.subscribe();
    tokio::spawn(
        async move {
            // A closed gate (the test ended) ends nothing.
            if gate.wait_for(|open| *open).await.is_ok() {
                work("late");
            }
        }
        .with_current_context(),
    );
}

async fn serve(telemetry: &wingspan::Telemetry, late: Late) -> SocketAddr {
    let (ok_late, fail_late) = (late.clone(), late);
    let app = Router::new()
        .route(
            "/ok",
            get(|| async {
                work("one");
                work("two");
                "ok"
            }),
        )
        .route(
            "/fail",
            get(|| async {
                work("before the error");
                (StatusCode::INTERNAL_SERVER_ERROR, "failed")
            }),
        )
        .route(
            "/slow",
            get(|| async {
                work("slow");
                tokio::time::sleep(SLOW_HANDLER).await;
                "slow"
            }),
        )
        .route(
            "/late/ok",
            get(move || async move {
                detach(&ok_late);
                "ok"
            }),
        )
        .route(
            "/late/fail",
            get(move || async move {
                detach(&fail_late);
                (StatusCode::INTERNAL_SERVER_ERROR, "failed")
            }),
        )
        .layer(wingspan::http::layer(telemetry));
    support::spawn_app(app).await
}

async fn get_status(addr: SocketAddr, path: &str, traceparent: Option<&str>) -> StatusCode {
    let mut req = support::http_client().get(format!("http://{addr}{path}"));
    if let Some(tp) = traceparent {
        req = req.header("traceparent", tp);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    res.text().await.unwrap();
    status
}

fn server_span(spans: &[SpanRecord], route: &str) -> Option<SpanRecord> {
    spans
        .iter()
        .find(|s| s.attr_str("http.route") == Some(route))
        .cloned()
}

async fn wait_for_root(
    receiver: &Receiver,
    telemetry: &wingspan::Telemetry,
    route: &str,
) -> SpanRecord {
    telemetry.force_flush().await.unwrap();
    receiver
        .wait_for_span(|s| s.attr_str("http.route") == Some(route))
        .await
}

fn children<'a>(spans: &'a [SpanRecord], root: &SpanRecord) -> Vec<&'a SpanRecord> {
    spans.iter().filter(|s| s.is_child_of(root)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_tail_keeps_errors_and_slow_traces_whole_and_drops_the_rest() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::Grpc, &TAIL).await;
    let addr = serve(&telemetry, Late::default()).await;

    for _ in 0..5 {
        assert_eq!(get_status(addr, "/ok", None).await, StatusCode::OK);
    }
    assert_eq!(
        get_status(addr, "/fail", None).await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(get_status(addr, "/slow", None).await, StatusCode::OK);

    let slow = wait_for_root(&receiver, &telemetry, "/slow").await;
    let spans = receiver.spans();
    let dump = support::dump_spans(&spans);
    let fail = server_span(&spans, "/fail").unwrap_or_else(|| panic!("no /fail trace:\n{dump}"));
    assert_eq!(
        fail.attr_str("wingspan.sampling.decision"),
        Some("error"),
        "{dump}"
    );
    let fail_children = children(&spans, &fail);
    assert_eq!(fail_children.len(), 1, "{dump}");
    assert_eq!(fail_children[0].attr_str("step"), Some("before the error"));
    assert_eq!(
        slow.attr_str("wingspan.sampling.decision"),
        Some("slow"),
        "{dump}"
    );
    assert_eq!(children(&spans, &slow).len(), 1, "{dump}");
    // Forwarded before /slow's trace, so it would have arrived by now.
    assert!(server_span(&spans, "/ok").is_none(), "{dump}");
    assert!(
        !spans.iter().any(|s| s.attr_str("step") == Some("one")),
        "{dump}"
    );
    // Only the kept roots carry a decision.
    assert!(
        spans
            .iter()
            .filter(|s| s.has_attr("wingspan.sampling.decision"))
            .all(|s| s.is_root()),
        "{dump}"
    );

    // Metrics come from instruments, not spans: every request is counted.
    receiver
        .wait_for_point("http.server.request.duration", |p| {
            p.matches(&[("http.route", "/ok")]) && p.count == 5
        })
        .await;
    for (decision, n) in [("error", 1.0), ("slow", 1.0), ("drop", 5.0), ("ratio", 0.0)] {
        receiver
            .wait_for_point("wingspan.sampling.traces", |p| {
                p.matches(&[("wingspan.sampling.decision", decision)]) && p.value == n
            })
            .await;
    }
    receiver
        .wait_for_point("wingspan.sampling.overflow", |p| p.value == 0.0)
        .await;
    telemetry.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_tail_honours_a_remote_parents_sampled_flag() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::HttpProtobuf, &TAIL).await;
    let addr = serve(&telemetry, Late::default()).await;

    let unsampled = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
    assert_eq!(
        get_status(addr, "/ok", Some(unsampled)).await,
        StatusCode::OK
    );
    let sampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    assert_eq!(get_status(addr, "/ok", Some(sampled)).await, StatusCode::OK);

    let root = wait_for_root(&receiver, &telemetry, "/ok").await;
    let spans = receiver.spans();
    let dump = support::dump_spans(&spans);
    assert_eq!(root.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736", "{dump}");
    assert_eq!(root.parent_span_id, "00f067aa0ba902b7", "{dump}");
    assert_eq!(
        root.attr_str("wingspan.sampling.decision"),
        Some("parent"),
        "{dump}"
    );
    assert_eq!(children(&spans, &root).len(), 2, "{dump}");
    // The caller that did not sample is not recorded at all.
    assert!(
        !spans
            .iter()
            .any(|s| s.trace_id == "0af7651916cd43dd8448eb211c80319c"),
        "{dump}"
    );
    telemetry.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_tail_spans_ending_after_their_root_follow_its_decision() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::Grpc, &TAIL).await;
    let late = Late::default();
    let addr = serve(&telemetry, late.clone()).await;

    // Dropped root, then its late span: dropped too.
    assert_eq!(get_status(addr, "/late/ok", None).await, StatusCode::OK);
    // Kept root: its late span is released only once the root has arrived.
    assert_eq!(
        get_status(addr, "/late/fail", None).await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let root = wait_for_root(&receiver, &telemetry, "/late/fail").await;
    assert_eq!(root.attr_str("wingspan.sampling.decision"), Some("error"));
    // Both tasks wait on the gate; the /late/ok root ended before /late/fail's
    // was even started.
    late.release();
    telemetry.force_flush().await.unwrap();
    let spans = receiver
        .wait_for_spans(
            |s| {
                s.iter()
                    .any(|s| s.is_child_of(&root) && s.attr_str("step") == Some("late"))
            },
            Duration::from_secs(10),
        )
        .await;
    // The dropped trace's late span would have been forwarded first.
    let late_spans: Vec<_> = spans
        .iter()
        .filter(|s| s.attr_str("step") == Some("late"))
        .collect();
    assert_eq!(late_spans.len(), 1, "{}", support::dump_spans(&spans));
    assert!(server_span(&spans, "/late/ok").is_none());
    telemetry.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_tail_overflow_is_counted_and_harmless() {
    let receiver = Receiver::start().await;
    let mut vars = TAIL.to_vec();
    vars.extend([
        ("WINGSPAN_TAIL_SAMPLING_MAX_SPANS", "1"),
        ("WINGSPAN_TAIL_SAMPLING_MAX_TRACES", "1"),
    ]);
    let telemetry = support::telemetry(&receiver, Protocol::Grpc, &vars).await;
    let addr = serve(&telemetry, Late::default()).await;

    // Two child spans each: the second overflows the one-span buffer.
    for _ in 0..3 {
        assert_eq!(get_status(addr, "/ok", None).await, StatusCode::OK);
    }
    // An error still arrives (its one child fits).
    assert_eq!(
        get_status(addr, "/fail", None).await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let fail = wait_for_root(&receiver, &telemetry, "/fail").await;
    assert_eq!(fail.attr_str("wingspan.sampling.decision"), Some("error"));
    assert!(server_span(&receiver.spans(), "/ok").is_none());
    receiver
        .wait_for_point("wingspan.sampling.overflow", |p| p.value == 3.0)
        .await;
    // Each overflowing trace is counted once, by the ratio's verdict (drop).
    receiver
        .wait_for_point("wingspan.sampling.traces", |p| {
            p.matches(&[("wingspan.sampling.decision", "drop")]) && p.value == 3.0
        })
        .await;
    telemetry.shutdown().await.unwrap();
}
