//! `[ratelimit]` and `[auth_rate_limit]`: defaults (the actor's and the middleware's), the
//! sample files, how values reach `runtime.ratelimit` and `Config::auth_rate_limit`, and every
//! validation rule (each error names its key), the production ones included.

use actix_web::http::Method;
use warden::{
    actors::ratelimit::{RateLimitPolicy, RateLimitSettings},
    config::{RawAuthRateLimit, RawAuthRatePolicy, RawRateLimit},
    ratelimit::AuthRateLimitConfig,
};

use super::*;

/// A production configuration that is valid apart from what the test adds.
const PRODUCTION: &str =
    "profile = \"production\"\n[server]\norigin = \"https://app.example.com\"\n";

fn production(auth_rate_limit: &str) -> Result<Config, ConfigError> {
    load(
        &format!("{PRODUCTION}[auth_rate_limit]\n{auth_rate_limit}\n"),
        &[("WARDEN_SECRET_KEY", KEY_A)],
    )
}

/// Expects exactly one invalid key in production with `auth_rate_limit`; returns its reason.
fn production_rejects(auth_rate_limit: &str, key: &str) -> String {
    match production(auth_rate_limit) {
        Err(err @ ConfigError::Invalid { .. }) => {
            assert_eq!(err.keys(), vec![key], "{auth_rate_limit}: {err}");
            err.errors()[0].reason.clone()
        }
        other => panic!("{auth_rate_limit}: expected ConfigError::Invalid, got {other:?}"),
    }
}

/// Every observable setting of an `AuthRateLimitConfig`, for comparisons.
fn observable(c: &AuthRateLimitConfig) -> String {
    let rules: Vec<(&str, &RateLimitPolicy)> = c.rules().collect();
    format!(
        "methods={:?} rules={rules:?} default={:?} case_sensitive={} headers_on_allowed={} \
         limit_unnormalizable={}",
        c.methods(),
        c.default_policy(),
        c.is_case_sensitive(),
        c.headers_on_allowed(),
        c.limits_unnormalizable()
    )
}

fn policy_name(c: &AuthRateLimitConfig, method: &Method, path: &str) -> Option<String> {
    c.policy_for(method, path).map(|p| p.name.clone())
}

/// Expects exactly one invalid key when `[auth_rate_limit]` holds `toml`; returns the reason.
fn auth_rejects(toml: &str, key: &str) -> String {
    only_error(&format!("[auth_rate_limit]\n{toml}\n"), &[], key)
}

// Defaults and the sample files

#[test]
fn builtin_ratelimit_defaults_are_the_actor_defaults() {
    let cfg = ConfigLoader::new().load().unwrap();
    let r = &cfg.runtime.ratelimit;
    assert_eq!(r.shards, available_shards());
    assert_eq!(r.sweep_interval, Duration::from_secs(10));
    assert_eq!(r.persist_interval, Duration::from_millis(100));
    assert_eq!(
        *r,
        RateLimitSettings::default().shards(available_shards()),
        "0 shards: the available parallelism, at most 64"
    );
    assert_eq!(RawConfig::default().ratelimit, RawRateLimit::default());
    assert_eq!(RawRateLimit::MAX_SHARDS, 64);
}

#[test]
fn builtin_auth_rate_limit_defaults_are_the_middleware_defaults() {
    let cfg = ConfigLoader::new().load().unwrap();
    assert_eq!(
        observable(&cfg.auth_rate_limit),
        observable(&AuthRateLimitConfig::default())
    );
    let limits = &cfg.auth_rate_limit;
    assert_eq!(limits.methods(), &[Method::POST]);
    let p = limits.default_policy();
    assert_eq!((p.name.as_str(), p.limit, p.burst), ("auth", 10, 10));
    assert_eq!(p.period, Duration::from_secs(60));
    for path in [
        "/login",
        "/signup",
        "/register",
        "/password-reset",
        "//LOGIN/",
    ] {
        assert_eq!(
            policy_name(limits, &Method::POST, path).as_deref(),
            Some("auth"),
            "{path}"
        );
    }
    assert_eq!(policy_name(limits, &Method::GET, "/login"), None);
    assert_eq!(policy_name(limits, &Method::POST, "/loginx"), None);
    assert!(!limits.is_case_sensitive());
    assert!(limits.headers_on_allowed());
    assert!(limits.limits_unnormalizable());
    assert_eq!(
        RawConfig::default().auth_rate_limit,
        RawAuthRateLimit::default()
    );
}

