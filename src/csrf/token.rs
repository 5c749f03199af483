//! CSRF tokens: the per-session secret, its masked rendering, and the signed pre-session cookie.
//!
//! # Session-bound tokens
//!
//! Each session keeps one 256-bit [`CsrfSecret`] (stored as [`CsrfSecret::to_b64`] in the
//! session record). Pages never show the secret itself: every render calls [`mask`], which
//! draws a fresh 32-byte one-time pad and emits
//!
//! ```text
//! base64url_nopad(pad || (pad XOR secret))      86 characters
//! ```
//!
//! so two renders of the same secret share no bytes an attacker could use in a BREACH-style
//! compression oracle. [`unmask`] reverses it (strictly: exactly [`MASKED_TOKEN_LEN`]
//! characters of canonical base64url) and [`verify`] compares the result with the session's
//! secret in constant time. A raw (unmasked) secret is never a valid token.
//!
//! # Pre-session tokens (login CSRF)
//!
//! Before a session exists (the login page) there is no server-side record to keep a secret
//! in, and serving the login page must not create one. [`PresessionSigner`] issues a signed
//! double-submit cookie instead:
//!
//! ```text
//! v1.<kid>.<nonce>.<mac>                        99 characters
//! ```
//!
//! - `kid`: the first 4 bytes of `SHA-256("warden/kid/v1" || key)` in lowercase hex (the same
//!   public key id as the session cookie's);
//! - `nonce`: 32 random bytes, base64url without padding;
//! - `mac`: `HMAC-SHA256(k, "v1." || kid || "." || nonce_b64)` with
//!   `k = HMAC-SHA256(key, "warden/csrf-presession/v1")`, a key separate from the session
//!   cookie's.
//!
//! The CSRF secret for that cookie is `HMAC-SHA256(k, "secret:" || nonce)`: it is never in the
//! cookie, only recomputable from it by the server. The login form carries `mask(secret)`, so a
//! login POST needs both the cookie and a token derived from it.
//!
//! Nothing here panics on any input, every comparison of secret material is constant-time, and
//! no `Debug` output contains a secret, a token or key material.

use std::fmt;

use base64::Engine;
use hmac::Mac;
use rand::{rngs::OsRng, RngCore};
use subtle::{Choice, ConstantTimeEq};

use crate::{
    config::SecretKeys,
    signing::{SigningKey, B64, KID_LEN, VERSION},
};

/// Length of a masked token produced by [`mask`]: 64 bytes in base64url without padding.
///
/// ```
/// use warden::csrf::{mask, CsrfSecret, MASKED_TOKEN_LEN};
///
/// assert_eq!(MASKED_TOKEN_LEN, 86);
/// assert_eq!(mask(&CsrfSecret::generate()).len(), MASKED_TOKEN_LEN);
/// ```
pub const MASKED_TOKEN_LEN: usize = 86;

/// The longest pre-session cookie value [`PresessionSigner::open`] looks at, in bytes. Anything
/// longer is refused before it is parsed. A valid cookie is 99 bytes.
pub const PRESESSION_COOKIE_MAX_LEN: usize = 128;

/// Length of a secret in bytes.
const SECRET_LEN: usize = 32;

/// Length of the base64url (no padding) encoding of 32 bytes.
const B64_32_LEN: usize = 43;

/// Domain-separation label for the pre-session MAC key.
const PRESESSION_LABEL: &[u8] = b"warden/csrf-presession/v1";

/// Prefix of the message whose MAC is the pre-session CSRF secret. It cannot collide with a
/// cookie MAC message, which starts with `v1.`.
const SECRET_PREFIX: &[u8] = b"secret:";

/// Length of a valid pre-session cookie: `v1` `.` kid `.` nonce `.` mac.
const PRESESSION_COOKIE_LEN: usize = VERSION.len() + 1 + KID_LEN + 1 + B64_32_LEN + 1 + B64_32_LEN;

