//! The audit actor: sinks, subscribers, the persisted log, retention, queries, secrets;
//! must-log events on a full mailbox, aggregation of repeated rejections, the Prometheus
//! metrics, export as JSON lines, hostile values.

mod common;

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use common::{collecting_sink, eventually, names, quiet};
use warden_actors::{
    export_jsonl, is_must_log, AuditConfig, AuditQuery, AuditSink, Clock, FnSink, ManualClock,
    Runtime, RuntimeConfig, SecurityEvent, SinkError, StoredEvent, MAX_FIELD_CHARS, MUST_LOG,
    MUST_LOG_QUEUE_LIMIT, REDACTED,
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
        .audit(
            AuditConfig::default()
                .tracing_sink(false)
                .sink_queue(2)
                // 20 login failures would raise an alert.spike: not what this test counts.
                .spike_threshold(0),
        )
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
    // The actor runs (its mailbox has its configured size from here on).
    a.ping().await.unwrap();
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

// Must-log events ---------------------------------------------------------------------------

/// A runtime with a tiny mailbox, for overflow tests.
fn small_mailbox(cap: usize) -> RuntimeConfig {
    RuntimeConfig::builder()
        .mailbox_capacity(cap)
        .ask_timeout(Duration::from_secs(5))
        .audit(
            AuditConfig::default()
                .tracing_sink(false)
                .spike_threshold(0),
        )
        .build()
}

#[actix::test]
async fn must_log_events_are_never_dropped_by_a_full_mailbox() {
    let rt = Runtime::start(small_mailbox(4)).unwrap();
    let a = rt.audit();
    // The actor runs (its mailbox has its configured size from here on).
    a.ping().await.unwrap();
    // The actor is stuck; ordinary events overflow its mailbox and are dropped.
    a.freeze_for_tests(Duration::from_millis(300));
    for i in 0..50 {
        a.emit(SecurityEvent::new("session.created").detail("n", i));
    }
    assert!(a.dropped() > 0, "the full mailbox dropped ordinary events");
    let dropped = a.dropped();
    // Every must-log name, through the fire-and-forget path, while the mailbox is full.
    for name in MUST_LOG {
        a.emit(SecurityEvent::new(name).user_id("alice"));
    }
    // And through emit_must, which waits for the durable write (after the freeze).
    let t = Instant::now();
    let id = a
        .emit_must(SecurityEvent::new("password.changed").user_id("bob"))
        .await
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(3));
    assert_eq!(a.dropped(), dropped, "no must-log event was dropped");
    let logged = a
        .query(AuditQuery::new().limit(1000))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| is_must_log(&e.event.name))
        .collect::<Vec<_>>();
    let mut want: Vec<String> = MUST_LOG.iter().map(|s| (*s).to_owned()).collect();
    want.push("password.changed".into());
    assert_eq!(names(&logged), want);
    assert_eq!(logged.last().unwrap().id, id);
    assert_eq!(logged.last().unwrap().event.user_id.as_deref(), Some("bob"));
    let stats = a.stats().await.unwrap();
    assert_eq!(stats.mailbox_depth, 0, "every queued message was handled");
}

#[actix::test]
async fn must_log_events_beyond_the_memory_bound_are_refused_and_counted() {
    let cfg = RuntimeConfig::builder()
        .mailbox_capacity(16)
        .ask_timeout(Duration::from_secs(10))
        .audit(
            AuditConfig::default()
                .tracing_sink(false)
                .persist(false)
                .spike_threshold(0),
        )
        .build();
    let rt = Runtime::start(cfg).unwrap();
    let a = rt.audit();
    a.ping().await.unwrap();
    a.freeze_for_tests(Duration::from_secs(3));
    let depth = || {
        metric(
            &a.metrics_text().unwrap(),
            "warden_audit_mailbox_depth",
            &[],
        )
    };
    eventually("the actor took the freeze", || depth() == 0.0).await;
    let limit = usize::try_from(MUST_LOG_QUEUE_LIMIT).unwrap();
    for _ in 0..limit + 10 {
        a.emit(SecurityEvent::new("password.reset.requested"));
    }
    assert_eq!(a.dropped(), 10, "beyond the bound, refused and counted");
    let err = a
        .emit_must(SecurityEvent::new("password.changed"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, warden_actors::ActorError::Overloaded { .. }),
        "{err:?}"
    );
    let text = a.metrics_text().unwrap();
    assert_eq!(
        metric(
            &text,
            "warden_audit_dropped_events_total",
            &[("reason", "overloaded")]
        ),
        11.0
    );
    // Everything below the bound is handled once the actor is free again.
    let stats = a.stats().await.unwrap();
    assert_eq!(stats.mailbox_depth, 0);
    let text = a.metrics_text().unwrap();
    assert_eq!(
        metric(
            &text,
            "warden_audit_events_total",
            &[("name", "password.reset.requested")]
        ),
        limit as f64
    );
}

