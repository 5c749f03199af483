//! Passwords: change (the current session survives and rotates, the others die), rehash on
//! login after a parameter change, and a burst of logins on a saturated pool.

use std::{
    cell::Cell,
    time::{Duration, Instant},
};

use futures_util::future::{join, join_all};
use warden::{
    actors::{
        password::{PasswordParams, PasswordPool},
        PasswordSettings,
    },
    auth::User,
};

use crate::{
    assert_login_redirect,
    common::{events, CookieJar, Reply},
    get, post, with_session, Env, ALICE, COOKIE, PASSWORD,
};

const NEW_PASSWORD: &str = "a brand new passphrase";

fn change_form(current: &str, new: &str) -> actix_web::test::TestRequest {
    post("/account/password").set_form([("current_password", current), ("new_password", new)])
}

#[actix_web::test]
async fn a_password_change_keeps_this_session_and_kills_the_others() {
    let env = Env::new().await;
    let app = app!(env);
    let (mut a, mut b) = (CookieJar::new(), CookieJar::new());
    log_in!(&app, a, "alice");
    log_in!(&app, b, "alice");
    let a_before = a.get(COOKIE).unwrap().to_owned();
    let hash_before = env.users.hash_of(ALICE).unwrap();

    // A wrong current password changes nothing.
    let r = browse!(&app, a, change_form("not my password", NEW_PASSWORD));
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(env.users.hash_of(ALICE).unwrap(), hash_before);
    for jar in [&mut a, &mut b] {
        let r = browse!(&app, jar, get("/dashboard"));
        assert_eq!(r.status, 200, "{r:?}");
    }
    assert!(events(&env.warden, "password.changed").await.is_empty());
    let failures = events(&env.warden, "password.change.failure").await;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].event.user_id.as_deref(), Some(ALICE));

    // A new password the policy refuses changes nothing either.
    let r = browse!(&app, a, change_form(PASSWORD, "short"));
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(env.users.hash_of(ALICE).unwrap(), hash_before);

    // The change, on A.
    let r = browse!(&app, a, change_form(PASSWORD, NEW_PASSWORD));
    assert_eq!(r.status, 200, "{r:?}");
    let a_after = a.get(COOKIE).expect("A keeps a session").to_owned();
    assert_ne!(a_after, a_before, "the current session must rotate");
    assert_ne!(env.users.hash_of(ALICE).unwrap(), hash_before);

    // A still works; B is anonymous; A's pre-change cookie is dead.
    let r = browse!(&app, a, get("/dashboard"));
    assert_eq!(
        (r.status.as_u16(), r.body.as_str()),
        (200, "hello alice"),
        "the session that changed the password must survive: {r:?}"
    );
    let r = browse!(&app, b, get("/dashboard"));
    assert_login_redirect(&r, "%2Fdashboard");
    let r = send!(&app, with_session(get("/dashboard"), &a_before));
    assert_login_redirect(&r, "%2Fdashboard");
    // A keeps working on later requests too (its recorded version is the new one).
    let r = browse!(&app, a, crate::api_get("/api/me"));
    assert_eq!(r.status, 200, "{r:?}");

    let changed = events(&env.warden, "password.changed").await;
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].event.user_id.as_deref(), Some(ALICE));

    // The new password logs in, the old one does not.
    let mut c = CookieJar::new();
    let r = browse!(&app, c, crate::login_form("alice", PASSWORD));
    assert_eq!(r.status, 401, "{r:?}");
    log_in!(&app, c, "alice", NEW_PASSWORD);
    let r = browse!(&app, c, get("/dashboard"));
    assert_eq!(r.status, 200, "{r:?}");
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn login_rehashes_a_password_stored_with_other_parameters() {
    let env = Env::new().await;
    let app = app!(env);
    let pool = env.warden.runtime().passwords().clone();

    // Hashed when the parameters were different (here: more memory).
    let old_pool =
        PasswordPool::start(PasswordParams::insecure_for_tests().memory_kib(128), 1, 8).unwrap();
    let old_hash = old_pool.hash("bob's old passphrase").await.unwrap();
    assert!(old_hash.contains("m=128,"), "{old_hash}");
    assert!(pool.needs_rehash(&old_hash));
    env.users
        .insert(User::new("bob_id", "bob", old_hash.clone()));
    env.users
        .insert(User::new("carol_id", "carol", old_hash.clone()));

    // A failed login does not rehash.
    let mut carol = CookieJar::new();
    let r = browse!(&app, carol, crate::login_form("carol", "wrong passphrase"));
    assert_eq!(r.status, 401, "{r:?}");
    assert_eq!(env.users.hash_of("carol_id").unwrap(), old_hash);

    // A successful one does.
    let mut bob = CookieJar::new();
    log_in!(&app, bob, "bob", "bob's old passphrase");
    let stored = env.users.hash_of("bob_id").unwrap();
    assert_ne!(stored, old_hash, "the hash was not replaced");
    assert!(!pool.needs_rehash(&stored), "{stored}");
    assert!(old_pool.needs_rehash(&stored));
    let p = pool.params();
    assert!(
        stored.contains(&format!(
            "m={},t={},p={}",
            p.memory_kib, p.iterations, p.parallelism
        )),
        "{stored}"
    );

    // The new hash verifies, and is not replaced again.
    let mut again = CookieJar::new();
    log_in!(&app, again, "bob", "bob's old passphrase");
    assert_eq!(env.users.hash_of("bob_id").unwrap(), stored);
    let r = browse!(&app, again, get("/dashboard"));
    assert_eq!(r.body, "hello bob");
    env.warden.shutdown().await;
}

