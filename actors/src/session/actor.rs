//! A session shard: owns the sessions whose id hashes to it and the versions of the users that
//! hash to it; writes them through to the store and publishes them in its part of the view.

use std::sync::{atomic::Ordering, Arc};

use actix::{Actor, AsyncContext, Context, Handler, Supervised};

use super::{
    messages::*,
    record::{SessionPolicy, SessionRecord},
    view::{AliveGuard, SessionEntry, ShardView},
    SessionId,
};
use crate::{
    clock::SharedClock,
    runtime::supervise::guarded,
    store::{Durability, Keyspace, PutOptions, Store},
    ActorError, StoreError,
};

pub(crate) const NAME: &str = "session";

/// Key of a user's entry in the per-user index: length-prefixed user id, then the session id.
fn user_prefix(user: &str) -> Vec<u8> {
    let u = user.as_bytes();
    let len = u16::try_from(u.len()).unwrap_or(u16::MAX);
    let mut k = Vec::with_capacity(2 + u.len() + 32);
    k.extend_from_slice(&len.to_be_bytes());
    k.extend_from_slice(&u[..usize::from(len)]);
    k
}

fn user_key(user: &str, id: &SessionId) -> Vec<u8> {
    let mut k = user_prefix(user);
    k.extend_from_slice(id.as_bytes());
    k
}

fn decode(bytes: &[u8]) -> Result<SessionRecord, StoreError> {
    Ok(serde_json::from_slice(bytes)?)
}

/// One shard of the session actor.
#[derive(Debug)]
pub(crate) struct SessionShard {
    pub(crate) index: usize,
    pub(crate) shards: usize,
    pub(crate) policy: SessionPolicy,
    pub(crate) clock: SharedClock,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) view: Arc<ShardView>,
    pub(crate) _alive: AliveGuard,
}

impl SessionShard {
    fn now(&self) -> u64 {
        self.clock.now_millis()
    }

    fn owns(&self, id: &SessionId) -> bool {
        id.shard(self.shards) == self.index
    }

    fn persist(
        &self,
        id: &SessionId,
        rec: &SessionRecord,
        d: Durability,
    ) -> Result<(), ActorError> {
        let bytes = serde_json::to_vec(rec).map_err(StoreError::from)?;
        let opts = PutOptions {
            durability: d,
            expires_at: Some(self.policy.expires_at(rec.created_at, rec.last_seen_at)),
        };
        self.store
            .put(Keyspace::Sessions, id.as_bytes(), &bytes, opts)?;
        Ok(())
    }

    fn index_user(&self, id: &SessionId, rec: &SessionRecord) -> Result<(), ActorError> {
        if let Some(u) = &rec.user_id {
            let opts =
                PutOptions::buffered().expires_at(self.policy.absolute_deadline(rec.created_at));
            self.store
                .put(Keyspace::SessionsByUser, &user_key(u, id), &[], opts)?;
        }
        Ok(())
    }

    fn unindex_user(&self, id: &SessionId, rec: &SessionRecord) -> Result<(), ActorError> {
        if let Some(u) = &rec.user_id {
            self.store.delete(
                Keyspace::SessionsByUser,
                &user_key(u, id),
                Durability::Buffered,
            )?;
        }
        Ok(())
    }

    fn publish(&self, id: SessionId, entry: Arc<SessionEntry>) {
        self.view.sessions.write().insert(id, entry);
    }

    fn current(&self, id: &SessionId) -> Result<Option<Arc<SessionEntry>>, ActorError> {
        if let Some(e) = self.view.sessions.read().get(id) {
            return Ok(Some(e.clone()));
        }
        let Some(bytes) = self.store.get(Keyspace::Sessions, id.as_bytes())? else {
            return Ok(None);
        };
        let entry = Arc::new(SessionEntry::new(decode(&bytes)?));
        self.publish(*id, entry.clone());
        Ok(Some(entry))
    }

    /// Removes a session: from the view first, then durably from the store.
    fn remove(&self, id: &SessionId) -> Result<Option<SessionRecord>, ActorError> {
        let cached = self.view.sessions.write().remove(id);
        let rec = match cached {
            Some(e) => {
                let mut r = e.record().clone();
                r.last_seen_at = r.last_seen_at.max(e.last_seen());
                Some(r)
            }
            None => match self.store.get(Keyspace::Sessions, id.as_bytes())? {
                Some(b) => Some(decode(&b)?),
                None => None,
            },
        };
        if let Some(r) = &rec {
            self.unindex_user(id, r)?;
        }
        self.store
            .delete(Keyspace::Sessions, id.as_bytes(), Durability::Durable)?;
        Ok(rec)
    }

