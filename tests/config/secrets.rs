//! Secret keys: strength, rotation, ephemeral development keys, redaction.

use super::*;

// Secrets

#[test]
fn development_without_a_secret_generates_a_fresh_ephemeral_key() {
    let a = ConfigLoader::new().load().unwrap();
    let b = ConfigLoader::new().load().unwrap();
    assert!(a.secrets.is_ephemeral());
    assert_eq!(a.secrets.len(), 1);
    assert_eq!(a.secrets.current().len(), 32);
    assert_eq!(b.secrets.current().len(), 32);
    assert_ne!(a.secrets.current(), b.secrets.current());
}

#[test]
fn debug_output_never_contains_secrets() {
    let env = vars(&[
        ("WARDEN_SECRET_KEY", KEY_A),
        ("WARDEN_PREVIOUS_SECRET_KEYS", KEY_B),
    ]);
    let loader = ConfigLoader::new().env(env);
    let cfg = loader.load().unwrap();
    let debug = format!("{cfg:?} {:#?} {loader:?}", cfg.secrets);
    assert!(!debug.contains(KEY_A) && !debug.contains(KEY_B), "{debug}");
    assert!(format!("{cfg:?}").contains("SecretKeys { count: 2, ephemeral: false }"));
    let raw = loader.load_raw().unwrap();
    assert_eq!(raw.secrets.keys, vec![KEY_A.to_owned(), KEY_B.to_owned()]);
    let raw_debug = format!("{raw:?}");
    assert!(!raw_debug.contains(KEY_A), "{raw_debug}");
}

#[test]
fn a_short_secret_is_rejected_without_printing_it() {
    let short = "Zx9!kQ2#mW4$";
    let err = invalid("", &[("WARDEN_SECRET_KEY", short)]);
    assert_eq!(err.keys(), vec!["secrets.keys"]);
    let reason = err.reason_for("secrets.keys").unwrap();
    assert!(reason.contains("at least 32 bytes"), "{reason}");
    assert!(!err.to_string().contains(short), "{err}");
}

#[test]
fn placeholder_secrets_are_rejected() {
    for key in [
        "change-me",
        "changeme",
        "secret",
        "dev-only-not-for-production",
        "change-me-before-deploying",
        "CHANGE-ME-BEFORE-DEPLOYING",
        "this-is-an-EXAMPLE-key-of-plenty-of-characters",
        "ChangeMe-7f3a9c1e5b2d8f4a6c0e9b7d5a3f1c8e",
        "prefix-change-me-7f3a9c1e5b2d8f4a6c0e9b7d5a3f1c8e",
    ] {
        let reason = only_error("", &[("WARDEN_SECRET_KEY", key)], "secrets.keys");
        assert!(reason.contains("placeholder"), "{key}: {reason}");
        assert!(!reason.contains(key), "{reason}");
    }
}

#[test]
fn weak_secrets_are_rejected() {
    for key in [
        "a".repeat(40),
        "abcabcabcabcabcabcabcabcabcabcabcabc".to_owned(),
    ] {
        let reason = only_error("", &[("WARDEN_SECRET_KEY", &key)], "secrets.keys");
        assert!(reason.contains("too weak"), "{reason}");
    }
}

#[test]
fn duplicate_secrets_are_rejected() {
    let toml = format!("[secrets]\nkeys = [\"{KEY_A}\", \"{KEY_B}\", \"{KEY_A}\"]\n");
    let reason = only_error(&toml, &[], "secrets.keys");
    assert!(reason.contains("duplicate"), "{reason}");
    assert!(!reason.contains(KEY_A), "{reason}");
}

#[test]
fn secret_keys_can_be_built_and_validated_directly() {
    let keys = SecretKeys::new([KEY_A, KEY_B]).unwrap();
    assert_eq!(keys.current(), KEY_A.as_bytes());
    assert_eq!(keys.all().count(), 2);
    let err = SecretKeys::new(Vec::<String>::new()).unwrap_err();
    assert_eq!(err.keys(), vec!["secrets.keys"]);
    let err = SecretKeys::new(["short"]).unwrap_err();
    assert!(err.to_string().contains("at least 32 bytes"));
}
