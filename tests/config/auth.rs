//! `[auth]` and `[passwords]`: defaults, every validation rule, and how they reach
//! `Config::auth`, `runtime.tokens` and `runtime.passwords`.

use warden::config::{AuthSettings, RawAuth, RawPasswords};
use warden_actors::{
    password::{default_threads, PasswordParams, MAX_PASSWORD_LEN_LIMIT},
    tokens::TokenPolicy,
    PasswordSettings,
};

use super::*;

const FLOOR: &str = "below the OWASP floor (19 MiB, t=2, p=1)";

// Defaults

#[test]
fn builtin_auth_defaults() {
    let cfg = ConfigLoader::new().load().unwrap();
    let auth = &cfg.auth;
    assert_eq!(auth.login_url, "/login");
    assert_eq!(auth.bearer_header, "authorization");
    assert_eq!(auth.bearer_scheme, "Bearer");
    assert_eq!(auth.reset_token_ttl, Duration::from_secs(1800));
    assert_eq!(auth.api_tokens_per_user, 20);
    assert_eq!(auth.api_token_ttl, None);

    let tokens = &cfg.runtime.tokens;
    assert_eq!(tokens, &TokenPolicy::default());
    assert_eq!(tokens.reset_ttl, Duration::from_secs(1800));
    assert_eq!(tokens.api_default_ttl, None);
    assert_eq!(tokens.max_api_tokens_per_user, 20);
}

#[test]
fn builtin_password_defaults_are_the_owasp_floor() {
    let cfg = ConfigLoader::new().load().unwrap();
    let pw = &cfg.runtime.passwords;
    assert_eq!(pw.params, PasswordParams::default());
    assert_eq!(pw.params.memory_kib, 19_456);
    assert_eq!(pw.params.iterations, 2);
    assert_eq!(pw.params.parallelism, 1);
    assert_eq!(pw.params.min_len, 8);
    assert_eq!(pw.params.max_len, 1024);
    assert!(!pw.params.is_insecure_for_tests());
    pw.params
        .validate()
        .expect("the defaults pass the pool's own check");
    assert_eq!(pw.threads, default_threads()); // threads = 0
    assert_eq!(pw.queue, 64);
    assert_eq!(pw, &PasswordSettings::default());
}

#[test]
fn raw_defaults_match_the_actor_defaults() {
    let raw = RawPasswords::default();
    let params = PasswordParams::default();
    assert_eq!(
        (
            raw.memory_kib,
            raw.iterations,
            raw.parallelism,
            raw.min_len,
            raw.max_len
        ),
        (
            params.memory_kib,
            params.iterations,
            params.parallelism,
            params.min_len,
            params.max_len
        )
    );
    assert_eq!(raw.queue, warden_actors::password::DEFAULT_QUEUE);
    let auth = RawAuth::default();
    let policy = TokenPolicy::default();
    assert_eq!(auth.reset_token_ttl_secs, policy.reset_ttl.as_secs());
    assert_eq!(auth.api_tokens_per_user, policy.max_api_tokens_per_user);
    assert_eq!(auth.api_token_ttl_secs, None);
    assert_eq!(RawConfig::default().auth, auth);
    assert_eq!(RawConfig::default().passwords, raw);
}

#[test]
fn default_toml_documents_every_auth_and_password_key() {
    let auth = default_toml_section("auth");
    for key in [
        "login_url = \"/login\"",
        "bearer_header = \"authorization\"",
        "bearer_scheme = \"Bearer\"",
        "reset_token_ttl_secs = 1800",
        "api_tokens_per_user = 20",
        "# api_token_ttl_secs = ",
    ] {
        assert!(auth.contains(key), "missing `{key}` in:\n{auth}");
    }
    let passwords = default_toml_section("passwords");
    for key in [
        "memory_kib = 19456",
        "iterations = 2",
        "parallelism = 1",
        "min_len = 8",
        "max_len = 1024",
        "threads = 0",
        "queue = 64",
    ] {
        assert!(passwords.contains(key), "missing `{key}` in:\n{passwords}");
    }
    assert!(passwords.contains("OWASP floor"), "{passwords}");
    assert!(
        passwords.contains("NO configuration\n# switch"),
        "says there is no insecure switch:\n{passwords}"
    );
    // Every key line is preceded by a comment.
    for section in [&auth, &passwords] {
        let lines: Vec<&str> = section.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.is_empty() && !line.starts_with('#') {
                assert!(
                    i > 0 && lines[i - 1].starts_with('#'),
                    "`{line}` has no comment"
                );
            }
        }
    }
}

