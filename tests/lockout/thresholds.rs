//! Thresholds over HTTP: four failures leave the door open, the fifth locks the (account,
//! network) pair even against the right password until the lock ends, relocks double, and
//! unknown names are counted and locked exactly like accounts.

use std::time::Duration;

use warden::lockout::Scope;

use crate::{assert_failed, assert_logged_in, assert_same_reply, login_from, Env, PASSWORD};

const HOME: &str = "192.0.2.10:40000";
const OTHER: &str = "198.51.100.20:40000";

#[actix_web::test]
async fn four_failures_then_the_right_password_logs_in_and_clears_the_count() {
    let env = Env::new().await;
    let app = app!(env);
    for round in 0..2 {
        for _ in 0..4 {
            assert_failed(&send!(&app, login_from(HOME, "alice", "wrong password")));
        }
        let r = send!(&app, login_from(HOME, "alice", PASSWORD));
        assert_logged_in(&r);
        let st = env.lockout.handle().status("alice").await.unwrap();
        assert_eq!(
            (st.account.failures, st.tracked_pairs),
            (0, 0),
            "round {round}: a success clears the account and its pair"
        );
    }
    env.stop().await;
}

#[actix_web::test]
async fn the_fifth_failure_locks_the_pair_even_for_the_right_password_until_it_ends() {
    let env = Env::new().await;
    let app = app!(env);
    for _ in 0..5 {
        assert_failed(&send!(&app, login_from(HOME, "alice", "wrong password")));
    }
    assert_failed(&send!(&app, login_from(HOME, "alice", PASSWORD)));
    // The pair limit is per network: alice elsewhere is not locked out.
    assert_logged_in(&send!(&app, login_from(OTHER, "alice", PASSWORD)));

    env.clock.advance(Duration::from_secs(299));
    assert_failed(&send!(&app, login_from(HOME, "alice", PASSWORD)));
    env.clock.advance(Duration::from_secs(1));
    assert_logged_in(&send!(&app, login_from(HOME, "alice", PASSWORD)));

    // The backoff: five more failures lock for 300 s again (the success cleared the pair)…
    for _ in 0..5 {
        assert_failed(&send!(&app, login_from(HOME, "alice", "wrong password")));
    }
    env.clock.advance(Duration::from_secs(300));
    // …and one failure after that lock relocks for 600 s.
    assert_failed(&send!(&app, login_from(HOME, "alice", "wrong password")));
    env.clock.advance(Duration::from_secs(599));
    assert_failed(&send!(&app, login_from(HOME, "alice", PASSWORD)));
    env.clock.advance(Duration::from_secs(1));
    assert_logged_in(&send!(&app, login_from(HOME, "alice", PASSWORD)));
    env.stop().await;
}

#[actix_web::test]
async fn unknown_names_are_counted_and_locked_like_accounts() {
    let env = Env::new().await;
    let app = app!(env);
    for _ in 0..5 {
        send!(&app, login_from(HOME, "alice", "wrong password"));
        send!(
            &app,
            login_from(HOME, "nobody-by-this-name", "wrong password")
        );
    }
    let h = env.lockout.handle();
    let known = h.status("alice").await.unwrap();
    let unknown = h.status("nobody-by-this-name").await.unwrap();
    assert_eq!(known, unknown);
    assert_eq!((known.account.failures, known.locked_pairs), (5, 1));
    let ip = "192.0.2.10".parse().unwrap();
    let a = h.check("alice", ip).await.unwrap();
    let b = h.check("nobody-by-this-name", ip).await.unwrap();
    assert_eq!(a.locked_scopes(), [Scope::AccountIp]);
    assert_eq!(a, b);

    // The right password of the real account gets the same answer as the unknown name.
    let real = send!(&app, login_from(HOME, "alice", PASSWORD));
    let ghost = send!(&app, login_from(HOME, "nobody-by-this-name", PASSWORD));
    assert_failed(&real);
    assert_same_reply(&real, &ghost);
    env.stop().await;
}
