//! The audit actor: sinks, subscribers, the persisted log, retention, queries, secrets.

mod common;

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use common::{collecting_sink, eventually, names, quiet};
use warden_actors::{
    AuditConfig, AuditQuery, AuditSink, Clock, FnSink, ManualClock, Runtime, RuntimeConfig,
    SecurityEvent, SinkError, StoredEvent, REDACTED,
};

#[actix::test]
async fn every_sink_receives_every_event() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("audit/events.jsonl");
    let cfg = RuntimeConfig::builder()
        .audit(
            AuditConfig::default()
                .tracing_sink(true)
                .jsonl_path(Some(jsonl.clone())),
        )
        .build();
    let (a, seen_a) = collecting_sink("a");
    let (b, seen_b) = collecting_sink("b");
    let rt = Runtime::builder(cfg).sink(a).sink(b).start().unwrap();
    for name in [
        "auth.login.success",
        "auth.logout.success",
        "csrf.reject.missing",
    ] {
        rt.audit().emit(SecurityEvent::new(name).user_id("alice"));
    }
    eventually("both sinks saw 3", || {
        seen_a.lock().unwrap().len() == 3 && seen_b.lock().unwrap().len() == 3
    })
    .await;
    assert_eq!(
        names(&seen_a.lock().unwrap()),
        vec![
            "auth.login.success",
            "auth.logout.success",
            "csrf.reject.missing"
        ]
    );
    assert_eq!(
        seen_b
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    rt.shutdown().await.unwrap(); // drains and flushes the file sink
    let text = std::fs::read_to_string(&jsonl).unwrap();
    let lines: Vec<StoredEvent> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2].event.name, "csrf.reject.missing");
    assert_eq!(lines[0].event.user_id.as_deref(), Some("alice"));
}

struct Panicky;
impl AuditSink for Panicky {
    fn name(&self) -> &str {
        "panicky"
    }
    fn write(&mut self, _: &StoredEvent) -> Result<(), SinkError> {
        panic!("sink bug")
    }
}

struct Failing;
impl AuditSink for Failing {
    fn name(&self) -> &str {
        "failing"
    }
    fn write(&mut self, _: &StoredEvent) -> Result<(), SinkError> {
        Err(SinkError::Other("collector unreachable".into()))
    }
}

#[actix::test]
async fn a_panicking_failing_or_slow_sink_blocks_nobody() {
    let cfg = RuntimeConfig::builder()
        .audit(AuditConfig::default().tracing_sink(false).sink_queue(2))
        .build();
    let slow_calls = Arc::new(AtomicUsize::new(0));
    let sc = slow_calls.clone();
    let slow = FnSink::new("slow", move |_: &StoredEvent| {
        sc.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(200));
    });
    let (good, seen) = collecting_sink("good");
    // The good sink gets a queue of 2 too, so emit in small bursts it can keep up with.
    let rt = Runtime::builder(cfg)
        .sink(Panicky)
        .sink(Failing)
        .sink(slow)
        .sink(good)
        .start()
        .unwrap();
    let started = Instant::now();
    for i in 0..20 {
        rt.audit()
            .emit(SecurityEvent::new("auth.login.failure").detail("n", i));
        let want = i + 1;
        eventually("good sink keeps up", || seen.lock().unwrap().len() == want).await;
    }
    // Twenty events went through while the slow sink could only have taken a handful.
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(seen.lock().unwrap().len(), 20);
    // A must-log event is still acknowledged promptly.
    let t = Instant::now();
    rt.audit()
        .emit_durable(SecurityEvent::new("password.changed"))
        .await
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(1));
    // The failing sinks run on their own threads: wait until they have been offered all 21.
    let mut stats = rt.audit().stats().await.unwrap();
    let settled = |s: &warden_actors::AuditStats| {
        s.sinks
            .iter()
            .filter(|k| k.name == "panicky" || k.name == "failing")
            .all(|k| k.failed + k.dropped >= 21)
    };
    let started = Instant::now();
    while !settled(&stats) && started.elapsed() < Duration::from_secs(5) {
        actix_rt::time::sleep(Duration::from_millis(5)).await;
        stats = rt.audit().stats().await.unwrap();
    }
    let by = |n: &str| stats.sinks.iter().find(|s| s.name == n).unwrap().clone();
    let panicky = by("panicky");
    let failing = by("failing");
    let slow = by("slow");
    assert_eq!(panicky.delivered, 0);
    assert_eq!(failing.delivered, 0);
    assert!(panicky.failed + panicky.dropped >= 20, "{panicky:?}");
    assert!(failing.failed + failing.dropped >= 20, "{failing:?}");
    assert!(
        slow.dropped > 0,
        "the slow sink's full queue dropped events: {slow:?}"
    );
    assert!(slow_calls.load(Ordering::SeqCst) < 21);
    assert_eq!(by("good").dropped, 0);
}

