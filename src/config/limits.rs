//! Attribute limits (`OTEL_*ATTRIBUTE_VALUE_LENGTH_LIMIT`,
//! `OTEL_*_COUNT_LIMIT`), as the specification's "Attribute Limits" and
//! "Span Limits" define them: a model-specific variable wins over the
//! general `OTEL_ATTRIBUTE_*` one.

use super::{ConfigError, Env};

/// The specification's default of every count limit.
pub const DEFAULT_COUNT_LIMIT: u32 = 128;

/// Attribute value length limits, in characters as the specification counts
/// them (`None` is no limit), and count limits (excess items are dropped,
/// the first ones kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeLimits {
    /// `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else
    /// `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`: every string value of a span, its
    /// events and links. Defaults to no limit (header-derived values of the
    /// HTTP layer have their own cap, `http::HEADER_VALUE_LIMIT`).
    pub span_value_length: Option<usize>,
    /// `OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else
    /// `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`: every string attribute of a log
    /// record. Defaults to no limit.
    pub log_record_value_length: Option<usize>,
    /// `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`, else `OTEL_ATTRIBUTE_COUNT_LIMIT`:
    /// attributes per span. Defaults to 128.
    pub span_attribute_count: u32,
    /// `OTEL_SPAN_EVENT_COUNT_LIMIT`: events per span. Defaults to 128.
    pub span_event_count: u32,
    /// `OTEL_SPAN_LINK_COUNT_LIMIT`: links per span. Defaults to 128.
    pub span_link_count: u32,
    /// `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`, else `OTEL_ATTRIBUTE_COUNT_LIMIT`:
    /// attributes per span event. Defaults to 128.
    pub event_attribute_count: u32,
    /// `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`, else `OTEL_ATTRIBUTE_COUNT_LIMIT`:
    /// attributes per span link. Defaults to 128.
    pub link_attribute_count: u32,
    /// `OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT`, else
    /// `OTEL_ATTRIBUTE_COUNT_LIMIT`: attributes per log record (`code.*`
    /// first, then the event's fields in order). Defaults to 128.
    pub log_record_attribute_count: u32,
}

impl Default for AttributeLimits {
    fn default() -> Self {
        Self {
            span_value_length: None,
            log_record_value_length: None,
            span_attribute_count: DEFAULT_COUNT_LIMIT,
            span_event_count: DEFAULT_COUNT_LIMIT,
            span_link_count: DEFAULT_COUNT_LIMIT,
            event_attribute_count: DEFAULT_COUNT_LIMIT,
            link_attribute_count: DEFAULT_COUNT_LIMIT,
            log_record_attribute_count: DEFAULT_COUNT_LIMIT,
        }
    }
}

impl AttributeLimits {
    pub(crate) fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        // `None` when unset, so the general variable can fill in.
        let limit = |name: &str| -> Result<Option<u32>, ConfigError> {
            Ok(env.u64_opt(name, 0, u64::from(u32::MAX))?.map(|n| n as u32))
        };
        let length = |name: &str| Ok::<_, ConfigError>(limit(name)?.map(|n| n as usize));
        let general_length = length("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT")?;
        let general_count = limit("OTEL_ATTRIBUTE_COUNT_LIMIT")?.unwrap_or(DEFAULT_COUNT_LIMIT);
        let count =
            |name: &str, general: u32| Ok::<_, ConfigError>(limit(name)?.unwrap_or(general));
        Ok(Self {
            span_value_length: length("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT")?.or(general_length),
            log_record_value_length: length("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT")?
                .or(general_length),
            span_attribute_count: count("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", general_count)?,
            // Events and links are not attributes: the general attribute
            // variable does not bound how many there are.
            span_event_count: count("OTEL_SPAN_EVENT_COUNT_LIMIT", DEFAULT_COUNT_LIMIT)?,
            span_link_count: count("OTEL_SPAN_LINK_COUNT_LIMIT", DEFAULT_COUNT_LIMIT)?,
            event_attribute_count: count("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", general_count)?,
            link_attribute_count: count("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", general_count)?,
            log_record_attribute_count: count(
                "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
                general_count,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(vars: &[(&str, &str)]) -> Result<AttributeLimits, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        let lookup = move |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        AttributeLimits::from_env(&Env::strict(&lookup))
    }

    #[test]
    fn value_length_span_specific_wins() {
        let l = limits(&[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "32")]).unwrap();
        assert_eq!(l.span_value_length, Some(32));
        assert_eq!(l.log_record_value_length, Some(32));
        let l = limits(&[
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "32"),
            ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "100"),
        ])
        .unwrap();
        assert_eq!(l.span_value_length, Some(100));
        assert_eq!(limits(&[]).unwrap(), AttributeLimits::default());
        let e = limits(&[("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "-1")]).unwrap_err();
        assert_eq!(e.variable, "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT");
    }

    #[test]
    fn count_limits_default_to_128_and_the_specific_one_wins() {
        let d = limits(&[]).unwrap();
        assert_eq!(
            [
                d.span_attribute_count,
                d.span_event_count,
                d.span_link_count,
                d.event_attribute_count,
                d.link_attribute_count,
                d.log_record_attribute_count
            ],
            [128; 6]
        );
        let l = limits(&[
            ("OTEL_ATTRIBUTE_COUNT_LIMIT", "10"),
            ("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "3"),
            ("OTEL_SPAN_EVENT_COUNT_LIMIT", "2"),
            ("OTEL_SPAN_LINK_COUNT_LIMIT", "0"),
        ])
        .unwrap();
        assert_eq!(l.span_attribute_count, 10);
        assert_eq!(l.link_attribute_count, 10);
        assert_eq!(l.log_record_attribute_count, 10);
        assert_eq!(l.event_attribute_count, 3);
        assert_eq!(l.span_event_count, 2);
        assert_eq!(l.span_link_count, 0);
        let l = limits(&[
            ("OTEL_ATTRIBUTE_COUNT_LIMIT", "10"),
            ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "20"),
            ("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "4"),
            ("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "5"),
            ("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", "64"),
        ])
        .unwrap();
        assert_eq!(l.span_attribute_count, 20);
        assert_eq!(l.link_attribute_count, 4);
        assert_eq!(l.log_record_attribute_count, 5);
        assert_eq!(l.event_attribute_count, 10);
        assert_eq!(l.log_record_value_length, Some(64));
        assert_eq!(l.span_value_length, None);
        let e = limits(&[("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "many")]).unwrap_err();
        assert_eq!(e.variable, "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT");
        assert!(e.expected.contains("0 to 4294967295"), "{}", e.expected);
    }
}
