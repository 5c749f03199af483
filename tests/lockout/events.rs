//! Events and failing closed: one `auth.lockout.locked` per lock, with the request's context;
//! `auth.login.failure` once per failed attempt (never duplicated by the lockout); a lockout
//! actor that does not answer refuses logins with 503.

use std::net::IpAddr;

use actix_web::http::StatusCode;

use crate::{assert_failed, common::events, login_from, Env, ALICE, PASSWORD};

const A: &str = "192.0.2.50:40000";

#[actix_web::test]
async fn one_lock_is_one_event_with_the_request_context() {
    let env = Env::new().await;
    let app = app!(env);
    let mut fifth = None;
    for _ in 0..5 {
        let r = send!(&app, login_from(A, "alice", "wrong password"));
        assert_failed(&r);
        fifth = Some(r);
    }
    let failures = events(&env.warden, "auth.login.failure").await;
    assert_eq!(failures.len(), 5, "one per attempt: {failures:?}");
    let locks = events(&env.warden, "auth.lockout.locked").await;
    assert_eq!(locks.len(), 1, "{locks:?}");
    let ev = &locks[0].event;
    assert_eq!(ev.path.as_deref(), Some("/login"));
    assert_eq!(ev.method.as_deref(), Some("POST"));
    assert_eq!(ev.client_ip, Some("192.0.2.50".parse::<IpAddr>().unwrap()));
    assert_eq!(
        ev.request_id.as_deref(),
        fifth.unwrap().header("x-request-id").as_deref()
    );
    assert_eq!(ev.details["scope"], "account_ip");
    assert_eq!(ev.details["failures"], 5);
    assert_eq!(ev.details["lock_secs"], 300);

    // Locked attempts: one auth.login.failure each (reason `locked`), no new lock event.
    for _ in 0..3 {
        assert_failed(&send!(&app, login_from(A, "alice", PASSWORD)));
    }
    let failures = events(&env.warden, "auth.login.failure").await;
    assert_eq!(failures.len(), 8);
    let locked: Vec<_> = failures
        .iter()
        .filter(|e| e.event.details["reason"] == "locked")
        .collect();
    assert_eq!(locked.len(), 3);
    assert!(locked
        .iter()
        .all(|e| e.event.user_id.as_deref() == Some(ALICE)));
    assert_eq!(events(&env.warden, "auth.lockout.locked").await.len(), 1);
    env.stop().await;
}

#[actix_web::test]
async fn an_unavailable_lockout_refuses_logins_with_503() {
    let env = Env::new().await;
    let app = app!(env);
    env.lockout.handle().shutdown().await;
    let r = send!(&app, login_from(A, "alice", PASSWORD));
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{r:?}");
    assert_eq!(r.body, "Service Unavailable");
    assert!(r.set_cookie_headers().is_empty(), "{r:?}");
    assert!(events(&env.warden, "auth.login.success").await.is_empty());
    env.stop().await;
}
