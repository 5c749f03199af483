//! The lockout actor: owns every failure counter and lock deadline, writes them through to the
//! store, and raises `auth.lockout.locked` and `alert.spike`.
//!
//! Store layout in [`Keyspace::Lockout`]: `\0secret` (32 random bytes, the key of the
//! account-name hash), then one record per counter, each expiring with its episode:
//! `A‖id` (account), `P‖id‖net` (pair), `I‖net` (network), and `T‖id‖net` (a network trusted
//! for the account after a successful login). `id` is the first 16 bytes of
//! SHA-256(secret ‖ normalised login): no login name (nor a password typed into the login
//! field) is ever stored or logged. `net` is the 16-byte network (IPv4-mapped or an IPv6 /64).

use std::{net::IpAddr, sync::Arc};

use actix::{Actor, ActorFutureExt, AsyncContext, Context, Supervised};
use rand::{rngs::OsRng, RngCore};
use sha2::{Digest, Sha256};

use super::{
    cache::Cache,
    messages::{AccountStatus, LockoutStats, ScopeStatus, Status},
    policy::{ms, network, normalize_login, Counter, LockoutPolicy, Scope},
};
use crate::{
    clock::{millis_to_utc, SharedClock},
    store::{Durability, Keyspace, PutOptions, Store},
    ActorError, AuditHandle, SecurityEvent, StoreError,
};

pub(crate) const NAME: &str = "lockout";
const KS: Keyspace = Keyspace::Lockout;
const SECRET: &[u8] = b"\0secret";
const ACCOUNT: u8 = b'A';
const PAIR: u8 = b'P';
const NET: u8 = b'I';
const TRUSTED: u8 = b'T';

/// A reply waiting for the next flush of the store.
pub(crate) type Pending = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;

/// The keys of one attempt.
struct Keys {
    id: [u8; 16],
    net: IpAddr,
    account: Vec<u8>,
    pair: Vec<u8>,
    ip: Vec<u8>,
    trusted: Vec<u8>,
}

fn key(kind: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = vec![kind];
    parts.iter().for_each(|p| k.extend_from_slice(p));
    k
}

