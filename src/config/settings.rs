//! The validated configuration handed to the rest of warden.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use ipnet::IpNet;
use warden_actors::RuntimeConfig;

use super::{
    error::ConfigError, loader::ConfigLoader, raw::RawConfig, Profile, SameSite, SecretKeys,
};
use crate::{
    client_ip::{ClientIpResolver, ForwardedHeader, TrustedProxies},
    headers::{
        ContentSecurityPolicy, CrossOriginEmbedderPolicy, CrossOriginOpenerPolicy,
        CrossOriginResourcePolicy, FrameOptions, HeaderConfigError, Hsts, PermissionsPolicy,
        ReferrerPolicy, SecurityHeadersConfig,
    },
    lockout::{LockedResponse, LoginLockoutConfig},
    ratelimit::AuthRateLimitConfig,
};

/// A validated configuration: every value has been checked, defaults filled in and derived
/// values (origin, allowed hosts, runtime settings) computed.
///
/// Obtain one from a [`ConfigLoader`] (or [`Config::load_from_env`] in a binary). `Debug`
/// never prints secret keys.
///
/// ```
/// use std::time::Duration;
/// use warden::{Config, ConfigLoader, Profile};
///
/// let config: Config = ConfigLoader::new()
///     .env([("WARDEN_BIND".to_string(), "127.0.0.1:3000".to_string())])
///     .load()?;
/// assert_eq!(config.profile, Profile::Development);
/// assert_eq!(config.server.origin, "http://127.0.0.1:3000");
/// assert_eq!(config.server.allowed_hosts, vec!["127.0.0.1:3000".to_string()]);
/// assert_eq!(config.session.idle_timeout, Duration::from_secs(1800));
/// assert!(config.secrets.is_ephemeral()); // no WARDEN_SECRET_KEY in development
/// assert!(format!("{config:?}").contains("SecretKeys { count: 1, ephemeral: true }"));
/// # Ok::<(), warden::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Development or production.
    pub profile: Profile,
    /// Where to listen and who we are.
    pub server: ServerSettings,
    /// Signing keys, current first.
    pub secrets: SecretKeys,
    /// The session cookie and its lifetime.
    pub session: SessionSettings,
    /// Trusted proxies and request ids.
    pub proxy: ProxySettings,
    /// Login redirects, bearer tokens and token lifetimes.
    pub auth: AuthSettings,
    /// Cross-site request forgery protection.
    pub csrf: CsrfSettings,
    /// How a locked login attempt is answered (the thresholds and backoff of `[lockout]` are
    /// in [`runtime`](Self::runtime)`.lockout`).
    pub lockout: LockoutSettings,
    /// Which requests the authentication rate limit covers and under which policies (from
    /// `[auth_rate_limit]`): hand it to
    /// [`AuthRateLimitMiddleware::new`](crate::ratelimit::AuthRateLimitMiddleware::new). How
    /// the rate-limit actor runs (`[ratelimit]`) is [`runtime`](Self::runtime)`.ratelimit`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use actix_web::http::Method;
    /// use warden::ConfigLoader;
    ///
    /// let config = ConfigLoader::new()
    ///     .set("auth_rate_limit.paths", ["/login", "/password-reset"])
    ///     .set("auth_rate_limit.limit", 5)
    ///     .set("ratelimit.persist_interval_ms", 0)
    ///     .load()?;
    /// let limits = &config.auth_rate_limit;
    /// let policy = limits.policy_for(&Method::POST, "//Login/").unwrap();
    /// assert_eq!((policy.name.as_str(), policy.limit, policy.burst), ("auth", 5, 5));
    /// assert_eq!(policy.period, Duration::from_secs(60));
    /// assert!(limits.policy_for(&Method::POST, "/signup").is_none());
    /// assert_eq!(config.runtime.ratelimit.persist_interval, Duration::ZERO); // write-through
    ///
    /// let err = ConfigLoader::new().set("auth_rate_limit.methods", ["P O S T"]).load();
    /// assert_eq!(err.unwrap_err().keys(), vec!["auth_rate_limit.methods"]);
    /// # Ok::<(), warden::ConfigError>(())
    /// ```
    pub auth_rate_limit: AuthRateLimitConfig,
    /// Browser security headers, validated and built into a
    /// [`SecurityHeadersConfig`] (`headers.middleware`).
    pub headers: HeadersSettings,
    /// Settings of the actor runtime (from `[runtime]`, `[store]`, `[audit]`, `[auth]`,
    /// `[passwords]`, `[lockout]`, `[ratelimit]` and `server.data_dir`): `runtime.audit` the
    /// sinks, retention, spike alerts and aggregation of `[audit]`, `runtime.tokens` the token
    /// lifetimes and limits of `[auth]`, `runtime.passwords` the argon2id parameters and pool
    /// of `[passwords]`, `runtime.lockout` the
    /// [`LockoutPolicy`](warden_actors::lockout::LockoutPolicy) of `[lockout]`,
    /// `runtime.ratelimit` the
    /// [`RateLimitSettings`](warden_actors::ratelimit::RateLimitSettings) of `[ratelimit]`.
    pub runtime: RuntimeConfig,
}

