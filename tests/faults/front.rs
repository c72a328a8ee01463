//! A switchable front for a collector, on one fixed port: it forwards to
//! the real receiver, or the port is closed (connection refused), or it
//! black-holes (accepts, reads, never answers). Each switch cuts the
//! connections of the previous mode, so an exporter holding a long-lived
//! HTTP/2 (gRPC) or keep-alive connection meets the new mode at once. The
//! receiver's own knobs give the slow and the failing collector.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forwards every connection to the receiver.
    Forward,
    /// Nothing listens: connections are refused.
    Absent,
    /// Accepts and reads, never writes.
    BlackHole,
}

pub struct Front {
    addr: SocketAddr,
    mode: watch::Sender<Mode>,
    task: JoinHandle<()>,
}

impl Drop for Front {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Front {
    /// Starts forwarding to `target` (an `http://host:port` endpoint).
    pub async fn start(target: &str) -> Front {
        let target: SocketAddr = target
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("receiver endpoint is http://ip:port");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (mode, mut rx) = watch::channel(Mode::Forward);
        let task = tokio::spawn(async move {
            let mut listener = Some(listener);
            loop {
                let current = *rx.borrow_and_update();
                // Every connection of the previous mode ends here.
                let mut conns = JoinSet::new();
                match current {
                    Mode::Absent => listener = None,
                    Mode::Forward | Mode::BlackHole if listener.is_none() => {
                        listener = Some(rebind(addr).await);
                    }
                    _ => {}
                }
                loop {
                    let accepted = async {
                        match &listener {
                            Some(l) => l.accept().await.ok(),
                            None => std::future::pending().await,
                        }
                    };
                    tokio::select! {
                        changed = rx.changed() => {
                            if changed.is_err() {
                                return;
                            }
                            break;
                        }
                        Some((socket, _)) = accepted => {
                            match current {
                                Mode::Forward => conns.spawn(forward(socket, target)),
                                _ => conns.spawn(crate::support::black_hole(socket)),
                            };
                        }
                    }
                    while conns.try_join_next().is_some() {}
                }
                conns.abort_all();
            }
        });
        Front { addr, mode, task }
    }

    /// `http://127.0.0.1:<port>`, for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }
}

/// Binds `addr` again (the port was closed for the absent collector).
async fn rebind(addr: SocketAddr) -> TcpListener {
    for _ in 0..100 {
        if let Ok(l) = TcpListener::bind(addr).await {
            return l;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("could not bind {addr} again");
}

async fn forward(mut client: TcpStream, target: SocketAddr) {
    if let Ok(mut server) = TcpStream::connect(target).await {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    }
}
