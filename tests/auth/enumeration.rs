//! An unknown user and a wrong password are indistinguishable: the same bytes, the same time.

use std::time::{Duration, Instant};

use warden::actors::{password::PasswordParams, PasswordSettings};

use crate::{
    assert_same_reply,
    common::{events, Reply},
    login_form, Env, ALICE, LOGIN_FAILED,
};

#[actix_web::test]
async fn unknown_user_and_wrong_password_give_byte_identical_replies() {
    let env = Env::new().await;
    let app = app!(env);

    let unknown = send!(&app, login_form("mallory", "some password"));
    let wrong = send!(&app, login_form("alice", "some password"));
    assert_eq!(unknown.status, 401, "{unknown:?}");
    assert_eq!(unknown.body, LOGIN_FAILED);
    assert_same_reply(&unknown, &wrong);
    assert!(unknown.set_cookie_headers().is_empty());

    // Also with a JSON body and for an over-long password.
    let long = "x".repeat(5000);
    let unknown = send!(&app, login_form("mallory", &long));
    let wrong = send!(&app, login_form("alice", &long));
    assert_same_reply(&unknown, &wrong);
    let body = |u: &str| serde_json::json!({"username": u, "password": "some password"});
    let unknown = send!(&app, crate::post("/login").set_json(body("mallory")));
    let wrong = send!(&app, crate::post("/login").set_json(body("alice")));
    assert_same_reply(&unknown, &wrong);

    let failures = events(&env.warden, "auth.login.failure").await;
    assert_eq!(failures.len(), 6, "{failures:?}");
    for e in &failures {
        assert_eq!(e.event.details["reason"], "bad_credentials");
        // The known user's id is recorded server-side only.
        assert!(e.event.user_id.is_none() || e.event.user_id.as_deref() == Some(ALICE));
    }
    env.warden.shutdown().await;
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// With parameters costly enough that argon2 dominates (a few ms per verify), the medians of
/// interleaved attempts are within a factor of 1.5.
#[actix_web::test]
async fn unknown_user_and_wrong_password_take_the_same_time() {
    const ROUNDS: usize = 31;
    let params = PasswordParams::insecure_for_tests()
        .memory_kib(4096)
        .iterations(2);
    let env = Env::with(PasswordSettings::new(params).threads(2).queue(64), |_| {}).await;
    let app = app!(env);

    // Warm up both paths.
    for _ in 0..3 {
        send!(&app, login_form("mallory", "warm up password"));
        send!(&app, login_form("alice", "warm up password"));
    }
    let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
    for i in 0..ROUNDS {
        let password = format!("guess number {i}");
        let t = Instant::now();
        let r: Reply = send!(&app, login_form(&format!("nobody{i}"), &password));
        unknown.push(t.elapsed());
        assert_eq!(r.status, 401);
        let t = Instant::now();
        let r: Reply = send!(&app, login_form("alice", &password));
        wrong.push(t.elapsed());
        assert_eq!(r.status, 401);
    }
    let (u, w) = (median(unknown), median(wrong));
    let ratio = u.as_secs_f64().max(w.as_secs_f64()) / u.as_secs_f64().min(w.as_secs_f64());
    assert!(
        ratio <= 1.5,
        "medians differ: unknown user {u:?}, wrong password {w:?} (ratio {ratio:.2})"
    );
    env.warden.shutdown().await;
}
