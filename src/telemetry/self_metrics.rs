//! The pipeline's own health, as the conventions' SDK self-observability
//! metrics (v1.44, `otel.sdk.*`), read by observable counters on the
//! periodic reader's thread.
//!
//! | metric | unit | attributes | Prometheus |
//! |---|---|---|---|
//! | `otel.sdk.processor.span.processed` | `{span}` | `otel.component.type`, `otel.component.name`, `error.type=queue_full` on drops | `otel_sdk_processor_span_processed_total` |
//! | `otel.sdk.exporter.span.exported` | `{span}` | component, `error.type` (`timeout`, `_OTHER`) on failures | `otel_sdk_exporter_span_exported_total` |
//! | `otel.sdk.exporter.metric_data_point.exported` | `{data_point}` | likewise | `otel_sdk_exporter_metric_data_point_exported_total` |
//! | `otel.sdk.processor.log.processed` | `{log_record}` | like spans | `otel_sdk_processor_log_processed_total` |
//! | `otel.sdk.exporter.log.exported` | `{log_record}` | like spans | `otel_sdk_exporter_log_exported_total` |
//!
//! Every series is reported from the start, at 0, so an alert on
//! `rate(...{error_type="queue_full"}[5m]) > 0` has a series to read.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use opentelemetry::metrics::{Meter, ObservableCounter};
use opentelemetry::KeyValue;

use super::dropped::{Losses, Outcomes, EXPORT_ERRORS};
use crate::names;

/// The `otel.component.type` of each stage, chosen by the builder from the
/// protocol, or the custom exporter given to it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Components {
    pub(crate) span_exporter: &'static str,
    pub(crate) metric_exporter: &'static str,
    pub(crate) log_exporter: &'static str,
}

/// `otel.component.type` and `otel.component.name` (`{type}/{n}`, n
/// counting the pipelines of this process).
fn component(kind: &'static str, instance: usize) -> [KeyValue; 2] {
    [
        KeyValue::new(names::OTEL_COMPONENT_TYPE, kind),
        KeyValue::new(names::OTEL_COMPONENT_NAME, format!("{kind}/{instance}")),
    ]
}

fn with_error(base: &[KeyValue; 2], error: &'static str) -> Vec<KeyValue> {
    let mut v = base.to_vec();
    v.push(KeyValue::new(names::ERROR_TYPE, error));
    v
}

/// The attribute sets of one exporter: success, then one per error class.
fn exporter_sets(kind: &'static str, instance: usize) -> ([KeyValue; 2], Vec<Vec<KeyValue>>) {
    let base = component(kind, instance);
    let failed = EXPORT_ERRORS.iter().map(|e| with_error(&base, e)).collect();
    (base, failed)
}

fn exported_counter(
    meter: &Meter,
    name: &'static str,
    unit: &'static str,
    description: &'static str,
    sets: ([KeyValue; 2], Vec<Vec<KeyValue>>),
    losses: Arc<Losses>,
    outcomes: fn(&Losses) -> &Outcomes,
) -> ObservableCounter<u64> {
    let (ok, failed) = sets;
    meter
        .u64_observable_counter(name)
        .with_unit(unit)
        .with_description(description)
        .with_callback(move |o| {
            let out = outcomes(&losses);
            o.observe(out.ok(), &ok);
            for (count, attrs) in out.failed.iter().zip(&failed) {
                o.observe(count.load(Ordering::Relaxed), attrs);
            }
        })
        .build()
}

fn processed_counter(
    meter: &Meter,
    name: &'static str,
    unit: &'static str,
    kind: &'static str,
    instance: usize,
    losses: Arc<Losses>,
    read: fn(&Losses) -> (&Outcomes, &AtomicU64),
) -> ObservableCounter<u64> {
    let ok = component(kind, instance);
    let full = with_error(&ok, names::ERROR_QUEUE_FULL);
    meter
        .u64_observable_counter(name)
        .with_unit(unit)
        .with_description(
            "The number of items for which the processing has finished, either successful or failed.",
        )
        .with_callback(move |o| {
            // Processed: exported or failed at export; dropped: never queued.
            let (exported, queue_full) = read(&losses);
            o.observe(exported.ok() + exported.failed(), &ok);
            o.observe(queue_full.load(Ordering::Relaxed), &full);
        })
        .build()
}

/// Registers the five counters on `meter`.
pub(crate) fn register(meter: &Meter, losses: &Arc<Losses>, components: Components) {
    static PIPELINES: AtomicUsize = AtomicUsize::new(0);
    let n = PIPELINES.fetch_add(1, Ordering::Relaxed);
    processed_counter(
        meter,
        names::OTEL_SDK_PROCESSOR_SPAN_PROCESSED,
        "{span}",
        names::COMPONENT_BATCHING_SPAN_PROCESSOR,
        n,
        losses.clone(),
        |l| (&l.spans, &l.spans_queue_full),
    );
    processed_counter(
        meter,
        names::OTEL_SDK_PROCESSOR_LOG_PROCESSED,
        "{log_record}",
        names::COMPONENT_BATCHING_LOG_PROCESSOR,
        n,
        losses.clone(),
        |l| (&l.logs, &l.logs_queue_full),
    );
    exported_counter(
        meter,
        names::OTEL_SDK_EXPORTER_SPAN_EXPORTED,
        "{span}",
        "The number of spans for which the export has finished, either successful or failed.",
        exporter_sets(components.span_exporter, n),
        losses.clone(),
        |l| &l.spans,
    );
    exported_counter(
        meter,
        names::OTEL_SDK_EXPORTER_METRIC_DATA_POINT_EXPORTED,
        "{data_point}",
        "The number of metric data points for which the export has finished, either successful or failed.",
        exporter_sets(components.metric_exporter, n),
        losses.clone(),
        |l| &l.metric_points,
    );
    exported_counter(
        meter,
        names::OTEL_SDK_EXPORTER_LOG_EXPORTED,
        "{log_record}",
        "The number of log records for which the export has finished, either successful or failed.",
        exporter_sets(components.log_exporter, n),
        losses.clone(),
        |l| &l.logs,
    );
}
