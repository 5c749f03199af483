//! Rate limiting over HTTP: `AuthRateLimitMiddleware` in a real actix-web app, backed by the
//! rate-limit actor on a real `Warden` (sled store, audit log) on a temporary data directory
//! with a manual clock.
//!
//! What is proven (issue 6, rate-limit half): Chirp's defaults; the 429 contract (`Retry-After`,
//! `RateLimit-Policy`, `RateLimit`, `Cache-Control`, generic body) and the headers on allowed
//! responses; per-path policies; untouched methods and paths; the key (spoofed forwarding
//! headers from untrusted peers change nothing, trusted proxies key on the real client, IPv6
//! per /64); path-normalisation bypass attempts; `ratelimit.blocked` events that do not flood;
//! state surviving a restart; failing closed when the actor is down.

#[path = "../common/mod.rs"]
mod common;

use std::{net::SocketAddr, path::Path, sync::Arc, time::Duration};

use actix_web::{test as atest, web, HttpResponse};
use warden::{
    actors::ManualClock,
    ratelimit::{start_ratelimit, RateLimitHandle, RateLimitSettings},
    Warden,
};

/// Builds the test app (see [`routes`]) behind `AuthRateLimitMiddleware` (with `$config`) and
/// `RequestContextMiddleware` (with `$resolver`, default: no trusted proxy); evaluates to the
/// initialised service.
macro_rules! app {
    ($env:expr, $config:expr) => {
        app!($env, $config, warden::ClientIpResolver::default())
    };
    ($env:expr, $config:expr, $resolver:expr) => {{
        let resolver: warden::ClientIpResolver = $resolver;
        actix_web::test::init_service(
            actix_web::App::new()
                .wrap(warden::ratelimit::AuthRateLimitMiddleware::new(
                    $env.limits.clone(),
                    $config,
                    resolver.clone(),
                    $env.warden.audit().clone(),
                ))
                .wrap(warden::RequestContextMiddleware::new(resolver))
                .configure(crate::routes),
        )
        .await
    }};
}

/// Sends a `TestRequest` to `$app` and reads the whole reply into a [`common::Reply`].
macro_rules! send {
    ($app:expr, $req:expr) => {
        crate::common::Reply::read(actix_web::test::call_service($app, $req.to_request()).await)
            .await
    };
}

mod contract;
mod events;
mod keys;
mod lifecycle;
mod paths;

/// The peer most test requests come from.
const PEER: &str = "203.0.113.7";

/// A started `Warden` and rate-limit actor sharing its store, clock and audit log.
struct Env {
    warden: Warden,
    limits: RateLimitHandle,
    clock: Arc<ManualClock>,
    _dir: Option<tempfile::TempDir>,
}

/// Starts a `Warden` on `dir` with `clock`, and a 2-shard rate-limit actor on its store.
fn start(dir: &Path, clock: &Arc<ManualClock>) -> Env {
    let warden = common::test_warden(dir, clock, |_| {});
    let limits = start_ratelimit(
        warden.runtime().store(),
        warden.runtime().clock(),
        RateLimitSettings::default().shards(2),
        256,
        Duration::from_secs(2),
    );
    Env {
        warden,
        limits,
        clock: clock.clone(),
        _dir: None,
    }
}

/// [`start`] on a fresh temporary directory with a fresh manual clock.
fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let mut e = start(dir.path(), &common::manual_clock());
    e._dir = Some(dir);
    e
}

// Routes ----------------------------------------------------------------------------------------

/// `POST /login`, `/signup`, `/register`, `/password-reset`, `/password-reset/confirm`,
/// `/other`; `GET /login`, `/`. Each answers 200 with its name; anything else is 404.
fn routes(cfg: &mut web::ServiceConfig) {
    for path in [
        "/login",
        "/signup",
        "/register",
        "/password-reset",
        "/password-reset/confirm",
        "/other",
    ] {
        cfg.route(path, web::post().to(move || ok(path)));
    }
    cfg.route("/login", web::get().to(|| ok("login form")))
        .route("/", web::get().to(|| ok("home")));
}

async fn ok(body: &'static str) -> HttpResponse {
    HttpResponse::Ok().body(body)
}

// Request helpers ------------------------------------------------------------------------------

fn addr(ip: &str) -> SocketAddr {
    let ip: std::net::IpAddr = ip.parse().expect("peer ip");
    SocketAddr::new(ip, 40_000)
}

/// `POST uri` from `ip`.
fn post_from(uri: &str, ip: &str) -> atest::TestRequest {
    atest::TestRequest::post().uri(uri).peer_addr(addr(ip))
}

/// `POST uri` from [`PEER`].
fn post(uri: &str) -> atest::TestRequest {
    post_from(uri, PEER)
}

/// `GET uri` from [`PEER`].
fn get(uri: &str) -> atest::TestRequest {
    atest::TestRequest::get().uri(uri).peer_addr(addr(PEER))
}
