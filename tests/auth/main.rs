//! Authentication over HTTP: `AuthMiddleware`, the `CurrentUser` extractor, `Requires` (with
//! permissions and an async object-level policy) and the `Accounts` flows in a real actix-web
//! app, backed by a real `Warden` (session and token actors, password pool, sled store, audit
//! log) on a temporary data directory with a manual clock, and an in-memory user store.
//!
//! What is proven (issue 4): login rotates the session and re-login rotates again (fixation);
//! logout revokes and is POST-only; a password change kills the other sessions and keeps the
//! current one; a session-version bump makes old sessions anonymous; reset tokens are
//! delivered only to the notifier, single-use, expire, and die with a password change; 303 for
//! browsers vs 401 for API clients; one 403 for permission and policy failures; an async policy
//! on an owned object; open redirects through `next` are refused; bearer tokens (and no silent
//! fallback to the session for a bad one); unknown user and wrong password answer
//! byte-identically and in the same time; rehash on login after a parameter change; a burst of
//! logins does not stall other requests and overflow gets a fast 503; `AuthMiddleware` without
//! `SessionMiddleware` is a generic 500; the `[auth]` settings apply; deleted users, another
//! user on the same browser, stale session versions, user-store outages and bearer headers
//! without a usable token.

#[path = "../common/mod.rs"]
mod common;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use actix_web::{
    body::MessageBody,
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    http::{header, StatusCode},
    test as atest, web, App, HttpRequest, HttpResponse,
};
use serde::Deserialize;
use serde_json::json;
use warden::{
    actors::{ManualClock, PasswordSettings},
    auth::{
        clear_site_data, is_safe_url, Accounts, AuthMiddleware, CurrentUser, LoginRequired,
        MaybeUser, PasswordChange, Requires, ResetCompletion, SharedUserStore, User,
    },
    session::Session,
    Error, Warden,
};

use crate::common::{
    cheap_passwords, manual_clock, test_warden_with_passwords, CapturingNotifier, MemoryUsers,
    Reply,
};

/// The default session cookie name.
const COOKIE: &str = "__Host-session";

/// The peer every test request comes from.
const PEER: &str = "203.0.113.7:40000";

/// The demo users' password.
const PASSWORD: &str = "correct horse battery staple";

/// alice's user id (permissions: `user`; owns note 1).
const ALICE: &str = "alice_id";

/// admin's user id (permissions: `user`, `admin`; owns note 2).
const ADMIN: &str = "admin_id";

/// The body of every failed login.
const LOGIN_FAILED: &str = "Invalid username or password.";

/// The body of every password-reset request.
const RESET_REQUESTED: &str = "If the account exists, a reset link is on its way.";

/// An `Accept` header as browsers send it.
const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// Builds the test app (see [`build_app`]) for an [`Env`]; evaluates to the initialised
/// service.
macro_rules! app {
    ($env:expr) => {
        actix_web::test::init_service(crate::build_app(&$env)).await
    };
}

/// Sends a `TestRequest` to `$app` and reads the whole reply into a [`common::Reply`].
macro_rules! send {
    ($app:expr, $req:expr) => {
        crate::common::Reply::read(actix_web::test::call_service($app, $req.to_request()).await)
            .await
    };
}

/// Sends a request as the browser whose cookies are in the [`common::CookieJar`] `$jar`, and
/// applies the reply's `Set-Cookie` headers to the jar.
macro_rules! browse {
    ($app:expr, $jar:expr, $req:expr) => {{
        let r = send!($app, $jar.apply($req));
        $jar.update(&r);
        r
    }};
}

/// Logs `$login` in with `$password` in the browser `$jar`, asserting the 303.
macro_rules! log_in {
    ($app:expr, $jar:expr, $login:expr, $password:expr) => {{
        let r = browse!($app, $jar, crate::login_form($login, $password));
        assert_eq!(r.status, 303, "login of {} failed: {r:?}", $login);
        r
    }};
    ($app:expr, $jar:expr, $login:expr) => {
        log_in!($app, $jar, $login, crate::PASSWORD)
    };
}

