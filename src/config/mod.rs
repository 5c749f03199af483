//! Layered, validated configuration.
//!
//! Values come from these layers, lowest precedence first:
//!
//! 1. the secure built-in defaults ([`RawConfig::default`], documented key by key in
//!    `config/default.toml`),
//! 2. TOML files ([`ConfigLoader::file`]; `WARDEN_CONFIG` names one for binaries),
//! 3. the `WARDEN_*` environment variables listed in [`env`](mod@env),
//! 4. programmatic overrides by dotted key ([`ConfigLoader::set`], handy in tests).
//!
//! The merged [`RawConfig`] is then validated into a [`Config`]. Validation reports **every**
//! invalid value at once ([`ConfigError::Invalid`], one per line), each naming its dotted key
//! and the reason. Unknown keys and values of the wrong type are [`ConfigError::Parse`]
//! errors naming the key, so a typo never silently falls back to a default.
//!
//! The `production` profile additionally requires a strong `WARDEN_SECRET_KEY`, `Secure`
//! cookies, an `https://` origin (and `https://` CSRF trusted origins), CSRF protection
//! enabled, a strict Content-Security-Policy, HSTS for at least a year, `X-Frame-Options`
//! or a CSP `frame-ancestors`, an audit sink (`audit.tracing_sink` or `audit.jsonl_path`),
//! spike alerts (`audit.spike_threshold`, `audit.spike_window_secs` and `audit.spike_kinds`
//! not zero or empty), and `POST /login` and `/password-reset` rate-limited
//! (`auth_rate_limit.methods`, `auth_rate_limit.paths`). In `development`, a missing key is
//! replaced by an ephemeral random one and a warning says that sessions will not survive a
//! restart.
//!
//! `[lockout]` becomes [`Config::runtime`]`.lockout` (the lockout actor's policy) and
//! [`Config::lockout`]; `[ratelimit]` becomes [`Config::runtime`]`.ratelimit` (the rate-limit
//! actor's [`RateLimitSettings`](crate::ratelimit::RateLimitSettings)); `[auth_rate_limit]`
//! becomes [`Config::auth_rate_limit`], the built
//! [`AuthRateLimitConfig`](crate::ratelimit::AuthRateLimitConfig); `[audit]` becomes
//! [`Config::runtime`]`.audit`; `[headers]` becomes [`Config::headers`], whose `middleware` is
//! the built [`SecurityHeadersConfig`](crate::headers::SecurityHeadersConfig).
//!
//! ```
//! use warden::{ConfigLoader, Profile};
//!
//! let err = ConfigLoader::new()
//!     .env([("WARDEN_PROFILE".to_string(), "production".to_string())])
//!     .load()
//!     .unwrap_err();
//! // No secret key and an http:// origin: both reported.
//! assert_eq!(err.keys(), vec!["server.origin", "secrets.keys"]);
//! ```

mod checks;
pub mod env;
mod error;
mod loader;
mod parse_error;
mod raw;
mod secret;
mod settings;
mod validate;
mod validate_audit;
mod validate_headers;
mod validate_lockout;
mod validate_ratelimit;

pub use self::{
    error::{ConfigError, KeyError},
    loader::{ConfigLoader, DEFAULT_CONFIG_FILE},
    raw::{
        Profile, RawAudit, RawAuth, RawAuthRateLimit, RawAuthRatePolicy, RawConfig, RawCsrf,
        RawHeaders, RawLockout, RawPasswords, RawProxy, RawRateLimit, RawRuntime, RawSecrets,
        RawServer, RawSession, RawStore, SameSite,
    },
    secret::{SecretKeys, MIN_SECRET_LEN},
    settings::{
        AuthSettings, Config, CsrfSettings, HeadersSettings, LockoutSettings, ProxySettings,
        ServerSettings, SessionSettings,
    },
};
