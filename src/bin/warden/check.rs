//! `warden check`: the production checklist against the effective configuration.

use std::time::Duration;

use actix_web::http::Method;
use serde::Serialize;
use warden::{config::SameSite, Config, ConfigError};

use crate::{Global, Outcome};

/// How bad a finding is: errors fail the check (exit 1), warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Severity {
    Error,
    Warning,
}

/// One checklist item that failed.
#[derive(Debug, Clone, Serialize)]
struct Finding {
    id: &'static str,
    severity: Severity,
    key: String,
    message: String,
    fix: String,
}

impl Finding {
    fn error(
        id: &'static str,
        key: &str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            id,
            severity: Severity::Error,
            key: key.to_owned(),
            message: message.into(),
            fix: fix.into(),
        }
    }

    fn warning(
        id: &'static str,
        key: &str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(id, key, message, fix)
        }
    }
}

/// Runs the check and prints the findings.
pub(crate) fn run(g: &Global, profile: Option<&str>) -> Outcome {
    let mut loader = g.loader();
    if let Some(p) = profile {
        loader = loader.set("profile", p);
    }
    let findings = match loader.load() {
        Ok(config) => checklist(&config),
        Err(e) => from_error(&e),
    };
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    if g.json {
        let out = serde_json::json!({ "ok": errors == 0, "errors": errors, "warnings": warnings, "findings": findings });
        println!("{out}");
    } else {
        for f in &findings {
            let sev = match f.severity {
                Severity::Error => "ERROR  ",
                Severity::Warning => "WARNING",
            };
            println!("{sev} [{}] {}: {}", f.id, f.key, f.message);
            println!("        fix: {}", f.fix);
        }
        println!(
            "{}: {errors} error(s), {warnings} warning(s)",
            if errors == 0 { "ok" } else { "FAILED" }
        );
    }
    Ok(errors == 0)
}

/// A configuration that does not load: every key it names is an error finding.
fn from_error(e: &ConfigError) -> Vec<Finding> {
    match e {
        ConfigError::Invalid { errors } => errors
            .iter()
            .map(|k| {
                Finding::error(
                    "config.invalid",
                    &k.key,
                    k.reason.clone(),
                    format!(
                        "set a valid `{}` in the config file (or its WARDEN_* environment override)",
                        k.key
                    ),
                )
            })
            .collect(),
        ConfigError::Parse { key, message } => vec![Finding::error(
            "config.parse",
            key.as_deref().unwrap_or("-"),
            message.clone(),
            "fix the syntax, the key name or the value's type",
        )],
        e => vec![Finding::error(
            "config.file",
            "-",
            e.to_string(),
            "pass an existing, readable file with --config",
        )],
    }
}

