//! The lockout actor: thresholds and the backoff sequence on a manual clock, the window,
//! success resets, atomic counting under concurrency, durability across a restart, the
//! many-networks attacker against a victim, the spray detector, admin unlock and status,
//! bounded memory under a spray of unknown names, supervision and failing closed.

mod common;

use std::{
    net::{IpAddr, Ipv4Addr},
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::future::join_all;
use serde_json::Value;
use warden_actors::{
    lockout::{start_lockout, LockoutHandle, LockoutPolicy, Scope, Status},
    store::{Keyspace, SledStore, Store},
    ActorError, AuditConfig, AuditQuery, Clock, ManualClock, Runtime, RuntimeConfig, StoreConfig,
    StoredEvent, MAX_QUERY_LIMIT,
};

const T0: u64 = 1_700_000_000_000;
const ASK: Duration = Duration::from_secs(10);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// `10.<i / 256>.<i % 256>.1`: a distinct network per `i`.
fn net(i: usize) -> IpAddr {
    let i = u16::try_from(i).unwrap();
    IpAddr::V4(Ipv4Addr::new(10, (i >> 8) as u8, (i & 0xff) as u8, 1))
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A runtime (for its audit actor and store) on a manual clock, and a lockout actor.
struct Fx {
    rt: Runtime,
    clock: Arc<ManualClock>,
    lockout: LockoutHandle,
}

fn runtime(clock: &Arc<ManualClock>) -> Runtime {
    let cfg = RuntimeConfig::builder()
        .audit(AuditConfig::default().tracing_sink(false))
        .store(StoreConfig::default().sweep_interval(Duration::from_secs(3600)))
        .build();
    Runtime::builder(cfg).clock(clock.clone()).start().unwrap()
}

fn start(rt: &Runtime, store: Arc<dyn Store>, policy: LockoutPolicy) -> LockoutHandle {
    start_lockout(store, rt.clock(), policy, rt.audit().clone(), 256, ASK)
}

fn fixture(policy: LockoutPolicy) -> Fx {
    let clock = Arc::new(ManualClock::new(T0));
    let rt = runtime(&clock);
    let lockout = start(&rt, rt.store(), policy);
    Fx { rt, clock, lockout }
}

impl Fx {
    async fn fail(&self, account: &str, ip: IpAddr) -> Status {
        self.lockout.record_failure(account, ip).await.unwrap()
    }

    async fn check(&self, account: &str, ip: IpAddr) -> Status {
        self.lockout.check(account, ip).await.unwrap()
    }

    async fn events(&self, name: &str) -> Vec<StoredEvent> {
        let q = AuditQuery::new().name_prefix(name).limit(MAX_QUERY_LIMIT);
        let evs = self.rt.audit().query(q).await.unwrap();
        evs.into_iter().filter(|e| e.event.name == name).collect()
    }

    async fn stop(self) {
        self.lockout.shutdown().await;
        self.rt.shutdown().await.unwrap();
    }
}

fn detail<'a>(e: &'a StoredEvent, k: &str) -> &'a Value {
    &e.event.details[k]
}

// Thresholds and backoff --------------------------------------------------------------------

