//! The pure math of the limiter: GCRA (the generic cell rate algorithm), on integers.
//!
//! A key's whole state is one number, its *theoretical arrival time* (TAT), in nanoseconds
//! since the Unix epoch. With `T = period / limit` (the emission interval) and
//! `τ = (burst − 1) · T` (the tolerance), a request at `now` is allowed iff
//! `max(TAT, now) − now ≤ τ`; an allowed request moves the TAT to `max(TAT, now) + T`, a refused
//! one leaves it alone. So `burst` requests pass at once, then one every `T`, and a key whose
//! TAT is at or before `now` is exactly a fresh key: it can be forgotten.

use super::policy::{nanos, valid_name, PolicyError, RateLimitPolicy};

/// What [`Gcra::decide`] concluded, with the new state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed; store `new_tat`.
    Allow {
        /// The key's new theoretical arrival time (ns since the epoch).
        new_tat: u64,
        /// See [`Decision::Allow`](super::Decision::Allow).
        remaining: u32,
        /// See [`Decision::Allow`](super::Decision::Allow), in ns.
        reset_after: u64,
        /// See [`Decision::Allow`](super::Decision::Allow), in ns.
        next_after: u64,
    },
    /// Denied; the state is unchanged.
    Deny {
        /// See [`Decision::Deny`](super::Decision::Deny), in ns (> 0).
        retry_after: u64,
        /// See [`Decision::Deny`](super::Decision::Deny), in ns.
        reset_after: u64,
    },
}

/// A compiled [`RateLimitPolicy`]: the emission interval and tolerance in nanoseconds.
///
/// ```
/// use std::time::Duration;
/// use warden_actors::ratelimit::{Gcra, RateLimitPolicy, Verdict};
///
/// let g = Gcra::new(&RateLimitPolicy::new("p", 2, Duration::from_secs(10))).unwrap();
/// let now = 1_000_000_000_000;
/// let Verdict::Allow { new_tat, remaining, .. } = g.decide(0, now) else { panic!() };
/// assert_eq!(remaining, 1);
/// let Verdict::Allow { new_tat, remaining, .. } = g.decide(new_tat, now) else { panic!() };
/// assert_eq!(remaining, 0);
/// let Verdict::Deny { retry_after, .. } = g.decide(new_tat, now) else { panic!() };
/// assert_eq!(retry_after, 5_000_000_000); // one request per 5 s
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gcra {
    t: u64,
    tau: u64,
    burst: u32,
    window: u64,
}

impl Gcra {
    /// Compiles a policy, or says why it is unusable.
    pub fn new(p: &RateLimitPolicy) -> Result<Gcra, PolicyError> {
        if !valid_name(&p.name) {
            return Err(PolicyError::Name);
        }
        if p.limit == 0 {
            return Err(PolicyError::Limit);
        }
        if p.burst == 0 {
            return Err(PolicyError::Burst);
        }
        let period = nanos(p.period);
        let t = period / u64::from(p.limit);
        if period < 1_000_000 || t == 0 {
            return Err(PolicyError::Period);
        }
        Ok(Gcra {
            t,
            tau: t.saturating_mul(u64::from(p.burst - 1)),
            burst: p.burst,
            window: period,
        })
    }

    /// The emission interval `T`, in ns.
    pub fn emission_interval(&self) -> u64 {
        self.t
    }

    /// The tolerance `τ = (burst − 1) · T`, in ns.
    pub fn tolerance(&self) -> u64 {
        self.tau
    }

    /// The policy's period in ns (the window for "first refusal" events).
    pub fn window(&self) -> u64 {
        self.window
    }

    /// The burst.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Decides a request at `now` (ns) for a key whose stored TAT is `tat` (0 for a fresh key).
    pub fn decide(&self, tat: u64, now: u64) -> Verdict {
        let tat = tat.max(now);
        let ahead = tat - now;
        if ahead > self.tau {
            return Verdict::Deny {
                retry_after: ahead - self.tau,
                reset_after: ahead,
            };
        }
        let new_tat = tat.saturating_add(self.t);
        let reset_after = new_tat - now;
        // Units left: how many more emission intervals fit under `burst · T`.
        let room = self.tau.saturating_add(self.t).saturating_sub(reset_after);
        let remaining = u32::try_from(room / self.t)
            .unwrap_or(u32::MAX)
            .min(self.burst - 1);
        Verdict::Allow {
            new_tat,
            remaining,
            reset_after,
            next_after: self.t - room % self.t,
        }
    }

