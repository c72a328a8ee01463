//! One HTTP attempt: its CLIENT span (a child of the caller's context), the
//! injected context (the formats of `OTEL_PROPAGATORS`), and its `http.client.request.duration` record.

use std::borrow::Cow;

use opentelemetry::propagation::Injector;
use opentelemetry::trace::{SpanKind, Tracer as _};
use opentelemetry::{Context, KeyValue};

use super::{HttpError, Shared};
use crate::instrument::{CallError, CallMetrics, ClientCall};
use crate::names;

/// Query parameters whose values `url.full` never shows (the conventions'
/// list).
const SENSITIVE_QUERY: &[&str] = &[
    "X-Amz-Signature",
    "X-Amz-Credential",
    "X-Amz-Security-Token",
    "sig",
    "X-Goog-Signature",
];

struct AttemptMetrics<'a> {
    shared: &'a Shared,
    attributes: Vec<KeyValue>,
}

impl CallMetrics for AttemptMetrics<'_> {
    fn ok(&self, seconds: f64) {
        self.shared.duration.record(seconds, &self.attributes);
    }

    fn failed(&self, seconds: f64, error_type: &str, _status_code: Option<&str>) {
        let mut attrs = Vec::with_capacity(self.attributes.len() + 1);
        attrs.extend_from_slice(&self.attributes);
        attrs.push(KeyValue::new(names::ERROR_TYPE, error_type.to_owned()));
        self.shared.duration.record(seconds, &attrs);
    }
}

struct Failure<'a>(&'a str);

impl CallError for Failure<'_> {
    fn error_type(&self) -> &str {
        self.0
    }
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// The method as the conventions spell it; unknown ones are `_OTHER`.
fn method_name(method: &http::Method) -> &'static str {
    match *method {
        http::Method::GET => "GET",
        http::Method::POST => "POST",
        http::Method::PUT => "PUT",
        http::Method::DELETE => "DELETE",
        http::Method::PATCH => "PATCH",
        http::Method::HEAD => "HEAD",
        http::Method::OPTIONS => "OPTIONS",
        http::Method::TRACE => "TRACE",
        http::Method::CONNECT => "CONNECT",
        _ => "_OTHER",
    }
}

/// `url.full` without credentials or the sensitive query values.
pub(crate) fn redacted_url(url: &reqwest::Url) -> String {
    let mut url = url.clone();
    if !url.username().is_empty() || url.password().is_some() {
        let _ = url.set_username("REDACTED");
        let _ = url.set_password(Some("REDACTED"));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if SENSITIVE_QUERY.contains(&k.as_ref()) {
                    Cow::Borrowed("REDACTED")
                } else {
                    v
                };
                (k.into_owned(), v.into_owned())
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

fn protocol_version(v: http::Version) -> &'static str {
    match v {
        http::Version::HTTP_09 => "0.9",
        http::Version::HTTP_10 => "1.0",
        http::Version::HTTP_2 => "2",
        http::Version::HTTP_3 => "3",
        _ => "1.1",
    }
}

fn transport_kind(e: &reqwest::Error) -> &'static str {
    if e.is_connect() {
        names::ERROR_CONNECT
    } else if e.is_redirect() {
        "redirect"
    } else if e.is_body() {
        "body"
    } else if e.is_decode() {
        "decode"
    } else if e.is_request() {
        "request"
    } else {
        names::ERROR_OTHER
    }
}

