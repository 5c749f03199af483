//! CSRF over HTTP: `CsrfMiddleware`, the `CsrfToken` extractor, `csrf_field` / `csrf_meta`, in
//! a real actix-web app (request context → session → authentication → CSRF), backed by a real
//! `Warden` (session and token actors, password pool, sled store, audit log) on a temporary
//! data directory with a manual clock, and an in-memory user store.
//!
//! What is proven (issue 5, security-standards §2.2 to §2.4, in the spirit of Django's
//! `csrf_tests`): missing, empty, wrong, truncated, over-long, badly encoded, raw and foreign
//! tokens are refused; a token seen before login is dead after it, a token seen before logout is
//! dead after it; every render is a different masked token and every one is valid; header
//! `X-CSRF-Token` and form field `csrf_token` both work (the header wins); every method but GET,
//! HEAD and OPTIONS is checked (custom and lowercase methods too), TRACE is a 405, and method
//! override headers or fields change nothing; the Fetch Metadata / Origin / Referer decision
//! table (cross-site, same-site, same-origin, none, missing; `null`, scheme, port, suffix,
//! userinfo, trailing-slash and malformed origins; Referer fallback over HTTPS); exemptions are
//! matched after normalisation and path tricks do not inherit them; bearer-only requests skip
//! the token, bearer plus cookies do not; urlencoded and multipart bodies reach the handler
//! byte for byte after the middleware read them; oversized bodies are a 413 (with and without
//! `Content-Length`), an unreadable body is not a 500; JSON needs the header; login CSRF with
//! the signed pre-session cookie (`__Host-csrf`), without any server-side record; the
//! extractor without the middleware and the middleware without sessions are generic 500s.
//!
//! Every refusal is checked for its status, its generic body, exactly one new audit event with
//! the expected name and `details.reason`, and that no token value appears in the events.

#[path = "../common/mod.rs"]
mod common;

use std::{cell::Cell, net::SocketAddr, sync::Arc};

use actix_web::{
    body::MessageBody,
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    http::{header, Method, StatusCode},
    test as atest, web, App, HttpRequest, HttpResponse,
};
use serde::Deserialize;
use serde_json::json;
use warden::{
    actors::{store::Keyspace, StoredEvent},
    auth::{clear_site_data, Accounts, AuthMiddleware, CurrentUser, MaybeUser, User},
    config::RawConfig,
    csrf::{csrf_field, csrf_meta, CsrfToken},
    session::Session,
    Error, Warden,
};

use crate::common::{
    cheap_passwords, events, manual_clock, test_warden_with_passwords, CapturingNotifier,
    MemoryUsers, Reply,
};

/// The application's configured public origin (`server.origin`).
const ORIGIN: &str = "https://app.example.com";

/// A foreign site.
const EVIL: &str = "https://evil.example";

/// The default session cookie name.
const SESSION_COOKIE: &str = "__Host-session";

/// The default pre-session CSRF cookie name.
const CSRF_COOKIE: &str = "__Host-csrf";

/// The default token header.
const HEADER: &str = "X-CSRF-Token";

/// The default form field.
const FIELD: &str = "csrf_token";

/// The peer every test request comes from.
const PEER: &str = "203.0.113.7:40000";

/// The demo users' password.
const PASSWORD: &str = "correct horse battery staple";

/// alice's user id.
const ALICE: &str = "alice_id";

/// The body of every CSRF refusal.
const FORBIDDEN: &str = "Forbidden";

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

/// `GET /form` in the browser `$jar`; evaluates to the masked token of its hidden field.
macro_rules! token {
    ($app:expr, $jar:expr) => {{
        let r = browse!($app, $jar, crate::get("/form"));
        assert_eq!(r.status, 200, "GET /form: {r:?}");
        crate::field_token(&r)
    }};
}

/// `GET /login` then `POST /login` as alice with the login page's token, in the browser
/// `$jar`, asserting the 303.
macro_rules! log_in {
    ($app:expr, $jar:expr) => {{
        let page = browse!($app, $jar, crate::get("/login"));
        assert_eq!(page.status, 200, "GET /login: {page:?}");
        let t = crate::field_token(&page);
        let r = browse!($app, $jar, crate::login_form("alice", crate::PASSWORD, &t));
        assert_eq!(r.status, 303, "login failed: {r:?}");
        r
    }};
}

mod bodies;
mod exempt;
mod login;
mod methods;
mod misconfigured;
mod origin;
mod tokens;

// The environment ---------------------------------------------------------------------------

