//! Read-through with in-process single-flight: concurrent calls for one key
//! share one GET and at most one loader call.
//!
//! The first caller registers a flight for the key and leads: it reads Redis
//! and, on a miss, runs its loader. Callers arriving meanwhile follow: they
//! wait on a `watch` channel for the leader's outcome, value or error (as Go's
//! `singleflight` shares both), so nobody waits longer than one GET plus one
//! loader. A loaded value stays registered until its write-back SET has
//! landed, so a caller arriving in between takes it from memory instead of
//! missing Redis and loading again. A leader that is cancelled or panics
//! marks the flight abandoned on drop, and one follower leads in its place.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use opentelemetry::context::FutureExt as _;
use opentelemetry::Context;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::watch;

use super::Cache;

/// A value (`Arc<V>`) or an error (`Arc<E>`) of the caller's own types.
type AnyArc = Arc<dyn Any + Send + Sync>;

#[derive(Clone)]
enum State {
    /// The leader is reading Redis or running its loader.
    Running,
    /// The leader's value.
    Loaded(AnyArc),
    /// The leader's loader failed with this error.
    Failed(AnyArc),
    /// The leader was cancelled or panicked.
    Abandoned,
}

struct Flight {
    tx: watch::Sender<State>,
}

type Map = HashMap<Arc<str>, Arc<Flight>>;

/// The flights in progress, by key. Cheap to clone: a leader keeps a clone
/// to deregister itself, from the write-back task if need be.
#[derive(Clone, Default)]
pub(crate) struct Flights {
    map: Arc<Mutex<Map>>,
}

enum Join {
    Leader(Leader),
    Follower(watch::Receiver<State>),
}

/// A leader's registration; dropping it deregisters the flight (and marks it
/// abandoned unless an outcome was published).
struct Leader {
    flights: Flights,
    key: Arc<str>,
    flight: Arc<Flight>,
    settled: bool,
}

/// What a follower took from the flight it waited on.
enum Followed<V, E> {
    Value(V),
    Error(Arc<E>),
    /// The leader gave up: try to lead.
    Retry,
    /// The leader loads this key as another type: load without a flight.
    Alone,
}

impl Flights {
    fn lock(&self) -> MutexGuard<'_, Map> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn join(&self, key: &str) -> Join {
        let mut map = self.lock();
        if let Some(flight) = map.get(key) {
            return Join::Follower(flight.tx.subscribe());
        }
        let key: Arc<str> = Arc::from(key);
        let flight = Arc::new(Flight {
            tx: watch::Sender::new(State::Running),
        });
        map.insert(Arc::clone(&key), Arc::clone(&flight));
        Join::Leader(Leader {
            flights: self.clone(),
            key,
            flight,
            settled: false,
        })
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

impl Leader {
    fn deregister(&self, map: &mut Map) {
        if map
            .get(&self.key)
            .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
        {
            map.remove(&self.key);
        }
    }

    /// Shares the value with the followers; the flight stays registered
    /// until the leader is dropped (after the write-back).
    fn loaded(&mut self, value: AnyArc) {
        self.settled = true;
        self.flight.tx.send_replace(State::Loaded(value));
    }

    /// Ends a flight whose value was already in Redis. The value is shared
    /// (and `value` called) only when someone is waiting: a lone hit, the
    /// common case, costs no clone.
    fn hit(mut self, value: impl FnOnce() -> AnyArc) {
        let mut map = self.flights.lock();
        // Followers subscribe under this lock: once the flight is out of the
        // map, the count cannot grow behind our back.
        self.deregister(&mut map);
        if self.flight.tx.receiver_count() > 0 {
            self.flight.tx.send_replace(State::Loaded(value()));
        }
        self.settled = true;
    }

    /// Shares the loader's error with the followers and deregisters.
    fn failed(mut self, error: AnyArc) {
        self.settled = true;
        self.flight.tx.send_replace(State::Failed(error));
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        self.deregister(&mut self.flights.lock());
        // After the removal, so that a woken follower that retries finds no
        // stale flight and leads.
        if !self.settled {
            self.flight.tx.send_replace(State::Abandoned);
        }
    }
}

/// Waits for the leader's outcome.
async fn follow<V, E>(mut rx: watch::Receiver<State>) -> Followed<V, E>
where
    V: Clone + 'static,
    E: Send + Sync + 'static,
{
    let state = rx
        .wait_for(|s| !matches!(s, State::Running))
        .await
        .map(|s| s.clone());
    match state {
        Ok(State::Loaded(value)) => match value.downcast_ref::<V>() {
            Some(v) => Followed::Value(v.clone()),
            None => Followed::Alone,
        },
        Ok(State::Failed(error)) => match error.downcast::<E>() {
            Ok(e) => Followed::Error(e),
            Err(_) => Followed::Alone,
        },
        Ok(State::Running | State::Abandoned) | Err(_) => Followed::Retry,
    }
}

impl Cache {
    /// Reads `key` as JSON; on a miss (or when Redis is down or slow) calls
    /// `loader`, returns its value and writes it back with `ttl`
    /// (fire-and-forget: the caller never waits for the SET).
    ///
    /// Concurrent calls for one key in this process share one GET and at
    /// most one loader call: the first caller leads, the others wait for
    /// its outcome, so nobody waits longer than one command timeout plus one
    /// loader. Waiting callers send no command of their own (no span, not
    /// counted in `wingspan.cache.requests`). If the leader is cancelled or
    /// panics, one waiting caller leads with its own loader.
    ///
    /// The cache never fails the call: a cache failure is counted as an
    /// `error` read and the loader answers, within the command timeout of
    /// the GET. Only the loader's error is returned, as an `Arc<E>`: when the
    /// leader's loader fails, every caller that waited on it gets that same
    /// error (one failure, not one loader call per caller in a row, during
    /// an outage). `&*err` is your `E`; [`Arc::try_unwrap`] gives it back
    /// when no other caller still holds it.
    ///
    /// Callers of one key must agree on `V` and `E` to share: a caller with
    /// other types than the leader's reads and loads on its own.
    pub async fn get_or_load<V, E, F, Fut>(
        &self,
        key: &str,
        ttl: Option<Duration>,
        loader: F,
    ) -> Result<V, Arc<E>>
    where
        V: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        E: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let mut leader = loop {
            match self.shared.flights.join(key) {
                Join::Leader(leader) => break Some(leader),
                Join::Follower(rx) => match follow::<V, E>(rx).await {
                    Followed::Value(v) => return Ok(v),
                    Followed::Error(e) => return Err(e),
                    Followed::Retry => continue,
                    Followed::Alone => break None,
                },
            }
        };

