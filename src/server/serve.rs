//! Serving a [`Router`] with bounds on what a client may hold: how long it
//! may take to send a request head or the next piece of a body, how long an
//! HTTP/2 connection may sit without a stream, how many connections a
//! listener serves at once.
//!
//! `axum::serve` builds hyper-util's connection builder without a timer, so
//! hyper's `header_read_timeout` never fires: a client that sends its
//! headers one byte at a time (slow loris), a body one byte at a time, or an
//! HTTP/2 preface and then nothing, holds its connection and a task for as
//! long as it likes, and nothing bounds how many it opens. [`Serve`] is the
//! same accept loop (with graceful shutdown in [`Serve::run_until`]) with a
//! Tokio timer and the bounds of [`ServeConfig`]:
//!
//! | bound | what happens past it |
//! |---|---|
//! | header read timeout | the first bytes of a connection (until HTTP/1 and HTTP/2 can be told apart), every HTTP/1 request head, and the wait for the next one on a kept-alive connection: the connection is closed, without an answer |
//! | body read timeout | the wait for the next piece of a request body the handler reads: the read fails (the handler answers, axum's extractors with a 4xx) and the connection closes |
//! | idle timeout | an HTTP/2 connection with no open stream: GOAWAY, then closed |
//! | HTTP/2 keep-alive | while streams are open, a PING every interval; no answer within the interval closes the connection |
//! | max connections | the listener stops accepting; new connections wait in the kernel's backlog (which refuses beyond it) until one closes |
//!
//! The service's listener, the admin listener and the Prometheus pull
//! endpoint are served this way. A client that reads its answer slowly is
//! not bounded here (its writes wait on TCP flow control).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tower::util::Oneshot;
use tower::ServiceExt as _;
use tower_http::timeout::TimeoutBody;

use crate::config::ServeConfig;

/// How long a client may take to send a request's head (request line and
/// headers), and on a new connection its first bytes: the default of
/// [`Serve::header_read_timeout`].
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The HTTP/2 connection preface, which hyper-util's version sniffing
/// waits for in full before it gives the connection to HTTP/1.
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How often the "connection limit reached" warning may repeat.
const LIMIT_WARNING_EVERY: Duration = Duration::from_secs(60);

/// Serves `app` on `listener` (HTTP/1 and HTTP/2) until the listener fails,
/// with the default bounds ([`ServeConfig::default`]). Like
/// `axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())`:
/// handlers and the HTTP layer find the peer in `ConnectInfo<SocketAddr>`.
pub async fn serve(listener: TcpListener, app: Router) -> std::io::Result<()> {
    Serve::new(listener, app).run().await
}

/// [`serve`] with its own bound on reading a request's head, until
/// `shutdown` resolves (see [`Serve::run_until`]).
pub async fn serve_until<F>(
    listener: TcpListener,
    app: Router,
    header_read_timeout: Duration,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send,
{
    Serve::new(listener, app)
        .header_read_timeout(header_read_timeout)
        .run_until(shutdown)
        .await
}

/// A listener and the router it serves, with the bounds of every
/// connection; [`Serve::run`] or [`Serve::run_until`] serves it.
///
/// ```no_run
/// # async fn demo(app: axum::Router, config: &wingspan::Config) -> std::io::Result<()> {
/// use std::time::Duration;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// wingspan::http::Serve::new(listener, app)
///     .config(&config.http.serve) // the WINGSPAN_HTTP_* settings
///     .max_connections(256)
///     .body_read_timeout(Duration::from_secs(5))
///     .run_until(async { let _ = tokio::signal::ctrl_c().await; })
///     .await
/// # }
/// ```
#[must_use]
pub struct Serve {
    listener: TcpListener,
    app: Router,
    config: ServeConfig,
}

impl std::fmt::Debug for Serve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener.local_addr().ok())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Serve {
    /// `app` on `listener`, with the default bounds.
    pub fn new(listener: TcpListener, app: Router) -> Self {
        Self {
            listener,
            app,
            config: ServeConfig::default(),
        }
    }

