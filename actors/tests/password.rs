//! The argon2id password pool: PHC strings, verification, rehash, policy, dummy verification,
//! the OWASP floor, fail-fast `Busy`, and that hashing stays off the caller's async thread.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use futures_util::future::join_all;
use warden_actors::password::{
    Password, PasswordError, PasswordParams, PasswordPolicyError, PasswordPool, Verification,
};

const PW: &str = "correct horse battery staple";
#[rustfmt::skip]
const VALID: Verification = Verification { valid: true, needs_rehash: false };
#[rustfmt::skip]
const VALID_REHASH: Verification = Verification { valid: true, needs_rehash: true };

fn cheap() -> PasswordParams {
    PasswordParams::insecure_for_tests()
}

fn pool(params: PasswordParams) -> PasswordPool {
    PasswordPool::start(params, 2, 64).unwrap()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test]
async fn hash_then_verify() {
    let pool = pool(cheap());
    let phc = pool.hash(PW).await.unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
    assert_eq!(pool.verify(PW, &phc).await.unwrap(), VALID);
    assert_eq!(
        pool.verify("correct horse battery stapl", &phc)
            .await
            .unwrap(),
        Verification::INVALID
    );
    assert!(!pool.verify("", &phc).await.unwrap().valid);
    assert!(!pool.needs_rehash(&phc));
    assert!(pool.stats().completed >= 4, "{:?}", pool.stats());
}

#[tokio::test]
async fn two_hashes_of_one_password_differ_and_both_verify() {
    let pool = pool(cheap());
    let (a, b) = (pool.hash(PW).await.unwrap(), pool.hash(PW).await.unwrap());
    assert_ne!(a, b);
    // 16-byte salt: 22 unpadded base64 characters; 32-byte output: 43.
    let parts: Vec<&str> = a.split('$').collect();
    assert_eq!(parts.len(), 6, "{a}");
    assert_eq!(parts[4].len(), 22, "{a}");
    assert_eq!(parts[5].len(), 43, "{a}");
    assert!(pool.verify(PW, &a).await.unwrap().valid);
    assert!(pool.verify(PW, &b).await.unwrap().valid);
}

#[tokio::test]
async fn default_params_are_the_owasp_floor() {
    // The only test at real cost (~15-50 ms per hash in an optimised argon2).
    let params = PasswordParams::default();
    assert_eq!(
        (params.memory_kib, params.iterations, params.parallelism),
        (19456, 2, 1)
    );
    assert_eq!((params.min_len, params.max_len), (8, 1024));
    let pool = PasswordPool::start(params, 1, 4).unwrap();
    let phc = pool.hash(PW).await.unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    assert!(pool.verify(PW, &phc).await.unwrap().valid);
}

#[tokio::test]
async fn changed_params_need_a_rehash_after_a_valid_login() {
    let p1 = pool(cheap());
    let p2 = pool(cheap().memory_kib(128));
    let p3 = pool(cheap().iterations(2));
    let phc = p1.hash(PW).await.unwrap();

    for newer in [&p2, &p3] {
        assert_eq!(newer.verify(PW, &phc).await.unwrap(), VALID_REHASH);
        assert!(newer.needs_rehash(&phc));
        // A wrong password never asks for a rehash.
        assert_eq!(
            newer.verify("wrong password", &phc).await.unwrap(),
            Verification::INVALID
        );
    }
    // Weaker than the pool's is also "different".
    let stronger = p2.hash(PW).await.unwrap();
    assert!(p1.verify(PW, &stronger).await.unwrap().needs_rehash);
    // Same parameters: no rehash.
    assert!(!p1.needs_rehash(&phc));
    assert!(!pool(cheap()).verify(PW, &phc).await.unwrap().needs_rehash);
    // Malformed strings need one (they can never verify).
    assert!(p1.needs_rehash("garbage"));
}

