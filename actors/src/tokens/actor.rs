//! The token actor: owns API and password-reset tokens, writes them through to the store, and
//! publishes API tokens in the read view.

use std::{
    sync::{atomic::Ordering, Arc},
    time::Duration,
};

use actix::{Actor, AsyncContext, Context, Handler, Supervised};
use serde::{de::DeserializeOwned, Serialize};

use super::{
    messages::*,
    record::{
        hash_after, key, ms, user_key, user_prefix, ApiTokenInfo, ResetRecord, TokenPolicy, API,
        API_BY_USER, RESET, RESET_BY_USER,
    },
    secret::TokenHash,
    view::{AliveGuard, ApiEntry, TokenView},
};
use crate::{
    clock::SharedClock,
    runtime::supervise::guarded,
    store::{Durability, Keyspace, PutOptions, Store},
    ActorError, StoreError,
};

pub(crate) const NAME: &str = "tokens";
const KS: Keyspace = Keyspace::Tokens;

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    Ok(serde_json::from_slice(bytes)?)
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, StoreError> {
    Ok(serde_json::to_vec(v)?)
}

fn opts(durability: Durability, expires_at: Option<u64>) -> PutOptions {
    let o = match durability {
        Durability::Durable => PutOptions::durable(),
        _ => PutOptions::buffered(),
    };
    match expires_at {
        Some(e) => o.expires_at(e),
        None => o,
    }
}

/// The token actor. One per process: token writes are rare, and reads go through the view.
#[derive(Debug)]
pub(crate) struct TokenActor {
    pub(crate) policy: TokenPolicy,
    pub(crate) clock: SharedClock,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) view: Arc<TokenView>,
    pub(crate) _alive: AliveGuard,
}

impl TokenActor {
    fn now(&self) -> u64 {
        self.clock.now_millis()
    }

    fn publish(&self, h: TokenHash, e: Arc<ApiEntry>) {
        self.view.api.write().insert(h, e);
    }

    /// A live API token: from the view, or loaded from the store into the view.
    fn current_api(&self, h: &TokenHash) -> Result<Option<Arc<ApiEntry>>, ActorError> {
        let now = self.now();
        if let Some(e) = self.view.get(h) {
            if e.info().is_expired(now) {
                self.view.api.write().remove(h);
                return Ok(None);
            }
            return Ok(Some(e));
        }
        let Some(bytes) = self.store.get(KS, &key(API, h))? else {
            return Ok(None);
        };
        let info: ApiTokenInfo = decode(&bytes)?;
        if info.is_expired(now) {
            return Ok(None);
        }
        let e = Arc::new(ApiEntry::new(info));
        self.publish(*h, e.clone());
        Ok(Some(e))
    }

    /// Removes an API token: from the view first, then from the store. Returns whether a live
    /// record existed.
    fn remove_api(&self, h: &TokenHash, d: Durability) -> Result<bool, ActorError> {
        let cached = self.view.api.write().remove(h);
        let user = match cached {
            Some(e) => Some(e.info().user_id.clone()),
            None => match self.store.get(KS, &key(API, h))? {
                Some(b) => Some(decode::<ApiTokenInfo>(&b)?.user_id),
                None => None,
            },
        };
        if let Some(u) = user {
            self.store
                .delete(KS, &user_key(API_BY_USER, &u, h), Durability::Buffered)?;
        }
        Ok(self.store.delete(KS, &key(API, h), d)?)
    }

    /// A user's live API tokens, oldest first. Drops index entries whose token is gone.
    fn user_api(&self, user: &str) -> Result<Vec<(TokenHash, Arc<ApiEntry>)>, ActorError> {
        let prefix = user_prefix(API_BY_USER, user);
        let mut out = Vec::new();
        for (k, _) in self.store.scan_prefix(KS, &prefix, usize::MAX)? {
            let Some(h) = hash_after(prefix.len(), &k) else {
                continue;
            };
            match self.current_api(&h)? {
                Some(e) if e.info().user_id == user => out.push((h, e)),
                Some(_) => {} // another user whose long id shares the truncated prefix
                None => {
                    self.store.delete(KS, &k, Durability::Buffered)?;
                }
            }
        }
        out.sort_by(|a, b| {
            (a.1.info().created_at, &a.1.info().id).cmp(&(b.1.info().created_at, &b.1.info().id))
        });
        Ok(out)
    }