impl Config {
    /// Validates a [`RawConfig`]. In development without a key this generates an ephemeral
    /// one and logs a warning.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] listing every invalid value.
    ///
    /// ```
    /// use warden::{config::RawConfig, Config};
    ///
    /// let mut raw = RawConfig::default();
    /// raw.session.idle_timeout_secs = 0;
    /// let err = Config::from_raw(raw).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "config key `session.idle_timeout_secs`: must be greater than 0"
    /// );
    /// ```
    pub fn from_raw(raw: RawConfig) -> Result<Self, ConfigError> {
        super::validate::validate(raw)
    }

    /// Loads the configuration the way a binary should: the file named by `WARDEN_CONFIG` (or
    /// `config/default.toml` if it exists), then the `WARDEN_*` environment variables.
    /// Shorthand for `ConfigLoader::from_process_env().load()`.
    ///
    /// # Errors
    ///
    /// Any [`ConfigError`]; print it with `{}` for one problem per line.
    ///
    /// ```no_run
    /// let config = warden::Config::load_from_env()?;
    /// println!("listening on {}", config.server.bind);
    /// # Ok::<(), warden::ConfigError>(())
    /// ```
    pub fn load_from_env() -> Result<Self, ConfigError> {
        ConfigLoader::from_process_env().load()
    }
}

impl TryFrom<RawConfig> for Config {
    type Error = ConfigError;

    fn try_from(raw: RawConfig) -> Result<Self, Self::Error> {
        Self::from_raw(raw)
    }
}

/// `[server]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerSettings {
    /// Socket address to listen on.
    pub bind: SocketAddr,
    /// Directory of the embedded store.
    pub data_dir: PathBuf,
    /// Our public origin, `scheme://host[:port]`, lowercase, no trailing slash; compared with
    /// the `Origin` header of unsafe requests.
    pub origin: String,
    /// Accepted `Host` header values: `host`, `host:port`, `[ipv6][:port]` or `*.domain`
    /// wildcards, normalised the way
    /// [`HostPattern`](crate::hosts::HostPattern) displays them (lowercase, no trailing dot,
    /// canonical IPv6), without duplicates. Every entry parses with
    /// [`AllowedHosts::parse`](crate::hosts::AllowedHosts::parse). Never empty: defaults to
    /// the host and port of [`origin`](Self::origin).
    pub allowed_hosts: Vec<String>,
}

