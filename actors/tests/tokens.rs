//! API tokens and password-reset tokens: hashing at rest, the read view, revocation, expiry,
//! single use, version binding, persistence, supervision and failing closed.

mod common;

use std::{
    ops::Bound,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use warden_actors::{
    store::{Durability, Entry, Keyspace, PutOptions, SledStore, Store},
    tokens::{start_tokens, ResetOutcome, TokenHandle, TokenPolicy, API_TOKEN_PREFIX},
    ActorError, Clock, ManualClock, StoreConfig, StoreError,
};

const T0: u64 = 1_700_000_000_000;
const ASK: Duration = Duration::from_secs(2);

/// A store that counts every call, to prove some paths never touch it.
#[derive(Debug)]
struct Counting {
    inner: SledStore,
    calls: AtomicUsize,
}

impl Counting {
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
    fn hit(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
}

impl Store for Counting {
    fn get(&self, ks: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.hit();
        self.inner.get(ks, key)
    }
    fn put(&self, ks: Keyspace, k: &[u8], v: &[u8], o: PutOptions) -> Result<(), StoreError> {
        self.hit();
        self.inner.put(ks, k, v, o)
    }
    fn delete(&self, ks: Keyspace, key: &[u8], d: Durability) -> Result<bool, StoreError> {
        self.hit();
        self.inner.delete(ks, key, d)
    }
    fn increment(&self, ks: Keyspace, k: &[u8], d: i64, o: PutOptions) -> Result<i64, StoreError> {
        self.hit();
        self.inner.increment(ks, k, d, o)
    }
    fn range(
        &self,
        ks: Keyspace,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<Entry>, StoreError> {
        self.hit();
        self.inner.range(ks, start, end, limit, reverse)
    }
    fn scan_prefix(&self, ks: Keyspace, p: &[u8], limit: usize) -> Result<Vec<Entry>, StoreError> {
        self.hit();
        self.inner.scan_prefix(ks, p, limit)
    }
    fn len(&self, ks: Keyspace) -> Result<u64, StoreError> {
        self.hit();
        self.inner.len(ks)
    }
    fn sweep_expired(&self, now_ms: u64, max: usize) -> Result<usize, StoreError> {
        self.hit();
        self.inner.sweep_expired(now_ms, max)
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.hit();
        self.inner.flush()
    }
    fn health_check(&self) -> Result<(), StoreError> {
        self.hit();
        self.inner.health_check()
    }
}

struct Fixture {
    clock: Arc<ManualClock>,
    store: Arc<Counting>,
    tokens: TokenHandle,
}

fn fixture_with(policy: TokenPolicy) -> Fixture {
    let clock = Arc::new(ManualClock::new(T0));
    let inner = SledStore::temporary(&StoreConfig::default(), clock.clone()).unwrap();
    let store = Arc::new(Counting {
        inner,
        calls: AtomicUsize::new(0),
    });
    let tokens = start_tokens(store.clone(), clock.clone(), policy, 64, ASK);
    Fixture {
        clock,
        store,
        tokens,
    }
}

fn fixture() -> Fixture {
    fixture_with(TokenPolicy::default())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[actix::test]
async fn an_issued_api_token_looks_up_to_its_user_and_label() {
    let f = fixture();
    let (token, info) = f
        .tokens
        .issue_api_token("alice", "ci deploy".into(), None)
        .await
        .unwrap();
    assert!(token.expose_secret().starts_with(API_TOKEN_PREFIX));
    assert_eq!(info.id, token.id());
    assert_eq!(info.id.len(), 16);
    assert_eq!(
        (info.created_at, info.expires_at, info.last_used_at),
        (T0, None, None)
    );
    let found = f
        .tokens
        .lookup_api_token(token.expose_secret())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.user_id, "alice");
    assert_eq!(found.label, "ci deploy");
    assert_eq!(found.id, info.id);
    // A second lookup is served from the view: it does not touch the store.
    let before = f.store.calls();
    assert!(f
        .tokens
        .lookup_api_token(token.expose_secret())
        .await
        .unwrap()
        .is_some());
    assert_eq!(f.store.calls(), before);
}

#[actix::test]
async fn the_store_holds_no_token_in_any_key_or_value() {
    let f = fixture();
    let (api, _) = f
        .tokens
        .issue_api_token("alice", "x".into(), Some(Duration::from_secs(60)))
        .await
        .unwrap();
    let reset = f.tokens.issue_reset_token("alice", 1).await.unwrap();
    f.tokens
        .lookup_api_token(api.expose_secret())
        .await
        .unwrap();
    f.clock.advance(Duration::from_secs(1));
    f.tokens.fold_now().await.unwrap();
    let entries = f
        .store
        .scan_prefix(Keyspace::Tokens, b"", usize::MAX)
        .unwrap();
    assert!(entries.len() >= 4, "records and index entries: {entries:?}");
    for secret in [api.expose_secret(), reset.expose_secret()] {
        let body = &secret[4..];
        let raw = hex::decode(body).unwrap();
        for (k, v) in &entries {
            for needle in [secret.as_bytes(), body.as_bytes(), &raw[..]] {
                assert!(!contains(k, needle) && !contains(v, needle));
            }
        }
    }
}

#[actix::test]
async fn a_revoked_api_token_is_gone_at_once() {
    let f = fixture();
    let (token, info) = f
        .tokens
        .issue_api_token("alice", "a".into(), None)
        .await
        .unwrap();
    assert!(f
        .tokens
        .lookup_api_token(token.expose_secret())
        .await
        .unwrap()
        .is_some());
    // Someone else's "revoke mine", malformed ids and unknown ids revoke nothing.
    assert!(!f
        .tokens
        .revoke_user_api_token("mallory", &info.id)
        .await
        .unwrap());
    assert!(!f.tokens.revoke_api_token("not-an-id").await.unwrap());
    assert!(!f
        .tokens
        .revoke_api_token(&info.id.to_uppercase())
        .await
        .unwrap());
    assert!(!f.tokens.revoke_api_token("0000000000000000").await.unwrap());
    assert!(f
        .tokens
        .lookup_api_token(token.expose_secret())
        .await
        .unwrap()
        .is_some());

    assert!(f
        .tokens
        .revoke_user_api_token("alice", &info.id)
        .await
        .unwrap());
    assert_eq!(
        f.tokens
            .lookup_api_token(token.expose_secret())
            .await
            .unwrap(),
        None
    );
    assert!(
        !f.tokens.revoke_api_token(&info.id).await.unwrap(),
        "already gone"
    );
    assert!(f.tokens.list_api_tokens("alice").await.unwrap().is_empty());

    let (t2, i2) = f
        .tokens
        .issue_api_token("alice", "b".into(), None)
        .await
        .unwrap();
    assert!(f.tokens.revoke_api_token(&i2.id).await.unwrap());
    assert_eq!(
        f.tokens.lookup_api_token(t2.expose_secret()).await.unwrap(),
        None
    );
}

#[actix::test]
async fn api_tokens_expire_on_the_clock_and_leave_the_store_through_the_index() {
    let f = fixture_with(TokenPolicy::default().api_default_ttl(Some(Duration::from_secs(3600))));
    let (short, si) = f
        .tokens
        .issue_api_token("alice", "short".into(), Some(Duration::from_secs(60)))
        .await
        .unwrap();
    let (long, li) = f
        .tokens
        .issue_api_token("alice", "default".into(), None)
        .await
        .unwrap();
    assert_eq!(si.expires_at, Some(T0 + 60_000));
    assert_eq!(li.expires_at, Some(T0 + 3_600_000));
    let _ = f.tokens.issue_reset_token("bob", 0).await.unwrap();

    f.clock.advance(Duration::from_secs(59));
    assert!(f
        .tokens
        .lookup_api_token(short.expose_secret())
        .await
        .unwrap()
        .is_some());
    f.clock.advance(Duration::from_secs(1));
    assert_eq!(
        f.tokens
            .lookup_api_token(short.expose_secret())
            .await
            .unwrap(),
        None
    );
    assert!(f
        .tokens
        .lookup_api_token(long.expose_secret())
        .await
        .unwrap()
        .is_some());
    let listed: Vec<String> = f
        .tokens
        .list_api_tokens("alice")
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.label)
        .collect();
    assert_eq!(listed, ["default"]);

    // Every record (tokens and index entries) carries its expiry: once all have expired, one
    // sweep through the expiry index empties the keyspace, no scan needed.
    f.clock.advance(Duration::from_secs(3600));
    assert_eq!(
        f.tokens
            .lookup_api_token(long.expose_secret())
            .await
            .unwrap(),
        None
    );
    let swept = f
        .store
        .sweep_expired(f.clock.now_millis(), usize::MAX)
        .unwrap();
    assert!(swept >= 6, "swept {swept}");
    assert_eq!(f.store.len(Keyspace::Tokens).unwrap(), 0);
}

#[actix::test]
async fn malformed_tokens_are_absent_without_touching_the_store_or_the_actor() {
    let f = fixture();
    let (good, _) = f
        .tokens
        .issue_api_token("alice", "a".into(), None)
        .await
        .unwrap();
    let g = good.expose_secret();
    let long = format!("{g}0");
    let upper = format!("wdn_{}", g[4..].to_uppercase());
    let reset_prefixed = format!("wdr_{}", &g[4..]);
    let bad_prefix = format!("xdn_{}", &g[4..]);
    let not_hex = format!("wdn_{}", "g".repeat(64));
    let multibyte = format!("wdn_{}é", "a".repeat(62));
    let malformed = [
        "",
        "wdn_",
        "Bearer",
        &g[..g.len() - 1],
        &long,
        &upper,
        &reset_prefixed,
        &bad_prefix,
        &not_hex,
        &multibyte,
    ];
    let before = f.store.calls();
    for m in malformed {
        assert_eq!(f.tokens.lookup_api_token(m).await.unwrap(), None, "{m:?}");
    }
    // For reset tokens, the `wdr_` one is well-formed and the API token is not.
    for m in malformed
        .into_iter()
        .filter(|m| *m != reset_prefixed)
        .chain([g])
    {
        assert_eq!(
            f.tokens.consume_reset_token(m, 0).await.unwrap(),
            ResetOutcome::Invalid
        );
        assert_eq!(f.tokens.peek_reset_token(m).await.unwrap(), None);
    }
    assert_eq!(
        f.store.calls(),
        before,
        "malformed tokens never reach the store"
    );
    // Nor the actor: the answer is the same with the actor stopped.
    f.tokens.shutdown().await;
    assert_eq!(f.tokens.lookup_api_token(&not_hex).await.unwrap(), None);
    // A well-formed unknown token does need the actor, which is down: fail closed.
    let unknown = format!("wdn_{}", "a".repeat(64));
    assert!(f.tokens.lookup_api_token(&unknown).await.is_err());
}

#[actix::test]
async fn well_formed_unknown_tokens_are_absent() {
    let f = fixture();
    let unknown = format!("wdn_{}", "0".repeat(64));
    assert_eq!(f.tokens.lookup_api_token(&unknown).await.unwrap(), None);
    assert_eq!(f.tokens.lookup_api_token(&unknown).await.unwrap(), None);
}

#[actix::test]
async fn tokens_are_listed_oldest_first_and_revoked_per_user() {
    let f = fixture();
    let mut alice = Vec::new();
    for label in ["one", "two", "three"] {
        alice.push(
            f.tokens
                .issue_api_token("alice", label.into(), None)
                .await
                .unwrap(),
        );
        f.clock.advance(Duration::from_secs(1));
    }
    let (bob, _) = f
        .tokens
        .issue_api_token("bob", "b".into(), None)
        .await
        .unwrap();
    // A user id that is a prefix of another does not see the other's tokens.
    let (_, _) = f
        .tokens
        .issue_api_token("alicea", "x".into(), None)
        .await
        .unwrap();

    let list = f.tokens.list_api_tokens("alice").await.unwrap();
    let labels: Vec<&str> = list.iter().map(|i| i.label.as_str()).collect();
    assert_eq!(labels, ["one", "two", "three"]);
    assert!(list.iter().all(|i| i.user_id == "alice"));
    assert_eq!(f.tokens.list_api_tokens("nobody").await.unwrap(), vec![]);

    assert_eq!(f.tokens.revoke_all_for_user("alice").await.unwrap(), 3);
    for (t, _) in &alice {
        assert_eq!(
            f.tokens.lookup_api_token(t.expose_secret()).await.unwrap(),
            None
        );
    }
    assert!(f.tokens.list_api_tokens("alice").await.unwrap().is_empty());
    assert_eq!(f.tokens.revoke_all_for_user("alice").await.unwrap(), 0);
    assert!(f
        .tokens
        .lookup_api_token(bob.expose_secret())
        .await
        .unwrap()
        .is_some());
    assert_eq!(f.tokens.list_api_tokens("alicea").await.unwrap().len(), 1);
}

#[actix::test]
async fn issuing_beyond_the_limit_revokes_the_oldest() {
    let f = fixture_with(TokenPolicy::default().max_api_tokens_per_user(2));
    let mut issued = Vec::new();
    for label in ["a", "b", "c"] {
        issued.push(
            f.tokens
                .issue_api_token("alice", label.into(), None)
                .await
                .unwrap(),
        );
        f.clock.advance(Duration::from_millis(10));
    }
    let labels: Vec<String> = f
        .tokens
        .list_api_tokens("alice")
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.label)
        .collect();
    assert_eq!(labels, ["b", "c"]);
    assert_eq!(
        f.tokens
            .lookup_api_token(issued[0].0.expose_secret())
            .await
            .unwrap(),
        None
    );
    assert!(f
        .tokens
        .lookup_api_token(issued[2].0.expose_secret())
        .await
        .unwrap()
        .is_some());
}

#[actix::test]
async fn last_use_is_recorded_cheaply_and_folded_in() {
    let f = fixture();
    let (t, _) = f
        .tokens
        .issue_api_token("alice", "a".into(), None)
        .await
        .unwrap();
    f.clock.advance(Duration::from_secs(5));
    let seen = f
        .tokens
        .lookup_api_token(t.expose_secret())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.last_used_at, Some(T0 + 5_000));
    assert_eq!(f.tokens.fold_now().await.unwrap(), 1);
    assert_eq!(f.tokens.fold_now().await.unwrap(), 0, "nothing new to fold");
    let listed = f.tokens.list_api_tokens("alice").await.unwrap();
    assert_eq!(listed[0].last_used_at, Some(T0 + 5_000));
}

