//! The acceptance suite every [`Store`] implementation must pass.
//!
//! A backend's tests call [`run_acceptance_suite`] (feature `test-util`) with a
//! [`StoreFactory`] that opens the backend on the same underlying location each time, so that
//! reopening can be checked.

use crate::clock::SharedClock;

#[cfg(any(test, feature = "test-util"))]
use {
    super::{Durability, Keyspace, PutOptions, Store},
    crate::{Clock, ManualClock},
    std::{ops::Bound, sync::Arc, time::Duration},
};

/// Opens a store backend, always on the same underlying location (a directory, a Redis
/// database), so that a second `open` sees what the first one made durable.
pub trait StoreFactory {
    /// The backend type.
    type Store: super::Store;
    /// Opens the backend with the given clock.
    fn open(&self, clock: SharedClock) -> Self::Store;
}

/// Runs every check of the store contract; panics with a message naming the failed check.
#[cfg(any(test, feature = "test-util"))]
pub fn run_acceptance_suite<F: StoreFactory>(factory: &F) {
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    {
        let store = factory.open(clock.clone());
        crud(&store);
        expiry_hides_and_sweeps(&store, &clock);
        sweep_is_bounded_and_respects_renewal(&store, &clock);
        counters(&store, &clock);
        ranges(&store);
        keyspaces_are_isolated(&store);
        store
            .put(
                Keyspace::Lockout,
                b"durable",
                b"kept",
                PutOptions::durable(),
            )
            .expect("durable put");
        store.health_check().expect("health check");
    }
    // Reopen: the durable write survived.
    let store = factory.open(clock.clone());
    assert_eq!(
        store
            .get(Keyspace::Lockout, b"durable")
            .expect("get after reopen")
            .as_deref(),
        Some(&b"kept"[..]),
        "durable write must survive reopen"
    );
}

#[cfg(any(test, feature = "test-util"))]
fn crud<S: Store>(s: &S) {
    assert_eq!(
        s.get(Keyspace::Sessions, b"a").unwrap(),
        None,
        "missing key"
    );
    s.put(Keyspace::Sessions, b"a", b"1", PutOptions::buffered())
        .unwrap();
    assert_eq!(
        s.get(Keyspace::Sessions, b"a").unwrap().as_deref(),
        Some(&b"1"[..])
    );
    s.put(Keyspace::Sessions, b"a", b"2", PutOptions::buffered())
        .unwrap();
    assert_eq!(
        s.get(Keyspace::Sessions, b"a").unwrap().as_deref(),
        Some(&b"2"[..])
    );
    s.put(Keyspace::Sessions, b"empty", b"", PutOptions::buffered())
        .unwrap();
    assert_eq!(
        s.get(Keyspace::Sessions, b"empty").unwrap().as_deref(),
        Some(&b""[..])
    );
    assert!(s
        .delete(Keyspace::Sessions, b"a", Durability::Durable)
        .unwrap());
    assert!(!s
        .delete(Keyspace::Sessions, b"a", Durability::Buffered)
        .unwrap());
    assert_eq!(
        s.get(Keyspace::Sessions, b"a").unwrap(),
        None,
        "deleted key"
    );
    s.delete(Keyspace::Sessions, b"empty", Durability::Buffered)
        .unwrap();
}

#[cfg(any(test, feature = "test-util"))]
fn expiry_hides_and_sweeps<S: Store>(s: &S, clock: &ManualClock) {
    let now = clock.now_millis();
    s.put(
        Keyspace::Sessions,
        b"exp",
        b"x",
        PutOptions::buffered().expires_at(now + 1_000),
    )
    .unwrap();
    s.put(Keyspace::Sessions, b"keep", b"y", PutOptions::buffered())
        .unwrap();
    assert!(
        s.get(Keyspace::Sessions, b"exp").unwrap().is_some(),
        "not yet expired"
    );
    assert_eq!(
        s.sweep_expired(clock.now_millis(), 100).unwrap(),
        0,
        "nothing due yet"
    );
    clock.advance(Duration::from_millis(1_000));
    assert_eq!(
        s.get(Keyspace::Sessions, b"exp").unwrap(),
        None,
        "expired is invisible"
    );
    let before = s.len(Keyspace::Sessions).unwrap();
    assert_eq!(
        s.sweep_expired(clock.now_millis(), 100).unwrap(),
        1,
        "one swept"
    );
    assert_eq!(
        s.len(Keyspace::Sessions).unwrap(),
        before - 1,
        "record removed"
    );
    assert_eq!(
        s.sweep_expired(clock.now_millis(), 100).unwrap(),
        0,
        "sweep is idempotent"
    );
    assert!(
        s.get(Keyspace::Sessions, b"keep").unwrap().is_some(),
        "unexpiring kept"
    );
    assert!(!s
        .delete(Keyspace::Sessions, b"exp", Durability::Buffered)
        .unwrap());
    s.delete(Keyspace::Sessions, b"keep", Durability::Buffered)
        .unwrap();
}