#[actix::test]
async fn the_fifth_failure_locks_for_300_s_and_each_relock_doubles_up_to_3600() {
    let f = fixture(LockoutPolicy::default());
    let a = ip("192.0.2.10");
    for n in 1..=4 {
        let st = f.fail("alice", a).await;
        assert!(
            !st.locked && st.newly_locked.is_empty(),
            "failure {n}: {st:?}"
        );
        assert_eq!(st.account_ip.failures, n);
    }
    let mut lengths = Vec::new();
    for round in 0..6 {
        let st = f.fail("alice", a).await;
        assert_eq!(st.newly_locked, [Scope::AccountIp], "round {round}: {st:?}");
        let lock = st.retry_after.unwrap();
        lengths.push(lock.as_secs());
        assert_eq!(
            f.check("alice", a).await.locked_scopes(),
            [Scope::AccountIp]
        );
        // A failure while locked is counted but neither extends the lock nor raises it.
        f.clock.advance(secs(1));
        let during = f.fail("alice", a).await;
        assert!(during.locked && during.newly_locked.is_empty());
        assert_eq!(during.retry_after, Some(lock - secs(1)));
        // Unlocked exactly when the lock ends.
        f.clock.advance(lock - secs(2));
        assert!(f.check("alice", a).await.locked, "1 s before the end");
        f.clock.advance(secs(1));
        assert!(
            !f.check("alice", a).await.locked,
            "at the end of round {round}"
        );
    }
    assert_eq!(lengths, [300, 600, 1200, 2400, 3600, 3600]);
    // Another network and another name were never affected.
    assert!(!f.check("alice", ip("192.0.2.11")).await.locked);
    assert!(!f.check("bob", a).await.locked);

    let locks = f.events("auth.lockout.locked").await;
    assert_eq!(locks.len(), 6, "one event per lock: {locks:?}");
    let secs_of: Vec<u64> = locks
        .iter()
        .map(|e| detail(e, "lock_secs").as_u64().unwrap())
        .collect();
    assert_eq!(secs_of, lengths);
    let first = &locks[0];
    assert_eq!(detail(first, "scope"), "account_ip");
    assert_eq!(detail(first, "failures"), 5);
    assert_eq!(detail(first, "until"), "2023-11-14T22:18:20Z");
    assert_eq!(detail(first, "network"), "192.0.2.10");
    assert_eq!(detail(first, "account_ref").as_str().unwrap().len(), 16);
    // No attempted login name reaches the log.
    assert!(!first.to_json_line().contains("alice"), "{first:?}");
    f.stop().await;
}

#[actix::test]
async fn the_window_forgets_quiet_counters_and_their_backoff() {
    let f = fixture(LockoutPolicy::default());
    let a = ip("192.0.2.20");
    for _ in 0..4 {
        f.fail("alice", a).await;
    }
    f.clock.advance(secs(899));
    assert_eq!(f.check("alice", a).await.account_ip.failures, 4);
    f.clock.advance(secs(1));
    let st = f.check("alice", a).await;
    assert_eq!(
        (st.account_ip.failures, st.account.failures, st.ip.failures),
        (0, 0, 0),
        "900 s after the last failure: {st:?}"
    );
    // The window slides: failures 14 minutes apart add up.
    for n in 1..=5 {
        let st = f.fail("alice", a).await;
        assert_eq!(st.locked, n == 5, "failure {n}");
        if n < 5 {
            f.clock.advance(secs(14 * 60));
        }
    }
    // The backoff is forgotten `window` after the lock ends: the next lock is 300 s again.
    f.clock.advance(secs(300 + 900));
    assert_eq!(f.check("alice", a).await.account_ip.locks, 0);
    for _ in 0..4 {
        assert!(!f.fail("alice", a).await.locked);
    }
    assert_eq!(f.fail("alice", a).await.retry_after, Some(secs(300)));
    f.stop().await;
}

#[actix::test]
async fn login_names_are_normalised_and_ipv6_counts_per_64() {
    let f = fixture(LockoutPolicy::default());
    let v6 = |s| ip(s);
    for (name, addr) in [
        ("Alice", "2001:db8:1:2::1"),
        (" alice ", "2001:db8:1:2::2"),
        ("ALICE", "2001:db8:1:2:ffff::9"),
        ("alice\t", "2001:db8:1:2:1:2:3:4"),
    ] {
        f.fail(name, v6(addr)).await;
    }
    let st = f.fail("aLiCe", v6("2001:db8:1:2::77")).await;
    assert_eq!(st.newly_locked, [Scope::AccountIp], "{st:?}");
    assert_eq!(st.account_ip.failures, 5);
    assert!(
        !f.check("alice", v6("2001:db8:1:3::1")).await.locked,
        "another /64"
    );
    f.stop().await;
}

// Success -----------------------------------------------------------------------------------

