//! The pipeline's own health, the process metrics and the resource.

pub use opentelemetry_semantic_conventions::attribute::{
    CPU_MODE, OTEL_COMPONENT_NAME, OTEL_COMPONENT_TYPE,
};
pub use opentelemetry_semantic_conventions::metric::{
    OTEL_SDK_EXPORTER_LOG_EXPORTED, OTEL_SDK_EXPORTER_METRIC_DATA_POINT_EXPORTED,
    OTEL_SDK_EXPORTER_SPAN_EXPORTED, OTEL_SDK_PROCESSOR_LOG_PROCESSED,
    OTEL_SDK_PROCESSOR_SPAN_PROCESSED, PROCESS_CPU_TIME, PROCESS_CPU_UTILIZATION,
    PROCESS_MEMORY_USAGE, PROCESS_MEMORY_VIRTUAL, PROCESS_THREAD_COUNT,
    PROCESS_UNIX_FILE_DESCRIPTOR_COUNT, PROCESS_UPTIME,
};
pub use opentelemetry_semantic_conventions::resource::{
    DEPLOYMENT_ENVIRONMENT_NAME, HOST_ARCH, HOST_NAME, OS_TYPE, PROCESS_CREATION_TIME,
    PROCESS_EXECUTABLE_NAME, PROCESS_PID, PROCESS_RUNTIME_NAME, SERVICE_INSTANCE_ID, SERVICE_NAME,
    SERVICE_VERSION,
};

/// `otel.component.type` of the batch span processor (a value the
/// conventions list).
pub const COMPONENT_BATCHING_SPAN_PROCESSOR: &str = "batching_span_processor";
/// `otel.component.type` of the batch log record processor.
pub const COMPONENT_BATCHING_LOG_PROCESSOR: &str = "batching_log_processor";
/// `otel.component.type` of the OTLP span exporter over gRPC.
pub const COMPONENT_OTLP_GRPC_SPAN_EXPORTER: &str = "otlp_grpc_span_exporter";
/// `otel.component.type` of the OTLP span exporter over HTTP/protobuf.
pub const COMPONENT_OTLP_HTTP_SPAN_EXPORTER: &str = "otlp_http_span_exporter";
/// `otel.component.type` of the OTLP metric exporter over gRPC.
pub const COMPONENT_OTLP_GRPC_METRIC_EXPORTER: &str = "otlp_grpc_metric_exporter";
/// `otel.component.type` of the OTLP metric exporter over HTTP/protobuf.
pub const COMPONENT_OTLP_HTTP_METRIC_EXPORTER: &str = "otlp_http_metric_exporter";
/// `otel.component.type` of the OTLP log exporter over gRPC.
pub const COMPONENT_OTLP_GRPC_LOG_EXPORTER: &str = "otlp_grpc_log_exporter";
/// `otel.component.type` of the OTLP log exporter over HTTP/protobuf.
pub const COMPONENT_OTLP_HTTP_LOG_EXPORTER: &str = "otlp_http_log_exporter";
/// `otel.component.type` of an exporter given to `TelemetryBuilder`.
pub const COMPONENT_CUSTOM_EXPORTER: &str = "wingspan.custom_exporter";
/// `error.type` of an item dropped because its queue was full.
pub const ERROR_QUEUE_FULL: &str = "queue_full";

/// `wingspan.sampling.decision`: why in-process tail sampling kept a trace,
/// on its local root span (`error`, `slow`, `ratio`, `parent`); on the
/// `wingspan.sampling.traces` counter also `drop`.
pub const WINGSPAN_SAMPLING_DECISION: &str = "wingspan.sampling.decision";
/// Counter `{trace}`: local traces decided by in-process tail sampling, by
/// `wingspan.sampling.decision`.
pub const WINGSPAN_SAMPLING_TRACES: &str = "wingspan.sampling.traces";
/// Counter `{trace}`: local traces decided early, by the base ratio alone,
/// because tail sampling's buffer was full (`WINGSPAN_TAIL_SAMPLING_MAX_SPANS`,
/// `WINGSPAN_TAIL_SAMPLING_MAX_TRACES`).
pub const WINGSPAN_SAMPLING_OVERFLOW: &str = "wingspan.sampling.overflow";
/// `wingspan.sampling.decision` of a trace kept for a span with status Error
/// or a 5xx answer.
pub const SAMPLING_ERROR: &str = "error";
/// `wingspan.sampling.decision` of a trace kept for its root's duration.
pub const SAMPLING_SLOW: &str = "slow";
/// `wingspan.sampling.decision` of a trace kept by the base ratio.
pub const SAMPLING_RATIO: &str = "ratio";
/// `wingspan.sampling.decision` of a trace whose remote parent was sampled.
pub const SAMPLING_PARENT: &str = "parent";
/// `wingspan.sampling.decision` of a dropped trace (the counter only).
pub const SAMPLING_DROP: &str = "drop";
