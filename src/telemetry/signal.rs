//! [`shutdown_signal`]: the stop a service waits for, SIGTERM (an
//! orchestrator) or SIGINT (Ctrl-C), for any accept loop.

use std::future::Future;

/// A future that resolves at the first SIGTERM or SIGINT (Ctrl-C; on other
/// platforms than Unix, Ctrl-C only).
///
/// The handlers are installed when this is called (call it inside the
/// runtime, before the loop starts), so a signal that arrives before the
/// future is first polled is not missed. Use it to stop a custom accept
/// loop, then flush with [`Telemetry::shutdown`](super::Telemetry::shutdown),
/// or call [`Telemetry::shutdown_on_signal`](super::Telemetry::shutdown_on_signal)
/// for both:
///
/// ```no_run
/// # async fn run(listener: tokio::net::TcpListener, telemetry: wingspan::Telemetry) {
/// let stop = wingspan::shutdown_signal();
/// tokio::pin!(stop);
/// loop {
///     tokio::select! {
///         _ = &mut stop => break,
///         Ok((tcp, peer)) = listener.accept() => { /* serve the connection */ let _ = (tcp, peer); }
///     }
/// }
/// let _ = telemetry.shutdown().await; // flushes, bounded
/// # }
/// ```
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    signals()
}

#[cfg(unix)]
fn signals() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{signal, SignalKind};
    let install = || {
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    // At the call when inside the runtime (no signal missed before the first
    // poll), else at the first poll.
    let early = tokio::runtime::Handle::try_current().is_ok().then(install);
    async move {
        let (term, int) = early.unwrap_or_else(install);
        let term = async {
            match term {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        let int = async {
            match int {
                Some(mut s) => {
                    s.recv().await;
                }
                // No handler could be installed: Ctrl-C as tokio sees it.
                // If that fails too, SIGTERM alone stops the service: never at once.
                None => {
                    if tokio::signal::ctrl_c().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
            }
        };
        tokio::select! {
            () = term => {}
            () = int => {}
        }
    }
}

#[cfg(not(unix))]
fn signals() -> impl Future<Output = ()> + Send + 'static {
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
