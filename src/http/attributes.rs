//! Request attributes: the method table, the header readers and the
//! `traceparent` formatter. Everything here is per request and allocation-
//! aware: static strings where the value set is closed, one owned string
//! where the value comes from the client.

use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread::LocalKey;

use axum::extract::ConnectInfo;
use http::header::{HOST, USER_AGENT};
use http::{HeaderMap, Method, Request, Version};
use opentelemetry::trace::SpanContext;
use opentelemetry::{Key, KeyValue, StringValue, Value};

use crate::names;
use crate::telemetry::propagators::Present;

pub(crate) const HTTP_REQUEST_METHOD: Key = Key::from_static_str(names::HTTP_REQUEST_METHOD);
pub(crate) const HTTP_REQUEST_METHOD_ORIGINAL: Key =
    Key::from_static_str(names::HTTP_REQUEST_METHOD_ORIGINAL);
pub(crate) const HTTP_ROUTE: Key = Key::from_static_str(names::HTTP_ROUTE);
pub(crate) const HTTP_RESPONSE_STATUS_CODE: Key =
    Key::from_static_str(names::HTTP_RESPONSE_STATUS_CODE);
pub(crate) const URL_PATH: Key = Key::from_static_str(names::URL_PATH);
pub(crate) const URL_QUERY: Key = Key::from_static_str(names::URL_QUERY);
pub(crate) const URL_SCHEME: Key = Key::from_static_str(names::URL_SCHEME);
pub(crate) const ERROR_TYPE: Key = Key::from_static_str(names::ERROR_TYPE);
pub(crate) const CLIENT_ADDRESS: Key = Key::from_static_str(names::CLIENT_ADDRESS);
pub(crate) const SERVER_ADDRESS: Key = Key::from_static_str(names::SERVER_ADDRESS);
pub(crate) const SERVER_PORT: Key = Key::from_static_str(names::SERVER_PORT);
pub(crate) const USER_AGENT_ORIGINAL: Key = Key::from_static_str(names::USER_AGENT_ORIGINAL);
pub(crate) const NETWORK_PROTOCOL_VERSION: Key =
    Key::from_static_str(names::NETWORK_PROTOCOL_VERSION);
pub(crate) const ROUTE_CLASS: Key = Key::from_static_str(names::WINGSPAN_ROUTE_CLASS);

/// The most bytes of a client-supplied value (`user_agent.original`,
/// `server.address`, `url.path`, `url.query`, `client.address`,
/// `http.request.method_original`) a span records; longer values are cut on
/// a character boundary. Headers can be hundreds of kilobytes, and a queue
/// of 2048 spans each holding one would be hundreds of megabytes, and
/// batches over the collector's 4 MB gRPC limit would be lost whole.
/// `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT` can lower it further.
pub const HEADER_VALUE_LIMIT: usize = 1024;

/// `value` cut to [`HEADER_VALUE_LIMIT`] bytes.
pub(crate) fn capped(value: &str) -> &str {
    crate::text::prefix_bytes(value, HEADER_VALUE_LIMIT)
}

/// The methods semconv knows, in the order of their index; anything else is
/// `_OTHER` (index [`OTHER_METHOD`]).
pub(crate) const METHODS: [&str; 11] = [
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE", "QUERY",
    "_OTHER",
];
/// Number of method slots.
pub(crate) const METHOD_SLOTS: usize = METHODS.len();
/// The `_OTHER` slot.
pub(crate) const OTHER_METHOD: usize = METHOD_SLOTS - 1;

/// The method's slot in [`METHODS`].
pub(crate) fn method_index(method: &Method) -> usize {
    match *method {
        Method::GET => 0,
        Method::POST => 1,
        Method::PUT => 2,
        Method::DELETE => 3,
        Method::PATCH => 4,
        Method::HEAD => 5,
        Method::OPTIONS => 6,
        Method::CONNECT => 7,
        Method::TRACE => 8,
        _ if method.as_str() == "QUERY" => 9,
        _ => OTHER_METHOD,
    }
}

/// `url.scheme` values: the slot index is part of the metric cache key.
pub(crate) const SCHEMES: [&str; 2] = ["http", "https"];

/// The scheme slot: `https` when the request URI says so (HTTP/2's
/// `:scheme`, an absolute-form target), `http` otherwise.
pub(crate) fn scheme_index<B>(req: &Request<B>) -> usize {
    match req.uri().scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") => 1,
        _ => 0,
    }
}

