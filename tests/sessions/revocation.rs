//! Revocation: purge (and replay after it), session-version bumps, destroy-all-for-user.

use std::sync::Arc;

use actix_web::{web, App, HttpResponse};
use tokio::sync::Notify;
use warden::{session::Session, Warden};

use crate::{
    assert_removal,
    common::{events, manual_clock, test_warden, CookieJar},
    get, id_of, post, records, token_of, with_session, COOKIE,
};

/// Logs `user` in on a fresh "browser"; returns its cookie.
macro_rules! logged_in {
    ($app:expr, $user:expr) => {{
        let r = send!($app, crate::post(&format!("/login/{}", $user)));
        assert_eq!(r.status, 200, "{r:?}");
        crate::issued(&r)
    }};
}

/// `GET /whoami` with a cookie.
macro_rules! whoami {
    ($app:expr, $cookie:expr) => {
        send!($app, crate::with_session(crate::get("/whoami"), $cookie))
    };
}

#[actix_web::test]
async fn purge_clears_the_cookie_and_a_replay_finds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    let mut browser = CookieJar::new();
    let r = send!(&app, browser.apply(post("/login/alice")));
    browser.update(&r);
    let r = send!(&app, browser.apply(post("/set/secret/42")));
    browser.update(&r);
    let stolen = browser.get(COOKIE).expect("cookie").to_owned();
    let id = id_of(&w, &stolen);
    assert_eq!(records(&w), 1);

    let r = send!(&app, browser.apply(post("/purge")));
    assert_eq!(r.status, 200);
    assert_removal(&r);
    let raw = &r.set_cookie_headers()[0];
    assert!(raw.contains("Max-Age=0"), "{raw}");
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    browser.update(&r);
    assert_eq!(browser.get(COOKIE), None, "the browser dropped the cookie");
    assert_eq!(records(&w), 0);

    let revoked = events(&w, "session.revoked").await;
    assert_eq!(revoked.len(), 1);
    let ev = &revoked[0].event;
    assert_eq!(ev.details["session"], id.short());
    assert_eq!(ev.details["reason"], "purge");
    assert_eq!(ev.user_id.as_deref(), Some("alice"));
    assert_eq!(ev.path.as_deref(), Some("/purge"));

    // Replaying the purged cookie: no user, no data, cleared again, nothing recreated.
    for _ in 0..3 {
        let r = whoami!(&app, &stolen);
        assert_eq!(r.body, "anonymous");
        assert_removal(&r);
        let r = send!(&app, with_session(get("/get/secret"), &stolen));
        assert_eq!(r.body, "none");
        assert_removal(&r);
    }
    assert_eq!(records(&w), 0);
    assert_eq!(
        w.runtime().sessions().list_for_user("alice").await.unwrap(),
        vec![]
    );
    w.shutdown().await;
}

#[actix_web::test]
async fn a_version_bump_kills_every_other_session_of_the_user() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);
    let sessions = w.runtime().sessions();

    let browser1 = logged_in!(&app, "alice");
    let browser2 = logged_in!(&app, "alice");
    let bob = logged_in!(&app, "bob");
    assert_ne!(browser1, browser2);
    assert_eq!(whoami!(&app, &browser1).body, "alice");
    assert_eq!(whoami!(&app, &browser2).body, "alice");
    assert_eq!(sessions.user_version("alice").await.unwrap(), 0);

    // E.g. alice changed her password on browser 1.
    let v = sessions
        .bump_version("alice", Some(id_of(&w, &browser1)))
        .await
        .unwrap();
    assert_eq!(v, 1);

    let r = whoami!(&app, &browser2);
    assert_eq!(r.body, "anonymous");
    assert_removal(&r);
    let r = whoami!(&app, &browser1);
    assert_eq!(r.body, "alice");
    assert!(r.set_cookie_headers().is_empty());
    let r = whoami!(&app, &bob);
    assert_eq!(r.body, "bob");

    // Browser 1 carries the new version; a new login gets it too.
    let kept = sessions.lookup(&token_of(&w, &browser1)).await.unwrap();
    let warden::actors::session::Lookup::Active(entry) = kept else {
        panic!("browser 1 lost its session: {kept:?}");
    };
    assert_eq!(entry.record().session_version, Some(1));
    let browser3 = logged_in!(&app, "alice");
    let Ok(warden::actors::session::Lookup::Active(entry)) =
        sessions.lookup(&token_of(&w, &browser3)).await
    else {
        panic!("browser 3 has no session");
    };
    assert_eq!(entry.record().session_version, Some(1));

    // Without a session to keep, every session of alice goes.
    assert_eq!(sessions.bump_version("alice", None).await.unwrap(), 2);
    for c in [&browser1, &browser3] {
        let r = whoami!(&app, c);
        assert_eq!(r.body, "anonymous");
        assert_removal(&r);
    }
    assert_eq!(whoami!(&app, &bob).body, "bob");
    w.shutdown().await;
}

