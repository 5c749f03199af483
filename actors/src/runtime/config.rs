//! Settings of the actor runtime, with documented secure defaults.

use std::{path::PathBuf, time::Duration};

use crate::{
    lockout::LockoutPolicy,
    password::{default_threads, PasswordParams, DEFAULT_QUEUE},
    ratelimit::RateLimitSettings,
    session::SessionPolicy,
    tokens::TokenPolicy,
};

/// Settings for [`Runtime::start`](crate::Runtime::start).
///
/// Build one with [`RuntimeConfig::builder`]; every field has a default, listed on its setter.
///
/// ```
/// use std::time::Duration;
/// use warden_actors::RuntimeConfig;
///
/// let cfg = RuntimeConfig::builder()
///     .data_dir("./data")
///     .ask_timeout(Duration::from_millis(500))
///     .build();
/// assert_eq!(cfg.mailbox_capacity, 1024);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RuntimeConfig {
    /// Where the sled database lives; `None` opens a temporary store deleted on drop.
    pub data_dir: Option<PathBuf>,
    /// Capacity of every actor's bounded mailbox.
    pub mailbox_capacity: usize,
    /// How long a caller waits for an actor's answer before failing closed.
    pub ask_timeout: Duration,
    /// Store settings.
    pub store: StoreConfig,
    /// Audit actor settings.
    pub audit: AuditConfig,
    /// Session timeouts, shards and limits.
    pub session: SessionPolicy,
    /// API and password-reset token settings.
    pub tokens: TokenPolicy,
    /// Password hashing parameters and pool size.
    pub passwords: PasswordSettings,
    /// Login lockout thresholds and backoff.
    pub lockout: LockoutPolicy,
    /// Rate-limit actor settings (shards, sweeping, persistence).
    pub ratelimit: RateLimitSettings,
}

/// Password hashing settings: argon2id parameters and the bounded pool that runs them.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PasswordSettings {
    /// argon2id parameters and length policy. Default: the OWASP floor (19 MiB, t=2, p=1).
    pub params: PasswordParams,
    /// Hashing threads. Default: available parallelism.
    pub threads: usize,
    /// Jobs that may wait; beyond this callers get a fast "busy". Default: 64.
    pub queue: usize,
}

impl Default for PasswordSettings {
    fn default() -> Self {
        Self {
            params: PasswordParams::default(),
            threads: default_threads(),
            queue: DEFAULT_QUEUE,
        }
    }
}

impl PasswordSettings {
    /// Settings with these parameters and the default pool size.
    pub fn new(params: PasswordParams) -> Self {
        Self {
            params,
            ..Self::default()
        }
    }
    /// Sets the number of hashing threads.
    #[must_use]
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n;
        self
    }
    /// Sets the queue length.
    #[must_use]
    pub fn queue(mut self, n: usize) -> Self {
        self.queue = n;
        self
    }
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            data_dir: None,
            mailbox_capacity: 1024,
            ask_timeout: Duration::from_secs(2),
            store: StoreConfig::default(),
            audit: AuditConfig::default(),
            session: SessionPolicy::default(),
            tokens: TokenPolicy::default(),
            passwords: PasswordSettings::default(),
            lockout: LockoutPolicy::default(),
            ratelimit: RateLimitSettings::default(),
        }
    }
}

impl RuntimeConfig {
    /// Replaces the session policy.
    #[must_use]
    pub fn with_session(mut self, s: SessionPolicy) -> Self {
        self.session = s;
        self
    }

    /// Replaces the rate-limit settings.
    #[must_use]
    pub fn with_ratelimit(mut self, r: RateLimitSettings) -> Self {
        self.ratelimit = r;
        self
    }

    /// Replaces the lockout policy.
    #[must_use]
    pub fn with_lockout(mut self, l: LockoutPolicy) -> Self {
        self.lockout = l;
        self
    }

    /// Replaces the password settings.
    #[must_use]
    pub fn with_passwords(mut self, p: PasswordSettings) -> Self {
        self.passwords = p;
        self
    }

    /// Replaces the token policy.
    #[must_use]
    pub fn with_tokens(mut self, t: TokenPolicy) -> Self {
        self.tokens = t;
        self
    }

    /// A builder starting from the defaults.
    pub fn builder() -> RuntimeConfigBuilder {
        RuntimeConfigBuilder(Self::default())
    }
}

/// Builder for [`RuntimeConfig`].
#[derive(Debug, Clone)]
#[must_use]
pub struct RuntimeConfigBuilder(RuntimeConfig);

