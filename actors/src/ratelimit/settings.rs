//! [`RateLimitSettings`] (how the actor runs) and [`RateLimitStats`] (what it has done).

use std::time::Duration;

/// How the rate-limit actor runs. The policies themselves travel with each check
/// ([`RateLimitPolicy`](super::RateLimitPolicy)).
///
/// ```
/// use std::time::Duration;
/// use warden_actors::ratelimit::RateLimitSettings;
///
/// let s = RateLimitSettings::default().shards(2).sweep_interval(Duration::from_secs(5));
/// assert_eq!(s.shards, 2);
/// assert_eq!(s.persist_interval, Duration::from_millis(100));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitSettings {
    /// Number of shards (one arbiter thread each); keys are spread by hash. 1 to 64.
    /// Default: the available parallelism.
    pub shards: usize,
    /// How often each shard drops the keys whose state has decayed (and gives the memory
    /// back). A shard also sweeps early whenever it has doubled in size since its last sweep.
    /// Default: 10 s.
    pub sweep_interval: Duration,
    /// How often the shards hand changed state to the write-behind thread, which writes it to
    /// the store (buffered writes) without holding up decisions. `Duration::ZERO`: no writer
    /// thread; every allowed request is written by its shard before it is answered (slower:
    /// a sled write costs tens of microseconds). Default: 100 ms.
    pub persist_interval: Duration,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            shards: std::thread::available_parallelism().map_or(1, |n| n.get()),
            sweep_interval: Duration::from_secs(10),
            persist_interval: Duration::from_millis(100),
        }
    }
}

impl RateLimitSettings {
    /// Sets [`RateLimitSettings::shards`] (clamped to 1..=64).
    #[must_use]
    pub fn shards(mut self, n: usize) -> Self {
        self.shards = n.clamp(1, 64);
        self
    }

    /// Sets [`RateLimitSettings::sweep_interval`] (at least 10 ms).
    #[must_use]
    pub fn sweep_interval(mut self, d: Duration) -> Self {
        self.sweep_interval = d.max(Duration::from_millis(10));
        self
    }

    /// Sets [`RateLimitSettings::persist_interval`] (`Duration::ZERO`: write-through).
    #[must_use]
    pub fn persist_interval(mut self, d: Duration) -> Self {
        self.persist_interval = d;
        self
    }
}

/// Counters and gauges of the rate-limit actor, summed over its shards. Readable without a
/// message (and while the actor is down).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitStats {
    /// Keys held in memory now.
    pub keys: usize,
    /// Slots allocated for keys (memory given back after sweeps shows here).
    pub capacity: usize,
    /// Keys refused right now that the read view answers without a message.
    pub blocked_keys: usize,
    /// Allowed checks.
    pub allowed: u64,
    /// Refused checks (from the actor and from the read view).
    pub denied: u64,
    /// Refused checks answered by the read view, without a message.
    pub denied_from_view: u64,
    /// First refusals of a key in a policy period (the ones that deserve an event).
    pub first_blocks: u64,
    /// Keys whose state was loaded back from the store after a miss.
    pub loaded: u64,
    /// States written to the store.
    pub persisted: u64,
    /// Writes to the store that failed (the decision is still made from memory; the write is
    /// retried).
    pub persist_errors: u64,
    /// States not written because the store fell too far behind a spray of new keys (the
    /// decisions are unaffected; a restart would forget these keys).
    pub persist_dropped: u64,
    /// Keys dropped because their state had decayed.
    pub swept: u64,
}
