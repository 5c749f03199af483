//! Bodies: the token field is read from urlencoded and multipart bodies, which the handler then
//! receives byte for byte; oversized bodies are a 413 (with and without `Content-Length`), an
//! unreadable one is not a 500; JSON and other bodies need the header.

use std::pin::Pin;

use actix_web::{
    dev::Payload,
    error::PayloadError,
    http::header::{self, HeaderValue},
    test as atest,
    web::Bytes,
};
use futures_util::Stream;

use crate::{common::CookieJar, common::Reply, get, post, with_token, Env, FIELD};

/// The body limit of [`small_env`].
const LIMIT: usize = 1024;

/// An environment with `csrf.body_limit = 1024` (the smallest accepted).
async fn small_env() -> Env {
    Env::with(|raw| raw.csrf.body_limit = LIMIT).await
}

/// A browser with a session and a valid token: evaluates to `(jar, token)`.
macro_rules! with_session {
    ($app:expr, $env:expr) => {{
        let mut jar = CookieJar::new();
        let r = browse!($app, jar, get("/start"));
        assert_eq!(r.status, 200, "{r:?}");
        let t = token!($app, jar);
        $env.new_csrf_events().await;
        (jar, t)
    }};
}

/// Turns a `TestRequest` into a request whose body arrives as `chunks` (chunked transfer
/// encoding, no `Content-Length`), possibly ending in an error.
macro_rules! streamed {
    ($req:expr, $chunks:expr) => {{
        let mut r = $req.to_request();
        r.headers_mut().remove(header::CONTENT_LENGTH);
        r.headers_mut().insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        let chunks: Vec<Result<Bytes, PayloadError>> = $chunks;
        let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
            Box::pin(futures_util::stream::iter(chunks));
        let (r, _) = r.replace_payload(Payload::from(stream));
        r
    }};
}

/// Sends a streamed request (see [`streamed!`]) and reads the reply.
macro_rules! send_streamed {
    ($app:expr, $req:expr, $chunks:expr) => {
        Reply::read(atest::call_service($app, streamed!($req, $chunks)).await).await
    };
}

/// A `multipart/form-data` body with `boundary`: `(name, filename, content)` parts.
fn multipart(boundary: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, filename, content) in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => out.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        out.extend_from_slice(content);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

/// `POST /echo` with a raw body and content type.
fn post_raw(content_type: &str, body: impl Into<Bytes>) -> atest::TestRequest {
    post("/echo")
        .insert_header((header::CONTENT_TYPE, content_type.to_owned()))
        .set_payload(body)
}

