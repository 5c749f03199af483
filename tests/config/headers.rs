//! `[headers]`: defaults (the middleware's, except the CSP nonce), the sample files, how values
//! reach `Config::headers` and its built `SecurityHeadersConfig`, and every validation rule
//! (each error names its key), the production ones included.

use actix_web::{test as atest, web, App, HttpResponse};
use warden::{
    config::{HeadersSettings, RawHeaders},
    headers::{
        ContentSecurityPolicy, CrossOriginEmbedderPolicy, CrossOriginOpenerPolicy,
        CrossOriginResourcePolicy, CspNonce, FrameOptions, Hsts, PermissionsPolicy, ReferrerPolicy,
        SecurityHeadersConfig, SecurityHeadersMiddleware,
    },
};

use super::{logs::capture_warnings, *};

const DEFAULT_CSP: &str = "default-src 'self'; frame-ancestors 'none'; object-src 'none'; \
                           base-uri 'self'; form-action 'self'";

/// A production configuration that is valid apart from what the test adds.
const PRODUCTION: &str =
    "profile = \"production\"\n[server]\norigin = \"https://app.example.com\"\n";

fn production(headers: &str) -> Result<Config, ConfigError> {
    load(
        &format!("{PRODUCTION}[headers]\n{headers}\n"),
        &[("WARDEN_SECRET_KEY", KEY_A)],
    )
}

/// Expects exactly one invalid key in production with `headers`; returns its reason.
fn production_rejects(headers: &str, key: &str) -> String {
    match production(headers) {
        Err(err @ ConfigError::Invalid { .. }) => {
            assert_eq!(err.keys(), vec![key], "{headers}: {err}");
            err.errors()[0].reason.clone()
        }
        other => panic!("{headers}: expected ConfigError::Invalid, got {other:?}"),
    }
}

/// Every observable setting of a built middleware configuration, for comparisons.
fn observable(c: &SecurityHeadersConfig) -> String {
    format!(
        "{:?}",
        (
            (
                c.frame_options(),
                c.content_type_options(),
                c.referrer_policy(),
                c.csp(),
                c.csp_report_only(),
                c.permissions_policy(),
                c.cross_origin_opener_policy(),
                c.cross_origin_resource_policy(),
                c.cross_origin_embedder_policy(),
            ),
            (
                c.hsts(),
                c.force_hsts(),
                c.override_handler_headers(),
                c.uses_nonce(),
                c.header_names(),
            )
        )
    )
}

// Defaults and the sample files

#[test]
fn builtin_header_defaults() {
    let h: HeadersSettings = ConfigLoader::new().load().unwrap().headers;
    assert_eq!(h.frame_options, Some(FrameOptions::Deny));
    assert!(h.content_type_options);
    assert_eq!(
        h.referrer_policy,
        Some(ReferrerPolicy::StrictOriginWhenCrossOrigin)
    );
    let csp = h.content_security_policy.as_ref().unwrap();
    assert!(csp.uses_nonce() && csp.is_strict() && !csp.is_report_only());
    assert_eq!(
        csp.to_string(),
        "default-src 'self'; script-src 'self' 'nonce-{nonce}'; \
         style-src 'self' 'nonce-{nonce}'; frame-ancestors 'none'; object-src 'none'; \
         base-uri 'self'; form-action 'self'"
    );
    assert!(h.csp_nonce);
    assert_eq!(h.csp_report_only, None);
    assert_eq!(h.permissions_policy, Some(PermissionsPolicy::default()));
    assert_eq!(
        h.cross_origin_opener_policy,
        Some(CrossOriginOpenerPolicy::SameOrigin)
    );
    assert_eq!(
        h.cross_origin_resource_policy,
        Some(CrossOriginResourcePolicy::SameOrigin)
    );
    assert_eq!(h.cross_origin_embedder_policy, None);
    assert_eq!(h.hsts, Some(Hsts::default()));
    assert!(!h.force_hsts);
    assert!(!h.override_handler_headers);
    assert_eq!(RawConfig::default().headers, RawHeaders::default());
    assert_eq!(RawHeaders::default().content_security_policy, DEFAULT_CSP);
}