#[actix::test]
async fn a_reset_token_is_single_use() {
    let f = fixture();
    let t = f.tokens.issue_reset_token("alice", 3).await.unwrap();
    assert_eq!(
        f.tokens
            .peek_reset_token(t.expose_secret())
            .await
            .unwrap()
            .as_deref(),
        Some("alice")
    );
    assert_eq!(
        f.tokens
            .consume_reset_token(t.expose_secret(), 3)
            .await
            .unwrap(),
        ResetOutcome::Valid {
            user_id: "alice".into()
        }
    );
    assert_eq!(
        f.tokens
            .consume_reset_token(t.expose_secret(), 3)
            .await
            .unwrap(),
        ResetOutcome::Invalid
    );
    assert_eq!(
        f.tokens.peek_reset_token(t.expose_secret()).await.unwrap(),
        None
    );
    // A reset token is not an API token, and the other way round.
    let t2 = f.tokens.issue_reset_token("alice", 3).await.unwrap();
    assert_eq!(
        f.tokens.lookup_api_token(t2.expose_secret()).await.unwrap(),
        None
    );
    let (api, _) = f
        .tokens
        .issue_api_token("alice", "a".into(), None)
        .await
        .unwrap();
    assert_eq!(
        f.tokens
            .consume_reset_token(api.expose_secret(), 3)
            .await
            .unwrap(),
        ResetOutcome::Invalid
    );
}