#[actix::test]
async fn asking_on_a_full_mailbox_neither_hangs_nor_fails() {
    // The handle's own sender gets parked by an overflowing emit; asks must still get through
    // (they use a fresh sender) and answer once the actor is free again.
    let rt = Runtime::start(small_mailbox(2)).unwrap();
    let a = rt.audit();
    // The actor runs (its mailbox has its configured size from here on).
    a.ping().await.unwrap();
    a.freeze_for_tests(Duration::from_millis(200));
    for _ in 0..20 {
        a.emit(SecurityEvent::new("session.created"));
    }
    let t = Instant::now();
    let (q, d) = futures_util::join!(
        a.query(AuditQuery::new()),
        a.emit_durable(SecurityEvent::new("auth.lockout.locked"))
    );
    q.unwrap();
    d.unwrap();
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}

// Aggregation -------------------------------------------------------------------------------

#[actix::test]
async fn repeated_rejections_are_aggregated_per_address_and_every_one_is_accounted_for() {
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let cfg = RuntimeConfig::builder()
        .audit(
            AuditConfig::default()
                .tracing_sink(false)
                .spike_threshold(0)
                .aggregate_burst(5)
                .aggregate_name_budget(8),
        )
        .build();
    let (sink, seen) = collecting_sink("capture");
    let rt = Runtime::builder(cfg)
        .clock(clock.clone())
        .sink(sink)
        .start()
        .unwrap();
    let a = rt.audit();
    // The actor runs (its mailbox has its configured size from here on).
    a.ping().await.unwrap();
    let ip = |n: u8| IpAddr::from([198, 51, 100, n]);
    for _ in 0..100 {
        a.emit(
            SecurityEvent::new("csrf.reject.missing")
                .client_ip(ip(1))
                .path("/transfer"),
        );
    }
    for _ in 0..10 {
        a.emit(
            SecurityEvent::new("csrf.reject.missing")
                .client_ip(ip(2))
                .path("/other"),
        );
    }
    // Other names are not aggregated.
    for _ in 0..30 {
        a.emit(SecurityEvent::new("session.created").client_ip(ip(1)));
    }
    assert_eq!(a.flush_aggregates().await.unwrap(), 0, "window still open");
    clock.advance(Duration::from_secs(61));
    assert_eq!(a.flush_aggregates().await.unwrap(), 1);
    let csrf = a
        .query(AuditQuery::new().name_prefix("csrf.").limit(1000))
        .await
        .unwrap();
    // 5 from the first address, 3 from the second (the name's budget of 8), one summary.
    assert_eq!(csrf.len(), 9, "{csrf:#?}");
    let summary = csrf.last().unwrap();
    assert_eq!(summary.event.details["aggregated"], true);
    assert_eq!(summary.event.details["suppressed"], 102);
    assert_eq!(summary.event.details["addresses"], 2);
    assert_eq!(summary.event.details["top"]["198.51.100.1"], 95);
    assert_eq!(summary.event.details["top"]["198.51.100.2"], 7);
    assert_eq!(summary.event.details["window_secs"], 60);
    // The context of the last one held back.
    assert_eq!(summary.event.path.as_deref(), Some("/other"));
    let individual = csrf.len() as u64 - 1;
    assert_eq!(individual + 102, 110, "every rejection is accounted for");
    assert_eq!(
        a.query(AuditQuery::new().name_prefix("session."))
            .await
            .unwrap()
            .len(),
        30
    );
    let stats = a.stats().await.unwrap();
    assert_eq!(stats.suppressed, 102);
    eventually("the summary reached the sink", || {
        seen.lock()
            .unwrap()
            .iter()
            .any(|e| e.event.details.get("aggregated").is_some())
    })
    .await;
    // A new window records one by one again.
    a.emit(SecurityEvent::new("csrf.reject.missing").client_ip(ip(1)));
    let n = a
        .query(AuditQuery::new().name_prefix("csrf."))
        .await
        .unwrap()
        .len();
    assert_eq!(n, 10);
}

