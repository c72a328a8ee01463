//! The response future: runs the inner service with the request span's
//! context current, then decorates the response.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context as TaskContext, Poll};

use http::{HeaderValue, Response};

use super::attributes::format_traceparent;
use super::body::{RequestGuard, ResponseBody};
use super::hook::{Attributes, SpanAttributes};
use super::propagation::TRACEPARENT;
use super::route::Outcome;
use opentelemetry::trace::TraceContextExt;

pin_project_lite::pin_project! {
    /// The future of [`super::HttpService`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        // None for a request skipped with `Skip::SpanAndMetrics`.
        guard: Option<RequestGuard>,
        response_traceparent: bool,
        hook: Option<Arc<dyn SpanAttributes>>,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(
        inner: F,
        guard: Option<RequestGuard>,
        response_traceparent: bool,
        hook: Option<Arc<dyn SpanAttributes>>,
    ) -> Self {
        Self {
            inner,
            guard,
            response_traceparent,
            hook,
        }
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = {
            // Handler spans (tracing or OTel) and wingspan's db/cache spans
            // see the request span as the current one.
            let _current = this
                .guard
                .as_ref()
                .and_then(|g| g.cx.clone())
                .map(|cx| cx.attach());
            // The request's statements count for its N+1 detection.
            let _tracked = this
                .guard
                .as_mut()
                .and_then(|g| g.tracker.as_mut())
                .map(crate::n_plus_one::Tracker::enter);
            ready!(this.inner.poll(cx))
        };
        let mut guard = this.guard.take();
        Poll::Ready(match result {
            Ok(mut response) => {
                if let Some(g) = guard.as_mut() {
                    g.set_outcome(Outcome::Status(response.status().as_u16()));
                    if let Some(cx) = &g.cx {
                        let span = cx.span();
                        if let Some(hook) = this.hook.as_deref() {
                            let (parts, body) = response.into_parts();
                            let mut added = Vec::new();
                            hook.on_response(&parts, &mut Attributes::new(&mut added));
                            if !added.is_empty() {
                                span.set_attributes(added);
                            }
                            response = Response::from_parts(parts, body);
                        }
                        if *this.response_traceparent {
                            let sc = span.span_context();
                            if sc.is_valid() {
                                if let Ok(v) = HeaderValue::from_bytes(&format_traceparent(sc)) {
                                    response.headers_mut().insert(TRACEPARENT, v);
                                }
                            }
                        }
                    }
                }
                Ok(response.map(|b| ResponseBody::new(b, guard)))
            }
            Err(e) => {
                if let Some(g) = guard.as_mut() {
                    g.set_outcome(Outcome::Error(std::any::type_name::<E>()));
                }
                Err(e)
            }
        })
    }
}
