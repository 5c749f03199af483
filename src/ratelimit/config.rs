//! [`AuthRateLimitConfig`]: which requests are limited, and under which policy.

use std::{sync::Arc, time::Duration};

use actix_web::http::{header::HeaderValue, Method};

use super::path::{canonical, covers};
use crate::{
    actors::ratelimit::{PolicyError, RateLimitPolicy},
    csrf::normalize_path,
};

/// Chirp's limited paths: `/login`, `/signup`, `/register`, `/password-reset` (and everything
/// below them).
pub const DEFAULT_PATHS: [&str; 4] = ["/login", "/signup", "/register", "/password-reset"];

/// The name of the default policy (shared by every path without a policy of its own).
pub const DEFAULT_POLICY_NAME: &str = "auth";

/// The default policy: [`DEFAULT_POLICY_NAME`], 10 requests per 60 s, burst 10 (Chirp's
/// numbers; see the [module docs](super) for how Chirp's 300 s block maps to GCRA).
pub fn default_policy() -> RateLimitPolicy {
    RateLimitPolicy::new(DEFAULT_POLICY_NAME, 10, Duration::from_secs(60))
}

/// Why an [`AuthRateLimitConfig`] cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RateLimitConfigError {
    /// A path does not normalise (it must start with `/`, without encoded separators or dot
    /// tricks).
    #[error("rate-limit path `{0}` is not a valid path")]
    Path(String),
    /// A method is not a valid HTTP method token.
    #[error("`{0}` is not a valid HTTP method")]
    Method(String),
    /// A policy is unusable.
    #[error("rate-limit policy `{name}`: {source}")]
    Policy {
        /// The policy's name.
        name: String,
        /// What is wrong with it.
        #[source]
        source: PolicyError,
    },
    /// Two different policies share a name (a name identifies a budget).
    #[error("two different rate-limit policies are named `{0}`")]
    Conflict(String),
}

/// A policy with its `RateLimit-Policy` header value, ready to use.
#[derive(Debug)]
pub(crate) struct CompiledPolicy {
    pub(crate) policy: RateLimitPolicy,
    pub(crate) header: HeaderValue,
}

#[derive(Debug, Clone)]
struct Rule {
    /// Canonical path (see [`canonical`]); matches itself and everything below it.
    prefix: String,
    policy: Arc<CompiledPolicy>,
}

/// Which requests [`AuthRateLimitMiddleware`](super::AuthRateLimitMiddleware) limits, and
/// how. Built with [`AuthRateLimitConfig::builder`]; [`Default`] is Chirp's configuration.
///
/// A request is limited when its method is one of the methods and its path, once
/// canonicalised, equals a configured path or lies below it (`/login` also covers
/// `/login/`, `/login/x`). The longest matching path decides the policy. Canonical form:
/// [`normalize_path`] (percent-decoding, `//` and `.`/`..` resolved), then `;parameters`
/// dropped from each segment and the trailing slash dropped, then (unless case-sensitive)
/// ASCII-lowercased. So `//login`, `/login/`, `/./login`, `/x/../login`, `/login;jsessionid=1`,
/// `/LOGIN` and `/log%69n` are all `/login`. A path that cannot be normalised at all (an
/// encoded `/`, `%2e%2e`, a malformed escape) on a limited method is charged to the default
/// policy (no legitimate client sends one; it must not be a way around the limiter).
///
/// ```
/// use std::time::Duration;
/// use actix_web::http::Method;
/// use warden::actors::ratelimit::RateLimitPolicy;
/// use warden::ratelimit::AuthRateLimitConfig;
///
/// let config = AuthRateLimitConfig::builder()
///     .paths(["/login", "/password-reset"])
///     .policy("/password-reset", RateLimitPolicy::new("reset", 5, Duration::from_secs(900)).burst(3))
///     .build()
///     .unwrap();
/// let name = |p: &str| config.policy_for(&Method::POST, p).map(|p| p.name.clone());
/// assert_eq!(name("/login").as_deref(), Some("auth"));
/// assert_eq!(name("//LOGIN/").as_deref(), Some("auth"));
/// assert_eq!(name("/password-reset/confirm").as_deref(), Some("reset"));
/// assert_eq!(name("/loginx"), None);
/// assert_eq!(config.policy_for(&Method::GET, "/login"), None);
/// ```
#[derive(Debug, Clone)]
pub struct AuthRateLimitConfig {
    methods: Vec<Method>,
    rules: Vec<Rule>,
    default: Arc<CompiledPolicy>,
    case_sensitive: bool,
    headers_on_allowed: bool,
    limit_unnormalizable: bool,
}

impl Default for AuthRateLimitConfig {
    fn default() -> Self {
        AuthRateLimitConfigBuilder::default()
            .build()
            .unwrap_or_else(|e| unreachable!("the default rate-limit config is valid: {e}"))
    }
}

