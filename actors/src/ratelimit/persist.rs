//! Write-behind persistence: a thread that writes changed rate-limit state to the store, so
//! that decisions never wait for a disk-backed write (a sled write with its expiry index costs
//! tens of microseconds, a decision a few).
//!
//! The shards hand it batches of `(key, TAT)`; it keeps one pending TAT per key (the latest),
//! bounded in number, and writes them (buffered, expiring at the TAT). A failed write stays
//! pending and is retried. If the store cannot keep up with a spray of new keys, pending
//! entries beyond the bound are dropped and counted: decisions are unaffected, only what a
//! restart would remember.
//!
//! Reads: a key missing from memory is looked up in the store only while stored state can
//! exist that this process does not hold in memory. A *horizon* record, written before any
//! state that would outlive it, bounds the expiry of everything stored; at start the store
//! must be read until that horizon has passed, later never again (what this process writes
//! it also keeps in memory until it decays). This matters because sled serialises reads behind its write transactions: a
//! lookup per new key would make the writer slow every decision down.

use std::{
    collections::HashMap,
    ops::Bound,
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError},
        Arc,
    },
    thread::JoinHandle,
    time::Duration,
};

use parking_lot::Mutex;

use super::view::{bump, Key};
use crate::{
    clock::SharedClock,
    store::{Durability, Keyspace, PutOptions, Store},
    StoreError,
};

const KS: Keyspace = Keyspace::RateLimit;
/// The key of the horizon record (not 16 bytes long, so never a state key).
const HORIZON_KEY: &[u8] = b"\xffhorizon";
/// How far past the latest TAT written the horizon is set (so it is rewritten rarely), ns.
const HORIZON_SLACK: u64 = 600 * 1_000_000_000;

/// The stored value: this format byte, then the TAT (ns, big-endian).
const RECORD_V1: u8 = 1;
const MS: u64 = 1_000_000;
/// Batches queued to the writer at most; beyond, shards keep their keys dirty and retry.
const QUEUE: usize = 64;
/// Pending keys the writer holds at most.
pub(crate) const MAX_PENDING: usize = 200_000;
/// Writes between two looks at the queue (so flushes and new batches are not starved).
const CHUNK: usize = 256;
/// How often pending writes that failed are retried without new work arriving.
const RETRY: Duration = Duration::from_secs(1);
/// How long a flush waits for the writer at most.
const FLUSH_WAIT: Duration = Duration::from_secs(30);

pub(crate) fn encode(tat: u64) -> [u8; 9] {
    let mut v = [0u8; 9];
    v[0] = RECORD_V1;
    v[1..].copy_from_slice(&tat.to_be_bytes());
    v
}

pub(crate) fn decode(v: &[u8]) -> Result<u64, StoreError> {
    let corrupt = |reason| StoreError::Corrupt {
        keyspace: KS.name(),
        reason,
    };
    match v.split_first() {
        Some((&RECORD_V1, rest)) => {
            let b: [u8; 8] = rest.try_into().map_err(|_| corrupt("bad tat length"))?;
            Ok(u64::from_be_bytes(b))
        }
        Some(_) => Err(corrupt("unknown rate-limit record format")),
        None => Err(corrupt("empty rate-limit record")),
    }
}

/// What the shards and the writer share about the store: the horizon and the counters.
#[derive(Debug, Default)]
pub(crate) struct PersistState {
    pub(crate) persisted: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) dropped: AtomicU64,
    /// Every stored state expires at or before this (ns).
    horizon: AtomicU64,
    /// Until this (ns), a key missing from memory may have stored state.
    read_until: AtomicU64,
    horizon_write: Mutex<()>,
}

impl PersistState {
    /// The state for a store: reads the horizon left by an earlier process. If it cannot be
    /// read, or stored state exists without one, every miss reads the store.
    pub(crate) fn load(store: &dyn Store) -> PersistState {
        let s = PersistState::default();
        let found = store
            .get(KS, HORIZON_KEY)
            .and_then(|v| v.map(|b| decode(&b)).transpose());
        let read_until = match found {
            Ok(Some(h)) => {
                s.horizon.store(h, Ordering::SeqCst);
                h
            }
            Ok(None) => match store.range(KS, Bound::Unbounded, Bound::Unbounded, 1, false) {
                Ok(live) if live.is_empty() => 0,
                _ => u64::MAX,
            },
            Err(e) => {
                tracing::error!(error = %e, "rate-limit horizon unreadable; reading every miss");
                u64::MAX
            }
        };
        s.read_until.store(read_until, Ordering::SeqCst);
        s
    }

