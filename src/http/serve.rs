//! Serving a [`Router`] with a bound on how long a client may take to send
//! its request head.
//!
//! `axum::serve` builds hyper-util's connection builder without a timer, so
//! hyper's `header_read_timeout` (30 s by default) never fires: a client that
//! opens a connection and sends its headers one byte at a time (slow loris)
//! holds that connection, and a task, for as long as it likes. [`serve`]
//! is the same accept loop (with graceful shutdown in [`serve_until`]) and a Tokio timer and [`HEADER_READ_TIMEOUT`];
//! hyper-util's HTTP/1-or-2 sniffing has no timeout of its own, so the
//! first bytes (up to the HTTP/2 preface) are awaited under the same bound.
//! The admin listener and the Prometheus pull endpoint are served this way.

use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt as _;

/// How long a client may take to send a request's head (request line and
/// headers), and on a new connection its first bytes.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The HTTP/2 connection preface, which hyper-util's version sniffing
/// waits for in full before it gives the connection to HTTP/1.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Serves `app` on `listener` (HTTP/1 and HTTP/2) until the listener fails,
/// with [`HEADER_READ_TIMEOUT`]. Like `axum::serve(listener,
/// app.into_make_service_with_connect_info::<SocketAddr>())`: handlers and
/// the HTTP layer find the peer in `ConnectInfo<SocketAddr>`.
pub async fn serve(listener: TcpListener, app: Router) -> std::io::Result<()> {
    serve_until(listener, app, HEADER_READ_TIMEOUT, std::future::pending()).await
}

/// [`serve`] with its own bound on reading a request's head, until
/// `shutdown` resolves: then it stops accepting, lets every connection
/// finish the request it is serving and returns when all are closed (like
/// axum's `with_graceful_shutdown`; bound the wait with a timeout around it).
pub async fn serve_until<F>(
    listener: TcpListener,
    app: Router,
    header_read_timeout: Duration,
    shutdown: F,
) -> std::io::Result<()>
where
    F: std::future::Future<Output = ()> + Send,
{
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(conn) => conn,
            // The peer gave up before accept: nothing to serve.
            Err(e) if is_connection_error(&e) => continue,
            // Out of file descriptors and the like: wait rather than spin,
            // as axum::serve does; the listener itself is still fine.
            Err(e) => {
                tracing::warn!(target: "wingspan::http", error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let app = app.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            if !first_bytes(&stream, header_read_timeout).await {
                return;
            }
            // The peer address, as `into_make_service_with_connect_info`
            // gives it: the HTTP layer's `client.address` reads it.
            let service = TowerToHyperService::new(app.map_request(
                move |req: Request<hyper::body::Incoming>| {
                    let mut req = req.map(axum::body::Body::new);
                    req.extensions_mut().insert(ConnectInfo(peer));
                    req
                },
            ));
            let mut builder = Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout);
            builder.http2().timer(TokioTimer::new());
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(conn.into_owned()).await {
                tracing::trace!(target: "wingspan::http", error = %e, "connection ended");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Waits, at most `bound`, until the connection has sent enough for
/// hyper-util to tell HTTP/1 from HTTP/2: a byte off the preface, or the
/// whole preface. False when the bound passed or the peer went away.
async fn first_bytes(stream: &TcpStream, bound: Duration) -> bool {
    let sniff = async {
        let mut buf = [0_u8; 24];
        loop {
            let n = stream.peek(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            if n >= H2_PREFACE.len() || buf[..n] != H2_PREFACE[..n] {
                return Some(());
            }
            // A prefix of the preface: peek returns at once while those
            // bytes sit unread, so wait for more before peeking again.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    matches!(tokio::time::timeout(bound, sniff).await, Ok(Some(())))
}

fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use axum::routing::get;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    async fn start(bound: Duration) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route("/", get(|| async { "ok" }));
        tokio::spawn(serve_until(listener, app, bound, std::future::pending()));
        addr
    }

    /// Reads until the server closes; how long that took.
    async fn closed_after(mut s: TcpStream) -> Duration {
        let t = Instant::now();
        let mut buf = [0_u8; 1024];
        while matches!(s.read(&mut buf).await, Ok(n) if n > 0) {}
        t.elapsed()
    }

    #[tokio::test]
    async fn answers_http1() {
        let addr = start(Duration::from_secs(1)).await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        assert!(out.ends_with("ok"), "{out}");
    }

    #[tokio::test]
    async fn a_silent_client_is_dropped_within_the_bound() {
        let addr = start(Duration::from_millis(300)).await;
        let s = TcpStream::connect(addr).await.unwrap();
        let took = closed_after(s).await;
        assert!(took < Duration::from_millis(600), "{took:?}");
    }

    #[tokio::test]
    async fn a_client_stuck_inside_the_h2_preface_is_dropped_within_the_bound() {
        let addr = start(Duration::from_millis(300)).await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"PRI * HTTP").await.unwrap();
        let took = closed_after(s).await;
        assert!(took < Duration::from_millis(600), "{took:?}");
    }

    #[tokio::test]
    async fn a_slow_loris_is_dropped_within_the_bound() {
        let addr = start(Duration::from_millis(300)).await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nx-a: ").await.unwrap();
        let t = Instant::now();
        let mut buf = [0_u8; 64];
        // One byte every 50 ms: each read makes progress, the head never ends.
        loop {
            if s.write_all(b"a").await.is_err() {
                break;
            }
            match tokio::time::timeout(Duration::from_millis(50), s.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(_)) => break, // a 408 or similar, then the close
                Err(_) => {}
            }
            assert!(t.elapsed() < Duration::from_secs(5), "never dropped");
        }
        assert!(
            t.elapsed() < Duration::from_millis(600),
            "{:?}",
            t.elapsed()
        );
    }

    #[tokio::test]
    async fn shutdown_lets_the_request_in_flight_finish_then_returns() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route(
            "/",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(200)).await;
                "late"
            }),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_until(listener, app, Duration::from_secs(1), async {
            let _ = stopped.await;
        }));
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        stop.send(()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.ends_with("late"), "{out}");
        tokio::time::timeout(Duration::from_secs(2), server)
            .await
            .expect("serve_until returns after the last connection")
            .unwrap()
            .unwrap();
        assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
    }

    #[tokio::test]
    async fn handlers_see_the_peer_address() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app =
            Router::new().route(
                "/",
                get(
                    |ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>| async move {
                        peer.to_string()
                    },
                ),
            );
        tokio::spawn(serve(listener, app));
        let mut s = TcpStream::connect(addr).await.unwrap();
        let me = s.local_addr().unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.ends_with(&me.to_string()), "{out}");
    }
}
