//! The sharded session actor: lookups, per-key changes, rotation, fixation, timeouts, per-user
//! revocation, session versions, persistence, sweeping, fail-closed behaviour and secrets.
//!
//! Time never passes by sleeping: every test drives a `ManualClock`. The background touch fold
//! and the sweeper tick on wall-clock intervals, so the configurations here set both to an hour:
//! folds and sweeps happen only when a test asks for them (`fold_now`, `sweep_now`).

mod common;

use common::eventually;
use std::{
    collections::BTreeSet,
    ops::Bound,
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::{json, Value};
use warden_actors::{
    session::{
        ApplyOutcome, Change, ExpiryReason, Lookup, RotateOutcome, SessionEntry, SessionId,
        SessionInfo, SessionPolicy, SessionRecord, SessionToken,
    },
    store::Keyspace,
    ActorError, AuditConfig, ManualClock, Runtime, RuntimeConfig, StoreConfig,
};

const T0: u64 = 1_700_000_000_000;

fn mins(n: u64) -> Duration {
    Duration::from_secs(60 * n)
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap()
}

/// `shards` shards, idle 30 min, absolute 12 h, no background folding.
fn policy(shards: usize) -> SessionPolicy {
    SessionPolicy::default()
        .shards(shards)
        .idle_timeout(mins(30))
        .absolute_timeout(mins(12 * 60))
        .touch_interval(Duration::from_secs(3600))
}

/// A quiet config with this session policy and no background sweeping.
fn config(p: SessionPolicy) -> RuntimeConfig {
    RuntimeConfig::builder()
        .audit(AuditConfig::default().tracing_sink(false))
        .store(StoreConfig::default().sweep_interval(Duration::from_secs(3600)))
        .session(p)
        .build()
}

/// The same, persisted in `dir`.
fn config_in(p: SessionPolicy, dir: &std::path::Path) -> RuntimeConfig {
    RuntimeConfig::builder()
        .data_dir(dir)
        .audit(AuditConfig::default().tracing_sink(false))
        .store(StoreConfig::default().sweep_interval(Duration::from_secs(3600)))
        .session(p)
        .build()
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(T0))
}

/// Starts a runtime and waits until every session shard answers.
async fn start(cfg: RuntimeConfig, clock: &Arc<ManualClock>) -> Runtime {
    let rt = Runtime::builder(cfg).clock(clock.clone()).start().unwrap();
    rt.sessions().ping().await.unwrap();
    rt
}

fn ins(key: &str, v: impl Into<Value>) -> Change {
    Change::Insert(key.to_owned(), v.into())
}

fn login(user: &str, version: u64) -> Change {
    Change::Login {
        user_id: user.to_owned(),
        session_version: version,
    }
}

#[track_caller]
fn active(l: Lookup) -> Arc<SessionEntry> {
    match l {
        Lookup::Active(e) => e,
        other => panic!("expected an active session, got {other:?}"),
    }
}

#[track_caller]
fn applied(o: ApplyOutcome) -> Arc<SessionEntry> {
    match o {
        ApplyOutcome::Applied(e) => e,
        other => panic!("expected Applied, got {other:?}"),
    }
}

#[track_caller]
fn assert_missing(l: Lookup) {
    assert!(matches!(l, Lookup::Missing), "expected Missing, got {l:?}");
}

async fn lookup(rt: &Runtime, t: &SessionToken) -> Lookup {
    rt.sessions().lookup(t).await.unwrap()
}

/// The record the store holds for `id`, decoded.
fn stored(rt: &Runtime, id: &SessionId) -> Option<SessionRecord> {
    rt.store()
        .get(Keyspace::Sessions, id.as_bytes())
        .unwrap()
        .map(|b| serde_json::from_slice(&b).unwrap())
}

fn count(rt: &Runtime, ks: Keyspace) -> u64 {
    rt.store().len(ks).unwrap()
}

/// Every live record of a keyspace.
fn all(rt: &Runtime, ks: Keyspace) -> Vec<(Vec<u8>, Vec<u8>)> {
    rt.store()
        .range(ks, Bound::Unbounded, Bound::Unbounded, usize::MAX, false)
        .unwrap()
}

/// Creates an anonymous session holding `n = i`, then logs `user` in the way a login does:
/// a rotation carrying `Change::Login`.
async fn logged_in(rt: &Runtime, user: &str, i: u64) -> SessionToken {
    let s = rt.sessions();
    let (t, _) = s.create(&[ins("n", i)]).await.unwrap();
    let v = s.user_version(user).await.unwrap();
    let (t, e) = s
        .rotate(t.id(), &[login(user, v)])
        .await
        .unwrap()
        .into_rotated()
        .unwrap();
    assert_eq!(e.record().user_id.as_deref(), Some(user));
    t
}

/// Polls a lookup until the session is gone; an expired session must never come back.
async fn until_missing(rt: &Runtime, t: &SessionToken) {
    let start = Instant::now();
    loop {
        match lookup(rt, t).await {
            Lookup::Missing => return,
            Lookup::Expired(_) => {}
            other => panic!("an expired session came back: {other:?}"),
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "expired session never removed"
        );
        actix_rt::time::sleep(Duration::from_millis(5)).await;
    }
}

fn ids(infos: &[SessionInfo]) -> Vec<SessionId> {
    infos.iter().map(|i| i.id).collect()
}

