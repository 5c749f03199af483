//! The rate-limit actor: GCRA decisions with a manual clock, atomicity under concurrency, the
//! read view, one "first refusal" per key per period, bounded memory given back after the
//! window, persistence across a restart, store faults, supervision and failing closed.

mod common;

use std::{
    ops::Bound,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use futures_util::future::join_all;
use warden_actors::{
    ratelimit::{start_ratelimit, Decision, RateLimitHandle, RateLimitPolicy, RateLimitSettings},
    store::{Durability, Entry, Keyspace, PutOptions, SledStore, Store},
    ActorError, ManualClock, StoreConfig, StoreError,
};

const T0: u64 = 1_700_000_000_000;
const ASK: Duration = Duration::from_secs(5);

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Chirp's numbers: 10 requests per 60 s, all 10 at once.
fn login() -> RateLimitPolicy {
    RateLimitPolicy::new("login", 10, secs(60))
}

struct Fixture {
    clock: Arc<ManualClock>,
    store: Arc<SledStore>,
    limits: RateLimitHandle,
}

fn fixture_with(settings: RateLimitSettings) -> Fixture {
    let clock = Arc::new(ManualClock::new(T0));
    let store = Arc::new(SledStore::temporary(&StoreConfig::default(), clock.clone()).unwrap());
    let limits = start_ratelimit(store.clone(), clock.clone(), settings, 1024, ASK);
    Fixture {
        clock,
        store,
        limits,
    }
}

fn fixture() -> Fixture {
    fixture_with(RateLimitSettings::default().shards(4))
}

/// Rate-limit states in a store (16-byte keys; the store also holds the horizon record).
fn states(store: &dyn Store) -> usize {
    store
        .scan_prefix(Keyspace::RateLimit, &[], usize::MAX)
        .unwrap()
        .iter()
        .filter(|(k, _)| k.len() == 16)
        .count()
}

fn allow(d: Decision) -> (u32, Duration, Duration) {
    match d {
        Decision::Allow {
            remaining,
            reset_after,
            next_after,
        } => (remaining, reset_after, next_after),
        d => panic!("expected Allow, got {d:?}"),
    }
}

fn deny(d: Decision) -> (Duration, Duration, bool) {
    match d {
        Decision::Deny {
            retry_after,
            reset_after,
            first_in_window,
        } => (retry_after, reset_after, first_in_window),
        d => panic!("expected Deny, got {d:?}"),
    }
}

// GCRA math -------------------------------------------------------------------------------------

#[actix::test]
async fn burst_then_exact_retry_after_and_remaining() {
    let f = fixture();
    let p = login();
    for i in 0..10u32 {
        let d = f.limits.check(&p, "192.0.2.1").await.unwrap();
        assert_eq!(
            allow(d),
            (9 - i, secs(6 * u64::from(i + 1)), secs(6)),
            "request {i}"
        );
    }
    // The 11th: one request returns every 6 s; the whole budget 60 s after the burst.
    let d = f.limits.check(&p, "192.0.2.1").await.unwrap();
    assert_eq!(deny(d), (secs(6), secs(60), true));
    assert_eq!(d.quota_after(), secs(6));

    f.clock.advance(Duration::from_millis(5_999));
    let d = f.limits.check(&p, "192.0.2.1").await.unwrap();
    assert_eq!(
        deny(d),
        (
            Duration::from_millis(1),
            Duration::from_millis(54_001),
            false
        )
    );
    f.clock.advance(Duration::from_millis(1));
    assert_eq!(
        allow(f.limits.check(&p, "192.0.2.1").await.unwrap()),
        (0, secs(60), secs(6))
    );
    assert_eq!(
        deny(f.limits.check(&p, "192.0.2.1").await.unwrap()),
        (secs(6), secs(60), false)
    );

    // Idle for the whole window: a full budget again.
    f.clock.advance(secs(60));
    assert_eq!(allow(f.limits.check(&p, "192.0.2.1").await.unwrap()).0, 9);
    f.limits.shutdown().await;
}

#[actix::test]
async fn steady_rate_after_a_smaller_burst() {
    let f = fixture();
    let p = login().burst(5);
    let mut allowed = 0;
    for _ in 0..20 {
        allowed += u32::from(f.limits.check(&p, "k").await.unwrap().is_allowed());
    }
    assert_eq!(allowed, 5, "burst");
    // One second at a time for two minutes, hammering: exactly one request per 6 s passes.
    let mut allowed = 0;
    for _ in 0..120 {
        f.clock.advance(secs(1));
        for _ in 0..3 {
            allowed += u32::from(f.limits.check(&p, "k").await.unwrap().is_allowed());
        }
    }
    assert_eq!(allowed, 20, "120 s at 10 per 60 s");
    f.limits.shutdown().await;
}

#[actix::test]
async fn partial_refill_reports_the_next_unit() {
    let f = fixture();
    let p = login();
    for _ in 0..3 {
        f.limits.check(&p, "k").await.unwrap();
    }
    f.clock.advance(secs(7));
    assert_eq!(
        allow(f.limits.check(&p, "k").await.unwrap()),
        (7, secs(17), secs(5))
    );
    f.limits.shutdown().await;
}

#[actix::test]
async fn keys_and_policies_have_separate_budgets() {
    let f = fixture();
    let strict = RateLimitPolicy::new("strict", 1, secs(60));
    assert!(f.limits.check(&strict, "a").await.unwrap().is_allowed());
    assert!(!f.limits.check(&strict, "a").await.unwrap().is_allowed());
    assert!(f.limits.check(&strict, "b").await.unwrap().is_allowed());
    // Same key, another policy name: its own budget.
    let other = RateLimitPolicy::new("other", 1, secs(60));
    assert!(f.limits.check(&other, "a").await.unwrap().is_allowed());
    // Same name: the same budget, even with other numbers.
    let renamed = RateLimitPolicy::new("strict", 5, secs(60)).burst(1);
    assert!(!f.limits.check(&renamed, "a").await.unwrap().is_allowed());
    f.limits.shutdown().await;
}

#[actix::test]
async fn invalid_policies_are_refused_as_faults() {
    let f = fixture();
    for p in [
        RateLimitPolicy::new("a b", 1, secs(1)),
        RateLimitPolicy::new("a", 0, secs(1)),
        RateLimitPolicy::new("a", 1, secs(1)).burst(0),
        RateLimitPolicy::new("a", 1, Duration::ZERO),
    ] {
        let err = f.limits.check(&p, "k").await.unwrap_err();
        assert!(matches!(err, ActorError::Invalid { .. }), "{p:?}: {err:?}");
    }
    f.limits.shutdown().await;
}

// Atomicity and the view -----------------------------------------------------------------------

#[actix::test]
async fn concurrent_checks_on_one_key_allow_exactly_the_burst() {
    let f = fixture();
    let p = login();
    let checks = (0..200).map(|_| {
        let l = f.limits.clone();
        let p = p.clone();
        async move { l.check(&p, "198.51.100.4").await.unwrap() }
    });
    let decisions = join_all(checks).await;
    let allowed = decisions.iter().filter(|d| d.is_allowed()).count();
    assert_eq!(allowed, 10);
    let mut remaining: Vec<u32> = decisions.iter().map(Decision::remaining).collect();
    remaining.sort_unstable();
    remaining.dedup();
    assert_eq!(
        remaining,
        (0..10).collect::<Vec<_>>(),
        "each unit spent once"
    );
    let firsts = decisions
        .iter()
        .filter(|d| {
            matches!(
                d,
                Decision::Deny {
                    first_in_window: true,
                    ..
                }
            )
        })
        .count();
    assert_eq!(firsts, 1);
    let s = f.limits.stats();
    assert_eq!((s.allowed, s.denied, s.first_blocks), (10, 190, 1));
    f.limits.shutdown().await;
}

#[actix::test]
async fn refusals_are_served_from_the_view_until_the_key_is_allowed() {
    let f = fixture();
    let p = RateLimitPolicy::new("p", 1, secs(10));
    assert!(f.limits.check(&p, "k").await.unwrap().is_allowed());
    assert!(!f.limits.check(&p, "k").await.unwrap().is_allowed()); // by the shard
    assert_eq!(f.limits.stats().blocked_keys, 1);
    for _ in 0..100 {
        let (retry, reset, first) = deny(f.limits.check(&p, "k").await.unwrap());
        assert_eq!((retry, reset, first), (secs(10), secs(10), false));
    }
    let s = f.limits.stats();
    assert_eq!((s.denied, s.denied_from_view), (101, 100));

    f.clock.advance(secs(4));
    assert_eq!(
        deny(f.limits.check(&p, "k").await.unwrap()),
        (secs(6), secs(6), false)
    );
    f.clock.advance(secs(6));
    assert!(f.limits.check(&p, "k").await.unwrap().is_allowed());
    assert_eq!(
        f.limits.stats().blocked_keys,
        0,
        "allowed keys leave the view"
    );
    f.limits.shutdown().await;
}

#[actix::test]
async fn one_first_refusal_per_key_per_period() {
    let f = fixture();
    let p = login();
    for _ in 0..10 {
        f.limits.check(&p, "k").await.unwrap();
    }
    let mut firsts = 0;
    for _ in 0..1000 {
        firsts += usize::from(deny(f.limits.check(&p, "k").await.unwrap()).2);
    }
    assert_eq!(firsts, 1);
    // Hammering through the next minute (one request passes every 6 s): still quiet.
    for _ in 0..59 {
        f.clock.advance(secs(1));
        let d = f.limits.check(&p, "k").await.unwrap();
        assert!(!matches!(
            d,
            Decision::Deny {
                first_in_window: true,
                ..
            }
        ));
    }
    // A new period: the next refusal is a first again.
    f.clock.advance(secs(1));
    let mut firsts = 0;
    for _ in 0..5 {
        let d = f.limits.check(&p, "k").await.unwrap();
        firsts += usize::from(matches!(
            d,
            Decision::Deny {
                first_in_window: true,
                ..
            }
        ));
    }
    assert_eq!(firsts, 1);
    // Another key has its own first refusal.
    let strict = RateLimitPolicy::new("login", 10, secs(60)).burst(1);
    f.limits.check(&strict, "other").await.unwrap();
    assert!(deny(f.limits.check(&strict, "other").await.unwrap()).2);
    f.limits.shutdown().await;
}

#[actix::test]
async fn reset_lifts_a_block() {
    let f = fixture();
    let p = RateLimitPolicy::new("p", 1, secs(600));
    f.limits.check(&p, "k").await.unwrap();
    assert!(!f.limits.check(&p, "k").await.unwrap().is_allowed());
    assert!(f.limits.reset(&p, "k").await.unwrap());
    assert!(f.limits.check(&p, "k").await.unwrap().is_allowed());
    assert!(!f.limits.reset(&p, "never-seen").await.unwrap());
    f.limits.shutdown().await;
}

// Memory ----------------------------------------------------------------------------------------

#[actix::test]
async fn memory_returns_to_baseline_after_100k_keys_decay() {
    let f = fixture();
    let p = login();
    let base = f.limits.stats();
    assert_eq!((base.keys, base.capacity), (0, 0));

    let ips: Vec<String> = (0..100_000u32)
        .map(|i| format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255))
        .collect();
    for chunk in ips.chunks(2_000) {
        let checks = chunk.iter().map(|ip| f.limits.check(&p, ip));
        for d in join_all(checks).await {
            assert!(d.unwrap().is_allowed());
        }
    }
    assert_eq!(f.limits.len(), 100_000);
    let grown = f.limits.stats();
    assert!(grown.capacity >= 100_000, "{grown:?}");
    f.limits.persist_now().await.unwrap();
    assert_eq!(f.limits.stats().persisted, 100_000);
    assert_eq!(states(&*f.store), 100_000);
    // (plus the horizon record, which bounds the expiry of all stored state)
    assert_eq!(f.store.len(Keyspace::RateLimit).unwrap(), 100_001);

    // Still inside the window: nothing decays.
    f.clock.advance(secs(5));
    assert_eq!(f.limits.sweep_now().await.unwrap(), 0);
    assert_eq!(f.limits.len(), 100_000);

    // Past the window (one request's state lasts one emission interval, 6 s).
    f.clock.advance(secs(1));
    assert_eq!(f.limits.sweep_now().await.unwrap(), 100_000);
    let after = f.limits.stats();
    assert!(f.limits.is_empty());
    assert_eq!((after.keys, after.blocked_keys), (0, 0));
    assert!(
        after.capacity <= base.capacity + 64,
        "memory given back: {after:?}"
    );
    assert_eq!(after.swept, 100_000);

    // The stored state expired at the same instant; the store's sweeper removes it.
    let mut removed = 0;
    while let n @ 1.. = f.store.sweep_expired(T0 + 6_000, 10_000).unwrap() {
        removed += n;
    }
    assert_eq!(removed, 100_000);
    assert_eq!(states(&*f.store), 0);
    // The horizon record goes 10 minutes after the last state it covers.
    assert_eq!(f.store.sweep_expired(T0 + 606_000, 10).unwrap(), 1);
    assert_eq!(f.store.len(Keyspace::RateLimit).unwrap(), 0);
    f.limits.shutdown().await;
}

