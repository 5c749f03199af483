//! `[lockout]`: defaults, the sample files, how values reach `runtime.lockout` and
//! `Config::lockout`, and every validation rule (each error names its key).

use warden::{
    config::{LockoutSettings, RawLockout},
    lockout::LockedResponse,
};
use warden_actors::lockout::LockoutPolicy;

use super::*;

// Defaults and the sample files

#[test]
fn builtin_lockout_defaults() {
    let cfg = ConfigLoader::new().load().unwrap();
    let p = &cfg.runtime.lockout;
    assert_eq!(p.max_failures, 5);
    assert_eq!(p.account_max_failures, 20);
    assert_eq!(p.ip_max_failures, 50);
    assert_eq!(p.window, Duration::from_secs(900));
    assert_eq!(p.base_lock, Duration::from_secs(300));
    assert_eq!(p.multiplier, 2.0);
    assert_eq!(p.max_lock, Duration::from_secs(3600));
    assert_eq!(p.trusted_ip_ttl, Some(Duration::from_secs(30 * 86_400)));
    assert_eq!(p.max_tracked_keys, 100_000);
    assert_eq!(
        p.spray_threshold, 0,
        "off: the audit spike alerting covers it"
    );
    assert_eq!(p.spray_window, Duration::from_secs(60));
    assert!(p.validate().is_ok());
    assert_eq!(cfg.lockout.locked_response, LockedResponse::Generic401);
    assert_eq!(
        cfg.lockout.login_lockout_config().locked_response,
        LockedResponse::Generic401
    );
    assert_eq!(RawConfig::default().lockout, RawLockout::default());
    assert_eq!(RawLockout::MAX_LOCK_SECS, 86_400);
}

#[test]
fn defaults_are_the_actor_defaults_except_the_spray_detector() {
    let cfg = ConfigLoader::new().load().unwrap();
    assert_eq!(
        cfg.runtime.lockout,
        LockoutPolicy::default().spray_threshold(0)
    );
}

#[test]
fn default_toml_documents_every_lockout_key() {
    let section = default_toml_section("lockout");
    for key in [
        "max_failures = 5",
        "account_max_failures = 20",
        "ip_max_failures = 50",
        "window_secs = 900",
        "base_lock_secs = 300",
        "multiplier = 2.0",
        "max_lock_secs = 3600",
        "trusted_ip_ttl_secs = 2592000",
        "max_tracked_keys = 100000",
        "spray_threshold = 0",
        "spray_window_secs = 60",
        "locked_response = \"generic_401\"",
    ] {
        assert!(section.contains(key), "missing `{key}` in:\n{section}");
    }
    for words in ["too_many_requests", "Retry-After", "0 turns this off"] {
        assert!(section.contains(words), "missing `{words}` in:\n{section}");
    }
    assert_every_key_commented(&section);
    let raw = ConfigLoader::new()
        .file(repo_file("config/default.toml"))
        .load_raw()
        .unwrap();
    assert_eq!(raw.lockout, RawLockout::default());
}

#[test]
fn production_toml_states_the_lockout_defaults() {
    let file = repo_file("config/production.toml");
    let raw = ConfigLoader::new().file(&file).load_raw().unwrap();
    assert_eq!(raw.lockout, RawLockout::default());
    let cfg = ConfigLoader::new()
        .file(&file)
        .env(vars(&[("WARDEN_SECRET_KEY", KEY_A)]))
        .load()
        .expect("hardened sample loads");
    assert_eq!(cfg.runtime.lockout.max_failures, 5);
    assert_eq!(cfg.lockout.locked_response, LockedResponse::Generic401);
}

// Values reach the configuration