        if let Some(value) = self.read_json::<V>(key).await {
            if let Some(leader) = leader {
                leader.hit(|| Arc::new(value.clone()));
            }
            return Ok(value);
        }
        match loader().await {
            Ok(value) => {
                if let Some(leader) = &mut leader {
                    leader.loaded(Arc::new(value.clone()));
                }
                self.write_back(key, &value, ttl, leader);
                Ok(value)
            }
            Err(error) => {
                let error = Arc::new(error);
                if let Some(leader) = leader {
                    leader.failed(error.clone());
                }
                Err(error)
            }
        }
    }

    /// The value of `key` as JSON `V`; `None` on a miss, a value that no
    /// longer deserializes as `V`, or any cache failure.
    async fn read_json<V: DeserializeOwned>(&self, key: &str) -> Option<V> {
        // fred bounds the GET already; this backstop only guards against a
        // command stuck somewhere fred's timeout does not reach.
        let backstop = self.shared.command_timeout * 2 + Duration::from_millis(50);
        match tokio::time::timeout(backstop, self.get::<String>(key)).await {
            Ok(Ok(Some(text))) => serde_json::from_str(&text).ok(),
            _ => None,
        }
    }

    /// Spawns the SET of a loaded value; the flight (if this call led one)
    /// stays registered until the SET has landed.
    fn write_back<V: Serialize>(
        &self,
        key: &str,
        value: &V,
        ttl: Option<Duration>,
        flight: Option<Leader>,
    ) {
        let Ok(json) = serde_json::to_string(value) else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let cache = self.clone();
        let key = key.to_owned();
        runtime.spawn(
            async move {
                let _ = cache.set(&key, json, ttl).await;
                drop(flight);
            }
            .with_context(Context::current()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(flights: &Flights) -> Leader {
        match flights.join("k") {
            Join::Leader(leader) => leader,
            Join::Follower(_) => panic!("first caller leads"),
        }
    }

    fn follow_rx(flights: &Flights) -> watch::Receiver<State> {
        match flights.join("k") {
            Join::Follower(rx) => rx,
            Join::Leader(_) => panic!("second caller follows"),
        }
    }

    #[tokio::test]
    async fn abandoned_leader_hands_over() {
        let flights = Flights::default();
        let leader = lead(&flights);
        let rx = follow_rx(&flights);
        drop(leader);
        assert!(matches!(follow::<u32, ()>(rx).await, Followed::Retry));
        assert_eq!(flights.len(), 0);
        assert!(matches!(flights.join("k"), Join::Leader(_)));
    }

    #[tokio::test]
    async fn a_loaded_value_is_shared_until_the_leader_is_dropped() {
        let flights = Flights::default();
        let mut leader = lead(&flights);
        let rx = follow_rx(&flights);
        leader.loaded(Arc::new(7u32));
        assert!(matches!(follow::<u32, ()>(rx).await, Followed::Value(7)));
        // The write-back has not landed: a late caller still takes the value.
        let late = follow_rx(&flights);
        assert!(matches!(follow::<u32, ()>(late).await, Followed::Value(7)));
        drop(leader);
        assert_eq!(flights.len(), 0);
    }

    #[tokio::test]
    async fn a_failure_is_shared_as_the_same_error() {
        let flights = Flights::default();
        let leader = lead(&flights);
        let (a, b) = (follow_rx(&flights), follow_rx(&flights));
        let error = Arc::new(std::io::Error::other("down"));
        leader.failed(error.clone());
        for rx in [a, b] {
            match follow::<u32, std::io::Error>(rx).await {
                Followed::Error(e) => assert!(Arc::ptr_eq(&e, &error)),
                _ => panic!("not the leader's error"),
            }
        }
        assert_eq!(flights.len(), 0);
    }

    #[tokio::test]
    async fn other_types_load_alone() {
        let flights = Flights::default();
        let mut leader = lead(&flights);
        let rx = follow_rx(&flights);
        leader.loaded(Arc::new(7u32));
        assert!(matches!(follow::<String, ()>(rx).await, Followed::Alone));
        let leader = lead(&Flights::default());
        let rx = follow_rx(&leader.flights);
        leader.failed(Arc::new(std::io::Error::other("down")));
        assert!(matches!(follow::<u32, String>(rx).await, Followed::Alone));
    }

    #[tokio::test]
    async fn a_lone_hit_shares_nothing() {
        let flights = Flights::default();
        let leader = lead(&flights);
        let mut built = false;
        leader.hit(|| {
            built = true;
            Arc::new(1u32)
        });
        assert!(!built, "no follower: no clone");
        assert_eq!(flights.len(), 0);
    }
}