// Values reach Config::auth, runtime.tokens and runtime.passwords

#[test]
fn toml_values_reach_auth_tokens_and_passwords() {
    let cfg = load(
        r#"
[auth]
login_url = "/account/sign-in"
bearer_header = "X-Api-Token"
bearer_scheme = "Token"
reset_token_ttl_secs = 600
api_tokens_per_user = 5
api_token_ttl_secs = 86400

[passwords]
memory_kib = 65536
iterations = 3
parallelism = 2
min_len = 12
max_len = 256
threads = 3
queue = 7
"#,
        &[],
    )
    .unwrap();
    assert_eq!(cfg.auth.login_url, "/account/sign-in");
    assert_eq!(cfg.auth.bearer_header, "x-api-token");
    assert_eq!(cfg.auth.bearer_scheme, "Token");
    assert_eq!(cfg.auth.reset_token_ttl, Duration::from_secs(600));
    assert_eq!(cfg.auth.api_tokens_per_user, 5);
    assert_eq!(cfg.auth.api_token_ttl, Some(Duration::from_secs(86_400)));

    let tokens = &cfg.runtime.tokens;
    assert_eq!(tokens.reset_ttl, Duration::from_secs(600));
    assert_eq!(tokens.api_default_ttl, Some(Duration::from_secs(86_400)));
    assert_eq!(tokens.max_api_tokens_per_user, 5);
    assert_eq!(tokens.touch_interval, TokenPolicy::default().touch_interval);

    let pw = &cfg.runtime.passwords;
    assert_eq!(
        pw.params,
        PasswordParams::default()
            .memory_kib(65_536)
            .iterations(3)
            .parallelism(2)
            .min_len(12)
            .max_len(256)
    );
    assert_eq!(pw.threads, 3);
    assert_eq!(pw.queue, 7);
}

#[test]
fn the_other_runtime_settings_are_kept() {
    let cfg = load(
        "[runtime]\nmailbox_capacity = 9\n[auth]\napi_tokens_per_user = 2\n",
        &[],
    )
    .unwrap();
    assert_eq!(cfg.runtime.mailbox_capacity, 9);
    assert_eq!(cfg.runtime.data_dir.as_deref(), Some(Path::new("./data")));
    assert_eq!(cfg.runtime.tokens.max_api_tokens_per_user, 2);
}

#[test]
fn the_bearer_header_is_trimmed_and_lowercased() {
    let cfg = accepted("auth.bearer_header", " X-Token ");
    assert_eq!(cfg.auth.bearer_header, "x-token");
}

#[test]
fn tests_may_replace_the_password_settings_after_loading() {
    let mut cfg = ConfigLoader::new().load().unwrap();
    cfg.runtime.passwords = PasswordSettings::new(PasswordParams::insecure_for_tests());
    assert!(cfg.runtime.passwords.params.is_insecure_for_tests());
}

