//! The signed session cookie value: format, rotation, tampering and hostile input.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use warden::config::SecretKeys;
use warden::session::{CookieError, CookieSigner};
use warden_actors::session::SessionToken;

const KEY_A: &str = "A-old-key:7f3k9Qz2Lm8Vx1Rt6Pw4Ny0Bc5Hd";
const KEY_B: &str = "B-new-key:Jq2Ws9Ek4Rz7Tu1Yi3Op6As8Df0G";
const URL_SAFE_ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn token(fill: u8) -> SessionToken {
    let mut b = [0u8; 32];
    for (i, x) in b.iter_mut().enumerate() {
        *x = fill.wrapping_add(i as u8).wrapping_mul(31);
    }
    SessionToken::from_bytes(b)
}

fn signer(keys: &[&str]) -> CookieSigner {
    CookieSigner::from_keys(keys.iter().copied()).unwrap()
}

/// The key id per the spec, computed independently.
fn kid_of(secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"warden/kid/v1");
    h.update(secret);
    hex::encode(&h.finalize()[..4])
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// A cookie per the spec, computed independently with an explicit MAC key.
fn cookie_with_mac_key(secret: &[u8], mac_key: &[u8], token: &[u8; 32]) -> String {
    let kid = kid_of(secret);
    let token_b64 = URL_SAFE_NO_PAD.encode(token);
    let mac = hmac_sha256(
        mac_key,
        &[b"v1.", kid.as_bytes(), b".", token_b64.as_bytes()],
    );
    format!("v1.{kid}.{token_b64}.{}", URL_SAFE_NO_PAD.encode(mac))
}

fn is_b64url(s: &str) -> bool {
    s.bytes().all(|b| URL_SAFE_ALPHABET.contains(&b))
}

/// `^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$`, by hand.
fn has_cookie_shape(c: &str) -> bool {
    let parts: Vec<&str> = c.split('.').collect();
    parts.len() == 4
        && parts[0] == "v1"
        && parts[1].len() == 8
        && parts[1]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && parts[2].len() == 43
        && is_b64url(parts[2])
        && parts[3].len() == 43
        && is_b64url(parts[3])
}

/// The base64url character one or two alphabet positions away (flips the lowest bits).
fn b64_flip(c: u8, bit: usize) -> u8 {
    let i = URL_SAFE_ALPHABET.iter().position(|&x| x == c).unwrap();
    URL_SAFE_ALPHABET[i ^ bit]
}

fn replace_at(s: &str, i: usize, with: &str) -> String {
    format!("{}{}{}", &s[..i], with, &s[i + 1..])
}

#[test]
fn sign_verify_round_trip() {
    let s = signer(&[KEY_A]);
    for fill in [0u8, 1, 0x80, 0xff] {
        let t = token(fill);
        let cookie = s.sign(&t);
        assert_eq!(cookie.len(), 99);
        assert!(cookie.is_ascii());
        assert!(has_cookie_shape(&cookie), "{cookie}");
        let v = s.verify(&cookie).unwrap();
        assert_eq!(v.token.as_bytes(), t.as_bytes());
        assert!(!v.needs_resign);
        // Deterministic: the same token signs to the same cookie.
        assert_eq!(s.sign(&t), cookie);
    }
    let t = SessionToken::generate();
    let v = s.verify(&s.sign(&t)).unwrap();
    assert_eq!(v.token.as_bytes(), t.as_bytes());
}

#[test]
fn format_matches_the_spec() {
    let t = token(42);
    let cookie = signer(&[KEY_A]).sign(&t);

    let mac_key = hmac_sha256(KEY_A.as_bytes(), &[b"warden/session-cookie/v1"]);
    let expected = cookie_with_mac_key(KEY_A.as_bytes(), &mac_key, t.as_bytes());
    assert_eq!(cookie, expected);

    let parts: Vec<&str> = cookie.split('.').collect();
    assert_eq!(parts[1], kid_of(KEY_A.as_bytes()));
    assert_eq!(
        URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
        t.as_bytes().to_vec()
    );
    assert_eq!(signer(&[KEY_A]).current_kid(), kid_of(KEY_A.as_bytes()));
}

#[test]
fn signer_from_secret_keys() {
    let keys = SecretKeys::new([KEY_B, KEY_A]).unwrap();
    let s = CookieSigner::new(&keys);
    assert_eq!(
        s.kids().collect::<Vec<_>>(),
        vec![kid_of(KEY_B.as_bytes()), kid_of(KEY_A.as_bytes())]
    );
    let t = token(3);
    let cookie = s.sign(&t);
    assert_eq!(cookie, signer(&[KEY_B]).sign(&t));
    assert!(!s.verify(&cookie).unwrap().needs_resign);
    assert!(s.verify(&signer(&[KEY_A]).sign(&t)).unwrap().needs_resign);

    let ephemeral = CookieSigner::new(&SecretKeys::generate());
    let v = ephemeral.verify(&ephemeral.sign(&t)).unwrap();
    assert_eq!(v.token.as_bytes(), t.as_bytes());
}

