//! Per-request CSP nonces (security-standards §5.3 test 4).

use std::collections::HashSet;

use actix_web::test as atest;
use base64::{engine::general_purpose::STANDARD, Engine};
use warden::{
    headers::{ContentSecurityPolicy, SecurityHeadersMiddleware, Source},
    SecurityHeadersConfig,
};

use crate::{app, assert_exact_headers, send, DEFAULTS};

fn nonce_config() -> SecurityHeadersConfig {
    SecurityHeadersConfig::builder()
        .csp(
            ContentSecurityPolicy::builder()
                .default_src([Source::SelfOrigin])
                .frame_ancestors([Source::None])
                .object_src([Source::None])
                .base_uri([Source::SelfOrigin])
                .form_action([Source::SelfOrigin])
                .nonce(true)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

fn expected_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; \
         frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'"
    )
}

#[actix_web::test]
async fn the_nonce_differs_per_request_and_is_the_one_in_the_csp() {
    let app = app!(SecurityHeadersMiddleware::new(nonce_config()));
    let mut seen = HashSet::new();
    for _ in 0..50 {
        let r = send!(&app, atest::TestRequest::get().uri("/nonce"));
        assert_eq!(r.status, 200);
        let nonce = r.body.clone();
        let raw = STANDARD.decode(&nonce).expect("base64 nonce");
        assert!(raw.len() * 8 >= 128, "{} bits", raw.len() * 8);
        let mut expected: Vec<(&str, &str)> = DEFAULTS
            .iter()
            .copied()
            .filter(|(n, _)| *n != "content-security-policy")
            .collect();
        let csp = expected_csp(&nonce);
        expected.push(("content-security-policy", &csp));
        expected.push(("content-type", "text/html; charset=utf-8"));
        assert_exact_headers(&r.headers, &expected);
        assert!(seen.insert(nonce), "a nonce was served twice");
    }
}

#[actix_web::test]
async fn the_nonce_is_in_the_request_extensions_and_on_error_responses() {
    let app = app!(SecurityHeadersMiddleware::new(nonce_config()));
    let r = send!(&app, atest::TestRequest::get().uri("/nonce-ext"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 24);
    assert_eq!(
        r.header("content-security-policy"),
        Some(expected_csp(&r.body))
    );

    let r = send!(&app, atest::TestRequest::get().uri("/no/such/route"));
    assert_eq!(r.status, 404);
    let csp = r
        .header("content-security-policy")
        .expect("a CSP on the 404");
    assert!(csp.contains("script-src 'self' 'nonce-"), "{csp}");
}

#[actix_web::test]
async fn the_nonce_goes_into_a_report_only_policy_too() {
    let ro = ContentSecurityPolicy::builder()
        .policy("default-src 'none'; script-src 'strict-dynamic'")
        .report_uri("/csp-reports")
        .report_only(true)
        .nonce(true)
        .build()
        .unwrap();
    let config = SecurityHeadersConfig::builder().csp(ro).build().unwrap();
    let app = app!(SecurityHeadersMiddleware::new(config));
    let r = send!(&app, atest::TestRequest::get().uri("/nonce"));
    let n = &r.body;
    assert_eq!(
        r.header("content-security-policy-report-only"),
        Some(format!(
            "default-src 'none'; script-src 'strict-dynamic' 'nonce-{n}'; \
             style-src 'nonce-{n}'; report-uri /csp-reports"
        ))
    );
    // The enforced default stays as it is.
    assert_eq!(
        r.header("content-security-policy").as_deref(),
        Some(DEFAULTS[3].1)
    );
}

#[actix_web::test]
async fn the_extractor_without_a_nonce_policy_is_a_generic_500() {
    let app = app!(SecurityHeadersMiddleware::new(
        SecurityHeadersConfig::default()
    ));
    let r = send!(&app, atest::TestRequest::get().uri("/nonce"));
    assert_eq!(r.status, 500);
    assert_eq!(r.body, "Internal Server Error");
    assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));

    let r = send!(&app, atest::TestRequest::get().uri("/nonce-ext"));
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, ""));
}