    fn apply(&self, msg: Apply) -> Result<ApplyOutcome, ActorError> {
        let Some(entry) = self.current(&msg.id)? else {
            return Ok(ApplyOutcome::Gone);
        };
        let now = self.now();
        if self
            .policy
            .check(entry.record().created_at, entry.last_seen(), now)
            .is_err()
        {
            self.remove(&msg.id)?;
            return Ok(ApplyOutcome::Gone);
        }
        let mut rec = entry.record().clone();
        let before_user = rec.user_id.clone();
        rec.apply(&msg.changes, now);
        if rec.data_len() > self.policy.max_data_bytes {
            return Ok(ApplyOutcome::TooLarge);
        }
        let next = Arc::new(entry.successor(rec));
        let durable = msg.changes.iter().any(|c| c.is_security_relevant());
        let d = if durable {
            Durability::Durable
        } else {
            Durability::Buffered
        };
        if before_user != next.record().user_id {
            let mut old = next.record().clone();
            old.user_id = before_user;
            self.unindex_user(&msg.id, &old)?;
            self.index_user(&msg.id, next.record())?;
        }
        if durable {
            // Publish only after the durable write: a crash must not leave a login visible
            // that the store does not have.
            self.persist(&msg.id, next.record(), d)?;
            self.publish(msg.id, next.clone());
        } else {
            self.publish(msg.id, next.clone());
            self.persist(&msg.id, next.record(), d)?;
        }
        next.mark_folded(next.record().last_seen_at);
        Ok(ApplyOutcome::Applied(next))
    }

    fn rotate(&self, msg: Rotate) -> Result<ApplyOutcome, ActorError> {
        if !self.owns(&msg.new) {
            return Err(ActorError::Invalid {
                actor: NAME,
                reason: "rotation target on another shard",
            });
        }
        let Some(entry) = self.current(&msg.old)? else {
            return Ok(ApplyOutcome::Gone);
        };
        let now = self.now();
        if self
            .policy
            .check(entry.record().created_at, entry.last_seen(), now)
            .is_err()
        {
            self.remove(&msg.old)?;
            return Ok(ApplyOutcome::Gone);
        }
        let mut rec = entry.record().clone();
        rec.last_seen_at = now.max(entry.last_seen());
        rec.apply(&msg.changes, now);
        if rec.data_len() > self.policy.max_data_bytes {
            return Ok(ApplyOutcome::TooLarge);
        }
        // Old id out of the view and the store (durable) first, then the new one in.
        self.remove(&msg.old)?;
        let next = Arc::new(SessionEntry::new(rec));
        self.index_user(&msg.new, next.record())?;
        self.persist(&msg.new, next.record(), Durability::Durable)?;
        self.publish(msg.new, next.clone());
        Ok(ApplyOutcome::Applied(next))
    }

    fn destroy_user(
        &self,
        user: &str,
        except: Option<SessionId>,
    ) -> Result<Vec<SessionId>, ActorError> {
        let prefix = user_prefix(user);
        let mut gone = Vec::new();
        for (k, _) in self
            .store
            .scan_prefix(Keyspace::SessionsByUser, &prefix, usize::MAX)?
        {
            let Some(raw) = k
                .get(prefix.len()..)
                .and_then(|s| <[u8; 32]>::try_from(s).ok())
            else {
                continue;
            };
            let id = SessionId::from_bytes(raw);
            if !self.owns(&id) || Some(id) == except {
                continue;
            }
            if self.remove(&id)?.is_some() {
                gone.push(id);
            }
            self.store
                .delete(Keyspace::SessionsByUser, &k, Durability::Buffered)?;
        }
        // Sessions published in the view but not (yet) indexed cannot exist: indexing happens
        // before a login is acknowledged. Still, sweep the view for this user to be sure.
        let stray: Vec<SessionId> = self
            .view
            .sessions
            .read()
            .iter()
            .filter(|(id, e)| e.record().user_id.as_deref() == Some(user) && Some(**id) != except)
            .map(|(id, _)| *id)
            .collect();
        for id in stray {
            self.remove(&id)?;
            gone.push(id);
        }
        self.store.flush()?;
        Ok(gone)
    }

    fn list_user(&self, user: &str) -> Result<Vec<SessionInfo>, ActorError> {
        let prefix = user_prefix(user);
        let now = self.now();
        let mut out = Vec::new();
        for (k, _) in self
            .store
            .scan_prefix(Keyspace::SessionsByUser, &prefix, usize::MAX)?
        {
            let Some(raw) = k
                .get(prefix.len()..)
                .and_then(|s| <[u8; 32]>::try_from(s).ok())
            else {
                continue;
            };
            let id = SessionId::from_bytes(raw);
            if !self.owns(&id) {
                continue;
            }
            if let Some(e) = self.current(&id)? {
                let r = e.record();
                if r.user_id.as_deref() == Some(user)
                    && self.policy.check(r.created_at, e.last_seen(), now).is_ok()
                {
                    out.push(SessionInfo {
                        id,
                        created_at: r.created_at,
                        last_seen_at: e.last_seen(),
                        authenticated_at: r.authenticated_at,
                    });
                }
            }
        }
        Ok(out)
    }