    /// The refusal a key with stored TAT `tat` gets at `now`, or `None` if it would be allowed.
    /// (What a read view can answer without changing state.)
    pub fn denial(&self, tat: u64, now: u64) -> Option<(u64, u64)> {
        match self.decide(tat, now) {
            Verdict::Deny {
                retry_after,
                reset_after,
            } => Some((retry_after, reset_after)),
            Verdict::Allow { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const S: u64 = 1_000_000_000;
    const NOW: u64 = 1_700_000_000 * S;

    fn g(limit: u32, secs: u64, burst: u32) -> Gcra {
        Gcra::new(&RateLimitPolicy::new("p", limit, Duration::from_secs(secs)).burst(burst))
            .unwrap()
    }

    fn allow(v: Verdict) -> (u64, u32, u64, u64) {
        match v {
            Verdict::Allow {
                new_tat,
                remaining,
                reset_after,
                next_after,
            } => (new_tat, remaining, reset_after, next_after),
            d => panic!("expected allow, got {d:?}"),
        }
    }

    #[test]
    fn burst_then_steady_rate() {
        let g = g(10, 60, 10);
        let mut tat = 0;
        for i in 0..10u32 {
            let (t, rem, reset, next) = allow(g.decide(tat, NOW));
            assert_eq!(rem, 9 - i);
            assert_eq!(reset, u64::from(i + 1) * 6 * S);
            assert_eq!(next, 6 * S);
            tat = t;
        }
        assert_eq!(
            g.decide(tat, NOW),
            Verdict::Deny {
                retry_after: 6 * S,
                reset_after: 60 * S
            }
        );
        // 1 ms early: still refused, by 1 ms.
        assert_eq!(
            g.denial(tat, NOW + 6 * S - 1_000_000),
            Some((1_000_000, 54 * S + 1_000_000))
        );
        let (t, rem, ..) = allow(g.decide(tat, NOW + 6 * S));
        assert_eq!(rem, 0);
        assert_eq!(g.denial(t, NOW + 6 * S), Some((6 * S, 60 * S)));
    }

    #[test]
    fn partial_refill_reports_next_unit() {
        let g = g(10, 60, 10);
        let mut tat = 0;
        for _ in 0..3 {
            tat = allow(g.decide(tat, NOW)).0;
        }
        // 7 s later: 3 spent, one returned at 6 s; this request spends one more.
        let (_, rem, reset, next) = allow(g.decide(tat, NOW + 7 * S));
        assert_eq!((rem, reset, next), (7, 17 * S, 5 * S));
    }

    #[test]
    fn burst_smaller_than_limit() {
        let g = g(10, 60, 5);
        let mut tat = 0;
        for i in 0..5u32 {
            let (t, rem, ..) = allow(g.decide(tat, NOW));
            assert_eq!(rem, 4 - i);
            tat = t;
        }
        assert_eq!(g.denial(tat, NOW), Some((6 * S, 30 * S)));
    }

    #[test]
    fn burst_one_is_a_strict_interval() {
        let g = g(1, 30, 1);
        let (tat, rem, reset, next) = allow(g.decide(0, NOW));
        assert_eq!((rem, reset, next), (0, 30 * S, 30 * S));
        assert_eq!(g.denial(tat, NOW + 29 * S), Some((S, S)));
        assert!(g.denial(tat, NOW + 30 * S).is_none());
    }

    #[test]
    fn decayed_state_is_a_fresh_key() {
        let g = g(10, 60, 10);
        let mut tat = 0;
        for _ in 0..10 {
            tat = allow(g.decide(tat, NOW)).0;
        }
        assert_eq!(tat, NOW + 60 * S);
        assert_eq!(g.decide(tat, tat), g.decide(0, tat));
        assert_eq!(allow(g.decide(tat, tat)).1, 9);
    }

    #[test]
    fn policies_are_validated() {
        let p = |n: &str, l, ms, b| {
            RateLimitPolicy::new(n, l, Duration::from_millis(ms))
                .burst(b)
                .validate()
        };
        assert_eq!(p("", 1, 1000, 1), Err(PolicyError::Name));
        assert_eq!(p("a\"b", 1, 1000, 1), Err(PolicyError::Name));
        assert_eq!(p(&"x".repeat(65), 1, 1000, 1), Err(PolicyError::Name));
        assert_eq!(p("a", 0, 1000, 1), Err(PolicyError::Limit));
        assert_eq!(p("a", 1, 1000, 0), Err(PolicyError::Burst));
        assert_eq!(p("a", 1, 0, 1), Err(PolicyError::Period));
        assert_eq!(p("login-ip.v2_x", 1, 1, 1), Ok(()));
        assert_eq!(
            RateLimitPolicy::new("a", u32::MAX, Duration::from_millis(1)).validate(),
            Err(PolicyError::Period)
        );
    }

    #[test]
    fn huge_values_saturate_instead_of_overflowing() {
        let g = g(1, 3_000_000_000, u32::MAX);
        let (tat, ..) = allow(g.decide(0, NOW));
        let _ = g.decide(tat, u64::MAX);
        let _ = g.decide(u64::MAX, NOW);
    }
}
