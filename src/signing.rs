//! Signing primitives shared by warden's signed formats (the session cookie and the CSRF
//! pre-session cookie): a strict base64url engine, HMAC-SHA256 with infallible keying, and
//! per-secret signing keys derived by label with a public key id.

use base64::{
    alphabet,
    engine::{general_purpose, GeneralPurpose},
};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// Format version prefix of every signed value.
pub(crate) const VERSION: &str = "v1";

/// Length of a key id: 8 lowercase hex characters (4 bytes of a hash of the secret).
pub(crate) const KID_LEN: usize = 8;

/// Label of the key-id hash: the id identifies a secret without revealing it.
const KID_LABEL: &[u8] = b"warden/kid/v1";

/// SHA-256 block size: HMAC keys are zero-padded (or hashed, if longer) to this length.
const HMAC_BLOCK_LEN: usize = 64;

/// base64url without padding that refuses non-canonical encodings (non-zero unused bits in the
/// last character), so every byte string has exactly one accepted encoding.
pub(crate) const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    general_purpose::NO_PAD.with_decode_allow_trailing_bits(false),
);

/// HMAC-SHA256.
pub(crate) type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 keyed with `key` of any length.
///
/// This is the RFC 2104 key preparation `Hmac::new_from_slice` performs (keys longer than the
/// 64-byte block are hashed, shorter ones zero-padded), done here so that deriving keys cannot
/// fail: `new_from_slice` returns a `Result` even though HMAC accepts every key length. A unit
/// test checks both agree.
pub(crate) fn keyed_hmac(key: &[u8]) -> HmacSha256 {
    let mut block = [0u8; HMAC_BLOCK_LEN];
    if key.len() <= HMAC_BLOCK_LEN {
        block.iter_mut().zip(key).for_each(|(b, k)| *b = *k);
    } else {
        block
            .iter_mut()
            .zip(Sha256::digest(key).iter())
            .for_each(|(b, k)| *b = *k);
    }
    HmacSha256::new(&block.into())
}

/// One configured secret, reduced to what a signed format needs: its public key id and an HMAC
/// keyed with a key derived from the secret under a format-specific label (key separation:
/// the session cookie and the CSRF cookie never share a MAC key). The secret is not kept.
#[derive(Clone)]
pub(crate) struct SigningKey {
    /// 8 lowercase hex characters.
    pub(crate) kid: String,
    /// HMAC-SHA256 keyed with the derived key, cloned for each message.
    pub(crate) mac: HmacSha256,
}

impl SigningKey {
    /// Derives the key of `secret` for the format labelled `label`.
    pub(crate) fn derive(secret: &[u8], label: &[u8]) -> Self {
        let kid_hash = Sha256::new()
            .chain_update(KID_LABEL)
            .chain_update(secret)
            .finalize();
        let kid = hex::encode(kid_hash.get(..KID_LEN / 2).unwrap_or_default());
        let derived = keyed_hmac(secret)
            .chain_update(label)
            .finalize()
            .into_bytes();
        SigningKey {
            kid,
            mac: keyed_hmac(&derived),
        }
    }

    /// `HMAC(k, "v1." || kid || "." || payload_b64)`.
    pub(crate) fn tag(&self, payload_b64: &str) -> [u8; 32] {
        self.mac
            .clone()
            .chain_update(VERSION)
            .chain_update(".")
            .chain_update(&self.kid)
            .chain_update(".")
            .chain_update(payload_b64)
            .finalize()
            .into_bytes()
            .into()
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;

    #[test]
    fn keyed_hmac_matches_new_from_slice() {
        for len in [0, 1, 31, 32, 63, 64, 65, 100, 200] {
            let key: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let ours = keyed_hmac(&key)
                .chain_update(b"msg")
                .finalize()
                .into_bytes();
            let lib = <HmacSha256 as KeyInit>::new_from_slice(&key)
                .expect("any key length")
                .chain_update(b"msg")
                .finalize()
                .into_bytes();
            assert_eq!(ours, lib, "key length {len}");
        }
    }

    #[test]
    fn keyed_hmac_rfc4231_case_2() {
        let tag = keyed_hmac(b"Jefe")
            .chain_update(b"what do ya want for nothing?")
            .finalize()
            .into_bytes();
        assert_eq!(
            hex::encode(tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn labels_separate_keys_but_share_the_kid() {
        let a = SigningKey::derive(b"secret-secret-secret-secret-1234", b"label/a");
        let b = SigningKey::derive(b"secret-secret-secret-secret-1234", b"label/b");
        assert_eq!(a.kid, b.kid);
        assert_eq!(a.kid.len(), KID_LEN);
        assert_ne!(a.tag("x"), b.tag("x"));
    }

    #[test]
    fn engine_refuses_non_canonical_trailing_bits() {
        let enc = B64.encode([0u8; 32]);
        let bad = format!("{}B", &enc[..42]);
        assert!(B64.decode(&bad).is_err());
    }
}