#[actix::test]
async fn a_success_resets_the_account_and_its_pair_but_never_the_network() {
    let f = fixture(LockoutPolicy::default().ip_max_failures(8));
    let (a, b) = (ip("192.0.2.30"), ip("192.0.2.31"));
    for _ in 0..3 {
        f.fail("alice", a).await;
        f.fail("bob", a).await;
    }
    assert_eq!(f.lockout.record_success("alice", a).await.unwrap(), 3);
    let st = f.check("alice", a).await;
    assert_eq!((st.account.failures, st.account_ip.failures), (0, 0));
    assert_eq!(st.ip.failures, 6, "the network's counter stays");
    assert_eq!(
        f.check("bob", a).await.account_ip.failures,
        3,
        "bob untouched"
    );

    // Success-reset abuse (Baeldung #197): interleaving logins to one's own account does not
    // reset the victim's or the network's counters.
    let c = ip("192.0.2.32");
    for n in 1..=5 {
        let st = f.fail("victim", c).await;
        f.lockout.record_success("attacker", c).await.unwrap();
        assert_eq!(st.locked, n == 5, "victim failure {n}");
    }
    for _ in 0..3 {
        f.fail("someone", c).await;
        f.lockout.record_success("attacker", c).await.unwrap();
    }
    let st = f.check("attacker", c).await;
    assert_eq!(
        st.locked_scopes(),
        [Scope::Ip],
        "8 failures lock the network: {st:?}"
    );

    // A success from another network clears the account, not the locked pair.
    let d = ip("192.0.2.33");
    for _ in 0..5 {
        f.fail("carol", d).await;
    }
    f.lockout.record_success("carol", b).await.unwrap();
    let st = f.check("carol", d).await;
    assert_eq!(st.account.failures, 0);
    assert!(st.account_ip.is_locked(), "{st:?}");
    f.stop().await;
}

// Concurrency and durability ----------------------------------------------------------------

#[actix::test]
async fn two_hundred_concurrent_failures_are_counted_exactly() {
    let f = fixture(LockoutPolicy::default().ip_max_failures(1_000));
    let a = ip("192.0.2.40");
    let all = join_all((0..200).map(|_| f.lockout.record_failure("alice", a))).await;
    assert!(all.iter().all(Result::is_ok));
    let newly: usize = all
        .iter()
        .map(|r| r.as_ref().unwrap().newly_locked.len())
        .sum();
    assert_eq!(newly, 1, "exactly one failure imposed the lock");
    let st = f.check("alice", a).await;
    assert_eq!(st.account_ip.failures, 200);
    assert_eq!(st.ip.failures, 200);
    assert_eq!(
        st.account.failures, 5,
        "only unrefused failures count account-wide"
    );

    // From 200 networks at once: every one reaches the account counter.
    let all = join_all((0..200).map(|i| f.lockout.record_failure("bob", net(i)))).await;
    assert!(all.iter().all(Result::is_ok));
    let st = f.lockout.status("bob").await.unwrap();
    assert_eq!(st.account.failures, 200);
    assert_eq!(st.tracked_pairs, 200);
    assert!(st.account.is_locked());
    let account_locks = f
        .events("auth.lockout.locked")
        .await
        .iter()
        .filter(|e| detail(e, "scope") == "account")
        .count();
    assert_eq!(account_locks, 1);
    assert_eq!(f.lockout.stats().await.unwrap().failures, 400);

    // The counts are in the store: a fresh actor on the same store sees them.
    f.lockout.shutdown().await;
    let again = start(&f.rt, f.rt.store(), LockoutPolicy::default());
    let st = again.check("alice", a).await.unwrap();
    assert_eq!((st.account_ip.failures, st.ip.failures), (200, 200));
    assert_eq!(again.status("bob").await.unwrap().account.failures, 200);
    again.shutdown().await;
    f.rt.shutdown().await.unwrap();
}