#[actix::test]
async fn a_growing_shard_sweeps_early_without_waiting_for_the_timer() {
    let f = fixture_with(
        RateLimitSettings::default()
            .shards(1)
            .sweep_interval(secs(3600)),
    );
    let p = RateLimitPolicy::new("p", 1, secs(1));
    for round in 0..4u64 {
        let checks: Vec<_> = (0..5_000).map(|i| format!("{round}-{i}")).collect();
        for d in join_all(checks.iter().map(|k| f.limits.check(&p, k))).await {
            d.unwrap();
        }
        f.clock.advance(secs(2));
    }
    // 20 000 keys seen, but each round's keys decayed before the next round grew the map.
    assert!(f.limits.len() <= 10_000, "{:?}", f.limits.stats());
    assert!(f.limits.stats().swept >= 10_000);
    f.limits.shutdown().await;
}

// Persistence ------------------------------------------------------------------------------------

#[actix::test]
async fn budgets_survive_a_restart_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let open = || -> Arc<dyn Store> {
        Arc::new(SledStore::open(dir.path(), &StoreConfig::default(), clock.clone()).unwrap())
    };
    let settings = || RateLimitSettings::default().shards(2);
    let p = login();

    let store = open();
    let limits = start_ratelimit(store.clone(), clock.clone(), settings(), 64, ASK);
    for _ in 0..10 {
        assert!(limits.check(&p, "203.0.113.9").await.unwrap().is_allowed());
    }
    assert!(limits.check(&p, "198.51.100.1").await.unwrap().is_allowed());
    limits.shutdown().await;
    drop(limits);
    drop(store);

    let store = open();
    let limits = start_ratelimit(store, clock.clone(), settings(), 64, ASK);
    assert_eq!(limits.len(), 0);
    let (retry, reset, first) = deny(limits.check(&p, "203.0.113.9").await.unwrap());
    assert_eq!((retry, reset, first), (secs(6), secs(60), true));
    assert_eq!(
        allow(limits.check(&p, "198.51.100.1").await.unwrap()).0,
        8,
        "a partly spent budget stays spent"
    );
    assert_eq!(limits.stats().loaded, 2);

    // Once decayed, the stored state is gone too: a fresh budget, nothing loaded.
    clock.advance(secs(60));
    assert_eq!(
        allow(limits.check(&p, "fresh-after-decay").await.unwrap()).0,
        9
    );
    assert_eq!(allow(limits.check(&p, "203.0.113.9").await.unwrap()).0, 9);
    limits.shutdown().await;
}

