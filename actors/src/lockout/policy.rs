//! The lockout policy and its pure arithmetic: thresholds, the backoff formula, the window, the
//! login-name normalisation and the IP collapsing. No I/O and no clock: time comes in as `now`
//! (milliseconds since the epoch).

use std::{
    net::{IpAddr, Ipv6Addr},
    time::Duration,
};

use serde::{Deserialize, Serialize};

/// Which counter a failure, a lock or a status is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Scope {
    /// One login name, from every address (the account-wide lock).
    Account,
    /// One login name from one network (an IPv4 address, an IPv6 /64).
    AccountIp,
    /// One network, whatever the login name.
    Ip,
}

impl Scope {
    /// The name used in events: `account`, `account_ip`, `ip`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Account => "account",
            Scope::AccountIp => "account_ip",
            Scope::Ip => "ip",
        }
    }
}

/// Thresholds, windows and backoff of the lockout actor.
///
/// Three counters see every failed login: per (account, network), per account and per network.
/// Each locks when it reaches its threshold; a lock lasts
/// `base_lock * multiplier^(locks so far)`, clamped to `[1 s, max_lock]` (Chirp's formula
/// `base * multiplier^(failures - max_failures)`, counting only failures made while unlocked).
///
/// **The balance against lockout-as-DoS.** The (account, network) pair is the tight limit: 5
/// failures lock that pair, and every further failure after the lock ends locks it again for
/// twice as long. The account-wide lock has a higher threshold (20), counts only failures that
/// reached a password check (not those refused because their pair or network was locked, so
/// one network cannot trip it alone), and needs a fresh round of 20 such failures after each
/// lock. A login from a network the account logged in from successfully within
/// `trusted_ip_ttl` is not subject to the account-wide lock at all (only to its own pair and
/// network counters). A success clears the account's count and ends its lock but keeps its
/// backoff step for the window, so the victim's logins do not hand an attacker short locks.
///
/// So an attacker spraying a victim from many networks gets at most 20 password checks per
/// account-lock cycle (≤ 20 per hour once the lock reaches the cap, within ASVS 2.2.1's 100),
/// and can delay the victim on a new network by at most `max_lock` per cycle; the victim is
/// never locked out of a network they logged in from recently (unless the attacker shares
/// that network), and password reset is not affected.
///
/// **The window.** A counter, and its backoff, is forgotten once `window` has passed since the
/// later of its last failure and the end of its last lock. (Chirp measures the window from the
/// first failure, which closes it before the third lock: the documented 600/1200/2400 s steps
/// are unreachable with its defaults. Here they are reached.)
///
/// ```
/// use std::time::Duration;
/// use warden_actors::lockout::LockoutPolicy;
///
/// let p = LockoutPolicy::default();
/// assert_eq!((p.max_failures, p.account_max_failures), (5, 20));
/// let secs: Vec<u64> = (0..6).map(|k| p.lock_duration(k).as_secs()).collect();
/// assert_eq!(secs, [300, 600, 1200, 2400, 3600, 3600]);
///
/// let strict = LockoutPolicy::default().max_failures(3).max_lock(Duration::from_secs(900));
/// assert_eq!(strict.lock_duration(10), Duration::from_secs(900));
/// assert!(strict.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LockoutPolicy {
    /// Failures of one (account, network) pair that lock the pair. Default: 5.
    pub max_failures: u32,
    /// Failures that reached a password check (see above) that lock the account on every
    /// network. Default: 20.
    pub account_max_failures: u32,
    /// Failures from one network, over every login name, that lock the network. Default: 50.
    pub ip_max_failures: u32,
    /// How long a quiet counter is remembered (see above). Default: 900 s.
    pub window: Duration,
    /// The first lock's length. Default: 300 s.
    pub base_lock: Duration,
    /// Each further lock of the same counter lasts this many times longer (1.0: constant).
    /// Default: 2.0.
    pub multiplier: f64,
    /// The longest lock. Default: 3600 s.
    pub max_lock: Duration,
    /// How long a network stays trusted for an account after a successful login from it
    /// (the account-wide lock does not apply there); `None` turns this off. Default: 30 days.
    pub trusted_ip_ttl: Option<Duration>,
    /// Counters kept in the actor's memory (a cache of the store, which stays the source of
    /// truth: evicting never forgets a failure). Default: 100 000.
    pub max_tracked_keys: usize,
    /// Failures across all accounts within `spray_window` that raise an `alert.spike` event
    /// (once per window); 0 turns the detector off. Default: 100.
    pub spray_threshold: u32,
    /// The spray detector's window. Default: 60 s.
    pub spray_window: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            account_max_failures: 20,
            ip_max_failures: 50,
            window: Duration::from_secs(900),
            base_lock: Duration::from_secs(300),
            multiplier: 2.0,
            max_lock: Duration::from_secs(3600),
            trusted_ip_ttl: Some(Duration::from_secs(30 * 24 * 3600)),
            max_tracked_keys: 100_000,
            spray_threshold: 100,
            spray_window: Duration::from_secs(60),
        }
    }
}

