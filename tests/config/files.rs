//! Files and the built-in defaults.

use super::*;

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
    assert_eq!(cfg.session.cookie_name, "__Host-session");
    assert!(cfg.session.secure);
    assert!(cfg.session.http_only);
    assert_eq!(cfg.session.same_site, SameSite::Lax);
    assert_eq!(cfg.session.path, "/");
    assert_eq!(cfg.session.domain, None);
    assert!(!cfg.session.persistent);
    assert_eq!(cfg.session.idle_timeout, Duration::from_secs(1800));
    assert_eq!(cfg.session.absolute_timeout, Duration::from_secs(43_200));
    assert_eq!(cfg.session.shards, available_shards());
    assert_eq!(cfg.session.touch_interval, Duration::from_millis(1000));
    assert_eq!(cfg.session.max_data_bytes, 16_384);
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
fn default_toml_documents_every_session_key() {
    let text = std::fs::read_to_string(repo_file("config/default.toml")).unwrap();
    let session = text
        .split("[session]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("a [session] section");
    for key in [
        "cookie_name = \"__Host-session\"",
        "path = \"/\"",
        "# domain = ",
        "persistent = false",
        "shards = 0",
        "touch_interval_ms = 1000",
        "max_data_bytes = 16384",
    ] {
        assert!(session.contains(key), "missing `{key}` in:\n{session}");
    }
    for rule in ["Secure", "Path=/", "Domain"] {
        assert!(session.contains(rule), "the __Host- rules mention {rule}");
    }
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
    assert_eq!(cfg.session.cookie_name, "__Host-session");
    assert_eq!(cfg.session.same_site, SameSite::Strict);
    assert_eq!(cfg.session.idle_timeout, Duration::from_secs(900));
    assert_eq!(cfg.session.absolute_timeout, Duration::from_secs(28_800));
    assert!(cfg.session.secure);
    assert!(cfg.session.http_only);
    assert_eq!(cfg.session.path, "/");
    assert_eq!(cfg.session.domain, None);
    assert!(!cfg.session.persistent);
    assert_eq!(cfg.session.shards, available_shards());
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
