//! A TCP forwarder that a test stops and starts, to make Postgres unreachable
//! for one pool (and reachable again) without touching the shared server.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Forwards `127.0.0.1:port` to `target` while running.
pub struct Proxy {
    pub port: u16,
    target: SocketAddr,
    task: Option<JoinHandle<()>>,
}

impl Proxy {
    /// A forwarder on a free port, running.
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut p = Proxy {
            port,
            target,
            task: None,
        };
        p.task = Some(Self::run(listener, target));
        p
    }

    fn run(listener: TcpListener, target: SocketAddr) -> JoinHandle<()> {
        tokio::spawn(async move {
            // Connections live in this set: aborting the accept task drops
            // it and with it every forwarded connection.
            let mut conns = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    Ok((mut inbound, _)) = listener.accept() => {
                        conns.spawn(async move {
                            if let Ok(mut outbound) = TcpStream::connect(target).await {
                                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                            }
                        });
                    }
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        })
    }

    /// Closes the port and every forwarded connection.
    pub async fn stop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }

    /// Listens again on the same port.
    pub async fn restart(&mut self) {
        self.stop().await;
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.task = Some(Self::run(listener, self.target));
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}