/// A policy value that cannot work, named by its configuration key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid lockout setting `{key}`: {reason}")]
pub struct InvalidPolicy {
    /// The configuration key, e.g. `lockout.max_failures`.
    pub key: &'static str,
    /// Why it is refused.
    pub reason: &'static str,
}

macro_rules! setter {
    ($(#[$doc:meta] $name:ident: $ty:ty),* $(,)?) => {$(
        #[$doc]
        #[must_use]
        pub fn $name(mut self, v: $ty) -> Self {
            self.$name = v;
            self
        }
    )*};
}

impl LockoutPolicy {
    setter! {
        /// Sets [`LockoutPolicy::max_failures`].
        max_failures: u32,
        /// Sets [`LockoutPolicy::account_max_failures`].
        account_max_failures: u32,
        /// Sets [`LockoutPolicy::ip_max_failures`].
        ip_max_failures: u32,
        /// Sets [`LockoutPolicy::window`].
        window: Duration,
        /// Sets [`LockoutPolicy::base_lock`].
        base_lock: Duration,
        /// Sets [`LockoutPolicy::multiplier`].
        multiplier: f64,
        /// Sets [`LockoutPolicy::max_lock`].
        max_lock: Duration,
        /// Sets [`LockoutPolicy::trusted_ip_ttl`].
        trusted_ip_ttl: Option<Duration>,
        /// Sets [`LockoutPolicy::max_tracked_keys`].
        max_tracked_keys: usize,
        /// Sets [`LockoutPolicy::spray_threshold`].
        spray_threshold: u32,
        /// Sets [`LockoutPolicy::spray_window`].
        spray_window: Duration,
    }

    /// Checks every value; the error names the configuration key (`lockout.<field>`).
    pub fn validate(&self) -> Result<(), InvalidPolicy> {
        let bad = |key, reason| Err(InvalidPolicy { key, reason });
        let positive = "must be greater than 0";
        if self.max_failures == 0 {
            return bad("lockout.max_failures", positive);
        }
        if self.account_max_failures == 0 {
            return bad("lockout.account_max_failures", positive);
        }
        if self.ip_max_failures == 0 {
            return bad("lockout.ip_max_failures", positive);
        }
        if self.window.is_zero() {
            return bad("lockout.window_secs", positive);
        }
        if self.base_lock < Duration::from_secs(1) {
            return bad("lockout.base_lock_secs", "must be at least 1 second");
        }
        if self.max_lock < self.base_lock {
            return bad("lockout.max_lock_secs", "must be at least base_lock_secs");
        }
        if !self.multiplier.is_finite() || self.multiplier < 1.0 {
            return bad("lockout.multiplier", "must be a number of at least 1.0");
        }
        if self.trusted_ip_ttl.is_some_and(|d| d.is_zero()) {
            return bad("lockout.trusted_ip_ttl_secs", positive);
        }
        if self.max_tracked_keys == 0 {
            return bad("lockout.max_tracked_keys", positive);
        }
        if self.spray_window.is_zero() {
            return bad("lockout.spray_window_secs", positive);
        }
        Ok(())
    }

