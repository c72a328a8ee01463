//! One attempt at sending an encoded request: OTLP/gRPC on tonic's channel
//! (the request's bytes passed through as they are), or OTLP/HTTP with the
//! blocking reqwest client; each failure classified as the OTLP
//! specification classifies it.

use std::io::Read as _;
use std::time::Duration;

use bytes::{Buf as _, BufMut as _, Bytes};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message as _;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic_types::StatusExt as _;

use super::retry::{Failure, Verdict};
use crate::telemetry::every::Every;

const GRPC_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// A response body larger than this is not read: an answer to an export is
/// a few bytes, and a hostile endpoint must not make the exporter buffer.
const MAX_RESPONSE_BYTES: u64 = 64 * 1024;

/// Where and how the encoded requests go. Its `Debug` names the headers'
/// count, never their values (API keys and tokens live there).
pub(crate) enum Transport {
    Grpc {
        channel: tonic::transport::Channel,
        /// The configured headers and the user agent.
        metadata: tonic::metadata::MetadataMap,
        gzip: bool,
    },
    Http {
        client: reqwest::blocking::Client,
        /// The signal's full URL (`…/v1/traces`), without credentials.
        endpoint: reqwest::Url,
        /// The configured headers, the user agent and the content type.
        headers: http::HeaderMap,
        gzip: bool,
    },
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Grpc { metadata, gzip, .. } => f
                .debug_struct("Grpc")
                .field("headers", &metadata.len())
                .field("gzip", gzip)
                .finish_non_exhaustive(),
            Self::Http {
                endpoint,
                headers,
                gzip,
                ..
            } => f
                .debug_struct("Http")
                .field("endpoint", &endpoint.as_str())
                .field("headers", &headers.len())
                .field("gzip", gzip)
                .finish_non_exhaustive(),
        }
    }
}

impl Transport {
    /// One attempt, given `timeout` from start to answer (what is left of
    /// the export's timeout); on success, the spans the collector rejected.
    pub(crate) async fn send(&self, body: Bytes, timeout: Duration) -> Result<u64, Failure> {
        match self {
            Self::Grpc {
                channel,
                metadata,
                gzip,
            } => grpc(channel, metadata, *gzip, body, timeout).await,
            Self::Http {
                client,
                endpoint,
                headers,
                gzip,
            } => http_post(client, endpoint, headers, *gzip, body, timeout),
        }
    }
}

async fn grpc(
    channel: &tonic::transport::Channel,
    metadata: &tonic::metadata::MetadataMap,
    gzip: bool,
    body: Bytes,
    timeout: Duration,
) -> Result<u64, Failure> {
    let mut client = tonic::client::Grpc::new(channel.clone());
    if gzip {
        client = client
            .send_compressed(tonic::codec::CompressionEncoding::Gzip)
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip);
    }
    client
        .ready()
        .await
        .map_err(|e| Failure::new(Verdict::Retry, format!("OTLP/gRPC channel: {e}")))?;
    let mut request = tonic::Request::new(body);
    *request.metadata_mut() = metadata.clone();
    // Sent as `grpc-timeout`, so the collector gives up when the exporter
    // does. tonic panics past 8 digits of hours; the configuration caps
    // every timeout at a day (`config::NO_LIMIT`), and so does this.
    request.set_timeout(timeout.min(crate::config::NO_LIMIT));
    let path = http::uri::PathAndQuery::from_static(GRPC_PATH);
    match client.unary(request, path, RawCodec).await {
        Ok(response) => Ok(partial_success(response.get_ref())),
        Err(status) => Err(Failure::new(
            grpc_verdict(&status),
            format!(
                "OTLP/gRPC export failed: {:?}: {}",
                status.code(),
                status.message()
            ),
        )),
    }
}

/// The specification's retryable gRPC codes; RESOURCE_EXHAUSTED only with
/// the server's `RetryInfo` (whatever its delay, an absent one included),
/// which also sets the delay of UNAVAILABLE.
fn grpc_verdict(status: &tonic::Status) -> Verdict {
    use tonic::Code;
    let retry_info = status
        .get_details_retry_info()
        .map(|info| info.retry_delay.unwrap_or_default());
    match status.code() {
        Code::ResourceExhausted => retry_info.map_or(Verdict::Fatal, Verdict::Throttled),
        Code::Unavailable => retry_info.map_or(Verdict::Retry, Verdict::Throttled),
        Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::DataLoss => Verdict::Retry,
        _ => Verdict::Fatal,
    }
}

fn http_post(
    client: &reqwest::blocking::Client,
    endpoint: &reqwest::Url,
    headers: &http::HeaderMap,
    gzip: bool,
    body: Bytes,
    timeout: Duration,
) -> Result<u64, Failure> {
    let mut request = client
        .post(endpoint.clone())
        .headers(headers.clone())
        .timeout(timeout);
    let body = if gzip {
        request = request.header(http::header::CONTENT_ENCODING, "gzip");
        gzipped(&body)?
    } else {
        body
    };
    // The blocking client: this runs on an export thread, never a worker.
    let response = request
        .body(body)
        .send()
        // reqwest's error names the URL, which may carry a password: only
        // its kind goes in the message.
        .map_err(|e| {
            let kind = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "could not connect"
            } else {
                "network error"
            };
            Failure::new(Verdict::Retry, format!("OTLP/HTTP export failed: {kind}"))
        })?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(retry_after);
    let mut answer = Vec::new();
    // An unreadable answer to a 2xx is still a success: the spans arrived.
    let _ = response.take(MAX_RESPONSE_BYTES).read_to_end(&mut answer);
    if (200..300).contains(&status) {
        return Ok(ExportTraceServiceResponse::decode(answer.as_slice())
            .map_or(0, |response| partial_success(&response)));
    }
    let verdict = match status {
        429 | 503 => retry_after.map_or(Verdict::Retry, Verdict::Throttled),
        502 | 504 => Verdict::Retry,
        _ => Verdict::Fatal,
    };
    Err(Failure::new(
        verdict,
        format!("OTLP/HTTP export failed with status code: {status}"),
    ))
}

