//! What can go wrong while building or stopping the pipeline.

/// What can go wrong while building or stopping the pipeline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// A setting was rejected.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// An exporter could not be built.
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(String),
    /// A global `tracing` subscriber was already installed.
    #[error(
        "a global tracing subscriber is already installed; build with \
         `install_subscriber(false)` and add `Telemetry::tracing_layer()` to yours"
    )]
    SubscriberAlreadySet,
    /// Flushing or shutting down a provider failed or timed out.
    #[error("telemetry {signal} {action} failed: {message}")]
    Flush {
        /// `traces`, `metrics` or `logs`.
        signal: &'static str,
        /// `flush` or `shutdown`.
        action: &'static str,
        /// The SDK's message.
        message: String,
    },
}

impl TelemetryError {
    pub(crate) fn exporter(message: String) -> Self {
        Self::Exporter(message)
    }
}
