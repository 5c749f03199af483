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
//! enabled, a strict Content-Security-Policy, HSTS for at least a year, and `X-Frame-Options`
//! or a CSP `frame-ancestors`.
//!
//! `[lockout]` becomes [`Config::runtime`]`.lockout` (the lockout actor's policy) and
//! [`Config::lockout`]; `[headers]` becomes [`Config::headers`], whose `middleware` is the
//! built [`SecurityHeadersConfig`](crate::headers::SecurityHeadersConfig). In `development`, a missing key is replaced by an ephemeral random one and a
//! warning says that sessions will not survive a restart.
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
mod validate_headers;
mod validate_lockout;

pub use self::{
    error::{ConfigError, KeyError},
    loader::{ConfigLoader, DEFAULT_CONFIG_FILE},
    raw::{
        Profile, RawAudit, RawAuth, RawConfig, RawCsrf, RawHeaders, RawLockout, RawPasswords,
        RawProxy, RawRuntime, RawSecrets, RawServer, RawSession, RawStore, SameSite,
    },
    secret::{SecretKeys, MIN_SECRET_LEN},
    settings::{
        AuthSettings, Config, CsrfSettings, HeadersSettings, LockoutSettings, ProxySettings,
        ServerSettings, SessionSettings,
    },
};
