//! Persistence: the [`Store`] trait every backend implements, and the embedded sled backend.
//!
//! # Shape
//!
//! State is split into [`Keyspace`]s, one per concern (sessions, the per-user session index,
//! user versions, lockout counters, rate-limit state, tokens, the audit log, metadata). In sled
//! each keyspace is one tree of a single `sled::Db`; a Redis backend maps a keyspace to a key
//! prefix. Keys and values are bytes; actors encode their own records.
//!
//! Every stored value is wrapped in an envelope whose first byte is the record format version
//! ([`FORMAT_VERSION`]), followed by the expiry time; an unknown version is an error
//! ([`StoreError::UnsupportedFormat`]), never a silent misread.
//!
//! # Expiry
//!
//! A record may carry an expiry time. Expired records are invisible to reads at once, and are
//! removed by [`Store::sweep_expired`], which walks an index ordered by expiry time, so a sweep
//! touches only expired records and removes at most a bounded batch per call.
//!
//! # Durability
//!
//! Writes take a [`Durability`]. [`Durability::Buffered`] writes are in the store's memory and
//! log at once and reach disk on the periodic flush (`store.flush_every_ms`, 500 ms by default):
//! a crash may lose the last period of them. [`Durability::Durable`] writes are flushed to disk
//! before the call returns; durable writes that arrive together share one flush (group commit).
//!
//! Which writes are durable in warden: revocations (logout, destroy-all, session-version bumps),
//! lockout failure counters and lock deadlines, token issuance and revocation, and must-log audit
//! events. Session touches (`last_seen_at`), rate-limit state and ordinary audit events are
//! buffered.
//!
//! # Blocking
//!
//! The trait is synchronous: every actor owns a thread (its arbiter), and calls its store there.
//! sled answers from memory in microseconds; a durable write blocks its caller for one (shared)
//! disk flush.

mod acceptance;
mod group_commit;
mod sled_store;

use std::{fmt::Debug, ops::Bound};

pub use self::sled_store::SledStore;
#[cfg(any(test, feature = "test-util"))]
pub use acceptance::run_acceptance_suite;
pub use acceptance::StoreFactory;

use crate::StoreError;

/// The current record format version: the first byte of every stored value.
pub const FORMAT_VERSION: u8 = 1;

/// One concern's slice of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Keyspace {
    /// Session records, keyed by SHA-256 of the session token.
    Sessions,
    /// Per-user index of sessions.
    SessionsByUser,
    /// Per-user session version.
    UserVersions,
    /// Lockout counters and lock deadlines.
    Lockout,
    /// GCRA rate-limit state.
    RateLimit,
    /// API and password-reset tokens (hashed).
    Tokens,
    /// The persisted audit log.
    Audit,
    /// Store-wide metadata.
    Meta,
}

impl Keyspace {
    /// Every keyspace.
    pub const ALL: [Keyspace; 8] = [
        Keyspace::Sessions,
        Keyspace::SessionsByUser,
        Keyspace::UserVersions,
        Keyspace::Lockout,
        Keyspace::RateLimit,
        Keyspace::Tokens,
        Keyspace::Audit,
        Keyspace::Meta,
    ];

    /// The keyspace's stable name (a sled tree name, a Redis key prefix).
    pub fn name(self) -> &'static str {
        match self {
            Keyspace::Sessions => "sessions",
            Keyspace::SessionsByUser => "sessions_by_user",
            Keyspace::UserVersions => "user_versions",
            Keyspace::Lockout => "lockout",
            Keyspace::RateLimit => "rate_limit",
            Keyspace::Tokens => "tokens",
            Keyspace::Audit => "audit",
            Keyspace::Meta => "meta",
        }
    }

    /// A stable one-byte id, used in the expiry index.
    pub fn id(self) -> u8 {
        match self {
            Keyspace::Sessions => 1,
            Keyspace::SessionsByUser => 2,
            Keyspace::UserVersions => 3,
            Keyspace::Lockout => 4,
            Keyspace::RateLimit => 5,
            Keyspace::Tokens => 6,
            Keyspace::Audit => 7,
            Keyspace::Meta => 8,
        }
    }

    /// The keyspace with this id.
    pub fn from_id(id: u8) -> Option<Keyspace> {
        Keyspace::ALL.into_iter().find(|k| k.id() == id)
    }
}

