//! Hostile input at the edge of wingman: malformed, oversized and repeated
//! `traceparent`, `tracestate` and `baggage`; 10 000 random paths (no new
//! HTTP series on `/metrics`, and no piece of a path in any label); huge
//! headers; query strings and paths that are not UTF-8 (raw TCP); a
//! slow-loris client. The service answers each with a 2xx or 4xx, never a
//! 5xx, stays up, and its resident set stays bounded. Then the bounds on
//! every connection at both listeners (an idle HTTP/2 connection, a stalled
//! body, the connection limit) and the cost of connections that stop inside
//! the HTTP/2 preface.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::load::mib;
use crate::support::{Receiver, Wingman};

const VALID_PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// One request with `headers` on the API: its status (0 when the server
/// closed without answering).
async fn get_with(client: &reqwest::Client, url: &str, headers: &[(&str, String)]) -> u16 {
    let mut r = client.get(url);
    for (k, v) in headers {
        r = r.header(*k, v.as_str());
    }
    match r.send().await {
        Ok(res) => res.status().as_u16(),
        Err(_) => 0,
    }
}

/// Writes `raw` on a fresh connection and reads the status line's code
/// (0: closed without an answer, or no answer within 5 s).
async fn raw_status(addr: std::net::SocketAddr, raw: &[u8]) -> u16 {
    let mut s = TcpStream::connect(addr).await.unwrap();
    if s.write_all(raw).await.is_err() {
        return 0;
    }
    let mut buf = vec![0_u8; 4096];
    let n = match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
        Ok(Ok(n)) => n,
        _ => return 0,
    };
    let head = String::from_utf8_lossy(&buf[..n]);
    head.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn not_5xx(what: &str, status: u16) {
    assert!(
        status < 500,
        "{what}: answered {status}, a server error, to a client's garbage"
    );
}

async fn still_up(wingman: &Wingman) {
    let res = super::http()
        .get(wingman.url("/api/challenges/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the service stopped serving");
}

/// `traceparent`, `tracestate` and `baggage` that are malformed, oversized
/// or repeated: each answered (2xx, or 400/431), and a valid parent is still
/// honoured after them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_hostile_trace_context_headers_are_answered_and_a_valid_parent_still_holds() {
    let receiver = Receiver::start().await;
    let mut wingman = Wingman::builder().otlp(&receiver).start().await;
    let client = super::http();
    let url = wingman.url("/api/users/7");
    let big = "a".repeat(16 * 1024);
    let members: Vec<String> = (0..200).map(|i| format!("k{i}=v{i}")).collect();
    let with_parent = |name: &'static str, value: String| {
        vec![("traceparent", VALID_PARENT.to_owned()), (name, value)]
    };
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        (
            "traceparent garbage",
            vec![("traceparent", "garbage".into())],
        ),
        (
            "traceparent all-zero ids",
            vec![(
                "traceparent",
                "00-00000000000000000000000000000000-0000000000000000-01".into(),
            )],
        ),
        (
            "traceparent version ff",
            vec![("traceparent", VALID_PARENT.replacen("00", "ff", 1))],
        ),
        (
            "traceparent upper-case hex",
            vec![("traceparent", VALID_PARENT.to_uppercase())],
        ),
        (
            "traceparent 16 KiB",
            vec![("traceparent", format!("{VALID_PARENT}{big}"))],
        ),
        (
            "traceparent repeated",
            vec![
                ("traceparent", VALID_PARENT.into()),
                (
                    "traceparent",
                    "00-11111111111111111111111111111111-2222222222222222-01".into(),
                ),
            ],
        ),
        (
            "tracestate 200 members",
            with_parent("tracestate", members.join(",")),
        ),
        (
            "tracestate garbage",
            with_parent("tracestate", "===,,,\t;;;".into()),
        ),
        (
            "tracestate 16 KiB value",
            with_parent("tracestate", format!("k={big}")),
        ),
        (
            "tracestate repeated",
            vec![
                ("traceparent", VALID_PARENT.into()),
                ("tracestate", "a=1".into()),
                ("tracestate", "b=2".into()),
                ("tracestate", "a=3".into()),
            ],
        ),
        ("baggage 200 members", vec![("baggage", members.join(","))]),
        (
            "baggage 16 KiB value",
            vec![("baggage", format!("k={big}"))],
        ),
        (
            "baggage garbage",
            vec![("baggage", "=;=;%zz%;,,,;;=".into())],
        ),
        (
            "baggage repeated 50 times",
            (0..50).map(|i| ("baggage", format!("r{i}=x"))).collect(),
        ),
    ];
    for (what, headers) in &cases {
        let status = get_with(&client, &url, headers).await;
        eprintln!("faults::hostile {what}: {status}");
        assert!(
            status == 200 || status == 431 || status == 400,
            "{what}: answered {status}"
        );
    }
    // Still honours a valid parent after all that.
    assert_eq!(
        get_with(&client, &url, &[("traceparent", VALID_PARENT.into())]).await,
        200
    );
    receiver
        .wait_for_span(|s| {
            s.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736" && s.name.starts_with("GET ")
        })
        .await;
    wingman.terminate();
}

