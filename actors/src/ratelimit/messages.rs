//! Messages of the rate-limit shards: their whole API. Keys travel as their stored digest.

use actix::Message;

use super::{gcra::Gcra, view::Key, Decision};
use crate::ActorError;

/// Decide a request for `key` under `gcra` (spending one unit if allowed).
#[derive(Debug)]
pub(crate) struct Check {
    pub(crate) key: Key,
    pub(crate) gcra: Gcra,
}
impl Message for Check {
    type Result = Result<Decision, ActorError>;
}

/// Forget a key (memory, view and store): its whole budget is back.
#[derive(Debug)]
pub(crate) struct Reset(pub(crate) Key);
impl Message for Reset {
    type Result = Result<bool, ActorError>;
}

/// Drop the keys whose state has decayed now; returns how many were dropped.
#[derive(Debug)]
pub(crate) struct Sweep;
impl Message for Sweep {
    type Result = Result<usize, ActorError>;
}

/// Write the changed state to the store now; returns how many keys were written.
#[derive(Debug)]
pub(crate) struct Persist;
impl Message for Persist {
    type Result = Result<usize, ActorError>;
}

/// Liveness check (the shard and its store).
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