#[actix::test]
async fn counters_and_locks_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let rt = runtime(&clock);
    let open = || -> Arc<dyn Store> {
        Arc::new(SledStore::open(dir.path(), &StoreConfig::default(), clock.clone()).unwrap())
    };
    let a = ip("192.0.2.50");
    let (pair_until, account_until) = {
        let store = open();
        let lockout = start(&rt, store.clone(), LockoutPolicy::default());
        for _ in 0..5 {
            lockout.record_failure("alice", a).await.unwrap();
        }
        for i in 0..20 {
            lockout.record_failure("bob", net(i)).await.unwrap();
        }
        lockout.record_failure("carol", a).await.unwrap();
        let pair = lockout
            .check("alice", a)
            .await
            .unwrap()
            .account_ip
            .locked_until;
        let account = lockout.status("bob").await.unwrap().account.locked_until;
        lockout.shutdown().await;
        drop(lockout);
        drop(store);
        (pair.unwrap(), account.unwrap())
    };
    clock.advance(secs(60));
    let lockout = start(&rt, open(), LockoutPolicy::default());
    let st = lockout.check(" ALICE", a).await.unwrap();
    assert!(st.locked);
    assert_eq!(st.account_ip.locked_until, Some(pair_until));
    assert_eq!(st.retry_after, Some(secs(240)));
    let bob = lockout.status("bob").await.unwrap();
    assert_eq!(bob.account.locked_until, Some(account_until));
    assert_eq!((bob.account.failures, bob.tracked_pairs), (20, 20));
    assert!(
        lockout
            .check("bob", ip("203.0.113.9"))
            .await
            .unwrap()
            .locked
    );
    let carol = lockout.check("carol", a).await.unwrap();
    assert_eq!(carol.account_ip.failures, 1);
    // The backoff continues where it was: the next lock of alice's pair is 600 s.
    clock.advance(secs(240));
    let st = lockout.record_failure("alice", a).await.unwrap();
    assert_eq!(st.retry_after, Some(secs(600)));
    lockout.shutdown().await;
    rt.shutdown().await.unwrap();
}

// Lockout as denial of service ----------------------------------------------------------------

/// The documented balance. A victim who logged in from `home` is attacked from 50 networks,
/// with wrong passwords, in cycles. Outcome:
/// - the attacker's 50 pairs lock after 5 failures each (then after every further failure);
/// - after 20 failures that reached a password check, the account locks on every network but
///   `home` for 300 s; each later cycle of 20 such failures locks it again, 600, 1200, 2400 s,
///   then 3600 s (the cap), never longer;
/// - per cycle the attacker gets exactly 20 password checks (≤ 20 per hour at the cap);
/// - a victim on a fresh network is delayed by at most the current lock, and can log in as
///   soon as it ends; on `home` the victim is never locked.
#[actix::test]
async fn fifty_attacker_networks_delay_a_victim_but_cannot_lock_them_out() {
    let f = fixture(LockoutPolicy::default());
    let home = ip("198.51.100.7");
    let fresh = ip("203.0.113.200");
    f.lockout.record_success("victim", home).await.unwrap();

    // Phase 1: 5 wrong passwords from each of 50 networks.
    let mut checked = 0;
    for i in 0..50 {
        for _ in 0..5 {
            if !f.check("victim", net(i)).await.locked {
                checked += 1;
            }
            f.fail("victim", net(i)).await;
        }
    }
    assert_eq!(checked, 20, "password checks the attacker got");
    let st = f.check("victim", fresh).await;
    assert_eq!(st.locked_scopes(), [Scope::Account]);
    assert!(st.retry_after.unwrap() <= secs(300), "{st:?}");
    let at_home = f.check("victim", home).await;
    assert!(!at_home.locked && at_home.trusted_ip, "{at_home:?}");
    let status = f.lockout.status("victim").await.unwrap();
    assert_eq!((status.tracked_pairs, status.locked_pairs), (50, 50));

    // Cycles: wait for the locks to end (the victim's chance), then one failure per network.
    for cycle in 1..=5 {
        let wait = f.check("victim", net(0)).await.retry_after.unwrap();
        f.clock.advance(wait);
        assert!(
            !f.check("victim", fresh).await.locked,
            "cycle {cycle}: lock over"
        );
        let mut checked = 0;
        for i in 0..50 {
            if !f.check("victim", net(i)).await.locked {
                checked += 1;
            }
            f.fail("victim", net(i)).await;
        }
        assert_eq!(checked, 20, "cycle {cycle}: password checks");
        assert!(!f.check("victim", home).await.locked, "home stays open");
        let st = f.check("victim", fresh).await;
        assert!(
            st.retry_after.unwrap() <= secs(3600),
            "cycle {cycle}: {st:?}"
        );
    }
    // One account lock per cycle, each twice as long, capped.
    let lengths: Vec<u64> = f
        .events("auth.lockout.locked")
        .await
        .iter()
        .filter(|e| detail(e, "scope") == "account")
        .map(|e| detail(e, "lock_secs").as_u64().unwrap())
        .collect();
    assert_eq!(lengths, [300, 600, 1200, 2400, 3600, 3600]);
    // The victim logs in at home: the account-wide count is cleared and its lock ended…
    f.lockout.record_success("victim", home).await.unwrap();
    assert!(!f.check("victim", fresh).await.locked);
    // …but not its backoff step: the attacker's next cycle meets the capped lock, not 300 s.
    let wait = f.check("victim", net(0)).await.retry_after.unwrap();
    f.clock.advance(wait);
    for i in 0..50 {
        f.fail("victim", net(i)).await;
    }
    let st = f.lockout.status("victim").await.unwrap();
    assert_eq!(st.account.locks, 7);
    assert_eq!(
        st.account.locked_until,
        Some(f.clock.now_millis() + 3_600_000)
    );
    f.stop().await;
}

