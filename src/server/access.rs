//! Who may read the admin data routes, `/health/detailed` and `/metrics`
//! (statement summaries, routes, trace IDs, pool sizes, AI cost). One rule,
//! wherever wingspan serves them (the admin listener, a router the service
//! mounts, the Prometheus pull endpoint), and it fails closed:
//!
//! 1. `WINGSPAN_ADMIN_TOKEN` set: `Authorization: Bearer <token>` from
//!    every client, loopback included; 401 otherwise.
//! 2. Else `WINGSPAN_ADMIN_OPEN=true`: every client (warned at start).
//! 3. Else a loopback peer only, as `ConnectInfo<SocketAddr>` says, and only
//!    when the request does not say it was forwarded (`Forwarded`,
//!    `X-Forwarded-For`, `X-Real-IP`: a proxy on the same host makes every
//!    client look local); 403 otherwise, and 403 when the peer is unknown
//!    (served without `ConnectInfo`).
//!
//! A router cannot see the listener's address, only the peer's, so the rule
//! is about the peer: a loopback listener admits loopback peers only anyway,
//! and a wildcard one keeps liveness and readiness open to probes while the
//! data stays local.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::config::HealthConfig;

/// Headers a proxy adds; their presence means the peer is not the client.
const FORWARDED: [&str; 3] = ["forwarded", "x-forwarded-for", "x-real-ip"];

/// Why a request may not read the data routes; its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denied {
    /// A token is set and was not presented: 401 with `WWW-Authenticate: Bearer`.
    Unauthorized,
    /// No token is set and the client is not local: 403 saying what to set.
    Forbidden,
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Denied::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
            )
                .into_response(),
            Denied::Forbidden => (
                StatusCode::FORBIDDEN,
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    ),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
                r#"{"error":"without WINGSPAN_ADMIN_TOKEN this route answers local (loopback, not forwarded) clients only; set WINGSPAN_ADMIN_TOKEN and send it as a bearer token, or WINGSPAN_ADMIN_OPEN=true"}"#,
            )
                .into_response(),
        }
    }
}

/// `Ok` when the request may read the data routes.
pub(crate) fn admit(
    config: &HealthConfig,
    headers: &HeaderMap,
    extensions: &axum::http::Extensions,
) -> Result<(), Denied> {
    if let Some(token) = &config.admin_token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| bearer(v.as_bytes()));
        return match presented {
            Some(p) if token.matches(p) => Ok(()),
            _ => Err(Denied::Unauthorized),
        };
    }
    if config.admin_open {
        return Ok(());
    }
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| *peer);
    let forwarded = FORWARDED.iter().any(|h| headers.contains_key(*h));
    if peer.is_some_and(is_loopback) && !forwarded {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

fn is_loopback(peer: SocketAddr) -> bool {
    // A dual-stack listener reports 127.0.0.1 as ::ffff:127.0.0.1.
    peer.ip().to_canonical().is_loopback()
}

/// The credentials of a `Bearer` `Authorization` value (RFC 9110 §11.4,
/// RFC 6750 §2.1): the scheme in any case, then one or more spaces or tabs,
/// then the token; whitespace around the whole is ignored. `None` for any
/// other scheme, a missing token, or more than one word after the scheme.
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let value = value.trim_ascii();
    let split = value.iter().position(|b| matches!(b, b' ' | b'\t'))?;
    let (scheme, rest) = value.split_at(split);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let token = rest.trim_ascii();
    if token.is_empty() || token.iter().any(|b| matches!(b, b' ' | b'\t')) {
        return None;
    }
    Some(token)
}

/// Logs at start what a listener on `addr` serving the data routes
/// (`routes`) exposes: a warning when they are open to any client, a note
/// when the listener is reachable from the network and they stay local.
pub(crate) fn log_exposure(config: &HealthConfig, addr: SocketAddr, routes: &str) {
    if config.admin_open {
        tracing::warn!(
            target: "wingspan::health",
            %addr,
            "WINGSPAN_ADMIN_OPEN=true: {routes} served on {addr} without a token to any client"
        );
    } else if !addr.ip().to_canonical().is_loopback() {
        if config.admin_token.is_some() {
            tracing::info!(
                target: "wingspan::health",
                %addr,
                "{routes} on {addr} ask for the WINGSPAN_ADMIN_TOKEN bearer token"
            );
        } else {
            tracing::warn!(
                target: "wingspan::health",
                %addr,
                "{addr} is reachable from the network but WINGSPAN_ADMIN_TOKEN is unset: \
                 {routes} answer loopback clients only (403 to others)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_case_insensitive_and_whitespace_tolerant() {
        for v in [
            "Bearer abc",
            "bearer abc",
            "BEARER abc",
            "Bearer   abc",
            "Bearer\tabc",
            "  Bearer abc  ",
        ] {
            assert_eq!(bearer(v.as_bytes()), Some(&b"abc"[..]), "{v:?}");
        }
        for v in [
            "Bearer",
            "Bearer ",
            "Bearerabc",
            "Bearer abc def",
            "Basic abc",
            "Bearers abc",
            "",
        ] {
            assert_eq!(bearer(v.as_bytes()), None, "{v:?}");
        }
    }

    #[test]
    fn loopback_includes_v6_and_v4_mapped() {
        for p in [
            "127.0.0.1:1",
            "127.3.4.5:1",
            "[::1]:1",
            "[::ffff:127.0.0.1]:1",
        ] {
            assert!(is_loopback(p.parse().unwrap()), "{p}");
        }
        for p in [
            "10.0.0.1:1",
            "[::ffff:10.0.0.1]:1",
            "0.0.0.0:1",
            "[2001:db8::1]:1",
        ] {
            assert!(!is_loopback(p.parse().unwrap()), "{p}");
        }
    }
}
