//! Concurrent requests on one session keep each other's updates.

use futures_util::future::join_all;

use crate::{
    common::{manual_clock, test_warden, Reply},
    get, post, token_of, with_session,
};

#[actix_web::test]
async fn concurrent_requests_setting_different_keys_keep_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    let cookie = new_session!(&app, "base", "0");
    let calls = (0..20).map(|i| {
        let req = with_session(post(&format!("/set/key{i}/value{i}")), &cookie).to_request();
        actix_web::test::call_service(&app, req)
    });
    let replies = join_all(calls).await;
    for res in replies {
        let r = Reply::read(res).await;
        assert_eq!(r.status, 200);
        assert!(r.set_cookie_headers().is_empty(), "{r:?}");
    }

    for i in 0..20 {
        let r = send!(&app, with_session(get(&format!("/get/key{i}")), &cookie));
        assert_eq!(r.body, format!("value{i}"), "key{i} was lost");
    }
    let r = send!(&app, with_session(get("/get/base"), &cookie));
    assert_eq!(r.body, "0");

    // The record itself holds all 21 keys.
    let Ok(warden::actors::session::Lookup::Active(entry)) =
        w.runtime().sessions().lookup(&token_of(&w, &cookie)).await
    else {
        panic!("session gone");
    };
    assert_eq!(entry.record().data.len(), 21);
    w.shutdown().await;
}

#[actix_web::test]
async fn concurrent_removes_and_inserts_on_different_keys_do_not_interfere() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    let cookie = new_session!(&app, "keep", "1");
    for i in 0..10 {
        let r = send!(&app, with_session(post(&format!("/set/old{i}/x")), &cookie));
        assert_eq!(r.status, 200);
    }
    // 10 removals of old keys race 10 inserts of new keys.
    let calls = (0..10)
        .flat_map(|i| [format!("/remove/old{i}"), format!("/set/new{i}/y")])
        .map(|uri| {
            let req = with_session(post(&uri), &cookie).to_request();
            actix_web::test::call_service(&app, req)
        });
    for res in join_all(calls).await {
        assert_eq!(res.status(), 200);
    }
    for i in 0..10 {
        let r = send!(&app, with_session(get(&format!("/get/old{i}")), &cookie));
        assert_eq!(r.body, "none", "old{i} came back");
        let r = send!(&app, with_session(get(&format!("/get/new{i}")), &cookie));
        assert_eq!(r.body, "y", "new{i} was lost");
    }
    let r = send!(&app, with_session(get("/get/keep"), &cookie));
    assert_eq!(r.body, "1");
    w.shutdown().await;
}
