//! CORS with `actix-cors` inside the warden stack.
//!
//! ```text
//! cargo run --example cors
//! ```
//!
//! warden does not implement CORS: use `actix-cors`. What matters is where it goes. In
//! actix-web the last `.wrap()` runs first, so this app's order, outermost first, is:
//!
//! 1. `SecurityHeadersMiddleware`: outermost, so every response, CORS preflights and CORS
//!    refusals included, carries the security headers;
//! 2. `RequestContextMiddleware`: request id and client IP for every audit event below;
//! 3. `AllowedHostsMiddleware`: a forged `Host` never reaches CORS or the app;
//! 4. `Cors`: answers preflights itself and adds `Access-Control-*` to actual responses;
//! 5. sessions (and authentication and CSRF in a full app), then the routes.
//!
//! Keep `supports_credentials()` off unless the browser app really sends cookies cross-origin;
//! if it does, list its origin in `csrf.trusted_origins` too, since `CsrfMiddleware` checks
//! `Origin` on every unsafe request whatever CORS allowed.
//!
//! Try it (the default allowed host is the bind address):
//!
//! ```text
//! curl -i -X OPTIONS http://127.0.0.1:8080/api/hello \
//!      -H 'Origin: http://localhost:5173' -H 'Access-Control-Request-Method: GET'
//! curl -i http://127.0.0.1:8080/api/hello -H 'Origin: http://localhost:5173'
//! ```

use actix_cors::Cors;
use actix_web::{http::header, web, App, HttpResponse, HttpServer};
use warden::{
    headers::SecurityHeadersMiddleware,
    hosts::{AllowedHosts, AllowedHostsMiddleware},
    session::Session,
    ConfigLoader, Warden,
};

/// The browser app allowed to call this API (override with `CORS_ORIGIN`).
const DEFAULT_SPA_ORIGIN: &str = "http://localhost:5173";

async fn hello(session: Session) -> Result<HttpResponse, warden::Error> {
    let visits: u32 = session.get("visits")?.unwrap_or(0);
    Ok(HttpResponse::Ok().json(serde_json::json!({ "hello": "world", "visits": visits })))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let config = match ConfigLoader::from_process_env().load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cors example: invalid configuration:\n{e}");
            std::process::exit(2);
        }
    };
    let bind = config.server.bind;
    let spa_origin = std::env::var("CORS_ORIGIN").unwrap_or_else(|_| DEFAULT_SPA_ORIGIN.into());
    // Started once, outside HttpServer::new (whose closure runs once per worker).
    let warden = match Warden::start(config) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("cors example: cannot start warden: {e}");
            std::process::exit(1);
        }
    };
    // Parsed once here, so the worker closure cannot fail.
    let hosts = match AllowedHosts::parse(&warden.config().server.allowed_hosts) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("cors example: {e}");
            std::process::exit(2);
        }
    };
    println!("serving http://{bind}, allowing CORS from {spa_origin}");

    let w = warden.clone();
    HttpServer::new(move || {
        let cors = Cors::default()
            .allowed_origin(&spa_origin)
            .allowed_methods(["GET", "POST"])
            .allowed_headers([header::CONTENT_TYPE, header::ACCEPT])
            .max_age(600);
        let hosts = AllowedHostsMiddleware::new(hosts.clone(), w.audit().clone());
        App::new()
            .app_data(w.data())
            .route("/api/hello", web::get().to(hello))
            // In actix-web the last .wrap() runs first:
            // security headers → request context → allowed hosts → CORS → session → routes.
            .wrap(w.session_middleware())
            .wrap(cors)
            .wrap(hosts)
            .wrap(w.request_context())
            .wrap(SecurityHeadersMiddleware::for_warden(&w))
    })
    .bind(bind)?
    .run()
    .await?;
    warden.shutdown().await;
    Ok(())
}
