//! Layered, validated configuration: files, environment overrides, every validation rule.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use warden::{
    config::{RawConfig, SameSite, SecretKeys},
    Config, ConfigError, ConfigLoader, ForwardedHeader, Profile,
};

/// Strong 32+ byte keys that are neither placeholders nor repetitive.
const KEY_A: &str = "k3J9x2Lq8Vn4Rz7Tw1Yb5Hc0Md6Fg_aP";
const KEY_B: &str = "Q7m!2vXz9LpR4tW8yB1nC5hJ0kD3fG6s";
const KEY_C: &str = "u8Y2e6R0t4W9q1Z5x3C7v2B6n0M4k8J1";

fn repo_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Writes `toml` to a temporary file; keep the guard alive while loading.
fn toml_file(toml: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("warden.toml");
    std::fs::write(&path, toml).expect("write config");
    (dir, path)
}

fn load(toml: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let (_dir, path) = toml_file(toml);
    ConfigLoader::new().file(&path).env(vars(env)).load()
}

/// Loads and expects `ConfigError::Invalid`; returns the keys it names.
fn invalid(toml: &str, env: &[(&str, &str)]) -> ConfigError {
    match load(toml, env) {
        Err(e @ ConfigError::Invalid { .. }) => e,
        other => panic!("expected ConfigError::Invalid, got {other:?}"),
    }
}

/// Expects exactly one invalid key and returns its reason.
fn only_error(toml: &str, env: &[(&str, &str)], key: &str) -> String {
    let err = invalid(toml, env);
    assert_eq!(err.keys(), vec![key], "unexpected keys in: {err}");
    err.errors()[0].reason.clone()
}

