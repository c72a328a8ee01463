//! The thresholds the report judges by: alerts/thresholds.json, the file the
//! alert rules are rendered from, as the library builds it in
//! (`wingspan::config::THRESHOLDS_JSON`), or another one given with
//! `--thresholds`, so the report and the alerts agree on "too slow".

use std::path::Path;

use wingspan::config::{AlertThresholds, THRESHOLDS_JSON};

use crate::model::Thresholds;

pub fn load(path: Option<&Path>, regression_ratio: f64) -> Result<Thresholds, String> {
    let (name, text) = match path {
        Some(p) => (
            p.display().to_string(),
            std::fs::read_to_string(p)
                .map_err(|e| format!("--thresholds = {}: {e}", p.display()))?,
        ),
        None => (
            "built-in alerts/thresholds.json".to_owned(),
            THRESHOLDS_JSON.to_owned(),
        ),
    };
    let f = AlertThresholds::from_json(&text).map_err(|e| {
        format!(
            "--thresholds = {name}: {e} (expected alerts/thresholds.json's keys: api_latency_quantile, \
             api_latency_threshold_seconds, slo_availability_target, slo_latency_target, \
             pool_utilization_threshold, cache_hit_ratio_threshold)"
        )
    })?;
    Ok(Thresholds {
        latency_quantile: f.api_latency_quantile,
        latency_threshold_seconds: f.api_latency_threshold_seconds,
        slo_availability_target: f.slo_availability_target,
        slo_latency_target: f.slo_latency_target,
        pool_utilization_threshold: f.pool_utilization_threshold,
        cache_hit_ratio_threshold: f.cache_hit_ratio_threshold,
        regression_ratio,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_file_is_the_alerts_one() {
        let t = load(None, 0.1).unwrap();
        assert_eq!(t.latency_threshold_seconds, 0.3);
        assert_eq!(t.slo_availability_target, 0.995);
        assert_eq!(t.cache_hit_ratio_threshold, 0.7);
    }

    #[test]
    fn a_bad_file_is_named() {
        let e = load(Some(Path::new("/nonexistent/t.json")), 0.1).unwrap_err();
        assert!(e.contains("/nonexistent/t.json"), "{e}");
    }
}