#[test]
fn production_toml_sets_auth_and_passwords() {
    let cfg = ConfigLoader::new()
        .file(repo_file("config/production.toml"))
        .env(vars(&[("WARDEN_SECRET_KEY", KEY_A)]))
        .load()
        .expect("hardened sample loads");
    assert_eq!(cfg.auth.login_url, "/login");
    assert_eq!(cfg.auth.bearer_header, "authorization");
    assert_eq!(cfg.auth.bearer_scheme, "Bearer");
    assert_eq!(cfg.auth.reset_token_ttl, Duration::from_secs(1800));
    assert_eq!(cfg.auth.api_tokens_per_user, 20);
    assert_eq!(
        cfg.auth.api_token_ttl,
        Some(Duration::from_secs(90 * 86_400))
    );
    assert_eq!(
        cfg.runtime.tokens.api_default_ttl,
        Some(Duration::from_secs(90 * 86_400))
    );
    assert_eq!(cfg.runtime.passwords.params, PasswordParams::default());
    assert_eq!(cfg.runtime.passwords.threads, default_threads());
    assert_eq!(cfg.runtime.passwords.queue, 64);
}

// Validation: [auth]

#[test]
fn login_url_must_be_a_local_path() {
    for url in [
        "",
        "login",
        "https://evil.example/login",
        "javascript:alert(1)",
        "//evil.example/login",
        "/\\evil.example",
        "/a\\b",
        "/log in",
        "/login\n",
        "/login\t",
        "/\u{0}x",
        "/café",
        "/login?x=1",
        "/login#top",
    ] {
        rejected("auth.login_url", url);
    }
    let reason = rejected("auth.login_url", "https://evil.example/login");
    assert!(reason.contains("local path"), "{reason}");
    let reason = rejected("auth.login_url", "//evil.example");
    assert!(reason.contains("//"), "{reason}");
    let reason = rejected("auth.login_url", "/log in");
    assert!(reason.contains("whitespace"), "{reason}");
    let reason = rejected("auth.login_url", "/login?x=1");
    assert!(reason.contains("?next="), "{reason}");
}

#[test]
fn local_login_urls_are_accepted() {
    for url in [
        "/",
        "/login",
        "/account/sign-in",
        "/a/b.c/~d_e-f",
        "/l%C3%A9",
    ] {
        assert_eq!(accepted("auth.login_url", url).auth.login_url, url);
    }
}

#[test]
fn bearer_header_must_be_a_header_name() {
    for header in ["", "x api", "x:token", "x-tökén", "author\r\nization"] {
        rejected("auth.bearer_header", header);
    }
    let reason = rejected("auth.bearer_header", "x:token");
    assert!(reason.contains("header name"), "{reason}");
}

#[test]
fn bearer_scheme_must_be_a_non_empty_token() {
    for scheme in ["", "Bear er", " Bearer", "Bearer:", "Bearer\t", "Bé"] {
        rejected("auth.bearer_scheme", scheme);
    }
    let reason = rejected("auth.bearer_scheme", "");
    assert!(reason.contains("empty"), "{reason}");
    for scheme in ["Token", "bearer", "X-Api.Key"] {
        assert_eq!(
            accepted("auth.bearer_scheme", scheme).auth.bearer_scheme,
            scheme
        );
    }
}

#[test]
fn reset_token_ttl_must_be_between_a_second_and_a_day() {
    let reason = rejected("auth.reset_token_ttl_secs", 0);
    assert!(reason.contains("greater than 0"), "{reason}");
    let reason = rejected("auth.reset_token_ttl_secs", 86_401);
    assert!(reason.contains("86400"), "{reason}");
    rejected("auth.reset_token_ttl_secs", u64::MAX);
    for secs in [1, 86_400] {
        let cfg = accepted("auth.reset_token_ttl_secs", secs);
        assert_eq!(cfg.runtime.tokens.reset_ttl, Duration::from_secs(secs));
    }
    assert_eq!(
        AuthSettings::MAX_RESET_TOKEN_TTL,
        Duration::from_secs(86_400)
    );
}

