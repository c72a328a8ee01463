//! Who may read the admin surfaces (`/health/detailed`, `/metrics`): the
//! bearer token when `WINGSPAN_ADMIN_TOKEN` is set (scheme case-insensitive,
//! whitespace as RFC 9110 allows), else a loopback peer that was not
//! forwarded, else nobody unless `WINGSPAN_ADMIN_OPEN=true`. Checked on
//! `Health::router` mounted on a listener of the test's own (the peer as
//! `ConnectInfo` says, or a stand-in for a remote one), on wingman's admin
//! listener, and on the Prometheus pull endpoint.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::Router;
use wingspan::health::{Health, HealthConfig};
use wingspan::stats::Stats;

use super::TOKEN;
use crate::support::{self, Wingman};

/// A peer that is not this machine (TEST-NET-3, RFC 5737).
const REMOTE: &str = "203.0.113.7:40000";

fn health(vars: &[(&str, &str)]) -> Health {
    let config = HealthConfig::from_lookup(|n| {
        vars.iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| (*v).to_owned())
    })
    .expect("health config");
    Health::builder(&Stats::builder().build())
        .config(config)
        .build()
}

/// Serves `router` with `wingspan::http::serve` (the peer in `ConnectInfo`),
/// the peer replaced by `peer` when given: a stand-in for a remote client,
/// since every listener here is on loopback.
async fn serve(router: Router, peer: Option<SocketAddr>) -> SocketAddr {
    let router = match peer {
        None => router,
        Some(peer) => router.layer(tower::util::MapRequestLayer::new(
            move |mut req: Request| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            },
        )),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(wingspan::http::serve(listener, router));
    addr
}

/// `GET path` with these headers: status and body.
async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut r = crate::support::http_client().get(format!("http://{addr}{path}"));
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    let res = r.send().await.expect("request");
    (res.status().as_u16(), res.text().await.unwrap_or_default())
}

#[tokio::test]
async fn bearer_scheme_is_case_insensitive_and_tolerates_whitespace() {
    let h = health(&[("WINGSPAN_ADMIN_TOKEN", TOKEN)]);
    let addr = serve(h.router(), None).await;
    for value in [
        format!("Bearer {TOKEN}"),
        format!("bearer {TOKEN}"),
        format!("BEARER {TOKEN}"),
        format!("bEaReR {TOKEN}"),
        format!("Bearer    {TOKEN}"),
        format!("Bearer \t {TOKEN}"),
        format!("Bearer {TOKEN}   "),
    ] {
        let (status, _) = get(addr, "/health/detailed", &[("authorization", &value)]).await;
        assert_eq!(status, 200, "{value:?}");
    }
    for value in [
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        format!("Bearer{TOKEN}"),
        format!("Bearer {TOKEN} extra"),
        format!("Bearer {}", &TOKEN[1..]),
        format!("Bearer {TOKEN}x"),
        format!("Basic {TOKEN}"),
        format!("Bearerx {TOKEN}"),
        TOKEN.to_owned(),
    ] {
        let (status, _) = get(addr, "/health/detailed", &[("authorization", &value)]).await;
        assert_eq!(status, 401, "{value:?}");
    }
    // A token asked of everyone, loopback peer included.
    assert_eq!(get(addr, "/health/detailed", &[]).await.0, 401);
}

#[tokio::test]
async fn without_a_token_the_detailed_document_is_served_to_loopback_peers_only() {
    let h = health(&[]);
    // The real peer (loopback).
    let local = serve(h.router(), None).await;
    assert_eq!(get(local, "/health/detailed", &[]).await.0, 200);
    // A remote peer.
    let remote = serve(h.router(), Some(REMOTE.parse().unwrap())).await;
    let (status, body) = get(remote, "/health/detailed", &[]).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("WINGSPAN_ADMIN_TOKEN"), "{body}");
    // Liveness, readiness and the (static) page stay open to everyone.
    for path in ["/health", "/health/ready", "/observability"] {
        assert_eq!(get(remote, path, &[]).await.0, 200, "{path}");
    }
    // A loopback peer that says it forwards a request: a proxy on this
    // host, so not a local client.
    for (k, v) in [
        ("forwarded", "for=198.51.100.2"),
        ("x-forwarded-for", "198.51.100.2"),
        ("x-real-ip", "198.51.100.2"),
    ] {
        assert_eq!(
            get(local, "/health/detailed", &[(k, v)]).await.0,
            403,
            "{k}"
        );
    }
    // No ConnectInfo at all (plain `axum::serve`): the peer is unknown.
    let unknown = support::spawn_app(h.router()).await;
    assert_eq!(get(unknown, "/health/detailed", &[]).await.0, 403);
    // IPv6 loopback counts as loopback.
    let v6 = serve(h.router(), Some("[::1]:40000".parse().unwrap())).await;
    assert_eq!(get(v6, "/health/detailed", &[]).await.0, 200);
}

