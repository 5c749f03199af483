//! `RawConfig` → `Config`: every check, collecting all errors.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use warden_actors::{
    password::{default_threads, PasswordParams, MAX_PASSWORD_LEN_LIMIT, MIN_PASSWORD_LEN_FLOOR},
    tokens::TokenPolicy,
    PasswordSettings, RuntimeConfig, StoreConfig,
};

use super::{
    checks,
    error::{ConfigError, KeyError},
    raw::{RawAuth, RawConfig, RawCsrf, RawPasswords, RawProxy, RawServer, RawSession},
    secret::check_keys,
    validate_audit::audit,
    validate_headers::headers,
    validate_lockout::lockout,
    validate_ratelimit::{auth_rate_limit, ratelimit},
    AuthSettings, Config, CsrfSettings, ProxySettings, SameSite, SecretKeys, ServerSettings,
    SessionSettings,
};

const MIB: u64 = 1024 * 1024;

/// Collects [`KeyError`]s.
#[derive(Default)]
pub(super) struct Errors(pub(super) Vec<KeyError>);

impl Errors {
    pub(super) fn push(&mut self, key: &str, reason: impl Into<String>) {
        self.0.push(KeyError::new(key, reason));
    }

    /// Errors if `value` is zero; returns it unchanged.
    pub(super) fn nonzero<T: Copy + PartialEq + From<u8>>(&mut self, key: &str, value: T) -> T {
        if value == T::from(0) {
            self.push(key, "must be greater than 0");
        }
        value
    }
}

pub(crate) fn validate(raw: RawConfig) -> Result<Config, ConfigError> {
    let mut errors = Errors::default();
    let profile = raw.profile;
    let production = profile.is_production();

    let server = server(&raw.server, production, &mut errors);

    let keys: Vec<Vec<u8>> = raw
        .secrets
        .keys
        .into_iter()
        .map(String::into_bytes)
        .collect();
    if keys.is_empty() && production {
        errors.push(
            "secrets.keys",
            "production requires WARDEN_SECRET_KEY (a random value of at least 32 bytes, \
             e.g. from `openssl rand -hex 32`); refusing to start with a generated key",
        );
    }
    check_keys(&keys, &mut errors.0);

    let session = session(&raw.session, production, &mut errors);

    let r = &raw.runtime;
    let mailbox_capacity = errors.nonzero("runtime.mailbox_capacity", r.mailbox_capacity);
    let ask_timeout_ms = errors.nonzero("runtime.ask_timeout_ms", r.ask_timeout_ms);

    let s = &raw.store;
    let store = StoreConfig::default()
        .flush_every(Duration::from_millis(
            errors.nonzero("store.flush_every_ms", s.flush_every_ms),
        ))
        .sweep_interval(Duration::from_millis(
            errors.nonzero("store.sweep_interval_ms", s.sweep_interval_ms),
        ))
        .sweep_batch(errors.nonzero("store.sweep_batch", s.sweep_batch))
        .cache_capacity_bytes(scaled(
            &mut errors,
            "store.cache_capacity_mb",
            s.cache_capacity_mb,
            MIB,
        ));

    let audit = audit(raw.audit, production, &mut errors);

    let proxy = proxy(&raw.proxy, production, &mut errors);
    let auth = auth(&raw.auth, &mut errors);
    let passwords = passwords(&raw.passwords, &mut errors);
    let csrf = csrf(&raw.csrf, &raw.session, production, &mut errors);
    let (lockout_policy, lockout) = lockout(&raw.lockout, &mut errors);
    let ratelimit = ratelimit(&raw.ratelimit, &mut errors);
    let auth_rate_limit = auth_rate_limit(&raw.auth_rate_limit, production, &mut errors);
    let headers = headers(&raw.headers, production, &mut errors);

    if !errors.0.is_empty() {
        return Err(ConfigError::Invalid { errors: errors.0 });
    }

    let secrets = if keys.is_empty() {
        // Only reachable in development: production without a key is an error above.
        tracing::warn!(
            target: "warden::config",
            "NO SECRET KEY CONFIGURED: using a randomly generated ephemeral key. Sessions, CSRF \
             tokens and bearer tokens will NOT survive a restart. Set WARDEN_SECRET_KEY (e.g. \
             `openssl rand -hex 32`) to keep them; the production profile refuses to start \
             without it."
        );
        SecretKeys::generate()
    } else {
        SecretKeys::new(keys)?
    };

    let runtime = RuntimeConfig::builder()
        .data_dir(server.data_dir.clone())
        .mailbox_capacity(mailbox_capacity)
        .ask_timeout(Duration::from_millis(ask_timeout_ms))
        .store(store)
        .audit(audit)
        .build()
        .with_tokens(
            TokenPolicy::default()
                .reset_ttl(auth.reset_token_ttl)
                .api_default_ttl(auth.api_token_ttl)
                .max_api_tokens_per_user(auth.api_tokens_per_user),
        )
        .with_passwords(passwords)
        .with_lockout(lockout_policy)
        .with_ratelimit(ratelimit);

    Ok(Config {
        profile,
        server,
        secrets,
        session,
        proxy,
        auth,
        csrf,
        lockout,
        auth_rate_limit,
        headers,
        runtime,
    })
}