#[actix::test]
async fn subscribers_receive_the_events_their_filter_selects() {
    let rt = Runtime::start(quiet()).unwrap();
    let mut csrf = rt.audit().subscribe(Some("csrf.reject.*")).await.unwrap();
    let mut all = rt.audit().subscribe(None).await.unwrap();
    rt.audit().emit(SecurityEvent::new("auth.login.success"));
    rt.audit().emit(SecurityEvent::new("csrf.reject.missing"));
    rt.audit().emit(SecurityEvent::new("csrf.reject.invalid"));
    assert_eq!(csrf.recv().await.unwrap().event.name, "csrf.reject.missing");
    assert_eq!(csrf.recv().await.unwrap().event.name, "csrf.reject.invalid");
    for want in [
        "auth.login.success",
        "csrf.reject.missing",
        "csrf.reject.invalid",
    ] {
        assert_eq!(all.recv().await.unwrap().event.name, want);
    }
    assert!(csrf.try_recv().is_none());
    assert_eq!(rt.audit().stats().await.unwrap().subscribers, 2);
    drop(csrf);
    rt.audit().emit(SecurityEvent::new("csrf.reject.origin"));
    assert_eq!(all.recv().await.unwrap().event.name, "csrf.reject.origin");
    assert_eq!(
        rt.audit().stats().await.unwrap().subscribers,
        1,
        "closed one removed"
    );
}

#[actix::test]
async fn a_slow_subscriber_is_dropped_and_counted_without_blocking_others() {
    let cfg = RuntimeConfig::builder()
        .audit(
            AuditConfig::default()
                .tracing_sink(false)
                .subscriber_queue(4),
        )
        .build();
    let rt = Runtime::start(cfg).unwrap();
    let mut slow = rt.audit().subscribe(None).await.unwrap();
    let mut fast = rt.audit().subscribe(None).await.unwrap();
    for i in 0..10 {
        rt.audit()
            .emit(SecurityEvent::new("ratelimit.blocked").detail("n", i));
        assert_eq!(fast.recv().await.unwrap().event.details["n"], i);
    }
    let stats = rt.audit().stats().await.unwrap();
    assert_eq!(stats.subscriber_drops, 1);
    assert_eq!(stats.subscribers, 1);
    // The slow one gets what was queued before it fell behind, then the end of the stream.
    let mut got = 0;
    while let Some(ev) = slow.recv().await {
        assert_eq!(ev.event.details["n"], got);
        got += 1;
    }
    assert_eq!(got, 4);
}

#[actix::test]
async fn the_log_survives_a_restart_and_ids_continue() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = || {
        RuntimeConfig::builder()
            .data_dir(dir.path())
            .audit(AuditConfig::default().tracing_sink(false))
            .build()
    };
    let rt = Runtime::start(cfg()).unwrap();
    rt.audit()
        .emit(SecurityEvent::new("session.created").user_id("alice"));
    let id = rt
        .audit()
        .emit_durable(SecurityEvent::new("auth.lockout.locked").user_id("alice"))
        .await
        .unwrap();
    assert_eq!(id, 2);
    rt.shutdown().await.unwrap();
    drop(rt);

    let rt = Runtime::start(cfg()).unwrap();
    let evs = rt.audit().query(AuditQuery::new()).await.unwrap();
    assert_eq!(names(&evs), vec!["session.created", "auth.lockout.locked"]);
    let next = rt
        .audit()
        .emit_durable(SecurityEvent::new("auth.login.success"))
        .await
        .unwrap();
    assert_eq!(next, 3);
    rt.shutdown().await.unwrap();
}

