//! `GET /metrics`: Prometheus text that parses and counts.

use std::collections::HashMap;

use actix_web::test as atest;
use warden::actors::{SecurityEvent, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE};

use crate::{app, common::Reply, Env};

/// `name{labels}` → value, checking every line is a comment or a sample.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# ") {
            assert!(
                rest.starts_with("HELP ") || rest.starts_with("TYPE ") || rest == "EOF",
                "{line}"
            );
            continue;
        }
        let (key, value) = line.rsplit_once(' ').expect("a sample");
        out.insert(key.to_owned(), value.parse::<f64>().expect("a number"));
    }
    out
}

#[actix_web::test]
async fn metrics_parse_and_count_events_by_name() {
    let env = Env::new().await;
    let app = app!(env.warden);
    let a = env.warden.audit();
    a.emit(SecurityEvent::new("auth.login.success"));
    a.emit(SecurityEvent::new("auth.login.success"));
    a.emit(SecurityEvent::new("csrf.reject.missing"));
    a.ping().await.unwrap();

    let r = Reply::read(
        atest::call_service(&app, atest::TestRequest::get().uri("/metrics").to_request()).await,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type").unwrap(), PROMETHEUS_CONTENT_TYPE);
    assert_eq!(r.header("cache-control").unwrap(), "no-store");
    let m = parse(&r.body);
    assert_eq!(
        m["warden_audit_events_total{name=\"auth.login.success\"}"],
        2.0
    );
    assert_eq!(
        m["warden_audit_events_total{name=\"csrf.reject.missing\"}"],
        1.0
    );
    assert_eq!(m["warden_audit_log_events"], 3.0);
    assert_eq!(m["warden_audit_mailbox_depth"], 0.0);
    for name in [
        "warden_audit_persist_failures_total",
        "warden_audit_subscriber_drops_total",
        "warden_audit_subscribers",
    ] {
        assert_eq!(m[name], 0.0, "{name}");
    }
    assert!(r
        .body
        .contains("# TYPE warden_audit_dropped_events_total counter"));
    assert!(r
        .body
        .contains("# TYPE warden_audit_sink_failures_total counter"));
    assert!(r
        .body
        .contains("# TYPE warden_actor_restarts_total counter"));

    // OpenMetrics for scrapers that ask for it.
    let r = Reply::read(
        atest::call_service(
            &app,
            atest::TestRequest::get()
                .uri("/metrics")
                .insert_header((
                    "accept",
                    "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
                ))
                .to_request(),
        )
        .await,
    )
    .await;
    assert_eq!(r.header("content-type").unwrap(), OPENMETRICS_CONTENT_TYPE);
    assert!(r.body.ends_with("# EOF\n"));
    assert_eq!(
        parse(&r.body)["warden_audit_events_total{name=\"auth.login.success\"}"],
        2.0
    );
}

#[actix_web::test]
async fn metrics_still_answer_when_the_runtime_is_down() {
    let env = Env::new().await;
    let app = app!(env.warden);
    env.warden
        .audit()
        .emit(SecurityEvent::new("session.created"));
    env.warden.audit().ping().await.unwrap();
    env.warden.shutdown().await;
    env.warden
        .audit()
        .emit(SecurityEvent::new("session.created"));
    let r = Reply::read(
        atest::call_service(&app, atest::TestRequest::get().uri("/metrics").to_request()).await,
    )
    .await;
    assert_eq!(r.status, 200);
    let m = parse(&r.body);
    assert_eq!(
        m["warden_audit_events_total{name=\"session.created\"}"],
        1.0
    );
    assert_eq!(
        m["warden_audit_dropped_events_total{reason=\"actor_down\"}"],
        1.0
    );
}
