//! [`RateLimitHandle`]: checks (refusals from the view, the rest by message to the owning
//! shard), administration and statistics.

use std::{sync::atomic::Ordering, sync::Arc, thread::JoinHandle, time::Duration};

use actix::{Addr, Arbiter};
use parking_lot::Mutex;

use super::{
    actor::{RateLimitShard, NAME},
    gcra::Gcra,
    messages::*,
    persist::WriterTx,
    policy::RateLimitPolicy,
    settings::{RateLimitSettings, RateLimitStats},
    view::{bump, key_for, shard_of, Key, RateLimitView},
    Decision,
};
use crate::{clock::SharedClock, runtime::supervise::ask, ActorError};

struct Shared {
    shards: Vec<Addr<RateLimitShard>>,
    view: Arc<RateLimitView>,
    settings: RateLimitSettings,
    clock: SharedClock,
    timeout: Duration,
    arbiters: Mutex<Vec<Arbiter>>,
    /// The write-behind thread (it stops once the shards and this sender are gone).
    writer: Mutex<Option<(WriterTx, JoinHandle<()>)>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        for a in self.arbiters.get_mut().drain(..) {
            a.stop();
        }
        self.writer.get_mut().take();
    }
}

/// A handle to the sharded rate-limit actor. Clone it freely; the shards' arbiters stop when
/// [`RateLimitHandle::shutdown`] is called or the last clone is dropped.
///
/// [`RateLimitHandle::check`] is atomic per key: a key's shard decides its checks one at a
/// time. A key that is being refused is answered from a read view, without a message; any
/// other check is one message to the shard that owns the key. While a shard is down its keys
/// fail closed ([`ActorError::Unavailable`]).
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use warden_actors::{
///     ratelimit::{start_ratelimit, Decision, RateLimitPolicy, RateLimitSettings},
///     store::{SledStore, Store},
///     ManualClock, StoreConfig,
/// };
///
/// #[actix::main]
/// async fn main() {
///     let clock = Arc::new(ManualClock::new(1_700_000_000_000));
///     let store: Arc<dyn Store> =
///         Arc::new(SledStore::temporary(&StoreConfig::default(), clock.clone()).unwrap());
///     let limits = start_ratelimit(
///         store,
///         clock.clone(),
///         RateLimitSettings::default().shards(2),
///         64,
///         Duration::from_secs(2),
///     );
///     let login = RateLimitPolicy::new("login", 2, Duration::from_secs(60));
///     assert_eq!(limits.check(&login, "192.0.2.7").await.unwrap().remaining(), 1);
///     assert_eq!(limits.check(&login, "192.0.2.7").await.unwrap().remaining(), 0);
///     match limits.check(&login, "192.0.2.7").await.unwrap() {
///         Decision::Deny { retry_after, first_in_window, .. } => {
///             assert_eq!(retry_after, Duration::from_secs(30));
///             assert!(first_in_window);
///         }
///         d => panic!("{d:?}"),
///     }
///     clock.advance(Duration::from_secs(30));
///     assert!(limits.check(&login, "192.0.2.7").await.unwrap().is_allowed());
///     limits.shutdown().await;
/// }
/// ```
#[derive(Clone)]
pub struct RateLimitHandle {
    inner: Arc<Shared>,
}

impl std::fmt::Debug for RateLimitHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitHandle")
            .field("settings", &self.inner.settings)
            .field("keys", &self.len())
            .finish()
    }
}

fn compile(policy: &RateLimitPolicy) -> Result<Gcra, ActorError> {
    Gcra::new(policy).map_err(|e| ActorError::Invalid {
        actor: NAME,
        reason: e.reason(),
    })
}

impl RateLimitHandle {
    pub(crate) fn new(
        shards: Vec<Addr<RateLimitShard>>,
        view: Arc<RateLimitView>,
        settings: RateLimitSettings,
        clock: SharedClock,
        timeout: Duration,
        arbiters: Vec<Arbiter>,
        writer: Option<(WriterTx, JoinHandle<()>)>,
    ) -> Self {
        Self {
            inner: Arc::new(Shared {
                shards,
                view,
                settings,
                clock,
                timeout,
                arbiters: Mutex::new(arbiters),
                writer: Mutex::new(writer),
            }),
        }
    }

    /// The settings the actor runs with.
    pub fn settings(&self) -> &RateLimitSettings {
        &self.inner.settings
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.inner.shards.len()
    }

    fn locate(&self, policy: &str, key: &[u8]) -> (Key, usize) {
        let k = key_for(policy, key);
        (k, shard_of(&k, self.inner.shards.len()))
    }

    async fn ask_shard<M>(&self, i: usize, msg: M) -> Result<M::Result, ActorError>
    where
        M: actix::Message + Send + 'static,
        M::Result: Send,
        RateLimitShard: actix::Handler<M>,
    {
        ask(NAME, &self.inner.shards[i], msg, self.inner.timeout).await
    }