#[test]
fn default_toml_documents_every_ratelimit_key() {
    let section = default_toml_section("ratelimit");
    for key in [
        "shards = 0",
        "sweep_interval_secs = 10",
        "persist_interval_ms = 100",
    ] {
        assert!(section.contains(key), "missing `{key}` in:\n{section}");
    }
    for words in [
        "available parallelism",
        "At most 64",
        "0 writes every change",
    ] {
        assert!(section.contains(words), "missing `{words}` in:\n{section}");
    }
    assert_every_key_commented(&section);
    let raw = ConfigLoader::new()
        .file(repo_file("config/default.toml"))
        .load_raw()
        .unwrap();
    assert_eq!(raw.ratelimit, RawRateLimit::default());
}

#[test]
fn default_toml_documents_every_auth_rate_limit_key() {
    let section = default_toml_section("auth_rate_limit");
    for key in [
        "methods = [\"POST\"]",
        "paths = [\"/login\", \"/signup\", \"/register\", \"/password-reset\"]",
        "policy_name = \"auth\"",
        "limit = 10",
        "period_secs = 60",
        "# burst = 10",
        "case_sensitive = false",
        "headers_on_allowed = true",
        "limit_unnormalizable = true",
        "# [[auth_rate_limit.policies]]",
        "# path = \"/password-reset\"",
        "# name = \"reset\"",
        "# limit = 5",
        "# period_secs = 3600",
        "# burst = 5",
    ] {
        assert!(section.contains(key), "missing `{key}` in:\n{section}");
    }
    for words in ["Production requires", "equal to limit", "longest"] {
        assert!(section.contains(words), "missing `{words}` in:\n{section}");
    }
    assert_every_key_commented(&section);
    let raw = ConfigLoader::new()
        .file(repo_file("config/default.toml"))
        .load_raw()
        .unwrap();
    assert_eq!(raw.auth_rate_limit, RawAuthRateLimit::default());
}

#[test]
fn the_commented_policy_example_in_default_toml_is_valid() {
    let section = default_toml_section("auth_rate_limit");
    let example: String = section
        .lines()
        .skip_while(|l| !l.starts_with("# [[auth_rate_limit.policies]]"))
        .map(|l| format!("{}\n", l.trim_start_matches("# ")))
        .collect();
    let cfg = load(&example, &[]).expect("the example loads");
    let reset = cfg
        .auth_rate_limit
        .policy_for(&Method::POST, "/password-reset")
        .unwrap();
    assert_eq!(
        *reset,
        RateLimitPolicy::new("reset", 5, Duration::from_secs(3600)).burst(5)
    );
}

#[test]
fn production_toml_limits_login_and_password_reset() {
    let file = repo_file("config/production.toml");
    let raw = ConfigLoader::new().file(&file).load_raw().unwrap();
    assert_eq!(raw.ratelimit, RawRateLimit::default());
    let cfg = ConfigLoader::new()
        .file(&file)
        .env(vars(&[("WARDEN_SECRET_KEY", KEY_A)]))
        .load()
        .expect("hardened sample loads");
    assert_eq!(
        cfg.runtime.ratelimit,
        RateLimitSettings::default().shards(available_shards())
    );
    let limits = &cfg.auth_rate_limit;
    assert_eq!(
        limits.policy_for(&Method::POST, "/login"),
        Some(&RateLimitPolicy::new("auth", 10, Duration::from_secs(60)))
    );
    assert_eq!(
        limits.policy_for(&Method::POST, "/password-reset/complete"),
        Some(&RateLimitPolicy::new("reset", 5, Duration::from_secs(3600)))
    );
    assert_eq!(limits.methods(), &[Method::POST]);
}

// Values reach the configuration

