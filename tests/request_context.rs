//! `RequestContextMiddleware`: request ids, client IP, extractor and extension trait.

use std::{
    io,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
};

use actix_web::{
    body::to_bytes,
    dev::{Service, ServiceResponse},
    http::StatusCode,
    test as atest, web, App, HttpRequest, HttpResponse,
};
use warden::{
    ClientIpResolver, Error, ForwardedHeader, RequestContext, RequestContextExt,
    RequestContextMiddleware, RequestId, TrustedProxies,
};

const TRUSTED_PEER: &str = "10.0.0.2:5000";
const UNTRUSTED_PEER: &str = "203.0.113.9:5000";

fn resolver() -> ClientIpResolver {
    ClientIpResolver::new(
        TrustedProxies::parse(["10.0.0.0/8"]).expect("proxies"),
        ForwardedHeader::XForwardedFor,
    )
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("socket address")
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

/// Echoes what the extractor and the extension trait see.
async fn echo(ctx: RequestContext, req: HttpRequest) -> HttpResponse {
    let via_ext = req.request_context().expect("context via extension trait");
    assert_eq!(via_ext, ctx);
    HttpResponse::Ok().body(format!(
        "{}|{:?}|{:?}",
        ctx.request_id, ctx.client_ip, ctx.peer_ip
    ))
}

async fn fails() -> Result<HttpResponse, Error> {
    Err(Error::Forbidden)
}

macro_rules! app {
    ($mw:expr) => {
        atest::init_service(
            App::new()
                .route("/", web::get().to(echo))
                .route("/fail", web::get().to(fails))
                .wrap($mw),
        )
        .await
    };
}

async fn body_of<B: actix_web::body::MessageBody>(res: ServiceResponse<B>) -> String {
    let bytes = to_bytes(res.into_body())
        .await
        .unwrap_or_else(|_| panic!("body"));
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

fn header<B>(res: &ServiceResponse<B>, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii header").to_owned())
}

fn is_generated(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[actix_web::test]
async fn generates_a_32_hex_id_that_differs_per_request() {
    let app = app!(RequestContextMiddleware::new(resolver()));
    let mut seen = Vec::new();
    for _ in 0..3 {
        let req = atest::TestRequest::get()
            .uri("/")
            .peer_addr(addr(UNTRUSTED_PEER))
            .to_request();
        let res = atest::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::OK);
        let id = header(&res, "x-request-id").expect("x-request-id header");
        assert!(is_generated(&id), "{id}");
        let body = body_of(res).await;
        assert_eq!(
            body,
            format!("{id}|Some(203.0.113.9)|Some(203.0.113.9)"),
            "handler sees the same id"
        );
        assert!(!seen.contains(&id));
        seen.push(id);
    }
}

#[actix_web::test]
async fn id_from_untrusted_peer_is_not_echoed() {
    let app = app!(RequestContextMiddleware::new(resolver()));
    let req = atest::TestRequest::get()
        .uri("/")
        .peer_addr(addr(UNTRUSTED_PEER))
        .insert_header(("x-request-id", "attacker-chosen-id"))
        .insert_header(("x-forwarded-for", "10.9.9.9"))
        .to_request();
    let res = atest::call_service(&app, req).await;
    let id = header(&res, "x-request-id").expect("id");
    assert_ne!(id, "attacker-chosen-id");
    assert!(is_generated(&id));
    // The spoofed forwarding header is ignored too.
    assert_eq!(
        body_of(res).await,
        format!("{id}|Some(203.0.113.9)|Some(203.0.113.9)")
    );
}

#[actix_web::test]
async fn valid_id_from_trusted_peer_is_kept_and_client_ip_resolved() {
    let app = app!(RequestContextMiddleware::new(resolver()));
    let req = atest::TestRequest::get()
        .uri("/")
        .peer_addr(addr(TRUSTED_PEER))
        .insert_header(("x-request-id", "lb-7f3a.42:x_y-Z"))
        .insert_header(("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.1.1.1"))
        .to_request();
    let res = atest::call_service(&app, req).await;
    assert_eq!(
        header(&res, "x-request-id").as_deref(),
        Some("lb-7f3a.42:x_y-Z")
    );
    assert_eq!(
        body_of(res).await,
        "lb-7f3a.42:x_y-Z|Some(198.51.100.7)|Some(10.0.0.2)"
    );
}

#[actix_web::test]
async fn invalid_id_from_trusted_peer_is_replaced() {
    let app = app!(RequestContextMiddleware::new(resolver()));
    let too_long = "a".repeat(129);
    for bad in [
        "has space",
        "semi;colon",
        "quote\"d",
        "tab\there",
        "",
        too_long.as_str(),
    ] {
        let req = atest::TestRequest::get()
            .uri("/")
            .peer_addr(addr(TRUSTED_PEER))
            .insert_header(("x-request-id", bad))
            .to_request();
        let res = atest::call_service(&app, req).await;
        let id = header(&res, "x-request-id").expect("id");
        assert_ne!(id, bad);
        assert!(is_generated(&id), "{bad:?} -> {id}");
    }
    // Non-ASCII bytes (as a proxy could pass through) are rejected as well.
    let req = atest::TestRequest::get()
        .uri("/")
        .peer_addr(addr(TRUSTED_PEER))
        .insert_header((
            "x-request-id",
            actix_web::http::header::HeaderValue::from_bytes(b"id\xff\xfe").expect("value"),
        ))
        .to_request();
    let res = atest::call_service(&app, req).await;
    assert!(is_generated(&header(&res, "x-request-id").expect("id")));
    // 128 characters is the limit.
    let max = "b".repeat(128);
    let req = atest::TestRequest::get()
        .uri("/")
        .peer_addr(addr(TRUSTED_PEER))
        .insert_header(("x-request-id", max.as_str()))
        .to_request();
    let res = atest::call_service(&app, req).await;
    assert_eq!(header(&res, "x-request-id"), Some(max));
}

#[test]
fn request_id_parse_rejects_injection() {
    assert!(RequestId::parse("ok-1.2_3:4").is_some());
    for bad in ["a\r\nSet-Cookie: x", "a\nb", "a b", "", "é", "a,b", "a/b"] {
        assert!(RequestId::parse(bad).is_none(), "{bad:?}");
    }
    assert!(RequestId::parse(&"x".repeat(128)).is_some());
    assert!(RequestId::parse(&"x".repeat(129)).is_none());
    let id = RequestId::generate();
    assert!(is_generated(id.as_str()));
    assert_eq!(id.to_string(), id.as_str());
    assert_eq!(
        serde_json::to_string(&id).expect("json"),
        format!("\"{}\"", id.as_str())
    );
}

#[actix_web::test]
async fn custom_header_and_untrusting_mode() {
    let mw = RequestContextMiddleware::new(resolver())
        .request_id_header("X-Correlation-Id")
        .trust_request_id(false);
    let app = app!(mw);
    let req = atest::TestRequest::get()
        .uri("/")
        .peer_addr(addr(TRUSTED_PEER))
        .insert_header(("x-correlation-id", "from-proxy"))
        .to_request();
    let res = atest::call_service(&app, req).await;
    assert!(res.headers().get("x-request-id").is_none());
    let id = header(&res, "x-correlation-id").expect("custom header");
    assert!(is_generated(&id), "{id}");
    assert!(RequestContextMiddleware::new(resolver())
        .try_request_id_header("bad header")
        .is_err());
}

#[actix_web::test]
async fn id_header_is_set_on_error_responses() {
    let app = app!(RequestContextMiddleware::new(resolver()));
    let req = atest::TestRequest::get()
        .uri("/fail")
        .peer_addr(addr(UNTRUSTED_PEER))
        .to_request();
    let res = atest::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(is_generated(&header(&res, "x-request-id").expect("id")));
    // Unknown route (404 from actix-web's default service).
    let req = atest::TestRequest::get()
        .uri("/nope")
        .peer_addr(addr(UNTRUSTED_PEER))
        .to_request();
    let res = atest::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(is_generated(&header(&res, "x-request-id").expect("id")));
}

#[actix_web::test]
async fn id_header_is_set_when_inner_service_returns_err() {
    // An inner middleware that fails with Err (not a response).
    let app = atest::init_service(
        App::new()
            .route("/", web::get().to(echo))
            .wrap_fn(|_req, _srv| async { Err::<ServiceResponse, _>(Error::BadRequest.into()) })
            .wrap(RequestContextMiddleware::new(resolver())),
    )
    .await;
    let req = atest::TestRequest::get()
        .uri("/")
        .peer_addr(addr(UNTRUSTED_PEER))
        .to_request();
    let err = match app.call(req).await {
        Ok(_) => panic!("the inner error is passed on"),
        Err(err) => err,
    };
    assert_eq!(
        err.as_response_error().status_code(),
        StatusCode::BAD_REQUEST
    );
    let res = err.error_response();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let id = res
        .headers()
        .get("x-request-id")
        .expect("id")
        .to_str()
        .expect("ascii");
    assert!(is_generated(id));
    let body = to_bytes(res.into_body())
        .await
        .unwrap_or_else(|_| panic!("body"));
    assert_eq!(&body[..], b"Bad Request");
}

#[actix_web::test]
async fn no_peer_address_gives_no_ips() {
    let app = app!(RequestContextMiddleware::new(resolver()));
    let req = atest::TestRequest::get().uri("/").to_request();
    let res = atest::call_service(&app, req).await;
    let id = header(&res, "x-request-id").expect("id");
    assert_eq!(body_of(res).await, format!("{id}|None|None"));
}

#[actix_web::test]
async fn ipv4_mapped_peer_is_normalised() {
    let app = app!(RequestContextMiddleware::new(resolver()));
    let req = atest::TestRequest::get()
        .uri("/")
        .peer_addr(addr("[::ffff:10.0.0.2]:5000"))
        .insert_header(("x-forwarded-for", "198.51.100.7"))
        .insert_header(("x-request-id", "kept"))
        .to_request();
    let res = atest::call_service(&app, req).await;
    assert_eq!(header(&res, "x-request-id").as_deref(), Some("kept"));
    assert_eq!(body_of(res).await, "kept|Some(198.51.100.7)|Some(10.0.0.2)");
    let _ = ip("10.0.0.2");
}

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

#[actix_web::test]
async fn extractor_without_middleware_is_an_opaque_500_logged_once() {
    let logs = LogBuf::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = atest::init_service(App::new().route("/", web::get().to(echo))).await;
    for _ in 0..3 {
        let req = atest::TestRequest::get()
            .uri("/")
            .peer_addr(addr(UNTRUSTED_PEER))
            .to_request();
        let res = atest::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(res.headers().get("x-request-id").is_none());
        let body = body_of(res).await;
        assert_eq!(body, "Internal Server Error");
    }
    let text = String::from_utf8_lossy(&logs.0.lock().expect("logs")).into_owned();
    assert_eq!(
        text.matches("requires RequestContextMiddleware").count(),
        1,
        "{text}"
    );
    assert!(text.contains("ERROR"), "{text}");
}

#[actix_web::test]
async fn extension_trait_works_on_service_request() {
    let app = atest::init_service(
        App::new()
            .route("/", web::get().to(HttpResponse::Ok))
            .wrap_fn(|req, srv| {
                let ip = req.request_context().and_then(|ctx| ctx.client_ip);
                let fut = srv.call(req);
                async move {
                    let mut res = fut.await?;
                    let value = format!("{ip:?}");
                    res.headers_mut().insert(
                        actix_web::http::header::HeaderName::from_static("x-seen-ip"),
                        actix_web::http::header::HeaderValue::from_str(&value)
                            .map_err(actix_web::error::ErrorInternalServerError)?,
                    );
                    Ok(res)
                }
            })
            .wrap(RequestContextMiddleware::new(resolver())),
    )
    .await;
    let req = atest::TestRequest::get()
        .uri("/")
        .peer_addr(addr(TRUSTED_PEER))
        .insert_header(("x-forwarded-for", "198.51.100.7"))
        .to_request();
    let res = atest::call_service(&app, req).await;
    assert_eq!(
        header(&res, "x-seen-ip").as_deref(),
        Some("Some(198.51.100.7)")
    );
}
