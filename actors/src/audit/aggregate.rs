//! Aggregation of flood-prone events, before they reach the audit actor's mailbox.
//!
//! An attacker triggers rejections (`csrf.reject.*`, `authz.permission.denied`,
//! `ratelimit.blocked`, ...) at will. Recording each one would let them fill the disk and keep
//! the audit actor busy, starving the events that matter. So, per event name and window:
//!
//! - each (name, client IP) key records its first [`AuditConfig::aggregate_burst`] events one by
//!   one, and the name as a whole at most [`AuditConfig::aggregate_name_budget`];
//! - everything beyond is only counted, in the caller's thread, without a message;
//! - when the window closes, the audit actor records **one** summary per name (same name,
//!   `details.aggregated = true`, `details.suppressed` = how many were held back, the top
//!   addresses with their counts), so every occurrence is accounted for;
//! - spike detection does not wait for the summary: the actor collects the held-back counts
//!   every second and counts them toward their kinds then (the summary itself is not counted
//!   again).
//!
//! At most [`AuditConfig::aggregate_max_keys`] keys are tracked; addresses beyond are counted
//! per name under `untracked`. Must-log events ([`MUST_LOG`](super::MUST_LOG)) are never
//! aggregated. Records per name and window: at most `aggregate_name_budget + 1`.
//!
//! [`AuditConfig::aggregate_burst`]: crate::AuditConfig::aggregate_burst
//! [`AuditConfig::aggregate_name_budget`]: crate::AuditConfig::aggregate_name_budget
//! [`AuditConfig::aggregate_max_keys`]: crate::AuditConfig::aggregate_max_keys

use std::{collections::HashMap, net::IpAddr, sync::OnceLock};

use parking_lot::Mutex;
use serde_json::{Map, Value};

use super::{
    event::SecurityEvent,
    policy::{is_must_log, name_matches},
};
use crate::{clock::millis_to_utc, runtime::AuditConfig};

/// Closed windows waiting for the actor; beyond this, summaries of one name are merged.
const MAX_PENDING: usize = 4096;
/// Addresses listed in a summary's `top`.
const TOP: usize = 10;

#[derive(Debug)]
struct Settings {
    patterns: Vec<String>,
    window_ms: u64,
    burst: u64,
    name_budget: u64,
    max_keys: usize,
}

#[derive(Debug, Default, Clone, Copy)]
struct KeyCount {
    passed: u64,
    held: u64,
}

#[derive(Debug)]
struct NameWindow {
    start: u64,
    passed: u64,
    held: u64,
    per_ip: HashMap<Option<IpAddr>, KeyCount>,
    untracked: u64,
    method: Option<String>,
    path: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    names: HashMap<String, NameWindow>,
    keys: usize,
    pending: Vec<SecurityEvent>,
    /// Held back since the actor last collected, per name (for spike detection, which must
    /// not wait for the window's summary).
    unreported: HashMap<String, u64>,
}

/// What to do with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Send it to the actor.
    Pass,
    /// Counted into its window's summary; do not send it.
    Hold,
}

/// The aggregator shared by every handle of one runtime.
#[derive(Debug, Default)]
pub(crate) struct Aggregator {
    settings: OnceLock<Settings>,
    state: Mutex<State>,
}

impl Aggregator {
    /// Applies the configuration (once; the audit actor calls it when it is built).
    pub(crate) fn configure(&self, cfg: &AuditConfig) {
        let _ = self.settings.set(Settings {
            patterns: cfg.aggregate_names.clone(),
            window_ms: u64::try_from(cfg.aggregate_window.as_millis()).unwrap_or(u64::MAX),
            burst: cfg.aggregate_burst,
            name_budget: cfg.aggregate_name_budget,
            max_keys: cfg.aggregate_max_keys,
        });
    }

    fn settings_for(&self, name: &str) -> Option<&Settings> {
        let s = self.settings.get()?;
        if s.window_ms == 0 || is_must_log(name) {
            return None;
        }
        s.patterns
            .iter()
            .any(|p| name_matches(name, p))
            .then_some(s)
    }

