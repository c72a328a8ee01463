//! `GET /observability`: one self-contained page (inline CSS, JS and SVG;
//! no request leaves the service). It holds no data: it polls
//! `/health/detailed`, sending the token it finds in the URL fragment
//! (`#token=…`, never sent to the server) or that the user types.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

const PAGE: &str = include_str!("page.html");

pub(crate) async fn page() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                     connect-src 'self'; img-src data:",
                ),
            ),
        ],
        PAGE,
    )
        .into_response()
}