/// Starts the attempt's span under `parent`.
fn start<'a>(
    shared: &'a Shared,
    parent: &Context,
    request: &reqwest::Request,
    resend: u32,
    url_template: Option<&'static str>,
) -> ClientCall<AttemptMetrics<'a>> {
    let method = method_name(request.method());
    let url = request.url();
    let mut metric_attrs = Vec::with_capacity(7);
    metric_attrs.push(KeyValue::new(names::HTTP_REQUEST_METHOD, method));
    if let Some(host) = url.host_str() {
        metric_attrs.push(KeyValue::new(names::SERVER_ADDRESS, host.to_owned()));
    }
    if let Some(port) = url.port_or_known_default() {
        metric_attrs.push(KeyValue::new(names::SERVER_PORT, i64::from(port)));
    }
    if let Some(t) = url_template {
        metric_attrs.push(KeyValue::new(names::URL_TEMPLATE, t));
    }
    let mut span_attrs = metric_attrs.clone();
    span_attrs.push(KeyValue::new(names::URL_FULL, redacted_url(url)));
    if resend > 0 {
        span_attrs.push(KeyValue::new(
            names::HTTP_REQUEST_RESEND_COUNT,
            i64::from(resend),
        ));
    }
    let name: Cow<'static, str> = match url_template {
        Some(t) if method != "_OTHER" => Cow::Owned(format!("{method} {t}")),
        _ if method == "_OTHER" => Cow::Borrowed("HTTP"),
        _ => Cow::Borrowed(method),
    };
    let builder = shared
        .tracer
        .span_builder(name)
        .with_kind(SpanKind::Client)
        .with_attributes(span_attrs);
    let metrics = AttemptMetrics {
        shared,
        attributes: metric_attrs,
    };
    if metrics.shared.recording.is_off() {
        // The SDK disabled: no span, and so no `traceparent` sent.
        return ClientCall::untraced(metrics);
    }
    ClientCall::start_in_context(&metrics.shared.tracer, builder, parent, metrics)
}

/// What one attempt got.
pub(super) enum Attempt {
    /// An answer for the caller (or for the retry policy).
    Response(reqwest::Response),
    /// A redirect to follow: the next hop's request.
    Redirect(reqwest::Request),
}

/// Sends one attempt: its span, the injected context, the outcome.
/// `redirect` decides on the answer: a hop to follow, an answer, or a
/// refused redirect (the span then ends with `error.type=redirect`).
/// `baggage` says whether this hop may carry baggage (W3C `baggage`, and
/// Jaeger's and OT trace's baggage headers; configured, and the request's
/// own origin).
pub(super) async fn run(
    shared: &Shared,
    parent: &Context,
    mut request: reqwest::Request,
    resend: u32,
    url_template: Option<&'static str>,
    baggage: bool,
    redirect: impl FnOnce(&reqwest::Response) -> Result<Option<reqwest::Request>, HttpError>,
) -> Result<Attempt, HttpError> {
    let mut call = start(shared, parent, &request, resend, url_template);
    let cx = call.context();
    shared
        .propagation
        .inject(&cx, &mut HeaderInjector(request.headers_mut()), baggage);

    match tokio::time::timeout(shared.timeout, shared.reqwest.execute(request)).await {
        Err(_) => {
            call.fail(&Failure(names::ERROR_TIMEOUT));
            Err(HttpError::Timeout(shared.timeout))
        }
        Ok(Err(e)) => {
            let kind = if e.is_timeout() {
                names::ERROR_TIMEOUT
            } else {
                transport_kind(&e)
            };
            call.fail(&Failure(kind));
            Err(HttpError::Transport {
                kind,
                source: e.without_url(),
            })
        }
        Ok(Ok(response)) => {
            let status = response.status();
            let code = KeyValue::new(names::HTTP_RESPONSE_STATUS_CODE, i64::from(status.as_u16()));
            let version = KeyValue::new(
                names::NETWORK_PROTOCOL_VERSION,
                protocol_version(response.version()),
            );
            call.set_attribute(code.clone());
            call.set_attribute(version.clone());
            let attrs = &mut call.metrics_mut().attributes;
            attrs.push(code);
            attrs.push(version);
            match redirect(&response) {
                Err(e) => {
                    call.fail(&Failure(e.error_type()));
                    return Err(e);
                }
                Ok(Some(next)) => {
                    call.ok();
                    return Ok(Attempt::Redirect(next));
                }
                Ok(None) => {}
            }
            if status.is_client_error() || status.is_server_error() || status.as_u16() >= 600 {
                call.fail(&Failure(status.as_str()));
            } else {
                call.ok();
            }
            Ok(Attempt::Response(response))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_full_hides_credentials_and_signatures() {
        let url: reqwest::Url = "https://user:pw@example.com/p?a=1&sig=secret&X-Amz-Signature=s2"
            .parse()
            .unwrap();
        let shown = redacted_url(&url);
        assert_eq!(
            shown,
            "https://REDACTED:REDACTED@example.com/p?a=1&sig=REDACTED&X-Amz-Signature=REDACTED"
        );
    }

    #[test]
    fn unknown_methods_are_other() {
        assert_eq!(
            method_name(&http::Method::from_bytes(b"PURGE").unwrap()),
            "_OTHER"
        );
        assert_eq!(method_name(&http::Method::POST), "POST");
    }
}
