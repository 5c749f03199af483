//! The warden demo app: the project's main job.
//!
//! ```text
//! cargo run --release --example hardened_app
//! ```
//!
//! Serves on `WARDEN_BIND` (default 127.0.0.1:8080) with its sled data under `WARDEN_DATA_DIR`
//! (default `./data`), reading `WARDEN_CONFIG` (default `config/default.toml`). Without
//! `WARDEN_SECRET_KEY` it runs with a generated key and says so. Demo users `alice` and
//! `admin` are created on first start with the password `WARDEN_DEMO_PASSWORD` (default
//! `correct horse battery staple`). The HTTP contract is in `shared/DESIGN.md`.

mod pages;
mod routes;
mod users;

use std::sync::Arc;

use actix_web::{middleware::Logger, web, App, HttpServer};
use tracing_subscriber::EnvFilter;
use warden::{
    actors::SecurityEvent,
    audit_http::{audit_stream, metrics},
    auth::{Accounts, Requires, SharedUserStore},
    health::healthz,
    ConfigLoader, Warden,
};

use crate::{
    routes::note_owner,
    users::{FileOutbox, FileUsers},
};

const DEFAULT_DEMO_PASSWORD: &str = "correct horse battery staple";

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("warden demo: {what}: {e}");
    std::process::exit(1);
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    let config = match ConfigLoader::from_process_env().load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("warden demo: invalid configuration:\n{e}");
            std::process::exit(2);
        }
    };
    let bind = config.server.bind;
    let origin = config.server.origin.clone();
    let ephemeral = config.secrets.is_ephemeral();
    let data_dir = config.server.data_dir.clone();

    // Started once, outside HttpServer::new (whose closure runs once per worker).
    let warden = Warden::start(config).unwrap_or_else(|e| fail("cannot start", e));
    let demo_password =
        std::env::var("WARDEN_DEMO_PASSWORD").unwrap_or_else(|_| DEFAULT_DEMO_PASSWORD.into());
    let users: SharedUserStore = Arc::new(
        FileUsers::open(&data_dir, warden.runtime().passwords(), &demo_password)
            .await
            .unwrap_or_else(|e| fail("cannot open the user store", e)),
    );
    let outbox = FileOutbox {
        path: data_dir.join("reset-outbox.txt"),
        origin: origin.clone(),
    };
    let accounts = web::Data::new(Accounts::new(&warden, users.clone(), Arc::new(outbox)));
    warden
        .audit()
        .emit(SecurityEvent::new("sys.startup").detail("bind", bind.to_string()));

    tracing::info!(
        url = %origin,
        data_dir = %data_dir.display(),
        ephemeral_secret_key = ephemeral,
        "warden demo listening on {origin} (secret key: {})",
        if ephemeral {
            "EPHEMERAL - sessions will not survive a restart; set WARDEN_SECRET_KEY"
        } else {
            "from configuration"
        }
    );

    let w = warden.clone();
    let server = HttpServer::new(move || {
        let owner_policy = |user: Arc<warden::auth::User>, req: actix_web::HttpRequest| async move {
            let id = req.match_info().get("id").unwrap_or_default();
            note_owner(id) == Some(user.id.as_str())
        };
        App::new()
            .app_data(w.data())
            .app_data(accounts.clone())
            // The whole warden stack in one call, in the right order: security headers (on
            // every response) → request context → allowed hosts → auth rate limit → session →
            // authentication → CSRF → routes.
            .wrap(w.stack(users.clone()))
            .wrap(Logger::new("%a \"%r\" %s %b %Dms"))
            .route("/", web::get().to(routes::index))
            .route("/healthz", web::get().to(healthz))
            .route("/login", web::get().to(routes::login_page))
            .route("/login", web::post().to(routes::login))
            .route("/logout", web::post().to(routes::logout))
            .route("/dashboard", web::get().to(routes::dashboard))
            .route(
                "/account/sessions/revoke-others",
                web::post().to(routes::revoke_others),
            )
            .route("/account/password", web::post().to(routes::change_password))
            .service(
                web::resource("/admin")
                    .wrap(Requires::new(["admin"]))
                    .route(web::get().to(routes::admin)),
            )
            .service(
                web::resource("/notes/{id}")
                    .wrap(Requires::login().policy("note_owner", owner_policy))
                    .route(web::get().to(routes::note)),
            )
            .route("/password-reset", web::get().to(routes::reset_page))
            .route("/password-reset", web::post().to(routes::reset_request))
            .route(
                "/password-reset/complete",
                web::get().to(routes::reset_complete_page),
            )
            .route(
                "/password-reset/complete",
                web::post().to(routes::reset_complete),
            )
            .service(
                web::resource("/audit")
                    .wrap(Requires::new(["admin"]))
                    .route(web::get().to(routes::audit_page)),
            )
            .service(
                web::resource("/audit/stream")
                    .wrap(Requires::new(["admin"]))
                    .route(web::get().to(audit_stream)),
            )
            .service(
                web::resource("/metrics")
                    .wrap(Requires::new(["admin"]))
                    .route(web::get().to(metrics)),
            )
            .route("/api/me", web::get().to(routes::api_me))
            .route("/api/tokens", web::post().to(routes::api_tokens))
    })
    .bind(bind)?
    .run();
    let result = server.await;
    warden.audit().emit(SecurityEvent::new("sys.shutdown"));
    warden.shutdown().await;
    result
}
