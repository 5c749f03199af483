//! `warden::Error` responses: status, generic body, headers, and no leaked detail.

use std::{
    io,
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{
    body::to_bytes,
    http::{header, StatusCode},
    test as atest, web, App, HttpResponse, ResponseError,
};
use warden::{
    actors::{ActorError, StoreError},
    Error,
};

#[derive(Clone, Default)]
struct LogBuf(Arc<Mutex<Vec<u8>>>);

impl io::Write for LogBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl LogBuf {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

fn capture_logs() -> (LogBuf, tracing::subscriber::DefaultGuard) {
    let buf = LogBuf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    (buf, tracing::subscriber::set_default(subscriber))
}

fn make_error(kind: &str) -> Error {
    match kind {
        "unauthenticated" => Error::Unauthenticated,
        "forbidden" => Error::Forbidden,
        "bad-request" => Error::BadRequest,
        "throttled-1.2" => Error::TooManyRequests {
            retry_after: Duration::from_millis(1200),
        },
        "throttled-0" => Error::TooManyRequests {
            retry_after: Duration::ZERO,
        },
        "throttled-30" => Error::TooManyRequests {
            retry_after: Duration::from_secs(30),
        },
        "unavailable" => Error::from(ActorError::Timeout {
            actor: "SessionActorShard7",
            timeout: Duration::from_millis(250),
        }),
        "store" => Error::from(StoreError::Backend(
            "io error at /var/lib/warden/db/snap.0042: password=hunter2".into(),
        )),
        "actor-store" => Error::from(ActorError::Store(StoreError::Corrupt {
            keyspace: "sessions_by_user",
            reason: "truncated envelope",
        })),
        _ => Error::Internal("db password=hunter2 at /var/lib/x".into()),
    }
}

async fn fail(path: web::Path<String>) -> Result<HttpResponse, Error> {
    Err(make_error(&path))
}

async fn call(kind: &str) -> (StatusCode, header::HeaderMap, String) {
    let app = atest::init_service(App::new().route("/{kind}", web::get().to(fail))).await;
    let req = atest::TestRequest::get()
        .uri(&format!("/{kind}"))
        .to_request();
    let res = atest::call_service(&app, req).await;
    let status = res.status();
    let headers = res.headers().clone();
    let body = to_bytes(res.into_body()).await.expect("body");
    (
        status,
        headers,
        String::from_utf8(body.to_vec()).expect("utf-8 body"),
    )
}

fn assert_generic(headers: &header::HeaderMap) {
    assert_eq!(
        headers.get(header::CONTENT_TYPE).expect("content-type"),
        "text/plain; charset=utf-8"
    );
    assert_eq!(
        headers.get(header::CACHE_CONTROL).expect("cache-control"),
        "no-store"
    );
}

#[actix_web::test]
async fn client_errors_have_generic_bodies() {
    for (kind, status, body) in [
        ("unauthenticated", StatusCode::UNAUTHORIZED, "Unauthorized"),
        ("forbidden", StatusCode::FORBIDDEN, "Forbidden"),
        ("bad-request", StatusCode::BAD_REQUEST, "Bad Request"),
        (
            "throttled-1.2",
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests",
        ),
    ] {
        let (got_status, headers, got_body) = call(kind).await;
        assert_eq!(got_status, status, "{kind}");
        assert_eq!(got_body, body, "{kind}");
        assert_generic(&headers);
    }
}

#[actix_web::test]
async fn retry_after_is_whole_seconds_rounded_up_at_least_one() {
    for (kind, secs) in [
        ("throttled-1.2", "2"),
        ("throttled-0", "1"),
        ("throttled-30", "30"),
    ] {
        let (status, headers, _) = call(kind).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            headers.get(header::RETRY_AFTER).expect("retry-after"),
            secs,
            "{kind}"
        );
    }
    assert_eq!(Error::retry_after_secs(Duration::from_nanos(1)), 1);
    assert_eq!(Error::retry_after_secs(Duration::from_millis(2000)), 2);
    assert_eq!(Error::retry_after_secs(Duration::from_millis(2001)), 3);
    assert_eq!(Error::retry_after_secs(Duration::MAX), u64::MAX);
    let (_, headers, _) = call("forbidden").await;
    assert!(headers.get(header::RETRY_AFTER).is_none());
}

#[actix_web::test]
async fn server_errors_leak_nothing_and_log_everything() {
    let (logs, _guard) = capture_logs();
    for (kind, status, body) in [
        (
            "unavailable",
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
        ),
        (
            "store",
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
        ),
        (
            "actor-store",
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
        ),
        (
            "internal",
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error",
        ),
    ] {
        let (got_status, headers, got_body) = call(kind).await;
        assert_eq!(got_status, status, "{kind}");
        assert_eq!(got_body, body, "{kind}");
        assert_generic(&headers);
        for secret in [
            "hunter2",
            "/var/lib",
            "password",
            "SessionActor",
            "sessions_by_user",
            "truncated",
            "250ms",
        ] {
            assert!(!got_body.contains(secret), "{kind} leaks {secret}");
            for (_, value) in headers.iter() {
                let value = value.to_str().unwrap_or_default();
                assert!(!value.contains(secret), "{kind} header leaks {secret}");
            }
        }
    }
    let logs = logs.text();
    assert!(logs.contains("ERROR"), "{logs}");
    // The full chain is in the logs, including the source error's text.
    assert!(
        logs.contains("actor SessionActorShard7 did not answer within 250ms"),
        "{logs}"
    );
    assert!(logs.contains("/var/lib/warden/db/snap.0042"), "{logs}");
    assert!(
        logs.contains("sessions_by_user: truncated envelope"),
        "{logs}"
    );
    assert!(logs.contains("db password=hunter2 at /var/lib/x"), "{logs}");
}

#[test]
fn conversions_pick_the_right_variant() {
    let err = Error::from(ActorError::Unavailable { actor: "audit" });
    assert!(matches!(err, Error::Unavailable(_)));
    assert_eq!(err.status_code(), StatusCode::SERVICE_UNAVAILABLE);
    let err = Error::from(ActorError::Store(StoreError::Closed));
    assert!(matches!(err, Error::Store(StoreError::Closed)));
    let err = Error::from(StoreError::Closed);
    assert!(matches!(err, Error::Store(_)));
    assert!(std::error::Error::source(&err).is_some());
    assert_eq!(
        Error::Internal("x".into()).status_code(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
}
