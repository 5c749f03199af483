//! Restarts on the same data directory: persistence, key rotation; and failing closed once the
//! runtime is down.

use std::time::Duration;

use warden::session::CookieSigner;

use crate::{
    assert_removal,
    common::{events, manual_clock, test_warden, KEY_A, KEY_B},
    get, issued, post, token_of, with_session, COOKIE,
};

fn kid(cookie: &str) -> &str {
    cookie.split('.').nth(1).expect("a v1 cookie")
}

#[actix_web::test]
async fn sessions_survive_a_restart_with_their_data() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    // No periodic fold during the test: it folds explicitly.
    let no_timer = |raw: &mut warden::config::RawConfig| raw.session.touch_interval_ms = 600_000;
    let (anon, alice) = {
        let w = test_warden(dir.path(), &clock, no_timer);
        let app = app!(w);
        let anon = new_session!(&app, "theme", "dark");
        let r = send!(&app, post("/login/alice"));
        let alice = issued(&r);
        let r = send!(&app, with_session(post("/set/note/hi"), &alice));
        assert_eq!(r.status, 200);

        // Both are used 10 minutes in; the touches are folded into the store.
        clock.advance(Duration::from_secs(600));
        for c in [&anon, &alice] {
            let r = send!(&app, with_session(get("/whoami"), c));
            assert_eq!(r.status, 200);
        }
        assert_eq!(w.runtime().sessions().fold_now().await.unwrap(), 2);
        w.shutdown().await;
        (anon, alice)
    };

    let w = test_warden(dir.path(), &clock, no_timer);
    let app = app!(w);
    let r = send!(&app, with_session(get("/get/theme"), &anon));
    assert_eq!(r.body, "dark");
    assert!(r.set_cookie_headers().is_empty(), "{r:?}");
    let r = send!(&app, with_session(get("/whoami"), &alice));
    assert_eq!(r.body, "alice");
    let r = send!(&app, with_session(get("/get/note"), &alice));
    assert_eq!(r.body, "hi");
    assert_eq!(
        w.runtime()
            .sessions()
            .list_for_user("alice")
            .await
            .unwrap()
            .len(),
        1
    );

    // The folded touch counts after the restart: 35 min after creation, 25 min after the last
    // use, the session is alive (idle timeout 30 min).
    assert_eq!(w.config().session.idle_timeout, Duration::from_secs(1800));
    clock.advance(Duration::from_secs(25 * 60));
    let r = send!(&app, with_session(get("/get/theme"), &anon));
    assert_eq!(r.body, "dark");

    // The audit log survived too.
    assert_eq!(
        crate::common::count(&events(&w, "session.").await, "session.created"),
        2
    );
    w.shutdown().await;
}

#[actix_web::test]
async fn a_rotated_key_is_accepted_and_resigned_then_refused_once_retired() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    let kid_a = CookieSigner::from_keys([KEY_A])
        .unwrap()
        .current_kid()
        .to_owned();
    let kid_b = CookieSigner::from_keys([KEY_B])
        .unwrap()
        .current_kid()
        .to_owned();
    assert_ne!(kid_a, kid_b);

    // 1. Keys [A].
    let old = {
        let w = test_warden(dir.path(), &clock, |raw| {
            raw.secrets.keys = vec![KEY_A.to_owned()]
        });
        let app = app!(w);
        let old = new_session!(&app, "k", "v");
        assert_eq!(kid(&old), kid_a);
        w.shutdown().await;
        old
    };

    // 2. Keys [B, A]: the A cookie works and is re-issued under B, same session.
    let new = {
        let w = test_warden(dir.path(), &clock, |raw| {
            raw.secrets.keys = vec![KEY_B.to_owned(), KEY_A.to_owned()]
        });
        let app = app!(w);
        let r = send!(&app, with_session(get("/get/k"), &old));
        assert_eq!(r.status, 200);
        assert_eq!(r.body, "v");
        let new = issued(&r);
        assert_ne!(new, old);
        assert_eq!(kid(&new), kid_b);
        assert_eq!(token_of(&w, &new), token_of(&w, &old), "same session");
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
        assert!(r.varies_on("cookie"));
        // A re-signing is not a rotation.
        assert!(events(&w, "session.rotated").await.is_empty());

        let r = send!(&app, with_session(get("/get/k"), &new));
        assert_eq!(r.body, "v");
        assert!(r.set_cookie_headers().is_empty(), "{r:?}");
        // The old cookie keeps working (and being re-issued) until A is retired.
        let r = send!(&app, with_session(get("/get/k"), &old));
        assert_eq!(r.body, "v");
        assert_eq!(issued(&r), new, "re-signing is deterministic");
        // A request that does not read the session still re-issues the cookie.
        let r = send!(&app, with_session(get("/untouched"), &old));
        assert_eq!(issued(&r), new);
        w.shutdown().await;
        new
    };

    // 3. Keys [B]: the A cookie is refused, the B cookie works.
    let w = test_warden(dir.path(), &clock, |raw| {
        raw.secrets.keys = vec![KEY_B.to_owned()]
    });
    let app = app!(w);
    for _ in 0..3 {
        let r = send!(&app, with_session(get("/get/k"), &old));
        assert_eq!(r.status, 200);
        assert_eq!(r.body, "none");
        assert_removal(&r);
    }
    let invalid = events(&w, "session.cookie.invalid").await;
    assert_eq!(invalid.len(), 1, "throttled: {invalid:?}");
    assert_eq!(invalid[0].event.details["reason"], "unknown_key");

    let r = send!(&app, with_session(get("/get/k"), &new));
    assert_eq!(r.body, "v");
    assert!(r.set_cookie_headers().is_empty());
    w.shutdown().await;
}

#[actix_web::test]
async fn requests_that_need_the_session_actor_fail_closed_after_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);
    let cookie = new_session!(&app, "k", "v");
    let r = send!(&app, post("/login/alice"));
    let alice = issued(&r);

    w.shutdown().await;

    // A request carrying a session cookie: 503 with the generic body, never the handler's 200.
    for (uri, c) in [
        ("/get/k", &cookie),
        ("/whoami", &alice),
        ("/noop", &cookie),
        ("/untouched", &alice),
    ] {
        let r = send!(&app, with_session(get(uri), c));
        assert_eq!(r.status, 503, "{uri}");
        assert_eq!(r.body, "Service Unavailable", "{uri}");
        assert!(r.set_cookie(COOKIE).is_none(), "{uri}: {r:?}");
    }
    for uri in ["/set/k/w", "/purge", "/login/bob"] {
        let r = send!(&app, with_session(post(uri), &alice));
        assert_eq!(r.status, 503, "{uri}");
        assert_eq!(r.body, "Service Unavailable", "{uri}");
    }

    // Without a cookie, a request that tries to create a session: 503 as well.
    for uri in ["/set/k/v", "/login/carol"] {
        let r = send!(&app, post(uri));
        assert_eq!(r.status, 503, "{uri}");
        assert_eq!(r.body, "Service Unavailable", "{uri}");
        assert!(r.set_cookie(COOKIE).is_none(), "{uri}: {r:?}");
    }

    // A request that needs no session is still served.
    let r = send!(&app, get("/noop"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "ok");
}
