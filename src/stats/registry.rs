//! Named series with a cap: past it, new names share one `other` row, so a
//! service that mints names from data cannot grow the view without bound.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::series::{lock, Series};

/// The row that collects every name past a registry's cap.
pub const OTHER: &str = "other";

pub(crate) struct Registry<M> {
    cap: usize,
    inner: Mutex<Entries<M>>,
}

struct Entries<M> {
    index: HashMap<String, usize>,
    rows: Vec<Row<M>>,
    other: Option<Row<M>>,
}

/// One named series and what the caller attached to it (a route's class).
#[derive(Clone)]
pub(crate) struct Row<M> {
    pub name: String,
    pub meta: M,
    pub series: Arc<Series>,
}

impl<M: Clone> Registry<M> {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            cap,
            inner: Mutex::new(Entries {
                index: HashMap::new(),
                rows: Vec::new(),
                other: None,
            }),
        }
    }

    /// The series of `name`, created if under the cap, else the `other` row
    /// (which takes `meta` of the first name that overflowed).
    pub(crate) fn resolve(&self, name: &str, meta: M) -> Arc<Series> {
        let mut e = lock(&self.inner);
        if let Some(&i) = e.index.get(name) {
            return e.rows[i].series.clone();
        }
        if e.rows.len() < self.cap {
            let series = Arc::new(Series::new());
            let i = e.rows.len();
            e.rows.push(Row {
                name: name.to_owned(),
                meta,
                series: series.clone(),
            });
            e.index.insert(name.to_owned(), i);
            return series;
        }
        e.other
            .get_or_insert_with(|| Row {
                name: OTHER.to_owned(),
                meta,
                series: Arc::new(Series::new()),
            })
            .series
            .clone()
    }

    /// Every row, `other` last.
    pub(crate) fn rows(&self) -> Vec<Row<M>> {
        let e = lock(&self.inner);
        e.rows.iter().chain(e.other.as_ref()).cloned().collect()
    }
}