#[actix::test]
async fn write_through_mode_persists_before_answering() {
    let f = fixture_with(
        RateLimitSettings::default()
            .shards(2)
            .persist_interval(Duration::ZERO),
    );
    let p = login();
    f.limits.check(&p, "k").await.unwrap();
    assert_eq!(states(&*f.store), 1);
    assert_eq!(f.limits.stats().persisted, 1);
    f.limits.shutdown().await;
}

#[actix::test]
async fn changed_state_is_written_on_the_timer() {
    let f = fixture_with(
        RateLimitSettings::default()
            .shards(2)
            .persist_interval(Duration::from_millis(20)),
    );
    let p = login();
    for k in ["a", "b", "c"] {
        f.limits.check(&p, k).await.unwrap();
    }
    common::eventually("state persisted", || states(&*f.store) == 3).await;
    f.limits.shutdown().await;
}

/// A sled store whose reads or writes can be made to fail.
#[derive(Debug)]
struct Flaky {
    inner: SledStore,
    fail_get: AtomicBool,
    fail_put: AtomicBool,
}

fn down() -> StoreError {
    StoreError::Backend("simulated outage".into())
}

impl Store for Flaky {
    fn get(&self, ks: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if self.fail_get.load(Ordering::SeqCst) {
            return Err(down());
        }
        self.inner.get(ks, key)
    }
    fn put(&self, ks: Keyspace, k: &[u8], v: &[u8], o: PutOptions) -> Result<(), StoreError> {
        if self.fail_put.load(Ordering::SeqCst) {
            return Err(down());
        }
        self.inner.put(ks, k, v, o)
    }
    fn delete(&self, ks: Keyspace, key: &[u8], d: Durability) -> Result<bool, StoreError> {
        self.inner.delete(ks, key, d)
    }
    fn increment(&self, ks: Keyspace, k: &[u8], d: i64, o: PutOptions) -> Result<i64, StoreError> {
        self.inner.increment(ks, k, d, o)
    }
    fn range(
        &self,
        ks: Keyspace,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<Entry>, StoreError> {
        self.inner.range(ks, start, end, limit, reverse)
    }
    fn scan_prefix(&self, ks: Keyspace, p: &[u8], limit: usize) -> Result<Vec<Entry>, StoreError> {
        self.inner.scan_prefix(ks, p, limit)
    }
    fn len(&self, ks: Keyspace) -> Result<u64, StoreError> {
        self.inner.len(ks)
    }
    fn sweep_expired(&self, now_ms: u64, max: usize) -> Result<usize, StoreError> {
        self.inner.sweep_expired(now_ms, max)
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()
    }
    fn health_check(&self) -> Result<(), StoreError> {
        self.inner.health_check()
    }
}

fn flaky(clock: &Arc<ManualClock>, dir: &std::path::Path) -> Arc<Flaky> {
    Arc::new(Flaky {
        inner: SledStore::open(dir, &StoreConfig::default(), clock.clone()).unwrap(),
        fail_get: AtomicBool::new(false),
        fail_put: AtomicBool::new(false),
    })
}

#[actix::test]
async fn store_faults_unwritable_state_is_retried_unreadable_state_fails() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let store = flaky(&clock, dir.path());
    let settings = || {
        RateLimitSettings::default()
            .shards(1)
            .persist_interval(Duration::ZERO)
    };
    let limits = start_ratelimit(store.clone(), clock.clone(), settings(), 64, ASK);
    let p = RateLimitPolicy::new("p", 2, secs(60));