/// `value * unit`, non-zero and without overflow.
pub(super) fn scaled(errors: &mut Errors, key: &str, value: u64, unit: u64) -> u64 {
    let value = errors.nonzero(key, value);
    value.checked_mul(unit).unwrap_or_else(|| {
        errors.push(key, "is too large");
        0
    })
}

fn server(raw: &RawServer, production: bool, errors: &mut Errors) -> ServerSettings {
    let bind = match raw.bind.trim().parse::<SocketAddr>() {
        Ok(addr) => Some(addr),
        Err(_) => {
            errors.push(
                "server.bind",
                format!(
                    "`{}` is not a socket address (expected `ip:port`, e.g. `127.0.0.1:8080`)",
                    raw.bind.escape_default()
                ),
            );
            None
        }
    };
    let bind_or_default = bind.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));

    if raw.data_dir.as_os_str().is_empty() {
        errors.push("server.data_dir", "must not be empty");
    }

    let origin = match &raw.origin {
        Some(value) => checks::origin(value).unwrap_or_else(|why| {
            errors.push("server.origin", why);
            String::new()
        }),
        None => format!("http://{bind_or_default}"),
    };
    if production && origin.starts_with("http://") {
        errors.push(
            "server.origin",
            format!(
                "production requires an `https://` origin, got `{origin}` \
                 (set WARDEN_ORIGIN or server.origin)"
            ),
        );
    }

    let mut allowed_hosts = Vec::with_capacity(raw.allowed_hosts.len().max(1));
    for entry in &raw.allowed_hosts {
        match checks::allowed_host(entry) {
            Ok(host) if !allowed_hosts.contains(&host) => allowed_hosts.push(host),
            Ok(_) => {}
            Err(why) => errors.push("server.allowed_hosts", why),
        }
    }
    if raw.allowed_hosts.is_empty() && !origin.is_empty() {
        // The middleware parses this too: an origin it cannot parse would only fail at start-up.
        match checks::allowed_host(checks::origin_authority(&origin)) {
            Ok(host) => allowed_hosts.push(host),
            Err(why) => errors.push(
                "server.origin",
                format!(
                    "its host cannot be the default of `server.allowed_hosts`: {why}; \
                     list the allowed hosts explicitly"
                ),
            ),
        }
    }

    ServerSettings {
        bind: bind_or_default,
        data_dir: PathBuf::from(&raw.data_dir),
        origin,
        allowed_hosts,
    }
}

