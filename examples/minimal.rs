//! The minimal hardened setup: the whole warden stack in one call, a tiny in-memory user
//! store, a login form and one protected route.
//!
//! ```text
//! cargo run --example minimal
//! ```
//!
//! Serves on `WARDEN_BIND` (default 127.0.0.1:8080), data under `WARDEN_DATA_DIR` (default
//! `./data`), reading `WARDEN_CONFIG` / `config/default.toml` like the demo app. Open
//! `/dashboard`: you are sent to `/login`; log in as `alice` with the password
//! `correct horse battery staple`. Everything else (security headers, allowed hosts, the
//! auth-endpoint rate limit, server-side sessions, login lockout, CSRF on the form, the audit
//! trail) comes from [`Warden::stack`] and [`Accounts`]. See `examples/hardened_app/` for
//! the full demo and `examples/custom_user_store.rs` for the `UserStore` trait.

use std::{collections::HashMap, sync::Arc};

use actix_web::{http::header, web, App, HttpRequest, HttpResponse, HttpServer};
use warden::{
    actors::tokens::ResetToken,
    auth::{
        Accounts, CurrentUser, ResetNotifier, SharedUserStore, User, UserStore, UserStoreError,
    },
    csrf::CsrfToken,
    health::healthz,
    session::Session,
    ConfigLoader, Error, Warden,
};

/// Users by login name, read-only (password changes are refused).
struct MemoryUsers(HashMap<String, User>);

#[async_trait::async_trait]
impl UserStore for MemoryUsers {
    async fn find_by_id(&self, id: &str) -> Result<Option<User>, UserStoreError> {
        Ok(self.0.values().find(|u| u.id == id).cloned())
    }
    async fn find_by_login(&self, login: &str) -> Result<Option<User>, UserStoreError> {
        Ok(self.0.get(login).cloned())
    }
    async fn set_password_hash(&self, _id: &str, _phc: &str) -> Result<(), UserStoreError> {
        Err(UserStoreError("read-only user store".into()))
    }
}

/// This app has no password reset.
struct NoReset;

#[async_trait::async_trait]
impl ResetNotifier for NoReset {
    async fn send_reset(&self, _user: &User, _token: &ResetToken) -> Result<(), String> {
        Err("password reset is not available".into())
    }
}

#[derive(serde::Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

async fn login_page(csrf: CsrfToken) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><title>Log in</title><form method=\"post\" action=\"/login\">{}\
             <input name=\"username\" placeholder=\"username\">\
             <input type=\"password\" name=\"password\" placeholder=\"password\">\
             <button>Log in</button></form>",
            csrf.field()
        ))
}

async fn login(
    req: HttpRequest,
    session: Session,
    form: web::Form<LoginForm>,
    accounts: web::Data<Accounts>,
) -> Result<HttpResponse, Error> {
    // One answer for an unknown user, a wrong password and a locked login.
    let Some(user) = accounts
        .authenticate(&req, &form.username, &form.password)
        .await?
    else {
        return Ok(HttpResponse::Unauthorized().body("invalid username or password"));
    };
    accounts.login(&req, &session, &user).await?; // rotates the session: no fixation
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/dashboard"))
        .finish())
}

async fn dashboard(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().body(format!("hello {}", user.login))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let config = ConfigLoader::from_process_env().load().unwrap_or_else(|e| {
        eprintln!("invalid configuration:\n{e}");
        std::process::exit(2);
    });
    let bind = config.server.bind;
    // Started once, outside HttpServer::new (whose closure runs once per worker).
    let warden = Warden::start(config).map_err(std::io::Error::other)?;

    let hash = warden
        .runtime()
        .passwords()
        .hash("correct horse battery staple")
        .await
        .map_err(std::io::Error::other)?;
    let alice = User::new("1", "alice", hash).with_permissions(["user"]);
    let users: SharedUserStore = Arc::new(MemoryUsers(HashMap::from([("alice".into(), alice)])));
    let accounts = web::Data::new(Accounts::new(&warden, users.clone(), Arc::new(NoReset)));

    println!("listening on http://{bind} (GET /dashboard, log in as alice)");
    let w = warden.clone();
    let result = HttpServer::new(move || {
        App::new()
            .app_data(w.data())
            .app_data(accounts.clone())
            .wrap(w.stack(users.clone()))
            .route("/healthz", web::get().to(healthz))
            .route("/login", web::get().to(login_page))
            .route("/login", web::post().to(login))
            .route("/dashboard", web::get().to(dashboard))
    })
    .bind(bind)?
    .run()
    .await;
    warden.shutdown().await; // drain audit sinks, flush the store
    result
}
