//! Request identifiers: generated per request, or taken from a trusted proxy.

use std::fmt;

use rand::{rngs::OsRng, RngCore};

/// Longest request id accepted from a header.
pub const MAX_LEN: usize = 128;

/// An opaque request identifier, safe to echo in headers and logs.
///
/// Generated ids are 16 bytes from the operating system's CSPRNG as 32 lowercase hex characters.
/// Ids from outside ([`RequestId::parse`]) are limited to 1 to 128 characters of
/// `[A-Za-z0-9._:-]`, so they can never smuggle whitespace, CR/LF or quotes into a header or a
/// log line.
///
/// ```
/// use warden::RequestId;
///
/// let id = RequestId::generate();
/// assert_eq!(id.as_str().len(), 32);
/// assert!(RequestId::parse("edge-7f3a:42").is_some());
/// assert!(RequestId::parse("evil\r\nSet-Cookie: x=1").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct RequestId(String);

impl RequestId {
    /// A fresh random id: 16 CSPRNG bytes as 32 lowercase hex characters.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 16];
        if OsRng.try_fill_bytes(&mut bytes).is_err() {
            // The OS source failed (extremely rare): fall back to the thread-local CSPRNG,
            // which was seeded from the OS earlier, rather than failing the request.
            rand::thread_rng().fill_bytes(&mut bytes);
        }
        Self(hex::encode(bytes))
    }

    /// Accepts `value` if it is 1 to 128 characters of `[A-Za-z0-9._:-]`.
    pub fn parse(value: &str) -> Option<Self> {
        let ok = !value.is_empty()
            && value.len() <= MAX_LEN
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        ok.then(|| Self(value.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RequestId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<RequestId> for String {
    fn from(id: RequestId) -> Self {
        id.0
    }
}
