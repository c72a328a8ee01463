//! The OTel pipeline end to end, over real OTLP receivers.
