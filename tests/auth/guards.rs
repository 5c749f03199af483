//! Route checks: 303 for browsers and 401 for API clients; one 403 for permission and policy
//! failures; the async `note_owner` policy.

use std::sync::atomic::Ordering;

use actix_web::http::header;

use crate::{
    api_get, assert_login_redirect,
    common::{events, CookieJar},
    comparable_headers, get, location, post, Env, ADMIN, ALICE,
};

#[actix_web::test]
async fn anonymous_browsers_are_redirected_to_login_with_next() {
    let env = Env::new().await;
    let app = app!(env);

    let r = send!(&app, get("/dashboard"));
    assert_login_redirect(&r, "%2Fdashboard");
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert!(r.body.is_empty(), "{r:?}");

    // The query string goes into `next` too, encoded.
    let r = send!(&app, get("/dashboard?tab=2&sort=new"));
    assert_login_redirect(&r, "%2Fdashboard%3Ftab%3D2%26sort%3Dnew");

    // No Accept header at all is a browser.
    let r = send!(
        &app,
        actix_web::test::TestRequest::get()
            .uri("/dashboard")
            .peer_addr(crate::peer())
    );
    assert_login_redirect(&r, "%2Fdashboard");

    // The middleware checks redirect the same way.
    let r = send!(&app, get("/notes/1"));
    assert_login_redirect(&r, "%2Fnotes%2F1");
    let r = send!(&app, get("/admin"));
    assert_login_redirect(&r, "%2Fadmin");

    // Following the redirect: logging in with that `next` lands on the original URL.
    let r = send!(&app, get("/dashboard?tab=2&sort=new"));
    let login_url = location(&r);
    let mut browser = CookieJar::new();
    let r = browse!(
        &app,
        browser,
        post(&login_url).set_form([("username", "alice"), ("password", crate::PASSWORD)])
    );
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(location(&r), "/dashboard?tab=2&sort=new");

    let evs = events(&env.warden, "auth.require.unauthenticated").await;
    assert_eq!(evs.len(), 6, "{evs:?}");
    assert!(evs.iter().all(|e| e.event.details["response"] == "303"));
    assert_eq!(evs[0].event.path.as_deref(), Some("/dashboard"));
    // The query string (which may carry secrets) stays out of the audit log.
    assert_eq!(evs[1].event.path.as_deref(), Some("/dashboard"));
    assert!(evs.iter().all(|e| !e.to_json_line().contains("sort=new")));
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn api_clients_get_a_401_json() {
    let env = Env::new().await;
    let app = app!(env);
    let base = || {
        actix_web::test::TestRequest::get()
            .uri("/dashboard")
            .peer_addr(crate::peer())
    };
    let cases = [
        (
            "accept json",
            base().insert_header((header::ACCEPT, "application/json")),
        ),
        (
            "json preferred over html",
            base().insert_header((header::ACCEPT, "text/html;q=0.5, application/json")),
        ),
        (
            "problem+json",
            base().insert_header((header::ACCEPT, "application/problem+json")),
        ),
        (
            "xhr",
            base()
                .insert_header((header::ACCEPT, crate::BROWSER_ACCEPT))
                .insert_header(("x-requested-with", "XMLHttpRequest")),
        ),
        (
            "authorization header of another scheme",
            base().insert_header((header::AUTHORIZATION, "Basic YWxpY2U6cGFzc3dvcmQ=")),
        ),
    ];
    let n = cases.len();
    for (what, req) in cases {
        let r = send!(&app, req);
        assert_eq!(r.status, 401, "{what}: {r:?}");
        assert_eq!(r.body, r#"{"error":"unauthenticated"}"#, "{what}");
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/json"),
            "{what}"
        );
        assert!(r.header("location").is_none(), "{what}");
        assert!(r.header("www-authenticate").is_none(), "{what}");
    }
    // The middleware checks too.
    let r = send!(&app, api_get("/notes/1"));
    assert_eq!(r.status, 401, "{r:?}");
    assert_eq!(r.body, r#"{"error":"unauthenticated"}"#);
    let r = send!(&app, api_get("/api/me"));
    assert_eq!(r.status, 401, "{r:?}");

    let evs = events(&env.warden, "auth.require.unauthenticated").await;
    assert_eq!(evs.len(), n + 2, "{evs:?}");
    assert!(evs.iter().all(|e| e.event.details["response"] == "401"));
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn permission_and_policy_failures_give_the_same_403() {
    let env = Env::new().await;
    let app = app!(env);
    let (mut alice, mut admin) = (CookieJar::new(), CookieJar::new());
    log_in!(&app, alice, "alice");
    log_in!(&app, admin, "admin");

    let by_permission = browse!(&app, alice, get("/admin"));
    let by_policy = browse!(&app, alice, get("/notes/2"));
    assert_eq!(by_permission.status, 403, "{by_permission:?}");
    assert_eq!(by_policy.status, 403, "{by_policy:?}");
    assert_eq!(by_permission.body, by_policy.body);
    assert_eq!(
        by_permission.header("content-type"),
        by_policy.header("content-type")
    );
    assert_eq!(
        comparable_headers(&by_permission),
        comparable_headers(&by_policy)
    );
    for r in [&by_permission, &by_policy] {
        for leak in ["admin", "note_owner", "policy", "permission"] {
            assert!(!r.body.contains(leak), "{leak} leaked: {r:?}");
        }
    }
    // An unknown note is refused the same way.
    let unknown = browse!(&app, alice, get("/notes/99"));
    assert_eq!(unknown.status, 403);
    assert_eq!(unknown.body, by_policy.body);
    // And an API client gets the same 403.
    let api = browse!(&app, alice, api_get("/notes/2"));
    assert_eq!(api.status, 403);
    assert_eq!(api.body, by_policy.body);

    let denied = events(&env.warden, "authz.permission.denied").await;
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(denied[0].event.user_id.as_deref(), Some(ALICE));
    assert_eq!(
        denied[0].event.details["missing"],
        serde_json::json!(["admin"])
    );
    assert_eq!(denied[0].event.path.as_deref(), Some("/admin"));
    let policy = events(&env.warden, "authz.policy.denied").await;
    assert_eq!(policy.len(), 3, "{policy:?}");
    assert!(policy
        .iter()
        .all(|e| e.event.details["policy"] == "note_owner"
            && e.event.user_id.as_deref() == Some(ALICE)));
    assert_eq!(policy[0].event.path.as_deref(), Some("/notes/2"));
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn the_async_policy_grants_owners_only() {
    let env = Env::new().await;
    let app = app!(env);
    let (mut alice, mut admin) = (CookieJar::new(), CookieJar::new());
    log_in!(&app, alice, "alice");
    log_in!(&app, admin, "admin");

    let r = browse!(&app, alice, get("/notes/1"));
    assert_eq!(
        (r.status.as_u16(), r.body.as_str()),
        (200, "note 1 of alice")
    );
    let r = browse!(&app, admin, get("/notes/2"));
    assert_eq!(
        (r.status.as_u16(), r.body.as_str()),
        (200, "note 2 of admin")
    );
    // Being an admin does not make one the owner.
    let r = browse!(&app, admin, get("/notes/1"));
    assert_eq!(r.status, 403, "{r:?}");
    let r = browse!(&app, alice, get("/notes/2"));
    assert_eq!(r.status, 403, "{r:?}");
    // Permissions still work for admin.
    let r = browse!(&app, admin, get("/admin"));
    assert_eq!(
        (r.status.as_u16(), r.body.as_str()),
        (200, "admin area for admin")
    );

    assert_eq!(
        env.notes.loads.load(Ordering::SeqCst),
        4,
        "the policy loads each note"
    );
    let policy = events(&env.warden, "authz.policy.denied").await;
    let users: Vec<_> = policy.iter().map(|e| e.event.user_id.as_deref()).collect();
    assert_eq!(users, [Some(ADMIN), Some(ALICE)]);
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn login_required_guards_a_scope() {
    let env = Env::new().await;
    let app = app!(env);

    let r = send!(&app, get("/private"));
    assert_login_redirect(&r, "%2Fprivate");
    let r = send!(&app, api_get("/private"));
    assert_eq!(r.status, 401, "{r:?}");
    assert_eq!(r.body, r#"{"error":"unauthenticated"}"#);
    // An open route with `MaybeUser` never refuses.
    let r = send!(&app, get("/whoami"));
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "anonymous"));

    let mut browser = CookieJar::new();
    log_in!(&app, browser, "alice");
    let r = browse!(&app, browser, get("/private"));
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "alice"));
    let r = browse!(&app, browser, get("/whoami"));
    assert_eq!(r.body, "alice");
    env.warden.shutdown().await;
}
