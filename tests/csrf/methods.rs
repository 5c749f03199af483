//! Which requests are checked: every method but GET, HEAD and OPTIONS (custom and lowercase
//! methods too); TRACE is a 405; method override headers and fields change nothing.

use actix_web::http::{header, Method};

use crate::{
    bare, common::CookieJar, get, post, propfind, same_origin, with_token, Env, EVIL, FIELD,
};

/// The methods that must carry a token.
fn unsafe_methods() -> Vec<Method> {
    vec![
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        propfind(),
    ]
}

#[actix_web::test]
async fn every_unsafe_method_is_checked() {
    let env = Env::new().await;
    let app = app!(env);
    let mut jar = CookieJar::new();
    browse!(&app, jar, get("/start"));
    let t = token!(&app, jar);
    env.new_csrf_events().await;

    for m in unsafe_methods() {
        let what = m.to_string();
        // Without a token.
        let r = browse!(
            &app,
            jar,
            same_origin(m.clone(), "/echo").set_payload("payload")
        );
        let ev = env
            .assert_refused(&r, "csrf.reject.missing", "token_missing", &[&t], &what)
            .await;
        assert_eq!(ev.event.method.as_deref(), Some(m.as_str()), "{what}");
        // With a wrong one.
        let r = browse!(
            &app,
            jar,
            with_token(same_origin(m.clone(), "/echo"), &crate::foreign_token())
        );
        env.assert_refused(&r, "csrf.reject.invalid", "token_mismatch", &[&t], &what)
            .await;
        // With the token: handled, with its body.
        let r = browse!(
            &app,
            jar,
            with_token(same_origin(m.clone(), "/echo"), &t).set_payload("payload")
        );
        env.assert_passed(&r, &what).await;
        assert_eq!(r.header("x-echo-method").as_deref(), Some(m.as_str()));
        assert_eq!(r.body, "payload", "{what}");
    }
    // A method no route knows is checked before routing: 403 without the token, and with it
    // the router's own answer (405), never a pass-through without a check.
    let purge = Method::from_bytes(b"PURGE").unwrap();
    let r = browse!(&app, jar, same_origin(purge.clone(), "/echo"));
    env.assert_refused(&r, "csrf.reject.missing", "token_missing", &[&t], "PURGE")
        .await;
    let r = browse!(&app, jar, with_token(same_origin(purge, "/echo"), &t));
    assert_eq!(r.status, 405, "{r:?}");
    assert!(env.new_csrf_events().await.is_empty());
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn methods_are_case_sensitive_so_lowercase_safe_names_are_checked() {
    // RFC 9110 §9.1: method names are case-sensitive; `get` is not GET (Spring's
    // doFilterDefaultRequireCsrfProtectionMatcherAllowedMethodsCaseSensitive).
    let env = Env::new().await;
    let app = app!(env);
    for m in ["get", "head", "options", "Get"] {
        let method = Method::from_bytes(m.as_bytes()).unwrap();
        let r = send!(&app, same_origin(method, "/echo"));
        env.assert_refused(&r, "csrf.reject.missing", "token_missing", &[], m)
            .await;
    }
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn get_head_and_options_pass_without_a_token_even_cross_site() {
    let env = Env::new().await;
    let app = app!(env);
    for m in [Method::GET, Method::HEAD, Method::OPTIONS] {
        let what = m.to_string();
        // A cross-site request from a foreign page, no session, no token.
        let r = send!(
            &app,
            bare(m.clone(), "/echo")
                .insert_header(("sec-fetch-site", "cross-site"))
                .insert_header((header::ORIGIN, EVIL))
        );
        env.assert_passed(&r, &what).await;
        assert_eq!(r.header("x-echo-method").as_deref(), Some(m.as_str()));
        // `Origin: null`, a foreign Referer: still not checked.
        let r = send!(
            &app,
            bare(m.clone(), "/echo")
                .insert_header((header::ORIGIN, "null"))
                .insert_header((header::REFERER, "https://evil.example/x"))
        );
        env.assert_passed(&r, &what).await;
    }
    // Safe requests create nothing server-side.
    assert_eq!(crate::session_records(&env.warden), 0);
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn trace_is_refused_with_a_405_even_with_a_token() {
    let env = Env::new().await;
    let app = app!(env);
    let mut jar = CookieJar::new();
    browse!(&app, jar, get("/start"));
    let t = token!(&app, jar);
    env.new_csrf_events().await;

    // The app routes TRACE to the echo handler: the middleware refuses before it.
    for req in [
        with_token(same_origin(Method::TRACE, "/echo"), &t),
        bare(Method::TRACE, "/echo"),
        bare(Method::TRACE, "/no-such-route"),
    ] {
        let r = browse!(&app, jar, req);
        assert_eq!(r.status, 405, "{r:?}");
        crate::assert_generic(&r, "TRACE");
        assert!(r.header("x-echo-method").is_none(), "handler ran: {r:?}");
    }
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn method_override_headers_and_fields_never_skip_the_check() {
    let env = Env::new().await;
    let app = app!(env);
    let mut jar = CookieJar::new();
    browse!(&app, jar, get("/start"));
    let t = token!(&app, jar);
    env.new_csrf_events().await;

    for h in [
        "X-HTTP-Method-Override",
        "X-HTTP-Method",
        "X-Method-Override",
    ] {
        for v in ["GET", "HEAD", "OPTIONS"] {
            let r = browse!(&app, jar, post("/echo").insert_header((h, v)));
            env.assert_refused(
                &r,
                "csrf.reject.missing",
                "token_missing",
                &[&t],
                &format!("{h}: {v}"),
            )
            .await;
        }
    }
    // `_method=GET` in the body or the query string (Rails / Laravel style).
    let r = browse!(
        &app,
        jar,
        post("/echo").set_form([("_method", "GET"), ("note", "x")])
    );
    env.assert_refused(&r, "csrf.reject.missing", "token_missing", &[&t], "_method")
        .await;
    let r = browse!(&app, jar, post("/echo?_method=GET"));
    env.assert_refused(
        &r,
        "csrf.reject.missing",
        "token_missing",
        &[&t],
        "?_method",
    )
    .await;

    // With the token the request goes through as the POST it is.
    let r = browse!(
        &app,
        jar,
        post("/echo")
            .insert_header(("X-HTTP-Method-Override", "GET"))
            .set_form([("_method", "GET"), (FIELD, t.as_str())])
    );
    env.assert_passed(&r, "POST with override and token").await;
    assert_eq!(r.header("x-echo-method").as_deref(), Some("POST"));

    // The other way round: an override on a GET does not make it a DELETE (no token needed,
    // and the handler sees a GET).
    let r = browse!(
        &app,
        jar,
        get("/echo?_method=DELETE").insert_header(("X-HTTP-Method-Override", "DELETE"))
    );
    env.assert_passed(&r, "GET with override").await;
    assert_eq!(r.header("x-echo-method").as_deref(), Some("GET"));
    env.warden.shutdown().await;
}