/// One header of 1 MiB is refused (431, or the connection closed); 500
/// headers are served or refused; the service stays up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_hostile_huge_headers_are_refused_and_the_service_stays_up() {
    let mut wingman = Wingman::builder().start().await;
    let client = super::http();
    let url = wingman.url("/api/users/7");
    let huge = "h".repeat(1024 * 1024);
    let status = get_with(&client, &url, &[("x-huge", huge)]).await;
    eprintln!("faults::hostile one 1 MiB header: {status}");
    assert!(
        status == 431 || status == 0,
        "1 MiB header answered {status}"
    );
    let many: Vec<(&str, String)> = (0..500).map(|_| ("x-many", "m".repeat(100))).collect();
    let status = get_with(&client, &url, &many).await;
    eprintln!("faults::hostile 500 headers: {status}");
    assert!(
        status == 200 || status == 431 || status == 0,
        "500 headers answered {status}"
    );
    still_up(&wingman).await;
    wingman.terminate();
}

/// Query strings, paths and header values that are not UTF-8 (sent over
/// raw TCP): a client error or a close, never a 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_hostile_bytes_that_are_not_utf8_get_no_server_error() {
    let mut wingman = Wingman::builder().start().await;
    let raw_cases: [(&str, &[u8]); 5] = [
        (
            "query \\xff\\xfe",
            b"GET /api/challenges?difficulty=\xff\xfe HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        ),
        (
            "query %ff%fe",
            b"GET /api/challenges?difficulty=%ff%fe HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        ),
        (
            "path \\xc3\\x28",
            b"GET /api/users/\xc3\x28 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        ),
        (
            "path %c3%28",
            b"GET /api/users/%c3%28 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        ),
        (
            "header value \\xff",
            b"GET /api/users/1 HTTP/1.1\r\nhost: x\r\nuser-agent: \xff\xfe\r\nbaggage: k=\xff\r\nconnection: close\r\n\r\n",
        ),
    ];
    for (what, raw) in raw_cases {
        let status = raw_status(wingman.addr, raw).await;
        eprintln!("faults::hostile {what}: {status}");
        not_5xx(what, status);
    }
    still_up(&wingman).await;
    wingman.terminate();
}

/// `count` paths no route has, in four shapes, from `salt` on.
fn random_paths(count: usize, salt: u64) -> Vec<String> {
    (0..count)
        .map(|i| {
            let x = (i as u64 + salt).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            match i % 4 {
                0 => format!("/{x:x}/{}", x >> 7),
                1 => format!("/api/users/{x:x}"),
                2 => format!("/api/{x:x}?q={}", x % 997),
                _ => format!("/static/{x:x}.js"),
            }
        })
        .collect()
}

/// `GET`s `paths` on `base` over 16 connections at once; how many got each
/// status (0: no answer).
async fn hammer(client: &reqwest::Client, base: &str, paths: &[String]) -> BTreeMap<u16, usize> {
    let mut statuses = BTreeMap::<u16, usize>::new();
    let mut set = tokio::task::JoinSet::new();
    for chunk in paths.chunks(paths.len().div_ceil(16)) {
        let (client, base, chunk) = (client.clone(), base.to_owned(), chunk.to_vec());
        set.spawn(async move {
            let mut out = Vec::new();
            for p in chunk {
                let s = match client.get(format!("{base}{p}")).send().await {
                    Ok(r) => r.status().as_u16(),
                    Err(_) => 0,
                };
                out.push(s);
            }
            out
        });
    }
    while let Some(r) = set.join_next().await {
        for s in r.unwrap() {
            *statuses.entry(s).or_default() += 1;
        }
    }
    statuses
}

/// The words of 8 characters or more of `text` (what a piece of a random
/// path looks like: its hex and decimal words).
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() >= 8)
        .map(str::to_owned)
        .collect()
}

/// 10 000 random paths: each a 4xx, no new HTTP series on `/metrics`, no
/// piece of a path in any series, and the resident set stays bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_hostile_random_paths_add_no_series_and_reach_no_label() {
    // A Redis of its own, empty: its keyspace series (`redis_db_keys{db_namespace="0"}`
    // and the like) appear when the first key does, at any moment of the
    // run, as on a fresh machine. They have nothing to do with paths.
    let redis = crate::support::PrivateRedis::spawn();
    let mut wingman = Wingman::builder()
        .var("REDIS_URL", redis.url())
        .var("WINGSPAN_PROMETHEUS", "true") // on the admin listener; no port of its own
        .start()
        .await;
    let client = super::http();
    let base = wingman.url("");
    still_up(&wingman).await;
    let rss_start = super::rss_of(wingman.pid()).unwrap();
    // A warm-up creates the series a 404 and a 400 have; then 10 000 more.
    hammer(&client, &base, &random_paths(200, 1_000_000)).await;
    let (_, before) = super::admin_get(&wingman, "/metrics").await;
    let t = Instant::now();
    let paths = random_paths(10_000, 0);
    let statuses = hammer(&client, &base, &paths).await;
    let took = t.elapsed();
    let (_, after) = super::admin_get(&wingman, "/metrics").await;
    let (b, a) = (super::series(&before), super::series(&after));
    // What a path can reach: the HTTP server's series (route, method and
    // status labels). Other series come and go for reasons of their own
    // (Redis's keyspace gauges appear with its first key).
    let http = |set: &BTreeSet<String>| {
        set.iter()
            .filter(|s| s.starts_with("http_server_"))
            .cloned()
            .collect::<BTreeSet<_>>()
    };
    let (hb, ha) = (http(&b), http(&a));
    let new: Vec<&String> = ha.difference(&hb).collect();
    // And no series at all carries a piece of a path.
    let pieces: HashSet<String> = paths.iter().flat_map(|p| words(p)).collect();
    // The detector itself finds a path put in a label.
    let planted = format!("http_server_x{{http_route=\"{}\"}}", paths[1]);
    assert!(
        words(&planted).iter().any(|w| pieces.contains(w)),
        "{planted}"
    );
    let leaked: Vec<&String> = a
        .iter()
        .filter(|s| words(s).iter().any(|w| pieces.contains(w)))
        .collect();
    eprintln!(
        "faults::hostile 10 000 random paths in {took:?}: statuses {statuses:?}; series on /metrics {} before, {} after ({} and {} HTTP server series), new HTTP: {new:?}, other new: {:?}",
        b.len(),
        a.len(),
        hb.len(),
        ha.len(),
        a.difference(&b).filter(|s| !ha.contains(*s)).collect::<Vec<_>>()
    );
    assert!(
        statuses.keys().all(|s| (400..500).contains(s)),
        "{statuses:?}"
    );
    assert!(
        !hb.is_empty(),
        "no HTTP server series on /metrics:\n{after}"
    );
    assert!(
        new.is_empty(),
        "random paths made new HTTP series: {new:#?}"
    );
    assert!(
        leaked.is_empty(),
        "a piece of a random path in a series: {leaked:#?}"
    );
    still_up(&wingman).await;
    let rss_end = super::rss_of(wingman.pid()).unwrap();
    eprintln!(
        "faults::hostile RSS {:.1} MiB at start, {:.1} MiB at the end",
        mib(rss_start),
        mib(rss_end)
    );
    assert!(
        rss_end < rss_start + 64 * 1024 * 1024,
        "RSS grew by more than 64 MiB"
    );
    wingman.terminate();
}