/// A session's 256-bit CSRF secret.
///
/// Kept server-side (in the session record, as [`to_b64`](Self::to_b64)) and only ever sent to
/// clients masked ([`mask`]). Equality is constant-time; `Debug` is redacted and there is no
/// `Display`.
///
/// ```
/// use warden::csrf::CsrfSecret;
///
/// let secret = CsrfSecret::generate();
/// let stored = secret.to_b64();
/// assert_eq!(stored.len(), 43);
/// assert_eq!(CsrfSecret::from_b64(&stored), Some(secret.clone()));
/// assert_eq!(format!("{secret:?}"), "CsrfSecret(..)");
/// assert_eq!(CsrfSecret::from_b64("not a secret"), None);
/// ```
#[derive(Clone)]
pub struct CsrfSecret([u8; SECRET_LEN]);

impl CsrfSecret {
    /// A fresh secret of 32 bytes from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = [0u8; SECRET_LEN];
        OsRng.fill_bytes(&mut bytes);
        CsrfSecret(bytes)
    }

    /// A secret with the given bytes (tests, or secrets derived elsewhere).
    pub fn from_bytes(bytes: [u8; SECRET_LEN]) -> Self {
        CsrfSecret(bytes)
    }

    /// The secret as 43 characters of base64url without padding, for storage in the session
    /// record. This is the raw secret: never render it into a page (use [`mask`]).
    pub fn to_b64(&self) -> String {
        B64.encode(self.0)
    }

    /// Parses [`to_b64`](Self::to_b64) output: exactly 43 characters of canonical base64url.
    /// Anything else is `None`.
    pub fn from_b64(value: &str) -> Option<Self> {
        decode_fixed::<SECRET_LEN>(value, B64_32_LEN).map(CsrfSecret)
    }
}

impl ConstantTimeEq for CsrfSecret {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for CsrfSecret {
    /// Constant-time.
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.ct_eq(other))
    }
}

impl Eq for CsrfSecret {}

impl fmt::Debug for CsrfSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfSecret(..)")
    }
}

/// Renders `secret` as a masked token: `base64url_nopad(pad || (pad XOR secret))` with a fresh
/// 32-byte one-time pad from the OS CSPRNG, [`MASKED_TOKEN_LEN`] (86) characters from
/// `[A-Za-z0-9_-]`, safe in HTML attributes, headers and form fields without escaping.
///
/// Every call returns a different token; all of them [`verify`] against `secret`.
///
/// ```
/// use warden::csrf::{mask, verify, CsrfSecret};
///
/// let secret = CsrfSecret::generate();
/// let a = mask(&secret);
/// let b = mask(&secret);
/// assert_ne!(a, b);
/// assert!(verify(&a, &secret));
/// assert!(verify(&b, &secret));
/// assert!(!verify(&a, &CsrfSecret::generate()));
/// ```
pub fn mask(secret: &CsrfSecret) -> String {
    let mut buf = [0u8; 2 * SECRET_LEN];
    let (pad, cipher) = buf.split_at_mut(SECRET_LEN);
    OsRng.fill_bytes(pad);
    for ((c, p), s) in cipher.iter_mut().zip(pad.iter()).zip(secret.0.iter()) {
        *c = p ^ s;
    }
    B64.encode(buf)
}

/// Recovers the secret from a masked token.
///
/// Strict: exactly [`MASKED_TOKEN_LEN`] characters of canonical base64url (no padding, no
/// whitespace, no non-zero trailing bits) decoding to 64 bytes; anything else is `None`. Never
/// panics, whatever the input. Use [`verify`] to check a token against a session.
///
/// ```
/// use warden::csrf::{mask, unmask, CsrfSecret};
///
/// let secret = CsrfSecret::generate();
/// assert_eq!(unmask(&mask(&secret)), Some(secret.clone()));
/// // The raw secret is not a token.
/// assert_eq!(unmask(&secret.to_b64()), None);
/// assert_eq!(unmask(""), None);
/// ```
pub fn unmask(token: &str) -> Option<CsrfSecret> {
    let bytes = decode_fixed::<{ 2 * SECRET_LEN }>(token, MASKED_TOKEN_LEN)?;
    let (pad, cipher) = bytes.split_at(SECRET_LEN);
    let mut secret = [0u8; SECRET_LEN];
    for ((s, p), c) in secret.iter_mut().zip(pad).zip(cipher) {
        *s = p ^ c;
    }
    Some(CsrfSecret(secret))
}

