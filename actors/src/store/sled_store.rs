//! The embedded sled backend: one `sled::Db`, one tree per [`Keyspace`], plus an expiry index.

use std::{
    collections::HashMap,
    ops::Bound,
    path::Path,
    sync::atomic::{AtomicBool, Ordering},
};

use sled::{
    transaction::{ConflictableTransactionError, TransactionError},
    Transactional, Tree,
};

use super::{
    decode_envelope, encode_envelope, group_commit::GroupCommit, Durability, Entry, Keyspace,
    PutOptions, Store,
};
use crate::{clock::SharedClock, runtime::StoreConfig, StoreError};

const EXPIRY_TREE: &str = "expiry_index";

/// The sled implementation of [`Store`].
///
/// ```
/// use std::sync::Arc;
/// use warden_actors::{store::{Keyspace, PutOptions, SledStore, Store}, StoreConfig, SystemClock};
///
/// let store = SledStore::temporary(&StoreConfig::default(), Arc::new(SystemClock)).unwrap();
/// store.put(Keyspace::Meta, b"k", b"v", PutOptions::buffered()).unwrap();
/// assert_eq!(store.get(Keyspace::Meta, b"k").unwrap().as_deref(), Some(&b"v"[..]));
/// ```
#[derive(Debug)]
pub struct SledStore {
    db: sled::Db,
    trees: HashMap<Keyspace, Tree>,
    expiry: Tree,
    clock: SharedClock,
    commit: GroupCommit,
    closed: AtomicBool,
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

fn index_key(exp: u64, ks: Keyspace, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(9 + key.len());
    k.extend_from_slice(&exp.to_be_bytes());
    k.push(ks.id());
    k.extend_from_slice(key);
    k
}

fn parse_index_key(k: &[u8]) -> Option<(u64, Keyspace, &[u8])> {
    if k.len() < 9 {
        return None;
    }
    let mut b = [0u8; 8];
    b.copy_from_slice(&k[..8]);
    Some((u64::from_be_bytes(b), Keyspace::from_id(k[8])?, &k[9..]))
}

fn abort(e: StoreError) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(e)
}

fn tx_err(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => e.into(),
    }
}

impl SledStore {
    /// Opens (or creates) the store in `dir`.
    pub fn open(
        dir: &Path,
        cfg: &StoreConfig,
        clock: SharedClock,
    ) -> Result<SledStore, StoreError> {
        Self::from_config(sled::Config::new().path(dir), cfg, clock)
    }

    /// A store in a temporary directory, deleted when dropped (for tests and examples).
    pub fn temporary(cfg: &StoreConfig, clock: SharedClock) -> Result<SledStore, StoreError> {
        Self::from_config(sled::Config::new().temporary(true), cfg, clock)
    }

    fn from_config(
        base: sled::Config,
        cfg: &StoreConfig,
        clock: SharedClock,
    ) -> Result<SledStore, StoreError> {
        let flush_ms = u64::try_from(cfg.flush_every.as_millis()).unwrap_or(u64::MAX);
        let db = base
            .cache_capacity(cfg.cache_capacity_bytes)
            .flush_every_ms(Some(flush_ms.max(1)))
            .open()?;
        let mut trees = HashMap::new();
        for ks in Keyspace::ALL {
            trees.insert(ks, db.open_tree(ks.name())?);
        }
        let expiry = db.open_tree(EXPIRY_TREE)?;
        Ok(SledStore {
            db,
            trees,
            expiry,
            clock,
            commit: GroupCommit::default(),
            closed: AtomicBool::new(false),
        })
    }

    /// Refuses every later operation with [`StoreError::Closed`], after a final flush.
    pub fn close(&self) -> Result<(), StoreError> {
        let r = self.flush();
        self.closed.store(true, Ordering::SeqCst);
        r
    }

    /// How many disk flushes durable writes have caused (group commit makes this smaller than
    /// the number of durable writes under concurrency).
    pub fn flush_count(&self) -> u64 {
        self.commit.flushes()
    }

    fn tree(&self, ks: Keyspace) -> Result<&Tree, StoreError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(StoreError::Closed);
        }
        self.trees.get(&ks).ok_or(StoreError::Closed)
    }

    fn live(&self, ks: Keyspace, raw: &[u8], now: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let (exp, payload) = decode_envelope(ks, raw)?;
        Ok(match exp {
            Some(e) if e <= now => None,
            _ => Some(payload.to_vec()),
        })
    }

    fn after_write(&self, d: Durability) -> Result<(), StoreError> {
        match d {
            Durability::Durable => self.flush(),
            _ => Ok(()),
        }
    }

    #[cfg(test)]
    pub(crate) fn raw_insert(&self, ks: Keyspace, key: &[u8], raw: &[u8]) {
        self.trees[&ks].insert(key, raw).expect("raw insert");
    }
}

