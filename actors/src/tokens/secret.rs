//! The secrets a client holds ([`ApiToken`], [`ResetToken`]) and the hashes they are stored
//! under.
//!
//! A token is `<prefix>` followed by 64 lowercase hex characters (32 bytes from the OS CSPRNG):
//! `wdn_…` for API tokens, `wdr_…` for password-reset tokens. The prefix makes a leaked token
//! greppable (secret scanners, log audits) and tells the two kinds apart. The store only ever
//! sees SHA-256 of the whole token string.

use std::fmt;

use rand::{rngs::OsRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Prefix of every API (bearer) token.
pub const API_TOKEN_PREFIX: &str = "wdn_";
/// Prefix of every password-reset token.
pub const RESET_TOKEN_PREFIX: &str = "wdr_";
/// Random bytes in a token.
pub const SECRET_BYTES: usize = 32;
/// Length of a token string: a 4-character prefix and 64 hex characters.
pub const TOKEN_CHARS: usize = 4 + 2 * SECRET_BYTES;
/// Length of a token id ([`ApiTokenInfo::id`](super::ApiTokenInfo::id)) in hex characters.
pub const TOKEN_ID_CHARS: usize = 16;

/// SHA-256 of a token string: its key in the store and the view.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TokenHash(pub(crate) [u8; 32]);

impl TokenHash {
    pub(crate) fn of(token: &str) -> Self {
        TokenHash(Sha256::digest(token.as_bytes()).into())
    }

    /// The public id: the first 8 bytes of the hash, as 16 hex characters.
    pub(crate) fn id(&self) -> String {
        hex::encode(&self.0[..TOKEN_ID_CHARS / 2])
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({})", self.id())
    }
}

/// Parses a public token id (16 lowercase hex characters) into the hash prefix it names.
pub(crate) fn parse_id(id: &str) -> Option<[u8; TOKEN_ID_CHARS / 2]> {
    if id.len() != TOKEN_ID_CHARS || !id.bytes().all(is_lower_hex) {
        return None;
    }
    hex::decode(id).ok()?.try_into().ok()
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

/// The hash of `token` if it is well-formed for `prefix`: exact length, exact prefix, lowercase
/// hex body. Anything else is `None`, decided without touching the store.
pub(crate) fn parse(prefix: &str, token: &str) -> Option<TokenHash> {
    if token.len() != TOKEN_CHARS || !token.starts_with(prefix) {
        return None;
    }
    let body = token.get(prefix.len()..)?;
    if !body.bytes().all(is_lower_hex) {
        return None;
    }
    Some(TokenHash::of(token))
}

fn generate(prefix: &str) -> String {
    let mut b = [0u8; SECRET_BYTES];
    OsRng.fill_bytes(&mut b);
    let mut s = String::with_capacity(TOKEN_CHARS);
    s.push_str(prefix);
    s.push_str(&hex::encode(b));
    s
}

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident, $prefix:expr, $label:literal) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name {
            text: String,
            hash: TokenHash,
        }

        impl $name {
            pub(crate) fn generate() -> Self {
                let text = generate($prefix);
                let hash = TokenHash::of(&text);
                Self { text, hash }
            }

            /// The token itself, to hand to its holder exactly once. Never log it.
            pub fn expose_secret(&self) -> &str {
                &self.text
            }

            /// The token's public id (the first 16 hex characters of its hash): safe to show
            /// in lists and logs.
            pub fn id(&self) -> String {
                self.hash.id()
            }

            pub(crate) fn hash(&self) -> TokenHash {
                self.hash
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.text.as_bytes().ct_eq(other.text.as_bytes()).into()
            }
        }
        impl Eq for $name {}

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($label, "({}, ..)"), self.hash.id())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(crate::REDACTED)
            }
        }
    };
}