fn parse_error(toml: &str, env: &[(&str, &str)]) -> (Option<String>, String) {
    match load(toml, env) {
        Err(ConfigError::Parse { key, message }) => (key, message),
        other => panic!("expected ConfigError::Parse, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Files and defaults

#[test]
fn default_toml_is_exactly_the_builtin_defaults() {
    let raw = ConfigLoader::new()
        .file(repo_file("config/default.toml"))
        .load_raw()
        .expect("config/default.toml parses");
    assert_eq!(raw, RawConfig::default());
}

#[test]
fn builtin_defaults_validate_to_secure_values() {
    let cfg = ConfigLoader::new().load().expect("defaults are valid");
    assert_eq!(cfg.profile, Profile::Development);
    assert_eq!(
        cfg.server.bind,
        "127.0.0.1:8080".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(cfg.server.data_dir, PathBuf::from("./data"));
    assert_eq!(cfg.server.origin, "http://127.0.0.1:8080");
    assert_eq!(cfg.server.allowed_hosts, vec!["127.0.0.1:8080".to_owned()]);
    assert_eq!(cfg.session.cookie_name, "__Host-warden");
    assert!(cfg.session.secure);
    assert!(cfg.session.http_only);
    assert_eq!(cfg.session.same_site, SameSite::Lax);
    assert_eq!(cfg.session.idle_timeout, Duration::from_secs(1800));
    assert_eq!(cfg.session.absolute_timeout, Duration::from_secs(43_200));
    assert!(cfg.proxy.trusted_proxies.is_empty());
    assert_eq!(cfg.proxy.forwarded_header, ForwardedHeader::XForwardedFor);
    assert_eq!(cfg.proxy.request_id_header, "x-request-id");
    assert!(cfg.proxy.trust_request_id);
    let rt = &cfg.runtime;
    assert_eq!(rt.data_dir.as_deref(), Some(Path::new("./data")));
    assert_eq!(rt.mailbox_capacity, 1024);
    assert_eq!(rt.ask_timeout, Duration::from_millis(2000));
    assert_eq!(rt.store.flush_every, Duration::from_millis(500));
    assert_eq!(rt.store.sweep_interval, Duration::from_millis(1000));
    assert_eq!(rt.store.sweep_batch, 512);
    assert_eq!(rt.store.cache_capacity_bytes, 64 * 1024 * 1024);
    assert!(rt.audit.tracing_sink);
    assert_eq!(rt.audit.jsonl_path, None);
    assert_eq!(rt.audit.sink_queue, 1024);
    assert_eq!(rt.audit.subscriber_queue, 256);
    assert!(rt.audit.persist);
    assert_eq!(rt.audit.retention_max_age, Duration::from_secs(90 * 86_400));
    assert_eq!(rt.audit.retention_max_count, 1_000_000);
    assert_eq!(rt.audit.retention_interval, Duration::from_secs(60));
}

#[test]
fn production_toml_fails_without_a_secret() {
    let err = ConfigLoader::new()
        .file(repo_file("config/production.toml"))
        .load()
        .unwrap_err();
    assert_eq!(err.keys(), vec!["secrets.keys"], "{err}");
    let reason = err.reason_for("secrets.keys").unwrap();
    assert!(
        reason.contains("production requires WARDEN_SECRET_KEY"),
        "{reason}"
    );
}

#[test]
fn production_toml_loads_with_a_strong_secret_from_the_environment() {
    let cfg = ConfigLoader::new()
        .file(repo_file("config/production.toml"))
        .env(vars(&[("WARDEN_SECRET_KEY", KEY_A)]))
        .load()
        .expect("hardened sample loads");
    assert_eq!(cfg.profile, Profile::Production);
    assert_eq!(cfg.server.origin, "https://app.example.com");
    assert_eq!(cfg.server.allowed_hosts, vec!["app.example.com".to_owned()]);
    assert_eq!(cfg.session.same_site, SameSite::Strict);
    assert_eq!(cfg.session.idle_timeout, Duration::from_secs(900));
    assert_eq!(cfg.session.absolute_timeout, Duration::from_secs(28_800));
    assert!(cfg.session.secure);
    assert_eq!(
        cfg.runtime.audit.jsonl_path.as_deref(),
        Some(Path::new("/var/log/warden/audit.jsonl"))
    );
    assert_eq!(
        cfg.proxy.trusted_proxies,
        vec!["10.0.0.0/8".parse::<ipnet::IpNet>().unwrap()]
    );
    assert_eq!(cfg.secrets.current(), KEY_A.as_bytes());
    assert_eq!(cfg.secrets.len(), 1);
    assert!(!cfg.secrets.is_ephemeral());
}

#[test]
fn production_toml_contains_no_secret() {
    let raw = ConfigLoader::new()
        .file(repo_file("config/production.toml"))
        .load_raw()
        .unwrap();
    assert!(raw.secrets.keys.is_empty());
    let text = std::fs::read_to_string(repo_file("config/production.toml")).unwrap();
    assert!(text.contains("WARDEN_SECRET_KEY"));
}

#[test]
fn a_partial_file_keeps_the_other_defaults() {
    let cfg = load("[session]\nidle_timeout_secs = 60\n", &[]).unwrap();
    assert_eq!(cfg.session.idle_timeout, Duration::from_secs(60));
    assert_eq!(cfg.session.absolute_timeout, Duration::from_secs(43_200));
    assert_eq!(cfg.server.origin, "http://127.0.0.1:8080");
}

#[test]
fn a_missing_explicit_file_is_not_found_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.toml");
    let err = ConfigLoader::new().file(&path).load().unwrap_err();
    match &err {
        ConfigError::NotFound { path: p } => assert_eq!(p, &path),
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert!(err.to_string().contains("nope.toml"), "{err}");
}

#[test]
fn later_files_override_earlier_ones() {
    let (_a, first) = toml_file("[server]\nbind = \"127.0.0.1:9001\"\ndata_dir = \"/a\"\n");
    let (_b, second) = toml_file("[server]\nbind = \"127.0.0.1:9002\"\n");
    let cfg = ConfigLoader::new()
        .file(&first)
        .file(&second)
        .load()
        .unwrap();
    assert_eq!(cfg.server.bind.port(), 9002);
    assert_eq!(cfg.server.data_dir, PathBuf::from("/a"));
}

// ---------------------------------------------------------------------------------------------
// Parse errors name the key

#[test]
fn an_unknown_nested_key_is_a_parse_error_naming_it() {
    let (key, message) = parse_error("[server]\nbnd = \"127.0.0.1:1\"\n", &[]);
    assert_eq!(key.as_deref(), Some("server.bnd"));
    assert!(message.contains("unknown key"), "{message}");
    assert!(
        message.contains("`bind`"),
        "lists the expected keys: {message}"
    );
    assert!(message.contains("warden.toml"), "names the file: {message}");
}

#[test]
fn an_unknown_top_level_key_or_section_is_a_parse_error_naming_it() {
    let (key, _) = parse_error("profil = \"production\"\n", &[]);
    assert_eq!(key.as_deref(), Some("profil"));
    let (key, _) = parse_error("[sesion]\nsecure = false\n", &[]);
    assert_eq!(key.as_deref(), Some("sesion"));
    let (key, _) = parse_error("[secrets]\nkey = \"whatever\"\n", &[]);
    assert_eq!(key.as_deref(), Some("secrets.key"));
}

#[test]
fn a_wrong_type_is_a_parse_error_naming_the_key() {
    let (key, message) = parse_error("[session]\nidle_timeout_secs = \"soon\"\n", &[]);
    assert_eq!(key.as_deref(), Some("session.idle_timeout_secs"));
    assert!(message.contains("wrong type"), "{message}");
    let (key, _) = parse_error("[session]\nsecure = \"yes\"\n", &[]);
    assert_eq!(key.as_deref(), Some("session.secure"));
    let (key, _) = parse_error("[store]\nsweep_batch = -1\n", &[]);
    assert_eq!(key.as_deref(), Some("store.sweep_batch"));
    let (key, message) = parse_error("[session]\nsame_site = \"sometimes\"\n", &[]);
    assert_eq!(key.as_deref(), Some("session.same_site"));
    assert!(message.contains("`strict`"), "{message}");
    let (key, _) = parse_error("[proxy]\nforwarded_header = \"x-real-ip\"\n", &[]);
    assert_eq!(key.as_deref(), Some("proxy.forwarded_header"));
}

#[test]
fn a_bad_environment_value_names_the_key_and_the_variable() {
    let (key, message) = parse_error("", &[("WARDEN_PROFILE", "prod")]);
    assert_eq!(key.as_deref(), Some("profile"));
    assert!(message.contains("WARDEN_PROFILE"), "{message}");
    assert!(message.contains("`production`"), "{message}");
}

#[test]
fn parse_errors_in_secrets_never_echo_the_value() {
    let (key, message) = parse_error(&format!("[secrets]\nkeys = \"{KEY_A}\"\n"), &[]);
    assert_eq!(key.as_deref(), Some("secrets.keys"));
    assert!(!message.contains(KEY_A), "{message}");
    let (key, message) = parse_error(&format!("[secrets]\nkeys = [\"{KEY_A}\", 3]\n"), &[]);
    assert_eq!(key.as_deref(), Some("secrets.keys.1"));
    assert!(!message.contains(KEY_A), "{message}");
}

#[test]
fn a_toml_syntax_error_names_the_file_and_hides_the_source_line() {
    let (key, message) = parse_error(&format!("[secrets]\nkeys = [\"{KEY_A}\"\n"), &[]);
    assert_eq!(key, None);
    assert!(message.contains("warden.toml"), "{message}");
    assert!(message.contains("line"), "{message}");
    assert!(!message.contains(KEY_A), "{message}");
}

// ---------------------------------------------------------------------------------------------
// Environment overrides

#[test]
fn environment_overrides_the_file() {
    let toml = "profile = \"development\"\n[server]\nbind = \"127.0.0.1:9000\"\n\
                data_dir = \"/from/file\"\norigin = \"https://file.example.org\"\n";
    let cfg = load(
        toml,
        &[
            ("WARDEN_PROFILE", "production"),
            ("WARDEN_BIND", "0.0.0.0:7000"),
            ("WARDEN_DATA_DIR", "/from/env"),
            ("WARDEN_ORIGIN", "https://env.example.net/"),
            ("WARDEN_SECRET_KEY", KEY_A),
            ("UNRELATED", "ignored"),
        ],
    )
    .unwrap();
    assert_eq!(cfg.profile, Profile::Production);
    assert_eq!(
        cfg.server.bind,
        "0.0.0.0:7000".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(cfg.server.data_dir, PathBuf::from("/from/env"));
    assert_eq!(
        cfg.runtime.data_dir.as_deref(),
        Some(Path::new("/from/env"))
    );
    assert_eq!(cfg.server.origin, "https://env.example.net");
    assert_eq!(cfg.server.allowed_hosts, vec!["env.example.net".to_owned()]);
}

#[test]
fn the_origin_defaults_to_the_bind_address() {
    let cfg = load("", &[("WARDEN_BIND", "[::1]:4000")]).unwrap();
    assert_eq!(cfg.server.origin, "http://[::1]:4000");
    assert_eq!(cfg.server.allowed_hosts, vec!["[::1]:4000".to_owned()]);
}

#[test]
fn later_environment_sources_win() {
    let cfg = ConfigLoader::new()
        .env(vars(&[("WARDEN_BIND", "127.0.0.1:1111")]))
        .env(vars(&[("WARDEN_BIND", "127.0.0.1:2222")]))
        .load()
        .unwrap();
    assert_eq!(cfg.server.bind.port(), 2222);
}

#[test]
fn environment_secret_goes_first_and_file_keys_follow_as_previous() {
    let toml = format!("[secrets]\nkeys = [\"{KEY_B}\", \"{KEY_C}\"]\n");
    let cfg = load(&toml, &[("WARDEN_SECRET_KEY", KEY_A)]).unwrap();
    let all: Vec<&[u8]> = cfg.secrets.all().collect();
    assert_eq!(
        all,
        vec![KEY_A.as_bytes(), KEY_B.as_bytes(), KEY_C.as_bytes()]
    );
    assert_eq!(cfg.secrets.current(), KEY_A.as_bytes());
    let previous: Vec<&[u8]> = cfg.secrets.previous().collect();
    assert_eq!(previous, vec![KEY_B.as_bytes(), KEY_C.as_bytes()]);
}

#[test]
fn environment_secret_equal_to_the_file_key_is_not_duplicated() {
    let toml = format!("[secrets]\nkeys = [\"{KEY_A}\", \"{KEY_B}\"]\n");
    let cfg = load(&toml, &[("WARDEN_SECRET_KEY", KEY_A)]).unwrap();
    let all: Vec<&[u8]> = cfg.secrets.all().collect();
    assert_eq!(all, vec![KEY_A.as_bytes(), KEY_B.as_bytes()]);
}

#[test]
fn previous_keys_from_the_environment_replace_the_files_previous_keys() {
    let toml = format!("[secrets]\nkeys = [\"{KEY_B}\", \"{KEY_C}\"]\n");
    let prev = format!(" {KEY_B} ,, {KEY_C},");
    let cfg = load(
        &toml,
        &[
            ("WARDEN_SECRET_KEY", KEY_A),
            ("WARDEN_PREVIOUS_SECRET_KEYS", &prev),
        ],
    )
    .unwrap();
    let all: Vec<&[u8]> = cfg.secrets.all().collect();
    assert_eq!(
        all,
        vec![KEY_A.as_bytes(), KEY_B.as_bytes(), KEY_C.as_bytes()]
    );

    // Without WARDEN_SECRET_KEY the file's first key stays current.
    let toml = format!("[secrets]\nkeys = [\"{KEY_A}\", \"{KEY_B}\"]\n");
    let cfg = load(&toml, &[("WARDEN_PREVIOUS_SECRET_KEYS", KEY_C)]).unwrap();
    let all: Vec<&[u8]> = cfg.secrets.all().collect();
    assert_eq!(all, vec![KEY_A.as_bytes(), KEY_C.as_bytes()]);
}

#[test]
fn previous_keys_without_a_current_key_are_rejected() {
    let reason = only_error(
        "",
        &[("WARDEN_PREVIOUS_SECRET_KEYS", KEY_B)],
        "secrets.keys",
    );
    assert!(reason.contains("WARDEN_SECRET_KEY"), "{reason}");
}

#[test]
fn an_empty_secret_variable_counts_as_unset() {
    let cfg = load("", &[("WARDEN_SECRET_KEY", "")]).unwrap();
    assert!(cfg.secrets.is_ephemeral());
    let err = load(
        "",
        &[
            ("WARDEN_SECRET_KEY", "  "),
            ("WARDEN_PROFILE", "production"),
        ],
    )
    .unwrap_err();
    assert!(err.keys().contains(&"secrets.keys"), "{err}");
    assert!(err
        .reason_for("secrets.keys")
        .unwrap()
        .contains("WARDEN_SECRET_KEY"));
}

// ---------------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------------
// Validation: server

#[test]
fn a_bind_that_is_not_a_socket_address_is_rejected() {
    for bind in ["localhost", "127.0.0.1", "127.0.0.1:99999", ""] {
        let reason = only_error("", &[("WARDEN_BIND", bind)], "server.bind");
        assert!(reason.contains("socket address"), "{bind}: {reason}");
    }
}

#[test]
fn an_empty_data_dir_is_rejected() {
    only_error("", &[("WARDEN_DATA_DIR", "")], "server.data_dir");
}

#[test]
fn invalid_origins_are_rejected() {
    for origin in [
        "app.example.com",
        "ftp://app.example.com",
        "https://app.example.com/app",
        "https://app.example.com?x=1",
        "https://app.example.com#top",
        "https://user@app.example.com",
        "https://",
        "https://app.example.com:http",
    ] {
        only_error("", &[("WARDEN_ORIGIN", origin)], "server.origin");
    }
    let reason = only_error("", &[("WARDEN_ORIGIN", "app.example.com")], "server.origin");
    assert!(
        reason.contains("http://") && reason.contains("https://"),
        "{reason}"
    );
    let reason = only_error(
        "",
        &[("WARDEN_ORIGIN", "https://a.example.com/x")],
        "server.origin",
    );
    assert!(reason.contains("path"), "{reason}");
}

#[test]
fn origins_are_normalised() {
    let cfg = load("", &[("WARDEN_ORIGIN", "HTTPS://App.Example.COM:8443/")]).unwrap();
    assert_eq!(cfg.server.origin, "https://app.example.com:8443");
    assert_eq!(
        cfg.server.allowed_hosts,
        vec!["app.example.com:8443".to_owned()]
    );
}

#[test]
fn invalid_allowed_hosts_are_rejected() {
    for host in [
        "",
        "https://app.example.com",
        "app.example.com/path",
        "a b.com",
    ] {
        let toml = format!("[server]\nallowed_hosts = [\"ok.example.com\", \"{host}\"]\n");
        only_error(&toml, &[], "server.allowed_hosts");
    }
    let reason = only_error(
        "[server]\nallowed_hosts = [\"https://app.example.com\"]\n",
        &[],
        "server.allowed_hosts",
    );
    assert!(reason.contains("scheme"), "{reason}");
}

#[test]
fn explicit_allowed_hosts_are_kept_lowercased() {
    let cfg = load(
        "[server]\nallowed_hosts = [\"App.Example.com\", \"api.example.com:8443\"]\n",
        &[],
    )
    .unwrap();
    assert_eq!(
        cfg.server.allowed_hosts,
        vec![
            "app.example.com".to_owned(),
            "api.example.com:8443".to_owned()
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Validation: numbers

#[test]
fn every_zero_timeout_capacity_and_queue_is_rejected_by_name() {
    let toml = "\
        [session]\nidle_timeout_secs = 0\nabsolute_timeout_secs = 0\n\
        [runtime]\nmailbox_capacity = 0\nask_timeout_ms = 0\n\
        [store]\nflush_every_ms = 0\nsweep_interval_ms = 0\nsweep_batch = 0\ncache_capacity_mb = 0\n\
        [audit]\nsink_queue = 0\nsubscriber_queue = 0\nretention_max_age_days = 0\n\
        retention_max_count = 0\nretention_interval_secs = 0\n";
    let err = invalid(toml, &[]);
    let mut keys = err.keys();
    keys.sort_unstable();
    let mut expected = vec![
        "session.idle_timeout_secs",
        "session.absolute_timeout_secs",
        "runtime.mailbox_capacity",
        "runtime.ask_timeout_ms",
        "store.flush_every_ms",
        "store.sweep_interval_ms",
        "store.sweep_batch",
        "store.cache_capacity_mb",
        "audit.sink_queue",
        "audit.subscriber_queue",
        "audit.retention_max_age_days",
        "audit.retention_max_count",
        "audit.retention_interval_secs",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert!(err
        .errors()
        .iter()
        .all(|e| e.reason == "must be greater than 0"));
    // One per line, each naming its key.
    assert_eq!(err.to_string().lines().count(), expected.len());
    assert!(err
        .to_string()
        .lines()
        .any(|l| l == "config key `session.idle_timeout_secs`: must be greater than 0"));
}

#[test]
fn each_zero_value_alone_is_rejected() {
    for (section, key) in [
        ("session", "absolute_timeout_secs"),
        ("runtime", "mailbox_capacity"),
        ("runtime", "ask_timeout_ms"),
        ("store", "flush_every_ms"),
        ("store", "sweep_interval_ms"),
        ("store", "sweep_batch"),
        ("store", "cache_capacity_mb"),
        ("audit", "sink_queue"),
        ("audit", "subscriber_queue"),
        ("audit", "retention_max_age_days"),
        ("audit", "retention_max_count"),
        ("audit", "retention_interval_secs"),
    ] {
        let toml = format!("[{section}]\n{key} = 0\n");
        let reason = only_error(&toml, &[], &format!("{section}.{key}"));
        assert_eq!(reason, "must be greater than 0");
    }
    let err = invalid("[session]\nidle_timeout_secs = 0\n", &[]);
    assert_eq!(
        err.to_string(),
        "config key `session.idle_timeout_secs`: must be greater than 0"
    );
}

#[test]
fn values_that_overflow_when_scaled_are_rejected() {
    let reason = only_error(
        "[store]\ncache_capacity_mb = 9223372036854775807\n",
        &[],
        "store.cache_capacity_mb",
    );
    assert!(reason.contains("too large"), "{reason}");
    only_error(
        "[audit]\nretention_max_age_days = 9223372036854775807\n",
        &[],
        "audit.retention_max_age_days",
    );
}

#[test]
fn idle_timeout_longer_than_absolute_timeout_is_rejected() {
    let toml = "[session]\nidle_timeout_secs = 7200\nabsolute_timeout_secs = 3600\n";
    let reason = only_error(toml, &[], "session.idle_timeout_secs");
    assert!(reason.contains("absolute_timeout_secs"), "{reason}");
    let cfg = load(
        "[session]\nidle_timeout_secs = 3600\nabsolute_timeout_secs = 3600\n",
        &[],
    );
    assert_eq!(cfg.unwrap().session.idle_timeout, Duration::from_secs(3600));
}

// ---------------------------------------------------------------------------------------------
// Validation: cookies

#[test]
fn same_site_none_requires_secure() {
    let toml = "[session]\ncookie_name = \"sid\"\nsecure = false\nsame_site = \"none\"\n";
    let reason = only_error(toml, &[], "session.same_site");
    assert!(reason.contains("secure"), "{reason}");
    let cfg = load("[session]\nsame_site = \"none\"\n", &[]).unwrap();
    assert_eq!(cfg.session.same_site, SameSite::None);
}

#[test]
fn a_host_prefixed_cookie_requires_secure() {
    let reason = only_error("[session]\nsecure = false\n", &[], "session.cookie_name");
    assert!(reason.contains("__Host-"), "{reason}");
    let toml = "[session]\ncookie_name = \"__Secure-sid\"\nsecure = false\n";
    only_error(toml, &[], "session.cookie_name");
    // Development accepts an insecure cookie with a plain name.
    let cfg = load("[session]\ncookie_name = \"sid\"\nsecure = false\n", &[]).unwrap();
    assert!(!cfg.session.secure);
    assert_eq!(cfg.session.cookie_name, "sid");
}

#[test]
fn invalid_cookie_names_are_rejected() {
    for name in ["", "my cookie", "a;b", "a=b", "sess\u{e9}", "a,b", "(x)"] {
        let toml = format!("[session]\ncookie_name = \"{name}\"\n");
        only_error(&toml, &[], "session.cookie_name");
    }
}

// ---------------------------------------------------------------------------------------------
// Validation: proxy

#[test]
fn trusted_proxies_accept_cidrs_and_bare_ips() {
    let toml = "[proxy]\ntrusted_proxies = [\"10.0.0.0/8\", \"192.168.1.7\", \"::1\", \
                \"fd00::/8\", \"172.16.5.4/12\"]\nforwarded_header = \"forwarded\"\n";
    let cfg = load(toml, &[]).unwrap();
    let nets: Vec<String> = cfg
        .proxy
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        nets,
        vec![
            "10.0.0.0/8",
            "192.168.1.7/32",
            "::1/128",
            "fd00::/8",
            "172.16.0.0/12"
        ]
    );
    assert_eq!(cfg.proxy.forwarded_header, ForwardedHeader::Forwarded);
}

#[test]
fn an_invalid_trusted_proxy_is_rejected_naming_the_entry() {
    let toml = "[proxy]\ntrusted_proxies = [\"10.0.0.0/8\", \"10.0.0.0/33\", \"proxy.local\"]\n";
    let err = invalid(toml, &[]);
    assert_eq!(
        err.keys(),
        vec!["proxy.trusted_proxies", "proxy.trusted_proxies"]
    );
    assert!(err.errors()[0].reason.contains("`10.0.0.0/33`"), "{err}");
    assert!(err.errors()[1].reason.contains("`proxy.local`"), "{err}");
}

#[test]
fn trusting_every_address_is_rejected_in_production() {
    let toml = "[proxy]\ntrusted_proxies = [\"0.0.0.0/0\"]\n";
    let env = [
        ("WARDEN_PROFILE", "production"),
        ("WARDEN_SECRET_KEY", KEY_A),
        ("WARDEN_ORIGIN", "https://app.example.com"),
    ];
    let reason = only_error(toml, &env, "proxy.trusted_proxies");
    assert!(reason.contains("spoof"), "{reason}");
}

#[test]
fn an_invalid_request_id_header_is_rejected() {
    for header in ["", "x request id", "x-request-id:", "x-r\u{e9}quest"] {
        let toml = format!("[proxy]\nrequest_id_header = \"{header}\"\n");
        only_error(&toml, &[], "proxy.request_id_header");
    }
    let cfg = load("[proxy]\nrequest_id_header = \"X-Correlation-ID\"\n", &[]).unwrap();
    assert_eq!(cfg.proxy.request_id_header, "x-correlation-id");
}

// ---------------------------------------------------------------------------------------------
// Validation: production profile

#[test]
fn production_requires_secure_cookies() {
    let toml = "profile = \"production\"\n[server]\norigin = \"https://app.example.com\"\n\
                [session]\ncookie_name = \"sid\"\nsecure = false\n";
    let reason = only_error(toml, &[("WARDEN_SECRET_KEY", KEY_A)], "session.secure");
    assert!(reason.contains("production"), "{reason}");
}

#[test]
fn production_requires_an_https_origin() {
    let toml = "profile = \"production\"\n[server]\norigin = \"http://app.example.com\"\n";
    let reason = only_error(toml, &[("WARDEN_SECRET_KEY", KEY_A)], "server.origin");
    assert!(reason.contains("https://"), "{reason}");
    // The derived http://<bind> origin is rejected too.
    only_error(
        "profile = \"production\"\n",
        &[("WARDEN_SECRET_KEY", KEY_A)],
        "server.origin",
    );
}

#[test]
fn production_reports_every_problem_at_once() {
    let toml = "profile = \"production\"\n[session]\nsecure = false\nidle_timeout_secs = 0\n";
    let err = invalid(toml, &[]);
    assert_eq!(
        err.keys(),
        vec![
            "server.origin",
            "secrets.keys",
            "session.cookie_name",
            "session.secure",
            "session.idle_timeout_secs",
        ]
    );
    assert_eq!(err.to_string().lines().count(), 5);
}

#[test]
fn from_raw_validates_a_raw_config() {
    let mut raw = RawConfig::default();
    raw.secrets.keys = vec![KEY_A.to_owned()];
    raw.session.same_site = SameSite::Strict;
    let cfg = Config::try_from(raw.clone()).unwrap();
    assert_eq!(cfg.session.same_site, SameSite::Strict);
    assert_eq!(cfg.secrets.current(), KEY_A.as_bytes());
    raw.server.bind = "nope".to_owned();
    let err = Config::from_raw(raw).unwrap_err();
    assert_eq!(err.keys(), vec!["server.bind"]);
}

/// Runs `f` and returns what it logged at WARN or above on this thread.
///
/// A global subscriber (set once) writes into a per-thread buffer: scoped subscribers
/// (`with_default`) race with other test threads over tracing's callsite interest cache.
fn capture_warnings(f: impl FnOnce()) -> String {
    use std::{cell::RefCell, io::Write, sync::Once};

    thread_local! {
        static CAPTURED: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
    }
    struct ThreadBuffer;
    impl Write for ThreadBuffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            CAPTURED.with(|c| {
                if let Some(out) = c.borrow_mut().as_mut() {
                    out.extend_from_slice(buf);
                }
            });
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(|| ThreadBuffer)
            .with_ansi(false)
            .with_max_level(tracing::Level::WARN)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
    });
    CAPTURED.with(|c| *c.borrow_mut() = Some(Vec::new()));
    f();
    let bytes = CAPTURED.with(|c| c.borrow_mut().take()).unwrap_or_default();
    String::from_utf8(bytes).expect("utf-8 logs")
}

#[test]
fn the_ephemeral_key_is_announced_by_exactly_one_warning() {
    let logs = capture_warnings(|| {
        let cfg = ConfigLoader::new().load().unwrap();
        assert!(cfg.secrets.is_ephemeral());
        let strong = ConfigLoader::new()
            .env(vars(&[("WARDEN_SECRET_KEY", KEY_A)]))
            .load()
            .unwrap();
        assert!(!strong.secrets.is_ephemeral());
    });
    assert_eq!(logs.lines().count(), 1, "{logs}");
    assert!(logs.contains("WARN"), "{logs}");
    assert!(logs.contains("will NOT survive a restart"), "{logs}");
    assert!(logs.contains("WARDEN_SECRET_KEY"), "{logs}");
}

#[test]
fn trusting_every_address_only_warns_in_development() {
    let toml = "[proxy]\ntrusted_proxies = [\"::/0\"]\n";
    let logs = capture_warnings(|| {
        let cfg = load(toml, &[("WARDEN_SECRET_KEY", KEY_A)]).unwrap();
        assert_eq!(cfg.proxy.trusted_proxies.len(), 1);
        assert_eq!(cfg.proxy.trusted_proxies[0].prefix_len(), 0);
    });
    assert!(logs.contains("proxy.trusted_proxies"), "{logs}");
    assert!(logs.contains("spoof"), "{logs}");
}