/// `[session]`, validated.
///
/// ```
/// use std::time::Duration;
/// use warden::{config::SessionSettings, ConfigLoader};
///
/// let session = ConfigLoader::new().load()?.session;
/// assert_eq!(session.cookie_name, "__Host-session");
/// assert_eq!(session.path, "/");
/// assert_eq!(session.domain, None); // host-only
/// assert!(!session.persistent); // no Max-Age: gone when the browser closes
/// assert!((1..=SessionSettings::MAX_SHARDS).contains(&session.shards));
/// assert_eq!(session.touch_interval, Duration::from_secs(1));
/// assert_eq!(session.max_data_bytes, 16 * 1024);
/// # Ok::<(), warden::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionSettings {
    /// Cookie name.
    pub cookie_name: String,
    /// `Secure` attribute.
    pub secure: bool,
    /// `HttpOnly` attribute.
    pub http_only: bool,
    /// `SameSite` attribute.
    pub same_site: SameSite,
    /// `Path` attribute: starts with `/`; exactly `/` for a `__Host-` cookie.
    pub path: String,
    /// `Domain` attribute, lowercase and without a leading dot; `None` (the default) for a
    /// host-only cookie. Always `None` for a `__Host-` cookie.
    pub domain: Option<String>,
    /// Whether the cookie carries `Max-Age` = [`absolute_timeout`](Self::absolute_timeout);
    /// `false` makes it a browser-session cookie.
    pub persistent: bool,
    /// A session unused for this long expires (greater than 0, at most `absolute_timeout`).
    pub idle_timeout: Duration,
    /// A session expires this long after it was created, however active.
    pub absolute_timeout: Duration,
    /// Number of session actor shards, resolved: `session.shards = 0` becomes the available
    /// parallelism (1 if unknown). Always in `1..=`[`MAX_SHARDS`](Self::MAX_SHARDS).
    pub shards: usize,
    /// How often `last_seen_at` updates are folded into the store (greater than 0, shorter
    /// than `idle_timeout`).
    pub touch_interval: Duration,
    /// Largest serialized session data map accepted, in bytes
    /// (`MIN_DATA_BYTES..=MAX_DATA_BYTES`).
    pub max_data_bytes: usize,
}

impl SessionSettings {
    /// The largest accepted (and resolved) number of session shards.
    pub const MAX_SHARDS: usize = 64;
    /// The smallest accepted `session.max_data_bytes` (1 KiB).
    pub const MIN_DATA_BYTES: usize = 1024;
    /// The largest accepted `session.max_data_bytes` (1 MiB).
    pub const MAX_DATA_BYTES: usize = 1024 * 1024;
}

/// `[auth]`, validated.
///
/// The token settings are also in [`Config::runtime`]`.tokens` (a
/// [`TokenPolicy`](warden_actors::tokens::TokenPolicy)), which is what the token actor uses.
///
/// ```
/// use std::time::Duration;
/// use warden::ConfigLoader;
///
/// let config = ConfigLoader::new()
///     .set("auth.bearer_header", "X-Api-Token")
///     .set("auth.api_token_ttl_secs", 86_400)
///     .load()?;
/// let auth = &config.auth;
/// assert_eq!(auth.login_url, "/login");
/// assert_eq!(auth.bearer_header, "x-api-token"); // lowercased
/// assert_eq!(auth.bearer_scheme, "Bearer");
/// assert_eq!(auth.reset_token_ttl, Duration::from_secs(1800));
/// assert_eq!(auth.api_tokens_per_user, 20);
/// assert_eq!(auth.api_token_ttl, Some(Duration::from_secs(86_400)));
/// assert_eq!(config.runtime.tokens.api_default_ttl, auth.api_token_ttl);
/// # Ok::<(), warden::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthSettings {
    /// Where anonymous browsers are redirected (with `?next=` appended): a local path starting
    /// with a single `/`, printable ASCII, without a query or fragment.
    pub login_url: String,
    /// Header carrying API tokens, lowercase.
    pub bearer_header: String,
    /// Authentication scheme of API tokens, as written (compare case-insensitively).
    pub bearer_scheme: String,
    /// Lifetime of password-reset tokens (greater than 0, at most
    /// [`MAX_RESET_TOKEN_TTL`](Self::MAX_RESET_TOKEN_TTL)).
    pub reset_token_ttl: Duration,
    /// Live API tokens a user may hold; issuing one more revokes the oldest
    /// (`1..=`[`MAX_API_TOKENS_PER_USER`](Self::MAX_API_TOKENS_PER_USER)).
    pub api_tokens_per_user: usize,
    /// Lifetime of API tokens issued without an explicit one; `None` never expires.
    pub api_token_ttl: Option<Duration>,
}