#[test]
fn defaults_are_the_middleware_defaults_except_the_nonce() {
    let built = ConfigLoader::new().load().unwrap().headers.middleware;
    let defaults = SecurityHeadersConfig::default();
    assert!(built.uses_nonce() && !defaults.uses_nonce());
    let nonced = ContentSecurityPolicy::builder()
        .policy(DEFAULT_CSP)
        .nonce(true)
        .build()
        .unwrap();
    assert_eq!(built.csp(), Some(&nonced));
    let expected = SecurityHeadersConfig::builder()
        .csp(nonced)
        .build()
        .unwrap();
    assert_eq!(observable(&built), observable(&expected));

    // Without the nonce: exactly the middleware's defaults.
    let built = accepted("headers.csp_nonce", false).headers.middleware;
    assert_eq!(built.csp(), Some(&ContentSecurityPolicy::default()));
    assert_eq!(observable(&built), observable(&defaults));
}

#[test]
fn default_toml_documents_every_header_key() {
    let section = default_toml_section("headers");
    for key in [
        "frame_options = \"DENY\"",
        "content_type_options = true",
        "referrer_policy = \"strict-origin-when-cross-origin\"",
        &format!("content_security_policy = \"{DEFAULT_CSP}\""),
        "csp_nonce = true",
        "# csp_report_only = ",
        "permissions_policy = \"camera=(), microphone=(), geolocation=()\"",
        "cross_origin_opener_policy = \"same-origin\"",
        "cross_origin_resource_policy = \"same-origin\"",
        "cross_origin_embedder_policy = \"\"",
        "hsts_max_age_secs = 63072000",
        "hsts_include_subdomains = true",
        "hsts_preload = false",
        "force_hsts = false",
        "override_handler_headers = false",
    ] {
        assert!(section.contains(key), "missing `{key}` in:\n{section}");
    }
    for rule in [
        "'unsafe-inline'",
        "31536000",
        "frame-ancestors",
        "SAMEORIGIN",
    ] {
        assert!(section.contains(rule), "the rules mention {rule}");
    }
    assert_every_key_commented(&section);
    let raw = ConfigLoader::new()
        .file(repo_file("config/default.toml"))
        .load_raw()
        .unwrap();
    assert_eq!(raw.headers, RawHeaders::default());
}

#[test]
fn production_toml_states_the_header_defaults_and_passes_the_production_rules() {
    let file = repo_file("config/production.toml");
    let raw = ConfigLoader::new().file(&file).load_raw().unwrap();
    assert_eq!(raw.headers, RawHeaders::default());
    let cfg = ConfigLoader::new()
        .file(&file)
        .env(vars(&[("WARDEN_SECRET_KEY", KEY_A)]))
        .load()
        .expect("hardened sample loads");
    assert!(cfg
        .headers
        .content_security_policy
        .as_ref()
        .unwrap()
        .is_strict());
    assert!(cfg.headers.hsts.unwrap().max_age() >= Duration::from_secs(31_536_000));
}

// Values reach the configuration