/// A slow-loris client (headers one byte at a time) and a silent connection
/// are dropped within twice the header read timeout; the service stays up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_hostile_slow_loris_and_silent_connections_are_dropped() {
    let mut wingman = Wingman::builder().start().await;
    let bound = wingspan::http::HEADER_READ_TIMEOUT * 2;
    let addr = wingman.addr;
    let loris = async move {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /api/users/1 HTTP/1.1\r\nhost: x\r\nx-slow: ")
            .await
            .unwrap();
        let t = Instant::now();
        let mut buf = [0_u8; 256];
        loop {
            if s.write_all(b"a").await.is_err() {
                return Some(t.elapsed());
            }
            match tokio::time::timeout(Duration::from_millis(500), s.read(&mut buf)).await {
                Ok(_) => return Some(t.elapsed()),
                Err(_) if t.elapsed() > bound => return None,
                Err(_) => {}
            }
        }
    };
    let silent = async move {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let t = Instant::now();
        let mut buf = [0_u8; 256];
        tokio::time::timeout(bound, s.read(&mut buf))
            .await
            .ok()
            .map(|_| t.elapsed())
    };
    let (loris, silent) = tokio::join!(loris, silent);
    eprintln!(
        "faults::hostile slow loris dropped after {loris:?}; a silent connection after {silent:?} (HEADER_READ_TIMEOUT {:?})",
        wingspan::http::HEADER_READ_TIMEOUT
    );
    assert!(
        loris.is_some(),
        "a slow-loris client still holds its connection after {bound:?}"
    );
    assert!(
        silent.is_some(),
        "a silent connection is held past {bound:?}"
    );
    still_up(&wingman).await;
    wingman.terminate();
}

