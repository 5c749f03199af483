//! Rate-limit decisions per second through the actor API (`RateLimitHandle::check`).
//!
//! ```text
//! cargo run --release --manifest-path bench/Cargo.toml --bin ratelimit [-- --quick]
//! ```
//!
//! Scenarios (system clock, a temporary sled store, default write-behind persistence):
//!
//! - `deny, from view`: one client network that is being refused: answered from the read view,
//!   no message;
//! - `allow, hot keys`: 256 keys under a policy that never refuses: one message per check, the
//!   key in memory;
//! - `allow, new keys`: every check a key never seen: one message, a store read (miss), and
//!   the state written behind;
//! - `attack, 10k clients`: 10 000 client networks hammering a 10 per 60 s policy: their first
//!   10 pass through the shards, everything after is refused, mostly from the view.
//!
//! Each client is a thread with its own actix runtime (like an HTTP worker) keeping `in flight`
//! checks outstanding. Numbers are wall-clock throughput for all clients together. Decisions do
//! not wait for the store: after each run the (untimed) wait for the write-behind thread to
//! store every changed key is shown separately, with the number of writes.

use std::{
    sync::{Arc, Barrier},
    time::{Duration, Instant},
};

use futures_util::stream::{self, StreamExt};
use warden_actors::{
    ratelimit::{start_ratelimit, RateLimitHandle, RateLimitPolicy, RateLimitSettings},
    store::{SledStore, Store},
    StoreConfig, SystemClock,
};

#[derive(Clone, Copy)]
enum Keys {
    /// The same key every time.
    One,
    /// `n` keys, round robin.
    Cycle(u64),
    /// A new key every time (unique per client and run).
    Fresh,
}

#[derive(Clone)]
struct Scenario {
    name: &'static str,
    policy: RateLimitPolicy,
    keys: Keys,
    /// Checks made before timing starts (e.g. to get a key refused).
    warmup: u64,
}

struct Row {
    name: &'static str,
    shards: usize,
    clients: usize,
    in_flight: usize,
    decisions: u64,
    allowed: u64,
    from_view: u64,
    elapsed: Duration,
    writes: u64,
    drain: Duration,
}

fn key(keys: Keys, run: u64, client: usize, i: u64) -> String {
    match keys {
        Keys::One => "203.0.113.7".to_owned(),
        Keys::Cycle(n) => format!("10.0.{}.{}", (i % n) / 256, (i % n) % 256),
        Keys::Fresh => format!("r{run}-c{client}-{i}"),
    }
}

/// One client's checks: `n` of them, `in_flight` outstanding at a time. Returns how many
/// were allowed.
async fn drive(
    limits: RateLimitHandle,
    s: Scenario,
    run: u64,
    client: usize,
    n: u64,
    in_flight: usize,
) -> u64 {
    let policy = Arc::new(s.policy);
    let fixed = key(s.keys, run, client, 0);
    stream::iter(0..n)
        .map(|i| {
            let limits = limits.clone();
            let policy = policy.clone();
            let k = match s.keys {
                Keys::One => fixed.clone(),
                keys => key(keys, run, client, i),
            };
            async move {
                let d = limits.check(&policy, k).await.expect("check");
                u64::from(d.is_allowed())
            }
        })
        .buffer_unordered(in_flight)
        .fold(0, |a, b| async move { a + b })
        .await
}

