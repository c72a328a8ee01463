//! Route classification and the per-(route, method) table.
//!
//! A route template (axum's `MatchedPath`) is looked up once; its entry holds
//! the interned `http.route`, the span name of each method and the bound
//! duration histograms, so a request builds no string for them. Only
//! templates reach this table — never a raw path — and it is bounded: past
//! [`MAX_ROUTES`] templates a request gets a transient entry (owned strings,
//! unbound instruments), still correct, only slower.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

use opentelemetry::metrics::{BoundHistogram, Histogram};
use opentelemetry::KeyValue;

use super::RouteClass;
use crate::capped::Capped;
use crate::stats::{RouteStats, Stats};

use super::attributes::{
    status_error_type, ERROR_TYPE, HTTP_REQUEST_METHOD, HTTP_RESPONSE_STATUS_CODE, HTTP_ROUTE,
    METHODS, METHOD_SLOTS, OTHER_METHOD, ROUTE_CLASS, SCHEMES, URL_SCHEME,
};

/// At most this many route templates per layer get a cached entry
/// (interned names, bound histograms). Not a cap on names: past it the
/// template is still exported as `http.route`, which the conventions ask
/// for and the application's router bounds; the in-process view caps its
/// route rows itself (`StatsBuilder::max_routes`).
pub(crate) const MAX_ROUTES: usize = 1024;
/// At most this many strings are interned process-wide (they live forever).
const MAX_INTERNED: usize = 4096;

/// Makes `s` `&'static`, at most [`MAX_INTERNED`] times per process; `None`
/// past the bound.
fn intern(s: &str) -> Option<&'static str> {
    static TABLE: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut table = TABLE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(hit) = table.get(s) {
        return Some(hit);
    }
    if table.len() >= MAX_INTERNED {
        return None;
    }
    let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
    table.insert(leaked);
    Some(leaked)
}

fn name(s: String) -> Cow<'static, str> {
    match intern(&s) {
        Some(i) => Cow::Borrowed(i),
        None => Cow::Owned(s),
    }
}

/// Status codes with a cached bound histogram; slot 0 is "no status" (the
/// request ended before a response, or the inner service failed).
const STATUSES: [u16; 31] = [
    0, 200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405, 406, 408,
    409, 410, 412, 413, 415, 422, 429, 500, 501, 502, 503, 504,
];
/// The slot of an inner-service error (no status, `error.type` = its type).
const ERROR_SLOT: usize = STATUSES.len();
const OUTCOME_SLOTS: usize = STATUSES.len() + 1;

fn status_slot(status: u16) -> Option<usize> {
    STATUSES.iter().position(|&s| s == status)
}

/// How a request ended, as the metric sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A response with this status.
    Status(u16),
    /// The inner service failed with an error of this type.
    Error(&'static str),
    /// Dropped before a response existed (client gone).
    Cancelled,
}

/// One route template.
pub(crate) struct RouteEntry {
    pub(crate) route: Option<Cow<'static, str>>,
    pub(crate) class: RouteClass,
    /// Listed in the layer's skip routes.
    pub(crate) skip: bool,
    cached: bool,
    /// The in-process view, when on; each method resolves its row once.
    stats: Option<Stats>,
    methods: [OnceLock<MethodEntry>; METHOD_SLOTS],
}

/// One (route, method).
pub(crate) struct MethodEntry {
    pub(crate) span_name: Cow<'static, str>,
    /// This (route, method)'s row in the in-process view.
    pub(crate) stats: Option<RouteStats>,
    histograms: Box<[OnceLock<BoundHistogram<f64>>]>,
}

impl RouteEntry {
    fn new(
        route: Option<Cow<'static, str>>,
        class: RouteClass,
        skip: bool,
        cached: bool,
        stats: Option<Stats>,
    ) -> Self {
        Self {
            route,
            class,
            skip,
            cached,
            stats,
            methods: Default::default(),
        }
    }

    /// The in-process view, when on.
    pub(crate) fn view(&self) -> Option<&Stats> {
        self.stats.as_ref()
    }

