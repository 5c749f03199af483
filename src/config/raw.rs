//! The configuration exactly as written in TOML, before validation.
//!
//! Every struct rejects unknown keys and fills missing ones with the secure default, so a
//! partial file works and a typo is an error instead of a silently ignored setting.

use std::{fmt, path::PathBuf};

use serde::{Deserialize, Serialize};

use warden_actors::{DEFAULT_AGGREGATE_NAMES, DEFAULT_SPIKE_KINDS};

use crate::{
    client_ip::ForwardedHeader,
    lockout::LockedResponse,
    ratelimit::{DEFAULT_PATHS, DEFAULT_POLICY_NAME},
};

/// Which rules apply: development tolerates a missing secret (an ephemeral one is generated),
/// production does not and also requires `Secure` cookies and an `https://` origin.
///
/// ```
/// use warden::Profile;
///
/// assert_eq!(Profile::default(), Profile::Development);
/// assert!(Profile::Production.is_production());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Profile {
    /// Local development (the default).
    #[default]
    Development,
    /// A deployment: stricter validation.
    Production,
}

impl Profile {
    /// Whether this is [`Profile::Production`].
    pub fn is_production(self) -> bool {
        matches!(self, Self::Production)
    }

    /// The name used in configuration files and `WARDEN_PROFILE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Production => "production",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `SameSite` attribute of the session cookie.
///
/// ```
/// use warden::config::SameSite;
///
/// assert_eq!(SameSite::default(), SameSite::Lax);
/// assert_eq!(SameSite::Strict.as_str(), "Strict");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SameSite {
    /// Never sent on cross-site requests.
    Strict,
    /// Sent on top-level cross-site navigations only (the default).
    #[default]
    Lax,
    /// Always sent; requires `Secure`.
    None,
}

impl SameSite {
    /// The attribute value as written in a `Set-Cookie` header.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "Strict",
            Self::Lax => "Lax",
            Self::None => "None",
        }
    }
}

impl fmt::Display for SameSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<SameSite> for actix_web::cookie::SameSite {
    fn from(s: SameSite) -> Self {
        match s {
            SameSite::Strict => Self::Strict,
            SameSite::Lax => Self::Lax,
            SameSite::None => Self::None,
        }
    }
}

/// The whole configuration as written in TOML (see `config/default.toml`).
///
/// `RawConfig::default()` is the secure built-in default; validate it into a
/// [`Config`](super::Config) with [`Config::from_raw`](super::Config::from_raw).
///
/// ```
/// use warden::config::RawConfig;
///
/// let raw = RawConfig::default();
/// assert_eq!(raw.server.bind, "127.0.0.1:8080");
/// assert!(raw.session.secure);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RawConfig {
    /// `profile`: development or production. Env: `WARDEN_PROFILE`.
    pub profile: Profile,
    /// `[server]`.
    pub server: RawServer,
    /// `[secrets]`.
    pub secrets: RawSecrets,
    /// `[session]`.
    pub session: RawSession,
    /// `[runtime]`.
    pub runtime: RawRuntime,
    /// `[store]`.
    pub store: RawStore,
    /// `[audit]`.
    pub audit: RawAudit,
    /// `[proxy]`.
    pub proxy: RawProxy,
    /// `[auth]`.
    pub auth: RawAuth,
    /// `[passwords]`.
    pub passwords: RawPasswords,
    /// `[csrf]`.
    pub csrf: RawCsrf,
    /// `[lockout]`.
    pub lockout: RawLockout,
    /// `[ratelimit]`.
    pub ratelimit: RawRateLimit,
    /// `[auth_rate_limit]`.
    pub auth_rate_limit: RawAuthRateLimit,
    /// `[headers]`.
    pub headers: RawHeaders,
}

/// `[server]`: where to listen and who we are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RawServer {
    /// Socket address to listen on. Default `127.0.0.1:8080`. Env: `WARDEN_BIND`.
    pub bind: String,
    /// Directory of the embedded store. Default `./data`. Env: `WARDEN_DATA_DIR`.
    pub data_dir: PathBuf,
    /// The public origin (`https://host[:port]`), used for CSRF origin checks. Default: unset,
    /// meaning `http://<bind>`. Env: `WARDEN_ORIGIN`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Accepted `Host` header values: `host`, `host:port`, `[ipv6]:port` or a `*.example.com`
    /// wildcard (any subdomain, never `example.com` itself; a bare `*` is refused), exactly
    /// what [`AllowedHosts::parse`](crate::hosts::AllowedHosts::parse) accepts. Default: empty,
    /// meaning the host of `origin`.
    pub allowed_hosts: Vec<String>,
}

