//! HTTP server (and client) names.

pub use opentelemetry_semantic_conventions::attribute::{
    CLIENT_ADDRESS, HTTP_REQUEST_METHOD, HTTP_REQUEST_METHOD_ORIGINAL, HTTP_REQUEST_RESEND_COUNT,
    HTTP_RESPONSE_STATUS_CODE, HTTP_ROUTE, NETWORK_PROTOCOL_VERSION, URL_FULL, URL_PATH, URL_QUERY,
    URL_SCHEME, USER_AGENT_ORIGINAL,
};
pub use opentelemetry_semantic_conventions::metric::{
    HTTP_CLIENT_REQUEST_DURATION, HTTP_SERVER_ACTIVE_REQUESTS, HTTP_SERVER_REQUEST_DURATION,
};

/// `standard` or `llm`: lets latency alerts leave LLM routes out. Span and
/// `http.server.request.duration`; 2 values.
pub const WINGSPAN_ROUTE_CLASS: &str = "wingspan.route.class";