secret_type!(
    /// An API (bearer) token: `wdn_` and 64 hex characters. Shown to its owner once, at issue;
    /// only its SHA-256 is stored. `Debug` and `Display` never print it.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Duration};
    /// # use warden_actors::{store::{SledStore, Store}, tokens::{start_tokens, TokenPolicy}, ManualClock, StoreConfig};
    /// # #[actix::main] async fn main() {
    /// # let clock = Arc::new(ManualClock::new(1_000));
    /// # let store: Arc<dyn Store> = Arc::new(SledStore::temporary(&StoreConfig::default(), clock.clone()).unwrap());
    /// # let tokens = start_tokens(store, clock, TokenPolicy::default(), 64, Duration::from_secs(2));
    /// let (token, info) = tokens.issue_api_token("alice", "ci".into(), None).await.unwrap();
    /// assert!(token.expose_secret().starts_with("wdn_"));
    /// assert_eq!(token.id(), info.id);
    /// assert!(!format!("{token:?} {token}").contains(token.expose_secret()));
    /// # }
    /// ```
    ApiToken,
    API_TOKEN_PREFIX,
    "ApiToken"
);

secret_type!(
    /// A password-reset token: `wdr_` and 64 hex characters. Delivered once (through the
    /// application's notifier); only its SHA-256 is stored. `Debug` and `Display` never print
    /// it.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Duration};
    /// # use warden_actors::{store::{SledStore, Store}, tokens::{start_tokens, TokenPolicy}, ManualClock, StoreConfig};
    /// # #[actix::main] async fn main() {
    /// # let clock = Arc::new(ManualClock::new(1_000));
    /// # let store: Arc<dyn Store> = Arc::new(SledStore::temporary(&StoreConfig::default(), clock.clone()).unwrap());
    /// # let tokens = start_tokens(store, clock, TokenPolicy::default(), 64, Duration::from_secs(2));
    /// let token = tokens.issue_reset_token("alice", 1).await.unwrap();
    /// assert!(token.expose_secret().starts_with("wdr_"));
    /// assert_eq!(token.to_string(), "[redacted]");
    /// # }
    /// ```
    ResetToken,
    RESET_TOKEN_PREFIX,
    "ResetToken"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_is_strict() {
        let t = ApiToken::generate();
        let s = t.expose_secret();
        assert_eq!(s.len(), TOKEN_CHARS);
        assert_eq!(parse(API_TOKEN_PREFIX, s), Some(t.hash()));
        assert_eq!(parse(RESET_TOKEN_PREFIX, s), None);
        assert_eq!(parse(API_TOKEN_PREFIX, &s.to_uppercase()), None);
        assert_eq!(parse(API_TOKEN_PREFIX, &s[..TOKEN_CHARS - 1]), None);
        assert_eq!(parse(API_TOKEN_PREFIX, &format!("{s}0")), None);
        assert_eq!(parse(API_TOKEN_PREFIX, ""), None);
        let multibyte = format!("wdn_{}é", "a".repeat(62));
        assert_eq!(multibyte.len(), TOKEN_CHARS);
        assert_eq!(parse(API_TOKEN_PREFIX, &multibyte), None);
        let expect: [u8; 32] = Sha256::digest(s.as_bytes()).into();
        assert_eq!(t.hash().0, expect);
    }

    #[test]
    fn ids_round_trip_and_reject_junk() {
        let t = ApiToken::generate();
        let id = t.id();
        assert_eq!(id.len(), TOKEN_ID_CHARS);
        assert_eq!(
            parse_id(&id).map(|b| b.to_vec()),
            Some(t.hash().0[..8].to_vec())
        );
        assert_eq!(parse_id("ABCDEF0123456789"), None);
        assert_eq!(parse_id("abc"), None);
        assert_eq!(parse_id("ééééééééé"), None);
    }

    #[test]
    fn secrets_are_redacted_and_compared_in_constant_time() {
        let t = ResetToken::generate();
        assert!(!format!("{t:?}").contains(t.expose_secret()));
        assert_eq!(t.to_string(), crate::REDACTED);
        assert_eq!(t.clone(), t);
        assert_ne!(ResetToken::generate(), t);
    }
}