impl Default for RawServer {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".to_owned(),
            data_dir: PathBuf::from("./data"),
            origin: None,
            allowed_hosts: Vec::new(),
        }
    }
}

/// `[secrets]`: signing keys, current first. Prefer `WARDEN_SECRET_KEY` and
/// `WARDEN_PREVIOUS_SECRET_KEYS` over writing keys into a file.
///
/// `Debug` shows only how many keys there are.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RawSecrets {
    /// The current key, then previous keys still accepted for verification (rotation).
    /// Default: empty (development generates an ephemeral key; production refuses to start).
    pub keys: Vec<String>,
}

impl fmt::Debug for RawSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawSecrets")
            .field("keys", &format_args!("[redacted; {}]", self.keys.len()))
            .finish()
    }
}

/// `[session]`: the session cookie, its lifetime and the session actors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RawSession {
    /// Cookie name. Default `__Host-session`: the `__Host-` prefix makes browsers require
    /// `Secure` and `Path=/` and forbid `Domain`, pinning the cookie to this exact host.
    pub cookie_name: String,
    /// `Secure` attribute. Default true.
    pub secure: bool,
    /// `HttpOnly` attribute. Default true.
    pub http_only: bool,
    /// `SameSite` attribute. Default `lax`.
    pub same_site: SameSite,
    /// `Path` attribute. Default `/` (required by the `__Host-` prefix).
    pub path: String,
    /// `Domain` attribute. Default: unset, a host-only cookie (recommended; not allowed with
    /// the `__Host-` prefix).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// `false`: a browser-session cookie (no `Max-Age`); `true`: `Max-Age` is the absolute
    /// timeout. Default false.
    pub persistent: bool,
    /// A session unused for this long expires. Default 1800 (30 min).
    pub idle_timeout_secs: u64,
    /// A session expires this long after login, however active. Default 43200 (12 h).
    pub absolute_timeout_secs: u64,
    /// Number of session actor shards (one arbiter each); 0 means the available parallelism.
    /// At most 64. Default 0.
    pub shards: usize,
    /// How often (milliseconds) `last_seen_at` updates are folded into the store; must be
    /// shorter than the idle timeout. Default 1000.
    pub touch_interval_ms: u64,
    /// Largest serialized session data map accepted, in bytes (1 KiB to 1 MiB).
    /// Default 16384.
    pub max_data_bytes: usize,
}

impl Default for RawSession {
    fn default() -> Self {
        Self {
            cookie_name: "__Host-session".to_owned(),
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            path: "/".to_owned(),
            domain: None,
            persistent: false,
            idle_timeout_secs: 1800,
            absolute_timeout_secs: 43_200,
            shards: 0,
            touch_interval_ms: 1000,
            max_data_bytes: 16 * 1024,
        }
    }
}

/// `[runtime]`: the actor runtime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RawRuntime {
    /// Bounded mailbox capacity of every actor. Default 1024.
    pub mailbox_capacity: usize,
    /// How long a caller waits for an actor before failing closed. Default 2000.
    pub ask_timeout_ms: u64,
}

impl Default for RawRuntime {
    fn default() -> Self {
        Self {
            mailbox_capacity: 1024,
            ask_timeout_ms: 2000,
        }
    }
}

/// `[store]`: the embedded sled store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RawStore {
    /// Background flush period. Default 500.
    pub flush_every_ms: u64,
    /// How often expired records are swept. Default 1000.
    pub sweep_interval_ms: u64,
    /// At most this many expired records removed per sweep. Default 512.
    pub sweep_batch: usize,
    /// Page cache size in MiB. Default 64.
    pub cache_capacity_mb: u64,
}

impl Default for RawStore {
    fn default() -> Self {
        Self {
            flush_every_ms: 500,
            sweep_interval_ms: 1000,
            sweep_batch: 512,
            cache_capacity_mb: 64,
        }
    }
}

