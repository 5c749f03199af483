//! `[audit]` spike alerts and aggregation: defaults (the audit actor's), the sample files, how
//! values reach `runtime.audit`, and every validation rule (each error names its key), the
//! production ones included.

use warden::{
    actors::{AuditConfig, DEFAULT_AGGREGATE_NAMES, DEFAULT_SPIKE_KINDS},
    config::RawAudit,
};

use super::*;

/// A production configuration that is valid apart from what the test adds.
const PRODUCTION: &str =
    "profile = \"production\"\n[server]\norigin = \"https://app.example.com\"\n";

fn production(audit: &str) -> Result<Config, ConfigError> {
    load(
        &format!("{PRODUCTION}[audit]\n{audit}\n"),
        &[("WARDEN_SECRET_KEY", KEY_A)],
    )
}

/// Expects exactly one invalid key in production with `audit`; returns its reason.
fn production_rejects(audit: &str, key: &str) -> String {
    match production(audit) {
        Err(err @ ConfigError::Invalid { .. }) => {
            assert_eq!(err.keys(), vec![key], "{audit}: {err}");
            err.errors()[0].reason.clone()
        }
        other => panic!("{audit}: expected ConfigError::Invalid, got {other:?}"),
    }
}

// Defaults and the sample files

#[test]
fn builtin_audit_defaults_are_the_actor_defaults() {
    let cfg = ConfigLoader::new().load().unwrap();
    let a = &cfg.runtime.audit;
    assert_eq!(*a, AuditConfig::default());
    assert_eq!(a.spike_kinds, DEFAULT_SPIKE_KINDS);
    assert_eq!(a.spike_window, Duration::from_secs(60));
    assert_eq!(a.spike_threshold, 20);
    assert_eq!(a.aggregate_names, DEFAULT_AGGREGATE_NAMES);
    assert_eq!(a.aggregate_window, Duration::from_secs(60));
    assert_eq!(a.aggregate_burst, 50);
    assert_eq!(a.aggregate_name_budget, 500);
    assert_eq!(a.aggregate_max_keys, 10_000);
    assert_eq!(RawConfig::default().audit, RawAudit::default());
}

#[test]
fn default_toml_documents_every_audit_key() {
    let section = default_toml_section("audit");
    let list = |names: &[&str]| {
        let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
        format!("[{}]", quoted.join(", "))
    };
    for key in [
        "tracing_sink = true".to_owned(),
        "# jsonl_path = ".to_owned(),
        "sink_queue = 1024".to_owned(),
        "subscriber_queue = 256".to_owned(),
        "persist = true".to_owned(),
        "retention_max_age_days = 90".to_owned(),
        "retention_max_count = 1000000".to_owned(),
        "retention_interval_secs = 60".to_owned(),
        format!("spike_kinds = {}", list(&DEFAULT_SPIKE_KINDS)),
        "spike_window_secs = 60".to_owned(),
        "spike_threshold = 20".to_owned(),
        format!("aggregate_names = {}", list(&DEFAULT_AGGREGATE_NAMES)),
        "aggregate_window_secs = 60".to_owned(),
        "aggregate_burst = 50".to_owned(),
        "aggregate_name_budget = 500".to_owned(),
        "aggregate_max_keys = 10000".to_owned(),
    ] {
        assert!(section.contains(&key), "missing `{key}` in:\n{section}");
    }
    for words in [
        "alert.spike",
        "0 turns spike alerts off",
        "Must-log",
        "Production requires",
    ] {
        assert!(section.contains(words), "missing `{words}` in:\n{section}");
    }
    assert_every_key_commented(&section);
    let raw = ConfigLoader::new()
        .file(repo_file("config/default.toml"))
        .load_raw()
        .unwrap();
    assert_eq!(raw.audit, RawAudit::default());
}

