//! What is stored for each token, the policy, and the key layout in [`Keyspace::Tokens`].
//!
//! [`Keyspace::Tokens`]: crate::store::Keyspace::Tokens

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::secret::TokenHash;

/// Longest label kept for an API token, in characters; longer labels are truncated.
pub const MAX_LABEL_CHARS: usize = 100;

/// Lifetimes and limits of API and password-reset tokens.
///
/// When a user already holds `max_api_tokens_per_user` live API tokens, issuing another
/// **revokes the oldest** (durably, before the new token is returned) rather than failing:
/// issuance never errors for policy reasons, and a user cannot accumulate unbounded tokens.
///
/// ```
/// use std::time::Duration;
/// use warden_actors::tokens::TokenPolicy;
///
/// let p = TokenPolicy::default().max_api_tokens_per_user(5);
/// assert_eq!(p.reset_ttl, Duration::from_secs(30 * 60));
/// assert_eq!(p.api_default_ttl, None);
/// assert_eq!(p.max_api_tokens_per_user, 5);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenPolicy {
    /// How long a password-reset token stays valid. Default: 30 minutes.
    pub reset_ttl: Duration,
    /// Lifetime of API tokens issued without an explicit one; `None` never expires.
    /// Default: `None`.
    pub api_default_ttl: Option<Duration>,
    /// Live API tokens a user may hold; issuing one more revokes the oldest. At least 1.
    /// Default: 20.
    pub max_api_tokens_per_user: usize,
    /// How often `last_used_at` updates recorded by lookups are folded into the store.
    /// Default: 60 s.
    pub touch_interval: Duration,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        Self {
            reset_ttl: Duration::from_secs(30 * 60),
            api_default_ttl: None,
            max_api_tokens_per_user: 20,
            touch_interval: Duration::from_secs(60),
        }
    }
}

impl TokenPolicy {
    /// Sets [`TokenPolicy::reset_ttl`].
    #[must_use]
    pub fn reset_ttl(mut self, d: Duration) -> Self {
        self.reset_ttl = d;
        self
    }
    /// Sets [`TokenPolicy::api_default_ttl`].
    #[must_use]
    pub fn api_default_ttl(mut self, d: Option<Duration>) -> Self {
        self.api_default_ttl = d;
        self
    }
    /// Sets [`TokenPolicy::max_api_tokens_per_user`] (at least 1).
    #[must_use]
    pub fn max_api_tokens_per_user(mut self, n: usize) -> Self {
        self.max_api_tokens_per_user = n.max(1);
        self
    }
    /// Sets [`TokenPolicy::touch_interval`].
    #[must_use]
    pub fn touch_interval(mut self, d: Duration) -> Self {
        self.touch_interval = d;
        self
    }
}

pub(crate) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// What is known about an API token; never the token itself. This is also its stored record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiTokenInfo {
    /// Public id: the first 16 hex characters of the token's SHA-256. Names the token in
    /// lists, logs and [`TokenHandle::revoke_api_token`](super::TokenHandle::revoke_api_token).
    pub id: String,
    /// The user the token authenticates.
    pub user_id: String,
    /// The owner's name for the token (truncated to [`MAX_LABEL_CHARS`]).
    pub label: String,
    /// Issue time, ms since the epoch.
    pub created_at: u64,
    /// Expiry, ms since the epoch; `None` never expires.
    pub expires_at: Option<u64>,
    /// Last successful lookup, ms since the epoch (folded in every `touch_interval`, so it may
    /// lag behind by that much).
    pub last_used_at: Option<u64>,
}

impl ApiTokenInfo {
    pub(crate) fn new(
        hash: &TokenHash,
        user_id: &str,
        label: &str,
        now: u64,
        ttl: Option<Duration>,
    ) -> Self {
        Self {
            id: hash.id(),
            user_id: user_id.to_owned(),
            label: label.chars().take(MAX_LABEL_CHARS).collect(),
            created_at: now,
            expires_at: ttl.map(|d| now.saturating_add(ms(d))),
            last_used_at: None,
        }
    }

    /// Whether the token has expired at `now` (ms since the epoch).
    pub fn is_expired(&self, now: u64) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }
}

/// A stored password-reset token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ResetRecord {
    pub(crate) user_id: String,
    pub(crate) user_version: u64,
    pub(crate) created_at: u64,
    pub(crate) expires_at: u64,
}

/// The result of consuming a password-reset token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResetOutcome {
    /// The token was valid; it is now spent. Set the user's new password, bump their version.
    Valid {
        /// The user whose password may be reset.
        user_id: String,
    },
    /// Unknown, malformed, already used, expired, or issued before the user's credentials or
    /// version changed. One answer for all, so callers cannot leak which.
    Invalid,
}

// Key layout in `Keyspace::Tokens` (binary keys; no key or value holds a token):
//   api:<hash32>                       -> ApiTokenInfo (JSON)
//   api_user:<len u16 BE><user><hash32> -> empty (per-user index)
//   reset:<hash32>                     -> ResetRecord (JSON)
//   reset_user:<len u16 BE><user><hash32> -> empty (per-user index)
pub(crate) const API: &[u8] = b"api:";
pub(crate) const API_BY_USER: &[u8] = b"api_user:";
pub(crate) const RESET: &[u8] = b"reset:";
pub(crate) const RESET_BY_USER: &[u8] = b"reset_user:";

pub(crate) fn key(prefix: &[u8], hash: &TokenHash) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + 32);
    k.extend_from_slice(prefix);
    k.extend_from_slice(&hash.0);
    k
}

pub(crate) fn user_prefix(prefix: &[u8], user: &str) -> Vec<u8> {
    let u = user.as_bytes();
    let len = u16::try_from(u.len()).unwrap_or(u16::MAX);
    let mut k = Vec::with_capacity(prefix.len() + 2 + u.len() + 32);
    k.extend_from_slice(prefix);
    k.extend_from_slice(&len.to_be_bytes());
    k.extend_from_slice(u.get(..usize::from(len)).unwrap_or(u));
    k
}

pub(crate) fn user_key(prefix: &[u8], user: &str, hash: &TokenHash) -> Vec<u8> {
    let mut k = user_prefix(prefix, user);
    k.extend_from_slice(&hash.0);
    k
}

/// The hash at the end of a key that starts with `prefix`.
pub(crate) fn hash_after(prefix_len: usize, key: &[u8]) -> Option<TokenHash> {
    let raw = key.get(prefix_len..)?;
    Some(TokenHash(<[u8; 32]>::try_from(raw).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_do_not_overlap_and_labels_are_capped() {
        let h = TokenHash([9; 32]);
        assert!(!key(API, &h).starts_with(API_BY_USER));
        assert!(!user_key(API_BY_USER, "u", &h).starts_with(API));
        assert!(!key(RESET, &h).starts_with(RESET_BY_USER));
        let k = user_key(API_BY_USER, "bob", &h);
        assert_eq!(
            hash_after(user_prefix(API_BY_USER, "bob").len(), &k),
            Some(h)
        );
        assert_eq!(hash_after(3, b"short"), None);
        let i = ApiTokenInfo::new(
            &h,
            "bob",
            &"x".repeat(500),
            10,
            Some(Duration::from_secs(1)),
        );
        assert_eq!(i.label.chars().count(), MAX_LABEL_CHARS);
        assert_eq!(i.expires_at, Some(1_010));
        assert!(!i.is_expired(1_009) && i.is_expired(1_010));
    }
}