/// `Retry-After` in either of its forms (RFC 9110 §10.2.3): seconds, or an
/// HTTP date (a date already past is no wait).
fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

fn gzipped(body: &[u8]) -> Result<Bytes, Failure> {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::default(),
    );
    enc.write_all(body)
        .and_then(|()| enc.finish())
        .map(Bytes::from)
        .map_err(|e| Failure::new(Verdict::Fatal, format!("OTLP gzip: {e}")))
}

/// A collector that accepted part of a request says so in a success; the
/// specification says to log it and not retry. Logged at most once a
/// minute, with the collector's message cut short; returns the spans
/// rejected (a negative count is none).
fn partial_success(response: &ExportTraceServiceResponse) -> u64 {
    static EVERY: Every = Every::new(Duration::from_secs(60));
    let Some(p) = &response.partial_success else {
        return 0;
    };
    let rejected = u64::try_from(p.rejected_spans).unwrap_or(0);
    if rejected == 0 && p.error_message.is_empty() {
        return 0;
    }
    if !EVERY.pass() {
        return rejected;
    }
    let message: String = p.error_message.chars().take(200).collect();
    tracing::warn!(
        target: "wingspan::telemetry",
        "the collector rejected {rejected} spans of an export: {message} (logged at most once a minute)"
    );
    rejected
}

/// Passes the encoded request through as the gRPC message, and decodes
/// the answer as the trace service's response.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = ExportTraceServiceResponse;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        *self
    }

    fn decoder(&mut self) -> Self::Decoder {
        *self
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = ExportTraceServiceResponse;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Self::Error> {
        let bytes = src.copy_to_bytes(src.remaining());
        ExportTraceServiceResponse::decode(bytes)
            .map(Some)
            .map_err(|e| tonic::Status::internal(format!("OTLP/gRPC response: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_codes_are_classified_as_the_specification_says() {
        use tonic::Code;
        let v = |code| grpc_verdict(&tonic::Status::new(code, ""));
        for code in [
            Code::Cancelled,
            Code::DeadlineExceeded,
            Code::Aborted,
            Code::OutOfRange,
            Code::Unavailable,
            Code::DataLoss,
        ] {
            assert_eq!(v(code), Verdict::Retry, "{code:?}");
        }
        for code in [
            Code::Unknown,
            Code::InvalidArgument,
            Code::NotFound,
            Code::PermissionDenied,
            Code::Unauthenticated,
            Code::Unimplemented,
            Code::Internal,
            // Without RetryInfo, RESOURCE_EXHAUSTED is not retryable.
            Code::ResourceExhausted,
        ] {
            assert_eq!(v(code), Verdict::Fatal, "{code:?}");
        }
        let throttled = tonic::Status::with_error_details(
            Code::ResourceExhausted,
            "slow down",
            tonic_types::ErrorDetails::with_retry_info(Some(Duration::from_secs(2))),
        );
        assert_eq!(
            grpc_verdict(&throttled),
            Verdict::Throttled(Duration::from_secs(2))
        );
        // RetryInfo without a delay still makes it retryable, on the backoff.
        let no_delay = tonic::Status::with_error_details(
            Code::ResourceExhausted,
            "slow down",
            tonic_types::ErrorDetails::with_retry_info(None),
        );
        assert_eq!(grpc_verdict(&no_delay), Verdict::Throttled(Duration::ZERO));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        assert_eq!(retry_after(" 120 "), Some(Duration::from_secs(120)));
        // RFC 9110's own example, long past: no wait.
        assert_eq!(
            retry_after("Fri, 31 Dec 1999 23:59:59 GMT"),
            Some(Duration::ZERO)
        );
        let later =
            httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(3600));
        let wait = retry_after(&later).unwrap();
        assert!(
            wait > Duration::from_secs(3500) && wait <= Duration::from_secs(3600),
            "{wait:?}"
        );
        assert_eq!(retry_after("soon"), None);
        assert_eq!(retry_after("-5"), None);
    }

    #[test]
    fn debug_shows_no_header_value() {
        let mut headers = http::HeaderMap::new();
        headers.insert("x-api-key", http::HeaderValue::from_static("s3cr3t-key"));
        let transport = Transport::Http {
            client: reqwest::blocking::Client::new(),
            endpoint: "http://127.0.0.1:4318/v1/traces".parse().unwrap(),
            headers,
            gzip: false,
        };
        let shown = format!("{transport:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("headers: 1"), "{shown}");
    }

    #[test]
    fn gzip_round_trips() {
        let body = Bytes::from(vec![7u8; 10_000]);
        let z = gzipped(&body).unwrap();
        assert!(z.len() < 200);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(z.as_ref())
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
    }
}
