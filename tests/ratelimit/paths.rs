//! Path matching happens after normalisation: no spelling of `/login` escapes its budget, and
//! lookalikes are not limited.

use warden::ratelimit::AuthRateLimitConfig;

use crate::{env, post_from};

/// Spellings of `/login` a router, a proxy or a servlet container may treat as `/login`.
const VARIANTS: [&str; 16] = [
    "//login",
    "/login/",
    "///login//",
    "/LOGIN",
    "/Login/",
    "/./login",
    "/x/../login",
    "/login/../login",
    "/login;jsessionid=abc",
    "/;x/login",
    "/log%69n",
    "/%6Cogin",
    "/login?next=/x",
    "/login/sso",
    // These do not normalise at all (encoded separator, encoded dot-dot, bad escape): charged
    // to the default policy, which /login also uses.
    "/login%2F",
    "/x/%2e%2e/login",
];

#[actix_web::test]
async fn no_spelling_of_login_escapes_its_budget() {
    let e = env();
    let app = app!(e, AuthRateLimitConfig::default());
    for (n, variant) in VARIANTS.iter().enumerate() {
        let peer = format!("198.51.100.{}", n + 1);
        // Half the budget through /login, half through the variant: one budget.
        for i in 0..10 {
            let uri = if i % 2 == 0 { "/login" } else { variant };
            let r = send!(&app, post_from(uri, &peer));
            assert_ne!(r.status, 429, "{variant}, request {i}");
            assert!(r.header("ratelimit").is_some(), "{variant} is limited");
        }
        for uri in [*variant, "/login"] {
            let r = send!(&app, post_from(uri, &peer));
            assert_eq!(r.status, 429, "{variant} then {uri}");
        }
    }
    e.limits.shutdown().await;
}

#[actix_web::test]
async fn a_variant_alone_is_limited_at_the_same_count() {
    let e = env();
    let app = app!(e, AuthRateLimitConfig::default());
    for (n, variant) in VARIANTS.iter().enumerate() {
        let peer = format!("192.0.2.{}", n + 1);
        let mut passed = 0;
        for _ in 0..15 {
            passed += usize::from(send!(&app, post_from(variant, &peer)).status != 429);
        }
        assert_eq!(passed, 10, "{variant}");
    }
    e.limits.shutdown().await;
}

#[actix_web::test]
async fn unnormalisable_paths_can_be_left_alone_if_the_app_serves_them() {
    let e = env();
    let config = AuthRateLimitConfig::builder()
        .limit_unnormalizable(false)
        .build()
        .unwrap();
    let app = app!(e, config);
    for _ in 0..20 {
        let r = send!(&app, post_from("/files/a%2Fb", "192.0.2.1"));
        assert_eq!(r.status, 404);
        assert!(r.header("ratelimit").is_none());
    }
    e.limits.shutdown().await;
}

#[actix_web::test]
async fn case_sensitive_matching_is_an_option() {
    let e = env();
    let config = AuthRateLimitConfig::builder()
        .case_sensitive(true)
        .build()
        .unwrap();
    let app = app!(e, config);
    let r = send!(&app, post_from("/LOGIN", "192.0.2.1"));
    assert!(r.header("ratelimit").is_none(), "{r:?}");
    // Slashes, dots and parameters still do not escape.
    for v in ["//login/", "/./login", "/login;x"] {
        let r = send!(&app, post_from(v, "192.0.2.1"));
        assert!(r.header("ratelimit").is_some(), "{v}");
    }
    e.limits.shutdown().await;
}