#[test]
fn toml_values_reach_runtime_lockout_and_config_lockout() {
    let cfg = load(
        r#"
[lockout]
max_failures = 3
account_max_failures = 10
ip_max_failures = 100
window_secs = 600
base_lock_secs = 60
multiplier = 1.5
max_lock_secs = 7200
trusted_ip_ttl_secs = 86400
max_tracked_keys = 5000
spray_threshold = 200
spray_window_secs = 120
locked_response = "too_many_requests"
"#,
        &[],
    )
    .unwrap();
    let expected = LockoutPolicy::default()
        .max_failures(3)
        .account_max_failures(10)
        .ip_max_failures(100)
        .window(Duration::from_secs(600))
        .base_lock(Duration::from_secs(60))
        .multiplier(1.5)
        .max_lock(Duration::from_secs(7200))
        .trusted_ip_ttl(Some(Duration::from_secs(86_400)))
        .max_tracked_keys(5000)
        .spray_threshold(200)
        .spray_window(Duration::from_secs(120));
    assert_eq!(cfg.runtime.lockout, expected);
    let lockout: LockoutSettings = cfg.lockout;
    assert_eq!(lockout.locked_response, LockedResponse::TooManyRequests);
    assert_eq!(
        cfg.lockout.login_lockout_config().locked_response,
        LockedResponse::TooManyRequests
    );
    // The other runtime settings are untouched.
    assert_eq!(cfg.runtime.mailbox_capacity, 1024);
    assert_eq!(cfg.runtime.tokens.max_api_tokens_per_user, 20);
}

#[test]
fn from_raw_validates_the_lockout_section() {
    let mut raw = RawConfig::default();
    raw.lockout.max_failures = 7;
    raw.lockout.locked_response = LockedResponse::TooManyRequests;
    let cfg = Config::from_raw(raw.clone()).unwrap();
    assert_eq!(cfg.runtime.lockout.max_failures, 7);
    assert_eq!(cfg.lockout.locked_response, LockedResponse::TooManyRequests);
    raw.lockout.max_failures = 0;
    let err = Config::from_raw(raw).unwrap_err();
    assert_eq!(err.keys(), vec!["lockout.max_failures"]);
}

#[test]
fn trusted_ip_ttl_zero_turns_trusted_networks_off() {
    let cfg = accepted("lockout.trusted_ip_ttl_secs", 0);
    assert_eq!(cfg.runtime.lockout.trusted_ip_ttl, None);
    let cfg = accepted("lockout.trusted_ip_ttl_secs", 3600);
    assert_eq!(
        cfg.runtime.lockout.trusted_ip_ttl,
        Some(Duration::from_secs(3600))
    );
}

#[test]
fn both_locked_responses_parse() {
    for (text, expected) in [
        ("generic_401", LockedResponse::Generic401),
        ("too_many_requests", LockedResponse::TooManyRequests),
    ] {
        let cfg = load(&format!("[lockout]\nlocked_response = \"{text}\"\n"), &[]).unwrap();
        assert_eq!(cfg.lockout.locked_response, expected, "{text}");
    }
}

#[test]
fn an_integer_multiplier_is_accepted() {
    let cfg = load("[lockout]\nmultiplier = 3\n", &[]).unwrap();
    assert_eq!(cfg.runtime.lockout.multiplier, 3.0);
    let cfg = accepted("lockout.multiplier", 1.0);
    assert_eq!(cfg.runtime.lockout.multiplier, 1.0);
}

#[test]
fn the_spray_detector_can_be_turned_on() {
    let cfg = accepted("lockout.spray_threshold", 100);
    assert_eq!(cfg.runtime.lockout.spray_threshold, 100);
    assert_eq!(cfg.runtime.lockout.spray_window, Duration::from_secs(60));
}

// Validation: each rule names its key

#[test]
fn zero_thresholds_windows_and_capacities_are_rejected_by_name() {
    for key in [
        "lockout.max_failures",
        "lockout.account_max_failures",
        "lockout.ip_max_failures",
        "lockout.window_secs",
        "lockout.max_tracked_keys",
        "lockout.spray_window_secs",
    ] {
        let reason = rejected(key, 0);
        assert_eq!(reason, "must be greater than 0", "{key}");
    }
}