#[test]
fn toml_values_reach_config_headers_and_the_middleware() {
    let cfg = load(
        r#"
[headers]
frame_options = "SAMEORIGIN"
content_type_options = false
referrer_policy = "no-referrer"
content_security_policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'self'"
csp_nonce = false
csp_report_only = "default-src 'none'; report-uri /csp"
permissions_policy = "camera=(), fullscreen=(self \"https://player.example.com\"), autoplay=*"
cross_origin_opener_policy = "same-origin-allow-popups"
cross_origin_resource_policy = "same-site"
cross_origin_embedder_policy = "require-corp"
hsts_max_age_secs = 31536000
hsts_include_subdomains = true
hsts_preload = true
force_hsts = true
override_handler_headers = true
"#,
        &[],
    )
    .unwrap();
    let h = &cfg.headers;
    assert_eq!(h.frame_options, Some(FrameOptions::SameOrigin));
    assert!(!h.content_type_options);
    assert_eq!(h.referrer_policy, Some(ReferrerPolicy::NoReferrer));
    let csp = h.content_security_policy.as_ref().unwrap();
    assert!(!csp.uses_nonce());
    assert_eq!(
        csp.to_string(),
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         frame-ancestors 'self'"
    );
    assert!(!h.csp_nonce);
    let report_only = h.csp_report_only.as_ref().unwrap();
    assert!(report_only.is_report_only());
    assert_eq!(
        report_only.to_string(),
        "default-src 'none'; report-uri /csp"
    );
    assert_eq!(
        h.permissions_policy
            .as_ref()
            .unwrap()
            .header_value()
            .unwrap(),
        "camera=(), fullscreen=(self \"https://player.example.com\"), autoplay=(*)"
    );
    assert_eq!(
        h.cross_origin_opener_policy,
        Some(CrossOriginOpenerPolicy::SameOriginAllowPopups)
    );
    assert_eq!(
        h.cross_origin_resource_policy,
        Some(CrossOriginResourcePolicy::SameSite)
    );
    assert_eq!(
        h.cross_origin_embedder_policy,
        Some(CrossOriginEmbedderPolicy::RequireCorp)
    );
    let hsts = Hsts::new(Duration::from_secs(31_536_000)).preload(true);
    assert_eq!(h.hsts, Some(hsts));
    assert!(h.force_hsts);
    assert!(h.override_handler_headers);

    let m = &h.middleware;
    assert_eq!(m.frame_options(), Some(FrameOptions::SameOrigin));
    assert!(!m.content_type_options());
    assert_eq!(m.referrer_policy(), Some(ReferrerPolicy::NoReferrer));
    assert_eq!(m.csp(), Some(csp));
    assert_eq!(m.csp_report_only(), Some(report_only));
    assert_eq!(m.permissions_policy(), h.permissions_policy.as_ref());
    assert_eq!(
        m.cross_origin_embedder_policy(),
        Some(CrossOriginEmbedderPolicy::RequireCorp)
    );
    assert_eq!(m.hsts(), Some(hsts));
    assert!(m.force_hsts() && m.override_handler_headers() && !m.uses_nonce());
    assert_eq!(
        observable(m),
        observable(&h.to_middleware_config().unwrap())
    );
}

#[test]
fn empty_strings_turn_headers_off() {
    let cfg = load(
        r#"
[headers]
frame_options = ""
referrer_policy = ""
content_security_policy = ""
permissions_policy = ""
cross_origin_opener_policy = ""
cross_origin_resource_policy = ""
hsts_max_age_secs = 0
"#,
        &[],
    )
    .unwrap();
    let h = &cfg.headers;
    assert_eq!(h.frame_options, None);
    assert_eq!(h.referrer_policy, None);
    assert_eq!(h.content_security_policy, None);
    assert_eq!(h.permissions_policy, None);
    assert_eq!(h.cross_origin_opener_policy, None);
    assert_eq!(h.cross_origin_resource_policy, None);
    assert_eq!(h.cross_origin_embedder_policy, None);
    assert_eq!(h.hsts, None);
    let names: Vec<String> = h
        .middleware
        .header_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names, ["x-content-type-options"]);
}

#[test]
fn header_values_are_case_insensitive_and_trimmed() {
    let h = load(
        "[headers]\nframe_options = \" deny \"\nreferrer_policy = \"Same-Origin\"\n\
         cross_origin_resource_policy = \"CROSS-ORIGIN\"\n",
        &[],
    )
    .unwrap()
    .headers;
    assert_eq!(h.frame_options, Some(FrameOptions::Deny));
    assert_eq!(h.referrer_policy, Some(ReferrerPolicy::SameOrigin));
    assert_eq!(
        h.cross_origin_resource_policy,
        Some(CrossOriginResourcePolicy::CrossOrigin)
    );
    for same_origin in ["SAMEORIGIN", "sameorigin", "same-origin"] {
        let h = accepted("headers.frame_options", same_origin).headers;
        assert_eq!(h.frame_options, Some(FrameOptions::SameOrigin));
    }
}

