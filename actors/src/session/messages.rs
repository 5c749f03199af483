//! Messages of a session shard: its whole API. Every message names a session by its id; a
//! shard only receives ids it owns.

use std::sync::Arc;

use actix::Message;

use super::{
    record::{Change, SessionRecord},
    view::SessionEntry,
    SessionId,
};
use crate::ActorError;

/// Load a session from the store into the view (a view miss).
#[derive(Debug)]
pub(crate) struct Load(pub(crate) SessionId);
impl Message for Load {
    type Result = Result<Option<Arc<SessionEntry>>, ActorError>;
}

/// Store a new session under a fresh id.
#[derive(Debug)]
pub(crate) struct Insert {
    pub(crate) id: SessionId,
    pub(crate) record: SessionRecord,
}
impl Message for Insert {
    type Result = Result<Arc<SessionEntry>, ActorError>;
}

/// What an apply (or a rotation) did: see [`SessionHandle::apply`](super::SessionHandle::apply).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ApplyOutcome {
    /// Applied; the new snapshot.
    Applied(Arc<SessionEntry>),
    /// The session no longer exists (revoked or expired meanwhile): nothing was written, and
    /// the session is not resurrected.
    Gone,
    /// The data would exceed `max_data_bytes`; nothing was written.
    TooLarge,
}

/// Apply per-key changes to an existing session.
#[derive(Debug)]
pub(crate) struct Apply {
    pub(crate) id: SessionId,
    pub(crate) changes: Vec<Change>,
}
impl Message for Apply {
    type Result = Result<ApplyOutcome, ActorError>;
}

/// Move a session to a new id on the same shard, applying changes, in one step: the old id
/// is dead (view and store, durably) before the answer, and no other message of this shard
/// (such as a destroy-all for the user) can run in between.
#[derive(Debug)]
pub(crate) struct Rotate {
    pub(crate) old: SessionId,
    pub(crate) new: SessionId,
    pub(crate) changes: Vec<Change>,
}
impl Message for Rotate {
    type Result = Result<ApplyOutcome, ActorError>;
}

/// Remove a session. Durable.
#[derive(Debug)]
pub(crate) struct Destroy(pub(crate) SessionId);
impl Message for Destroy {
    type Result = Result<bool, ActorError>;
}

/// Remove every session of a user that this shard owns, except one. Durable.
#[derive(Debug)]
pub(crate) struct DestroyUser {
    pub(crate) user_id: String,
    pub(crate) except: Option<SessionId>,
}
impl Message for DestroyUser {
    type Result = Result<Vec<SessionId>, ActorError>;
}

/// One session of a user, for "your sessions" lists and operators.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The session's id (never the token).
    pub id: SessionId,
    /// Creation time, ms since the epoch.
    pub created_at: u64,
    /// Last use, ms since the epoch.
    pub last_seen_at: u64,
    /// Last authentication, ms since the epoch.
    pub authenticated_at: Option<u64>,
}

/// List a user's sessions owned by this shard.
#[derive(Debug)]
pub(crate) struct ListUser(pub(crate) String);
impl Message for ListUser {
    type Result = Result<Vec<SessionInfo>, ActorError>;
}

/// Increment a user's session version (sent to the shard owning the user). Durable.
#[derive(Debug)]
pub(crate) struct BumpVersion(pub(crate) String);
impl Message for BumpVersion {
    type Result = Result<u64, ActorError>;
}

/// Read a user's session version into the view (sent to the shard owning the user).
#[derive(Debug)]
pub(crate) struct GetVersion(pub(crate) String);
impl Message for GetVersion {
    type Result = Result<u64, ActorError>;
}

/// Fold pending `last_seen` updates into the store and evict expired sessions now.
#[derive(Debug)]
pub(crate) struct Fold;
impl Message for Fold {
    type Result = Result<usize, ActorError>;
}

/// Liveness check.
#[derive(Debug)]
pub(crate) struct Ping;
impl Message for Ping {
    type Result = Result<(), ActorError>;
}

/// Test-only: panic inside a handler.
#[cfg(any(test, feature = "test-util"))]
#[derive(Debug)]
pub(crate) struct Crash;
#[cfg(any(test, feature = "test-util"))]
impl Message for Crash {
    type Result = Result<(), ActorError>;
}