    /// Every bound at once, e.g. `&config.http.serve` (the `WINGSPAN_HTTP_*`
    /// settings). Defaults to [`ServeConfig::default`].
    pub fn config(mut self, config: &ServeConfig) -> Self {
        self.config = *config;
        self
    }

    /// How long a client may take to send its first bytes, each HTTP/1
    /// request head, and on a kept-alive HTTP/1 connection the next request.
    /// Defaults to 10 s ([`HEADER_READ_TIMEOUT`]).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.header_read_timeout = timeout;
        self
    }

    /// The longest wait for the next piece of a request body the handler is
    /// reading; past it the read fails and the connection closes. Defaults
    /// to 10 s.
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.body_read_timeout = timeout;
        self
    }

    /// How long an HTTP/2 connection may have no open stream before it is
    /// shut down (GOAWAY; closed at the latest one more `timeout` later).
    /// Defaults to 10 s.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.idle_timeout = timeout;
        self
    }

    /// The interval of HTTP/2 PINGs while streams are open, and how long
    /// the answer may take before the connection is closed. Defaults to 20 s.
    pub fn http2_keep_alive(mut self, interval: Duration) -> Self {
        self.config.http2_keep_alive = interval;
        self
    }

    /// Connections served at once (at least 1); at the limit the listener
    /// stops accepting and new connections wait in the kernel's backlog
    /// until one closes. Defaults to 1024.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.config.max_connections = max;
        self
    }

    /// Serves until the listener fails (it does not, short of the process
    /// going away: accept errors are waited out).
    pub async fn run(self) -> std::io::Result<()> {
        self.run_until(std::future::pending()).await
    }

    /// Serves until `shutdown` resolves: then stops accepting, lets every
    /// connection finish the request it is serving and returns when all are
    /// closed (like axum's `with_graceful_shutdown`; bound the wait with a
    /// timeout around it).
    pub async fn run_until<F>(self, shutdown: F) -> std::io::Result<()>
    where
        F: Future<Output = ()> + Send,
    {
        let Serve {
            listener,
            app,
            config,
        } = self;
        // At least one; at most what `acquire_many` (a u32) can wait for.
        let max = config
            .max_connections
            .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        let slots = Arc::new(Semaphore::new(max));
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut shutdown = std::pin::pin!(shutdown);
        let mut warned: Option<Instant> = None;
        loop {
            // A slot before accepting: at the limit the connection waits in
            // the backlog instead of costing a task and its buffers here.
            let slot = match slots.clone().try_acquire_owned() {
                Ok(slot) => slot,
                Err(_) => {
                    if warned.is_none_or(|at| at.elapsed() >= LIMIT_WARNING_EVERY) {
                        warned = Some(Instant::now());
                        tracing::warn!(
                            target: "wingspan::http",
                            max_connections = max,
                            addr = ?listener.local_addr().ok(),
                            "connection limit reached: new connections wait until one closes"
                        );
                    }
                    tokio::select! {
                        slot = slots.clone().acquire_owned() => match slot {
                            Ok(slot) => slot,
                            Err(_) => break, // never closed
                        },
                        () = &mut shutdown => break,
                    }
                }
            };
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
            let stop = stop_rx.clone();
            tokio::spawn(async move {
                connection(stream, peer, app, config, stop).await;
                drop(slot);
            });
        }
        drop(listener);
        let _ = stop_tx.send(true);
        // Every connection holds a slot until it ends.
        let _ = slots.acquire_many(max as u32).await;
        Ok(())
    }
}

