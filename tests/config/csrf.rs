//! `[csrf]`: defaults, the sample files, how values reach `Config::csrf`, and every validation
//! rule (each error names its key).

use warden::config::{CsrfSettings, RawCsrf};

use super::{logs::capture_warnings, *};

/// A production configuration that is valid apart from what the test adds.
const PRODUCTION: &str =
    "profile = \"production\"\n[server]\norigin = \"https://app.example.com\"\n";

fn production(csrf: &str) -> Result<Config, ConfigError> {
    load(
        &format!("{PRODUCTION}[csrf]\n{csrf}\n"),
        &[("WARDEN_SECRET_KEY", KEY_A)],
    )
}

/// `csrf.trusted_origins` after normalising one entry.
fn trusted(origin: &str) -> Vec<String> {
    accepted("csrf.trusted_origins", [origin])
        .csrf
        .trusted_origins
}

// Defaults and the sample files

#[test]
fn builtin_csrf_defaults() {
    let csrf = ConfigLoader::new().load().unwrap().csrf;
    assert!(csrf.enabled);
    assert_eq!(csrf.header_name, "x-csrf-token");
    assert_eq!(csrf.field_name, "csrf_token");
    assert_eq!(csrf.cookie_name, "__Host-csrf");
    assert!(csrf.trusted_origins.is_empty());
    assert!(!csrf.trust_same_site);
    assert!(csrf.exempt_paths.is_empty());
    assert_eq!(csrf.body_limit, 65_536);
    assert!(csrf.bearer_exempt);
    assert_eq!(RawConfig::default().csrf, RawCsrf::default());
    assert_eq!(CsrfSettings::MIN_BODY_LIMIT, 1024);
    assert_eq!(CsrfSettings::MAX_BODY_LIMIT, 16 * 1024 * 1024);
}

#[test]
fn default_toml_documents_every_csrf_key() {
    let text = std::fs::read_to_string(repo_file("config/default.toml")).unwrap();
    let csrf = text
        .split("\n[csrf]\n")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("a [csrf] section");
    for key in [
        "enabled = true",
        "header_name = \"x-csrf-token\"",
        "field_name = \"csrf_token\"",
        "cookie_name = \"__Host-csrf\"",
        "trusted_origins = []",
        "trust_same_site = false",
        "exempt_paths = []",
        "body_limit = 65536",
        "bearer_exempt = true",
    ] {
        assert!(csrf.contains(key), "missing `{key}` in:\n{csrf}");
    }
    let lines: Vec<&str> = csrf.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if !line.is_empty() && !line.starts_with('#') {
            assert!(
                i > 0 && lines[i - 1].starts_with('#'),
                "`{line}` has no comment"
            );
        }
    }
    // The default file parses to exactly the built-in [csrf] defaults.
    let raw = ConfigLoader::new()
        .file(repo_file("config/default.toml"))
        .load_raw()
        .unwrap();
    assert_eq!(raw.csrf, RawCsrf::default());
}

#[test]
fn production_toml_keeps_csrf_on_without_exemptions() {
    let file = repo_file("config/production.toml");
    let raw = ConfigLoader::new().file(&file).load_raw().unwrap();
    assert_eq!(
        raw.csrf,
        RawCsrf::default(),
        "states the defaults explicitly"
    );
    let cfg = ConfigLoader::new()
        .file(&file)
        .env(vars(&[("WARDEN_SECRET_KEY", KEY_A)]))
        .load()
        .expect("hardened sample loads");
    assert!(cfg.csrf.enabled);
    assert!(cfg.csrf.exempt_paths.is_empty());
    assert!(cfg.csrf.trusted_origins.is_empty());
    assert!(!cfg.csrf.trust_same_site);
    assert_eq!(cfg.csrf.cookie_name, "__Host-csrf");
}

