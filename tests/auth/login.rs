//! Login rotates the session (no fixation), also on re-login; logout revokes and is POST-only;
//! a session-version bump makes the user's old sessions anonymous.

use crate::{
    assert_login_redirect, assert_removal,
    common::{count, events, CookieJar},
    get, location, post, with_session, Env, ADMIN, ALICE, COOKIE,
};

#[actix_web::test]
async fn login_rotates_the_session_and_relogin_rotates_again() {
    let env = Env::new().await;
    let app = app!(env);

    // An anonymous visitor with a session (a planted or pre-login cookie).
    let mut browser = CookieJar::new();
    let r = browse!(&app, browser, post("/visit"));
    assert_eq!(r.status, 200, "{r:?}");
    let anonymous = browser.get(COOKIE).expect("a pre-login session").to_owned();
    let r = send!(&app, with_session(get("/dashboard"), &anonymous));
    assert_login_redirect(&r, "%2Fdashboard");

    // Login: a new cookie value, and it authenticates.
    let r = log_in!(&app, browser, "alice");
    assert_eq!(location(&r), "/dashboard");
    let first = browser
        .get(COOKIE)
        .expect("a session after login")
        .to_owned();
    assert_ne!(first, anonymous, "login must rotate the session");
    let r = browse!(&app, browser, get("/dashboard"));
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "hello alice"));
    // The session data survived the rotation.
    let r = browse!(&app, browser, post("/visit"));
    assert_eq!(r.body, "2", "the visit counter moved to the new session");

    // The pre-login cookie is dead: it does not authenticate, and is cleared.
    let r = send!(&app, with_session(get("/dashboard"), &anonymous));
    assert_login_redirect(&r, "%2Fdashboard");
    assert_removal(&r);

    // Re-login of the same user rotates again.
    log_in!(&app, browser, "alice");
    let second = browser.get(COOKIE).expect("a session").to_owned();
    assert_ne!(second, first, "re-login must rotate the session too");
    let r = send!(&app, with_session(get("/dashboard"), &first));
    assert_login_redirect(&r, "%2Fdashboard");
    let r = send!(&app, with_session(get("/dashboard"), &second));
    assert_eq!(r.status, 200, "{r:?}");

    // A login without any prior session issues a fresh one.
    let mut fresh = CookieJar::new();
    log_in!(&app, fresh, "admin");
    let admin_cookie = fresh.get(COOKIE).expect("a session").to_owned();
    assert!(![anonymous, first, second].contains(&admin_cookie));

    let ok = events(&env.warden, "auth.login.success").await;
    assert_eq!(ok.len(), 3, "{ok:?}");
    let users: Vec<_> = ok.iter().map(|e| e.event.user_id.as_deref()).collect();
    assert_eq!(users, [Some(ALICE), Some(ALICE), Some(ADMIN)]);
    assert!(ok.iter().all(|e| e.event.path.as_deref() == Some("/login")));
    let rotated = events(&env.warden, "session.rotated").await;
    assert_eq!(
        count(&rotated, "session.rotated"),
        2,
        "two logins on an existing session rotate it: {rotated:?}"
    );
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn a_failed_login_does_not_authenticate_or_rotate() {
    let env = Env::new().await;
    let app = app!(env);
    let mut browser = CookieJar::new();
    browse!(&app, browser, post("/visit"));
    let before = browser.get(COOKIE).unwrap().to_owned();

    let r = browse!(
        &app,
        browser,
        crate::login_form("alice", "not the password")
    );
    assert_eq!(r.status, 401, "{r:?}");
    assert_eq!(r.body, crate::LOGIN_FAILED);
    assert!(r.set_cookie_headers().is_empty(), "{r:?}");
    assert_eq!(browser.get(COOKIE), Some(before.as_str()));
    let r = browse!(&app, browser, get("/dashboard"));
    assert_login_redirect(&r, "%2Fdashboard");

    let failures = events(&env.warden, "auth.login.failure").await;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].event.user_id.as_deref(), Some(ALICE));
    assert!(events(&env.warden, "auth.login.success").await.is_empty());
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn login_accepts_json_bodies() {
    let env = Env::new().await;
    let app = app!(env);
    let mut browser = CookieJar::new();
    let r = browse!(
        &app,
        browser,
        post("/login").set_json(serde_json::json!({
            "username": "alice",
            "password": crate::PASSWORD,
            "next": "/notes/1",
        }))
    );
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(location(&r), "/notes/1");
    let r = browse!(&app, browser, get("/notes/1"));
    assert_eq!(r.status, 200, "{r:?}");
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn logout_revokes_the_session_and_is_post_only() {
    let env = Env::new().await;
    let app = app!(env);
    let mut browser = CookieJar::new();
    log_in!(&app, browser, "alice");
    let stolen = browser.get(COOKIE).unwrap().to_owned();

    // GET /logout is not routed, and does not log out.
    let r = browse!(&app, browser, get("/logout"));
    assert!(
        r.status == 405 || r.status == 404,
        "GET /logout must not be a route: {r:?}"
    );
    assert!(r.header("clear-site-data").is_none());
    let r = browse!(&app, browser, get("/dashboard"));
    assert_eq!(r.status, 200, "a GET must not log out: {r:?}");
    assert!(events(&env.warden, "auth.logout").await.is_empty());

    // POST /logout.
    let r = browse!(&app, browser, post("/logout"));
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(location(&r), "/");
    assert_eq!(r.header("clear-site-data").as_deref(), Some("\"cookies\""));
    assert_removal(&r);
    assert_eq!(browser.get(COOKIE), None, "the browser dropped the cookie");

    // The old cookie replayed: not authenticated, and cleared again.
    let r = send!(&app, with_session(get("/dashboard"), &stolen));
    assert_login_redirect(&r, "%2Fdashboard");
    assert_removal(&r);
    let r = send!(&app, with_session(crate::api_get("/api/me"), &stolen));
    assert_eq!(r.status, 401, "{r:?}");
    let r = send!(&app, with_session(get("/whoami"), &stolen));
    assert_eq!(r.body, "anonymous");
    assert!(env
        .warden
        .runtime()
        .sessions()
        .list_for_user(ALICE)
        .await
        .unwrap()
        .is_empty());

    let out = events(&env.warden, "auth.logout.success").await;
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].event.user_id.as_deref(), Some(ALICE));
    let revoked = events(&env.warden, "session.revoked").await;
    assert_eq!(revoked.len(), 1, "{revoked:?}");
    assert_eq!(revoked[0].event.details["reason"], "purge");
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn a_version_bump_makes_the_users_old_sessions_anonymous() {
    let env = Env::new().await;
    let app = app!(env);
    let (mut a, mut b, mut admin) = (CookieJar::new(), CookieJar::new(), CookieJar::new());
    log_in!(&app, a, "alice");
    log_in!(&app, b, "alice");
    log_in!(&app, admin, "admin");
    let old_a = a.get(COOKIE).unwrap().to_owned();

    let v = env
        .warden
        .runtime()
        .sessions()
        .bump_version(ALICE, None)
        .await
        .unwrap();
    assert!(v >= 1);

    let r = browse!(&app, a, get("/dashboard"));
    assert_login_redirect(&r, "%2Fdashboard");
    assert_removal(&r);
    let r = browse!(&app, b, crate::api_get("/api/me"));
    assert_eq!(r.status, 401, "{r:?}");
    assert_eq!(r.body, r#"{"error":"unauthenticated"}"#);
    let r = send!(&app, with_session(get("/dashboard"), &old_a));
    assert_login_redirect(&r, "%2Fdashboard");
    // Other users are untouched.
    let r = browse!(&app, admin, get("/dashboard"));
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "hello admin"));

    // Either the session was destroyed with the bump, or it was found stale and reported.
    let sessions = env
        .warden
        .runtime()
        .sessions()
        .list_for_user(ALICE)
        .await
        .unwrap();
    let mismatches = events(&env.warden, "auth.session.version_mismatch").await;
    assert!(
        sessions.is_empty() || !mismatches.is_empty(),
        "alice's stale sessions neither destroyed nor reported: {sessions:?}"
    );
    assert!(mismatches
        .iter()
        .all(|e| e.event.user_id.as_deref() == Some(ALICE)));

    // Logging in again works, at the new version.
    let mut again = CookieJar::new();
    log_in!(&app, again, "alice");
    let r = browse!(&app, again, get("/dashboard"));
    assert_eq!(r.status, 200, "{r:?}");
    env.warden.shutdown().await;
}
