//! Attack volume: spike alerting (one `alert.spike` per threshold crossing, re-armed when the
//! count falls back, delivered to every sink, subscriber and the log) and floods (a million
//! rejections stay within retention, every one is accounted for, and no must-log event is
//! lost).

mod common;

use std::{net::IpAddr, sync::Arc, time::Duration, time::Instant};

use common::{collecting_sink, eventually};
use warden_actors::{
    is_must_log, AuditConfig, AuditQuery, ManualClock, Runtime, RuntimeConfig, SecurityEvent,
    StoredEvent, MAX_QUERY_LIMIT,
};

const START: u64 = 1_700_000_000_000;

fn spikes(cfg: AuditConfig) -> RuntimeConfig {
    RuntimeConfig::builder()
        .audit(cfg.tracing_sink(false))
        .build()
}

async fn alerts(rt: &Runtime) -> Vec<StoredEvent> {
    rt.audit()
        .query(
            AuditQuery::new()
                .name_prefix("alert.spike")
                .limit(MAX_QUERY_LIMIT),
        )
        .await
        .unwrap()
}

#[actix::test]
async fn a_spike_fires_once_per_crossing_reaches_everyone_and_rearms() {
    let clock = Arc::new(ManualClock::new(START));
    let (sink, seen) = collecting_sink("pager");
    let rt = Runtime::builder(spikes(AuditConfig::default()))
        .clock(clock.clone())
        .sink(sink)
        .start()
        .unwrap();
    let a = rt.audit();
    // The actor runs (its mailbox has its configured size from here on).
    a.ping().await.unwrap();
    let mut sub = a.subscribe(Some("alert.")).await.unwrap();
    let ip = |n: u8| IpAddr::from([192, 0, 2, n]);

    // 19 CSRF rejections (of two kinds, from several addresses): no alert yet.
    for i in 0..19u8 {
        let name = if i % 2 == 0 {
            "csrf.reject.missing"
        } else {
            "csrf.reject.invalid"
        };
        a.emit(SecurityEvent::new(name).client_ip(ip(i % 4)));
    }
    a.ping().await.unwrap();
    assert!(alerts(&rt).await.is_empty());
    // The 20th crosses the default threshold: one alert.
    a.emit(SecurityEvent::new("csrf.reject.origin").client_ip(ip(9)));
    let alert = sub.recv().await.unwrap();
    assert_eq!(alert.event.name, "alert.spike");
    assert_eq!(alert.event.details["kind"], "csrf.reject.*");
    assert_eq!(alert.event.details["count"], 20);
    assert_eq!(alert.event.details["window_secs"], 60);
    assert_eq!(alert.event.details["threshold"], 20);
    // The flood goes on within the window: no second alert.
    for i in 0..200u32 {
        a.emit(SecurityEvent::new("csrf.reject.missing").client_ip(ip((i % 200) as u8)));
        if i % 50 == 0 {
            clock.advance(Duration::from_secs(5));
        }
    }
    a.ping().await.unwrap();
    assert_eq!(alerts(&rt).await.len(), 1);
    // Another kind has its own window.
    for _ in 0..20 {
        a.emit(SecurityEvent::new("authz.permission.denied").user_id("mallory"));
    }
    let second = sub.recv().await.unwrap();
    assert_eq!(second.event.details["kind"], "authz.permission.denied");
    // Quiet for a window: the CSRF count falls back, the kind re-arms, the next crossing fires.
    clock.advance(Duration::from_secs(61));
    for _ in 0..19 {
        a.emit(SecurityEvent::new("csrf.reject.missing").client_ip(ip(1)));
    }
    a.ping().await.unwrap();
    assert_eq!(alerts(&rt).await.len(), 2);
    a.emit(SecurityEvent::new("csrf.reject.missing").client_ip(ip(1)));
    let third = sub.recv().await.unwrap();
    assert_eq!(third.event.details["kind"], "csrf.reject.*");
    assert_eq!(third.event.details["count"], 20);

    // Every alert reached the log, the subscriber and the sink, once each.
    let logged = alerts(&rt).await;
    assert_eq!(logged.len(), 3);
    assert!(sub.try_recv().is_none());
    eventually("the sink saw 3 alerts", || {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|e| e.event.name == "alert.spike")
            .count()
            == 3
    })
    .await;
    let stats = a.stats().await.unwrap();
    assert_eq!(stats.alerts, 3);
    let text = a.metrics_text().unwrap();
    assert!(text.contains("warden_audit_spike_alerts_total{kind=\"csrf.reject.*\"} 2"));
}

#[actix::test]
async fn suppressed_counts_of_throttled_events_count_toward_a_spike() {
    let clock = Arc::new(ManualClock::new(START));
    let rt = Runtime::builder(spikes(AuditConfig::default()))
        .clock(clock.clone())
        .start()
        .unwrap();
    let a = rt.audit();
    // The actor runs (its mailbox has its configured size from here on).
    a.ping().await.unwrap();
    let window = Duration::from_secs(10);
    // 30 invalid tokens in 10 s: only the first is recorded, the rest held back.
    for _ in 0..30 {
        a.emit_throttled(SecurityEvent::new("auth.token.invalid"), window);
    }
    a.ping().await.unwrap();
    assert!(alerts(&rt).await.is_empty());
    assert_eq!(a.stats().await.unwrap().suppressed, 29);
    // The next one carries suppressed = 29: 31 in the minute, over the threshold.
    clock.advance(window);
    a.emit_throttled(SecurityEvent::new("auth.token.invalid"), window);
    a.ping().await.unwrap();
    let got = alerts(&rt).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].event.details["kind"], "auth.token.invalid");
    assert_eq!(got[0].event.details["count"], 31);
}