/// The HTTP/2 connection preface and an empty SETTINGS frame: what a client
/// sends before its first request.
const H2_HELLO: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// Reads (discarding) until the server closes `s`; how long that took, or
/// `None` if it was still open after `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) -> Option<Duration> {
    let t = Instant::now();
    let mut buf = [0_u8; 4096];
    loop {
        let left = within.checked_sub(t.elapsed())?;
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(t.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

/// A connection on `addr` that sent `GET path` and waits for the answer:
/// its status once it comes.
async fn request(addr: std::net::SocketAddr, path: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    s
}

/// The status of the answer on `s`, if one starts within `within`.
async fn answer_within(s: &mut TcpStream, within: Duration) -> Option<u16> {
    let mut buf = [0_u8; 64];
    match tokio::time::timeout(within, s.read(&mut buf)).await {
        Ok(Ok(n)) if n > 0 => String::from_utf8_lossy(&buf[..n])
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok()),
        _ => None,
    }
}

/// The listener bounds of the connection tests: short, set through the
/// settings, so that nothing takes long to observe.
const MAX_CONNECTIONS: usize = 8;
const IDLE: Duration = Duration::from_millis(1000);
const BODY: Duration = Duration::from_millis(1000);
/// Nothing is learnt after this long: the old code held all of these for ever.
const NEVER: Duration = Duration::from_secs(8);

/// wingman with the short bounds above (and a header read timeout of 5 s,
/// long enough for the connection-limit test to look).
async fn bounded_wingman() -> Wingman {
    Wingman::builder()
        .var("WINGSPAN_HTTP_HEADER_READ_TIMEOUT_MS", "5000")
        .var(
            "WINGSPAN_HTTP_IDLE_TIMEOUT_MS",
            IDLE.as_millis().to_string(),
        )
        .var(
            "WINGSPAN_HTTP_BODY_READ_TIMEOUT_MS",
            BODY.as_millis().to_string(),
        )
        .var("WINGSPAN_HTTP_MAX_CONNECTIONS", MAX_CONNECTIONS.to_string())
        .start()
        .await
}

/// Both listeners: name, address, a route that takes a POST body or not.
fn listeners(wingman: &Wingman) -> [(&'static str, std::net::SocketAddr, &'static str); 2] {
    [
        ("api", wingman.addr, "/api/users"),
        ("admin", wingman.admin, "/health/detailed"),
    ]
}

/// An HTTP/2 connection that sends the preface and SETTINGS, then nothing,
/// is closed after `WINGSPAN_HTTP_IDLE_TIMEOUT_MS`, at both listeners.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_hostile_h2_connection_without_a_stream_is_closed_at_both_listeners() {
    let mut wingman = bounded_wingman().await;
    for (name, addr, _) in listeners(&wingman) {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(H2_HELLO).await.unwrap();
        let took = closed_within(&mut s, NEVER).await;
        eprintln!("faults::hostile {name}: an HTTP/2 connection with no stream closed after {took:?} (idle timeout {IDLE:?})");
        assert!(
            took.is_some_and(|t| t < IDLE * 2 + Duration::from_secs(2)),
            "{name}: an HTTP/2 connection that opens no stream is still open after {:?}",
            took.unwrap_or(NEVER)
        );
    }
    still_up(&wingman).await;
    wingman.terminate();
    wingman.cleanup().await;
}