#[test]
fn toml_values_reach_runtime_ratelimit() {
    let cfg = load(
        "[ratelimit]\nshards = 3\nsweep_interval_secs = 30\npersist_interval_ms = 0\n",
        &[],
    )
    .unwrap();
    let expected = RateLimitSettings::default()
        .shards(3)
        .sweep_interval(Duration::from_secs(30))
        .persist_interval(Duration::ZERO);
    assert_eq!(cfg.runtime.ratelimit, expected);
    // The other runtime settings are untouched.
    assert_eq!(cfg.runtime.mailbox_capacity, 1024);
    assert_eq!(cfg.runtime.lockout.max_failures, 5);
}

#[test]
fn toml_values_reach_config_auth_rate_limit() {
    let cfg = load(
        r#"
[auth_rate_limit]
methods = ["post", " PUT "]
paths = ["/login", "/api/session"]
policy_name = "login"
limit = 20
period_secs = 120
burst = 5
case_sensitive = true
headers_on_allowed = false
limit_unnormalizable = false

[[auth_rate_limit.policies]]
path = "/password-reset"
name = "reset"
limit = 5
period_secs = 3600

[[auth_rate_limit.policies]]
path = "/api/token"
name = "token"
limit = 30
period_secs = 60
burst = 10
"#,
        &[],
    )
    .unwrap();
    let expected = AuthRateLimitConfig::builder()
        .methods(["POST", "PUT"])
        .paths(["/login", "/api/session"])
        .default_policy(RateLimitPolicy::new("login", 20, Duration::from_secs(120)).burst(5))
        .policy(
            "/password-reset",
            RateLimitPolicy::new("reset", 5, Duration::from_secs(3600)),
        )
        .policy(
            "/api/token",
            RateLimitPolicy::new("token", 30, Duration::from_secs(60)).burst(10),
        )
        .case_sensitive(true)
        .headers_on_allowed(false)
        .limit_unnormalizable(false)
        .build()
        .unwrap();
    let limits = &cfg.auth_rate_limit;
    assert_eq!(observable(limits), observable(&expected));
    assert_eq!(limits.methods(), &[Method::POST, Method::PUT]);
    assert_eq!(
        policy_name(limits, &Method::PUT, "/login/x").as_deref(),
        Some("login")
    );
    assert_eq!(policy_name(limits, &Method::POST, "/LOGIN"), None); // case-sensitive
    assert_eq!(
        policy_name(limits, &Method::POST, "/password-reset").as_deref(),
        Some("reset")
    );
    assert_eq!(policy_name(limits, &Method::POST, "/signup"), None);
    assert_eq!(policy_name(limits, &Method::POST, "/a%2flogin"), None); // not charged
}

#[test]
fn burst_defaults_to_the_limit() {
    let cfg = accepted("auth_rate_limit.limit", 3);
    let p = cfg.auth_rate_limit.default_policy();
    assert_eq!((p.limit, p.burst), (3, 3));
    let cfg = load(
        "[auth_rate_limit]\nlimit = 3\nburst = 1\n\
         [[auth_rate_limit.policies]]\npath = \"/x\"\nname = \"x\"\nlimit = 7\nperiod_secs = 1\n",
        &[],
    )
    .unwrap();
    let p = cfg.auth_rate_limit.default_policy();
    assert_eq!((p.limit, p.burst), (3, 1));
    let x = cfg.auth_rate_limit.policy_for(&Method::POST, "/x").unwrap();
    assert_eq!((x.limit, x.burst), (7, 7));
}

#[test]
fn policies_can_be_set_programmatically() {
    let cfg = ConfigLoader::new()
        .set(
            "auth_rate_limit.policies",
            [RawAuthRatePolicy::new("/password-reset", "reset", 5, 900)],
        )
        .load()
        .unwrap();
    assert_eq!(
        cfg.auth_rate_limit
            .policy_for(&Method::POST, "/password-reset")
            .unwrap()
            .name,
        "reset"
    );
}