#[tokio::test]
async fn malformed_stored_hashes_are_invalid_not_errors() {
    let pool = pool(cheap());
    let good = pool.hash(PW).await.unwrap();
    let argon2i = good.replacen("$argon2id$", "$argon2i$", 1);
    let argon2d = good.replacen("$argon2id$", "$argon2d$", 1);
    let huge = format!("{good}{}", "A".repeat(1 << 20));
    let huge_cost = good.replacen("m=64,t=1,p=1", "m=4194304,t=1,p=1", 1);
    let many_passes = good.replacen("m=64,t=1,p=1", "m=64,t=4000000000,p=1", 1);
    let bad_version = good.replacen("v=19", "v=99", 1);
    let salt_and_hash = good.rsplitn(3, '$').collect::<Vec<_>>();
    let no_hash = good[..good.len() - salt_and_hash[0].len() - 1].to_string();
    let cases: Vec<String> = vec![
        String::new(),
        "garbage".into(),
        "$".into(),
        "$$$$$$$$".into(),
        "$argon2id$".into(),
        "$argon2id$v=19$m=64,t=1,p=1$".into(),
        good[..good.len() / 2].to_string(),
        good[..good.len() - 1].to_string(),
        format!("{good}$extra"),
        no_hash,
        argon2i,
        argon2d,
        "$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$Ix1fpfAGmbXQfv3KWtWl7A".into(),
        "$scrypt$ln=15,r=8,p=1$c29tZXNhbHQ$c29tZWhhc2hzb21laGFzaA".into(),
        "$argon2id$v=19$m=0,t=0,p=0$c29tZXNhbHQ$Ix1fpfAGmbXQfv3KWtWl7A".into(),
        "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$Ix1fpfAGmbXQfv3KWtWl7A".into(),
        "$argon2id$v=19$m=64,t=1,p=1,x=3$c29tZXNhbHQ$Ix1fpfAGmbXQfv3KWtWl7A".into(),
        "$argon2id$v=19$m=-1,t=1,p=1$c29tZXNhbHQ$Ix1fpfAGmbXQfv3KWtWl7A".into(),
        "$argon2id$v=19$m=99999999999,t=1,p=1$c29tZXNhbHQ$Ix1fpfAGmbXQfv3KWtWl7A".into(),
        "$argon2id$v=19$m=64,t=1,p=1$!!!!$????".into(),
        "\u{0}\u{feff}$argon2id$ünïcödé".into(),
        bad_version,
        huge,
        huge_cost,
        many_passes,
    ];
    for phc in &cases {
        let started = Instant::now();
        let outcome = pool.verify(PW, phc).await.unwrap();
        assert_eq!(outcome, Verification::INVALID, "{:.80}", phc);
        assert!(pool.needs_rehash(phc), "{:.80}", phc);
        assert!(started.elapsed() < Duration::from_secs(2), "{:.80}", phc);
    }
    // The pool is still healthy afterwards.
    assert!(pool.verify(PW, &good).await.unwrap().valid);
}

#[tokio::test]
async fn length_policy() {
    let pool = pool(cheap());
    let at = |n: usize| "x".repeat(n);
    assert_eq!(
        pool.check_policy(&at(7)),
        Err(PasswordPolicyError::TooShort { min_len: 8 })
    );
    assert_eq!(pool.check_policy(&at(8)), Ok(()));
    assert_eq!(pool.check_policy(&at(1024)), Ok(()));
    assert_eq!(
        pool.check_policy(&at(1025)),
        Err(PasswordPolicyError::TooLong { max_len: 1024 })
    );
    // Bytes, not characters: 4 × "é" is 8 bytes.
    assert_eq!(pool.check_policy("éééé"), Ok(()));

    assert!(matches!(
        pool.hash(&at(7)).await,
        Err(PasswordError::Policy(PasswordPolicyError::TooShort { .. }))
    ));
    assert!(pool.hash(&at(8)).await.is_ok());
    let long = pool.hash(&at(1024)).await.unwrap();
    assert!(pool.verify(&at(1024), &long).await.unwrap().valid);
    assert_eq!(
        pool.hash(&at(1025)).await,
        Err(PasswordError::Policy(PasswordPolicyError::TooLong {
            max_len: 1024
        }))
    );

    // Verification does not apply the minimum (older passwords) but refuses over-long input at
    // once, without argon2 work.
    let done = pool.stats().completed;
    let huge = at(1 << 20);
    let started = Instant::now();
    assert_eq!(
        pool.verify(&huge, &long).await.unwrap(),
        Verification::INVALID
    );
    pool.verify_dummy(&huge).await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(50));
    assert_eq!(pool.stats().completed, done);
}

