//! Plugging your own users into warden: a [`UserStore`] implementation.
//!
//! ```text
//! cargo run --example custom_user_store
//! ```
//!
//! warden owns sessions, lockout and password hashing; the application owns its users. A
//! `UserStore` answers three questions: a user by id (every authenticated request), a user by
//! login name (login), and "store this new password hash" (password change, reset, and the
//! transparent rehash when the hashing parameters were raised). Here the users live in a
//! `RwLock<HashMap>`; a real store would query its database (the trait is async).
//!
//! Runs to completion in a throw-away data directory, logging every call warden makes into the
//! store: a login with the right password, a wrong one and an unknown user go through
//! [`Accounts::authenticate`] (with lockout and the same argon2 work for an unknown user), then
//! an administrator sets a new password hash and the old password stops working. In an app the
//! same `Arc<dyn UserStore>` goes to [`Warden::stack`] and [`Accounts::new`]: see
//! `examples/minimal.rs`.

use std::{
    collections::HashMap,
    net::{Ipv4Addr, SocketAddr},
    sync::{Arc, RwLock},
};

use actix_web::test::TestRequest;
use warden::{
    actors::tokens::ResetToken,
    auth::{Accounts, ResetNotifier, SharedUserStore, User, UserStore, UserStoreError},
    ConfigLoader, Warden,
};

/// Users by id, behind a lock; prints every call so you can see what warden asks for.
#[derive(Default)]
struct MemoryUsers {
    by_id: RwLock<HashMap<String, User>>,
}

fn poisoned<T>(_: T) -> UserStoreError {
    UserStoreError("user store lock poisoned".into())
}

#[async_trait::async_trait]
impl UserStore for MemoryUsers {
    async fn find_by_id(&self, id: &str) -> Result<Option<User>, UserStoreError> {
        println!("   store: find_by_id({id:?})");
        Ok(self.by_id.read().map_err(poisoned)?.get(id).cloned())
    }

    async fn find_by_login(&self, login: &str) -> Result<Option<User>, UserStoreError> {
        println!("   store: find_by_login({login:?})");
        let users = self.by_id.read().map_err(poisoned)?;
        Ok(users.values().find(|u| u.login == login).cloned())
    }

    async fn set_password_hash(&self, id: &str, phc: &str) -> Result<(), UserStoreError> {
        // `phc` is an argon2id PHC string; store it as is (never a plain password).
        println!("   store: set_password_hash({id:?}, <{} chars>)", phc.len());
        let mut users = self.by_id.write().map_err(poisoned)?;
        let user = users
            .get_mut(id)
            .ok_or_else(|| UserStoreError(format!("no user {id}")))?;
        user.password_hash = phc.to_owned();
        Ok(())
    }
}

/// No password reset in this example.
struct NoReset;

#[async_trait::async_trait]
impl ResetNotifier for NoReset {
    async fn send_reset(&self, _user: &User, _token: &ResetToken) -> Result<(), String> {
        Err("password reset is not available".into())
    }
}

/// Tries a login and prints the outcome.
async fn try_login(accounts: &Accounts, login: &str, password: &str) {
    println!("login {login:?} / {password:?}:");
    let req = TestRequest::default()
        .peer_addr(SocketAddr::from((Ipv4Addr::new(192, 0, 2, 1), 50000)))
        .to_http_request();
    match accounts.authenticate(&req, login, password).await {
        Ok(Some(user)) => println!(
            "   -> authenticated as id {} {:?}",
            user.id, user.permissions
        ),
        Ok(None) => println!("   -> refused (one answer for every failure)"),
        Err(e) => println!("   -> error: {e}"),
    }
}

#[actix_web::main]
async fn main() {
    let dir = tempfile::tempdir().expect("cannot create a temporary directory");
    let config = ConfigLoader::new()
        .set("server.data_dir", dir.path())
        .set("audit.tracing_sink", false)
        .load()
        .unwrap_or_else(|e| panic!("invalid configuration:\n{e}"));
    let warden = Warden::start(config).expect("cannot start warden");
    let pool = warden.runtime().passwords();

    let store = Arc::new(MemoryUsers::default());
    let hash = pool
        .hash("correct horse battery staple")
        .await
        .expect("hash");
    store.by_id.write().expect("lock").insert(
        "1".into(),
        User::new("1", "alice", hash).with_permissions(["user"]),
    );
    let users: SharedUserStore = store.clone();
    let accounts = Accounts::new(&warden, users.clone(), Arc::new(NoReset));

    try_login(&accounts, "alice", "correct horse battery staple").await;
    try_login(&accounts, "alice", "wrong password").await;
    try_login(&accounts, "mallory", "anything at all").await;

    // Directly through the store, for the demonstration. In an app use
    // `Accounts::change_password` / `complete_reset`, which also end the user's other sessions.
    println!("an administrator sets a new password:");
    let new_hash = pool.hash("a brand new passphrase 42").await.expect("hash");
    users
        .set_password_hash("1", &new_hash)
        .await
        .expect("stored");
    try_login(&accounts, "alice", "correct horse battery staple").await;
    try_login(&accounts, "alice", "a brand new passphrase 42").await;

    warden.shutdown().await;
}
