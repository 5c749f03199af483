//! Signing keys: the current one first, then previous ones kept for rotation.

use std::fmt;

use rand::{rngs::OsRng, RngCore};

use super::error::{ConfigError, KeyError};

/// Minimum length of a secret key, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// Minimum number of distinct byte values in a secret key.
const MIN_DISTINCT_BYTES: usize = 8;

/// Exact values (compared case-insensitively) that are well-known placeholders.
const PLACEHOLDERS: &[&str] = &[
    "change-me",
    "changeme",
    "change_me",
    "secret",
    "password",
    "dev-only-not-for-production",
    "change-me-before-deploying",
    "replace-me",
    "replaceme",
    "placeholder",
];

/// Substrings (case-insensitive) that mark a key as copied from documentation.
const PLACEHOLDER_PARTS: &[&str] = &[
    "example",
    "changeme",
    "change-me",
    "change_me",
    "replace-me",
    "replaceme",
    "placeholder",
    "not-for-production",
];

/// The secret keys sessions, CSRF tokens and bearer tokens are signed with.
///
/// The first key is the current one (used to sign); the rest are previous keys, still accepted
/// when verifying so that rotating the key does not log everyone out. There is always at least
/// one key. `Debug` prints only the count and whether the key is ephemeral, never key material.
///
/// ```
/// use warden::config::SecretKeys;
///
/// let current = "x7Gk2pQ9vR4mT8wZ1nB6cY3hJ5sL0dF!".to_string();
/// let previous = "a9Zq1Lm3Np5Rt7Vx0Cb2Dg4Fh6Jk8Ps@".to_string();
/// let keys = SecretKeys::new([current.clone(), previous])?;
/// assert_eq!(keys.current(), current.as_bytes());
/// assert_eq!(keys.all().count(), 2);
/// assert!(!keys.is_ephemeral());
/// assert_eq!(format!("{keys:?}"), "SecretKeys { count: 2, ephemeral: false }");
///
/// let ephemeral = SecretKeys::generate();
/// assert_eq!(ephemeral.current().len(), 32);
/// assert!(ephemeral.is_ephemeral());
/// # Ok::<(), warden::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct SecretKeys {
    keys: Vec<Vec<u8>>,
    ephemeral: bool,
}

impl SecretKeys {
    /// Keys from configuration, current first. Each key's bytes are used as given (a
    /// 64-character hex string from `openssl rand -hex 32` is used as 64 bytes).
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] on `secrets.keys` if there is no key, or any key is shorter
    /// than 32 bytes, a known placeholder, too weak (fewer than 8 distinct bytes) or a
    /// duplicate. The error never contains key material.
    pub fn new<I, K>(keys: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = K>,
        K: Into<Vec<u8>>,
    {
        let keys: Vec<Vec<u8>> = keys.into_iter().map(Into::into).collect();
        let mut errors = Vec::new();
        if keys.is_empty() {
            errors.push(KeyError::new(
                "secrets.keys",
                "at least one key is required",
            ));
        }
        check_keys(&keys, &mut errors);
        if errors.is_empty() {
            Ok(Self {
                keys,
                ephemeral: false,
            })
        } else {
            Err(ConfigError::Invalid { errors })
        }
    }

    /// A single fresh key of 32 random bytes from the operating system's CSPRNG, marked
    /// ephemeral: sessions signed with it do not survive a restart.
    pub fn generate() -> Self {
        let mut key = vec![0u8; MIN_SECRET_LEN];
        OsRng.fill_bytes(&mut key);
        Self {
            keys: vec![key],
            ephemeral: true,
        }
    }

    /// The current key, used to sign.
    pub fn current(&self) -> &[u8] {
        // Invariant: never empty (both constructors guarantee at least one key).
        self.keys.first().map(Vec::as_slice).unwrap_or_default()
    }

    /// Every key, current first, then previous keys from newest to oldest; try them in this
    /// order when verifying.
    pub fn all(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.keys.iter().map(Vec::as_slice)
    }

    /// The previous keys only (verification only, never used to sign).
    pub fn previous(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.keys.iter().skip(1).map(Vec::as_slice)
    }

    /// How many keys there are (at least 1).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always false: there is at least one key. Present for API completeness.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether the key was generated at startup because none was configured.
    pub fn is_ephemeral(&self) -> bool {
        self.ephemeral
    }
}

impl fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKeys")
            .field("count", &self.keys.len())
            .field("ephemeral", &self.ephemeral)
            .finish()
    }
}

/// Names a key by position without revealing it.
fn describe(index: usize) -> String {
    if index == 0 {
        "the current key".to_owned()
    } else {
        format!("previous key #{index}")
    }
}

/// Appends one error per weak, placeholder, short or duplicate key.
pub(crate) fn check_keys(keys: &[Vec<u8>], errors: &mut Vec<KeyError>) {
    const KEY: &str = "secrets.keys";
    for (i, key) in keys.iter().enumerate() {
        let who = describe(i);
        if is_placeholder(key) {
            errors.push(KeyError::new(
                KEY,
                format!(
                    "{who} is a known example/placeholder value; \
                     generate a real one, e.g. `openssl rand -hex 32`"
                ),
            ));
            continue;
        }
        if key.len() < MIN_SECRET_LEN {
            errors.push(KeyError::new(
                KEY,
                format!(
                    "{who} must be at least {MIN_SECRET_LEN} bytes (got {}); \
                     generate one with `openssl rand -hex 32`",
                    key.len()
                ),
            ));
            continue;
        }
        if distinct_bytes(key) < MIN_DISTINCT_BYTES {
            errors.push(KeyError::new(
                KEY,
                format!(
                    "{who} is too weak: fewer than {MIN_DISTINCT_BYTES} distinct bytes; \
                     use random bytes, e.g. `openssl rand -hex 32`"
                ),
            ));
            continue;
        }
        if let Some(first) = keys[..i].iter().position(|k| k == key) {
            errors.push(KeyError::new(
                KEY,
                format!("{who} duplicates {}", describe(first)),
            ));
        }
    }
}

fn is_placeholder(key: &[u8]) -> bool {
    let lower = String::from_utf8_lossy(key).trim().to_ascii_lowercase();
    PLACEHOLDERS.contains(&lower.as_str()) || PLACEHOLDER_PARTS.iter().any(|p| lower.contains(p))
}

fn distinct_bytes(key: &[u8]) -> usize {
    let mut seen = [false; 256];
    for &b in key {
        seen[usize::from(b)] = true;
    }
    seen.iter().filter(|&&s| s).count()
}