    fn issue_api(&self, h: TokenHash, info: ApiTokenInfo) -> Result<ApiTokenInfo, ActorError> {
        let max = self.policy.max_api_tokens_per_user.max(1);
        let live = self.user_api(&info.user_id)?;
        let excess = (live.len() + 1).saturating_sub(max);
        for (old, e) in live.iter().take(excess) {
            self.remove_api(old, Durability::Buffered)?;
            tracing::info!(
                token_id = %e.info().id,
                "api token limit reached; revoked the user's oldest token"
            );
        }
        let o = opts(Durability::Buffered, info.expires_at);
        self.store
            .put(KS, &user_key(API_BY_USER, &info.user_id, &h), &[], o)?;
        // The durable write also flushes the index entry and any revocations above. Publish
        // only after it: the view never shows what the store does not have.
        let o = opts(Durability::Durable, info.expires_at);
        self.store.put(KS, &key(API, &h), &encode(&info)?, o)?;
        self.publish(h, Arc::new(ApiEntry::new(info.clone())));
        Ok(info)
    }

    fn revoke_api(&self, m: RevokeApi) -> Result<bool, ActorError> {
        let mut prefix = API.to_vec();
        prefix.extend_from_slice(&m.id);
        let mut any = false;
        // 64-bit id prefixes: more than one match is astronomically unlikely, but bounded.
        for (k, v) in self.store.scan_prefix(KS, &prefix, 16)? {
            let Some(h) = hash_after(API.len(), &k) else {
                continue;
            };
            if let Some(owner) = &m.owner {
                if decode::<ApiTokenInfo>(&v)?.user_id != *owner {
                    continue;
                }
            }
            any |= self.remove_api(&h, Durability::Buffered)?;
        }
        self.store.flush()?;
        Ok(any)
    }

    fn revoke_all_api(&self, user: &str) -> Result<usize, ActorError> {
        let mut n = 0;
        for (h, _) in self.user_api(user)? {
            n += usize::from(self.remove_api(&h, Durability::Buffered)?);
        }
        // Tokens in the view are always indexed (the index is written first); sweep it anyway.
        let stray: Vec<TokenHash> = self
            .view
            .api
            .read()
            .iter()
            .filter(|(_, e)| e.info().user_id == user)
            .map(|(h, _)| *h)
            .collect();
        for h in stray {
            n += usize::from(self.remove_api(&h, Durability::Buffered)?);
        }
        self.store.flush()?;
        Ok(n)
    }

    /// Removes a user's reset tokens (and their index entries), buffered or durable.
    fn revoke_resets(&self, user: &str, d: Durability) -> Result<usize, ActorError> {
        let prefix = user_prefix(RESET_BY_USER, user);
        let mut n = 0;
        for (k, _) in self.store.scan_prefix(KS, &prefix, usize::MAX)? {
            let Some(h) = hash_after(prefix.len(), &k) else {
                continue;
            };
            let rk = key(RESET, &h);
            if let Some(b) = self.store.get(KS, &rk)? {
                if decode::<ResetRecord>(&b)?.user_id != user {
                    continue;
                }
                n += usize::from(self.store.delete(KS, &rk, Durability::Buffered)?);
            }
            self.store.delete(KS, &k, Durability::Buffered)?;
        }
        if d == Durability::Durable {
            self.store.flush()?;
        }
        Ok(n)
    }

    fn issue_reset(&self, m: IssueReset) -> Result<(), ActorError> {
        self.revoke_resets(&m.user_id, Durability::Buffered)?;
        let now = self.now();
        let rec = ResetRecord {
            user_id: m.user_id,
            user_version: m.user_version,
            created_at: now,
            expires_at: now.saturating_add(ms(self.policy.reset_ttl)),
        };
        let o = opts(Durability::Buffered, Some(rec.expires_at));
        self.store
            .put(KS, &user_key(RESET_BY_USER, &rec.user_id, &m.hash), &[], o)?;
        // Durable: also flushes the index entry and the revocation of the previous tokens.
        let o = opts(Durability::Durable, Some(rec.expires_at));
        self.store
            .put(KS, &key(RESET, &m.hash), &encode(&rec)?, o)?;
        Ok(())
    }

    fn peek_reset(&self, h: &TokenHash) -> Result<Option<ResetRecord>, ActorError> {
        let Some(b) = self.store.get(KS, &key(RESET, h))? else {
            return Ok(None);
        };
        let rec: ResetRecord = decode(&b)?;
        Ok((rec.expires_at > self.now()).then_some(rec))
    }