fn session(raw: &RawSession, production: bool, errors: &mut Errors) -> SessionSettings {
    const NAME: &str = "session.cookie_name";
    let lower_name = raw.cookie_name.to_ascii_lowercase();
    // Browsers match the prefixes case-insensitively (RFC 6265bis), so we do too.
    let host_prefixed = lower_name.starts_with("__host-");
    match checks::cookie_name(&raw.cookie_name) {
        Err(why) => errors.push(NAME, why),
        Ok(()) if !raw.secure => {
            for prefix in ["__Host-", "__Secure-"] {
                if lower_name.starts_with(&prefix.to_ascii_lowercase()) {
                    errors.push(
                        NAME,
                        format!(
                            "a `{prefix}` cookie requires `session.secure = true` \
                             (browsers reject it otherwise)"
                        ),
                    );
                }
            }
        }
        Ok(()) => {}
    }
    if production && !raw.secure {
        errors.push(
            "session.secure",
            "production requires `Secure` cookies (`session.secure = true`)",
        );
    }
    if raw.same_site == SameSite::None && !raw.secure {
        errors.push(
            "session.same_site",
            "`none` requires `session.secure = true` (browsers reject SameSite=None without Secure)",
        );
    }

    match checks::cookie_path(&raw.path) {
        Err(why) => errors.push("session.path", why),
        Ok(()) if host_prefixed && raw.path != "/" => errors.push(
            "session.path",
            format!(
                "__Host- cookies require Path=/ (got `{}`); use another cookie name prefix \
                 to scope the cookie to a path",
                raw.path
            ),
        ),
        Ok(()) => {}
    }

    let domain = raw
        .domain
        .as_deref()
        .and_then(|domain| match checks::cookie_domain(domain) {
            Err(why) => {
                errors.push("session.domain", why);
                None
            }
            Ok(_) if host_prefixed => {
                errors.push(
                    "session.domain",
                    "__Host- cookies must not set Domain (remove `session.domain` for a \
                     host-only cookie, or drop the `__Host-` prefix)",
                );
                None
            }
            Ok(domain) => Some(domain),
        });

    let idle = errors.nonzero("session.idle_timeout_secs", raw.idle_timeout_secs);
    let absolute = errors.nonzero("session.absolute_timeout_secs", raw.absolute_timeout_secs);
    if idle > absolute && absolute > 0 {
        errors.push(
            "session.idle_timeout_secs",
            format!("must not exceed `session.absolute_timeout_secs` ({idle} > {absolute})"),
        );
    }

    let max_shards = SessionSettings::MAX_SHARDS;
    if raw.shards > max_shards {
        errors.push(
            "session.shards",
            format!(
                "must be at most {max_shards}, got {} (0 means the available parallelism)",
                raw.shards
            ),
        );
    }
    let shards = match raw.shards {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    }
    .clamp(1, max_shards);

    let touch_ms = errors.nonzero("session.touch_interval_ms", raw.touch_interval_ms);
    let idle_ms = idle.saturating_mul(1000);
    if idle > 0 && touch_ms >= idle_ms {
        errors.push(
            "session.touch_interval_ms",
            format!(
                "must be shorter than the idle timeout ({touch_ms} ms >= \
                 `session.idle_timeout_secs` = {idle} s), or active sessions would expire \
                 between folds"
            ),
        );
    }

    let (min_data, max_data) = (
        SessionSettings::MIN_DATA_BYTES,
        SessionSettings::MAX_DATA_BYTES,
    );
    if !(min_data..=max_data).contains(&raw.max_data_bytes) {
        errors.push(
            "session.max_data_bytes",
            format!(
                "must be between {min_data} (1 KiB) and {max_data} (1 MiB), got {}",
                raw.max_data_bytes
            ),
        );
    }

    SessionSettings {
        cookie_name: raw.cookie_name.clone(),
        secure: raw.secure,
        http_only: raw.http_only,
        same_site: raw.same_site,
        path: raw.path.clone(),
        domain,
        persistent: raw.persistent,
        idle_timeout: Duration::from_secs(idle),
        absolute_timeout: Duration::from_secs(absolute),
        shards,
        touch_interval: Duration::from_millis(touch_ms),
        max_data_bytes: raw.max_data_bytes,
    }
}

fn proxy(raw: &RawProxy, production: bool, errors: &mut Errors) -> ProxySettings {
    const KEY: &str = "proxy.trusted_proxies";
    let mut trusted_proxies = Vec::with_capacity(raw.trusted_proxies.len());
    for entry in &raw.trusted_proxies {
        match checks::trusted_proxy(entry) {
            Ok(net) if net.prefix_len() == 0 => {
                let why = format!(
                    "`{net}` trusts every address, so any client could spoof its IP \
                     and request id; list your proxies' networks instead"
                );
                if production {
                    errors.push(KEY, why);
                } else {
                    tracing::warn!(target: "warden::config", "{KEY}: {why}");
                    trusted_proxies.push(net);
                }
            }
            Ok(net) if !trusted_proxies.contains(&net) => trusted_proxies.push(net),
            Ok(_) => {}
            Err(why) => errors.push(KEY, why),
        }
    }
    let request_id_header =
        checks::header_name(raw.request_id_header.trim()).unwrap_or_else(|why| {
            errors.push("proxy.request_id_header", why);
            String::new()
        });
    ProxySettings {
        trusted_proxies,
        forwarded_header: raw.forwarded_header,
        request_id_header,
        trust_request_id: raw.trust_request_id,
    }
}

