//! `Strict-Transport-Security` only on HTTPS (security-standards §5.3 test 6).

use std::net::SocketAddr;

use actix_service::IntoServiceFactory;
use actix_web::{
    dev::{AppConfig, ServiceFactory},
    test as atest, App,
};
use warden::{
    headers::{Hsts, SecurityHeadersMiddleware},
    ClientIpResolver, ForwardedHeader, SecurityHeadersConfig, TrustedProxies,
};

use crate::{
    app, assert_exact_headers,
    common::{manual_clock, test_warden},
    send, with_defaults, HSTS,
};

/// A proxy in the trusted network.
const PROXY: &str = "10.0.0.5:443";
/// A client nobody trusts.
const CLIENT: &str = "203.0.113.7:40000";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn trusting(header: ForwardedHeader) -> SecurityHeadersMiddleware {
    let resolver = ClientIpResolver::new(TrustedProxies::parse(["10.0.0.0/8"]).unwrap(), header);
    SecurityHeadersMiddleware::new(SecurityHeadersConfig::default()).trust_proxies(resolver)
}

fn has_hsts(r: &crate::common::Reply) -> bool {
    r.headers.contains_key("strict-transport-security")
}

#[actix_web::test]
async fn absent_on_plain_http() {
    let app = app!(SecurityHeadersMiddleware::new(
        SecurityHeadersConfig::default()
    ));
    let r = send!(
        &app,
        atest::TestRequest::get()
            .uri("/html")
            .peer_addr(addr(CLIENT))
    );
    assert!(!has_hsts(&r));
    // Not even when the client says https itself: the URI scheme is the client's word.
    let r = send!(
        &app,
        atest::TestRequest::get().uri("https://localhost/html")
    );
    assert!(!has_hsts(&r), "{r:?}");
}

/// A TLS listener (`HttpServer::bind_rustls*`, `bind_openssl`) gives the app a secure
/// `AppConfig`; that is the socket-level truth.
#[actix_web::test]
async fn present_when_the_listener_is_tls() {
    let app = App::new()
        .configure(crate::routes)
        .wrap(SecurityHeadersMiddleware::new(
            SecurityHeadersConfig::default(),
        ));
    let secure = AppConfig::__priv_test_new(true, "localhost:8443".into(), addr("127.0.0.1:8443"));
    let srv = app.into_factory().new_service(secure).await.unwrap();
    for uri in ["/html", "/no/such/route", "/500"] {
        let r = send!(&srv, atest::TestRequest::get().uri(uri));
        assert_eq!(r.header(HSTS.0).as_deref(), Some(HSTS.1), "{uri}");
    }
    let r = send!(&srv, atest::TestRequest::get().uri("/json"));
    assert_exact_headers(
        &r.headers,
        &with_defaults(&[HSTS, ("content-type", "application/json")]),
    );
}

#[actix_web::test]
async fn present_on_every_response_when_forced() {
    let config = SecurityHeadersConfig::builder()
        .force_hsts(true)
        .hsts(Some(Hsts::default().preload(true)))
        .build()
        .unwrap();
    let app = app!(SecurityHeadersMiddleware::new(config));
    for uri in ["/html", "/403", "/no/such/route"] {
        let r = send!(&app, atest::TestRequest::get().uri(uri));
        assert_eq!(
            r.header(HSTS.0).as_deref(),
            Some("max-age=63072000; includeSubDomains; preload"),
            "{uri}"
        );
    }
}

#[actix_web::test]
async fn present_behind_a_trusted_proxy_saying_https() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    let w = test_warden(dir.path(), &clock, |raw| {
        raw.proxy.trusted_proxies = vec!["10.0.0.0/8".into()];
        raw.headers.csp_nonce = false;
    });
    let app = app!(SecurityHeadersMiddleware::for_warden(&w));

    let r = send!(
        &app,
        atest::TestRequest::get()
            .uri("/html")
            .peer_addr(addr(PROXY))
            .insert_header(("x-forwarded-for", "198.51.100.1"))
            .insert_header(("x-forwarded-proto", "https"))
    );
    assert_exact_headers(
        &r.headers,
        &with_defaults(&[HSTS, ("content-type", "text/html; charset=utf-8")]),
    );

    // The proxy terminated plain HTTP: no HSTS.
    let r = send!(
        &app,
        atest::TestRequest::get()
            .uri("/html")
            .peer_addr(addr(PROXY))
            .insert_header(("x-forwarded-proto", "http"))
    );
    assert!(!has_hsts(&r));

    // Several values: the proxy's own (right-most) one counts.
    let r = send!(
        &app,
        atest::TestRequest::get()
            .uri("/html")
            .peer_addr(addr(PROXY))
            .insert_header(("x-forwarded-proto", "https, http"))
    );
    assert!(!has_hsts(&r));
    w.shutdown().await;
}

#[actix_web::test]
async fn absent_when_an_untrusted_client_claims_https() {
    let app = app!(trusting(ForwardedHeader::XForwardedFor));
    for (name, value) in [
        ("x-forwarded-proto", "https"),
        ("forwarded", "for=198.51.100.1;proto=https"),
        ("x-forwarded-ssl", "on"),
        ("front-end-https", "on"),
    ] {
        let r = send!(
            &app,
            atest::TestRequest::get()
                .uri("/html")
                .peer_addr(addr(CLIENT))
                .insert_header((name, value))
        );
        assert!(!has_hsts(&r), "{name}: {value}");
    }
    // Without a socket peer at all.
    let r = send!(
        &app,
        atest::TestRequest::get()
            .uri("/html")
            .insert_header(("x-forwarded-proto", "https"))
    );
    assert!(!has_hsts(&r));

    // A middleware that trusts no proxy ignores the header even from a proxy address.
    let app = app!(SecurityHeadersMiddleware::new(
        SecurityHeadersConfig::default()
    ));
    let r = send!(
        &app,
        atest::TestRequest::get()
            .uri("/html")
            .peer_addr(addr(PROXY))
            .insert_header(("x-forwarded-proto", "https"))
    );
    assert!(!has_hsts(&r));
}

#[actix_web::test]
async fn the_forwarded_family_reads_only_forwarded_proto() {
    let app = app!(trusting(ForwardedHeader::Forwarded));
    let r = send!(
        &app,
        atest::TestRequest::get()
            .uri("/html")
            .peer_addr(addr(PROXY))
            .insert_header(("forwarded", "for=198.51.100.1;Proto=\"HTTPS\";by=10.0.0.5"))
    );
    assert!(has_hsts(&r));
    // A proxy writing `Forwarded` may pass a client's `X-Forwarded-Proto` through untouched.
    let r = send!(
        &app,
        atest::TestRequest::get()
            .uri("/html")
            .peer_addr(addr(PROXY))
            .insert_header(("x-forwarded-proto", "https"))
    );
    assert!(!has_hsts(&r));
    // The last element is the nearest proxy's.
    let r = send!(
        &app,
        atest::TestRequest::get()
            .uri("/html")
            .peer_addr(addr(PROXY))
            .insert_header((
                "forwarded",
                "for=1.2.3.4;proto=https, for=10.0.0.9;proto=http"
            ))
    );
    assert!(!has_hsts(&r));
}

#[actix_web::test]
async fn hsts_off_is_never_sent() {
    let config = SecurityHeadersConfig::builder()
        .hsts(None)
        .force_hsts(true)
        .build()
        .unwrap();
    let app = app!(SecurityHeadersMiddleware::new(config));
    let r = send!(&app, atest::TestRequest::get().uri("/html"));
    assert!(!has_hsts(&r));
}
