//! The session cookie: attributes by configuration, `Cache-Control`, and what the value and the
//! store key are (never the token itself).

use actix_web::cookie::{time::Duration as CookieDuration, SameSite};
use sha2::{Digest, Sha256};
use warden::actors::store::Keyspace;

use crate::{
    common::{manual_clock, test_warden},
    get, token_of, with_session, COOKIE,
};

#[actix_web::test]
async fn the_default_cookie_is_a_host_only_secure_browser_session_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    let r = send!(&app, crate::post("/set/k/v"));
    let headers = r.set_cookie_headers();
    assert_eq!(headers.len(), 1, "{headers:?}");
    let c = r.set_cookie(COOKIE).expect("session cookie");
    assert_eq!(c.name(), "__Host-session");
    assert_eq!(c.secure(), Some(true));
    assert_eq!(c.http_only(), Some(true));
    assert_eq!(c.same_site(), Some(SameSite::Lax));
    assert_eq!(c.path(), Some("/"));
    assert_eq!(c.domain(), None);
    assert_eq!(c.max_age(), None, "a browser-session cookie has no Max-Age");
    assert_eq!(c.expires(), None, "a browser-session cookie has no Expires");
    let raw = &headers[0];
    for attr in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(raw.contains(attr), "{attr} missing from {raw}");
    }
    for attr in ["Domain", "Max-Age", "Expires"] {
        assert!(!raw.contains(attr), "{attr} present in {raw}");
    }
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert!(r.varies_on("cookie"));
    w.shutdown().await;
}

#[actix_web::test]
async fn a_persistent_cookie_lives_for_the_absolute_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |raw| {
        raw.session.persistent = true;
        raw.session.absolute_timeout_secs = 7200;
    });
    let app = app!(w);

    let r = send!(&app, crate::post("/set/k/v"));
    let c = r.set_cookie(COOKIE).expect("session cookie");
    assert_eq!(c.max_age(), Some(CookieDuration::seconds(7200)));
    assert!(r.set_cookie_headers()[0].contains("Max-Age=7200"));
    assert_eq!(c.secure(), Some(true));
    assert_eq!(c.domain(), None);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));

    // The default absolute timeout is 12 h.
    let dir2 = tempfile::tempdir().unwrap();
    let w2 = test_warden(dir2.path(), &manual_clock(), |raw| {
        raw.session.persistent = true
    });
    let app2 = app!(w2);
    let r = send!(&app2, crate::post("/set/k/v"));
    let c = r.set_cookie(COOKIE).expect("session cookie");
    assert_eq!(c.max_age(), Some(CookieDuration::seconds(43_200)));
    w.shutdown().await;
    w2.shutdown().await;
}

#[actix_web::test]
async fn a_custom_name_and_domain_are_sent() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |raw| {
        raw.session.cookie_name = "app_session".to_owned();
        raw.session.domain = Some("example.com".to_owned());
        raw.session.same_site = warden::config::SameSite::Strict;
        raw.session.path = "/app".to_owned();
    });
    let app = app!(w);

    let r = send!(&app, crate::post("/set/k/v"));
    assert_eq!(r.set_cookie(COOKIE), None);
    let c = r.set_cookie("app_session").expect("custom cookie");
    assert_eq!(c.domain(), Some("example.com"));
    assert_eq!(c.path(), Some("/app"));
    assert_eq!(c.same_site(), Some(SameSite::Strict));
    assert_eq!(c.secure(), Some(true));
    assert_eq!(c.http_only(), Some(true));
    assert!(r.set_cookie_headers()[0].contains("Domain=example.com"));

    // The session works under its custom name, and the default name means nothing.
    let value = c.value().to_owned();
    let r = send!(
        &app,
        get("/get/k").insert_header(("cookie", format!("app_session={value}")))
    );
    assert_eq!(r.body, "v");
    let r = send!(&app, with_session(get("/get/k"), &value));
    assert_eq!(r.body, "none");
    assert!(r.set_cookie_headers().is_empty(), "{r:?}");

    // A removal carries the same scope, or the browser would not match it.
    let r = send!(
        &app,
        crate::post("/purge").insert_header(("cookie", format!("app_session={value}")))
    );
    let c = r.set_cookie("app_session").expect("removal");
    assert!(crate::common::is_removal(&c));
    assert_eq!(c.domain(), Some("example.com"));
    assert_eq!(c.path(), Some("/app"));
    w.shutdown().await;
}

#[actix_web::test]
async fn the_cookie_carries_a_signed_token_and_the_store_only_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    let cookie = new_session!(&app, "k", "v");
    assert_eq!(cookie.len(), 99);
    assert!(cookie.starts_with("v1."));
    let token = token_of(&w, &cookie);
    let token_hex = hex::encode(token.as_bytes());
    assert_ne!(cookie, token_hex);
    assert!(!cookie.contains(&token_hex));
    assert!(!cookie.to_lowercase().contains(&token_hex));

    // Stored under SHA-256(token), never under the token.
    let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    assert_eq!(token.id().as_bytes(), &digest);
    let store = w.runtime().store();
    assert_eq!(store.len(Keyspace::Sessions).unwrap(), 1);
    let stored = store
        .get(Keyspace::Sessions, &digest)
        .unwrap()
        .expect("record under SHA-256(token)");
    assert_eq!(
        store.get(Keyspace::Sessions, token.as_bytes()).unwrap(),
        None
    );
    // Nor does the record contain the token, in any encoding used here.
    let token_b64 = cookie.split('.').nth(2).unwrap();
    let text = String::from_utf8_lossy(&stored);
    assert!(!text.contains(&token_hex) && !text.contains(token_b64));
    assert!(!stored
        .windows(32)
        .any(|win| win == token.as_bytes().as_slice()));

    // Audit events name the session by its short id, never the token.
    let evs = crate::common::events(&w, "session.").await;
    let json = serde_json::to_string(&evs).unwrap();
    assert!(!json.contains(&token_hex) && !json.contains(token_b64));
    assert!(json.contains(&token.id().short()));

    // Every Set-Cookie sent has no-store; a re-read of the same session sends neither.
    let r = send!(&app, with_session(get("/get/k"), &cookie));
    assert_eq!(r.body, "v");
    assert!(r.set_cookie_headers().is_empty());
    assert_eq!(r.header("cache-control"), None);
    w.shutdown().await;
}