    async fn ask_all<M>(&self, msg: impl Fn() -> M) -> Result<usize, ActorError>
    where
        M: actix::Message<Result = Result<usize, ActorError>> + Send + 'static,
        RateLimitShard: actix::Handler<M>,
    {
        let mut n = 0;
        for i in 0..self.inner.shards.len() {
            n += self.ask_shard(i, msg()).await??;
        }
        Ok(n)
    }

    /// Decides a request by `key` (a client network, an account name…) under `policy`: one
    /// unit of the key's budget is spent if it is allowed. A policy's budgets are identified
    /// by its name.
    ///
    /// Errors are faults only (the caller must refuse the request): a shard that does not
    /// answer in time or is down, a store that cannot be read when the key is not in memory,
    /// or an invalid policy ([`ActorError::Invalid`]).
    pub async fn check(
        &self,
        policy: &RateLimitPolicy,
        key: impl AsRef<[u8]>,
    ) -> Result<Decision, ActorError> {
        let gcra = compile(policy)?;
        let (key, i) = self.locate(&policy.name, key.as_ref());
        let part = &self.inner.view.shards[i];
        if !part.is_alive() {
            return Err(ActorError::Unavailable { actor: NAME });
        }
        let now = self.inner.clock.now_millis().saturating_mul(1_000_000);
        if let Some(b) = part.blocked(&key, now) {
            bump(&part.counters.denied, 1);
            bump(&part.counters.denied_from_view, 1);
            return Ok(Decision::Deny {
                retry_after: Duration::from_nanos(b.allow_at - now),
                reset_after: Duration::from_nanos(b.tat.saturating_sub(now)),
                first_in_window: false,
            });
        }
        self.ask_shard(i, Check { key, gcra }).await?
    }

    /// Forgets `key`'s state under `policy` (an operator lifting a block): its whole budget is
    /// back. Returns whether there was live state.
    pub async fn reset(
        &self,
        policy: &RateLimitPolicy,
        key: impl AsRef<[u8]>,
    ) -> Result<bool, ActorError> {
        let (key, i) = self.locate(&policy.name, key.as_ref());
        self.ask_shard(i, Reset(key)).await?
    }

    /// Drops every key whose state has decayed, now (done every
    /// [`RateLimitSettings::sweep_interval`] anyway). Returns how many were dropped.
    pub async fn sweep_now(&self) -> Result<usize, ActorError> {
        self.ask_all(|| Sweep).await
    }

    /// Writes changed state to the store now (done every
    /// [`RateLimitSettings::persist_interval`] anyway) and waits until it is written (at most
    /// 30 s; the shards keep deciding meanwhile). Returns how many keys' state this wrote.
    pub async fn persist_now(&self) -> Result<usize, ActorError> {
        let n = self.ask_all(|| Persist).await?;
        let writer = self.inner.writer.lock().as_ref().map(|(tx, _)| tx.clone());
        if let Some(tx) = writer {
            actix_rt::task::spawn_blocking(move || tx.flush())
                .await
                .map_err(|_| ActorError::Unavailable { actor: NAME })??;
        }
        Ok(n)
    }

    /// Keys held in memory (summed over the shards, as of their last operation).
    pub fn len(&self) -> usize {
        self.inner
            .view
            .shards
            .iter()
            .map(|s| s.keys.load(Ordering::Relaxed))
            .sum()
    }

    /// Whether no key is held in memory.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Counters and gauges, summed over the shards; no message.
    pub fn stats(&self) -> RateLimitStats {
        self.inner.view.stats()
    }

    /// Checks that every shard and the store answer within the ask deadline.
    pub async fn ping(&self) -> Result<(), ActorError> {
        for i in 0..self.inner.shards.len() {
            self.ask_shard(i, Ping).await??;
        }
        Ok(())
    }

    /// Writes changed state to the store, then stops the shards' arbiters and waits for them.
    /// Later checks fail closed with [`ActorError::Unavailable`]. Idempotent. (The runtime
    /// calls this on shutdown.)
    pub async fn shutdown(&self) {
        let arbiters: Vec<Arbiter> = self.inner.arbiters.lock().drain(..).collect();
        if arbiters.is_empty() {
            return;
        }
        if let Err(e) = self.persist_now().await {
            tracing::warn!(error = %e, "rate-limit state not persisted at shutdown");
        }
        for a in &arbiters {
            a.stop();
        }
        for a in arbiters {
            let _ = actix_rt::task::spawn_blocking(move || a.join()).await;
        }
        // The shards are gone; dropping the last sender lets the writer finish and stop.
        let writer = self.inner.writer.lock().take();
        if let Some((tx, thread)) = writer {
            drop(tx);
            let _ = actix_rt::task::spawn_blocking(move || thread.join()).await;
        }
    }

    /// Test-only: makes every shard panic in a handler (to exercise supervision).
    /// Returns the first shard's [`ActorError::Panicked`].
    #[cfg(any(test, feature = "test-util"))]
    pub async fn crash_for_tests(&self) -> Result<(), ActorError> {
        let mut first = Ok(());
        for i in 0..self.inner.shards.len() {
            let r = self.ask_shard(i, Crash).await?;
            if first.is_ok() {
                first = r;
            }
        }
        first
    }
}