/// A started warden (origin [`ORIGIN`], `/hooks/*` exempt, plus any tweak) with alice in an
/// in-memory user store.
struct Env {
    _dir: tempfile::TempDir,
    warden: Warden,
    users: Arc<MemoryUsers>,
    accounts: Accounts,
    /// How many `csrf.*` events earlier assertions have looked at.
    seen: Cell<usize>,
}

impl Env {
    /// The default test configuration.
    async fn new() -> Env {
        Env::with(|_| {}).await
    }

    /// With configuration tweaks on top of [`ORIGIN`] and `csrf.exempt_paths = ["/hooks/*"]`.
    async fn with(tweak: impl FnOnce(&mut RawConfig)) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let clock = manual_clock();
        let warden = test_warden_with_passwords(
            dir.path(),
            &clock,
            |raw| {
                raw.server.origin = Some(ORIGIN.to_owned());
                raw.csrf.exempt_paths = vec!["/hooks/*".to_owned()];
                tweak(raw);
            },
            cheap_passwords(),
        );
        let users = Arc::new(MemoryUsers::new());
        let pool = warden.runtime().passwords();
        users.insert(
            User::new(ALICE, "alice", pool.hash(PASSWORD).await.unwrap())
                .with_permissions(["user"]),
        );
        let accounts = Accounts::new(&warden, users.clone(), Arc::new(CapturingNotifier::new()));
        Env {
            _dir: dir,
            warden,
            users,
            accounts,
            seen: Cell::new(0),
        }
    }

    /// The `csrf.*` events recorded since the previous call (or [`Env::assert_passed`] /
    /// [`Env::assert_refused`]).
    async fn new_csrf_events(&self) -> Vec<StoredEvent> {
        let all = events(&self.warden, "csrf.").await;
        let seen = self.seen.replace(all.len());
        all.into_iter().skip(seen).collect()
    }

    /// Asserts a 200 and that no `csrf.*` event was recorded.
    async fn assert_passed(&self, r: &Reply, what: &str) {
        let evs = self.new_csrf_events().await;
        let reasons: Vec<String> = evs
            .iter()
            .map(|e| format!("{} {}", e.event.name, e.event.details["reason"]))
            .collect();
        assert_eq!(r.status, 200, "{what}: {r:?}, CSRF events {reasons:?}");
        assert!(evs.is_empty(), "{what}: unexpected CSRF events {evs:?}");
    }

    /// Asserts a CSRF refusal: a 403 with the generic body, no cookie set, and exactly one new
    /// `csrf.*` event, named `name` with `details.reason == reason`, mentioning none of
    /// `secrets`. Returns the event.
    async fn assert_refused(
        &self,
        r: &Reply,
        name: &str,
        reason: &str,
        secrets: &[&str],
        what: &str,
    ) -> StoredEvent {
        assert_eq!(r.status, 403, "{what}: {r:?}");
        assert_eq!(r.body, FORBIDDEN, "{what}");
        self.assert_refusal_event(r, name, reason, secrets, what)
            .await
    }

    /// [`Env::assert_refused`] for another refusal status (413, 400, ...): the body is the
    /// status's canonical reason.
    async fn assert_refusal_event(
        &self,
        r: &Reply,
        name: &str,
        reason: &str,
        secrets: &[&str],
        what: &str,
    ) -> StoredEvent {
        assert_generic(r, what);
        let evs = self.new_csrf_events().await;
        assert_eq!(evs.len(), 1, "{what}: expected one CSRF event, got {evs:?}");
        let ev = evs.into_iter().next().unwrap();
        assert_eq!(ev.event.name, name, "{what}: {ev:?}");
        assert_eq!(ev.event.details["reason"], reason, "{what}: {ev:?}");
        let line = ev.to_json_line();
        for s in secrets.iter().filter(|s| !s.is_empty()) {
            assert!(
                !line.contains(s),
                "{what}: a token value in the event {line}"
            );
        }
        ev
    }
}

/// Asserts a short generic refusal: the body is the status's canonical reason, plain text,
/// `no-store`, and no cookie is set.
fn assert_generic(r: &Reply, what: &str) {
    let reason = r.status.canonical_reason().unwrap();
    assert_eq!(r.body, reason, "{what}: {r:?}");
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/plain; charset=utf-8"),
        "{what}"
    );
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("no-store"),
        "{what}"
    );
    assert!(
        r.set_cookie_headers().is_empty(),
        "{what}: a refusal sets no cookie: {r:?}"
    );
}

/// The app: request context → session → authentication → CSRF → [`routes`].
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
        .wrap(env.warden.csrf_middleware())
        .wrap(AuthMiddleware::new(&env.warden, env.users.clone()))
        .wrap(env.warden.session_middleware())
        .wrap(env.warden.request_context())
        .configure(routes)
}