#[actix::test]
async fn one_network_alone_cannot_lock_the_account() {
    let f = fixture(LockoutPolicy::default());
    let a = ip("192.0.2.60");
    for _ in 0..100 {
        f.fail("alice", a).await;
    }
    let st = f.check("alice", a).await;
    assert_eq!(st.locked_scopes(), [Scope::AccountIp, Scope::Ip]);
    assert_eq!(st.account.failures, 5);
    assert!(!f.check("alice", ip("192.0.2.61")).await.locked);
    f.stop().await;
}

// Events, admin -----------------------------------------------------------------------------

#[actix::test]
async fn the_spray_detector_alerts_once_per_window() {
    let f = fixture(LockoutPolicy::default().spray_threshold(10));
    f.clock.set_millis(T0 - T0 % 60_000); // the start of a window
    for i in 0..25 {
        f.fail(&format!("user{i}"), net(i)).await;
    }
    let spikes = f.events("alert.spike").await;
    assert_eq!(spikes.len(), 1, "{spikes:?}");
    let s = &spikes[0];
    assert_eq!(detail(s, "kind"), "auth.login.failure");
    assert_eq!(detail(s, "count"), 10);
    assert_eq!(detail(s, "window_secs"), 60);
    assert_eq!(detail(s, "detector"), "lockout.spray");
    f.clock.advance(secs(60));
    for i in 0..9 {
        f.fail(&format!("other{i}"), net(100 + i)).await;
    }
    assert_eq!(
        f.events("alert.spike").await.len(),
        1,
        "9 < 10 in the new window"
    );
    f.fail("tenth", net(200)).await;
    f.fail("eleventh", net(201)).await;
    assert_eq!(f.events("alert.spike").await.len(), 2);
    assert_eq!(f.lockout.stats().await.unwrap().spray_alerts, 2);
    f.stop().await;
}

#[actix::test]
async fn unlock_clears_the_account_and_its_pairs_and_status_shows_them() {
    let f = fixture(LockoutPolicy::default().ip_max_failures(5));
    for i in 0..20 {
        f.fail("alice", net(i)).await;
    }
    for _ in 0..4 {
        f.fail("alice", net(0)).await;
    }
    let st = f.lockout.status("ALICE").await.unwrap();
    assert!(st.account.is_locked());
    assert_eq!((st.tracked_pairs, st.locked_pairs), (20, 1));
    assert_eq!(st.locked_until, st.account.locked_until);

    assert_eq!(f.lockout.unlock(" Alice").await.unwrap(), 21);
    let st = f.lockout.status("alice").await.unwrap();
    assert_eq!((st.account.failures, st.tracked_pairs), (0, 0));
    let from0 = f.check("alice", net(0)).await;
    assert_eq!(
        from0.locked_scopes(),
        [Scope::Ip],
        "the network's lock stays"
    );
    assert!(!f.check("alice", net(1)).await.locked);
    assert!(f.lockout.unlock_ip(net(0)).await.unwrap());
    assert!(!f.check("alice", net(0)).await.locked);
    assert!(!f.lockout.unlock_ip(net(0)).await.unwrap());
    assert_eq!(f.lockout.unlock("nobody").await.unwrap(), 0);
    assert_eq!(f.events("auth.lockout.unlocked").await.len(), 4);
    f.stop().await;
}