    /// Whether a key missing from memory must be looked up in the store at `now` (ns).
    pub(crate) fn must_read(&self, now: u64) -> bool {
        now < self.read_until.load(Ordering::SeqCst)
    }

    /// Makes sure the stored horizon covers `tat`, before state expiring then is written.
    fn cover(&self, store: &dyn Store, tat: u64) -> Result<(), StoreError> {
        if tat <= self.horizon.load(Ordering::SeqCst) {
            return Ok(());
        }
        let _one_writer = self.horizon_write.lock();
        if tat <= self.horizon.load(Ordering::SeqCst) {
            return Ok(());
        }
        let h = tat.saturating_add(HORIZON_SLACK);
        let opts = PutOptions::buffered().expires_at(h.div_ceil(MS));
        store.put(KS, HORIZON_KEY, &encode(h), opts)?;
        self.horizon.store(h, Ordering::SeqCst);
        Ok(())
    }

    pub(crate) fn read(&self) -> (u64, u64, u64) {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        (get(&self.persisted), get(&self.errors), get(&self.dropped))
    }
}

/// Writes one key's state: buffered, expiring at its TAT (so the store's sweeper removes
/// it), after the horizon that covers it.
pub(crate) fn put(
    store: &dyn Store,
    state: &PersistState,
    key: &Key,
    tat: u64,
) -> Result<(), StoreError> {
    state.cover(store, tat)?;
    let opts = PutOptions::buffered().expires_at(tat.div_ceil(MS));
    store.put(KS, key, &encode(tat), opts)
}

/// Keys and their TATs to write.
pub(crate) type Batch = Vec<(Key, u64)>;

enum Job {
    Batch(Batch),
    /// Drop any pending state of a key and delete its stored state (an operator reset).
    Forget(Key),
    /// Write everything pending, then answer (`Ok` or the first error).
    Flush(SyncSender<Result<(), StoreError>>),
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Batch(b) => write!(f, "Batch({})", b.len()),
            Job::Forget(_) => f.write_str("Forget"),
            Job::Flush(_) => f.write_str("Flush"),
        }
    }
}

/// The shards' (and the handle's) side of the writer.
#[derive(Debug, Clone)]
pub(crate) struct WriterTx(SyncSender<Job>);

fn gone() -> StoreError {
    StoreError::Backend("rate-limit writer stopped".into())
}

impl WriterTx {
    /// Queues a batch without waiting. Gives it back if the queue is full (`Ok`) or the
    /// writer is gone (`Err`).
    pub(crate) fn offer(&self, batch: Batch) -> Result<Option<Batch>, Batch> {
        match self.0.try_send(Job::Batch(batch)) {
            Ok(()) => Ok(None),
            Err(TrySendError::Full(Job::Batch(b))) => Ok(Some(b)),
            Err(TrySendError::Disconnected(Job::Batch(b))) => Err(b),
            Err(_) => Ok(None),
        }
    }

    /// Queues a batch, waiting for room (the writer takes a new job between two chunks of
    /// writes, so the wait is short). Gives it back if the writer is gone.
    pub(crate) fn hand_over(&self, batch: Batch) -> Result<(), Batch> {
        if batch.is_empty() {
            return Ok(());
        }
        match self.0.send(Job::Batch(batch)) {
            Ok(()) => Ok(()),
            Err(mpsc::SendError(Job::Batch(b))) => Err(b),
            Err(_) => Ok(()),
        }
    }

    /// Queues the removal of a key's pending and stored state.
    pub(crate) fn forget(&self, key: Key) -> Result<(), StoreError> {
        self.0.send(Job::Forget(key)).map_err(|_| gone())
    }