#[test]
fn the_same_name_may_be_shared_by_identical_policies() {
    let cfg = load(
        "[[auth_rate_limit.policies]]\npath = \"/a\"\nname = \"auth\"\nlimit = 10\nperiod_secs = 60\n\
         [[auth_rate_limit.policies]]\npath = \"/b\"\nname = \"b\"\nlimit = 1\nperiod_secs = 60\n\
         [[auth_rate_limit.policies]]\npath = \"/c\"\nname = \"b\"\nlimit = 1\nperiod_secs = 60\nburst = 1\n",
        &[],
    )
    .unwrap();
    let limits = &cfg.auth_rate_limit;
    assert_eq!(
        policy_name(limits, &Method::POST, "/a").as_deref(),
        Some("auth")
    );
    assert_eq!(
        policy_name(limits, &Method::POST, "/c").as_deref(),
        Some("b")
    );
}

#[test]
fn from_raw_validates_the_rate_limit_sections() {
    let mut raw = RawConfig::default();
    raw.ratelimit.shards = 2;
    raw.auth_rate_limit.paths = vec!["/login".to_owned()];
    let cfg = Config::from_raw(raw.clone()).unwrap();
    assert_eq!(cfg.runtime.ratelimit.shards, 2);
    assert_eq!(cfg.auth_rate_limit.rules().count(), 1);
    raw.auth_rate_limit.limit = 0;
    let err = Config::from_raw(raw).unwrap_err();
    assert_eq!(err.keys(), vec!["auth_rate_limit.limit"]);
}

// Validation: [ratelimit]

#[test]
fn ratelimit_shards_are_at_most_64() {
    let reason = rejected("ratelimit.shards", 65);
    assert!(reason.contains("at most 64"), "{reason}");
    assert_eq!(
        accepted("ratelimit.shards", 64).runtime.ratelimit.shards,
        64
    );
    assert_eq!(accepted("ratelimit.shards", 1).runtime.ratelimit.shards, 1);
}

#[test]
fn the_sweep_interval_is_between_a_second_and_a_day() {
    assert_eq!(
        rejected("ratelimit.sweep_interval_secs", 0),
        "must be greater than 0"
    );
    let reason = rejected("ratelimit.sweep_interval_secs", 86_401);
    assert!(reason.contains("at most 86400"), "{reason}");
    for ok in [1, 86_400] {
        let cfg = accepted("ratelimit.sweep_interval_secs", ok);
        assert_eq!(
            cfg.runtime.ratelimit.sweep_interval,
            Duration::from_secs(ok)
        );
    }
}

#[test]
fn the_persist_interval_is_at_most_a_minute() {
    let reason = rejected("ratelimit.persist_interval_ms", 60_001);
    assert!(reason.contains("at most 60000"), "{reason}");
    let cfg = accepted("ratelimit.persist_interval_ms", 60_000);
    assert_eq!(
        cfg.runtime.ratelimit.persist_interval,
        Duration::from_secs(60)
    );
}

// Validation: [auth_rate_limit]

#[test]
fn invalid_methods_are_rejected_by_name() {
    for bad in ["", "PO ST", "GET/", "\u{e9}"] {
        let reason = rejected("auth_rate_limit.methods", [bad]);
        assert!(
            reason.contains("not a valid HTTP method"),
            "{bad}: {reason}"
        );
    }
    let cfg = accepted("auth_rate_limit.methods", ["post", "POST", "PATCH"]);
    assert_eq!(
        cfg.auth_rate_limit.methods(),
        &[Method::POST, Method::PATCH]
    );
}

#[test]
fn invalid_paths_are_rejected_by_name() {
    for bad in ["login", "", "/a%2flogin", "/%2e%2e/login", "/login%zz"] {
        let reason = rejected("auth_rate_limit.paths", [bad]);
        assert!(reason.contains("not a valid path"), "{bad:?}: {reason}");
    }
    let cfg = accepted("auth_rate_limit.paths", ["/Sign-In/", "//x//y"]);
    let rules: Vec<&str> = cfg.auth_rate_limit.rules().map(|(p, _)| p).collect();
    assert_eq!(rules, vec!["/sign-in", "/x/y"]);
}

#[test]
fn an_empty_path_list_limits_nothing_in_development() {
    let cfg = accepted("auth_rate_limit.paths", Vec::<String>::new());
    assert_eq!(cfg.auth_rate_limit.rules().count(), 0);
    assert_eq!(
        policy_name(&cfg.auth_rate_limit, &Method::POST, "/login"),
        None
    );
}