/// `[audit]`: where security events go, how long they are kept, which spikes raise an
/// `alert.spike` and which floods are aggregated.
///
/// ```
/// use warden::{
///     actors::{DEFAULT_AGGREGATE_NAMES, DEFAULT_SPIKE_KINDS},
///     config::RawAudit,
/// };
///
/// let a = RawAudit::default();
/// assert!(a.tracing_sink && a.jsonl_path.is_none());
/// assert_eq!(a.spike_kinds, DEFAULT_SPIKE_KINDS);
/// assert_eq!((a.spike_window_secs, a.spike_threshold), (60, 20));
/// assert_eq!(a.aggregate_names, DEFAULT_AGGREGATE_NAMES);
/// assert_eq!((a.aggregate_window_secs, a.aggregate_burst), (60, 50));
/// assert_eq!((a.aggregate_name_budget, a.aggregate_max_keys), (500, 10_000));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RawAudit {
    /// Log every event through `tracing`. Default true.
    pub tracing_sink: bool,
    /// Append every event as a JSON line to this file. Default: unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jsonl_path: Option<PathBuf>,
    /// Per-sink bounded queue. Default 1024.
    pub sink_queue: usize,
    /// Per-subscriber bounded queue. Default 256.
    pub subscriber_queue: usize,
    /// Persist events in the store. Default true.
    pub persist: bool,
    /// Prune persisted events older than this. Default 90.
    pub retention_max_age_days: u64,
    /// Keep at most this many persisted events. Default 1,000,000.
    pub retention_max_count: u64,
    /// How often retention runs. Default 60.
    pub retention_interval_secs: u64,
    /// Event kinds watched for spikes: dotted names of `a-z`, `0-9`, `.` and `_` (at most 64
    /// characters), each a prefix, optionally ending in `*`. Default
    /// [`DEFAULT_SPIKE_KINDS`](warden_actors::DEFAULT_SPIKE_KINDS).
    pub spike_kinds: Vec<String>,
    /// The spike detector's sliding window, in seconds; 0 turns spike alerts off (refused in
    /// production). Default 60.
    pub spike_window_secs: u64,
    /// Events of one kind within the window that raise one `alert.spike`; 0 turns spike alerts
    /// off (refused in production). Default 20.
    pub spike_threshold: u64,
    /// Flood-prone event names (same syntax as `spike_kinds`) whose repeats are aggregated per
    /// (name, client IP); must-log events never are. Default
    /// [`DEFAULT_AGGREGATE_NAMES`](warden_actors::DEFAULT_AGGREGATE_NAMES).
    pub aggregate_names: Vec<String>,
    /// The aggregation window, in seconds; 0 turns aggregation off. Default 60.
    pub aggregate_window_secs: u64,
    /// Events per (name, client IP) and window recorded one by one before the rest are only
    /// counted. Default 50.
    pub aggregate_burst: u64,
    /// Events per name and window recorded one by one, whatever their client IPs, before the
    /// rest are only counted. Default 500.
    pub aggregate_name_budget: u64,
    /// Most (name, client IP) keys tracked at once (greater than 0); further addresses are
    /// counted under one overflow key per name. Default 10000.
    pub aggregate_max_keys: usize,
}

impl RawAudit {
    /// The longest accepted spike-kind or aggregate-name pattern, without its trailing `*`
    /// (event names are cut to this length).
    pub const MAX_PATTERN_LEN: usize = 64;
}

impl Default for RawAudit {
    fn default() -> Self {
        Self {
            tracing_sink: true,
            jsonl_path: None,
            sink_queue: 1024,
            subscriber_queue: 256,
            persist: true,
            retention_max_age_days: 90,
            retention_max_count: 1_000_000,
            retention_interval_secs: 60,
            spike_kinds: DEFAULT_SPIKE_KINDS.map(str::to_owned).to_vec(),
            spike_window_secs: 60,
            spike_threshold: 20,
            aggregate_names: DEFAULT_AGGREGATE_NAMES.map(str::to_owned).to_vec(),
            aggregate_window_secs: 60,
            aggregate_burst: 50,
            aggregate_name_budget: 500,
            aggregate_max_keys: 10_000,
        }
    }
}

