//! Error types of the actors crate.
//!
//! Faults are errors; policy outcomes (a denied check, a missing record) are values.

use std::time::Duration;

/// A failure of the persistent store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend failed (I/O, corruption, a closed database).
    #[error("store backend error: {0}")]
    Backend(String),
    /// A stored value carries a format-version byte this build does not understand.
    #[error("unsupported record format version {found} in keyspace {keyspace}")]
    UnsupportedFormat {
        /// The keyspace the record was read from.
        keyspace: &'static str,
        /// The version byte found.
        found: u8,
    },
    /// A stored value is shorter than its envelope header or otherwise malformed.
    #[error("corrupt record in keyspace {keyspace}: {reason}")]
    Corrupt {
        /// The keyspace the record was read from.
        keyspace: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
    /// A value could not be encoded or decoded.
    #[error("serialization error: {0}")]
    Serialization(String),
    /// The store has been closed (the runtime is shutting down).
    #[error("store is closed")]
    Closed,
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Serialization(e.to_string())
    }
}

/// A failure to get an answer from an actor.
///
/// Callers in the HTTP layer turn every variant into a refusal (503): they fail closed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ActorError {
    /// The actor did not answer within the configured ask timeout.
    #[error("actor {actor} did not answer within {timeout:?}")]
    Timeout {
        /// Which actor.
        actor: &'static str,
        /// The timeout that elapsed.
        timeout: Duration,
    },
    /// The actor's mailbox is closed (the actor or its arbiter stopped).
    #[error("actor {actor} is not running")]
    Unavailable {
        /// Which actor.
        actor: &'static str,
    },
    /// The actor's bounded mailbox is full; the message was not queued.
    #[error("actor {actor} mailbox is full")]
    Overloaded {
        /// Which actor.
        actor: &'static str,
    },
    /// The handler panicked; the actor is being restarted by its supervisor.
    #[error("actor {actor} panicked while handling a message")]
    Panicked {
        /// Which actor.
        actor: &'static str,
    },
    /// The actor refused the request as invalid (a caller bug, e.g. data over a limit).
    #[error("actor {actor} refused the request: {reason}")]
    Invalid {
        /// Which actor.
        actor: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// The actor answered with a store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ActorError {
    /// The name of the actor this error concerns, or `"store"` for store failures.
    pub fn actor(&self) -> &'static str {
        match self {
            ActorError::Timeout { actor, .. }
            | ActorError::Unavailable { actor }
            | ActorError::Overloaded { actor }
            | ActorError::Panicked { actor }
            | ActorError::Invalid { actor, .. } => actor,
            ActorError::Store(_) => "store",
        }
    }
}