    /// The entry of `method` (a [`METHODS`] slot).
    pub(crate) fn method(&self, method: usize) -> &MethodEntry {
        self.methods[method].get_or_init(|| {
            let verb = if method == OTHER_METHOD {
                "HTTP"
            } else {
                METHODS[method]
            };
            let span_name = match &self.route {
                Some(r) if self.cached => name(format!("{verb} {r}")),
                Some(r) => Cow::Owned(format!("{verb} {r}")),
                None => Cow::Borrowed(verb),
            };
            let slots = if self.cached {
                SCHEMES.len() * OUTCOME_SLOTS
            } else {
                0
            };
            // Uncached (overflow) routes share the view's `other` row through
            // its own cap; unmatched requests get one row of their own.
            let stats = self.stats.as_ref().map(|stats| {
                let template = self.route.as_deref().unwrap_or(UNMATCHED_ROW);
                stats.route(verb, template, self.class)
            });
            MethodEntry {
                span_name,
                stats,
                histograms: (0..slots).map(|_| OnceLock::new()).collect(),
            }
        })
    }

    /// The duration histogram's attributes.
    pub(crate) fn metric_attributes(
        &self,
        method: usize,
        scheme: usize,
        outcome: Outcome,
    ) -> Vec<KeyValue> {
        let mut attrs = Vec::with_capacity(6);
        attrs.push(KeyValue::new(HTTP_REQUEST_METHOD, METHODS[method]));
        if let Some(r) = &self.route {
            attrs.push(KeyValue::new(HTTP_ROUTE, r.clone()));
        }
        attrs.push(KeyValue::new(URL_SCHEME, SCHEMES[scheme]));
        attrs.push(KeyValue::new(ROUTE_CLASS, self.class.as_str()));
        match outcome {
            Outcome::Status(s) => {
                attrs.push(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(s)));
                if s >= 500 {
                    attrs.push(KeyValue::new(ERROR_TYPE, status_error_type(s)));
                }
            }
            Outcome::Error(ty) => attrs.push(KeyValue::new(ERROR_TYPE, ty)),
            Outcome::Cancelled => {}
        }
        attrs
    }

    /// Records a request's duration, through a cached bound histogram when
    /// the (route, method, scheme, outcome) has one.
    pub(crate) fn record(
        &self,
        histogram: &Histogram<f64>,
        method: usize,
        scheme: usize,
        outcome: Outcome,
        seconds: f64,
    ) {
        let entry = self.method(method);
        let slot = match outcome {
            Outcome::Status(s) => status_slot(s),
            Outcome::Cancelled => Some(0),
            // One slot for all error types of one service: the service's
            // error type is fixed, so it is the same value every time.
            Outcome::Error(_) => Some(ERROR_SLOT),
        };
        match slot.and_then(|s| entry.histograms.get(scheme * OUTCOME_SLOTS + s)) {
            Some(cell) => cell
                .get_or_init(|| histogram.bind(&self.metric_attributes(method, scheme, outcome)))
                .record(seconds),
            None => histogram.record(seconds, &self.metric_attributes(method, scheme, outcome)),
        }
    }
}

/// The in-process view's row for requests no route matched.
const UNMATCHED_ROW: &str = "(no route)";

/// The route table of one layer.
pub(crate) struct Routes {
    llm: HashSet<String>,
    skip: HashSet<String>,
    unmatched: Arc<RouteEntry>,
    stats: Option<Stats>,
    /// Past [`MAX_ROUTES`] templates, an entry is made per request and not
    /// kept: `http.route` is still the template (the conventions ask for
    /// it), only the binding is skipped.
    by_template: Capped<RouteEntry>,
}

impl Routes {
    pub(crate) fn new(llm: &[String], skip: &[String], stats: Option<Stats>) -> Self {
        Self {
            llm: llm.iter().cloned().collect(),
            skip: skip.iter().cloned().collect(),
            unmatched: Arc::new(RouteEntry::new(
                None,
                RouteClass::Standard,
                false,
                true,
                stats.clone(),
            )),
            stats,
            by_template: Capped::new(MAX_ROUTES),
        }
    }

