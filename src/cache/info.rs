//! Server-side metrics from `INFO`, polled by one background task off the
//! request path, named and typed as the collector's redis receiver does.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use fred::clients::{Client, WithOptions};
use fred::interfaces::ClientLike as _;
use fred::types::{ClusterHash, CustomCommand, Value};
use opentelemetry::metrics::Meter;
use opentelemetry::KeyValue;

use crate::names;

/// What one `INFO` reply says; `None` when a field is absent.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Snapshot {
    pub(crate) used_memory: Option<i64>,
    pub(crate) connected_clients: Option<i64>,
    pub(crate) keyspace_hits: Option<u64>,
    pub(crate) keyspace_misses: Option<u64>,
    pub(crate) expired_keys: Option<u64>,
    pub(crate) evicted_keys: Option<u64>,
    /// `(db index, keys, expires, avg_ttl ms)`.
    pub(crate) dbs: Vec<(String, i64, i64, i64)>,
}

/// Parses the text of `INFO` (any sections; unknown lines are skipped).
pub(crate) fn parse(text: &str) -> Snapshot {
    let mut s = Snapshot::default();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        match name {
            "used_memory" => s.used_memory = value.parse().ok(),
            "connected_clients" => s.connected_clients = value.parse().ok(),
            "keyspace_hits" => s.keyspace_hits = value.parse().ok(),
            "keyspace_misses" => s.keyspace_misses = value.parse().ok(),
            "expired_keys" => s.expired_keys = value.parse().ok(),
            "evicted_keys" => s.evicted_keys = value.parse().ok(),
            _ => {
                if let Some(index) = name.strip_prefix("db") {
                    if index.bytes().all(|b| b.is_ascii_digit()) && !index.is_empty() {
                        s.dbs.push(parse_db(index, value));
                    }
                }
            }
        }
    }
    s
}

fn parse_db(index: &str, value: &str) -> (String, i64, i64, i64) {
    let (mut keys, mut expires, mut avg_ttl) = (0, 0, 0);
    for part in value.split(',') {
        if let Some((k, v)) = part.split_once('=') {
            let v = v.parse().unwrap_or(0);
            match k {
                "keys" => keys = v,
                "expires" => expires = v,
                "avg_ttl" => avg_ttl = v,
                _ => {}
            }
        }
    }
    (index.to_owned(), keys, expires, avg_ttl)
}

pub(crate) type Latest = Arc<Mutex<Option<Snapshot>>>;

/// Registers the observable instruments; their callbacks read the latest
/// snapshot and stop observing once the cache (which owns it) is dropped.
pub(crate) fn register(meter: &Meter, latest: &Latest) {
    register_clients_and_memory(meter, latest);
    register_keyspace(meter, latest);
    register_counters(meter, latest);
}

/// Runs `f` on the latest snapshot, if the cache still lives and a poll has
/// succeeded.
fn with(weak: &Weak<Mutex<Option<Snapshot>>>, f: impl FnOnce(&Snapshot)) {
    if let Some(latest) = weak.upgrade() {
        if let Some(s) = latest.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            f(s);
        }
    }
}

fn register_clients_and_memory(meter: &Meter, latest: &Latest) {
    let w = Arc::downgrade(latest);
    meter
        .i64_observable_gauge(names::REDIS_MEMORY_USED)
        .with_unit("By")
        .with_description("Total number of bytes allocated by Redis using its allocator")
        .with_callback(move |o| {
            with(&w, |s| {
                s.used_memory.into_iter().for_each(|v| o.observe(v, &[]))
            })
        })
        .build();
    let w = Arc::downgrade(latest);
    meter
        .i64_observable_up_down_counter(names::REDIS_CLIENTS_CONNECTED)
        .with_unit("{client}")
        .with_description("Number of client connections (excluding connections from replicas)")
        .with_callback(move |o| {
            with(&w, |s| {
                s.connected_clients
                    .into_iter()
                    .for_each(|v| o.observe(v, &[]))
            })
        })
        .build();
}

