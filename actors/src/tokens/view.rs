//! The read view the token actor publishes: API-token lookups read it without a message.
//!
//! Only the actor writes it. A revocation leaves the view before it is acknowledged. The view
//! carries the actor's liveness: while the actor is down, reads fail closed.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
};

use parking_lot::RwLock;

use super::{record::ApiTokenInfo, secret::TokenHash};

/// An API token as published in the view: the stored record, plus the last use recorded by
/// readers (folded into the store by the actor).
#[derive(Debug)]
pub(crate) struct ApiEntry {
    info: ApiTokenInfo,
    last_used: AtomicU64,
    persisted: AtomicU64,
}

impl ApiEntry {
    pub(crate) fn new(info: ApiTokenInfo) -> Self {
        let lu = info.last_used_at.unwrap_or(0);
        Self {
            info,
            last_used: AtomicU64::new(lu),
            persisted: AtomicU64::new(lu),
        }
    }

    /// The record as stored (its `last_used_at` may lag behind).
    pub(crate) fn info(&self) -> &ApiTokenInfo {
        &self.info
    }

    /// The record with the newest `last_used_at`.
    pub(crate) fn snapshot(&self) -> ApiTokenInfo {
        let mut i = self.info.clone();
        let lu = self.last_used.load(Ordering::Relaxed);
        if lu > 0 {
            i.last_used_at = Some(i.last_used_at.unwrap_or(0).max(lu));
        }
        i
    }

    /// Records a use: one atomic max.
    pub(crate) fn touch(&self, now: u64) {
        self.last_used.fetch_max(now, Ordering::Relaxed);
    }

    /// The last use not yet written to the store, if any.
    pub(crate) fn needs_fold(&self) -> Option<u64> {
        let lu = self.last_used.load(Ordering::Relaxed);
        (lu > self.persisted.load(Ordering::Relaxed)).then_some(lu)
    }

    pub(crate) fn mark_folded(&self, lu: u64) {
        self.persisted.fetch_max(lu, Ordering::Relaxed);
    }
}

/// API tokens by hash, and the owner's liveness.
#[derive(Debug, Default)]
pub(crate) struct TokenView {
    pub(crate) api: RwLock<HashMap<TokenHash, Arc<ApiEntry>>>,
    pub(crate) alive: AtomicBool,
}

impl TokenView {
    pub(crate) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    pub(crate) fn get(&self, h: &TokenHash) -> Option<Arc<ApiEntry>> {
        self.api.read().get(h).cloned()
    }
}

/// Sets the view's liveness flag while the actor exists; clears it when dropped (the arbiter
/// stopped, the actor is gone).
#[derive(Debug)]
pub(crate) struct AliveGuard(pub(crate) Arc<TokenView>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.alive.store(false, Ordering::SeqCst);
    }
}
