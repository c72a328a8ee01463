//! An application under test on an ephemeral loopback port.

use std::net::SocketAddr;

use axum::Router;

/// Serves `app` on `127.0.0.1:0` in a background task; its address.
pub async fn spawn_app(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// [`spawn_app`] with the peer's address as `ConnectInfo`, which the HTTP
/// layer reads for `client.address` / `client.port`.
pub async fn spawn_app_with_peer(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}
