//! Abuse of the lockout itself: success-reset abuse, an attacker on many networks against a
//! victim (lockout as denial of service), and concurrent failures.

use std::{net::IpAddr, time::Duration};

use futures_util::future::join_all;
use warden::lockout::{LockoutPolicy, LoginLockoutConfig};

use crate::{assert_failed, assert_logged_in, common::Reply, login_from, peer, Env, PASSWORD};

#[actix_web::test]
async fn a_success_resets_the_account_but_never_the_network() {
    let env = Env::with(
        LockoutPolicy::default().ip_max_failures(6),
        LoginLockoutConfig::default(),
    )
    .await;
    let app = app!(env);
    let x = "192.0.2.40:40000";
    let x_ip: IpAddr = "192.0.2.40".parse().unwrap();
    for _ in 0..3 {
        assert_failed(&send!(&app, login_from(x, "alice", "wrong password")));
    }
    assert_logged_in(&send!(&app, login_from(x, "alice", PASSWORD)));
    let st = env.lockout.handle().check("alice", x_ip).await.unwrap();
    assert_eq!((st.account.failures, st.account_ip.failures), (0, 0));
    assert_eq!(st.ip.failures, 3, "the network's failures stay");

    // eve guesses bob's password and logs into her own account in between: neither bob's
    // counters nor the network's are reset, and the network locks at 6 failures.
    for n in 1..=3 {
        assert_failed(&send!(&app, login_from(x, "bob", "wrong password")));
        let own = send!(&app, login_from(x, "eve", PASSWORD));
        if n < 3 {
            assert_logged_in(&own);
        } else {
            assert_failed(&own);
        }
    }
    let st = env.lockout.handle().check("bob", x_ip).await.unwrap();
    assert_eq!(st.account_ip.failures, 3);
    assert!(st.ip.is_locked());
    // From another network eve is fine.
    assert_logged_in(&send!(&app, login_from("203.0.113.5:1", "eve", PASSWORD)));
    env.stop().await;
}

/// The documented balance, over HTTP. alice has logged in from `HOME` before. An attacker on
/// 50 networks sends 5 wrong passwords from each: every attacker pair locks, and after 20
/// failures that reached a password check the account locks for 300 s on every network but
/// `HOME`. alice on a new network is delayed by that one lock (capped at `max_lock` in later
/// cycles), never locked out of `HOME`; her login there clears the account-wide counter.
#[actix_web::test]
async fn fifty_attacker_networks_delay_the_victim_by_one_bounded_lock() {
    let env = Env::new().await;
    let app = app!(env);
    const HOME: &str = "198.51.100.7:40000";
    const TRAVEL: &str = "203.0.113.200:40000";
    assert_logged_in(&send!(&app, login_from(HOME, "alice", PASSWORD)));

    for i in 0..50 {
        for _ in 0..5 {
            assert_failed(&send!(&app, login_from(&peer(i), "alice", "guess")));
        }
    }
    let st = env.lockout.handle().status("alice").await.unwrap();
    assert_eq!((st.locked_pairs, st.account.locks), (50, 1), "{st:?}");

    // From a new network the right password is refused for the account lock (300 s)…
    assert_failed(&send!(&app, login_from(TRAVEL, "alice", PASSWORD)));
    env.clock.advance(Duration::from_secs(300));
    // …and accepted when it ends.
    assert_logged_in(&send!(&app, login_from(TRAVEL, "alice", PASSWORD)));

    // The attacker's next cycle (one guess per network, each pair relocking) locks the
    // account again, for 600 s: never longer than max_lock, and never at HOME.
    for i in 0..50 {
        assert_failed(&send!(&app, login_from(&peer(i), "alice", "guess")));
    }
    let st = env.lockout.handle().status("alice").await.unwrap();
    let until = st.account.locked_until.expect("locked again");
    let lock = until - crate::common::START_MILLIS - 300_000;
    assert_eq!(lock, 600_000);
    assert_failed(&send!(
        &app,
        login_from("203.0.113.201:1", "alice", PASSWORD)
    ));
    assert_logged_in(&send!(&app, login_from(HOME, "alice", PASSWORD)));
    // The success at HOME cleared the account-wide counter: every network is open again.
    assert_logged_in(&send!(
        &app,
        login_from("203.0.113.201:1", "alice", PASSWORD)
    ));
    env.stop().await;
}

#[actix_web::test]
async fn concurrent_wrong_passwords_are_counted_exactly() {
    let env = Env::new().await;
    let app = app!(env);
    let a = "192.0.2.45:40000";
    let all =
        join_all((0..50).map(|_| {
            actix_web::test::call_service(&app, login_from(a, "alice", "x").to_request())
        }))
        .await;
    for res in all {
        assert_failed(&Reply::read(res).await);
    }
    let st = env
        .lockout
        .handle()
        .check("alice", "192.0.2.45".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(st.account_ip.failures, 50);
    assert_eq!(st.ip.failures, 50);
    assert!(st.locked);
    env.stop().await;
}
