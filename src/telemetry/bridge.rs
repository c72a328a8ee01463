//! `tracing` events → OTLP log records, with the conventions' attributes.
//!
//! wingspan's own bridge rather than `opentelemetry-appender-tracing`'s,
//! which names every record `event <file>:<line>` (an event name is for
//! events, and these are plain log records), and, for records of the `log`
//! crate, carries `log.target`, `log.module_path`, `log.file` (an absolute
//! path of the build machine) and `log.line`. Here a record carries
//! `code.file.path` (relative to its crate), `code.line.number`, its
//! target as the instrumentation scope, and an event name only when the
//! event was given one (`tracing::info!(name: "user.login", ...)`).

use std::time::SystemTime;

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::Key;
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_log::NormalizeEvent as _;
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;

use super::limits::prefix_chars;
use crate::names;

/// The layer; see the module docs.
pub(crate) struct LogBridge {
    logger: SdkLogger,
    value_limit: Option<usize>,
    /// `OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT`: the SDK's log record has no
    /// count limit of its own (0.33), so the bridge stops adding there.
    count_limit: usize,
}

impl std::fmt::Debug for LogBridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogBridge")
            .field("value_limit", &self.value_limit)
            .field("count_limit", &self.count_limit)
            .finish_non_exhaustive()
    }
}

impl LogBridge {
    pub(crate) fn new(
        provider: &SdkLoggerProvider,
        value_limit: Option<usize>,
        count_limit: u32,
    ) -> Self {
        Self {
            // The scope name is replaced per record by its target.
            logger: provider.logger(""),
            value_limit,
            count_limit: count_limit as usize,
        }
    }
}

fn severity(level: &Level) -> Severity {
    match *level {
        Level::TRACE => Severity::Trace,
        Level::DEBUG => Severity::Debug,
        Level::INFO => Severity::Info,
        Level::WARN => Severity::Warn,
        Level::ERROR => Severity::Error,
    }
}

/// `tracing` names an unnamed event `event <file>:<line>`, and tracing-log
/// names records of the `log` crate `log event`: neither is an event name.
fn is_default_name(name: &str) -> bool {
    name.starts_with("event ") || name == "log event"
}

/// A source path relative to its crate: kept as is when relative (the
/// application's own `src/main.rs`), else from the crate directory on
/// (`tokio-postgres-0.7.13/src/query.rs` rather than the registry path of
/// the build machine).
pub(crate) fn relative_path(file: &str) -> &str {
    let absolute = file.starts_with('/') || file.as_bytes().get(1) == Some(&b':');
    if !absolute {
        return file;
    }
    let file_sep = |c: char| c == '/' || c == '\\';
    let src = file.rfind("/src/").or_else(|| file.rfind("\\src\\"));
    match src {
        Some(i) => {
            let start = file[..i].rfind(file_sep).map_or(0, |j| j + 1);
            &file[start..]
        }
        None => file.rsplit(file_sep).next().unwrap_or(file),
    }
}

impl<S: Subscriber> Layer<S> for LogBridge {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        let severity = severity(meta.level());
        if !self.logger.event_enabled(severity, meta.target(), None) {
            return;
        }
        let mut record = self.logger.create_log_record();
        record.set_timestamp(SystemTime::now());
        record.set_severity_number(severity);
        record.set_severity_text(meta.level().as_str());
        // Native events have 'static metadata: no copy.
        let native = event.metadata();
        let mut fields = Fields {
            record: &mut record,
            limit: self.value_limit,
            room: self.count_limit,
        };
        match &normalized {
            None => {
                fields.record.set_target(native.target());
                if !is_default_name(native.name()) {
                    fields.record.set_event_name(native.name());
                }
                if let Some(file) = native.file() {
                    fields.add(
                        Key::from_static_str(names::CODE_FILE_PATH),
                        AnyValue::from(relative_path(file)),
                    );
                }
            }
            Some(m) => {
                fields.record.set_target(m.target().to_owned());
                if let Some(file) = m.file() {
                    fields.add(
                        Key::from_static_str(names::CODE_FILE_PATH),
                        AnyValue::from(relative_path(file).to_owned()),
                    );
                }
            }
        }
        if let Some(line) = meta.line() {
            fields.add(
                Key::from_static_str(names::CODE_LINE_NUMBER),
                AnyValue::from(i64::from(line)),
            );
        }
        event.record(&mut fields);
        self.logger.emit(record);
    }
}

/// Copies an event's fields: `message` becomes the body, the rest
/// attributes; tracing-log's `log.*` fields are left out (their content is
/// in the metadata above).
struct Fields<'a, R> {
    record: &'a mut R,
    limit: Option<usize>,
    /// How many more attributes the record may take.
    room: usize,
}

impl<R: opentelemetry::logs::LogRecord> Fields<'_, R> {
    fn string(&mut self, field: &Field, value: String) {
        let value = match self.limit.and_then(|max| prefix_chars(&value, max)) {
            Some(cut) => cut.to_owned(),
            None => value,
        };
        if field.name() == "message" {
            self.record.set_body(AnyValue::from(value));
        } else {
            self.attribute(field, AnyValue::from(value));
        }
    }

    fn attribute(&mut self, field: &Field, value: AnyValue) {
        if !field.name().starts_with("log.") {
            self.add(Key::from_static_str(field.name()), value);
        }
    }

    /// Adds an attribute while the count limit leaves room; later ones are
    /// dropped, as the SDK drops a span's.
    fn add(&mut self, key: Key, value: AnyValue) {
        if self.room > 0 {
            self.room -= 1;
            self.record.add_attribute(key, value);
        }
    }
}

impl<R: opentelemetry::logs::LogRecord> Visit for Fields<'_, R> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if !field.name().starts_with("log.") {
            self.string(field, format!("{value:?}"));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if !field.name().starts_with("log.") {
            self.string(field, value.to_owned());
        }
    }

    fn record_error(&mut self, _field: &Field, value: &(dyn std::error::Error + 'static)) {
        let message = value.to_string();
        self.add(
            Key::from_static_str(names::EXCEPTION_MESSAGE),
            AnyValue::from(message),
        );
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.attribute(field, AnyValue::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.attribute(field, AnyValue::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.attribute(field, AnyValue::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match i64::try_from(value) {
            Ok(v) => self.attribute(field, AnyValue::from(v)),
            Err(_) => self.string(field, value.to_string()),
        }
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        self.attribute(field, AnyValue::from(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_relative_to_their_crate() {
        assert_eq!(relative_path("src/main.rs"), "src/main.rs");
        assert_eq!(relative_path("tests/telemetry.rs"), "tests/telemetry.rs");
        assert_eq!(
            relative_path(
                "/home/ci/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/tokio-postgres-0.7.13/src/query.rs"
            ),
            "tokio-postgres-0.7.13/src/query.rs"
        );
        assert_eq!(
            relative_path("/build/app/src/handlers/users.rs"),
            "app/src/handlers/users.rs"
        );
        assert_eq!(relative_path("/weird/place/file.rs"), "file.rs");
        assert_eq!(
            relative_path("C:\\Users\\ci\\app\\src\\main.rs"),
            "app\\src\\main.rs"
        );
    }

    #[test]
    fn default_names_are_not_event_names() {
        assert!(is_default_name("event src/main.rs:29"));
        assert!(is_default_name("log event"));
        assert!(!is_default_name("user.login"));
    }
}
