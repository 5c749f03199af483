//! `ratelimit.blocked`: recorded once per key per policy period, never a flood; the rest is
//! counted.

use std::time::{Duration, Instant};

use warden::{actors::StoredEvent, ratelimit::AuthRateLimitConfig};

use crate::{common, env, post, post_from, Env};

/// The persisted `ratelimit.` events once `n` are there (the audit actor writes them
/// asynchronously); at most 5 s.
async fn blocked_events(e: &Env, n: usize) -> Vec<StoredEvent> {
    let start = Instant::now();
    loop {
        let evs = common::events(&e.warden, "ratelimit.").await;
        if evs.len() >= n || start.elapsed() > Duration::from_secs(5) {
            return evs;
        }
        actix_rt::time::sleep(Duration::from_millis(10)).await;
    }
}

#[actix_web::test]
async fn a_thousand_refusals_make_one_event() {
    let e = env();
    let app = app!(e, AuthRateLimitConfig::default());
    for _ in 0..10 {
        send!(&app, post("/login"));
    }
    for _ in 0..1000 {
        assert_eq!(send!(&app, post("/login?next=/a")).status, 429);
    }
    let evs = blocked_events(&e, 1).await;
    assert_eq!(common::names(&evs), ["ratelimit.blocked"]);
    let ev = &evs[0].event;
    assert_eq!(ev.path.as_deref(), Some("/login"));
    assert_eq!(ev.method.as_deref(), Some("POST"));
    assert_eq!(
        ev.client_ip.map(|ip| ip.to_string()).as_deref(),
        Some(crate::PEER)
    );
    assert!(ev.request_id.is_some());
    assert_eq!(ev.details["policy"], "auth");
    assert_eq!(ev.details["key"], crate::PEER);
    assert_eq!(ev.details["retry_after_secs"], 6);

    let s = e.limits.stats();
    assert_eq!((s.denied, s.first_blocks), (1000, 1));
    assert!(
        s.denied_from_view >= 999,
        "refusals served without a message: {s:?}"
    );
    e.limits.shutdown().await;
}

#[actix_web::test]
async fn one_event_per_client_and_per_period() {
    let e = env();
    let app = app!(e, AuthRateLimitConfig::default());
    for peer in ["192.0.2.1", "192.0.2.2", "2001:db8:7:7::1"] {
        for _ in 0..50 {
            send!(&app, post_from("/login", peer));
        }
    }
    // Keep hammering for a whole period (one request gets through every 6 s).
    for _ in 0..59 {
        e.clock.advance(Duration::from_secs(1));
        for _ in 0..20 {
            send!(&app, post_from("/login", "192.0.2.1"));
        }
    }
    assert_eq!(blocked_events(&e, 3).await.len(), 3);
    // The next period opens with one more event for that client.
    e.clock.advance(Duration::from_secs(1));
    for _ in 0..20 {
        send!(&app, post_from("/login", "192.0.2.1"));
    }
    let evs = blocked_events(&e, 4).await;
    assert_eq!(evs.len(), 4);
    let keys: Vec<&str> = evs
        .iter()
        .map(|ev| ev.event.details["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["192.0.2.1", "192.0.2.2", "2001:db8:7:7::/64", "192.0.2.1"]
    );
    e.limits.shutdown().await;
}
