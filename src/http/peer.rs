//! [`with_peer`]: the peer address for a service served by its own accept
//! loop, where axum's `into_make_service_with_connect_info` is not used.

use std::net::SocketAddr;
use std::task::{Context, Poll};

use axum::extract::ConnectInfo;
use http::Request;
use tower_service::Service;

/// `service` with every request carrying `peer` as axum's
/// `ConnectInfo<SocketAddr>`: the layer records it as `client.address`
/// (unless a trusted `X-Forwarded-For` names the client), handlers can
/// extract `ConnectInfo<SocketAddr>`, and the admin routes' loopback rule
/// sees it.
///
/// For a hand-written accept loop (hyper-util's connection builders, a
/// tuned HTTP/1 loop): wrap the router once per accepted connection.
///
/// ```no_run
/// # async fn run(app: axum::Router, listener: tokio::net::TcpListener) -> std::io::Result<()> {
/// use hyper_util::rt::{TokioExecutor, TokioIo};
/// use hyper_util::service::TowerToHyperService;
///
/// let (tcp, peer) = listener.accept().await?;
/// let service = TowerToHyperService::new(wingspan::http::with_peer(app.clone(), peer));
/// tokio::spawn(async move {
///     let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
///         .serve_connection(TokioIo::new(tcp), service)
///         .await;
/// });
/// # Ok(()) }
/// ```
pub fn with_peer<S>(service: S, peer: SocketAddr) -> WithPeer<S> {
    WithPeer {
        inner: service,
        peer,
    }
}

/// What [`with_peer`] returns: the service, inserting the peer address.
#[derive(Debug, Clone)]
pub struct WithPeer<S> {
    inner: S,
    peer: SocketAddr,
}

impl<S, B> Service<Request<B>> for WithPeer<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        req.extensions_mut().insert(ConnectInfo(self.peer));
        self.inner.call(req)
    }
}