    /// The failures that lock a scope.
    pub fn threshold(&self, scope: Scope) -> u32 {
        match scope {
            Scope::Account => self.account_max_failures,
            Scope::AccountIp => self.max_failures,
            Scope::Ip => self.ip_max_failures,
        }
        .max(1)
    }

    /// The length of a lock after `prior_locks` earlier locks of the same counter:
    /// `base_lock * multiplier^prior_locks`, clamped to `[1 s, max_lock]`, in whole
    /// milliseconds.
    pub fn lock_duration(&self, prior_locks: u32) -> Duration {
        let max = ms(self.max_lock).max(1000) as f64;
        let m = if self.multiplier.is_finite() {
            self.multiplier.max(1.0)
        } else {
            1.0
        };
        let exp = i32::try_from(prior_locks.min(4096)).unwrap_or(4096);
        let raw = ms(self.base_lock) as f64 * m.powi(exp);
        let clamped = if raw.is_finite() { raw.min(max) } else { max };
        // In [1000, max] and finite: the cast cannot truncate meaningfully.
        Duration::from_millis(clamped.max(1000.0).floor() as u64)
    }

    pub(crate) fn window_ms(&self) -> u64 {
        ms(self.window).max(1)
    }
}

pub(crate) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The canonical form of a login name for counting: trimmed and Unicode-lowercased, so that
/// `Alice`, ` alice ` and `ALICE` share one counter. (Apply the same normalisation in the user
/// lookup if login names are case-insensitive there.)
///
/// ```
/// use warden_actors::lockout::normalize_login;
///
/// assert_eq!(normalize_login("  ÀLICE@Example.COM\t"), "àlice@example.com");
/// ```
pub fn normalize_login(login: &str) -> String {
    login.trim().to_lowercase()
}

/// The network a client address is counted under: IPv4 (and IPv4-mapped IPv6) as is, IPv6
/// collapsed to its /64 (one subscriber usually holds a whole /64). The same as
/// `warden::client_ip::network_key`.
pub fn network(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(
            u128::from(v6) & 0xffff_ffff_ffff_ffff_0000_0000_0000_0000,
        )),
    }
}

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

    #[test]
    fn odd_multipliers_and_huge_exponents_stay_in_bounds() {
        let p = LockoutPolicy::default().multiplier(1.0);
        assert_eq!(p.lock_duration(50), Duration::from_secs(300));
        let p = LockoutPolicy::default().multiplier(1.5);
        assert_eq!(p.lock_duration(1), Duration::from_secs(450));
        assert_eq!(p.lock_duration(u32::MAX), Duration::from_secs(3600));
        for bad in [f64::NAN, f64::INFINITY, 0.5] {
            let p = LockoutPolicy::default().multiplier(bad);
            assert!(p.lock_duration(3) <= Duration::from_secs(3600));
            assert_eq!(p.validate().unwrap_err().key, "lockout.multiplier");
        }
        let p = LockoutPolicy::default().base_lock(Duration::from_millis(10));
        assert_eq!(p.lock_duration(0), Duration::from_secs(1));
    }

    #[test]
    fn validation_names_the_key() {
        assert!(LockoutPolicy::default().validate().is_ok());
        let p = LockoutPolicy::default().max_lock(Duration::from_secs(10));
        assert_eq!(p.validate().unwrap_err().key, "lockout.max_lock_secs");
        let p = LockoutPolicy::default().max_failures(0);
        assert_eq!(p.validate().unwrap_err().key, "lockout.max_failures");
    }

    #[test]
    fn networks_collapse_ipv6_to_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(network(a), network(b));
        let m: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(network(m), "192.0.2.7".parse::<IpAddr>().unwrap());
    }
}