fn net_bytes(net: IpAddr) -> [u8; 16] {
    match net {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

fn rfc3339(ms: u64) -> String {
    millis_to_utc(ms)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A copy of a store error, for every reply of a failed flush.
pub(crate) fn dup(e: &StoreError) -> StoreError {
    match e {
        StoreError::Backend(s) => StoreError::Backend(s.clone()),
        StoreError::UnsupportedFormat { keyspace, found } => StoreError::UnsupportedFormat {
            keyspace,
            found: *found,
        },
        StoreError::Corrupt { keyspace, reason } => StoreError::Corrupt { keyspace, reason },
        StoreError::Serialization(s) => StoreError::Serialization(s.clone()),
        StoreError::Closed => StoreError::Closed,
    }
}

/// The spray detector: failures across all accounts in the current fixed window.
#[derive(Debug, Default)]
pub(crate) struct Spray {
    window: u64,
    count: u64,
}

/// The lockout actor. One per process: a few messages per login attempt.
pub(crate) struct LockoutActor {
    pub(crate) policy: LockoutPolicy,
    pub(crate) clock: SharedClock,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) audit: AuditHandle,
    pub(crate) secret: Option<[u8; 32]>,
    pub(crate) cache: Cache,
    pub(crate) spray: Spray,
    pub(crate) stats: LockoutStats,
    pub(crate) pending: Vec<Pending>,
    pub(crate) flushing: bool,
}

impl std::fmt::Debug for LockoutActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockoutActor")
            .field("policy", &self.policy)
            .field("tracked_keys", &self.cache.len())
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl LockoutActor {
    pub(crate) fn new(
        policy: LockoutPolicy,
        clock: SharedClock,
        store: Arc<dyn Store>,
        audit: AuditHandle,
    ) -> Self {
        Self {
            cache: Cache::new(policy.max_tracked_keys),
            policy,
            clock,
            store,
            audit,
            secret: None,
            spray: Spray::default(),
            stats: LockoutStats::default(),
            pending: Vec::new(),
            flushing: false,
        }
    }

    fn now(&self) -> u64 {
        self.clock.now_millis()
    }

    /// The key of the account-name hash: loaded from the store, or made once and stored.
    fn secret(&mut self) -> Result<[u8; 32], ActorError> {
        if let Some(s) = self.secret {
            return Ok(s);
        }
        let s = match self.store.get(KS, SECRET)? {
            Some(b) => <[u8; 32]>::try_from(b.as_slice()).map_err(|_| StoreError::Corrupt {
                keyspace: KS.name(),
                reason: "lockout secret is not 32 bytes",
            })?,
            None => {
                let mut s = [0u8; 32];
                OsRng.fill_bytes(&mut s);
                self.store.put(KS, SECRET, &s, PutOptions::durable())?;
                s
            }
        };
        self.secret = Some(s);
        Ok(s)
    }

    fn account_id(&mut self, account: &str) -> Result<[u8; 16], ActorError> {
        let mut h = Sha256::new();
        h.update(self.secret()?);
        h.update(normalize_login(account).as_bytes());
        let d = h.finalize();
        let mut id = [0u8; 16];
        id.copy_from_slice(&d[..16]);
        Ok(id)
    }

    fn keys(&mut self, account: &str, ip: IpAddr) -> Result<Keys, ActorError> {
        let id = self.account_id(account)?;
        let net = network(ip);
        let n = net_bytes(net);
        Ok(Keys {
            id,
            net,
            account: key(ACCOUNT, &[&id]),
            pair: key(PAIR, &[&id, &n]),
            ip: key(NET, &[&n]),
            trusted: key(TRUSTED, &[&id, &n]),
        })
    }

    /// A counter as it stands now: from the cache, or the store (then cached).
    fn load(&mut self, k: &[u8], now: u64) -> Result<Counter, ActorError> {
        let w = self.policy.window_ms();
        if let Some(c) = self.cache.get(k) {
            let live = c.at(now, w);
            if live == Counter::default() {
                self.cache.remove(k);
            }
            return Ok(live);
        }
        let Some(bytes) = self.store.get(KS, k)? else {
            return Ok(Counter::default());
        };
        let live = serde_json::from_slice::<Counter>(&bytes)
            .map_err(StoreError::from)?
            .at(now, w);
        if live != Counter::default() {
            self.cache.insert(k.to_vec(), live);
        }
        Ok(live)
    }

    /// Writes a counter (buffered: the caller's reply waits for the next flush).
    fn save(&mut self, k: &[u8], c: Counter) -> Result<(), ActorError> {
        let o = PutOptions::buffered().expires_at(c.expires_at(self.policy.window_ms()));
        let v = serde_json::to_vec(&c).map_err(StoreError::from)?;
        self.store.put(KS, k, &v, o)?;
        self.cache.insert(k.to_vec(), c);
        Ok(())
    }

    fn forget(&mut self, k: &[u8]) -> Result<bool, ActorError> {
        self.cache.remove(k);
        Ok(self.store.delete(KS, k, Durability::Buffered)?)
    }

    fn trusted(&self, k: &Keys) -> Result<bool, ActorError> {
        Ok(self.policy.trusted_ip_ttl.is_some() && self.store.get(KS, &k.trusted)?.is_some())
    }

    fn status(now: u64, account: &Counter, pair: &Counter, ip: &Counter, trusted: bool) -> Status {
        let mut st = Status {
            account: ScopeStatus::of(account, now),
            account_ip: ScopeStatus::of(pair, now),
            ip: ScopeStatus::of(ip, now),
            trusted_ip: trusted,
            ..Status::default()
        };
        let until = [
            (Scope::Account, account),
            (Scope::AccountIp, pair),
            (Scope::Ip, ip),
        ]
        .into_iter()
        .filter(|(s, c)| c.is_locked(now) && !(*s == Scope::Account && trusted))
        .map(|(_, c)| c.locked_until)
        .max();
        if let Some(u) = until {
            st.locked = true;
            st.retry_after = Some(std::time::Duration::from_millis(u - now));
        }
        st
    }

    pub(crate) fn check(&mut self, account: &str, ip: IpAddr) -> Result<Status, ActorError> {
        let now = self.now();
        let k = self.keys(account, ip)?;
        let (a, p, i) = (
            self.load(&k.account, now)?,
            self.load(&k.pair, now)?,
            self.load(&k.ip, now)?,
        );
        let trusted = a.is_locked(now) && self.trusted(&k)?;
        Ok(Self::status(now, &a, &p, &i, trusted))
    }

    pub(crate) fn record_failure(
        &mut self,
        account: &str,
        ip: IpAddr,
        context: Option<SecurityEvent>,
    ) -> Result<Status, ActorError> {
        let now = self.now();
        let k = self.keys(account, ip)?;
        let mut a = self.load(&k.account, now)?;
        let mut p = self.load(&k.pair, now)?;
        let mut i = self.load(&k.ip, now)?;
        // A failure refused by its pair's or network's lock never reached a password check:
        // it does not count toward the account-wide lock (one network cannot trip it alone).
        let blocked = p.is_locked(now) || i.is_locked(now);
        let pol = self.policy.clone();
        let mut locked = Vec::new();
        if let Some(d) = p.fail(now, &pol, Scope::AccountIp, false) {
            locked.push((Scope::AccountIp, d, p));
        }
        if let Some(d) = i.fail(now, &pol, Scope::Ip, false) {
            locked.push((Scope::Ip, d, i));
        }
        if !blocked {
            if let Some(d) = a.fail(now, &pol, Scope::Account, true) {
                locked.push((Scope::Account, d, a));
            }
            self.save(&k.account, a)?;
        }
        self.save(&k.pair, p)?;
        self.save(&k.ip, i)?;
        self.stats.failures += 1;
        self.stats.locks += locked.len() as u64;
        self.spray(now);
        for (scope, d, c) in &locked {
            self.emit_locked(context.as_ref(), &k, *scope, *d, c);
        }
        let trusted = a.is_locked(now) && self.trusted(&k)?;
        let mut st = Self::status(now, &a, &p, &i, trusted);
        st.newly_locked = locked.into_iter().map(|(s, _, _)| s).collect();
        Ok(st)
    }

    fn emit_locked(
        &self,
        context: Option<&SecurityEvent>,
        k: &Keys,
        scope: Scope,
        d: std::time::Duration,
        c: &Counter,
    ) {
        let mut ev = context
            .cloned()
            .unwrap_or_else(|| SecurityEvent::new("auth.lockout.locked"));
        ev.name = "auth.lockout.locked".into();
        let mut ev = ev
            .detail("scope", scope.as_str())
            .detail("until", rfc3339(c.locked_until))
            .detail("failures", c.failures)
            .detail("lock_secs", d.as_secs());
        if scope != Scope::Ip {
            ev = ev.detail("account_ref", hex::encode(&k.id[..8]));
        }
        if scope != Scope::Account {
            ev = ev.detail("network", k.net.to_string());
        }
        self.audit.emit(ev);
    }

    /// Counts a failure in the global window; raises `alert.spike` once per window when the
    /// count reaches the threshold.
    fn spray(&mut self, now: u64) {
        let threshold = u64::from(self.policy.spray_threshold);
        if threshold == 0 {
            return;
        }
        let w = ms(self.policy.spray_window).max(1);
        if now / w != self.spray.window {
            self.spray = Spray {
                window: now / w,
                count: 0,
            };
        }
        self.spray.count += 1;
        if self.spray.count == threshold {
            self.stats.spray_alerts += 1;
            self.audit.emit(
                SecurityEvent::new("alert.spike")
                    .detail("kind", "auth.login.failure")
                    .detail("count", self.spray.count)
                    .detail("threshold", threshold)
                    .detail("detector", "lockout.spray")
                    .detail("window_secs", self.policy.spray_window.as_secs()),
            );
        }
    }

    /// A success: the account's count and lock and this pair's counter go, the network's
    /// stays; the network becomes trusted for the account. The account keeps its backoff step
    /// until its window passes, so that an attack still going on meets a longer lock next
    /// time rather than a fresh 300 s. Returns the account failures it cleared.
    pub(crate) fn record_success(&mut self, account: &str, ip: IpAddr) -> Result<u64, ActorError> {
        let now = self.now();
        let k = self.keys(account, ip)?;
        let a = self.load(&k.account, now)?;
        if a.locks > 0 {
            let kept = Counter {
                locks: a.locks,
                last_failure_at: a.last_failure_at,
                locked_until: a.locked_until.min(now),
                ..Counter::default()
            };
            self.save(&k.account, kept)?;
        } else {
            self.forget(&k.account)?;
        }
        self.forget(&k.pair)?;
        if let Some(ttl) = self.policy.trusted_ip_ttl {
            let o = PutOptions::buffered().expires_at(now.saturating_add(ms(ttl)));
            self.store.put(KS, &k.trusted, &[1], o)?;
        }
        Ok(a.failures)
    }

    pub(crate) fn unlock(&mut self, account: &str) -> Result<usize, ActorError> {
        let id = self.account_id(account)?;
        let mut n = usize::from(self.forget(&key(ACCOUNT, &[&id]))?);
        for (k, _) in self.store.scan_prefix(KS, &key(PAIR, &[&id]), usize::MAX)? {
            n += usize::from(self.forget(&k)?);
        }
        self.audit.emit(
            SecurityEvent::new("auth.lockout.unlocked")
                .detail("account_ref", hex::encode(&id[..8]))
                .detail("cleared", n),
        );
        Ok(n)
    }

    pub(crate) fn unlock_ip(&mut self, ip: IpAddr) -> Result<bool, ActorError> {
        let net = network(ip);
        let gone = self.forget(&key(NET, &[&net_bytes(net)]))?;
        self.audit.emit(
            SecurityEvent::new("auth.lockout.unlocked")
                .detail("network", net.to_string())
                .detail("cleared", usize::from(gone)),
        );
        Ok(gone)
    }

    pub(crate) fn account_status(&mut self, account: &str) -> Result<AccountStatus, ActorError> {
        let now = self.now();
        let id = self.account_id(account)?;
        let a = self.load(&key(ACCOUNT, &[&id]), now)?;
        let mut st = AccountStatus {
            account: ScopeStatus::of(&a, now),
            locked_until: a.is_locked(now).then_some(a.locked_until),
            ..AccountStatus::default()
        };
        for (k, _) in self.store.scan_prefix(KS, &key(PAIR, &[&id]), usize::MAX)? {
            let p = self.load(&k, now)?;
            if p == Counter::default() {
                continue;
            }
            st.tracked_pairs += 1;
            if p.is_locked(now) {
                st.locked_pairs += 1;
                st.locked_until = st.locked_until.max(Some(p.locked_until));
            }
        }
        Ok(st)
    }

    pub(crate) fn stats(&self) -> LockoutStats {
        LockoutStats {
            tracked_keys: self.cache.len(),
            ..self.stats
        }
    }

    /// Queues a reply for the next flush, and starts one unless one is running (group commit:
    /// every reply queued while a flush runs shares the next one).
    pub(crate) fn after_flush(&mut self, reply: Pending, ctx: &mut Context<Self>) {
        self.pending.push(reply);
        self.start_flush(ctx);
    }

    fn start_flush(&mut self, ctx: &mut Context<Self>) {
        if self.flushing || self.pending.is_empty() {
            return;
        }
        self.flushing = true;
        let batch = std::mem::take(&mut self.pending);
        let store = self.store.clone();
        let flush = async move {
            actix_rt::task::spawn_blocking(move || store.flush())
                .await
                .unwrap_or_else(|e| Err(StoreError::Backend(format!("flush task: {e}"))))
        };
        ctx.spawn(
            actix::fut::wrap_future::<_, Self>(flush).map(move |r, act: &mut Self, ctx| {
                if let Err(e) = &r {
                    tracing::error!(error = %e, "lockout flush failed; failures not acknowledged");
                }
                batch
                    .into_iter()
                    .for_each(|reply| reply(r.as_ref().map(|_| ())));
                act.flushing = false;
                act.start_flush(ctx);
            }),
        );
    }
}

impl Actor for LockoutActor {
    type Context = Context<Self>;
}

impl Supervised for LockoutActor {
    fn restarting(&mut self, _: &mut Context<Self>) {
        // The store is the truth: start from it again. Waiting replies fail (their senders
        // drop); the running flush was cancelled with the context's futures.
        tracing::warn!("lockout actor restarting; reloading counters from the store");
        self.cache.clear();
        self.secret = None;
        self.pending.clear();
        self.flushing = false;
    }
}
