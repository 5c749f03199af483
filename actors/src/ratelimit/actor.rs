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
    persist::{self, PersistState, WriterTx},
    settings::RateLimitSettings,
    view::{bump, AliveGuard, Blocked, Key, ShardView},
    Decision,
};
use crate::{
    clock::SharedClock,
    runtime::supervise::guarded,
    store::{Durability, Keyspace, Store},
    ActorError, StoreError,
};

pub(crate) const NAME: &str = "ratelimit";
const KS: Keyspace = Keyspace::RateLimit;
/// A shard never sweeps early below this many keys.
const MIN_EARLY_SWEEP: usize = 4096;
/// Changed keys handed to the writer at once from a check when this many are waiting.
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

/// One shard of the rate-limit actor.
#[derive(Debug)]
pub(crate) struct RateLimitShard {
    index: usize,
    settings: RateLimitSettings,
    clock: SharedClock,
    store: Arc<dyn Store>,
    view: Arc<ShardView>,
    _alive: AliveGuard,
    /// The write-behind thread; `None`: write here, before answering.
    writer: Option<WriterTx>,
    writes: Arc<PersistState>,
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
        writer: Option<WriterTx>,
        writes: Arc<PersistState>,
    ) -> Self {
        Self {
            index,
            settings,
            clock,
            store,
            _alive: AliveGuard(view.clone()),
            view,
            writer,
            writes,
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
        if !self.writes.must_read(self.now()) {
            return Ok(None);
        }
        let Some(bytes) = self.store.get(KS, key)? else {
            return Ok(None);
        };
        bump(&self.view.counters.loaded, 1);
        Ok(Some(Slot {
            tat: persist::decode(&bytes)?,
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
        if self.writer.is_none() || self.dirty.len() >= MAX_DIRTY {
            self.persist_logged();
        }
        self.publish_gauges();
        Ok(decision)
    }

    /// Takes the changed keys that are still live, clearing their dirty flag.
    fn take_dirty(&mut self) -> Vec<(Key, u64)> {
        let now = self.now();
        let mut batch = Vec::with_capacity(self.dirty.len());
        for key in std::mem::take(&mut self.dirty) {
            let Some(slot) = self.slots.get_mut(&key) else {
                continue;
            };
            if slot.dirty {
                slot.dirty = false;
                // A decayed key needs no write: any stored (older) state has expired too.
                if slot.tat > now {
                    batch.push((key, slot.tat));
                }
            }
        }
        batch
    }

    /// Marks keys dirty again (their write did not happen).
    fn requeue(&mut self, keys: impl IntoIterator<Item = (Key, u64)>) {
        for (key, _) in keys {
            if let Some(slot) = self.slots.get_mut(&key) {
                if !slot.dirty {
                    slot.dirty = true;
                    self.dirty.push(key);
                }
            }
        }
    }

    /// Writes the changed keys to the store (buffered, expiring at their TAT, so the store's
    /// sweeper removes them once decayed): handed to the writer thread (with `wait`, waiting
    /// for room in its queue; without, keeping them for next time if it is full), or written
    /// here in write-through mode. Returns how many were handed over or written.
    fn persist(&mut self, wait: bool) -> Result<usize, StoreError> {
        let batch = self.take_dirty();
        let n = batch.len();
        let back = match self.writer.clone() {
            Some(w) if wait => match w.hand_over(batch) {
                Ok(()) => return Ok(n),
                Err(back) => back,
            },
            Some(w) => match w.offer(batch) {
                Ok(None) => return Ok(n),
                Ok(Some(back)) => {
                    // Queue full: keep them dirty, hand them over next time.
                    self.requeue(back);
                    return Ok(0);
                }
                Err(back) => back,
            },
            None => batch,
        };
        if self.writer.take().is_some() {
            tracing::error!(
                shard = self.index,
                "rate-limit writer gone; writing through"
            );
        }
        self.write_here(back)
    }

    /// Write-through: writes a batch from this thread, before answering.
    fn write_here(&mut self, batch: Vec<(Key, u64)>) -> Result<usize, StoreError> {
        let mut written = 0;
        let mut rest = batch.into_iter();
        for (key, tat) in rest.by_ref() {
            if let Err(e) = persist::put(&*self.store, &self.writes, &key, tat) {
                bump(&self.writes.errors, 1);
                self.requeue(std::iter::once((key, tat)).chain(rest));
                bump(&self.writes.persisted, written as u64);
                return Err(e);
            }
            written += 1;
        }
        bump(&self.writes.persisted, written as u64);
        Ok(written)
    }

    /// [`Self::persist`] from a timer or a check: a failed write is logged and retried later;
    /// decisions go on from memory, which is the source of truth while the shard runs.
    fn persist_logged(&mut self) {
        if let Err(e) = self.persist(false) {
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
        self.publish_gauges();
        let stored = self.store.delete(KS, key, Durability::Buffered)?;
        // A write of this key may still be queued at the writer: it drops it (and deletes
        // again, after any write in progress).
        if let Some(w) = &self.writer {
            w.forget(*key)?;
        }
        Ok(in_memory || stored)
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
        if self.writer.is_some() {
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
        // Unlike the session shards, the memory is kept: a slot is one number, written in
        // one step, so a panic cannot leave it half-updated, and dropping it would hand back
        // budget the write-behind store has not recorded yet. Checks fail closed until
        // `started` runs again.
        self.view.alive.store(false, Ordering::SeqCst);
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
guarded_handler!(Persist, usize, |a, _m| Ok(a.persist(true)?));
guarded_handler!(Ping, (), |a, _m| Ok(a.store.health_check()?));

#[cfg(any(test, feature = "test-util"))]
impl Handler<Crash> for RateLimitShard {
    type Result = Result<(), ActorError>;
    fn handle(&mut self, _: Crash, ctx: &mut Context<Self>) -> Self::Result {
        guarded::<Self, _>(NAME, ctx, || panic!("injected rate-limit shard crash"))
    }
}