mod bearer;
mod configured;
mod edge;
mod enumeration;
mod guards;
mod login;
mod misconfigured;
mod passwords;
mod redirects;
mod reset;

// The environment ---------------------------------------------------------------------------

/// A started warden with alice and admin in an in-memory user store.
struct Env {
    _dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    warden: Warden,
    users: Arc<MemoryUsers>,
    notifier: Arc<CapturingNotifier>,
    accounts: Accounts,
    notes: web::Data<Notes>,
}

impl Env {
    /// Cheap password hashing ([`cheap_passwords`]), default configuration.
    async fn new() -> Env {
        Env::with(cheap_passwords(), |_| {}).await
    }

    /// With these password settings and configuration tweaks.
    async fn with(
        passwords: PasswordSettings,
        tweak: impl FnOnce(&mut warden::config::RawConfig),
    ) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let clock = manual_clock();
        let warden = test_warden_with_passwords(dir.path(), &clock, tweak, passwords);
        let users = Arc::new(MemoryUsers::new());
        let pool = warden.runtime().passwords();
        users.insert(
            User::new(ALICE, "alice", pool.hash(PASSWORD).await.unwrap())
                .with_permissions(["user"]),
        );
        users.insert(
            User::new(ADMIN, "admin", pool.hash(PASSWORD).await.unwrap())
                .with_permissions(["user", "admin"]),
        );
        let notifier = Arc::new(CapturingNotifier::new());
        let accounts = Accounts::new(&warden, users.clone(), notifier.clone());
        Env {
            _dir: dir,
            clock,
            warden,
            users,
            notifier,
            accounts,
            notes: web::Data::new(Notes::demo()),
        }
    }

    /// The user store as warden sees it.
    fn store(&self) -> SharedUserStore {
        self.users.clone()
    }
}

/// The notes: id → owner id, loaded asynchronously (as from a database), counting loads.
#[derive(Debug)]
struct Notes {
    owners: HashMap<String, String>,
    loads: AtomicUsize,
}

impl Notes {
    /// Note 1 belongs to alice, note 2 to admin.
    fn demo() -> Notes {
        Notes {
            owners: [("1", ALICE), ("2", ADMIN)]
                .into_iter()
                .map(|(n, u)| (n.to_owned(), u.to_owned()))
                .collect(),
            loads: AtomicUsize::new(0),
        }
    }

    /// The owner of note `id`, after a real suspension point.
    async fn owner(&self, id: &str) -> Option<String> {
        actix_web::rt::time::sleep(Duration::from_millis(1)).await;
        self.loads.fetch_add(1, Ordering::SeqCst);
        self.owners.get(id).cloned()
    }
}

/// The `note_owner` policy: the user owns the note named by `{id}`.
async fn note_owner(user: Arc<User>, req: HttpRequest) -> bool {
    let id = req.match_info().get("id").unwrap_or_default().to_owned();
    let Some(notes) = req.app_data::<web::Data<Notes>>().cloned() else {
        return false;
    };
    notes.owner(&id).await.as_deref() == Some(user.id.as_str())
}

/// The app: request context → session → authentication → [`routes`].
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
        .app_data(env.notes.clone())
        .wrap(AuthMiddleware::new(&env.warden, env.store()))
        .wrap(env.warden.session_middleware())
        .wrap(env.warden.request_context())
        .configure(routes)
}

// Routes ------------------------------------------------------------------------------------