#[actix_web::test]
async fn a_urlencoded_body_reaches_the_handler_intact() {
    let env = Env::new().await;
    let app = app!(env);
    let (mut jar, t) = with_session!(&app, env);
    // The token in the middle, encoded characters around it, a repeated key.
    let body =
        format!("note=a+b%26c%3D%E2%9C%93&{FIELD}={t}&list=1&list=2&empty=&flag&tail=%25%2B");
    let ct = "application/x-www-form-urlencoded; charset=UTF-8";
    let r = browse!(&app, jar, post_raw(ct, body.clone()));
    env.assert_passed(&r, "urlencoded").await;
    assert_eq!(r.body, body, "the handler gets the exact bytes");
    assert_eq!(r.header("x-echo-content-type").as_deref(), Some(ct));
    // The field first and last.
    for body in [
        format!("{FIELD}={t}&x=1"),
        format!("x=1&{FIELD}={t}"),
        format!("{FIELD}={t}"),
    ] {
        let r = browse!(
            &app,
            jar,
            post_raw("application/x-www-form-urlencoded", body.clone())
        );
        env.assert_passed(&r, &body).await;
        assert_eq!(r.body, body);
    }
    // A typed extractor (web::Form) works after the middleware read the body: the login
    // handler parses its form; see login.rs. Here: a body read in chunks.
    let body = format!("a=1&{FIELD}={t}&b=2");
    let (first, second) = body.split_at(20);
    let r = send_streamed!(
        &app,
        jar.apply(
            post("/echo")
                .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        ),
        vec![
            Ok(Bytes::copy_from_slice(first.as_bytes())),
            Ok(Bytes::copy_from_slice(second.as_bytes())),
        ]
    );
    env.assert_passed(&r, "chunked urlencoded").await;
    assert_eq!(r.body, body);
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn a_multipart_body_with_the_token_field_passes_intact() {
    let env = Env::new().await;
    let app = app!(env);
    let (mut jar, t) = with_session!(&app, env);
    let boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
    // A binary file (containing CRLFs, a fake boundary prefix and the field name) before the
    // token field.
    let file: Vec<u8> = b"\x00\x01\r\n--not-the-boundary\r\ncsrf_token\r\n\xff\xfe"
        .iter()
        .copied()
        .chain((0..=255u8).cycle().take(4096))
        .collect();
    let body = multipart(
        boundary,
        &[
            ("title", None, "Résumé".as_bytes()),
            ("upload", Some("cv.bin"), &file),
            (FIELD, None, t.as_bytes()),
            ("after", None, b"tail"),
        ],
    );
    let ct = format!("multipart/form-data; boundary={boundary}");
    // Read raw: the body is binary.
    let res = atest::call_service(&app, jar.apply(post_raw(&ct, body.clone())).to_request()).await;
    assert_eq!(res.status(), 200);
    let echoed = atest::read_body(res).await;
    assert_eq!(&echoed[..], &body[..], "the handler gets the exact bytes");
    assert!(env.new_csrf_events().await.is_empty());

    // The quoted boundary form works too.
    let ct_quoted = format!("multipart/form-data; boundary=\"{boundary}\"");
    let r = browse!(&app, jar, post_raw(&ct_quoted, body.clone()));
    env.assert_passed(&r, "quoted boundary").await;
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn a_multipart_body_without_a_usable_token_field_is_refused() {
    let env = Env::new().await;
    let app = app!(env);
    let (mut jar, t) = with_session!(&app, env);
    let b = "XyZ123";
    let ct = format!("multipart/form-data; boundary={b}");
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "no field",
            multipart(b, &[("title", None, b"x")]),
            "csrf.reject.missing",
            "token_missing",
        ),
        (
            "token only as a file",
            multipart(b, &[(FIELD, Some("t.txt"), t.as_bytes())]),
            "csrf.reject.missing",
            "token_missing",
        ),
        (
            "look-alike name",
            multipart(b, &[("xcsrf_token", None, t.as_bytes())]),
            "csrf.reject.missing",
            "token_missing",
        ),
        (
            "truncated before the field is closed",
            {
                let mut m = multipart(b, &[(FIELD, None, t.as_bytes())]);
                m.truncate(m.len() - 12);
                m
            },
            "csrf.reject.missing",
            "token_missing",
        ),
        (
            "a wrong token",
            multipart(b, &[(FIELD, None, crate::foreign_token().as_bytes())]),
            "csrf.reject.invalid",
            "token_mismatch",
        ),
    ];
    for (what, body, name, reason) in cases {
        let r = browse!(&app, jar, post_raw(&ct, body));
        env.assert_refused(&r, name, reason, &[&t], what).await;
    }
    // Another boundary than the one declared.
    let body = multipart("Other", &[(FIELD, None, t.as_bytes())]);
    let r = browse!(&app, jar, post_raw(&ct, body));
    env.assert_refused(
        &r,
        "csrf.reject.missing",
        "token_missing",
        &[&t],
        "wrong boundary",
    )
    .await;
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn json_and_other_bodies_need_the_header() {
    let env = Env::new().await;
    let app = app!(env);
    let (mut jar, t) = with_session!(&app, env);
    let json = format!(r#"{{"{FIELD}":"{t}","x":1}}"#);
    let form_like = format!("{FIELD}={t}");
    let cases = [
        ("application/json", json.as_str()),
        ("application/json; charset=utf-8", json.as_str()),
        ("text/plain", form_like.as_str()),
        ("application/x-www-form-urlencodedx", form_like.as_str()),
        ("application/xml", form_like.as_str()),
    ];
    for (ct, body) in cases {
        let r = browse!(&app, jar, post_raw(ct, body.to_owned()));
        env.assert_refused(&r, "csrf.reject.missing", "token_missing", &[&t], ct)
            .await;
    }
    // No Content-Type at all.
    let r = browse!(&app, jar, post("/echo").set_payload(form_like.clone()));
    env.assert_refused(
        &r,
        "csrf.reject.missing",
        "token_missing",
        &[&t],
        "no content type",
    )
    .await;
    // With the header, JSON passes, untouched.
    let r = browse!(
        &app,
        jar,
        with_token(post_raw("application/json", json.clone()), &t)
    );
    env.assert_passed(&r, "JSON with header").await;
    assert_eq!(r.body, json);
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn an_oversized_body_is_a_413_with_a_content_length() {
    let env = small_env().await;
    let app = app!(env);
    let (mut jar, t) = with_session!(&app, env);
    let big = format!("{FIELD}={t}&pad={}", "x".repeat(LIMIT));
    assert!(big.len() > LIMIT);
    let r = browse!(
        &app,
        jar,
        post_raw("application/x-www-form-urlencoded", big.clone())
    );
    assert_eq!(r.status, 413, "{r:?}");
    env.assert_refusal_event(
        &r,
        "csrf.reject.missing",
        "body_too_large",
        &[&t],
        "urlencoded",
    )
    .await;
    let body = multipart(
        "B0undary",
        &[
            (FIELD, None, t.as_bytes()),
            ("f", Some("a"), &[b'y'; LIMIT]),
        ],
    );
    let r = browse!(
        &app,
        jar,
        post_raw("multipart/form-data; boundary=B0undary", body)
    );
    assert_eq!(r.status, 413, "{r:?}");
    env.assert_refusal_event(
        &r,
        "csrf.reject.missing",
        "body_too_large",
        &[&t],
        "multipart",
    )
    .await;

    // Exactly at the limit: read, and the token found.
    let head = format!("{FIELD}={t}&pad=");
    let exact = format!("{head}{}", "x".repeat(LIMIT - head.len()));
    assert_eq!(exact.len(), LIMIT);
    let r = browse!(
        &app,
        jar,
        post_raw("application/x-www-form-urlencoded", exact.clone())
    );
    env.assert_passed(&r, "exactly the limit").await;
    assert_eq!(r.body, exact);

    // With the header the middleware does not need the body: a large form passes on to the
    // handler whole.
    let r = browse!(
        &app,
        jar,
        with_token(
            post_raw("application/x-www-form-urlencoded", big.clone()),
            &t
        )
    );
    env.assert_passed(&r, "header, big body").await;
    assert_eq!(r.body, big);
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn an_oversized_body_is_a_413_without_a_content_length() {
    let env = small_env().await;
    let app = app!(env);
    let (jar, t) = with_session!(&app, env);
    let form = || {
        jar.apply(
            post("/echo")
                .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded")),
        )
    };
    // The token comes first; the body then grows past the limit in chunks.
    let mut chunks = vec![Ok(Bytes::from(format!("{FIELD}={t}&pad=")))];
    chunks.extend((0..8).map(|_| Ok(Bytes::from(vec![b'x'; 256]))));
    let r = send_streamed!(&app, form(), chunks);
    assert_eq!(r.status, 413, "{r:?}");
    env.assert_refusal_event(
        &r,
        "csrf.reject.missing",
        "body_too_large",
        &[&t],
        "chunked",
    )
    .await;
    // One single chunk larger than the limit.
    let r = send_streamed!(
        &app,
        form(),
        vec![Ok(Bytes::from(format!(
            "{FIELD}={t}&pad={}",
            "x".repeat(LIMIT)
        )))]
    );
    assert_eq!(r.status, 413, "{r:?}");
    env.assert_refusal_event(
        &r,
        "csrf.reject.missing",
        "body_too_large",
        &[&t],
        "one big chunk",
    )
    .await;
    // Under the limit in many small chunks: fine, and intact.
    let body = format!("{FIELD}={t}&pad={}", "z".repeat(500));
    let chunks = body
        .as_bytes()
        .chunks(7)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let r = send_streamed!(&app, form(), chunks);
    env.assert_passed(&r, "small chunks").await;
    assert_eq!(r.body, body);
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn a_lying_content_length_is_not_trusted_to_skip_the_limit() {
    let env = small_env().await;
    let app = app!(env);
    let (jar, t) = with_session!(&app, env);
    // `Content-Length: 10` on a body far larger: the reader still stops at the limit.
    let body = format!("{FIELD}={t}&pad={}", "x".repeat(4 * LIMIT));
    let mut req = streamed!(
        jar.apply(
            post("/echo")
                .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded",))
        ),
        vec![Ok(Bytes::from(body))]
    );
    req.headers_mut().remove(header::TRANSFER_ENCODING);
    req.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("10"));
    let r = Reply::read(atest::call_service(&app, req).await).await;
    assert_eq!(r.status, 413, "{r:?}");
    env.assert_refusal_event(
        &r,
        "csrf.reject.missing",
        "body_too_large",
        &[&t],
        "lying length",
    )
    .await;
    env.warden.shutdown().await;
}

/// A body that fails half-way (a client that disconnects, a broken chunked encoding) is a 400,
/// never a 500 and never a pass (attack test §2.4.15, Django's
/// `test_reading_post_data_raises_unreadable_post_error`).
///
/// BUG (pinned, fails on the event's reason only): the event says `details.reason = "body_too_large"`
/// for a body that was not too large but unreadable. src/csrf/middleware.rs, `Shared::check`:
/// every `Err(status)` of `token_from_body` (413 *and* the 400 for a payload error) is
/// recorded with `.detail("reason", "body_too_large")`. Suggested fix: derive the reason from
/// the status (`body_unreadable` for 400).
#[actix_web::test]
async fn an_unreadable_body_is_a_400_not_a_500() {
    let env = Env::new().await;
    let app = app!(env);
    let (jar, t) = with_session!(&app, env);
    let r = send_streamed!(
        &app,
        jar.apply(
            post("/echo")
                .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded",))
        ),
        vec![
            Ok(Bytes::from(format!("{FIELD}={t}&a="))),
            Err(PayloadError::Incomplete(None)),
        ]
    );
    assert_eq!(r.status, 400, "{r:?}");
    assert!(
        r.header("x-echo-method").is_none(),
        "the handler must not run"
    );
    crate::assert_generic(&r, "unreadable body");
    let evs = env.new_csrf_events().await;
    assert_eq!(evs.len(), 1, "{evs:?}");
    assert_eq!(evs[0].event.name, "csrf.reject.missing", "{evs:?}");
    assert!(!evs[0].to_json_line().contains(&t));
    assert_ne!(
        evs[0].event.details["reason"], "body_too_large",
        "a 400 for an unreadable body is recorded as body_too_large: {evs:?}"
    );
    env.warden.shutdown().await;
}
