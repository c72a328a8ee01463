//! The telemetry pipeline's own losses: what the SDK dropped at its full
//! queues and what the exporters failed to deliver (the SDK
//! self-observability metrics; the book's telemetry chapter, "Pipeline and process metrics").

use crate::collect::Ctx;
use crate::model::{Loss, Pipeline, Section, Trend};
use crate::prom::PromError;

/// (signal, stage, counter, matchers of the lost ones).
const STAGES: [(&str, &str, &str, &str); 5] = [
    (
        "spans",
        "dropped",
        "otel_sdk_processor_span_processed_total",
        r#"error_type="queue_full""#,
    ),
    (
        "spans",
        "export_failed",
        "otel_sdk_exporter_span_exported_total",
        r#"error_type!="""#,
    ),
    (
        "logs",
        "dropped",
        "otel_sdk_processor_log_processed_total",
        r#"error_type="queue_full""#,
    ),
    (
        "logs",
        "export_failed",
        "otel_sdk_exporter_log_exported_total",
        r#"error_type!="""#,
    ),
    (
        "metric data points",
        "export_failed",
        "otel_sdk_exporter_metric_data_point_exported_total",
        r#"error_type!="""#,
    ),
];

pub fn collect(ctx: &Ctx) -> Result<Section<Pipeline>, PromError> {
    let w = ctx.w();
    let mut losses = Vec::new();
    for (signal, stage, counter, lost) in STAGES {
        let (all_c, all_p) = ctx.single(&format!("sum(increase({}[{w}]))", ctx.m(counter, "")))?;
        if all_c.is_none() && all_p.is_none() {
            continue;
        }
        let (lost_c, lost_p) =
            ctx.single(&format!("sum(increase({}[{w}]))", ctx.m(counter, lost)))?;
        let count = Trend::counted(lost_c, lost_p);
        let ratio = |l: Option<f64>, a: Option<f64>| match a {
            Some(a) if a > 0.0 => Some(l.unwrap_or(0.0) / a),
            _ => None,
        };
        losses.push(Loss {
            signal: signal.to_owned(),
            stage: stage.to_owned(),
            ratio: Trend::new(ratio(count.current, all_c), ratio(count.previous, all_p)),
            count,
        });
    }
    if losses.is_empty() {
        return Ok(Section::none(
            "No otel_sdk_* self-observability series in either window: the service's telemetry \
             does not reach this Prometheus through wingspan's pipeline (or predates it).",
        ));
    }
    Ok(Section::some(Pipeline { losses }))
}
