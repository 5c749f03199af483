//! Session fixation: a token chosen or planted before login never becomes authenticated;
//! rotation (login, renew) kills the old token at once.

use warden::{actors::session::SessionToken, session::CookieSigner};

use crate::{
    assert_removal,
    common::{count, events, manual_clock, test_warden, KEY_A, KEY_C},
    get, id_of, issued, post, records, signer, with_session,
};

/// Cookies an attacker can make without the key.
fn crafted_cookies(w: &warden::Warden) -> Vec<(&'static str, String)> {
    let ours = signer(w);
    let foreign = CookieSigner::from_keys([KEY_C]).unwrap();
    let token = SessionToken::from_bytes([0x42; 32]);
    let valid_shape = ours.sign(&token);
    // Our key id and a well-formed MAC taken from another token's cookie.
    let other = ours.sign(&SessionToken::from_bytes([0x43; 32]));
    let mut parts: Vec<&str> = valid_shape.split('.').collect();
    let other_mac = other.split('.').nth(3).unwrap();
    parts[3] = other_mac;
    let spliced = parts.join(".");
    // Our key id with an all-zero MAC.
    let zero_mac = format!(
        "v1.{}.{}.{}",
        ours.current_kid(),
        valid_shape.split('.').nth(2).unwrap(),
        "A".repeat(43)
    );
    vec![
        (
            "random value",
            "attacker-chosen-session-id-1234567890".to_owned(),
        ),
        ("hex token", hex::encode([0x42u8; 32])),
        ("foreign key", foreign.sign(&token)),
        ("spliced mac", spliced),
        ("zero mac", zero_mac),
        // Correctly signed (as if the key had leaked) but naming no session.
        ("unknown token", valid_shape),
    ]
}

#[actix_web::test]
async fn a_crafted_cookie_gives_no_session_and_is_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);
    assert_eq!(signer(&w).current_kid(), {
        CookieSigner::from_keys([KEY_A])
            .unwrap()
            .current_kid()
            .to_owned()
    });

    for (what, value) in crafted_cookies(&w) {
        let r = send!(&app, with_session(get("/whoami"), &value));
        assert_eq!(r.status, 200, "{what}");
        assert_eq!(r.body, "anonymous", "{what}");
        assert_removal(&r);
        let r = send!(&app, with_session(get("/get/k"), &value));
        assert_eq!(r.body, "none", "{what}");
        assert_removal(&r);
    }
    assert_eq!(records(&w), 0, "a crafted cookie must not create a record");
    w.shutdown().await;
}

#[actix_web::test]
async fn logging_in_with_a_crafted_cookie_issues_a_fresh_token() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    for (what, value) in crafted_cookies(&w) {
        let r = send!(&app, with_session(post("/login/alice"), &value));
        assert_eq!(r.status, 200, "{what}");
        let fresh = issued(&r);
        assert_ne!(fresh, value, "{what}");
        // The planted value is still nobody; the fresh cookie is alice.
        let r = send!(&app, with_session(get("/whoami"), &value));
        assert_eq!(r.body, "anonymous", "{what}");
        assert_removal(&r);
        let r = send!(&app, with_session(get("/whoami"), &fresh));
        assert_eq!(r.body, "alice", "{what}");
    }
    w.shutdown().await;
}

#[actix_web::test]
async fn a_session_planted_before_login_never_becomes_authenticated() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    // The attacker obtains a real anonymous session and plants it in the victim's browser.
    let planted = new_session!(&app, "cart", "apple");
    let planted_id = id_of(&w, &planted);
    assert_eq!(records(&w), 1);

    // The victim logs in with it: the token rotates.
    let r = send!(&app, with_session(post("/login/alice"), &planted));
    assert_eq!(r.status, 200);
    let victim = issued(&r);
    assert_ne!(victim, planted);
    let victim_id = id_of(&w, &victim);
    assert_ne!(victim_id, planted_id);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));

    // The victim is alice and keeps the cart.
    let r = send!(&app, with_session(get("/whoami"), &victim));
    assert_eq!(r.body, "alice");
    assert!(r.set_cookie_headers().is_empty());
    let r = send!(&app, with_session(get("/get/cart"), &victim));
    assert_eq!(r.body, "apple");

    // The attacker's copy is dead: no user, no data, cleared.
    for uri in ["/whoami", "/get/cart"] {
        let r = send!(&app, with_session(get(uri), &planted));
        assert_eq!(r.status, 200);
        assert!(
            r.body == "anonymous" || r.body == "none",
            "{uri}: {}",
            r.body
        );
        assert_removal(&r);
    }
    // Writing through the dead token does not resurrect it: it creates an unrelated session.
    let r = send!(&app, with_session(post("/set/x/1"), &planted));
    let other = issued(&r);
    assert_ne!(other, planted);
    assert_ne!(other, victim);
    let r = send!(&app, with_session(get("/whoami"), &other));
    assert_eq!(r.body, "anonymous");
    let r = send!(&app, with_session(get("/whoami"), &planted));
    assert_eq!(r.body, "anonymous");

    // The old id is gone from the store; alice's session is the only one indexed for her.
    let store = w.runtime().store();
    use warden::actors::store::Keyspace;
    assert_eq!(
        store
            .get(Keyspace::Sessions, planted_id.as_bytes())
            .unwrap(),
        None
    );
    let listed = w.runtime().sessions().list_for_user("alice").await.unwrap();
    assert_eq!(
        listed.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![victim_id]
    );

    // The rotation was audited, naming both ids and the user.
    let rotated = events(&w, "session.rotated").await;
    assert_eq!(rotated.len(), 1);
    let ev = &rotated[0].event;
    assert_eq!(ev.details["from"], planted_id.short());
    assert_eq!(ev.details["session"], victim_id.short());
    assert_eq!(ev.user_id.as_deref(), Some("alice"));
    assert_eq!(count(&events(&w, "session.").await, "session.created"), 2);
    w.shutdown().await;
}

