//! The typed operations. Each is one CLIENT span and one duration; reads
//! also count `wingspan.cache.requests`.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use fred::clients::{Client, WithOptions};
use fred::interfaces::{ClientLike as _, HashesInterface as _, KeysInterface as _};
use fred::types::{ClusterHash, CustomCommand, Expiration, FromValue, Value};

use super::call::{Call, Command};
use super::error::CacheError;
use super::instruments::{Op, Outcome};
use super::query::CommandText;
use super::{Cache, Shared};

/// Starts the span of a command over `keys` (DEL, MGET, EXISTS).
fn keys_call<'s>(shared: &'s Shared, op: Op, keys: &[&str]) -> Call<'s> {
    Call::start(shared, Command::Typed(op), |q| {
        q.keys(keys.iter().copied(), 0);
    })
}

/// `first` (a key), then each pair's name and value: the arguments of MSET
/// and HSET.
fn pair_args<V: Into<Value> + Clone>(first: Option<&str>, pairs: &[(&str, V)]) -> Vec<Value> {
    let mut args = Vec::with_capacity(usize::from(first.is_some()) + pairs.len() * 2);
    args.extend(first.map(Value::from));
    for (name, value) in pairs {
        args.push(Value::from(*name));
        args.push(value.clone().into());
    }
    args
}

fn convert<V: FromValue>(value: Value) -> Result<V, CacheError> {
    V::from_value(value).map_err(CacheError::from)
}