/// `[proxy]`: which peers may tell us the client's address and request id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RawProxy {
    /// CIDRs or bare IPs of trusted reverse proxies. Default: empty (trust no one).
    pub trusted_proxies: Vec<String>,
    /// The header trusted proxies write. Default `x-forwarded-for`.
    pub forwarded_header: ForwardedHeader,
    /// Header carrying the request id. Default `x-request-id`.
    pub request_id_header: String,
    /// Take the request id from a trusted proxy's header. Default true.
    pub trust_request_id: bool,
}

impl Default for RawProxy {
    fn default() -> Self {
        Self {
            trusted_proxies: Vec::new(),
            forwarded_header: ForwardedHeader::XForwardedFor,
            request_id_header: "x-request-id".to_owned(),
            trust_request_id: true,
        }
    }
}

/// `[auth]`: how users are sent to log in, how API tokens are presented, token lifetimes.
///
/// ```
/// use warden::config::RawAuth;
///
/// let auth = RawAuth::default();
/// assert_eq!(auth.login_url, "/login");
/// assert_eq!(auth.reset_token_ttl_secs, 1800);
/// assert_eq!(auth.api_token_ttl_secs, None); // API tokens never expire by default
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RawAuth {
    /// Where anonymous browsers are redirected (with `?next=`): a local path starting with `/`,
    /// without a query or fragment. Default `/login`.
    pub login_url: String,
    /// Header carrying API tokens. Default `authorization`.
    pub bearer_header: String,
    /// Authentication scheme of API tokens (compared case-insensitively). Default `Bearer`.
    pub bearer_scheme: String,
    /// Password-reset tokens expire after this many seconds (1 to 86400). Default 1800.
    pub reset_token_ttl_secs: u64,
    /// Live API tokens a user may hold; issuing one more revokes the oldest (1 to 1000).
    /// Default 20.
    pub api_tokens_per_user: usize,
    /// Default lifetime of API tokens, in seconds. Default: unset, tokens never expire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_token_ttl_secs: Option<u64>,
}

impl Default for RawAuth {
    fn default() -> Self {
        Self {
            login_url: "/login".to_owned(),
            bearer_header: "authorization".to_owned(),
            bearer_scheme: "Bearer".to_owned(),
            reset_token_ttl_secs: 1800,
            api_tokens_per_user: 20,
            api_token_ttl_secs: None,
        }
    }
}

/// `[passwords]`: argon2id parameters, the password length policy and the hashing pool.
///
/// Parameters below the OWASP floor are always refused; there is deliberately no switch for
/// cheap (insecure) parameters in configuration.
///
/// ```
/// use warden::config::RawPasswords;
///
/// let p = RawPasswords::default();
/// assert_eq!((p.memory_kib, p.iterations, p.parallelism), (19_456, 2, 1));
/// assert_eq!((p.min_len, p.max_len), (8, 1024));
/// assert_eq!((p.threads, p.queue), (0, 64));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RawPasswords {
    /// argon2id memory cost `m`, in KiB (19456 to 4194304). Default 19456 (19 MiB).
    pub memory_kib: u32,
    /// argon2id time cost `t` (at least 2). Default 2.
    pub iterations: u32,
    /// argon2id lanes `p` (1 to 64). Default 1.
    pub parallelism: u32,
    /// Shortest accepted new password, in bytes (at least 8). Default 8.
    pub min_len: usize,
    /// Longest accepted password, in bytes (`min_len` to 65536). Default 1024.
    pub max_len: usize,
    /// Hashing pool threads; 0 means the available parallelism. At most 256. Default 0.
    pub threads: usize,
    /// Hashing jobs that may wait; beyond this, callers get a fast "busy". Default 64.
    pub queue: usize,
}

impl RawPasswords {
    /// The smallest accepted `memory_kib`: the OWASP floor, 19 MiB.
    pub const MIN_MEMORY_KIB: u32 = 19_456;
    /// The largest accepted `memory_kib`: 4 GiB per hash (each pool thread holds this much).
    pub const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
    /// The smallest accepted `iterations`: the OWASP floor.
    pub const MIN_ITERATIONS: u32 = 2;
    /// The largest accepted `parallelism`.
    pub const MAX_PARALLELISM: u32 = 64;
    /// The largest accepted `threads`.
    pub const MAX_THREADS: usize = 256;
}

impl Default for RawPasswords {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            min_len: 8,
            max_len: 1024,
            threads: 0,
            queue: 64,
        }
    }
}

