//! A restart does not hand out fresh budgets; a rate-limit actor that is down fails closed.

use std::time::Duration;

use warden::ratelimit::AuthRateLimitConfig;

use crate::{common, env, get, post, start};

#[actix_web::test]
async fn budgets_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = common::manual_clock();
    {
        let e = start(dir.path(), &clock);
        let app = app!(e, AuthRateLimitConfig::default());
        for _ in 0..10 {
            assert_eq!(send!(&app, post("/login")).status, 200);
        }
        assert_eq!(send!(&app, post("/login")).status, 429);
        e.limits.shutdown().await;
        e.warden.shutdown().await;
    }

    clock.advance(Duration::from_secs(2));
    let e = start(dir.path(), &clock);
    let app = app!(e, AuthRateLimitConfig::default());
    let r = send!(&app, post("/login"));
    assert_eq!(r.status, 429, "a restart must not reset the budget");
    assert_eq!(r.header("retry-after").as_deref(), Some("4"));
    assert_eq!(e.limits.stats().loaded, 1);
    // And it decays as it would have without the restart.
    clock.advance(Duration::from_secs(4));
    assert_eq!(send!(&app, post("/login")).status, 200);
    e.limits.shutdown().await;
    e.warden.shutdown().await;
}

#[actix_web::test]
async fn a_stopped_actor_fails_closed_with_503() {
    let e = env();
    let app = app!(e, AuthRateLimitConfig::default());
    assert_eq!(send!(&app, post("/login")).status, 200);
    for _ in 0..10 {
        send!(&app, post("/signup"));
    }
    e.limits.shutdown().await;
    for path in ["/login", "/signup", "/password-reset", "//LOGIN/"] {
        let r = send!(&app, post(path));
        assert_eq!(r.status, 503, "{path}: {r:?}");
        assert_eq!(r.body, "Service Unavailable");
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
        assert!(r.header("ratelimit").is_none());
    }
    // Requests the limiter does not look at still work.
    assert_eq!(send!(&app, get("/login")).status, 200);
    assert_eq!(send!(&app, post("/other")).status, 200);
}
