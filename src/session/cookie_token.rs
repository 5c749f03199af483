//! The signed session cookie value.
//!
//! A session cookie carries the client's [`SessionToken`] with an HMAC-SHA256 tag, in a
//! versioned, key-identified format:
//!
//! ```text
//! v1.<kid>.<token>.<mac>
//! ```
//!
//! - `kid`: the first 4 bytes of `SHA-256("warden/kid/v1" || secret)` as 8 lowercase hex
//!   characters. It says which secret signed the cookie without revealing it, so rotating the
//!   key costs one MAC computation per request, not one per configured key.
//! - `token`: the 32 token bytes, base64url without padding (43 characters).
//! - `mac`: `HMAC-SHA256(mac_key, "v1." || kid || "." || token)`, base64url without padding
//!   (43 characters), where `mac_key = HMAC-SHA256(secret, "warden/session-cookie/v1")`. The
//!   secrets are never used directly: the same secrets sign other things (CSRF tokens) under
//!   other labels.
//!
//! A cookie is therefore exactly 99 ASCII characters from `[A-Za-z0-9_.-]`, safe in a cookie
//! value without quoting. Verification rejects anything over [`MAX_COOKIE_LEN`] bytes before any
//! other work, accepts only canonical base64url (non-zero unused trailing bits are refused, so
//! every valid token has exactly one valid cookie per key), and compares MACs in constant time.
//! Neither errors nor `Debug` output ever contain the cookie, the token or key material.

use std::fmt;

use base64::Engine;
use subtle::ConstantTimeEq;
use warden_actors::session::SessionToken;

use crate::{
    config::SecretKeys,
    signing::{SigningKey, B64, KID_LEN, VERSION},
};

/// The longest cookie value [`CookieSigner::verify`] looks at, in bytes. Anything longer is
/// refused with [`CookieError::TooLong`] before it is parsed. A valid cookie is 99 bytes.
///
/// ```
/// use warden::session::CookieSigner;
///
/// assert_eq!(CookieSigner::MAX_COOKIE_LEN, 128);
/// ```
pub const MAX_COOKIE_LEN: usize = 128;

/// Domain-separation label for the session cookie MAC key.
const MAC_LABEL: &[u8] = b"warden/session-cookie/v1";

/// Length of the base64url (no padding) encoding of 32 bytes.
const B64_LEN: usize = 43;

/// Length of a valid cookie: `v1` `.` kid `.` token `.` mac.
const COOKIE_LEN: usize = VERSION.len() + 1 + KID_LEN + 1 + B64_LEN + 1 + B64_LEN;

/// Why a cookie value was refused (or a signer could not be built).
///
/// The messages are generic and never include the cookie value; [`CookieError::reason`] gives a
/// short stable code for audit events.
///
/// ```
/// use warden::session::{CookieError, CookieSigner};
///
/// let signer = CookieSigner::from_keys([[7u8; 32]])?;
/// let err = signer.verify("not a cookie").unwrap_err();
/// assert_eq!(err, CookieError::Malformed);
/// assert_eq!(err.reason(), "malformed");
/// assert_eq!(err.to_string(), "session cookie is malformed");
/// # Ok::<(), CookieError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CookieError {
    /// The value is longer than [`MAX_COOKIE_LEN`] bytes; it was not parsed.
    #[error("session cookie is too long")]
    TooLong,
    /// The value is not `v1.<kid>.<token>.<mac>` with well-formed fields (wrong number of
    /// parts, characters outside `[A-Za-z0-9_.-]`, bad lengths, non-canonical base64url).
    #[error("session cookie is malformed")]
    Malformed,
    /// The format version is not one this build understands.
    #[error("session cookie has an unknown format version")]
    UnknownVersion,
    /// The key id matches none of the configured keys (e.g. a key that was rotated out).
    #[error("session cookie was signed with an unknown key")]
    UnknownKey,
    /// The MAC does not match: the cookie was forged or altered.
    #[error("session cookie signature is invalid")]
    BadSignature,
    /// A signer was requested with no keys at all.
    #[error("no session cookie signing key is configured")]
    NoKeys,
}

impl CookieError {
    /// A short, stable code for logs and audit event details: `too_long`, `malformed`,
    /// `unknown_version`, `unknown_key`, `bad_signature` or `no_keys`.
    ///
    /// ```
    /// use warden::session::CookieError;
    ///
    /// assert_eq!(CookieError::BadSignature.reason(), "bad_signature");
    /// assert_eq!(CookieError::UnknownKey.reason(), "unknown_key");
    /// ```
    pub fn reason(&self) -> &'static str {
        match self {
            CookieError::TooLong => "too_long",
            CookieError::Malformed => "malformed",
            CookieError::UnknownVersion => "unknown_version",
            CookieError::UnknownKey => "unknown_key",
            CookieError::BadSignature => "bad_signature",
            CookieError::NoKeys => "no_keys",
        }
    }
}