#[actix::test]
async fn concurrent_consumes_of_one_reset_token_yield_one_valid() {
    let f = fixture();
    let t = f.tokens.issue_reset_token("alice", 0).await.unwrap();
    let attempts = (0..16).map(|_| f.tokens.consume_reset_token(t.expose_secret(), 0));
    let outcomes = futures_util::future::join_all(attempts).await;
    let valid = outcomes
        .into_iter()
        .filter(|o| matches!(o, Ok(ResetOutcome::Valid { .. })))
        .count();
    assert_eq!(valid, 1);
}

#[actix::test]
async fn a_reset_token_expires() {
    let f = fixture();
    let t = f.tokens.issue_reset_token("alice", 0).await.unwrap();
    f.clock.advance(Duration::from_secs(30 * 60 - 1));
    assert!(f
        .tokens
        .peek_reset_token(t.expose_secret())
        .await
        .unwrap()
        .is_some());
    f.clock.advance(Duration::from_secs(1));
    assert_eq!(
        f.tokens.peek_reset_token(t.expose_secret()).await.unwrap(),
        None
    );
    assert_eq!(
        f.tokens
            .consume_reset_token(t.expose_secret(), 0)
            .await
            .unwrap(),
        ResetOutcome::Invalid
    );

    let f = fixture_with(TokenPolicy::default().reset_ttl(Duration::from_secs(60)));
    let t = f.tokens.issue_reset_token("alice", 0).await.unwrap();
    f.clock.advance(Duration::from_secs(60));
    assert_eq!(
        f.tokens
            .consume_reset_token(t.expose_secret(), 0)
            .await
            .unwrap(),
        ResetOutcome::Invalid
    );
}

