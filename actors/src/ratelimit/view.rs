//! The read view the rate-limit shards publish: refused keys, their shard's liveness, and the
//! counters. Only a shard writes its part (callers bump the counters of what they answer).
//!
//! A key enters the view when the shard refuses it (and has recorded that refusal for the
//! event), with the instant it will be allowed again; the view answers later refusals without
//! a message. The entry leaves when the shard allows the key or sweeps. Since a refused check
//! never changes a key's state, a refusal from the view is exactly what the shard would answer.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
};

use parking_lot::RwLock;
use sha2::{Digest, Sha256};

use super::{persist::PersistState, settings::RateLimitStats};

/// A key as stored: the first 16 bytes of SHA-256 over the policy name and the caller's key.
/// Fixed size (no allocation per key), stable across restarts, and no raw client address in
/// the store.
pub(crate) type Key = [u8; 16];

/// The stored key of `key` under the policy named `policy`.
pub(crate) fn key_for(policy: &str, key: &[u8]) -> Key {
    let mut h = Sha256::new();
    h.update(b"warden.ratelimit.v1\0");
    h.update([u8::try_from(policy.len()).unwrap_or(u8::MAX)]);
    h.update(policy.as_bytes());
    h.update(key);
    let d = h.finalize();
    let mut k = [0u8; 16];
    k.copy_from_slice(&d[..16]);
    k
}

/// Which shard owns a key.
pub(crate) fn shard_of(key: &Key, shards: usize) -> usize {
    let mut b = [0u8; 8];
    b.copy_from_slice(&key[..8]);
    (u64::from_le_bytes(b) % shards.max(1) as u64) as usize
}

/// A refused key: allowed again at `allow_at`, whole budget back at `tat` (ns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Blocked {
    pub(crate) allow_at: u64,
    pub(crate) tat: u64,
}

/// Monotonic counters of one shard.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) allowed: AtomicU64,
    pub(crate) denied: AtomicU64,
    pub(crate) denied_from_view: AtomicU64,
    pub(crate) first_blocks: AtomicU64,
    pub(crate) loaded: AtomicU64,
    pub(crate) swept: AtomicU64,
}

pub(crate) fn bump(c: &AtomicU64, by: u64) {
    c.fetch_add(by, Ordering::Relaxed);
}

/// One shard's part of the view.
#[derive(Debug, Default)]
pub(crate) struct ShardView {
    pub(crate) blocked: RwLock<HashMap<Key, Blocked>>,
    pub(crate) alive: AtomicBool,
    pub(crate) keys: AtomicUsize,
    pub(crate) capacity: AtomicUsize,
    pub(crate) counters: Counters,
}

impl ShardView {
    pub(crate) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// The refusal of `key` at `now`, if the view holds one still in force.
    pub(crate) fn blocked(&self, key: &Key, now: u64) -> Option<Blocked> {
        let b = *self.blocked.read().get(key)?;
        (now < b.allow_at).then_some(b)
    }

    fn add_to(&self, s: &mut RateLimitStats) {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        s.keys += self.keys.load(Ordering::Relaxed);
        s.capacity += self.capacity.load(Ordering::Relaxed);
        s.blocked_keys += self.blocked.read().len();
        s.allowed += get(&c.allowed);
        s.denied += get(&c.denied);
        s.denied_from_view += get(&c.denied_from_view);
        s.first_blocks += get(&c.first_blocks);
        s.loaded += get(&c.loaded);
        s.swept += get(&c.swept);
    }
}

/// The whole view: one part per shard, and the store writes.
#[derive(Debug)]
pub(crate) struct RateLimitView {
    pub(crate) shards: Vec<Arc<ShardView>>,
    pub(crate) writes: Arc<PersistState>,
}

impl RateLimitView {
    pub(crate) fn new(n: usize, writes: PersistState) -> Self {
        Self {
            shards: (0..n.max(1))
                .map(|_| Arc::new(ShardView::default()))
                .collect(),
            writes: Arc::new(writes),
        }
    }

    pub(crate) fn stats(&self) -> RateLimitStats {
        let mut s = RateLimitStats::default();
        for part in &self.shards {
            part.add_to(&mut s);
        }
        (s.persisted, s.persist_errors, s.persist_dropped) = self.writes.read();
        s
    }
}

/// Sets a shard's liveness flag while the shard actor exists; clears it when dropped (the
/// arbiter stopped, the actor is gone).
#[derive(Debug)]
pub(crate) struct AliveGuard(pub(crate) Arc<ShardView>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.alive.store(false, Ordering::SeqCst);
    }
}