impl RuntimeConfigBuilder {
    /// Directory of the sled database. Default: none (a temporary store, for tests).
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.0.data_dir = Some(dir.into());
        self
    }
    /// Bounded mailbox capacity of every actor. Default: 1024.
    pub fn mailbox_capacity(mut self, n: usize) -> Self {
        self.0.mailbox_capacity = n;
        self
    }
    /// How long to wait for an actor before failing closed. Default: 2 s.
    pub fn ask_timeout(mut self, d: Duration) -> Self {
        self.0.ask_timeout = d;
        self
    }
    /// Store settings. Default: [`StoreConfig::default`].
    pub fn store(mut self, s: StoreConfig) -> Self {
        self.0.store = s;
        self
    }
    /// Audit settings. Default: [`AuditConfig::default`].
    pub fn audit(mut self, a: AuditConfig) -> Self {
        self.0.audit = a;
        self
    }
    /// Session policy. Default: [`SessionPolicy::default`].
    pub fn session(mut self, s: SessionPolicy) -> Self {
        self.0.session = s;
        self
    }
    /// Rate-limit settings. Default: [`RateLimitSettings::default`].
    pub fn ratelimit(mut self, r: RateLimitSettings) -> Self {
        self.0.ratelimit = r;
        self
    }
    /// Lockout policy. Default: [`LockoutPolicy::default`].
    pub fn lockout(mut self, l: LockoutPolicy) -> Self {
        self.0.lockout = l;
        self
    }
    /// Password settings. Default: [`PasswordSettings::default`].
    pub fn passwords(mut self, p: PasswordSettings) -> Self {
        self.0.passwords = p;
        self
    }
    /// Token policy. Default: [`TokenPolicy::default`].
    pub fn tokens(mut self, t: TokenPolicy) -> Self {
        self.0.tokens = t;
        self
    }
    /// Finish.
    pub fn build(self) -> RuntimeConfig {
        self.0
    }
}

/// Store settings.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StoreConfig {
    /// Background flush period for writes not marked durable. Default: 500 ms.
    pub flush_every: Duration,
    /// How often the sweeper removes expired records. Default: 1 s.
    pub sweep_interval: Duration,
    /// At most this many expired records are removed per sweep tick. Default: 512.
    pub sweep_batch: usize,
    /// sled page cache size in bytes. Default: 64 MiB.
    pub cache_capacity_bytes: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            flush_every: Duration::from_millis(500),
            sweep_interval: Duration::from_secs(1),
            sweep_batch: 512,
            cache_capacity_bytes: 64 * 1024 * 1024,
        }
    }
}

impl StoreConfig {
    /// Set [`StoreConfig::flush_every`].
    #[must_use]
    pub fn flush_every(mut self, d: Duration) -> Self {
        self.flush_every = d;
        self
    }
    /// Set [`StoreConfig::sweep_interval`].
    #[must_use]
    pub fn sweep_interval(mut self, d: Duration) -> Self {
        self.sweep_interval = d;
        self
    }
    /// Set [`StoreConfig::sweep_batch`].
    #[must_use]
    pub fn sweep_batch(mut self, n: usize) -> Self {
        self.sweep_batch = n;
        self
    }
    /// Set [`StoreConfig::cache_capacity_bytes`].
    #[must_use]
    pub fn cache_capacity_bytes(mut self, n: u64) -> Self {
        self.cache_capacity_bytes = n;
        self
    }
}

/// Audit actor settings.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AuditConfig {
    /// Deliver every event to `tracing` (target `warden::audit`). Default: true.
    pub tracing_sink: bool,
    /// Append every event as one JSON line to this file. Default: none.
    pub jsonl_path: Option<PathBuf>,
    /// Per-sink bounded queue; a full queue drops (and counts) events for that sink only. Default: 1024.
    pub sink_queue: usize,
    /// Per-subscriber bounded queue; a subscriber whose queue is full is dropped. Default: 256.
    pub subscriber_queue: usize,
    /// Persist events to the audit log in the store. Default: true.
    pub persist: bool,
    /// Events older than this are pruned from the log. Default: 90 days.
    pub retention_max_age: Duration,
    /// At most this many events are kept in the log. Default: 1,000,000.
    pub retention_max_count: u64,
    /// How often retention runs. Default: 60 s.
    pub retention_interval: Duration,
    /// Event kinds watched for spikes: name prefixes, a trailing `*` allowed. Each kind has its
    /// own sliding window. Default: [`DEFAULT_SPIKE_KINDS`](crate::DEFAULT_SPIKE_KINDS).
    pub spike_kinds: Vec<String>,
    /// Length of the sliding window of spike detection. Zero disables it. Default: 60 s.
    pub spike_window: Duration,
    /// Events of one kind in the window that raise one `alert.spike`. Zero disables spike
    /// detection. Default: 20.
    pub spike_threshold: u64,
    /// Flood-prone event names (prefixes, a trailing `*` allowed) whose repeats are aggregated
    /// per (name, client IP). Must-log events are never aggregated, whatever this says.
    /// Default: [`DEFAULT_AGGREGATE_NAMES`](crate::DEFAULT_AGGREGATE_NAMES).
    pub aggregate_names: Vec<String>,
    /// Aggregation window. Zero disables aggregation. Default: 60 s.
    pub aggregate_window: Duration,
    /// Events per (name, client IP) and window recorded one by one before the rest are only
    /// counted. Default: 50.
    pub aggregate_burst: u64,
    /// Events per name and window recorded one by one, whatever their client IPs, before the
    /// rest are only counted (bounds a flood from many addresses). Default: 500.
    pub aggregate_name_budget: u64,
    /// Most (name, client IP) keys tracked at once; beyond, new addresses are counted under
    /// one overflow key per name. Default: 10,000.
    pub aggregate_max_keys: usize,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            tracing_sink: true,
            jsonl_path: None,
            sink_queue: 1024,
            subscriber_queue: 256,
            persist: true,
            retention_max_age: Duration::from_secs(90 * 24 * 3600),
            retention_max_count: 1_000_000,
            retention_interval: Duration::from_secs(60),
            spike_kinds: crate::audit::DEFAULT_SPIKE_KINDS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            spike_window: Duration::from_secs(60),
            spike_threshold: 20,
            aggregate_names: crate::audit::DEFAULT_AGGREGATE_NAMES
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            aggregate_window: Duration::from_secs(60),
            aggregate_burst: 50,
            aggregate_name_budget: 500,
            aggregate_max_keys: 10_000,
        }
    }
}

