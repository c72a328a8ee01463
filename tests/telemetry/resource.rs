//! The resource as the receiver sees it: `OTEL_RESOURCE_ATTRIBUTES`
//! overrides what wingspan detects, `OTEL_SERVICE_NAME` still wins, and
//! `service.instance.id` is one UUID per process.

use opentelemetry::trace::{Span as _, Tracer as _};

use crate::support::{self, Protocol, Receiver};

fn is_uuid_v4(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 36
        && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-')
        && b[14] == b'4'
        && matches!(b[19], b'8' | b'9' | b'a' | b'b')
        && s.bytes()
            .enumerate()
            .all(|(i, c)| [8, 13, 18, 23].contains(&i) || c.is_ascii_hexdigit())
}

async fn probe(
    telemetry: &wingspan::Telemetry,
    receiver: &Receiver,
    name: &'static str,
) -> support::SpanRecord {
    telemetry.tracer().start(name).end();
    telemetry.force_flush().await.unwrap();
    receiver.wait_for_span(|s| s.name == name).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_resource_attributes_override_detected_ones_but_not_otel_service_name() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(
        &receiver,
        Protocol::HttpProtobuf,
        &[
            ("WINGSPAN_ENV", "production"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "host.name=pod-7,deployment.environment.name=canary-eu,service.name=ignored,team=core",
            ),
        ],
    )
    .await;
    let span = probe(&telemetry, &receiver, "resource.override").await;
    assert_eq!(span.resource_str("host.name"), Some("pod-7"));
    assert_eq!(
        span.resource_str("deployment.environment.name"),
        Some("canary-eu")
    );
    assert_eq!(span.resource_str("team"), Some("core"));
    // OTEL_SERVICE_NAME (set by the test support) wins over the attribute.
    assert_eq!(
        span.resource_str("service.name"),
        Some(support::test_service_name().as_str())
    );
    // The profile still picks the defaults it picks.
    assert_eq!(
        telemetry.config().profile,
        wingspan::config::Profile::Production
    );
    let id = span.resource_str("service.instance.id").unwrap();
    assert!(is_uuid_v4(id), "{id}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_service_instance_id_is_one_uuid_per_process_unless_set() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::Grpc, &[]).await;
    let first = probe(&telemetry, &receiver, "instance.first").await;
    let id = first
        .resource_str("service.instance.id")
        .unwrap()
        .to_owned();
    assert!(is_uuid_v4(&id), "{id}");
    assert_eq!(id, wingspan::config::process_instance_id());

    // A second pipeline of the same process names the same instance.
    let other = Receiver::start().await;
    let second = wingspan::Telemetry::builder(support::config(&other, Protocol::Grpc, &[]))
        .install_globals(false)
        .install_subscriber(false)
        .build()
        .unwrap();
    let span = probe(&second, &other, "instance.second").await;
    assert_eq!(span.resource_str("service.instance.id"), Some(id.as_str()));

    // The user's value wins.
    let third_receiver = Receiver::start().await;
    let third = wingspan::Telemetry::builder(support::config(
        &third_receiver,
        Protocol::Grpc,
        &[("OTEL_RESOURCE_ATTRIBUTES", "service.instance.id=replica-3")],
    ))
    .install_globals(false)
    .install_subscriber(false)
    .build()
    .unwrap();
    let span = probe(&third, &third_receiver, "instance.third").await;
    assert_eq!(span.resource_str("service.instance.id"), Some("replica-3"));
}
