//! Idle and absolute timeouts, enforced on the server, through HTTP, with the manual clock.

use std::time::Duration;

use warden::config::RawConfig;

use crate::{
    assert_removal,
    common::{count, events, manual_clock, test_warden},
    get, id_of, with_session,
};

const IDLE: u64 = 60;
const ABSOLUTE: u64 = 300;

/// Short timeouts; the periodic fold (which evicts expired sessions from the view) is pushed
/// out of the tests' reach so that they are deterministic: they fold explicitly when they mean
/// to.
fn short_timeouts(raw: &mut RawConfig) {
    raw.session.idle_timeout_secs = IDLE;
    raw.session.absolute_timeout_secs = ABSOLUTE;
    raw.session.touch_interval_ms = (IDLE - 1) * 1000;
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[actix_web::test]
async fn an_idle_session_expires_on_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    let w = test_warden(dir.path(), &clock, short_timeouts);
    let app = app!(w);

    let cookie = new_session!(&app, "k", "v");
    let id = id_of(&w, &cookie);

    // Just inside the idle timeout, twice: each use restarts it.
    for _ in 0..2 {
        clock.advance(secs(IDLE) - Duration::from_millis(1));
        let r = send!(&app, with_session(get("/get/k"), &cookie));
        assert_eq!(r.body, "v");
        assert!(r.set_cookie_headers().is_empty(), "{r:?}");
    }

    clock.advance(secs(IDLE));
    let r = send!(&app, with_session(get("/get/k"), &cookie));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "none");
    assert_removal(&r);

    let evs = events(&w, "session.expired").await;
    assert_eq!(crate::common::names(&evs), vec!["session.expired.idle"]);
    assert_eq!(evs[0].event.details["session"], id.short());
    assert_eq!(evs[0].event.path.as_deref(), Some("/get/k"));

    // It stays dead (and is not reported twice).
    let r = send!(&app, with_session(get("/get/k"), &cookie));
    assert_eq!(r.body, "none");
    assert_removal(&r);
    assert_eq!(
        count(&events(&w, "session.").await, "session.expired.idle"),
        1
    );
    w.shutdown().await;
}

#[actix_web::test]
async fn an_active_session_still_expires_at_the_absolute_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    let w = test_warden(dir.path(), &clock, short_timeouts);
    let app = app!(w);

    let cookie = new_session!(&app, "k", "v");
    let id = id_of(&w, &cookie);

    // Used every 50 s (inside the idle timeout) up to 250 s.
    for step in 1..=5 {
        clock.advance(secs(50));
        let r = send!(&app, with_session(get("/get/k"), &cookie));
        assert_eq!(r.body, "v", "at {} s", step * 50);
        assert!(r.set_cookie_headers().is_empty());
    }
    // A rotation does not restart the absolute clock.
    let r = send!(&app, with_session(crate::post("/renew"), &cookie));
    let cookie = crate::issued(&r);
    let id = {
        let new = id_of(&w, &cookie);
        assert_ne!(new, id);
        new
    };

    clock.advance(secs(50)); // 300 s after creation, 50 s after the last use
    let r = send!(&app, with_session(get("/get/k"), &cookie));
    assert_eq!(r.body, "none");
    assert_removal(&r);

    let evs = events(&w, "session.expired").await;
    assert_eq!(crate::common::names(&evs), vec!["session.expired.absolute"]);
    assert_eq!(evs[0].event.details["session"], id.short());
    w.shutdown().await;
}

/// The shard folds touches every `touch_interval` and, while doing so, evicts expired sessions
/// from the view. A visitor returning after that fold must still get the expiry event (in
/// production the fold runs every second, so this is the common case, not a corner case).
#[actix_web::test]
async fn an_idle_expiry_is_reported_even_after_the_periodic_fold() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    let w = test_warden(dir.path(), &clock, short_timeouts);
    let app = app!(w);

    let cookie = new_session!(&app, "k", "v");
    clock.advance(secs(IDLE + 1));
    // What the `touch_interval` timer does anyway.
    w.runtime().sessions().fold_now().await.unwrap();

    let r = send!(&app, with_session(get("/get/k"), &cookie));
    assert_eq!(r.body, "none");
    assert_removal(&r);
    let evs = events(&w, "session.expired").await;
    assert_eq!(
        crate::common::names(&evs),
        vec!["session.expired.idle"],
        "an idle timeout noticed after the fold evicted the session is not reported"
    );
    w.shutdown().await;
}

#[actix_web::test]
async fn an_expired_session_that_is_written_to_starts_over_empty() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    let w = test_warden(dir.path(), &clock, short_timeouts);
    let app = app!(w);

    let old = new_session!(&app, "k", "v");
    clock.advance(secs(IDLE));
    let r = send!(&app, with_session(crate::post("/set/other/1"), &old));
    let fresh = crate::issued(&r);
    assert_ne!(fresh, old);
    let r = send!(&app, with_session(get("/get/k"), &fresh));
    assert_eq!(r.body, "none", "expired data must not carry over");
    let r = send!(&app, with_session(get("/get/other"), &fresh));
    assert_eq!(r.body, "1");
    w.shutdown().await;
}
