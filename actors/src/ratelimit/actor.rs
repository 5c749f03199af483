//! A rate-limit shard: owns the GCRA state of the keys that hash to it, decides their checks
//! one at a time (so decisions are atomic per key), writes changed state to the store and
//! drops decayed keys.

use std::{
    collections::HashMap,
    sync::{atomic::Ordering, Arc},
    time::Duration,
};

use actix::{Actor, AsyncContext, Context, Handler, Supervised};

use super::{
    gcra::{Gcra, Verdict},
    messages::*,
    settings::RateLimitSettings,
    view::{bump, AliveGuard, Blocked, Key, ShardView},
    Decision,
};
use crate::{
    clock::SharedClock,
    runtime::supervise::guarded,
    store::{Durability, Keyspace, PutOptions, Store},
    ActorError, StoreError,
};

pub(crate) const NAME: &str = "ratelimit";
const KS: Keyspace = Keyspace::RateLimit;
/// The stored value: this format byte, then the TAT (ns, big-endian).
const RECORD_V1: u8 = 1;
/// A shard never sweeps early below this many keys.
const MIN_EARLY_SWEEP: usize = 4096;
/// Changed keys written at once from a check when the write-behind buffer is this long.
const MAX_DIRTY: usize = 4096;

const MS: u64 = 1_000_000;

/// A key's state in memory.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// Theoretical arrival time (ns).
    tat: u64,
    /// Until when refusals are not "first" (ns): one event per key per policy period.
    quiet_until: u64,
    /// Changed since last written to the store.
    dirty: bool,
}

fn encode(tat: u64) -> [u8; 9] {
    let mut v = [0u8; 9];
    v[0] = RECORD_V1;
    v[1..].copy_from_slice(&tat.to_be_bytes());
    v
}

fn decode(v: &[u8]) -> Result<u64, StoreError> {
    let corrupt = |reason| StoreError::Corrupt {
        keyspace: KS.name(),
        reason,
    };
    match v.split_first() {
        Some((&RECORD_V1, rest)) => {
            let b: [u8; 8] = rest.try_into().map_err(|_| corrupt("bad tat length"))?;
            Ok(u64::from_be_bytes(b))
        }
        Some(_) => Err(corrupt("unknown rate-limit record format")),
        None => Err(corrupt("empty rate-limit record")),
    }
}

/// One shard of the rate-limit actor.
#[derive(Debug)]
pub(crate) struct RateLimitShard {
    index: usize,
    settings: RateLimitSettings,
    clock: SharedClock,
    store: Arc<dyn Store>,
    view: Arc<ShardView>,
    _alive: AliveGuard,
    slots: HashMap<Key, Slot>,
    dirty: Vec<Key>,
    /// Keys after the last sweep: reaching twice as many (and `MIN_EARLY_SWEEP`) sweeps early.
    floor: usize,
}

impl RateLimitShard {
    pub(crate) fn new(
        index: usize,
        settings: RateLimitSettings,
        clock: SharedClock,
        store: Arc<dyn Store>,
        view: Arc<ShardView>,
    ) -> Self {
        Self {
            index,
            settings,
            clock,
            store,
            _alive: AliveGuard(view.clone()),
            view,
            slots: HashMap::new(),
            dirty: Vec::new(),
            floor: 0,
        }
    }

    fn now(&self) -> u64 {
        self.clock.now_millis().saturating_mul(MS)
    }

    fn publish_gauges(&self) {
        self.view.keys.store(self.slots.len(), Ordering::Relaxed);
        self.view
            .capacity
            .store(self.slots.capacity(), Ordering::Relaxed);
    }

    /// The key's slot, from memory or loaded back from the store (`None`: a fresh key).
    fn slot(&self, key: &Key) -> Result<Option<Slot>, ActorError> {
        if let Some(s) = self.slots.get(key) {
            return Ok(Some(*s));
        }
        let Some(bytes) = self.store.get(KS, key)? else {
            return Ok(None);
        };
        bump(&self.view.counters.loaded, 1);
        Ok(Some(Slot {
            tat: decode(&bytes)?,
            ..Slot::default()
        }))
    }

    fn check(&mut self, key: Key, gcra: Gcra) -> Result<Decision, ActorError> {
        let now = self.now();
        let known = self.slots.contains_key(&key);
        let mut slot = self.slot(&key)?.unwrap_or_default();
        let decision = match gcra.decide(slot.tat, now) {
            Verdict::Allow {
                new_tat,
                remaining,
                reset_after,
                next_after,
            } => {
                slot.tat = new_tat;
                if !slot.dirty {
                    slot.dirty = true;
                    self.dirty.push(key);
                }
                if self.view.blocked.read().contains_key(&key) {
                    self.view.blocked.write().remove(&key);
                }
                bump(&self.view.counters.allowed, 1);
                Decision::Allow {
                    remaining,
                    reset_after: Duration::from_nanos(reset_after),
                    next_after: Duration::from_nanos(next_after),
                }
            }
            Verdict::Deny {
                retry_after,
                reset_after,
            } => {
                let first = now >= slot.quiet_until;
                if first {
                    slot.quiet_until = now.saturating_add(gcra.window());
                    bump(&self.view.counters.first_blocks, 1);
                }
                // From now on the view answers this key's refusals.
                let b = Blocked {
                    allow_at: now.saturating_add(retry_after),
                    tat: now.saturating_add(reset_after),
                };
                self.view.blocked.write().insert(key, b);
                bump(&self.view.counters.denied, 1);
                Decision::Deny {
                    retry_after: Duration::from_nanos(retry_after),
                    reset_after: Duration::from_nanos(reset_after),
                    first_in_window: first,
                }
            }
        };
        self.slots.insert(key, slot);
        if !known && self.slots.len() >= (2 * self.floor).max(MIN_EARLY_SWEEP) {
            self.sweep();
        }
        if self.settings.persist_interval.is_zero() || self.dirty.len() >= MAX_DIRTY {
            self.persist_logged();
        }
        self.publish_gauges();
        Ok(decision)
    }