/// A cookie that passed verification.
///
/// `Debug` shows no token material ([`SessionToken`]'s own `Debug` is redacted).
///
/// ```
/// use warden::session::CookieSigner;
/// use warden_actors::session::SessionToken;
///
/// let signer = CookieSigner::from_keys([[7u8; 32]])?;
/// let verified = signer.verify(&signer.sign(&SessionToken::from_bytes([1; 32])))?;
/// assert_eq!(
///     format!("{verified:?}"),
///     "VerifiedCookie { token: SessionToken(..), needs_resign: false }"
/// );
/// # Ok::<(), warden::session::CookieError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCookie {
    /// The session token the cookie carries.
    pub token: SessionToken,
    /// The cookie was signed with a previous key: re-issue it with [`CookieSigner::sign`] so it
    /// keeps working once that key is retired.
    pub needs_resign: bool,
}

/// Signs session tokens into cookie values and verifies them.
///
/// Holds one derived MAC key per configured secret, current first. [`sign`](Self::sign) always
/// uses the current key; [`verify`](Self::verify) accepts every configured key and flags cookies
/// signed by a previous one. `Debug` shows the number of keys and their public key ids only.
///
/// ```
/// use warden::config::SecretKeys;
/// use warden::session::{CookieError, CookieSigner};
/// use warden_actors::session::SessionToken;
///
/// let signer = CookieSigner::new(&SecretKeys::generate());
/// let token = SessionToken::generate();
///
/// let cookie = signer.sign(&token);
/// assert_eq!(cookie.len(), 99);
/// assert!(cookie.starts_with("v1."));
///
/// let verified = signer.verify(&cookie)?;
/// assert_eq!(verified.token, token);
/// assert!(!verified.needs_resign);
///
/// // Another key's cookies are refused.
/// let other = CookieSigner::new(&SecretKeys::generate());
/// assert_eq!(other.verify(&cookie).unwrap_err(), CookieError::UnknownKey);
/// # Ok::<(), CookieError>(())
/// ```
#[derive(Clone)]
pub struct CookieSigner {
    /// Signs and verifies.
    current: SigningKey,
    /// Verify only, newest first.
    previous: Vec<SigningKey>,
}

impl CookieSigner {
    /// The longest cookie value [`verify`](Self::verify) looks at, in bytes (same as
    /// [`MAX_COOKIE_LEN`]).
    pub const MAX_COOKIE_LEN: usize = MAX_COOKIE_LEN;

    /// A signer over the configured secrets: signs with [`SecretKeys::current`], also accepts
    /// the previous keys.
    pub fn new(secrets: &SecretKeys) -> Self {
        CookieSigner {
            current: SigningKey::derive(secrets.current(), MAC_LABEL),
            previous: secrets
                .previous()
                .map(|k| SigningKey::derive(k, MAC_LABEL))
                .collect(),
        }
    }

    /// A signer over raw keys, current first, then previous keys (for tests and custom
    /// setups). The keys are not checked for strength: prefer [`new`](Self::new) with
    /// [`SecretKeys`], which refuses short, weak and placeholder keys.
    ///
    /// ```
    /// use warden::session::{CookieError, CookieSigner};
    ///
    /// let signer = CookieSigner::from_keys([
    ///     "a-32-byte-or-longer-current-key!",
    ///     "the-previous-key-still-accepted!",
    /// ])?;
    /// assert_eq!(signer.kids().count(), 2);
    /// assert_eq!(
    ///     CookieSigner::from_keys(Vec::<Vec<u8>>::new()).unwrap_err(),
    ///     CookieError::NoKeys
    /// );
    /// # Ok::<(), CookieError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CookieError::NoKeys`] if `keys` is empty.
    pub fn from_keys<I, K>(keys: I) -> Result<Self, CookieError>
    where
        I: IntoIterator<Item = K>,
        K: AsRef<[u8]>,
    {
        let mut keys = keys
            .into_iter()
            .map(|k| SigningKey::derive(k.as_ref(), MAC_LABEL));
        let current = keys.next().ok_or(CookieError::NoKeys)?;
        Ok(CookieSigner {
            current,
            previous: keys.collect(),
        })
    }

    /// The cookie value for `token`, signed with the current key: `v1.<kid>.<token>.<mac>`,
    /// 99 ASCII characters.
    pub fn sign(&self, token: &SessionToken) -> String {
        let key = &self.current;
        let token_b64 = B64.encode(token.as_bytes());
        let mac_b64 = B64.encode(key.tag(&token_b64));
        let mut out = String::with_capacity(COOKIE_LEN);
        for part in [VERSION, ".", &key.kid, ".", &token_b64, ".", &mac_b64] {
            out.push_str(part);
        }
        out
    }

