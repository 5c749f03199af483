//! Bearer tokens: issued to a logged-in user, authenticate on their own, and a bad one is a
//! 401 with its event, never a silent fallback to the session.

use std::time::Duration;

use actix_web::http::header;
use serde_json::Value;

use crate::{
    api_get,
    common::{events, CookieJar, Reply},
    get, post, with_bearer, with_session, Env, ALICE, COOKIE,
};

fn json(r: &Reply) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {r:?}"))
}

fn assert_invalid_token(r: &Reply, what: &str) {
    assert_eq!(r.status, 401, "{what}: {r:?}");
    assert_eq!(r.body, r#"{"error":"invalid_token"}"#, "{what}");
    assert_eq!(
        r.header("www-authenticate").as_deref(),
        Some(r#"Bearer error="invalid_token""#),
        "{what}"
    );
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json"),
        "{what}"
    );
    assert!(r.header("location").is_none(), "{what}");
}

#[actix_web::test]
async fn an_issued_token_authenticates_without_a_cookie() {
    let env = Env::new().await;
    let app = app!(env);
    let mut browser = CookieJar::new();
    log_in!(&app, browser, "alice");

    // Anonymous clients cannot get a token.
    let r = send!(
        &app,
        post("/api/tokens").insert_header((header::ACCEPT, "application/json"))
    );
    assert_eq!(r.status, 401, "{r:?}");

    let r = browse!(&app, browser, post("/api/tokens"));
    assert_eq!(r.status, 201, "{r:?}");
    let body = json(&r);
    let token = body["token"].as_str().expect("a token").to_owned();
    assert!(token.starts_with("wdn_"), "{token}");
    let issued = events(&env.warden, "auth.token.issued").await;
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].event.user_id.as_deref(), Some(ALICE));
    assert!(!issued[0].to_json_line().contains(&token));

    // No cookie needed.
    let r = send!(&app, with_bearer(api_get("/api/me"), &token));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        json(&r),
        serde_json::json!({"id": ALICE, "login": "alice", "method": "bearer"})
    );
    assert!(r.set_cookie_headers().is_empty(), "{r:?}");
    // The scheme is case-insensitive; browser pages work with a token too.
    let r = send!(
        &app,
        get("/dashboard").insert_header((header::AUTHORIZATION, format!("bearer {token}")))
    );
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "hello alice"));

    // The session still says "session".
    let r = browse!(&app, browser, api_get("/api/me"));
    assert_eq!(json(&r)["method"], "session");
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn a_bad_token_is_a_401_with_its_event_even_with_a_valid_session() {
    let env = Env::new().await;
    let app = app!(env);
    let mut browser = CookieJar::new();
    log_in!(&app, browser, "alice");
    let cookie = browser.get(COOKIE).unwrap().to_owned();

    let unknown = format!("wdn_{}", "0".repeat(64));
    let cases: [(&str, &str); 4] = [
        ("unknown well-formed token", unknown.as_str()),
        ("malformed token", "not-a-token"),
        (
            "reset token as bearer",
            "wdr_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ),
        ("empty token", ""),
    ];
    let mut expected_events = 0;
    for (what, token) in cases {
        // Alone.
        let r = send!(&app, with_bearer(api_get("/api/me"), token));
        if token.is_empty() {
            // `Bearer ` with nothing after it is a bearer attempt without a credential: an
            // invalid token (with its event), never a fallback.
            assert_invalid_token(&r, what);
            expected_events += 1;
            env.clock.advance(Duration::from_secs(2));
            continue;
        }
        assert_invalid_token(&r, what);
        expected_events += 1;
        // With a valid session cookie as well: still refused, no fallback.
        env.clock.advance(Duration::from_secs(2));
        let r = send!(
            &app,
            with_session(with_bearer(api_get("/api/me"), token), &cookie)
        );
        assert_invalid_token(&r, &format!("{what} + session"));
        expected_events += 1;
        // A browser page too.
        env.clock.advance(Duration::from_secs(2));
        let r = send!(
            &app,
            with_session(with_bearer(get("/dashboard"), token), &cookie)
        );
        assert_invalid_token(&r, &format!("{what} + session, browser"));
        expected_events += 1;
        env.clock.advance(Duration::from_secs(2));
    }
    // The session itself is fine.
    let r = browse!(&app, browser, get("/dashboard"));
    assert_eq!(r.status, 200, "{r:?}");

    let evs = events(&env.warden, "auth.token.invalid").await;
    assert_eq!(evs.len(), expected_events, "{evs:?}");
    assert!(evs
        .iter()
        .all(|e| e.event.path.as_deref() == Some("/api/me")
            || e.event.path.as_deref() == Some("/dashboard")));
    for e in &evs {
        assert!(!e.to_json_line().contains(&unknown));
    }
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn a_revoked_token_is_refused() {
    let env = Env::new().await;
    let app = app!(env);
    let mut browser = CookieJar::new();
    log_in!(&app, browser, "alice");
    let r = browse!(&app, browser, post("/api/tokens"));
    let body = json(&r);
    let (token, id) = (
        body["token"].as_str().unwrap().to_owned(),
        body["id"].as_str().unwrap().to_owned(),
    );
    let r = send!(&app, with_bearer(api_get("/api/me"), &token));
    assert_eq!(r.status, 200, "{r:?}");

    assert!(env
        .warden
        .runtime()
        .tokens()
        .revoke_api_token(&id)
        .await
        .unwrap());
    let r = send!(&app, with_bearer(api_get("/api/me"), &token));
    assert_invalid_token(&r, "revoked");
    assert_eq!(events(&env.warden, "auth.token.invalid").await.len(), 1);

    // A token whose user no longer exists is refused too.
    let r = browse!(&app, browser, post("/api/tokens"));
    let token = json(&r)["token"].as_str().unwrap().to_owned();
    env.users.remove(ALICE);
    let r = send!(&app, with_bearer(api_get("/api/me"), &token));
    assert_invalid_token(&r, "deleted user");
    env.warden.shutdown().await;
}
