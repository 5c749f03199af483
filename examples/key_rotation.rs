//! Rotating the session signing key without logging anybody out.
//!
//! ```text
//! cargo run --example key_rotation
//! ```
//!
//! Runs to completion in a throw-away data directory:
//!
//! 1. starts a [`Warden`] with one key, A, creates a session in the store and signs its
//!    cookie (what a browser would hold);
//! 2. shuts down and restarts on the same directory with the keys `[B, A]`: B is the new
//!    current key, A is still accepted for verification only;
//! 3. verifies the old cookie: accepted, flagged `needs_resign`, and the session is still in
//!    the store; the session middleware re-issues such cookies signed with B on the next
//!    response, which this example does by hand;
//! 4. restarts with B alone (A retired): the re-signed cookie still works, the old one is
//!    refused.
//!
//! In a deployment the same steps are `WARDEN_SECRET_KEY=<B>` and
//! `WARDEN_PREVIOUS_SECRET_KEYS=<A>` for at least one session lifetime, then dropping A.

use std::path::Path;

use warden::{
    actors::session::{Change, Lookup, SessionToken},
    session::CookieSigner,
    ConfigLoader, Warden,
};

/// A fresh random key, as `openssl rand -hex 32` would make (warden refuses short, low-entropy
/// and placeholder keys, so never hard-code one).
fn random_key() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Starts a warden over `dir` signing with the first of `keys`.
fn start(dir: &Path, keys: &[&String]) -> Warden {
    let config = ConfigLoader::new()
        .set("server.data_dir", dir)
        .set("audit.tracing_sink", false)
        .set("secrets.keys", keys.to_vec())
        .load()
        .unwrap_or_else(|e| panic!("invalid configuration:\n{e}"));
    Warden::start(config).expect("cannot start warden")
}

/// Whether the store still holds the session behind `token`.
async fn describe(warden: &Warden, token: &SessionToken) -> String {
    match warden.runtime().sessions().lookup(token).await {
        Ok(Lookup::Active(entry)) => format!("active, data {:?}", entry.record().data),
        Ok(other) => format!("not active ({other:?})"),
        Err(e) => format!("lookup failed: {e}"),
    }
}

#[actix_web::main]
async fn main() {
    let dir = tempfile::tempdir().expect("cannot create a temporary directory");
    let (key_a, key_b) = (random_key(), random_key());

    // 1. Key A only.
    let warden = start(dir.path(), &[&key_a]);
    let signer_a = CookieSigner::new(&warden.config().secrets);
    let (token, _) = warden
        .runtime()
        .sessions()
        .create(&[Change::Insert("cart".into(), serde_json::json!(["book"]))])
        .await
        .expect("cannot create a session");
    let old_cookie = signer_a.sign(&token);
    println!("1. keys [A]: kid {}", signer_a.current_kid());
    println!(
        "   session created, cookie signed with A: {}...",
        &old_cookie[..11]
    );
    warden.shutdown().await;
    drop(warden); // releases the store's lock

    // 2. Rotation: B signs, A still verifies.
    let warden = start(dir.path(), &[&key_b, &key_a]);
    let signer_ba = CookieSigner::new(&warden.config().secrets);
    println!(
        "2. restarted with keys [B, A]: kids {:?}, current {}",
        signer_ba.kids().collect::<Vec<_>>(),
        signer_ba.current_kid()
    );
    let verified = signer_ba
        .verify(&old_cookie)
        .expect("the old cookie must still verify");
    println!(
        "3. old cookie accepted: needs_resign = {}; session {}",
        verified.needs_resign,
        describe(&warden, &verified.token).await
    );
    assert!(verified.needs_resign);
    let new_cookie = signer_ba.sign(&verified.token);
    let reverified = signer_ba.verify(&new_cookie).expect("re-signed cookie");
    println!(
        "   re-signed with B: {}..., needs_resign = {}",
        &new_cookie[..11],
        reverified.needs_resign
    );
    warden.shutdown().await;
    drop(warden); // releases the store's lock

    // 4. A retired.
    let warden = start(dir.path(), &[&key_b]);
    let signer_b = CookieSigner::new(&warden.config().secrets);
    match signer_b.verify(&new_cookie) {
        Ok(v) => println!(
            "4. keys [B]: re-signed cookie accepted; session {}",
            describe(&warden, &v.token).await
        ),
        Err(e) => println!("4. keys [B]: re-signed cookie refused ({e}): unexpected"),
    }
    match signer_b.verify(&old_cookie) {
        Ok(_) => println!("   old cookie accepted: unexpected"),
        Err(e) => println!("   old cookie (signed with A) refused: {e}"),
    }
    warden.shutdown().await;
    drop(warden); // releases the store's lock
}