#[actix::test]
async fn held_back_counts_are_recorded_at_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = || {
        RuntimeConfig::builder()
            .data_dir(dir.path())
            .audit(
                AuditConfig::default()
                    .tracing_sink(false)
                    .aggregate_burst(1),
            )
            .build()
    };
    let rt = Runtime::start(cfg()).unwrap();
    for _ in 0..10 {
        rt.audit().emit(SecurityEvent::new("ratelimit.blocked"));
    }
    rt.shutdown().await.unwrap();
    drop(rt);
    let rt = Runtime::start(cfg()).unwrap();
    let evs = rt.audit().query(AuditQuery::new()).await.unwrap();
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[1].event.details["suppressed"], 9);
    rt.shutdown().await.unwrap();
}

// Metrics -----------------------------------------------------------------------------------

/// Parses Prometheus text: every sample line must be `name{labels} value`; answers
/// "name{labels}" → value.
fn parse_metrics(text: &str) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.rsplit_once(' ').expect("sample line");
        let value: f64 = value.parse().expect("numeric value");
        assert!(
            key.chars().next().unwrap().is_ascii_alphabetic(),
            "metric name: {line}"
        );
        if let Some(open) = key.find('{') {
            assert!(key.ends_with('}'), "labels closed: {line}");
            assert!(key[open..].contains("=\""), "labels quoted: {line}");
        }
        assert!(out.insert(key.to_owned(), value).is_none(), "dup: {line}");
    }
    out
}

/// One sample of `text`: `name` with these labels (in registration order).
fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let key = if labels.is_empty() {
        name.to_owned()
    } else {
        let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        format!("{name}{{{}}}", l.join(","))
    };
    *parse_metrics(text)
        .get(&key)
        .unwrap_or_else(|| panic!("no sample {key} in\n{text}"))
}