/// Whether `token` is a masked rendering of `expected`: [`unmask`], then a constant-time
/// comparison ([`subtle::ConstantTimeEq`]). Malformed tokens are `false`.
///
/// ```
/// use warden::csrf::{mask, verify, CsrfSecret};
///
/// let secret = CsrfSecret::generate();
/// let token = mask(&secret);
/// assert!(verify(&token, &secret));
/// assert!(!verify(&token[..85], &secret));
/// assert!(!verify("", &secret));
/// ```
pub fn verify(token: &str, expected: &CsrfSecret) -> bool {
    unmask(token).is_some_and(|secret| bool::from(secret.ct_eq(expected)))
}

/// Decodes exactly `b64_len` characters of canonical base64url into `N` bytes.
fn decode_fixed<const N: usize>(value: &str, b64_len: usize) -> Option<[u8; N]> {
    if value.len() != b64_len {
        return None;
    }
    B64.decode(value).ok()?.try_into().ok()
}

/// The CSRF secret of a pre-session cookie: `HMAC(k, "secret:" || nonce)`, recomputed from the
/// cookie's nonce and never sent itself.
fn presession_secret(key: &SigningKey, nonce: &[u8; 32]) -> CsrfSecret {
    CsrfSecret(
        key.mac
            .clone()
            .chain_update(SECRET_PREFIX)
            .chain_update(nonce)
            .finalize()
            .into_bytes()
            .into(),
    )
}

/// Issues and opens the signed pre-session CSRF cookie used before a session exists (login
/// CSRF), without any server-side record.
///
/// Holds one derived key per configured secret, current first: [`issue`](Self::issue) signs
/// with the current key, [`open`](Self::open) accepts any configured key (rotation). `Debug`
/// shows the number of keys and their public ids only.
///
/// Recommended use: on the login page, reuse the secret of a valid existing cookie
/// (`open`), else `issue` a new cookie (`__Host-` prefixed, `Secure`, `HttpOnly`,
/// `SameSite=Strict`); render `mask(&secret)` in the form. On the login POST, `open` the cookie
/// and [`verify`] the submitted token against its secret.
///
/// ```
/// use warden::csrf::{mask, verify, PresessionSigner};
///
/// let signer = PresessionSigner::new(["a-32-byte-or-longer-secret-key!!"]).unwrap();
/// let (cookie, secret) = signer.issue();
/// assert_eq!(cookie.len(), 99);
/// assert!(cookie.starts_with("v1."));
///
/// // The login page renders a masked token; the POST sends it back with the cookie.
/// let form_token = mask(&secret);
/// let reopened = signer.open(&cookie).unwrap();
/// assert!(verify(&form_token, &reopened));
///
/// // Forged or foreign cookies open to nothing.
/// let other = PresessionSigner::new(["another-32-byte-or-longer-key!!!"]).unwrap();
/// assert!(other.open(&cookie).is_none());
/// assert!(signer.open("v1.00000000.x.y").is_none());
/// ```
#[derive(Clone)]
pub struct PresessionSigner {
    /// Issues and opens.
    current: SigningKey,
    /// Open only, newest first.
    previous: Vec<SigningKey>,
}

impl PresessionSigner {
    /// The longest cookie value [`open`](Self::open) looks at (same as
    /// [`PRESESSION_COOKIE_MAX_LEN`]).
    pub const MAX_COOKIE_LEN: usize = PRESESSION_COOKIE_MAX_LEN;

