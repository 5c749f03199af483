//! Misconfiguration fails closed with a generic 500: `AuthMiddleware` without
//! `SessionMiddleware`, and the auth extractors without `AuthMiddleware`.

use actix_web::{test as atest, web, App};
use warden::auth::{AuthMiddleware, Requires};

use crate::{api_get, get, Env};

fn assert_generic_500(r: &crate::common::Reply, what: &str) {
    assert_eq!(r.status, 500, "{what}: {r:?}");
    assert_eq!(r.body, "Internal Server Error", "{what}");
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/plain; charset=utf-8"),
        "{what}"
    );
    for leak in ["Session", "Auth", "middleware", "warden"] {
        assert!(!r.body.contains(leak), "{what}: {leak} leaked");
    }
}

#[actix_web::test]
async fn auth_middleware_without_session_middleware_is_a_generic_500() {
    let env = Env::new().await;
    let app = atest::init_service(
        App::new()
            .wrap(AuthMiddleware::new(&env.warden, env.store()))
            .wrap(env.warden.request_context())
            .route("/dashboard", web::get().to(crate::dashboard))
            .route("/plain", web::get().to(crate::plain)),
    )
    .await;
    for (what, req) in [
        ("browser, protected", get("/dashboard")),
        ("api, protected", api_get("/dashboard")),
        ("browser, public", get("/plain")),
    ] {
        let r = send!(&app, req);
        assert_generic_500(&r, what);
    }
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn auth_checks_without_auth_middleware_are_a_generic_500() {
    let env = Env::new().await;
    let app = atest::init_service(
        App::new()
            .wrap(env.warden.session_middleware())
            .wrap(env.warden.request_context())
            .route("/dashboard", web::get().to(crate::dashboard))
            .service(
                web::scope("/admin")
                    .wrap(Requires::new(["admin"]))
                    .route("", web::get().to(crate::admin)),
            ),
    )
    .await;
    let r = send!(&app, get("/dashboard"));
    assert_generic_500(&r, "CurrentUser");
    let r = send!(&app, get("/admin"));
    assert_generic_500(&r, "Requires");
    env.warden.shutdown().await;
}
