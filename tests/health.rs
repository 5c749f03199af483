//! `/healthz`: 200 while the actors answer, 503 (generic body) when they do not.

use std::time::{Duration, Instant};

use actix_web::{test as atest, web, App};
use warden::{health::healthz, ConfigLoader, Warden};

fn config(dir: &std::path::Path, ask_timeout_ms: Option<u64>) -> warden::Config {
    let env = [("WARDEN_DATA_DIR".to_string(), dir.display().to_string())];
    let mut raw = ConfigLoader::new().env(env).load_raw().unwrap();
    raw.audit.tracing_sink = false;
    if let Some(ms) = ask_timeout_ms {
        raw.runtime.ask_timeout_ms = ms;
    }
    warden::Config::from_raw(raw).unwrap()
}

#[actix_web::test]
async fn healthz_is_ok_then_503_when_the_runtime_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let warden = Warden::start(config(dir.path(), None)).unwrap();
    let app = atest::init_service(
        App::new()
            .app_data(warden.data())
            .route("/healthz", web::get().to(healthz)),
    )
    .await;
    let res =
        atest::call_service(&app, atest::TestRequest::get().uri("/healthz").to_request()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(atest::read_body(res).await, "ok");

    warden.shutdown().await;
    let t = Instant::now();
    let res =
        atest::call_service(&app, atest::TestRequest::get().uri("/healthz").to_request()).await;
    assert_eq!(res.status(), 503);
    assert!(t.elapsed() < Duration::from_millis(500), "fails fast");
    let body = atest::read_body(res).await;
    assert_eq!(body, "Service Unavailable");
}

#[actix_web::test]
async fn healthz_turns_503_when_an_actor_stops_answering() {
    let dir = tempfile::tempdir().unwrap();
    let warden = Warden::start(config(dir.path(), Some(100))).unwrap();
    let app = atest::init_service(
        App::new()
            .app_data(warden.data())
            .route("/healthz", web::get().to(healthz)),
    )
    .await;
    warden.audit().freeze_for_tests(Duration::from_millis(700));
    let t = Instant::now();
    let res =
        atest::call_service(&app, atest::TestRequest::get().uri("/healthz").to_request()).await;
    assert_eq!(res.status(), 503);
    assert!(t.elapsed() < Duration::from_millis(600));
    assert_eq!(atest::read_body(res).await, "Service Unavailable");
}

#[actix_web::test]
async fn healthz_without_the_warden_app_data_is_an_opaque_500() {
    let app = atest::init_service(App::new().route("/healthz", web::get().to(healthz))).await;
    let res =
        atest::call_service(&app, atest::TestRequest::get().uri("/healthz").to_request()).await;
    assert_eq!(res.status(), 500);
    assert_eq!(atest::read_body(res).await, "Internal Server Error");
}
