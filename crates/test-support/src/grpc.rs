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
use super::receiver::Store;

#[derive(Clone)]
struct Collector(Arc<Store>);

impl Collector {
    async fn gate<T>(&self, req: &Request<T>) -> Result<(), Status> {
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
            .gate(gzip, headers)
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
        self.gate(&req).await?;
        self.0
            .add_spans(model::spans(req.get_ref(), Transport::Grpc));
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

#[tonic::async_trait]
impl MetricsService for Collector {
    async fn export(
        &self,
        req: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        self.gate(&req).await?;
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
        self.gate(&req).await?;
        self.0.add_logs(model::logs(req.get_ref(), Transport::Grpc));
        Ok(Response::new(ExportLogsServiceResponse {
            partial_success: None,
        }))
    }
}

pub(crate) async fn serve(store: Arc<Store>) -> (SocketAddr, JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the gRPC receiver");
    let addr = listener.local_addr().expect("local addr");
    let c = Collector(store);
    let router = tonic::transport::Server::builder()
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
