//! `OTEL_PROPAGATORS`: which context formats the HTTP layer reads from
//! incoming requests, the instrumented client writes on outgoing ones, and
//! the global propagator handles.

use std::fmt;

use super::{ConfigError, Env};

/// The variable's name.
pub const PROPAGATORS_VAR: &str = "OTEL_PROPAGATORS";

/// One context propagation format of `OTEL_PROPAGATORS`, as the
/// specification names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Propagator {
    /// `tracecontext`: W3C `traceparent` / `tracestate`.
    TraceContext,
    /// `baggage`: W3C `baggage`.
    Baggage,
    /// `b3`: Zipkin's B3 single header (`b3`) written; the single and the
    /// multi-header forms read.
    B3,
    /// `b3multi`: Zipkin's B3 multi-header form (`X-B3-TraceId`, ...)
    /// written; the single and the multi-header forms read.
    B3Multi,
    /// `jaeger`: `uber-trace-id`, and `uberctx-*` baggage.
    Jaeger,
    /// `xray`: AWS X-Ray's `X-Amzn-Trace-Id`.
    XRay,
    /// `ottrace`: OpenTracing's `ot-tracer-*`, and `ot-baggage-*` baggage.
    OtTrace,
    /// `none`: no propagation at all; only accepted alone.
    None,
}

/// Every value in the order the specification lists them, with its name.
const KNOWN: [(&str, Propagator); 8] = [
    ("tracecontext", Propagator::TraceContext),
    ("baggage", Propagator::Baggage),
    ("b3", Propagator::B3),
    ("b3multi", Propagator::B3Multi),
    ("jaeger", Propagator::Jaeger),
    ("xray", Propagator::XRay),
    ("ottrace", Propagator::OtTrace),
    ("none", Propagator::None),
];

impl Propagator {
    /// The value as the variable spells it.
    pub fn as_str(self) -> &'static str {
        KNOWN
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("none", |(name, _)| name)
    }

    /// The specification's default, `tracecontext,baggage`.
    pub fn defaults() -> Vec<Propagator> {
        vec![Propagator::TraceContext, Propagator::Baggage]
    }

    /// Reads `OTEL_PROPAGATORS`: a comma-separated list, case-insensitive,
    /// duplicates dropped (the first place kept). Unset or empty gives
    /// [`Propagator::defaults`]; `none` alone gives `[None]`.
    pub(crate) fn from_env(env: &Env<'_>) -> Result<Vec<Propagator>, ConfigError> {
        let items = env.list(PROPAGATORS_VAR);
        if items.is_empty() {
            return Ok(Self::defaults());
        }
        let invalid = || {
            let accepted: Vec<&str> = KNOWN.iter().map(|(w, _)| *w).collect();
            ConfigError::invalid(
                PROPAGATORS_VAR,
                &items.join(","),
                &format!(
                    "a comma-separated list of {} (none only alone)",
                    accepted.join(", ")
                ),
            )
        };
        // An unknown item is a warning and is skipped (the specification's
        // rule for unrecognised values); the rest of the list still applies.
        let mut out = Vec::with_capacity(items.len());
        for item in &items {
            let lower = item.to_ascii_lowercase();
            match KNOWN.iter().find(|(w, _)| *w == lower) {
                Some((_, p)) if !out.contains(p) => out.push(*p),
                Some(_) => {}
                None => env.fallback(invalid(), ())?,
            }
        }
        // `none,b3` is a contradiction, not a list: an error in strict mode,
        // else a warning and the other items.
        if out.len() > 1 && out.contains(&Propagator::None) {
            env.fallback(invalid(), ())?;
            out.retain(|p| *p != Propagator::None);
        }
        if out.is_empty() {
            return Ok(Self::defaults());
        }
        Ok(out)
    }
}

impl fmt::Display for Propagator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strict: every invalid value is an error.
    fn read(value: &str) -> Result<Vec<Propagator>, ConfigError> {
        let value = value.to_owned();
        let f = move |k: &str| (k == PROPAGATORS_VAR).then(|| value.clone());
        let env = Env::new(&f);
        env.set_strict(true);
        Propagator::from_env(&env)
    }

    /// Lenient, as a service reads it: the list and the warnings.
    fn lenient(value: &str) -> (Vec<Propagator>, Vec<ConfigError>) {
        let value = value.to_owned();
        let f = move |k: &str| (k == PROPAGATORS_VAR).then(|| value.clone());
        let env = Env::new(&f);
        let list = Propagator::from_env(&env).unwrap();
        (list, env.take_warnings())
    }

    #[test]
    fn unknown_items_are_skipped_with_a_warning() {
        let (list, warnings) = lenient("b3,zipkin,xray");
        assert_eq!(list, [Propagator::B3, Propagator::XRay]);
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].variable, PROPAGATORS_VAR);
        let (list, warnings) = lenient("zipkin");
        assert_eq!(list, Propagator::defaults());
        assert_eq!(warnings.len(), 1);
        let (list, warnings) = lenient("none,b3");
        assert_eq!(list, [Propagator::B3]);
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn unset_or_empty_is_tracecontext_and_baggage() {
        let f = |_: &str| None;
        assert_eq!(
            Propagator::from_env(&Env::new(&f)).unwrap(),
            [Propagator::TraceContext, Propagator::Baggage]
        );
        assert_eq!(read("  ").unwrap(), Propagator::defaults());
    }

    #[test]
    fn every_known_value_in_order_without_duplicates() {
        assert_eq!(
            read("B3, xray,b3,tracecontext,jaeger,ottrace,b3multi,baggage,xray").unwrap(),
            [
                Propagator::B3,
                Propagator::XRay,
                Propagator::TraceContext,
                Propagator::Jaeger,
                Propagator::OtTrace,
                Propagator::B3Multi,
                Propagator::Baggage,
            ]
        );
        for (name, p) in KNOWN {
            assert_eq!(p.as_str(), name);
        }
    }

    #[test]
    fn none_alone_means_no_propagation() {
        assert_eq!(read("none").unwrap(), [Propagator::None]);
        assert_eq!(read("none,none").unwrap(), [Propagator::None]);
        let err = read("none,b3").unwrap_err().to_string();
        assert!(err.contains("none only alone"), "{err}");
    }

    #[test]
    fn unknown_value_names_variable_value_and_accepted() {
        let err = read("b3,zipkin").unwrap_err().to_string();
        assert!(err.contains(PROPAGATORS_VAR), "{err}");
        assert!(err.contains("b3,zipkin"), "{err}");
        assert!(
            err.contains("tracecontext, baggage, b3, b3multi, jaeger, xray, ottrace, none"),
            "{err}"
        );
    }
}