/// Whether a write must be on disk before it is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// In memory and the log now, on disk at the next periodic flush.
    #[default]
    Buffered,
    /// Flushed to disk before the call returns (group-committed).
    Durable,
}

/// Options for [`Store::put`].
///
/// ```
/// use warden_actors::store::{Durability, PutOptions};
///
/// let opts = PutOptions::durable().expires_at(1_700_000_000_000);
/// assert_eq!(opts.durability, Durability::Durable);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PutOptions {
    /// Expiry time in milliseconds since the epoch; `None` never expires.
    pub expires_at: Option<u64>,
    /// Durability of the write.
    pub durability: Durability,
}

impl PutOptions {
    /// Buffered, never expiring.
    pub fn buffered() -> Self {
        Self::default()
    }
    /// Durable, never expiring.
    pub fn durable() -> Self {
        Self {
            expires_at: None,
            durability: Durability::Durable,
        }
    }
    /// Sets the expiry time (ms since the epoch).
    #[must_use]
    pub fn expires_at(mut self, ms: u64) -> Self {
        self.expires_at = Some(ms);
        self
    }
}

/// A key and its value, as returned by scans.
pub type Entry = (Vec<u8>, Vec<u8>);

/// A persistent key-value store with expiry, shaped so that both sled and Redis can implement it.
///
/// Values passed in and returned are the caller's payload; the envelope (format byte, expiry) is
/// the backend's business. Reads never return an expired record.
pub trait Store: Send + Sync + Debug + 'static {
    /// Reads one record.
    fn get(&self, ks: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Writes one record, replacing any previous value and expiry.
    fn put(
        &self,
        ks: Keyspace,
        key: &[u8],
        value: &[u8],
        opts: PutOptions,
    ) -> Result<(), StoreError>;

    /// Removes one record; returns whether it existed (and had not expired).
    fn delete(&self, ks: Keyspace, key: &[u8], durability: Durability) -> Result<bool, StoreError>;

    /// Atomically adds `delta` to a signed 64-bit counter (a missing or expired counter counts
    /// as 0), sets its expiry, and returns the new value.
    fn increment(
        &self,
        ks: Keyspace,
        key: &[u8],
        delta: i64,
        opts: PutOptions,
    ) -> Result<i64, StoreError>;

    /// Live records in key order within the bounds; at most `limit`, newest-first if `reverse`.
    fn range(
        &self,
        ks: Keyspace,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<Entry>, StoreError>;

    /// Live records whose key starts with `prefix`, in key order; at most `limit`.
    fn scan_prefix(
        &self,
        ks: Keyspace,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError>;

    /// Number of records in a keyspace (expired but unswept records included).
    fn len(&self, ks: Keyspace) -> Result<u64, StoreError>;

    /// Removes at most `max` records whose expiry is at or before `now_ms`, found through the
    /// expiry index; returns how many were removed.
    fn sweep_expired(&self, now_ms: u64, max: usize) -> Result<usize, StoreError>;

    /// Makes every write so far durable (group-committed with concurrent callers).
    fn flush(&self) -> Result<(), StoreError>;

    /// A cheap check that the backend answers.
    fn health_check(&self) -> Result<(), StoreError>;
}

/// Encodes a value in the versioned envelope: format byte, expiry (u64 BE, 0 = never), payload.
pub(crate) fn encode_envelope(value: &[u8], expires_at: Option<u64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + value.len());
    out.push(FORMAT_VERSION);
    out.extend_from_slice(&expires_at.unwrap_or(0).to_be_bytes());
    out.extend_from_slice(value);
    out
}

/// Decodes an envelope into (expiry, payload).
pub(crate) fn decode_envelope(
    ks: Keyspace,
    raw: &[u8],
) -> Result<(Option<u64>, &[u8]), StoreError> {
    let (&version, rest) = raw.split_first().ok_or(StoreError::Corrupt {
        keyspace: ks.name(),
        reason: "empty record",
    })?;
    if version != FORMAT_VERSION {
        return Err(StoreError::UnsupportedFormat {
            keyspace: ks.name(),
            found: version,
        });
    }
    if rest.len() < 8 {
        return Err(StoreError::Corrupt {
            keyspace: ks.name(),
            reason: "truncated envelope",
        });
    }
    let (exp, payload) = rest.split_at(8);
    let mut b = [0u8; 8];
    b.copy_from_slice(exp);
    let exp = u64::from_be_bytes(b);
    Ok(((exp != 0).then_some(exp), payload))
}