impl AuditConfig {
    /// Set [`AuditConfig::tracing_sink`].
    #[must_use]
    pub fn tracing_sink(mut self, on: bool) -> Self {
        self.tracing_sink = on;
        self
    }
    /// Set [`AuditConfig::jsonl_path`].
    #[must_use]
    pub fn jsonl_path(mut self, p: Option<PathBuf>) -> Self {
        self.jsonl_path = p;
        self
    }
    /// Set [`AuditConfig::sink_queue`].
    #[must_use]
    pub fn sink_queue(mut self, n: usize) -> Self {
        self.sink_queue = n;
        self
    }
    /// Set [`AuditConfig::subscriber_queue`].
    #[must_use]
    pub fn subscriber_queue(mut self, n: usize) -> Self {
        self.subscriber_queue = n;
        self
    }
    /// Set [`AuditConfig::persist`].
    #[must_use]
    pub fn persist(mut self, on: bool) -> Self {
        self.persist = on;
        self
    }
    /// Set [`AuditConfig::retention_max_age`].
    #[must_use]
    pub fn retention_max_age(mut self, d: Duration) -> Self {
        self.retention_max_age = d;
        self
    }
    /// Set [`AuditConfig::retention_max_count`].
    #[must_use]
    pub fn retention_max_count(mut self, n: u64) -> Self {
        self.retention_max_count = n;
        self
    }
    /// Set [`AuditConfig::retention_interval`].
    #[must_use]
    pub fn retention_interval(mut self, d: Duration) -> Self {
        self.retention_interval = d;
        self
    }
    /// Set [`AuditConfig::spike_kinds`].
    #[must_use]
    pub fn spike_kinds<I, S>(mut self, kinds: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.spike_kinds = kinds.into_iter().map(Into::into).collect();
        self
    }
    /// Set [`AuditConfig::spike_window`].
    #[must_use]
    pub fn spike_window(mut self, d: Duration) -> Self {
        self.spike_window = d;
        self
    }
    /// Set [`AuditConfig::spike_threshold`].
    #[must_use]
    pub fn spike_threshold(mut self, n: u64) -> Self {
        self.spike_threshold = n;
        self
    }
    /// Set [`AuditConfig::aggregate_names`].
    #[must_use]
    pub fn aggregate_names<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.aggregate_names = names.into_iter().map(Into::into).collect();
        self
    }
    /// Set [`AuditConfig::aggregate_window`].
    #[must_use]
    pub fn aggregate_window(mut self, d: Duration) -> Self {
        self.aggregate_window = d;
        self
    }
    /// Set [`AuditConfig::aggregate_burst`].
    #[must_use]
    pub fn aggregate_burst(mut self, n: u64) -> Self {
        self.aggregate_burst = n;
        self
    }
    /// Set [`AuditConfig::aggregate_name_budget`].
    #[must_use]
    pub fn aggregate_name_budget(mut self, n: u64) -> Self {
        self.aggregate_name_budget = n;
        self
    }
    /// Set [`AuditConfig::aggregate_max_keys`].
    #[must_use]
    pub fn aggregate_max_keys(mut self, n: usize) -> Self {
        self.aggregate_max_keys = n;
        self
    }
}