    fn version(&self, user: &str) -> Result<u64, ActorError> {
        if let Some(v) = self.view.versions.read().get(user) {
            return Ok(*v);
        }
        let v = self.store.increment(
            Keyspace::UserVersions,
            user.as_bytes(),
            0,
            PutOptions::buffered(),
        )?;
        let v = u64::try_from(v).unwrap_or(0);
        self.view.versions.write().insert(user.to_owned(), v);
        Ok(v)
    }

    fn bump(&self, user: &str) -> Result<u64, ActorError> {
        let v = self.store.increment(
            Keyspace::UserVersions,
            user.as_bytes(),
            1,
            PutOptions::durable(),
        )?;
        let v = u64::try_from(v).unwrap_or(0);
        self.view.versions.write().insert(user.to_owned(), v);
        Ok(v)
    }

    /// Folds `last_seen` updates into the store and evicts expired sessions from the view.
    fn fold(&self) -> Result<usize, ActorError> {
        let now = self.now();
        let entries: Vec<(SessionId, Arc<SessionEntry>)> = self
            .view
            .sessions
            .read()
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        let mut written = 0;
        for (id, e) in entries {
            let r = e.record();
            if self.policy.check(r.created_at, e.last_seen(), now).is_err() {
                // Expired. Kept in the view for one more idle period, so that the next request
                // presenting it is told why (an `Expired` lookup and its audit event), then
                // evicted; the store record leaves through the expiry index.
                let expired_at = self.policy.expires_at(r.created_at, e.last_seen());
                let grace = u64::try_from(self.policy.idle_timeout.as_millis()).unwrap_or(u64::MAX);
                if now >= expired_at.saturating_add(grace) {
                    self.view.sessions.write().remove(&id);
                }
                continue;
            }
            if let Some(ls) = e.needs_fold() {
                let mut rec = r.clone();
                rec.last_seen_at = ls;
                self.persist(&id, &rec, Durability::Buffered)?;
                e.mark_folded(ls);
                written += 1;
            }
        }
        Ok(written)
    }
}

impl Actor for SessionShard {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // (Also set when the shard is spawned, so a just-started runtime answers at once.)
        self.view.alive.store(true, Ordering::SeqCst);
        ctx.run_interval(self.policy.touch_interval, |act, _| {
            if let Err(e) = act.fold() {
                tracing::error!(error = %e, shard = act.index, "session touch fold failed");
            }
        });
    }

    fn stopping(&mut self, _: &mut Context<Self>) -> actix::Running {
        self.view.alive.store(false, Ordering::SeqCst);
        actix::Running::Stop
    }
}

impl Supervised for SessionShard {
    fn restarting(&mut self, _: &mut Context<Self>) {
        // In-memory state may be inconsistent after a panic: drop the view, reload lazily.
        self.view.alive.store(false, Ordering::SeqCst);
        self.view.sessions.write().clear();
        self.view.versions.write().clear();
    }
}

macro_rules! guarded_handler {
    ($msg:ty, $ret:ty, |$act:ident, $m:ident| $body:expr) => {
        impl Handler<$msg> for SessionShard {
            type Result = Result<$ret, ActorError>;
            fn handle(&mut self, $m: $msg, ctx: &mut Context<Self>) -> Self::Result {
                let $act = &*self;
                guarded::<Self, _>(NAME, ctx, || $body)?
            }
        }
    };
}

guarded_handler!(Load, Option<Arc<SessionEntry>>, |a, m| a.current(&m.0));
guarded_handler!(Insert, Arc<SessionEntry>, |a, m| {
    let durable = m.record.user_id.is_some();
    let entry = Arc::new(SessionEntry::new(m.record));
    a.index_user(&m.id, entry.record())?;
    let d = if durable {
        Durability::Durable
    } else {
        Durability::Buffered
    };
    a.persist(&m.id, entry.record(), d)?;
    a.publish(m.id, entry.clone());
    Ok(entry)
});
guarded_handler!(Apply, ApplyOutcome, |a, m| a.apply(m));
guarded_handler!(Rotate, ApplyOutcome, |a, m| a.rotate(m));
guarded_handler!(Destroy, bool, |a, m| Ok(a.remove(&m.0)?.is_some()));
guarded_handler!(DestroyUser, Vec<SessionId>, |a, m| a
    .destroy_user(&m.user_id, m.except));
guarded_handler!(ListUser, Vec<SessionInfo>, |a, m| a.list_user(&m.0));
guarded_handler!(BumpVersion, u64, |a, m| a.bump(&m.0));
guarded_handler!(GetVersion, u64, |a, m| a.version(&m.0));
guarded_handler!(Fold, usize, |a, _m| a.fold());
guarded_handler!(Ping, (), |a, _m| Ok(a.store.health_check()?));

#[cfg(any(test, feature = "test-util"))]
impl Handler<Crash> for SessionShard {
    type Result = Result<(), ActorError>;
    fn handle(&mut self, _: Crash, ctx: &mut Context<Self>) -> Self::Result {
        guarded::<Self, _>(NAME, ctx, || panic!("injected session shard crash"))
    }
}
