//! Session tokens and the ids they are stored under.

use std::fmt;

use rand::{rngs::OsRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Length of a session token and of a session id, in bytes.
pub const TOKEN_LEN: usize = 32;

/// The secret a client holds: 256 bits from the OS CSPRNG. It is never stored or logged; the
/// store only sees its [`SessionId`]. `Debug` prints nothing of it.
///
/// ```
/// use warden_actors::session::SessionToken;
///
/// let t = SessionToken::generate();
/// assert_ne!(t.id(), SessionToken::generate().id());
/// assert_eq!(format!("{t:?}"), "SessionToken(..)");
/// ```
#[derive(Clone)]
pub struct SessionToken([u8; TOKEN_LEN]);

impl SessionToken {
    /// A fresh token from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut b = [0u8; TOKEN_LEN];
        OsRng.fill_bytes(&mut b);
        SessionToken(b)
    }

    /// Wraps bytes received from a client (after the cookie signature was verified).
    pub fn from_bytes(b: [u8; TOKEN_LEN]) -> Self {
        SessionToken(b)
    }

    /// The raw bytes (to sign into a cookie).
    pub fn as_bytes(&self) -> &[u8; TOKEN_LEN] {
        &self.0
    }

    /// The id the session is stored under: SHA-256 of the token.
    pub fn id(&self) -> SessionId {
        SessionId(Sha256::digest(self.0).into())
    }
}

impl PartialEq for SessionToken {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}
impl Eq for SessionToken {}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

/// SHA-256 of a session token: the key of a session in the store and the view. A copy of the
/// database yields ids, never live tokens. Its hex prefix ([`SessionId::short`]) identifies a
/// session in logs and in "your sessions" lists.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub(crate) [u8; TOKEN_LEN]);

impl SessionId {
    /// The raw id bytes.
    pub fn as_bytes(&self) -> &[u8; TOKEN_LEN] {
        &self.0
    }

    /// Rebuilds an id from its bytes (e.g. read back from the per-user index).
    pub fn from_bytes(b: [u8; TOKEN_LEN]) -> Self {
        SessionId(b)
    }

    /// Parses the full 64-character hex form.
    pub fn from_hex(s: &str) -> Option<Self> {
        let v = hex::decode(s).ok()?;
        Some(SessionId(v.try_into().ok()?))
    }

    /// The full id in hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The first 16 hex characters: enough to tell sessions apart in a list or a log line.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..8])
    }

    /// Which of `n` shards owns this id.
    pub fn shard(&self, n: usize) -> usize {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.0[..8]);
        (u64::from_le_bytes(b) % n.max(1) as u64) as usize
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.short())
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_sha256_of_the_token() {
        let t = SessionToken::from_bytes([7u8; 32]);
        let expect: [u8; 32] = Sha256::digest([7u8; 32]).into();
        assert_eq!(t.id().as_bytes(), &expect);
        assert_eq!(SessionId::from_hex(&t.id().to_hex()), Some(t.id()));
        assert_eq!(SessionId::from_hex("zz"), None);
        assert_eq!(t.id().short().len(), 16);
    }

    #[test]
    fn shards_spread_and_stay_in_range() {
        let mut seen = [0usize; 4];
        for _ in 0..400 {
            seen[SessionToken::generate().id().shard(4)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 40), "{seen:?}");
        assert_eq!(SessionToken::generate().id().shard(1), 0);
    }
}