impl AuthSettings {
    /// The longest accepted password-reset token lifetime (a day).
    pub const MAX_RESET_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);
    /// The largest accepted `auth.api_tokens_per_user`.
    pub const MAX_API_TOKENS_PER_USER: usize = 1000;
}

/// `[csrf]`, validated: what the CSRF middleware checks.
///
/// ```
/// use warden::{config::CsrfSettings, ConfigLoader};
///
/// let config = ConfigLoader::new()
///     .set("csrf.header_name", "X-XSRF-Token")
///     .set("csrf.trusted_origins", ["HTTPS://Admin.Example.com:443/"])
///     .set("csrf.exempt_paths", ["/hooks/*", "/billing/webhook"])
///     .load()?;
/// let csrf = &config.csrf;
/// assert!(csrf.enabled);
/// assert_eq!(csrf.header_name, "x-xsrf-token"); // lowercased
/// assert_eq!(csrf.field_name, "csrf_token");
/// assert_eq!(csrf.cookie_name, "__Host-csrf");
/// // Normalised the way browsers serialise `Origin`: compare exactly.
/// assert_eq!(csrf.trusted_origins, vec!["https://admin.example.com".to_string()]);
/// assert!(!csrf.trust_same_site);
/// assert_eq!(csrf.exempt_paths, vec!["/hooks/*".to_string(), "/billing/webhook".to_string()]);
/// assert_eq!(csrf.body_limit, 64 * 1024);
/// assert!(csrf.bearer_exempt);
///
/// let err = ConfigLoader::new().set("csrf.trusted_origins", ["null"]).load().unwrap_err();
/// assert_eq!(err.keys(), vec!["csrf.trusted_origins"]);
/// # Ok::<(), warden::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CsrfSettings {
    /// Whether unsafe requests (every method but GET, HEAD and OPTIONS) are checked. Always
    /// `true` in production. TRACE is refused either way.
    pub enabled: bool,
    /// Header carrying the masked token, lowercase (a valid header name).
    pub header_name: String,
    /// Form field carrying the masked token: non-empty, only `[A-Za-z0-9_.-]`.
    pub field_name: String,
    /// Name of the signed pre-session double-submit cookie: a valid cookie name, different
    /// from `session.cookie_name`; a `__Host-`/`__Secure-` name only with `session.secure`.
    pub cookie_name: String,
    /// Further origins allowed to send unsafe requests, besides `server.origin`: each
    /// `http(s)://host[:port]` with a lowercase scheme and host, without the scheme's default
    /// port (443 for `https`, 80 for `http`) and without a trailing slash, i.e. exactly as
    /// browsers serialise the `Origin` header. No duplicates; never `null` or a wildcard; only
    /// `https://` in production.
    pub trusted_origins: Vec<String>,
    /// Accept `Sec-Fetch-Site: same-site` (sibling subdomains).
    pub trust_same_site: bool,
    /// Exempt paths, no duplicates: each starts with `/`, is printable ASCII without `%`, `\`,
    /// `//`, `..`, `.` segments, `?` or `#`, and is either an exact path or a prefix ending in
    /// `/*` (`/hooks/*` exempts every path starting with `/hooks/`). Never `/*` alone. Match
    /// them against the normalised, decoded request path.
    pub exempt_paths: Vec<String>,
    /// Bytes of a form body read to find the token field
    /// (`MIN_BODY_LIMIT..=MAX_BODY_LIMIT`); larger bodies get 413.
    pub body_limit: usize,
    /// Requests carrying a bearer token and no cookies skip the token check.
    pub bearer_exempt: bool,
}

impl CsrfSettings {
    /// The smallest accepted `csrf.body_limit` (1 KiB).
    pub const MIN_BODY_LIMIT: usize = 1024;
    /// The largest accepted `csrf.body_limit` (16 MiB).
    pub const MAX_BODY_LIMIT: usize = 16 * 1024 * 1024;
}