#[tokio::test]
async fn verify_dummy_and_malformed_hashes_cost_about_as_much_as_a_real_verify() {
    // Cheap, but enough work (12 MiB, t=1: ~4 ms) that neither thread wake-ups nor a scheduler
    // time slice on a loaded machine dominates.
    let pool = PasswordPool::start(cheap().memory_kib(12_288), 1, 8).unwrap();
    let phc = pool.hash(PW).await.unwrap();
    // Medians of 31 interleaved runs each. A machine saturated by other work can skew one
    // round, so up to 3 rounds are measured; skipping the argon2 work would be ~20× faster.
    let mut rounds = Vec::new();
    for _ in 0..3 {
        let mut times: [Vec<Duration>; 3] = Default::default();
        for _ in 0..31 {
            let started = Instant::now();
            assert!(!pool.verify("wrong password", &phc).await.unwrap().valid);
            times[0].push(started.elapsed());
            let started = Instant::now();
            pool.verify_dummy("wrong password").await.unwrap();
            times[1].push(started.elapsed());
            let started = Instant::now();
            assert!(!pool.verify("wrong password", "").await.unwrap().valid);
            times[2].push(started.elapsed());
        }
        let [real, dummy, malformed] = times.map(median);
        let ratios = [dummy, malformed].map(|t| t.as_secs_f64() / real.as_secs_f64());
        rounds.push(format!(
            "real {real:?}, dummy {dummy:?}, malformed {malformed:?}"
        ));
        if ratios.iter().all(|r| (0.5..=2.0).contains(r)) {
            return;
        }
    }
    panic!("verify, verify_dummy and a malformed hash take different times: {rounds:?}");
}

