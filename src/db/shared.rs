//! [`Shared`]: the state a pool's clones, clients, transactions and
//! background tasks share, and the ways they borrow from deadpool.

use std::borrow::Cow;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{PoolError, TimeoutType, Timeouts};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SdkTracer;

use super::instruments::{Instruments, PoolState};
use super::leak::Registry;
use super::manager::{DeadPool, Object};
use super::meta::Meta;
use super::sanitize::StatementCache;
use super::{DbError, PoolStatus};
use crate::config::DbConfig;

pub(crate) struct Shared {
    pub(crate) pool: DeadPool,
    pub(crate) name: String,
    pub(crate) cfg: DbConfig,
    pub(crate) tracer: SdkTracer,
    /// Whether a call's span can record, known before it is built.
    pub(crate) recording: crate::telemetry::recording::Recording,
    pub(crate) instruments: Instruments,
    pub(crate) statements: StatementCache<Meta>,
    /// `db.system.name`, `db.namespace`, `server.address`, `server.port`.
    pub(crate) base_attrs: Vec<KeyValue>,
    pub(crate) leaks: Registry,
    /// The login role was found unable to bypass row-level security (read
    /// once, at the first `as_user`; a privileged one is read again each
    /// time, so fixing the role needs no restart).
    pub(crate) login_role_checked: AtomicBool,
    pub(crate) leak_detection: bool,
    /// The client-side bound on each call.
    pub(crate) call_bound: Option<Duration>,
    pub(crate) acquire_name: Cow<'static, str>,
    pub(crate) acquire_attrs: [KeyValue; 2],
    /// The in-process view (`wingspan::stats`), when on: statements resolve
    /// their row from it once, acquires and holds feed the pool's rows.
    pub(crate) stats: Option<crate::stats::Stats>,
    pub(crate) pool_stats: Option<crate::stats::PoolStats>,
    /// The pool's name, shared by the N+1 tracker's runs.
    pub(crate) pool_name: Arc<str>,
    /// `DB_N_PLUS_ONE_THRESHOLD`; 0 = off.
    pub(crate) n_plus_one_threshold: u32,
    /// Plans are captured (`DB_PLAN_CAPTURE`): each call then also adds its
    /// duration to its text's total (one relaxed add), so the plan of a
    /// summary is that of its costliest text.
    pub(crate) plan_capture: bool,
    /// The application's span attributes for each call
    /// (`PoolBuilder::query_attributes`).
    pub(crate) query_attributes: Option<Arc<dyn super::QueryAttributes>>,
}

impl PoolState for Shared {
    fn counts(&self) -> (i64, i64, i64) {
        let s = self.status();
        (s.idle as i64, s.active() as i64, s.waiting as i64)
    }
}

impl Shared {
    /// What deadpool holds right now.
    pub(crate) fn status(&self) -> PoolStatus {
        let s = self.pool.status();
        PoolStatus::new(s.size, s.available, s.waiting, s.max_size)
    }

    /// The telemetry of `sql`, from the pool's statement cache.
    pub(crate) fn meta(&self, sql: &str) -> Arc<Meta> {
        self.statements.get_or_insert(sql, |s| {
            Meta::new(&self.base_attrs, &self.instruments, self.stats.as_ref(), s)
        })
    }

    /// The telemetry of preparing the statement `meta` describes.
    pub(crate) fn prepare_meta(&self, meta: &Meta) -> Arc<Meta> {
        meta.prepare(&self.base_attrs, &self.instruments, self.stats.as_ref())
    }

    pub(crate) fn map_pool_error(&self, e: PoolError<tokio_postgres::Error>) -> DbError {
        match e {
            PoolError::Timeout(TimeoutType::Wait) => DbError::PoolTimeout(self.cfg.acquire_timeout),
            PoolError::Timeout(TimeoutType::Create | TimeoutType::Recycle) => {
                DbError::ConnectTimeout(self.cfg.connect_timeout)
            }
            PoolError::Backend(e) => match DbError::from_pg(e) {
                e @ DbError::Server { .. } => e,
                DbError::Client { kind, .. } => DbError::Connect(kind.to_owned()),
                other => other,
            },
            PoolError::Closed => DbError::Closed,
            // The builder always sets the Tokio runtime.
            PoolError::NoRuntimeSpecified => DbError::Connect("no runtime".into()),
            PoolError::PostCreateHook(_) => DbError::Connect("post-create hook".into()),
        }
    }

    /// Opens connections until the pool holds `min` (deadpool has no minimum
    /// size of its own).
    ///
    /// deadpool hands out idle connections before it opens new ones, so
    /// borrowing only the deficit would borrow idle ones and open nothing:
    /// the refill borrows every idle connection as well, which forces the
    /// deficit to be opened, and returns them all once it is. At start-up
    /// (`wait`) each borrow may wait the acquire timeout; the reaper's refill
    /// never waits, so it never queues behind the application's requests in
    /// deadpool's FIFO. A request arriving while it holds the idle ones opens
    /// a connection of its own (the deficit leaves room under the maximum).
    pub(crate) async fn fill(&self, min: usize, wait: bool) -> Result<(), DbError> {
        let status = self.pool.status();
        let deficit = min.saturating_sub(status.size);
        if deficit == 0 {
            return Ok(());
        }
        let timeouts = Timeouts {
            wait: Some(if wait {
                self.cfg.acquire_timeout
            } else {
                Duration::ZERO
            }),
            create: Some(self.cfg.connect_timeout),
            recycle: Some(self.cfg.connect_timeout),
        };
        let mut held = self.borrow_idle(&timeouts, status.available).await;
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..deficit {
            let pool = self.pool.clone();
            let bound = self.cfg.connect_timeout + self.cfg.acquire_timeout;
            set.spawn(
                async move { tokio::time::timeout(bound, pool.timeout_get(&timeouts)).await },
            );
        }
        let mut first_err = None;
        while let Some(r) = set.join_next().await {
            match r {
                Ok(Ok(Ok(obj))) => held.push(obj),
                Ok(Ok(Err(e))) => {
                    first_err.get_or_insert(self.map_pool_error(e));
                }
                Ok(Err(_)) => {
                    first_err.get_or_insert(DbError::PoolTimeout(self.cfg.acquire_timeout));
                }
                Err(_) => {}
            }
        }
        drop(held);
        match first_err {
            Some(e) if self.pool.status().size < min => Err(e),
            _ => Ok(()),
        }
    }

    /// Borrows up to `n` idle connections without waiting (recycling them is
    /// a local check), so the borrows that follow must open new ones.
    async fn borrow_idle(&self, timeouts: &Timeouts, n: usize) -> Vec<Object> {
        let no_wait = Timeouts {
            wait: Some(Duration::ZERO),
            ..*timeouts
        };
        let mut held = Vec::with_capacity(n);
        while held.len() < n && self.pool.status().available > 0 {
            match self.pool.timeout_get(&no_wait).await {
                Ok(obj) => held.push(obj),
                Err(_) => break,
            }
        }
        held
    }
}
