//! The gRPC receiver: opentelemetry-proto's generated tonic services.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tokio::task::JoinHandle;
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

use super::model::{self, Transport};
use super::receiver::{Signal, Store};

#[derive(Clone)]
struct Collector(Arc<Store>);

impl Collector {
    async fn gate<T>(&self, signal: Signal, req: &Request<T>) -> Result<(), Status> {
        let headers: BTreeMap<String, String> = req
            .metadata()
            .clone()
            .into_headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let gzip = headers.get("grpc-encoding").is_some_and(|e| e == "gzip");
        self.0
            .gate(signal, Transport::Grpc, signal.grpc_path(), gzip, headers)
            .await
            .map_err(|()| Status::unavailable("test receiver set to fail"))
    }
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        req: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.gate(Signal::Traces, &req).await?;
        self.0
            .add_spans(model::spans(req.get_ref(), Transport::Grpc));
        Ok(Response::new(self.0.trace_answer()))
    }
}

#[tonic::async_trait]
impl MetricsService for Collector {
    async fn export(
        &self,
        req: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        self.gate(Signal::Metrics, &req).await?;
        self.0
            .add_metrics(model::metrics(req.get_ref(), Transport::Grpc));
        Ok(Response::new(ExportMetricsServiceResponse {
            partial_success: None,
        }))
    }
}

#[tonic::async_trait]
impl LogsService for Collector {
    async fn export(
        &self,
        req: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        self.gate(Signal::Logs, &req).await?;
        self.0.add_logs(model::logs(req.get_ref(), Transport::Grpc));
        Ok(Response::new(ExportLogsServiceResponse {
            partial_success: None,
        }))
    }
}

/// TLS for the gRPC receiver: its certificate and key (PEM), and the CA
/// whose client certificates it requires (mutual TLS), if any.
pub struct MutualTls {
    pub cert: Vec<u8>,
    pub key: Vec<u8>,
    pub client_ca: Option<Vec<u8>>,
}

pub(crate) async fn serve(
    store: Arc<Store>,
    tls: Option<MutualTls>,
) -> (SocketAddr, JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the gRPC receiver");
    let addr = listener.local_addr().expect("local addr");
    let c = Collector(store);
    let mut server = tonic::transport::Server::builder();
    if let Some(tls) = tls {
        use tonic::transport::{Certificate, Identity, ServerTlsConfig};
        // tonic's server takes the process's default provider, and a tree
        // with two (ring, aws-lc-rs) has none until one is installed.
        super::install_crypto_provider();
        let mut config = ServerTlsConfig::new().identity(Identity::from_pem(tls.cert, tls.key));
        if let Some(ca) = tls.client_ca {
            config = config.client_ca_root(Certificate::from_pem(ca));
        }
        server = server
            .tls_config(config)
            .expect("the receiver's TLS configuration");
    }
    let router = server
        .add_service(
            TraceServiceServer::new(c.clone()).accept_compressed(CompressionEncoding::Gzip),
        )
        .add_service(
            MetricsServiceServer::new(c.clone()).accept_compressed(CompressionEncoding::Gzip),
        )
        .add_service(LogsServiceServer::new(c).accept_compressed(CompressionEncoding::Gzip));
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    let task = tokio::spawn(async move {
        if let Err(e) = router.serve_with_incoming(incoming).await {
            eprintln!("test gRPC receiver stopped: {e}");
        }
    });
    (addr, task)
}