#[test]
fn the_default_policy_is_checked_key_by_key() {
    for bad in ["", "bad name", "caf\u{e9}", &"x".repeat(65)] {
        let reason = rejected("auth_rate_limit.policy_name", bad);
        assert!(reason.contains("A-Za-z0-9_.-"), "{bad:?}: {reason}");
    }
    assert_eq!(
        rejected("auth_rate_limit.limit", 0),
        "must be greater than 0"
    );
    assert_eq!(
        rejected("auth_rate_limit.period_secs", 0),
        "must be greater than 0"
    );
    let reason = rejected("auth_rate_limit.burst", 0);
    assert!(reason.contains("omit the key"), "{reason}");
    accepted("auth_rate_limit.policy_name", "Login.v2_x-y");
    accepted("auth_rate_limit.policy_name", "x".repeat(64));
}

#[test]
fn a_period_too_short_for_the_limit_names_period_secs() {
    let reason = auth_rejects(
        "limit = 4000000000\nperiod_secs = 1",
        "auth_rate_limit.period_secs",
    );
    assert!(reason.contains("too short"), "{reason}");
    let cfg = load(
        "[auth_rate_limit]\nlimit = 4000000000\nperiod_secs = 5\n",
        &[],
    )
    .unwrap();
    assert_eq!(cfg.auth_rate_limit.default_policy().limit, 4_000_000_000);
}

#[test]
fn every_default_policy_error_is_reported_at_once() {
    let err = invalid(
        "[auth_rate_limit]\nmethods = [\"G T\"]\npaths = [\"x\"]\npolicy_name = \"a b\"\n\
         limit = 0\nperiod_secs = 0\nburst = 0\n",
        &[],
    );
    assert_eq!(
        err.keys(),
        vec![
            "auth_rate_limit.methods",
            "auth_rate_limit.paths",
            "auth_rate_limit.policy_name",
            "auth_rate_limit.limit",
            "auth_rate_limit.period_secs",
            "auth_rate_limit.burst",
        ],
        "{err}"
    );
    for line in err.to_string().lines() {
        assert!(line.starts_with("config key `auth_rate_limit."), "{line}");
    }
}

#[test]
fn per_path_policies_are_checked_key_by_key() {
    let err = invalid(
        "[[auth_rate_limit.policies]]\npath = \"/ok\"\nname = \"ok\"\nlimit = 1\nperiod_secs = 1\n\
         [[auth_rate_limit.policies]]\npath = \"reset\"\nname = \"no good\"\nlimit = 0\n\
         period_secs = 0\nburst = 0\n",
        &[],
    );
    assert_eq!(
        err.keys(),
        vec![
            "auth_rate_limit.policies.1.path",
            "auth_rate_limit.policies.1.name",
            "auth_rate_limit.policies.1.limit",
            "auth_rate_limit.policies.1.period_secs",
            "auth_rate_limit.policies.1.burst",
        ],
        "{err}"
    );
}

#[test]
fn two_different_policies_must_not_share_a_name() {
    // With the default policy ("auth", 10 per 60 s).
    let reason = only_error(
        "[[auth_rate_limit.policies]]\npath = \"/x\"\nname = \"auth\"\nlimit = 3\nperiod_secs = 60\n",
        &[],
        "auth_rate_limit.policies.0.name",
    );
    assert!(reason.contains("share one budget"), "{reason}");
    assert!(reason.contains("auth_rate_limit.policy_name"), "{reason}");
    // With each other.
    let reason = only_error(
        "[[auth_rate_limit.policies]]\npath = \"/a\"\nname = \"p\"\nlimit = 3\nperiod_secs = 60\n\
         [[auth_rate_limit.policies]]\npath = \"/b\"\nname = \"p\"\nlimit = 3\nperiod_secs = 60\nburst = 1\n",
        &[],
        "auth_rate_limit.policies.1.name",
    );
    assert!(reason.contains("auth_rate_limit.policies.0"), "{reason}");
    // An invalid policy only reports what is wrong with it.
    only_error(
        "[[auth_rate_limit.policies]]\npath = \"/x\"\nname = \"auth\"\nlimit = 0\nperiod_secs = 60\n",
        &[],
        "auth_rate_limit.policies.0.limit",
    );
}

