//! Sessions: server-side, revocable, rotating, persisted.
//!
//! A session is stored under the SHA-256 of its token ([`SessionId`]); the token exists only in
//! the client's cookie. The session actor is sharded over several arbiters by id; a shard owns
//! its sessions (and the session versions of the users that hash to it), writes them through to
//! the store, and publishes them in a read view, so that the per-request lookup
//! ([`SessionHandle::lookup`]) costs no message. Changes are messages that carry per-key
//! differences ([`Change`]), so concurrent requests on one session keep each other's updates.
//!
//! Durability: creating an authenticated session, logins, logouts, rotations, destruction and
//! version bumps are durable before they are acknowledged; data changes of anonymous sessions
//! and `last_seen_at` (folded in every `touch_interval`) are buffered.
//!
//! Timeouts are enforced on the server on every lookup: idle (from the last use) and absolute
//! (from creation). Expired records leave the store through the expiry index.

mod actor;
mod handle;
mod messages;
mod record;
mod token;
mod view;

pub(crate) use actor::SessionShard;
pub use handle::{Lookup, RotateOutcome, SessionHandle};
pub use messages::{ApplyOutcome, SessionInfo};
pub use record::{Change, ExpiryReason, SessionPolicy, SessionRecord};
pub use token::{SessionId, SessionToken, TOKEN_LEN};
pub use view::SessionEntry;
pub(crate) use view::{AliveGuard, SessionView};