#[actix::test]
async fn a_version_change_kills_outstanding_reset_tokens() {
    let f = fixture();
    let t = f.tokens.issue_reset_token("alice", 4).await.unwrap();
    assert_eq!(
        f.tokens
            .consume_reset_token(t.expose_secret(), 5)
            .await
            .unwrap(),
        ResetOutcome::Invalid
    );
    // The failed attempt spent it: even the right version no longer works.
    assert_eq!(
        f.tokens
            .consume_reset_token(t.expose_secret(), 4)
            .await
            .unwrap(),
        ResetOutcome::Invalid
    );

    // The version is read after the token is taken, through the caller's resolver.
    let t = f.tokens.issue_reset_token("alice", 5).await.unwrap();
    let outcome = f
        .tokens
        .consume_reset_token_with(t.expose_secret(), |user| async move {
            assert_eq!(user, "alice");
            Ok(6)
        })
        .await
        .unwrap();
    assert_eq!(outcome, ResetOutcome::Invalid);
    let t = f.tokens.issue_reset_token("alice", 6).await.unwrap();
    let outcome = f
        .tokens
        .consume_reset_token_with(t.expose_secret(), |_| async { Ok(6) })
        .await
        .unwrap();
    assert_eq!(
        outcome,
        ResetOutcome::Valid {
            user_id: "alice".into()
        }
    );

    // Explicit revocation (a password change).
    let t = f.tokens.issue_reset_token("alice", 6).await.unwrap();
    assert_eq!(f.tokens.revoke_reset_tokens("alice").await.unwrap(), 1);
    assert_eq!(
        f.tokens
            .consume_reset_token(t.expose_secret(), 6)
            .await
            .unwrap(),
        ResetOutcome::Invalid
    );
}