#[tokio::test]
async fn sub_floor_params_are_refused_unless_explicitly_insecure() {
    let floor = PasswordParams::default();
    assert!(floor.validate().is_ok());
    // OWASP's equivalent pairs pass too.
    assert!(floor
        .clone()
        .memory_kib(47_104)
        .iterations(1)
        .validate()
        .is_ok());
    assert!(floor
        .clone()
        .memory_kib(7_168)
        .iterations(5)
        .validate()
        .is_ok());

    let sub_floor = [
        floor.clone().memory_kib(64).iterations(1),
        floor.clone().memory_kib(19_455),
        floor.clone().iterations(1),
        floor.clone().memory_kib(7_168).iterations(4),
        floor.clone().min_len(4),
    ];
    for params in sub_floor {
        assert!(
            matches!(params.validate(), Err(PasswordError::InsecureParams { .. })),
            "{params:?}"
        );
        assert!(
            matches!(
                PasswordPool::start(params.clone(), 1, 1),
                Err(PasswordError::InsecureParams { .. })
            ),
            "{params:?}"
        );
    }
    // Invalid whatever the flag.
    for params in [
        cheap().parallelism(0),
        cheap().iterations(0),
        cheap().memory_kib(8).parallelism(2),
        cheap().min_len(10).max_len(9),
        cheap().max_len(0),
    ] {
        assert!(params.validate().is_err(), "{params:?}");
        assert!(PasswordPool::start(params, 1, 1).is_err());
    }
    // The flag cannot come from configuration.
    let from_config: PasswordParams =
        serde_json::from_str(r#"{"memory_kib": 64, "iterations": 1}"#).unwrap();
    assert!(!from_config.is_insecure_for_tests());
    assert!(from_config.validate().is_err());
    assert!(cheap().validate().is_ok());
    assert!(cheap().is_insecure_for_tests());
}

#[tokio::test]
async fn a_full_queue_fails_fast_with_busy() {
    // Above the floor and slow enough (~40-100 ms a hash) to keep one thread busy.
    let slow = PasswordParams::default().memory_kib(65_536).iterations(3);
    let pool = PasswordPool::start(slow, 1, 1).unwrap();
    let calls = (0..20).map(|_| {
        let pool = pool.clone();
        async move {
            let started = Instant::now();
            let outcome = pool.hash(PW).await;
            (outcome, started.elapsed())
        }
    });
    let outcomes = join_all(calls).await;
    let busy: Vec<Duration> = outcomes
        .iter()
        .filter(|(o, _)| matches!(o, Err(PasswordError::Busy)))
        .map(|(_, t)| *t)
        .collect();
    let done: Vec<Duration> = outcomes
        .iter()
        .filter(|(o, _)| o.is_ok())
        .map(|(_, t)| *t)
        .collect();
    assert_eq!(busy.len() + done.len(), 20, "{outcomes:?}");
    assert!(!busy.is_empty() && !done.is_empty());
    assert!(
        done.len() <= 2,
        "1 running + 1 queued at most: {}",
        done.len()
    );
    let (busy_max, done_max) = (busy.iter().max().unwrap(), done.iter().max().unwrap());
    assert!(*busy_max < Duration::from_millis(50), "{busy_max:?}");
    assert!(done_max > busy_max, "{done_max:?}");
    let stats = pool.stats();
    assert_eq!(stats.rejected_busy, busy.len() as u64);
    assert_eq!((stats.threads, stats.queue_capacity), (1, 1));
}

#[tokio::test]
async fn hashing_does_not_block_the_callers_async_thread() {
    // A current-thread runtime: if hashing ran here, the ticker could not tick meanwhile.
    let pool = PasswordPool::start(cheap().memory_kib(16_384).iterations(2), 1, 16).unwrap();
    let ticks = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let ticker = tokio::spawn({
        let (ticks, stop) = (Arc::clone(&ticks), Arc::clone(&stop));
        async move {
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(1)).await;
                ticks.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let started = Instant::now();
    let hashes = join_all((0..8).map(|_| pool.hash(PW))).await;
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    ticker.await.unwrap();
    assert!(hashes.iter().all(Result::is_ok));
    let ticks = ticks.load(Ordering::Relaxed);
    // Blocking hashes would leave the ticker (almost) no turn until all 8 are done; running on
    // the pool it ticks about every 1-2 ms (≈ 45 times here, ~10 is a loaded machine's floor).
    assert!(ticks >= 10, "{ticks} ticks in {elapsed:?}");
}

#[tokio::test]
async fn dropping_the_last_handle_stops_the_pool_and_clones_share_it() {
    let pool = pool(cheap());
    let clone = pool.clone();
    let phc = clone.hash(PW).await.unwrap();
    drop(clone);
    assert!(pool.verify(PW, &phc).await.unwrap().valid);
    assert_eq!(pool.stats().completed, 2);
    drop(pool); // No hang, no panic; the threads exit once the queue is drained.
}

#[test]
fn secrets_are_never_printed() {
    let pw = Password::new(PW);
    assert_eq!(format!("{pw:?}"), "Password(<redacted>)");
    assert_eq!(pw.len(), PW.len());
    let pool = PasswordPool::start(cheap(), 1, 1).unwrap();
    let debug = format!("{pool:?}");
    assert!(debug.starts_with("PasswordPool") && !debug.contains(PW));
    let err = PasswordError::Policy(PasswordPolicyError::TooLong { max_len: 1024 });
    assert_eq!(err.to_string(), "password must be at most 1024 bytes long");
}

#[test]
fn the_futures_run_on_any_executor_and_are_send() {
    // `start` is synchronous; the futures run on actix's runtime as well as on spawned tasks.
    let pool = PasswordPool::start(cheap(), 1, 4).unwrap();
    actix_rt::System::new().block_on(async move {
        let phc = pool.hash(PW).await.unwrap();
        assert!(pool.verify(PW, &phc).await.unwrap().valid);
        let spawned = tokio::spawn(async move { pool.verify(PW, &phc).await });
        assert!(spawned.await.unwrap().unwrap().valid);
    });
}
