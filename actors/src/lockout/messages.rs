//! Messages of the lockout actor (its whole API) and the answers they carry.

use std::{net::IpAddr, time::Duration};

use actix::Message;

use super::{counter::Counter, policy::Scope};
use crate::{ActorError, SecurityEvent};

/// One counter as it stands now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScopeStatus {
    /// Failures recorded in the current episode (also those made while locked; for the
    /// account scope, only those that reached a password check).
    pub failures: u64,
    /// Locks imposed in the current episode (the next lock's backoff exponent).
    pub locks: u32,
    /// The end of the current lock (ms since the epoch), if locked now.
    pub locked_until: Option<u64>,
}

impl ScopeStatus {
    pub(crate) fn of(c: &Counter, now: u64) -> Self {
        Self {
            failures: c.failures,
            locks: c.locks,
            locked_until: c.is_locked(now).then_some(c.locked_until),
        }
    }

    /// Whether this counter is locked now.
    pub fn is_locked(&self) -> bool {
        self.locked_until.is_some()
    }
}

/// The lockout state of one login attempt: an account name from one client address.
///
/// Server-side knowledge only: a login handler answers a locked attempt exactly as a wrong
/// password (unless configured to answer 429), and never says which scope is locked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// Whether a password check must not be attempted: the pair, the network, or (unless the
    /// network is trusted for the account) the account is locked.
    pub locked: bool,
    /// How long until every lock that applies has ended (`None` when not locked).
    pub retry_after: Option<Duration>,
    /// The account-wide counter.
    pub account: ScopeStatus,
    /// The (account, network) counter.
    pub account_ip: ScopeStatus,
    /// The network's counter.
    pub ip: ScopeStatus,
    /// The network had a successful login for this account within `trusted_ip_ttl`, so the
    /// account-wide lock does not apply to it. (Looked up only while the account is locked;
    /// `false` otherwise.)
    pub trusted_ip: bool,
    /// The scopes this call locked (only [`LockoutHandle::record_failure`] fills it).
    ///
    /// [`LockoutHandle::record_failure`]: super::LockoutHandle::record_failure
    pub newly_locked: Vec<Scope>,
}

impl Status {
    /// Whether a password check must not be attempted.
    pub fn is_locked(&self) -> bool {
        self.locked
    }

    /// The scopes whose lock applies to this attempt.
    pub fn locked_scopes(&self) -> Vec<Scope> {
        let mut s = Vec::new();
        if self.account.is_locked() && !self.trusted_ip {
            s.push(Scope::Account);
        }
        if self.account_ip.is_locked() {
            s.push(Scope::AccountIp);
        }
        if self.ip.is_locked() {
            s.push(Scope::Ip);
        }
        s
    }
}

/// An account's lockout state, for administrators.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccountStatus {
    /// The account-wide counter.
    pub account: ScopeStatus,
    /// (account, network) pairs with a live counter.
    pub tracked_pairs: usize,
    /// Those of them locked now.
    pub locked_pairs: usize,
    /// The latest end of a lock of the account or one of its pairs (ms since the epoch).
    pub locked_until: Option<u64>,
}

/// The actor's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LockoutStats {
    /// Counters held in memory now (at most `max_tracked_keys`).
    pub tracked_keys: usize,
    /// Failures recorded since the actor started.
    pub failures: u64,
    /// Locks imposed since the actor started.
    pub locks: u64,
    /// `alert.spike` events raised since the actor started.
    pub spray_alerts: u64,
}

/// Is this attempt locked?
#[derive(Debug)]
pub(crate) struct Check {
    pub(crate) account: String,
    pub(crate) ip: IpAddr,
}
impl Message for Check {
    type Result = Result<Status, ActorError>;
}

/// Count a failed login (durable before the answer). `context` is the event
/// `auth.lockout.locked` is built from (request id, path, client IP, user id).
#[derive(Debug)]
pub(crate) struct RecordFailure {
    pub(crate) account: String,
    pub(crate) ip: IpAddr,
    pub(crate) context: Option<SecurityEvent>,
}
impl Message for RecordFailure {
    type Result = Result<Status, ActorError>;
}

/// A successful login: reset the account's and this pair's counters, trust the network.
#[derive(Debug)]
pub(crate) struct RecordSuccess {
    pub(crate) account: String,
    pub(crate) ip: IpAddr,
}
impl Message for RecordSuccess {
    type Result = Result<u64, ActorError>;
}

/// Admin: clear an account's counter and all its pairs (durable).
#[derive(Debug)]
pub(crate) struct Unlock(pub(crate) String);
impl Message for Unlock {
    type Result = Result<usize, ActorError>;
}

/// Admin: lock an account on every network for a while (durable).
#[derive(Debug)]
pub(crate) struct Lock {
    pub(crate) account: String,
    pub(crate) for_ms: u64,
}
impl Message for Lock {
    type Result = Result<u64, ActorError>;
}

/// Admin: clear a network's counter (durable).
#[derive(Debug)]
pub(crate) struct UnlockIp(pub(crate) IpAddr);
impl Message for UnlockIp {
    type Result = Result<bool, ActorError>;
}

/// Admin: an account's state.
#[derive(Debug)]
pub(crate) struct GetAccountStatus(pub(crate) String);
impl Message for GetAccountStatus {
    type Result = Result<AccountStatus, ActorError>;
}

/// The actor's counters.
#[derive(Debug)]
pub(crate) struct GetStats;
impl Message for GetStats {
    type Result = Result<LockoutStats, ActorError>;
}

/// Make every write so far durable.
#[derive(Debug)]
pub(crate) struct Flush;
impl Message for Flush {
    type Result = Result<(), ActorError>;
}

/// Liveness check (the actor and its store).
#[derive(Debug)]
pub(crate) struct Ping;
impl Message for Ping {
    type Result = Result<(), ActorError>;
}

/// Test-only: panic inside a handler.
#[cfg(any(test, feature = "test-util"))]
#[derive(Debug)]
pub(crate) struct Crash;
#[cfg(any(test, feature = "test-util"))]
impl Message for Crash {
    type Result = Result<(), ActorError>;
}
