//! [`LockoutHandle`]: the clonable way to talk to the lockout actor.

use std::{net::IpAddr, sync::Arc, time::Duration};

use actix::{Addr, Arbiter};
use parking_lot::Mutex;

use super::{
    actor::{LockoutActor, NAME},
    messages::*,
    policy::LockoutPolicy,
};
use crate::{runtime::supervise::ask, ActorError, SecurityEvent};

struct Shared {
    addr: Addr<LockoutActor>,
    policy: LockoutPolicy,
    timeout: Duration,
    arbiter: Mutex<Option<Arbiter>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(a) = self.arbiter.get_mut().take() {
            a.stop();
        }
    }
}

/// A handle to the lockout actor. Clone it freely; the actor's arbiter stops when
/// [`LockoutHandle::shutdown`] is called or the last clone is dropped.
///
/// Every call is a message with the ask deadline, and every error is a fault (the actor or the
/// store did not answer): callers must refuse the login (fail closed), never skip the check.
/// Login names are normalised ([`normalize_login`](super::normalize_login)) and addresses
/// collapsed to their network ([`network`](super::network)) inside the actor.
///
/// ```
/// use std::{net::IpAddr, sync::Arc, time::Duration};
/// use warden_actors::{
///     lockout::{start_lockout, LockoutPolicy, Scope},
///     ManualClock, Runtime, RuntimeConfig,
/// };
///
/// #[actix::main]
/// async fn main() {
///     let clock = Arc::new(ManualClock::new(1_700_000_000_000));
///     let rt = Runtime::builder(RuntimeConfig::default()).clock(clock.clone()).start().unwrap();
///     let lockout = start_lockout(
///         rt.store(),
///         rt.clock(),
///         LockoutPolicy::default(),
///         rt.audit().clone(),
///         64,
///         Duration::from_secs(2),
///     );
///     let ip: IpAddr = "192.0.2.7".parse().unwrap();
///     for _ in 0..4 {
///         assert!(!lockout.record_failure("alice", ip).await.unwrap().is_locked());
///     }
///     let st = lockout.record_failure("Alice ", ip).await.unwrap();
///     assert_eq!(st.newly_locked, [Scope::AccountIp]);
///     assert_eq!(st.retry_after, Some(Duration::from_secs(300)));
///     assert!(lockout.check("ALICE", ip).await.unwrap().is_locked());
///     // Another network is not locked out: the account-wide threshold is higher.
///     assert!(!lockout.check("alice", "198.51.100.1".parse().unwrap()).await.unwrap().locked);
///     lockout.shutdown().await;
///     rt.shutdown().await.unwrap();
/// }
/// ```
#[derive(Clone)]
pub struct LockoutHandle {
    inner: Arc<Shared>,
}

impl std::fmt::Debug for LockoutHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockoutHandle")
            .field("policy", &self.inner.policy)
            .field("connected", &self.inner.addr.connected())
            .finish()
    }
}

impl LockoutHandle {
    pub(crate) fn new(
        addr: Addr<LockoutActor>,
        policy: LockoutPolicy,
        timeout: Duration,
        arbiter: Arbiter,
    ) -> Self {
        Self {
            inner: Arc::new(Shared {
                addr,
                policy,
                timeout,
                arbiter: Mutex::new(Some(arbiter)),
            }),
        }
    }

    /// The thresholds and backoff in force.
    pub fn policy(&self) -> &LockoutPolicy {
        &self.inner.policy
    }

    async fn ask<M>(&self, msg: M) -> Result<M::Result, ActorError>
    where
        M: actix::Message + Send + 'static,
        M::Result: Send,
        LockoutActor: actix::Handler<M>,
    {
        ask(NAME, &self.inner.addr, msg, self.inner.timeout).await
    }

    /// Whether a login of `account` from `ip` may check a password now. Read-only. Call it
    /// before verifying; when locked, verify against a dummy hash anyway and answer as for a
    /// wrong password.
    pub async fn check(&self, account: &str, ip: IpAddr) -> Result<Status, ActorError> {
        let account = account.to_owned();
        self.ask(Check { account, ip }).await?
    }