#[actix_web::test]
async fn destroy_all_for_user_kills_only_that_users_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    let alice: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(logged_in!(&app, "alice"));
        }
        v
    };
    let bob = logged_in!(&app, "bob");
    // An anonymous session with data, and alice's long-named neighbour, are untouched too.
    let anon = new_session!(&app, "k", "v");
    let alicia = logged_in!(&app, "alice2");
    assert_eq!(records(&w), 7);

    let mut gone = w
        .runtime()
        .sessions()
        .destroy_all_for_user("alice", None)
        .await
        .unwrap();
    gone.sort();
    let mut expect: Vec<_> = alice.iter().map(|c| id_of(&w, c)).collect();
    expect.sort();
    assert_eq!(gone, expect);

    for c in &alice {
        let r = whoami!(&app, c);
        assert_eq!(r.body, "anonymous");
        assert_removal(&r);
    }
    assert_eq!(whoami!(&app, &bob).body, "bob");
    assert_eq!(whoami!(&app, &alicia).body, "alice2");
    let r = send!(&app, with_session(get("/get/k"), &anon));
    assert_eq!(r.body, "v");
    assert_eq!(records(&w), 3);
    w.shutdown().await;
}

/// Lets a test hold a handler at one point: the handler signals `reached`, then waits for
/// `release`.
#[derive(Default)]
struct Gate {
    reached: Notify,
    release: Notify,
}

/// A login handler that reads the user's session version, then waits (as a real one would
/// while it verifies a password hash) before it marks the session authenticated.
async fn slow_login(
    session: Session,
    user: web::Path<String>,
    warden: web::Data<Warden>,
    gate: web::Data<Arc<Gate>>,
) -> Result<HttpResponse, warden::Error> {
    let version = warden.runtime().sessions().user_version(&user).await?;
    gate.reached.notify_one();
    gate.release.notified().await;
    session.mark_authenticated(user.as_str(), version);
    Ok(HttpResponse::Ok().body("logged in"))
}

/// A login that read the session version before a bump completes after it: the session it
/// creates carries the old version, so it must not be usable ("a session version bump
/// invalidates every other session of the user").
#[actix_web::test]
async fn a_login_racing_a_version_bump_does_not_survive_it() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let gate = Arc::new(Gate::default());
    let app = actix_web::test::init_service(
        App::new()
            .app_data(w.data())
            .app_data(web::Data::new(gate.clone()))
            .wrap(w.session_middleware())
            .wrap(w.request_context())
            .route("/slow-login/{user}", web::post().to(slow_login))
            .configure(crate::routes),
    )
    .await;

    let login = actix_web::test::call_service(&app, post("/slow-login/alice").to_request());
    let bump = async {
        gate.reached.notified().await;
        let v = w
            .runtime()
            .sessions()
            .bump_version("alice", None)
            .await
            .unwrap();
        gate.release.notify_one();
        v
    };
    let (res, v) = futures_util::future::join(login, bump).await;
    assert_eq!(v, 1);
    let r = crate::common::Reply::read(res).await;
    assert_eq!(r.status, 200);
    // Whether or not a cookie was issued, it must not name a session of alice at version 0.
    if let Some(c) = r
        .set_cookie(COOKIE)
        .filter(|c| !crate::common::is_removal(c))
    {
        let cookie = c.value().to_owned();
        let stale = match w
            .runtime()
            .sessions()
            .lookup(&token_of(&w, &cookie))
            .await
            .unwrap()
        {
            warden::actors::session::Lookup::Active(e) => e.record().session_version,
            _ => None,
        };
        let r = whoami!(&app, &cookie);
        assert_eq!(
            r.body, "anonymous",
            "a login that read version 0 before the bump to 1 is still authenticated \
             (stored session_version {stale:?}, current version 1)"
        );
    }
    w.shutdown().await;
}

/// A handler that loads the session, waits, then writes to it.
async fn slow_write(
    session: Session,
    gate: web::Data<Arc<Gate>>,
) -> Result<HttpResponse, warden::Error> {
    let before: Option<String> = session.get("k")?;
    gate.reached.notify_one();
    gate.release.notified().await;
    session.insert("late", "write")?;
    Ok(HttpResponse::Ok().body(before.unwrap_or_default()))
}

/// Request A is in flight while request B purges the session: A's write must not resurrect it
/// (security-standards §1.4 test 7).
#[actix_web::test]
async fn a_request_in_flight_during_a_purge_does_not_resurrect_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let gate = Arc::new(Gate::default());
    let app = actix_web::test::init_service(
        App::new()
            .app_data(w.data())
            .app_data(web::Data::new(gate.clone()))
            .wrap(w.session_middleware())
            .wrap(w.request_context())
            .route("/slow-write", web::post().to(slow_write))
            .configure(crate::routes),
    )
    .await;

    let cookie = new_session!(&app, "k", "v");
    let in_flight = actix_web::test::call_service(
        &app,
        with_session(post("/slow-write"), &cookie).to_request(),
    );
    let logout = async {
        gate.reached.notified().await;
        let r = send!(&app, with_session(post("/purge"), &cookie));
        assert_removal(&r);
        gate.release.notify_one();
    };
    let (res, ()) = futures_util::future::join(in_flight, logout).await;
    let r = crate::common::Reply::read(res).await;
    assert!(!r.status.is_server_error(), "{r:?}");
    assert_eq!(r.body, "v", "the request had loaded the session");
    // No session is sent back, and none exists.
    if let Some(c) = r.set_cookie(COOKIE) {
        assert!(
            crate::common::is_removal(&c),
            "the purged session was re-issued: {c}"
        );
    }
    assert_eq!(
        records(&w),
        0,
        "the late write resurrected the purged session"
    );
    let r = send!(&app, with_session(get("/get/late"), &cookie));
    assert_eq!(r.body, "none");
    assert_removal(&r);
    w.shutdown().await;
}
