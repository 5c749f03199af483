//! Edge cases: deleted users, another user logging in on the same browser, user-store outages,
//! bearer headers that are present but unusable.

use actix_web::http::header;

use crate::{
    api_get, assert_login_redirect, assert_removal,
    common::{CookieJar, Reply},
    get, post, with_session, Env, ALICE, COOKIE,
};

#[actix_web::test]
async fn a_deleted_users_sessions_stop_working() {
    let env = Env::new().await;
    let app = app!(env);
    let mut browser = CookieJar::new();
    log_in!(&app, browser, "alice");
    let cookie = browser.get(COOKIE).unwrap().to_owned();
    env.users.remove(ALICE);

    let r = browse!(&app, browser, get("/dashboard"));
    assert_login_redirect(&r, "%2Fdashboard");
    assert_removal(&r);
    let r = send!(&app, with_session(get("/dashboard"), &cookie));
    assert_login_redirect(&r, "%2Fdashboard");
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn another_user_logging_in_on_the_same_browser_starts_clean() {
    let env = Env::new().await;
    let app = app!(env);
    let mut browser = CookieJar::new();
    log_in!(&app, browser, "alice");
    let r = browse!(&app, browser, post("/visit"));
    assert_eq!(r.body, "1");
    let r = browse!(&app, browser, post("/visit"));
    assert_eq!(r.body, "2");

    log_in!(&app, browser, "admin");
    let r = browse!(&app, browser, get("/dashboard"));
    assert_eq!(r.body, "hello admin");
    let r = browse!(&app, browser, post("/visit"));
    assert_eq!(
        r.body, "1",
        "alice's session data leaked into admin's session"
    );
    env.warden.shutdown().await;
}

/// `UserStoreError` is documented as "Requests that needed it are refused with 503": a
/// database outage is a temporary unavailability, and must never authenticate anyone.
#[actix_web::test]
async fn a_user_store_outage_is_a_generic_503_and_never_authenticates() {
    let env = Env::new().await;
    let app = app!(env);
    let mut browser = CookieJar::new();
    log_in!(&app, browser, "alice");

    env.users.set_failing(true);
    let check = |r: &Reply, what: &str| {
        assert_eq!(r.status, 503, "{what}: {r:?}");
        assert_eq!(r.body, "Service Unavailable", "{what}");
        assert!(!r.body.contains("simulated"), "{what}");
    };
    let r = browse!(&app, browser, get("/dashboard"));
    check(&r, "session lookup");
    let r = send!(&app, crate::login_form("alice", crate::PASSWORD));
    check(&r, "login");

    // The outage did not end the session.
    env.users.set_failing(false);
    let r = browse!(&app, browser, get("/dashboard"));
    assert_eq!(r.status, 200, "{r:?}");
    env.warden.shutdown().await;
}

/// A request that says it authenticates with a bearer token but carries none (or garbles the
/// separator) must not silently fall back to the session cookie.
#[actix_web::test]
async fn a_bearer_header_without_a_usable_token_does_not_fall_back_to_the_session() {
    let env = Env::new().await;
    let app = app!(env);
    let mut browser = CookieJar::new();
    log_in!(&app, browser, "alice");
    let cookie = browser.get(COOKIE).unwrap().to_owned();

    for value in ["Bearer", "Bearer ", "Bearer\twdn_bad"] {
        let r = send!(
            &app,
            with_session(api_get("/api/me"), &cookie).insert_header((header::AUTHORIZATION, value))
        );
        assert_eq!(
            r.status, 401,
            "Authorization: {value:?} with a valid session must be refused: {r:?}"
        );
    }
    env.warden.shutdown().await;
}

/// A login that read the user's session version just before a password change elsewhere
/// bumped it (a race) records a stale version: that session must be anonymous, destroyed, and
/// reported as `auth.session.version_mismatch`.
#[actix_web::test]
async fn a_session_recorded_at_an_older_version_is_anonymous_and_reported() {
    let env = Env::new().await;
    let app = actix_web::test::init_service(crate::build_app(&env).route(
        "/stale-login",
        actix_web::web::post().to(|session: warden::session::Session| async move {
            session.mark_authenticated(ALICE, 0);
            actix_web::HttpResponse::Ok().finish()
        }),
    ))
    .await;
    let v = env
        .warden
        .runtime()
        .sessions()
        .bump_version(ALICE, None)
        .await
        .unwrap();
    assert!(v > 0);

    let mut browser = CookieJar::new();
    let r = browse!(&app, browser, post("/stale-login"));
    assert_eq!(r.status, 200, "{r:?}");
    assert!(
        browser.get(COOKIE).is_some(),
        "a session was created: {r:?}"
    );

    let r = browse!(&app, browser, get("/whoami"));
    assert_eq!(r.body, "anonymous", "{r:?}");
    assert_removal(&r);
    let r = browse!(&app, browser, get("/dashboard"));
    assert_login_redirect(&r, "%2Fdashboard");

    let mismatches = crate::common::events(&env.warden, "auth.session.version_mismatch").await;
    assert_eq!(mismatches.len(), 1, "{mismatches:?}");
    let e = &mismatches[0].event;
    assert_eq!(e.user_id.as_deref(), Some(ALICE));
    assert_eq!(e.details["stored"], "0");
    assert_eq!(e.details["expected"], v.to_string());
    assert!(env
        .warden
        .runtime()
        .sessions()
        .list_for_user(ALICE)
        .await
        .unwrap()
        .is_empty());
    env.warden.shutdown().await;
}