#[test]
fn api_tokens_per_user_must_be_between_1_and_1000() {
    let reason = rejected("auth.api_tokens_per_user", 0);
    assert!(reason.contains("greater than 0"), "{reason}");
    let reason = rejected("auth.api_tokens_per_user", 1001);
    assert!(reason.contains("1000"), "{reason}");
    for n in [1, AuthSettings::MAX_API_TOKENS_PER_USER] {
        let cfg = accepted("auth.api_tokens_per_user", n);
        assert_eq!(cfg.auth.api_tokens_per_user, n);
        assert_eq!(cfg.runtime.tokens.max_api_tokens_per_user, n);
    }
}

#[test]
fn api_token_ttl_if_set_must_be_positive() {
    let reason = rejected("auth.api_token_ttl_secs", 0);
    assert!(reason.contains("greater than 0"), "{reason}");
    let cfg = accepted("auth.api_token_ttl_secs", 1);
    assert_eq!(cfg.auth.api_token_ttl, Some(Duration::from_secs(1)));
    assert_eq!(
        cfg.runtime.tokens.api_default_ttl,
        Some(Duration::from_secs(1))
    );
}

// Validation: [passwords]

#[test]
fn memory_below_the_owasp_floor_is_rejected() {
    for m in [0, 64, 19_455] {
        let reason = rejected("passwords.memory_kib", m);
        assert!(reason.contains(FLOOR), "{reason}");
    }
    // Even an OWASP-equivalent pair with more passes: the configuration floor is m = 19 MiB.
    let err = load("[passwords]\nmemory_kib = 9216\niterations = 4\n", &[]).unwrap_err();
    assert_eq!(err.keys(), vec!["passwords.memory_kib"], "{err}");
    let reason = rejected("passwords.memory_kib", RawPasswords::MAX_MEMORY_KIB + 1);
    assert!(reason.contains("at most"), "{reason}");
    for m in [19_456, 47_104, RawPasswords::MAX_MEMORY_KIB] {
        assert_eq!(
            accepted("passwords.memory_kib", m)
                .runtime
                .passwords
                .params
                .memory_kib,
            m
        );
    }
}

#[test]
fn iterations_below_the_owasp_floor_are_rejected() {
    for t in [0, 1] {
        let reason = rejected("passwords.iterations", t);
        assert!(reason.contains(FLOOR), "{reason}");
    }
    // m = 46 MiB with t = 1 passes OWASP's table, but configuration requires t >= 2.
    let err = load("[passwords]\nmemory_kib = 47104\niterations = 1\n", &[]).unwrap_err();
    assert_eq!(err.keys(), vec!["passwords.iterations"], "{err}");
    assert_eq!(
        accepted("passwords.iterations", 10)
            .runtime
            .passwords
            .params
            .iterations,
        10
    );
}

#[test]
fn parallelism_zero_is_rejected_as_below_the_floor() {
    let reason = rejected("passwords.parallelism", 0);
    assert!(reason.contains(FLOOR), "{reason}");
    let reason = rejected("passwords.parallelism", RawPasswords::MAX_PARALLELISM + 1);
    assert!(reason.contains("at most"), "{reason}");
    assert_eq!(
        accepted("passwords.parallelism", 4)
            .runtime
            .passwords
            .params
            .parallelism,
        4
    );
}

#[test]
fn min_len_below_8_is_rejected() {
    for n in [0, 1, 7] {
        let reason = rejected("passwords.min_len", n);
        assert!(reason.contains("at least 8"), "{reason}");
    }
    assert_eq!(
        accepted("passwords.min_len", 15)
            .runtime
            .passwords
            .params
            .min_len,
        15
    );
}

