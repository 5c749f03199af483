//! Hostile cookies: every single-character change of a valid cookie, malformed, oversized and
//! non-UTF-8 values, and the throttling of `session.cookie.invalid`.

use std::time::Duration;

use actix_web::http::header::HeaderValue;

use crate::{
    assert_removal,
    common::{count, events, manual_clock, test_warden},
    get, records, with_session, COOKIE,
};

/// The characters a signed cookie is made of.
const COOKIE_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";

#[actix_web::test]
async fn every_single_character_change_of_a_valid_cookie_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    let cookie = new_session!(&app, "secret", "42");
    assert_eq!(cookie.len(), 99);
    let bytes = cookie.as_bytes();
    let mut tried = 0;
    for i in 0..bytes.len() {
        for &c in COOKIE_CHARS.iter().filter(|&&c| c != bytes[i]) {
            let mut forged = bytes.to_vec();
            forged[i] = c;
            let forged = String::from_utf8(forged).unwrap();
            let r = send!(&app, with_session(get("/get/secret"), &forged));
            assert!(
                !r.status.is_server_error(),
                "position {i} -> {:?}: {}",
                c as char,
                r.status
            );
            assert_eq!(
                r.body, "none",
                "position {i} -> {:?} opened the session",
                c as char
            );
            assert_removal(&r);
            tried += 1;
        }
    }
    assert_eq!(tried, 99 * 64);
    // Every truncation and extension is refused too.
    for len in 0..cookie.len() {
        let r = send!(&app, with_session(get("/get/secret"), &cookie[..len]));
        assert_eq!(r.body, "none", "truncated to {len}");
    }
    for extra in ["A", ".", "=", "AA"] {
        let r = send!(
            &app,
            with_session(get("/get/secret"), &format!("{cookie}{extra}"))
        );
        assert_eq!(r.body, "none", "extended by {extra}");
    }

    // The genuine cookie still works, and nothing else was created.
    let r = send!(&app, with_session(get("/get/secret"), &cookie));
    assert_eq!(r.body, "42");
    assert!(r.set_cookie_headers().is_empty());
    assert_eq!(records(&w), 1);
    w.shutdown().await;
}

/// Raw `Cookie` header values no client should send.
fn malformed_headers() -> Vec<(&'static str, HeaderValue)> {
    let text = |s: String| HeaderValue::from_str(&s).unwrap();
    let many_same_name = (0..64)
        .map(|i| format!("{COOKIE}=junk{i}"))
        .collect::<Vec<_>>()
        .join("; ");
    vec![
        ("empty", text(format!("{COOKIE}="))),
        (
            "10 KiB",
            text(format!("{COOKIE}={}", "a".repeat(10 * 1024))),
        ),
        (
            "10 KiB of cookie chars",
            text(format!("{COOKIE}=v1.{}", "Ab.-_9".repeat(1800))),
        ),
        (
            "non-UTF-8",
            HeaderValue::from_bytes(b"__Host-session=v1.\xff\xfe\x80\xc3\x28.abc").unwrap(),
        ),
        (
            "non-UTF-8 next to other cookies",
            HeaderValue::from_bytes(b"theme=dark; __Host-session=\xe2\x82; x=1").unwrap(),
        ),
        (
            "percent-encoded junk",
            text(format!("{COOKIE}=%76%31%2E%ZZ%00%ff%2e%2E%25")),
        ),
        (
            "percent-encoded NUL and newline",
            text(format!("{COOKIE}=v1.%00%0a%0d.x.y")),
        ),
        ("quotes", text(format!("{COOKIE}=\"v1.deadbeef.abc.def\""))),
        ("lone quote", text(format!("{COOKIE}=\""))),
        (
            "spaces",
            text(format!("{COOKIE}=v1 . deadbeef . a b . c d")),
        ),
        ("tab", text(format!("{COOKIE}=v1.\tdeadbeef"))),
        ("dots", text(format!("{COOKIE}=v1...."))),
        ("only dots", text(format!("{COOKIE}=..."))),
        ("v1 only", text(format!("{COOKIE}=v1"))),
        (
            "unknown version",
            text(format!(
                "{COOKIE}=v2.deadbeef.{}.{}",
                "A".repeat(43),
                "A".repeat(43)
            )),
        ),
        (
            "uppercase kid",
            text(format!(
                "{COOKIE}=v1.DEADBEEF.{}.{}",
                "A".repeat(43),
                "A".repeat(43)
            )),
        ),
        (
            "non-canonical base64",
            text(format!(
                "{COOKIE}=v1.deadbeef.{}B.{}",
                "A".repeat(42),
                "A".repeat(43)
            )),
        ),
        ("many cookies with the same name", text(many_same_name)),
        ("name without value", text(COOKIE.to_owned())),
        ("semicolons", text(format!("{COOKIE}=;;;;"))),
        ("equals signs", text(format!("{COOKIE}===v1=="))),
        ("unicode", text(format!("{COOKIE}=v1.%E2%98%83.snowman"))),
    ]
}

