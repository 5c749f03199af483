//! The actor's events: `auth.lockout.locked` once per lock, and the spray detector's
//! `alert.spike`.

use super::{
    actor::{Keys, LockoutActor},
    counter::Counter,
    policy::{ms, Scope},
};
use crate::{clock::millis_to_utc, SecurityEvent};

fn rfc3339(ms: u64) -> String {
    millis_to_utc(ms)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The spray detector: failures across all accounts in the current fixed window.
#[derive(Debug, Default)]
pub(crate) struct Spray {
    window: u64,
    count: u64,
}

impl LockoutActor {
    /// Records `auth.lockout.locked` for a lock just imposed, built from the caller's
    /// `context` (request id, method, path, client IP, user id) when there is one.
    pub(crate) fn emit_locked(
        &self,
        context: Option<&SecurityEvent>,
        k: &Keys,
        scope: Scope,
        d: std::time::Duration,
        c: &Counter,
    ) {
        let mut ev = context
            .cloned()
            .unwrap_or_else(|| SecurityEvent::new("auth.lockout.locked"));
        ev.name = "auth.lockout.locked".into();
        let mut ev = ev
            .detail("scope", scope.as_str())
            .detail("until", rfc3339(c.locked_until))
            .detail("failures", c.failures)
            .detail("lock_secs", d.as_secs());
        if scope != Scope::Ip {
            ev = ev.detail("account_ref", hex::encode(&k.id[..8]));
        }
        if scope != Scope::Account {
            ev = ev.detail("network", k.net.to_string());
        }
        self.audit.emit(ev);
    }

    /// Counts a failure in the global window; raises `alert.spike` once per window when the
    /// count reaches the threshold.
    pub(crate) fn spray(&mut self, now: u64) {
        let threshold = u64::from(self.policy.spray_threshold);
        if threshold == 0 {
            return;
        }
        let w = ms(self.policy.spray_window).max(1);
        if now / w != self.spray.window {
            self.spray = Spray {
                window: now / w,
                count: 0,
            };
        }
        self.spray.count += 1;
        if self.spray.count == threshold {
            self.stats.spray_alerts += 1;
            self.audit.emit(
                SecurityEvent::new("alert.spike")
                    .detail("kind", "auth.login.failure")
                    .detail("count", self.spray.count)
                    .detail("threshold", threshold)
                    .detail("detector", "lockout.spray")
                    .detail("window_secs", self.policy.spray_window.as_secs()),
            );
        }
    }
}