fn auth(raw: &RawAuth, errors: &mut Errors) -> AuthSettings {
    if let Err(why) = checks::local_path(&raw.login_url) {
        errors.push("auth.login_url", why);
    }
    let bearer_header = checks::header_name(raw.bearer_header.trim()).unwrap_or_else(|why| {
        errors.push("auth.bearer_header", why);
        String::new()
    });
    if let Err(why) = checks::auth_scheme(&raw.bearer_scheme) {
        errors.push("auth.bearer_scheme", why);
    }

    const RESET: &str = "auth.reset_token_ttl_secs";
    let max_reset = AuthSettings::MAX_RESET_TOKEN_TTL.as_secs();
    let reset = errors.nonzero(RESET, raw.reset_token_ttl_secs);
    if reset > max_reset {
        errors.push(
            RESET,
            format!(
                "must be at most {max_reset} (a day), got {reset}: a reset token is a \
                 password-equivalent link sitting in a mailbox"
            ),
        );
    }

    const PER_USER: &str = "auth.api_tokens_per_user";
    let max_per_user = AuthSettings::MAX_API_TOKENS_PER_USER;
    let per_user = errors.nonzero(PER_USER, raw.api_tokens_per_user);
    if per_user > max_per_user {
        errors.push(
            PER_USER,
            format!("must be at most {max_per_user}, got {per_user}"),
        );
    }

    if raw.api_token_ttl_secs == Some(0) {
        errors.push(
            "auth.api_token_ttl_secs",
            "must be greater than 0 (omit the key for API tokens that never expire)",
        );
    }

    AuthSettings {
        login_url: raw.login_url.clone(),
        bearer_header,
        bearer_scheme: raw.bearer_scheme.clone(),
        reset_token_ttl: Duration::from_secs(reset),
        api_tokens_per_user: per_user,
        api_token_ttl: raw.api_token_ttl_secs.map(Duration::from_secs),
    }
}

fn passwords(raw: &RawPasswords, errors: &mut Errors) -> PasswordSettings {
    const FLOOR: &str = "below the OWASP floor (19 MiB, t=2, p=1)";
    let before = errors.0.len();

    let (min_m, max_m) = (RawPasswords::MIN_MEMORY_KIB, RawPasswords::MAX_MEMORY_KIB);
    if raw.memory_kib < min_m {
        errors.push(
            "passwords.memory_kib",
            format!(
                "{} KiB is {FLOOR}; must be at least {min_m}",
                raw.memory_kib
            ),
        );
    } else if raw.memory_kib > max_m {
        errors.push(
            "passwords.memory_kib",
            format!(
                "must be at most {max_m} (4 GiB per hash; every pool thread holds this much), \
                 got {}",
                raw.memory_kib
            ),
        );
    }
    if raw.iterations < RawPasswords::MIN_ITERATIONS {
        errors.push(
            "passwords.iterations",
            format!(
                "{} is {FLOOR}; must be at least {}",
                raw.iterations,
                RawPasswords::MIN_ITERATIONS
            ),
        );
    }
    let max_p = RawPasswords::MAX_PARALLELISM;
    if raw.parallelism == 0 {
        errors.push(
            "passwords.parallelism",
            format!("0 is {FLOOR}; must be at least 1"),
        );
    } else if raw.parallelism > max_p {
        errors.push(
            "passwords.parallelism",
            format!(
                "must be at most {max_p}, got {} (lanes run one after the other on a pool \
                 thread; raise `passwords.threads` for throughput)",
                raw.parallelism
            ),
        );
    }

    if raw.min_len < MIN_PASSWORD_LEN_FLOOR {
        errors.push(
            "passwords.min_len",
            format!(
                "must be at least {MIN_PASSWORD_LEN_FLOOR} bytes (NIST SP 800-63B), got {}",
                raw.min_len
            ),
        );
    }
    if raw.max_len > MAX_PASSWORD_LEN_LIMIT {
        errors.push(
            "passwords.max_len",
            format!(
                "must be at most {MAX_PASSWORD_LEN_LIMIT} bytes (longer passwords make hashing a \
                 denial-of-service vector), got {}",
                raw.max_len
            ),
        );
    } else if raw.max_len < raw.min_len {
        errors.push(
            "passwords.max_len",
            format!(
                "must not be less than `passwords.min_len` ({} < {})",
                raw.max_len, raw.min_len
            ),
        );
    }

    let queue = errors.nonzero("passwords.queue", raw.queue);
    let max_threads = RawPasswords::MAX_THREADS;
    if raw.threads > max_threads {
        errors.push(
            "passwords.threads",
            format!(
                "must be at most {max_threads}, got {} (0 means the available parallelism)",
                raw.threads
            ),
        );
    }
    let threads = match raw.threads {
        0 => default_threads(),
        n => n,
    };

    let params = PasswordParams::default()
        .memory_kib(raw.memory_kib)
        .iterations(raw.iterations)
        .parallelism(raw.parallelism)
        .min_len(raw.min_len)
        .max_len(raw.max_len);
    // The checks above are at least as strict as the pool's; this only guards against the two
    // drifting apart (the pool would refuse to start).
    if errors.0.len() == before {
        if let Err(e) = params.validate() {
            errors.push("passwords", e.to_string());
        }
    }

    PasswordSettings::new(params).threads(threads).queue(queue)
}

