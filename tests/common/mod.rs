//! Helpers shared by warden's HTTP-level integration tests: a quiet [`Warden`] on a temporary
//! data directory with a [`ManualClock`] and fixed keys, a cookie jar, response snapshots and
//! audit-log queries.
//!
//! Use from a test crate with `mod common;` (or `#[path = "../common/mod.rs"] mod common;` from
//! a `tests/<name>/main.rs` crate).
#![allow(dead_code, unreachable_pub)]

use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex, RwLock,
    },
    time::{Duration, Instant},
};

use actix_web::{
    body::MessageBody,
    cookie::Cookie,
    dev::ServiceResponse,
    http::{header::HeaderMap, StatusCode},
    test as atest,
};
use warden::{
    actors::{
        password::PasswordParams, tokens::ResetToken, AuditQuery, ManualClock, PasswordSettings,
        StoredEvent, MAX_QUERY_LIMIT,
    },
    auth::{ResetNotifier, User, UserStore, UserStoreError},
    config::RawConfig,
    Config, ConfigLoader, Warden,
};

/// Strong keys (32+ bytes, varied, no placeholder words) for `secrets.keys`.
pub const KEY_A: &str = "A-key:7f3k9Qz2Lm8Vx1Rt6Pw4Ny0Bc5HdJ";
/// A second strong key, for rotation tests.
pub const KEY_B: &str = "B-key:Jq2Ws9Ek4Rz7Tu1Yi3Op6As8Df0GhK";
/// A third strong key.
pub const KEY_C: &str = "C-key:u8Y2e6R0t4W9q1Z5x3C7v2B6n0M4kP";

/// The instant every [`manual_clock`] starts at (2023-11-14T22:13:20Z).
pub const START_MILLIS: u64 = 1_700_000_000_000;

/// A manual clock standing at [`START_MILLIS`]. Time moves only through
/// [`ManualClock::advance`].
pub fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(START_MILLIS))
}

/// A validated test configuration: built-in defaults, then `server.data_dir = dir`, no tracing
/// sink, `secrets.keys = [KEY_A]` and 4 session shards (so cross-shard paths are exercised
/// whatever the machine), then `tweak`.
///
/// # Panics
///
/// If the tweaked configuration does not validate.
pub fn test_config(dir: &Path, tweak: impl FnOnce(&mut RawConfig)) -> Config {
    let mut raw = ConfigLoader::new().load_raw().expect("raw config");
    raw.server.data_dir = dir.to_path_buf();
    raw.audit.tracing_sink = false;
    raw.secrets.keys = vec![KEY_A.to_owned()];
    raw.session.shards = 4;
    tweak(&mut raw);
    Config::from_raw(raw).expect("valid test config")
}

/// Starts a [`Warden`] on [`test_config`]`(dir, tweak)` with `clock`. Call inside an actix
/// System (`#[actix_web::test]`).
pub fn test_warden(
    dir: &Path,
    clock: &Arc<ManualClock>,
    tweak: impl FnOnce(&mut RawConfig),
) -> Warden {
    Warden::builder(test_config(dir, tweak))
        .clock(clock.clone())
        .start()
        .expect("start warden")
}

/// Cheap password hashing for tests: [`PasswordParams::insecure_for_tests`] on 2 threads with
/// a queue of 64.
pub fn cheap_passwords() -> PasswordSettings {
    PasswordSettings::new(PasswordParams::insecure_for_tests())
        .threads(2)
        .queue(64)
}

/// [`test_warden`] with explicit password settings (parameters and pool size), set on the
/// configuration's runtime settings before the runtime starts.
pub fn test_warden_with_passwords(
    dir: &Path,
    clock: &Arc<ManualClock>,
    tweak: impl FnOnce(&mut RawConfig),
    passwords: PasswordSettings,
) -> Warden {
    let mut config = test_config(dir, tweak);
    config.runtime = config.runtime.clone().with_passwords(passwords);
    Warden::builder(config)
        .clock(clock.clone())
        .start()
        .expect("start warden")
}

