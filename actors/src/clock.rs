//! Time as a dependency: every actor reads the time from a [`Clock`], so tests advance a
//! [`ManualClock`] instead of sleeping.

use std::{
    fmt::Debug,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use time::OffsetDateTime;

/// A source of wall-clock time.
///
/// ```
/// use warden_actors::{Clock, SystemClock};
///
/// let now = SystemClock.now_millis();
/// assert!(now > 1_600_000_000_000);
/// ```
pub trait Clock: Send + Sync + Debug + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> u64;

    /// The current time as [`SystemTime`].
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.now_millis())
    }

    /// The current time in UTC, for event timestamps.
    fn now_utc(&self) -> OffsetDateTime {
        millis_to_utc(self.now_millis())
    }
}

/// A shared, dynamically typed clock.
pub type SharedClock = Arc<dyn Clock>;

/// Converts milliseconds since the epoch to a UTC date-time (saturating at the epoch).
pub fn millis_to_utc(ms: u64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Converts a UTC date-time to milliseconds since the epoch (0 before the epoch).
pub fn utc_to_millis(t: OffsetDateTime) -> u64 {
    u64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to; for tests.
///
/// ```
/// use std::time::Duration;
/// use warden_actors::{Clock, ManualClock};
///
/// let clock = ManualClock::new(1_000);
/// clock.advance(Duration::from_secs(2));
/// assert_eq!(clock.now_millis(), 3_000);
/// ```
#[derive(Debug, Default)]
pub struct ManualClock {
    millis: AtomicU64,
}

impl ManualClock {
    /// A clock standing at `millis` since the epoch.
    pub fn new(millis: u64) -> Self {
        Self {
            millis: AtomicU64::new(millis),
        }
    }

    /// A clock standing at the current system time.
    pub fn starting_now() -> Self {
        Self::new(SystemClock.now_millis())
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.millis.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the clock to an absolute time.
    pub fn set_millis(&self, millis: u64) {
        self.millis.store(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> u64 {
        self.millis.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(5);
        assert_eq!(c.now_millis(), 5);
        assert_eq!(c.now_millis(), 5);
        c.advance(Duration::from_millis(10));
        assert_eq!(c.now_millis(), 15);
        c.set_millis(1_700_000_000_000);
        assert_eq!(c.now_utc().year(), 2023);
    }

    #[test]
    fn utc_conversions_round_trip() {
        let t = millis_to_utc(1_700_000_000_123);
        assert_eq!(utc_to_millis(t), 1_700_000_000_123);
        assert_eq!(
            utc_to_millis(OffsetDateTime::UNIX_EPOCH - time::Duration::days(1)),
            0
        );
    }
}