fn sorted(v: impl IntoIterator<Item = SessionId>) -> BTreeSet<SessionId> {
    v.into_iter().collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Minimal base64 (standard or URL-safe alphabet, padded), to look for encoded tokens.
fn base64(bytes: &[u8], url: bool) -> String {
    let alphabet: &[u8; 64] = if url {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(alphabet[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Every textual form of a token's bytes that must never appear in logs.
fn token_forms(t: &SessionToken) -> Vec<String> {
    let b = t.as_bytes();
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    let std = base64(b, false);
    let url = base64(b, true);
    vec![
        hex.clone(),
        hex.to_uppercase(),
        std.trim_end_matches('=').to_owned(),
        url.trim_end_matches('=').to_owned(),
        // A 16-character prefix is already too much.
        hex[..16].to_owned(),
        url[..16].to_owned(),
        format!("{b:?}"),
    ]
}

// 1 ------------------------------------------------------------------------------------------

#[actix::test]
async fn a_created_session_is_found_and_stored_under_its_id_never_its_token() {
    let clock = clock();
    let rt = start(config(policy(4)), &clock).await;
    let s = rt.sessions();

    let (token, entry) = s
        .create(&[ins("cart", json!(["apple", "pear"])), ins("theme", "dark")])
        .await
        .unwrap();
    assert_eq!(entry.record().data["cart"], json!(["apple", "pear"]));
    assert_eq!(entry.record().created_at, T0);

    let e = active(lookup(&rt, &token).await);
    assert_eq!(e.record().data.len(), 2);
    assert_eq!(e.record().data["cart"], json!(["apple", "pear"]));
    assert_eq!(e.record().data["theme"], json!("dark"));
    assert_eq!(e.record().user_id, None);
    assert_eq!(e.record().created_at, T0);
    assert_eq!(e.last_seen(), T0);

    assert_missing(lookup(&rt, &SessionToken::generate()).await);

    // Stored under SHA-256(token), never under the token.
    let rec = stored(&rt, &token.id()).expect("record under the id");
    assert_eq!(rec.data["cart"], json!(["apple", "pear"]));
    assert_eq!(rec.data["theme"], json!("dark"));
    assert_eq!(rec.created_at, T0);
    assert_eq!(
        rt.store()
            .get(Keyspace::Sessions, token.as_bytes())
            .unwrap(),
        None
    );
    let records = all(&rt, Keyspace::Sessions);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].0, token.id().as_bytes().to_vec());
    // No key or value anywhere in the store holds the token, raw or encoded.
    for ks in Keyspace::ALL {
        for (k, v) in all(&rt, ks) {
            assert_ne!(k, token.as_bytes().to_vec(), "{ks:?}");
            assert!(
                !contains(&k, token.as_bytes()),
                "{ks:?} key holds the token"
            );
            assert!(
                !contains(&v, token.as_bytes()),
                "{ks:?} value holds the token"
            );
            for form in token_forms(&token) {
                assert!(!contains(&v, form.as_bytes()), "{ks:?} value holds {form}");
            }
        }
    }
}

// 2 ------------------------------------------------------------------------------------------

#[actix::test]
async fn anonymous_visitors_cost_nothing() {
    let clock = clock();
    let rt = start(config(policy(4)), &clock).await;
    let s = rt.sessions();
    let tokens: Vec<SessionToken> = (0..100).map(|_| SessionToken::generate()).collect();
    for t in &tokens {
        assert_missing(lookup(&rt, t).await);
    }
    // Twice: a miss leaves nothing behind in the view either.
    for t in &tokens {
        assert!(matches!(s.lookup_cached(t), Ok(None)));
        assert_missing(lookup(&rt, t).await);
    }
    assert_eq!(count(&rt, Keyspace::Sessions), 0);
    assert_eq!(count(&rt, Keyspace::SessionsByUser), 0);
    assert_eq!(count(&rt, Keyspace::UserVersions), 0);
    assert_eq!(s.fold_now().await.unwrap(), 0);
    assert_eq!(count(&rt, Keyspace::Sessions), 0);
}

// 3 ------------------------------------------------------------------------------------------

#[actix::test]
async fn apply_changes_key_by_key_and_never_resurrects() {
    let clock = clock();
    let rt = start(config(policy(4).max_data_bytes(2048)), &clock).await;
    let s = rt.sessions();
    let (token, _) = s.create(&[ins("a", 1)]).await.unwrap();
    let id = token.id();

    let e = applied(s.apply(id, vec![ins("b", 2)]).await.unwrap());
    assert_eq!(e.record().data.keys().collect::<Vec<_>>(), vec!["a", "b"]);

    // 50 concurrent requests, each setting its own key: every one survives.
    let outcomes = futures_util::future::join_all(
        (0..50u64).map(|i| s.apply(id, vec![ins(&format!("k{i:02}"), i)])),
    )
    .await;
    for o in outcomes {
        applied(o.unwrap());
    }
    let e = active(lookup(&rt, &token).await);
    assert_eq!(e.record().data.len(), 52);
    for i in 0..50u64 {
        assert_eq!(e.record().data[&format!("k{i:02}")], json!(i));
    }
    assert_eq!(e.record().data["a"], json!(1));
    assert_eq!(stored(&rt, &id).unwrap().data.len(), 52);

    // Remove and Clear.
    let e = applied(
        s.apply(id, vec![Change::Remove("a".into()), ins("b", "two")])
            .await
            .unwrap(),
    );
    assert!(!e.record().data.contains_key("a"));
    assert_eq!(e.record().data["b"], json!("two"));
    assert_eq!(e.record().data.len(), 51);
    let e = applied(
        s.apply(id, vec![Change::Clear, ins("only", true)])
            .await
            .unwrap(),
    );
    assert_eq!(e.record().data.keys().collect::<Vec<_>>(), vec!["only"]);
    let e = active(lookup(&rt, &token).await);
    assert_eq!(e.record().data.keys().collect::<Vec<_>>(), vec!["only"]);
    assert_eq!(
        stored(&rt, &id).unwrap().data.keys().collect::<Vec<_>>(),
        vec!["only"]
    );

    // Too large: nothing written, neither in the view nor in the store.
    let big = "x".repeat(4096);
    let o = s.apply(id, vec![ins("big", big.as_str())]).await.unwrap();
    assert!(matches!(o, ApplyOutcome::TooLarge), "{o:?}");
    let e = active(lookup(&rt, &token).await);
    assert_eq!(e.record().data.keys().collect::<Vec<_>>(), vec!["only"]);
    assert_eq!(
        stored(&rt, &id).unwrap().data.keys().collect::<Vec<_>>(),
        vec!["only"]
    );
    // A change list whose end result fits is fine, even if a step in it would not.
    applied(
        s.apply(
            id,
            vec![ins("big", big.as_str()), Change::Remove("big".into())],
        )
        .await
        .unwrap(),
    );
    // Creating a session that is already too large is refused.
    assert!(s.create(&[ins("big", big.as_str())]).await.is_err());
    assert_eq!(count(&rt, Keyspace::Sessions), 1);

    // Destroyed: Gone, and the apply does not bring it back.
    assert!(s.destroy(id).await.unwrap());
    assert!(!s.destroy(id).await.unwrap());
    let o = s.apply(id, vec![ins("late", 1)]).await.unwrap();
    assert!(matches!(o, ApplyOutcome::Gone), "{o:?}");
    let o = s.apply(id, vec![login("mallory", 0)]).await.unwrap();
    assert!(matches!(o, ApplyOutcome::Gone), "{o:?}");
    assert_missing(lookup(&rt, &token).await);
    assert_eq!(stored(&rt, &id), None);
    assert_eq!(count(&rt, Keyspace::Sessions), 0);
    assert_eq!(count(&rt, Keyspace::SessionsByUser), 0);
}

#[actix::test]
async fn apply_on_an_expired_session_is_gone_and_removes_it() {
    let clock = clock();
    let rt = start(config(policy(4)), &clock).await;
    let s = rt.sessions();
    let (token, _) = s.create(&[ins("a", 1)]).await.unwrap();
    clock.advance(mins(30));
    let o = s.apply(token.id(), vec![ins("b", 2)]).await.unwrap();
    assert!(matches!(o, ApplyOutcome::Gone), "{o:?}");
    assert_missing(lookup(&rt, &token).await);
    assert_eq!(count(&rt, Keyspace::Sessions), 0);
}

#[actix::test]
async fn login_and_logout_through_apply_keep_the_user_index_in_step() {
    let clock = clock();
    let rt = start(config(policy(4)), &clock).await;
    let s = rt.sessions();
    let (token, _) = s.create(&[]).await.unwrap();
    let id = token.id();
    let e = applied(s.apply(id, vec![login("alice", 0)]).await.unwrap());
    assert_eq!(e.record().user_id.as_deref(), Some("alice"));
    assert_eq!(e.record().authenticated_at, Some(T0));
    assert_eq!(e.record().session_version, Some(0));
    assert_eq!(ids(&s.list_for_user("alice").await.unwrap()), vec![id]);

    // Switching user moves the index entry.
    applied(s.apply(id, vec![login("bob", 0)]).await.unwrap());
    assert!(s.list_for_user("alice").await.unwrap().is_empty());
    assert_eq!(ids(&s.list_for_user("bob").await.unwrap()), vec![id]);
    assert_eq!(count(&rt, Keyspace::SessionsByUser), 1);

    // Logout: anonymous again, out of the index; a later "log out everywhere" leaves it be.
    let e = applied(s.apply(id, vec![Change::Logout]).await.unwrap());
    assert_eq!(e.record().user_id, None);
    assert_eq!(e.record().session_version, None);
    assert_eq!(count(&rt, Keyspace::SessionsByUser), 0);
    assert!(s.list_for_user("bob").await.unwrap().is_empty());
    assert!(s
        .destroy_all_for_user("bob", None)
        .await
        .unwrap()
        .is_empty());
    active(lookup(&rt, &token).await);
    assert_eq!(stored(&rt, &id).unwrap().user_id, None);
}

// 4 ------------------------------------------------------------------------------------------

#[actix::test]
async fn rotation_gives_a_new_token_and_kills_the_old_one_at_once() {
    let clock = clock();
    let rt = start(config(policy(4)), &clock).await;
    let s = rt.sessions();
    let (t1, _) = s
        .create(&[ins("cart", json!([1, 2])), ins("lang", "fr")])
        .await
        .unwrap();
    clock.advance(mins(5));

    let (t2, e2) = s
        .rotate(t1.id(), &[])
        .await
        .unwrap()
        .into_rotated()
        .unwrap();
    assert_ne!(t1, t2);
    assert_ne!(t1.id(), t2.id());
    assert_eq!(e2.record().data["cart"], json!([1, 2]));
    assert_eq!(e2.record().data["lang"], json!("fr"));
    assert_eq!(e2.record().data.len(), 2);
    // Rotation does not reset the absolute timeout.
    assert_eq!(e2.record().created_at, T0);
    assert_eq!(e2.record().last_seen_at, T0 + ms(mins(5)));

    // The old token is dead before rotate returned: in the view and in the store.
    assert!(matches!(s.lookup_cached(&t1), Ok(None)));
    assert_missing(lookup(&rt, &t1).await);
    assert_eq!(stored(&rt, &t1.id()), None);
    let e = active(lookup(&rt, &t2).await);
    assert_eq!(e.record().data["lang"], json!("fr"));
    assert_eq!(stored(&rt, &t2.id()).unwrap().data["cart"], json!([1, 2]));
    assert_eq!(count(&rt, Keyspace::Sessions), 1);

    // Rotating an old (already rotated) or destroyed session yields nothing.
    assert!(s
        .rotate(t1.id(), &[])
        .await
        .unwrap()
        .into_rotated()
        .is_none());
    assert!(s.destroy(t2.id()).await.unwrap());
    assert!(s
        .rotate(t2.id(), &[])
        .await
        .unwrap()
        .into_rotated()
        .is_none());
    assert!(s
        .rotate(t2.id(), &[login("mallory", 0)])
        .await
        .unwrap()
        .into_rotated()
        .is_none());
    assert_missing(lookup(&rt, &t2).await);
    assert_eq!(count(&rt, Keyspace::Sessions), 0);
    assert_eq!(count(&rt, Keyspace::SessionsByUser), 0);
}

#[actix::test]
async fn rotation_stays_on_the_owning_shard() {
    let clock = clock();
    let rt = start(config(policy(4)), &clock).await;
    let s = rt.sessions();
    let (mut t, _) = s.create(&[ins("n", 0)]).await.unwrap();
    let t_first = t.clone();
    let (mut cross, mut same) = (0, 0);
    let mut olds = Vec::new();
    for i in 1..=64u64 {
        let (next, e) = s
            .rotate(t.id(), &[ins("n", i)])
            .await
            .unwrap()
            .into_rotated()
            .expect("live session rotates");
        if t.id().shard(4) == next.id().shard(4) {
            same += 1;
        } else {
            cross += 1;
        }
        assert_eq!(e.record().data["n"], json!(i));
        assert_missing(lookup(&rt, &t).await);
        assert_eq!(stored(&rt, &t.id()), None);
        olds.push(std::mem::replace(&mut t, next));
    }
    // The new token is drawn so that its id lands on the old id's shard: a rotation is one
    // step of one shard and cannot interleave with a destroy-all of the user.
    assert_eq!((cross, same), (0, 64));
    let e = active(lookup(&rt, &t).await);
    assert_eq!(e.record().data["n"], json!(64));
    assert_eq!(e.record().created_at, T0);
    for old in olds.iter().chain([&t_first]) {
        assert_missing(lookup(&rt, old).await);
    }
    assert_eq!(count(&rt, Keyspace::Sessions), 1);
}

#[actix::test]
async fn a_login_rotation_indexes_only_the_new_id() {
    let clock = clock();
    let rt = start(config(policy(4)), &clock).await;
    let s = rt.sessions();
    let (t1, _) = s.create(&[ins("pre", 1)]).await.unwrap();
    let (t2, e) = s
        .rotate(t1.id(), &[login("alice", 0)])
        .await
        .unwrap()
        .into_rotated()
        .unwrap();
    assert_eq!(e.record().user_id.as_deref(), Some("alice"));
    assert_eq!(e.record().authenticated_at, Some(T0));
    assert_eq!(e.record().data["pre"], json!(1));
    let (t3, _) = s
        .rotate(t2.id(), &[])
        .await
        .unwrap()
        .into_rotated()
        .unwrap();
    assert_eq!(ids(&s.list_for_user("alice").await.unwrap()), vec![t3.id()]);
    assert_eq!(count(&rt, Keyspace::SessionsByUser), 1);
    assert_eq!(
        stored(&rt, &t3.id()).unwrap().user_id.as_deref(),
        Some("alice")
    );
}

/// `max_data_bytes` is enforced by `create` and `apply`; a rotation carrying data changes must
/// not be a way around it.
#[actix::test]
async fn rotation_cannot_exceed_max_data_bytes() {
    let clock = clock();
    let rt = start(config(policy(4).max_data_bytes(256)), &clock).await;
    let s = rt.sessions();
    let (t, _) = s.create(&[ins("a", 1)]).await.unwrap();
    let big = "x".repeat(4096);
    let r = s.rotate(t.id(), &[ins("big", big.as_str())]).await.unwrap();
    assert!(matches!(r, RotateOutcome::TooLarge), "{r:?}");
    // Nothing changed: the old token still works and holds only the small value.
    let e = active(lookup(&rt, &t).await);
    assert_eq!(e.record().data.len(), 1);
    assert!(stored(&rt, &t.id()).map(|r| r.data_len()).unwrap_or(0) <= 256);
}

// 5 ------------------------------------------------------------------------------------------

#[actix::test]
async fn a_token_the_client_invents_is_never_adopted() {
    let clock = clock();
    let rt = start(config(policy(4)), &clock).await;
    let s = rt.sessions();
    let invented = SessionToken::from_bytes([1; 32]);
    assert_missing(lookup(&rt, &invented).await);
    for changes in [
        vec![ins("x", 1)],
        vec![login("alice", 0)],
        vec![Change::SetCsrfSecret(Some("c".into()))],
    ] {
        let o = s.apply(invented.id(), changes).await.unwrap();
        assert!(matches!(o, ApplyOutcome::Gone), "{o:?}");
    }
    assert!(s
        .rotate(invented.id(), &[])
        .await
        .unwrap()
        .into_rotated()
        .is_none());
    assert!(!s.destroy(invented.id()).await.unwrap());
    assert_missing(lookup(&rt, &invented).await);
    assert_eq!(count(&rt, Keyspace::Sessions), 0);
    assert_eq!(count(&rt, Keyspace::SessionsByUser), 0);
    assert!(s.list_for_user("alice").await.unwrap().is_empty());
}

// 6 ------------------------------------------------------------------------------------------

#[actix::test]
async fn an_idle_session_expires_and_use_keeps_it_alive() {
    let clock = clock();
    let rt = start(config(policy(4)), &clock).await;
    let s = rt.sessions();
    let (token, _) = s.create(&[ins("a", 1)]).await.unwrap();

    clock.advance(mins(29));
    let e = active(lookup(&rt, &token).await);
    assert_eq!(e.last_seen(), T0 + ms(mins(29)), "the lookup touched it");

    clock.advance(mins(29)); // 58 min after creation, 29 after the last use
    let e = active(lookup(&rt, &token).await);
    assert_eq!(e.last_seen(), T0 + ms(mins(58)));
    assert_eq!(e.record().data["a"], json!(1));

    clock.advance(mins(31)); // unused for 31 min
    let l = lookup(&rt, &token).await;
    assert!(
        matches!(l, Lookup::Expired(ExpiryReason::Idle)),
        "expected Expired(Idle), got {l:?}"
    );
    until_missing(&rt, &token).await;
    assert_eq!(stored(&rt, &token.id()), None);
    let o = s.apply(token.id(), vec![ins("b", 2)]).await.unwrap();
    assert!(matches!(o, ApplyOutcome::Gone), "{o:?}");
    assert_missing(lookup(&rt, &token).await);
}

#[actix::test]
async fn the_idle_boundary_is_exact() {
    let clock = clock();
    let rt = start(config(policy(4)), &clock).await;
    let (token, _) = rt.sessions().create(&[]).await.unwrap();
    clock.set_millis(T0 + ms(mins(30)) - 1);
    active(lookup(&rt, &token).await);
    // 1 ms short of 30 min after that use: still alive (and touched again).
    clock.set_millis(T0 + ms(mins(60)) - 2);
    let l = lookup(&rt, &token).await;
    assert!(matches!(l, Lookup::Active(_)), "{l:?}");
    // Exactly 30 min after the last use: dead.
    clock.set_millis(T0 + ms(mins(90)) - 2);
    let l = lookup(&rt, &token).await;
    assert!(matches!(l, Lookup::Expired(ExpiryReason::Idle)), "{l:?}");
}

// 7 ------------------------------------------------------------------------------------------

#[actix::test]
async fn the_absolute_timeout_ends_even_a_busy_session() {
    let clock = clock();
    let p = policy(4).absolute_timeout(mins(120)).idle_timeout(mins(30));
    let rt = start(config(p), &clock).await;
    let s = rt.sessions();
    let (a, _) = s.create(&[ins("a", 1)]).await.unwrap();
    let (b, _) = s.create(&[ins("b", 1)]).await.unwrap();
    let mut b = b;
    for step in 1..=5u64 {
        clock.advance(mins(20));
        let e = active(lookup(&rt, &a).await);
        assert_eq!(e.last_seen(), T0 + ms(mins(20 * step)));
        active(lookup(&rt, &b).await);
        if step == 5 {
            // A rotation (a login, say) 100 min in does not restart the absolute clock.
            let (nb, e) = s.rotate(b.id(), &[]).await.unwrap().into_rotated().unwrap();
            assert_eq!(e.record().created_at, T0);
            b = nb;
        }
    }
    s.fold_now().await.unwrap();
    clock.advance(mins(20)); // 2 h after creation, 20 min after the last use
    let l = lookup(&rt, &a).await;
    assert!(
        matches!(l, Lookup::Expired(ExpiryReason::Absolute)),
        "expected Expired(Absolute), got {l:?}"
    );
    let l = lookup(&rt, &b).await;
    assert!(
        matches!(l, Lookup::Expired(ExpiryReason::Absolute)),
        "rotated session: expected Expired(Absolute), got {l:?}"
    );
    until_missing(&rt, &a).await;
    until_missing(&rt, &b).await;
    assert!(s
        .rotate(a.id(), &[])
        .await
        .unwrap()
        .into_rotated()
        .is_none());
    assert_eq!(count(&rt, Keyspace::Sessions), 0);
}

// 8 ------------------------------------------------------------------------------------------

#[actix::test]
async fn destroy_all_for_user_spares_the_exception_and_other_users() {
    let clock = clock();
    let rt = start(config(policy(4)), &clock).await;
    let s = rt.sessions();

    // Alice logs in five times through `apply`, Bob twice through a login rotation.
    let mut alice = Vec::new();
    for i in 0..5u64 {
        let (t, _) = s.create(&[ins("n", i)]).await.unwrap();
        let e = applied(s.apply(t.id(), vec![login("alice", 0)]).await.unwrap());
        assert_eq!(e.record().user_id.as_deref(), Some("alice"));
        alice.push(t);
        clock.advance(Duration::from_secs(1));
    }
    let mut bob = Vec::new();
    for i in 0..2 {
        bob.push(logged_in(&rt, "bob", i).await);
        clock.advance(Duration::from_secs(1));
    }
    let listed = s.list_for_user("alice").await.unwrap();
    assert_eq!(
        ids(&listed),
        alice.iter().map(SessionToken::id).collect::<Vec<_>>(),
        "oldest first"
    );
    assert_eq!(listed[0].created_at, T0);
    assert_eq!(listed[0].authenticated_at, Some(T0));
    assert_eq!(s.list_for_user("bob").await.unwrap().len(), 2);
    assert_eq!(count(&rt, Keyspace::SessionsByUser), 7);

    let keep = alice[2].id();
    let gone = s.destroy_all_for_user("alice", Some(keep)).await.unwrap();
    assert_eq!(gone.len(), 4, "{gone:?}");
    assert_eq!(
        sorted(gone),
        sorted(alice.iter().map(SessionToken::id).filter(|id| *id != keep))
    );
    for (i, t) in alice.iter().enumerate() {
        if i == 2 {
            let e = active(lookup(&rt, t).await);
            assert_eq!(e.record().user_id.as_deref(), Some("alice"));
            assert_eq!(e.record().data["n"], json!(2));
        } else {
            assert_missing(lookup(&rt, t).await);
            assert_eq!(stored(&rt, &t.id()), None);
        }
    }
    for t in &bob {
        let e = active(lookup(&rt, t).await);
        assert_eq!(e.record().user_id.as_deref(), Some("bob"));
    }
    assert_eq!(ids(&s.list_for_user("alice").await.unwrap()), vec![keep]);
    assert_eq!(
        ids(&s.list_for_user("bob").await.unwrap()),
        bob.iter().map(SessionToken::id).collect::<Vec<_>>()
    );
    assert_eq!(count(&rt, Keyspace::Sessions), 3);
    assert_eq!(count(&rt, Keyspace::SessionsByUser), 3);

    // Everything, this time; then nothing is left to remove.
    assert_eq!(
        s.destroy_all_for_user("alice", None).await.unwrap(),
        vec![keep]
    );
    assert!(s
        .destroy_all_for_user("alice", None)
        .await
        .unwrap()
        .is_empty());
    assert_missing(lookup(&rt, &alice[2]).await);
    assert!(s.list_for_user("alice").await.unwrap().is_empty());
    assert_eq!(s.list_for_user("bob").await.unwrap().len(), 2);
}

/// "Log out everywhere" racing rotations (logins, periodic rotations) of the user's sessions:
/// whichever order the shards see the messages in, no session of the user may outlive the
/// revocation. A rotation either completes before it (and its new session is destroyed) or
/// finds its old session gone (and returns `None`).
#[actix::test]
async fn a_rotation_racing_destroy_all_for_user_does_not_survive_it() {
    let clock = clock();
    let rt = start(config(policy(4)), &clock).await;
    let s = rt.sessions();
    let mut tokens = Vec::new();
    for i in 0..20 {
        tokens.push(logged_in(&rt, "alice", i).await);
    }
    let rotations = futures_util::future::join_all(tokens.iter().map(|t| s.rotate(t.id(), &[])));
    let destroy = s.destroy_all_for_user("alice", None);
    let (rotated, destroyed) = futures_util::future::join(rotations, destroy).await;
    let destroyed = destroyed.unwrap();
    let mut survivors = Vec::new();
    for r in rotated {
        if let Some((t, _)) = r.unwrap().into_rotated() {
            if matches!(lookup(&rt, &t).await, Lookup::Active(_)) {
                survivors.push(t.id());
            }
        }
    }
    let listed = s.list_for_user("alice").await.unwrap();
    assert!(
        survivors.is_empty() && listed.is_empty(),
        "{} of alice's sessions survived destroy_all_for_user (which removed {}); listed: {}",
        survivors.len(),
        destroyed.len(),
        listed.len()
    );
}

#[actix::test]
async fn user_ids_that_share_a_prefix_are_not_confused() {
    let clock = clock();
    let rt = start(config(policy(4)), &clock).await;
    let s = rt.sessions();
    let al = logged_in(&rt, "al", 0).await;
    let alice = logged_in(&rt, "alice", 1).await;
    assert_eq!(ids(&s.list_for_user("al").await.unwrap()), vec![al.id()]);
    assert_eq!(
        s.destroy_all_for_user("al", None).await.unwrap(),
        vec![al.id()]
    );
    active(lookup(&rt, &alice).await);
    assert_eq!(
        ids(&s.list_for_user("alice").await.unwrap()),
        vec![alice.id()]
    );
}

// 9 ------------------------------------------------------------------------------------------

#[actix::test]
async fn bumping_the_version_keeps_one_session_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let cfg = config_in(policy(4), dir.path());
    let (keep, others, bob) = {
        let rt = start(cfg.clone(), &clock).await;
        let s = rt.sessions();
        assert_eq!(s.user_version("alice").await.unwrap(), 0);
        let mut alice = Vec::new();
        for i in 0..3 {
            alice.push(logged_in(&rt, "alice", i).await);
        }
        let bob = logged_in(&rt, "bob", 9).await;
        let keep = alice.remove(1);

        assert_eq!(s.bump_version("alice", Some(keep.id())).await.unwrap(), 1);
        for t in &alice {
            assert_missing(lookup(&rt, t).await);
            assert_eq!(stored(&rt, &t.id()), None);
        }
        let e = active(lookup(&rt, &keep).await);
        assert_eq!(e.record().session_version, Some(1));
        assert_eq!(e.record().user_id.as_deref(), Some("alice"));
        assert_eq!(stored(&rt, &keep.id()).unwrap().session_version, Some(1));
        assert_eq!(s.user_version("alice").await.unwrap(), 1);
        assert_eq!(
            ids(&s.list_for_user("alice").await.unwrap()),
            vec![keep.id()]
        );
        // Bob is untouched.
        assert_eq!(s.user_version("bob").await.unwrap(), 0);
        assert_eq!(
            active(lookup(&rt, &bob).await).record().session_version,
            Some(0)
        );

        assert_eq!(s.bump_version("alice", Some(keep.id())).await.unwrap(), 2);
        assert_eq!(s.user_version("alice").await.unwrap(), 2);
        assert_eq!(
            active(lookup(&rt, &keep).await).record().session_version,
            Some(2)
        );
        rt.shutdown().await.unwrap();
        (keep, alice, bob)
    };

    let rt = start(cfg, &clock).await;
    let s = rt.sessions();
    assert_eq!(s.user_version("alice").await.unwrap(), 2);
    assert_eq!(s.user_version("bob").await.unwrap(), 0);
    let e = active(lookup(&rt, &keep).await);
    assert_eq!(e.record().session_version, Some(2));
    for t in &others {
        assert_missing(lookup(&rt, t).await);
    }
    active(lookup(&rt, &bob).await);

    // Without a session to keep, every session of the user goes.
    assert_eq!(s.bump_version("alice", None).await.unwrap(), 3);
    assert_missing(lookup(&rt, &keep).await);
    assert!(s.list_for_user("alice").await.unwrap().is_empty());
    assert_eq!(s.user_version("alice").await.unwrap(), 3);
    active(lookup(&rt, &bob).await);
    rt.shutdown().await.unwrap();
}

// 10 -----------------------------------------------------------------------------------------

#[actix::test]
async fn sessions_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let cfg = config_in(policy(4), dir.path());
    let (anon, user, dead) = {
        let rt = start(cfg.clone(), &clock).await;
        let s = rt.sessions();
        let (anon, _) = s
            .create(&[ins("theme", "dark"), ins("cart", json!([3, 4]))])
            .await
            .unwrap();
        let user = logged_in(&rt, "alice", 7).await;
        applied(s.apply(user.id(), vec![ins("note", "hi")]).await.unwrap());
        let (dead, _) = s.create(&[ins("x", 1)]).await.unwrap();
        assert!(s.destroy(dead.id()).await.unwrap());

        clock.advance(mins(10));
        active(lookup(&rt, &anon).await);
        active(lookup(&rt, &user).await);
        assert_eq!(s.fold_now().await.unwrap(), 2);
        assert_eq!(s.fold_now().await.unwrap(), 0, "nothing new to fold");
        assert_eq!(
            stored(&rt, &anon.id()).unwrap().last_seen_at,
            T0 + ms(mins(10))
        );
        rt.shutdown().await.unwrap();
        (anon, user, dead)
    };

    let rt = start(cfg, &clock).await;
    let s = rt.sessions();
    assert!(matches!(s.lookup_cached(&anon), Ok(None)), "a fresh view");
    let e = active(lookup(&rt, &anon).await);
    assert_eq!(e.record().data["theme"], json!("dark"));
    assert_eq!(e.record().data["cart"], json!([3, 4]));
    assert_eq!(e.record().user_id, None);
    assert_eq!(e.record().created_at, T0);
    assert_eq!(
        e.record().last_seen_at,
        T0 + ms(mins(10)),
        "the folded touch"
    );

    let e = active(lookup(&rt, &user).await);
    assert_eq!(e.record().user_id.as_deref(), Some("alice"));
    assert_eq!(e.record().data["n"], json!(7));
    assert_eq!(e.record().data["note"], json!("hi"));
    assert_eq!(e.record().authenticated_at, Some(T0));
    assert_eq!(e.record().session_version, Some(0));
    assert_eq!(e.record().last_seen_at, T0 + ms(mins(10)));
    assert_eq!(
        ids(&s.list_for_user("alice").await.unwrap()),
        vec![user.id()]
    );

    assert_missing(lookup(&rt, &dead).await);
    assert_eq!(count(&rt, Keyspace::Sessions), 2);

    // The folded touch counts for the idle timeout after the restart: 35 min after creation,
    // 25 after the last use.
    clock.advance(mins(25));
    active(lookup(&rt, &anon).await);
    rt.shutdown().await.unwrap();
}

// 11 -----------------------------------------------------------------------------------------

#[actix::test]
async fn the_sweeper_removes_idle_sessions_but_not_recently_used_ones() {
    let clock = clock();
    let rt = start(config(policy(4)), &clock).await;
    let s = rt.sessions();
    let mut idle = Vec::new();
    for i in 0..10u64 {
        idle.push(s.create(&[ins("i", i)]).await.unwrap().0);
    }
    let mut used = Vec::new();
    for i in 0..3u64 {
        used.push(s.create(&[ins("u", i)]).await.unwrap().0);
    }
    assert_eq!(count(&rt, Keyspace::Sessions), 13);
    assert_eq!(rt.sweep_now().await.unwrap(), 0);

    clock.advance(mins(20));
    for t in &used {
        active(lookup(&rt, t).await);
    }
    assert_eq!(s.fold_now().await.unwrap(), 3);

    clock.advance(mins(11)); // idle ones: 31 min unused; used ones: 11 min
    assert_eq!(rt.sweep_now().await.unwrap(), 10);
    assert_eq!(count(&rt, Keyspace::Sessions), 3);
    assert_eq!(rt.sweep_now().await.unwrap(), 0);
    for t in &idle {
        assert_eq!(stored(&rt, &t.id()), None);
    }
    for t in &used {
        let e = active(lookup(&rt, t).await);
        assert_eq!(e.last_seen(), T0 + ms(mins(31)));
        assert_eq!(
            stored(&rt, &t.id()).unwrap().last_seen_at,
            T0 + ms(mins(20))
        );
    }
    // The fold keeps expired entries in the view for one more idle period, so the next
    // request presenting one is told why (once); none ever comes back to life.
    s.fold_now().await.unwrap();
    for t in &idle[..5] {
        assert!(matches!(
            lookup(&rt, t).await,
            Lookup::Expired(ExpiryReason::Idle)
        ));
    }
    for t in &idle[..5] {
        let t = t.clone();
        eventually("expired session removed from the view", || {
            matches!(s.lookup_cached(&t), Ok(None))
        })
        .await;
        assert_missing(lookup(&rt, &t).await);
    }
    assert_eq!(count(&rt, Keyspace::Sessions), 3);

    // And now everything has been idle long enough; past the grace period the fold evicts the
    // untouched expired entries, so their lookups are plain misses.
    clock.advance(mins(31));
    assert_eq!(rt.sweep_now().await.unwrap(), 3);
    assert_eq!(count(&rt, Keyspace::Sessions), 0);
    s.fold_now().await.unwrap();
    for t in &idle[5..] {
        assert!(matches!(s.lookup_cached(t), Ok(None)));
        assert_missing(lookup(&rt, t).await);
    }
}

#[actix::test]
async fn the_sweeper_also_removes_user_index_entries_at_the_absolute_deadline() {
    let clock = clock();
    let p = policy(4).absolute_timeout(mins(120)).idle_timeout(mins(30));
    let rt = start(config(p), &clock).await;
    let s = rt.sessions();
    for i in 0..4 {
        logged_in(&rt, "alice", i).await;
    }
    assert_eq!(count(&rt, Keyspace::SessionsByUser), 4);
    clock.advance(mins(31));
    assert_eq!(rt.sweep_now().await.unwrap(), 4);
    assert_eq!(count(&rt, Keyspace::Sessions), 0);
    assert!(s.list_for_user("alice").await.unwrap().is_empty());
    clock.advance(mins(90));
    assert_eq!(rt.sweep_now().await.unwrap(), 4);
    assert_eq!(count(&rt, Keyspace::SessionsByUser), 0);
}

// 12 -----------------------------------------------------------------------------------------

#[actix::test]
async fn a_crashed_shard_restarts_and_reloads_from_the_store() {
    let clock = clock();
    let rt = start(config(policy(4)), &clock).await;
    let s = rt.sessions().clone();
    let (token, _) = s.create(&[ins("k", "v")]).await.unwrap();
    let user = logged_in(&rt, "alice", 1).await;
    // A session on another shard, which must not notice.
    let other = loop {
        let (t, _) = s.create(&[ins("other", 1)]).await.unwrap();
        if t.id().shard(4) != token.id().shard(4) {
            break t;
        }
    };
    assert!(matches!(
        s.lookup_cached(&token),
        Ok(Some(Lookup::Active(_)))
    ));

    let err = s.crash_shard_for_tests(token.id()).await.unwrap_err();
    assert!(
        matches!(err, ActorError::Panicked { actor: "session" }),
        "{err:?}"
    );

    // While it restarts, reads of its part fail closed; afterwards its view is empty.
    let t = Instant::now();
    loop {
        match s.lookup_cached(&token) {
            Ok(None) => break,
            Err(ActorError::Unavailable { .. }) | Ok(Some(Lookup::Active(_))) => {}
            other => panic!("unexpected during the restart: {other:?}"),
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "the shard's view was never cleared"
        );
        actix_rt::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(matches!(
        s.lookup_cached(&other),
        Ok(Some(Lookup::Active(_)))
    ));
    s.ping().await.unwrap();
    let e = active(lookup(&rt, &token).await);
    assert_eq!(e.record().data["k"], json!("v"));
    assert!(matches!(
        s.lookup_cached(&token),
        Ok(Some(Lookup::Active(_)))
    ));
    applied(s.apply(token.id(), vec![ins("k2", 2)]).await.unwrap());
    let e = active(lookup(&rt, &user).await);
    assert_eq!(e.record().user_id.as_deref(), Some("alice"));
    assert_eq!(s.user_version("alice").await.unwrap(), 0);
    active(lookup(&rt, &other).await);

    // After shutdown nothing is ever Active: every lookup fails closed, and fast.
    rt.shutdown().await.unwrap();
    let t = Instant::now();
    for tok in [&token, &user, &other, &SessionToken::generate()] {
        let r = s.lookup(tok).await;
        assert!(
            matches!(r, Err(ActorError::Unavailable { .. })),
            "lookup after shutdown: {r:?}"
        );
        assert!(matches!(
            s.lookup_cached(tok),
            Err(ActorError::Unavailable { .. })
        ));
    }
    assert!(s.create(&[]).await.is_err());
    assert!(s.apply(token.id(), vec![ins("x", 1)]).await.is_err());
    assert!(s.destroy(token.id()).await.is_err());
    assert!(s.rotate(token.id(), &[]).await.is_err());
    assert!(s.user_version("alice").await.is_err());
    assert!(s.list_for_user("alice").await.is_err());
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
}

/// A runtime is usable once `start` returns: the hot path must not refuse lookups (fail
/// closed, a 503) just because the shard arbiters have not run `started` yet. The race is
/// narrow, so the machine is kept busy while runtimes start.
#[actix::test]
async fn lookups_right_after_start_are_answered() {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let threads = std::thread::available_parallelism().map_or(4, |n| n.get()) * 2;
    let burners: Vec<_> = (0..threads)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            })
        })
        .collect();
    let tokens: Vec<SessionToken> = (0..32).map(|_| SessionToken::generate()).collect();
    let mut refused = 0;
    for _ in 0..50 {
        let rt = Runtime::builder(config(policy(8)))
            .clock(clock())
            .start()
            .unwrap();
        if tokens
            .iter()
            .any(|t| rt.sessions().lookup_cached(t).is_err())
        {
            refused += 1;
        }
        rt.shutdown().await.unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for b in burners {
        b.join().unwrap();
    }
    assert_eq!(
        refused, 0,
        "of 50 fresh runtimes, {refused} refused lookups"
    );
}

