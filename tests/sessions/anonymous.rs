//! Anonymous visitors cost nothing; failed (5xx) requests persist nothing; the extractor
//! without the middleware is a loud 500.

use actix_web::{test as atest, web, App};

use crate::{
    common::{manual_clock, test_warden},
    get, get_key, post, records, with_session,
};

#[actix_web::test]
async fn an_anonymous_request_that_ignores_the_session_costs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    for uri in ["/noop", "/untouched"] {
        let r = send!(&app, get(uri));
        assert_eq!(r.status, 200, "{uri}");
        assert_eq!(r.body, "ok");
        assert!(r.set_cookie_headers().is_empty(), "{uri}: {r:?}");
        assert!(!r.varies_on("cookie"), "{uri}: {r:?}");
        assert_eq!(r.header("cache-control"), None, "{uri}");
    }
    assert_eq!(records(&w), 0);
    w.shutdown().await;
}

#[actix_web::test]
async fn reading_without_writing_varies_on_cookie_but_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    let r = send!(&app, get("/get/cart"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "none");
    assert!(r.varies_on("cookie"), "{r:?}");
    assert!(r.set_cookie_headers().is_empty(), "{r:?}");

    let r = send!(&app, get("/whoami"));
    assert_eq!(r.body, "anonymous");
    assert!(r.varies_on("cookie"));
    assert!(r.set_cookie_headers().is_empty());

    // Removing an absent key and renewing a session that does not exist store nothing either.
    let r = send!(&app, post("/remove/cart"));
    assert_eq!(r.body, "absent");
    assert!(r.set_cookie_headers().is_empty(), "{r:?}");
    let r = send!(&app, post("/renew"));
    assert!(r.set_cookie_headers().is_empty(), "{r:?}");

    assert_eq!(records(&w), 0);
    w.shutdown().await;
}

/// `Session::clear` on a visitor without a session stores nothing, so it must not create a
/// record (nor send a cookie): "an anonymous visitor costs no storage".
#[actix_web::test]
async fn clearing_an_absent_session_creates_no_record() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    let r = send!(&app, post("/clear"));
    assert_eq!(r.status, 200);
    assert!(
        r.set_cookie_headers().is_empty(),
        "clear() on no session sent a cookie: {:?}",
        r.set_cookie_headers()
    );
    assert_eq!(records(&w), 0, "clear() on no session created a record");
    w.shutdown().await;
}

#[actix_web::test]
async fn a_5xx_response_persists_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    // No session yet: the insert of a failed request creates nothing.
    let r = send!(&app, get("/boom"));
    assert_eq!(r.status, 500);
    assert!(r.set_cookie_headers().is_empty(), "{r:?}");
    assert_eq!(records(&w), 0);

    // An existing session: the failed request's insert is dropped, the cookie left alone.
    let cookie = new_session!(&app, "k", "v");
    assert_eq!(records(&w), 1);
    let r = send!(&app, with_session(get("/boom"), &cookie));
    assert_eq!(r.status, 500);
    assert!(r.set_cookie_headers().is_empty(), "{r:?}");
    let r = send!(&app, with_session(get("/get/boom"), &cookie));
    assert_eq!(r.body, "none");
    let r = send!(&app, with_session(get("/get/k"), &cookie));
    assert_eq!(r.body, "v");
    assert!(r.set_cookie_headers().is_empty());
    assert_eq!(records(&w), 1);
    w.shutdown().await;
}

#[actix_web::test]
async fn the_first_insert_creates_exactly_one_record() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    let cookie = new_session!(&app, "cart", "apple");
    assert_eq!(records(&w), 1);
    // Later writes go to the same record, without a new cookie.
    let r = send!(&app, with_session(post("/set/cart/pear"), &cookie));
    assert_eq!(r.status, 200);
    assert!(r.set_cookie_headers().is_empty(), "{r:?}");
    let r = send!(&app, with_session(get("/get/cart"), &cookie));
    assert_eq!(r.body, "pear");
    assert!(r.varies_on("cookie"));
    assert_eq!(records(&w), 1);

    let created = crate::common::events(&w, "session.created").await;
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0].event.details["session"],
        crate::id_of(&w, &cookie).short()
    );
    assert_eq!(created[0].event.path.as_deref(), Some("/set/cart/apple"));
    assert_eq!(
        created[0].event.client_ip,
        Some(crate::PEER.parse::<std::net::SocketAddr>().unwrap().ip())
    );
    w.shutdown().await;
}

#[actix_web::test]
async fn the_extractor_without_the_middleware_is_an_opaque_500() {
    let app = atest::init_service(App::new().route("/get/{key}", web::get().to(get_key))).await;
    let r = send!(&app, get("/get/k"));
    assert_eq!(r.status, 500);
    assert_eq!(r.body, "Internal Server Error");
    assert!(r.set_cookie_headers().is_empty());
}

/// Session data over `session.max_data_bytes` is an application error: refused the same way
/// (500, generic body) whether or not the session exists yet, and nothing is stored.
#[actix_web::test]
async fn oversized_session_data_is_refused_the_same_way_on_both_paths() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |raw| {
        raw.session.max_data_bytes = 1024
    });
    let app = app!(w);
    let big = "x".repeat(2000);

    // An existing session.
    let cookie = new_session!(&app, "k", "v");
    let r = send!(
        &app,
        with_session(post(&format!("/set/big/{big}")), &cookie)
    );
    assert_eq!(r.status, 500, "existing session");
    assert_eq!(r.body, "Internal Server Error");
    let r = send!(&app, with_session(get("/get/big"), &cookie));
    assert_eq!(r.body, "none");

    // No session yet.
    let r = send!(&app, post(&format!("/set/big/{big}")));
    assert_eq!(
        r.status, 500,
        "new session: oversized data is reported as {} (body {:?})",
        r.status, r.body
    );
    assert_eq!(r.body, "Internal Server Error");
    assert!(r.set_cookie_headers().is_empty());
    assert_eq!(records(&w), 1);
    w.shutdown().await;
}