/// One connection, from its first bytes to its close.
async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    config: ServeConfig,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    // A connection that has sent nothing yet (a client's spare pooled
    // connection) serves no request: at shutdown it closes at once instead of
    // holding the drain for the header read timeout.
    let first = tokio::select! {
        first = tokio::time::timeout(config.header_read_timeout, first_bytes(&mut stream)) => first,
        _ = stop.wait_for(|stop| *stop) => return,
    };
    let Ok(Some(first)) = first else {
        return;
    };
    let h2 = first.is_h2();
    // HTTP/2 only: HTTP/1's wait between requests is hyper's header read timeout.
    let (activity, mut idle) = if h2 {
        let (tx, rx) = watch::channel(0_usize);
        (Some(Arc::new(tx)), Some(rx))
    } else {
        (None, None)
    };
    let service = ConnService {
        app,
        peer,
        body_read_timeout: config.body_read_timeout,
        activity,
    };
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(config.http2_keep_alive)
        .keep_alive_timeout(config.http2_keep_alive);
    let io = TokioIo::new(Rewind {
        first,
        inner: stream,
    });
    let conn = builder.serve_connection_with_upgrades(io, service);
    let mut conn = std::pin::pin!(conn);
    let mut shutting_down = false;
    // Set once the connection is idle: past it, it is dropped (a peer that
    // never acknowledges the GOAWAY's PING would otherwise keep it).
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::trace!(target: "wingspan::http", error = %e, "connection ended");
                }
                return;
            }
            _ = stop.wait_for(|stop| *stop), if !shutting_down => {
                shutting_down = true;
                conn.as_mut().graceful_shutdown();
            }
            () = idle_for(idle.as_mut(), config.idle_timeout), if deadline.is_none() => {
                if !shutting_down {
                    shutting_down = true;
                    conn.as_mut().graceful_shutdown();
                }
                deadline = Some(tokio::time::Instant::now() + config.idle_timeout);
            }
            () = sleep_until(deadline) => return,
        }
    }
}