#[test]
fn base_lock_must_be_at_least_a_second() {
    let reason = rejected("lockout.base_lock_secs", 0);
    assert!(reason.contains("at least 1 second"), "{reason}");
    let cfg = accepted("lockout.base_lock_secs", 1);
    assert_eq!(cfg.runtime.lockout.base_lock, Duration::from_secs(1));
}

#[test]
fn the_account_threshold_must_not_be_below_the_pair_threshold() {
    let reason = rejected("lockout.account_max_failures", 4);
    assert!(
        reason.contains("at least `lockout.max_failures` (4 < 5)"),
        "{reason}"
    );
    let cfg = accepted("lockout.account_max_failures", 5);
    assert_eq!(cfg.runtime.lockout.account_max_failures, 5);
}

#[test]
fn the_multiplier_must_be_a_finite_number_of_at_least_one() {
    for bad in [0.5, 0.0, -2.0] {
        let reason = rejected("lockout.multiplier", bad);
        assert!(reason.contains("at least 1.0"), "{bad}: {reason}");
    }
    // TOML can spell these.
    for bad in ["nan", "inf", "-inf"] {
        let err = invalid(&format!("[lockout]\nmultiplier = {bad}\n"), &[]);
        assert_eq!(err.keys(), vec!["lockout.multiplier"], "{bad}: {err}");
    }
}

#[test]
fn max_lock_must_be_between_the_base_lock_and_a_day() {
    let reason = rejected("lockout.max_lock_secs", 299);
    assert!(
        reason.contains("at least `lockout.base_lock_secs` (299 < 300)"),
        "{reason}"
    );
    let reason = rejected("lockout.max_lock_secs", 86_401);
    assert!(reason.contains("at most 86400 (a day)"), "{reason}");
    assert_eq!(
        accepted("lockout.max_lock_secs", 86_400)
            .runtime
            .lockout
            .max_lock,
        Duration::from_secs(86_400)
    );
    assert_eq!(
        accepted("lockout.max_lock_secs", 300)
            .runtime
            .lockout
            .max_lock,
        Duration::from_secs(300)
    );
}

#[test]
fn every_lockout_error_is_reported_at_once() {
    let err = invalid(
        r#"
[lockout]
max_failures = 0
account_max_failures = 0
ip_max_failures = 0
window_secs = 0
base_lock_secs = 0
multiplier = 0.5
max_tracked_keys = 0
spray_window_secs = 0
"#,
        &[],
    );
    assert_eq!(
        err.keys(),
        vec![
            "lockout.max_failures",
            "lockout.account_max_failures",
            "lockout.ip_max_failures",
            "lockout.window_secs",
            "lockout.base_lock_secs",
            "lockout.multiplier",
            "lockout.max_tracked_keys",
            "lockout.spray_window_secs",
        ],
        "{err}"
    );
    for line in err.to_string().lines() {
        assert!(line.starts_with("config key `lockout."), "{line}");
    }
}

// Parse errors

#[test]
fn an_unknown_locked_response_is_a_parse_error_naming_the_key() {
    let (key, message) = parse_error("[lockout]\nlocked_response = \"403\"\n", &[]);
    assert_eq!(key.as_deref(), Some("lockout.locked_response"));
    assert!(message.contains("generic_401"), "{message}");
    assert!(message.contains("too_many_requests"), "{message}");
}

#[test]
fn typos_and_wrong_types_are_parse_errors_naming_the_key() {
    let (key, _) = parse_error("[lockout]\nmax_attempts = 5\n", &[]);
    assert_eq!(key.as_deref(), Some("lockout.max_attempts"));
    let (key, _) = parse_error("[lockout]\nmax_failures = -1\n", &[]);
    assert_eq!(key.as_deref(), Some("lockout.max_failures"));
    let (key, _) = parse_error("[lockout]\nwindow_secs = \"15m\"\n", &[]);
    assert_eq!(key.as_deref(), Some("lockout.window_secs"));
    let (key, _) = parse_error("[lockout]\nmultiplier = \"2\"\n", &[]);
    assert_eq!(key.as_deref(), Some("lockout.multiplier"));
}