    // Writes failing: decisions go on from memory, the failure is counted, then retried.
    store.fail_put.store(true, Ordering::SeqCst);
    assert!(limits.check(&p, "k").await.unwrap().is_allowed());
    assert!(limits.check(&p, "k").await.unwrap().is_allowed());
    assert!(!limits.check(&p, "k").await.unwrap().is_allowed());
    assert!(limits.stats().persist_errors >= 1);
    assert!(limits.persist_now().await.is_err());
    store.fail_put.store(false, Ordering::SeqCst);
    assert_eq!(limits.persist_now().await.unwrap(), 1);
    assert_eq!(states(&*store), 1);

    // Reads failing: this process holds everything it wrote in memory, so it never needs to
    // read the store, and decides on.
    store.fail_get.store(true, Ordering::SeqCst);
    assert!(!limits.check(&p, "k").await.unwrap().is_allowed());
    assert!(limits.check(&p, "new").await.unwrap().is_allowed());
    limits.shutdown().await;
    drop(limits);
    drop(store);

    // After a restart, stored state may exist for any key until the stored horizon: a key
    // that cannot be read is a fault (the caller refuses), never a fresh budget.
    let store = flaky(&clock, dir.path());
    store.fail_get.store(true, Ordering::SeqCst);
    let limits = start_ratelimit(store.clone(), clock.clone(), settings(), 64, ASK);
    for key in ["k", "unknown"] {
        let err = limits.check(&p, key).await.unwrap_err();
        assert!(matches!(err, ActorError::Store(_)), "{key}: {err:?}");
    }
    store.fail_get.store(false, Ordering::SeqCst);
    assert!(!limits.check(&p, "k").await.unwrap().is_allowed());
    assert!(limits.check(&p, "unknown").await.unwrap().is_allowed());
    limits.shutdown().await;
}