impl Store for SledStore {
    fn get(&self, ks: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let tree = self.tree(ks)?;
        match tree.get(key)? {
            Some(raw) => self.live(ks, &raw, self.clock.now_millis()),
            None => Ok(None),
        }
    }

    fn put(
        &self,
        ks: Keyspace,
        key: &[u8],
        value: &[u8],
        opts: PutOptions,
    ) -> Result<(), StoreError> {
        let tree = self.tree(ks)?;
        let env = encode_envelope(value, opts.expires_at);
        (tree, &self.expiry)
            .transaction(|(t, x)| -> TxResult<()> {
                if let Some(old) = t.insert(key, env.as_slice())? {
                    if let (Some(old_exp), _) = decode_envelope(ks, &old).map_err(abort)? {
                        x.remove(index_key(old_exp, ks, key))?;
                    }
                }
                if let Some(exp) = opts.expires_at {
                    x.insert(index_key(exp, ks, key), &[][..])?;
                }
                Ok(())
            })
            .map_err(tx_err)?;
        self.after_write(opts.durability)
    }

    fn delete(&self, ks: Keyspace, key: &[u8], durability: Durability) -> Result<bool, StoreError> {
        let tree = self.tree(ks)?;
        let now = self.clock.now_millis();
        let existed = (tree, &self.expiry)
            .transaction(|(t, x)| -> TxResult<bool> {
                let Some(old) = t.remove(key)? else {
                    return Ok(false);
                };
                let (exp, _) = decode_envelope(ks, &old).map_err(abort)?;
                if let Some(e) = exp {
                    x.remove(index_key(e, ks, key))?;
                }
                Ok(exp.is_none_or(|e| e > now))
            })
            .map_err(tx_err)?;
        self.after_write(durability)?;
        Ok(existed)
    }

    fn increment(
        &self,
        ks: Keyspace,
        key: &[u8],
        delta: i64,
        opts: PutOptions,
    ) -> Result<i64, StoreError> {
        let tree = self.tree(ks)?;
        let now = self.clock.now_millis();
        let value = (tree, &self.expiry)
            .transaction(|(t, x)| -> TxResult<i64> {
                let mut current = 0i64;
                if let Some(old) = t.get(key)? {
                    let (exp, payload) = decode_envelope(ks, &old).map_err(abort)?;
                    if let Some(e) = exp {
                        x.remove(index_key(e, ks, key))?;
                    }
                    if exp.is_none_or(|e| e > now) {
                        let bytes: [u8; 8] = payload.try_into().map_err(|_| {
                            abort(StoreError::Corrupt {
                                keyspace: ks.name(),
                                reason: "counter is not 8 bytes",
                            })
                        })?;
                        current = i64::from_be_bytes(bytes);
                    }
                }
                let next = current.saturating_add(delta);
                t.insert(key, encode_envelope(&next.to_be_bytes(), opts.expires_at))?;
                if let Some(exp) = opts.expires_at {
                    x.insert(index_key(exp, ks, key), &[][..])?;
                }
                Ok(next)
            })
            .map_err(tx_err)?;
        self.after_write(opts.durability)?;
        Ok(value)
    }