/// Builds an [`AuthRateLimitConfig`]; every setting has a default (Chirp's behaviour, made
/// safe).
#[derive(Debug, Clone)]
#[must_use]
pub struct AuthRateLimitConfigBuilder {
    methods: Vec<String>,
    paths: Vec<String>,
    default_policy: RateLimitPolicy,
    rules: Vec<(String, RateLimitPolicy)>,
    case_sensitive: bool,
    headers_on_allowed: bool,
    limit_unnormalizable: bool,
}

impl Default for AuthRateLimitConfigBuilder {
    fn default() -> Self {
        Self {
            methods: vec!["POST".to_owned()],
            paths: DEFAULT_PATHS.iter().map(|p| (*p).to_owned()).collect(),
            default_policy: default_policy(),
            rules: Vec::new(),
            case_sensitive: false,
            headers_on_allowed: true,
            limit_unnormalizable: true,
        }
    }
}

impl AuthRateLimitConfigBuilder {
    /// The limited methods. Default: `["POST"]`.
    pub fn methods<I, S>(mut self, methods: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.methods = methods.into_iter().map(|m| m.as_ref().to_owned()).collect();
        self
    }

    /// The paths (and everything below them) limited under the default policy, replacing the
    /// list. Default: [`DEFAULT_PATHS`].
    pub fn paths<I, S>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.paths = paths.into_iter().map(|p| p.as_ref().to_owned()).collect();
        self
    }

    /// The policy of the paths without one of their own. Default: [`default_policy`]
    /// (`"auth"`, 10 per 60 s, burst 10).
    pub fn default_policy(mut self, policy: RateLimitPolicy) -> Self {
        self.default_policy = policy;
        self
    }

    /// Limits `path_or_prefix` (and everything below it) under `policy`, whether or not it is
    /// one of the [`paths`](Self::paths). The longest matching path wins; a later call for
    /// the same path replaces an earlier one. Policies with the same name share budgets, so
    /// give each separate budget its own name.
    pub fn policy(mut self, path_or_prefix: impl AsRef<str>, policy: RateLimitPolicy) -> Self {
        self.rules
            .push((path_or_prefix.as_ref().to_owned(), policy));
        self
    }

    /// Match paths case-sensitively. Default: `false` (`/LOGIN` is limited like `/login`:
    /// matching more only costs requests no legitimate client sends, while a missed variant
    /// would be a bypass wherever routing or a proxy is case-insensitive).
    pub fn case_sensitive(mut self, yes: bool) -> Self {
        self.case_sensitive = yes;
        self
    }

    /// Send `RateLimit-Policy` and `RateLimit` on allowed responses too (they are always sent
    /// on 429). Default: `true`.
    pub fn headers_on_allowed(mut self, yes: bool) -> Self {
        self.headers_on_allowed = yes;
        self
    }

    /// Charge requests whose path cannot be normalised to the default policy (on limited
    /// methods). Default: `true`. Turn it off only if the application serves such paths
    /// (encoded slashes) on those methods.
    pub fn limit_unnormalizable(mut self, yes: bool) -> Self {
        self.limit_unnormalizable = yes;
        self
    }

    /// Checks and compiles the configuration.
    pub fn build(self) -> Result<AuthRateLimitConfig, RateLimitConfigError> {
        let mut methods = Vec::with_capacity(self.methods.len());
        for m in &self.methods {
            let upper = m.trim().to_ascii_uppercase();
            let method = Method::from_bytes(upper.as_bytes())
                .map_err(|_| RateLimitConfigError::Method(m.clone()))?;
            if !methods.contains(&method) {
                methods.push(method);
            }
        }
        let mut compiled: Vec<Arc<CompiledPolicy>> = Vec::new();
        let mut compile = |p: &RateLimitPolicy| -> Result<Arc<CompiledPolicy>, _> {
            if let Some(c) = compiled.iter().find(|c| c.policy.name == p.name) {
                return if c.policy == *p {
                    Ok(c.clone())
                } else {
                    Err(RateLimitConfigError::Conflict(p.name.clone()))
                };
            }
            let c = Arc::new(compile_policy(p)?);
            compiled.push(c.clone());
            Ok(c)
        };
        let default = compile(&self.default_policy)?;
        let mut rules: Vec<Rule> = Vec::new();
        let entries = self
            .paths
            .iter()
            .map(|p| (p, &self.default_policy))
            .chain(self.rules.iter().map(|(p, pol)| (p, pol)));
        for (path, policy) in entries {
            let prefix = normalize_path(path.trim())
                .map(|n| canonical(&n, self.case_sensitive))
                .ok_or_else(|| RateLimitConfigError::Path(path.clone()))?;
            let policy = compile(policy)?;
            rules.retain(|r| r.prefix != prefix);
            rules.push(Rule { prefix, policy });
        }
        // Longest first: the most specific path decides.
        rules.sort_by_key(|r| std::cmp::Reverse(r.prefix.len()));
        Ok(AuthRateLimitConfig {
            methods,
            rules,
            default,
            case_sensitive: self.case_sensitive,
            headers_on_allowed: self.headers_on_allowed,
            limit_unnormalizable: self.limit_unnormalizable,
        })
    }
}

