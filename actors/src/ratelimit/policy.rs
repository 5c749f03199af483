//! The policy a check is made under ([`RateLimitPolicy`]) and its answer ([`Decision`]).

use std::time::Duration;

use super::gcra::Gcra;

/// A rate-limit policy: `limit` requests per `period`, at most `burst` at once.
///
/// The name identifies the policy: in the IETF `RateLimit`/`RateLimit-Policy` headers, and in
/// the stored state (a key's budget belongs to the pair (policy name, key), so two policies
/// with the same name share budgets). Names are 1 to 64 characters from `A-Za-z0-9_.-`.
///
/// ```
/// use std::time::Duration;
/// use warden_actors::ratelimit::RateLimitPolicy;
///
/// let p = RateLimitPolicy::new("login", 10, Duration::from_secs(60));
/// assert_eq!(p.burst, 10); // default: burst = limit
/// assert_eq!(p.emission_interval(), Duration::from_secs(6));
/// let p = p.burst(5);
/// assert!(p.validate().is_ok());
/// assert!(RateLimitPolicy::new("bad name", 1, Duration::from_secs(1)).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RateLimitPolicy {
    /// The policy's name (`A-Za-z0-9_.-`, 1 to 64 characters).
    pub name: String,
    /// Requests per `period` in the long run (the sustained rate). At least 1.
    pub limit: u32,
    /// The period `limit` applies to. At least 1 ms, and at least `limit` nanoseconds.
    pub period: Duration,
    /// Requests allowed at once (the bucket size). At least 1. Default: `limit`, so a fresh key
    /// gets `limit` requests at once, like the first window of a fixed-window limiter.
    pub burst: u32,
}

impl RateLimitPolicy {
    /// `limit` requests per `period`, with `burst = limit`.
    pub fn new(name: impl Into<String>, limit: u32, period: Duration) -> Self {
        Self {
            name: name.into(),
            limit,
            period,
            burst: limit,
        }
    }

    /// Sets [`RateLimitPolicy::burst`].
    #[must_use]
    pub fn burst(mut self, burst: u32) -> Self {
        self.burst = burst;
        self
    }

    /// The time between two requests at the sustained rate: `period / limit`.
    pub fn emission_interval(&self) -> Duration {
        Duration::from_nanos(nanos(self.period) / u64::from(self.limit.max(1)))
    }

    /// Checks the policy is usable.
    pub fn validate(&self) -> Result<(), PolicyError> {
        Gcra::new(self).map(|_| ())
    }
}

/// Why a [`RateLimitPolicy`] is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The name is empty, longer than 64 characters, or has a character outside `A-Za-z0-9_.-`.
    #[error("rate-limit policy name must be 1 to 64 characters from A-Za-z0-9_.-")]
    Name,
    /// `limit` is 0.
    #[error("rate-limit policy limit must be at least 1")]
    Limit,
    /// `burst` is 0.
    #[error("rate-limit policy burst must be at least 1")]
    Burst,
    /// `period` is under 1 ms, or shorter than `limit` nanoseconds.
    #[error("rate-limit policy period must be at least 1 ms and allow one request per ns")]
    Period,
}

impl PolicyError {
    /// A short static description (for [`ActorError::Invalid`](crate::ActorError::Invalid)).
    pub fn reason(&self) -> &'static str {
        match self {
            PolicyError::Name => "invalid rate-limit policy name",
            PolicyError::Limit => "rate-limit policy limit is 0",
            PolicyError::Burst => "rate-limit policy burst is 0",
            PolicyError::Period => "rate-limit policy period too short",
        }
    }
}

/// The answer to a rate-limit check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The request may proceed; one unit of the budget was spent.
    Allow {
        /// Requests that would still be allowed right now (0 to `burst − 1`).
        remaining: u32,
        /// Time until the whole budget (`burst`) is back, if no other request comes.
        reset_after: Duration,
        /// Time until one more unit is back (the IETF draft's `t` for an allowed request).
        next_after: Duration,
    },
    /// The request must be refused; nothing was spent.
    Deny {
        /// Time until one request will be allowed again (> 0).
        retry_after: Duration,
        /// Time until the whole budget is back.
        reset_after: Duration,
        /// This is the first refusal of this key under this policy in this policy's period:
        /// record an event for it (later refusals in the period are only counted).
        first_in_window: bool,
    },
}

impl Decision {
    /// Whether the request may proceed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }

    /// Requests still allowed right now (0 when denied).
    pub fn remaining(&self) -> u32 {
        match self {
            Decision::Allow { remaining, .. } => *remaining,
            Decision::Deny { .. } => 0,
        }
    }

    /// Time until more quota is available: `next_after` when allowed, `retry_after` when
    /// denied. This is the draft's `t`; a `Retry-After` sent with a refusal equals it.
    pub fn quota_after(&self) -> Duration {
        match self {
            Decision::Allow { next_after, .. } => *next_after,
            Decision::Deny { retry_after, .. } => *retry_after,
        }
    }

    /// Time until the whole budget is back.
    pub fn reset_after(&self) -> Duration {
        match self {
            Decision::Allow { reset_after, .. } | Decision::Deny { reset_after, .. } => {
                *reset_after
            }
        }
    }
}

/// Nanoseconds in a duration, saturating.
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

pub(crate) fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}
