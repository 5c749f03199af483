//! Password reset: the same answer for every request, tokens delivered only to the notifier,
//! single-use, expiring, and dead after a password change; completing kills every session.

use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use crate::{
    assert_login_redirect, assert_same_reply,
    common::{events, eventually, CookieJar, Reply},
    get, login_form, post, Env, ALICE, PASSWORD, RESET_REQUESTED,
};

const NEW_PASSWORD: &str = "reset to this passphrase";

/// Every log line of this test binary (from the first call on), as text.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace,sled=info"))
            .with_ansi(false)
            .with_writer(move || LogWriter(sink.clone()))
            .try_init();
        buf
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn reset_request(username: &str) -> actix_web::test::TestRequest {
    post("/password-reset").set_form([("username", username)])
}

fn reset_complete(token: &str, new_password: &str) -> actix_web::test::TestRequest {
    post("/password-reset/complete").set_form([("token", token), ("new_password", new_password)])
}

/// Requests a reset for alice and waits for the notifier to receive the token.
macro_rules! reset_token {
    ($app:expr, $env:expr) => {{
        let before = $env.notifier.tokens_for(crate::ALICE).len();
        let r = send!($app, reset_request("alice"));
        assert_eq!(r.status, 202, "{r:?}");
        let notifier = $env.notifier.clone();
        eventually("the reset token is delivered", || {
            notifier.tokens_for(crate::ALICE).len() > before
        })
        .await;
        $env.notifier.tokens_for(crate::ALICE).pop().unwrap()
    }};
}

