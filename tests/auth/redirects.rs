//! Open redirects: a `next` that is not a same-origin path is replaced by `/dashboard`.

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use crate::{common::CookieJar, get, location, post, Env, PASSWORD};

/// `next` values that must never be followed.
const HOSTILE: &[&str] = &[
    "//evil.example",
    "/\\evil.example",
    "https://evil.example",
    "/%2F%2Fevil.example",
    "javascript:alert(1)",
    // Variants.
    "///evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "http:/evil.example",
    "https:evil.example",
    "HTTPS://evil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "/%2f/evil.example",
    "/%252F%252Fevil.example",
    "%2F%2Fevil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    " //evil.example",
    "//evil.example/dashboard",
    "/redirect?to=https://evil.example",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "",
];

fn assert_not_followed(r: &crate::common::Reply, next: &str, how: &str) {
    assert_eq!(r.status, 303, "{how} {next:?}: {r:?}");
    assert_eq!(
        location(r),
        "/dashboard",
        "{how}: next {next:?} must be replaced by /dashboard"
    );
}

#[actix_web::test]
async fn hostile_next_values_are_replaced_by_the_dashboard() {
    let env = Env::new().await;
    let app = app!(env);
    for next in HOSTILE {
        // As a form field.
        let mut browser = CookieJar::new();
        let r = browse!(
            &app,
            browser,
            post("/login").set_form([
                ("username", "alice"),
                ("password", PASSWORD),
                ("next", next)
            ])
        );
        assert_not_followed(&r, next, "form");

        // In the query string (as the login redirect writes it).
        let encoded = utf8_percent_encode(next, NON_ALPHANUMERIC).to_string();
        let r = browse!(
            &app,
            browser,
            post(&format!("/login?next={encoded}"))
                .set_form([("username", "alice"), ("password", PASSWORD)])
        );
        assert_not_followed(&r, next, "query");

        // In a JSON body.
        let r = browse!(
            &app,
            browser,
            post("/login").set_json(serde_json::json!({
                "username": "alice",
                "password": PASSWORD,
                "next": next,
            }))
        );
        assert_not_followed(&r, next, "json");
    }
    env.warden.shutdown().await;
}

#[actix_web::test]
async fn a_safe_next_is_honoured() {
    let env = Env::new().await;
    let app = app!(env);
    let mut browser = CookieJar::new();
    let r = browse!(
        &app,
        browser,
        post("/login").set_form([
            ("username", "alice"),
            ("password", PASSWORD),
            ("next", "/notes/1?x=1"),
        ])
    );
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(location(&r), "/notes/1?x=1");
    let r = browse!(&app, browser, get(&location(&r)));
    assert_eq!(r.status, 200, "{r:?}");
    env.warden.shutdown().await;
}
