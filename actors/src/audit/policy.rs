//! Which events are must-log, which are watched for spikes and which are aggregated.

/// Events that are never dropped, aggregated or sampled: logins and their failures, lockouts,
/// logouts, revocations, password changes and resets, spike alerts and actor restarts.
///
/// [`AuditHandle::emit`](crate::AuditHandle::emit) of one of these names never drops it on a
/// full mailbox, and the audit actor flushes it to disk before going on (like
/// [`AuditHandle::emit_must`](crate::AuditHandle::emit_must), without the answer).
///
/// ```
/// use warden_actors::{is_must_log, MUST_LOG};
///
/// assert!(MUST_LOG.contains(&"auth.login.failure"));
/// assert!(is_must_log("alert.spike"));
/// assert!(!is_must_log("csrf.reject.missing"));
/// ```
pub const MUST_LOG: [&str; 10] = [
    "auth.login.success",
    "auth.login.failure",
    "auth.lockout.locked",
    "auth.logout.success",
    "session.revoked",
    "password.changed",
    "password.reset.completed",
    "password.reset.requested",
    "alert.spike",
    "actor.restarted",
];

/// Whether `name` (an already normalised event name) is in [`MUST_LOG`].
pub fn is_must_log(name: &str) -> bool {
    MUST_LOG.contains(&name)
}

/// The event kinds watched for spikes by default (Chirp's checklist plus login failures and
/// rate-limit blocks). See [`AuditConfig::spike_kinds`](crate::AuditConfig::spike_kinds).
pub const DEFAULT_SPIKE_KINDS: [&str; 5] = [
    "auth.token.invalid",
    "csrf.reject.*",
    "authz.permission.denied",
    "auth.login.failure",
    "ratelimit.blocked",
];

/// The flood-prone events aggregated by default: rejections an attacker triggers at will.
/// See [`AuditConfig::aggregate_names`](crate::AuditConfig::aggregate_names).
pub const DEFAULT_AGGREGATE_NAMES: [&str; 8] = [
    "csrf.reject.*",
    "auth.token.invalid",
    "auth.require.unauthenticated",
    "authz.permission.denied",
    "authz.policy.denied",
    "ratelimit.blocked",
    "host.rejected",
    "session.cookie.invalid",
];

/// Whether `name` matches `pattern`: a prefix, with an optional trailing `*` (`""` and `"*"`
/// match everything). The same rule as [`SecurityEvent::matches`](crate::SecurityEvent::matches).
pub(crate) fn name_matches(name: &str, pattern: &str) -> bool {
    name.starts_with(pattern.strip_suffix('*').unwrap_or(pattern))
}
