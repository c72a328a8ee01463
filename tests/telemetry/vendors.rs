//! The vendor recipes of the book (`docs/src/vendors/*.env`, the variables
//! each vendor's own OTLP page gives), read as written and sent to a local
//! receiver standing in for the vendor's host: each test checks what that
//! vendor requires on the wire (headers on the right signals, paths under
//! the vendor's prefix, transport, temporality, compression).

use std::collections::BTreeMap;

use opentelemetry::trace::{Span as _, Tracer as _};
use opentelemetry::KeyValue;

use crate::support::{self, Certs, Export, MutualTls, Receiver, Signal, Transport};

/// The secrets the recipes name, as a shell would expand them.
const SECRETS: &[(&str, &str)] = &[
    ("DD_API_KEY", "dd-key-1"),
    ("GRAFANA_CLOUD_CREDENTIALS", "MTIzNDU2OmdsYy10b2tlbg=="),
    ("HONEYCOMB_API_KEY", "hc-key-1"),
    ("HONEYCOMB_METRICS_DATASET", "wingman-metrics"),
    ("NEW_RELIC_LICENSE_KEY", "nr-key-1"),
    ("DT_API_TOKEN", "dt0c01.SAMPLE.TOKEN"),
    ("ELASTIC_APM_SECRET_TOKEN", "es-token-1"),
];

/// The recipe's variables, `${NAME}` expanded from [`SECRETS`] and the
/// vendor's `origin` replaced by `local`.
fn recipe(file: &str, origin: &str, local: &str) -> Vec<(String, String)> {
    let path = support::paths::workspace_root()
        .join("docs/src/vendors")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let vars: Vec<(String, String)> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once('=').expect("NAME=value");
            let mut v = v.replace(origin, local);
            for (name, secret) in SECRETS {
                v = v.replace(&format!("${{{name}}}"), secret);
            }
            assert!(!v.contains("${"), "unexpanded {v}");
            (k.to_owned(), v)
        })
        .collect();
    assert!(
        vars.iter().any(|(_, v)| v.contains(local)),
        "{file} does not name {origin}"
    );
    vars
}

/// A pipeline built from the recipe (strict, so a recipe the configuration
/// would only warn about fails here), one span, one counter, one histogram
/// and one log record, flushed; the exports by signal.
async fn run(receiver: &Receiver, vars: &[(String, String)]) -> BTreeMap<&'static str, Export> {
    let mut b = wingspan::Config::builder()
        .strict()
        .service_name(support::test_service_name())
        .var("WINGSPAN_CONSOLE_LOG", "false")
        .var("OTEL_METRIC_EXPORT_INTERVAL", "200")
        .var("OTEL_BSP_SCHEDULE_DELAY", "50")
        .var("OTEL_BLRP_SCHEDULE_DELAY", "50");
    for (k, v) in vars {
        b = b.var(k, v);
    }
    let telemetry = wingspan::init(b.build().expect("the recipe is valid")).expect("init");
    let tracer = telemetry.tracer();
    let mut span = tracer.start("vendor-probe");
    span.set_attribute(KeyValue::new("probe.long", "x".repeat(5000)));
    span.end();
    let meter = telemetry.meter();
    meter.u64_counter("probe.count").build().add(2, &[]);
    meter
        .f64_histogram("probe.duration")
        .with_unit("s")
        .build()
        .record(0.012, &[]);
    tracing::info!(target: "probe", "vendor probe");
    telemetry
        .force_flush()
        .await
        .expect("every export succeeds");
    let mut by_signal = BTreeMap::new();
    for (name, signal) in [
        ("traces", Signal::Traces),
        ("metrics", Signal::Metrics),
        ("logs", Signal::Logs),
    ] {
        by_signal.insert(name, receiver.wait_for_export(signal).await);
    }
    by_signal
}

fn header<'e>(e: &'e Export, name: &str) -> Option<&'e str> {
    e.headers.get(name).map(String::as_str)
}