/// The per-database gauges, the database as `db.namespace` (the receiver's
/// bare `db` would collide with the conventions' `db.*` namespace).
fn register_keyspace(meter: &Meter, latest: &Latest) {
    type Pick = fn(&(String, i64, i64, i64)) -> i64;
    for (name, unit, description, pick) in [
        (
            names::REDIS_DB_KEYS,
            "{key}",
            "Number of keyspace keys",
            (|d| d.1) as Pick,
        ),
        (
            names::REDIS_DB_EXPIRES,
            "{key}",
            "Number of keyspace keys with an expiration",
            |d| d.2,
        ),
        (
            names::REDIS_DB_AVG_TTL,
            "ms",
            "Average keyspace keys TTL",
            |d| d.3,
        ),
    ] {
        let w = Arc::downgrade(latest);
        meter
            .i64_observable_gauge(name)
            .with_unit(unit)
            .with_description(description)
            .with_callback(move |o| {
                with(&w, |s| {
                    for db in &s.dbs {
                        o.observe(pick(db), &[KeyValue::new(names::REDIS_DB, db.0.clone())]);
                    }
                })
            })
            .build();
    }
}

/// The server's cumulative counters.
fn register_counters(meter: &Meter, latest: &Latest) {
    type PickU = fn(&Snapshot) -> Option<u64>;
    for (name, unit, description, pick) in [
        (
            names::REDIS_KEYSPACE_HITS,
            "{hit}",
            "Number of successful lookup of keys in the main dictionary",
            (|s| s.keyspace_hits) as PickU,
        ),
        (
            names::REDIS_KEYSPACE_MISSES,
            "{miss}",
            "Number of failed lookup of keys in the main dictionary",
            |s| s.keyspace_misses,
        ),
        (
            names::REDIS_KEYS_EXPIRED,
            "{event}",
            "Total number of key expiration events",
            |s| s.expired_keys,
        ),
        (
            names::REDIS_KEYS_EVICTED,
            "{key}",
            "Number of evicted keys due to maxmemory limit",
            |s| s.evicted_keys,
        ),
    ] {
        let w = Arc::downgrade(latest);
        meter
            .u64_observable_counter(name)
            .with_unit(unit)
            .with_description(description)
            .with_callback(move |o| {
                with(&w, |s| pick(s).into_iter().for_each(|v| o.observe(v, &[])))
            })
            .build();
    }
}

/// Polls `INFO` every `interval` until aborted; a failed poll keeps the last
/// snapshot, a disconnected client is skipped without waiting.
pub(crate) async fn poll(clients: Vec<WithOptions<Client>>, latest: Latest, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(client) = clients.iter().find(|c| c.is_connected()) else {
            continue;
        };
        let reply = client
            .custom::<Value, Value>(
                CustomCommand::new_static("INFO", ClusterHash::Random, false),
                vec![],
            )
            .await;
        if let Ok(Some(text)) = reply.map(|v| v.into_string()) {
            *latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(parse(&text));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_sections_we_use() {
        let text = "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\n\
                    # Clients\r\nconnected_clients:3\r\n\
                    # Stats\r\nkeyspace_hits:10\r\nkeyspace_misses:4\r\nexpired_keys:2\r\nevicted_keys:0\r\n\
                    # Keyspace\r\ndb0:keys=12,expires=3,avg_ttl=5000\r\ndb2:keys=1,expires=0,avg_ttl=0,subexpiry=0\r\n";
        let s = parse(text);
        assert_eq!(s.used_memory, Some(1048576));
        assert_eq!(s.connected_clients, Some(3));
        assert_eq!(s.keyspace_hits, Some(10));
        assert_eq!(s.keyspace_misses, Some(4));
        assert_eq!(s.expired_keys, Some(2));
        assert_eq!(s.evicted_keys, Some(0));
        assert_eq!(
            s.dbs,
            vec![("0".to_owned(), 12, 3, 5000), ("2".to_owned(), 1, 0, 0)]
        );
    }

    #[test]
    fn garbage_is_skipped() {
        let s = parse("dbx:keys=1\nused_memory:lots\n:::\n");
        assert_eq!(s, Snapshot::default());
    }
}