#[test]
fn from_raw_validates_the_headers_section() {
    let mut raw = RawConfig::default();
    raw.headers.hsts_max_age_secs = 600;
    let cfg = Config::from_raw(raw.clone()).unwrap();
    assert_eq!(cfg.headers.hsts, Some(Hsts::new(Duration::from_secs(600))));
    raw.headers.frame_options = "ALLOWALL".to_owned();
    let err = Config::from_raw(raw).unwrap_err();
    assert_eq!(err.keys(), vec!["headers.frame_options"]);
}

#[actix_web::test]
async fn the_built_middleware_sends_the_configured_headers_with_a_nonce() {
    let cfg = ConfigLoader::new()
        .set("headers.referrer_policy", "no-referrer")
        .load()
        .unwrap();
    let app = atest::init_service(
        App::new()
            .route(
                "/",
                web::get().to(|nonce: CspNonce| async move {
                    HttpResponse::Ok().body(nonce.as_str().to_owned())
                }),
            )
            .wrap(SecurityHeadersMiddleware::new(
                cfg.headers.middleware.clone(),
            )),
    )
    .await;
    let res = atest::call_service(&app, atest::TestRequest::get().uri("/").to_request()).await;
    let header = |name: &str| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"));
    assert_eq!(header("strict-transport-security"), None); // plain HTTP
    let csp = header("content-security-policy").unwrap();
    let body = atest::read_body(res).await;
    let nonce = std::str::from_utf8(&body).unwrap();
    assert!(!nonce.is_empty());
    assert!(
        csp.contains(&format!("script-src 'self' 'nonce-{nonce}'")),
        "{csp}"
    );
}

// Validation: each rule names its key

#[test]
fn invalid_frame_options_are_rejected() {
    for bad in ["ALLOWALL", "deny;", "1"] {
        let reason = rejected("headers.frame_options", bad);
        assert!(reason.contains("\"DENY\", \"SAMEORIGIN\""), "{reason}");
    }
    let reason = rejected("headers.frame_options", "ALLOW-FROM https://a.example.com");
    assert!(reason.contains("frame-ancestors"), "{reason}");
}

#[test]
fn invalid_enumerated_header_values_are_rejected_with_the_valid_ones() {
    let reason = rejected("headers.referrer_policy", "no-referer");
    assert!(reason.contains("`no-referer`"), "{reason}");
    assert!(
        reason.contains("`strict-origin-when-cross-origin`"),
        "{reason}"
    );
    let reason = rejected("headers.cross_origin_opener_policy", "same-site");
    assert!(reason.contains("`same-origin-allow-popups`"), "{reason}");
    let reason = rejected("headers.cross_origin_resource_policy", "same\norigin");
    assert!(reason.contains("`same\\norigin`"), "escaped: {reason}");
    let reason = rejected("headers.cross_origin_embedder_policy", "require_corp");
    assert!(reason.contains("`require-corp`"), "{reason}");
}

#[test]
fn an_invalid_csp_is_rejected_naming_the_key() {
    for bad in [
        "img-src 'self'",                                  // no default-src
        "default-src self",                                // unquoted keyword
        "default-src 'self', script-src *",                // a second policy
        "default-src 'self'\r\nSet-Cookie: a=b",           // header injection
        "default-src 'self'; default-src *",               // duplicate directive
        "default-src 'none' 'self'",                       // 'none' with others
        "default-src 'self'; script-src https://a;b.com/", // directive name `b.com/`
    ] {
        let reason = rejected("headers.content_security_policy", bad);
        assert!(
            reason.contains("Content-Security-Policy"),
            "{bad:?}: {reason}"
        );
    }
}

#[test]
fn a_nonce_for_a_none_directive_names_csp_nonce() {
    let reason = rejected(
        "headers.content_security_policy",
        "default-src 'self'; img-src",
    );
    assert!(reason.contains("img-src"), "{reason}");
    let err = with(
        "headers.content_security_policy",
        "default-src 'self'; script-src 'none'",
    )
    .unwrap_err();
    assert_eq!(err.keys(), vec!["headers.csp_nonce"], "{err}");
    assert!(err.to_string().contains("script-src"), "{err}");
    // Without the nonce the policy is fine.
    let cfg = load(
        "[headers]\ncsp_nonce = false\ncontent_security_policy = \"default-src 'self'; script-src 'none'\"\n",
        &[],
    )
    .unwrap();
    assert!(!cfg.headers.middleware.uses_nonce());
}

