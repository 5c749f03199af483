//! Security headers and allowed hosts over HTTP: `SecurityHeadersMiddleware` (with its CSP
//! builder and per-request nonces) and `AllowedHostsMiddleware` in real actix-web apps.
//!
//! What is proven (issue 7): the exact header set of an HTML 200, a JSON 200 and every error
//! status (401, 403, 404, 405, 429, 500, 503, extractor 400s, errors returned as `Err` by inner
//! middleware); the nonce differs per request and is the one in the CSP; HSTS only on HTTPS
//! (TLS listener, `force_hsts`, or a trusted proxy's `X-Forwarded-Proto`/`Forwarded`), never
//! for a client's own claim; a handler's own header is kept (or replaced when configured);
//! header injection and malformed policies are refused at construction; the host allowlist
//! (ports, case, trailing dots, IPv6 literals, wildcards, missing and duplicate `Host`,
//! conflicting authorities, `X-Forwarded-Host` ignored) with throttled `host.rejected`
//! events; an `actix-cors` preflight still carries the security headers.

#[path = "../common/mod.rs"]
mod common;

use std::collections::BTreeMap;

use actix_web::{http::header::HeaderMap, web, HttpMessage, HttpRequest, HttpResponse};
use serde::Deserialize;
use warden::{headers::CspNonce, Error};

mod compose;
mod config;
mod coverage;
mod hosts;
mod hsts;
mod nonce;

/// What `SecurityHeadersConfig::default()` writes on every plain-HTTP response.
const DEFAULTS: [(&str, &str); 7] = [
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    (
        "content-security-policy",
        "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'; \
         form-action 'self'",
    ),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    ),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
];

/// The default HSTS header, added on HTTPS requests.
const HSTS: (&str, &str) = (
    "strict-transport-security",
    "max-age=63072000; includeSubDomains",
);

/// `text/plain` error bodies of `warden::Error`.
const PLAIN: (&str, &str) = ("content-type", "text/plain; charset=utf-8");
/// `Cache-Control` of `warden::Error` responses.
const NO_STORE: (&str, &str) = ("cache-control", "no-store");

/// Builds a test app serving [`routes`] inside `$mw` (outermost); evaluates to the service.
macro_rules! app {
    ($mw:expr) => {
        actix_web::test::init_service(actix_web::App::new().configure(crate::routes).wrap($mw))
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

pub(crate) use {app, send};

/// Asserts that `headers` holds exactly `expected` (name, value) pairs: one value per name,
/// nothing missing, nothing else (Spring's `containsExactlyInAnyOrder`).
fn assert_exact_headers(headers: &HeaderMap, expected: &[(&str, &str)]) {
    let mut actual: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        actual
            .entry(name.as_str().to_owned())
            .or_default()
            .push(value.to_str().expect("ASCII header").to_owned());
    }
    let want: BTreeMap<String, Vec<String>> = expected
        .iter()
        .map(|(n, v)| ((*n).to_owned(), vec![(*v).to_owned()]))
        .collect();
    assert_eq!(actual, want);
}

/// The defaults plus `others`.
fn with_defaults<'a>(others: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    DEFAULTS.iter().chain(others).copied().collect()
}

// Routes ----------------------------------------------------------------------------------------

/// The handlers every test uses:
///
/// - `GET /html`, `GET /json`: 200 HTML and JSON (`/html` is a resource: other methods 405);
/// - `GET /401`, `/403`, `/429`, `/500`, `/503`: `warden::Error` variants;
/// - `GET /query?n=<u32>`: a `web::Query` extractor (400 when `n` is not a number);
/// - `GET /own-headers`: sets its own `X-Frame-Options`, CSP and HSTS;
/// - `GET /nonce`: the `CspNonce` extractor's value; `GET /nonce-ext`: the one in the request
///   extensions.
fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/html").route(web::get().to(html)))
        .route("/json", web::get().to(json))
        .route("/401", web::get().to(|| fail(Error::Unauthenticated)))
        .route("/403", web::get().to(|| fail(Error::Forbidden)))
        .route(
            "/429",
            web::get().to(|| {
                fail(Error::TooManyRequests {
                    retry_after: std::time::Duration::from_millis(500),
                })
            }),
        )
        .route(
            "/500",
            web::get().to(|| fail(Error::Internal("boom".into()))),
        )
        .route(
            "/503",
            web::get().to(|| fail(Error::Backend("user db down".into()))),
        )
        .route("/query", web::get().to(query))
        .route("/own-headers", web::get().to(own_headers))
        .route("/nonce", web::get().to(nonce))
        .route("/nonce-ext", web::get().to(nonce_ext));
}

async fn html() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body("<!doctype html><p>hello</p>")
}

async fn json() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "ok": true }))
}

async fn fail(err: Error) -> Result<HttpResponse, Error> {
    Err(err)
}

#[derive(Deserialize)]
struct Q {
    n: u32,
}

async fn query(q: web::Query<Q>) -> HttpResponse {
    HttpResponse::Ok().body(q.n.to_string())
}

async fn own_headers() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("x-frame-options", "SAMEORIGIN"))
        .insert_header(("content-security-policy", "default-src 'none'"))
        .insert_header(("strict-transport-security", "max-age=60"))
        .body("own")
}

async fn nonce(n: CspNonce) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(n.as_str().to_owned())
}

async fn nonce_ext(req: HttpRequest) -> HttpResponse {
    let n = req.extensions().get::<CspNonce>().cloned();
    HttpResponse::Ok().body(n.map(|n| n.to_string()).unwrap_or_default())
}
