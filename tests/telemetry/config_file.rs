//! `OTEL_CONFIG_FILE`: a declarative configuration file alone sends spans
//! to the receiver it names, with the resource it lists.

use std::time::Duration;

use opentelemetry::trace::{Span as _, Tracer as _};

use crate::support::{self, Receiver};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_config_file_sets_endpoint_and_resource() {
    let receiver = Receiver::start().await;
    let service = support::test_service_name();
    // The endpoint through a reference, as the schema's examples do.
    let yaml = format!(
        "file_format: \"1.1\"\n\
         resource:\n  attributes:\n    - name: service.name\n      value: {service}\n    \
         - name: deployment.region\n      value: eu-west-3\n\
         propagator:\n  composite:\n    - tracecontext:\n\
         tracer_provider:\n  processors:\n    - batch:\n        schedule_delay: 100\n        \
         exporter:\n          otlp_http:\n            endpoint: ${{COLLECTOR}}/v1/traces\n"
    );
    let path =
        std::env::temp_dir().join(format!("wingspan-config-file-{}.yaml", std::process::id()));
    std::fs::write(&path, yaml).unwrap();
    let cfg = wingspan::Config::builder()
        .var("OTEL_CONFIG_FILE", path.to_str().unwrap())
        .var("COLLECTOR", receiver.http_endpoint())
        // Ignored while the file is in use: the file has its own endpoint.
        .var(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://127.0.0.1:9/v1/traces",
        )
        .var("WINGSPAN_CONSOLE_LOG", "false")
        .build()
        .expect("the file is valid");
    std::fs::remove_file(&path).ok();
    let telemetry = wingspan::init(cfg).expect("wingspan::init");

    let mut span = telemetry.tracer().start("from-config-file");
    span.end();
    telemetry.force_flush().await.unwrap();
    let spans = receiver
        .wait_for_spans(
            |s| s.iter().any(|s| s.name == "from-config-file"),
            Duration::from_secs(10),
        )
        .await;
    let span = spans
        .iter()
        .find(|s| s.name == "from-config-file")
        .expect("span exported");
    assert_eq!(span.resource_str("deployment.region"), Some("eu-west-3"));
    assert_eq!(span.resource_str("service.name"), Some(service.as_str()));
    telemetry.shutdown().await.unwrap();
}