// 13 -----------------------------------------------------------------------------------------

#[actix::test]
async fn debug_output_never_shows_data_secrets_or_tokens() {
    let clock = clock();
    let rt = start(config(policy(4)), &clock).await;
    let s = rt.sessions();
    let value = "hunter2-data-value";
    let csrf = "csrf-secret-Zq9";
    let changes = vec![
        ins("password_hint", value),
        ins("nested", json!({ "deep": value })),
        // (A login rotates the CSRF secret, so the secret is set after it.)
        login("alice", 3),
        Change::SetCsrfSecret(Some(csrf.into())),
    ];
    let (token, entry) = s.create(&changes).await.unwrap();
    let e = active(lookup(&rt, &token).await);
    let applied_entry = applied(s.apply(token.id(), changes.clone()).await.unwrap());
    let outcome = s.apply(token.id(), vec![ins("more", value)]).await.unwrap();
    let infos = s.list_for_user("alice").await.unwrap();
    let lookup_debug = lookup(&rt, &token).await;

    let mut outputs = vec![
        format!("{token:?}"),
        format!("{token:#?}"),
        format!("{:?}", token.id()),
        format!("{}", token.id()),
        format!("{:?}", entry.record()),
        format!("{:#?}", entry.record()),
        format!("{entry:?}"),
        format!("{e:#?}"),
        format!("{applied_entry:?}"),
        format!("{outcome:?}"),
        format!("{lookup_debug:?}"),
        format!("{infos:?}"),
        format!("{s:?}"),
        format!("{changes:?}"),
        format!("{changes:#?}"),
    ];
    outputs.extend(changes.iter().map(|c| format!("{c:?}")));
    assert_eq!(format!("{token:?}"), "SessionToken(..)");
    assert!(format!("{:?}", entry.record()).contains("password_hint"));
    let forms = token_forms(&token);
    for out in &outputs {
        assert!(!out.contains(value), "data value in {out}");
        assert!(!out.contains("hunter2"), "data value in {out}");
        assert!(!out.contains(csrf), "CSRF secret in {out}");
        for f in &forms {
            assert!(!out.contains(f.as_str()), "token form {f} in {out}");
        }
    }
    // The record itself holds them (so the checks above are not vacuous).
    assert_eq!(e.record().csrf_secret.as_deref(), Some(csrf));
    assert_eq!(e.record().data["password_hint"], json!(value));
}
