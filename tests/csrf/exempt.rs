//! Exemptions: `csrf.exempt_paths` matched after normalisation (path tricks do not inherit an
//! exemption, attack test §2.4.11), and bearer-only requests (no cookies) skipping the token.
//!
//! What actix-web's router does with tricky paths, and so what these tests can show: it
//! percent-decodes the path (except `%2F` and `%25`) before matching, and it does not resolve
//! `.`/`..` segments or merge slashes (no `NormalizePath` here). So `/%65cho` reaches `/echo`
//! and `/hook%73/github` reaches `/hooks/github`, while `/hooks/../echo` or `//hooks/github`
//! reach no route at all (404). The CSRF check runs before routing, so for every trick that
//! normalises *out of* the exempt prefix the proof is the 403 (not exempt) whatever the router
//! would have done; for spellings that normalise *into* it, the request is exempt and reaches
//! the exempt hook or nothing, never a protected handler.

use actix_web::http::{header, Method, StatusCode};
use serde_json::Value;

use crate::{
    bare, common::CookieJar, get, post, post_from, same_origin, with_token, Env, EVIL, ORIGIN,
};

#[actix_web::test]
async fn an_exempt_path_passes_without_a_token_and_gets_its_body() {
    let env = Env::new().await;
    let app = app!(env);
    // A webhook: no cookies, no token, no Origin, JSON.
    let r = send!(
        &app,
        bare(Method::POST, "/hooks/github")
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload(r#"{"action":"opened"}"#)
    );
    env.assert_passed(&r, "webhook").await;
    assert_eq!(r.body, r#"hook:{"action":"opened"}"#);
    // Even cross-site and from a browser with a session: the path is exempt (step 1).
    let mut jar = CookieJar::new();
    browse!(&app, jar, get("/start"));
    let r = browse!(
        &app,
        jar,
        post_from("/hooks/github", "cross-site", EVIL).set_form([("a", "b")])
    );
    env.assert_passed(&r, "cross-site to the webhook").await;
    assert_eq!(r.body, "hook:a=b");
    // The query string does not matter.
    let r = send!(
        &app,
        bare(Method::POST, "/hooks/github?x=1").set_payload("q")
    );
    env.assert_passed(&r, "with a query").await;
    assert_eq!(r.body, "hook:q");
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn path_tricks_do_not_inherit_the_exemption() {
    let env = Env::new().await;
    let app = app!(env);
    let tricks = [
        "/hooks/../echo",
        "/hooks/github/../../echo",
        "/hooks/%2e%2e/echo",
        "/hooks/%2E%2E/echo",
        "/hooks/.%2e/echo",
        "/hooks/%2e./echo",
        "/hooks%2Fgithub",
        "/hooks%2fgithub",
        "/hooks%252Fgithub",
        "/hooks/%252e%252e/echo",
        "/hooks/..;/echo",
        "/hooks/.;/github",
        "/hooks/.../echo",
        "/HOOKS/github",
        "/Hooks/github",
        "/hooks",
        "/hooks/",
        "/hooks/%00",
        "/hooks/%0a/github",
        "/hooksgithub",
        "/hooks-github",
    ];
    for path in tricks {
        // No token, from a browser page of the app: only an exemption could let it through.
        let r = send!(&app, same_origin(Method::POST, path).set_payload("x"));
        let ev = env
            .assert_refused(&r, "csrf.reject.missing", "token_missing", &[], path)
            .await;
        assert!(
            ev.event.path.is_some(),
            "{path}: the event names the path: {ev:?}"
        );
    }
    // Outside the exempt prefix, a protected route reached through encoding is protected.
    for path in ["/%65cho", "/ech%6F", "/echo?/hooks/github"] {
        let r = send!(&app, same_origin(Method::POST, path).set_payload("x"));
        env.assert_refused(&r, "csrf.reject.missing", "token_missing", &[], path)
            .await;
    }
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn a_percent_encoded_protected_route_is_routed_and_checked() {
    let env = Env::new().await;
    let app = app!(env);
    let mut jar = CookieJar::new();
    browse!(&app, jar, get("/start"));
    let t = token!(&app, jar);
    env.new_csrf_events().await;
    // actix-web routes `/%65cho` to `/echo`: without the token it is refused, with it handled.
    let r = browse!(&app, jar, post("/%65cho").set_payload("x"));
    env.assert_refused(&r, "csrf.reject.missing", "token_missing", &[&t], "/%65cho")
        .await;
    let r = browse!(&app, jar, with_token(post("/%65cho"), &t).set_payload("x"));
    env.assert_passed(&r, "/%65cho with token").await;
    assert_eq!(r.body, "x");
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn spellings_that_normalise_into_the_exempt_prefix_reach_only_the_exempt_route() {
    let env = Env::new().await;
    let app = app!(env);
    // (path, what actix-web does with it once the CSRF layer let it through)
    let cases = [
        ("/hook%73/github", 200),
        ("/%68ooks/github", 200),
        ("//hooks/github", 404),
        ("/hooks//github", 404),
        ("/hooks/./github", 404),
        ("/hooks/x/../github", 404),
        ("/./hooks/github", 404),
        ("/hooks/github/", 404),
        ("/hooks/unknown", 404),
    ];
    for (path, status) in cases {
        let r = send!(&app, bare(Method::POST, path).set_payload("p"));
        // Exempt after normalisation: no CSRF refusal, and only the hook may answer.
        assert_eq!(r.status.as_u16(), status, "{path}: {r:?}");
        if r.status == StatusCode::OK {
            assert_eq!(r.body, "hook:p", "{path}");
        }
        assert!(env.new_csrf_events().await.is_empty(), "{path}");
    }
    env.warden.shutdown().await;
}

/// Logs alice in in `$jar` and issues an API token through `POST /api/tokens` (which itself
/// needs the CSRF token); evaluates to the bearer token.
macro_rules! api_token {
    ($app:expr, $jar:expr) => {{
        log_in!($app, $jar);
        let t = token!($app, $jar);
        let r = browse!($app, $jar, with_token(post("/api/tokens"), &t));
        assert_eq!(r.status, 201, "{r:?}");
        let v: Value = serde_json::from_str(&r.body).unwrap();
        v["token"].as_str().unwrap().to_owned()
    }};
}

/// `POST /api/thing` with `Authorization: Bearer <token>` and nothing else.
fn bearer_post(token: &str) -> actix_web::test::TestRequest {
    bare(Method::POST, "/api/thing")
        .insert_header((header::AUTHORIZATION, format!("Bearer {token}")))
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload("{}")
}

#[actix_web::test]
async fn a_bearer_only_request_skips_the_token_but_bearer_with_cookies_does_not() {
    let env = Env::new().await;
    let app = app!(env);
    let mut jar = CookieJar::new();
    // Issuing the token from the browser without the CSRF token is refused.
    log_in!(&app, jar);
    env.new_csrf_events().await;
    let r = browse!(&app, jar, post("/api/tokens"));
    env.assert_refused(&r, "csrf.reject.missing", "token_missing", &[], "issue")
        .await;
    let bearer = api_token!(&app, jar);
    env.new_csrf_events().await;

    // A machine client: bearer, no cookies, no token, no Origin.
    let r = send!(&app, bearer_post(&bearer));
    env.assert_passed(&r, "bearer only").await;
    assert_eq!(r.body, "thing for alice via bearer");
    // Case-insensitive scheme, as the auth middleware accepts it.
    let r = send!(
        &app,
        bare(Method::POST, "/api/thing")
            .insert_header((header::AUTHORIZATION, format!("bearer {bearer}")))
    );
    env.assert_passed(&r, "lowercase scheme").await;

    // Bearer plus the browser's cookies: a browser could be made to send this; checked.
    let r = send!(&app, jar.apply(bearer_post(&bearer)));
    env.assert_refused(
        &r,
        "csrf.reject.origin",
        "referer_missing",
        &[&bearer],
        "bearer + cookies, no Origin",
    )
    .await;
    let r = send!(
        &app,
        jar.apply(
            bearer_post(&bearer)
                .insert_header((header::ORIGIN, ORIGIN))
                .insert_header(("sec-fetch-site", "same-origin"))
        )
    );
    let ev = env
        .assert_refused(
            &r,
            "csrf.reject.missing",
            "token_missing",
            &[&bearer],
            "bearer + cookies, same-origin, no token",
        )
        .await;
    assert!(!ev.to_json_line().contains(&bearer));
    // Any cookie counts, not only the session's.
    let r = send!(
        &app,
        bearer_post(&bearer)
            .insert_header(("cookie", "theme=dark"))
            .insert_header((header::ORIGIN, ORIGIN))
    );
    env.assert_refused(
        &r,
        "csrf.reject.missing",
        "token_missing",
        &[&bearer],
        "bearer + unrelated cookie",
    )
    .await;
    // With the CSRF token as well, it passes (and the bearer authenticates).
    let t = token!(&app, jar);
    env.new_csrf_events().await;
    let r = send!(
        &app,
        jar.apply(with_token(
            bearer_post(&bearer)
                .insert_header((header::ORIGIN, ORIGIN))
                .insert_header(("sec-fetch-site", "same-origin")),
            &t
        ))
    );
    env.assert_passed(&r, "bearer + cookies + token").await;
    assert_eq!(r.body, "thing for alice via bearer");

    // Another scheme is not a bearer token.
    let r = send!(
        &app,
        bare(Method::POST, "/api/thing").insert_header((header::AUTHORIZATION, "Basic YTpi"))
    );
    env.assert_refused(
        &r,
        "csrf.reject.origin",
        "referer_missing",
        &[],
        "Basic, no cookies",
    )
    .await;
    // A bad bearer token without cookies is not exempt from authentication: 401, no handler.
    let r = send!(&app, bearer_post("wdn_not-a-real-token"));
    assert_eq!(r.status, 401, "{r:?}");
    assert!(env.new_csrf_events().await.is_empty());
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn bearer_requests_are_checked_when_bearer_exempt_is_off() {
    let env = Env::with(|raw| raw.csrf.bearer_exempt = false).await;
    let app = app!(env);
    let mut jar = CookieJar::new();
    let bearer = api_token!(&app, jar);
    env.new_csrf_events().await;
    let r = send!(&app, bearer_post(&bearer));
    env.assert_refused(
        &r,
        "csrf.reject.origin",
        "referer_missing",
        &[&bearer],
        "bearer only, no Origin",
    )
    .await;
    let r = send!(
        &app,
        bearer_post(&bearer).insert_header((header::ORIGIN, ORIGIN))
    );
    env.assert_refused(
        &r,
        "csrf.reject.missing",
        "token_missing",
        &[&bearer],
        "bearer only, own Origin",
    )
    .await;
    env.warden.shutdown().await;
}