/// `network.protocol.version`, or `None` for versions semconv has no value for.
pub(crate) fn protocol_version(version: Version) -> Option<&'static str> {
    match version {
        Version::HTTP_11 => Some("1.1"),
        Version::HTTP_2 => Some("2"),
        Version::HTTP_10 => Some("1.0"),
        Version::HTTP_3 => Some("3"),
        Version::HTTP_09 => Some("0.9"),
        _ => None,
    }
}

/// An owned string attribute from a borrowed, client-supplied value, capped
/// to [`HEADER_VALUE_LIMIT`]: the one allocation such a value costs.
pub(crate) fn owned(key: Key, value: &str) -> KeyValue {
    KeyValue::new(
        key,
        Value::String(StringValue::from(capped(value).to_owned())),
    )
}

/// The last few values one thread recorded for one attribute. `Host`, the
/// user agent and the client address repeat request after request (a
/// keep-alive connection, a load balancer's few addresses), and sharing the
/// string costs an atomic increment where a copy costs an allocation, a copy
/// and a free. Bounded: [`RECENT`] strings per attribute per thread.
pub(crate) struct Recent {
    slots: [Option<Arc<str>>; RECENT],
    next: usize,
}

const RECENT: usize = 4;

impl Recent {
    const fn new() -> Self {
        Self {
            slots: [None, None, None, None],
            next: 0,
        }
    }

    fn get(&mut self, value: &str) -> Arc<str> {
        if let Some(hit) = self.slots.iter().flatten().find(|s| ***s == *value) {
            return hit.clone();
        }
        let fresh: Arc<str> = Arc::from(value);
        self.slots[self.next] = Some(fresh.clone());
        self.next = (self.next + 1) % RECENT;
        fresh
    }
}

thread_local! {
    pub(crate) static RECENT_HOSTS: RefCell<Recent> = const { RefCell::new(Recent::new()) };
    pub(crate) static RECENT_AGENTS: RefCell<Recent> = const { RefCell::new(Recent::new()) };
    pub(crate) static RECENT_CLIENTS: RefCell<Recent> = const { RefCell::new(Recent::new()) };
}

/// A string attribute whose value likely repeats, through a [`Recent`]
/// cache, capped to [`HEADER_VALUE_LIMIT`].
pub(crate) fn recent(cache: &'static LocalKey<RefCell<Recent>>, key: Key, value: &str) -> KeyValue {
    let value = capped(value);
    let shared = cache
        .try_with(|c| c.try_borrow_mut().ok().map(|mut c| c.get(value)))
        .ok()
        .flatten();
    match shared {
        Some(v) => KeyValue::new(key, Value::String(StringValue::from(v))),
        None => owned(key, value),
    }
}

/// The headers the layer reads, found in one pass over the map: cheaper
/// than one hashed lookup per name for the handful of headers a request has.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Scanned<'a> {
    pub(crate) host: Option<&'a str>,
    pub(crate) user_agent: Option<&'a str>,
    pub(crate) forwarded_for: Option<&'a str>,
    /// The context headers of any format (`OTEL_PROPAGATORS` picks which
    /// are read).
    pub(crate) context: Present,
}

pub(crate) fn scan(headers: &HeaderMap) -> Scanned<'_> {
    let mut s = Scanned::default();
    for (name, value) in headers {
        if name == HOST {
            s.host = s.host.or_else(|| value.to_str().ok());
        } else if name == USER_AGENT {
            s.user_agent = s.user_agent.or_else(|| value.to_str().ok());
        } else {
            match name.as_str() {
                "x-forwarded-for" => {
                    s.forwarded_for = s.forwarded_for.or_else(|| value.to_str().ok());
                }
                other => s.context.note(other),
            }
        }
    }
    s
}

/// `server.address` and `server.port`: from the `Host` header (HTTP/1.1), or
/// the URI authority (HTTP/2 `:authority`).
pub(crate) fn server_address<'a, B>(
    req: &'a Request<B>,
    host: Option<&'a str>,
) -> Option<(&'a str, Option<u16>)> {
    let host = match host {
        Some(h) => h,
        // `Authority::host`/`port` leave out any `user:password@`.
        None => {
            let a = req.uri().authority()?;
            return Some((a.host(), a.port_u16()));
        }
    };
    split_host_port(host)
}

