//! `ConfigLoader::set`: programmatic overrides with the highest precedence.

use super::*;

use warden::config::RawSession;

#[test]
fn a_test_config_with_a_temporary_store_and_no_tracing_sink() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = ConfigLoader::new()
        .set("server.data_dir", dir.path())
        .set("audit.tracing_sink", false)
        .load()
        .unwrap();
    assert_eq!(cfg.server.data_dir, dir.path());
    assert_eq!(cfg.runtime.data_dir.as_deref(), Some(dir.path()));
    assert!(!cfg.runtime.audit.tracing_sink);
    // Everything else keeps its default.
    assert!(cfg.runtime.audit.persist);
    assert_eq!(cfg.session.cookie_name, "__Host-session");
}

#[test]
fn overrides_win_over_files_and_the_environment() {
    let (_dir, path) =
        toml_file("[server]\nbind = \"127.0.0.1:9001\"\ndata_dir = \"/from/file\"\n");
    let cfg = ConfigLoader::new()
        .set("server.bind", "127.0.0.1:9003")
        .file(&path)
        .env(vars(&[("WARDEN_BIND", "127.0.0.1:9002")]))
        .load()
        .unwrap();
    assert_eq!(cfg.server.bind.port(), 9003);
    assert_eq!(cfg.server.data_dir, PathBuf::from("/from/file"));
}

#[test]
fn an_override_of_the_secret_keys_wins_over_the_environment() {
    let cfg = ConfigLoader::new()
        .env(vars(&[("WARDEN_SECRET_KEY", KEY_A)]))
        .set("secrets.keys", [KEY_B, KEY_C])
        .load()
        .unwrap();
    let all: Vec<&[u8]> = cfg.secrets.all().collect();
    assert_eq!(all, vec![KEY_B.as_bytes(), KEY_C.as_bytes()]);
}

#[test]
fn the_last_override_of_a_key_wins() {
    let cfg = ConfigLoader::new()
        .set("session.idle_timeout_secs", 60)
        .set("session.idle_timeout_secs", 120)
        .load()
        .unwrap();
    assert_eq!(cfg.session.idle_timeout, Duration::from_secs(120));
}

#[test]
fn overrides_take_any_serializable_value() {
    let mut session = RawSession::default();
    session.cookie_name = "sid".to_owned();
    session.shards = 3;
    let cfg = ConfigLoader::new()
        .set("profile", Profile::Production)
        .set("server.origin", "https://app.example.com")
        .set("secrets.keys", vec![KEY_A.to_owned()])
        .set("session", &session)
        .set("session.same_site", SameSite::Strict)
        .set("proxy.trusted_proxies", ["10.0.0.0/8", "::1"])
        .set("proxy.forwarded_header", ForwardedHeader::Forwarded)
        .load()
        .unwrap();
    assert_eq!(cfg.profile, Profile::Production);
    assert_eq!(cfg.server.origin, "https://app.example.com");
    assert_eq!(cfg.session.cookie_name, "sid");
    assert_eq!(cfg.session.shards, 3);
    assert_eq!(cfg.session.same_site, SameSite::Strict);
    assert_eq!(cfg.proxy.trusted_proxies.len(), 2);
    assert_eq!(cfg.proxy.forwarded_header, ForwardedHeader::Forwarded);
}

#[test]
fn load_raw_includes_the_overrides() {
    let raw = ConfigLoader::new()
        .set("session.domain", "example.com")
        .set("store.sweep_batch", 7)
        .load_raw()
        .unwrap();
    assert_eq!(raw.session.domain.as_deref(), Some("example.com"));
    assert_eq!(raw.store.sweep_batch, 7);
}

#[test]
fn an_invalid_override_is_reported_by_validation() {
    let err = ConfigLoader::new()
        .set("session.idle_timeout_secs", 0)
        .set("session.max_data_bytes", 1)
        .load()
        .unwrap_err();
    assert_eq!(
        err.keys(),
        vec!["session.idle_timeout_secs", "session.max_data_bytes"],
        "{err}"
    );
}

fn override_parse_error(loader: ConfigLoader) -> (Option<String>, String) {
    match loader.load() {
        Err(ConfigError::Parse { key, message }) => (key, message),
        other => panic!("expected ConfigError::Parse, got {other:?}"),
    }
}

#[test]
fn an_unknown_override_key_is_a_parse_error_naming_it_and_its_source() {
    let (key, message) = override_parse_error(ConfigLoader::new().set("session.idle_timeout", 60));
    assert_eq!(key.as_deref(), Some("session.idle_timeout"));
    assert!(message.contains("unknown key"), "{message}");
    assert!(message.contains("ConfigLoader::set"), "{message}");
    let (key, _) = override_parse_error(ConfigLoader::new().set("sesion", 1));
    assert_eq!(key.as_deref(), Some("sesion"));
}

#[test]
fn an_override_of_the_wrong_type_is_a_parse_error_naming_it() {
    let (key, message) =
        override_parse_error(ConfigLoader::new().set("session.idle_timeout_secs", "soon"));
    assert_eq!(key.as_deref(), Some("session.idle_timeout_secs"));
    assert!(message.contains("wrong type"), "{message}");
    assert!(message.contains("ConfigLoader::set"), "{message}");
}

#[test]
fn a_malformed_override_key_is_a_parse_error() {
    for bad in ["", "session..path", ".session", "session."] {
        let (key, message) = override_parse_error(ConfigLoader::new().set(bad, 1));
        assert_eq!(key.as_deref(), Some(bad));
        assert!(message.contains("dotted key"), "{message}");
    }
}

#[test]
fn an_unserializable_override_is_a_parse_error_without_the_serializer_message() {
    struct Unrepresentable;
    impl serde::Serialize for Unrepresentable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom(KEY_A))
        }
    }
    let (key, message) =
        override_parse_error(ConfigLoader::new().set("secrets.keys", Unrepresentable));
    assert_eq!(key.as_deref(), Some("secrets.keys"));
    assert!(!message.contains(KEY_A), "{message}");
}

#[test]
fn overridden_secrets_are_never_echoed() {
    let (key, message) = override_parse_error(ConfigLoader::new().set("secrets.keys", KEY_A));
    assert_eq!(key.as_deref(), Some("secrets.keys"));
    assert!(!message.contains(KEY_A), "{message}");
    let loader = ConfigLoader::new().set("secrets.keys", [KEY_A]);
    let debug = format!("{loader:?}");
    assert!(debug.contains("secrets.keys"), "{debug}");
    assert!(!debug.contains(KEY_A), "{debug}");
}