#[test]
fn toml_values_reach_config_csrf() {
    let cfg = load(
        r#"
[csrf]
enabled = true
header_name = "X-XSRF-Token"
field_name = "authenticity_token"
cookie_name = "__Host-login-csrf"
trusted_origins = ["https://Admin.Example.com", "https://partner.example.net:8443/"]
trust_same_site = true
exempt_paths = ["/hooks/*", "/billing/webhook"]
body_limit = 1048576
bearer_exempt = false
"#,
        &[],
    )
    .unwrap();
    let csrf = &cfg.csrf;
    assert!(csrf.enabled);
    assert_eq!(csrf.header_name, "x-xsrf-token");
    assert_eq!(csrf.field_name, "authenticity_token");
    assert_eq!(csrf.cookie_name, "__Host-login-csrf");
    assert_eq!(
        csrf.trusted_origins,
        vec![
            "https://admin.example.com".to_owned(),
            "https://partner.example.net:8443".to_owned()
        ]
    );
    assert!(csrf.trust_same_site);
    assert_eq!(
        csrf.exempt_paths,
        vec!["/hooks/*".to_owned(), "/billing/webhook".to_owned()]
    );
    assert_eq!(csrf.body_limit, 1_048_576);
    assert!(!csrf.bearer_exempt);
}

#[test]
fn from_raw_validates_the_csrf_section() {
    let mut raw = RawConfig::default();
    raw.csrf.body_limit = 4096;
    raw.csrf.exempt_paths = vec!["/hooks/*".to_owned(), "/hooks/*".to_owned()];
    let cfg = Config::from_raw(raw.clone()).unwrap();
    assert_eq!(cfg.csrf.body_limit, 4096);
    assert_eq!(cfg.csrf.exempt_paths, vec!["/hooks/*".to_owned()]); // deduplicated
    raw.csrf.body_limit = 0;
    let err = Config::from_raw(raw).unwrap_err();
    assert_eq!(err.keys(), vec!["csrf.body_limit"]);
}

// Validation: csrf.enabled

#[test]
fn csrf_cannot_be_disabled_in_production() {
    let err = production("enabled = false").unwrap_err();
    assert_eq!(err.keys(), vec!["csrf.enabled"], "{err}");
    let reason = err.reason_for("csrf.enabled").unwrap();
    assert!(
        reason.contains("CSRF protection cannot be disabled in production"),
        "{reason}"
    );
    assert!(production("enabled = true").unwrap().csrf.enabled);
}

#[test]
fn disabling_csrf_in_development_is_allowed_with_a_warning() {
    let logs = capture_warnings(|| {
        let cfg = accepted("csrf.enabled", false);
        assert!(!cfg.csrf.enabled);
    });
    assert!(logs.contains("WARN"), "{logs}");
    assert!(logs.contains("csrf.enabled = false"), "{logs}");
    assert!(logs.contains("DISABLED"), "{logs}");
    let quiet = capture_warnings(|| {
        accepted("csrf.trust_same_site", true);
    });
    assert!(!quiet.contains("csrf.enabled"), "{quiet}");
}

// Validation: csrf.header_name

#[test]
fn header_name_must_be_a_header_name() {
    for header in [
        "",
        " ",
        "x csrf",
        "x:csrf",
        "x-tökén",
        "x-csrf\r\nset-cookie",
        "(x)",
    ] {
        rejected("csrf.header_name", header);
    }
    let reason = rejected("csrf.header_name", "x:csrf");
    assert!(reason.contains("header name"), "{reason}");
    let reason = rejected("csrf.header_name", "");
    assert!(reason.contains("empty"), "{reason}");
    for (header, expected) in [
        ("X-XSRF-TOKEN", "x-xsrf-token"),
        (" X-Csrf-Token ", "x-csrf-token"),
        ("csrf", "csrf"),
    ] {
        assert_eq!(
            accepted("csrf.header_name", header).csrf.header_name,
            expected
        );
    }
}

// Validation: csrf.field_name

#[test]
fn field_name_must_be_non_empty_letters_digits_underscore_dot_dash() {
    for field in [
        "",
        " csrf_token",
        "csrf token",
        "csrf[token]",
        "csrf=token",
        "a&b",
        "a+b",
        "a\"b",
        "<x>",
        "a/b",
        "tökén",
        "a\nb",
    ] {
        rejected("csrf.field_name", field);
    }
    let reason = rejected("csrf.field_name", "");
    assert!(reason.contains("empty"), "{reason}");
    let reason = rejected("csrf.field_name", "csrf[token]");
    assert!(reason.contains("form field name"), "{reason}");
    for field in ["csrf_token", "_csrf", "csrf.token", "X-CSRF-Token1", "a"] {
        assert_eq!(accepted("csrf.field_name", field).csrf.field_name, field);
    }
}