    /// Decides for one event (already named and stamped) at `now_ms`.
    pub(crate) fn admit(&self, ev: &SecurityEvent, now_ms: u64) -> Admit {
        let Some(s) = self.settings_for(&ev.name) else {
            return Admit::Pass;
        };
        let mut st = self.state.lock();
        let st = &mut *st;
        if let Some(w) = st.names.get(&ev.name) {
            if now_ms >= w.start.saturating_add(s.window_ms) {
                let w = st.names.remove(&ev.name).expect("present");
                st.keys -= w.per_ip.len();
                if let Some(summary) = summarise(&ev.name, w, s) {
                    push_pending(&mut st.pending, summary);
                }
            }
        }
        let w = st
            .names
            .entry(ev.name.clone())
            .or_insert_with(|| NameWindow {
                start: now_ms,
                passed: 0,
                held: 0,
                per_ip: HashMap::new(),
                untracked: 0,
                method: None,
                path: None,
            });
        let room = st.keys < s.max_keys;
        let count = match w.per_ip.entry(ev.client_ip) {
            std::collections::hash_map::Entry::Occupied(e) => Some(e.into_mut()),
            std::collections::hash_map::Entry::Vacant(e) if room => {
                st.keys += 1;
                Some(e.insert(KeyCount::default()))
            }
            std::collections::hash_map::Entry::Vacant(_) => None,
        };
        match count {
            Some(c) if c.passed < s.burst && w.passed < s.name_budget => {
                c.passed += 1;
                w.passed += 1;
                return Admit::Pass;
            }
            Some(c) => c.held += 1,
            None => w.untracked += 1,
        }
        w.held += 1;
        w.method.clone_from(&ev.method);
        w.path.clone_from(&ev.path);
        match st.unreported.get_mut(&ev.name) {
            Some(n) => *n += 1,
            None => {
                st.unreported.insert(ev.name.clone(), 1);
            }
        }
        Admit::Hold
    }

    /// The occurrences held back since the last call, per name.
    pub(crate) fn take_unreported(&self) -> Vec<(String, u64)> {
        let mut st = self.state.lock();
        st.unreported.drain().collect()
    }

    /// Closes the windows that ended by `now_ms` (every window if `all`) and answers their
    /// summaries, with those of windows closed earlier by [`Aggregator::admit`].
    pub(crate) fn flush(&self, now_ms: u64, all: bool) -> Vec<SecurityEvent> {
        let Some(s) = self.settings.get() else {
            return Vec::new();
        };
        let mut st = self.state.lock();
        let st = &mut *st;
        let mut out = std::mem::take(&mut st.pending);
        let ended: Vec<String> = st
            .names
            .iter()
            .filter(|(_, w)| all || now_ms >= w.start.saturating_add(s.window_ms))
            .map(|(n, _)| n.clone())
            .collect();
        for name in ended {
            if let Some(w) = st.names.remove(&name) {
                st.keys -= w.per_ip.len();
                out.extend(summarise(&name, w, s));
            }
        }
        out
    }
}

fn push_pending(pending: &mut Vec<SecurityEvent>, summary: SecurityEvent) {
    if pending.len() < MAX_PENDING {
        pending.push(summary);
        return;
    }
    // The actor has not collected for a long time: fold into the newest summary of the name.
    let count = |e: &SecurityEvent| e.details.get("suppressed").and_then(Value::as_u64);
    let add = count(&summary).unwrap_or(0);
    if let Some(prev) = pending.iter_mut().rev().find(|p| p.name == summary.name) {
        let total = count(prev).unwrap_or(0) + add;
        prev.details.insert("suppressed".into(), total.into());
    } else if let Some(slot) = pending.last_mut() {
        *slot = summary;
    }
}