#[actix::test]
async fn the_store_is_read_only_while_stored_state_can_be_live() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let p = RateLimitPolicy::new("p", 1, secs(60));
    let settings = || RateLimitSettings::default().shards(2);

    // A fresh store holds no state: misses are not looked up (reads may fail, nothing asks).
    let store = flaky(&clock, dir.path());
    let limits = start_ratelimit(store.clone(), clock.clone(), settings(), 64, ASK);
    store.fail_get.store(true, Ordering::SeqCst);
    assert!(limits.check(&p, "a").await.unwrap().is_allowed());
    assert!(!limits.check(&p, "a").await.unwrap().is_allowed());
    limits.shutdown().await;
    drop(limits);
    drop(store);

    // Restarted: "a" is read back. Once the horizon (10 min past the latest state) has
    // passed, no stored state can be live and misses are not read again.
    let store = flaky(&clock, dir.path());
    let limits = start_ratelimit(store.clone(), clock.clone(), settings(), 64, ASK);
    assert!(!limits.check(&p, "a").await.unwrap().is_allowed());
    assert_eq!(limits.stats().loaded, 1);
    clock.advance(secs(60 + 600));
    store.fail_get.store(true, Ordering::SeqCst);
    assert!(limits.check(&p, "b").await.unwrap().is_allowed());
    limits.shutdown().await;
}

