//! `[lockout]` → the lockout actor's [`LockoutPolicy`] and [`LockoutSettings`].

use std::time::Duration;

use warden_actors::lockout::LockoutPolicy;

use super::{raw::RawLockout, validate::Errors, LockoutSettings};

pub(super) fn lockout(raw: &RawLockout, errors: &mut Errors) -> (LockoutPolicy, LockoutSettings) {
    let before = errors.0.len();

    let max_failures = errors.nonzero("lockout.max_failures", raw.max_failures);
    let account_max = errors.nonzero("lockout.account_max_failures", raw.account_max_failures);
    if account_max > 0 && account_max < max_failures {
        errors.push(
            "lockout.account_max_failures",
            format!(
                "must be at least `lockout.max_failures` ({account_max} < {max_failures}): the \
                 account-wide lock applies from every network, so a lower threshold would let \
                 anyone lock the account before any single network is locked"
            ),
        );
    }
    let ip_max = errors.nonzero("lockout.ip_max_failures", raw.ip_max_failures);
    let window = errors.nonzero("lockout.window_secs", raw.window_secs);

    let base = raw.base_lock_secs;
    if base == 0 {
        errors.push("lockout.base_lock_secs", "must be at least 1 second");
    }
    if !raw.multiplier.is_finite() || raw.multiplier < 1.0 {
        errors.push(
            "lockout.multiplier",
            format!(
                "must be a number of at least 1.0 (1.0 keeps every lock at \
                 `lockout.base_lock_secs`), got {}",
                raw.multiplier
            ),
        );
    }
    let max_lock = raw.max_lock_secs;
    let cap = RawLockout::MAX_LOCK_SECS;
    if max_lock < base {
        errors.push(
            "lockout.max_lock_secs",
            format!("must be at least `lockout.base_lock_secs` ({max_lock} < {base})"),
        );
    } else if max_lock > cap {
        errors.push(
            "lockout.max_lock_secs",
            format!(
                "must be at most {cap} (a day), got {max_lock}: longer locks mostly help an \
                 attacker who wants to keep the account's owner out"
            ),
        );
    }

    let max_tracked = errors.nonzero("lockout.max_tracked_keys", raw.max_tracked_keys);
    let spray_window = errors.nonzero("lockout.spray_window_secs", raw.spray_window_secs);

    let policy = LockoutPolicy::default()
        .max_failures(max_failures)
        .account_max_failures(account_max)
        .ip_max_failures(ip_max)
        .window(Duration::from_secs(window))
        .base_lock(Duration::from_secs(base))
        .multiplier(raw.multiplier)
        .max_lock(Duration::from_secs(max_lock))
        .trusted_ip_ttl(match raw.trusted_ip_ttl_secs {
            0 => None,
            secs => Some(Duration::from_secs(secs)),
        })
        .max_tracked_keys(max_tracked)
        .spray_threshold(raw.spray_threshold)
        .spray_window(Duration::from_secs(spray_window));
    // The checks above are at least as strict as the actor's; this only guards against the two
    // drifting apart (the actor would refuse to start).
    if errors.0.len() == before {
        if let Err(e) = policy.validate() {
            errors.push(e.key, e.reason);
        }
    }

    let settings = LockoutSettings {
        locked_response: raw.locked_response,
    };
    (policy, settings)
}
