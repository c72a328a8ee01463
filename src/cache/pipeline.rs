//! A pipeline: many commands, one round trip, one `PIPELINE` span.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use fred::interfaces::ClientLike as _;
use fred::types::{ClusterHash, CustomCommand, Value};
use opentelemetry::KeyValue;

use super::call::{Call, Command};
use super::error::CacheError;
use super::instruments::{Op, Outcome};
use super::Cache;
use crate::names;

struct Queued {
    command: Cow<'static, str>,
    args: Vec<Value>,
    /// How many leading arguments are keys (shown per `WINGSPAN_REDIS_KEYS`);
    /// the rest are masked.
    keys: usize,
    /// Reads (GET, HGET) count as hit or miss like their single forms.
    counted: bool,
}

/// Commands queued for one round trip; made by [`Cache::pipeline`], sent by
/// [`Pipeline::exec`].
///
/// One span `PIPELINE` covers the round trip, with
/// `db.operation.batch.size` and every command in `db.query.text`
/// (`GET users:?; SET users:? ?`). GET and HGET inside count hits and misses
/// as their single forms do.
#[must_use = "a pipeline does nothing until `exec` is awaited"]
pub struct Pipeline {
    cache: Cache,
    queued: Vec<Queued>,
}

/// The queued command names only: keys and values can be secrets.
impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field(
                "commands",
                &self.queued.iter().map(|c| &*c.command).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Cache {
    /// Starts an empty pipeline.
    pub fn pipeline(&self) -> Pipeline {
        Pipeline {
            cache: self.clone(),
            queued: Vec::new(),
        }
    }
}

impl Pipeline {
    fn push(mut self, command: &'static str, args: Vec<Value>, keys: usize, counted: bool) -> Self {
        self.queued.push(Queued {
            command: Cow::Borrowed(command),
            args,
            keys,
            counted,
        });
        self
    }

    /// Queues `GET key`.
    pub fn get(self, key: &str) -> Self {
        self.push("GET", vec![key.into()], 1, true)
    }

    /// Queues `SET key value [PX ttl]`.
    pub fn set(self, key: &str, value: impl Into<Value>, ttl: Option<Duration>) -> Self {
        let mut args = vec![key.into(), value.into()];
        if let Some(ttl) = ttl {
            args.push("PX".into());
            args.push(
                i64::try_from(ttl.as_millis())
                    .unwrap_or(i64::MAX)
                    .max(1)
                    .into(),
            );
        }
        self.push("SET", args, 1, false)
    }

    /// Queues `DEL key`.
    pub fn del(self, key: &str) -> Self {
        self.push("DEL", vec![key.into()], 1, false)
    }

    /// Queues `INCR key`.
    pub fn incr(self, key: &str) -> Self {
        self.push("INCR", vec![key.into()], 1, false)
    }

    /// Queues `PEXPIRE key ttl`.
    pub fn expire(self, key: &str, ttl: Duration) -> Self {
        let ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1);
        self.push("PEXPIRE", vec![key.into(), ms.into()], 1, false)
    }

    /// Queues `HGET key field`.
    pub fn hget(self, key: &str, field: &str) -> Self {
        self.push("HGET", vec![key.into(), field.into()], 1, true)
    }

    /// Queues `HSET key field value`.
    pub fn hset(self, key: &str, field: &str, value: impl Into<Value>) -> Self {
        self.push(
            "HSET",
            vec![key.into(), field.into(), value.into()],
            1,
            false,
        )
    }

    /// Queues any other command; all of its arguments are masked.
    pub fn custom(mut self, command: &str, args: Vec<Value>) -> Self {
        self.queued.push(Queued {
            command: Cow::Owned(command.to_ascii_uppercase()),
            args,
            keys: 0,
            counted: false,
        });
        self
    }

    /// How many commands are queued.
    pub fn len(&self) -> usize {
        self.queued.len()
    }

    /// Whether no command is queued.
    pub fn is_empty(&self) -> bool {
        self.queued.is_empty()
    }

    /// Sends every command in one round trip. The outer error is the
    /// pipeline's (not connected, timeout); the shared ones are per command.
    pub async fn exec(self) -> Result<Vec<Result<Value, CacheError>>, CacheError> {
        let shared = &*self.cache.shared;
        let queued = self.queued;
        let mut call = Call::start(shared, Command::Typed(Op::Pipeline), |q| {
            q.pipeline(
                queued
                    .iter()
                    .map(|c| (&*c.command, c.args.as_slice(), c.keys)),
            );
        });
        if queued.len() != 1 {
            call.set_attribute(KeyValue::new(
                names::DB_OPERATION_BATCH_SIZE,
                queued.len() as i64,
            ));
        }
        let client = match shared.client() {
            Ok(c) => c,
            Err(e) => {
                count(shared, &queued, None, call.elapsed());
                call.err(&e);
                return Err(e);
            }
        };
        let pipeline = client.pipeline();
        for c in &queued {
            let cmd = match &c.command {
                Cow::Borrowed(s) => CustomCommand::new_static(s, ClusterHash::FirstKey, false),
                Cow::Owned(s) => CustomCommand::new(s.clone(), ClusterHash::FirstKey, false),
            };
            if let Err(e) = pipeline.custom::<(), Value>(cmd, c.args.clone()).await {
                let e = CacheError::from(e);
                count(shared, &queued, None, call.elapsed());
                call.err(&e);
                return Err(e);
            }
        }
        // `pipeline()` on the fail-fast client handle builds a plain
        // `Pipeline<Client>`, which loses the per-command options: bound the
        // round trip here so an outage costs the command timeout, not fred's
        // reconnect queue.
        let replies: Vec<Result<Value, CacheError>> =
            match tokio::time::timeout(shared.command_timeout, pipeline.try_all::<Value>()).await {
                Ok(replies) => replies
                    .into_iter()
                    .map(|r| r.map_err(CacheError::from))
                    .collect(),
                Err(_) => queued.iter().map(|_| Err(CacheError::Timeout)).collect(),
            };
        count(shared, &queued, Some(&replies), call.elapsed());
        // A pipeline-wide failure (timeout, connection lost) answers every
        // command with the same error; a failing command alone does not fail
        // the span.
        match replies.first() {
            Some(Err(e)) if replies.iter().all(|r| r.is_err()) => {
                let e = clone_error(e);
                call.err(&e);
            }
            _ => call.ok(None),
        }
        Ok(replies)
    }
}

fn clone_error(e: &CacheError) -> CacheError {
    match e {
        CacheError::NotConnected => CacheError::NotConnected,
        CacheError::Timeout => CacheError::Timeout,
        CacheError::Server { code } => CacheError::Server { code: code.clone() },
        CacheError::Client { kind } => CacheError::Client { kind },
        other => CacheError::Parse(other.to_string()),
    }
}

fn count(
    shared: &super::Shared,
    queued: &[Queued],
    replies: Option<&[Result<Value, CacheError>]>,
    elapsed: std::time::Duration,
) {
    for (i, c) in queued.iter().enumerate() {
        if !c.counted {
            continue;
        }
        let Some(key) = c.args.first().and_then(|k| k.as_str()) else {
            continue;
        };
        let outcome = match replies.and_then(|r| r.get(i)) {
            Some(Ok(v)) if v.is_null() => Outcome::Miss,
            Some(Ok(_)) => Outcome::Hit,
            _ => Outcome::Error,
        };
        shared
            .instruments
            .count(shared.cache_name(&key), outcome, 1, elapsed);
    }
}
