//! The warden demo app: the project's main job.
//!
//! ```text
//! cargo run --release --example hardened_app
//! ```
//!
//! Serves on `WARDEN_BIND` (default 127.0.0.1:8080) with its sled data under `WARDEN_DATA_DIR`
//! (default `./data`), reading `WARDEN_CONFIG` (default `config/default.toml`). Without
//! `WARDEN_SECRET_KEY` it runs with a generated key and says so. The HTTP contract is in
//! `shared/DESIGN.md`; routes are added as the capabilities land.

use actix_web::{http::header, middleware::Logger, web, App, HttpResponse, HttpServer};
use tracing_subscriber::EnvFilter;
use warden::{health::healthz, session::Session, ConfigLoader, RequestContext, Warden};

async fn index(ctx: RequestContext, session: Session) -> Result<HttpResponse, warden::Error> {
    // A visit counter: the first visit creates a server-side session (and a cookie); a
    // visitor's session is revocable and expires on the server.
    let visits: u64 = session.get("visits")?.unwrap_or(0) + 1;
    session.insert("visits", visits)?;
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>warden demo</title></head>\n\
         <body><h1>warden demo</h1>\n\
         <p>A hardened actix-web app. Health: <a href=\"/healthz\">/healthz</a>.</p>\n\
         <p>Visits in this session: <strong>{visits}</strong></p>\n\
         <p>Request id: <code>{}</code></p>\n</body></html>\n",
        ctx.request_id
    );
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
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
            eprintln!("warden: invalid configuration:\n{e}");
            std::process::exit(2);
        }
    };
    let bind = config.server.bind;
    let origin = config.server.origin.clone();
    let ephemeral = config.secrets.is_ephemeral();
    let data_dir = config.server.data_dir.clone();

    let warden = match Warden::start(config) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("warden: cannot start: {e}");
            std::process::exit(1);
        }
    };
    warden
        .audit()
        .emit(warden::actors::SecurityEvent::new("sys.startup").detail("bind", bind.to_string()));

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
        App::new()
            .app_data(w.data())
            // In actix-web the last .wrap() runs first: request context, then sessions.
            .wrap(w.session_middleware())
            .wrap(w.request_context())
            .wrap(Logger::new("%a \"%r\" %s %b %Dms"))
            .route("/", web::get().to(index))
            .route("/healthz", web::get().to(healthz))
    })
    .bind(bind)?
    .run();
    let result = server.await;
    warden
        .audit()
        .emit(warden::actors::SecurityEvent::new("sys.shutdown"));
    warden.shutdown().await;
    result
}
