//! Login lockout: failure counters per account, per (account, network) and per network, with
//! exponential backoff, durable, and blind to whether an account exists.
//!
//! Login handlers use it through three calls (in `warden`, the `LoginLockout` helper wraps
//! them for a request): [`LockoutHandle::check`] before verifying a password,
//! [`LockoutHandle::record_failure`] after a failed (or refused) attempt,
//! [`LockoutHandle::record_success`] after a good one.
//!
//! # What is counted
//!
//! - **Login names**, normalised ([`normalize_login`]: trimmed, Unicode-lowercased) and hashed
//!   with a random per-store key, whether or not an account exists: lock state never reveals
//!   existence, and no attempted name (users type passwords there) is stored or logged. (The
//!   key lives in the store: it keeps names out of files, backups of one keyspace and logs,
//!   not from someone holding the whole database.)
//! - **Networks**: an IPv4 address, or an IPv6 /64 ([`network`]).
//! - The thresholds, backoff and the balance that keeps an attacker from locking a victim out
//!   are described on [`LockoutPolicy`].
//!
//! # Atomicity and durability
//!
//! One actor owns every counter: a failure is counted in one message, and decisions are made
//! on the counted value, so concurrent failures are never lost. A failure is acknowledged once
//! its counters (and any lock) are on disk; failures arriving together share one flush (group
//! commit), so a burst does not queue one disk flush per attempt. Successes are buffered.
//! Every record carries its expiry, so the sweeper removes forgotten counters through the
//! expiry index: storage is bounded by the attempt rate times the window, whatever names are
//! sprayed. The actor keeps at most [`LockoutPolicy::max_tracked_keys`] counters in memory, as a
//! cache of the store: evicting one forgets nothing.
//!
//! # Events
//!
//! `auth.lockout.locked` once per lock (details `scope` = `account` | `account_ip` | `ip`,
//! `until`, `failures`, `lock_secs`, `account_ref` = a hash prefix of the name, `network`);
//! `auth.lockout.unlocked` for admin unlocks; `alert.spike` (details `kind` =
//! `auth.login.failure`, `count`, `threshold`, `window_secs`) once per spray window in which
//! failures across all accounts reach [`LockoutPolicy::spray_threshold`]. The caller records
//! `auth.login.failure` itself.

mod actor;
mod cache;
mod commit;
mod counter;
mod events;
mod handle;
mod handlers;
mod messages;
mod policy;

use std::{sync::Arc, time::Duration};

use actix::{Arbiter, Supervisor};

use self::actor::LockoutActor;
pub use self::{
    handle::LockoutHandle,
    messages::{AccountStatus, LockoutStats, ScopeStatus, Status},
    policy::{network, normalize_login, InvalidPolicy, LockoutPolicy, Scope},
};
use crate::{clock::SharedClock, store::Store, AuditHandle};

/// Starts the lockout actor on its own arbiter, supervised, with a bounded mailbox of `mailbox`
/// messages; every ask waits at most `ask_timeout`. Events go to `audit`. The arbiter lives in
/// the returned handle's shared state: it stops on [`LockoutHandle::shutdown`] or when the last
/// clone is dropped. Check the policy first with [`LockoutPolicy::validate`]; out-of-range
/// values are clamped here, not refused.
///
/// # Panics
///
/// Outside a running actix `System` (as any actix arbiter does).
pub fn start_lockout(
    store: Arc<dyn Store>,
    clock: SharedClock,
    policy: LockoutPolicy,
    audit: AuditHandle,
    mailbox: usize,
    ask_timeout: Duration,
) -> LockoutHandle {
    let actor = LockoutActor::new(policy.clone(), clock, store, audit);
    let arbiter = Arbiter::new();
    let cap = mailbox.max(1);
    let addr = Supervisor::start_in_arbiter(&arbiter.handle(), move |ctx| {
        ctx.set_mailbox_capacity(cap);
        actor
    });
    LockoutHandle::new(addr, policy, ask_timeout, arbiter)
}
