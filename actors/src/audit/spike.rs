//! Spike detection: per watched kind, a sliding window of counts and a threshold.
//!
//! Each kind (a name prefix, a trailing `*` allowed) counts the events whose name matches it,
//! in buckets of 1/60th of the window (so memory is constant whatever the rate). When the count
//! in the window reaches the threshold, the detector answers one alert and disarms; it re-arms
//! only once the count has fallen back below the threshold, so a sustained flood raises one
//! alert per crossing, not one per event.

use std::{collections::VecDeque, time::Duration};

use super::policy::name_matches;

/// One threshold crossing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Alert {
    /// The watched kind (the configured pattern).
    pub(crate) kind: String,
    /// Events of the kind in the window when it crossed.
    pub(crate) count: u64,
}

#[derive(Debug)]
struct Kind {
    pattern: String,
    /// (bucket start in ms, events in the bucket), oldest first.
    buckets: VecDeque<(u64, u64)>,
    total: u64,
    armed: bool,
}

/// The detector of the audit actor.
#[derive(Debug)]
pub(crate) struct SpikeDetector {
    kinds: Vec<Kind>,
    window_ms: u64,
    bucket_ms: u64,
    threshold: u64,
}

impl SpikeDetector {
    /// A detector for these kinds; disabled (watching nothing) if the window or the threshold
    /// is zero.
    pub(crate) fn new(kinds: &[String], window: Duration, threshold: u64) -> Self {
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        let enabled = window_ms > 0 && threshold > 0;
        let mut seen = std::collections::HashSet::new();
        Self {
            kinds: kinds
                .iter()
                .filter(|_| enabled)
                .filter(|k| seen.insert(k.as_str()))
                .map(|k| Kind {
                    pattern: k.clone(),
                    buckets: VecDeque::new(),
                    total: 0,
                    armed: true,
                })
                .collect(),
            window_ms,
            bucket_ms: (window_ms / 60).max(1),
            threshold,
        }
    }

    /// The window in whole seconds (for the alert's details).
    pub(crate) fn window_secs(&self) -> u64 {
        self.window_ms / 1000
    }

    /// The threshold.
    pub(crate) fn threshold(&self) -> u64 {
        self.threshold
    }

    /// Counts `weight` occurrences of `name` at `now_ms`; answers the kinds that crossed.
    pub(crate) fn observe(&mut self, name: &str, weight: u64, now_ms: u64) -> Vec<Alert> {
        let mut alerts = Vec::new();
        if weight == 0 {
            return alerts;
        }
        let (window, bucket_ms, threshold) = (self.window_ms, self.bucket_ms, self.threshold);
        for k in self
            .kinds
            .iter_mut()
            .filter(|k| name_matches(name, &k.pattern))
        {
            // Forget what slid out of the window.
            let horizon = now_ms.saturating_sub(window);
            while let Some(&(start, n)) = k.buckets.front() {
                if start.saturating_add(bucket_ms) > horizon {
                    break;
                }
                k.total -= n;
                k.buckets.pop_front();
            }
            if !k.armed && k.total < threshold {
                k.armed = true;
            }
            let start = now_ms - now_ms % bucket_ms;
            match k.buckets.back_mut() {
                // A clock that went backwards adds to the newest bucket.
                Some((s, n)) if *s >= start => *n = n.saturating_add(weight),
                _ => k.buckets.push_back((start, weight)),
            }
            k.total = k.total.saturating_add(weight);
            if k.armed && k.total >= threshold {
                k.armed = false;
                alerts.push(Alert {
                    kind: k.pattern.clone(),
                    count: k.total,
                });
            }
        }
        alerts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det() -> SpikeDetector {
        SpikeDetector::new(
            &["csrf.reject.*".to_owned(), "auth.login.failure".to_owned()],
            Duration::from_secs(60),
            5,
        )
    }

    #[test]
    fn fires_once_per_crossing_and_rearms_after_falling_back() {
        let mut d = det();
        let t = 1_000_000;
        for i in 0..4 {
            assert!(d.observe("csrf.reject.missing", 1, t + i).is_empty());
        }
        let a = d.observe("csrf.reject.invalid", 1, t + 4);
        assert_eq!(
            a,
            vec![Alert {
                kind: "csrf.reject.*".into(),
                count: 5
            }]
        );
        for i in 0..100 {
            assert!(d.observe("csrf.reject.missing", 1, t + 5 + i).is_empty());
        }
        // Everything slides out; the next event re-arms, the fifth fires again.
        let later = t + 61_000 + 200;
        for i in 0..4 {
            assert!(d.observe("csrf.reject.missing", 1, later + i).is_empty());
        }
        assert_eq!(d.observe("csrf.reject.missing", 1, later + 4).len(), 1);
    }

    #[test]
    fn weights_count_and_kinds_are_independent() {
        let mut d = det();
        assert!(d.observe("auth.login.failure", 4, 10).is_empty());
        assert!(d.observe("csrf.reject.missing", 4, 10).is_empty());
        assert!(d.observe("auth.login.success", 100, 10).is_empty());
        let a = d.observe("auth.login.failure", 3, 11);
        assert_eq!(a[0].kind, "auth.login.failure");
        assert_eq!(a[0].count, 7);
    }

    #[test]
    fn a_window_slides_bucket_by_bucket() {
        let mut d = det();
        // 4 events at t=0 s, 1 at t=59 s: 5 within 60 s.
        assert!(d.observe("auth.login.failure", 4, 0).is_empty());
        assert_eq!(d.observe("auth.login.failure", 1, 59_000).len(), 1);
        let mut d = det();
        // 4 at t=0 s, 1 at t=61 s: the first four slid out.
        assert!(d.observe("auth.login.failure", 4, 0).is_empty());
        assert!(d.observe("auth.login.failure", 1, 61_000).is_empty());
    }

    #[test]
    fn zero_threshold_or_window_disables() {
        let mut d = SpikeDetector::new(&["x".into()], Duration::from_secs(60), 0);
        assert!(d.observe("x", 1_000, 1).is_empty());
        let mut d = SpikeDetector::new(&["x".into()], Duration::ZERO, 1);
        assert!(d.observe("x", 1_000, 1).is_empty());
    }
}