#[actix_web::test]
async fn renew_rotates_and_kills_the_old_token() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    let r = send!(&app, post("/login/alice"));
    let first = issued(&r);
    let r = send!(&app, with_session(post("/renew"), &first));
    let second = issued(&r);
    assert_ne!(first, second);
    let r = send!(&app, with_session(get("/whoami"), &second));
    assert_eq!(r.body, "alice");
    let r = send!(&app, with_session(get("/whoami"), &first));
    assert_eq!(r.body, "anonymous");
    assert_removal(&r);
    assert_eq!(records(&w), 1);
    w.shutdown().await;
}

#[actix_web::test]
async fn crafted_cookies_are_logged_as_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    let r = send!(
        &app,
        with_session(get("/whoami"), "v1.0000000.forged.cookie")
    );
    assert_eq!(r.body, "anonymous");
    let evs = events(&w, "session.cookie.invalid").await;
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].event.details["reason"], "malformed");
    assert_eq!(evs[0].event.path.as_deref(), Some("/whoami"));
    assert!(evs[0].event.client_ip.is_some());
    w.shutdown().await;
}

#[actix_web::test]
async fn a_session_token_in_another_channel_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    let r = send!(&app, post("/login/alice"));
    let cookie = issued(&r);
    let encoded = cookie.replace('.', "%2E");
    let requests = [
        get(&format!("/whoami?__Host-session={cookie}")),
        get(&format!("/whoami?session={encoded}")),
        get("/whoami").insert_header(("x-session", cookie.clone())),
        get("/whoami").insert_header(("authorization", format!("Bearer {cookie}"))),
        // Case variants of the cookie name are other cookies (browsers enforce the prefix
        // rules case-insensitively; the server must not match them).
        get("/whoami").insert_header(("cookie", format!("__host-session={cookie}"))),
        get("/whoami").insert_header(("cookie", format!("__HOST-SESSION={cookie}"))),
        get("/whoami").insert_header(("cookie", format!("session={cookie}"))),
        // A nameless cookie whose value looks like the session cookie.
        get("/whoami").insert_header(("cookie", format!("=__Host-session={cookie}"))),
    ];
    for (i, req) in requests.into_iter().enumerate() {
        let r = send!(&app, req);
        assert_eq!(r.status, 200, "#{i}");
        assert_eq!(r.body, "anonymous", "#{i}");
    }
    // The genuine cookie still works.
    let r = send!(&app, with_session(get("/whoami"), &cookie));
    assert_eq!(r.body, "alice");
    w.shutdown().await;
}

/// Django flushes a session that belongs to another user at login, Spring's `newSession`
/// copies no attributes: values another user stored must not carry over to the new user.
#[actix_web::test]
async fn another_users_login_does_not_inherit_the_previous_users_data() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &manual_clock(), |_| {});
    let app = app!(w);

    let r = send!(&app, post("/login/alice"));
    let alice = issued(&r);
    let r = send!(&app, with_session(post("/set/private/alice-only"), &alice));
    assert_eq!(r.status, 200);

    // Bob logs in on the same browser without alice logging out.
    let r = send!(&app, with_session(post("/login/bob"), &alice));
    let bob = issued(&r);
    assert_ne!(bob, alice);
    let r = send!(&app, with_session(get("/whoami"), &bob));
    assert_eq!(r.body, "bob");
    let r = send!(&app, with_session(get("/whoami"), &alice));
    assert_eq!(r.body, "anonymous");
    let r = send!(&app, with_session(get("/get/private"), &bob));
    assert_eq!(
        r.body, "none",
        "bob's fresh login sees data alice stored in her session"
    );
    w.shutdown().await;
}
