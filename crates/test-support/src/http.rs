//! The HTTP/protobuf receiver: axum routes decoding the OTLP messages with
//! prost, gzip bodies included.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use tokio::task::JoinHandle;

use super::model::{self, Transport};
use super::receiver::{Signal, Store};

type Shared = State<Arc<Store>>;

/// Checks the knobs, un-gzips and decodes the body.
async fn accept<M: Message + Default>(
    signal: Signal,
    path: &str,
    store: &Store,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<M, Response> {
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let map: BTreeMap<String, String> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    if store
        .gate(signal, Transport::Http, path, gzip, map)
        .await
        .is_err()
    {
        return Err((StatusCode::SERVICE_UNAVAILABLE, "test receiver set to fail").into_response());
    }
    let raw = if gzip {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut out)
            .map_err(|e| (StatusCode::BAD_REQUEST, format!("bad gzip: {e}")).into_response())?;
        Bytes::from(out)
    } else {
        body
    };
    M::decode(raw)
        .map_err(|e| (StatusCode::BAD_REQUEST, format!("bad protobuf: {e}")).into_response())
}

fn reply<M: Message>(msg: M) -> Response {
    (
        [(header::CONTENT_TYPE, "application/x-protobuf")],
        msg.encode_to_vec(),
    )
        .into_response()
}

async fn traces(store: &Store, path: &str, headers: HeaderMap, body: Bytes) -> Response {
    match accept::<ExportTraceServiceRequest>(Signal::Traces, path, store, &headers, body).await {
        Ok(req) => {
            store.add_spans(model::spans(&req, Transport::Http));
            reply(store.trace_answer())
        }
        Err(r) => r,
    }
}

async fn metrics(store: &Store, path: &str, headers: HeaderMap, body: Bytes) -> Response {
    match accept::<ExportMetricsServiceRequest>(Signal::Metrics, path, store, &headers, body).await
    {
        Ok(req) => {
            store.add_metrics(model::metrics(&req, Transport::Http));
            reply(ExportMetricsServiceResponse {
                partial_success: None,
            })
        }
        Err(r) => r,
    }
}

async fn logs(store: &Store, path: &str, headers: HeaderMap, body: Bytes) -> Response {
    match accept::<ExportLogsServiceRequest>(Signal::Logs, path, store, &headers, body).await {
        Ok(req) => {
            store.add_logs(model::logs(&req, Transport::Http));
            reply(ExportLogsServiceResponse {
                partial_success: None,
            })
        }
        Err(r) => r,
    }
}

/// Any path ending in `/v1/traces`, `/v1/metrics` or `/v1/logs`: vendors
/// put the OTLP paths under a prefix of their own (`/otlp/v1/traces`,
/// `/api/v2/otlp/v1/metrics`), which the exports record.
async fn export(State(store): Shared, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path();
    if path.ends_with("/v1/traces") {
        traces(&store, path, headers, body).await
    } else if path.ends_with("/v1/metrics") {
        metrics(&store, path, headers, body).await
    } else if path.ends_with("/v1/logs") {
        logs(&store, path, headers, body).await
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

pub(crate) async fn serve(store: Arc<Store>) -> (SocketAddr, JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the HTTP receiver");
    let addr = listener.local_addr().expect("local addr");
    let app = Router::new().fallback(post(export)).with_state(store);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("test HTTP receiver stopped: {e}");
        }
    });
    (addr, task)
}