#[actix::test]
async fn the_writer_retries_failed_writes_without_holding_up_decisions() {
    let clock = Arc::new(ManualClock::new(T0));
    let flaky = Arc::new(Flaky {
        inner: SledStore::temporary(&StoreConfig::default(), clock.clone()).unwrap(),
        fail_get: AtomicBool::new(false),
        fail_put: AtomicBool::new(true),
    });
    let settings = RateLimitSettings::default()
        .shards(2)
        .persist_interval(Duration::from_millis(10));
    let limits = start_ratelimit(flaky.clone(), clock.clone(), settings, 64, ASK);
    let p = RateLimitPolicy::new("p", 1, secs(60));
    for k in ["a", "b", "c"] {
        assert!(limits.check(&p, k).await.unwrap().is_allowed());
        assert!(!limits.check(&p, k).await.unwrap().is_allowed());
    }
    assert!(limits.persist_now().await.is_err());
    assert!(limits.stats().persist_errors >= 1);
    assert_eq!(states(&*flaky), 0);

    flaky.fail_put.store(false, Ordering::SeqCst);
    common::eventually("failed writes retried", || {
        states(&*flaky) == 3 && limits.stats().persisted == 3
    })
    .await;
    limits.shutdown().await;
}

// Supervision and failing closed -----------------------------------------------------------------

#[actix::test]
async fn a_panic_restarts_the_shards_and_keeps_their_state() {
    let f = fixture();
    let p = login();
    for _ in 0..11 {
        f.limits.check(&p, "k").await.unwrap();
    }
    let err = f.limits.crash_for_tests().await.unwrap_err();
    assert!(
        matches!(err, ActorError::Panicked { actor: "ratelimit" }),
        "{err:?}"
    );
    // Restarted (checks fail closed for the instant it takes), with the spent budget intact:
    // nothing is handed back, even what the write-behind store has not recorded yet.
    let start = Instant::now();
    let d = loop {
        match f.limits.check(&p, "k").await {
            Err(ActorError::Unavailable { .. }) if start.elapsed() < ASK => {
                actix_rt::time::sleep(Duration::from_millis(5)).await;
            }
            r => break r.unwrap(),
        }
    };
    assert_eq!(deny(d).0, secs(6));
    assert_eq!(f.limits.len(), 1);
    assert_eq!(
        allow(f.limits.check(&p, "other").await.unwrap()).0,
        9,
        "the shards decide on"
    );
    f.limits.ping().await.unwrap();
    f.limits.shutdown().await;
}

#[actix::test]
async fn checks_fail_closed_once_the_actor_is_down() {
    let f = fixture();
    let p = RateLimitPolicy::new("p", 1, secs(600));
    f.limits.check(&p, "blocked").await.unwrap();
    f.limits.check(&p, "blocked").await.unwrap();
    f.limits.shutdown().await;
    f.limits.shutdown().await; // idempotent

    let start = Instant::now();
    for key in ["blocked", "fresh"] {
        let err = f.limits.check(&p, key).await.unwrap_err();
        assert!(
            matches!(err, ActorError::Unavailable { actor: "ratelimit" }),
            "{key}: {err:?}"
        );
    }
    assert!(f.limits.ping().await.is_err());
    assert!(f.limits.sweep_now().await.is_err());
    assert!(start.elapsed() < Duration::from_secs(1));
}
