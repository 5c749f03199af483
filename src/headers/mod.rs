//! Browser security headers: [`SecurityHeadersMiddleware`], its [`SecurityHeadersConfig`],
//! a validating [`ContentSecurityPolicy`] builder with per-request nonces ([`CspNonce`]).
//!
//! Chirp adds its headers to HTML responses only, never to error responses, appends
//! duplicates, and sends HSTS only from one production path. warden writes them on every
//! response (errors and actix-web's own 404/405 included), keeps a handler's own value,
//! sends HSTS exactly when the request arrived over HTTPS (or a trusted proxy says so), and
//! refuses any value that could inject a header when the configuration is built.
//!
//! ```
//! use actix_web::{web, App, HttpResponse};
//! use warden::headers::{
//!     ContentSecurityPolicy, CspNonce, SecurityHeadersConfig, SecurityHeadersMiddleware, Source,
//! };
//!
//! let config = SecurityHeadersConfig::builder()
//!     .csp(
//!         ContentSecurityPolicy::builder()
//!             .default_src([Source::SelfOrigin])
//!             .img_src([Source::SelfOrigin, Source::scheme("data")])
//!             .frame_ancestors([Source::None])
//!             .object_src([Source::None])
//!             .base_uri([Source::SelfOrigin])
//!             .form_action([Source::SelfOrigin])
//!             .nonce(true)
//!             .build()?,
//!     )
//!     .build()?;
//!
//! async fn page(nonce: CspNonce) -> HttpResponse {
//!     HttpResponse::Ok()
//!         .content_type("text/html; charset=utf-8")
//!         .body(format!("<script {}>go()</script>", nonce.attribute()))
//! }
//!
//! let app = App::new()
//!     .route("/", web::get().to(page))
//!     // outermost: the last `.wrap()`
//!     .wrap(SecurityHeadersMiddleware::new(config));
//! # Ok::<(), warden::headers::HeaderConfigError>(())
//! ```
//!
//! ## Where it goes in the stack
//!
//! Outermost, then [`RequestContextMiddleware`](crate::RequestContextMiddleware) (so events
//! carry the request id and resolved client IP), then
//! [`AllowedHostsMiddleware`](crate::hosts::AllowedHostsMiddleware), then CORS (e.g.
//! `actix-cors`, see `examples/cors.rs`), then sessions, authentication and CSRF. In
//! actix-web the last `.wrap()` runs first.

mod builder;
mod config;
mod csp;
mod csp_builder;
mod error;
mod middleware;
mod nonce;
mod policy;
mod source;

#[doc(hidden)]
pub use self::middleware::InnerSecurityHeadersMiddleware;
pub use self::{
    builder::SecurityHeadersConfigBuilder,
    config::SecurityHeadersConfig,
    csp::ContentSecurityPolicy,
    csp_builder::CspBuilder,
    error::HeaderConfigError,
    middleware::{forwarded_https, SecurityHeadersMiddleware},
    nonce::{CspNonce, NONCE_BYTES},
    policy::{
        CrossOriginEmbedderPolicy, CrossOriginOpenerPolicy, CrossOriginResourcePolicy,
        FrameOptions, Hsts, PermissionsPolicy, ReferrerPolicy,
    },
    source::{HashAlgorithm, Source},
};
