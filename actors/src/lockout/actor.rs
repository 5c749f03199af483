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

use actix::{Actor, Context, Supervised};
use rand::{rngs::OsRng, RngCore};
use sha2::{Digest, Sha256};

use super::{
    cache::Cache,
    commit::Pending,
    counter::Counter,
    events::Spray,
    messages::{AccountStatus, LockoutStats, ScopeStatus, Status},
    policy::{ms, network, normalize_login, LockoutPolicy, Scope},
};
use crate::{
    clock::SharedClock,
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
/// An operator's lock of an account (incident response): honoured on every network.
const MANUAL: u8 = b'M';

/// The keys of one attempt.
pub(crate) struct Keys {
    pub(crate) id: [u8; 16],
    pub(crate) net: IpAddr,
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

    /// The end of an operator's lock of the account, if one is in force.
    fn manual_until(&self, id: &[u8; 16], now: u64) -> Result<Option<u64>, ActorError> {
        let Some(b) = self.store.get(KS, &key(MANUAL, &[id]))? else {
            return Ok(None);
        };
        let until = <[u8; 8]>::try_from(b.as_slice()).map_or(0, u64::from_be_bytes);
        Ok((until > now).then_some(until))
    }

    /// Applies an operator's lock to a status: locked until then, trusted networks included.
    fn with_manual(
        &mut self,
        mut st: Status,
        account: &str,
        now: u64,
    ) -> Result<Status, ActorError> {
        let id = self.account_id(account)?;
        if let Some(until) = self.manual_until(&id, now)? {
            st.locked = true;
            let wait = std::time::Duration::from_millis(until - now);
            st.retry_after = Some(st.retry_after.map_or(wait, |r| r.max(wait)));
        }
        Ok(st)
    }

    /// Admin: locks an account for `for_ms` on every network (durable; a success does not
    /// clear it, [`unlock`](Self::unlock) does). Emits `auth.lockout.locked` with scope `manual`.
    pub(crate) fn lock_account(&mut self, account: &str, for_ms: u64) -> Result<u64, ActorError> {
        let until_ms = self.now().saturating_add(for_ms);
        let id = self.account_id(account)?;
        let o = PutOptions::buffered().expires_at(until_ms);
        self.store
            .put(KS, &key(MANUAL, &[&id]), &until_ms.to_be_bytes(), o)?;
        self.audit.emit(
            SecurityEvent::new("auth.lockout.locked")
                .detail("scope", "manual")
                .detail("account_ref", hex::encode(&id[..8]))
                .detail("until", until_ms),
        );
        Ok(until_ms)
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
        self.with_manual(Self::status(now, &a, &p, &i, trusted), account, now)
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
        let mut st = self.with_manual(Self::status(now, &a, &p, &i, trusted), account, now)?;
        st.newly_locked = locked.into_iter().map(|(s, _, _)| s).collect();
        Ok(st)
    }

    /// A success: the account's count and lock and this pair's counter go, the network's
    /// stays; the network becomes trusted for the account. The account keeps its backoff step
    /// as long as its episode would have lasted, so that an attack still going on meets a
    /// longer lock next time rather than a fresh 300 s. Returns the account failures it
    /// cleared.
    pub(crate) fn record_success(&mut self, account: &str, ip: IpAddr) -> Result<u64, ActorError> {
        let now = self.now();
        let k = self.keys(account, ip)?;
        let a = self.load(&k.account, now)?;
        if a.locks > 0 {
            // The lock ends now; the episode (and so the step) expires when it would have.
            let kept = Counter {
                locks: a.locks,
                last_failure_at: a.last_failure_at.max(a.locked_until),
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
        n += usize::from(self.forget(&key(MANUAL, &[&id]))?);
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
        if let Some(until) = self.manual_until(&id, now)? {
            st.locked_until = st.locked_until.max(Some(until));
        }
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
