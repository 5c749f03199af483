//! Sending audit events to your own destination: an [`AuditSink`] implementation and a
//! closure sink ([`FnSink`]).
//!
//! ```text
//! cargo run --example custom_audit_sink
//! ```
//!
//! Runs to completion in a throw-away data directory. It registers a `LabelledSink` (a
//! struct implementing [`AuditSink`]: counts events per name, and would ship them to a SIEM
//! or a log pipeline) with [`Warden::builder`]`(..).sink(..)` before start, adds a closure
//! sink at run time with [`AuditHandle::add_sink`](warden::actors::AuditHandle::add_sink),
//! emits a few events, shuts down (which drains every sink and calls its `flush`) and prints
//! what each sink received. Note the `password` detail arriving as `[redacted]`: events are
//! sanitized before any sink sees them.
//!
//! Each sink runs on its own thread behind a bounded queue, so a slow destination never blocks
//! a request; events it cannot keep up with are counted as dropped.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use warden::{
    actors::{AuditSink, FnSink, SecurityEvent, SinkError, StoredEvent},
    ConfigLoader, Warden,
};

/// What the sinks received, printed at the end (sinks run on their own threads).
type Received = Arc<Mutex<Vec<String>>>;

/// A sink counting events per name; a real one would forward them somewhere.
struct LabelledSink {
    label: String,
    counts: BTreeMap<String, u64>,
    out: Received,
}

impl AuditSink for LabelledSink {
    fn name(&self) -> &str {
        &self.label
    }

    fn write(&mut self, event: &StoredEvent) -> Result<(), SinkError> {
        *self.counts.entry(event.event.name.clone()).or_default() += 1;
        self.out
            .lock()
            .map_err(|_| SinkError::Other("poisoned".into()))?
            .push(format!("[{}] {}", self.label, event.to_json_line()));
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.out
            .lock()
            .map_err(|_| SinkError::Other("poisoned".into()))?
            .push(format!(
                "[{}] flushed; counts {:?}",
                self.label, self.counts
            ));
        Ok(())
    }
}

#[actix_web::main]
async fn main() {
    let dir = tempfile::tempdir().expect("cannot create a temporary directory");
    let config = ConfigLoader::new()
        .set("server.data_dir", dir.path())
        .set("audit.tracing_sink", false)
        .load()
        .unwrap_or_else(|e| panic!("invalid configuration:\n{e}"));
    let received: Received = Arc::default();

    // A sink registered before start sees every event from the first one.
    let warden = Warden::builder(config)
        .sink(LabelledSink {
            label: "siem".into(),
            counts: BTreeMap::new(),
            out: received.clone(),
        })
        .start()
        .expect("cannot start warden");

    // A sink added at run time sees the events emitted from now on.
    let out = received.clone();
    warden
        .audit()
        .add_sink(FnSink::new("closure", move |ev: &StoredEvent| {
            if let Ok(mut v) = out.lock() {
                v.push(format!("[closure] #{} {}", ev.id, ev.event.name));
            }
        }))
        .await
        .expect("cannot add the sink");

    let audit = warden.audit();
    audit.emit(SecurityEvent::new("app.report.exported").user_id("42"));
    audit.emit(
        SecurityEvent::new("app.settings.changed")
            .user_id("42")
            .detail("setting", "mfa")
            .detail("password", "hunter2"),
    );
    audit.emit(SecurityEvent::new("app.report.exported").user_id("7"));

    // Graceful shutdown drains the sinks' queues and calls `flush` on each.
    warden.shutdown().await;

    for line in received.lock().expect("poisoned").iter() {
        println!("{line}");
    }
}