#[test]
fn from_keys_needs_a_key() {
    assert_eq!(
        CookieSigner::from_keys(Vec::<&str>::new()).unwrap_err(),
        CookieError::NoKeys
    );
    assert_eq!(CookieSigner::MAX_COOKIE_LEN, 128);
}

#[test]
fn key_rotation() {
    let t = token(7);
    let old_cookie = signer(&[KEY_A]).sign(&t);
    let kid_a = kid_of(KEY_A.as_bytes());
    let kid_b = kid_of(KEY_B.as_bytes());
    assert_ne!(kid_a, kid_b);
    assert_eq!(old_cookie.split('.').nth(1), Some(kid_a.as_str()));

    let rotated = signer(&[KEY_B, KEY_A]);
    let v = rotated.verify(&old_cookie).unwrap();
    assert_eq!(v.token.as_bytes(), t.as_bytes());
    assert!(v.needs_resign);

    let resigned = rotated.sign(&v.token);
    assert_ne!(resigned, old_cookie);
    assert_eq!(resigned.split('.').nth(1), Some(kid_b.as_str()));
    let v2 = rotated.verify(&resigned).unwrap();
    assert_eq!(v2.token.as_bytes(), t.as_bytes());
    assert!(!v2.needs_resign);

    // Once A is retired, its cookies are refused; the re-signed one still works.
    let b_only = signer(&[KEY_B]);
    assert_eq!(b_only.verify(&old_cookie), Err(CookieError::UnknownKey));
    assert!(!b_only.verify(&resigned).unwrap().needs_resign);

    // Older keys further down the list are accepted and flagged too.
    let c = "C-newest:Zx8Cv7Bn6Mm5Ll4Kk3Jj2Hh1Gg0F";
    let three = signer(&[c, KEY_B, KEY_A]);
    assert!(three.verify(&old_cookie).unwrap().needs_resign);
    assert!(three.verify(&resigned).unwrap().needs_resign);
    assert!(!three.verify(&three.sign(&t)).unwrap().needs_resign);
}

#[test]
fn signers_with_different_keys_refuse_each_others_cookies() {
    let a = signer(&[KEY_A]);
    let b = signer(&[KEY_B]);
    let t = token(9);
    assert_eq!(b.verify(&a.sign(&t)), Err(CookieError::UnknownKey));
    assert_eq!(a.verify(&b.sign(&t)), Err(CookieError::UnknownKey));

    let g1 = CookieSigner::new(&SecretKeys::generate());
    let g2 = CookieSigner::new(&SecretKeys::generate());
    assert!(g2.verify(&g1.sign(&t)).is_err());
    assert!(g1.verify(&g2.sign(&t)).is_err());
}

#[test]
fn every_single_byte_change_is_refused() {
    let s = signer(&[KEY_B, KEY_A]);
    for cookie in [s.sign(&token(1)), signer(&[KEY_A]).sign(&token(2))] {
        assert!(s.verify(&cookie).is_ok());
        let mut tried = 0;
        for i in 0..cookie.len() {
            let orig = cookie.as_bytes()[i];
            let mut subs: Vec<String> = [".", "A", "0", "x", "-", "_", "=", "+", "/", " ", "é"]
                .iter()
                .map(|x| x.to_string())
                .collect();
            if URL_SAFE_ALPHABET.contains(&orig) {
                for bit in [1, 2, 32] {
                    subs.push((b64_flip(orig, bit) as char).to_string());
                }
            }
            for sub in subs {
                if sub.as_bytes() == [orig] {
                    continue;
                }
                let tampered = replace_at(&cookie, i, &sub);
                assert!(
                    s.verify(&tampered).is_err(),
                    "position {i} replaced by {sub:?} was accepted"
                );
                tried += 1;
            }
            // Deleting or duplicating the byte is refused too.
            let deleted = format!("{}{}", &cookie[..i], &cookie[i + 1..]);
            assert!(s.verify(&deleted).is_err(), "deleted position {i}");
            let doubled = format!("{}{}", &cookie[..=i], &cookie[i..]);
            assert!(s.verify(&doubled).is_err(), "doubled position {i}");
        }
        assert!(tried > 99 * 10, "{tried}");
    }
}