#[actix::test]
async fn a_new_reset_token_revokes_the_previous_ones() {
    let f = fixture();
    let first = f.tokens.issue_reset_token("alice", 0).await.unwrap();
    let bobs = f.tokens.issue_reset_token("bob", 0).await.unwrap();
    let second = f.tokens.issue_reset_token("alice", 0).await.unwrap();
    assert_eq!(
        f.tokens
            .consume_reset_token(first.expose_secret(), 0)
            .await
            .unwrap(),
        ResetOutcome::Invalid
    );
    assert_eq!(
        f.tokens
            .consume_reset_token(second.expose_secret(), 0)
            .await
            .unwrap(),
        ResetOutcome::Valid {
            user_id: "alice".into()
        }
    );
    assert_eq!(
        f.tokens
            .consume_reset_token(bobs.expose_secret(), 0)
            .await
            .unwrap(),
        ResetOutcome::Valid {
            user_id: "bob".into()
        }
    );
    // Only the live token's record and index entry were ever left behind; now nothing is.
    let left = f
        .store
        .scan_prefix(Keyspace::Tokens, b"reset", usize::MAX)
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
}

#[actix::test]
async fn unknown_reset_tokens_are_invalid() {
    let f = fixture();
    let unknown = format!("wdr_{}", "1".repeat(64));
    assert_eq!(
        f.tokens.consume_reset_token(&unknown, 0).await.unwrap(),
        ResetOutcome::Invalid
    );
    assert_eq!(f.tokens.peek_reset_token(&unknown).await.unwrap(), None);
}

#[actix::test]
async fn tokens_survive_a_restart_of_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let open = || -> Arc<dyn Store> {
        Arc::new(SledStore::open(dir.path(), &StoreConfig::default(), clock.clone()).unwrap())
    };
    let store = open();
    let tokens = start_tokens(
        store.clone(),
        clock.clone(),
        TokenPolicy::default(),
        64,
        ASK,
    );
    let (kept, kept_info) = tokens
        .issue_api_token("alice", "kept".into(), None)
        .await
        .unwrap();
    let (gone, gone_info) = tokens
        .issue_api_token("alice", "gone".into(), None)
        .await
        .unwrap();
    assert!(tokens.revoke_api_token(&gone_info.id).await.unwrap());
    let reset = tokens.issue_reset_token("alice", 2).await.unwrap();
    tokens.shutdown().await;
    drop(tokens);
    drop(store);

    let store = open();
    let tokens = start_tokens(store, clock.clone(), TokenPolicy::default(), 64, ASK);
    let found = tokens
        .lookup_api_token(kept.expose_secret())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, tokens.list_api_tokens("alice").await.unwrap()[0]);
    assert_eq!(found.id, kept_info.id);
    assert_eq!(
        tokens.lookup_api_token(gone.expose_secret()).await.unwrap(),
        None
    );
    assert_eq!(
        tokens
            .consume_reset_token(reset.expose_secret(), 2)
            .await
            .unwrap(),
        ResetOutcome::Valid {
            user_id: "alice".into()
        }
    );
    tokens.shutdown().await;
}

