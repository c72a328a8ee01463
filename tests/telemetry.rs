//! The OTel pipeline end to end, over real OTLP receivers: both protocols,
//! the resource, nesting between `tracing` and the OTel API, logs carrying
//! trace context, the noisy-target filter, metrics and their buckets, the
//! sampler, an unreachable collector, shutdown flushing, and configuration
//! errors.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use opentelemetry::global;
use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, SpanKind, TraceContextExt as _, TraceFlags, TraceId,
    TraceState, Tracer as _,
};
use opentelemetry::{Context, KeyValue};

use crate::support::{self, find_point, Kind, MetricKind, Protocol, Receiver, Transport};

/// How long any single export may take to show up at the receiver.
const WAIT: Duration = Duration::from_secs(10);

/// Targets whose spans and logs must never be exported (the exporter's own).
const NOISY: &[&str] = &["opentelemetry", "tonic", "h2", "hyper", "reqwest"];

fn is_noisy(target: &str) -> bool {
    NOISY.iter().any(|n| target.starts_with(n))
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

async fn delivers_span_with_resource(protocol: Protocol, transport: Transport, gzip: bool) {
    let receiver = Receiver::start().await;
    let mut extra = vec![("WINGSPAN_ENV", "staging")];
    if gzip {
        extra.push(("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"));
    }
    let telemetry = support::telemetry(&receiver, protocol, &extra).await;
    let tracer = telemetry.tracer();

    let mut span = tracer
        .span_builder("probe")
        .with_kind(SpanKind::Client)
        .with_attributes([KeyValue::new("probe.n", 7_i64)])
        .start(tracer);
    span.end();
    telemetry.force_flush().await.unwrap();

    let span = receiver.wait_for_span(|s| s.name == "probe").await;
    assert_eq!(span.transport, transport);
    assert_eq!(span.kind, Kind::Client);
    assert_eq!(span.attr_i64("probe.n"), Some(7));
    assert!(span.is_root());
    assert_eq!(span.trace_id.len(), 32);
    assert_eq!(span.scope, wingspan::telemetry::SCOPE_NAME);
    assert_eq!(
        span.resource_str("service.name"),
        Some(support::test_service_name().as_str())
    );
    assert_eq!(
        span.resource_str("deployment.environment.name"),
        Some("staging")
    );
    assert_eq!(span.resource_str("host.name"), Some(hostname().as_str()));
    assert_eq!(
        span.resource.get("process.pid").and_then(|v| v.as_i64()),
        Some(i64::from(std::process::id()))
    );
    // The process entity requires its creation time (ISO 8601, UTC).
    let created = span
        .resource_str("process.creation.time")
        .expect("process.creation.time on the resource");
    assert!(
        created.len() >= 20 && created.ends_with('Z') && created.as_bytes()[10] == b'T',
        "{created}"
    );
    if gzip {
        assert!(
            receiver.gzip_request_count() > 0,
            "no export arrived gzip-compressed: {:?}",
            receiver.last_headers()
        );
    } else {
        assert_eq!(receiver.gzip_request_count(), 0);
    }
    telemetry.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_grpc_delivers_span_with_resource() {
    delivers_span_with_resource(Protocol::Grpc, Transport::Grpc, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_http_protobuf_delivers_span_with_resource() {
    delivers_span_with_resource(Protocol::HttpProtobuf, Transport::Http, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_grpc_gzip_delivers_span() {
    delivers_span_with_resource(Protocol::Grpc, Transport::Grpc, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_http_protobuf_gzip_delivers_span() {
    delivers_span_with_resource(Protocol::HttpProtobuf, Transport::Http, true).await;
}

/// `OTEL_EXPORTER_OTLP_TIMEOUT=0` and `OTEL_METRIC_EXPORT_TIMEOUT=0` mean no
/// limit (the spec), not "time out at once": spans and metrics arrive.
async fn exports_with_timeouts_of_zero(protocol: Protocol) {
    let receiver = Receiver::start().await;
    let extra = [
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "0"),
        ("OTEL_METRIC_EXPORT_TIMEOUT", "0"),
    ];
    let telemetry = support::telemetry(&receiver, protocol, &extra).await;
    let tracer = telemetry.tracer();
    tracer.span_builder("no-limit").start(tracer).end();
    telemetry
        .meter()
        .u64_counter("probe.no_limit")
        .build()
        .add(1, &[]);
    telemetry.force_flush().await.unwrap();
    receiver.wait_for_span(|s| s.name == "no-limit").await;
    receiver
        .wait_for_point("probe.no_limit", |p| p.value >= 1.0)
        .await;
    telemetry.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_grpc_timeouts_of_zero_mean_no_limit() {
    exports_with_timeouts_of_zero(Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_http_protobuf_timeouts_of_zero_mean_no_limit() {
    exports_with_timeouts_of_zero(Protocol::HttpProtobuf).await;
}

#[tracing::instrument]
async fn load_profile(user: u64) -> u64 {
    tokio::task::yield_now().await;
    tracing::info!(step = "loaded", "profile loaded");
    user + 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_instrumented_fn_nests_under_otel_api_span() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::Grpc, &[]).await;

    let outer = telemetry.tracer().start("otel.outer");
    let cx = Context::current_with_span(outer);
    {
        let _guard = cx.clone().attach();
        assert_eq!(load_profile(41).await, 42);
    }
    cx.span().end();
    telemetry.force_flush().await.unwrap();

    let outer = receiver.wait_for_span(|s| s.name == "otel.outer").await;
    let inner = receiver.wait_for_span(|s| s.name == "load_profile").await;
    let spans = receiver.spans();
    assert!(outer.is_root(), "{}", support::dump_spans(&spans));
    assert!(
        inner.is_child_of(&outer),
        "the #[instrument] span must nest under the OTel span:\n{}",
        support::dump_spans(&spans)
    );
    // #[instrument] records arguments with Debug.
    assert_eq!(
        inner.attr_str("user"),
        Some("41"),
        "{}",
        support::dump_spans(&spans)
    );
    // No keys outside the conventions from the bridge itself.
    for key in ["target", "busy_ns", "idle_ns", "code.module.name"] {
        assert!(
            !inner.attributes.contains_key(key),
            "{key}: {}",
            support::dump_spans(&spans)
        );
    }
    assert_eq!(inner.attr_str("code.file.path"), Some("tests/telemetry.rs"));
    // The event inside the span: a span event without the bridge's `level`,
    // `target` and `code.module.name`, and a log record whose severity and
    // scope carry them.
    let event = inner
        .events
        .iter()
        .find(|e| e.name == "profile loaded")
        .unwrap_or_else(|| panic!("{}", support::dump_spans(&spans)));
    assert!(event.attributes.contains_key("step"), "{event:?}");
    for key in ["level", "target", "code.module.name"] {
        assert!(!event.attributes.contains_key(key), "{key}: {event:?}");
    }
    let record = receiver.wait_for_log(|l| l.body == "profile loaded").await;
    assert_eq!(record.severity_text, "INFO");
    assert_eq!(record.scope, module_path!());
    assert_eq!(record.span_id, inner.span_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_otel_api_span_nests_under_entered_tracing_span() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::Grpc, &[]).await;

    let app = tracing::info_span!("app.handler");
    {
        let _entered = app.enter();
        let mut inner = telemetry
            .tracer()
            .span_builder("otel.inner")
            .with_kind(SpanKind::Client)
            .start_with_context(telemetry.tracer(), &Context::current());
        inner.end();
    }
    drop(app);
    telemetry.force_flush().await.unwrap();

    let app = receiver.wait_for_span(|s| s.name == "app.handler").await;
    let inner = receiver.wait_for_span(|s| s.name == "otel.inner").await;
    let spans = receiver.spans();
    assert!(app.is_root(), "{}", support::dump_spans(&spans));
    assert!(
        inner.is_child_of(&app),
        "the OTel span must nest under the entered tracing span:\n{}",
        support::dump_spans(&spans)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_context_follows_spawned_tasks() {
    use opentelemetry::context::FutureExt as _;
    use tracing::Instrument as _;

    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::Grpc, &[]).await;
    let tracer = telemetry.tracer().clone();

    // A tracing span handed to the task with `.instrument`.
    let app = tracing::info_span!("app.parent");
    let t = tracer.clone();
    tokio::spawn(
        async move {
            tokio::task::yield_now().await;
            t.start_with_context("spawned.under.tracing", &Context::current())
                .end();
        }
        .instrument(app.clone()),
    )
    .await
    .unwrap();
    drop(app);

    // An OTel context handed to the task with `.with_context`.
    let cx = Context::current_with_span(tracer.start("otel.parent"));
    let t = tracer.clone();
    tokio::spawn(
        async move {
            tokio::task::yield_now().await;
            t.start_with_context("spawned.under.otel", &Context::current())
                .end();
            tracing::info_span!("tracing.under.otel").in_scope(|| {});
        }
        .with_context(cx.clone()),
    )
    .await
    .unwrap();
    cx.span().end();
    telemetry.force_flush().await.unwrap();

    let spans = receiver.wait_for_spans(|s| s.len() >= 5, WAIT).await;
    let get = |name: &str| {
        spans
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no {name}:\n{}", support::dump_spans(&spans)))
    };
    let dump = support::dump_spans(&spans);
    assert!(
        get("spawned.under.tracing").is_child_of(get("app.parent")),
        "{dump}"
    );
    assert!(
        get("spawned.under.otel").is_child_of(get("otel.parent")),
        "{dump}"
    );
    assert!(
        get("tracing.under.otel").is_child_of(get("otel.parent")),
        "{dump}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_event_in_tracing_span_becomes_log_with_its_ids() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::HttpProtobuf, &[]).await;

    let span = tracing::info_span!("with.log");
    let line = line!() + 1;
    span.in_scope(|| tracing::info!(answer = 42_i64, "inside the span"));
    tracing::info!(name: "test.named_event", "an event by name");
    drop(span);
    telemetry.force_flush().await.unwrap();

    let span = receiver.wait_for_span(|s| s.name == "with.log").await;
    let log = receiver.wait_for_log(|l| l.body == "inside the span").await;
    let logs = receiver.logs();
    assert_eq!(log.severity_text, "INFO");
    assert_eq!(log.attr_i64("answer"), Some(42));
    assert_eq!(log.trace_id, span.trace_id, "{}", support::dump_logs(&logs));
    assert_eq!(log.span_id, span.span_id, "{}", support::dump_logs(&logs));
    assert_eq!(
        log.resource_str("service.name"),
        Some(support::test_service_name().as_str())
    );
    // The conventions' code.* attributes, a path relative to the crate, and
    // no event name on a record that is not an event.
    assert_eq!(log.attr_str("code.file.path"), Some("tests/telemetry.rs"));
    assert_eq!(log.attr_i64("code.line.number"), Some(i64::from(line)));
    assert!(
        log.attributes.keys().all(|k| !k.starts_with("log.")),
        "{}",
        support::dump_logs(&logs)
    );
    assert_eq!(log.event_name, "", "{}", support::dump_logs(&logs));
    assert_eq!(log.scope, module_path!());
    // An event named on purpose keeps its name.
    let named = receiver
        .wait_for_log(|l| l.body == "an event by name")
        .await;
    assert_eq!(named.event_name, "test.named_event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_event_in_otel_context_carries_its_trace_id() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::Grpc, &[]).await;

    let cx = Context::current_with_span(telemetry.tracer().start("otel.only"));
    {
        let _guard = cx.clone().attach();
        tracing::warn!("no tracing span here");
    }
    tracing::info!("outside any span");
    cx.span().end();
    telemetry.force_flush().await.unwrap();

    let span = receiver.wait_for_span(|s| s.name == "otel.only").await;
    let inside = receiver
        .wait_for_log(|l| l.body == "no tracing span here")
        .await;
    let outside = receiver
        .wait_for_log(|l| l.body == "outside any span")
        .await;
    let logs = receiver.logs();
    assert_eq!(inside.severity_text, "WARN");
    assert_eq!(
        inside.trace_id,
        span.trace_id,
        "{}",
        support::dump_logs(&logs)
    );
    assert_eq!(
        inside.span_id,
        span.span_id,
        "{}",
        support::dump_logs(&logs)
    );
    assert_eq!(outside.trace_id, "", "{}", support::dump_logs(&logs));
}

/// With every target at `trace`, the exporter's own crates would show up as
/// spans and logs (and feed back into the exporter) without the filter.
async fn noisy_targets_stay_out(protocol: Protocol) {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, protocol, &[("RUST_LOG", "trace")]).await;
    let tracer = telemetry.tracer();

    tracer.start("mine.1").end();
    tracing::info_span!("mine.2").in_scope(|| {
        tracer.start("mine.3").end();
        tracing::info!("mine.log");
    });
    // Several export rounds, so the exporters' own activity (connections,
    // requests) happens while the subscriber is listening.
    for _ in 0..3 {
        telemetry.force_flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    receiver.wait_for_spans(|s| s.len() >= 3, WAIT).await;
    receiver.wait_for_log(|l| l.body == "mine.log").await;
    telemetry.force_flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    telemetry.force_flush().await.unwrap();

    let spans = receiver.spans();
    let mut by_name = std::collections::BTreeMap::<&str, usize>::new();
    for s in &spans {
        *by_name.entry(s.name.as_str()).or_default() += 1;
    }
    assert_eq!(
        by_name.into_iter().collect::<Vec<_>>(),
        [("mine.1", 1), ("mine.2", 1), ("mine.3", 1)],
        "only the test's own spans may be exported (name, count)"
    );
    let logs = receiver.logs();
    // Stricter than the deny list: with every target at `trace`, only this
    // module's own events may arrive.
    let scopes: std::collections::BTreeSet<&str> = logs.iter().map(|l| l.scope.as_str()).collect();
    assert_eq!(
        scopes.into_iter().collect::<Vec<_>>(),
        [module_path!()],
        "log records from other targets"
    );
    let noisy: Vec<_> = logs
        .iter()
        .filter(|l| {
            is_noisy(&l.scope)
                || l.attributes
                    .values()
                    .any(|v| v.as_str().is_some_and(is_noisy))
        })
        .collect();
    assert!(
        noisy.is_empty(),
        "{} of {} log records come from the exporter's own crates, e.g.:\n{}",
        noisy.len(),
        logs.len(),
        support::dump_logs(&noisy.into_iter().take(10).cloned().collect::<Vec<_>>())
    );
    assert!(logs.iter().any(|l| l.body == "mine.log"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_grpc_noisy_targets_are_not_exported() {
    noisy_targets_stay_out(Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_http_noisy_targets_are_not_exported() {
    noisy_targets_stay_out(Protocol::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_http_duration_histogram_has_wingspan_buckets() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::Grpc, &[]).await;

    // No explicit boundaries: the provider's view must supply them.
    let histogram = telemetry
        .meter()
        .f64_histogram("http.server.request.duration")
        .with_unit("s")
        .build();
    let attrs = [KeyValue::new("http.route", "/api/users/{id}")];
    histogram.record(0.29, &attrs);
    histogram.record(0.31, &attrs);
    telemetry.force_flush().await.unwrap();

    let p = receiver
        .wait_for_point("http.server.request.duration", |p| {
            p.matches(&[("http.route", "/api/users/{id}")]) && p.count == 2
        })
        .await;
    assert_eq!(p.kind, MetricKind::Histogram);
    assert_eq!(p.unit, "s");
    assert_eq!(p.bounds, wingspan::telemetry::buckets::HTTP_SERVER_DURATION);
    assert!(p.bounds.contains(&0.3));
    let edge = p.bounds.iter().position(|b| *b == 0.3).unwrap();
    // Bucket i counts (bounds[i-1], bounds[i]]: 0.29 lands at the 0.3 edge,
    // 0.31 in the next bucket.
    assert_eq!(p.bucket_counts.len(), p.bounds.len() + 1);
    assert_eq!(p.bucket_counts[edge], 1, "{:?}", p.bucket_counts);
    assert_eq!(p.bucket_counts[edge + 1], 1, "{:?}", p.bucket_counts);
    assert!((p.value - 0.60).abs() < 1e-9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_process_metrics_arrive() {
    let receiver = Receiver::start().await;
    let _telemetry = support::telemetry(&receiver, Protocol::HttpProtobuf, &[]).await;

    let cpu = receiver
        .wait_for_point("process.cpu.time", |p| p.matches(&[("cpu.mode", "user")]))
        .await;
    assert_eq!(cpu.kind, MetricKind::Sum { monotonic: true });
    assert_eq!(cpu.unit, "s");
    assert!(cpu.value >= 0.0);
    receiver
        .wait_for_point("process.cpu.time", |p| p.matches(&[("cpu.mode", "system")]))
        .await;
    // The convention requires cpu.mode on the utilization too.
    for mode in ["user", "system"] {
        receiver
            .wait_for_point("process.cpu.utilization", |p| {
                p.matches(&[("cpu.mode", mode)])
            })
            .await;
    }
    let all = receiver.metrics();
    assert!(
        support::find_points(&all, "process.cpu.utilization", &[])
            .iter()
            .all(|p| p.attributes.contains_key("cpu.mode")),
        "{}",
        support::dump_metrics(&all)
    );
    let mem = find_point(&all, "process.memory.usage", &[]);
    assert_eq!(mem.unit, "By");
    assert_eq!(mem.kind, MetricKind::Sum { monotonic: false });
    assert!(
        mem.value > 1_000_000.0,
        "resident set of {} bytes",
        mem.value
    );
    assert_eq!(mem.transport, Transport::Http);
    assert_eq!(
        mem.resource_str("service.name"),
        Some(support::test_service_name().as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_ratio_zero_exports_no_spans_but_metrics() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(
        &receiver,
        Protocol::Grpc,
        &[
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0"),
        ],
    )
    .await;

    let counter = telemetry.meter().u64_counter("test.requests").build();
    for i in 0..50 {
        telemetry.tracer().start(format!("unsampled.{i}")).end();
        tracing::info_span!("unsampled.tracing").in_scope(|| counter.add(1, &[]));
    }
    telemetry.force_flush().await.unwrap();
    let points = receiver
        .wait_for_metric("test.requests", |p| p[0].value == 50.0, WAIT)
        .await;
    assert_eq!(points.len(), 1);
    telemetry.force_flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        receiver.spans().is_empty(),
        "ratio 0 must sample nothing:\n{}",
        support::dump_spans(&receiver.spans())
    );
    assert_eq!(telemetry.loss_counts().spans_exported, 0);
}

fn remote_parent(trace: &str, span: &str, sampled: bool) -> Context {
    // Through the installed propagator, as an incoming request would.
    let flags = if sampled { "01" } else { "00" };
    let headers = HashMap::from([(
        "traceparent".to_owned(),
        format!("00-{trace}-{span}-{flags}"),
    )]);
    let cx = global::get_text_map_propagator(|p| p.extract(&headers));
    let sc = cx.span().span_context().clone();
    assert!(
        sc.is_valid() && sc.is_remote(),
        "propagator must extract {headers:?}"
    );
    cx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_parent_based_sampler_honors_remote_parent() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(
        &receiver,
        Protocol::Grpc,
        &[
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0"),
        ],
    )
    .await;
    let tracer = telemetry.tracer();
    let sampled_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let unsampled_trace = "0af7651916cd43dd8448eb211c80319c";

    let cx = remote_parent(sampled_trace, "00f067aa0ba902b7", true);
    tracer
        .span_builder("child.of.sampled")
        .with_kind(SpanKind::Server)
        .start_with_context(tracer, &cx)
        .end();
    let cx = remote_parent(unsampled_trace, "b7ad6b7169203331", false);
    tracer.start_with_context("child.of.unsampled", &cx).end();
    tracer.start("root.at.ratio.zero").end();
    // A hand-made remote context, too.
    let sc = SpanContext::new(
        TraceId::from_hex("11111111111111111111111111111111").unwrap(),
        SpanId::from_hex("2222222222222222").unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    tracer
        .start_with_context(
            "child.of.manual",
            &Context::new().with_remote_span_context(sc),
        )
        .end();
    telemetry.force_flush().await.unwrap();

    let child = receiver
        .wait_for_span(|s| s.name == "child.of.sampled")
        .await;
    let manual = receiver
        .wait_for_span(|s| s.name == "child.of.manual")
        .await;
    telemetry.force_flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let spans_after = receiver.spans();
    assert_eq!(
        spans_after.len(),
        2,
        "{}",
        support::dump_spans(&spans_after)
    );
    assert_eq!(child.trace_id, sampled_trace);
    assert_eq!(child.parent_span_id, "00f067aa0ba902b7");
    assert_eq!(child.kind, Kind::Server);
    assert_eq!(manual.trace_id, "11111111111111111111111111111111");
    assert_eq!(manual.parent_span_id, "2222222222222222");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_unreachable_collector_never_blocks_and_counts_losses() {
    // Any receiver: only the helper's settings are used; the endpoint is a
    // port where nothing listens.
    let receiver = Receiver::start().await;
    let dead = support::DeadPort::new();
    let endpoint = dead.http();
    let telemetry = support::telemetry(
        &receiver,
        Protocol::Grpc,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str())],
    )
    .await;
    let tracer = telemetry.tracer();

    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    for i in 0..10_000_i64 {
        let t = Instant::now();
        let mut span = tracer
            .span_builder("doomed")
            .with_attributes([KeyValue::new("i", i)])
            .start(tracer);
        span.end();
        slowest = slowest.max(t.elapsed());
    }
    let total = started.elapsed();
    eprintln!("10k spans: {total:?}, slowest {slowest:?}");
    // Generous correctness bounds, not speed claims.
    assert!(total < Duration::from_secs(2), "10k spans took {total:?}");
    assert!(
        slowest < Duration::from_millis(500),
        "one span took {slowest:?}"
    );

    // The flush itself may report the failure; what matters is the count.
    let t = Instant::now();
    let flushed = telemetry.force_flush().await;
    eprintln!("flush: {:?} {flushed:?}", t.elapsed());
    let deadline = Instant::now() + WAIT;
    while telemetry.loss_counts().spans_export_failed == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let losses = telemetry.loss_counts();
    eprintln!("after flush: {losses:?}");
    assert!(losses.spans_export_failed > 0, "{losses:?}");
    assert_eq!(losses.spans_exported, 0, "{losses:?}");
    assert!(telemetry.dropped_spans() > 0);
    assert!(receiver.spans().is_empty());

    let started = Instant::now();
    let _ = telemetry.shutdown().await;
    let took = started.elapsed();
    eprintln!("shutdown: {took:?}");
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_full_queue_drops_are_counted_and_exported() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(
        &receiver,
        Protocol::Grpc,
        &[
            ("OTEL_BSP_MAX_QUEUE_SIZE", "64"),
            ("OTEL_BSP_SCHEDULE_DELAY", "60000"),
        ],
    )
    .await;
    let tracer = telemetry.tracer();
    const N: u64 = 2_000;
    for _ in 0..N {
        tracer.start("burst").end();
    }
    telemetry.force_flush().await.unwrap();
    let losses = telemetry.loss_counts();
    assert!(losses.spans_queue_full > 0, "{losses:?}");
    assert_eq!(losses.spans_export_failed, 0, "{losses:?}");

    // Every span is either delivered or counted as dropped.
    let delivered = N - losses.spans_queue_full;
    let spans = receiver
        .wait_for_spans(|s| s.len() as u64 >= delivered, WAIT)
        .await;
    assert_eq!(spans.len() as u64, delivered, "{losses:?}");
    assert_eq!(telemetry.loss_counts().spans_exported, delivered);
    assert_eq!(telemetry.dropped_spans(), losses.spans_queue_full);

    // The conventions' SDK self-observability metrics.
    let processed = "otel.sdk.processor.span.processed";
    let p = receiver
        .wait_for_point(processed, |p| {
            p.matches(&[("error.type", "queue_full")]) && p.value == losses.spans_queue_full as f64
        })
        .await;
    receiver
        .wait_for_point("otel.sdk.exporter.span.exported", |p| {
            p.value == delivered as f64
        })
        .await;
    let points = receiver.metrics();
    assert_eq!(p.kind, MetricKind::Sum { monotonic: true });
    assert_eq!(p.unit, "{span}");
    assert_eq!(
        p.attributes
            .get("otel.component.type")
            .and_then(|v| v.as_str()),
        Some("batching_span_processor")
    );
    assert!(p.attributes.contains_key("otel.component.name"));
    let exported = support::find_points(&points, "otel.sdk.exporter.span.exported", &[]);
    // Failure series exist from the start (for alert rules), at 0.
    assert!(
        exported
            .iter()
            .all(|p| !p.attributes.contains_key("error.type") || p.value == 0.0),
        "no failed export expected:\n{}",
        support::dump_metrics(&points)
    );
    let exported: Vec<_> = exported
        .into_iter()
        .filter(|p| !p.attributes.contains_key("error.type"))
        .collect();
    assert_eq!(
        exported[0]
            .attributes
            .get("otel.component.type")
            .and_then(|v| v.as_str()),
        Some("otlp_grpc_span_exporter")
    );
    // No bare keys.
    for p in &points {
        assert!(
            !p.attributes.contains_key("reason") && !p.attributes.contains_key("signal"),
            "{}",
            support::dump_metrics(&points)
        );
    }
    // Metric data points and log records are counted too.
    let p = receiver
        .wait_for_point("otel.sdk.exporter.metric_data_point.exported", |p| {
            p.value > 0.0
        })
        .await;
    assert_eq!(p.unit, "{data_point}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_shutdown_flushes_spans_logs_and_metrics() {
    let receiver = Receiver::start().await;
    // Nothing is exported on a timer during the test: only shutdown can
    // deliver what follows.
    let telemetry = support::telemetry(
        &receiver,
        Protocol::HttpProtobuf,
        &[
            ("OTEL_BSP_SCHEDULE_DELAY", "60000"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "60000"),
        ],
    )
    .await;
    let counter = telemetry
        .meter()
        .u64_counter("test.before_shutdown")
        .build();
    for i in 0..5 {
        telemetry.tracer().start(format!("last.{i}")).end();
    }
    tracing::info!("last words");
    counter.add(3, &[]);
    assert!(receiver.spans().is_empty());

    let started = Instant::now();
    telemetry.shutdown().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));

    let spans = receiver.spans();
    assert_eq!(spans.len(), 5, "{}", support::dump_spans(&spans));
    assert!(receiver.logs().iter().any(|l| l.body == "last words"));
    let metrics = receiver.metrics();
    let p = find_point(&metrics, "test.before_shutdown", &[]);
    assert_eq!(p.value, 3.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_bad_configuration_fails_cleanly() {
    // Strict: by default an invalid OTEL_* value is a warning
    // (`otlp_options::telemetry_invalid_otel_values_are_logged_warnings_not_a_stopped_service`).
    let err = wingspan::Config::from_lookup(|name| match name {
        "OTEL_EXPORTER_OTLP_PROTOCOL" => Some("http/json".to_owned()),
        "WINGSPAN_STRICT_CONFIG" => Some("true".to_owned()),
        _ => None,
    })
    .unwrap_err();
    assert_eq!(err.variable, "OTEL_EXPORTER_OTLP_PROTOCOL");
    assert_eq!(err.value, "http/json");
    let msg = err.to_string();
    assert!(
        msg.contains("OTEL_EXPORTER_OTLP_PROTOCOL") && msg.contains("grpc"),
        "{msg}"
    );

    // A bad RUST_LOG is refused by the configuration, naming the variable...
    let receiver = Receiver::start().await;
    let vars = support::config_vars(&receiver, Protocol::Grpc, &[("RUST_LOG", "info,foo=loud")]);
    let err = wingspan::Config::from_lookup(|name| {
        vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
    .unwrap_err();
    assert_eq!(err.variable, "RUST_LOG");
    // ...and by init when set in code, without leaving a subscriber
    // half-installed.
    let mut cfg = support::config(&receiver, Protocol::Grpc, &[]);
    cfg.telemetry.log_filter = "info,foo=loud".to_owned();
    let err = wingspan::init(cfg).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("RUST_LOG"), "{msg}");
    assert!(msg.contains("foo=loud"), "{msg}");

    let telemetry = support::telemetry(&receiver, Protocol::Grpc, &[]).await;
    tracing::info_span!("after.failed.init").in_scope(|| {});
    telemetry.force_flush().await.unwrap();
    receiver
        .wait_for_span(|s| s.name == "after.failed.init")
        .await;
}

async fn shutdown_with_unreachable_collector_is_bounded(protocol: Protocol) {
    let receiver = Receiver::start().await;
    let dead = support::DeadPort::new();
    let endpoint = dead.http();
    let telemetry = support::telemetry(
        &receiver,
        protocol,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "60000"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "4096"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "60000"),
        ],
    )
    .await;
    // A full queue of eight batches, logs and metrics pending: everything is
    // left to shutdown, and every export retries against the dead port.
    for i in 0..4096 {
        telemetry.tracer().start(format!("pending.{}", i % 4)).end();
    }
    for _ in 0..100 {
        tracing::info!("pending log");
    }
    telemetry
        .meter()
        .u64_counter("pending.counter")
        .build()
        .add(1, &[]);

    let started = Instant::now();
    let result = telemetry.shutdown().await;
    let took = started.elapsed();
    eprintln!(
        "shutdown {took:?}: {result:?} {:?}",
        telemetry.loss_counts()
    );
    // The contract is SHUTDOWN_TIMEOUT for the whole shutdown, not per
    // signal; the margin absorbs a loaded machine.
    let bound = wingspan::telemetry::SHUTDOWN_TIMEOUT + Duration::from_millis(1500);
    assert!(took < bound, "shutdown took {took:?}");
    assert!(telemetry.loss_counts().spans_export_failed > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_grpc_shutdown_with_unreachable_collector_is_bounded() {
    shutdown_with_unreachable_collector_is_bounded(Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_http_shutdown_with_unreachable_collector_is_bounded() {
    shutdown_with_unreachable_collector_is_bounded(Protocol::HttpProtobuf).await;
}

async fn headers_reach_the_collector(protocol: Protocol) {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(
        &receiver,
        protocol,
        &[(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "x-api-key=s3cr3t,x-tenant=acme",
        )],
    )
    .await;
    telemetry.tracer().start("with.headers").end();
    telemetry.force_flush().await.unwrap();
    receiver.wait_for_span(|s| s.name == "with.headers").await;
    let headers = receiver.last_headers();
    assert_eq!(headers.get("x-api-key").map(String::as_str), Some("s3cr3t"));
    assert_eq!(headers.get("x-tenant").map(String::as_str), Some("acme"));
    // Never shown in the configuration's Debug output.
    assert!(!format!("{:?}", telemetry.config()).contains("s3cr3t"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_grpc_headers_reach_the_collector() {
    headers_reach_the_collector(Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_http_headers_reach_the_collector() {
    headers_reach_the_collector(Protocol::HttpProtobuf).await;
}

async fn refusing_collector_counts_losses_then_recovers(protocol: Protocol) {
    let receiver = Receiver::start().await;
    receiver.set_failing(true);
    let telemetry = support::telemetry(&receiver, protocol, &[]).await;
    for _ in 0..10 {
        telemetry.tracer().start("refused").end();
    }
    let _ = telemetry.force_flush().await;
    let deadline = Instant::now() + WAIT;
    while telemetry.loss_counts().spans_export_failed < 10 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let losses = telemetry.loss_counts();
    assert_eq!(losses.spans_export_failed, 10, "{losses:?}");
    assert!(receiver.spans().is_empty());
    assert!(receiver.request_count() > 0, "the exporter never tried");

    receiver.set_failing(false);
    telemetry.tracer().start("accepted").end();
    telemetry.force_flush().await.unwrap();
    receiver.wait_for_span(|s| s.name == "accepted").await;
    assert!(receiver.spans().iter().all(|s| s.name != "refused"));
    assert_eq!(telemetry.loss_counts().spans_exported, 1);
    // The failures are also exported as a metric once the collector is back:
    // the conventions' exporter counter, with `error.type` on failures.
    let exported = "otel.sdk.exporter.span.exported";
    let failed = |p: &[support::MetricPoint]| -> f64 {
        support::find_points(p, exported, &[])
            .iter()
            .filter(|p| p.attributes.contains_key("error.type"))
            .map(|p| p.value)
            .sum()
    };
    let points = receiver
        .wait_for_metric(exported, |p| failed(p) == 10.0, WAIT)
        .await;
    assert_eq!(failed(&points), 10.0, "{}", support::dump_metrics(&points));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_grpc_refusing_collector_counts_losses_then_recovers() {
    refusing_collector_counts_losses_then_recovers(Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_http_refusing_collector_counts_losses_then_recovers() {
    refusing_collector_counts_losses_then_recovers(Protocol::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_slow_collector_never_blocks_span_creation() {
    let receiver = Receiver::start().await;
    receiver.set_delay(Duration::from_secs(3));
    let telemetry = support::telemetry(&receiver, Protocol::Grpc, &[]).await;
    let tracer = telemetry.tracer();
    // Exports start (and hang) every 50 ms while spans keep coming.
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    for _ in 0..200 {
        let t = Instant::now();
        tracer.start("while.slow").end();
        slowest = slowest.max(t.elapsed());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(
        slowest < Duration::from_millis(500),
        "one span took {slowest:?} with a slow collector"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    receiver.set_delay(Duration::ZERO);
    telemetry.force_flush().await.unwrap();
    receiver.wait_for_spans(|s| s.len() == 200, WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_sdk_disabled_exports_nothing() {
    let receiver = Receiver::start().await;
    let telemetry =
        support::telemetry(&receiver, Protocol::Grpc, &[("OTEL_SDK_DISABLED", "true")]).await;
    telemetry.tracer().start("never").end();
    tracing::info_span!("never.tracing").in_scope(|| tracing::info!("never logged"));
    telemetry
        .meter()
        .u64_counter("never.counted")
        .build()
        .add(1, &[]);
    telemetry.force_flush().await.unwrap();
    // Several metric intervals.
    tokio::time::sleep(Duration::from_millis(4 * support::METRIC_INTERVAL_MS)).await;
    assert_eq!(receiver.request_count(), 0);
    telemetry.shutdown().await.unwrap();
    assert_eq!(receiver.request_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_signal_exporters_can_be_switched_off() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(
        &receiver,
        Protocol::HttpProtobuf,
        &[
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ],
    )
    .await;
    telemetry.tracer().start("not.exported").end();
    tracing::info!("not exported either");
    let counter = telemetry.meter().u64_counter("still.counted").build();
    counter.add(2, &[]);
    telemetry.force_flush().await.unwrap();
    receiver
        .wait_for_point("still.counted", |p| p.value == 2.0)
        .await;
    telemetry.force_flush().await.unwrap();
    assert!(receiver.spans().is_empty());
    assert!(receiver.logs().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_resource_attributes_add_and_override_but_not_the_service_name() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(
        &receiver,
        Protocol::Grpc,
        &[
            ("OTEL_SERVICE_NAME", "checkout"),
            ("WINGSPAN_SERVICE_VERSION", "1.2.3"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.name=ignored,team=payments,deployment.environment.name=moon",
            ),
        ],
    )
    .await;
    telemetry.tracer().start("with.resource").end();
    telemetry.force_flush().await.unwrap();
    let span = receiver.wait_for_span(|s| s.name == "with.resource").await;
    assert_eq!(span.resource_str("service.name"), Some("checkout"));
    assert_eq!(span.resource_str("service.version"), Some("1.2.3"));
    assert_eq!(span.resource_str("team"), Some("payments"));
    // Detected attributes give way to the user's (the profile stays
    // development for the defaults it picks).
    assert_eq!(
        span.resource_str("deployment.environment.name"),
        Some("moon")
    );
    assert_eq!(span.resource_str("telemetry.sdk.language"), Some("rust"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_every_wingspan_histogram_gets_its_buckets() {
    use wingspan::telemetry::buckets;

    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::Grpc, &[]).await;
    let cases: &[(&str, &[f64])] = &[
        (
            "http.server.request.duration",
            buckets::HTTP_SERVER_DURATION,
        ),
        ("db.client.operation.duration", buckets::DB_CLIENT_DURATION),
        ("db.client.connection.create_time", buckets::DB_POOL_TIMES),
        ("db.client.connection.wait_time", buckets::DB_POOL_TIMES),
        ("db.client.connection.use_time", buckets::DB_POOL_TIMES),
        ("gen_ai.client.operation.duration", buckets::GEN_AI_DURATION),
        ("gen_ai.client.token.usage", buckets::GEN_AI_TOKENS),
    ];
    for (name, _) in cases {
        let h = telemetry.meter().f64_histogram(*name).build();
        h.record(0.2, &[]);
    }
    // A histogram wingspan knows nothing about keeps the SDK default.
    telemetry
        .meter()
        .f64_histogram("app.other")
        .build()
        .record(0.2, &[]);
    telemetry.force_flush().await.unwrap();

    for (name, bounds) in cases {
        let p = receiver.wait_for_point(name, |_| true).await;
        assert_eq!(p.bounds, *bounds, "{name}");
        assert_eq!(p.count, 1, "{name}");
    }
    let other = receiver.wait_for_point("app.other", |_| true).await;
    assert_ne!(other.bounds, buckets::HTTP_SERVER_DURATION);
    assert!(!other.bounds.is_empty());
}

mod config_file;
#[cfg(feature = "postgres")]
mod driver_logs;
mod endpoint_password;
mod exporter_lists;
mod histograms;
mod limits;
mod otlp_options;
#[cfg(feature = "prometheus")]
mod outage;
#[cfg(feature = "llm")]
mod propagators;
mod resource;
mod span_exporter;
mod tail_sampling;
mod vendors;
mod weaver;

/// The gRPC exporters run on wingspan's own export thread: `init` outside
/// any runtime works, and its spans reach a real gRPC receiver (served by a
/// runtime of the test's own, which the exporter never enters).
#[test]
fn telemetry_grpc_init_outside_a_runtime_exports() {
    let receiver_rt = tokio::runtime::Runtime::new().unwrap();
    let receiver = receiver_rt.block_on(support::Receiver::start());
    let cfg = wingspan::Config::builder()
        .var("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .var("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.grpc_endpoint())
        .var("WINGSPAN_CONSOLE_LOG", "false")
        .build()
        .unwrap();
    assert!(tokio::runtime::Handle::try_current().is_err());
    let telemetry = wingspan::init(cfg).unwrap();
    telemetry.tracer().start("outside a runtime").end();
    telemetry.tracer_provider().force_flush().unwrap();
    let span = receiver_rt.block_on(receiver.wait_for_span(|s| s.name == "outside a runtime"));
    assert_eq!(span.name, "outside a runtime");
}

/// http/protobuf needs no runtime: its client owns its thread.
#[test]
fn telemetry_http_init_outside_a_runtime_works() {
    let dead = support::DeadPort::new();
    let endpoint = dead.http();
    let cfg = wingspan::Config::builder()
        .var("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        .var("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .var("WINGSPAN_CONSOLE_LOG", "false")
        .build()
        .unwrap();
    let telemetry = wingspan::init(cfg).unwrap();
    telemetry.tracer().start("outside").end();
}

#[test]
fn telemetry_harmful_batch_settings_are_refused() {
    let refused = |var: &str, value: &str| {
        let err = wingspan::Config::builder()
            .strict()
            .var(var, value)
            .build()
            .expect_err(&format!("{var}={value} must be refused"));
        assert_eq!(err.variable, var);
        assert_eq!(err.value, value);
        err.expected
    };
    // 2^24 spans made the SDK reserve gigabytes.
    let expected = refused("OTEL_BSP_MAX_QUEUE_SIZE", "16777216");
    assert!(expected.contains("65536"), "{expected}");
    // 0 spins a core.
    let expected = refused("OTEL_BSP_SCHEDULE_DELAY", "0");
    assert!(expected.contains("10"), "{expected}");
    refused("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "100000");
    refused("OTEL_BLRP_MAX_QUEUE_SIZE", "16777216");
    refused("OTEL_BLRP_SCHEDULE_DELAY", "0");
    refused("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "abc");
    // Without strict mode each is a warning and the default applies.
    let cfg = wingspan::Config::builder()
        .var("OTEL_BSP_MAX_QUEUE_SIZE", "16777216")
        .build()
        .unwrap();
    assert_eq!(cfg.telemetry.batch.max_queue_size, 2048);
    assert_eq!(cfg.warnings[0].variable, "OTEL_BSP_MAX_QUEUE_SIZE");
    // The bounds themselves are accepted.
    wingspan::Config::builder()
        .var("OTEL_BSP_MAX_QUEUE_SIZE", "65536")
        .var("OTEL_BSP_SCHEDULE_DELAY", "10")
        .build()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_full_log_queue_drops_are_counted() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(
        &receiver,
        Protocol::Grpc,
        &[
            ("OTEL_BLRP_MAX_QUEUE_SIZE", "16"),
            ("OTEL_BLRP_SCHEDULE_DELAY", "60000"),
        ],
    )
    .await;
    const N: u64 = 500;
    for i in 0..N {
        tracing::info!(i, "burst log");
    }
    telemetry.force_flush().await.unwrap();
    let losses = telemetry.loss_counts();
    assert!(losses.log_records_queue_full > 0, "{losses:?}");
    // Every record is either delivered or counted as dropped.
    let delivered = N - losses.log_records_queue_full;
    let logs = receiver
        .wait_for_logs(
            |l| l.iter().filter(|l| l.body == "burst log").count() as u64 >= delivered,
            WAIT,
        )
        .await;
    let arrived = logs.iter().filter(|l| l.body == "burst log").count() as u64;
    assert_eq!(arrived, delivered, "{losses:?}");
    let processed = "otel.sdk.processor.log.processed";
    receiver
        .wait_for_point(processed, |p| {
            p.matches(&[("error.type", "queue_full")])
                && p.value == losses.log_records_queue_full as f64
        })
        .await;
}

/// With `install_subscriber(false)`, the layer composes into the
/// application's own subscriber.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_tracing_layer_composes_into_an_own_subscriber() {
    use tracing_subscriber::layer::SubscriberExt as _;

    let receiver = Receiver::start().await;
    let telemetry =
        wingspan::Telemetry::builder(support::config(&receiver, Protocol::HttpProtobuf, &[]))
            .install_subscriber(false)
            .build()
            .unwrap();
    let subscriber = tracing_subscriber::registry().with(telemetry.tracing_layer().unwrap());
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("own.subscriber").in_scope(|| tracing::info!("through my layer"));
    });
    telemetry.force_flush().await.unwrap();
    let span = receiver.wait_for_span(|s| s.name == "own.subscriber").await;
    let log = receiver
        .wait_for_log(|l| l.body == "through my layer")
        .await;
    assert_eq!(log.trace_id, span.trace_id);
}