#[test]
fn the_report_only_policy_is_checked_and_takes_the_nonce() {
    let reason = rejected("headers.csp_report_only", "");
    assert!(reason.contains("omit the key"), "{reason}");
    let reason = rejected("headers.csp_report_only", "script-src 'self'");
    assert!(reason.contains("default-src"), "{reason}");
    let cfg = accepted(
        "headers.csp_report_only",
        "default-src 'none'; script-src 'self'",
    );
    let ro = cfg.headers.csp_report_only.unwrap();
    assert!(ro.is_report_only() && ro.uses_nonce());
    assert_eq!(
        cfg.headers
            .middleware
            .csp_report_only()
            .map(|p| p.render("N")),
        Some("default-src 'none'; script-src 'self' 'nonce-N'; style-src 'nonce-N'".to_owned())
    );
}

#[test]
fn an_invalid_permissions_policy_is_rejected() {
    for bad in [
        "camera",                                  // no allowlist
        "Camera=()",                               // not a feature name
        "camera=(), camera=()",                    // listed twice
        "camera=(self",                            // unclosed
        "fullscreen=(https://a.example.com/x)",    // not an origin
        "fullscreen=(\"https://a.example.com\";)", // separator
        "camera=(),",                              // empty entry
    ] {
        let reason = rejected("headers.permissions_policy", bad);
        assert!(!reason.is_empty(), "{bad}");
    }
    let cfg = accepted(
        "headers.permissions_policy",
        "geolocation=(self https://maps.example.com)",
    );
    assert_eq!(
        cfg.headers
            .permissions_policy
            .unwrap()
            .header_value()
            .unwrap(),
        "geolocation=(self \"https://maps.example.com\")"
    );
}

#[test]
fn hsts_preload_needs_a_year_and_subdomains() {
    let err = load(
        "[headers]\nhsts_preload = true\nhsts_max_age_secs = 600\n",
        &[],
    )
    .unwrap_err();
    assert_eq!(err.keys(), vec!["headers.hsts_preload"], "{err}");
    let err = load(
        "[headers]\nhsts_preload = true\nhsts_include_subdomains = false\n",
        &[],
    )
    .unwrap_err();
    assert_eq!(err.keys(), vec!["headers.hsts_preload"], "{err}");
    // The default max-age (two years) with includeSubDomains is fine.
    let hsts = accepted("headers.hsts_preload", true).headers.hsts.unwrap();
    assert_eq!(
        hsts.header_value().unwrap(),
        "max-age=63072000; includeSubDomains; preload"
    );
}

#[test]
fn preload_and_force_need_hsts() {
    let err = load(
        "[headers]\nhsts_max_age_secs = 0\nhsts_preload = true\n",
        &[],
    )
    .unwrap_err();
    assert_eq!(err.keys(), vec!["headers.hsts_preload"], "{err}");
    let err = load("[headers]\nhsts_max_age_secs = 0\nforce_hsts = true\n", &[]).unwrap_err();
    assert_eq!(err.keys(), vec!["headers.force_hsts"], "{err}");
}

#[test]
fn a_weak_csp_is_allowed_in_development_with_a_warning() {
    let logs = capture_warnings(|| {
        let cfg = accepted(
            "headers.content_security_policy",
            "default-src 'self'; script-src 'self' 'unsafe-inline'",
        );
        assert!(!cfg.headers.content_security_policy.unwrap().is_strict());
    });
    assert!(logs.contains("headers.content_security_policy"), "{logs}");
    assert!(logs.contains("'unsafe-inline'"), "{logs}");
}