// Validation: production

#[test]
fn production_requires_login_and_password_reset_to_be_limited() {
    let reason = production_rejects("paths = [\"/login\", \"/signup\"]", "auth_rate_limit.paths");
    assert!(reason.contains("`/password-reset`"), "{reason}");
    assert!(!reason.contains("`/login`"), "{reason}");
    let reason = production_rejects("paths = []", "auth_rate_limit.paths");
    assert!(
        reason.contains("`/login` and `/password-reset`"),
        "{reason}"
    );
    // Case-sensitive matching of other spellings does not cover them.
    production_rejects(
        "case_sensitive = true\npaths = [\"/LOGIN\", \"/Password-Reset\"]",
        "auth_rate_limit.paths",
    );
    // Development accepts the same.
    accepted("auth_rate_limit.paths", ["/signup"]);
}

#[test]
fn production_accepts_any_covering_paths_and_per_path_policies() {
    for ok in [
        "paths = [\"/\"]",
        "paths = [\"/LOGIN/\", \"//password-reset\"]",
        "paths = [\"/login\"]\n[[auth_rate_limit.policies]]\npath = \"/password-reset\"\n\
         name = \"reset\"\nlimit = 5\nperiod_secs = 3600",
    ] {
        let cfg = production(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        assert!(cfg
            .auth_rate_limit
            .policy_for(&Method::POST, "/password-reset")
            .is_some());
    }
}

#[test]
fn production_requires_post_to_be_limited() {
    let reason = production_rejects("methods = [\"GET\"]", "auth_rate_limit.methods");
    assert!(reason.contains("`POST`"), "{reason}");
    production_rejects("methods = []", "auth_rate_limit.methods");
    production(" methods = [\"put\", \"post\"]").unwrap();
    accepted("auth_rate_limit.methods", ["GET"]);
}

#[test]
fn production_reports_methods_and_paths_at_once() {
    let err = production("methods = [\"GET\"]\npaths = [\"/signup\"]").unwrap_err();
    assert_eq!(
        err.keys(),
        vec!["auth_rate_limit.methods", "auth_rate_limit.paths"],
        "{err}"
    );
}

// Parse errors

#[test]
fn typos_and_wrong_types_are_parse_errors_naming_the_key() {
    let (key, _) = parse_error("[ratelimit]\nshard = 2\n", &[]);
    assert_eq!(key.as_deref(), Some("ratelimit.shard"));
    let (key, _) = parse_error("[ratelimit]\npersist_interval_ms = -1\n", &[]);
    assert_eq!(key.as_deref(), Some("ratelimit.persist_interval_ms"));
    let (key, _) = parse_error("[auth_rate_limit]\npath = [\"/login\"]\n", &[]);
    assert_eq!(key.as_deref(), Some("auth_rate_limit.path"));
    let (key, _) = parse_error("[auth_rate_limit]\npaths = \"/login\"\n", &[]);
    assert_eq!(key.as_deref(), Some("auth_rate_limit.paths"));
    let (key, _) = parse_error("[auth_rate_limit]\nlimit = 4294967296\n", &[]);
    assert_eq!(key.as_deref(), Some("auth_rate_limit.limit"));
    let (key, _) = parse_error(
        "[[auth_rate_limit.policies]]\npath = \"/x\"\nname = \"x\"\nlimit = 1\nperiod = 60\n",
        &[],
    );
    assert_eq!(key.as_deref(), Some("auth_rate_limit.policies.0.period"));
}

#[test]
fn a_policy_without_a_required_key_is_a_parse_error() {
    let (key, message) = parse_error(
        "[[auth_rate_limit.policies]]\npath = \"/x\"\nname = \"x\"\nlimit = 1\n",
        &[],
    );
    assert_eq!(
        key.as_deref(),
        Some("auth_rate_limit.policies.0"),
        "{message}"
    );
    assert!(message.contains("period_secs"), "{message}");
}
