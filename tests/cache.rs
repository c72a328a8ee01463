//! The instrumented Redis cache against real Redis and a real OTLP receiver:
//! span attributes and masking, exact hit/miss counts, single-flight, an
//! outage served through the loader, recovery after a restart, a degraded
//! start, and the INFO metrics.

mod flight;
mod hooks;

use std::time::{Duration, Instant};

use opentelemetry::trace::{TraceContextExt as _, Tracer as _};
use opentelemetry::Context;
use wingspan::cache::{BuildError, Cache, CacheError, Value};
use wingspan::config::{RedisConfig, Secret};

use crate::support::{
    self, find_point, Kind, MetricKind, PrivateRedis, Protocol, Receiver, Status,
};

const WAIT: Duration = Duration::from_secs(10);

async fn setup(extra: &[(&str, &str)]) -> (Receiver, wingspan::Telemetry) {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::Grpc, extra).await;
    (receiver, telemetry)
}

async fn cache(telemetry: &wingspan::Telemetry) -> Cache {
    Cache::builder(telemetry)
        .build()
        .await
        .expect("cache builds")
}

/// The exported value of `wingspan.cache.requests` for one name and result
/// (0 when the series does not exist).
fn requests(points: &[support::MetricPoint], name: &str, result: &str) -> f64 {
    support::find_points(
        points,
        "wingspan.cache.requests",
        &[
            ("wingspan.cache.name", name),
            ("wingspan.cache.result", result),
        ],
    )
    .first()
    .map_or(0.0, |p| p.value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_carry_semconv_attributes_and_mask_keys_and_values() {
    let (receiver, telemetry) = setup(&[]).await;
    let cache = cache(&telemetry).await;
    let prefix = support::unique("attrs");
    let key = format!("{prefix}:secret-token-42");
    let missing = format!("{prefix}:nope");
    let hash = format!("{prefix}:h");

    let tracer = telemetry.tracer();
    let parent = tracer.start("handler");
    let cx = Context::current_with_span(parent);
    {
        let _guard = cx.clone().attach();
        cache
            .set(&key, "very-secret-value", Some(Duration::from_secs(60)))
            .await
            .unwrap();
        let got: Option<String> = cache.get(&key).await.unwrap();
        assert_eq!(got.as_deref(), Some("very-secret-value"));
        let none: Option<String> = cache.get(&missing).await.unwrap();
        assert_eq!(none, None);
        cache.hset(&hash, &[("field", "v")]).await.unwrap();
        // GET on a hash: Redis answers WRONGTYPE.
        let err = cache.get::<String>(&hash).await.unwrap_err();
        assert_eq!(err.error_type(), "WRONGTYPE");
        let replies = cache
            .pipeline()
            .get(&key)
            .set(&missing, "x", None)
            .exec()
            .await
            .unwrap();
        assert_eq!(replies.len(), 2);
        let len = cache
            .custom("strlen", vec![Value::from(key.as_str())])
            .await
            .unwrap();
        assert_eq!(len.as_i64(), Some("very-secret-value".len() as i64));
    }
    cx.span().end();
    telemetry.force_flush().await.unwrap();

    let spans = receiver
        .wait_for_spans(|s| s.iter().any(|s| s.name == "STRLEN"), WAIT)
        .await;
    let handler = spans.iter().find(|s| s.name == "handler").unwrap();
    let redis = support::redis_target();
    for s in spans.iter().filter(|s| s.name != "handler") {
        assert!(s.is_child_of(handler), "{} not under handler", s.name);
        assert_eq!(s.kind, Kind::Client);
        assert_eq!(s.attr_str("db.system.name"), Some("redis"));
        assert_eq!(s.attr_str("db.namespace"), Some(redis.namespace.as_str()));
        assert_eq!(s.attr_str("server.address"), Some(redis.host.as_str()));
        assert_eq!(s.attr_i64("server.port"), Some(i64::from(redis.port)));
        let text = s.attr_str("db.query.text").unwrap();
        assert!(!text.contains("secret"), "key or value leaked: {text}");
        assert!(!format!("{:?}", s.attributes).contains("very-secret-value"));
    }
    let find = |name: &str, pred: &dyn Fn(&support::SpanRecord) -> bool| {
        spans
            .iter()
            .find(|s| s.name == name && pred(s))
            .unwrap_or_else(|| panic!("no {name} span:\n{}", support::dump_spans(&spans)))
            .clone()
    };
    let set = find("SET", &|_| true);
    assert_eq!(set.attr_str("db.operation.name"), Some("SET"));
    assert_eq!(
        set.attr_str("db.query.text"),
        Some(format!("SET {prefix}:? ? PX ?").as_str())
    );
    assert!(!set.has_attr("wingspan.cache.hit"));
    let hit = find("GET", &|s| s.attr_bool("wingspan.cache.hit") == Some(true));
    assert_eq!(
        hit.attr_str("db.query.text"),
        Some(format!("GET {prefix}:?").as_str())
    );
    assert_eq!(hit.status, Status::Unset);
    find("GET", &|s| s.attr_bool("wingspan.cache.hit") == Some(false));
    let failed = find("GET", &|s| s.has_attr("error.type"));
    assert_eq!(failed.attr_str("error.type"), Some("WRONGTYPE"));
    assert_eq!(
        failed.attr_str("db.response.status_code"),
        Some("WRONGTYPE")
    );
    assert_eq!(failed.status, Status::Error);
    let hset = find("HSET", &|_| true);
    assert_eq!(
        hset.attr_str("db.query.text"),
        Some(format!("HSET {prefix}:? ? ?").as_str())
    );
    let pipeline = find("PIPELINE", &|_| true);
    assert_eq!(pipeline.attr_str("db.operation.name"), Some("PIPELINE"));
    assert_eq!(pipeline.attr_i64("db.operation.batch.size"), Some(2));
    assert_eq!(
        pipeline.attr_str("db.query.text"),
        Some(format!("GET {prefix}:?; SET {prefix}:? ?").as_str())
    );
    let strlen = find("STRLEN", &|_| true);
    assert_eq!(strlen.attr_str("db.query.text"), Some("STRLEN ?"));

    let points = receiver
        .wait_for_metric(
            "db.client.operation.duration",
            |p| {
                support::find_points(
                    p,
                    "db.client.operation.duration",
                    &[("db.operation.name", "GET")],
                )
                .iter()
                .map(|p| p.count)
                .sum::<u64>()
                    >= 3
            },
            WAIT,
        )
        .await;
    let ok_get = support::find_points(
        &points,
        "db.client.operation.duration",
        &[("db.operation.name", "GET"), ("db.system.name", "redis")],
    )
    .into_iter()
    .find(|p| !p.has_attr("error.type"))
    .unwrap();
    assert_eq!(ok_get.count, 2);
    assert_eq!(ok_get.unit, "s");
    assert_eq!(
        ok_get.bounds,
        wingspan::telemetry::buckets::DB_CLIENT_DURATION
    );
    let wrongtype = support::find_points(
        &points,
        "db.client.operation.duration",
        &[("db.operation.name", "GET"), ("error.type", "WRONGTYPE")],
    );
    assert_eq!(wrongtype.len(), 1);
    assert_eq!(wrongtype[0].count, 1);
    cache.del(&[&key, &missing, &hash]).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_key_display_shows_keys_but_never_values() {
    let (receiver, telemetry) = setup(&[("WINGSPAN_REDIS_KEYS", "full")]).await;
    let cache = cache(&telemetry).await;
    let key = format!("{}:k1", support::unique("full"));
    cache.set(&key, "the-value", None).await.unwrap();
    cache.del(&[&key]).await.unwrap();
    telemetry.force_flush().await.unwrap();
    let set = receiver.wait_for_span(|s| s.name == "SET").await;
    assert_eq!(
        set.attr_str("db.query.text"),
        Some(format!("SET {key} ?").as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hit_and_miss_counts_follow_the_per_command_rules() {
    let (receiver, telemetry) = setup(&[]).await;
    let cache = cache(&telemetry).await;
    let name = support::unique("hm");
    let k = |s: &str| format!("{name}:{s}");
    let (a, b, c, d, h, empty) = (k("a"), k("b"), k("c"), k("d"), k("h"), k("empty"));
    let plain = format!("{name}-no-separator");

    cache.set(&a, "1", None).await.unwrap();
    cache.set(&b, "2", None).await.unwrap();
    let _: Option<String> = cache.get(&a).await.unwrap(); // hit 1
    let _: Option<String> = cache.get(&c).await.unwrap(); // miss 1
    let got: Vec<Option<String>> = cache.mget(&[&a, &b, &c, &d]).await.unwrap(); // hit 3, miss 3
    assert_eq!(got, vec![Some("1".into()), Some("2".into()), None, None]);
    assert_eq!(cache.exists(&[&a, &c]).await.unwrap(), 1); // not counted
    assert_eq!(cache.ttl(&a).await.unwrap(), -1); // not counted
    assert!(cache.expire(&a, Duration::from_secs(60)).await.unwrap());
    assert_eq!(cache.incr(&k("n")).await.unwrap(), 1);
    cache.hset(&h, &[("f", "v")]).await.unwrap();
    let _: Option<String> = cache.hget(&h, "f").await.unwrap(); // hit 4
    let _: Option<String> = cache.hget(&h, "g").await.unwrap(); // miss 4
    let all: std::collections::HashMap<String, String> = cache.hgetall(&h).await.unwrap(); // hit 5
    assert_eq!(all.len(), 1);
    let none: std::collections::HashMap<String, String> = cache.hgetall(&empty).await.unwrap(); // miss 5
    assert!(none.is_empty());
    assert!(cache.get::<String>(&h).await.is_err()); // error 1
    let _: Option<String> = cache.get(&plain).await.unwrap(); // default miss 1

    telemetry.force_flush().await.unwrap();
    let points = receiver
        .wait_for_metric(
            "wingspan.cache.requests",
            |p| requests(p, "default", "miss") >= 1.0 && requests(p, &name, "error") >= 1.0,
            WAIT,
        )
        .await;
    assert_eq!(
        requests(&points, &name, "hit"),
        5.0,
        "{}",
        support::dump_metrics(&points)
    );
    assert_eq!(
        requests(&points, &name, "miss"),
        5.0,
        "{}",
        support::dump_metrics(&points)
    );
    assert_eq!(requests(&points, &name, "error"), 1.0);
    assert_eq!(requests(&points, "default", "miss"), 1.0);
    assert_eq!(requests(&points, "default", "hit"), 0.0);
    let p = find_point(
        &points,
        "wingspan.cache.requests",
        &[
            ("wingspan.cache.name", &name),
            ("wingspan.cache.result", "hit"),
        ],
    );
    assert_eq!(p.kind, MetricKind::Sum { monotonic: true });
    cache.del(&[&a, &b, &h, &k("n")]).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_names_beyond_the_limit_count_as_other() {
    let (receiver, telemetry) = setup(&[]).await;
    let cache = Cache::builder(&telemetry)
        .max_cache_names(2)
        .build()
        .await
        .unwrap();
    let base = support::unique("lim");
    for i in 0..4 {
        let _: Option<String> = cache.get(&format!("{base}{i}:k")).await.unwrap();
    }
    telemetry.force_flush().await.unwrap();
    let points = receiver
        .wait_for_metric(
            "wingspan.cache.requests",
            |p| requests(p, "other", "miss") >= 2.0,
            WAIT,
        )
        .await;
    assert_eq!(requests(&points, &format!("{base}0"), "miss"), 1.0);
    assert_eq!(requests(&points, &format!("{base}1"), "miss"), 1.0);
    assert_eq!(requests(&points, &format!("{base}2"), "miss"), 0.0);
    assert_eq!(requests(&points, "other", "miss"), 2.0);
}

/// With the cache names listed, a key that starts with user data (an
/// e-mail) counts as `other`: the data reaches no exported label, no row of
/// the in-process view (what `/health/detailed` shows) and no
/// `db.query.text`. The same key through a cache without the list does
/// become a label: the default this option exists for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listed_cache_names_keep_keys_that_start_with_user_data_out_of_labels() {
    let (receiver, telemetry) = setup(&[]).await;
    let known = support::unique("known");
    let cache = Cache::builder(&telemetry)
        .cache_names([known.as_str(), "unused"])
        .build()
        .await
        .unwrap();
    let marker = support::unique("usr");
    let email = format!("{marker}@example.com");
    let listed = format!("{known}:1");
    let user_first = format!("{email}:profile");
    let ttl = Some(Duration::from_secs(60));
    cache.set(&listed, "v", ttl).await.unwrap();
    cache.set(&user_first, "v", ttl).await.unwrap();

    let _: Option<String> = cache.get(&listed).await.unwrap(); // known hit 1
    let _: Option<String> = cache.get(&user_first).await.unwrap(); // other hit 1
    let got: Vec<Option<String>> = cache.mget(&[&listed, &user_first, &email]).await.unwrap(); // known hit 2, other hit 2, other miss 1
    assert_eq!(got, vec![Some("v".into()), Some("v".into()), None]);
    let replies = cache.pipeline().get(&user_first).exec().await.unwrap(); // other hit 3
    assert_eq!(replies.len(), 1);
    let loaded_key = format!("{email}:loaded");
    let loaded: String = cache
        .get_or_load(&loaded_key, ttl, || async {
            Ok::<_, std::io::Error>("fresh".to_owned())
        })
        .await
        .unwrap(); // other miss 2
    assert_eq!(loaded, "fresh");

    telemetry.force_flush().await.unwrap();
    let points = receiver
        .wait_for_metric(
            "wingspan.cache.requests",
            |p| requests(p, "other", "hit") >= 3.0 && requests(p, "other", "miss") >= 2.0,
            WAIT,
        )
        .await;
    let dump = support::dump_metrics(&points);
    assert_eq!(requests(&points, &known, "hit"), 2.0, "{dump}");
    assert_eq!(requests(&points, "other", "hit"), 3.0, "{dump}");
    assert_eq!(requests(&points, "other", "miss"), 2.0, "{dump}");
    assert_eq!(requests(&points, "unused", "hit"), 0.0, "{dump}");
    let everything = support::dump_metrics(&receiver.metrics());
    assert!(
        !everything.contains(&marker),
        "user data in a label:\n{everything}"
    );

    // The spans show listed prefixes only.
    let spans = receiver
        .wait_for_spans(|s| s.iter().filter(|s| s.name == "SET").count() >= 2, WAIT)
        .await;
    let texts: Vec<&str> = spans
        .iter()
        .filter_map(|s| s.attr_str("db.query.text"))
        .collect();
    assert!(
        texts.contains(&format!("GET {known}:?").as_str()),
        "{texts:?}"
    );
    assert!(texts.contains(&"GET ?"), "{texts:?}");
    assert!(
        !spans.iter().any(|s| format!("{s:?}").contains(&marker)),
        "user data in a span:\n{}",
        support::dump_spans(&spans)
    );

    // The in-process view, which `/health/detailed` serves.
    let snap = telemetry.stats().expect("on by default").snapshot(2);
    let names: Vec<&str> = snap.caches.iter().map(|c| c.name.as_str()).collect();
    assert!(
        names.contains(&known.as_str()) && names.contains(&"other"),
        "{names:?}"
    );
    let view = serde_json::to_string(&snap).unwrap();
    assert!(!view.contains(&marker), "user data in the view: {view}");

    // Without the list, the same key is labelled by its prefix.
    let by_prefix = Cache::builder(&telemetry).build().await.unwrap();
    let _: Option<String> = by_prefix.get(&user_first).await.unwrap();
    telemetry.force_flush().await.unwrap();
    let points = receiver
        .wait_for_metric(
            "wingspan.cache.requests",
            |p| requests(p, &email, "hit") >= 1.0,
            WAIT,
        )
        .await;
    assert_eq!(requests(&points, &email, "hit"), 1.0);
    cache
        .del(&[&listed, &user_first, &loaded_key])
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listed_cache_names_are_checked_and_named() {
    let (_receiver, telemetry) = setup(&[]).await;
    for bad in ["", "users:v2", "other"] {
        let err = Cache::builder(&telemetry)
            .cache_names(["users", bad])
            .build()
            .await
            .unwrap_err();
        match err {
            BuildError::Config(e) => {
                assert_eq!(e.variable, "CacheBuilder::cache_names", "{bad:?}");
                assert_eq!(e.value, bad);
                assert!(e.expected.contains("separator ':'"), "{e}");
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    // Another separator: the colon is then an ordinary character.
    Cache::builder(&telemetry)
        .name_separator('/')
        .cache_names(["users:v2"])
        .build()
        .await
        .expect("no '/' in the name");
}

async fn wait_connected(cache: &Cache, connected: bool) {
    let deadline = Instant::now() + WAIT;
    while cache.is_connected() != connected {
        assert!(
            Instant::now() < deadline,
            "cache never became connected={connected}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_is_served_by_the_loader_and_recovers_after_restart() {
    let mut redis = PrivateRedis::spawn();
    let port = redis.port;
    let (receiver, telemetry) = setup(&[
        ("REDIS_URL", redis.url().as_str()),
        ("REDIS_COMMAND_TIMEOUT", "1000"),
    ])
    .await;
    let cache = cache(&telemetry).await;
    assert!(cache.is_connected());
    let key = format!("{}:item", support::unique("down"));
    let load = |n: u32| async move { Ok::<_, std::io::Error>(n) };
    assert_eq!(cache.get_or_load(&key, None, || load(1)).await.unwrap(), 1);

    redis.stop();
    wait_connected(&cache, false).await;
    for i in 0..20 {
        // A key of its own per call: a value loaded for one key stays in
        // memory until its write-back SET (here failing) is done, and a
        // next call of that key would take it from there without a GET.
        let key = format!("{key}{i}");
        let started = Instant::now();
        assert_eq!(cache.get_or_load(&key, None, || load(2)).await.unwrap(), 2);
        // Far below the 1 s command timeout: the call did not wait it out.
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "{:?}",
            started.elapsed()
        );
    }
    let err = cache.get::<String>(&key).await.unwrap_err();
    assert!(matches!(err, CacheError::NotConnected), "{err:?}");

    let _redis = PrivateRedis::start(port);
    wait_connected(&cache, true).await;
    cache.set(&key, "3", None).await.unwrap();
    assert_eq!(cache.get_or_load(&key, None, || load(4)).await.unwrap(), 3);

    telemetry.force_flush().await.unwrap();
    let spans = receiver
        .wait_for_spans(
            |s| {
                s.iter()
                    .filter(|s| s.attr_str("error.type") == Some("not_connected"))
                    .count()
                    >= 21
            },
            WAIT,
        )
        .await;
    let failed = spans
        .iter()
        .find(|s| s.name == "GET" && s.has_attr("error.type"))
        .unwrap();
    assert_eq!(failed.status, Status::Error);
    let points = receiver
        .wait_for_metric(
            "wingspan.cache.requests",
            |p| requests(p, &key[..key.find(':').unwrap()], "error") >= 21.0,
            WAIT,
        )
        .await;
    let name = &key[..key.find(':').unwrap()];
    assert_eq!(requests(&points, name, "error"), 21.0);
    assert_eq!(requests(&points, name, "hit"), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_redis_is_bounded_by_the_command_timeout() {
    let redis = PrivateRedis::spawn();
    let port = redis.port;
    let (receiver, telemetry) = setup(&[
        ("REDIS_URL", redis.url().as_str()),
        ("REDIS_COMMAND_TIMEOUT", "300"),
    ])
    .await;
    let cache = cache(&telemetry).await;
    let key = format!("{}:item", support::unique("slow"));
    // Every client's commands now wait 3 s: Redis is up but slow.
    let paused = std::process::Command::new("redis-cli")
        .args(["-p", &port.to_string(), "CLIENT", "PAUSE", "3000", "ALL"])
        .output()
        .expect("redis-cli");
    assert!(paused.status.success());
    let started = Instant::now();
    let v = cache
        .get_or_load(&key, None, || async { Ok::<_, std::io::Error>(9u32) })
        .await
        .unwrap();
    assert_eq!(v, 9);
    // The 300 ms timeout, not the 3 s pause (generous bound).
    assert!(
        started.elapsed() < Duration::from_millis(2000),
        "{:?}",
        started.elapsed()
    );

    telemetry.force_flush().await.unwrap();
    let get = receiver
        .wait_for_span(|s| s.name == "GET" && s.has_attr("error.type"))
        .await;
    assert_eq!(get.attr_str("error.type"), Some("timeout"));
    let name = &key[..key.find(':').unwrap()];
    let points = receiver
        .wait_for_metric(
            "wingspan.cache.requests",
            |p| requests(p, name, "error") >= 1.0,
            WAIT,
        )
        .await;
    assert_eq!(requests(&points, name, "miss"), 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_starts_degraded_when_redis_is_down() {
    let mut dead = support::DeadPort::new();
    let port = dead.port;
    let url = format!("redis://127.0.0.1:{port}");
    let (_receiver, telemetry) = setup(&[("REDIS_URL", url.as_str())]).await;
    let started = Instant::now();
    let cache = cache(&telemetry).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!cache.is_connected());
    let started = Instant::now();
    let err = cache.get::<String>("x:y").await.unwrap_err();
    assert!(matches!(err, CacheError::NotConnected), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(200));
    let v = cache
        .get_or_load("x:y", None, || async { Ok::<_, std::io::Error>(5u8) })
        .await
        .unwrap();
    assert_eq!(v, 5);

    let _redis = PrivateRedis::start(dead.release());
    wait_connected(&cache, true).await;
    cache.set("x:y", "6", None).await.unwrap();
    assert_eq!(
        cache.get::<String>("x:y").await.unwrap().as_deref(),
        Some("6")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_metrics_are_exported_with_plausible_values() {
    // A private server: this test's key is its only key and its GET its only
    // keyspace hit, so a poll that saw them is recognised exactly (on the
    // shared server other tests' keys satisfy any "at least one").
    let redis = PrivateRedis::spawn();
    let (receiver, telemetry) = setup(&[("REDIS_URL", redis.url().as_str())]).await;
    let cache = cache(&telemetry).await;
    let key = format!("{}:k", support::unique("info"));
    cache
        .set(&key, "v", Some(Duration::from_secs(60)))
        .await
        .unwrap();
    let _: Option<String> = cache.get(&key).await.unwrap();

    // Polls before the GET exported 0 hits; wait for one after it.
    receiver
        .wait_for_point("redis.keyspace.hits", |h| h.value == 1.0)
        .await;
    // Every server metric of that export.
    let points = receiver.metrics();
    let memory = find_point(&points, "redis.memory.used", &[]);
    assert_eq!(memory.unit, "By");
    assert_eq!(memory.kind, MetricKind::Gauge);
    assert!(memory.value > 100_000.0, "{}", memory.value);
    let clients = find_point(&points, "redis.clients.connected", &[]);
    assert_eq!(clients.kind, MetricKind::Sum { monotonic: false });
    assert!(clients.value >= 1.0);
    let keys = find_point(&points, "redis.db.keys", &[("db.namespace", "0")]);
    assert_eq!(keys.kind, MetricKind::Gauge);
    assert_eq!(keys.value, 1.0);
    let expires = find_point(&points, "redis.db.expires", &[("db.namespace", "0")]);
    assert_eq!(expires.value, 1.0);
    let avg_ttl = find_point(&points, "redis.db.avg_ttl", &[("db.namespace", "0")]);
    assert_eq!(avg_ttl.unit, "ms");
    for name in [
        "redis.keyspace.hits",
        "redis.keyspace.misses",
        "redis.keys.expired",
        "redis.keys.evicted",
    ] {
        let p = find_point(&points, name, &[]);
        assert_eq!(p.kind, MetricKind::Sum { monotonic: true }, "{name}");
    }
    assert_eq!(find_point(&points, "redis.keys.evicted", &[]).value, 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_given_in_code_override_the_handle_and_bad_ones_are_named() {
    let (_receiver, telemetry) = setup(&[]).await;
    let build = |config: RedisConfig| Cache::builder(&telemetry).config(config).build();

    let mut zero = telemetry.config().redis.clone();
    zero.pool_size = 0;
    match build(zero).await.unwrap_err() {
        BuildError::Config(e) => assert_eq!(
            (e.variable.as_str(), e.value.as_str()),
            ("REDIS_POOL_SIZE", "0")
        ),
        other => panic!("{other:?}"),
    }
    let mut malformed = telemetry.config().redis.clone();
    malformed.url = Secret::new("redis://app:hunter2@[::1");
    let err = build(malformed).await.unwrap_err();
    assert!(
        matches!(&err, BuildError::Config(e) if e.variable == "REDIS_URL"),
        "{err:?}"
    );
    assert!(!err.to_string().contains("hunter2"), "{err}");

    // A private server named only in the override: the cache uses it.
    let redis = PrivateRedis::spawn();
    let port = redis.port;
    let mut private = telemetry.config().redis.clone();
    private.url = Secret::new(redis.url());
    let cache = build(private).await.unwrap();
    let key = format!("{}:k", support::unique("override"));
    cache.set(&key, "here", None).await.unwrap();
    let seen = std::process::Command::new("redis-cli")
        .args(["-p", &port.to_string(), "GET", &key])
        .output()
        .expect("redis-cli");
    assert_eq!(String::from_utf8_lossy(&seen.stdout).trim(), "here");
    assert!(format!("{:?}", Cache::builder(&telemetry)).contains("CacheBuilder"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rediss_url_builds_with_rustls_and_starts_degraded_without_a_tls_server() {
    // The shared Redis speaks plain TCP, so the TLS handshake fails: the
    // cache must still build (degraded), without panicking on rustls set-up.
    let url = support::redis_url().replacen("redis://", "rediss://", 1);
    let (_receiver, telemetry) = setup(&[("REDIS_URL", url.as_str())]).await;
    let cache = cache(&telemetry).await;
    assert!(!cache.is_connected());
    let err = cache.get::<String>("tls:probe").await.unwrap_err();
    assert!(matches!(err, CacheError::NotConnected), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_nest_under_tracing_spans_and_the_write_back_under_its_caller() {
    use opentelemetry::context::FutureExt as _;
    use tracing::Instrument as _;

    let (receiver, telemetry) = setup(&[]).await;
    let cache = cache(&telemetry).await;
    let key = format!("{}:item", support::unique("nest"));

    // An application `tracing` span (as `#[instrument]` makes).
    async {
        let _: Option<String> = cache.get(&key).await.unwrap();
    }
    .instrument(tracing::info_span!("load_profile"))
    .await;

    // An OTel span, with the context passed on across `tokio::spawn`; the
    // fire-and-forget write-back SET still nests under the caller.
    let tracer = telemetry.tracer();
    let cx = Context::current_with_span(tracer.start("otel_parent"));
    let task = {
        let (cache, key) = (cache.clone(), key.clone());
        tokio::spawn(
            async move {
                cache
                    .get_or_load(&key, Some(Duration::from_secs(60)), || async {
                        Ok::<_, std::io::Error>(1u8)
                    })
                    .await
                    .unwrap()
            }
            .with_context(cx.clone()),
        )
    };
    assert_eq!(task.await.unwrap(), 1);
    let deadline = Instant::now() + WAIT;
    while cache.exists(&[&key]).await.unwrap() == 0 {
        assert!(Instant::now() < deadline, "write-back never landed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cx.span().end();
    telemetry.force_flush().await.unwrap();

    let load_profile = receiver.wait_for_span(|s| s.name == "load_profile").await;
    let otel_parent = receiver.wait_for_span(|s| s.name == "otel_parent").await;
    let set = receiver.wait_for_span(|s| s.name == "SET").await;
    let spans = receiver.spans();
    let gets: Vec<_> = spans.iter().filter(|s| s.name == "GET").collect();
    assert_eq!(gets.len(), 2, "{}", support::dump_spans(&spans));
    assert!(gets.iter().any(|g| g.is_child_of(&load_profile)));
    assert!(gets.iter().any(|g| g.is_child_of(&otel_parent)));
    assert!(
        set.is_child_of(&otel_parent),
        "{}",
        support::dump_spans(&spans)
    );
    cache.del(&[&key]).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_metrics_stop_when_the_cache_is_dropped() {
    let (receiver, telemetry) = setup(&[]).await;
    let cache = cache(&telemetry).await;
    let latest = |receiver: &Receiver| {
        receiver
            .metric("redis.memory.used")
            .first()
            .map_or(0, |p| p.time_unix_nano)
    };
    receiver.wait_for_point("redis.memory.used", |_| true).await;
    drop(cache);
    // Let an export already in flight land; then no newer point may come
    // (exports run every 200 ms, so a live poller would advance the time).
    tokio::time::sleep(Duration::from_millis(600)).await;
    let after_drop = latest(&receiver);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        latest(&receiver),
        after_drop,
        "redis.* still observed after drop"
    );
}

/// The cache feeds the in-process view: hits, misses and errors per cache
/// name, the server's state (connected, memory from INFO), and it is a
/// readiness `Check` that fails while Redis is down and passes once it is
/// back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_and_server_state_feed_the_in_process_view() {
    let mut dead = support::DeadPort::new();
    let url = format!("redis://127.0.0.1:{}", dead.port);
    let (_receiver, telemetry) = setup(&[("REDIS_URL", url.as_str())]).await;
    let cache = Cache::builder(&telemetry)
        .info_interval(Duration::from_millis(100))
        .build()
        .await
        .unwrap();
    use wingspan::health::Check as _;
    assert_eq!(cache.name(), "redis");
    assert!(cache.check().await.is_err(), "down: not ready");
    let name = support::unique("view");
    assert!(cache.get::<String>(&format!("{name}:a")).await.is_err());

    let _redis = PrivateRedis::start(dead.release());
    wait_connected(&cache, true).await;
    cache.check().await.expect("back: ready");
    cache.set(&format!("{name}:a"), "1", None).await.unwrap();
    for _ in 0..3 {
        let _: Option<String> = cache.get(&format!("{name}:a")).await.unwrap();
    }
    let _: Option<String> = cache.get(&format!("{name}:b")).await.unwrap();

    let stats = telemetry.stats().expect("on by default");
    let deadline = Instant::now() + WAIT;
    let snap = loop {
        // The current minute and the one before: the records above may
        // straddle a minute boundary.
        let snap = stats.snapshot(2);
        let polled = snap
            .cache_server
            .is_some_and(|s| s.connected && s.memory_used_bytes.is_some());
        if polled || Instant::now() > deadline {
            break snap;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let server = snap.cache_server.expect("the cache registers its gauge");
    assert!(server.connected);
    assert!(server.memory_used_bytes.unwrap_or(0) > 0, "{server:?}");
    let row = snap
        .caches
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no row {name}: {:?}", snap.caches));
    assert_eq!((row.hits, row.misses, row.errors), (3, 1, 1));
    assert_eq!(row.hit_rate, Some(0.75));
}

/// The builder takes the server's URL as every pool crate does; a URL that
/// is not Redis' fails the build, named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builder_takes_a_url() {
    let (_receiver, telemetry) = setup(&[("REDIS_URL", "redis://127.0.0.1:1")]).await;
    let cache = Cache::builder(&telemetry)
        .url(support::redis_url())
        .build()
        .await
        .unwrap();
    let key = format!("{}:url", support::unique("wsurl"));
    cache
        .set(&key, "v", Some(Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(
        cache.get::<String>(&key).await.unwrap().as_deref(),
        Some("v")
    );
    let err = Cache::builder(&telemetry)
        .url("http://127.0.0.1:6379")
        .build()
        .await
        .unwrap_err();
    assert!(matches!(err, BuildError::Config(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builder_logs_its_settings_once_without_the_password() {
    let (receiver, telemetry) = setup(&[]).await;
    // Nothing listens on port 1: the cache builds degraded, and logs first.
    let _cache = Cache::builder(&telemetry)
        .url("redis://wsuser:hunter2@127.0.0.1:1")
        .build()
        .await
        .unwrap();
    telemetry.force_flush().await.unwrap();
    let log = receiver
        .wait_for_log(|l| l.body.starts_with("Redis cache"))
        .await;
    assert!(log.body.contains("127.0.0.1:1"), "{}", log.body);
    assert!(log.body.contains("connections"), "{}", log.body);
    let all = support::dump_logs(&receiver.logs());
    assert!(!all.contains("hunter2"), "{all}");
    assert_eq!(
        receiver
            .logs()
            .iter()
            .filter(|l| l.body.starts_with("Redis cache"))
            .count(),
        1,
        "one line per cache built: {all}"
    );
}