#[cfg(any(test, feature = "test-util"))]
fn sweep_is_bounded_and_respects_renewal<S: Store>(s: &S, clock: &ManualClock) {
    let now = clock.now_millis();
    for i in 0..10u8 {
        s.put(
            Keyspace::RateLimit,
            &[i],
            b"v",
            PutOptions::buffered().expires_at(now + 10),
        )
        .unwrap();
    }
    // Key 0 is renewed before it expires: the old index entry must not remove it.
    s.put(
        Keyspace::RateLimit,
        &[0],
        b"renewed",
        PutOptions::buffered().expires_at(now + 60_000),
    )
    .unwrap();
    // Key 1 loses its expiry entirely.
    s.put(
        Keyspace::RateLimit,
        &[1],
        b"forever",
        PutOptions::buffered(),
    )
    .unwrap();
    clock.advance(Duration::from_millis(10));
    let first = s.sweep_expired(clock.now_millis(), 3).unwrap();
    assert_eq!(first, 3, "a sweep removes at most its batch");
    let mut total = first;
    loop {
        let n = s.sweep_expired(clock.now_millis(), 3).unwrap();
        if n == 0 {
            break;
        }
        total += n;
    }
    assert_eq!(total, 8, "eight expired records swept in bounded batches");
    assert_eq!(
        s.get(Keyspace::RateLimit, &[0]).unwrap().as_deref(),
        Some(&b"renewed"[..])
    );
    assert_eq!(
        s.get(Keyspace::RateLimit, &[1]).unwrap().as_deref(),
        Some(&b"forever"[..])
    );
    assert_eq!(s.len(Keyspace::RateLimit).unwrap(), 2);
    s.delete(Keyspace::RateLimit, &[0], Durability::Buffered)
        .unwrap();
    s.delete(Keyspace::RateLimit, &[1], Durability::Buffered)
        .unwrap();
}

#[cfg(any(test, feature = "test-util"))]
fn counters<S: Store>(s: &S, clock: &ManualClock) {
    let exp = clock.now_millis() + 5_000;
    let opts = PutOptions::durable().expires_at(exp);
    assert_eq!(s.increment(Keyspace::Lockout, b"c", 1, opts).unwrap(), 1);
    assert_eq!(s.increment(Keyspace::Lockout, b"c", 2, opts).unwrap(), 3);
    assert_eq!(s.increment(Keyspace::Lockout, b"c", -5, opts).unwrap(), -2);
    clock.advance(Duration::from_millis(5_000));
    assert_eq!(
        s.increment(Keyspace::Lockout, b"c", 1, PutOptions::buffered())
            .unwrap(),
        1,
        "an expired counter restarts at zero"
    );
    assert_eq!(
        s.sweep_expired(clock.now_millis(), 10).unwrap(),
        0,
        "no stale index entry"
    );
    s.delete(Keyspace::Lockout, b"c", Durability::Buffered)
        .unwrap();

    // Concurrent increments are counted exactly.
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..50 {
                    s.increment(Keyspace::Lockout, b"race", 1, PutOptions::buffered())
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(
        s.increment(Keyspace::Lockout, b"race", 0, PutOptions::buffered())
            .unwrap(),
        400
    );
    s.delete(Keyspace::Lockout, b"race", Durability::Buffered)
        .unwrap();
}

#[cfg(any(test, feature = "test-util"))]
fn ranges<S: Store>(s: &S) {
    for i in 0..5u8 {
        s.put(Keyspace::Audit, &[b'e', i], &[i], PutOptions::buffered())
            .unwrap();
    }
    s.put(Keyspace::Audit, b"z", b"other", PutOptions::buffered())
        .unwrap();
    let all = s.scan_prefix(Keyspace::Audit, b"e", 100).unwrap();
    assert_eq!(all.len(), 5, "prefix scan");
    assert_eq!(all[0].0, vec![b'e', 0]);
    let limited = s.scan_prefix(Keyspace::Audit, b"e", 2).unwrap();
    assert_eq!(limited.len(), 2, "prefix scan limit");
    let r = s
        .range(
            Keyspace::Audit,
            Bound::Included(&[b'e', 1][..]),
            Bound::Excluded(&[b'e', 4][..]),
            10,
            false,
        )
        .unwrap();
    assert_eq!(
        r.iter().map(|(_, v)| v[0]).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let newest = s
        .range(
            Keyspace::Audit,
            Bound::Included(&b"e"[..]),
            Bound::Excluded(&b"f"[..]),
            2,
            true,
        )
        .unwrap();
    assert_eq!(
        newest.iter().map(|(_, v)| v[0]).collect::<Vec<_>>(),
        vec![4, 3],
        "reverse"
    );
    for i in 0..5u8 {
        s.delete(Keyspace::Audit, &[b'e', i], Durability::Buffered)
            .unwrap();
    }
    s.delete(Keyspace::Audit, b"z", Durability::Buffered)
        .unwrap();
}

#[cfg(any(test, feature = "test-util"))]
fn keyspaces_are_isolated<S: Store>(s: &S) {
    s.put(Keyspace::Tokens, b"same", b"t", PutOptions::buffered())
        .unwrap();
    assert_eq!(s.get(Keyspace::UserVersions, b"same").unwrap(), None);
    assert_eq!(
        s.get(Keyspace::Tokens, b"same").unwrap().as_deref(),
        Some(&b"t"[..])
    );
    s.delete(Keyspace::Tokens, b"same", Durability::Buffered)
        .unwrap();
}