/// `[csrf]`: cross-site request forgery protection (checked by the CSRF middleware).
///
/// ```
/// use warden::config::RawCsrf;
///
/// let csrf = RawCsrf::default();
/// assert!(csrf.enabled);
/// assert_eq!(csrf.header_name, "x-csrf-token");
/// assert_eq!(csrf.field_name, "csrf_token");
/// assert_eq!(csrf.cookie_name, "__Host-csrf");
/// assert!(csrf.trusted_origins.is_empty());
/// assert!(!csrf.trust_same_site);
/// assert!(csrf.exempt_paths.is_empty());
/// assert_eq!(csrf.body_limit, 64 * 1024);
/// assert!(csrf.bearer_exempt);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RawCsrf {
    /// Check unsafe requests (every method but GET, HEAD and OPTIONS; TRACE is always
    /// refused). Cannot be `false` in production. Default true.
    pub enabled: bool,
    /// Header carrying the masked token (JavaScript clients). Default `x-csrf-token`.
    pub header_name: String,
    /// Form field carrying the masked token (HTML forms): letters, digits, `_`, `.` and `-`.
    /// Default `csrf_token`.
    pub field_name: String,
    /// Name of the signed pre-session double-submit cookie (login CSRF before any session
    /// exists). A `__Host-` or `__Secure-` name requires `session.secure = true`.
    /// Default `__Host-csrf`.
    pub cookie_name: String,
    /// Further origins (`scheme://host[:port]`, exact) allowed to send unsafe requests, besides
    /// `server.origin`. `null` and wildcards are refused; production requires `https://`.
    /// Default: empty.
    pub trusted_origins: Vec<String>,
    /// Accept `Sec-Fetch-Site: same-site` (requests from sibling subdomains). Default false.
    pub trust_same_site: bool,
    /// Paths exempt from the check, matched against the normalised request path: an exact
    /// path, or a prefix ending in `/*`. Default: empty.
    pub exempt_paths: Vec<String>,
    /// Bytes of a form body read to find the token field (1 KiB to 16 MiB); larger bodies get
    /// 413. Default 65536.
    pub body_limit: usize,
    /// Requests carrying a bearer token and no cookies skip the token check (they cannot be
    /// forged by a browser). Default true.
    pub bearer_exempt: bool,
}

impl Default for RawCsrf {
    fn default() -> Self {
        Self {
            enabled: true,
            header_name: "x-csrf-token".to_owned(),
            field_name: "csrf_token".to_owned(),
            cookie_name: "__Host-csrf".to_owned(),
            trusted_origins: Vec::new(),
            trust_same_site: false,
            exempt_paths: Vec::new(),
            body_limit: 64 * 1024,
            bearer_exempt: true,
        }
    }
}

/// `[lockout]`: login lockout thresholds and backoff (the lockout actor's
/// [`LockoutPolicy`](warden_actors::lockout::LockoutPolicy)) and how a locked attempt is
/// answered.
///
/// ```
/// use warden::{config::RawLockout, lockout::LockedResponse};
///
/// let l = RawLockout::default();
/// assert_eq!((l.max_failures, l.account_max_failures, l.ip_max_failures), (5, 20, 50));
/// assert_eq!((l.window_secs, l.base_lock_secs, l.max_lock_secs), (900, 300, 3600));
/// assert_eq!(l.multiplier, 2.0);
/// assert_eq!(l.trusted_ip_ttl_secs, 30 * 86_400);
/// assert_eq!(l.max_tracked_keys, 100_000);
/// assert_eq!((l.spray_threshold, l.spray_window_secs), (0, 60)); // spray detector off
/// assert_eq!(l.locked_response, LockedResponse::Generic401);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RawLockout {
    /// Failures of one (account, client network) pair that lock the pair. Default 5.
    pub max_failures: u32,
    /// Failures of one account, across networks, that lock the account everywhere except on
    /// trusted networks (bounded backoff). Default 20.
    pub account_max_failures: u32,
    /// Failures from one client network (an IPv4 address, an IPv6 /64), whatever the login
    /// name, that lock the network. Default 50.
    pub ip_max_failures: u32,
    /// A counter (and its backoff) is forgotten this many seconds after its last failure or
    /// the end of its last lock. Default 900.
    pub window_secs: u64,
    /// The first lock's length, in seconds (at least 1). Default 300.
    pub base_lock_secs: u64,
    /// Each further lock of the same counter lasts this many times longer (at least 1.0):
    /// `base_lock_secs * multiplier^(locks so far)`, capped at `max_lock_secs`. Default 2.0.
    pub multiplier: f64,
    /// The longest lock, in seconds (at least `base_lock_secs`, at most a day). Default 3600.
    pub max_lock_secs: u64,
    /// Networks an account logged in from successfully within this many seconds are exempt
    /// from the account-wide lock; 0 turns this off. Default 2592000 (30 days).
    pub trusted_ip_ttl_secs: u64,
    /// Counters kept in the lockout actor's memory (a cache of the store). Default 100000.
    pub max_tracked_keys: usize,
    /// Failures across all accounts within `spray_window_secs` that raise an `alert.spike`
    /// event; 0 turns this detector off (the audit actor's spike alerting already watches
    /// `auth.login.failure`). Default 0.
    pub spray_threshold: u32,
    /// The spray detector's window, in seconds. Default 60.
    pub spray_window_secs: u64,
    /// How a locked attempt is answered: `generic_401` (exactly like a wrong password; the
    /// default) or `too_many_requests` (429 with `Retry-After`).
    #[serde(serialize_with = "serialize_locked_response")]
    pub locked_response: LockedResponse,
}