/// An in-memory [`UserStore`] (id → user), for tests. [`MemoryUsers::set_failing`] makes every
/// call fail (a database outage).
#[derive(Debug, Default)]
pub struct MemoryUsers {
    users: RwLock<HashMap<String, User>>,
    failing: AtomicBool,
}

impl MemoryUsers {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a user.
    pub fn insert(&self, user: User) {
        self.users.write().unwrap().insert(user.id.clone(), user);
    }

    /// Removes a user.
    pub fn remove(&self, id: &str) -> Option<User> {
        self.users.write().unwrap().remove(id)
    }

    /// A copy of the user with this id.
    pub fn get(&self, id: &str) -> Option<User> {
        self.users.read().unwrap().get(id).cloned()
    }

    /// The stored password hash of the user with this id.
    pub fn hash_of(&self, id: &str) -> Option<String> {
        self.get(id).map(|u| u.password_hash)
    }

    /// Makes every [`UserStore`] call fail (`true`) or work again (`false`).
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), UserStoreError> {
        if self.failing.load(Ordering::SeqCst) {
            Err(UserStoreError("connection refused (simulated)".into()))
        } else {
            Ok(())
        }
    }
}

#[async_trait::async_trait]
impl UserStore for MemoryUsers {
    async fn find_by_id(&self, id: &str) -> Result<Option<User>, UserStoreError> {
        self.check()?;
        Ok(self.get(id))
    }

    async fn find_by_login(&self, login: &str) -> Result<Option<User>, UserStoreError> {
        self.check()?;
        Ok(self
            .users
            .read()
            .unwrap()
            .values()
            .find(|u| u.login == login)
            .cloned())
    }

    async fn set_password_hash(&self, id: &str, phc: &str) -> Result<(), UserStoreError> {
        self.check()?;
        match self.users.write().unwrap().get_mut(id) {
            Some(u) => {
                u.password_hash = phc.to_owned();
                Ok(())
            }
            None => Err(UserStoreError(format!("no user {id}"))),
        }
    }
}

/// A [`ResetNotifier`] that records every token it is asked to deliver, as
/// `(user id, token)`.
#[derive(Debug, Default)]
pub struct CapturingNotifier {
    sent: Mutex<Vec<(String, String)>>,
}

impl CapturingNotifier {
    /// A notifier that has delivered nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every delivery so far, oldest first.
    pub fn sent(&self) -> Vec<(String, String)> {
        self.sent.lock().unwrap().clone()
    }

    /// The tokens delivered to `user_id`, oldest first.
    pub fn tokens_for(&self, user_id: &str) -> Vec<String> {
        self.sent()
            .into_iter()
            .filter(|(u, _)| u == user_id)
            .map(|(_, t)| t)
            .collect()
    }
}

#[async_trait::async_trait]
impl ResetNotifier for CapturingNotifier {
    async fn send_reset(&self, user: &User, token: &ResetToken) -> Result<(), String> {
        self.sent
            .lock()
            .unwrap()
            .push((user.id.clone(), token.expose_secret().to_owned()));
        Ok(())
    }
}

/// Polls `cond` until it holds or 5 s pass, for work done on other threads (never used for
/// time logic: tests move time with the manual clock).
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "timed out waiting for: {what}"
        );
        actix_rt::time::sleep(Duration::from_millis(5)).await;
    }
}

/// What a test needs of a response, read out of a [`ServiceResponse`] (whose body can only be
/// read once).
#[derive(Debug)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// Every header.
    pub headers: HeaderMap,
    /// The body, lossily decoded as UTF-8.
    pub body: String,
}

impl Reply {
    /// Reads the whole response.
    pub async fn read<B: MessageBody>(res: ServiceResponse<B>) -> Reply {
        let status = res.status();
        let headers = res.headers().clone();
        let body = atest::read_body(res).await;
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    /// The raw `Set-Cookie` header values, in order.
    pub fn set_cookie_headers(&self) -> Vec<String> {
        set_cookie_headers(&self.headers)
    }

    /// The parsed `Set-Cookie` cookies, in order.
    pub fn set_cookies(&self) -> Vec<Cookie<'static>> {
        set_cookies(&self.headers)
    }

