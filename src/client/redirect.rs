//! Redirects, followed by the client itself (reqwest's own following is
//! off), so each hop is one attempt span and no credential leaves the
//! origin (scheme, host, port) it was sent to.
//!
//! The rule:
//! - a hop to the original request's origin is followed, at most
//!   `max_redirects` hops per call, with every header;
//! - a hop to another origin is refused ([`HttpError::Redirect`], nothing
//!   sent there) unless `cross_origin_redirects` is on; then only the
//!   headers of [`CROSS_ORIGIN_HEADERS`] travel (never one whose value is
//!   marked sensitive), so no `x-api-key`, `authorization`,
//!   `proxy-authorization`, `cookie` or any other header;
//! - 301, 302 and 303 are followed as GET (HEAD stays HEAD) without the
//!   body; 307 and 308 repeat the method and the body;
//! - a `Location` that is not an http(s) URL, or a 307/308 whose body cannot
//!   be replayed (a stream), is refused; a 3xx without `Location` is an
//!   answer like any other.

use http::header::{self, HeaderName};
use http::{Method, StatusCode};

use super::HttpError;

/// Hops followed per call before a redirect is refused.
pub const DEFAULT_MAX_REDIRECTS: u32 = 5;

/// The only headers that go to another origin (with
/// `cross_origin_redirects` on). An allow-list, so a credential under a
/// name nobody listed (`api-key`, `x-goog-api-key`, ...) stays home too.
pub const CROSS_ORIGIN_HEADERS: &[&str] = &[
    "accept",
    "accept-encoding",
    "accept-language",
    "user-agent",
    "content-type",
    "anthropic-version",
    "anthropic-beta",
];

/// The headers describing a body, dropped when a hop drops the body.
const BODY_HEADERS: [HeaderName; 5] = [
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::CONTENT_ENCODING,
    header::CONTENT_LANGUAGE,
    header::CONTENT_LOCATION,
];

/// Why a redirect was not followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedirectRefused {
    /// It pointed to another origin and cross-origin redirects are off.
    CrossOrigin,
    /// More hops than `max_redirects`.
    TooMany,
    /// `Location` is not an http(s) URL.
    InvalidLocation,
    /// A 307/308 must repeat a body that cannot be replayed (a stream).
    BodyNotReplayable,
}

impl std::fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RedirectRefused::CrossOrigin => {
                "it points to another origin (cross-origin redirects are off)"
            }
            RedirectRefused::TooMany => "too many redirects",
            RedirectRefused::InvalidLocation => "its Location is not an http(s) URL",
            RedirectRefused::BodyNotReplayable => "its body cannot be sent again",
        })
    }
}

/// What the client does with redirects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RedirectPolicy {
    pub(crate) max_redirects: u32,
    pub(crate) cross_origin: bool,
}

/// Scheme, host and port (the default one when the URL names none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    scheme: String,
    host: Option<String>,
    port: Option<u16>,
}

impl Origin {
    pub(crate) fn of(url: &reqwest::Url) -> Self {
        Self {
            scheme: url.scheme().to_owned(),
            host: url.host_str().map(str::to_ascii_lowercase),
            port: url.port_or_known_default(),
        }
    }

    pub(crate) fn contains(&self, url: &reqwest::Url) -> bool {
        self.scheme == url.scheme()
            && self
                .host
                .as_deref()
                .zip(url.host_str())
                .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b))
            && self.port == url.port_or_known_default()
    }
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// The next hop for `response`: `Ok(None)` when it is no redirect to
/// follow (not a redirect status, or no `Location`), else the request to
/// send next, built from `spare` (a clone of the request that got
/// `response`, taken only when followed), or why not.
pub(crate) fn next_hop(
    policy: RedirectPolicy,
    origin: &Origin,
    hops: u32,
    spare: &mut Option<reqwest::Request>,
    response: &reqwest::Response,
) -> Result<Option<reqwest::Request>, HttpError> {
    let status = response.status();
    if !is_redirect(status) {
        return Ok(None);
    }
    let Some(location) = response.headers().get(header::LOCATION) else {
        return Ok(None);
    };
    let refuse = |reason| HttpError::Redirect {
        status: status.as_u16(),
        reason,
    };
    let mut target = location
        .to_str()
        .ok()
        .and_then(|l| response.url().join(l).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| refuse(RedirectRefused::InvalidLocation))?;
    if hops >= policy.max_redirects {
        return Err(refuse(RedirectRefused::TooMany));
    }
    let cross_origin = !origin.contains(&target);
    if cross_origin && !policy.cross_origin {
        return Err(refuse(RedirectRefused::CrossOrigin));
    }
    let Some(mut next) = spare.take() else {
        return Err(refuse(RedirectRefused::BodyNotReplayable));
    };
    // Credentials a Location carries are the redirecting server's, not
    // ours to send anywhere.
    let _ = target.set_username("");
    let _ = target.set_password(None);
    *next.url_mut() = target;
    if matches!(status.as_u16(), 301..=303) {
        if next.method() != Method::HEAD {
            *next.method_mut() = Method::GET;
        }
        *next.body_mut() = None;
        for h in &BODY_HEADERS {
            next.headers_mut().remove(h);
        }
    }
    if cross_origin {
        let all = std::mem::take(next.headers_mut());
        let kept = next.headers_mut();
        for (name, value) in &all {
            if CROSS_ORIGIN_HEADERS.contains(&name.as_str()) && !value.is_sensitive() {
                kept.append(name.clone(), value.clone());
            }
        }
    }
    Ok(Some(next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_is_scheme_host_and_port() {
        let o = Origin::of(&"https://API.example.com/v1/messages".parse().unwrap());
        assert!(o.contains(&"https://api.example.com:443/other".parse().unwrap()));
        assert!(!o.contains(&"http://api.example.com/v1".parse().unwrap()));
        assert!(!o.contains(&"https://api.example.com:8443/v1".parse().unwrap()));
        assert!(!o.contains(&"https://evil.example.com/v1".parse().unwrap()));
        assert!(!o.contains(&"https://api.example.com.evil.net/v1".parse().unwrap()));
    }

    #[test]
    fn no_credential_is_on_the_cross_origin_list() {
        for h in [
            "x-api-key",
            "authorization",
            "proxy-authorization",
            "cookie",
            "api-key",
            "traceparent",
            "baggage",
        ] {
            assert!(!CROSS_ORIGIN_HEADERS.contains(&h), "{h}");
        }
        for h in CROSS_ORIGIN_HEADERS {
            assert!(HeaderName::from_bytes(h.as_bytes()).is_ok(), "{h}");
        }
    }
}
