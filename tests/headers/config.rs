//! Handler-set headers, and configuration refused at construction (security-standards §5.3
//! tests 2, 5 and 11).

use std::time::Duration;

use actix_web::test as atest;
use warden::{
    headers::{
        ContentSecurityPolicy, FrameOptions, HeaderConfigError, Hsts, PermissionsPolicy,
        ReferrerPolicy, SecurityHeadersMiddleware, Source,
    },
    SecurityHeadersConfig,
};

use crate::{app, assert_exact_headers, send, with_defaults, DEFAULTS};

#[actix_web::test]
async fn a_header_the_handler_set_is_kept() {
    let config = SecurityHeadersConfig::builder()
        .force_hsts(true)
        .build()
        .unwrap();
    let app = app!(SecurityHeadersMiddleware::new(config));
    let r = send!(&app, atest::TestRequest::get().uri("/own-headers"));
    let mut expected: Vec<(&str, &str)> = DEFAULTS
        .iter()
        .copied()
        .filter(|(n, _)| !matches!(*n, "x-frame-options" | "content-security-policy"))
        .collect();
    expected.extend([
        ("x-frame-options", "SAMEORIGIN"),
        ("content-security-policy", "default-src 'none'"),
        ("strict-transport-security", "max-age=60"),
    ]);
    // One CSP header only: never two contradicting policies.
    assert_exact_headers(&r.headers, &expected);
}

#[actix_web::test]
async fn override_handler_headers_replaces_them() {
    let config = SecurityHeadersConfig::builder()
        .override_handler_headers(true)
        .build()
        .unwrap();
    let app = app!(SecurityHeadersMiddleware::new(config));
    let r = send!(&app, atest::TestRequest::get().uri("/own-headers"));
    // HSTS is not ours to send over plain HTTP, so the handler's stays.
    assert_exact_headers(
        &r.headers,
        &with_defaults(&[("strict-transport-security", "max-age=60")]),
    );
}

#[actix_web::test]
async fn every_option_renders_as_configured() {
    let config = SecurityHeadersConfig::builder()
        .frame_options(Some(FrameOptions::SameOrigin))
        .content_type_options(false)
        .referrer_policy(Some(ReferrerPolicy::NoReferrer))
        .permissions_policy(Some(
            PermissionsPolicy::new()
                .deny("usb")
                .allow("fullscreen", ["self"]),
        ))
        .cross_origin_opener_policy(None)
        .cross_origin_resource_policy(Some(warden::headers::CrossOriginResourcePolicy::SameSite))
        .cross_origin_embedder_policy(Some(
            warden::headers::CrossOriginEmbedderPolicy::RequireCorp,
        ))
        .hsts(Some(
            Hsts::new(Duration::from_secs(31_536_000)).include_subdomains(false),
        ))
        .force_hsts(true)
        .csp(
            ContentSecurityPolicy::builder()
                .default_src([Source::None])
                .frame_ancestors([Source::None])
                .report_to("csp")
                .build()
                .unwrap(),
        )
        .reporting_endpoint("csp", "https://reports.example.com/csp")
        .header("x-robots-tag", "noindex, nofollow")
        .build()
        .unwrap();
    assert_eq!(config.header_names().len(), 9);
    let app = app!(SecurityHeadersMiddleware::new(config));
    let r = send!(&app, atest::TestRequest::get().uri("/json"));
    assert_exact_headers(
        &r.headers,
        &[
            ("content-type", "application/json"),
            ("x-frame-options", "SAMEORIGIN"),
            ("referrer-policy", "no-referrer"),
            (
                "content-security-policy",
                "default-src 'none'; frame-ancestors 'none'; report-to csp",
            ),
            ("permissions-policy", "usb=(), fullscreen=(self)"),
            ("cross-origin-resource-policy", "same-site"),
            ("cross-origin-embedder-policy", "require-corp"),
            (
                "reporting-endpoints",
                "csp=\"https://reports.example.com/csp\"",
            ),
            ("x-robots-tag", "noindex, nofollow"),
            ("strict-transport-security", "max-age=31536000"),
        ],
    );
}

#[actix_web::test]
async fn an_enforced_and_a_report_only_policy_go_out_side_by_side() {
    let ro = ContentSecurityPolicy::builder()
        .policy("default-src 'self'; script-src 'self'; report-uri https://r.example.com/csp")
        .report_only(true)
        .build()
        .unwrap();
    assert_eq!(ro.header_name(), "content-security-policy-report-only");
    let config = SecurityHeadersConfig::builder().csp(ro).build().unwrap();
    let app = app!(SecurityHeadersMiddleware::new(config));
    let r = send!(&app, atest::TestRequest::get().uri("/html"));
    assert_eq!(
        r.header("content-security-policy-report-only").as_deref(),
        Some("default-src 'self'; script-src 'self'; report-uri https://r.example.com/csp")
    );
    assert_eq!(
        r.header("content-security-policy").as_deref(),
        Some(DEFAULTS[3].1)
    );

    let none = SecurityHeadersConfig::builder()
        .without_csp()
        .build()
        .unwrap();
    let app = app!(SecurityHeadersMiddleware::new(none));
    let r = send!(&app, atest::TestRequest::get().uri("/html"));
    assert!(!r.headers.contains_key("content-security-policy"));
}