#[actix::test]
async fn metrics_text_parses_and_counts() {
    let cfg = RuntimeConfig::builder()
        .audit(AuditConfig::default().tracing_sink(false).sink_queue(1))
        .build();
    let rt = Runtime::builder(cfg)
        .sink(Failing)
        .sink(FnSink::new("slow", |_: &StoredEvent| {
            std::thread::sleep(Duration::from_millis(50))
        }))
        .start()
        .unwrap();
    let a = rt.audit();
    // The actor runs (its mailbox has its configured size from here on).
    a.ping().await.unwrap();
    for _ in 0..3 {
        a.emit(SecurityEvent::new("auth.login.success"));
    }
    a.emit(SecurityEvent::new("csrf.reject.missing"));
    a.emit_throttled(
        SecurityEvent::new("auth.token.invalid"),
        Duration::from_secs(10),
    );
    a.emit_throttled(
        SecurityEvent::new("auth.token.invalid"),
        Duration::from_secs(10),
    );
    let mut sub = a.subscribe(None).await.unwrap();
    drop(sub.try_recv());
    a.crash_for_tests().await.unwrap_err();
    a.emit_durable(SecurityEvent::new("password.changed"))
        .await
        .unwrap();
    // The failing sink has been offered every event by now.
    let settled = || async {
        let s = a.stats().await.unwrap();
        let f = s.sinks.iter().find(|k| k.name == "failing").unwrap();
        f.failed + f.dropped >= 7
    };
    let started = Instant::now();
    while !settled().await {
        assert!(started.elapsed() < Duration::from_secs(5));
        actix_rt::time::sleep(Duration::from_millis(5)).await;
    }
    let text = a.metrics_text().unwrap();
    let samples = parse_metrics(&text);
    assert!(
        text.contains("# TYPE warden_audit_events_total counter"),
        "{text}"
    );
    let ev = |n: &str| metric(&text, "warden_audit_events_total", &[("name", n)]);
    assert_eq!(ev("auth.login.success"), 3.0);
    assert_eq!(ev("csrf.reject.missing"), 1.0);
    assert_eq!(ev("auth.token.invalid"), 1.0);
    assert_eq!(ev("actor.restarted"), 1.0);
    assert_eq!(ev("password.changed"), 1.0);
    assert_eq!(
        metric(
            &text,
            "warden_audit_suppressed_events_total",
            &[("name", "auth.token.invalid")]
        ),
        1.0
    );
    assert_eq!(
        metric(&text, "warden_actor_restarts_total", &[("actor", "audit")]),
        1.0
    );
    let failing = metric(
        &text,
        "warden_audit_sink_failures_total",
        &[("sink", "failing")],
    ) + metric(
        &text,
        "warden_audit_sink_dropped_total",
        &[("sink", "failing")],
    );
    assert_eq!(failing, 7.0);
    assert_eq!(
        metric(
            &text,
            "warden_audit_sink_delivered_total",
            &[("sink", "failing")]
        ),
        0.0
    );
    assert!(
        metric(
            &text,
            "warden_audit_sink_dropped_total",
            &[("sink", "slow")]
        ) > 0.0
    );
    assert_eq!(metric(&text, "warden_audit_log_events", &[]), 7.0);
    assert_eq!(metric(&text, "warden_audit_mailbox_depth", &[]), 0.0);
    assert_eq!(metric(&text, "warden_audit_subscribers", &[]), 1.0);
    assert_eq!(
        metric(&text, "warden_audit_persist_failures_total", &[]),
        0.0
    );
    assert!(samples.keys().all(|k| k.starts_with("warden_")));

    // The subscriber falls behind (queue of 256) and is dropped; a full mailbox drops.
    for _ in 0..300 {
        a.emit(SecurityEvent::new("session.created"));
    }
    a.ping().await.unwrap();
    let text = a.metrics_text().unwrap();
    assert_eq!(
        metric(&text, "warden_audit_subscriber_drops_total", &[]),
        1.0
    );
    assert_eq!(metric(&text, "warden_audit_subscribers", &[]), 0.0);
    drop(sub);

    // OpenMetrics flavour: same samples, `# EOF` at the end.
    let om = a.metrics_openmetrics().unwrap();
    assert!(om.ends_with("# EOF\n"), "{om}");
    assert!(om.contains("warden_audit_events_total{name=\"auth.login.success\"} 3"));
}

#[actix::test]
async fn the_mailbox_depth_gauge_follows_the_queue_and_metrics_answer_while_the_actor_is_stuck() {
    let rt = Runtime::start(small_mailbox(64)).unwrap();
    let a = rt.audit();
    // The actor runs (its mailbox has its configured size from here on).
    a.ping().await.unwrap();
    a.freeze_for_tests(Duration::from_millis(300));
    for _ in 0..10 {
        a.emit(SecurityEvent::new("session.created"));
    }
    let t = Instant::now();
    let text = a.metrics_text().unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(100),
        "no round trip to the actor"
    );
    let depth = metric(&text, "warden_audit_mailbox_depth", &[]);
    assert!((10.0..=11.0).contains(&depth), "{depth}");
    a.ping().await.unwrap();
    let text = a.metrics_text().unwrap();
    assert_eq!(metric(&text, "warden_audit_mailbox_depth", &[]), 0.0);
    assert_eq!(
        metric(
            &text,
            "warden_audit_events_total",
            &[("name", "session.created")]
        ),
        10.0
    );
}

// Export ------------------------------------------------------------------------------------