/// The summary of a closed window, if anything was held back.
fn summarise(name: &str, w: NameWindow, s: &Settings) -> Option<SecurityEvent> {
    if w.held == 0 {
        return None;
    }
    let mut held: Vec<(Option<IpAddr>, u64)> = w
        .per_ip
        .iter()
        .filter(|(_, c)| c.held > 0)
        .map(|(ip, c)| (*ip, c.held))
        .collect();
    held.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let addresses = held.len();
    let mut top = Map::new();
    for (ip, n) in held.iter().take(TOP) {
        let key = ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        top.insert(key, Value::from(*n));
    }
    let mut ev = SecurityEvent::new(name)
        .detail("aggregated", true)
        .detail("suppressed", w.held)
        .detail("window_secs", s.window_ms / 1000)
        .detail(
            "window_start",
            millis_to_utc(w.start)
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        )
        .detail("addresses", addresses)
        .detail("top", Value::Object(top));
    if w.untracked > 0 {
        ev = ev.detail("untracked", w.untracked);
    }
    if let (1, 0, Some(ip)) = (addresses, w.untracked, held.first().and_then(|h| h.0)) {
        ev = ev.client_ip(ip);
    }
    if let Some(m) = &w.method {
        ev = ev.method(m);
    }
    if let Some(p) = &w.path {
        ev = ev.path(p);
    }
    Some(ev)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn agg(burst: u64, budget: u64, keys: usize) -> Aggregator {
        let a = Aggregator::default();
        a.configure(
            &AuditConfig::default()
                .aggregate_burst(burst)
                .aggregate_name_budget(budget)
                .aggregate_max_keys(keys)
                .aggregate_window(Duration::from_secs(60)),
        );
        a
    }

    fn ev(name: &str, ip: [u8; 4]) -> SecurityEvent {
        SecurityEvent::new(name)
            .client_ip(IpAddr::from(ip))
            .path("/x")
    }

    #[test]
    fn burst_then_hold_then_one_summary() {
        let a = agg(3, 100, 100);
        let e = ev("csrf.reject.missing", [10, 0, 0, 1]);
        let verdicts: Vec<_> = (0..10).map(|_| a.admit(&e, 1_000)).collect();
        assert_eq!(verdicts.iter().filter(|v| **v == Admit::Pass).count(), 3);
        assert!(a.flush(30_000, false).is_empty(), "window still open");
        let s = a.flush(61_000, false);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].details["suppressed"], 7);
        assert_eq!(s[0].details["aggregated"], true);
        assert_eq!(s[0].client_ip, Some(IpAddr::from([10, 0, 0, 1])));
        assert_eq!(s[0].details["top"]["10.0.0.1"], 7);
        // A new window starts fresh.
        assert_eq!(a.admit(&e, 62_000), Admit::Pass);
    }

    #[test]
    fn the_name_budget_bounds_many_addresses() {
        let a = agg(5, 20, 10_000);
        let pass = (0..1000u32)
            .filter(|i| {
                let ip = [10, 1, (i >> 8) as u8, *i as u8];
                a.admit(&ev("authz.permission.denied", ip), 5) == Admit::Pass
            })
            .count();
        assert_eq!(pass, 20);
        let s = a.flush(0, true);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].details["suppressed"], 980);
        assert_eq!(s[0].details["addresses"], 980);
        assert_eq!(s[0].details["top"].as_object().unwrap().len(), TOP);
        assert_eq!(s[0].client_ip, None);
    }

    #[test]
    fn keys_are_capped_and_the_rest_counted_as_untracked() {
        let a = agg(5, 20, 8);
        let pass = (0..1000u32)
            .filter(|i| {
                let ip = [10, 1, (i >> 8) as u8, *i as u8];
                a.admit(&ev("authz.permission.denied", ip), 5) == Admit::Pass
            })
            .count();
        assert_eq!(
            pass, 8,
            "the 8 tracked addresses pass, the rest are untracked"
        );
        let s = a.flush(0, true);
        assert_eq!(s[0].details["suppressed"], 992);
        assert_eq!(s[0].details["untracked"], 992);
        assert!(a.state.lock().names.is_empty());
        assert_eq!(a.state.lock().keys, 0);
    }

    #[test]
    fn must_log_and_other_names_always_pass() {
        let a = agg(0, 0, 10);
        for _ in 0..100 {
            assert_eq!(
                a.admit(&ev("auth.login.failure", [1, 1, 1, 1]), 1),
                Admit::Pass
            );
            assert_eq!(
                a.admit(&ev("session.created", [1, 1, 1, 1]), 1),
                Admit::Pass
            );
        }
        assert_eq!(
            a.admit(&ev("csrf.reject.origin", [1, 1, 1, 1]), 1),
            Admit::Hold
        );
    }

    #[test]
    fn a_window_closed_by_a_new_event_is_kept_for_the_actor() {
        let a = agg(1, 10, 10);
        let e = ev("ratelimit.blocked", [1, 2, 3, 4]);
        assert_eq!(a.admit(&e, 0), Admit::Pass);
        assert_eq!(a.admit(&e, 1), Admit::Hold);
        assert_eq!(a.admit(&e, 60_000), Admit::Pass);
        let s = a.flush(60_001, false);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].details["suppressed"], 1);
    }
}
