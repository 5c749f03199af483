//! Sessions over HTTP: `SessionMiddleware` and the `Session` extractor in a real actix-web app,
//! backed by a real `Warden` (sharded session actor, sled store, audit log) on a temporary data
//! directory with a manual clock.
//!
//! What is proven (issue 3): anonymous visitors cost nothing; cookie attributes; fixation;
//! replay after purge; idle and absolute expiry; version bumps; destroy-all; key rotation;
//! tampering; malformed cookies and throttled `session.cookie.invalid` events; 5xx responses
//! do not persist; concurrent updates keep each other; persistence across a restart; fail
//! closed when the runtime is down; the extractor without the middleware.

#[path = "../common/mod.rs"]
mod common;

use std::net::SocketAddr;

use actix_web::{test as atest, web, HttpResponse};
use warden::{
    actors::{
        session::{SessionId, SessionToken},
        store::Keyspace,
    },
    session::{CookieSigner, Session},
    Warden,
};

/// The default session cookie name.
const COOKIE: &str = "__Host-session";

/// The peer every test request comes from.
const PEER: &str = "203.0.113.7:40000";

/// Builds the test app (see [`routes`]) around `$warden`'s session and request-context
/// middleware; evaluates to the initialised service.
macro_rules! app {
    ($warden:expr) => {
        actix_web::test::init_service(
            actix_web::App::new()
                .app_data($warden.data())
                .wrap($warden.session_middleware())
                .wrap($warden.request_context())
                .configure(crate::routes),
        )
        .await
    };
}

/// Sends a `TestRequest` to `$app` and reads the whole reply into a [`common::Reply`].
macro_rules! send {
    ($app:expr, $req:expr) => {
        crate::common::Reply::read(actix_web::test::call_service($app, $req.to_request()).await)
            .await
    };
}

/// Creates a session holding `$key = $value` through `POST /set/..`; evaluates to its cookie
/// value.
macro_rules! new_session {
    ($app:expr, $key:expr, $value:expr) => {{
        let r = send!($app, crate::post(&format!("/set/{}/{}", $key, $value)));
        assert_eq!(r.status, 200, "{r:?}");
        crate::issued(&r)
    }};
}

mod anonymous;
mod attributes;
mod concurrency;
mod expiry;
mod fixation;
mod hostile;
mod restart;
mod revocation;

// Routes ----------------------------------------------------------------------------------------

/// The handlers every test uses:
///
/// - `GET /noop`: does not take a `Session`;
/// - `GET /untouched`: takes a `Session` and does nothing with it;
/// - `GET /get/{key}`: the value (a string) or `none`;
/// - `POST /set/{key}/{value}`: inserts;
/// - `POST /remove/{key}`, `POST /clear`, `POST /renew`, `POST /purge`;
/// - `POST /login/{user}`: `mark_authenticated(user, current session version)`;
/// - `GET /whoami`: the user or `anonymous`;
/// - `GET /boom`: inserts `boom`, then answers 500.
fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/noop", web::get().to(noop))
        .route("/untouched", web::get().to(untouched))
        .route("/get/{key}", web::get().to(get_key))
        .route("/set/{key}/{value}", web::post().to(set_key))
        .route("/remove/{key}", web::post().to(remove_key))
        .route("/clear", web::post().to(clear))
        .route("/renew", web::post().to(renew))
        .route("/purge", web::post().to(purge))
        .route("/login/{user}", web::post().to(login))
        .route("/whoami", web::get().to(whoami))
        .route("/boom", web::get().to(boom));
}

async fn noop() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

async fn untouched(_session: Session) -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

async fn get_key(session: Session, key: web::Path<String>) -> Result<HttpResponse, warden::Error> {
    let v: Option<String> = session.get(&key)?;
    Ok(HttpResponse::Ok().body(v.unwrap_or_else(|| "none".to_owned())))
}

async fn set_key(
    session: Session,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, warden::Error> {
    let (k, v) = path.into_inner();
    session.insert(k, v)?;
    Ok(HttpResponse::Ok().body("set"))
}

async fn remove_key(session: Session, key: web::Path<String>) -> HttpResponse {
    let old = session.remove(&key);
    HttpResponse::Ok().body(if old.is_some() { "removed" } else { "absent" })
}

async fn clear(session: Session) -> HttpResponse {
    session.clear();
    HttpResponse::Ok().body("cleared")
}

async fn renew(session: Session) -> HttpResponse {
    session.renew();
    HttpResponse::Ok().body("renewed")
}

async fn purge(session: Session) -> HttpResponse {
    session.purge();
    HttpResponse::Ok().body("purged")
}

async fn login(
    session: Session,
    user: web::Path<String>,
    warden: web::Data<Warden>,
) -> Result<HttpResponse, warden::Error> {
    let version = warden.runtime().sessions().user_version(&user).await?;
    session.mark_authenticated(user.as_str(), version);
    Ok(HttpResponse::Ok().body("logged in"))
}

async fn whoami(session: Session) -> HttpResponse {
    HttpResponse::Ok().body(session.user_id().unwrap_or_else(|| "anonymous".to_owned()))
}

async fn boom(session: Session) -> Result<HttpResponse, warden::Error> {
    session.insert("boom", "yes")?;
    Ok(HttpResponse::InternalServerError().body("handler failed"))
}

// Request and cookie helpers ------------------------------------------------------------------

fn peer() -> SocketAddr {
    PEER.parse().expect("peer address")
}

/// `GET uri` from [`PEER`].
fn get(uri: &str) -> atest::TestRequest {
    atest::TestRequest::get().uri(uri).peer_addr(peer())
}

/// `POST uri` from [`PEER`].
fn post(uri: &str) -> atest::TestRequest {
    atest::TestRequest::post().uri(uri).peer_addr(peer())
}

/// Adds `Cookie: __Host-session=<value>` to a request.
fn with_session(req: atest::TestRequest, value: &str) -> atest::TestRequest {
    req.insert_header(("cookie", format!("{COOKIE}={value}")))
}

/// The session cookie value a reply sets (a new or re-signed session), asserting it is one.
fn issued(reply: &common::Reply) -> String {
    let c = reply
        .set_cookie(COOKIE)
        .unwrap_or_else(|| panic!("no session Set-Cookie in {reply:?}"));
    assert!(
        !common::is_removal(&c),
        "expected a session cookie, got a removal: {c}"
    );
    c.value().to_owned()
}

/// Asserts the reply clears the session cookie (empty value, `Max-Age=0`).
fn assert_removal(reply: &common::Reply) {
    let c = reply
        .set_cookie(COOKIE)
        .unwrap_or_else(|| panic!("no session Set-Cookie (removal expected) in {reply:?}"));
    assert!(common::is_removal(&c), "expected a removal cookie, got {c}");
    assert_eq!(c.max_age(), Some(actix_web::cookie::time::Duration::ZERO));
}

/// The signer of `warden`'s configured keys.
fn signer(warden: &Warden) -> CookieSigner {
    CookieSigner::new(&warden.config().secrets)
}

/// The token a cookie value carries (verified with `warden`'s keys).
fn token_of(warden: &Warden, cookie: &str) -> SessionToken {
    signer(warden).verify(cookie).expect("a valid cookie").token
}

/// The id (store key) of the session a cookie names.
fn id_of(warden: &Warden, cookie: &str) -> SessionId {
    token_of(warden, cookie).id()
}

/// How many session records the store holds.
fn records(warden: &Warden) -> u64 {
    warden
        .runtime()
        .store()
        .len(Keyspace::Sessions)
        .expect("store len")
}
