//! [`SessionHandle`]: the hot-path reads from the view, and the messages for changes.

use std::{sync::atomic::Ordering, sync::Arc, time::Duration};

use actix::Addr;

use super::{
    actor::{SessionShard, NAME},
    messages::*,
    record::{Change, ExpiryReason, SessionPolicy, SessionRecord},
    view::{SessionEntry, SessionView},
    SessionId, SessionToken,
};
use crate::{clock::SharedClock, runtime::supervise::ask, ActorError};

/// The outcome of looking a session up.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Lookup {
    /// A live session; it has been touched.
    Active(Arc<SessionEntry>),
    /// No such session (never existed, revoked, swept).
    Missing,
    /// The session existed but timed out; it is being removed.
    Expired(ExpiryReason),
    /// The session was authenticated at an older session version of its user (a password
    /// change, reset or account event happened since); it is being removed.
    VersionMismatch {
        /// The session's user.
        user_id: String,
        /// The version recorded in the session.
        stored: u64,
        /// The user's current version.
        current: u64,
    },
}

/// What [`SessionHandle::rotate`] did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RotateOutcome {
    /// Rotated: the new token (for the client only) and the new snapshot.
    Rotated(SessionToken, Arc<SessionEntry>),
    /// The session no longer exists; nothing was created.
    Gone,
    /// The changes would exceed `max_data_bytes`; the session is unchanged, old token alive.
    TooLarge,
}

impl RotateOutcome {
    /// The new token and snapshot, if the rotation happened.
    pub fn into_rotated(self) -> Option<(SessionToken, Arc<SessionEntry>)> {
        match self {
            RotateOutcome::Rotated(t, e) => Some((t, e)),
            _ => None,
        }
    }
}

/// A handle to the sharded session actor. Clone it freely.
///
/// Reads ([`SessionHandle::lookup`]) are served from the read view the shards publish, without
/// a message, unless the session is not in the view yet (after a restart); changes are
/// messages to the owning shard.
#[derive(Clone)]
pub struct SessionHandle {
    shards: Arc<[Addr<SessionShard>]>,
    view: Arc<SessionView>,
    policy: SessionPolicy,
    clock: SharedClock,
    timeout: Duration,
}

impl std::fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionHandle")
            .field("shards", &self.shards.len())
            .field("policy", &self.policy)
            .finish()
    }
}

impl SessionHandle {
    pub(crate) fn new(
        shards: Vec<Addr<SessionShard>>,
        view: Arc<SessionView>,
        policy: SessionPolicy,
        clock: SharedClock,
        timeout: Duration,
    ) -> Self {
        Self {
            shards: shards.into(),
            view,
            policy,
            clock,
            timeout,
        }
    }

    /// The timeouts and limits in force.
    pub fn policy(&self) -> &SessionPolicy {
        &self.policy
    }

    fn shard(&self, id: &SessionId) -> &Addr<SessionShard> {
        &self.shards[id.shard(self.shards.len())]
    }

    fn user_shard(&self, user: &str) -> &Addr<SessionShard> {
        &self.shards[super::view::user_shard(user, self.shards.len())]
    }

