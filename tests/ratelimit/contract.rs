//! Chirp's defaults, the 429 contract, the headers on allowed responses, per-path policies, and
//! requests that are none of the limiter's business.

use std::time::Duration;

use warden::{
    actors::ratelimit::RateLimitPolicy,
    ratelimit::{AuthRateLimitConfig, DEFAULT_PATHS},
};

use crate::{env, get, post, post_from};

#[actix_web::test]
async fn chirps_defaults_ten_then_429_shared_by_the_auth_paths() {
    let e = env();
    let app = app!(e, AuthRateLimitConfig::default());
    // 10 requests spread over Chirp's four paths all pass, and share one budget.
    for i in 0..10 {
        let r = send!(&app, post(DEFAULT_PATHS[i % 4]));
        assert_eq!(r.status, 200, "request {i}: {r:?}");
    }
    for path in DEFAULT_PATHS {
        let r = send!(&app, post(path));
        assert_eq!(r.status, 429, "{path}");
    }
    // Below a limited path counts too (Chirp: `p + "/"` prefixes).
    let r = send!(&app, post("/password-reset/confirm"));
    assert_eq!(r.status, 429);
    // Another client is unaffected.
    let r = send!(&app, post_from("/login", "198.51.100.20"));
    assert_eq!(r.status, 200);
    e.limits.shutdown().await;
}

#[actix_web::test]
async fn the_429_contract() {
    let e = env();
    let app = app!(e, AuthRateLimitConfig::default());
    for _ in 0..10 {
        assert_eq!(send!(&app, post("/login")).status, 200);
    }
    let r = send!(&app, post("/login"));
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after").as_deref(), Some("6"));
    assert_eq!(
        r.header("ratelimit-policy").as_deref(),
        Some("\"auth\";q=10;w=60")
    );
    assert_eq!(r.header("ratelimit").as_deref(), Some("\"auth\";r=0;t=6"));
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(r.body, "Too Many Requests");
    assert!(r.header("set-cookie").is_none());

    // Part of the wait elapsed: Retry-After is rounded up, and `t` equals it.
    e.clock.advance(Duration::from_millis(3_500));
    let r = send!(&app, post("/login"));
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after").as_deref(), Some("3"));
    assert_eq!(r.header("ratelimit").as_deref(), Some("\"auth\";r=0;t=3"));

    // Less than a second left: still at least 1.
    e.clock.advance(Duration::from_millis(2_400));
    let r = send!(&app, post("/login"));
    assert_eq!(r.header("retry-after").as_deref(), Some("1"));

    // Waiting Retry-After is enough.
    e.clock.advance(Duration::from_millis(100));
    let r = send!(&app, post("/login"));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("ratelimit").as_deref(), Some("\"auth\";r=0;t=6"));
    e.limits.shutdown().await;
}

#[actix_web::test]
async fn allowed_responses_carry_the_ratelimit_headers() {
    let e = env();
    let app = app!(e, AuthRateLimitConfig::default());
    for left in (0..10).rev() {
        let r = send!(&app, post("/login"));
        assert_eq!(r.status, 200);
        assert_eq!(r.body, "/login");
        assert_eq!(
            r.header("ratelimit-policy").as_deref(),
            Some("\"auth\";q=10;w=60")
        );
        assert_eq!(
            r.header("ratelimit"),
            Some(format!("\"auth\";r={left};t=6"))
        );
        assert!(r.header("retry-after").is_none());
    }
    // One unit comes back every 6 s: 10 s later, the unit back since 6 s is spent now and the
    // next one is 2 s away.
    e.clock.advance(Duration::from_secs(10));
    let r = send!(&app, post("/login"));
    assert_eq!(r.header("ratelimit").as_deref(), Some("\"auth\";r=0;t=2"));
    e.limits.shutdown().await;
}

#[actix_web::test]
async fn headers_on_allowed_responses_can_be_turned_off() {
    let e = env();
    let config = AuthRateLimitConfig::builder()
        .headers_on_allowed(false)
        .build()
        .unwrap();
    let app = app!(e, config);
    for _ in 0..10 {
        let r = send!(&app, post("/login"));
        assert_eq!(r.status, 200);
        assert!(r.header("ratelimit").is_none() && r.header("ratelimit-policy").is_none());
    }
    let r = send!(&app, post("/login"));
    assert_eq!(r.status, 429);
    assert!(r.header("ratelimit").is_some() && r.header("ratelimit-policy").is_some());
    e.limits.shutdown().await;
}

#[actix_web::test]
async fn per_path_policies_have_their_own_budgets_and_headers() {
    let e = env();
    let reset = RateLimitPolicy::new("reset", 2, Duration::from_secs(300)).burst(1);
    let config = AuthRateLimitConfig::builder()
        .paths(["/login"])
        .policy("/password-reset", reset)
        .build()
        .unwrap();
    let app = app!(e, config);
    let r = send!(&app, post("/password-reset"));
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("ratelimit-policy").as_deref(),
        Some("\"reset\";q=2;w=300")
    );
    assert_eq!(
        r.header("ratelimit").as_deref(),
        Some("\"reset\";r=0;t=150")
    );
    let r = send!(&app, post("/password-reset/confirm"));
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after").as_deref(), Some("150"));
    assert_eq!(
        r.header("ratelimit").as_deref(),
        Some("\"reset\";r=0;t=150")
    );
    // The login budget is untouched.
    let r = send!(&app, post("/login"));
    assert_eq!(r.header("ratelimit").as_deref(), Some("\"auth\";r=9;t=6"));
    // No longer in the path list: /signup is not limited.
    let r = send!(&app, post("/signup"));
    assert!(r.header("ratelimit").is_none());
    e.limits.shutdown().await;
}

#[actix_web::test]
async fn other_methods_and_paths_are_untouched_even_while_blocked() {
    let e = env();
    let app = app!(e, AuthRateLimitConfig::default());
    for _ in 0..11 {
        send!(&app, post("/login"));
    }
    assert_eq!(send!(&app, post("/login")).status, 429);
    let before = e.limits.stats();
    for _ in 0..50 {
        for r in [
            send!(&app, get("/login")),
            send!(&app, get("/")),
            send!(&app, post("/other")),
        ] {
            assert_eq!(r.status, 200, "{r:?}");
            assert!(r.header("ratelimit").is_none(), "{r:?}");
            assert!(r.header("ratelimit-policy").is_none(), "{r:?}");
        }
        let r = send!(
            &app,
            actix_web::test::TestRequest::put()
                .uri("/login")
                .peer_addr(crate::addr(crate::PEER))
        );
        assert_ne!(r.status, 429);
        for lookalike in ["/loginx", "/log", "/api/login", "/logi", "/x/login"] {
            let r = send!(&app, post(lookalike));
            assert_eq!(r.status, 404, "{lookalike}");
        }
    }
    let after = e.limits.stats();
    assert_eq!(
        (after.allowed, after.denied),
        (before.allowed, before.denied),
        "no check for requests that are not limited"
    );
    e.limits.shutdown().await;
}
