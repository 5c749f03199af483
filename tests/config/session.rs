//! Validation of `[session]`: the cookie attributes, timeouts, shards and limits.

use super::*;

// Validation: cookies

#[test]
fn same_site_none_requires_secure() {
    let toml = "[session]\ncookie_name = \"sid\"\nsecure = false\nsame_site = \"none\"\n\
                [csrf]\ncookie_name = \"csrf\"\n";
    let reason = only_error(toml, &[], "session.same_site");
    assert!(reason.contains("secure"), "{reason}");
    let cfg = load("[session]\nsame_site = \"none\"\n", &[]).unwrap();
    assert_eq!(cfg.session.same_site, SameSite::None);
}

#[test]
fn a_host_prefixed_cookie_requires_secure() {
    // (The pre-session CSRF cookie gets a plain name too: `__Host-csrf` has the same rule.)
    let reason = only_error(
        "[session]\nsecure = false\n[csrf]\ncookie_name = \"csrf\"\n",
        &[],
        "session.cookie_name",
    );
    assert!(reason.contains("__Host-"), "{reason}");
    let toml = "[session]\ncookie_name = \"__Secure-sid\"\nsecure = false\n\
                [csrf]\ncookie_name = \"csrf\"\n";
    only_error(toml, &[], "session.cookie_name");
    // Development accepts an insecure cookie with a plain name.
    let toml = "[session]\ncookie_name = \"sid\"\nsecure = false\n\
                [csrf]\ncookie_name = \"csrf\"\n";
    let cfg = load(toml, &[]).unwrap();
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

// Path

#[test]
fn a_path_scopes_a_cookie_without_the_host_prefix() {
    let cfg = load("[session]\ncookie_name = \"sid\"\npath = \"/app/\"\n", &[]).unwrap();
    assert_eq!(cfg.session.path, "/app/");
    let cfg = load(
        "[session]\ncookie_name = \"__Secure-sid\"\npath = \"/app\"\n",
        &[],
    )
    .unwrap();
    assert_eq!(cfg.session.path, "/app");
}

#[test]
fn invalid_paths_are_rejected() {
    for path in [
        "",
        "app",
        "./app",
        "/a;b",
        "/a,b",
        "/a b",
        " /",
        "/\\t",
        "/a\\u0000",
        "/\\u007f",
        "/caf\u{e9}",
    ] {
        let toml = format!("[session]\ncookie_name = \"sid\"\npath = \"{path}\"\n");
        only_error(&toml, &[], "session.path");
    }
    let reason = only_error(
        "[session]\ncookie_name = \"sid\"\npath = \"app\"\n",
        &[],
        "session.path",
    );
    assert!(reason.contains("must start with `/`"), "{reason}");
    let reason = only_error(
        "[session]\ncookie_name = \"sid\"\npath = \"/a;b\"\n",
        &[],
        "session.path",
    );
    assert!(reason.contains("';'"), "{reason}");
}

#[test]
fn a_host_prefixed_cookie_requires_the_root_path() {
    let reason = only_error("[session]\npath = \"/app\"\n", &[], "session.path");
    assert!(reason.contains("__Host-"), "{reason}");
    assert!(reason.contains("Path=/"), "{reason}");
    // Browsers match the prefix case-insensitively.
    let toml = "[session]\ncookie_name = \"__HOST-sid\"\npath = \"/app\"\n";
    only_error(toml, &[], "session.path");
}

// Domain

#[test]
fn a_domain_is_lowercased_and_loses_its_leading_dot() {
    for (domain, expected) in [
        (".Example.COM", "example.com"),
        ("example.com", "example.com"),
        ("Sub-1.Example.co.uk", "sub-1.example.co.uk"),
        ("localhost", "localhost"),
    ] {
        let toml = format!("[session]\ncookie_name = \"sid\"\ndomain = \"{domain}\"\n");
        let cfg = load(&toml, &[]).unwrap();
        assert_eq!(cfg.session.domain.as_deref(), Some(expected), "{domain}");
    }
}

#[test]
fn invalid_domains_are_rejected() {
    for domain in [
        "",
        ".",
        "https://example.com",
        "example.com/",
        "example.com/path",
        "example.com:8443",
        "[::1]",
        "exa;mple.com",
        "example .com",
        " example.com",
        "example.com\\t",
        "example..com",
        "example.com.",
        "..example.com",
        "ex_ample.com",
        "ex\u{e4}mple.com",
    ] {
        let toml = format!("[session]\ncookie_name = \"sid\"\ndomain = \"{domain}\"\n");
        only_error(&toml, &[], "session.domain");
    }
    for (domain, why) in [
        ("", "empty"),
        ("https://example.com", "scheme"),
        ("example.com/app", "path"),
        ("example.com:443", "port"),
        ("a;b.com", "';'"),
    ] {
        let toml = format!("[session]\ncookie_name = \"sid\"\ndomain = \"{domain}\"\n");
        let reason = only_error(&toml, &[], "session.domain");
        assert!(reason.contains(why), "{domain}: {reason}");
    }
}

#[test]
fn a_host_prefixed_cookie_must_not_set_a_domain() {
    let reason = only_error(
        "[session]\ndomain = \"example.com\"\n",
        &[],
        "session.domain",
    );
    assert!(
        reason.contains("__Host- cookies must not set Domain"),
        "{reason}"
    );
    let toml = "[session]\ncookie_name = \"__host-sid\"\ndomain = \"example.com\"\n";
    only_error(toml, &[], "session.domain");
    // __Secure- only requires Secure.
    let toml = "[session]\ncookie_name = \"__Secure-sid\"\ndomain = \"example.com\"\n";
    let cfg = load(toml, &[]).unwrap();
    assert_eq!(cfg.session.domain.as_deref(), Some("example.com"));
}

#[test]
fn every_host_prefix_violation_is_reported_in_key_order() {
    let toml = "[session]\nsecure = false\npath = \"/app\"\ndomain = \"example.com\"\n\
                [csrf]\ncookie_name = \"csrf\"\n";
    let err = invalid(toml, &[]);
    assert_eq!(
        err.keys(),
        vec!["session.cookie_name", "session.path", "session.domain"],
        "{err}"
    );
}

#[test]
fn a_domain_cookie_is_accepted_in_production() {
    let toml = "profile = \"production\"\n[server]\norigin = \"https://app.example.com\"\n\
                [session]\ncookie_name = \"__Secure-session\"\ndomain = \".example.com\"\n";
    let cfg = load(toml, &[("WARDEN_SECRET_KEY", KEY_A)]).unwrap();
    assert_eq!(cfg.session.domain.as_deref(), Some("example.com"));
}

#[test]
fn a_domain_of_the_wrong_type_is_a_parse_error_naming_it() {
    let (key, message) = parse_error("[session]\ndomain = 3\n", &[]);
    assert_eq!(key.as_deref(), Some("session.domain"));
    assert!(message.contains("wrong type"), "{message}");
}

// Persistence

#[test]
fn persistent_cookies_are_opt_in() {
    let cfg = load("", &[]).unwrap();
    assert!(!cfg.session.persistent);
    let cfg = load("[session]\npersistent = true\n", &[]).unwrap();
    assert!(cfg.session.persistent);
    assert_eq!(cfg.session.absolute_timeout, Duration::from_secs(43_200));
}

// Shards

#[test]
fn zero_shards_means_the_available_parallelism() {
    let cfg = load("[session]\nshards = 0\n", &[]).unwrap();
    assert_eq!(cfg.session.shards, available_shards());
    assert!((1..=SessionSettings::MAX_SHARDS).contains(&cfg.session.shards));
}

#[test]
fn explicit_shards_are_kept() {
    for shards in [1, 7, 64] {
        let cfg = load(&format!("[session]\nshards = {shards}\n"), &[]).unwrap();
        assert_eq!(cfg.session.shards, shards);
    }
}

#[test]
fn more_than_64_shards_are_rejected() {
    for shards in [65, 1_000_000] {
        let reason = only_error(
            &format!("[session]\nshards = {shards}\n"),
            &[],
            "session.shards",
        );
        assert!(reason.contains("at most 64"), "{reason}");
    }
    let (key, _) = parse_error("[session]\nshards = -1\n", &[]);
    assert_eq!(key.as_deref(), Some("session.shards"));
}

// Touch interval

#[test]
fn the_touch_interval_must_be_shorter_than_the_idle_timeout() {
    let reason = only_error(
        "[session]\nidle_timeout_secs = 60\ntouch_interval_ms = 60000\n",
        &[],
        "session.touch_interval_ms",
    );
    assert!(reason.contains("idle"), "{reason}");
    only_error(
        "[session]\ntouch_interval_ms = 1800000\n",
        &[],
        "session.touch_interval_ms",
    );
    only_error(
        "[session]\ntouch_interval_ms = 9223372036854775807\n",
        &[],
        "session.touch_interval_ms",
    );
    let cfg = load(
        "[session]\nidle_timeout_secs = 60\ntouch_interval_ms = 59999\n",
        &[],
    )
    .unwrap();
    assert_eq!(cfg.session.touch_interval, Duration::from_millis(59_999));
}

#[test]
fn a_zero_touch_interval_is_rejected() {
    let reason = only_error(
        "[session]\ntouch_interval_ms = 0\n",
        &[],
        "session.touch_interval_ms",
    );
    assert_eq!(reason, "must be greater than 0");
}

#[test]
fn huge_timeouts_do_not_overflow() {
    let toml = "[session]\nidle_timeout_secs = 9223372036854775807\n\
                absolute_timeout_secs = 9223372036854775807\n";
    let cfg = load(toml, &[]).unwrap();
    assert_eq!(cfg.session.idle_timeout.as_secs(), i64::MAX as u64);
}

// Data size

#[test]
fn max_data_bytes_must_be_between_1_kib_and_1_mib() {
    for bytes in [0u64, 1, 1023, 1_048_577, 1 << 40] {
        let reason = only_error(
            &format!("[session]\nmax_data_bytes = {bytes}\n"),
            &[],
            "session.max_data_bytes",
        );
        assert!(reason.contains("between 1024"), "{reason}");
    }
    for bytes in [1024, 65_536, 1_048_576] {
        let cfg = load(&format!("[session]\nmax_data_bytes = {bytes}\n"), &[]).unwrap();
        assert_eq!(cfg.session.max_data_bytes, bytes);
    }
    assert_eq!(SessionSettings::MIN_DATA_BYTES, 1024);
    assert_eq!(SessionSettings::MAX_DATA_BYTES, 1024 * 1024);
}

#[test]
fn every_new_session_rule_is_reported_at_once() {
    let toml = "[session]\ncookie_name = \"sid\"\npath = \"x\"\ndomain = \"https://a.com\"\n\
                shards = 65\ntouch_interval_ms = 0\nmax_data_bytes = 10\n";
    let err = invalid(toml, &[]);
    assert_eq!(
        err.keys(),
        vec![
            "session.path",
            "session.domain",
            "session.shards",
            "session.touch_interval_ms",
            "session.max_data_bytes",
        ],
        "{err}"
    );
}
