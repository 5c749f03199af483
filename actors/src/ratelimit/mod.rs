//! Rate limiting: GCRA per (policy, key), sharded, bounded in memory, persisted.
//!
//! # Algorithm
//!
//! [GCRA](Gcra) keeps one number per key, its theoretical arrival time (TAT). A
//! [`RateLimitPolicy`] of `limit` requests per `period` with a `burst` allows `burst` requests
//! at once, then one every `period / limit`; refusals spend nothing. The answer is a
//! [`Decision`]: `Allow { remaining, reset_after, next_after }` or
//! `Deny { retry_after, reset_after, first_in_window }`. Errors are faults only.
//!
//! # Actor
//!
//! [`start_ratelimit`] starts [`RateLimitSettings::shards`] shards, each on its own arbiter,
//! supervised, with a bounded mailbox. A key's shard is chosen by hashing it, and the shard
//! decides that key's checks one at a time, so concurrent checks on one key are exact (200
//! concurrent checks with a burst of 10 and a still clock allow exactly 10).
//!
//! A refused key is published in a read view until it will be allowed again: further checks
//! for it are answered without a message (a refusal changes no state, so the view's answer is
//! the shard's). Every other check is one message to the owning shard.
//!
//! A panic in a shard restarts it with its memory kept (a key's state is one number, written in
//! one step, so it cannot be half-updated; dropping it would hand back budget the write-behind
//! store has not recorded yet). While a shard is down, its keys fail closed.
//!
//! # Memory
//!
//! A key whose TAT is at or before now is indistinguishable from a fresh key, so the shards
//! drop such keys: every [`RateLimitSettings::sweep_interval`], and early whenever a shard has
//! doubled in size since its last sweep. A key lives in memory at most about one policy
//! period after its last request (the period also bounds the "one event per key" window), and
//! the map's memory is given back when it shrinks. Keys are stored as a 16-byte digest of
//! (policy name, key), so each costs a fixed few dozen bytes whatever the key.
//!
//! # Persistence
//!
//! Changed state is written to [`Keyspace::RateLimit`](crate::store::Keyspace::RateLimit)
//! behind the decisions: every [`RateLimitSettings::persist_interval`] the shards hand their
//! changed keys to a writer thread, which writes the latest TAT of each (buffered writes,
//! expiring at the TAT, so the store's sweeper removes decayed state); shutdown waits for it.
//! A key that is not in memory is loaded back from the store, so a restart does not hand out
//! fresh budgets (the store is read only while state written by an earlier process can still
//! be live: a stored horizon bounds it). A crash may lose the last `persist_interval` plus the store's flush period
//! of spent budget. Decisions never wait for a write (a sled write costs tens of
//! microseconds, a decision a few); if the store cannot keep up with a spray of new keys, the
//! writer holds at most 200 000 pending keys and counts the rest as
//! [`RateLimitStats::persist_dropped`].
//!
//! Store faults: if a key's state cannot be read, the check fails (the caller refuses the
//! request); if changed state cannot be written, decisions go on from memory (the source of
//! truth while the process runs), the write is retried, and
//! [`RateLimitStats::persist_errors`] counts it.

mod actor;
mod gcra;
mod handle;
mod messages;
mod persist;
mod policy;
mod settings;
mod view;

use std::{sync::Arc, time::Duration};

use actix::{Arbiter, Supervisor};

use self::{actor::RateLimitShard, view::RateLimitView};
pub use self::{
    gcra::{Gcra, Verdict},
    handle::RateLimitHandle,
    policy::{Decision, PolicyError, RateLimitPolicy},
    settings::{RateLimitSettings, RateLimitStats},
};
use crate::{clock::SharedClock, store::Store};

/// The name the rate-limit actor reports in [`ActorError`](crate::ActorError)s.
pub const ACTOR_NAME: &str = actor::NAME;

/// Starts the rate-limit actor: [`RateLimitSettings::shards`] shards, each on its own
/// arbiter, supervised, with a bounded mailbox of `mailbox` messages; every ask waits at most
/// `ask_timeout`. The arbiters live in the returned handle's shared state: they stop on
/// [`RateLimitHandle::shutdown`] or when the last clone is dropped.
///
/// # Panics
///
/// Outside a running actix `System` (as any actix arbiter does).
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use warden_actors::{
///     ratelimit::{start_ratelimit, RateLimitPolicy, RateLimitSettings},
///     store::{SledStore, Store},
///     StoreConfig, SystemClock,
/// };
///
/// #[actix::main]
/// async fn main() {
///     let store: Arc<dyn Store> =
///         Arc::new(SledStore::temporary(&StoreConfig::default(), Arc::new(SystemClock)).unwrap());
///     let limits = start_ratelimit(
///         store,
///         Arc::new(SystemClock),
///         RateLimitSettings::default(),
///         1024,
///         Duration::from_secs(2),
///     );
///     limits.ping().await.unwrap();
///     let p = RateLimitPolicy::new("login", 10, Duration::from_secs(60));
///     assert!(limits.check(&p, "203.0.113.9").await.unwrap().is_allowed());
///     limits.shutdown().await;
/// }
/// ```
pub fn start_ratelimit(
    store: Arc<dyn Store>,
    clock: SharedClock,
    cfg: RateLimitSettings,
    mailbox: usize,
    ask_timeout: Duration,
) -> RateLimitHandle {
    let n = cfg.shards.clamp(1, 64);
    let view = Arc::new(RateLimitView::new(n, persist::PersistState::load(&*store)));
    let writer = if cfg.persist_interval.is_zero() {
        None
    } else {
        match persist::spawn_writer(store.clone(), clock.clone(), view.writes.clone()) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::error!(error = %e, "cannot start the rate-limit writer; writing through");
                None
            }
        }
    };
    let cap = mailbox.max(1);
    let mut arbiters = Vec::with_capacity(n);
    let mut addrs = Vec::with_capacity(n);
    for (index, part) in view.shards.iter().enumerate() {
        // Live from the start: checks sent before `started` runs queue behind it instead of
        // failing. The shard's guard clears the flag when the shard is gone.
        part.alive.store(true, std::sync::atomic::Ordering::SeqCst);
        let shard = RateLimitShard::new(
            index,
            cfg.clone(),
            clock.clone(),
            store.clone(),
            part.clone(),
            writer.as_ref().map(|(tx, _)| tx.clone()),
            view.writes.clone(),
        );
        let arbiter = Arbiter::new();
        addrs.push(Supervisor::start_in_arbiter(
            &arbiter.handle(),
            move |ctx| {
                ctx.set_mailbox_capacity(cap);
                shard
            },
        ));
        arbiters.push(arbiter);
    }
    RateLimitHandle::new(addrs, view, cfg, clock, ask_timeout, arbiters, writer)
}