    /// Checks a cookie value received from a client and returns the token it carries.
    ///
    /// Never panics, whatever the input.
    ///
    /// ```
    /// use warden::session::{CookieError, CookieSigner};
    /// use warden_actors::session::SessionToken;
    ///
    /// let old = CookieSigner::from_keys(["the-old-key-that-is-being-rotated"])?;
    /// let cookie = old.sign(&SessionToken::from_bytes([9; 32]));
    ///
    /// // After rotation the old key is still accepted, and flagged.
    /// let rotated = CookieSigner::from_keys([
    ///     "the-new-current-key-for-signing!",
    ///     "the-old-key-that-is-being-rotated",
    /// ])?;
    /// let verified = rotated.verify(&cookie)?;
    /// assert!(verified.needs_resign);
    /// assert!(!rotated.verify(&rotated.sign(&verified.token))?.needs_resign);
    ///
    /// assert_eq!(rotated.verify(&"x".repeat(200)).unwrap_err(), CookieError::TooLong);
    /// assert_eq!(rotated.verify("v2.a.b.c").unwrap_err(), CookieError::UnknownVersion);
    /// # Ok::<(), CookieError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// In the order checked:
    /// - [`CookieError::TooLong`]: more than [`MAX_COOKIE_LEN`] bytes (nothing else is looked at);
    /// - [`CookieError::Malformed`]: a character outside `[A-Za-z0-9_.-]`, or not exactly four
    ///   `.`-separated parts;
    /// - [`CookieError::UnknownVersion`]: the first part is not `v1`;
    /// - [`CookieError::Malformed`]: the key id is not 8 lowercase hex characters, or the token
    ///   or MAC is not the canonical base64url encoding of 32 bytes;
    /// - [`CookieError::UnknownKey`]: no configured key has this key id;
    /// - [`CookieError::BadSignature`]: the MAC does not match (compared in constant time).
    pub fn verify(&self, value: &str) -> Result<VerifiedCookie, CookieError> {
        if value.len() > MAX_COOKIE_LEN {
            return Err(CookieError::TooLong);
        }
        if !value.bytes().all(is_cookie_char) {
            return Err(CookieError::Malformed);
        }
        let mut parts = value.split('.');
        let (Some(version), Some(kid), Some(token_b64), Some(mac_b64), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(CookieError::Malformed);
        };
        if version != VERSION {
            return Err(CookieError::UnknownVersion);
        }
        if kid.len() != KID_LEN || !kid.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(CookieError::Malformed);
        }
        let token = decode_32(token_b64)?;
        let mac = decode_32(mac_b64)?;

        let mut known_kid = false;
        for (index, key) in self.keys().enumerate() {
            // Key ids are public; only the MAC comparison needs to be constant-time. Ids are
            // 32 bits, so two configured keys could in principle share one: try each.
            if key.kid != kid {
                continue;
            }
            known_kid = true;
            if bool::from(key.tag(token_b64).ct_eq(&mac)) {
                return Ok(VerifiedCookie {
                    token: SessionToken::from_bytes(token),
                    needs_resign: index != 0,
                });
            }
        }
        Err(if known_kid {
            CookieError::BadSignature
        } else {
            CookieError::UnknownKey
        })
    }

    /// The public key ids of the configured keys, current first (8 lowercase hex characters
    /// each, as they appear in cookies). They identify keys without revealing them.
    pub fn kids(&self) -> impl Iterator<Item = &str> + '_ {
        self.keys().map(|k| k.kid.as_str())
    }

    /// The key id cookies are signed with now.
    pub fn current_kid(&self) -> &str {
        &self.current.kid
    }

    /// Every key, current first.
    fn keys(&self) -> impl Iterator<Item = &SigningKey> + '_ {
        std::iter::once(&self.current).chain(&self.previous)
    }
}

impl fmt::Debug for CookieSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieSigner")
            .field("keys", &(1 + self.previous.len()))
            .field("kids", &self.kids().collect::<Vec<_>>())
            .finish()
    }
}

/// The characters a signed cookie can contain: the base64url alphabet and `.`.
fn is_cookie_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
}

/// Decodes exactly 43 characters of canonical base64url into 32 bytes.
fn decode_32(s: &str) -> Result<[u8; 32], CookieError> {
    if s.len() != B64_LEN {
        return Err(CookieError::Malformed);
    }
    let mut out = [0u8; 32];
    match B64.decode_slice(s, &mut out) {
        Ok(32) => Ok(out),
        _ => Err(CookieError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_len_is_99() {
        assert_eq!(COOKIE_LEN, 99);
    }

    #[test]
    fn engine_refuses_non_canonical_trailing_bits() {
        let enc = B64.encode([0u8; 32]);
        assert_eq!(enc.len(), 43);
        assert!(enc.ends_with('A'));
        // 'B' sets one of the two unused low bits of the last character.
        let bad = format!("{}B", &enc[..42]);
        assert!(B64.decode(&bad).is_err());
        assert_eq!(decode_32(&bad), Err(CookieError::Malformed));
        // The stock engine behaves the same.
        assert!(base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&bad)
            .is_err());
    }
}