#[tokio::test]
async fn admin_open_serves_the_detailed_document_to_any_peer() {
    let h = health(&[("WINGSPAN_ADMIN_OPEN", "true")]);
    let remote = serve(h.router(), Some(REMOTE.parse().unwrap())).await;
    assert_eq!(get(remote, "/health/detailed", &[]).await.0, 200);
    let unknown = support::spawn_app(h.router()).await;
    assert_eq!(get(unknown, "/health/detailed", &[]).await.0, 200);
}

#[tokio::test]
async fn admin_settings_that_would_open_the_surface_by_accident_are_errors() {
    let lookup = |vars: &'static [(&'static str, &'static str)]| {
        HealthConfig::from_lookup(move |n| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| (*v).to_owned())
        })
    };
    for blank in [
        &[("WINGSPAN_ADMIN_TOKEN", "")][..],
        &[("WINGSPAN_ADMIN_TOKEN", "   ")],
        &[("WINGSPAN_ADMIN_TOKEN", "\t")],
    ] {
        let e = lookup(blank).expect_err("a set but blank token");
        assert_eq!(e.variable, "WINGSPAN_ADMIN_TOKEN", "{blank:?}");
    }
    let e = lookup(&[("WINGSPAN_ADMIN_TOKEN", "short")]).unwrap_err();
    assert_eq!(
        (e.variable.as_str(), e.value.as_str()),
        ("WINGSPAN_ADMIN_TOKEN", "<redacted>")
    );
    let e = lookup(&[
        ("WINGSPAN_ADMIN_TOKEN", "0123456789abcdef0123"),
        ("WINGSPAN_ADMIN_OPEN", "true"),
    ])
    .unwrap_err();
    assert_eq!(e.variable, "WINGSPAN_ADMIN_OPEN");
}

/// wingman's admin listener: `/metrics` is guarded like `/health/detailed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wingman_admin_listener_guards_metrics_with_the_token() {
    let wingman = Wingman::builder()
        .var("WINGSPAN_ADMIN_TOKEN", TOKEN)
        .var("WINGSPAN_PROMETHEUS", "true")
        .start()
        .await;
    let http = crate::support::http_client();
    for path in ["/metrics", "/health/detailed"] {
        let res = http.get(wingman.admin_url(path)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 401, "{path} without the token");
        let res = http
            .get(wingman.admin_url(path))
            .header("authorization", format!("bearer {TOKEN}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "{path} with the token");
    }
    for path in ["/health", "/health/ready", "/observability"] {
        let res = http.get(wingman.admin_url(path)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{path}");
    }
    wingman.cleanup().await;
}

/// A blank `WINGSPAN_ADMIN_TOKEN` stops wingman at start with an error that
/// names the variable (it used to turn authentication off).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wingman_refuses_to_start_with_a_blank_admin_token() {
    let err = Wingman::builder()
        .var("WINGSPAN_ADMIN_TOKEN", "   ")
        .try_start()
        .await
        .expect_err("wingman started with a blank admin token");
    assert!(err.contains("WINGSPAN_ADMIN_TOKEN"), "{err}");
}

/// `WINGSPAN_ADMIN_OPEN=true` is announced at start, naming the routes it
/// exposes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wingman_warns_at_start_when_the_admin_surface_is_open() {
    let wingman = Wingman::builder()
        .var("WINGSPAN_ADMIN_OPEN", "true")
        .start()
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let err = wingman.stderr();
        if err.contains("WINGSPAN_ADMIN_OPEN") && err.contains("/health/detailed") {
            assert!(err.contains("/metrics"), "{err}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no warning naming the open routes:\n{}",
            wingman.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wingman.cleanup().await;
}

/// The address a TCP socket of this machine listens on for `port`, from
/// `/proc/net/tcp` and `/proc/net/tcp6` (`0100007F` is 127.0.0.1,
/// `00000000` the wildcard).
fn listening_on(port: u16) -> Vec<String> {
    let mut found = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // f[1] local address HEX_IP:HEX_PORT, f[3] state (0A: LISTEN).
            let (Some(local), Some(state)) = (f.get(1), f.get(3)) else {
                continue;
            };
            if *state != "0A" {
                continue;
            }
            if let Some((ip, p)) = local.split_once(':') {
                if u16::from_str_radix(p, 16) == Ok(port) {
                    found.push(ip.to_owned());
                }
            }
        }
    }
    found
}

/// The pull endpoint of `ENABLE_METRICS` / `METRICS_PORT` listens on
/// loopback by default, and its `/metrics` asks for the token like the
/// admin listener's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_pull_endpoint_binds_loopback_and_asks_for_the_token() {
    // wingman binds it: given up as it starts.
    let port = support::DeadPort::new().release();
    let wingman = Wingman::builder()
        .var("ENABLE_METRICS", "true")
        .var("METRICS_PORT", port.to_string())
        .var("WINGSPAN_ADMIN_TOKEN", TOKEN)
        .start()
        .await;
    assert_eq!(listening_on(port), vec!["0100007F".to_owned()]);
    let http = crate::support::http_client();
    let url = format!("http://127.0.0.1:{port}/metrics");
    assert_eq!(http.get(&url).send().await.unwrap().status().as_u16(), 401);
    let res = http.get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("# TYPE"));
    wingman.cleanup().await;
}