    /// Writes the changed keys to the store (buffered, expiring at their TAT, so the store's
    /// sweeper removes them once decayed). Keys that failed stay queued for the next attempt.
    fn persist(&mut self) -> Result<usize, StoreError> {
        let now = self.now();
        let mut written = 0;
        let mut failed = None;
        for key in std::mem::take(&mut self.dirty) {
            let Some(slot) = self.slots.get_mut(&key) else {
                continue;
            };
            if !slot.dirty {
                continue;
            }
            if failed.is_some() {
                self.dirty.push(key);
                continue;
            }
            if slot.tat <= now {
                // Decayed: any stored (older) state has expired as well.
                slot.dirty = false;
                continue;
            }
            let expires = slot.tat.div_ceil(MS);
            let opts = PutOptions::buffered().expires_at(expires);
            match self.store.put(KS, &key, &encode(slot.tat), opts) {
                Ok(()) => {
                    slot.dirty = false;
                    written += 1;
                }
                Err(e) => {
                    failed = Some(e);
                    self.dirty.push(key);
                }
            }
        }
        bump(&self.view.counters.persisted, written as u64);
        match failed {
            None => Ok(written),
            Some(e) => {
                bump(&self.view.counters.persist_errors, 1);
                Err(e)
            }
        }
    }

    /// [`Self::persist`] from a timer or a check: a failed write is logged and retried later;
    /// decisions go on from memory, which is the source of truth while the shard runs.
    fn persist_logged(&mut self) {
        if let Err(e) = self.persist() {
            tracing::error!(error = %e, shard = self.index, "rate-limit state not persisted");
        }
    }

    /// Drops decayed keys (state back to fresh, no event window open) and gives memory back.
    fn sweep(&mut self) -> usize {
        let now = self.now();
        let before = self.slots.len();
        self.slots.retain(|_, s| s.tat > now || s.quiet_until > now);
        let slots = &self.slots;
        self.dirty.retain(|k| slots.contains_key(k));
        {
            let mut blocked = self.view.blocked.write();
            blocked.retain(|_, b| b.allow_at > now);
            if blocked.capacity() > 4 * blocked.len() + 64 {
                blocked.shrink_to_fit();
            }
        }
        if self.slots.capacity() > 4 * self.slots.len() + 64 {
            self.slots.shrink_to_fit();
        }
        if self.dirty.capacity() > 4 * self.dirty.len() + 64 {
            self.dirty.shrink_to_fit();
        }
        self.floor = self.slots.len();
        let removed = before - self.slots.len();
        bump(&self.view.counters.swept, removed as u64);
        self.publish_gauges();
        removed
    }

    fn reset(&mut self, key: &Key) -> Result<bool, ActorError> {
        self.view.blocked.write().remove(key);
        let in_memory = self.slots.remove(key).is_some_and(|s| s.tat > self.now());
        let stored = self.store.delete(KS, key, Durability::Buffered)?;
        self.publish_gauges();
        Ok(in_memory || stored)
    }

    /// Forgets the in-memory state (after a panic), after trying to save what changed.
    fn reset_memory(&mut self) {
        self.persist_logged();
        self.slots = HashMap::new();
        self.dirty = Vec::new();
        self.floor = 0;
        *self.view.blocked.write() = HashMap::new();
        self.publish_gauges();
    }
}

impl Actor for RateLimitShard {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // (Also set when the shard is spawned, so a just-started handle answers at once.)
        self.view.alive.store(true, Ordering::SeqCst);
        ctx.run_interval(self.settings.sweep_interval, |act, _| {
            act.sweep();
        });
        if !self.settings.persist_interval.is_zero() {
            ctx.run_interval(self.settings.persist_interval, |act, _| {
                act.persist_logged();
            });
        }
    }

    fn stopping(&mut self, _: &mut Context<Self>) -> actix::Running {
        self.view.alive.store(false, Ordering::SeqCst);
        self.persist_logged();
        actix::Running::Stop
    }
}

impl Supervised for RateLimitShard {
    fn restarting(&mut self, _: &mut Context<Self>) {
        // In-memory state may be inconsistent after a panic: save what changed, then reload
        // lazily from the store.
        self.view.alive.store(false, Ordering::SeqCst);
        self.reset_memory();
    }
}

macro_rules! guarded_handler {
    ($msg:ty, $ret:ty, |$act:ident, $m:ident| $body:expr) => {
        impl Handler<$msg> for RateLimitShard {
            type Result = Result<$ret, ActorError>;
            fn handle(&mut self, $m: $msg, ctx: &mut Context<Self>) -> Self::Result {
                let $act = &mut *self;
                guarded::<Self, _>(NAME, ctx, || $body)?
            }
        }
    };
}

guarded_handler!(Check, Decision, |a, m| a.check(m.key, m.gcra));
guarded_handler!(Reset, bool, |a, m| a.reset(&m.0));
guarded_handler!(Sweep, usize, |a, _m| Ok(a.sweep()));
guarded_handler!(Persist, usize, |a, _m| Ok(a.persist()?));
guarded_handler!(Ping, (), |a, _m| Ok(a.store.health_check()?));

#[cfg(any(test, feature = "test-util"))]
impl Handler<Crash> for RateLimitShard {
    type Result = Result<(), ActorError>;
    fn handle(&mut self, _: Crash, ctx: &mut Context<Self>) -> Self::Result {
        guarded::<Self, _>(NAME, ctx, || panic!("injected rate-limit shard crash"))
    }
}
