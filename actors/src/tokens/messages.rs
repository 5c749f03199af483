//! Messages of the token actor: its whole API. Tokens are named by their hash, never by the
//! secret.

use std::sync::Arc;

use actix::Message;

use super::{
    record::{ApiTokenInfo, ResetRecord},
    secret::{TokenHash, TOKEN_ID_CHARS},
    view::ApiEntry,
};
use crate::ActorError;

/// Load an API token from the store into the view (a view miss).
#[derive(Debug)]
pub(crate) struct LoadApi(pub(crate) TokenHash);
impl Message for LoadApi {
    type Result = Result<Option<Arc<ApiEntry>>, ActorError>;
}

/// Store a new API token (revoking the user's oldest beyond the limit). Durable.
#[derive(Debug)]
pub(crate) struct IssueApi {
    pub(crate) hash: TokenHash,
    pub(crate) info: ApiTokenInfo,
}
impl Message for IssueApi {
    type Result = Result<ApiTokenInfo, ActorError>;
}

/// Revoke an API token by its public id, optionally only if `owner` holds it. Durable.
#[derive(Debug)]
pub(crate) struct RevokeApi {
    pub(crate) id: [u8; TOKEN_ID_CHARS / 2],
    pub(crate) owner: Option<String>,
}
impl Message for RevokeApi {
    type Result = Result<bool, ActorError>;
}

/// A user's live API tokens, oldest first.
#[derive(Debug)]
pub(crate) struct ListApi(pub(crate) String);
impl Message for ListApi {
    type Result = Result<Vec<ApiTokenInfo>, ActorError>;
}

/// Revoke every API token of a user. Durable.
#[derive(Debug)]
pub(crate) struct RevokeAllApi(pub(crate) String);
impl Message for RevokeAllApi {
    type Result = Result<usize, ActorError>;
}

/// Store a new reset token, revoking the user's previous ones. Durable.
#[derive(Debug)]
pub(crate) struct IssueReset {
    pub(crate) hash: TokenHash,
    pub(crate) user_id: String,
    pub(crate) user_version: u64,
}
impl Message for IssueReset {
    type Result = Result<(), ActorError>;
}

/// Remove a reset token (durably) and hand back its record if it was live.
#[derive(Debug)]
pub(crate) struct TakeReset(pub(crate) TokenHash);
impl Message for TakeReset {
    type Result = Result<Option<ResetRecord>, ActorError>;
}

/// Read a live reset token's record without consuming it.
#[derive(Debug)]
pub(crate) struct PeekReset(pub(crate) TokenHash);
impl Message for PeekReset {
    type Result = Result<Option<ResetRecord>, ActorError>;
}

/// Revoke every reset token of a user. Durable.
#[derive(Debug)]
pub(crate) struct RevokeResets(pub(crate) String);
impl Message for RevokeResets {
    type Result = Result<usize, ActorError>;
}

/// Fold pending `last_used_at` updates into the store and evict expired tokens from the view.
#[derive(Debug)]
pub(crate) struct Fold;
impl Message for Fold {
    type Result = Result<usize, ActorError>;
}

/// Liveness check (the actor and its store).
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
