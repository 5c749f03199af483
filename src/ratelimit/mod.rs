//! Rate limiting of authentication endpoints: [`AuthRateLimitMiddleware`] and
//! [`AuthRateLimitConfig`], in front of the rate-limit actor
//! ([`RateLimitHandle`]).
//!
//! # What it fixes in Chirp's version
//!
//! | | Chirp | warden |
//! |---|---|---|
//! | key | left-most `X-Forwarded-For` (spoofable), else the peer | the client IP resolved through the trusted proxies; IPv6 per /64 |
//! | algorithm | fixed window + 300 s block, per process, never evicted | GCRA in the rate-limit actor: atomic per key, persisted, decayed keys dropped |
//! | paths | exact or `p + "/"` prefix on the raw path | the same, after normalisation (`//login`, `/login/`, `/./login`, `/x/../login`, `/LOGIN`, `/login;x`, `/log%69n`) |
//! | 429 | `Retry-After` only | `Retry-After`, `RateLimit-Policy`, `RateLimit`, `Cache-Control: no-store` |
//! | events | none | `ratelimit.blocked`, once per key per policy period; the rest counted |
//! | actor or store down | — | `503` (fail closed) |
//!
//! # Defaults, and Chirp's 300 s block
//!
//! [`AuthRateLimitConfig::default`] limits `POST` on `/login`, `/signup`, `/register` and
//! `/password-reset` (and below) under one shared policy named `"auth"`: 10 requests per 60 s,
//! burst 10. Like Chirp, a fresh client gets 10 requests at once and the 11th is refused.
//!
//! GCRA has no separate "block" phase. Chirp then blocks for 300 s and afterwards grants a
//! fresh 10; in the long run a persistent client gets 10 requests per ~300 s. warden's default
//! instead lets one more request through every 6 s (`period / limit`), with `Retry-After`
//! saying exactly when, and gives the whole budget back 60 s after the client stops. To get
//! Chirp's long-run ceiling (10 per 300 s) with the same first burst, use
//! `RateLimitPolicy::new("auth", 10, Duration::from_secs(300))`: a refused client then waits
//! at most 30 s for its next attempt instead of 300 s, and a full budget returns 300 s after
//! the last request. Per-account protection against password guessing is the lockout's job,
//! not this per-network throttle's.
//!
//! # Headers
//!
//! Per `draft-ietf-httpapi-ratelimit-headers-10`: `RateLimit-Policy: "auth";q=10;w=60` and
//! `RateLimit: "auth";r=<left>;t=<seconds until more quota>`. On a 429, `t` equals
//! `Retry-After` (so `Retry-After` never points earlier than `t`). No partition key is sent.
//! `t` carries no jitter: each client's value is its own (keys are per client network), so
//! clients are not synchronised.
//!
//! ```
//! use std::time::Duration;
//! use warden::actors::ratelimit::RateLimitPolicy;
//! use warden::ratelimit::AuthRateLimitConfig;
//!
//! let config = AuthRateLimitConfig::builder()
//!     .paths(["/login", "/password-reset"])
//!     .default_policy(RateLimitPolicy::new("login", 10, Duration::from_secs(60)).burst(5))
//!     .policy("/api/token", RateLimitPolicy::new("token", 30, Duration::from_secs(60)))
//!     .build()
//!     .unwrap();
//! assert_eq!(config.rules().count(), 3);
//! ```

mod config;
mod middleware;
mod path;

pub use self::{
    config::{
        default_policy, AuthRateLimitConfig, AuthRateLimitConfigBuilder, RateLimitConfigError,
        DEFAULT_PATHS, DEFAULT_POLICY_NAME,
    },
    middleware::{
        AuthRateLimitMiddleware, InnerAuthRateLimitMiddleware, RATELIMIT, RATELIMIT_POLICY,
    },
};
pub use crate::actors::ratelimit::{
    start_ratelimit, Decision, RateLimitHandle, RateLimitPolicy, RateLimitSettings, RateLimitStats,
};