#[actix::test]
async fn export_round_trips_by_time_range_name_and_user() {
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let cfg = RuntimeConfig::builder()
        .mailbox_capacity(4096)
        .audit(AuditConfig::default().tracing_sink(false))
        .build();
    let rt = Runtime::builder(cfg).clock(clock.clone()).start().unwrap();
    let a = rt.audit();
    // The actor runs (its mailbox has its configured size from here on).
    a.ping().await.unwrap();
    let t0 = clock.now_utc();
    // 2,500 events over 50 minutes: more than one page.
    for i in 0..2500u32 {
        let user = ["alice", "bob", "carol"][i as usize % 3];
        let name = [
            "auth.login.success",
            "session.created",
            "auth.logout.success",
        ][i as usize % 3];
        a.emit(
            SecurityEvent::new(name)
                .user_id(user)
                .detail("n", i)
                .detail("note", "line\nbreak \u{1b}[31m"),
        );
        if i % 50 == 49 {
            clock.advance(Duration::from_secs(60));
        }
    }
    a.ping().await.unwrap();
    let t1 = t0 + time::Duration::minutes(10);
    let t2 = t0 + time::Duration::minutes(40);

    let export = |q: AuditQuery| {
        let a = a.clone();
        async move {
            let mut out = Vec::new();
            let n = a.export_jsonl(q, &mut out).await.unwrap();
            let text = String::from_utf8(out).unwrap();
            let evs: Vec<StoredEvent> = text
                .lines()
                .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
                .collect();
            assert_eq!(n as usize, evs.len());
            assert!(text.is_empty() || text.ends_with('\n'));
            evs
        }
    };

    let all = export(AuditQuery::new()).await;
    assert_eq!(all.len(), 2500);
    assert!(all.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
    assert_eq!(all[0].event.details["note"], "linebreak [31m");
    // Round trip: what comes back is what the log holds.
    let page = a.query(AuditQuery::new().limit(2500)).await.unwrap();
    assert_eq!(all, page);

    let alice_logins = export(
        AuditQuery::new()
            .user_id("alice")
            .name_prefix("auth.login.")
            .since(t1)
            .until(t2),
    )
    .await;
    let want: Vec<StoredEvent> = all
        .iter()
        .filter(|e| {
            e.event.user_id.as_deref() == Some("alice")
                && e.event.name == "auth.login.success"
                && e.event.ts >= t1
                && e.event.ts < t2
        })
        .cloned()
        .collect();
    assert!(!want.is_empty());
    assert_eq!(alice_logins, want);

    let after = export(AuditQuery::new().after_id(2490)).await;
    assert_eq!(
        after.iter().map(|e| e.id).collect::<Vec<_>>(),
        (2491..=2500).collect::<Vec<_>>()
    );
    assert!(export(AuditQuery::new().user_id("mallory"))
        .await
        .is_empty());

    // The offline export reads the same from the store.
    let mut offline = Vec::new();
    let n = export_jsonl(
        &*rt.store(),
        &AuditQuery::new()
            .user_id("alice")
            .name_prefix("auth.login.")
            .since(t1)
            .until(t2),
        &mut offline,
    )
    .unwrap();
    assert_eq!(n as usize, want.len());
    let back: Vec<StoredEvent> = String::from_utf8(offline)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(back, want);
}

#[actix::test]
async fn hostile_values_stay_data() {
    let rt = Runtime::start(quiet()).unwrap();
    let huge = "A".repeat(1 << 20);
    let hostile = [
        "eve\nid: 1\nevent: auth.login.success\ndata: {}",
        "eve\r\nevent: forged",
        "\u{1b}[2J\u{1b}[31mred",
        "line\u{2028}sep\u{2029}para\u{85}nel",
        "\"},\"name\":\"auth.login.success\",\"user_id\":\"admin\",\"x\":{\"",
        huge.as_str(),
    ];
    for h in hostile {
        rt.audit()
            .emit_durable(
                SecurityEvent::new("auth.login.failure")
                    .user_id(h)
                    .path(format!("/login/{h}"))
                    .detail("username", h)
                    .detail(h, "key"),
            )
            .await
            .unwrap();
    }
    let evs = rt.audit().query(AuditQuery::new()).await.unwrap();
    assert_eq!(evs.len(), hostile.len());
    for ev in &evs {
        let line = ev.to_json_line();
        assert!(!line.contains(['\n', '\r', '\u{1b}', '\u{2028}', '\u{2029}', '\u{85}']));
        assert!(line.len() < 16 * 1024, "{}", line.len());
        let back: StoredEvent = serde_json::from_str(&line).unwrap();
        assert_eq!(back.event.name, "auth.login.failure");
        assert!(back.event.user_id.unwrap().chars().count() <= MAX_FIELD_CHARS);
    }
    assert_eq!(evs[4].event.user_id.as_deref(), Some(hostile[4]));
}