    /// Waits until everything queued so far is written (blocks the caller, at most 30 s).
    pub(crate) fn flush(&self) -> Result<(), StoreError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.0.send(Job::Flush(tx)).map_err(|_| gone())?;
        rx.recv_timeout(FLUSH_WAIT).map_err(|_| gone())?
    }
}

struct Writer {
    rx: Receiver<Job>,
    store: Arc<dyn Store>,
    clock: SharedClock,
    state: Arc<PersistState>,
    pending: HashMap<Key, u64>,
    waiting: Vec<SyncSender<Result<(), StoreError>>>,
    failed: Option<StoreError>,
}

impl Writer {
    fn accept(&mut self, job: Job) {
        match job {
            Job::Batch(batch) => {
                for (key, tat) in batch {
                    let full = self.pending.len() >= MAX_PENDING;
                    match self.pending.get_mut(&key) {
                        Some(t) => *t = (*t).max(tat),
                        None if full => bump(&self.state.dropped, 1),
                        None => {
                            self.pending.insert(key, tat);
                        }
                    }
                }
            }
            Job::Forget(key) => {
                self.pending.remove(&key);
                if let Err(e) = self.store.delete(KS, &key, Durability::Buffered) {
                    tracing::error!(error = %e, "rate-limit state not deleted");
                }
            }
            Job::Flush(reply) => self.waiting.push(reply),
        }
    }

    /// Writes up to `CHUNK` pending keys; stops at the first failure.
    fn write_some(&mut self) {
        let now = self.clock.now_millis().saturating_mul(MS);
        let keys: Vec<(Key, u64)> = self
            .pending
            .iter()
            .take(CHUNK)
            .map(|(k, t)| (*k, *t))
            .collect();
        for (key, tat) in keys {
            if tat > now {
                if let Err(e) = put(&*self.store, &self.state, &key, tat) {
                    bump(&self.state.errors, 1);
                    tracing::error!(error = %e, "rate-limit state not persisted; will retry");
                    self.failed = Some(e);
                    return;
                }
                bump(&self.state.persisted, 1);
            }
            self.pending.remove(&key);
        }
    }

    fn answer_flushes(&mut self) {
        if self.waiting.is_empty() || (!self.pending.is_empty() && self.failed.is_none()) {
            return;
        }
        let failed = self.failed.take();
        for reply in self.waiting.drain(..) {
            let r = match &failed {
                None => Ok(()),
                Some(e) => Err(StoreError::Backend(e.to_string())),
            };
            let _ = reply.send(r);
        }
    }

    fn run(mut self) {
        loop {
            // Take everything queued, then write a chunk, then look again.
            while let Ok(job) = self.rx.try_recv() {
                self.accept(job);
            }
            if !self.pending.is_empty() && self.failed.is_none() {
                self.write_some();
            }
            self.answer_flushes();
            if !self.pending.is_empty() && self.failed.is_none() {
                continue;
            }
            if self.pending.capacity() > 4 * self.pending.len() + 1024 {
                self.pending.shrink_to_fit();
            }
            match self.rx.recv_timeout(RETRY) {
                Ok(job) => {
                    self.failed = None;
                    self.accept(job);
                }
                Err(RecvTimeoutError::Timeout) => self.failed = None,
                Err(RecvTimeoutError::Disconnected) => {
                    // Every shard and the handle are gone: last attempt, then stop.
                    while !self.pending.is_empty() && self.failed.is_none() {
                        self.write_some();
                    }
                    return;
                }
            }
        }
    }
}

/// Starts the writer thread. It stops once every [`WriterTx`] is dropped, after writing what
/// is pending.
pub(crate) fn spawn_writer(
    store: Arc<dyn Store>,
    clock: SharedClock,
    state: Arc<PersistState>,
) -> std::io::Result<(WriterTx, JoinHandle<()>)> {
    let (tx, rx) = mpsc::sync_channel(QUEUE);
    let writer = Writer {
        rx,
        store,
        clock,
        state,
        pending: HashMap::new(),
        waiting: Vec::new(),
        failed: None,
    };
    let thread = std::thread::Builder::new()
        .name("warden-ratelimit-writer".into())
        .spawn(move || writer.run())?;
    Ok((WriterTx(tx), thread))
}