// Routes ------------------------------------------------------------------------------------

/// The `PROPFIND` method (WebDAV), a method actix-web has no constant for.
fn propfind() -> Method {
    Method::from_bytes(b"PROPFIND").unwrap()
}

/// The handlers:
///
/// - `GET /form` (`CsrfToken`): a form with `csrf_field` and a `csrf_meta` tag;
/// - `GET /form-session` (`CsrfToken`, `Session`): the same, and stores `visited` in the
///   session (so the request creates one if there was none);
/// - `GET /start` (`Session`): stores `visited` (an anonymous session, no token rendered);
/// - `/echo` for POST, PUT, PATCH, DELETE, PROPFIND, GET, HEAD, OPTIONS and TRACE: 200 with the
///   exact request body, `x-echo-method` and `x-echo-content-type`;
/// - `GET /login` (`CsrfToken` only): the login page;
/// - `POST /login` (form or JSON `username`, `password`): 303 to `/dashboard`, or 401;
/// - `POST /logout`: 303 to `/` with `Clear-Site-Data`;
/// - `GET /whoami` (`MaybeUser`): the login or `anonymous`;
/// - `POST /hooks/github`: `hook:` and the exact body (exempt through `/hooks/*`);
/// - `POST /api/thing` (`CurrentUser`): `thing for <login> via <bearer|session>`;
/// - `POST /api/tokens` (`CurrentUser`): 201 JSON with a new API token.
fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/form", web::get().to(form))
        .route("/form-session", web::get().to(form_session))
        .route("/start", web::get().to(start))
        .service(
            web::resource("/echo")
                .route(web::post().to(echo))
                .route(web::put().to(echo))
                .route(web::patch().to(echo))
                .route(web::delete().to(echo))
                .route(web::method(propfind()).to(echo))
                .route(web::get().to(echo))
                .route(web::head().to(echo))
                .route(web::method(Method::OPTIONS).to(echo))
                .route(web::method(Method::TRACE).to(echo)),
        )
        .service(
            web::resource("/login")
                .route(web::get().to(login_page))
                .route(web::post().to(login)),
        )
        .route("/logout", web::post().to(logout))
        .route("/whoami", web::get().to(whoami))
        .route("/hooks/github", web::post().to(hook))
        .route("/api/thing", web::post().to(api_thing))
        .route("/api/tokens", web::post().to(api_tokens));
}

fn html(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

fn render(csrf: &CsrfToken) -> String {
    format!(
        "<html><head>{}</head><body><form method=\"post\" action=\"/echo\">{}\
         <button>Go</button></form></body></html>",
        csrf_meta(csrf),
        csrf_field(csrf)
    )
}

async fn form(csrf: CsrfToken) -> HttpResponse {
    html(render(&csrf))
}

async fn form_session(csrf: CsrfToken, session: Session) -> Result<HttpResponse, Error> {
    session.insert("visited", true)?;
    Ok(html(render(&csrf)))
}

async fn start(session: Session) -> Result<HttpResponse, Error> {
    session.insert("visited", true)?;
    Ok(HttpResponse::Ok().body("started"))
}

async fn echo(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    HttpResponse::Ok()
        .insert_header(("x-echo-method", req.method().as_str()))
        .insert_header(("x-echo-content-type", ct))
        .content_type("application/octet-stream")
        .body(body)
}

async fn login_page(csrf: CsrfToken) -> HttpResponse {
    html(format!(
        "<form method=\"post\" action=\"/login\">{}<input name=\"username\">\
         <input name=\"password\" type=\"password\"><button>Log in</button></form>",
        csrf.field()
    ))
}

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

async fn login(
    req: HttpRequest,
    session: Session,
    body: web::Either<web::Form<LoginBody>, web::Json<LoginBody>>,
    accounts: web::Data<Accounts>,
) -> Result<HttpResponse, Error> {
    let body = match body {
        web::Either::Left(f) => f.into_inner(),
        web::Either::Right(j) => j.into_inner(),
    };
    match accounts
        .authenticate(&req, &body.username, &body.password)
        .await?
    {
        Some(user) => {
            accounts.login(&req, &session, &user).await?;
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/dashboard"))
                .finish())
        }
        None => Ok(HttpResponse::Unauthorized().body("Invalid username or password.")),
    }
}

async fn logout(req: HttpRequest, session: Session, accounts: web::Data<Accounts>) -> HttpResponse {
    accounts.logout(&req, &session);
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .insert_header(clear_site_data())
        .finish()
}

