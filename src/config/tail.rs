//! Settings of in-process tail sampling (`WINGSPAN_TAIL_SAMPLING*`): which
//! local traces are kept once their local root span has ended.

use std::time::Duration;

use super::thresholds::AlertThresholds;
use super::{ConfigError, Env};

/// The default of [`TailSamplingConfig::llm_slow`], in milliseconds: LLM
/// routes wait on a model for seconds by design, and no alert judges them.
pub const DEFAULT_LLM_SLOW_MS: u64 = 10_000;

/// How in-process tail sampling decides and how much it may hold. Off by
/// default; see the book's telemetry chapter ("In-process tail sampling").
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct TailSamplingConfig {
    /// `WINGSPAN_TAIL_SAMPLING`: record every local trace and decide when
    /// its local root span ends. The head sampler is then
    /// `parentbased_always_on` whatever `OTEL_TRACES_SAMPLER` says (another
    /// value is a warning). Defaults to false.
    pub enabled: bool,
    /// `WINGSPAN_TAIL_SAMPLING_RATIO`: the share of the other traces (no
    /// error, not slow) kept, decided on the trace id like
    /// `traceidratio`. Defaults to 0.01.
    pub ratio: f64,
    /// `WINGSPAN_TAIL_SAMPLING_SLOW_MS`: a trace whose local root span on a
    /// standard route took longer than this is kept. Defaults to the
    /// latency alert's threshold (`alerts/thresholds.json`, 300).
    pub slow: Duration,
    /// `WINGSPAN_TAIL_SAMPLING_LLM_SLOW_MS`: the same for the LLM routes
    /// (`wingspan.route.class=llm`). Defaults to 10000.
    pub llm_slow: Duration,
    /// `WINGSPAN_TAIL_SAMPLING_MAX_SPANS`: spans held, all open traces
    /// together, while their local roots run. Defaults to 20000.
    pub max_spans: usize,
    /// `WINGSPAN_TAIL_SAMPLING_MAX_TRACES`: local traces open at once.
    /// Defaults to 2000.
    pub max_traces: usize,
}

impl Default for TailSamplingConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            ratio: 0.01,
            slow: Duration::from_millis(AlertThresholds::built_in().api_latency_threshold_ms()),
            llm_slow: Duration::from_millis(DEFAULT_LLM_SLOW_MS),
            max_spans: 20_000,
            max_traces: 2_000,
        }
    }
}

/// The longest slow threshold accepted: one hour.
const MAX_SLOW_MS: u64 = 3_600_000;
/// The largest cap accepted on held spans: beyond it the bound is no bound.
const MAX_SPANS: u64 = 1_000_000;

impl TailSamplingConfig {
    pub(crate) fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let max_spans = env.u64_in(
            "WINGSPAN_TAIL_SAMPLING_MAX_SPANS",
            d.max_spans as u64,
            1,
            MAX_SPANS,
        )?;
        Ok(Self {
            enabled: env.bool("WINGSPAN_TAIL_SAMPLING", d.enabled)?,
            ratio: env.f64_in("WINGSPAN_TAIL_SAMPLING_RATIO", d.ratio, 0.0, 1.0)?,
            slow: env.millis(
                "WINGSPAN_TAIL_SAMPLING_SLOW_MS",
                d.slow.as_millis() as u64,
                MAX_SLOW_MS,
            )?,
            llm_slow: env.millis(
                "WINGSPAN_TAIL_SAMPLING_LLM_SLOW_MS",
                d.llm_slow.as_millis() as u64,
                MAX_SLOW_MS,
            )?,
            max_spans: max_spans as usize,
            // More open traces than held spans could never all hold one.
            max_traces: env.u64_in(
                "WINGSPAN_TAIL_SAMPLING_MAX_TRACES",
                (d.max_traces as u64).min(max_spans),
                1,
                max_spans,
            )? as usize,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{lenient, strict};
    use super::super::Sampler;
    use super::*;

    #[test]
    fn off_by_default_with_the_alert_threshold() {
        let t = lenient(&[]).unwrap().telemetry.tail_sampling;
        assert_eq!(t, TailSamplingConfig::default());
        assert!(!t.enabled);
        assert_eq!(t.slow, Duration::from_millis(300));
        assert_eq!(t.ratio, 0.01);
    }

    #[test]
    fn every_setting_is_read_and_checked() {
        let t = lenient(&[
            ("WINGSPAN_TAIL_SAMPLING", "true"),
            ("WINGSPAN_TAIL_SAMPLING_RATIO", "0"),
            ("WINGSPAN_TAIL_SAMPLING_SLOW_MS", "150"),
            ("WINGSPAN_TAIL_SAMPLING_LLM_SLOW_MS", "5000"),
            ("WINGSPAN_TAIL_SAMPLING_MAX_SPANS", "100"),
            ("WINGSPAN_TAIL_SAMPLING_MAX_TRACES", "10"),
        ])
        .unwrap()
        .telemetry
        .tail_sampling;
        assert!(t.enabled);
        assert_eq!(t.ratio, 0.0);
        assert_eq!(t.slow, Duration::from_millis(150));
        assert_eq!(t.llm_slow, Duration::from_secs(5));
        assert_eq!((t.max_spans, t.max_traces), (100, 10));
        for (var, value) in [
            ("WINGSPAN_TAIL_SAMPLING", "maybe"),
            ("WINGSPAN_TAIL_SAMPLING_RATIO", "1.5"),
            ("WINGSPAN_TAIL_SAMPLING_SLOW_MS", "-1"),
            ("WINGSPAN_TAIL_SAMPLING_MAX_SPANS", "0"),
        ] {
            let e = lenient(&[(var, value)]).unwrap_err();
            assert_eq!((e.variable.as_str(), e.value.as_str()), (var, value));
        }
        let e = lenient(&[
            ("WINGSPAN_TAIL_SAMPLING_MAX_SPANS", "10"),
            ("WINGSPAN_TAIL_SAMPLING_MAX_TRACES", "11"),
        ])
        .unwrap_err();
        assert_eq!(e.variable, "WINGSPAN_TAIL_SAMPLING_MAX_TRACES");
        assert!(e.expected.contains("1 to 10"), "{}", e.expected);
    }

    #[test]
    fn the_builder_turns_it_on_with_a_ratio() {
        let t = super::super::Config::builder()
            .tail_sampling(0.05)
            .build()
            .unwrap()
            .telemetry
            .tail_sampling;
        assert!(t.enabled);
        assert_eq!(t.ratio, 0.05);
    }

    #[test]
    fn a_head_ratio_gives_way_with_a_warning() {
        let vars = [
            ("WINGSPAN_TAIL_SAMPLING", "true"),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.01"),
        ];
        let cfg = lenient(&vars).unwrap();
        assert_eq!(cfg.telemetry.sampler, Sampler::ParentBasedAlwaysOn);
        assert_eq!(cfg.warnings[0].variable, "OTEL_TRACES_SAMPLER");
        assert!(
            cfg.warnings[0].expected.contains("WINGSPAN_TAIL_SAMPLING"),
            "{}",
            cfg.warnings[0]
        );
        assert_eq!(strict(&vars).unwrap_err().variable, "OTEL_TRACES_SAMPLER");
        // The default head sampler is already the right one: no warning.
        let cfg = lenient(&[("WINGSPAN_TAIL_SAMPLING", "true")]).unwrap();
        assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
        // Without tail sampling the head sampler stays as set.
        let cfg = lenient(&vars[1..]).unwrap();
        assert_eq!(
            cfg.telemetry.sampler,
            Sampler::ParentBasedTraceIdRatio(0.01)
        );
    }
}