/// The handlers:
///
/// - `GET /plain`: no session, no user;
/// - `GET /whoami` (`MaybeUser`): the login or `anonymous`;
/// - scope `/private` behind `LoginRequired` (the handler takes `MaybeUser`);
/// - `POST /visit`: an anonymous session (a visit counter);
/// - `POST /login` (form or JSON `username`, `password`, optional `next`; `next` also from the
///   query string): 303 to a safe `next` or `/dashboard`, or 401 [`LOGIN_FAILED`];
/// - `POST /logout`: 303 to `/` with `Clear-Site-Data`;
/// - `GET /dashboard` (`CurrentUser`): `hello <login>`;
/// - scope `/admin` behind `Requires::new(["admin"])`;
/// - `GET /notes/{id}` behind `Requires::login().policy("note_owner", ..)`;
/// - `POST /account/password` (form `current_password`, `new_password`);
/// - `POST /password-reset` (form `username`): always 202 [`RESET_REQUESTED`];
/// - `POST /password-reset/complete` (form `token`, `new_password`);
/// - `GET /api/me` (`CurrentUser`): JSON;
/// - `POST /api/tokens` (`CurrentUser`): 201 JSON with the token.
fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/plain", web::get().to(plain))
        .route("/whoami", web::get().to(whoami))
        .service(
            web::scope("/private")
                .wrap(LoginRequired)
                .route("", web::get().to(whoami)),
        )
        .route("/visit", web::post().to(visit))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout))
        .route("/dashboard", web::get().to(dashboard))
        .service(
            web::scope("/admin")
                .wrap(Requires::new(["admin"]))
                .route("", web::get().to(admin)),
        )
        .service(
            web::resource("/notes/{id}")
                .wrap(Requires::login().policy("note_owner", note_owner))
                .route(web::get().to(note)),
        )
        .route("/account/password", web::post().to(change_password))
        .route("/password-reset", web::post().to(reset_request))
        .route("/password-reset/complete", web::post().to(reset_complete))
        .route("/api/me", web::get().to(api_me))
        .route("/api/tokens", web::post().to(api_tokens));
}

fn text(status: StatusCode, body: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body.into())
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

async fn plain() -> HttpResponse {
    HttpResponse::Ok().body("plain")
}

async fn whoami(user: MaybeUser) -> HttpResponse {
    HttpResponse::Ok().body(
        user.0
            .map_or_else(|| "anonymous".to_owned(), |u| u.login.clone()),
    )
}

async fn visit(session: Session) -> Result<HttpResponse, Error> {
    let n: u64 = session.get("visits")?.unwrap_or(0) + 1;
    session.insert("visits", n)?;
    Ok(HttpResponse::Ok().body(n.to_string()))
}

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
    next: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login(
    req: HttpRequest,
    session: Session,
    query: web::Query<NextQuery>,
    body: web::Either<web::Form<LoginBody>, web::Json<LoginBody>>,
    accounts: web::Data<Accounts>,
) -> Result<HttpResponse, Error> {
    let body = match body {
        web::Either::Left(f) => f.into_inner(),
        web::Either::Right(j) => j.into_inner(),
    };
    let next = body
        .next
        .as_deref()
        .or(query.next.as_deref())
        .filter(|n| is_safe_url(n))
        .unwrap_or("/dashboard")
        .to_owned();
    match accounts
        .authenticate(&req, &body.username, &body.password)
        .await?
    {
        Some(user) => {
            accounts.login(&req, &session, &user).await?;
            Ok(see_other(&next))
        }
        None => Ok(text(StatusCode::UNAUTHORIZED, LOGIN_FAILED)),
    }
}

async fn logout(req: HttpRequest, session: Session, accounts: web::Data<Accounts>) -> HttpResponse {
    accounts.logout(&req, &session);
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .insert_header(clear_site_data())
        .finish()
}

async fn dashboard(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().body(format!("hello {}", user.login))
}

async fn admin(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().body(format!("admin area for {}", user.login))
}

async fn note(id: web::Path<String>, user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().body(format!("note {id} of {}", user.login))
}

#[derive(Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
}

async fn change_password(
    req: HttpRequest,
    user: CurrentUser,
    session: Session,
    form: web::Form<PasswordForm>,
    accounts: web::Data<Accounts>,
) -> Result<HttpResponse, Error> {
    Ok(
        match accounts
            .change_password(
                &req,
                &session,
                &user,
                &form.current_password,
                &form.new_password,
            )
            .await?
        {
            PasswordChange::Changed => text(StatusCode::OK, "password changed"),
            PasswordChange::WrongPassword => text(StatusCode::BAD_REQUEST, "wrong password"),
            _ => text(StatusCode::UNPROCESSABLE_ENTITY, "password rejected"),
        },
    )
}

#[derive(Deserialize)]
struct ResetForm {
    username: String,
}