/// 64 logins against a 1-thread pool at the production parameters keep the pool busy for a
/// while; a plain GET (and a logged-in page) handled meanwhile is answered at once, and logins
/// that do not fit in the queue get a fast 503.
#[actix_web::test]
async fn a_burst_of_logins_does_not_stall_other_requests() {
    const BURST: usize = 64;
    const OVERFLOW: usize = 16;
    let env = Env::with(
        PasswordSettings::new(PasswordParams::default())
            .threads(1)
            .queue(64),
        |_| {},
    )
    .await;
    let app = app!(env);
    let pool = env.warden.runtime().passwords().clone();

    // One hash at the production parameters, to size the burst's expected duration.
    let t = Instant::now();
    let _ = pool
        .verify(PASSWORD, &env.users.hash_of(ALICE).unwrap())
        .await;
    let one = t.elapsed();

    let mut browser = CookieJar::new();
    log_in!(&app, browser, "admin");

    // Successful logins so far.
    let done = Cell::new(0usize);
    let logins = join_all((0..BURST + OVERFLOW).map(|_| {
        let req = crate::login_form("alice", PASSWORD).to_request();
        let (app, done) = (&app, &done);
        async move {
            let t = Instant::now();
            let r = Reply::read(actix_web::test::call_service(app, req).await).await;
            if r.status == 303 {
                done.set(done.get() + 1);
            }
            (r.status.as_u16(), t.elapsed())
        }
    }));
    let meanwhile = async {
        // Let every login reach the pool first.
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        let busy = pool.stats();
        let t = Instant::now();
        let plain = send!(&app, get("/plain"));
        let page = send!(&app, browser.apply(get("/dashboard")));
        (plain, page, t.elapsed(), done.get(), busy)
    };
    let started = Instant::now();
    let (results, (plain, page, took, done_then, busy)) = join(logins, meanwhile).await;
    let total = started.elapsed();

    assert_eq!((plain.status.as_u16(), plain.body.as_str()), (200, "plain"));
    assert_eq!(page.status, 200, "{page:?}");
    assert!(busy.queued > 0, "the pool was not busy: {busy:?}");
    let ok = results.iter().filter(|(s, _)| *s == 303).count();
    let unavailable: Vec<Duration> = results
        .iter()
        .filter(|(s, _)| *s == 503)
        .map(|(_, d)| *d)
        .collect();
    assert_eq!(
        ok + unavailable.len(),
        results.len(),
        "only 303 and 503 expected: {results:?}"
    );
    assert!(ok >= BURST, "the burst of {BURST} must fit: {ok} logged in");
    assert!(
        !unavailable.is_empty() && unavailable.len() <= OVERFLOW,
        "the overflow must be refused: {} refused",
        unavailable.len()
    );
    assert!(
        done_then <= ok / 2,
        "the GET waited for the logins ({done_then} of {ok} logins were done; burst took \
         {total:?})"
    );
    assert!(
        took < total / 2 && took < Duration::from_secs(1),
        "plain requests took {took:?} while the burst took {total:?} (one hash: {one:?})"
    );
    let slowest_refusal = unavailable.iter().max().copied().unwrap_or_default();
    assert!(
        slowest_refusal < Duration::from_millis(250) && slowest_refusal < total / 4,
        "a refused login must be fast: {slowest_refusal:?} (burst {total:?})"
    );
    assert!(pool.stats().rejected_busy >= unavailable.len() as u64);
    env.warden.shutdown().await;
}