fn compile_policy(p: &RateLimitPolicy) -> Result<CompiledPolicy, RateLimitConfigError> {
    p.validate()
        .map_err(|source| RateLimitConfigError::Policy {
            name: p.name.clone(),
            source,
        })?;
    let period = p.period;
    let w = period.as_secs() + u64::from(period.subsec_nanos() > 0);
    // The name is `A-Za-z0-9_.-` (validated), so it needs no escaping in an sf-string.
    let value = format!("\"{}\";q={};w={}", p.name, p.limit, w.max(1));
    let header = HeaderValue::from_str(&value).map_err(|_| RateLimitConfigError::Policy {
        name: p.name.clone(),
        source: PolicyError::Name,
    })?;
    Ok(CompiledPolicy {
        policy: p.clone(),
        header,
    })
}

impl AuthRateLimitConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> AuthRateLimitConfigBuilder {
        AuthRateLimitConfigBuilder::default()
    }

    /// The limited methods.
    pub fn methods(&self) -> &[Method] {
        &self.methods
    }

    /// The limited paths (canonical form) and their policies, most specific first.
    pub fn rules(&self) -> impl Iterator<Item = (&str, &RateLimitPolicy)> {
        self.rules
            .iter()
            .map(|r| (r.prefix.as_str(), &r.policy.policy))
    }

    /// The default policy.
    pub fn default_policy(&self) -> &RateLimitPolicy {
        &self.default.policy
    }

    /// Whether paths match case-sensitively.
    pub fn is_case_sensitive(&self) -> bool {
        self.case_sensitive
    }

    /// Whether allowed responses carry the `RateLimit` headers.
    pub fn headers_on_allowed(&self) -> bool {
        self.headers_on_allowed
    }

    /// Whether unnormalisable paths are charged to the default policy.
    pub fn limits_unnormalizable(&self) -> bool {
        self.limit_unnormalizable
    }

    /// The policy a request with this method and raw path (as received, e.g.
    /// `req.uri().path()`) is limited under, or `None` if it is not limited.
    pub fn policy_for(&self, method: &Method, raw_path: &str) -> Option<&RateLimitPolicy> {
        self.compiled_for(method, raw_path).map(|c| &c.policy)
    }

    pub(crate) fn compiled_for(
        &self,
        method: &Method,
        raw_path: &str,
    ) -> Option<&Arc<CompiledPolicy>> {
        if !self.methods.contains(method) {
            return None;
        }
        let Some(normalized) = normalize_path(raw_path) else {
            return self.limit_unnormalizable.then_some(&self.default);
        };
        let path = canonical(&normalized, self.case_sensitive);
        self.rules
            .iter()
            .find(|r| covers(&r.prefix, &path))
            .map(|r| &r.policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicting_names_and_bad_entries_are_refused() {
        let other = RateLimitPolicy::new("auth", 3, Duration::from_secs(60));
        let err = AuthRateLimitConfig::builder()
            .policy("/x", other)
            .build()
            .unwrap_err();
        assert_eq!(err, RateLimitConfigError::Conflict("auth".into()));
        let err = AuthRateLimitConfig::builder()
            .paths(["login"])
            .build()
            .unwrap_err();
        assert_eq!(err, RateLimitConfigError::Path("login".into()));
        let err = AuthRateLimitConfig::builder()
            .methods(["PO ST"])
            .build()
            .unwrap_err();
        assert_eq!(err, RateLimitConfigError::Method("PO ST".into()));
        let bad = RateLimitPolicy::new("x", 0, Duration::from_secs(1));
        assert!(matches!(
            AuthRateLimitConfig::builder().default_policy(bad).build(),
            Err(RateLimitConfigError::Policy { .. })
        ));
    }

    #[test]
    fn policy_header_syntax() {
        let c =
            compile_policy(&RateLimitPolicy::new("login", 10, Duration::from_secs(60))).unwrap();
        assert_eq!(c.header, "\"login\";q=10;w=60");
        let c = compile_policy(&RateLimitPolicy::new(
            "fast",
            5,
            Duration::from_millis(1500),
        ))
        .unwrap();
        assert_eq!(c.header, "\"fast\";q=5;w=2");
    }
}