#[test]
fn production_toml_has_a_sink_and_spike_alerts() {
    let cfg = ConfigLoader::new()
        .file(repo_file("config/production.toml"))
        .env(vars(&[("WARDEN_SECRET_KEY", KEY_A)]))
        .load()
        .expect("hardened sample loads");
    let expected =
        AuditConfig::default().jsonl_path(Some(PathBuf::from("/var/log/warden/audit.jsonl")));
    assert_eq!(cfg.runtime.audit, expected);
}

// Values reach the configuration

#[test]
fn toml_values_reach_runtime_audit() {
    let cfg = load(
        r#"
[audit]
tracing_sink = false
jsonl_path = "/tmp/audit.jsonl"
spike_kinds = ["auth.login.failure", "csrf.*", "auth.login.failure"]
spike_window_secs = 300
spike_threshold = 100
aggregate_names = ["host.rejected", "x_y.z9*"]
aggregate_window_secs = 30
aggregate_burst = 5
aggregate_name_budget = 50
aggregate_max_keys = 1
"#,
        &[],
    )
    .unwrap();
    let expected = AuditConfig::default()
        .tracing_sink(false)
        .jsonl_path(Some(PathBuf::from("/tmp/audit.jsonl")))
        .spike_kinds(["auth.login.failure", "csrf.*"]) // duplicates dropped
        .spike_window(Duration::from_secs(300))
        .spike_threshold(100)
        .aggregate_names(["host.rejected", "x_y.z9*"])
        .aggregate_window(Duration::from_secs(30))
        .aggregate_burst(5)
        .aggregate_name_budget(50)
        .aggregate_max_keys(1);
    assert_eq!(cfg.runtime.audit, expected);
}

#[test]
fn zero_turns_spike_alerts_and_aggregation_off_in_development() {
    let cfg = load(
        "[audit]\nspike_kinds = []\nspike_window_secs = 0\nspike_threshold = 0\n\
         aggregate_names = []\naggregate_window_secs = 0\naggregate_burst = 0\n\
         aggregate_name_budget = 0\n",
        &[],
    )
    .unwrap();
    let a = &cfg.runtime.audit;
    assert!(a.spike_kinds.is_empty() && a.aggregate_names.is_empty());
    assert_eq!((a.spike_window, a.spike_threshold), (Duration::ZERO, 0));
    assert_eq!(a.aggregate_window, Duration::ZERO);
    assert_eq!((a.aggregate_burst, a.aggregate_name_budget), (0, 0));
}

#[test]
fn from_raw_validates_the_audit_additions() {
    let mut raw = RawConfig::default();
    raw.audit.spike_threshold = 3;
    let cfg = Config::from_raw(raw.clone()).unwrap();
    assert_eq!(cfg.runtime.audit.spike_threshold, 3);
    raw.audit.aggregate_names = vec!["*".to_owned()];
    let err = Config::from_raw(raw).unwrap_err();
    assert_eq!(err.keys(), vec!["audit.aggregate_names"]);
}

// Validation

#[test]
fn invalid_patterns_are_rejected_by_name() {
    let too_long = "a".repeat(65);
    for key in ["audit.spike_kinds", "audit.aggregate_names"] {
        for bad in [
            "",
            "*",
            "**",
            "Auth.login.failure",
            "auth login",
            "auth-login",
            "csrf.*.x",
            "csrf*.x",
            "auth.login\n",
            too_long.as_str(),
        ] {
            let reason = rejected(key, [bad]);
            assert!(reason.contains('`'), "{key} = [{bad:?}]: {reason}");
        }
        let reason = rejected(key, ["*"]);
        assert!(reason.contains("every event"), "{reason}");
        let reason = rejected(key, ["Auth.x"]);
        assert!(reason.contains("lowercase"), "{reason}");
        let reason = rejected(key, ["csrf.*.x"]);
        assert!(reason.contains("only at the end"), "{reason}");
        let reason = rejected(key, [too_long.as_str()]);
        assert!(reason.contains("longer than 64"), "{reason}");
    }
}