/// Splits `host[:port]`, including bracketed IPv6 literals.
pub(crate) fn split_host_port(s: &str) -> Option<(&str, Option<u16>)> {
    if s.is_empty() {
        return None;
    }
    // Fast path, `name` or `name:port`: one forward scan (`str::contains`
    // and `rsplit_once` go through memchr, slow on strings this short).
    let b = s.as_bytes();
    if b[0] != b'[' {
        let mut colon = None;
        for (i, &c) in b.iter().enumerate() {
            if c == b':' {
                if colon.is_some() {
                    // Two colons: a bare IPv6 literal, no port.
                    return Some((s, None));
                }
                colon = Some(i);
            }
        }
        return Some(match colon {
            None => (s, None),
            Some(i) => (&s[..i], s[i + 1..].parse().ok()),
        });
    }
    if let Some(rest) = s.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &rest[..end];
        let port = rest[end + 1..]
            .strip_prefix(':')
            .and_then(|p| p.parse().ok());
        return Some((host, port));
    }
    match s.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => Some((host, port.parse().ok())),
        _ => Some((s, None)),
    }
}

/// `client.address`: the first hop of `X-Forwarded-For` when that is
/// trusted, else the peer address axum's `ConnectInfo` carries.
pub(crate) fn client_address<B>(req: &Request<B>, forwarded_for: Option<&str>) -> Option<KeyValue> {
    let first = forwarded_for
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    if let Some(first) = first {
        return Some(recent(&RECENT_CLIENTS, CLIENT_ADDRESS, first));
    }
    let ConnectInfo(addr) = req.extensions().get::<ConnectInfo<SocketAddr>>()?;
    Some(match addr.ip() {
        IpAddr::V4(v4) => {
            let mut buf = [0u8; 15];
            let len = format_ipv4(v4, &mut buf);
            // Only ASCII digits and dots were written.
            let text = std::str::from_utf8(&buf[..len]).unwrap_or_default();
            recent(&RECENT_CLIENTS, CLIENT_ADDRESS, text)
        }
        IpAddr::V6(v6) => recent(&RECENT_CLIENTS, CLIENT_ADDRESS, &v6.to_string()),
    })
}

/// Dotted-quad into `buf`, returning its length: `Display` goes through the
/// formatting machinery and costs several times more.
fn format_ipv4(ip: Ipv4Addr, buf: &mut [u8; 15]) -> usize {
    let mut len = 0;
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            buf[len] = b'.';
            len += 1;
        }
        if octet >= 100 {
            buf[len] = b'0' + octet / 100;
            len += 1;
        }
        if octet >= 10 {
            buf[len] = b'0' + (octet / 10) % 10;
            len += 1;
        }
        buf[len] = b'0' + octet % 10;
        len += 1;
    }
    len
}

/// Length of a version-00 `traceparent`.
pub(crate) const TRACEPARENT_LEN: usize = 55;

/// Every byte's two lowercase hex digits.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [HEX[i >> 4], HEX[i & 0x0f]];
        i += 1;
    }
    table
};

fn put_hex(dst: &mut [u8], bytes: &[u8]) {
    for (pair, b) in dst.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(*b)]);
    }
}

/// Formats `00-{trace id}-{span id}-{flags}` into a stack buffer.
pub(crate) fn format_traceparent(sc: &SpanContext) -> [u8; TRACEPARENT_LEN] {
    let mut buf = [b'-'; TRACEPARENT_LEN];
    buf[0] = b'0';
    buf[1] = b'0';
    put_hex(&mut buf[3..35], &sc.trace_id().to_bytes());
    put_hex(&mut buf[36..52], &sc.span_id().to_bytes());
    put_hex(&mut buf[53..55], &[sc.trace_flags().to_u8()]);
    buf
}