impl RawLockout {
    /// The largest accepted `max_lock_secs` (a day): a longer lock mostly helps an attacker
    /// who wants to keep a victim out.
    pub const MAX_LOCK_SECS: u64 = 24 * 3600;
}

impl Default for RawLockout {
    fn default() -> Self {
        Self {
            max_failures: 5,
            account_max_failures: 20,
            ip_max_failures: 50,
            window_secs: 900,
            base_lock_secs: 300,
            multiplier: 2.0,
            max_lock_secs: 3600,
            trusted_ip_ttl_secs: 30 * 24 * 3600,
            max_tracked_keys: 100_000,
            spray_threshold: 0,
            spray_window_secs: 60,
            locked_response: LockedResponse::Generic401,
        }
    }
}

/// `[ratelimit]`: how the rate-limit actor runs (the limits themselves are in
/// `[auth_rate_limit]`).
///
/// ```
/// use warden::config::RawRateLimit;
///
/// let r = RawRateLimit::default();
/// assert_eq!(r.shards, 0); // the available parallelism
/// assert_eq!(r.sweep_interval_secs, 10);
/// assert_eq!(r.persist_interval_ms, 100);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RawRateLimit {
    /// Number of rate-limit actor shards (one arbiter each); 0 means the available
    /// parallelism. At most 64. Default 0.
    pub shards: usize,
    /// How often (seconds) each shard drops the keys whose state has decayed, giving the
    /// memory back (1 to 86400). Default 10.
    pub sweep_interval_secs: u64,
    /// Write-behind period (milliseconds) of the limiter state; 0 writes every change before
    /// answering (slower). At most 60000: a crash forgets at most this much. Default 100.
    pub persist_interval_ms: u64,
}

impl RawRateLimit {
    /// The largest accepted (and resolved) number of shards.
    pub const MAX_SHARDS: usize = 64;
    /// The largest accepted `sweep_interval_secs` (a day).
    pub const MAX_SWEEP_INTERVAL_SECS: u64 = 24 * 3600;
    /// The largest accepted `persist_interval_ms` (a minute).
    pub const MAX_PERSIST_INTERVAL_MS: u64 = 60_000;
}

impl Default for RawRateLimit {
    fn default() -> Self {
        Self {
            shards: 0,
            sweep_interval_secs: 10,
            persist_interval_ms: 100,
        }
    }
}

