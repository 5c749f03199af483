//! One counter's arithmetic: a failure counted, a lock imposed, an episode forgotten. Pure:
//! time comes in as `now` (milliseconds since the epoch).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::policy::{ms, LockoutPolicy, Scope};

/// One counter, as stored: failures and locks of one scope's key in the current episode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Counter {
    /// Every failure recorded in the episode (also those made while locked).
    #[serde(rename = "f")]
    pub(crate) failures: u64,
    /// Failures made while unlocked that count toward the next lock.
    #[serde(rename = "r")]
    pub(crate) round: u32,
    /// Locks imposed in the episode: the backoff exponent of the next one.
    #[serde(rename = "l")]
    pub(crate) locks: u32,
    /// The last failure (ms since the epoch).
    #[serde(rename = "t")]
    pub(crate) last_failure_at: u64,
    /// The end of the last lock (ms since the epoch); 0 if never locked.
    #[serde(rename = "u")]
    pub(crate) locked_until: u64,
}

impl Counter {
    /// When the episode is forgotten: `window` after the later of the last failure and the
    /// end of the last lock.
    pub(crate) fn expires_at(&self, window_ms: u64) -> u64 {
        self.last_failure_at
            .max(self.locked_until)
            .saturating_add(window_ms)
    }

    /// The counter as it stands at `now`: a fresh one once the episode is over.
    pub(crate) fn at(self, now: u64, window_ms: u64) -> Counter {
        if self == Counter::default() || now >= self.expires_at(window_ms) {
            Counter::default()
        } else {
            self
        }
    }

    pub(crate) fn is_locked(&self, now: u64) -> bool {
        now < self.locked_until
    }

    /// Records one failure at `now` (on a counter already brought to `now` with
    /// [`Counter::at`]). Returns the new lock's length if this failure imposed one. A failure
    /// while locked is counted but neither extends the lock nor raises the backoff.
    ///
    /// `fresh_round`: after a lock, the next one needs a whole new `threshold` of failures
    /// (the account-wide rule) instead of a single one (Chirp's rule, for pairs and networks).
    pub(crate) fn fail(
        &mut self,
        now: u64,
        p: &LockoutPolicy,
        scope: Scope,
        fresh_round: bool,
    ) -> Option<Duration> {
        self.failures = self.failures.saturating_add(1);
        self.last_failure_at = now.max(self.last_failure_at);
        if self.is_locked(now) {
            return None;
        }
        self.round = self.round.saturating_add(1);
        if self.round < p.threshold(scope) {
            return None;
        }
        let d = p.lock_duration(self.locks);
        self.locks = self.locks.saturating_add(1);
        self.locked_until = now.saturating_add(ms(d));
        if fresh_round {
            self.round = 0;
        }
        Some(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1000;

    #[test]
    fn chirp_sequence_with_multiplier_two() {
        let p = LockoutPolicy::default();
        let mut c = Counter::default();
        let mut now = 1_000_000;
        for _ in 0..4 {
            assert_eq!(c.fail(now, &p, Scope::AccountIp, false), None);
        }
        let mut locks = Vec::new();
        for _ in 0..6 {
            let d = c.fail(now, &p, Scope::AccountIp, false).unwrap();
            locks.push(d.as_secs());
            // Failures during the lock count but do not extend it.
            assert_eq!(c.fail(now + S, &p, Scope::AccountIp, false), None);
            now = c.locked_until;
            c = c.at(now, p.window_ms());
        }
        assert_eq!(locks, [300, 600, 1200, 2400, 3600, 3600]);
        assert_eq!(c.failures, 4 + 12);
    }

    #[test]
    fn fresh_rounds_need_the_whole_threshold_again() {
        let p = LockoutPolicy::default().account_max_failures(3);
        let mut c = Counter::default();
        let now = 10 * S;
        assert_eq!(c.fail(now, &p, Scope::Account, true), None);
        assert_eq!(c.fail(now, &p, Scope::Account, true), None);
        assert_eq!(
            c.fail(now, &p, Scope::Account, true).unwrap().as_secs(),
            300
        );
        let after = c.locked_until;
        assert_eq!(c.fail(after, &p, Scope::Account, true), None);
        assert_eq!(c.fail(after, &p, Scope::Account, true), None);
        assert_eq!(
            c.fail(after, &p, Scope::Account, true).unwrap().as_secs(),
            600
        );
    }

    #[test]
    fn the_window_runs_from_the_last_failure_or_lock_end() {
        let p = LockoutPolicy::default();
        let w = p.window_ms();
        let mut c = Counter::default();
        c.fail(0, &p, Scope::Ip, false);
        assert_eq!(c.at(w - 1, w).failures, 1);
        assert_eq!(c.at(w, w), Counter::default());
        c.locked_until = 5 * w;
        assert_eq!(c.at(6 * w - 1, w).failures, 1);
        assert_eq!(c.at(6 * w, w), Counter::default());
    }
}
