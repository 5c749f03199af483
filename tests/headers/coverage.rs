//! The exact header set of every kind of response (security-standards §5.3 tests 1 and 10).

use actix_web::{
    dev::Service,
    http::{header, StatusCode},
    test as atest, App, ResponseError,
};
use warden::{headers::SecurityHeadersMiddleware, Error, SecurityHeadersConfig};

use crate::{app, assert_exact_headers, send, with_defaults, NO_STORE, PLAIN};

fn mw() -> SecurityHeadersMiddleware {
    SecurityHeadersMiddleware::new(SecurityHeadersConfig::default())
}

#[actix_web::test]
async fn html_200_has_exactly_the_defaults() {
    let app = app!(mw());
    let r = send!(&app, atest::TestRequest::get().uri("/html"));
    assert_eq!(r.status, 200);
    assert_exact_headers(
        &r.headers,
        &with_defaults(&[("content-type", "text/html; charset=utf-8")]),
    );
}

#[actix_web::test]
async fn json_200_has_exactly_the_defaults() {
    let app = app!(mw());
    let r = send!(&app, atest::TestRequest::get().uri("/json"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, r#"{"ok":true}"#);
    assert_exact_headers(
        &r.headers,
        &with_defaults(&[("content-type", "application/json")]),
    );
}

#[actix_web::test]
async fn every_warden_error_status_has_exactly_the_defaults() {
    let app = app!(mw());
    type Case<'a> = (&'a str, u16, &'a [(&'a str, &'a str)]);
    let cases: [Case<'_>; 5] = [
        ("/401", 401, &[PLAIN, NO_STORE]),
        ("/403", 403, &[PLAIN, NO_STORE]),
        ("/429", 429, &[PLAIN, NO_STORE, ("retry-after", "1")]),
        ("/500", 500, &[PLAIN, NO_STORE]),
        ("/503", 503, &[PLAIN, NO_STORE]),
    ];
    for (path, status, extra) in cases {
        let r = send!(&app, atest::TestRequest::get().uri(path));
        assert_eq!(r.status.as_u16(), status, "{path}");
        assert_exact_headers(&r.headers, &with_defaults(extra));
        assert!(!r.body.contains("boom") && !r.body.contains("db"), "{r:?}");
    }
}

#[actix_web::test]
async fn actix_web_own_404_and_405_have_exactly_the_defaults() {
    let app = app!(mw());
    let r = send!(&app, atest::TestRequest::get().uri("/no/such/route"));
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_exact_headers(&r.headers, &with_defaults(&[]));

    let r = send!(&app, atest::TestRequest::post().uri("/html"));
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_exact_headers(&r.headers, &with_defaults(&[("allow", "GET")]));
}

#[actix_web::test]
async fn an_extractor_400_has_the_defaults() {
    let app = app!(mw());
    let r = send!(&app, atest::TestRequest::get().uri("/query?n=abc"));
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_exact_headers(&r.headers, &with_defaults(&[PLAIN]));
    let r = send!(&app, atest::TestRequest::get().uri("/query?n=7"));
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "7"));
}

/// An inner middleware that answers `Err(..)` (instead of an error response): the error keeps
/// its type, and the response actix-web's server makes of it carries the headers.
#[actix_web::test]
async fn an_err_from_inner_middleware_gets_the_headers_too() {
    let app = atest::init_service(
        App::new()
            .configure(crate::routes)
            .wrap_fn(|req, srv| {
                let fail = req.path() == "/html" && req.query_string() == "deny";
                let fut = srv.call(req);
                async move {
                    if fail {
                        Err(Error::Forbidden.into())
                    } else {
                        fut.await
                    }
                }
            })
            .wrap(mw()),
    )
    .await;

    let err = atest::try_call_service(
        &app,
        atest::TestRequest::get().uri("/html?deny").to_request(),
    )
    .await
    .map(|_| ())
    .expect_err("the inner middleware fails");
    assert!(matches!(err.as_error::<Error>(), Some(Error::Forbidden)));
    // What the HTTP server sends for an `Err`: `Error::error_response()`.
    let res = err.error_response();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_exact_headers(res.headers(), &with_defaults(&[PLAIN, NO_STORE]));
    assert_eq!(
        Error::Forbidden
            .error_response()
            .headers()
            .get(header::X_FRAME_OPTIONS),
        None,
        "the headers come from the middleware, not the error type"
    );

    let r = send!(&app, atest::TestRequest::get().uri("/html"));
    assert_eq!(r.status, 200);
}

#[actix_web::test]
async fn head_and_options_requests_get_the_headers() {
    let app = app!(mw());
    let r = send!(
        &app,
        atest::TestRequest::default()
            .method(actix_web::http::Method::HEAD)
            .uri("/html")
    );
    let r2 = send!(
        &app,
        atest::TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/json")
    );
    for reply in [r, r2] {
        for (name, value) in crate::DEFAULTS {
            assert_eq!(
                reply.header(name).as_deref(),
                Some(value),
                "{name} in {reply:?}"
            );
        }
    }
}
