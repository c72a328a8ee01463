//! The alerts that fired, how often and for how long, from Prometheus's own
//! `ALERTS{alertstate="firing"}` series. Their raw samples (one per rule
//! evaluation while firing) are read, not a range query's points, so an
//! episode's length does not depend on the lookback delta: consecutive
//! samples belong to one episode, a gap of more than 2.5 evaluation
//! intervals starts the next, and an episode lasts from its first sample to
//! its last plus one interval.

use std::collections::BTreeMap;

use crate::collect::{utc, Ctx};
use crate::model::{AlertFigures, Episode, Section, Trend};
use crate::prom::{PromError, Series};

pub fn collect(ctx: &Ctx) -> Result<Section<Vec<AlertFigures>>, PromError> {
    let query = format!("{}[{}]", ctx.m("ALERTS", r#"alertstate="firing""#), ctx.w());
    let (cur, prev) = ctx.both(&query)?;
    if cur.is_empty() && prev.is_empty() {
        return Ok(Section::none(
            "No alert fired in either window (no ALERTS{alertstate=\"firing\"} sample).",
        ));
    }
    let interval = evaluation_interval(cur.iter().chain(prev.iter()));
    let cur = by_alert(&cur, interval);
    let prev = by_alert(&prev, interval);
    let mut names: Vec<&(String, String)> = cur.keys().chain(prev.keys()).collect();
    names.sort();
    names.dedup();
    let mut out: Vec<AlertFigures> = names
        .into_iter()
        .map(|key| {
            let episodes = cur.get(key).cloned().unwrap_or_default();
            let before = prev.get(key).map(Vec::as_slice).unwrap_or_default();
            let total = |e: &[Episode]| e.iter().map(|e| e.seconds).sum::<f64>();
            AlertFigures {
                alertname: key.0.clone(),
                severity: key.1.clone(),
                times_fired: Trend::new(Some(episodes.len() as f64), Some(before.len() as f64)),
                firing_seconds: Trend::new(Some(total(&episodes)), Some(total(before))),
                longest_seconds: episodes.iter().map(|e| e.seconds).fold(0.0, f64::max),
                episodes,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.firing_seconds
            .current
            .unwrap_or(0.0)
            .total_cmp(&a.firing_seconds.current.unwrap_or(0.0))
    });
    Ok(Section::some(out))
}

/// The rule evaluation interval: the median gap between samples of a series.
fn evaluation_interval<'a>(series: impl Iterator<Item = &'a Series>) -> f64 {
    let mut gaps: Vec<f64> = series
        .flat_map(|s| s.points.windows(2).map(|w| w[1].0 - w[0].0))
        .filter(|g| *g > 0.0)
        .collect();
    if gaps.is_empty() {
        // A single sample everywhere: Prometheus's default evaluation interval.
        return 60.0;
    }
    gaps.sort_by(f64::total_cmp);
    gaps[gaps.len() / 2]
}

fn episodes(points: &[(f64, f64)], interval: f64) -> Vec<Episode> {
    let mut out: Vec<Episode> = Vec::new();
    let mut last = f64::NEG_INFINITY;
    for (t, _) in points {
        match out.last_mut() {
            Some(e) if t - last <= 2.5 * interval => e.seconds = t - e.start + interval,
            _ => out.push(Episode {
                start: *t,
                start_utc: utc(*t),
                seconds: interval,
            }),
        }
        last = *t;
    }
    out
}

fn by_alert(series: &[Series], interval: f64) -> BTreeMap<(String, String), Vec<Episode>> {
    let mut out: BTreeMap<(String, String), Vec<Episode>> = BTreeMap::new();
    for s in series {
        let key = (
            s.label("alertname").to_owned(),
            s.label("severity").to_owned(),
        );
        out.entry(key)
            .or_default()
            .extend(episodes(&s.points, interval));
    }
    for e in out.values_mut() {
        e.sort_by(|a, b| a.start.total_cmp(&b.start));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gap_splits_episodes_and_each_lasts_to_its_last_sample_plus_one_interval() {
        let pts: Vec<(f64, f64)> = [0.0, 15.0, 30.0, 45.0, 300.0, 315.0]
            .iter()
            .map(|t| (*t, 1.0))
            .collect();
        let e = episodes(&pts, 15.0);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].seconds, 60.0);
        assert_eq!(e[1].start, 300.0);
        assert_eq!(e[1].seconds, 30.0);
    }

    #[test]
    fn the_interval_is_the_median_gap() {
        let s = Series {
            labels: BTreeMap::new(),
            points: [0.0, 15.0, 30.0, 45.0, 1000.0]
                .iter()
                .map(|t| (*t, 1.0))
                .collect(),
        };
        assert_eq!(evaluation_interval([&s].into_iter()), 15.0);
    }
}