fn csrf(
    raw: &RawCsrf,
    session: &RawSession,
    production: bool,
    errors: &mut Errors,
) -> CsrfSettings {
    if !raw.enabled {
        if production {
            errors.push(
                "csrf.enabled",
                "CSRF protection cannot be disabled in production (exempt individual paths \
                 with `csrf.exempt_paths` instead)",
            );
        } else {
            tracing::warn!(
                target: "warden::config",
                "csrf.enabled = false: CSRF protection is DISABLED, any site can make this \
                 browser send forged requests; the production profile refuses this"
            );
        }
    }

    let header_name = checks::header_name(raw.header_name.trim()).unwrap_or_else(|why| {
        errors.push("csrf.header_name", why);
        String::new()
    });
    if let Err(why) = checks::form_field_name(&raw.field_name) {
        errors.push("csrf.field_name", why);
    }

    const COOKIE: &str = "csrf.cookie_name";
    match checks::cookie_name(&raw.cookie_name) {
        Err(why) => errors.push(COOKIE, why),
        Ok(()) => {
            let lower_name = raw.cookie_name.to_ascii_lowercase();
            if !session.secure {
                for prefix in ["__Host-", "__Secure-"] {
                    if lower_name.starts_with(&prefix.to_ascii_lowercase()) {
                        errors.push(
                            COOKIE,
                            format!(
                                "a `{prefix}` cookie requires `session.secure = true` \
                                 (browsers reject it otherwise); with `secure = false` use a \
                                 name without the prefix, e.g. `csrf`"
                            ),
                        );
                    }
                }
            }
            if raw.cookie_name.eq_ignore_ascii_case(&session.cookie_name) {
                errors.push(
                    COOKIE,
                    format!(
                        "must differ from `session.cookie_name` (`{}`): the two cookies would \
                         overwrite each other",
                        session.cookie_name
                    ),
                );
            }
        }
    }

    const ORIGINS: &str = "csrf.trusted_origins";
    let mut trusted_origins = Vec::with_capacity(raw.trusted_origins.len());
    for entry in &raw.trusted_origins {
        match checks::trusted_origin(entry) {
            Ok(origin) if production && origin.starts_with("http://") => errors.push(
                ORIGINS,
                format!(
                    "production requires `https://` origins, got `{origin}` (an `http://` page \
                     can be altered by anyone on the network)"
                ),
            ),
            Ok(origin) if !trusted_origins.contains(&origin) => trusted_origins.push(origin),
            Ok(_) => {}
            Err(why) => errors.push(ORIGINS, why),
        }
    }

    let mut exempt_paths: Vec<String> = Vec::with_capacity(raw.exempt_paths.len());
    for path in &raw.exempt_paths {
        match checks::exempt_path(path) {
            Ok(()) if !exempt_paths.contains(path) => exempt_paths.push(path.clone()),
            Ok(()) => {}
            Err(why) => errors.push("csrf.exempt_paths", why),
        }
    }

    let (min_body, max_body) = (CsrfSettings::MIN_BODY_LIMIT, CsrfSettings::MAX_BODY_LIMIT);
    if !(min_body..=max_body).contains(&raw.body_limit) {
        errors.push(
            "csrf.body_limit",
            format!(
                "must be between {min_body} (1 KiB) and {max_body} (16 MiB), got {}",
                raw.body_limit
            ),
        );
    }

    CsrfSettings {
        enabled: raw.enabled,
        header_name,
        field_name: raw.field_name.clone(),
        cookie_name: raw.cookie_name.clone(),
        trusted_origins,
        trust_same_site: raw.trust_same_site,
        exempt_paths,
        body_limit: raw.body_limit,
        bearer_exempt: raw.bearer_exempt,
    }
}