/// Resolves once `activity` has shown no open stream for `idle`; never
/// without `activity` (HTTP/1) or once the connection's service is gone.
async fn idle_for(activity: Option<&mut watch::Receiver<usize>>, idle: Duration) {
    let Some(rx) = activity else {
        return std::future::pending().await;
    };
    loop {
        if *rx.borrow_and_update() > 0 {
            if rx.changed().await.is_err() {
                return std::future::pending().await;
            }
            continue;
        }
        // Any change (a stream opened, even one already closed again)
        // restarts the wait.
        match tokio::time::timeout(idle, rx.changed()).await {
            Err(_) => return,
            Ok(Ok(())) => continue,
            Ok(Err(_)) => return std::future::pending().await,
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The first bytes of a connection, read until HTTP/1 and HTTP/2 can be
/// told apart: a byte off the HTTP/2 preface, or the whole preface.
struct First {
    buf: [u8; 24],
    len: usize,
    /// How much of `buf` [`Rewind`] has handed on.
    pos: usize,
}

impl First {
    fn is_h2(&self) -> bool {
        self.buf[..self.len] == H2_PREFACE[..]
    }
}

/// Reads the first bytes (see [`First`]); `None` when the peer closed
/// first. Each read waits for the socket to be readable: a client stuck
/// inside the preface costs nothing while it waits.
async fn first_bytes(stream: &mut TcpStream) -> Option<First> {
    let mut first = First {
        buf: [0; 24],
        len: 0,
        pos: 0,
    };
    loop {
        let n = stream.read(&mut first.buf[first.len..]).await.ok()?;
        if n == 0 {
            return None;
        }
        first.len += n;
        if first.len == H2_PREFACE.len() || first.buf[..first.len] != H2_PREFACE[..first.len] {
            return Some(first);
        }
    }
}

/// The stream with the bytes [`first_bytes`] took put back in front.
struct Rewind {
    first: First,
    inner: TcpStream,
}

impl AsyncRead for Rewind {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let first = &mut this.first;
        if first.pos < first.len {
            let n = (first.len - first.pos).min(buf.remaining());
            buf.put_slice(&first.buf[first.pos..first.pos + n]);
            first.pos += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Rewind {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The router as one connection's hyper service: the peer as
/// `ConnectInfo` (as `into_make_service_with_connect_info` gives it; the
/// HTTP layer's `client.address` reads it), the request body under the
/// read timeout, and on HTTP/2 each request counted open until its answer
/// is sent or dropped.
#[derive(Clone)]
struct ConnService {
    app: Router,
    peer: SocketAddr,
    body_read_timeout: Duration,
    activity: Option<Arc<watch::Sender<usize>>>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for ConnService {
    type Response = Response<Tracked<Body>>;
    type Error = Infallible;
    type Future = TrackedFuture;

    fn call(&self, req: hyper::Request<Incoming>) -> Self::Future {
        let open = self.activity.clone().map(Open::new);
        let timeout = self.body_read_timeout;
        let mut req: Request = req.map(|b| Body::new(TimeoutBody::new(timeout, b)));
        req.extensions_mut().insert(ConnectInfo(self.peer));
        TrackedFuture {
            inner: self.app.clone().oneshot(req),
            open,
        }
    }
}

/// One open request of an HTTP/2 connection; closed on drop.
struct Open(Arc<watch::Sender<usize>>);

impl Open {
    fn new(activity: Arc<watch::Sender<usize>>) -> Self {
        activity.send_modify(|n| *n += 1);
        Self(activity)
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

pin_project_lite::pin_project! {
    /// The router's answer, with the request's [`Open`] moved into its body.
    struct TrackedFuture {
        #[pin]
        inner: Oneshot<Router, Request>,
        open: Option<Open>,
    }
}

impl Future for TrackedFuture {
    type Output = Result<Response<Tracked<Body>>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.inner.poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(res)) => {
                let open = this.open.take();
                Poll::Ready(Ok(res.map(|body| Tracked { body, _open: open })))
            }
            Poll::Ready(Err(never)) => match never {},
        }
    }
}

pin_project_lite::pin_project! {
    /// A response body that keeps its request open until sent or dropped.
    struct Tracked<B> {
        #[pin]
        body: B,
        _open: Option<Open>,
    }
}

impl<B: http_body::Body> http_body::Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        self.project().body.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
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

    /// Serves a router with `/` (answers), `/pending` (never answers) and
    /// `/echo` (reads the body) under `configure`.
    async fn start_with(configure: impl FnOnce(Serve) -> Serve) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/", get(|| async { "ok" }))
            .route("/pending", get(std::future::pending::<&'static str>))
            .route(
                "/echo",
                axum::routing::post(|body: axum::body::Bytes| async move { body }),
            );
        tokio::spawn(configure(Serve::new(listener, app)).run());
        addr
    }

    /// The preface, an empty SETTINGS frame, and when `stream` is given a
    /// HEADERS frame (END_STREAM, END_HEADERS) for `GET stream`, HPACK-coded
    /// from the static table with a literal `:path`.
    fn h2_hello(path: Option<&str>) -> Vec<u8> {
        let mut out = H2_PREFACE.to_vec();
        out.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
        if let Some(path) = path {
            // :method GET, :scheme http, :path literal (name index 4),
            // :authority literal "x" (name index 1).
            let mut block = vec![0x82, 0x86, 0x04, path.len() as u8];
            block.extend_from_slice(path.as_bytes());
            block.extend_from_slice(&[0x01, 0x01, b'x']);
            let len = block.len();
            out.extend_from_slice(&[0, 0, len as u8, 1, 0x05, 0, 0, 0, 1]);
            out.extend_from_slice(&block);
        }
        out
    }

    /// The frames the server sent until it closed or `within` passed: each
    /// frame's type and flags; whether it closed.
    async fn h2_frames(s: &mut TcpStream, within: Duration) -> (Vec<(u8, u8)>, bool) {
        let t = Instant::now();
        let mut bytes = Vec::new();
        let mut buf = [0_u8; 4096];
        let closed = loop {
            let Some(left) = within.checked_sub(t.elapsed()) else {
                break false;
            };
            match tokio::time::timeout(left, s.read(&mut buf)).await {
                Err(_) => break false,
                Ok(Ok(0)) | Ok(Err(_)) => break true,
                Ok(Ok(n)) => bytes.extend_from_slice(&buf[..n]),
            }
        };
        let mut frames = Vec::new();
        let mut at = 0;
        while at + 9 <= bytes.len() {
            let len = u32::from_be_bytes([0, bytes[at], bytes[at + 1], bytes[at + 2]]) as usize;
            frames.push((bytes[at + 3], bytes[at + 4]));
            at += 9 + len;
        }
        (frames, closed)
    }

    #[tokio::test]
    async fn answers_http2_then_closes_the_connection_once_it_has_no_stream() {
        let addr = start_with(|s| s.idle_timeout(Duration::from_millis(300))).await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&h2_hello(Some("/"))).await.unwrap();
        let t = Instant::now();
        let (frames, closed) = h2_frames(&mut s, Duration::from_secs(3)).await;
        let took = t.elapsed();
        // HEADERS (1) and DATA (0) with END_STREAM (1), then GOAWAY (7).
        assert!(frames.contains(&(1, 4)), "{frames:?}");
        assert!(
            frames.iter().any(|f| f.0 == 0 && f.1 & 1 == 1),
            "{frames:?}"
        );
        assert!(frames.iter().any(|f| f.0 == 7), "{frames:?}");
        assert!(closed, "still open after {took:?}: {frames:?}");
        assert!(took < Duration::from_millis(1500), "{took:?}");
    }

    #[tokio::test]
    async fn an_h2_connection_that_opens_no_stream_is_closed_after_the_idle_timeout() {
        let addr = start_with(|s| s.idle_timeout(Duration::from_millis(300))).await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&h2_hello(None)).await.unwrap();
        let t = Instant::now();
        let (frames, closed) = h2_frames(&mut s, Duration::from_secs(3)).await;
        // GOAWAY and its PING unanswered: dropped one more idle timeout later.
        assert!(closed, "{frames:?}");
        assert!(
            t.elapsed() < Duration::from_millis(1500),
            "{:?}",
            t.elapsed()
        );
        assert!(
            t.elapsed() >= Duration::from_millis(250),
            "{:?}",
            t.elapsed()
        );
    }

    #[tokio::test]
    async fn an_h2_peer_that_stops_answering_pings_is_dropped_while_its_stream_is_open() {
        let addr = start_with(|s| {
            s.idle_timeout(Duration::from_secs(30))
                .http2_keep_alive(Duration::from_millis(300))
        })
        .await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&h2_hello(Some("/pending"))).await.unwrap();
        let t = Instant::now();
        let (frames, closed) = h2_frames(&mut s, Duration::from_secs(5)).await;
        // PING (6) sent, never acknowledged: closed after interval + timeout.
        assert!(frames.iter().any(|f| f.0 == 6), "{frames:?}");
        assert!(closed, "{frames:?}");
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    }

    #[tokio::test]
    async fn a_stalled_request_body_fails_the_read_and_closes_the_connection() {
        let addr = start_with(|s| s.body_read_timeout(Duration::from_millis(300))).await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\nab")
            .await
            .unwrap();
        let t = Instant::now();
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut out)).await;
        let took = t.elapsed();
        let out = String::from_utf8_lossy(&out);
        assert!(out.starts_with("HTTP/1.1 4"), "{out}");
        assert!(took < Duration::from_millis(1500), "{took:?}");
        // A body that keeps coming within the bound is read in full.
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(
            b"POST /echo HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 4\r\n\r\n",
        )
        .await
        .unwrap();
        for b in [b"a", b"b", b"c", b"d"] {
            tokio::time::sleep(Duration::from_millis(100)).await;
            s.write_all(b).await.unwrap();
        }
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(
            out.starts_with("HTTP/1.1 200") && out.ends_with("abcd"),
            "{out}"
        );
    }

    #[tokio::test]
    async fn at_the_connection_limit_new_connections_wait_for_a_free_slot() {
        let addr = start_with(|s| s.max_connections(2)).await;
        let a = TcpStream::connect(addr).await.unwrap();
        let _b = TcpStream::connect(addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0_u8; 64];
        let early = tokio::time::timeout(Duration::from_millis(300), c.read(&mut buf)).await;
        assert!(early.is_err(), "served beyond the limit");
        drop(a);
        let mut out = String::new();
        tokio::time::timeout(Duration::from_secs(2), c.read_to_string(&mut out))
            .await
            .expect("served once a slot freed")
            .unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
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
