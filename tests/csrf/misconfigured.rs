//! Misconfigured apps fail closed with a generic 500: the `CsrfToken` extractor without
//! `CsrfMiddleware`, and `CsrfMiddleware` without `SessionMiddleware`. And `csrf.enabled =
//! false` (development only) turns the check off but not the TRACE refusal.

use actix_web::{http::Method, test as atest, web, App};

use crate::{bare, common::CookieJar, get, post, same_origin, Env};

/// Asserts the generic 500 of a missing middleware: no detail, no token.
fn assert_generic_500(r: &crate::common::Reply, what: &str) {
    assert_eq!(r.status, 500, "{what}: {r:?}");
    assert_eq!(r.body, "Internal Server Error", "{what}");
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/plain; charset=utf-8"),
        "{what}"
    );
    assert!(!r.body.contains("Middleware"), "{what}: no internals");
    assert!(r.set_cookie(crate::CSRF_COOKIE).is_none(), "{what}: {r:?}");
}

#[actix_web::test]
async fn the_extractor_without_the_middleware_is_a_generic_500() {
    let env = Env::new().await;
    let app = atest::init_service(
        App::new()
            .app_data(env.warden.data())
            .app_data(web::Data::new(env.accounts.clone()))
            .wrap(env.warden.session_middleware())
            .wrap(env.warden.request_context())
            .configure(crate::routes),
    )
    .await;
    for uri in ["/form", "/login", "/form-session"] {
        let r = send!(&app, get(uri));
        assert_generic_500(&r, uri);
    }
    // A route that does not render a token is unaffected.
    let r = send!(&app, get("/start"));
    assert_eq!(r.status, 200, "{r:?}");
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn the_middleware_without_sessions_is_a_generic_500() {
    let env = Env::new().await;
    let app = atest::init_service(
        App::new()
            .app_data(env.warden.data())
            .wrap(env.warden.csrf_middleware())
            .wrap(env.warden.request_context())
            .configure(crate::routes),
    )
    .await;
    // Safe and unsafe requests alike, with or without a token: never a pass.
    let r = send!(&app, get("/form"));
    assert_generic_500(&r, "GET /form");
    let r = send!(&app, get("/echo"));
    assert_generic_500(&r, "GET /echo");
    assert!(r.header("x-echo-method").is_none());
    let r = send!(&app, post("/echo").set_form([("a", "b")]));
    assert_generic_500(&r, "POST /echo");
    let r = send!(
        &app,
        crate::with_token(post("/echo"), &crate::foreign_token())
    );
    assert_generic_500(&r, "POST /echo with a token");
    // Exempt paths are behind the same missing middleware.
    let r = send!(&app, bare(Method::POST, "/hooks/github"));
    assert_generic_500(&r, "exempt path");
    assert!(env.new_csrf_events().await.is_empty());
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn with_csrf_disabled_unsafe_requests_pass_but_trace_is_still_refused() {
    let env = Env::with(|raw| raw.csrf.enabled = false).await;
    let app = app!(env);
    let mut jar = CookieJar::new();
    browse!(&app, jar, get("/start"));
    let r = browse!(
        &app,
        jar,
        crate::post_from("/echo", "cross-site", crate::EVIL).set_form([("a", "b")])
    );
    env.assert_passed(&r, "disabled").await;
    assert_eq!(r.body, "a=b");
    let r = browse!(&app, jar, same_origin(Method::TRACE, "/echo"));
    assert_eq!(r.status, 405, "{r:?}");
    // The helpers still render tokens.
    let r = browse!(&app, jar, get("/form"));
    assert_eq!(crate::field_token(&r).len(), 86);
    env.warden.shutdown().await;
}