#[test]
fn non_canonical_final_characters_are_refused() {
    let s = signer(&[KEY_A]);
    let cookie = s.sign(&token(5));
    // The last characters of the token (index 54) and of the MAC (98) each carry
    // two unused low bits; flipping them leaves the decoded bytes unchanged.
    let token_last = 2 + 1 + 8 + 1 + 42;
    let mac_last = cookie.len() - 1;
    for i in [token_last, mac_last] {
        let orig = cookie.as_bytes()[i];
        for bit in [1, 2, 3] {
            let flipped = b64_flip(orig, bit);
            let tampered = replace_at(&cookie, i, &(flipped as char).to_string());
            // Same bytes under a lenient decoder: only the padding bits changed.
            let part = tampered
                .split('.')
                .nth(if i == mac_last { 3 } else { 2 })
                .unwrap();
            let lenient = base64::engine::GeneralPurpose::new(
                &base64::alphabet::URL_SAFE,
                base64::engine::general_purpose::NO_PAD.with_decode_allow_trailing_bits(true),
            );
            let orig_part = cookie
                .split('.')
                .nth(if i == mac_last { 3 } else { 2 })
                .unwrap();
            assert_eq!(
                lenient.decode(part).unwrap(),
                URL_SAFE_NO_PAD.decode(orig_part).unwrap()
            );
            assert!(URL_SAFE_NO_PAD.decode(part).is_err());
            assert_eq!(s.verify(&tampered), Err(CookieError::Malformed));
        }
    }
}

#[test]
fn hostile_inputs_get_specific_errors() {
    use CookieError::*;
    let s = signer(&[KEY_A]);
    let t = token(11);
    let good = s.sign(&t);
    let parts: Vec<&str> = good.split('.').collect();
    let (kid, tok, mac) = (parts[1], parts[2], parts[3]);

    // A valid structure with the MAC of another token.
    let other_mac = s.sign(&token(12)).rsplit('.').next().unwrap().to_string();
    // A MAC computed with the raw secret instead of the derived key.
    let raw_key = cookie_with_mac_key(KEY_A.as_bytes(), KEY_A.as_bytes(), t.as_bytes());
    assert!(has_cookie_shape(&raw_key));
    // The MAC without the "v1.<kid>." prefix in the message.
    let mac_key = hmac_sha256(KEY_A.as_bytes(), &[b"warden/session-cookie/v1"]);
    let unbound = URL_SAFE_NO_PAD.encode(hmac_sha256(&mac_key, &[tok.as_bytes()]));

    let long_128 = format!("{good}{}", ".".repeat(128 - 99));
    let cases: Vec<(String, CookieError)> = vec![
        (String::new(), Malformed),
        (good[..98].to_string(), Malformed),
        (good[..50].to_string(), Malformed),
        (format!("{good}A"), Malformed),
        (format!("{good}."), Malformed),
        (format!("{good}.x"), Malformed),
        (format!("v1.{kid}.{tok}"), Malformed),
        (format!("v1.{kid}"), Malformed),
        ("v1".to_string(), Malformed),
        ("...".to_string(), UnknownVersion),
        ("....".to_string(), Malformed),
        (format!("v2.{kid}.{tok}.{mac}"), UnknownVersion),
        (format!("V1.{kid}.{tok}.{mac}"), UnknownVersion),
        (format!("v10.{kid}.{tok}.{mac}"), UnknownVersion),
        (format!(".{kid}.{tok}.{mac}"), UnknownVersion),
        (format!("v1..{tok}.{mac}"), Malformed),
        (format!("v1.{}.{tok}.{mac}", kid.to_uppercase()), Malformed),
        (format!("v1.{}.{tok}.{mac}", &kid[..7]), Malformed),
        (format!("v1.{kid}0.{tok}.{mac}"), Malformed),
        (format!("v1.ghijklmn.{tok}.{mac}"), Malformed),
        (format!("v1.00000000.{tok}.{mac}"), UnknownKey),
        (format!("v1.{kid}.{tok}A.{mac}"), Malformed),
        (format!("v1.{kid}.{}.{mac}", &tok[..42]), Malformed),
        (format!("v1.{kid}.{tok}.{}", &mac[..42]), Malformed),
        (format!("v1.{kid}.{tok}=.{mac}"), Malformed),
        (format!("v1.{kid}.{tok}.{mac}="), Malformed),
        (format!("v1.{kid}.+{}.{mac}", &tok[1..]), Malformed),
        (format!("v1.{kid}.{}/.{mac}", &tok[..42]), Malformed),
        (format!("v1.{kid}.{tok}.{other_mac}"), BadSignature),
        (raw_key, BadSignature),
        (format!("v1.{kid}.{tok}.{unbound}"), BadSignature),
        (format!("v1.{kid}.{mac}.{tok}"), BadSignature),
        (format!(" {good}"), Malformed),
        (format!("{good} "), Malformed),
        (replace_at(&good, 40, " "), Malformed),
        (format!("\"{good}\""), Malformed),
        (format!("{good}\0"), Malformed),
        (format!("\0{}", &good[1..]), Malformed),
        (replace_at(&good, 20, "\0"), Malformed),
        (replace_at(&good, 20, "é"), Malformed),
        (replace_at(&good, 0, "ｖ"), Malformed),
        (format!("{good};"), Malformed),
        (format!("{good},x"), Malformed),
        (good.replace('.', "%2E"), Malformed),
        ("v1.é.é.é".to_string(), Malformed),
        ("🍪".to_string(), Malformed),
        (long_128, Malformed),
        ("A".repeat(128), Malformed),
        ("A".repeat(129), TooLong),
        ("é".repeat(65), TooLong),
        (format!("{good}{}", "A".repeat(30)), TooLong),
        (format!("{good}.{mac}.{tok}"), TooLong),
        ("x".repeat(10 * 1024), TooLong),
        (format!("{good}{}", "\0".repeat(10 * 1024)), TooLong),
        ("🍪".repeat(40), TooLong),
    ];
    for (input, want) in &cases {
        assert_eq!(s.verify(input).err(), Some(*want), "input {input:?}");
    }
    assert!(s.verify(&good).is_ok());
}

