//! Helpers shared by the actor integration tests.
#![allow(dead_code, unreachable_pub)]

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use warden_actors::{AuditConfig, FnSink, RuntimeConfig, StoredEvent};

/// Polls `cond` until it holds or 5 s pass (work on other threads has to be waited for; no
/// test logic depends on the passage of time).
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "timed out waiting for: {what}"
        );
        actix_rt::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Events seen by a collecting sink.
pub type Seen = Arc<Mutex<Vec<StoredEvent>>>;

/// A sink that collects events into a shared vector.
pub fn collecting_sink(name: &str) -> (FnSink<impl FnMut(&StoredEvent) + Send>, Seen) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    (
        FnSink::new(name, move |ev: &StoredEvent| {
            s.lock().unwrap().push(ev.clone())
        }),
        seen,
    )
}

/// A quiet config (no tracing sink) with a temporary store.
pub fn quiet() -> RuntimeConfig {
    RuntimeConfig::builder()
        .audit(AuditConfig::default().tracing_sink(false))
        .build()
}

/// Names of events, in order.
pub fn names(evs: &[StoredEvent]) -> Vec<String> {
    evs.iter().map(|e| e.event.name.clone()).collect()
}