    /// Single use: the record is durably gone before a live record is handed back.
    fn take_reset(&self, h: &TokenHash) -> Result<Option<ResetRecord>, ActorError> {
        let rk = key(RESET, h);
        let Some(b) = self.store.get(KS, &rk)? else {
            return Ok(None);
        };
        let rec = decode::<ResetRecord>(&b);
        if let Ok(r) = &rec {
            self.store.delete(
                KS,
                &user_key(RESET_BY_USER, &r.user_id, h),
                Durability::Buffered,
            )?;
        }
        let existed = self.store.delete(KS, &rk, Durability::Durable)?;
        let rec = rec?;
        Ok((existed && rec.expires_at > self.now()).then_some(rec))
    }

    /// Folds `last_used_at` into the store and evicts expired or vanished tokens from the view.
    fn fold(&self) -> Result<usize, ActorError> {
        let now = self.now();
        let entries: Vec<(TokenHash, Arc<ApiEntry>)> = self
            .view
            .api
            .read()
            .iter()
            .map(|(h, e)| (*h, e.clone()))
            .collect();
        let mut written = 0;
        for (h, e) in entries {
            if e.info().is_expired(now) {
                // The store record leaves through the expiry index.
                self.view.api.write().remove(&h);
                continue;
            }
            let Some(lu) = e.needs_fold() else {
                continue;
            };
            // Never resurrect a record that left the store meanwhile.
            if self.store.get(KS, &key(API, &h))?.is_none() {
                self.view.api.write().remove(&h);
                continue;
            }
            let mut info = e.info().clone();
            info.last_used_at = Some(lu);
            let o = opts(Durability::Buffered, info.expires_at);
            self.store.put(KS, &key(API, &h), &encode(&info)?, o)?;
            e.mark_folded(lu);
            written += 1;
        }
        Ok(written)
    }
}

impl Actor for TokenActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.view.alive.store(true, Ordering::SeqCst);
        let every = self.policy.touch_interval.max(Duration::from_millis(100));
        ctx.run_interval(every, |act, _| {
            if let Err(e) = act.fold() {
                tracing::error!(error = %e, "api token last-use fold failed");
            }
        });
    }

    fn stopping(&mut self, _: &mut Context<Self>) -> actix::Running {
        self.view.alive.store(false, Ordering::SeqCst);
        actix::Running::Stop
    }
}

impl Supervised for TokenActor {
    fn restarting(&mut self, _: &mut Context<Self>) {
        // In-memory state may be inconsistent after a panic: drop the view, reload lazily.
        self.view.alive.store(false, Ordering::SeqCst);
        self.view.api.write().clear();
    }
}

macro_rules! guarded_handler {
    ($msg:ty, $ret:ty, |$act:ident, $m:ident| $body:expr) => {
        impl Handler<$msg> for TokenActor {
            type Result = Result<$ret, ActorError>;
            fn handle(&mut self, $m: $msg, ctx: &mut Context<Self>) -> Self::Result {
                let $act = &*self;
                guarded::<Self, _>(NAME, ctx, || $body)?
            }
        }
    };
}

guarded_handler!(LoadApi, Option<Arc<ApiEntry>>, |a, m| a.current_api(&m.0));
guarded_handler!(IssueApi, ApiTokenInfo, |a, m| a.issue_api(m.hash, m.info));
guarded_handler!(RevokeApi, bool, |a, m| a.revoke_api(m));
guarded_handler!(ListApi, Vec<ApiTokenInfo>, |a, m| Ok(a
    .user_api(&m.0)?
    .into_iter()
    .map(|(_, e)| e.snapshot())
    .collect()));
guarded_handler!(RevokeAllApi, usize, |a, m| a.revoke_all_api(&m.0));
guarded_handler!(IssueReset, (), |a, m| a.issue_reset(m));
guarded_handler!(TakeReset, Option<ResetRecord>, |a, m| a.take_reset(&m.0));
guarded_handler!(PeekReset, Option<ResetRecord>, |a, m| a.peek_reset(&m.0));
guarded_handler!(RevokeResets, usize, |a, m| a
    .revoke_resets(&m.0, Durability::Durable));
guarded_handler!(Fold, usize, |a, _m| a.fold());
guarded_handler!(Ping, (), |a, _m| Ok(a.store.health_check()?));

#[cfg(any(test, feature = "test-util"))]
impl Handler<Crash> for TokenActor {
    type Result = Result<(), ActorError>;
    fn handle(&mut self, _: Crash, ctx: &mut Context<Self>) -> Self::Result {
        guarded::<Self, _>(NAME, ctx, || panic!("injected token actor crash"))
    }
}
