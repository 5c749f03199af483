//! The runtime: supervision, deadlines, fail-closed health, sweeping, start-up errors.

mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use common::{names, quiet};
use warden_actors::{
    store::{Keyspace, PutOptions},
    ActorError, AuditConfig, AuditQuery, ManualClock, Runtime, RuntimeConfig, SecurityEvent,
    StartError, StoreError,
};

#[actix::test]
async fn a_panicking_actor_is_restarted_and_the_restart_is_audited() {
    let rt = Runtime::start(quiet()).unwrap();
    rt.audit()
        .emit_durable(SecurityEvent::new("before"))
        .await
        .unwrap();
    let err = rt.audit().crash_for_tests().await.unwrap_err();
    assert!(matches!(err, ActorError::Panicked { actor: "audit" }));
    // Same handle, restarted actor.
    rt.health().await.unwrap();
    let id = rt
        .audit()
        .emit_durable(SecurityEvent::new("after"))
        .await
        .unwrap();
    let evs = rt.audit().query(AuditQuery::new()).await.unwrap();
    assert_eq!(names(&evs), vec!["before", "actor.restarted", "after"]);
    assert_eq!(evs[1].event.details["actor"], "audit");
    assert_eq!(id, 3, "ids continue after the restart");
    assert_eq!(rt.audit().stats().await.unwrap().restarts, 1);
}

#[actix::test]
async fn an_actor_that_does_not_answer_fails_closed_within_the_deadline() {
    let cfg = RuntimeConfig::builder()
        .ask_timeout(Duration::from_millis(100))
        .audit(AuditConfig::default().tracing_sink(false))
        .build();
    let rt = Runtime::start(cfg).unwrap();
    rt.health().await.unwrap();
    rt.audit().freeze_for_tests(Duration::from_millis(800));
    let t = Instant::now();
    let err = rt.health().await.unwrap_err();
    assert!(
        matches!(err, ActorError::Timeout { actor: "audit", .. }),
        "{err:?}"
    );
    assert!(t.elapsed() < Duration::from_millis(600));
    let err = rt
        .audit()
        .emit_durable(SecurityEvent::new("x"))
        .await
        .unwrap_err();
    assert!(matches!(err, ActorError::Timeout { .. }));
}

#[actix::test]
async fn after_shutdown_everything_fails_fast() {
    let rt = Runtime::start(quiet()).unwrap();
    rt.shutdown().await.unwrap();
    rt.shutdown().await.unwrap(); // idempotent
    let t = Instant::now();
    assert!(rt.health().await.is_err());
    let err = rt
        .audit()
        .emit_durable(SecurityEvent::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ActorError::Unavailable { actor: "audit" }),
        "{err:?}"
    );
    let before = rt.audit().dropped();
    rt.audit().emit(SecurityEvent::new("lost"));
    assert_eq!(rt.audit().dropped(), before + 1, "a lost event is counted");
    assert!(matches!(
        rt.store().get(Keyspace::Meta, b"k"),
        Err(StoreError::Closed)
    ));
    assert!(t.elapsed() < Duration::from_millis(500));
}

#[actix::test]
async fn the_sweeper_removes_expired_records() {
    let clock = Arc::new(ManualClock::new(1_000_000));
    let rt = Runtime::builder(quiet())
        .clock(clock.clone())
        .start()
        .unwrap();
    let store = rt.store();
    for i in 0..3u8 {
        store
            .put(
                Keyspace::Sessions,
                &[i],
                b"s",
                PutOptions::buffered().expires_at(1_000_500),
            )
            .unwrap();
    }
    assert_eq!(rt.sweep_now().await.unwrap(), 0);
    clock.advance(Duration::from_secs(1));
    assert_eq!(rt.sweep_now().await.unwrap(), 3);
    assert_eq!(store.len(Keyspace::Sessions).unwrap(), 0);
}

#[test]
fn starting_without_an_actix_system_is_a_clear_error() {
    let err = Runtime::start(quiet()).unwrap_err();
    assert!(matches!(err, StartError::NoSystem));
    assert!(err.to_string().contains("actix"));
}

#[actix::test]
async fn bad_settings_are_refused() {
    let err = Runtime::start(RuntimeConfig::builder().mailbox_capacity(0).build()).unwrap_err();
    assert!(matches!(
        err,
        StartError::Invalid {
            key: "runtime.mailbox_capacity",
            ..
        }
    ));
    let err =
        Runtime::start(RuntimeConfig::builder().ask_timeout(Duration::ZERO).build()).unwrap_err();
    assert!(matches!(
        err,
        StartError::Invalid {
            key: "runtime.ask_timeout_ms",
            ..
        }
    ));
}

#[actix::test]
async fn a_second_runtime_cannot_open_the_same_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = RuntimeConfig::builder()
        .data_dir(dir.path())
        .audit(AuditConfig::default().tracing_sink(false))
        .build();
    let rt = Runtime::start(cfg.clone()).unwrap();
    let err = Runtime::start(cfg).unwrap_err();
    assert!(matches!(err, StartError::Store(_)), "{err:?}");
    rt.shutdown().await.unwrap();
}