#[test]
fn arbitrary_input_never_panics() {
    let s = signer(&[KEY_A]);
    let good = s.sign(&token(13));
    let pieces = [
        "v1", ".", "A", "_", "-", "0", "f", "é", "\0", " ", "\"", "🍪", "=", "%",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..5_000 {
        let mut input = String::new();
        let n = (next() % 140) as usize;
        for _ in 0..n {
            input.push_str(pieces[(next() % pieces.len() as u64) as usize]);
        }
        assert!(s.verify(&input).is_err());

        // Mutations of a valid cookie: a random span replaced by random pieces.
        let start = (next() % good.len() as u64) as usize;
        let end = (start + (next() % 4) as usize).min(good.len());
        let mid = pieces[(next() % pieces.len() as u64) as usize];
        let mutated = format!("{}{}{}", &good[..start], mid, &good[end..]);
        if mutated != good {
            assert!(s.verify(&mutated).is_err(), "{mutated:?}");
        }
    }
}

#[test]
fn errors_have_reasons_and_leak_nothing() {
    use CookieError::*;
    let all = [
        (TooLong, "too_long"),
        (Malformed, "malformed"),
        (UnknownVersion, "unknown_version"),
        (UnknownKey, "unknown_key"),
        (BadSignature, "bad_signature"),
        (NoKeys, "no_keys"),
    ];
    for (e, reason) in all {
        assert_eq!(e.reason(), reason);
        assert!(!e.to_string().is_empty());
    }
    let s = signer(&[KEY_A]);
    let good = s.sign(&token(14));
    let tok = good.split('.').nth(2).unwrap();
    let bad = format!("{}x", &good[..98]);
    for input in [bad, format!("v2.{tok}.a.b"), "🍪".repeat(40)] {
        let err = s.verify(&input).unwrap_err();
        assert!(!err.to_string().contains(tok));
        assert!(!format!("{err:?}").contains(tok));
        assert!(!err.to_string().contains("🍪"));
    }
}

#[test]
fn debug_output_shows_no_secrets() {
    let s = signer(&[KEY_B, KEY_A]);
    let dbg = format!("{s:?}");
    let kid_a = kid_of(KEY_A.as_bytes());
    let kid_b = kid_of(KEY_B.as_bytes());
    assert_eq!(
        dbg,
        format!("CookieSigner {{ keys: 2, kids: [\"{kid_b}\", \"{kid_a}\"] }}")
    );
    let pretty = format!("{s:#?}");
    for secret in [KEY_A, KEY_B] {
        assert!(!dbg.contains(secret) && !pretty.contains(secret));
        assert!(!dbg.contains(&hex::encode(secret)));
        let mac_key = hmac_sha256(secret.as_bytes(), &[b"warden/session-cookie/v1"]);
        assert!(!pretty.contains(&hex::encode(mac_key)));
        assert!(!pretty.contains(&URL_SAFE_NO_PAD.encode(mac_key)));
    }

    let t = token(15);
    let cookie = s.sign(&t);
    let tok_b64 = cookie.split('.').nth(2).unwrap().to_string();
    let mac_b64 = cookie.split('.').nth(3).unwrap().to_string();
    let v = s.verify(&cookie).unwrap();
    for out in [format!("{v:?}"), format!("{v:#?}")] {
        assert!(!out.contains(&tok_b64));
        assert!(!out.contains(&mac_b64));
        assert!(!out.contains(&hex::encode(t.as_bytes())));
        assert!(!out.contains(&format!("{:?}", t.as_bytes())));
        assert!(out.contains("needs_resign: false"));
    }
    assert!(!format!("{s:?}").contains(&tok_b64));
}
