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
/// backoff step for as long as the episode would have lasted, so the victim's logins do not
/// hand an attacker short locks.
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

#[cfg(test)]
mod tests {
    use super::*;

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