/// `[proxy]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxySettings {
    /// Networks of trusted reverse proxies (bare IPs become `/32` or `/128`).
    pub trusted_proxies: Vec<IpNet>,
    /// The header trusted proxies write.
    pub forwarded_header: ForwardedHeader,
    /// Header carrying the request id, lowercase.
    pub request_id_header: String,
    /// Take the request id from a trusted proxy's header.
    pub trust_request_id: bool,
}

impl ProxySettings {
    /// A [`ClientIpResolver`] trusting [`trusted_proxies`](Self::trusted_proxies) and reading
    /// [`forwarded_header`](Self::forwarded_header).
    ///
    /// ```
    /// use warden::ConfigLoader;
    ///
    /// let config = ConfigLoader::new().load()?;
    /// let resolver = config.proxy.client_ip_resolver();
    /// assert!(resolver.proxies().is_empty()); // trust no one by default
    /// # Ok::<(), warden::ConfigError>(())
    /// ```
    pub fn client_ip_resolver(&self) -> ClientIpResolver {
        ClientIpResolver::new(
            TrustedProxies::new(self.trusted_proxies.clone()),
            self.forwarded_header,
        )
    }
}

/// `[lockout]`, validated: the HTTP side of the login lockout.
///
/// The counters' thresholds, windows and backoff are the
/// [`LockoutPolicy`](warden_actors::lockout::LockoutPolicy) in [`Config::runtime`]`.lockout`,
/// which is what the lockout actor uses.
///
/// ```
/// use std::time::Duration;
/// use warden::{lockout::LockedResponse, ConfigLoader};
///
/// let config = ConfigLoader::new()
///     .set("lockout.max_failures", 3)
///     .set("lockout.locked_response", "too_many_requests")
///     .load()?;
/// assert_eq!(config.lockout.locked_response, LockedResponse::TooManyRequests);
/// let policy = &config.runtime.lockout;
/// assert_eq!(policy.max_failures, 3);
/// assert_eq!(policy.base_lock, Duration::from_secs(300));
/// assert_eq!(policy.spray_threshold, 0); // off unless configured
///
/// let err = ConfigLoader::new().set("lockout.multiplier", 0.5).load().unwrap_err();
/// assert_eq!(err.keys(), vec!["lockout.multiplier"]);
/// # Ok::<(), warden::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LockoutSettings {
    /// How a locked attempt is answered: the generic 401 of a wrong password (default), or
    /// 429 with `Retry-After`.
    pub locked_response: LockedResponse,
}

impl LockoutSettings {
    /// The [`LoginLockoutConfig`] to pass to
    /// [`LoginLockout::with_config`](crate::lockout::LoginLockout::with_config).
    ///
    /// ```
    /// use warden::{lockout::LockedResponse, ConfigLoader};
    ///
    /// let config = ConfigLoader::new().load()?;
    /// let login = config.lockout.login_lockout_config();
    /// assert_eq!(login.locked_response, LockedResponse::Generic401);
    /// # Ok::<(), warden::ConfigError>(())
    /// ```
    pub fn login_lockout_config(&self) -> LoginLockoutConfig {
        LoginLockoutConfig::default().locked_response(self.locked_response)
    }
}