#[test]
fn valid_patterns_are_accepted() {
    let longest = "a".repeat(64);
    let with_star = format!("{longest}*");
    let names = [
        "csrf.reject.*",
        "auth.",
        "a*",
        "x_1.y",
        longest.as_str(),
        with_star.as_str(),
    ];
    let cfg = accepted("audit.spike_kinds", names);
    assert_eq!(cfg.runtime.audit.spike_kinds, names);
    let cfg = accepted("audit.aggregate_names", names);
    assert_eq!(cfg.runtime.audit.aggregate_names, names);
}

#[test]
fn every_bad_pattern_is_reported() {
    let err = invalid(
        "[audit]\nspike_kinds = [\"ok\", \"A\", \"*\"]\naggregate_names = [\"b c\"]\n",
        &[],
    );
    assert_eq!(
        err.keys(),
        vec![
            "audit.spike_kinds",
            "audit.spike_kinds",
            "audit.aggregate_names"
        ],
        "{err}"
    );
}

#[test]
fn aggregate_max_keys_must_be_greater_than_zero() {
    assert_eq!(
        rejected("audit.aggregate_max_keys", 0),
        "must be greater than 0"
    );
    let cfg = accepted("audit.aggregate_max_keys", 1);
    assert_eq!(cfg.runtime.audit.aggregate_max_keys, 1);
}

// Validation: production

#[test]
fn production_requires_spike_alerts() {
    for (toml, key) in [
        ("spike_threshold = 0", "audit.spike_threshold"),
        ("spike_window_secs = 0", "audit.spike_window_secs"),
        ("spike_kinds = []", "audit.spike_kinds"),
    ] {
        let reason = production_rejects(toml, key);
        assert!(
            reason.contains("production requires spike alerts"),
            "{reason}"
        );
    }
    let cfg =
        production("spike_threshold = 1\nspike_window_secs = 1\nspike_kinds = [\"x\"]").unwrap();
    assert_eq!(cfg.runtime.audit.spike_threshold, 1);
}

#[test]
fn production_requires_an_audit_sink() {
    let reason = production_rejects("tracing_sink = false", "audit.tracing_sink");
    assert!(reason.contains("audit.jsonl_path"), "{reason}");
    let cfg =
        production("tracing_sink = false\njsonl_path = \"/var/log/warden/audit.jsonl\"").unwrap();
    assert!(!cfg.runtime.audit.tracing_sink);
    // Development accepts no sink.
    accepted("audit.tracing_sink", false);
}

#[test]
fn production_reports_every_audit_problem_at_once() {
    let err = production(
        "tracing_sink = false\nspike_kinds = []\nspike_window_secs = 0\nspike_threshold = 0\n\
         aggregate_max_keys = 0",
    )
    .unwrap_err();
    assert_eq!(
        err.keys(),
        vec![
            "audit.tracing_sink",
            "audit.spike_kinds",
            "audit.spike_window_secs",
            "audit.spike_threshold",
            "audit.aggregate_max_keys",
        ],
        "{err}"
    );
}

// Parse errors

#[test]
fn typos_and_wrong_types_are_parse_errors_naming_the_key() {
    let (key, _) = parse_error("[audit]\nspike_kind = []\n", &[]);
    assert_eq!(key.as_deref(), Some("audit.spike_kind"));
    let (key, _) = parse_error("[audit]\nspike_kinds = \"csrf.*\"\n", &[]);
    assert_eq!(key.as_deref(), Some("audit.spike_kinds"));
    let (key, _) = parse_error("[audit]\nspike_threshold = -1\n", &[]);
    assert_eq!(key.as_deref(), Some("audit.spike_threshold"));
    let (key, _) = parse_error("[audit]\naggregate_names = [1]\n", &[]);
    assert_eq!(key.as_deref(), Some("audit.aggregate_names.0"));
}