    fn check_alive(&self, id: &SessionId) -> Result<(), ActorError> {
        if self.view.part(id).alive.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err(ActorError::Unavailable { actor: NAME })
        }
    }

    fn classify(&self, id: &SessionId, entry: Arc<SessionEntry>) -> Lookup {
        let now = self.clock.now_millis();
        match self
            .policy
            .check(entry.record().created_at, entry.last_seen(), now)
        {
            Ok(()) => {
                // A stale version (known to the view without a message) revokes the session.
                if let Some(user) = &entry.record().user_id {
                    let stored = entry.record().session_version.unwrap_or(0);
                    let current = self
                        .view
                        .version_part(user)
                        .versions
                        .read()
                        .get(user)
                        .copied();
                    if let Some(current) = current.filter(|c| *c > stored) {
                        let _ = self.shard(id).try_send(Destroy(*id));
                        return Lookup::VersionMismatch {
                            user_id: user.clone(),
                            stored,
                            current,
                        };
                    }
                }
                entry.touch(now);
                Lookup::Active(entry)
            }
            Err(reason) => {
                // Removal is best-effort here: the store record expires through the expiry
                // index and the shard evicts the view entry on its next fold anyway.
                let _ = self.shard(id).try_send(Destroy(*id));
                Lookup::Expired(reason)
            }
        }
    }

    /// The view alone: `Some` when the answer is known without a message (the hot path),
    /// `None` when the session must be loaded by its shard. Fails closed while the owning
    /// shard is down.
    pub fn lookup_cached(&self, token: &SessionToken) -> Result<Option<Lookup>, ActorError> {
        let id = token.id();
        self.check_alive(&id)?;
        let hit = self.view.part(&id).sessions.read().get(&id).cloned();
        Ok(hit.map(|e| self.classify(&id, e)))
    }

    /// Looks a session up: from the view, or (on a miss) through its shard, which loads it
    /// from the store. Enforces the idle and absolute timeouts and touches the session.
    pub async fn lookup(&self, token: &SessionToken) -> Result<Lookup, ActorError> {
        if let Some(l) = self.lookup_cached(token)? {
            return Ok(l);
        }
        let id = token.id();
        match ask(NAME, self.shard(&id), Load(id), self.timeout).await?? {
            Some(e) => Ok(self.classify(&id, e)),
            None => Ok(Lookup::Missing),
        }
    }

    /// Creates a session holding `changes` (an anonymous visitor who stores nothing never gets
    /// here: no record, no cost). Returns the new token, which only the client will hold.
    pub async fn create(
        &self,
        changes: &[Change],
    ) -> Result<(SessionToken, Arc<SessionEntry>), ActorError> {
        let now = self.clock.now_millis();
        let mut record = SessionRecord::new(now);
        record.apply(changes, now);
        if record.data_len() > self.policy.max_data_bytes {
            return Err(ActorError::Invalid {
                actor: NAME,
                reason: "session data exceeds max_data_bytes",
            });
        }
        let token = SessionToken::generate();
        let id = token.id();
        let entry = ask(NAME, self.shard(&id), Insert { id, record }, self.timeout).await??;
        Ok((token, entry))
    }

    /// Applies per-key changes to an existing session.
    pub async fn apply(
        &self,
        id: SessionId,
        changes: Vec<Change>,
    ) -> Result<ApplyOutcome, ActorError> {
        ask(NAME, self.shard(&id), Apply { id, changes }, self.timeout).await?
    }

    /// Rotates a session: a new token with the same data (plus `changes`); the old token is
    /// dead before this returns. The new token is drawn (from the OS CSPRNG) until its id falls
    /// on the same shard as the old one, so the rotation is one step of one shard and cannot
    /// interleave with a destroy-all of the user (at most log2(shards) ≤ 6 of the 256 bits are
    /// spent on that choice).
    pub async fn rotate(
        &self,
        old: SessionId,
        changes: &[Change],
    ) -> Result<RotateOutcome, ActorError> {
        let n = self.shards.len();
        let want = old.shard(n);
        let token = loop {
            let t = SessionToken::generate();
            if t.id().shard(n) == want {
                break t;
            }
        };
        let msg = Rotate {
            old,
            new: token.id(),
            changes: changes.to_vec(),
        };
        Ok(
            match ask(NAME, self.shard(&old), msg, self.timeout).await?? {
                ApplyOutcome::Applied(entry) => RotateOutcome::Rotated(token, entry),
                ApplyOutcome::TooLarge => RotateOutcome::TooLarge,
                _ => RotateOutcome::Gone,
            },
        )
    }

    /// Destroys one session (logout, purge). Durable. Returns whether it existed.
    pub async fn destroy(&self, id: SessionId) -> Result<bool, ActorError> {
        ask(NAME, self.shard(&id), Destroy(id), self.timeout).await?
    }

    /// Destroys every session of a user, except `except`. Durable. Returns the removed ids.
    pub async fn destroy_all_for_user(
        &self,
        user_id: &str,
        except: Option<SessionId>,
    ) -> Result<Vec<SessionId>, ActorError> {
        let asks = self.shards.iter().map(|s| {
            let msg = DestroyUser {
                user_id: user_id.to_owned(),
                except,
            };
            ask(NAME, s, msg, self.timeout)
        });
        let mut out = Vec::new();
        for r in futures_util::future::join_all(asks).await {
            out.extend(r??);
        }
        Ok(out)
    }

    /// A user's live sessions, oldest first.
    pub async fn list_for_user(&self, user_id: &str) -> Result<Vec<SessionInfo>, ActorError> {
        let asks = self
            .shards
            .iter()
            .map(|s| ask(NAME, s, ListUser(user_id.to_owned()), self.timeout));
        let mut out = Vec::new();
        for r in futures_util::future::join_all(asks).await {
            out.extend(r??);
        }
        out.sort_by_key(|i| i.created_at);
        Ok(out)
    }

    /// The user's current session version: from the view, or loaded by the owning shard.
    pub async fn user_version(&self, user_id: &str) -> Result<u64, ActorError> {
        let part = self.view.version_part(user_id);
        if !part.alive.load(Ordering::SeqCst) {
            return Err(ActorError::Unavailable { actor: NAME });
        }
        if let Some(v) = part.versions.read().get(user_id) {
            return Ok(*v);
        }
        ask(
            NAME,
            self.user_shard(user_id),
            GetVersion(user_id.to_owned()),
            self.timeout,
        )
        .await?
    }

    /// Bumps the user's session version (after a password change or reset, or an account
    /// event) and destroys every other session of the user. `keep` (the session that made the
    /// change) survives, carrying the new version. Durable. Returns the new version.
    pub async fn bump_version(
        &self,
        user_id: &str,
        keep: Option<SessionId>,
    ) -> Result<u64, ActorError> {
        let v = ask(
            NAME,
            self.user_shard(user_id),
            BumpVersion(user_id.to_owned()),
            self.timeout,
        )
        .await??;
        self.destroy_all_for_user(user_id, keep).await?;
        if let Some(id) = keep {
            self.apply(id, vec![Change::SetVersion(v)]).await?;
        }
        Ok(v)
    }

    /// Folds pending `last_seen` updates into the store now (they are folded every
    /// `touch_interval` anyway). Returns how many sessions were written.
    pub async fn fold_now(&self) -> Result<usize, ActorError> {
        let asks = self.shards.iter().map(|s| ask(NAME, s, Fold, self.timeout));
        let mut n = 0;
        for r in futures_util::future::join_all(asks).await {
            n += r??;
        }
        Ok(n)
    }

    /// Checks every shard answers.
    pub async fn ping(&self) -> Result<(), ActorError> {
        let asks = self.shards.iter().map(|s| ask(NAME, s, Ping, self.timeout));
        for r in futures_util::future::join_all(asks).await {
            r??;
        }
        Ok(())
    }

    /// Test-only: makes the shard owning `id` panic (to exercise supervision).
    #[cfg(any(test, feature = "test-util"))]
    pub async fn crash_shard_for_tests(&self, id: SessionId) -> Result<(), ActorError> {
        ask(NAME, self.shard(&id), Crash, self.timeout).await?
    }
}