/// A request body that arrives one byte every 1.5 × the body read timeout
/// is cut (a 4xx or a plain close, never a 5xx), at both listeners.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_hostile_stalled_request_body_is_cut_at_both_listeners() {
    let mut wingman = bounded_wingman().await;
    let every = BODY * 3 / 2;
    for (name, addr, path) in listeners(&wingman) {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(
            format!(
                "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        let t = Instant::now();
        let mut answered = None;
        let mut buf = [0_u8; 1024];
        let closed = loop {
            if t.elapsed() > NEVER {
                break None;
            }
            match tokio::time::timeout(every, s.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break Some(t.elapsed()),
                Ok(Ok(n)) => {
                    answered.get_or_insert_with(|| {
                        String::from_utf8_lossy(&buf[..n])
                            .lines()
                            .next()
                            .unwrap_or_default()
                            .to_owned()
                    });
                }
                Err(_) => {
                    // A byte now and then: the body never completes.
                    if s.write_all(b" ").await.is_err() {
                        break Some(t.elapsed());
                    }
                }
            }
        };
        eprintln!(
            "faults::hostile {name}: a body trickling one byte every {every:?}: answered {answered:?}, closed after {closed:?}"
        );
        assert!(
            closed.is_some(),
            "{name}: a connection sending its body one byte every {every:?} is still open after {NEVER:?}"
        );
        if let Some(line) = &answered {
            assert!(
                !line.contains(" 5"),
                "{name}: a stalled body answered {line}"
            );
        }
    }
    still_up(&wingman).await;
    wingman.terminate();
    wingman.cleanup().await;
}

/// At `WINGSPAN_HTTP_MAX_CONNECTIONS` open connections a listener accepts
/// no more until one closes; then the waiting one is served. One full
/// listener does not stop the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_hostile_connection_limit_holds_at_both_listeners() {
    let mut wingman = bounded_wingman().await;
    let both = listeners(&wingman);
    for (name, addr, _) in both {
        // Connections that send nothing hold their slots until the header
        // read timeout (5 s): long enough to look.
        let mut holders = Vec::new();
        for _ in 0..MAX_CONNECTIONS {
            holders.push(TcpStream::connect(addr).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut probe = request(addr, "/health").await;
        let early = answer_within(&mut probe, Duration::from_secs(1)).await;
        eprintln!("faults::hostile {name}: with {MAX_CONNECTIONS} connections open, one more answered {early:?} within 1 s");
        assert_eq!(
            early, None,
            "{name}: with WINGSPAN_HTTP_MAX_CONNECTIONS={MAX_CONNECTIONS} connections open, one more was served"
        );
        // The other listener has its own limit: still served.
        let (other_name, other, _) = both.iter().find(|l| l.0 != name).copied().unwrap();
        let mut elsewhere = request(other, "/health").await;
        assert!(
            answer_within(&mut elsewhere, Duration::from_secs(5))
                .await
                .is_some(),
            "{other_name} stopped serving while {name} was full"
        );
        // One holder leaves: the waiting connection is served.
        drop(holders.pop());
        let later = answer_within(&mut probe, Duration::from_secs(3)).await;
        eprintln!(
            "faults::hostile {name}: after one left, the waiting connection answered {later:?}"
        );
        assert!(
            later.is_some(),
            "{name}: the waiting connection was never served"
        );
        drop(holders);
    }
    still_up(&wingman).await;
    wingman.terminate();
    wingman.cleanup().await;
}

/// CPU time (user + system) the process `pid` has used so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces): state is the
    // first, utime and stime the 12th and 13th.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    // SAFETY: sysconf reads a constant of the system.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_millis(ticks * 1000 / hz.max(1))
}

/// Connections stuck inside the HTTP/2 preface (`PRI * HTTP`, then nothing)
/// cost no CPU while they wait: the sniff waits for the socket to become
/// readable instead of re-peeking on a timer. 200 such connections on each
/// listener, and the process's CPU over 3 s compared with 3 s without them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_hostile_connections_stuck_in_the_h2_preface_cost_no_cpu() {
    const PER_LISTENER: usize = 200;
    let window = Duration::from_secs(3);
    // The default bounds (header read timeout 10 s): the connections stay
    // for the whole window.
    let mut wingman = Wingman::builder().start().await;
    still_up(&wingman).await;
    let pid = wingman.pid();
    let idle_cpu = {
        let c = cpu_time(pid);
        tokio::time::sleep(window).await;
        cpu_time(pid) - c
    };
    let mut held = Vec::new();
    for addr in [wingman.addr, wingman.admin] {
        for _ in 0..PER_LISTENER {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"PRI * HTTP").await.unwrap();
            held.push(s);
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let c = cpu_time(pid);
    tokio::time::sleep(window).await;
    let busy_cpu = cpu_time(pid) - c;
    // Every one of them is still open (they are waiting, not dropped).
    let mut open = 0;
    for s in &held {
        let mut b = [0_u8; 1];
        if matches!(s.try_read(&mut b), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock) {
            open += 1;
        }
    }
    eprintln!(
        "faults::hostile {} connections inside the HTTP/2 preface: CPU {busy_cpu:?} over {window:?} (without them {idle_cpu:?}); {open} still open",
        held.len()
    );
    assert_eq!(
        open,
        held.len(),
        "connections were dropped within the header read timeout"
    );
    // Waiting costs nothing: allow the background work plus 5 % of a core.
    assert!(
        busy_cpu < idle_cpu + window / 20,
        "{} connections waiting in the preface cost {busy_cpu:?} of CPU over {window:?} (idle: {idle_cpu:?})",
        held.len()
    );
    drop(held);
    wingman.terminate();
    wingman.cleanup().await;
}
