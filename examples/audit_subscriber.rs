//! Watching the live audit stream from code with
//! [`AuditHandle::subscribe`](warden::actors::AuditHandle::subscribe).
//!
//! ```text
//! cargo run --example audit_subscriber
//! ```
//!
//! Runs to completion in a throw-away data directory. It opens two subscriptions, one to
//! everything and one filtered on the `auth.` name prefix (`"auth.*"` works too), emits a few
//! events, prints what each subscription receives and shuts down. This is what the demo's
//! `/audit/stream` (server-sent events) is built on; use it for in-process reactions, e.g.
//! paging someone on `alert.spike`.
//!
//! A subscription is a bounded queue: a subscriber that does not keep up loses events (they
//! are still persisted and delivered to the sinks), and it never slows the emitters down.
//! `Subscription` is also a `futures` `Stream`.

use std::time::Duration;

use warden::{
    actors::{SecurityEvent, Subscription},
    ConfigLoader, Warden,
};

/// Prints what `sub` receives until it stays quiet for 200 ms.
async fn drain(label: &str, sub: &mut Subscription) {
    while let Ok(Some(ev)) = actix_rt::time::timeout(Duration::from_millis(200), sub.recv()).await {
        println!(
            "[{label}] #{} {} user={:?} details={}",
            ev.id,
            ev.event.name,
            ev.event.user_id,
            serde_json::Value::Object(ev.event.details.clone())
        );
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
    let warden = Warden::start(config).expect("cannot start warden");
    let audit = warden.audit();

    let mut all = audit.subscribe(None).await.expect("cannot subscribe");
    let mut auth = audit
        .subscribe(Some("auth."))
        .await
        .expect("cannot subscribe");

    audit.emit(SecurityEvent::new("app.report.exported").user_id("42"));
    audit.emit(
        SecurityEvent::new("auth.login.failure")
            .client_ip([203, 0, 113, 9].into())
            .detail("reason", "bad_credentials"),
    );
    audit.emit(SecurityEvent::new("auth.logout").user_id("42"));

    drain("all", &mut all).await;
    drain("auth.*", &mut auth).await;

    drop((all, auth));
    warden.shutdown().await;
    println!("shut down cleanly");
}
