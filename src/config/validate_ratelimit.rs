//! `[ratelimit]` → the rate-limit actor's [`RateLimitSettings`]; `[auth_rate_limit]` → the
//! [`AuthRateLimitConfig`] of the authentication rate-limit middleware.

use std::time::Duration;

use actix_web::http::Method;
use warden_actors::ratelimit::{PolicyError, RateLimitPolicy, RateLimitSettings};

use super::{
    raw::{RawAuthRateLimit, RawRateLimit},
    validate::Errors,
};
use crate::ratelimit::{AuthRateLimitConfig, AuthRateLimitConfigBuilder, RateLimitConfigError};

/// Paths production requires the authentication rate limit to cover (for `POST`).
const REQUIRED_PATHS: [&str; 2] = ["/login", "/password-reset"];

pub(super) fn ratelimit(raw: &RawRateLimit, errors: &mut Errors) -> RateLimitSettings {
    let max_shards = RawRateLimit::MAX_SHARDS;
    if raw.shards > max_shards {
        errors.push(
            "ratelimit.shards",
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

    const SWEEP: &str = "ratelimit.sweep_interval_secs";
    let max_sweep = RawRateLimit::MAX_SWEEP_INTERVAL_SECS;
    let sweep = errors.nonzero(SWEEP, raw.sweep_interval_secs);
    if sweep > max_sweep {
        errors.push(
            SWEEP,
            format!(
                "must be at most {max_sweep} (a day), got {sweep}: decayed keys hold memory \
                 until they are swept"
            ),
        );
    }

    let max_persist = RawRateLimit::MAX_PERSIST_INTERVAL_MS;
    if raw.persist_interval_ms > max_persist {
        errors.push(
            "ratelimit.persist_interval_ms",
            format!(
                "must be at most {max_persist} (a minute), got {}: a crash forgets the limiter \
                 state of up to this long (0 writes every change)",
                raw.persist_interval_ms
            ),
        );
    }

    RateLimitSettings::default()
        .shards(shards)
        .sweep_interval(Duration::from_secs(sweep.clamp(1, max_sweep)))
        .persist_interval(Duration::from_millis(
            raw.persist_interval_ms.min(max_persist),
        ))
}

pub(super) fn auth_rate_limit(
    raw: &RawAuthRateLimit,
    production: bool,
    errors: &mut Errors,
) -> AuthRateLimitConfig {
    let before = errors.0.len();
    let base = AuthRateLimitConfig::builder().case_sensitive(raw.case_sensitive);

    for method in &raw.methods {
        if let Err(RateLimitConfigError::Method(_)) = base.clone().methods([method]).build() {
            errors.push(
                "auth_rate_limit.methods",
                format!("`{}` is not a valid HTTP method", method.escape_default()),
            );
        }
    }
    for path in &raw.paths {
        if let Some(why) = path_error(&base, path) {
            errors.push("auth_rate_limit.paths", why);
        }
    }

    let (default_policy, default_valid) = policy(
        "auth_rate_limit.policy_name",
        "auth_rate_limit",
        &raw.policy_name,
        raw.limit,
        raw.period_secs,
        raw.burst,
        errors,
    );
    let mut builder = base
        .clone()
        .methods(&raw.methods)
        .paths(&raw.paths)
        .default_policy(default_policy.clone())
        .headers_on_allowed(raw.headers_on_allowed)
        .limit_unnormalizable(raw.limit_unnormalizable);

    // Each name identifies one budget: the first policy of a name fixes its numbers. Invalid
    // policies are left out (their errors are reported already).
    let mut named: Vec<(&RateLimitPolicy, String)> = Vec::new();
    if default_valid {
        named.push((
            &default_policy,
            "the default policy (`auth_rate_limit.policy_name`)".to_owned(),
        ));
    }
    let mut policies = Vec::with_capacity(raw.policies.len());
    for (i, entry) in raw.policies.iter().enumerate() {
        let prefix = format!("auth_rate_limit.policies.{i}");
        if let Some(why) = path_error(&base, &entry.path) {
            errors.push(&format!("{prefix}.path"), why);
        }
        let (p, valid) = policy(
            &format!("{prefix}.name"),
            &prefix,
            &entry.name,
            entry.limit,
            entry.period_secs,
            entry.burst,
            errors,
        );
        policies.push((entry.path.as_str(), p, valid, prefix));
    }
    for (path, p, valid, prefix) in &policies {
        builder = builder.policy(path, p.clone());
        if !valid {
            continue;
        }
        match named.iter().find(|(other, _)| other.name == p.name) {
            Some((other, _)) if *other == p => {}
            Some((_, owner)) => errors.push(
                &format!("{prefix}.name"),
                format!(
                    "`{}` is already the name of {owner} with other numbers: policies with the \
                     same name share one budget, so give each policy its own name",
                    p.name
                ),
            ),
            None => named.push((p, format!("`{prefix}`"))),
        }
    }

    if production {
        if !raw
            .methods
            .iter()
            .any(|m| m.trim().eq_ignore_ascii_case("POST"))
        {
            errors.push(
                "auth_rate_limit.methods",
                "production requires `POST` among the limited methods (logins and password \
                 resets are POSTs)",
            );
        }
        // The real matching rules decide, so `/`, `/LOGIN` (case-insensitive) or a per-path
        // policy count as covering. Skipped when the paths or policies are invalid (reported).
        if let Ok(probe) = builder.clone().methods(["POST"]).build() {
            let missing: Vec<&str> = REQUIRED_PATHS
                .into_iter()
                .filter(|p| probe.policy_for(&Method::POST, p).is_none())
                .collect();
            if !missing.is_empty() {
                errors.push(
                    "auth_rate_limit.paths",
                    format!(
                        "production requires rate-limiting `{}` (add to `auth_rate_limit.paths`): \
                         otherwise passwords and reset requests can be tried at full speed",
                        missing.join("` and `")
                    ),
                );
            }
        }
    }

    if errors.0.len() > before {
        return AuthRateLimitConfig::default();
    }
    // The checks above are at least as strict as the builder's; this only guards against the
    // two drifting apart.
    builder.build().unwrap_or_else(|e| {
        let key = match &e {
            RateLimitConfigError::Path(_) => "auth_rate_limit.paths",
            RateLimitConfigError::Method(_) => "auth_rate_limit.methods",
            _ => "auth_rate_limit",
        };
        errors.push(key, e.to_string());
        AuthRateLimitConfig::default()
    })
}

/// Why the builder refuses `path`, if it does.
fn path_error(base: &AuthRateLimitConfigBuilder, path: &str) -> Option<String> {
    match base.clone().paths([path]).build() {
        Err(RateLimitConfigError::Path(_)) => Some(format!(
            "`{}` is not a valid path: it must start with `/` and normalise (no encoded `/`, \
             `%2e` dot segments or malformed `%` escapes)",
            path.escape_default()
        )),
        _ => None,
    }
}

/// The policy described by `name_key` and `{prefix}.limit` / `.period_secs` / `.burst`, and
/// whether it is valid; every problem is reported on its own key.
fn policy(
    name_key: &str,
    prefix: &str,
    name: &str,
    limit: u32,
    period_secs: u64,
    burst: Option<u32>,
    errors: &mut Errors,
) -> (RateLimitPolicy, bool) {
    let period = Duration::from_secs(period_secs);
    let policy = RateLimitPolicy::new(name, limit, period).burst(burst.unwrap_or(limit));
    let Err(first) = policy.validate() else {
        return (policy, true);
    };
    let before = errors.0.len();
    let one_second = Duration::from_secs(1);
    if RateLimitPolicy::new(name, 1, one_second).validate() == Err(PolicyError::Name) {
        errors.push(
            name_key,
            format!(
                "`{}` is not a valid policy name: 1 to 64 characters from `A-Za-z0-9_.-`",
                name.escape_default()
            ),
        );
    }
    errors.nonzero(&format!("{prefix}.limit"), limit);
    if period_secs == 0 {
        errors.push(&format!("{prefix}.period_secs"), "must be greater than 0");
    } else if limit > 0
        && RateLimitPolicy::new("x", limit, period).validate() == Err(PolicyError::Period)
    {
        errors.push(
            &format!("{prefix}.period_secs"),
            format!("is too short for `{prefix}.limit` = {limit} ({first})"),
        );
    }
    if burst == Some(0) {
        errors.push(
            &format!("{prefix}.burst"),
            "must be greater than 0 (omit the key for `burst = limit`)",
        );
    }
    if errors.0.len() == before {
        // Only if the two drift apart: the policy refuses something the checks above accept.
        errors.push(prefix, first.to_string());
    }
    (policy, false)
}
