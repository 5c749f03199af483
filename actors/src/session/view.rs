//! The read view the session shards publish: the hot path reads it without a message.
//!
//! Only a shard writes its part of the view. A revocation leaves the view before it is
//! acknowledged. Each part carries its shard's liveness: while a shard is down, reads of its
//! part fail closed.

use std::{
    collections::HashMap,
    hash::{Hash, Hasher},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
};

use parking_lot::RwLock;

use super::{record::SessionRecord, SessionId};

/// A session as published in the view: an immutable snapshot of the record plus the last time
/// a request used it (updated by readers, folded into the store by the shard).
#[derive(Debug)]
pub struct SessionEntry {
    record: SessionRecord,
    last_seen: AtomicU64,
    persisted_last_seen: AtomicU64,
}

impl SessionEntry {
    pub(crate) fn new(record: SessionRecord) -> Self {
        let ls = record.last_seen_at;
        Self {
            record,
            last_seen: AtomicU64::new(ls),
            persisted_last_seen: AtomicU64::new(ls),
        }
    }

    /// A new snapshot with `record`, keeping the newest `last_seen`.
    pub(crate) fn successor(&self, mut record: SessionRecord) -> Self {
        let ls = self.last_seen().max(record.last_seen_at);
        record.last_seen_at = ls;
        let e = Self::new(record);
        e.persisted_last_seen.store(
            self.persisted_last_seen.load(Ordering::Relaxed),
            Ordering::Relaxed,
        );
        e
    }

    /// The record snapshot (its `last_seen_at` may lag behind [`SessionEntry::last_seen`]).
    pub fn record(&self) -> &SessionRecord {
        &self.record
    }

    /// The last time a request used this session (ms since the epoch).
    pub fn last_seen(&self) -> u64 {
        self.last_seen.load(Ordering::Relaxed)
    }

    /// Records a use; cheap (one atomic max), folded into the store by the shard later.
    pub fn touch(&self, now: u64) {
        self.last_seen.fetch_max(now, Ordering::Relaxed);
    }

    pub(crate) fn needs_fold(&self) -> Option<u64> {
        let ls = self.last_seen();
        (ls > self.persisted_last_seen.load(Ordering::Relaxed)).then_some(ls)
    }

    pub(crate) fn mark_folded(&self, ls: u64) {
        self.persisted_last_seen.fetch_max(ls, Ordering::Relaxed);
    }
}

#[derive(Debug, Default)]
pub(crate) struct ShardView {
    pub(crate) sessions: RwLock<HashMap<SessionId, Arc<SessionEntry>>>,
    pub(crate) versions: RwLock<HashMap<String, u64>>,
    pub(crate) alive: AtomicBool,
}

/// The whole view: one part per shard.
#[derive(Debug)]
pub(crate) struct SessionView {
    pub(crate) shards: Vec<Arc<ShardView>>,
}

/// Which shard owns a user's version.
pub(crate) fn user_shard(user: &str, n: usize) -> usize {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    user.hash(&mut h);
    (h.finish() % n.max(1) as u64) as usize
}

impl SessionView {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            shards: (0..n.max(1))
                .map(|_| Arc::new(ShardView::default()))
                .collect(),
        }
    }

    pub(crate) fn part(&self, id: &SessionId) -> &ShardView {
        &self.shards[id.shard(self.shards.len())]
    }

    pub(crate) fn version_part(&self, user: &str) -> &ShardView {
        &self.shards[user_shard(user, self.shards.len())]
    }
}

/// Sets a shard's liveness flag while the shard actor exists; clears it when dropped.
#[derive(Debug)]
pub(crate) struct AliveGuard(pub(crate) Arc<ShardView>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.alive.store(false, Ordering::SeqCst);
    }
}