#[actix::test]
async fn aggregated_summaries_count_toward_a_spike_and_kinds_are_configurable() {
    let clock = Arc::new(ManualClock::new(START));
    let cfg = AuditConfig::default()
        .spike_kinds(["host.rejected", "session.cookie.*"])
        .spike_threshold(50)
        .spike_window(Duration::from_secs(300))
        .aggregate_burst(10);
    let rt = Runtime::builder(spikes(cfg))
        .clock(clock.clone())
        .start()
        .unwrap();
    let a = rt.audit();
    // The actor runs (its mailbox has its configured size from here on).
    a.ping().await.unwrap();
    // Not watched any more.
    for _ in 0..100 {
        a.emit(SecurityEvent::new("csrf.reject.missing"));
    }
    // 10 recorded, 40 held back: the held-back ones count toward the spike when the actor
    // collects them (every second, or now), not only when the window's summary is recorded.
    for _ in 0..50 {
        a.emit(SecurityEvent::new("host.rejected"));
    }
    a.ping().await.unwrap();
    assert!(alerts(&rt).await.is_empty());
    clock.advance(Duration::from_secs(61));
    a.flush_aggregates().await.unwrap();
    let got = alerts(&rt).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].event.details["kind"], "host.rejected");
    assert_eq!(got[0].event.details["count"], 50);
    assert_eq!(got[0].event.details["window_secs"], 300);
}

#[actix::test]
async fn a_flood_of_a_million_rejections_stays_within_retention_and_keeps_every_must_log_event() {
    const N: u64 = 1_000_000;
    const WINDOWS: u64 = 10;
    const MAX_COUNT: u64 = 20_000;
    let clock = Arc::new(ManualClock::new(START));
    let cfg = RuntimeConfig::builder()
        .mailbox_capacity(64)
        .audit(
            AuditConfig::default()
                .tracing_sink(false)
                .retention_max_count(MAX_COUNT),
        )
        .build();
    let rt = Runtime::builder(cfg).clock(clock.clone()).start().unwrap();
    let a = rt.audit();
    a.ping().await.unwrap();
    let names = [
        "csrf.reject.missing",
        "authz.permission.denied",
        "ratelimit.blocked",
    ];
    let mut must = Vec::new();
    let started = Instant::now();
    for i in 0..N {
        // 1,000 attacking addresses, three kinds of rejection.
        let ip = IpAddr::from([203, 0, (i % 1000 / 250) as u8, (i % 250) as u8]);
        a.emit(
            SecurityEvent::new(names[(i % 3) as usize])
                .client_ip(ip)
                .path("/login"),
        );
        // Logins and logouts keep happening during the attack.
        if i % 10_000 == 0 {
            let user = format!("user{i}");
            let name = if i % 20_000 == 0 {
                "auth.login.success"
            } else {
                "auth.logout.success"
            };
            a.emit(SecurityEvent::new(name).user_id(&user));
            must.push(user);
        }
        if i % (N / WINDOWS) == N / WINDOWS - 1 {
            clock.advance(Duration::from_secs(61));
        }
    }
    let emitting = started.elapsed();
    // The last windows are closed; everything queued is handled.
    a.flush_aggregates().await.unwrap();
    let stats = a.stats().await.unwrap();
    assert!(
        stats.log_len <= MAX_COUNT,
        "the log stays within retention: {}",
        stats.log_len
    );

    let mut all = Vec::new();
    a.export_jsonl(AuditQuery::new(), &mut all).await.unwrap();
    let all: Vec<StoredEvent> = String::from_utf8(all)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(all.len() as u64, stats.log_len);

    // Every must-log event is there, in the order emitted.
    let logged_users: Vec<String> = all
        .iter()
        .filter(|e| e.event.name.starts_with("auth."))
        .filter_map(|e| e.event.user_id.clone())
        .collect();
    assert_eq!(logged_users, must);

    // The rejections produced a bounded number of records: per name and window at most the
    // name budget (500) plus one summary.
    let rejections: Vec<&StoredEvent> = all
        .iter()
        .filter(|e| names.contains(&e.event.name.as_str()))
        .collect();
    let bound = names.len() as u64 * WINDOWS * (500 + 1);
    assert!(
        (rejections.len() as u64) <= bound,
        "{} records for {N} rejections",
        rejections.len()
    );
    // And every rejection is accounted for: recorded, counted in a summary, or counted as
    // dropped at the full mailbox.
    let recorded = rejections
        .iter()
        .filter(|e| e.event.details.get("aggregated").is_none())
        .count() as u64;
    let summarised: u64 = rejections
        .iter()
        .filter_map(|e| e.event.details.get("suppressed").and_then(|v| v.as_u64()))
        .sum();
    assert_eq!(recorded + summarised + stats.dropped, N, "{stats:?}");
    assert_eq!(stats.suppressed, summarised);

    // Spikes: once per kind per crossing, never per event. Each window of the manual clock is
    // a new crossing; held-back counts collected after the last advance may add one more.
    let alerts = all.iter().filter(|e| e.event.name == "alert.spike").count() as u64;
    assert!(alerts >= names.len() as u64, "{alerts}");
    assert!(alerts <= names.len() as u64 * (WINDOWS + 1), "{alerts}");
    assert!(all.iter().filter(|e| is_must_log(&e.event.name)).all(|e| e
        .event
        .details
        .get("aggregated")
        .is_none()));
    eprintln!(
        "flood: {N} emits in {emitting:?}; {} records, {} dropped, {} suppressed, {alerts} alerts",
        all.len(),
        stats.dropped,
        stats.suppressed
    );
}