    /// The entry of a request nothing matched.
    pub(crate) fn unmatched(&self) -> &Arc<RouteEntry> {
        &self.unmatched
    }

    /// The class of a route template.
    pub(crate) fn class(&self, template: &str) -> RouteClass {
        if self.llm.contains(template) {
            RouteClass::Llm
        } else {
            RouteClass::Standard
        }
    }

    /// The entry of a route template, created on first use.
    pub(crate) fn get(&self, template: &str) -> Arc<RouteEntry> {
        let class = self.class(template);
        let skip = self.skip.contains(template);
        self.by_template
            .get(template, |template| {
                let route = match intern(template) {
                    Some(r) => Cow::Borrowed(r),
                    None => Cow::Owned(template.to_owned()),
                };
                RouteEntry::new(Some(route), class, skip, true, self.stats.clone())
            })
            .unwrap_or_else(|| {
                Arc::new(RouteEntry::new(
                    Some(Cow::Owned(template.to_owned())),
                    class,
                    skip,
                    false,
                    self.stats.clone(),
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_names_follow_semconv() {
        let routes = Routes::new(&["/api/coach".to_owned()], &[], None);
        let e = routes.get("/api/users/{id}");
        assert_eq!(e.method(0).span_name, "GET /api/users/{id}");
        assert_eq!(e.method(OTHER_METHOD).span_name, "HTTP /api/users/{id}");
        assert_eq!(routes.unmatched().method(1).span_name, "POST");
        assert_eq!(routes.unmatched().method(OTHER_METHOD).span_name, "HTTP");
        assert!(matches!(e.method(0).span_name, Cow::Borrowed(_)));
    }

    #[test]
    fn llm_routes_are_classified() {
        let routes = Routes::new(&["/api/coach".to_owned()], &[], None);
        assert_eq!(routes.get("/api/coach").class, RouteClass::Llm);
        assert_eq!(routes.get("/api/users").class, RouteClass::Standard);
        assert_eq!(routes.unmatched().class, RouteClass::Standard);
    }

    #[test]
    fn skip_routes_are_marked_once_per_template() {
        let routes = Routes::new(&[], &["/health".to_owned()], None);
        assert!(routes.get("/health").skip);
        assert!(!routes.get("/health/x").skip);
        assert!(!routes.get("/api").skip);
        assert!(!routes.unmatched().skip);
        for i in 0..MAX_ROUTES {
            routes.get(&format!("/r{i}"));
        }
        assert!(routes.get("/health").skip);
        // Past the table's bound the mark still holds.
        let routes = Routes::new(&[], &["/late".to_owned()], None);
        for i in 0..MAX_ROUTES {
            routes.get(&format!("/r{i}"));
        }
        let late = routes.get("/late");
        assert!(!late.cached && late.skip);
    }

    #[test]
    fn the_table_is_bounded() {
        let routes = Routes::new(&[], &[], None);
        for i in 0..MAX_ROUTES + 10 {
            routes.get(&format!("/r{i}"));
        }
        assert_eq!(routes.by_template.len(), MAX_ROUTES);
        let overflow = routes.get("/overflow");
        assert!(!overflow.cached);
        assert_eq!(overflow.method(0).span_name, "GET /overflow");
    }

    #[test]
    fn metric_attributes_carry_no_route_when_unmatched() {
        let routes = Routes::new(&[], &[], None);
        let attrs = routes
            .unmatched()
            .metric_attributes(0, 0, Outcome::Status(404));
        assert!(attrs.iter().all(|kv| kv.key != HTTP_ROUTE));
        let attrs = routes
            .get("/x")
            .metric_attributes(0, 0, Outcome::Status(503));
        assert!(attrs
            .iter()
            .any(|kv| kv.key == ERROR_TYPE && kv.value.as_str() == "503"));
    }
}