fn run_once(
    limits: &RateLimitHandle,
    s: &Scenario,
    run: u64,
    clients: usize,
    in_flight: usize,
    per_client: u64,
) -> (u64, Duration) {
    if s.warmup > 0 {
        let (l, w) = (limits.clone(), s.clone());
        std::thread::spawn(move || {
            actix_rt::System::new().block_on(drive(l, w.clone(), run, 0, w.warmup, 1))
        })
        .join()
        .expect("warm-up");
    }
    let barrier = Arc::new(Barrier::new(clients + 1));
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (l, sc, b) = (limits.clone(), s.clone(), barrier.clone());
            std::thread::spawn(move || {
                let sys = actix_rt::System::new();
                b.wait();
                sys.block_on(drive(l, sc, run, c, per_client, in_flight))
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let allowed = threads
        .into_iter()
        .map(|t| t.join().expect("client thread"))
        .sum();
    (allowed, start.elapsed())
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = if quick { 10 } else { 1 };
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());

    let never_refuse = RateLimitPolicy::new("bench", 1_000_000_000, Duration::from_secs(1));
    let scenarios = [
        (
            Scenario {
                name: "deny, from view",
                policy: RateLimitPolicy::new("blocked", 1, Duration::from_secs(3600)),
                keys: Keys::One,
                warmup: 2,
            },
            2_000_000 / scale,
        ),
        (
            Scenario {
                name: "allow, hot keys",
                policy: never_refuse,
                keys: Keys::Cycle(256),
                warmup: 256,
            },
            300_000 / scale,
        ),
        (
            Scenario {
                name: "allow, new keys",
                policy: RateLimitPolicy::new("login", 10, Duration::from_secs(60)),
                keys: Keys::Fresh,
                warmup: 0,
            },
            150_000 / scale,
        ),
        (
            Scenario {
                name: "attack, 10k clients",
                policy: RateLimitPolicy::new("login", 10, Duration::from_secs(60)),
                keys: Keys::Cycle(10_000),
                warmup: 0,
            },
            1_000_000 / scale,
        ),
    ];

    let mut rows = Vec::new();
    let mut run = 0;
    for shards in [1, 2] {
        for (clients, in_flight) in [(1, 64), (2, 64)] {
            actix_rt::System::new().block_on(async {
                let store: Arc<dyn Store> = Arc::new(
                    SledStore::temporary(&StoreConfig::default(), Arc::new(SystemClock))
                        .expect("temporary store"),
                );
                let settings = RateLimitSettings::default().shards(shards);
                let limits = start_ratelimit(
                    store,
                    Arc::new(SystemClock),
                    settings,
                    4096,
                    Duration::from_secs(10),
                );
                for (s, total) in &scenarios {
                    run += 1;
                    let per_client = total / clients as u64;
                    let before = limits.stats();
                    let (allowed, elapsed) =
                        run_once(&limits, s, run, clients, in_flight, per_client);
                    // Untimed: let the write-behind thread catch up before the next run.
                    let t = Instant::now();
                    limits.persist_now().await.expect("persist");
                    let drain = t.elapsed();
                    let after = limits.stats();
                    rows.push(Row {
                        name: s.name,
                        shards,
                        clients,
                        in_flight,
                        decisions: per_client * clients as u64,
                        allowed,
                        from_view: after.denied_from_view - before.denied_from_view,
                        elapsed,
                        writes: after.persisted - before.persisted,
                        drain,
                    });
                }
                limits.shutdown().await;
            });
        }
    }

    println!(
        "\nrate-limit decisions through RateLimitHandle::check ({cpus} CPUs, release build{})\n",
        if quick { ", --quick" } else { "" }
    );
    println!(
        "| scenario | shards | clients x in flight | decisions | allowed | refused from view | time (s) | decisions/s | ns/decision | store writes | write-behind drain (s) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let secs = r.elapsed.as_secs_f64();
        let rate = r.decisions as f64 / secs;
        println!(
            "| {} | {} | {} x {} | {} | {} | {} | {:.2} | {:.0} | {:.0} | {} | {:.2} |",
            r.name,
            r.shards,
            r.clients,
            r.in_flight,
            r.decisions,
            r.allowed,
            r.from_view,
            secs,
            rate,
            1e9 / rate,
            r.writes,
            r.drain.as_secs_f64(),
        );
    }
    println!(
        "\nTimes are wall-clock for all clients together; \"write-behind drain\" is the untimed wait \
         after each run until the writer thread has stored every changed key."
    );
}