#[test]
fn every_header_error_is_reported_at_once() {
    let err = invalid(
        r#"
[headers]
frame_options = "nope"
referrer_policy = "nope"
content_security_policy = "img-src *"
csp_report_only = ""
permissions_policy = "nope"
cross_origin_opener_policy = "nope"
cross_origin_resource_policy = "nope"
cross_origin_embedder_policy = "nope"
hsts_max_age_secs = 600
hsts_preload = true
"#,
        &[],
    );
    assert_eq!(
        err.keys(),
        vec![
            "headers.frame_options",
            "headers.referrer_policy",
            "headers.cross_origin_opener_policy",
            "headers.cross_origin_resource_policy",
            "headers.cross_origin_embedder_policy",
            "headers.content_security_policy",
            "headers.csp_report_only",
            "headers.permissions_policy",
            "headers.hsts_preload",
        ],
        "{err}"
    );
}

// Production rules

#[test]
fn production_requires_a_strict_csp() {
    for weak in [
        "default-src 'self'; script-src 'self' 'unsafe-inline'",
        "default-src 'self'; script-src 'self' 'unsafe-eval'",
        "default-src 'self'; script-src *",
        "default-src *",
        "default-src 'self'; style-src 'self' 'unsafe-inline'",
    ] {
        let reason = production_rejects(
            &format!("content_security_policy = \"{weak}\""),
            "headers.content_security_policy",
        );
        assert!(reason.contains("strict"), "{weak}: {reason}");
    }
    let reason = production_rejects(
        "content_security_policy = \"\"",
        "headers.content_security_policy",
    );
    assert!(
        reason.contains("requires a Content-Security-Policy"),
        "{reason}"
    );
    // A strict custom policy is fine.
    let cfg = production(
        "content_security_policy = \"default-src 'none'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'\"",
    )
    .unwrap();
    assert!(cfg.headers.middleware.uses_nonce());
}

#[test]
fn production_requires_hsts_of_a_year_or_more() {
    let reason = production_rejects("hsts_max_age_secs = 31535999", "headers.hsts_max_age_secs");
    assert!(reason.contains("at least 31536000"), "{reason}");
    let reason = production_rejects("hsts_max_age_secs = 0", "headers.hsts_max_age_secs");
    assert!(reason.contains("0 (no HSTS)"), "{reason}");
    let cfg = production("hsts_max_age_secs = 31536000").unwrap();
    assert_eq!(
        cfg.headers.hsts.unwrap().max_age(),
        Duration::from_secs(31_536_000)
    );
    // Development accepts a short policy.
    assert_eq!(
        accepted("headers.hsts_max_age_secs", 300).headers.hsts,
        Some(Hsts::new(Duration::from_secs(300)))
    );
}

#[test]
fn production_needs_frame_options_or_frame_ancestors() {
    let reason = production_rejects(
        "frame_options = \"\"\ncontent_security_policy = \"default-src 'self'\"",
        "headers.frame_options",
    );
    assert!(reason.contains("frame-ancestors"), "{reason}");
    // frame-ancestors in the default CSP covers it.
    let cfg = production("frame_options = \"\"").unwrap();
    assert_eq!(cfg.headers.frame_options, None);
    // And X-Frame-Options alone is enough.
    production("frame_options = \"SAMEORIGIN\"\ncontent_security_policy = \"default-src 'self'\"")
        .unwrap();
    // Development may turn both off.
    let cfg = load(
        "[headers]\nframe_options = \"\"\ncontent_security_policy = \"default-src 'self'\"\n",
        &[],
    )
    .unwrap();
    assert_eq!(cfg.headers.frame_options, None);
}

// Parse errors

#[test]
fn typos_and_wrong_types_are_parse_errors_naming_the_key() {
    let (key, _) = parse_error("[headers]\nhsts_max_age = 600\n", &[]);
    assert_eq!(key.as_deref(), Some("headers.hsts_max_age"));
    let (key, _) = parse_error("[headers]\ncsp = \"default-src 'self'\"\n", &[]);
    assert_eq!(key.as_deref(), Some("headers.csp"));
    let (key, _) = parse_error("[headers]\nframe_options = false\n", &[]);
    assert_eq!(key.as_deref(), Some("headers.frame_options"));
    let (key, _) = parse_error("[headers]\nhsts_max_age_secs = -1\n", &[]);
    assert_eq!(key.as_deref(), Some("headers.hsts_max_age_secs"));
}
