//! Login lockout over HTTP: a login handler built the way the `Accounts` flow will use
//! `LoginLockout` (check before verifying; a dummy verify and the same generic 401 while
//! locked; record the failure or the success after), in a real actix-web app backed by a real
//! `Warden` (password pool, session and lockout actors, sled store, audit log) on a temporary
//! data directory with a manual clock, and an in-memory user store.
//!
//! What is proven (issue 6, lockout half): thresholds and the lock's end with the right
//! password; unknown names are counted and locked exactly like real accounts; locked and
//! wrong-password replies are byte-identical (and a 429 with `Retry-After` when configured);
//! a success resets the account but not the network, and cannot be abused to reset a
//! victim's counters; an attacker on 50 networks delays a victim on a new network by one
//! bounded lock and never locks them out of their usual network; concurrent failures are
//! counted exactly; `auth.lockout.locked` carries the request's context once per lock and
//! `auth.login.failure` is not duplicated; an unavailable lockout actor refuses logins (503).

#[path = "../common/mod.rs"]
mod common;

use std::{net::SocketAddr, sync::Arc};

use actix_web::{
    body::MessageBody,
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    http::{header, StatusCode},
    test as atest, web, App, HttpRequest, HttpResponse,
};
use serde::Deserialize;
use warden::{
    actors::ManualClock,
    auth::{Accounts, User},
    lockout::{start_lockout, LockoutPolicy, LoginLockout, LoginLockoutConfig},
    session::Session,
    Error, Warden,
};

use crate::common::{
    cheap_passwords, manual_clock, test_warden_with_passwords, CapturingNotifier, MemoryUsers,
    Reply,
};

/// The users' password.
const PASSWORD: &str = "correct horse battery staple";
/// alice's user id.
const ALICE: &str = "alice_id";
/// The body of every failed login, locked or not.
const LOGIN_FAILED: &str = "Invalid username or password.";

/// Builds the test app for an [`Env`]; evaluates to the initialised service.
macro_rules! app {
    ($env:expr) => {
        actix_web::test::init_service(crate::build_app(&$env)).await
    };
}

/// Sends a `TestRequest` and reads the whole reply into a [`common::Reply`].
macro_rules! send {
    ($app:expr, $req:expr) => {
        crate::common::Reply::read(actix_web::test::call_service($app, $req.to_request()).await)
            .await
    };
}

mod abuse;
mod enumeration;
mod events;
mod thresholds;

/// A started warden, alice and bob in an in-memory user store, and the lockout.
struct Env {
    _dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    warden: Warden,
    accounts: Accounts,
    lockout: LoginLockout,
}

impl Env {
    /// The default lockout policy, locked attempts answered with the generic 401.
    async fn new() -> Env {
        Env::with(LockoutPolicy::default(), LoginLockoutConfig::default()).await
    }

    async fn with(policy: LockoutPolicy, config: LoginLockoutConfig) -> Env {
        policy.validate().expect("valid policy");
        let dir = tempfile::tempdir().unwrap();
        let clock = manual_clock();
        let warden = test_warden_with_passwords(dir.path(), &clock, |_| {}, cheap_passwords());
        let rt = warden.runtime();
        let users = Arc::new(MemoryUsers::new());
        for (id, login) in [(ALICE, "alice"), ("bob_id", "bob"), ("eve_id", "eve")] {
            let hash = rt.passwords().hash(PASSWORD).await.unwrap();
            users.insert(User::new(id, login, hash));
        }
        let handle = start_lockout(
            rt.store(),
            rt.clock(),
            policy,
            warden.audit().clone(),
            rt.config().mailbox_capacity,
            rt.ask_timeout(),
        );
        let lockout = LoginLockout::with_config(handle, config);
        let accounts = Accounts::new(&warden, users, Arc::new(CapturingNotifier::new()))
            .with_lockout(lockout.clone());
        Env {
            _dir: dir,
            clock,
            warden,
            accounts,
            lockout,
        }
    }

    async fn stop(self) {
        self.lockout.handle().shutdown().await;
        self.warden.shutdown().await;
    }
}

/// The app: request context → session → `POST /login`.
fn build_app(
    env: &Env,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(env.warden.data())
        .app_data(web::Data::new(env.accounts.clone()))
        .app_data(web::Data::new(env.lockout.clone()))
        .wrap(env.warden.session_middleware())
        .wrap(env.warden.request_context())
        .route("/login", web::post().to(login))
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

fn invalid() -> HttpResponse {
    HttpResponse::Unauthorized()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(LOGIN_FAILED)
}

/// The login handler, as `Accounts::authenticate` will run it with lockout wired in.
async fn login(
    req: HttpRequest,
    session: Session,
    form: web::Form<LoginForm>,
    accounts: web::Data<Accounts>,
) -> Result<HttpResponse, Error> {
    // The real flow: `Accounts::authenticate` consults the lockout before any password work,
    // verifies a dummy hash while locked, and records the failure or success.
    match accounts
        .authenticate(&req, &form.username, &form.password)
        .await?
    {
        Some(user) => {
            accounts.login(&req, &session, &user).await?;
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/dashboard"))
                .finish())
        }
        None => Ok(invalid()),
    }
}

// Request and reply helpers ----------------------------------------------------------------

/// `POST /login` from `peer` (an `ip:port`), with a form.
fn login_from(peer: &str, login: &str, password: &str) -> atest::TestRequest {
    let peer: SocketAddr = peer.parse().expect("peer address");
    atest::TestRequest::post()
        .uri("/login")
        .peer_addr(peer)
        .set_form([("username", login), ("password", password)])
}

/// The peer address of network `i` (`10.<i/256>.<i%256>.1:40000`).
fn peer(i: usize) -> String {
    format!("10.{}.{}.1:40000", i / 256, i % 256)
}

/// Asserts a reply is the generic failed-login 401.
fn assert_failed(r: &Reply) {
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    assert_eq!(r.body, LOGIN_FAILED, "{r:?}");
}

/// Asserts a reply is a successful login.
fn assert_logged_in(r: &Reply) {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{r:?}");
}

/// Every header but those that differ per request (`date`, `x-request-id`), sorted.
fn comparable_headers(r: &Reply) -> Vec<(String, Vec<u8>)> {
    let mut h: Vec<(String, Vec<u8>)> = r
        .headers
        .iter()
        .filter(|(n, _)| !matches!(n.as_str(), "date" | "x-request-id"))
        .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect();
    h.sort();
    h
}

/// Asserts two replies are the same bytes: status, body and every header but `date` and
/// `x-request-id`.
fn assert_same_reply(a: &Reply, b: &Reply) {
    assert_eq!(a.status, b.status, "status: {a:?} vs {b:?}");
    assert_eq!(a.body, b.body, "body: {a:?} vs {b:?}");
    assert_eq!(
        comparable_headers(a),
        comparable_headers(b),
        "headers: {a:?} vs {b:?}"
    );
}
