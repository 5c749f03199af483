//! The composed stack (`Warden::stack`): one `.wrap()`, the right order, headers on every
//! answer each layer produces.

mod common;

use std::{net::SocketAddr, sync::Arc};

use actix_web::{http::StatusCode, test as atest, web, App, HttpResponse};
use common::{cheap_passwords, manual_clock, test_warden_with_passwords, MemoryUsers};
use warden::{
    auth::{CurrentUser, SharedUserStore},
    csrf::CsrfToken,
    session::Session,
};

const SECURITY_HEADERS: [&str; 6] = [
    "content-security-policy",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
    "cross-origin-opener-policy",
    "permissions-policy",
];

fn assert_hardened(res: &actix_web::dev::ServiceResponse, what: &str) {
    for h in SECURITY_HEADERS {
        assert!(res.headers().contains_key(h), "{what}: missing {h}");
    }
    assert!(
        res.headers().contains_key("x-request-id"),
        "{what}: missing x-request-id"
    );
}

macro_rules! app {
    ($w:expr, $users:expr) => {{
        let w = $w.clone();
        let users: SharedUserStore = $users;
        atest::init_service(
            App::new()
                .app_data(w.data())
                .wrap(w.stack(users))
                .route(
                    "/",
                    web::get().to(|s: Session, t: CsrfToken| async move {
                        s.insert("seen", true)?;
                        Ok::<_, warden::Error>(HttpResponse::Ok().body(t.value().to_owned()))
                    }),
                )
                .route(
                    "/me",
                    web::get().to(|u: CurrentUser| async move {
                        HttpResponse::Ok().body(u.login.clone())
                    }),
                )
                .route("/login", web::post().to(HttpResponse::Ok))
                .route("/echo", web::post().to(HttpResponse::Ok)),
        )
        .await
    }};
}

fn peer() -> SocketAddr {
    "198.51.100.7:40000".parse().unwrap()
}

#[actix_web::test]
async fn every_layer_answers_with_the_security_headers_and_a_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    let w = test_warden_with_passwords(dir.path(), &clock, |_| {}, cheap_passwords());
    let app = app!(w, Arc::new(MemoryUsers::new()));
    let host = w.config().server.allowed_hosts[0].clone();
    let get = |uri: &str| {
        atest::TestRequest::get()
            .uri(uri)
            .peer_addr(peer())
            .insert_header(("host", host.as_str()))
    };

    // 200 from the handler, through session and CSRF (a token is rendered, a session made).
    let res = atest::call_service(&app, get("/").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_hardened(&res, "200");
    assert!(res.headers().contains_key("set-cookie"));

    // 400 from allowed hosts.
    let res = atest::call_service(
        &app,
        atest::TestRequest::get()
            .uri("/")
            .peer_addr(peer())
            .insert_header(("host", "evil.example"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_hardened(&res, "400 host");

    // 303 from the login-required check (auth).
    let res = atest::call_service(
        &app,
        get("/me")
            .insert_header(("accept", "text/html"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_hardened(&res, "303 login");

    // 403 from CSRF (no token).
    let post = |uri: &str| {
        atest::TestRequest::post()
            .uri(uri)
            .peer_addr(peer())
            .insert_header(("host", host.as_str()))
    };
    let res = atest::call_service(&app, post("/echo").to_request()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_hardened(&res, "403 csrf");

    // 429 from the auth rate limit, which runs before CSRF: 10 POSTs to /login, then refused.
    let mut last = StatusCode::OK;
    for _ in 0..11 {
        last = atest::call_service(&app, post("/login").to_request())
            .await
            .status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    let res = atest::call_service(&app, post("/login").to_request()).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_hardened(&res, "429");
    assert!(res.headers().contains_key("retry-after"));

    // 404 from actix-web itself.
    let res = atest::call_service(&app, get("/nowhere").to_request()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_hardened(&res, "404");

    // 503 when the actors are gone: still hardened, never the handler's 200.
    w.shutdown().await;
    let res = atest::call_service(&app, post("/login").to_request()).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_hardened(&res, "503");
}

#[actix_web::test]
async fn the_stack_keys_the_rate_limit_on_the_resolved_client_not_a_spoofed_header() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    let w = test_warden_with_passwords(dir.path(), &clock, |_| {}, cheap_passwords());
    let app = app!(w, Arc::new(MemoryUsers::new()));
    let host = w.config().server.allowed_hosts[0].clone();
    let mut statuses = Vec::new();
    for i in 0..12 {
        let req = atest::TestRequest::post()
            .uri("/login")
            .peer_addr(peer())
            .insert_header(("host", host.as_str()))
            .insert_header(("x-forwarded-for", format!("203.0.113.{i}")))
            .to_request();
        statuses.push(atest::call_service(&app, req).await.status());
    }
    // Rotating X-Forwarded-For from an untrusted peer does not buy a fresh budget.
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count(),
        2
    );
}