// Validation: csrf.cookie_name

#[test]
fn cookie_name_must_be_a_cookie_name() {
    for name in [
        "",
        "my cookie",
        "a;b",
        "a=b",
        "csrf\u{e9}",
        "a,b",
        "(x)",
        "a\tb",
    ] {
        rejected("csrf.cookie_name", name);
    }
    let reason = rejected("csrf.cookie_name", "a;b");
    assert!(reason.contains("cookie name"), "{reason}");
    for name in ["csrf", "__Secure-csrf", "__Host-login", "XSRF-TOKEN"] {
        assert_eq!(accepted("csrf.cookie_name", name).csrf.cookie_name, name);
    }
}

#[test]
fn a_host_prefixed_csrf_cookie_requires_a_secure_session() {
    // The default `__Host-csrf` with an insecure session: the error is on csrf.cookie_name.
    let toml = "[session]\ncookie_name = \"sid\"\nsecure = false\n";
    let reason = only_error(toml, &[], "csrf.cookie_name");
    assert!(reason.contains("__Host-"), "{reason}");
    assert!(reason.contains("session.secure = true"), "{reason}");
    // Browsers match the prefixes case-insensitively; __Secure- needs Secure too.
    for name in [
        "__host-csrf",
        "__HOST-csrf",
        "__Secure-csrf",
        "__secure-csrf",
    ] {
        let toml = format!("{toml}[csrf]\ncookie_name = \"{name}\"\n");
        only_error(&toml, &[], "csrf.cookie_name");
    }
    // A plain name is fine with an insecure session (development).
    let cfg = load(&format!("{toml}[csrf]\ncookie_name = \"csrf\"\n"), &[]).unwrap();
    assert_eq!(cfg.csrf.cookie_name, "csrf");
    // In production both the session and the CSRF cookie are reported.
    let err = invalid(
        &format!("{PRODUCTION}[session]\nsecure = false\n"),
        &[("WARDEN_SECRET_KEY", KEY_A)],
    );
    assert_eq!(
        err.keys(),
        vec!["session.cookie_name", "session.secure", "csrf.cookie_name"],
        "{err}"
    );
}

#[test]
fn the_csrf_cookie_must_not_share_the_session_cookie_name() {
    let reason = rejected("csrf.cookie_name", "__Host-session");
    assert!(reason.contains("session.cookie_name"), "{reason}");
    rejected("csrf.cookie_name", "__host-SESSION");
    let toml = "[session]\ncookie_name = \"sid\"\n[csrf]\ncookie_name = \"sid\"\n";
    only_error(toml, &[], "csrf.cookie_name");
}

// Validation: csrf.trusted_origins