#[actix::test]
async fn retention_prunes_by_count_and_by_age() {
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let cfg = RuntimeConfig::builder()
        .audit(
            AuditConfig::default()
                .tracing_sink(false)
                .retention_max_count(5)
                .retention_max_age(Duration::from_secs(3600)),
        )
        .build();
    let rt = Runtime::builder(cfg).clock(clock.clone()).start().unwrap();
    for i in 0..8 {
        rt.audit()
            .emit_durable(SecurityEvent::new("auth.login.failure").detail("n", i))
            .await
            .unwrap();
    }
    assert_eq!(rt.audit().prune().await.unwrap(), 3);
    let left = rt.audit().query(AuditQuery::new()).await.unwrap();
    assert_eq!(
        left.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![4, 5, 6, 7, 8]
    );
    assert_eq!(rt.audit().stats().await.unwrap().log_len, 5);

    clock.advance(Duration::from_secs(3601));
    rt.audit()
        .emit_durable(SecurityEvent::new("auth.login.success"))
        .await
        .unwrap();
    assert_eq!(rt.audit().prune().await.unwrap(), 5);
    let left = rt.audit().query(AuditQuery::new()).await.unwrap();
    assert_eq!(names(&left), vec!["auth.login.success"]);
    assert_eq!(
        rt.audit().prune().await.unwrap(),
        0,
        "nothing more to prune"
    );
}

#[actix::test]
async fn queries_filter_by_time_name_user_id_and_limit() {
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let rt = Runtime::builder(quiet())
        .clock(clock.clone())
        .start()
        .unwrap();
    let t0 = clock.now_utc();
    let a = rt.audit();
    a.emit_durable(SecurityEvent::new("auth.login.success").user_id("alice"))
        .await
        .unwrap();
    clock.advance(Duration::from_secs(60));
    let t1 = clock.now_utc();
    a.emit_durable(SecurityEvent::new("auth.login.failure").user_id("bob"))
        .await
        .unwrap();
    a.emit_durable(SecurityEvent::new("csrf.reject.missing"))
        .await
        .unwrap();
    clock.advance(Duration::from_secs(60));
    let t2 = clock.now_utc();
    a.emit_durable(SecurityEvent::new("auth.logout.success").user_id("alice"))
        .await
        .unwrap();

    let q = |q: AuditQuery| {
        let audit = rt.audit().clone();
        async move { names(&audit.query(q).await.unwrap()) }
    };
    assert_eq!(q(AuditQuery::new().name_prefix("auth.")).await.len(), 3);
    assert_eq!(
        q(AuditQuery::new().name_prefix("csrf.*")).await,
        vec!["csrf.reject.missing"]
    );
    assert_eq!(
        q(AuditQuery::new().user_id("alice")).await,
        vec!["auth.login.success", "auth.logout.success"]
    );
    assert_eq!(
        q(AuditQuery::new().since(t1).until(t2)).await,
        vec!["auth.login.failure", "csrf.reject.missing"]
    );
    assert_eq!(
        q(AuditQuery::new().since(t0).until(t1)).await,
        vec!["auth.login.success"]
    );
    assert_eq!(
        q(AuditQuery::new().since(t2)).await,
        vec!["auth.logout.success"]
    );
    assert_eq!(
        q(AuditQuery::new().limit(2)).await,
        vec!["csrf.reject.missing", "auth.logout.success"]
    );
    assert_eq!(
        q(AuditQuery::new().after_id(1).limit(2)).await,
        vec!["auth.login.failure", "csrf.reject.missing"]
    );
    assert!(q(AuditQuery::new().user_id("mallory")).await.is_empty());
}

#[actix::test]
async fn secrets_and_injection_never_reach_the_log_or_sinks() {
    let (sink, seen) = collecting_sink("capture");
    let rt = Runtime::builder(quiet()).sink(sink).start().unwrap();
    let canary = "canary-6f1d2c9e";
    rt.audit()
        .emit_durable(
            SecurityEvent::new("auth.login.failure")
                .user_id("eve\n{\"name\":\"auth.login.success\"}")
                .path(format!("/reset?token={canary}"))
                .detail("password", canary)
                .detail("reset_token", canary)
                .detail("form", serde_json::json!({"csrf_token": canary})),
        )
        .await
        .unwrap();
    eventually("sink", || seen.lock().unwrap().len() == 1).await;
    let logged = rt.audit().query(AuditQuery::new()).await.unwrap();
    for ev in [&logged[0], &seen.lock().unwrap()[0]] {
        let line = ev.to_json_line();
        assert!(!line.contains(canary), "{line}");
        assert!(!line.contains('\n'));
        assert_eq!(ev.event.details["password"], REDACTED);
        assert_eq!(ev.event.path.as_deref(), Some("/reset"));
        assert_eq!(
            ev.event.user_id.as_deref(),
            Some("eve{\"name\":\"auth.login.success\"}")
        );
    }
}