#[test]
fn max_len_must_be_between_min_len_and_the_limit() {
    let reason = rejected("passwords.max_len", 7);
    assert!(reason.contains("passwords.min_len"), "{reason}");
    let err = load("[passwords]\nmin_len = 20\nmax_len = 19\n", &[]).unwrap_err();
    assert_eq!(err.keys(), vec!["passwords.max_len"], "{err}");
    let reason = rejected("passwords.max_len", MAX_PASSWORD_LEN_LIMIT + 1);
    assert!(
        reason.contains(&MAX_PASSWORD_LEN_LIMIT.to_string()),
        "{reason}"
    );
    rejected("passwords.max_len", 0);
    for n in [8, MAX_PASSWORD_LEN_LIMIT] {
        assert_eq!(
            accepted("passwords.max_len", n)
                .runtime
                .passwords
                .params
                .max_len,
            n
        );
    }
}

#[test]
fn queue_zero_is_rejected() {
    let reason = rejected("passwords.queue", 0);
    assert!(reason.contains("greater than 0"), "{reason}");
    assert_eq!(accepted("passwords.queue", 1).runtime.passwords.queue, 1);
}

#[test]
fn threads_above_256_are_rejected_and_0_means_available_parallelism() {
    let reason = rejected("passwords.threads", 257);
    assert!(reason.contains("256"), "{reason}");
    assert_eq!(RawPasswords::MAX_THREADS, 256);
    assert_eq!(
        accepted("passwords.threads", 0).runtime.passwords.threads,
        default_threads()
    );
    for n in [1, 256] {
        assert_eq!(
            accepted("passwords.threads", n).runtime.passwords.threads,
            n
        );
    }
}

#[test]
fn every_auth_and_password_error_is_reported_at_once() {
    let err = invalid(
        r#"
[auth]
login_url = "//evil.example"
bearer_header = "a b"
bearer_scheme = ""
reset_token_ttl_secs = 0
api_tokens_per_user = 1001
api_token_ttl_secs = 0

[passwords]
memory_kib = 1024
iterations = 1
parallelism = 0
min_len = 4
max_len = 100000
threads = 1000
queue = 0
"#,
        &[],
    );
    assert_eq!(
        err.keys(),
        vec![
            "auth.login_url",
            "auth.bearer_header",
            "auth.bearer_scheme",
            "auth.reset_token_ttl_secs",
            "auth.api_tokens_per_user",
            "auth.api_token_ttl_secs",
            "passwords.memory_kib",
            "passwords.iterations",
            "passwords.parallelism",
            "passwords.min_len",
            "passwords.max_len",
            "passwords.queue",
            "passwords.threads",
        ],
        "{err}"
    );
    for key in [
        "passwords.memory_kib",
        "passwords.iterations",
        "passwords.parallelism",
    ] {
        let reason = err.reason_for(key).unwrap();
        assert!(reason.contains(FLOOR), "{key}: {reason}");
    }
}

// Parse errors

#[test]
fn there_is_no_insecure_switch_and_typos_are_parse_errors() {
    let (key, _) = parse_error("[passwords]\ninsecure = true\n", &[]);
    assert_eq!(key.as_deref(), Some("passwords.insecure"));
    let (key, _) = parse_error("[passwords]\ninsecure_for_tests = true\n", &[]);
    assert_eq!(key.as_deref(), Some("passwords.insecure_for_tests"));
    let (key, _) = parse_error("[auth]\nlogin_path = \"/login\"\n", &[]);
    assert_eq!(key.as_deref(), Some("auth.login_path"));
}

#[test]
fn wrong_types_are_parse_errors_naming_the_key() {
    let (key, _) = parse_error("[passwords]\nmemory_kib = -1\n", &[]);
    assert_eq!(key.as_deref(), Some("passwords.memory_kib"));
    let (key, _) = parse_error("[passwords]\nmemory_kib = 4294967296\n", &[]);
    assert_eq!(key.as_deref(), Some("passwords.memory_kib"));
    let (key, _) = parse_error("[auth]\napi_token_ttl_secs = \"90d\"\n", &[]);
    assert_eq!(key.as_deref(), Some("auth.api_token_ttl_secs"));
    let (key, _) = parse_error("[auth]\nlogin_url = 1\n", &[]);
    assert_eq!(key.as_deref(), Some("auth.login_url"));
}
