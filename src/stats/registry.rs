//! The view's named series: one [`Capped`] registry per kind of name, each
//! row holding its series and what the caller attached to it (a route's
//! class).

use std::sync::Arc;

use super::series::Series;
use crate::capped::Capped;

pub(crate) struct Registry<M>(Capped<Row<M>>);

/// One named series.
pub(crate) struct Row<M> {
    pub(crate) name: String,
    pub(crate) meta: M,
    pub(crate) series: Arc<Series>,
}

impl<M: Copy> Registry<M> {
    pub(crate) fn new(cap: usize) -> Self {
        Self(Capped::new(cap))
    }

    /// The series of `name`, created if under the cap, else the `other` row
    /// (which takes `meta` of the first name that overflowed).
    pub(crate) fn resolve(&self, name: &str, meta: M) -> Arc<Series> {
        self.0.with(
            name,
            |name| Row {
                name: name.to_owned(),
                meta,
                series: Arc::new(Series::new()),
            },
            |row| row.series.clone(),
        )
    }

    /// Every row, `other` last.
    pub(crate) fn rows(&self) -> Vec<Arc<Row<M>>> {
        self.0.entries()
    }
}