    /// The `Set-Cookie` cookie named `name`, if exactly one was sent (panics on several).
    pub fn set_cookie(&self, name: &str) -> Option<Cookie<'static>> {
        let mut found: Vec<_> = self
            .set_cookies()
            .into_iter()
            .filter(|c| c.name() == name)
            .collect();
        assert!(found.len() <= 1, "several Set-Cookie for {name}: {found:?}");
        found.pop()
    }

    /// A header's values, joined with `, `.
    pub fn header(&self, name: &str) -> Option<String> {
        let vals: Vec<&str> = self
            .headers
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!vals.is_empty()).then(|| vals.join(", "))
    }

    /// Whether `Vary` lists `token` (case-insensitively).
    pub fn varies_on(&self, token: &str) -> bool {
        self.headers
            .get_all("vary")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }
}

/// The raw `Set-Cookie` header values of `headers`, in order.
pub fn set_cookie_headers(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("set-cookie")
        .map(|v| v.to_str().expect("ASCII Set-Cookie").to_owned())
        .collect()
}

/// The `Set-Cookie` values of `headers`, parsed.
pub fn set_cookies(headers: &HeaderMap) -> Vec<Cookie<'static>> {
    set_cookie_headers(headers)
        .into_iter()
        .map(|s| Cookie::parse(s).expect("parsable Set-Cookie"))
        .collect()
}

/// Whether `c` tells the browser to delete the cookie (`Max-Age=0` or an `Expires` in the
/// past, and an empty value).
pub fn is_removal(c: &Cookie<'_>) -> bool {
    let max_age_zero = c.max_age().is_some_and(|d| d.is_zero());
    let expired = c
        .expires_datetime()
        .is_some_and(|t| t < actix_web::cookie::time::OffsetDateTime::now_utc());
    c.value().is_empty() && (max_age_zero || expired)
}

/// A browser's cookie store for one host: applies `Set-Cookie` headers (removals delete) and
/// renders the `Cookie` request header.
#[derive(Debug, Clone, Default)]
pub struct CookieJar {
    cookies: BTreeMap<String, String>,
}

impl CookieJar {
    /// An empty jar.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies every `Set-Cookie` of a response.
    pub fn update(&mut self, reply: &Reply) {
        for c in reply.set_cookies() {
            if is_removal(&c) {
                self.cookies.remove(c.name());
            } else {
                self.cookies
                    .insert(c.name().to_owned(), c.value().to_owned());
            }
        }
    }

    /// Sets a cookie by hand (an attacker planting a value, a replayed copy).
    pub fn set(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.to_owned(), value.to_owned());
    }

    /// A cookie's current value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// The `Cookie` request header, if the jar holds anything.
    pub fn header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// Adds the `Cookie` header to a request, if the jar holds anything.
    pub fn apply(&self, req: atest::TestRequest) -> atest::TestRequest {
        match self.header() {
            Some(h) => req.insert_header(("cookie", h)),
            None => req,
        }
    }
}

/// The persisted audit events whose name starts with `prefix` (the newest
/// [`MAX_QUERY_LIMIT`]), oldest first.
pub async fn events(warden: &Warden, prefix: &str) -> Vec<StoredEvent> {
    warden
        .audit()
        .query(AuditQuery::new().name_prefix(prefix).limit(MAX_QUERY_LIMIT))
        .await
        .expect("audit query")
}

/// The names of events, in order.
pub fn names(evs: &[StoredEvent]) -> Vec<String> {
    evs.iter().map(|e| e.event.name.clone()).collect()
}

/// How many of `evs` are named exactly `name`.
pub fn count(evs: &[StoredEvent], name: &str) -> usize {
    evs.iter().filter(|e| e.event.name == name).count()
}
