//! No lock oracle: a locked attempt answers exactly as a wrong password (same bytes, one
//! argon2 run each), for real and unknown names; or, when configured, a 429 with
//! `Retry-After` that is the same for real and unknown names.

use std::time::Duration;

use actix_web::http::StatusCode;
use warden::lockout::{LockedResponse, LockoutPolicy, LoginLockoutConfig};

use crate::{assert_failed, assert_same_reply, common::Reply, login_from, Env, PASSWORD};

const A: &str = "192.0.2.30:40000";

#[actix_web::test]
async fn locked_and_wrong_password_replies_are_byte_identical() {
    let env = Env::new().await;
    let app = app!(env);
    for _ in 0..5 {
        send!(&app, login_from(A, "alice", "wrong password"));
        send!(&app, login_from(A, "ghost", "wrong password"));
    }
    let pool = env.warden.runtime().passwords();
    let mut replies: Vec<(&str, Reply)> = Vec::new();
    for (what, login, password) in [
        ("wrong password", "bob", "wrong password"),
        ("locked, right password", "alice", PASSWORD),
        ("locked, wrong password", "alice", "wrong password"),
        ("unknown name", "mallory", "wrong password"),
        ("locked unknown name", "ghost", "wrong password"),
    ] {
        let before = pool.stats().completed;
        let r = send!(&app, login_from(A, login, password));
        assert_eq!(pool.stats().completed, before + 1, "{what}: one argon2 run");
        assert!(r.set_cookie_headers().is_empty(), "{what}: {r:?}");
        replies.push((what, r));
    }
    let (_, reference) = &replies[0];
    assert_failed(reference);
    for (what, r) in &replies[1..] {
        assert_same_reply(reference, r);
        assert_failed(r);
        let _ = what;
    }
    env.stop().await;
}

#[actix_web::test]
async fn the_429_setting_answers_locked_attempts_with_retry_after() {
    let config = LoginLockoutConfig::default().locked_response(LockedResponse::TooManyRequests);
    let env = Env::with(LockoutPolicy::default(), config).await;
    let app = app!(env);
    for _ in 0..5 {
        // The fifth failure locks; it is itself answered as a wrong password.
        assert_failed(&send!(&app, login_from(A, "alice", "wrong password")));
        assert_failed(&send!(&app, login_from(A, "ghost", "wrong password")));
    }
    let r = send!(&app, login_from(A, "alice", PASSWORD));
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{r:?}");
    assert_eq!(r.header("retry-after").as_deref(), Some("300"));
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(r.body, "Too Many Requests");
    // No existence oracle: an unknown name locked the same way answers the same.
    let ghost = send!(&app, login_from(A, "ghost", PASSWORD));
    assert_same_reply(&r, &ghost);

    env.clock.advance(Duration::from_secs(120));
    let r = send!(&app, login_from(A, "alice", "wrong password"));
    assert_eq!(r.header("retry-after").as_deref(), Some("180"));
    // Unlocked attempts are unaffected: a wrong password is still the generic 401.
    assert_failed(&send!(&app, login_from(A, "bob", "wrong password")));
    env.stop().await;
}