// Memory, supervision, failing closed -------------------------------------------------------

#[actix::test]
async fn memory_and_storage_stay_bounded_under_a_spray_of_unknown_names() {
    let cap = 1_000;
    let f = fixture(
        LockoutPolicy::default()
            .max_tracked_keys(cap)
            .ip_max_failures(1_000_000)
            .spray_threshold(0),
    );
    let store = f.rt.store();
    let victim = ip("192.0.2.70");
    for _ in 0..4 {
        f.fail("alice", victim).await;
    }
    let names = 10_000;
    for chunk in (0..names).collect::<Vec<_>>().chunks(200) {
        let ghosts: Vec<(String, IpAddr)> = chunk
            .iter()
            .map(|i| (format!("ghost-{i}"), net(i % 500)))
            .collect();
        let all = join_all(
            ghosts
                .iter()
                .map(|(name, addr)| f.lockout.record_failure(name, *addr)),
        )
        .await;
        assert!(all.iter().all(Result::is_ok));
        assert!(f.lockout.stats().await.unwrap().tracked_keys <= cap);
    }
    // Eviction from memory forgot nothing: the victim's fifth failure locks.
    assert!(f.fail("alice", victim).await.locked);
    let stored = store.len(Keyspace::Lockout).unwrap();
    assert!(stored >= 2 * names as u64, "{stored}");

    // Every counter expires with its window and leaves through the expiry index.
    f.clock.advance(secs(300 + 900));
    let mut swept = 0;
    loop {
        let n = store.sweep_expired(f.clock.now_millis(), 10_000).unwrap();
        swept += n;
        if n == 0 {
            break;
        }
    }
    assert!(swept >= 2 * names, "{swept}");
    assert_eq!(
        store.len(Keyspace::Lockout).unwrap(),
        1,
        "only the key remains"
    );
    assert_eq!(f.check("alice", victim).await.account_ip.failures, 0);
    f.stop().await;
}

#[actix::test]
async fn a_crash_restarts_the_actor_which_reloads_from_the_store() {
    let f = fixture(LockoutPolicy::default());
    let a = ip("192.0.2.80");
    for _ in 0..5 {
        f.fail("alice", a).await;
    }
    let err = f.lockout.crash_for_tests().await.unwrap_err();
    assert!(
        matches!(err, ActorError::Panicked { actor: "lockout" }),
        "{err:?}"
    );
    let st = f.check("alice", a).await;
    assert!(st.locked && st.account_ip.failures == 5, "{st:?}");
    f.lockout.ping().await.unwrap();
    f.stop().await;
}

#[actix::test]
async fn every_call_fails_closed_once_the_actor_is_down() {
    let f = fixture(LockoutPolicy::default());
    let a = ip("192.0.2.90");
    f.fail("alice", a).await;
    f.lockout.shutdown().await;
    f.lockout.shutdown().await; // idempotent
    let t = Instant::now();
    let err = f.lockout.check("alice", a).await.unwrap_err();
    assert!(
        matches!(err, ActorError::Unavailable { actor: "lockout" }),
        "{err:?}"
    );
    assert!(f.lockout.record_failure("alice", a).await.is_err());
    assert!(f.lockout.record_success("alice", a).await.is_err());
    assert!(f.lockout.unlock("alice").await.is_err());
    assert!(f.lockout.ping().await.is_err());
    assert!(t.elapsed() < Duration::from_secs(1));
    f.rt.shutdown().await.unwrap();
}