async fn whoami(user: MaybeUser) -> HttpResponse {
    HttpResponse::Ok().body(
        user.0
            .map_or_else(|| "anonymous".to_owned(), |u| u.login.clone()),
    )
}

async fn hook(body: web::Bytes) -> HttpResponse {
    let mut out = b"hook:".to_vec();
    out.extend_from_slice(&body);
    HttpResponse::Ok().body(out)
}

async fn api_thing(req: HttpRequest, user: CurrentUser) -> HttpResponse {
    let via = match CurrentUser::method(&req) {
        Some(warden::auth::AuthMethod::Bearer) => "bearer",
        Some(warden::auth::AuthMethod::Session) => "session",
        _ => "other",
    };
    HttpResponse::Ok().body(format!("thing for {} via {via}", user.login))
}

async fn api_tokens(
    req: HttpRequest,
    user: CurrentUser,
    accounts: web::Data<Accounts>,
) -> Result<HttpResponse, Error> {
    let (token, info) = accounts.issue_api_token(&req, &user, "csrf-tests").await?;
    Ok(HttpResponse::Created().json(json!({
        "token": token.expose_secret(),
        "id": info.id,
    })))
}

// Request and reply helpers ----------------------------------------------------------------

fn peer() -> SocketAddr {
    PEER.parse().expect("peer address")
}

/// `GET uri` from [`PEER`], as a browser navigating on the site.
fn get(uri: &str) -> atest::TestRequest {
    atest::TestRequest::get()
        .uri(uri)
        .peer_addr(peer())
        .insert_header((header::ACCEPT, "text/html"))
}

/// A `method` request to `uri` from [`PEER`] with no Fetch Metadata, `Origin` or `Referer`
/// (a non-browser client, or an old browser).
fn bare(method: Method, uri: &str) -> atest::TestRequest {
    atest::TestRequest::default()
        .method(method)
        .uri(uri)
        .peer_addr(peer())
}

/// A `method` request to `uri` as a current browser sends it from a page of the application
/// itself: `Sec-Fetch-Site: same-origin` and `Origin: https://app.example.com`.
fn same_origin(method: Method, uri: &str) -> atest::TestRequest {
    bare(method, uri)
        .insert_header(("sec-fetch-site", "same-origin"))
        .insert_header((header::ORIGIN, ORIGIN))
}

/// `POST uri` from a page of the application (see [`same_origin`]).
fn post(uri: &str) -> atest::TestRequest {
    same_origin(Method::POST, uri)
}

/// `POST uri` as a page on `origin` sends it, with `Sec-Fetch-Site: fetch_site`.
fn post_from(uri: &str, fetch_site: &str, origin: &str) -> atest::TestRequest {
    bare(Method::POST, uri)
        .insert_header(("sec-fetch-site", fetch_site))
        .insert_header((header::ORIGIN, origin))
}

/// Adds the token header.
fn with_token(req: atest::TestRequest, token: &str) -> atest::TestRequest {
    req.insert_header((HEADER, token))
}

/// `POST /login` from the login page: a form with the token field and the credentials.
fn login_form(login: &str, password: &str, token: &str) -> atest::TestRequest {
    post("/login").set_form([("username", login), ("password", password), (FIELD, token)])
}

/// The value of the attribute `attr` that follows `marker` in `body`.
fn attr_after(body: &str, marker: &str, attr: &str) -> String {
    let at = body
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {body}"));
    let rest = &body[at..];
    let start = rest
        .find(&format!("{attr}=\""))
        .unwrap_or_else(|| panic!("no {attr} after {marker} in {body}"))
        + attr.len()
        + 2;
    let len = rest[start..].find('"').expect("closing quote");
    rest[start..start + len].to_owned()
}

/// The token of the hidden `csrf_token` field of a page.
fn field_token(r: &Reply) -> String {
    attr_after(&r.body, "name=\"csrf_token\"", "value")
}

/// The token of the `<meta name="csrf-token">` tag of a page.
fn meta_token(r: &Reply) -> String {
    attr_after(&r.body, "<meta name=\"csrf-token\"", "content")
}

/// A well-formed masked token for a secret no session has.
fn foreign_token() -> String {
    warden::csrf::mask(&warden::csrf::CsrfSecret::generate())
}

/// Session records in the store.
fn session_records(warden: &Warden) -> u64 {
    warden
        .runtime()
        .store()
        .len(Keyspace::Sessions)
        .expect("store len")
}

/// The status code 200, for comparisons with [`Reply::status`].
const OK: StatusCode = StatusCode::OK;