#[actix::test]
async fn lookups_fail_closed_while_the_actor_is_down() {
    let f = fixture();
    let (t, info) = f
        .tokens
        .issue_api_token("alice", "a".into(), None)
        .await
        .unwrap();
    assert!(f
        .tokens
        .lookup_api_token(t.expose_secret())
        .await
        .unwrap()
        .is_some());
    f.tokens.shutdown().await;
    f.tokens.shutdown().await; // idempotent

    let start = Instant::now();
    let err = f
        .tokens
        .lookup_api_token(t.expose_secret())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ActorError::Unavailable { actor: "tokens" }),
        "{err:?}"
    );
    let err = f.tokens.revoke_api_token(&info.id).await.unwrap_err();
    assert!(matches!(err, ActorError::Unavailable { .. }), "{err:?}");
    let err = f.tokens.issue_reset_token("alice", 0).await.unwrap_err();
    assert!(matches!(err, ActorError::Unavailable { .. }), "{err:?}");
    assert!(f.tokens.ping().await.is_err());
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[actix::test]
async fn a_panic_restarts_the_actor_and_the_view_reloads_lazily() {
    let f = fixture();
    let (t, _) = f
        .tokens
        .issue_api_token("alice", "a".into(), None)
        .await
        .unwrap();
    let (r, ri) = f
        .tokens
        .issue_api_token("alice", "r".into(), None)
        .await
        .unwrap();
    assert!(f.tokens.revoke_api_token(&ri.id).await.unwrap());
    let err = f.tokens.crash_for_tests().await.unwrap_err();
    assert!(matches!(err, ActorError::Panicked { actor: "tokens" }));
    f.tokens.ping().await.unwrap();
    let before = f.store.calls();
    assert!(f
        .tokens
        .lookup_api_token(t.expose_secret())
        .await
        .unwrap()
        .is_some());
    assert!(f.store.calls() > before, "reloaded from the store");
    assert_eq!(
        f.tokens.lookup_api_token(r.expose_secret()).await.unwrap(),
        None
    );
}

#[actix::test]
async fn lookups_during_issuance_are_fine() {
    let f = fixture();
    let (t, _) = f
        .tokens
        .issue_api_token("alice", "a".into(), None)
        .await
        .unwrap();
    let issues = (0..20).map(|i| {
        let tokens = f.tokens.clone();
        actix_rt::spawn(async move {
            tokens
                .issue_api_token(&format!("user{}", i % 4), format!("t{i}"), None)
                .await
                .unwrap()
        })
    });
    let issues: Vec<_> = issues.collect();
    let lookups = (0..200).map(|_| f.tokens.lookup_api_token(t.expose_secret()));
    for r in futures_util::future::join_all(lookups).await {
        assert_eq!(r.unwrap().unwrap().user_id, "alice");
    }
    for h in issues {
        let (tok, info) = h.await.unwrap();
        let found = f
            .tokens
            .lookup_api_token(tok.expose_secret())
            .await
            .unwrap();
        assert_eq!(found.map(|i| i.id), Some(info.id));
    }
    for u in 0..4 {
        assert_eq!(
            f.tokens
                .list_api_tokens(&format!("user{u}"))
                .await
                .unwrap()
                .len(),
            5
        );
    }
}

#[actix::test]
async fn secrets_never_show_in_debug_or_display() {
    let f = fixture();
    let (api, info) = f
        .tokens
        .issue_api_token("alice", "a".into(), None)
        .await
        .unwrap();
    let reset = f.tokens.issue_reset_token("alice", 0).await.unwrap();
    for printed in [
        format!("{api:?}"),
        format!("{api}"),
        format!("{info:?}"),
        format!("{reset:?}"),
        format!("{reset}"),
        format!("{:?}", f.tokens),
    ] {
        assert!(!printed.contains(api.expose_secret()), "{printed}");
        assert!(!printed.contains(reset.expose_secret()), "{printed}");
        assert!(!printed.contains(&api.expose_secret()[4..]), "{printed}");
    }
    assert!(format!("{api:?}").contains(&info.id));
}