/// The end of a single-key read (GET, HGET): counts a hit or a miss (or an
/// error), and records on the span a reply that does not convert to `V` as
/// a `parse` failure.
fn read_reply<V: FromValue>(
    shared: &Shared,
    call: Call<'_>,
    name: &str,
    reply: Result<Value, CacheError>,
) -> Result<Option<V>, CacheError> {
    match reply {
        Ok(value) => {
            let hit = !value.is_null();
            let outcome = if hit { Outcome::Hit } else { Outcome::Miss };
            shared.instruments.count(name, outcome, 1, call.elapsed());
            if !hit {
                call.ok(Some(false));
                return Ok(None);
            }
            match convert(value) {
                Ok(v) => {
                    call.ok(Some(true));
                    Ok(Some(v))
                }
                Err(e) => {
                    call.err(&e);
                    Err(e)
                }
            }
        }
        Err(e) => {
            shared
                .instruments
                .count(name, Outcome::Error, 1, call.elapsed());
            call.err(&e);
            Err(e)
        }
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

impl Cache {
    /// `GET key`. `Ok(None)` is a miss. Counted: hit, miss or error.
    pub async fn get<V: FromValue>(&self, key: &str) -> Result<Option<V>, CacheError> {
        let shared = &*self.shared;
        let call = Call::start(shared, Command::Typed(Op::Get), |q| {
            q.key(key);
        });
        let name = shared.cache_name(key);
        let reply = shared.send(|c| c.get::<Value, _>(key)).await;
        read_reply(shared, call, name, reply)
    }

    /// `SET key value [PX ttl]`. Not counted.
    pub async fn set(
        &self,
        key: &str,
        value: impl Into<Value>,
        ttl: Option<Duration>,
    ) -> Result<(), CacheError> {
        let value = value.into();
        self.command(
            Op::Set,
            |q| {
                q.key(key).value();
                if ttl.is_some() {
                    q.token("PX").value();
                }
            },
            |c| {
                c.set::<Value, _, _>(
                    key,
                    value,
                    ttl.map(|t| Expiration::PX(millis(t))),
                    None,
                    false,
                )
            },
        )
        .await
        .map(drop)
    }

    /// `DEL key [key ...]`: the number of keys removed. Not counted.
    pub async fn del(&self, keys: &[&str]) -> Result<u64, CacheError> {
        self.command(
            Op::Del,
            |q| {
                q.keys(keys.iter().copied(), 0);
            },
            |c| c.del::<u64, _>(keys.to_vec()),
        )
        .await
    }

    /// `MGET key [key ...]`: one entry per key, `None` for a miss. Each key
    /// counts as one hit, miss or error; `wingspan.cache.hit` is true when
    /// every key hit.
    pub async fn mget<V: FromValue>(&self, keys: &[&str]) -> Result<Vec<Option<V>>, CacheError> {
        let shared = &*self.shared;
        let call = keys_call(shared, Op::MGet, keys);
        let reply = shared
            .send(|c| c.mget::<Vec<Value>, _>(keys.to_vec()))
            .await;
        match reply {
            Ok(values) => {
                let mut all_hit = true;
                for (key, value) in keys.iter().zip(&values) {
                    let hit = !value.is_null();
                    all_hit &= hit;
                    let outcome = if hit { Outcome::Hit } else { Outcome::Miss };
                    shared
                        .instruments
                        .count(shared.cache_name(key), outcome, 1, call.elapsed());
                }
                call.ok(Some(all_hit && !keys.is_empty()));
                values
                    .into_iter()
                    .map(|v| {
                        if v.is_null() {
                            Ok(None)
                        } else {
                            convert(v).map(Some)
                        }
                    })
                    .collect()
            }
            Err(e) => {
                for key in keys {
                    shared.instruments.count(
                        shared.cache_name(key),
                        Outcome::Error,
                        1,
                        call.elapsed(),
                    );
                }
                call.err(&e);
                Err(e)
            }
        }
    }

    /// `MSET key value [key value ...]`. Not counted.
    pub async fn mset<V: Into<Value> + Clone>(
        &self,
        pairs: &[(&str, V)],
    ) -> Result<(), CacheError> {
        // The arguments are built only when a connection is up.
        self.command(
            Op::MSet,
            |q| {
                q.keys(pairs.iter().map(|(k, _)| *k), 1);
            },
            |c| {
                c.custom::<Value, Value>(
                    CustomCommand::new_static("MSET", ClusterHash::FirstKey, false),
                    pair_args(None, pairs),
                )
            },
        )
        .await
        .map(drop)
    }

    /// `EXISTS key [key ...]`: how many of the keys exist. Not counted.
    pub async fn exists(&self, keys: &[&str]) -> Result<u64, CacheError> {
        self.command(
            Op::Exists,
            |q| {
                q.keys(keys.iter().copied(), 0);
            },
            |c| c.exists::<u64, _>(keys.to_vec()),
        )
        .await
    }

    /// `PEXPIRE key ttl` (span `EXPIRE`): false when the key does not exist.
    pub async fn expire(&self, key: &str, ttl: Duration) -> Result<bool, CacheError> {
        self.command(
            Op::Expire,
            |q| {
                q.key(key).value();
            },
            |c| {
                c.custom::<bool, Value>(
                    CustomCommand::new_static("PEXPIRE", ClusterHash::FirstKey, false),
                    vec![Value::from(key), Value::from(millis(ttl))],
                )
            },
        )
        .await
    }

    /// `TTL key` in seconds, as Redis answers it: -2 when the key does not
    /// exist, -1 when it has no expiry. Not counted.
    pub async fn ttl(&self, key: &str) -> Result<i64, CacheError> {
        self.command(
            Op::Ttl,
            |q| {
                q.key(key);
            },
            |c| c.ttl::<i64, _>(key),
        )
        .await
    }

    /// `INCR key`: the new value. Not counted.
    pub async fn incr(&self, key: &str) -> Result<i64, CacheError> {
        self.command(
            Op::Incr,
            |q| {
                q.key(key);
            },
            |c| c.incr::<i64, _>(key),
        )
        .await
    }

    /// `INCRBY key delta`: the new value. Not counted.
    pub async fn incr_by(&self, key: &str, delta: i64) -> Result<i64, CacheError> {
        self.command(
            Op::IncrBy,
            |q| {
                q.key(key).value();
            },
            |c| c.incr_by::<i64, _>(key, delta),
        )
        .await
    }

    /// `HGET key field`. `Ok(None)` is a miss. Counted.
    pub async fn hget<V: FromValue>(
        &self,
        key: &str,
        field: &str,
    ) -> Result<Option<V>, CacheError> {
        let shared = &*self.shared;
        let call = Call::start(shared, Command::Typed(Op::HGet), |q| {
            q.key(key).field(field);
        });
        let name = shared.cache_name(key);
        let reply = shared.send(|c| c.hget::<Value, _, _>(key, field)).await;
        read_reply(shared, call, name, reply)
    }

    /// `HSET key field value [field value ...]`: the number of fields added.
    /// Not counted.
    pub async fn hset<V: Into<Value> + Clone>(
        &self,
        key: &str,
        fields: &[(&str, V)],
    ) -> Result<u64, CacheError> {
        self.command(
            Op::HSet,
            |q| {
                q.key(key);
                for (f, _) in fields {
                    q.field(f).value();
                }
            },
            |c| {
                c.custom::<u64, Value>(
                    CustomCommand::new_static("HSET", ClusterHash::FirstKey, false),
                    pair_args(Some(key), fields),
                )
            },
        )
        .await
    }

    /// `HGETALL key`. An empty hash counts as a miss.
    pub async fn hgetall<V: FromValue>(&self, key: &str) -> Result<HashMap<String, V>, CacheError> {
        let shared = &*self.shared;
        let call = Call::start(shared, Command::Typed(Op::HGetAll), |q| {
            q.key(key);
        });
        let name = shared.cache_name(key);
        let reply = shared
            .send(|c| c.hgetall::<HashMap<String, V>, _>(key))
            .await;
        match reply {
            Ok(map) => {
                let hit = !map.is_empty();
                shared.instruments.count(
                    name,
                    if hit { Outcome::Hit } else { Outcome::Miss },
                    1,
                    call.elapsed(),
                );
                call.ok(Some(hit));
                Ok(map)
            }
            Err(e) => {
                shared
                    .instruments
                    .count(name, Outcome::Error, 1, call.elapsed());
                call.err(&e);
                Err(e)
            }
        }
    }

    /// Any other command, e.g. `cache.custom("ZADD", vec![...])`. The span
    /// is named by the command; every argument is masked in `db.query.text`.
    /// Not counted.
    pub async fn custom(&self, command: &str, args: Vec<Value>) -> Result<Value, CacheError> {
        let name = command.to_ascii_uppercase();
        let shared = &*self.shared;
        let call = Call::start(shared, Command::Other(name.clone()), |q| {
            for _ in &args {
                q.value();
            }
        });
        let reply = shared
            .send(|c| {
                c.custom::<Value, Value>(
                    CustomCommand::new(name, ClusterHash::FirstKey, false),
                    args,
                )
            })
            .await;
        finish(call, reply)
    }

    /// A command that is not a read (not counted in
    /// `wingspan.cache.requests`): its span over `text`, sent with
    /// `command`.
    async fn command<'a, T, Fut>(
        &'a self,
        op: Op,
        text: impl FnOnce(&mut CommandText),
        command: impl FnOnce(&'a WithOptions<Client>) -> Fut,
    ) -> Result<T, CacheError>
    where
        Fut: Future<Output = Result<T, fred::error::Error>>,
    {
        let shared = &*self.shared;
        let call = Call::start(shared, Command::Typed(op), text);
        finish(call, shared.send(command).await)
    }
}

fn finish<T>(call: Call<'_>, reply: Result<T, CacheError>) -> Result<T, CacheError> {
    match reply {
        Ok(v) => {
            call.ok(None);
            Ok(v)
        }
        Err(e) => {
            call.err(&e);
            Err(e)
        }
    }
}
