//! The `[auth]` settings reach `AuthMiddleware` and the token actor: login URL, bearer header
//! and scheme, reset-token lifetime.

use std::time::Duration;

use actix_web::http::header;

use crate::{api_get, common::CookieJar, get, post, Env, ALICE, PASSWORD};

#[actix_web::test]
async fn auth_settings_from_the_configuration_apply() {
    let env = Env::with(crate::common::cheap_passwords(), |raw| {
        raw.auth.login_url = "/signin".into();
        raw.auth.bearer_header = "X-Api-Token".into();
        raw.auth.bearer_scheme = "Token".into();
        raw.auth.reset_token_ttl_secs = 60;
    })
    .await;
    let app = app!(env);

    let r = send!(&app, get("/dashboard"));
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(crate::location(&r), "/signin?next=%2Fdashboard");

    let mut browser = CookieJar::new();
    log_in!(&app, browser, "alice");
    let r = browse!(&app, browser, post("/api/tokens"));
    assert_eq!(r.status, 201, "{r:?}");
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let token = body["token"].as_str().unwrap().to_owned();

    let r = send!(
        &app,
        api_get("/api/me").insert_header(("x-api-token", format!("Token {token}")))
    );
    assert_eq!(r.status, 200, "{r:?}");
    // The default header and scheme are not the configured ones.
    let r = send!(
        &app,
        api_get("/api/me").insert_header((header::AUTHORIZATION, format!("Bearer {token}")))
    );
    assert_eq!(r.status, 401, "{r:?}");
    let r = send!(
        &app,
        api_get("/api/me").insert_header(("x-api-token", "Token wdn_bad"))
    );
    assert_eq!(r.body, r#"{"error":"invalid_token"}"#, "{r:?}");

    // Reset tokens live 60 s.
    let r = send!(
        &app,
        post("/password-reset").set_form([("username", "alice")])
    );
    assert_eq!(r.status, 202);
    let notifier = env.notifier.clone();
    crate::common::eventually("the reset token is delivered", || {
        !notifier.tokens_for(ALICE).is_empty()
    })
    .await;
    let token = env.notifier.tokens_for(ALICE).pop().unwrap();
    env.clock.advance(Duration::from_secs(61));
    let r = send!(
        &app,
        post("/password-reset/complete").set_form([
            ("token", token.as_str()),
            ("new_password", "too late by now")
        ])
    );
    assert_eq!(r.status, 400, "{r:?}");
    let r = send!(&app, crate::login_form("alice", PASSWORD));
    assert_eq!(r.status, 303, "{r:?}");
    env.warden.shutdown().await;
}
