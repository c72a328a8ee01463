//! A collector that accepts connections and never answers: the outage where
//! a load balancer or a hung collector keeps the TCP handshake alive but no
//! OTLP response ever comes back.

use std::net::SocketAddr;

use tokio::task::JoinHandle;

/// A listener on 127.0.0.1 that accepts every connection, reads and discards
/// what arrives, and never writes a byte. Dropping it closes the listener and
/// every connection it holds.
pub struct SilentCollector {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for SilentCollector {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SilentCollector {
    /// Starts listening on an ephemeral port.
    pub async fn start() -> SilentCollector {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind silent collector");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            let mut readers = tokio::task::JoinSet::new();
            while let Ok((socket, _)) = listener.accept().await {
                readers.spawn(black_hole(socket));
            }
        });
        SilentCollector { addr, task }
    }

    /// `http://127.0.0.1:<port>`, for `OTEL_EXPORTER_OTLP_ENDPOINT` with
    /// either protocol.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Holds a connection open without ever answering. Reading keeps the
/// client's writes from blocking on a full socket buffer: the request goes
/// out, the answer never comes; the socket stays open after the peer's
/// half-close too.
pub async fn black_hole(socket: tokio::net::TcpStream) {
    let mut buf = vec![0_u8; 64 * 1024];
    loop {
        if socket.readable().await.is_err() {
            break;
        }
        match socket.try_read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => break,
        }
    }
    std::future::pending::<()>().await;
}

/// The resident set of this process in bytes, from `/proc/self/statm`.
pub fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("statm resident field");
    pages * 4096
}