/// `[headers]`, validated: the browser security headers.
///
/// Every value was checked by building it, and [`middleware`](Self::middleware) is the
/// [`SecurityHeadersConfig`] built from them: hand it to
/// [`SecurityHeadersMiddleware::new`](crate::headers::SecurityHeadersMiddleware::new). The
/// other fields are what it was built from; changing one does not rebuild `middleware` (call
/// [`to_middleware_config`](Self::to_middleware_config) for that).
///
/// ```
/// use std::time::Duration;
/// use warden::{headers::FrameOptions, ConfigLoader};
///
/// let config = ConfigLoader::new()
///     .set("headers.frame_options", "SAMEORIGIN")
///     .set("headers.hsts_max_age_secs", 31_536_000)
///     .load()?;
/// let headers = &config.headers;
/// assert_eq!(headers.frame_options, Some(FrameOptions::SameOrigin));
/// assert_eq!(headers.hsts.unwrap().max_age(), Duration::from_secs(31_536_000));
/// assert!(headers.csp_nonce);
/// let middleware = &headers.middleware;
/// assert_eq!(middleware.frame_options(), Some(FrameOptions::SameOrigin));
/// assert!(middleware.uses_nonce());
/// assert_eq!(
///     middleware.csp().unwrap().to_string(),
///     "default-src 'self'; script-src 'self' 'nonce-{nonce}'; \
///      style-src 'self' 'nonce-{nonce}'; frame-ancestors 'none'; object-src 'none'; \
///      base-uri 'self'; form-action 'self'"
/// );
///
/// let err = ConfigLoader::new()
///     .set("headers.content_security_policy", "default-src 'self'; script-src *; img-src")
///     .load()
///     .unwrap_err();
/// assert_eq!(err.keys(), vec!["headers.content_security_policy"]);
/// # Ok::<(), warden::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HeadersSettings {
    /// `X-Frame-Options`; `None`: not sent.
    pub frame_options: Option<FrameOptions>,
    /// Whether `X-Content-Type-Options: nosniff` is sent.
    pub content_type_options: bool,
    /// `Referrer-Policy`; `None`: not sent.
    pub referrer_policy: Option<ReferrerPolicy>,
    /// The enforced `Content-Security-Policy` (with the nonce when
    /// [`csp_nonce`](Self::csp_nonce)); `None`: not sent (never in production). Strict
    /// ([`ContentSecurityPolicy::is_strict`]) in production.
    pub content_security_policy: Option<ContentSecurityPolicy>,
    /// Whether a per-request nonce goes into both policies.
    pub csp_nonce: bool,
    /// The `Content-Security-Policy-Report-Only` policy.
    pub csp_report_only: Option<ContentSecurityPolicy>,
    /// `Permissions-Policy`; `None`: not sent.
    pub permissions_policy: Option<PermissionsPolicy>,
    /// `Cross-Origin-Opener-Policy`; `None`: not sent.
    pub cross_origin_opener_policy: Option<CrossOriginOpenerPolicy>,
    /// `Cross-Origin-Resource-Policy`; `None`: not sent.
    pub cross_origin_resource_policy: Option<CrossOriginResourcePolicy>,
    /// `Cross-Origin-Embedder-Policy`; `None`: not sent.
    pub cross_origin_embedder_policy: Option<CrossOriginEmbedderPolicy>,
    /// `Strict-Transport-Security`; `None` (`hsts_max_age_secs = 0`): not sent. At least a
    /// year in production.
    pub hsts: Option<Hsts>,
    /// Whether HSTS is sent even when the request did not arrive over HTTPS.
    pub force_hsts: bool,
    /// Whether these headers replace the same headers set by a handler.
    pub override_handler_headers: bool,
    /// The middleware configuration built from the fields above.
    pub middleware: SecurityHeadersConfig,
}

impl HeadersSettings {
    /// Builds a [`SecurityHeadersConfig`] from the fields (other than `middleware`), e.g. after
    /// changing one.
    ///
    /// # Errors
    ///
    /// A [`HeaderConfigError`] the builder refuses (never for values straight from
    /// validation: they were built once already).
    pub fn to_middleware_config(&self) -> Result<SecurityHeadersConfig, HeaderConfigError> {
        let mut builder = SecurityHeadersConfig::builder()
            .frame_options(self.frame_options)
            .content_type_options(self.content_type_options)
            .referrer_policy(self.referrer_policy)
            .permissions_policy(self.permissions_policy.clone())
            .cross_origin_opener_policy(self.cross_origin_opener_policy)
            .cross_origin_resource_policy(self.cross_origin_resource_policy)
            .cross_origin_embedder_policy(self.cross_origin_embedder_policy)
            .hsts(self.hsts)
            .force_hsts(self.force_hsts)
            .override_handler_headers(self.override_handler_headers);
        builder = match &self.content_security_policy {
            Some(csp) => builder.csp(csp.clone()),
            None => builder.without_csp(),
        };
        if let Some(report_only) = &self.csp_report_only {
            builder = builder.csp(report_only.clone());
        }
        builder.build()
    }
}