async fn counter_is_cumulative(receiver: &Receiver) -> bool {
    receiver
        .wait_for_point("probe.count", |_| true)
        .await
        .cumulative
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendors_datadog_recipe_sends_what_the_intake_requires() {
    let receiver = Receiver::start().await;
    let vars = recipe(
        "datadog.env",
        "https://otlp.datadoghq.com",
        &receiver.http_endpoint(),
    );
    let e = run(&receiver, &vars).await;
    for (signal, export) in &e {
        assert_eq!(export.transport, Transport::Http, "{signal}");
        assert_eq!(export.path, format!("/v1/{signal}"));
        assert_eq!(header(export, "dd-api-key"), Some("dd-key-1"), "{signal}");
    }
    assert_eq!(header(&e["traces"], "compute_stats"), Some("true"));
    assert_eq!(header(&e["metrics"], "compute_stats"), None);
    assert!(
        !counter_is_cumulative(&receiver).await,
        "Datadog refuses cumulative"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendors_grafana_cloud_recipe_posts_under_otlp_with_basic_auth() {
    let receiver = Receiver::start().await;
    let vars = recipe(
        "grafana-cloud.env",
        "https://otlp-gateway-prod-eu-west-0.grafana.net",
        &receiver.http_endpoint(),
    );
    let e = run(&receiver, &vars).await;
    for (signal, export) in &e {
        assert_eq!(export.transport, Transport::Http);
        assert_eq!(export.path, format!("/otlp/v1/{signal}"));
        // `%20` in the variable is a space on the wire.
        assert_eq!(
            header(export, "authorization"),
            Some("Basic MTIzNDU2OmdsYy10b2tlbg=="),
            "{signal}"
        );
    }
    assert!(
        counter_is_cumulative(&receiver).await,
        "Mimir stores cumulative"
    );
}

/// Honeycomb's `api.honeycomb.io:443`: no scheme, so TLS, here against a
/// local TLS receiver whose CA the test trusts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendors_honeycomb_recipe_uses_tls_and_puts_the_dataset_on_metrics_only() {
    let certs = Certs::new();
    certs.leaf("collector", "IP:127.0.0.1,DNS:localhost", "serverAuth");
    let read = |f: &str| std::fs::read(certs.path(f)).unwrap();
    let receiver = Receiver::start_mutual_tls(MutualTls {
        cert: read("collector.crt"),
        key: read("collector.key"),
        client_ca: None,
    })
    .await;
    let local = receiver
        .grpc_endpoint()
        .strip_prefix("https://")
        .unwrap()
        .to_owned();
    let mut vars = recipe("honeycomb.env", "api.honeycomb.io:443", &local);
    vars.push((
        "OTEL_EXPORTER_OTLP_CERTIFICATE".into(),
        certs.path("ca.pem").to_str().unwrap().into(),
    ));
    let e = run(&receiver, &vars).await;
    for (signal, export) in &e {
        assert_eq!(export.transport, Transport::Grpc, "{signal}");
        assert_eq!(
            header(export, "x-honeycomb-team"),
            Some("hc-key-1"),
            "{signal}"
        );
    }
    assert_eq!(
        header(&e["metrics"], "x-honeycomb-dataset"),
        Some("wingman-metrics")
    );
    assert_eq!(header(&e["traces"], "x-honeycomb-dataset"), None);
    assert_eq!(header(&e["logs"], "x-honeycomb-dataset"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendors_new_relic_recipe_compresses_sends_delta_and_caps_values() {
    let receiver = Receiver::start().await;
    let vars = recipe(
        "new-relic.env",
        "https://otlp.nr-data.net",
        &receiver.http_endpoint(),
    );
    let e = run(&receiver, &vars).await;
    for (signal, export) in &e {
        assert_eq!(export.path, format!("/v1/{signal}"));
        assert!(export.gzip, "{signal} not gzip");
        assert_eq!(header(export, "api-key"), Some("nr-key-1"), "{signal}");
    }
    assert!(!counter_is_cumulative(&receiver).await);
    let histogram = receiver.wait_for_point("probe.duration", |_| true).await;
    assert!(histogram.exp_scale.is_some(), "{histogram:?}");
    let span = receiver.wait_for_span(|s| s.name == "vendor-probe").await;
    assert_eq!(span.attr_str("probe.long").map(str::len), Some(4095));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendors_dynatrace_recipe_posts_protobuf_under_api_v2_otlp_with_delta() {
    let receiver = Receiver::start().await;
    let vars = recipe(
        "dynatrace.env",
        "https://abc12345.live.dynatrace.com",
        &receiver.http_endpoint(),
    );
    let e = run(&receiver, &vars).await;
    for (signal, export) in &e {
        assert_eq!(export.path, format!("/api/v2/otlp/v1/{signal}"));
        assert_eq!(
            header(export, "content-type"),
            Some("application/x-protobuf")
        );
        assert_eq!(
            header(export, "authorization"),
            Some("Api-Token dt0c01.SAMPLE.TOKEN"),
            "{signal}"
        );
    }
    assert!(
        !counter_is_cumulative(&receiver).await,
        "cumulative shows N/A"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendors_elastic_recipe_sends_the_secret_token_on_every_signal() {
    let receiver = Receiver::start().await;
    let vars = recipe(
        "elastic.env",
        "https://my-deployment.apm.us-east-1.aws.cloud.es.io:443",
        &receiver.http_endpoint(),
    );
    let e = run(&receiver, &vars).await;
    for (signal, export) in &e {
        assert_eq!(export.path, format!("/v1/{signal}"));
        assert_eq!(
            header(export, "authorization"),
            Some("Bearer es-token-1"),
            "{signal}"
        );
    }
}