    /// Counts a failed login of `account` from `ip` (also one refused because it was locked)
    /// in its pair, network and (unless refused by the pair's or network's lock) account
    /// counters, atomically, and answers once the counts are durable. Locks whatever reached
    /// its threshold, emitting `auth.lockout.locked` once per lock, and feeds the spray
    /// detector. The answer is the state after this failure.
    pub async fn record_failure(&self, account: &str, ip: IpAddr) -> Result<Status, ActorError> {
        self.record_failure_with(account, ip, None).await
    }

    /// [`LockoutHandle::record_failure`], building `auth.lockout.locked` events from
    /// `context` (an event carrying the request's id, method, path, client IP and the user
    /// id if known; its name is replaced).
    pub async fn record_failure_with(
        &self,
        account: &str,
        ip: IpAddr,
        context: Option<SecurityEvent>,
    ) -> Result<Status, ActorError> {
        let account = account.to_owned();
        self.ask(RecordFailure {
            account,
            ip,
            context,
        })
        .await?
    }

    /// A successful login: clears the account-wide count (and ends its lock) and this
    /// (account, network) pair, never the network's counter, nor other networks' pairs. The
    /// account's backoff step is kept as long as the episode would have lasted (an attack
    /// still going on meets a longer lock next time, not a fresh one). Remembers the network
    /// as trusted for the account (see [`LockoutPolicy::trusted_ip_ttl`]). Buffered (a crash
    /// right after may bring the cleared counters back: the conservative direction). Returns
    /// the account failures it cleared (for a "success after failures" notice).
    pub async fn record_success(&self, account: &str, ip: IpAddr) -> Result<u64, ActorError> {
        let account = account.to_owned();
        self.ask(RecordSuccess { account, ip }).await?
    }

    /// Admin: clears an account's counter and every (account, network) pair of it, durably.
    /// Network counters stay. Emits `auth.lockout.unlocked`. Returns how many counters were
    /// cleared.
    pub async fn unlock(&self, account: &str) -> Result<usize, ActorError> {
        self.ask(Unlock(account.to_owned())).await?
    }

    /// Admin (incident response): locks an account on every network for `duration`, trusted
    /// networks included; a successful login does not clear it, [`unlock`](Self::unlock)
    /// does. Durable. Emits `auth.lockout.locked` (scope `manual`). Returns the end of the
    /// lock (ms since the epoch).
    pub async fn lock(&self, account: &str, duration: Duration) -> Result<u64, ActorError> {
        self.ask(Lock {
            account: account.to_owned(),
            for_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
        })
        .await?
    }

    /// Admin: clears a network's counter, durably. Emits `auth.lockout.unlocked`. Returns
    /// whether there was one.
    pub async fn unlock_ip(&self, ip: IpAddr) -> Result<bool, ActorError> {
        self.ask(UnlockIp(ip)).await?
    }

    /// Admin: an account's lockout state (its counter and its pairs).
    pub async fn status(&self, account: &str) -> Result<AccountStatus, ActorError> {
        self.ask(GetAccountStatus(account.to_owned())).await?
    }

    /// The actor's counters (memory use, failures, locks, spray alerts).
    pub async fn stats(&self) -> Result<LockoutStats, ActorError> {
        self.ask(GetStats).await?
    }

    /// Makes every write so far durable (successes included).
    pub async fn flush(&self) -> Result<(), ActorError> {
        self.ask(Flush).await?
    }

    /// Checks the actor and its store answer within the ask deadline.
    pub async fn ping(&self) -> Result<(), ActorError> {
        self.ask(Ping).await?
    }

    /// Flushes, then stops the actor's arbiter and waits for it. Later calls fail closed with
    /// [`ActorError::Unavailable`]. Idempotent.
    pub async fn shutdown(&self) {
        if self.inner.arbiter.lock().is_none() {
            return;
        }
        if let Err(e) = self.flush().await {
            tracing::warn!(error = %e, "lockout counters not flushed at shutdown");
        }
        let Some(a) = self.inner.arbiter.lock().take() else {
            return;
        };
        a.stop();
        let _ = actix_rt::task::spawn_blocking(move || a.join()).await;
    }

    /// Test-only: makes the actor panic in a handler (to exercise supervision).
    #[cfg(any(test, feature = "test-util"))]
    pub async fn crash_for_tests(&self) -> Result<(), ActorError> {
        self.ask(Crash).await?
    }
}
