//! A raw HTTP/1.1 server that answers every request with the same bytes,
//! written in small pieces, then closes the connection: for replaying a
//! recorded or hand-built body (an SSE transcript) byte for byte, however a
//! real server would cut it.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The write sizes, in turn: the body goes out 1 to 7 bytes at a time.
const PIECES: [usize; 6] = [1, 3, 7, 2, 5, 4];

/// The server; dropping it stops it.
pub struct RawHttp {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for RawHttp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RawHttp {
    /// Serves `status` with `content_type` and `body` (close-delimited: no
    /// `content-length`, the end of the body is the end of the connection).
    pub async fn start(status: u16, content_type: &str, body: Vec<u8>) -> RawHttp {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let head = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\nconnection: close\r\n\r\n"
        );
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (head, body) = (head.clone(), body.clone());
                tokio::spawn(async move {
                    let _ = answer(socket, head.as_bytes(), &body).await;
                });
            }
        });
        RawHttp { addr, task }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

async fn answer(mut socket: TcpStream, head: &[u8], body: &[u8]) -> std::io::Result<()> {
    read_request(&mut socket).await?;
    socket.set_nodelay(true)?;
    socket.write_all(head).await?;
    let mut rest = body;
    for size in PIECES.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, tail) = rest.split_at((*size).min(rest.len()));
        socket.write_all(piece).await?;
        socket.flush().await?;
        rest = tail;
    }
    socket.shutdown().await
}

/// Reads the request's head and its `content-length` bytes of body.
async fn read_request(socket: &mut TcpStream) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(())
}