    fn range(
        &self,
        ks: Keyspace,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<Entry>, StoreError> {
        let tree = self.tree(ks)?;
        let now = self.clock.now_millis();
        let iter = tree.range::<&[u8], _>((start, end));
        let iter: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> = if reverse {
            Box::new(iter.rev())
        } else {
            Box::new(iter)
        };
        let mut out = Vec::new();
        for item in iter {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item?;
            if let Some(p) = self.live(ks, &v, now)? {
                out.push((k.to_vec(), p));
            }
        }
        Ok(out)
    }

    fn scan_prefix(
        &self,
        ks: Keyspace,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let tree = self.tree(ks)?;
        let now = self.clock.now_millis();
        let mut out = Vec::new();
        for item in tree.scan_prefix(prefix) {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item?;
            if let Some(p) = self.live(ks, &v, now)? {
                out.push((k.to_vec(), p));
            }
        }
        Ok(out)
    }

    fn len(&self, ks: Keyspace) -> Result<u64, StoreError> {
        Ok(self.tree(ks)?.len() as u64)
    }

    fn sweep_expired(&self, now_ms: u64, max: usize) -> Result<usize, StoreError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(StoreError::Closed);
        }
        let upper = now_ms.saturating_add(1).to_be_bytes();
        let due: Vec<sled::IVec> = self
            .expiry
            .range(..&upper[..])
            .keys()
            .take(max)
            .collect::<Result<_, _>>()?;
        let mut removed = 0;
        for ikey in due {
            let Some((exp, ks, key)) = parse_index_key(&ikey) else {
                self.expiry.remove(&ikey)?;
                continue;
            };
            let tree = self.tree(ks)?;
            let gone = (tree, &self.expiry)
                .transaction(|(t, x)| -> TxResult<bool> {
                    x.remove(&ikey)?;
                    let Some(raw) = t.get(key)? else {
                        return Ok(false);
                    };
                    // Only remove the record if this index entry is still its expiry.
                    match decode_envelope(ks, &raw) {
                        Ok((Some(e), _)) if e == exp && e <= now_ms => {
                            t.remove(key)?;
                            Ok(true)
                        }
                        _ => Ok(false),
                    }
                })
                .map_err(tx_err)?;
            removed += usize::from(gone);
        }
        Ok(removed)
    }

    fn flush(&self) -> Result<(), StoreError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(StoreError::Closed);
        }
        self.commit
            .commit(|| self.db.flush().map(|_| ()).map_err(StoreError::from))
    }

    fn health_check(&self) -> Result<(), StoreError> {
        self.tree(Keyspace::Meta)?.get(b"health")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{
        store::{acceptance::run_acceptance_suite, StoreFactory},
        ManualClock,
    };

    struct SledFactory(tempfile::TempDir);

    impl StoreFactory for SledFactory {
        type Store = SledStore;
        fn open(&self, clock: SharedClock) -> SledStore {
            SledStore::open(self.0.path(), &StoreConfig::default(), clock).expect("open sled")
        }
    }

    #[test]
    fn sled_passes_the_store_acceptance_suite() {
        run_acceptance_suite(&SledFactory(tempfile::tempdir().unwrap()));
    }

    #[test]
    fn unknown_format_byte_is_an_error_not_a_misread() {
        let store =
            SledStore::temporary(&StoreConfig::default(), Arc::new(ManualClock::new(1))).unwrap();
        store.raw_insert(Keyspace::Sessions, b"k", &[99, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        let err = store.get(Keyspace::Sessions, b"k").unwrap_err();
        assert!(matches!(
            err,
            StoreError::UnsupportedFormat {
                keyspace: "sessions",
                found: 99
            }
        ));
        store.raw_insert(Keyspace::Sessions, b"short", &[1, 0]);
        assert!(matches!(
            store.get(Keyspace::Sessions, b"short").unwrap_err(),
            StoreError::Corrupt { .. }
        ));
        store.raw_insert(Keyspace::Sessions, b"empty", &[]);
        assert!(matches!(
            store.get(Keyspace::Sessions, b"empty").unwrap_err(),
            StoreError::Corrupt { .. }
        ));
    }

    #[test]
    fn every_value_starts_with_the_format_byte() {
        let store =
            SledStore::temporary(&StoreConfig::default(), Arc::new(ManualClock::new(1))).unwrap();
        store
            .put(Keyspace::Lockout, b"a", b"payload", PutOptions::buffered())
            .unwrap();
        let raw = store.trees[&Keyspace::Lockout].get(b"a").unwrap().unwrap();
        assert_eq!(raw[0], super::super::FORMAT_VERSION);
        assert_eq!(&raw[9..], b"payload");
    }

    #[test]
    fn concurrent_durable_writes_share_flushes() {
        let store = Arc::new(
            SledStore::temporary(&StoreConfig::default(), Arc::new(ManualClock::new(1))).unwrap(),
        );
        let threads: Vec<_> = (0..16u8)
            .map(|i| {
                let s = store.clone();
                std::thread::spawn(move || {
                    for j in 0..8u8 {
                        s.put(Keyspace::Lockout, &[i, j], b"x", PutOptions::durable())
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(store.len(Keyspace::Lockout).unwrap(), 128);
        // Every durable write was acknowledged after a flush, and at most one flush per write.
        assert!(store.flush_count() >= 1 && store.flush_count() <= 128);
    }

    #[test]
    fn a_closed_store_refuses_everything() {
        let store =
            SledStore::temporary(&StoreConfig::default(), Arc::new(ManualClock::new(1))).unwrap();
        store.close().unwrap();
        assert!(matches!(
            store.get(Keyspace::Meta, b"k"),
            Err(StoreError::Closed)
        ));
        assert!(matches!(store.health_check(), Err(StoreError::Closed)));
        assert!(matches!(store.flush(), Err(StoreError::Closed)));
        assert!(matches!(store.sweep_expired(1, 1), Err(StoreError::Closed)));
    }
}