#[actix_web::test]
async fn a_reset_request_answers_the_same_and_the_token_goes_only_to_the_notifier() {
    let logs = captured_logs();
    let env = Env::with(crate::common::cheap_passwords(), |raw| {
        raw.audit.tracing_sink = true;
    })
    .await;
    let app = app!(env);

    let known: Reply = send!(&app, reset_request("alice"));
    let unknown: Reply = send!(&app, reset_request("mallory"));
    assert_eq!(known.status, 202, "{known:?}");
    assert_eq!(known.body, RESET_REQUESTED);
    assert_same_reply(&known, &unknown);

    let notifier = env.notifier.clone();
    eventually("the reset token is delivered", || {
        !notifier.sent().is_empty()
    })
    .await;
    let w = env.warden.clone();
    let mut requested = Vec::new();
    for _ in 0..500 {
        requested = events(&w, "password.reset.requested").await;
        if requested.len() == 2 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(requested.len(), 2, "{requested:?}");
    let sent = env.notifier.sent();
    assert_eq!(
        sent.len(),
        1,
        "only the existing user is notified: {sent:?}"
    );
    let (user, token) = &sent[0];
    assert_eq!(user, ALICE);
    assert!(token.starts_with("wdr_"), "{token}");

    // The token is nowhere else: not in the replies, the audit log, or the logs.
    for r in [&known, &unknown] {
        assert!(!format!("{r:?}").contains(token.as_str()));
    }
    let all = events(&env.warden, "").await;
    assert!(!all.is_empty());
    for e in &all {
        let line = e.to_json_line();
        assert!(
            !line.contains(token.as_str()),
            "token in an audit event: {line}"
        );
        assert!(
            !line.contains(&token[4..20]),
            "part of the token in: {line}"
        );
    }
    // Let the tracing sink drain, then read the logs.
    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        text.contains("password.reset.requested"),
        "the log capture does not work: {text}"
    );
    assert!(!text.contains(token.as_str()), "the reset token was logged");
    assert!(
        !text.contains(&token[4..20]),
        "part of the reset token was logged"
    );
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn completing_a_reset_kills_every_session_and_the_token_is_single_use() {
    let env = Env::new().await;
    let app = app!(env);
    let (mut a, mut b) = (CookieJar::new(), CookieJar::new());
    log_in!(&app, a, "alice");
    log_in!(&app, b, "alice");
    let mut admin = CookieJar::new();
    log_in!(&app, admin, "admin");

    let token = reset_token!(&app, env);
    // The policy applies, and a refused password does not spend the token.
    let r = send!(&app, reset_complete(&token, "short"));
    assert_eq!(r.status, 422, "{r:?}");

    let r = send!(&app, reset_complete(&token, NEW_PASSWORD));
    assert_eq!(
        (r.status.as_u16(), r.body.as_str()),
        (200, "password reset"),
        "{r:?}"
    );
    // Every session of alice is dead; admin's is not.
    for jar in [&mut a, &mut b] {
        let r = browse!(&app, jar, get("/dashboard"));
        assert_login_redirect(&r, "%2Fdashboard");
    }
    assert!(env
        .warden
        .runtime()
        .sessions()
        .list_for_user(ALICE)
        .await
        .unwrap()
        .is_empty());
    let r = browse!(&app, admin, get("/dashboard"));
    assert_eq!(r.status, 200, "{r:?}");

    // The new password works, the old one does not.
    let r = send!(&app, login_form("alice", PASSWORD));
    assert_eq!(r.status, 401, "{r:?}");
    let mut c = CookieJar::new();
    log_in!(&app, c, "alice", NEW_PASSWORD);

    // Single use: the second completion is invalid and changes nothing.
    let hash = env.users.hash_of(ALICE).unwrap();
    let r = send!(&app, reset_complete(&token, "yet another passphrase"));
    assert_eq!(
        (r.status.as_u16(), r.body.as_str()),
        (400, "invalid or expired token"),
        "{r:?}"
    );
    assert_eq!(env.users.hash_of(ALICE).unwrap(), hash);
    let r = browse!(&app, c, get("/dashboard"));
    assert_eq!(
        r.status, 200,
        "a failed completion must not kill sessions: {r:?}"
    );

    // Garbage tokens are invalid the same way.
    for junk in ["", "wdr_", "not a token", &token.to_uppercase()] {
        let r = send!(&app, reset_complete(junk, "yet another passphrase"));
        assert_eq!(r.status, 400, "{junk:?}: {r:?}");
    }

    let done = events(&env.warden, "password.reset.completed").await;
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0].event.user_id.as_deref(), Some(ALICE));
    let failed = events(&env.warden, "password.reset.failure").await;
    assert_eq!(failed.len(), 5, "{failed:?}");
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn a_reset_token_expires_after_30_minutes() {
    let env = Env::new().await;
    let app = app!(env);

    // Just inside the lifetime: valid.
    let token = reset_token!(&app, env);
    env.clock.advance(Duration::from_secs(29 * 60));
    let r = send!(&app, reset_complete(&token, NEW_PASSWORD));
    assert_eq!(r.status, 200, "{r:?}");

    // Past it: invalid, and the password stays.
    let token = reset_token!(&app, env);
    env.clock.advance(Duration::from_secs(30 * 60 + 1));
    let hash = env.users.hash_of(ALICE).unwrap();
    let r = send!(&app, reset_complete(&token, "too late passphrase"));
    assert_eq!(
        (r.status.as_u16(), r.body.as_str()),
        (400, "invalid or expired token"),
        "{r:?}"
    );
    assert_eq!(env.users.hash_of(ALICE).unwrap(), hash);
    let mut c = CookieJar::new();
    log_in!(&app, c, "alice", NEW_PASSWORD);
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn a_reset_token_dies_when_the_password_changes_after_it_was_issued() {
    let env = Env::new().await;
    let app = app!(env);

    let token = reset_token!(&app, env);
    let mut a = CookieJar::new();
    log_in!(&app, a, "alice");
    let r = browse!(
        &app,
        a,
        post("/account/password").set_form([
            ("current_password", PASSWORD),
            ("new_password", "changed by alice herself")
        ])
    );
    assert_eq!(r.status, 200, "{r:?}");

    let r = send!(&app, reset_complete(&token, NEW_PASSWORD));
    assert_eq!(r.status, 400, "{r:?}");
    let mut c = CookieJar::new();
    log_in!(&app, c, "alice", "changed by alice herself");
    let r = send!(&app, login_form("alice", NEW_PASSWORD));
    assert_eq!(r.status, 401, "{r:?}");
    // alice's session survived the failed completion.
    let r = browse!(&app, a, get("/dashboard"));
    assert_eq!(r.status, 200, "{r:?}");

    // A version bump alone (an account event) kills an outstanding token too.
    let token = reset_token!(&app, env);
    env.warden
        .runtime()
        .sessions()
        .bump_version(ALICE, None)
        .await
        .unwrap();
    let r = send!(&app, reset_complete(&token, NEW_PASSWORD));
    assert_eq!(r.status, 400, "{r:?}");

    // A newer request supersedes an older token.
    let older = reset_token!(&app, env);
    let newer = reset_token!(&app, env);
    assert_ne!(older, newer);
    let r = send!(&app, reset_complete(&older, NEW_PASSWORD));
    assert_eq!(r.status, 400, "{r:?}");
    let r = send!(&app, reset_complete(&newer, NEW_PASSWORD));
    assert_eq!(r.status, 200, "{r:?}");
    env.warden.shutdown().await;
}
