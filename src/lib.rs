//! # warden
//!
//! An actor-based security runtime for [actix-web](https://actix.rs): the security layer that
//! Django and Spring Security give their users, for Rust web applications, with state that is
//! server-side, revocable and persisted.
//!
//! warden is two crates:
//!
//! - **`warden-actors`** (re-exported as [`warden::actors`](actors)): dedicated actors that own
//!   the security state (audit events, sessions, API and reset tokens, password hashing; lockout
//!   counters and rate limits as those capabilities land) and persist it to an embedded sled store. It knows nothing of HTTP.
//! - **`warden`** (this crate): the thin actix-web layer. Middleware and extractors that read the
//!   actors' published views and send them messages; configuration; client-IP resolution
//!   through trusted proxies; request ids; one error type with opaque bodies.
//!
//! ## Getting started
//!
//! Load the configuration (built-in secure defaults, then `config/default.toml` or the file
//! named by `WARDEN_CONFIG`, then `WARDEN_*` environment variables), start the runtime **once**
//! outside `HttpServer::new`, and share the [`Warden`] handle with every worker:
//!
//! ```no_run
//! use actix_web::{web, App, HttpServer};
//! use warden::{health::healthz, ConfigLoader, Warden};
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     let config = ConfigLoader::from_process_env().load().expect("invalid configuration");
//!     let bind = config.server.bind;
//!     let warden = Warden::start(config).expect("cannot start warden");
//!     let w = warden.clone();
//!     HttpServer::new(move || {
//!         App::new()
//!             .app_data(w.data())
//!             .wrap(w.request_context())
//!             .route("/healthz", web::get().to(healthz))
//!     })
//!     .bind(bind)?
//!     .run()
//!     .await?;
//!     warden.shutdown().await;
//!     Ok(())
//! }
//! ```
//!
//! ## How defaults were chosen
//!
//! When in doubt, the most secure option is the default: cookies `Secure`, `HttpOnly`,
//! `SameSite=Lax` and `__Host-` prefixed; idle timeout 30 minutes and absolute lifetime 12
//! hours (OWASP ASVS 5.0, NIST AAL2); no proxy is trusted, so `X-Forwarded-For` is ignored
//! until you list your proxies; in production a missing or weak secret key stops start-up.
//!
//! ## Fail closed
//!
//! Every ask of an actor has a deadline (`runtime.ask_timeout_ms`). An actor or store that does
//! not answer yields [`Error::Unavailable`], an opaque `503`, never a pass-through. Error bodies
//! are short and generic; the detail goes to the log.
//!
//! ## Layout
//!
//! | module | what |
//! |---|---|
//! | [`config`] | [`ConfigLoader`], [`Config`]: layered TOML + env, validation naming each key |
//! | [`client_ip`] | [`ClientIpResolver`]: the socket peer, or the right-most untrusted `X-Forwarded-For`/`Forwarded` hop behind a trusted proxy |
//! | [`request_id`] | [`RequestId`]: generated per request, or taken from a trusted proxy |
//! | [`middleware`] | [`RequestContextMiddleware`] and the [`RequestContext`] extractor |
//! | [`session`] | [`SessionMiddleware`](session::SessionMiddleware), the [`Session`](session::Session) extractor, the signed cookie |
//! | [`auth`] | [`AuthMiddleware`](auth::AuthMiddleware), `CurrentUser`, `LoginRequired`, `Requires`, [`Accounts`](auth::Accounts) flows |
//! | [`csrf`] | [`CsrfMiddleware`](csrf::CsrfMiddleware), the [`CsrfToken`](csrf::CsrfToken) extractor, masked tokens, the Origin/Fetch-Metadata table |
//! | [`ratelimit`] | [`AuthRateLimitMiddleware`](ratelimit::AuthRateLimitMiddleware): GCRA on the auth endpoints, 429 with `Retry-After` and `RateLimit` headers |
//! | [`lockout`] | [`LoginLockout`](lockout::LoginLockout): per account, account+IP and IP counters with bounded backoff |
//! | [`headers`] | [`SecurityHeadersMiddleware`], the CSP builder and nonces |
//! | [`hosts`] | [`AllowedHostsMiddleware`] |
//! | [`stack`] | [`WardenStack`](stack::WardenStack): every middleware in the right order, one `.wrap()` |
//! | [`audit`] | audit events carrying the request's context |
//! | [`audit_http`] | the audit stream as Server-Sent Events, the Prometheus `/metrics` handler |
//! | [`health`] | the `/healthz` handler |
//! | `error` | [`Error`]: 401/403/429 with generic bodies, opaque 500/503 |
//! | `runtime` | [`Warden`]: the started actors plus the config |
//! | `signing` | the signing primitives shared by the session and CSRF cookies |
//! | [`actors`] | the `warden-actors` crate: actors, store, clock, audit events |
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[doc(inline)]
pub use warden_actors as actors;

pub mod audit;
pub mod audit_http;
pub mod auth;
pub mod client_ip;
pub mod config;
pub mod csrf;
mod error;
pub mod headers;
pub mod health;
pub mod hosts;
pub mod lockout;
pub mod middleware;
pub mod ratelimit;
pub mod request_id;
mod runtime;
pub mod session;
mod signing;
pub mod stack;

pub use self::{
    client_ip::{ClientIpResolver, ForwardedHeader, TrustedProxies},
    config::{Config, ConfigError, ConfigLoader, Profile},
    error::Error,
    headers::{CspNonce, SecurityHeadersConfig, SecurityHeadersMiddleware},
    hosts::{AllowedHosts, AllowedHostsMiddleware},
    middleware::{RequestContext, RequestContextExt, RequestContextMiddleware},
    request_id::RequestId,
    runtime::{Warden, WardenBuilder},
};
pub use warden_actors::StartError;