    /// A signer over raw keys, current first, then previous keys still accepted. `None` if
    /// `keys` is empty. The keys are not checked for strength: prefer
    /// [`from_secrets`](Self::from_secrets).
    ///
    /// ```
    /// use warden::csrf::PresessionSigner;
    ///
    /// let old = PresessionSigner::new(["the-old-key-that-is-being-rotated"]).unwrap();
    /// let (cookie, secret) = old.issue();
    ///
    /// let rotated = PresessionSigner::new([
    ///     "the-new-current-key-for-signing!",
    ///     "the-old-key-that-is-being-rotated",
    /// ])
    /// .unwrap();
    /// assert_eq!(rotated.open(&cookie), Some(secret));
    /// assert!(PresessionSigner::new(Vec::<Vec<u8>>::new()).is_none());
    /// ```
    pub fn new<I, K>(keys: I) -> Option<Self>
    where
        I: IntoIterator<Item = K>,
        K: AsRef<[u8]>,
    {
        let mut keys = keys
            .into_iter()
            .map(|k| SigningKey::derive(k.as_ref(), PRESESSION_LABEL));
        let current = keys.next()?;
        Some(PresessionSigner {
            current,
            previous: keys.collect(),
        })
    }

    /// A signer over the configured secrets: issues with [`SecretKeys::current`], also opens
    /// cookies issued under the previous keys.
    ///
    /// ```
    /// use warden::config::SecretKeys;
    /// use warden::csrf::PresessionSigner;
    ///
    /// let signer = PresessionSigner::from_secrets(&SecretKeys::generate());
    /// let (cookie, secret) = signer.issue();
    /// assert_eq!(signer.open(&cookie), Some(secret));
    /// ```
    pub fn from_secrets(secrets: &SecretKeys) -> Self {
        PresessionSigner {
            current: SigningKey::derive(secrets.current(), PRESESSION_LABEL),
            previous: secrets
                .previous()
                .map(|k| SigningKey::derive(k, PRESESSION_LABEL))
                .collect(),
        }
    }

    /// A new cookie value (`v1.<kid>.<nonce>.<mac>`, 99 ASCII characters from
    /// `[A-Za-z0-9_.-]`) under the current key, with a fresh 32-byte nonce, and the CSRF secret
    /// bound to it. The secret is not in the cookie; render it with [`mask`].
    pub fn issue(&self) -> (String, CsrfSecret) {
        let key = &self.current;
        let mut nonce = [0u8; 32];
        OsRng.fill_bytes(&mut nonce);
        let nonce_b64 = B64.encode(nonce);
        let mac_b64 = B64.encode(key.tag(&nonce_b64));
        let mut cookie = String::with_capacity(PRESESSION_COOKIE_LEN);
        for part in [VERSION, ".", &key.kid, ".", &nonce_b64, ".", &mac_b64] {
            cookie.push_str(part);
        }
        (cookie, presession_secret(key, &nonce))
    }

    /// Checks a cookie value received from a client and recomputes its CSRF secret.
    ///
    /// `None` if the value is longer than [`PRESESSION_COOKIE_MAX_LEN`] (checked first, before
    /// any other work), is not `v1.<kid>.<nonce>.<mac>` with an 8-lowercase-hex key id and
    /// canonical base64url 32-byte nonce and MAC, names no configured key, or carries a MAC
    /// that does not match (compared in constant time). Never panics, whatever the input.
    pub fn open(&self, cookie: &str) -> Option<CsrfSecret> {
        if cookie.len() > PRESESSION_COOKIE_MAX_LEN || cookie.len() != PRESESSION_COOKIE_LEN {
            return None;
        }
        let mut parts = cookie.split('.');
        let (Some(version), Some(kid), Some(nonce_b64), Some(mac_b64), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        if version != VERSION
            || kid.len() != KID_LEN
            || !kid.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return None;
        }
        let nonce = decode_fixed::<32>(nonce_b64, B64_32_LEN)?;
        let mac = decode_fixed::<32>(mac_b64, B64_32_LEN)?;
        // Key ids are public; only the MAC comparison must be constant-time. Two keys could
        // share a 32-bit id, so try every key with a matching id.
        self.keys()
            .filter(|key| key.kid == kid)
            .find(|key| bool::from(key.tag(nonce_b64).ct_eq(&mac)))
            .map(|key| presession_secret(key, &nonce))
    }