#[test]
fn trusted_origins_are_normalised_like_the_origin_header() {
    for (origin, expected) in [
        ("https://admin.example.com", "https://admin.example.com"),
        ("HTTPS://Admin.EXAMPLE.com", "https://admin.example.com"),
        ("https://admin.example.com/", "https://admin.example.com"),
        ("https://admin.example.com:443", "https://admin.example.com"),
        (
            "https://admin.example.com:443/",
            "https://admin.example.com",
        ),
        (
            "https://admin.example.com:0443",
            "https://admin.example.com",
        ),
        ("http://localhost:80", "http://localhost"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("https://example.com:8443", "https://example.com:8443"),
        ("https://example.com:80", "https://example.com:80"),
        ("http://example.com:443", "http://example.com:443"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]:3000", "http://[::1]:3000"),
        ("https://[2001:DB8::1]:443", "https://[2001:db8::1]"),
        ("  https://admin.example.com  ", "https://admin.example.com"),
    ] {
        assert_eq!(trusted(origin), vec![expected.to_owned()], "{origin}");
    }
    // Duplicates after normalisation are kept once, in order.
    let cfg = accepted(
        "csrf.trusted_origins",
        [
            "https://b.example.com",
            "https://a.example.com",
            "HTTPS://B.example.com:443/",
        ],
    );
    assert_eq!(
        cfg.csrf.trusted_origins,
        vec![
            "https://b.example.com".to_owned(),
            "https://a.example.com".to_owned()
        ]
    );
}

#[test]
fn trusted_origins_must_be_bare_http_or_https_origins() {
    for origin in [
        "",
        " ",
        "null",
        "NULL",
        "*",
        "https://*",
        "https://*.example.com",
        "example.com",
        "//example.com",
        "ftp://example.com",
        "ws://example.com",
        "file://",
        "https://",
        "https://example.com/app",
        "https://example.com//",
        "https://example.com?x=1",
        "https://example.com/?x=1",
        "https://example.com#top",
        "https://user@example.com",
        "https://user:hunter2@example.com",
        "https://example.com:",
        "https://example.com:99999",
        "https://example.com:0",
        "https://example.com:port",
        "http://::1",
        "http://[::1",
        "http://[nope]:80",
        "https://exa mple.com",
        "https://exa_mple.com",
        "https://ex\u{e4}mple.com",
    ] {
        rejected("csrf.trusted_origins", [origin]);
    }
    let reason = rejected("csrf.trusted_origins", ["null"]);
    assert!(reason.contains("`null`"), "{reason}");
    let reason = rejected("csrf.trusted_origins", ["https://*.example.com"]);
    assert!(reason.contains("wildcard"), "{reason}");
    let reason = rejected("csrf.trusted_origins", ["https://example.com/app"]);
    assert!(reason.contains("path"), "{reason}");
    let reason = rejected("csrf.trusted_origins", ["example.com"]);
    assert!(reason.contains("https://"), "{reason}");
    let reason = rejected("csrf.trusted_origins", ["https://user:hunter2@example.com"]);
    assert!(reason.contains("user info"), "{reason}");
    assert!(
        !reason.contains("hunter2"),
        "never echoes a password: {reason}"
    );
    let reason = rejected("csrf.trusted_origins", ["http://::1"]);
    assert!(reason.contains("brackets"), "{reason}");
}

#[test]
fn every_bad_trusted_origin_is_reported() {
    let err = with(
        "csrf.trusted_origins",
        ["null", "https://ok.example.com", "*"],
    )
    .unwrap_err();
    assert_eq!(
        err.keys(),
        vec!["csrf.trusted_origins", "csrf.trusted_origins"],
        "{err}"
    );
}

#[test]
fn production_refuses_http_trusted_origins() {
    let err = production("trusted_origins = [\"http://admin.example.com\"]").unwrap_err();
    assert_eq!(err.keys(), vec!["csrf.trusted_origins"], "{err}");
    let reason = err.reason_for("csrf.trusted_origins").unwrap();
    assert!(reason.contains("production"), "{reason}");
    assert!(reason.contains("https://"), "{reason}");
    production("trusted_origins = [\"HTTP://localhost:80\"]").unwrap_err();
    let cfg = production("trusted_origins = [\"https://admin.example.com:443\"]").unwrap();
    assert_eq!(
        cfg.csrf.trusted_origins,
        vec!["https://admin.example.com".to_owned()]
    );
    // Development accepts http:// origins.
    assert_eq!(
        trusted("http://admin.example.com"),
        vec!["http://admin.example.com".to_owned()]
    );
}

// Validation: csrf.exempt_paths

#[test]
fn exact_and_prefix_exempt_paths_are_accepted() {
    for path in [
        "/",
        "/hooks/*",
        "/billing/webhook",
        "/api/v1/hooks/*",
        "/a-b_c.d~e/",
        "/.well-known/acme",
        "/file.txt",
        "/a:b@c!$&'()+,;=",
    ] {
        assert_eq!(
            accepted("csrf.exempt_paths", [path]).csrf.exempt_paths,
            vec![path.to_owned()],
            "{path}"
        );
    }
}

#[test]
fn exempt_paths_that_normalisation_would_change_are_rejected() {
    for path in [
        "",
        "hooks",
        "hooks/*",
        " /hooks",
        "/hooks ",
        "/a b",
        "/a\tb",
        "/a\nb",
        "/a\u{0}b",
        "/a\u{7f}b",
        "/caf\u{e9}",
        "/a\u{a0}b",
        "/a/../admin",
        "/..",
        "/hooks/..",
        "/a..b",
        "/./admin",
        "/a/./b",
        "/a/.",
        "//admin",
        "/a//b",
        "/hooks//*",
        "/%2e%2e/admin",
        "/a%2Fb",
        "/a%20b",
        "/a\\b",
        "\\admin",
        "/a?b",
        "/a#b",
        "*",
        "/*",
        "/hooks*",
        "/hooks/*/x",
        "/hooks/**",
        "/*/hooks",
        "/ho*ks",
    ] {
        rejected("csrf.exempt_paths", [path]);
    }
    for (path, why) in [
        ("hooks", "start with `/`"),
        ("/a/../admin", "`..`"),
        ("/a/./b", "`.` segments"),
        ("//admin", "`//`"),
        ("/a%2Fb", "`%`"),
        ("/a\\b", "`\\`"),
        ("/a b", "whitespace"),
        ("/a\u{1}", "control"),
        ("/a?b", "query"),
        ("/hooks*", "final `/*`"),
        ("/*", "every path"),
    ] {
        let reason = rejected("csrf.exempt_paths", [path]);
        assert!(reason.contains(why), "{path:?}: {reason}");
    }
}

#[test]
fn every_bad_exempt_path_is_reported_and_duplicates_are_dropped() {
    let err = with("csrf.exempt_paths", ["/ok", "//admin", "/ok", "/x/../y"]).unwrap_err();
    assert_eq!(
        err.keys(),
        vec!["csrf.exempt_paths", "csrf.exempt_paths"],
        "{err}"
    );
    let cfg = accepted("csrf.exempt_paths", ["/ok", "/hooks/*", "/ok"]);
    assert_eq!(
        cfg.csrf.exempt_paths,
        vec!["/ok".to_owned(), "/hooks/*".to_owned()]
    );
}

// Validation: csrf.body_limit

#[test]
fn body_limit_must_be_between_1_kib_and_16_mib() {
    for limit in [0_u64, 1, 1023, 16 * 1024 * 1024 + 1, 1 << 40] {
        let reason = rejected("csrf.body_limit", limit);
        assert!(reason.contains("between 1024"), "{limit}: {reason}");
        assert!(reason.contains("16 MiB"), "{limit}: {reason}");
    }
    for limit in [
        CsrfSettings::MIN_BODY_LIMIT,
        65_536,
        CsrfSettings::MAX_BODY_LIMIT,
    ] {
        assert_eq!(accepted("csrf.body_limit", limit).csrf.body_limit, limit);
    }
}

// All at once, and parse errors

#[test]
fn every_csrf_error_is_reported_at_once_in_key_order() {
    let err = invalid(
        r#"
[csrf]
header_name = "x csrf"
field_name = ""
cookie_name = "a;b"
trusted_origins = ["null"]
exempt_paths = ["/*"]
body_limit = 10
"#,
        &[],
    );
    assert_eq!(
        err.keys(),
        vec![
            "csrf.header_name",
            "csrf.field_name",
            "csrf.cookie_name",
            "csrf.trusted_origins",
            "csrf.exempt_paths",
            "csrf.body_limit",
        ],
        "{err}"
    );
    assert_eq!(err.to_string().lines().count(), 6);
    let err = production(
        "enabled = false\ntrusted_origins = [\"http://a.example.com\"]\nbody_limit = 0\n",
    )
    .unwrap_err();
    assert_eq!(
        err.keys(),
        vec!["csrf.enabled", "csrf.trusted_origins", "csrf.body_limit"],
        "{err}"
    );
}

#[test]
fn unknown_keys_and_wrong_types_are_parse_errors_naming_the_key() {
    let (key, _) = parse_error("[csrf]\nexempt = [\"/hooks\"]\n", &[]);
    assert_eq!(key.as_deref(), Some("csrf.exempt"));
    let (key, _) = parse_error("[csrf]\ninsecure = true\n", &[]);
    assert_eq!(key.as_deref(), Some("csrf.insecure"));
    let (key, _) = parse_error("[csrf]\nbody_limit = \"64k\"\n", &[]);
    assert_eq!(key.as_deref(), Some("csrf.body_limit"));
    let (key, _) = parse_error("[csrf]\nbody_limit = -1\n", &[]);
    assert_eq!(key.as_deref(), Some("csrf.body_limit"));
    let (key, _) = parse_error("[csrf]\ntrusted_origins = \"https://a.example.com\"\n", &[]);
    assert_eq!(key.as_deref(), Some("csrf.trusted_origins"));
    let (key, _) = parse_error("[csrf]\nenabled = \"no\"\n", &[]);
    assert_eq!(key.as_deref(), Some("csrf.enabled"));
}
