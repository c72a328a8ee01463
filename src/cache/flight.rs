//! Read-through with in-process single-flight: concurrent misses of one key
//! share one loader call.
//!
//! The first caller to miss leads and runs its loader; the others wait on a
//! `watch` channel. If the leader finishes, everyone gets a clone of its
//! value. If the leader is cancelled, panics or its loader fails, its guard
//! marks the flight abandoned on drop and one follower leads with its own
//! loader, so no one waits longer than a loader takes.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::context::FutureExt as _;
use opentelemetry::Context;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::watch;

use super::Cache;

type Shared = Arc<dyn Any + Send + Sync>;

#[derive(Clone)]
enum State {
    Running,
    Done(Shared),
    Abandoned,
}

struct Flight {
    tx: watch::Sender<State>,
}

/// The flights in progress, by key.
#[derive(Default)]
pub(crate) struct Flights {
    map: Mutex<HashMap<String, Arc<Flight>>>,
}

enum Join<'a> {
    Leader(Leader<'a>),
    Follower(watch::Receiver<State>),
}

struct Leader<'a> {
    flights: &'a Flights,
    key: String,
    flight: Arc<Flight>,
    done: bool,
}

impl Flights {
    fn join(&self, key: &str) -> Join<'_> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(flight) = map.get(key) {
            return Join::Follower(flight.tx.subscribe());
        }
        let flight = Arc::new(Flight {
            tx: watch::Sender::new(State::Running),
        });
        map.insert(key.to_owned(), Arc::clone(&flight));
        Join::Leader(Leader {
            flights: self,
            key: key.to_owned(),
            flight,
            done: false,
        })
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }
}

impl Leader<'_> {
    fn remove(&self) {
        let mut map = self.flights.map.lock().unwrap_or_else(|p| p.into_inner());
        if map
            .get(&self.key)
            .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
        {
            map.remove(&self.key);
        }
    }

    fn complete(mut self, value: Shared) {
        self.done = true;
        self.remove();
        self.flight.tx.send_replace(State::Done(value));
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.remove();
            self.flight.tx.send_replace(State::Abandoned);
        }
    }
}

impl Cache {
    /// Reads `key` as JSON; on a miss (or when Redis is down or slow) calls
    /// `loader`, returns its value and writes it back with `ttl`
    /// (fire-and-forget: the caller never waits for the SET).
    ///
    /// Concurrent misses of one key in this process share one loader call.
    /// The cache never fails the call: a cache failure is counted as an
    /// `error` read and the loader answers, within the command timeout of
    /// the GET. Only the loader's own error is returned.
    pub async fn get_or_load<V, E, F, Fut>(
        &self,
        key: &str,
        ttl: Option<Duration>,
        loader: F,
    ) -> Result<V, E>
    where
        V: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        // fred bounds the GET already; this backstop only guards against a
        // command stuck somewhere fred's timeout does not reach.
        let backstop = self.inner.command_timeout * 2 + Duration::from_millis(50);
        if let Ok(Ok(Some(text))) = tokio::time::timeout(backstop, self.get::<String>(key)).await {
            if let Ok(value) = serde_json::from_str::<V>(&text) {
                return Ok(value);
            }
        }

        let leader = loop {
            match self.inner.flights.join(key) {
                Join::Leader(leader) => break Some(leader),
                Join::Follower(mut rx) => {
                    let state = rx
                        .wait_for(|s| !matches!(s, State::Running))
                        .await
                        .map(|s| s.clone());
                    match state {
                        Ok(State::Done(shared)) => match shared.downcast_ref::<V>() {
                            Some(value) => return Ok(value.clone()),
                            // Another call site loads this key as another
                            // type: load alone rather than share.
                            None => break None,
                        },
                        // Abandoned (leader cancelled, panicked or failed):
                        // try to lead.
                        _ => continue,
                    }
                }
            }
        };

        let value = loader().await?;
        if let Some(leader) = leader {
            leader.complete(Arc::new(value.clone()));
        }
        self.write_back(key, &value, ttl);
        Ok(value)
    }

    fn write_back<V: Serialize>(&self, key: &str, value: &V, ttl: Option<Duration>) {
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
            }
            .with_context(Context::current()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn abandoned_leader_hands_over() {
        let flights = Flights::default();
        let Join::Leader(leader) = flights.join("k") else {
            panic!("first caller leads")
        };
        let Join::Follower(mut rx) = flights.join("k") else {
            panic!("second caller follows")
        };
        drop(leader);
        let state = rx.wait_for(|s| !matches!(s, State::Running)).await.unwrap();
        assert!(matches!(*state, State::Abandoned));
        assert_eq!(flights.len(), 0);
        assert!(matches!(flights.join("k"), Join::Leader(_)));
    }

    #[tokio::test]
    async fn completed_leader_shares_its_value() {
        let flights = Flights::default();
        let Join::Leader(leader) = flights.join("k") else {
            panic!("first caller leads")
        };
        let Join::Follower(mut rx) = flights.join("k") else {
            panic!("second caller follows")
        };
        leader.complete(Arc::new(7u32));
        let state = rx.wait_for(|s| !matches!(s, State::Running)).await.unwrap();
        match &*state {
            State::Done(v) => assert_eq!(v.downcast_ref::<u32>(), Some(&7)),
            _ => panic!("not done"),
        }
        assert_eq!(flights.len(), 0);
    }
}