async fn reset_request(
    req: HttpRequest,
    form: web::Form<ResetForm>,
    accounts: web::Data<Accounts>,
) -> HttpResponse {
    accounts.request_reset(&req, &form.username);
    text(StatusCode::ACCEPTED, RESET_REQUESTED)
}

#[derive(Deserialize)]
struct CompleteForm {
    token: String,
    new_password: String,
}

async fn reset_complete(
    req: HttpRequest,
    form: web::Form<CompleteForm>,
    accounts: web::Data<Accounts>,
) -> Result<HttpResponse, Error> {
    Ok(
        match accounts
            .complete_reset(&req, &form.token, &form.new_password)
            .await?
        {
            ResetCompletion::Completed => text(StatusCode::OK, "password reset"),
            ResetCompletion::InvalidToken => {
                text(StatusCode::BAD_REQUEST, "invalid or expired token")
            }
            _ => text(StatusCode::UNPROCESSABLE_ENTITY, "password rejected"),
        },
    )
}

async fn api_me(req: HttpRequest, user: CurrentUser) -> HttpResponse {
    let method = match CurrentUser::method(&req) {
        Some(warden::auth::AuthMethod::Bearer) => "bearer",
        Some(warden::auth::AuthMethod::Session) => "session",
        _ => "other",
    };
    HttpResponse::Ok().json(json!({
        "id": user.id,
        "login": user.login,
        "method": method,
    }))
}

async fn api_tokens(
    req: HttpRequest,
    user: CurrentUser,
    accounts: web::Data<Accounts>,
) -> Result<HttpResponse, Error> {
    let (token, info) = accounts.issue_api_token(&req, &user, "tests").await?;
    Ok(HttpResponse::Created().json(json!({
        "token": token.expose_secret(),
        "id": info.id,
    })))
}

// Request and reply helpers ----------------------------------------------------------------

fn peer() -> SocketAddr {
    PEER.parse().expect("peer address")
}

/// `GET uri` from [`PEER`] as a browser (HTML `Accept`).
fn get(uri: &str) -> atest::TestRequest {
    atest::TestRequest::get()
        .uri(uri)
        .peer_addr(peer())
        .insert_header((header::ACCEPT, BROWSER_ACCEPT))
}

/// `GET uri` from [`PEER`] as an API client (`Accept: application/json`).
fn api_get(uri: &str) -> atest::TestRequest {
    atest::TestRequest::get()
        .uri(uri)
        .peer_addr(peer())
        .insert_header((header::ACCEPT, "application/json"))
}

/// `POST uri` from [`PEER`].
fn post(uri: &str) -> atest::TestRequest {
    atest::TestRequest::post().uri(uri).peer_addr(peer())
}

/// `POST /login` with a form.
fn login_form(login: &str, password: &str) -> atest::TestRequest {
    post("/login").set_form([("username", login), ("password", password)])
}

/// Adds `Cookie: __Host-session=<value>` to a request.
fn with_session(req: atest::TestRequest, value: &str) -> atest::TestRequest {
    req.insert_header(("cookie", format!("{COOKIE}={value}")))
}

/// Adds `Authorization: Bearer <token>` to a request.
fn with_bearer(req: atest::TestRequest, token: &str) -> atest::TestRequest {
    req.insert_header((header::AUTHORIZATION, format!("Bearer {token}")))
}

/// The `Location` of a reply (panics if there is none).
fn location(r: &Reply) -> String {
    r.header("location")
        .unwrap_or_else(|| panic!("no Location in {r:?}"))
}

/// Asserts the reply is the browser login redirect for `next` (already percent-encoded).
fn assert_login_redirect(r: &Reply, encoded_next: &str) {
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(location(r), format!("/login?next={encoded_next}"), "{r:?}");
}

/// Asserts the reply clears the session cookie.
fn assert_removal(r: &Reply) {
    let c = r
        .set_cookie(COOKIE)
        .unwrap_or_else(|| panic!("no session Set-Cookie (removal expected) in {r:?}"));
    assert!(common::is_removal(&c), "expected a removal cookie, got {c}");
}

/// Every header of a reply except those that differ per request (`date`, `x-request-id`),
/// sorted, for byte-for-byte comparisons.
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