/// `error.type` for a 5xx status: its code as a string, static for the
/// codes a server commonly sends.
pub(crate) fn status_error_type(status: u16) -> Value {
    let s: &'static str = match status {
        500 => "500",
        501 => "501",
        502 => "502",
        503 => "503",
        504 => "504",
        505 => "505",
        507 => "507",
        508 => "508",
        511 => "511",
        other => return Value::String(StringValue::from(other.to_string())),
    };
    Value::String(StringValue::from(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId, TraceState};

    #[test]
    fn client_values_are_capped_on_a_char_boundary() {
        let long = "é".repeat(HEADER_VALUE_LIMIT);
        let kv = owned(USER_AGENT_ORIGINAL, &long);
        assert_eq!(kv.value.as_str().len(), HEADER_VALUE_LIMIT);
        let kv = recent(&RECENT_AGENTS, USER_AGENT_ORIGINAL, &format!("x{long}"));
        assert_eq!(kv.value.as_str().len(), HEADER_VALUE_LIMIT - 1);
        assert_eq!(owned(URL_QUERY, "a=1").value.as_str(), "a=1");
    }

    #[test]
    fn server_address_from_the_authority_leaves_out_credentials() {
        let req = Request::builder()
            .uri("http://user:hunter2@api.example.com:8443/x")
            .body(())
            .unwrap();
        assert_eq!(
            server_address(&req, None),
            Some(("api.example.com", Some(8443)))
        );
    }

    #[test]
    fn methods_map_to_semconv_values() {
        assert_eq!(METHODS[method_index(&Method::GET)], "GET");
        assert_eq!(METHODS[method_index(&Method::PATCH)], "PATCH");
        let query = Method::from_bytes(b"QUERY").unwrap();
        assert_eq!(METHODS[method_index(&query)], "QUERY");
        let odd = Method::from_bytes(b"FOO").unwrap();
        assert_eq!(METHODS[method_index(&odd)], "_OTHER");
    }

    #[test]
    fn recent_values_are_shared_and_bounded() {
        let mut r = Recent::new();
        let a = r.get("api.example.com");
        let b = r.get("api.example.com");
        assert!(Arc::ptr_eq(&a, &b));
        for i in 0..10 {
            r.get(&format!("h{i}"));
        }
        assert_eq!(r.slots.iter().flatten().count(), RECENT);
        let kv = recent(&RECENT_HOSTS, SERVER_ADDRESS, "x.example");
        assert_eq!(kv.value.as_str(), "x.example");
    }

    #[test]
    fn ipv4_formats_like_display() {
        for ip in [
            "0.0.0.0",
            "10.1.2.3",
            "127.0.0.1",
            "255.255.255.255",
            "192.168.100.9",
        ] {
            let ip: Ipv4Addr = ip.parse().unwrap();
            let mut buf = [0u8; 15];
            let len = format_ipv4(ip, &mut buf);
            assert_eq!(std::str::from_utf8(&buf[..len]).unwrap(), ip.to_string());
        }
    }

    #[test]
    fn one_pass_finds_the_headers() {
        let mut h = HeaderMap::new();
        h.insert(HOST, "example.com:8080".parse().unwrap());
        h.insert(USER_AGENT, "curl/8".parse().unwrap());
        h.insert("traceparent", "x".parse().unwrap());
        h.insert("x-forwarded-for", "1.2.3.4, 10.0.0.1".parse().unwrap());
        let s = scan(&h);
        assert_eq!(s.host, Some("example.com:8080"));
        assert_eq!(s.user_agent, Some("curl/8"));
        assert_eq!(s.forwarded_for, Some("1.2.3.4, 10.0.0.1"));
        let mut traceparent = Present::default();
        traceparent.note("traceparent");
        assert_eq!(s.context, traceparent);
    }

    #[test]
    fn host_and_port_split() {
        assert_eq!(
            split_host_port("example.com:8080"),
            Some(("example.com", Some(8080)))
        );
        assert_eq!(split_host_port("example.com"), Some(("example.com", None)));
        assert_eq!(split_host_port("[::1]:443"), Some(("::1", Some(443))));
        assert_eq!(split_host_port("[::1]"), Some(("::1", None)));
        assert_eq!(split_host_port("::1"), Some(("::1", None)));
        assert_eq!(split_host_port("h:notaport"), Some(("h", None)));
        assert_eq!(split_host_port("h:99999"), Some(("h", None)));
        assert_eq!(split_host_port("h:"), Some(("h", None)));
        assert_eq!(split_host_port("8080"), Some(("8080", None)));
        assert_eq!(split_host_port("10.0.0.1:80"), Some(("10.0.0.1", Some(80))));
        assert_eq!(split_host_port(""), None);
    }

    #[test]
    fn traceparent_is_w3c() {
        let sc = SpanContext::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        );
        assert_eq!(
            std::str::from_utf8(&format_traceparent(&sc)).unwrap(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        );
    }

    #[test]
    fn server_errors_name_their_code() {
        assert_eq!(status_error_type(503).as_str(), "503");
        assert_eq!(status_error_type(599).as_str(), "599");
    }
}
