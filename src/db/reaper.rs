//! The pool's background tasks: the reaper (idle timeout, max lifetime,
//! dead connections, refill to the minimum) and the leak sweeper. Each holds
//! only a `Weak` to the pool and ends when the pool is gone or closed.

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::shared::Shared;

pub(crate) fn non_zero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

/// Every quarter of the shortest of idle timeout and max lifetime (30 s when
/// both are off), within 100 ms … 30 s.
pub(crate) fn period(idle_timeout: Duration, max_lifetime: Duration) -> Duration {
    let shortest = [idle_timeout, max_lifetime]
        .into_iter()
        .filter(|d| !d.is_zero())
        .min()
        .unwrap_or(Duration::from_secs(30));
    (shortest / 4).clamp(Duration::from_millis(100), Duration::from_secs(30))
}

pub(crate) fn spawn_reaper(shared: &Arc<Shared>) {
    let period = period(shared.cfg.idle_timeout, shared.cfg.max_lifetime);
    let weak = Arc::downgrade(shared);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(shared) = weak.upgrade() else { return };
            if shared.pool.is_closed() {
                return;
            }
            reap(&shared).await;
        }
    });
}

/// Closes idle connections that are dead, past `DB_MAX_LIFETIME`, or idle
/// past `DB_IDLE_TIMEOUT` (from their return) while above the minimum; then
/// refills to the minimum.
async fn reap(shared: &Shared) {
    let min = shared.cfg.min_connections;
    let idle_timeout = non_zero(shared.cfg.idle_timeout);
    let max_lifetime = non_zero(shared.cfg.max_lifetime);
    let size = shared.pool.status().size;
    let mut removable = size.saturating_sub(min);
    shared.pool.retain(|conn, _| {
        if conn.client.is_closed() {
            return false;
        }
        if max_lifetime.is_some_and(|m| conn.created.elapsed() >= m) {
            return false;
        }
        if removable > 0 && idle_timeout.is_some_and(|t| conn.returned.elapsed() >= t) {
            removable -= 1;
            return false;
        }
        true
    });
    if !shared.pool.is_closed() {
        let _ = shared.fill(min, false).await;
    }
}

/// The leak sweeper: scans every quarter of the threshold (at least every
/// 50 ms, at most every 5 s) and reports each checkout newly past it.
pub(crate) fn spawn_sweeper(shared: Weak<Shared>, threshold: Duration) {
    let period = (threshold / 4).clamp(Duration::from_millis(50), Duration::from_secs(5));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(shared) = shared.upgrade() else {
                return;
            };
            for (location, held) in shared.leaks.overdue(threshold) {
                super::leak::report(&shared.name, &shared.instruments, location, held, threshold);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_follows_the_shortest_timeout() {
        let s = Duration::from_secs;
        assert_eq!(
            period(Duration::from_millis(800), s(1800)),
            Duration::from_millis(200)
        );
        assert_eq!(
            period(Duration::ZERO, Duration::ZERO),
            Duration::from_millis(7500)
        );
        assert_eq!(
            period(Duration::from_millis(10), s(0)),
            Duration::from_millis(100)
        );
        assert_eq!(period(s(3600), s(7200)), s(30));
    }
}