/// CR, LF, NUL (and every other control character) in any configured value is refused when
/// the configuration is built, never at request time.
#[test]
fn header_injection_is_refused_at_construction() {
    for evil in [
        "a\r\nSet-Cookie: x=y",
        "a\nb",
        "a\rb",
        "a\0b",
        "a\tb",
        "a\u{7f}",
        "caf\u{e9}",
    ] {
        let header = SecurityHeadersConfig::builder()
            .header("x-custom", evil)
            .build();
        assert!(
            matches!(header, Err(HeaderConfigError::ForbiddenCharacter { .. })),
            "{evil:?}: {header:?}"
        );
        let policy = format!("default-src 'self'; img-src {evil}");
        assert!(ContentSecurityPolicy::parse(&policy).is_err(), "{evil:?}");
        let built = ContentSecurityPolicy::builder()
            .default_src([Source::host(format!("cdn.example.com{evil}"))])
            .build();
        assert!(built.is_err(), "{evil:?}");
        let uri = ContentSecurityPolicy::builder()
            .default_src([Source::SelfOrigin])
            .report_uri(&format!("/r{evil}"))
            .build();
        assert!(uri.is_err(), "{evil:?}");
        let endpoint = SecurityHeadersConfig::builder()
            .reporting_endpoint("csp", &format!("https://r.example.com/{evil}"))
            .build();
        assert!(endpoint.is_err(), "{evil:?}");
        let pp = PermissionsPolicy::new().allow("camera", [format!("https://a.example{evil}")]);
        let pp = SecurityHeadersConfig::builder()
            .permissions_policy(Some(pp))
            .build();
        assert!(pp.is_err(), "{evil:?}");
    }
}

#[test]
fn separators_inside_a_source_are_refused() {
    for evil in [
        "cdn.example.com; script-src *",
        "cdn.example.com;",
        "cdn.example.com,evil.com",
        "cdn.example.com 'unsafe-inline'",
        "'self'",
    ] {
        let host = ContentSecurityPolicy::builder()
            .default_src([Source::host(evil)])
            .build();
        assert!(host.is_err(), "{evil:?}");
    }
    // `,` in a policy would start a second policy.
    assert!(matches!(
        ContentSecurityPolicy::parse("default-src 'self', script-src *"),
        Err(HeaderConfigError::Separator { ch: ',', .. })
    ));
    // `;` inside a generic directive value.
    let generic = ContentSecurityPolicy::builder()
        .default_src([Source::SelfOrigin])
        .directive("sandbox", ["allow-forms;script-src"])
        .build();
    assert!(matches!(
        generic,
        Err(HeaderConfigError::Separator { ch: ';', .. })
    ));
    assert!(ContentSecurityPolicy::builder()
        .default_src([Source::SelfOrigin])
        .report_to("a;b")
        .build()
        .is_err());
}

#[test]
fn malformed_policies_are_refused() {
    type Check = fn(&HeaderConfigError) -> bool;
    let cases: [(&str, Check); 6] = [
        ("default-src self", |e| {
            matches!(e, HeaderConfigError::InvalidSource { .. })
        }),
        ("default-src 'self'; img-src *; img-src 'self'", |e| {
            matches!(e, HeaderConfigError::DuplicateDirective { .. })
        }),
        ("script-src 'self'", |e| {
            matches!(e, HeaderConfigError::MissingDefaultSrc)
        }),
        ("default-src 'none' 'self'", |e| {
            matches!(e, HeaderConfigError::NoneWithOthers { .. })
        }),
        ("default-src 'self'; img-src", |e| {
            matches!(e, HeaderConfigError::EmptyDirective { .. })
        }),
        ("default-src 'nonce-abc'", |e| {
            matches!(e, HeaderConfigError::InvalidSource { .. })
        }),
    ];
    for (policy, check) in cases {
        let err = ContentSecurityPolicy::parse(policy).unwrap_err();
        assert!(check(&err), "{policy}: {err}");
    }
    assert!(ContentSecurityPolicy::builder()
        .policy("script-src 'self'")
        .without_default_src()
        .build()
        .is_ok());
    // Two enforced policies, a header managed by an option, an invalid name.
    let one = ContentSecurityPolicy::default();
    let two = SecurityHeadersConfig::builder()
        .csp(one.clone())
        .csp(one)
        .build();
    assert!(matches!(
        two,
        Err(HeaderConfigError::DuplicatePolicy { .. })
    ));
    assert!(SecurityHeadersConfig::builder()
        .header("Content-Security-Policy", "default-src *")
        .build()
        .is_err());
    assert!(SecurityHeadersConfig::builder()
        .header("x bad", "1")
        .build()
        .is_err());
    // HSTS preload needs a year and includeSubDomains.
    let short = Hsts::new(Duration::from_secs(3600)).preload(true);
    assert!(SecurityHeadersConfig::builder()
        .hsts(Some(short))
        .build()
        .is_err());
}

#[test]
fn unsafe_sources_are_allowed_but_flagged() {
    let csp = ContentSecurityPolicy::parse(
        "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    )
    .unwrap();
    assert!(!csp.is_strict());
    assert_eq!(
        csp.weaknesses(),
        [
            "`script-src` allows 'unsafe-inline'",
            "`script-src` allows 'unsafe-eval'"
        ]
    );
    assert!(!ContentSecurityPolicy::parse("default-src *")
        .unwrap()
        .is_strict());
    assert!(ContentSecurityPolicy::default().is_strict());
    assert!(SecurityHeadersConfig::default().csp().unwrap().is_strict());
}