/// `[auth_rate_limit]`: which requests
/// [`AuthRateLimitMiddleware`](crate::ratelimit::AuthRateLimitMiddleware) limits, and under
/// which policy. The defaults are
/// [`AuthRateLimitConfig::default`](crate::ratelimit::AuthRateLimitConfig::default)'s.
///
/// ```
/// use warden::config::RawAuthRateLimit;
///
/// let a = RawAuthRateLimit::default();
/// assert_eq!(a.methods, ["POST"]);
/// assert_eq!(a.paths, ["/login", "/signup", "/register", "/password-reset"]);
/// assert_eq!(a.policy_name, "auth");
/// assert_eq!((a.limit, a.period_secs, a.burst), (10, 60, None)); // burst = limit
/// assert!(!a.case_sensitive && a.headers_on_allowed && a.limit_unnormalizable);
/// assert!(a.policies.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RawAuthRateLimit {
    /// The limited HTTP methods. Default `["POST"]`.
    pub methods: Vec<String>,
    /// The limited paths (each with everything below it), under the default policy. In
    /// production they must cover `/login` and `/password-reset`. Default `/login`, `/signup`,
    /// `/register`, `/password-reset`.
    pub paths: Vec<String>,
    /// Name of the default policy (1 to 64 of `A-Za-z0-9_.-`). Default `auth`.
    pub policy_name: String,
    /// Requests per `period_secs` under the default policy (at least 1). Default 10.
    pub limit: u32,
    /// The default policy's period, in seconds (at least 1). Default 60.
    pub period_secs: u64,
    /// Requests allowed at once under the default policy (at least 1). Default: unset, meaning
    /// `limit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    /// Match paths case-sensitively. Default false.
    pub case_sensitive: bool,
    /// Send the `RateLimit` headers on allowed responses too (always on 429). Default true.
    pub headers_on_allowed: bool,
    /// Charge requests whose path cannot be normalised to the default policy. Default true.
    pub limit_unnormalizable: bool,
    /// Per-path policies (`[[auth_rate_limit.policies]]`); the longest matching path wins.
    /// Default: none.
    pub policies: Vec<RawAuthRatePolicy>,
}

impl Default for RawAuthRateLimit {
    fn default() -> Self {
        Self {
            methods: vec!["POST".to_owned()],
            paths: DEFAULT_PATHS.map(str::to_owned).to_vec(),
            policy_name: DEFAULT_POLICY_NAME.to_owned(),
            limit: 10,
            period_secs: 60,
            burst: None,
            case_sensitive: false,
            headers_on_allowed: true,
            limit_unnormalizable: true,
            policies: Vec::new(),
        }
    }
}

/// One `[[auth_rate_limit.policies]]` entry: `path` (and everything below it) limited under
/// its own policy. Every key but `burst` is required.
///
/// ```
/// use warden::ConfigLoader;
///
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("warden.toml");
/// std::fs::write(
///     &path,
///     "[[auth_rate_limit.policies]]\npath = \"/password-reset\"\nname = \"reset\"\n\
///      limit = 5\nperiod_secs = 3600\n",
/// )
/// .unwrap();
/// let config = ConfigLoader::new().file(&path).load()?;
/// let (path, policy) = config.auth_rate_limit.rules().next().unwrap(); // longest first
/// assert_eq!((path, policy.name.as_str(), policy.burst), ("/password-reset", "reset", 5));
/// # Ok::<(), warden::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RawAuthRatePolicy {
    /// The path (and everything below it) this policy limits.
    pub path: String,
    /// The policy's name (1 to 64 of `A-Za-z0-9_.-`). Policies with the same name share
    /// budgets, so two different policies must not share a name.
    pub name: String,
    /// Requests per `period_secs` (at least 1).
    pub limit: u32,
    /// The period, in seconds (at least 1).
    pub period_secs: u64,
    /// Requests allowed at once (at least 1). Default: `limit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
}

impl RawAuthRatePolicy {
    /// A policy entry with `burst = limit`.
    pub fn new(
        path: impl Into<String>,
        name: impl Into<String>,
        limit: u32,
        period_secs: u64,
    ) -> Self {
        Self {
            path: path.into(),
            name: name.into(),
            limit,
            period_secs,
            burst: None,
        }
    }
}

/// [`LockedResponse`] has no `Serialize`; the defaults layer needs one.
fn serialize_locked_response<S: serde::Serializer>(
    value: &LockedResponse,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value.as_str())
}