#[actix_web::test]
async fn malformed_cookies_are_no_session_and_never_a_5xx() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    for (what, value) in malformed_headers() {
        for uri in ["/get/k", "/whoami", "/noop"] {
            let r = send!(&app, get(uri).insert_header(("cookie", value.clone())));
            assert!(!r.status.is_server_error(), "{what} {uri}: {}", r.status);
            assert_eq!(r.status, 200, "{what} {uri}");
            assert!(
                matches!(r.body.as_str(), "none" | "anonymous" | "ok"),
                "{what} {uri}: {}",
                r.body
            );
            // Whatever is sent back is a removal, never a session.
            if let Some(c) = r.set_cookie(COOKIE) {
                assert!(crate::common::is_removal(&c), "{what} {uri}: {c}");
            }
        }
        // Writing with a malformed cookie starts a fresh, valid session.
        let r = send!(
            &app,
            crate::post("/set/k/v").insert_header(("cookie", value.clone()))
        );
        assert_eq!(r.status, 200, "{what}");
        let fresh = crate::issued(&r);
        let r = send!(&app, with_session(get("/get/k"), &fresh));
        assert_eq!(r.body, "v", "{what}");
    }
    w.shutdown().await;
}

#[actix_web::test]
async fn invalid_cookie_events_are_throttled_and_count_what_they_suppressed() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    let w = test_warden(dir.path(), &clock, |_| {});
    let app = app!(w);

    let values = ["junk", "v1....", "v1.deadbeef.x.y", &"z".repeat(500)];
    for i in 0..200 {
        let v = values[i % values.len()];
        let r = send!(&app, with_session(get("/get/k"), v));
        assert_eq!(r.status, 200);
        assert_removal(&r);
    }
    let evs = events(&w, "session.cookie.invalid").await;
    assert!(!evs.is_empty() && evs.len() <= 2, "{} events", evs.len());
    assert_eq!(evs.len(), 1, "the clock did not move: one event per window");
    let first = &evs[0].event;
    assert_eq!(first.details["reason"], "malformed");
    assert_eq!(first.details.get("suppressed"), None);
    assert_eq!(first.path.as_deref(), Some("/get/k"));
    assert!(
        !serde_json::to_string(first).unwrap().contains("junk"),
        "the cookie value is never logged"
    );

    // After the 10 s window the next invalid cookie is logged, with the count held back.
    clock.advance(Duration::from_secs(11));
    let r = send!(&app, with_session(get("/get/k"), "v1.deadbeef.x.y"));
    assert_removal(&r);
    let evs = events(&w, "session.cookie.invalid").await;
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[1].event.details["suppressed"], 199);

    let all = events(&w, "session.").await;
    assert_eq!(count(&all, "session.cookie.invalid"), 2);
    w.shutdown().await;
}

/// `Cookie: __Host-session=A; __Host-session=B` is ambiguous (cookie tossing): whichever order,
/// it must be "no session", deterministically (security-standards §1.4 test 10).
#[actix_web::test]
async fn an_ambiguous_duplicate_session_cookie_is_no_session() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    let a = new_session!(&app, "owner", "a");
    let b = new_session!(&app, "owner", "b");
    let cases = [
        ("junk then valid", format!("{COOKIE}=junk; {COOKIE}={a}")),
        ("valid then junk", format!("{COOKIE}={a}; {COOKIE}=junk")),
        ("two valid sessions", format!("{COOKIE}={a}; {COOKIE}={b}")),
        (
            "two valid sessions, swapped",
            format!("{COOKIE}={b}; {COOKIE}={a}"),
        ),
    ];
    let mut outcomes = Vec::new();
    for (what, header) in &cases {
        let r = send!(
            &app,
            get("/get/owner").insert_header(("cookie", header.clone()))
        );
        assert!(!r.status.is_server_error(), "{what}");
        outcomes.push(format!("{what}: {}", r.body));
    }
    let loaded: Vec<&String> = outcomes.iter().filter(|o| !o.ends_with(": none")).collect();
    assert!(
        loaded.is_empty(),
        "duplicate session cookies loaded a session: {loaded:?}"
    );
    // The same value twice is not ambiguous: either answer is fine, but never a 5xx.
    let r = send!(
        &app,
        get("/get/owner").insert_header(("cookie", format!("{COOKIE}={a}; {COOKIE}={a}")))
    );
    assert!(!r.status.is_server_error());
    assert!(r.body == "a" || r.body == "none", "{}", r.body);
    w.shutdown().await;
}

#[actix_web::test]
async fn a_100_kib_cookie_header_is_no_session() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    let valid = new_session!(&app, "k", "v");
    let big = format!("{valid}{}", "A".repeat(100 * 1024));
    let r = send!(&app, with_session(get("/get/k"), &big));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "none");
    assert_removal(&r);
    let evs = events(&w, "session.cookie.invalid").await;
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].event.details["reason"], "too_long");
    w.shutdown().await;
}
