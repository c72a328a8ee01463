//! The response body wrapper, and the per-request guard whose drop ends the
//! span and the duration: when the body ends, fails, or is dropped (a client
//! that disconnects mid-body included), and equally when the response
//! future is dropped before there is a body.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context as TaskContext, Poll};
use std::time::{Instant, SystemTime};

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use opentelemetry::trace::{Status, TraceContextExt, TraceId};
use opentelemetry::{Context, KeyValue};

use super::attributes::{status_error_type, ERROR_TYPE, HTTP_RESPONSE_STATUS_CODE};
use super::layer::Shared;
use super::route::{Outcome, RouteEntry};

/// One request in flight: everything needed to end it.
pub(crate) struct RequestGuard {
    /// The span's context; `None` for a request skipped with `Skip::Span`
    /// (measured, not traced).
    pub(crate) cx: Option<Context>,
    shared: Arc<Shared>,
    route: Arc<RouteEntry>,
    method: u8,
    scheme: u8,
    start: Instant,
    start_time: SystemTime,
    outcome: Outcome,
    body_error: Option<&'static str>,
    /// N+1 detection's run state, when a pool with detection exists.
    pub(crate) tracker: Option<crate::n_plus_one::Tracker>,
}

impl RequestGuard {
    pub(crate) fn new(
        cx: Option<Context>,
        shared: Arc<Shared>,
        route: Arc<RouteEntry>,
        method: usize,
        scheme: usize,
        start: Instant,
        start_time: SystemTime,
    ) -> Self {
        Self {
            cx,
            shared,
            route,
            // Both index small fixed tables (METHODS, SCHEMES).
            method: method as u8,
            scheme: scheme as u8,
            start,
            start_time,
            outcome: Outcome::Cancelled,
            body_error: None,
            tracker: None,
        }
    }

    /// With N+1 detection's tracker (`None`: detection off).
    pub(crate) fn tracked(mut self, tracker: Option<crate::n_plus_one::Tracker>) -> Self {
        self.tracker = tracker;
        self
    }

    pub(crate) fn set_outcome(&mut self, outcome: Outcome) {
        self.outcome = outcome;
    }

    fn set_body_error(&mut self, ty: &'static str) {
        self.body_error = Some(ty);
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let elapsed = self.start.elapsed();
        let (method, scheme) = (usize::from(self.method), usize::from(self.scheme));
        let instruments = &self.shared.instruments;
        if let Some(h) = &instruments.duration {
            self.route
                .record(h, method, scheme, self.outcome, elapsed.as_secs_f64());
        }
        if let Some(stats) = &self.route.method(method).stats {
            let status = match self.outcome {
                Outcome::Status(s) => s,
                Outcome::Error(_) => 500,
                // The client left before a response: nginx's 499, a client
                // error, not the service's.
                Outcome::Cancelled => 499,
            };
            let trace_id = match &self.cx {
                Some(cx) => cx.span().span_context().trace_id(),
                None => TraceId::INVALID,
            };
            stats.record(status, elapsed, trace_id);
        }
        instruments.active(method, scheme, -1);

        let view = self
            .route
            .view()
            .map(|v| (v, &*self.route.method(method).span_name));
        let Some(cx) = &self.cx else {
            if let Some(t) = &mut self.tracker {
                let route = self.route.route.as_deref();
                crate::n_plus_one::report(t, None, route, &instruments.n_plus_one, view);
            }
            return;
        };
        let span = cx.span();
        let error = match self.outcome {
            Outcome::Status(s) => {
                span.set_attribute(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(s)));
                (s >= 500).then(|| status_error_type(s))
            }
            Outcome::Error(ty) => Some(ty.into()),
            Outcome::Cancelled => None,
        }
        .or_else(|| self.body_error.map(Into::into));
        if let Some(ty) = error {
            span.set_attribute(KeyValue::new(ERROR_TYPE, ty));
            // Semconv: no description for an HTTP status error.
            span.set_status(Status::error(""));
        }
        if let Some(t) = &mut self.tracker {
            let route = self.route.route.as_deref();
            crate::n_plus_one::report(t, Some(&span), route, &instruments.n_plus_one, view);
        }
        // One clock read for both: the span's end is its start plus the
        // monotonic elapsed time.
        span.end_with_timestamp(self.start_time + elapsed);
    }
}

pin_project_lite::pin_project! {
    /// The response body: the inner body, unchanged, plus the request's
    /// guard, released when the body ends or is dropped.
    pub struct ResponseBody<B> {
        #[pin]
        inner: B,
        guard: Option<RequestGuard>,
    }
}

impl<B> ResponseBody<B> {
    pub(crate) fn new(inner: B, guard: Option<RequestGuard>) -> Self {
        Self { inner, guard }
    }
}

impl<B> std::fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseBody")
            .field("in_flight", &self.guard.is_some())
            .finish_non_exhaustive()
    }
}

impl<B> Body for ResponseBody<B>
where
    B: Body,
    B::Data: Buf,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let mut inner = this.inner;
        let frame = ready!(inner.as_mut().poll_frame(cx));
        match &frame {
            None => {
                this.guard.take();
            }
            Some(Err(_)) => {
                if let Some(mut g) = this.guard.take() {
                    g.set_body_error(std::any::type_name::<B::Error>());
                }
            }
            Some(Ok(_)) => {
                if inner.is_end_stream() {
                    this.guard.take();
                }
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