    /// The public key id new cookies are issued under (8 lowercase hex characters).
    pub fn current_kid(&self) -> &str {
        &self.current.kid
    }

    /// Every key, current first.
    fn keys(&self) -> impl Iterator<Item = &SigningKey> + '_ {
        std::iter::once(&self.current).chain(&self.previous)
    }
}

impl fmt::Debug for PresessionSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresessionSigner")
            .field("keys", &(1 + self.previous.len()))
            .field(
                "kids",
                &self.keys().map(|k| k.kid.as_str()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    const KEY_A: &[u8] = b"key-a-0123456789-0123456789-abcdef";
    const KEY_B: &[u8] = b"key-b-0123456789-0123456789-abcdef";

    fn signer(keys: &[&[u8]]) -> PresessionSigner {
        PresessionSigner::new(keys.iter().copied()).expect("at least one key")
    }

    // ---- secret ----

    #[test]
    fn secret_b64_round_trip() {
        let s = CsrfSecret::generate();
        let b = s.to_b64();
        assert_eq!(b.len(), 43);
        assert_eq!(CsrfSecret::from_b64(&b), Some(s));
    }

    #[test]
    fn secrets_are_random() {
        let set: HashSet<String> = (0..100).map(|_| CsrfSecret::generate().to_b64()).collect();
        assert_eq!(set.len(), 100);
    }

    #[test]
    fn secret_from_b64_rejects_bad_input() {
        let good = CsrfSecret::from_bytes([0; 32]).to_b64();
        assert!(good.ends_with('A'));
        for bad in [
            String::new(),
            good[..42].to_owned(),
            format!("{good}A"),
            format!("{}B", &good[..42]), // non-canonical trailing bits
            format!("{}=", &good[..42]),
            format!("{good}="),
            good.replace('A', "+"),
            good.replace('A', "/"),
            format!(" {}", &good[..42]),
            "é".repeat(21) + "A",
        ] {
            assert_eq!(CsrfSecret::from_b64(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = CsrfSecret::from_bytes([0xab; 32]);
        let dbg = format!("{s:?}");
        assert_eq!(dbg, "CsrfSecret(..)");
        assert!(!dbg.contains(&s.to_b64()));
        assert!(!dbg.to_lowercase().contains("abab"));
    }

    #[test]
    fn secret_equality() {
        let a = CsrfSecret::from_bytes([1; 32]);
        let mut other = [1; 32];
        other[31] = 2;
        assert_eq!(a, CsrfSecret::from_bytes([1; 32]));
        assert_ne!(a, CsrfSecret::from_bytes(other));
        assert!(bool::from(a.ct_eq(&CsrfSecret::from_bytes([1; 32]))));
    }

    // ---- mask / unmask / verify ----

    #[test]
    fn mask_round_trip() {
        let s = CsrfSecret::generate();
        let t = mask(&s);
        assert_eq!(t.len(), MASKED_TOKEN_LEN);
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(unmask(&t), Some(s.clone()));
        assert!(verify(&t, &s));
    }

    #[test]
    fn hundred_masks_all_different_all_valid() {
        let s = CsrfSecret::generate();
        let tokens: Vec<String> = (0..100).map(|_| mask(&s)).collect();
        let set: HashSet<&String> = tokens.iter().collect();
        assert_eq!(set.len(), 100);
        assert!(tokens.iter().all(|t| verify(t, &s)));
        // No two tokens share their cipher half either (fresh pad each time).
        let halves: HashSet<&str> = tokens.iter().map(|t| &t[43..]).collect();
        assert_eq!(halves.len(), 100);
    }

    #[test]
    fn mask_does_not_contain_secret() {
        let s = CsrfSecret::from_bytes([0; 32]);
        let t = mask(&s);
        // With an all-zero secret, pad == cipher: the token is the pad twice, never zeros.
        let raw = B64.decode(&t).unwrap();
        assert_eq!(raw[..32], raw[32..]);
        assert_ne!(raw[..32], [0u8; 32]);
    }

    #[test]
    fn token_of_another_secret_is_invalid() {
        let a = CsrfSecret::generate();
        let b = CsrfSecret::generate();
        assert!(!verify(&mask(&a), &b));
        assert!(!verify(&mask(&b), &a));
    }

    #[test]
    fn raw_secret_is_not_a_token() {
        let s = CsrfSecret::generate();
        assert!(!verify(&s.to_b64(), &s));
        // Nor is the secret doubled up.
        assert!(!verify(&(s.to_b64() + &s.to_b64()), &s));
    }

    #[test]
    fn all_zero_pad_token_still_verifies() {
        // pad = 0 means cipher = secret: a legitimate (if unlikely) token.
        let s = CsrfSecret::from_bytes([7; 32]);
        let mut raw = [0u8; 64];
        raw[32..].copy_from_slice(&[7; 32]);
        assert!(verify(&B64.encode(raw), &s));
    }

    #[test]
    fn truncated_and_extended_tokens_are_invalid() {
        let s = CsrfSecret::generate();
        let t = mask(&s);
        for n in 0..t.len() {
            assert!(!verify(&t[..n], &s), "truncated to {n}");
        }
        for extra in ["A", "AA", "AAAA", "=", "==", " ", "\n", "."] {
            assert!(!verify(&format!("{t}{extra}"), &s), "extended by {extra:?}");
            assert!(!verify(&format!("{extra}{t}"), &s), "prefixed by {extra:?}");
        }
    }

    #[test]
    fn non_canonical_token_is_invalid() {
        // 86 chars encode 516 bits; the last 4 must be zero.
        let s = CsrfSecret::generate();
        let t = mask(&s);
        let last = t.as_bytes()[85];
        let idx = ALPHABET.iter().position(|&c| c == last).unwrap();
        assert_eq!(idx & 0x0f, 0);
        for low in 1..16 {
            let c = ALPHABET[idx | low] as char;
            let bad = format!("{}{c}", &t[..85]);
            assert_eq!(unmask(&bad), None, "{c}");
        }
    }

    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    #[test]
    fn standard_alphabet_and_padding_are_invalid() {
        let s = CsrfSecret::generate();
        let t = mask(&s);
        let std_b64 = base64::engine::general_purpose::STANDARD.encode(B64.decode(&t).unwrap());
        assert!(!verify(&std_b64, &s));
        let swapped: String = t
            .chars()
            .map(|c| match c {
                '-' => '+',
                '_' => '/',
                c => c,
            })
            .collect();
        if swapped != t {
            assert!(!verify(&swapped, &s));
        }
    }

    #[test]
    fn garbage_tokens_are_invalid() {
        let s = CsrfSecret::generate();
        let long = "A".repeat(100_000);
        let multibyte = "é".repeat(43);
        for bad in [
            "",
            "null",
            "undefined",
            "0",
            "*",
            &"a".repeat(64),
            &"*".repeat(86),
            &" ".repeat(86),
            &"\0".repeat(86),
            &long,
            &multibyte, // 86 bytes, not base64
        ] {
            assert!(!verify(bad, &s), "{:?}", bad.get(..20));
            assert_eq!(unmask(bad), None);
        }
    }

    #[test]
    fn every_single_char_change_breaks_the_token() {
        let s = CsrfSecret::generate();
        let t = mask(&s);
        for i in 0..t.len() {
            let mut bytes = t.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).unwrap();
            assert!(!verify(&changed, &s), "position {i}");
        }
    }

    // ---- pre-session ----

    #[test]
    fn presession_round_trip() {
        let sg = signer(&[KEY_A]);
        let (cookie, secret) = sg.issue();
        assert_eq!(cookie.len(), PRESESSION_COOKIE_LEN);
        assert_eq!(PRESESSION_COOKIE_LEN, 99);
        assert!(cookie.len() <= PRESESSION_COOKIE_MAX_LEN);
        assert!(cookie.starts_with(&format!("v1.{}.", sg.current_kid())));
        assert!(cookie
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')));
        assert_eq!(sg.open(&cookie), Some(secret.clone()));
        assert!(verify(&mask(&secret), &sg.open(&cookie).unwrap()));
    }

    #[test]
    fn presession_secret_not_in_cookie() {
        let sg = signer(&[KEY_A]);
        let (cookie, secret) = sg.issue();
        assert!(!cookie.contains(&secret.to_b64()));
        let nonce_b64 = cookie.split('.').nth(2).unwrap();
        assert_ne!(nonce_b64, secret.to_b64());
    }

    #[test]
    fn presession_secret_differs_per_nonce() {
        let sg = signer(&[KEY_A]);
        let issued: Vec<(String, CsrfSecret)> = (0..50).map(|_| sg.issue()).collect();
        let cookies: HashSet<&String> = issued.iter().map(|(c, _)| c).collect();
        let secrets: HashSet<String> = issued.iter().map(|(_, s)| s.to_b64()).collect();
        assert_eq!(cookies.len(), 50);
        assert_eq!(secrets.len(), 50);
        // A token for one cookie does not verify against another cookie's secret.
        let (c1, _) = &issued[0];
        let (_, s2) = &issued[1];
        assert!(!verify(&mask(s2), &sg.open(c1).unwrap()));
    }

    #[test]
    fn presession_secret_is_deterministic_from_cookie() {
        let sg = signer(&[KEY_A]);
        let (cookie, secret) = sg.issue();
        let again = signer(&[KEY_A]);
        assert_eq!(again.open(&cookie), Some(secret.clone()));
        assert_eq!(again.open(&cookie), Some(secret));
    }

    #[test]
    fn presession_tampered_every_byte() {
        let sg = signer(&[KEY_A]);
        let (cookie, _) = sg.issue();
        for i in 0..cookie.len() {
            for replacement in [b'A', b'B', b'0', b'.', b'-'] {
                let mut bytes = cookie.clone().into_bytes();
                if bytes[i] == replacement {
                    continue;
                }
                bytes[i] = replacement;
                let tampered = String::from_utf8(bytes).unwrap();
                assert_eq!(sg.open(&tampered), None, "byte {i} -> {replacement}");
            }
        }
    }

    #[test]
    fn presession_wrong_key_rejected() {
        let (cookie, _) = signer(&[KEY_A]).issue();
        assert_eq!(signer(&[KEY_B]).open(&cookie), None);
    }

    #[test]
    fn presession_forged_kid_of_known_key_rejected() {
        // Right kid, MAC computed with another key.
        let a = signer(&[KEY_A]);
        let b = signer(&[KEY_B]);
        let (cookie_b, _) = b.issue();
        let forged = cookie_b.replacen(b.current_kid(), a.current_kid(), 1);
        assert_eq!(a.open(&forged), None);
    }

    #[test]
    fn presession_rotated_key_accepted() {
        let (cookie, secret) = signer(&[KEY_A]).issue();
        let rotated = signer(&[KEY_B, KEY_A]);
        assert_eq!(rotated.open(&cookie), Some(secret));
        // New cookies use the new key.
        let (fresh, fresh_secret) = rotated.issue();
        assert!(fresh.contains(rotated.current_kid()));
        assert_eq!(rotated.open(&fresh), Some(fresh_secret));
        // Once the old key is retired, old cookies die.
        assert_eq!(signer(&[KEY_B]).open(&cookie), None);
    }

    #[test]
    fn presession_from_secrets_matches_new() {
        let keys = SecretKeys::new([KEY_A.to_vec(), KEY_B.to_vec()]).expect("valid test keys");
        let from_secrets = PresessionSigner::from_secrets(&keys);
        let manual = signer(&[KEY_A, KEY_B]);
        assert_eq!(from_secrets.current_kid(), manual.current_kid());
        let (cookie, secret) = from_secrets.issue();
        assert_eq!(manual.open(&cookie), Some(secret));
    }

    #[test]
    fn presession_key_separation_from_session_cookie() {
        // Same key, but a session-cookie-style MAC (other label) does not open.
        let sg = signer(&[KEY_A]);
        let (cookie, _) = sg.issue();
        let parts: Vec<&str> = cookie.split('.').collect();
        let session_mac_key = crate::signing::keyed_hmac(KEY_A)
            .chain_update(b"warden/session-cookie/v1")
            .finalize()
            .into_bytes();
        let session_tag: [u8; 32] = crate::signing::keyed_hmac(&session_mac_key)
            .chain_update(format!("v1.{}.{}", parts[1], parts[2]))
            .finalize()
            .into_bytes()
            .into();
        let forged = format!("v1.{}.{}.{}", parts[1], parts[2], B64.encode(session_tag));
        assert_ne!(forged, cookie);
        assert_eq!(sg.open(&forged), None);
    }

    #[test]
    fn presession_malformed_rejected() {
        let sg = signer(&[KEY_A]);
        let (cookie, _) = sg.issue();
        let parts: Vec<&str> = cookie.split('.').collect();
        let long = "v1.".repeat(1000);
        let upper_kid = format!("v1.{}.{}.{}", parts[1].to_uppercase(), parts[2], parts[3]);
        for bad in [
            String::new(),
            ".".repeat(99),
            long,
            format!("{cookie}."),
            format!("{cookie}A"),
            format!(" {cookie}"),
            cookie.replacen("v1.", "v2.", 1),
            cookie.replacen("v1.", "V1.", 1),
            format!("v1.{}.{}", parts[1], parts[2]),
            format!("v1.{}.{}.{}.x", parts[1], parts[2], parts[3]),
            format!("v1.{}.{}.{}", parts[1], parts[3], parts[2]),
            upper_kid,
            format!("v1.{}.{}.{}", parts[1], parts[2], "A".repeat(43)),
            "é".repeat(49) + "a",
            "\0".repeat(99),
        ] {
            assert_eq!(sg.open(&bad), None, "{:?}", bad.get(..30));
        }
    }

    #[test]
    fn presession_non_canonical_mac_rejected() {
        let sg = signer(&[KEY_A]);
        let (cookie, _) = sg.issue();
        let last = cookie.as_bytes()[98];
        let idx = ALPHABET.iter().position(|&c| c == last).unwrap();
        assert_eq!(idx & 0x03, 0);
        for low in 1..4 {
            let bad = format!("{}{}", &cookie[..98], ALPHABET[idx | low] as char);
            assert_eq!(sg.open(&bad), None);
        }
    }

    #[test]
    fn presession_overlong_refused_before_parsing() {
        let sg = signer(&[KEY_A]);
        let (cookie, _) = sg.issue();
        let padded = format!("{cookie}{}", "A".repeat(PRESESSION_COOKIE_MAX_LEN));
        assert_eq!(sg.open(&padded), None);
        assert_eq!(sg.open(&"x".repeat(1 << 20)), None);
    }

    #[test]
    fn presession_new_empty_is_none() {
        assert!(PresessionSigner::new(Vec::<&[u8]>::new()).is_none());
    }

    #[test]
    fn presession_debug_shows_no_key_material() {
        let sg = signer(&[KEY_A, KEY_B]);
        let dbg = format!("{sg:?}");
        assert!(dbg.contains("keys: 2"));
        assert!(dbg.contains(sg.current_kid()));
        assert!(!dbg.contains("key-a"));
        assert!(!dbg.contains("key-b"));
        let (cookie, secret) = sg.issue();
        assert!(!dbg.contains(&cookie));
        assert!(!format!("{secret:?}").contains(&secret.to_b64()));
    }

    #[test]
    fn presession_kid_matches_session_cookie_kid() {
        let session = crate::session::CookieSigner::from_keys([KEY_A]).unwrap();
        assert_eq!(signer(&[KEY_A]).current_kid(), session.current_kid());
    }
}