/// `[headers]`: the browser security headers of
/// [`SecurityHeadersMiddleware`](crate::headers::SecurityHeadersMiddleware), written as the
/// header values themselves; an empty string turns a header off.
///
/// The defaults are the middleware's own
/// ([`SecurityHeadersConfig::default`](crate::headers::SecurityHeadersConfig::default)),
/// except that `csp_nonce` is on.
///
/// ```
/// use warden::config::RawHeaders;
///
/// let h = RawHeaders::default();
/// assert_eq!(h.frame_options, "DENY");
/// assert!(h.content_type_options);
/// assert_eq!(h.referrer_policy, "strict-origin-when-cross-origin");
/// assert_eq!(
///     h.content_security_policy,
///     "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'; \
///      form-action 'self'"
/// );
/// assert!(h.csp_nonce);
/// assert_eq!(h.csp_report_only, None);
/// assert_eq!(h.permissions_policy, "camera=(), microphone=(), geolocation=()");
/// assert_eq!(h.cross_origin_opener_policy, "same-origin");
/// assert_eq!(h.cross_origin_resource_policy, "same-origin");
/// assert_eq!(h.cross_origin_embedder_policy, ""); // off
/// assert_eq!(h.hsts_max_age_secs, 63_072_000);
/// assert!(h.hsts_include_subdomains && !h.hsts_preload && !h.force_hsts);
/// assert!(!h.override_handler_headers);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RawHeaders {
    /// `X-Frame-Options`: `DENY`, `SAMEORIGIN` or `""` (off). Default `DENY`.
    pub frame_options: String,
    /// `X-Content-Type-Options: nosniff`. Default true.
    pub content_type_options: bool,
    /// `Referrer-Policy` value, or `""` (off). Default `strict-origin-when-cross-origin`.
    pub referrer_policy: String,
    /// The enforced `Content-Security-Policy`, as header text, or `""` (off; refused in
    /// production). Must contain `default-src`. Default: `default-src 'self'; frame-ancestors
    /// 'none'; object-src 'none'; base-uri 'self'; form-action 'self'`.
    pub content_security_policy: String,
    /// A fresh nonce per request in `script-src` and `style-src` of both policies (read it
    /// with the [`CspNonce`](crate::headers::CspNonce) extractor). Default true.
    pub csp_nonce: bool,
    /// A further `Content-Security-Policy-Report-Only` policy. Default: unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csp_report_only: Option<String>,
    /// `Permissions-Policy` value (`feature=(allowlist), ...`), or `""` (off). Default
    /// `camera=(), microphone=(), geolocation=()`.
    pub permissions_policy: String,
    /// `Cross-Origin-Opener-Policy` value, or `""` (off). Default `same-origin`.
    pub cross_origin_opener_policy: String,
    /// `Cross-Origin-Resource-Policy` value, or `""` (off). Default `same-origin`.
    pub cross_origin_resource_policy: String,
    /// `Cross-Origin-Embedder-Policy` value, or `""` (off). Default `""`.
    pub cross_origin_embedder_policy: String,
    /// HSTS `max-age` in seconds; 0 sends no HSTS. At least 31536000 in production.
    /// Default 63072000 (two years).
    pub hsts_max_age_secs: u64,
    /// HSTS `includeSubDomains`. Default true.
    pub hsts_include_subdomains: bool,
    /// HSTS `preload` (needs `includeSubDomains` and a year or more). Default false.
    pub hsts_preload: bool,
    /// Send HSTS even when the request did not arrive over HTTPS (as far as warden can
    /// tell). Default false.
    pub force_hsts: bool,
    /// Replace these headers when a handler set them itself. Default false.
    pub override_handler_headers: bool,
}

impl Default for RawHeaders {
    fn default() -> Self {
        Self {
            frame_options: "DENY".to_owned(),
            content_type_options: true,
            referrer_policy: "strict-origin-when-cross-origin".to_owned(),
            content_security_policy: "default-src 'self'; frame-ancestors 'none'; \
                                      object-src 'none'; base-uri 'self'; form-action 'self'"
                .to_owned(),
            csp_nonce: true,
            csp_report_only: None,
            permissions_policy: "camera=(), microphone=(), geolocation=()".to_owned(),
            cross_origin_opener_policy: "same-origin".to_owned(),
            cross_origin_resource_policy: "same-origin".to_owned(),
            cross_origin_embedder_policy: String::new(),
            hsts_max_age_secs: 63_072_000,
            hsts_include_subdomains: true,
            hsts_preload: false,
            force_hsts: false,
            override_handler_headers: false,
        }
    }
}
