//! The queries' common ground: the window, the label selector every query
//! carries, and the evaluation of one query in both windows.
//!
//! The queries are the expressions of alerts/wingspan.rules.yml (same metric
//! names, same `wingspan_route_class!="llm"` split, same ratios) over the
//! report's window instead of 5 minutes, written out rather than read from
//! the recorded series: the report then works against any
//! Prometheus-compatible store, with or without wingspan's rules loaded, and
//! over data older than the rules.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use crate::model::{Thresholds, Trend};
use crate::prom::{Prom, PromError, Series};

pub const DAY: f64 = 86_400.0;

pub struct Ctx<'a> {
    pub prom: &'a Prom,
    /// Unix seconds at which the window ends.
    pub end: f64,
    /// The window's length in seconds.
    pub secs: f64,
    pub selector: Option<String>,
    pub thresholds: Thresholds,
}

impl Ctx<'_> {
    /// `metric{matchers,<selector>}`.
    pub fn m(&self, metric: &str, matchers: &str) -> String {
        let parts: Vec<&str> = [Some(matchers), self.selector.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect();
        format!("{metric}{{{}}}", parts.join(","))
    }

    /// The window as a PromQL range (`604800s`).
    pub fn w(&self) -> String {
        format!("{}s", self.secs.round() as u64)
    }

    pub fn previous_end(&self) -> f64 {
        self.end - self.secs
    }

    /// `query` at the end of the window and at the end of the previous one.
    pub fn both(&self, query: &str) -> Result<(Vec<Series>, Vec<Series>), PromError> {
        Ok((
            self.prom.instant(query, self.end)?,
            self.prom.instant(query, self.previous_end())?,
        ))
    }

    /// `query` in both windows, keyed by the values of `keys`.
    pub fn trends(
        &self,
        query: &str,
        keys: &[&str],
    ) -> Result<BTreeMap<Vec<String>, Trend>, PromError> {
        let (cur, prev) = self.both(query)?;
        let cur = keyed(&cur, keys);
        let prev = keyed(&prev, keys);
        let mut out = BTreeMap::new();
        for k in cur.keys().chain(prev.keys()) {
            out.insert(
                k.clone(),
                Trend::new(cur.get(k).copied(), prev.get(k).copied()),
            );
        }
        Ok(out)
    }

    /// A query that yields one number (a `sum(...)`), in both windows.
    pub fn single(&self, query: &str) -> Result<(Option<f64>, Option<f64>), PromError> {
        let (cur, prev) = self.both(query)?;
        Ok((first(&cur), first(&prev)))
    }

    /// Evaluation times of the window's daily figures: the end of each day,
    /// counted back from the window's end (one point when the window is shorter).
    pub fn day_ends(&self) -> (f64, f64, f64) {
        let step = if self.secs >= DAY { DAY } else { self.secs };
        let days = (self.secs / step).floor().max(1.0);
        (self.end - (days - 1.0) * step, self.end, step)
    }
}

pub fn keyed(series: &[Series], keys: &[&str]) -> BTreeMap<Vec<String>, f64> {
    series
        .iter()
        .filter_map(|s| {
            let k = keys.iter().map(|k| s.label(k).to_owned()).collect();
            s.value().map(|v| (k, v))
        })
        .collect()
}

pub fn first(series: &[Series]) -> Option<f64> {
    series.first().and_then(Series::value)
}

/// `2026-11-20T14:00:00Z`.
pub fn utc(t: f64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(t.max(0.0).round() as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// The date of the day that ends at `t` (`2026-11-20` for a day ending at
/// 2026-11-21T00:00:00Z).
pub fn day_of(end: f64) -> String {
    utc(end - 1.0)[..10].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_name_the_day_that_ends() {
        assert_eq!(utc(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(day_of(DAY), "1970-01-01");
    }

    #[test]
    fn keyed_joins_label_values() {
        let s = Series {
            labels: [("a".to_owned(), "x".to_owned())].into(),
            points: vec![(0.0, 2.0)],
        };
        let k = keyed(&[s], &["a", "b"]);
        assert_eq!(k.get(&vec!["x".to_owned(), String::new()]), Some(&2.0));
    }
}