/// The checklist items on a configuration that loaded (validation already refused what it
/// refuses for the profile).
fn checklist(c: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |cond: bool, f: Finding| {
        if cond {
            out.push(f);
        }
    };
    push(
        c.secrets.is_ephemeral(),
        Finding::error(
            "secret.missing",
            "secrets.keys",
            "no signing key: an ephemeral one is generated at every start (sessions die on restart)",
            "set WARDEN_SECRET_KEY=$(openssl rand -hex 32) in the app's environment",
        ),
    );
    let s = &c.session;
    push(
        !s.secure,
        Finding::error(
            "cookie.secure",
            "session.secure",
            "the session cookie is sent over plain HTTP",
            "set session.secure = true",
        ),
    );
    push(
        !s.http_only,
        Finding::error(
            "cookie.httponly",
            "session.http_only",
            "scripts can read the session cookie",
            "set session.http_only = true",
        ),
    );
    push(
        s.same_site == SameSite::None,
        Finding::error(
            "cookie.samesite",
            "session.same_site",
            "SameSite=None: every cross-site request carries the session",
            "set session.same_site = \"strict\" (or \"lax\")",
        ),
    );
    push(
        s.idle_timeout > Duration::from_secs(2 * 3600),
        Finding::error(
            "session.idle_timeout",
            "session.idle_timeout_secs",
            format!(
                "idle timeout of {} s is longer than 2 hours",
                s.idle_timeout.as_secs()
            ),
            "set session.idle_timeout_secs to 900-7200",
        ),
    );
    push(
        s.absolute_timeout > Duration::from_secs(7 * 24 * 3600),
        Finding::error(
            "session.absolute_timeout",
            "session.absolute_timeout_secs",
            format!(
                "absolute timeout of {} s is longer than 7 days",
                s.absolute_timeout.as_secs()
            ),
            "set session.absolute_timeout_secs to at most 604800 (8 hours: 28800)",
        ),
    );
    push(
        !c.csrf.enabled,
        Finding::error(
            "csrf.disabled",
            "csrf.enabled",
            "CSRF protection is off",
            "set csrf.enabled = true",
        ),
    );
    for path in ["/login", "/password-reset"] {
        push(
            c.auth_rate_limit.policy_for(&Method::POST, path).is_none(),
            Finding::error(
                "ratelimit.coverage",
                "auth_rate_limit.paths",
                format!("POST {path} is not rate limited"),
                format!("add \"{path}\" to auth_rate_limit.paths (and POST to methods)"),
            ),
        );
    }
    let l = &c.runtime.lockout;
    push(
        l.max_failures > 10 || l.account_max_failures > 100,
        Finding::error(
            "lockout.thresholds",
            "lockout.max_failures",
            format!(
                "lockout is effectively off: {} failures per network, {} per account",
                l.max_failures, l.account_max_failures
            ),
            "set lockout.max_failures <= 10 and lockout.account_max_failures <= 100",
        ),
    );
    match &c.headers.content_security_policy {
        None => push(
            true,
            Finding::error(
                "csp.missing",
                "headers.content_security_policy",
                "no Content-Security-Policy is sent",
                "set a strict policy, e.g. \"default-src 'self'; object-src 'none'; base-uri 'self'\" with csp_nonce = true",
            ),
        ),
        Some(p) => push(
            !p.is_strict(),
            Finding::error(
                "csp.weak",
                "headers.content_security_policy",
                format!("the policy is not strict: {}", p.weaknesses().join("; ")),
                "remove 'unsafe-inline', 'unsafe-eval' and wildcards from script sources; use csp_nonce = true",
            ),
        ),
    }
    match &c.headers.hsts {
        None => push(
            true,
            Finding::error(
                "hsts.missing",
                "headers.hsts_max_age_secs",
                "Strict-Transport-Security is not sent",
                "set headers.hsts_max_age_secs = 63072000 (two years)",
            ),
        ),
        Some(h) => push(
            h.max_age() < Duration::from_secs(31_536_000),
            Finding::error(
                "hsts.short",
                "headers.hsts_max_age_secs",
                format!(
                    "HSTS max-age of {} s is under a year",
                    h.max_age().as_secs()
                ),
                "set headers.hsts_max_age_secs to at least 31536000",
            ),
        ),
    }
    let p = &c.runtime.passwords.params;
    push(
        !p.meets_owasp_floor(),
        Finding::error(
            "passwords.floor",
            "passwords.memory_kib",
            format!(
                "argon2id m={} KiB, t={}, p={} is below the OWASP floor",
                p.memory_kib, p.iterations, p.parallelism
            ),
            "use at least memory_kib = 19456, iterations = 2, parallelism = 1",
        ),
    );
    let a = &c.runtime.audit;
    push(
        !a.tracing_sink && a.jsonl_path.is_none(),
        Finding::error(
            "audit.sink",
            "audit.tracing_sink",
            "audit events reach no sink outside the store",
            "set audit.tracing_sink = true or audit.jsonl_path",
        ),
    );
    push(
        a.spike_threshold == 0 || a.spike_window.is_zero() || a.spike_kinds.is_empty(),
        Finding::error(
            "audit.spike",
            "audit.spike_threshold",
            "spike alerting (alert.spike) is off",
            "set audit.spike_threshold (e.g. 20), spike_window_secs (60) and spike_kinds",
        ),
    );
    let proxies = &c.proxy.trusted_proxies;
    push(
        proxies.iter().any(|n| n.prefix_len() == 0),
        Finding::error(
            "proxy.trust_all",
            "proxy.trusted_proxies",
            "every address is trusted to report client IPs (anyone can spoof X-Forwarded-For)",
            "list only your load balancers' addresses or networks",
        ),
    );
    push(
        proxies.is_empty(),
        Finding::warning(
            "proxy.none",
            "proxy.trusted_proxies",
            "no trusted proxies: client IPs are the TCP peers",
            "behind a proxy? list it in proxy.trusted_proxies (or rate limits and lockouts see only the proxy)",
        ),
    );
    out
}
