//! `actix-cors` inside the warden stack: preflights answered by CORS still carry the security
//! headers, because `SecurityHeadersMiddleware` is outermost.

use actix_cors::Cors;
use actix_web::{http::header, test as atest, App};
use warden::{
    headers::SecurityHeadersMiddleware,
    hosts::{AllowedHosts, AllowedHostsMiddleware},
};

use crate::{
    common::{manual_clock, test_warden},
    send, DEFAULTS,
};

const ORIGIN: &str = "https://spa.example.com";

fn cors() -> Cors {
    Cors::default()
        .allowed_origin(ORIGIN)
        .allowed_methods(["GET", "POST"])
        .allowed_headers([header::CONTENT_TYPE])
        .max_age(600)
}

fn assert_security_headers(r: &crate::common::Reply) {
    for (name, value) in DEFAULTS {
        assert_eq!(r.header(name).as_deref(), Some(value), "{name} in {r:?}");
    }
}

#[actix_web::test]
async fn a_cors_preflight_still_gets_the_security_headers() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    let w = test_warden(dir.path(), &clock, |raw| {
        raw.server.allowed_hosts = vec!["api.example.com".into()];
        // The exact default header set (the demo turns nonces on in config/default.toml).
        raw.headers.csp_nonce = false;
    });
    // Innermost first: CORS, allowed hosts, request context, security headers (outermost).
    let app = atest::init_service(
        App::new()
            .configure(crate::routes)
            .wrap(cors())
            .wrap(AllowedHostsMiddleware::new(
                AllowedHosts::parse(&w.config().server.allowed_hosts).unwrap(),
                w.audit().clone(),
            ))
            .wrap(w.request_context())
            .wrap(SecurityHeadersMiddleware::for_warden(&w)),
    )
    .await;
    let preflight = || {
        atest::TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/json")
            .insert_header(("host", "api.example.com"))
            .insert_header((header::ORIGIN, ORIGIN))
            .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "POST"))
            .insert_header((header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type"))
    };

    let r = send!(&app, preflight());
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(ORIGIN)
    );
    assert!(r
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    assert_eq!(r.header("access-control-max-age").as_deref(), Some("600"));
    assert_security_headers(&r);
    assert!(r.header("x-request-id").is_some());

    // A preflight from an origin CORS does not allow: refused by actix-cors, still headed.
    let r = send!(
        &app,
        preflight().insert_header((header::ORIGIN, "https://evil.example"))
    );
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.header("access-control-allow-origin").is_none());
    assert_security_headers(&r);

    // The actual cross-origin request: CORS headers and security headers together.
    let r = send!(
        &app,
        atest::TestRequest::get()
            .uri("/json")
            .insert_header(("host", "api.example.com"))
            .insert_header((header::ORIGIN, ORIGIN))
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(ORIGIN)
    );
    assert_security_headers(&r);

    // A preflight for a host that is not served never reaches CORS.
    let r = send!(&app, preflight().insert_header(("host", "evil.example")));
    assert_eq!(r.status, 400);
    assert!(r.header("access-control-allow-origin").is_none());
    assert_security_headers(&r);
    w.shutdown().await;
}
