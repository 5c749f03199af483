//! The persisted audit log: events keyed by their sequence number (u64, big-endian) in the
//! audit keyspace, pruned by age and count.

use std::{ops::Bound, sync::Arc};

use time::OffsetDateTime;

use super::event::StoredEvent;
use crate::{
    clock::{utc_to_millis, SharedClock},
    store::{Durability, Keyspace, PutOptions, Store},
    StoreError,
};

/// Most events one query returns.
pub const MAX_QUERY_LIMIT: usize = 10_000;
/// Most records one query examines (bounds the work of a filter that matches little).
const MAX_QUERY_SCAN: usize = 200_000;
/// Events may be persisted slightly out of timestamp order (emitters race); a time-bounded
/// scan going backwards stops only this far before `since`.
const ORDER_SLACK_MS: u64 = 60_000;
const CHUNK: usize = 512;

/// Filter for [`AuditHandle::query`](crate::AuditHandle::query).
///
/// ```
/// use warden_actors::AuditQuery;
///
/// let q = AuditQuery::new().name_prefix("auth.").user_id("alice").limit(50);
/// assert_eq!(q.limit, 50);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditQuery {
    /// Only events at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Only events before this time.
    pub until: Option<OffsetDateTime>,
    /// Only events whose name matches this prefix (a trailing `*` is allowed).
    pub name_prefix: Option<String>,
    /// Only events of this user.
    pub user_id: Option<String>,
    /// Only events with an id greater than this (resumption), oldest first.
    pub after_id: Option<u64>,
    /// At most this many events (capped at 10,000). Default: 100.
    pub limit: usize,
}

impl Default for AuditQuery {
    fn default() -> Self {
        Self {
            since: None,
            until: None,
            name_prefix: None,
            user_id: None,
            after_id: None,
            limit: 100,
        }
    }
}

impl AuditQuery {
    /// The most recent 100 events.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets [`AuditQuery::since`].
    #[must_use]
    pub fn since(mut self, t: OffsetDateTime) -> Self {
        self.since = Some(t);
        self
    }
    /// Sets [`AuditQuery::until`].
    #[must_use]
    pub fn until(mut self, t: OffsetDateTime) -> Self {
        self.until = Some(t);
        self
    }
    /// Sets [`AuditQuery::name_prefix`].
    #[must_use]
    pub fn name_prefix(mut self, p: impl Into<String>) -> Self {
        self.name_prefix = Some(p.into());
        self
    }
    /// Sets [`AuditQuery::user_id`].
    #[must_use]
    pub fn user_id(mut self, u: impl Into<String>) -> Self {
        self.user_id = Some(u.into());
        self
    }
    /// Sets [`AuditQuery::after_id`].
    #[must_use]
    pub fn after_id(mut self, id: u64) -> Self {
        self.after_id = Some(id);
        self
    }
    /// Sets [`AuditQuery::limit`].
    #[must_use]
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = n;
        self
    }

    fn accepts(&self, ev: &StoredEvent) -> bool {
        let ts = ev.event.ts;
        self.since.is_none_or(|s| ts >= s)
            && self.until.is_none_or(|u| ts < u)
            && self.after_id.is_none_or(|a| ev.id > a)
            && self
                .name_prefix
                .as_deref()
                .is_none_or(|p| ev.event.matches(p))
            && self
                .user_id
                .as_deref()
                .is_none_or(|u| ev.event.user_id.as_deref() == Some(u))
    }
}

/// The log over a store.
#[derive(Debug)]
pub(crate) struct AuditLog {
    store: Arc<dyn Store>,
    /// Lowest id possibly present.
    first: u64,
    /// Next id to assign.
    next: u64,
}

fn decode(v: &[u8]) -> Result<StoredEvent, StoreError> {
    Ok(serde_json::from_slice(v)?)
}

fn key_id(k: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    if k.len() == 8 {
        b.copy_from_slice(k);
    }
    u64::from_be_bytes(b)
}

impl AuditLog {
    /// Opens the log, finding the first and next ids.
    pub(crate) fn open(store: Arc<dyn Store>) -> Result<Self, StoreError> {
        let mut log = AuditLog {
            store,
            first: 1,
            next: 1,
        };
        log.reload()?;
        Ok(log)
    }

    /// Re-reads the bounds from the store (after a restart).
    pub(crate) fn reload(&mut self) -> Result<(), StoreError> {
        let all = (Bound::Unbounded, Bound::Unbounded);
        let last = self.store.range(Keyspace::Audit, all.0, all.1, 1, true)?;
        let first = self.store.range(Keyspace::Audit, all.0, all.1, 1, false)?;
        self.next = last.first().map_or(1, |(k, _)| key_id(k) + 1);
        self.first = first.first().map_or(self.next, |(k, _)| key_id(k));
        Ok(())
    }

    /// The id the next appended event gets.
    pub(crate) fn next_id(&self) -> u64 {
        self.next
    }

    /// Number of events in the log.
    pub(crate) fn count(&self) -> u64 {
        self.next.saturating_sub(self.first)
    }

    /// Takes the next id without persisting (for when persistence is off).
    pub(crate) fn take_id(&mut self) -> u64 {
        let id = self.next;
        self.next += 1;
        id
    }

    /// Persists an event that already carries its id.
    pub(crate) fn append(
        &mut self,
        ev: &StoredEvent,
        durability: Durability,
    ) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(ev)?;
        let opts = PutOptions {
            durability,
            ..PutOptions::default()
        };
        self.store
            .put(Keyspace::Audit, &ev.id.to_be_bytes(), &bytes, opts)?;
        Ok(())
    }

    /// Runs a query.
    pub(crate) fn query(&self, q: &AuditQuery) -> Result<Vec<StoredEvent>, StoreError> {
        let limit = q.limit.clamp(1, MAX_QUERY_LIMIT);
        let since_ms = q.since.map(utc_to_millis);
        let mut out = Vec::new();
        let mut scanned = 0usize;
        if let Some(after) = q.after_id {
            // Oldest first from the resume point.
            let mut cursor = after.saturating_add(1).to_be_bytes().to_vec();
            loop {
                let chunk = self.store.range(
                    Keyspace::Audit,
                    Bound::Included(&cursor[..]),
                    Bound::Unbounded,
                    CHUNK,
                    false,
                )?;
                let n = chunk.len();
                for (k, v) in &chunk {
                    let ev = decode(v)?;
                    if q.accepts(&ev) {
                        out.push(ev);
                        if out.len() >= limit {
                            return Ok(out);
                        }
                    }
                    cursor = (key_id(k) + 1).to_be_bytes().to_vec();
                }
                scanned += n;
                if n < CHUNK || scanned >= MAX_QUERY_SCAN {
                    return Ok(out);
                }
            }
        }
        // Newest first, then returned oldest first.
        let mut cursor: Option<Vec<u8>> = None;
        'outer: loop {
            let end = match &cursor {
                Some(c) => Bound::Excluded(&c[..]),
                None => Bound::Unbounded,
            };
            let chunk = self
                .store
                .range(Keyspace::Audit, Bound::Unbounded, end, CHUNK, true)?;
            let n = chunk.len();
            for (k, v) in &chunk {
                let ev = decode(v)?;
                if let Some(s) = since_ms {
                    if utc_to_millis(ev.event.ts) + ORDER_SLACK_MS < s {
                        break 'outer;
                    }
                }
                if q.accepts(&ev) {
                    out.push(ev);
                    if out.len() >= limit {
                        break 'outer;
                    }
                }
                cursor = Some(k.clone());
            }
            scanned += n;
            if n < CHUNK || scanned >= MAX_QUERY_SCAN {
                break;
            }
        }
        out.reverse();
        Ok(out)
    }

    /// Removes events older than `cutoff_ms`, then the oldest beyond `max_count`; at most
    /// `batch` removals per call. Returns how many were removed.
    pub(crate) fn prune(
        &mut self,
        cutoff_ms: u64,
        max_count: u64,
        batch: usize,
    ) -> Result<usize, StoreError> {
        let mut removed = 0;
        while removed < batch {
            let oldest = self.store.range(
                Keyspace::Audit,
                Bound::Unbounded,
                Bound::Unbounded,
                CHUNK.min(batch - removed),
                false,
            )?;
            if oldest.is_empty() {
                self.first = self.next;
                break;
            }
            let mut progressed = false;
            for (k, v) in &oldest {
                let too_many = self.count() > max_count;
                let too_old = decode(v).map_or(true, |ev| utc_to_millis(ev.event.ts) < cutoff_ms);
                if !(too_many || too_old) {
                    self.first = key_id(k);
                    return Ok(removed);
                }
                self.store
                    .delete(Keyspace::Audit, k, Durability::Buffered)?;
                self.first = key_id(k) + 1;
                removed += 1;
                progressed = true;
            }
            if !progressed {
                break;
            }
        }
        Ok(removed)
    }
}

/// For tests of retention that want a clock.
pub(crate) fn cutoff(clock: &SharedClock, max_age: std::time::Duration) -> u64 {
    clock
        .now_millis()
        .saturating_sub(u64::try_from(max_age.as_millis()).unwrap_or(u64::MAX))
}

/// One page of a forward scan of the log, as [`AuditHandle::page_after`](crate::AuditHandle::page_after)
/// answers it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AuditPage {
    /// The matching events after the cursor, oldest first.
    pub events: Vec<crate::StoredEvent>,
    /// Where to continue (pass it as the next `after_id`), or `None` once the end of the log
    /// (or of the query's `until`) was reached.
    pub next_after: Option<u64>,
}

/// Scans forward from id `after` (exclusive): the events matching `q` (whose `after_id` and
/// `limit` are ignored), at most `max_out`, examining at most `max_scan` records, so each page
/// is bounded work whatever the filter. Exact paging: a page that matched nothing still says
/// where to continue.
pub(crate) fn scan_after(
    store: &dyn Store,
    q: &AuditQuery,
    after: u64,
    max_out: usize,
    max_scan: usize,
) -> Result<AuditPage, StoreError> {
    let q = AuditQuery {
        after_id: None,
        ..q.clone()
    };
    let until_ms = q.until.map(utc_to_millis);
    let (max_out, max_scan) = (max_out.max(1), max_scan.max(1));
    let mut events = Vec::new();
    let mut scanned = 0usize;
    let mut cursor = after;
    loop {
        let Some(from) = cursor.checked_add(1) else {
            return Ok(AuditPage {
                events,
                next_after: None,
            });
        };
        let from = from.to_be_bytes();
        let want = CHUNK.min(max_scan - scanned);
        let chunk = store.range(
            Keyspace::Audit,
            Bound::Included(&from[..]),
            Bound::Unbounded,
            want,
            false,
        )?;
        let n = chunk.len();
        for (k, v) in &chunk {
            cursor = key_id(k);
            scanned += 1;
            let ev = decode(v)?;
            if let Some(u) = until_ms {
                // Ids follow time up to a little slack: far enough past `until`, stop.
                if utc_to_millis(ev.event.ts) >= u.saturating_add(ORDER_SLACK_MS) {
                    return Ok(AuditPage {
                        events,
                        next_after: None,
                    });
                }
            }
            if q.accepts(&ev) {
                events.push(ev);
            }
            if events.len() >= max_out || scanned >= max_scan {
                return Ok(AuditPage {
                    events,
                    next_after: Some(cursor),
                });
            }
        }
        if n < want {
            return Ok(AuditPage {
                events,
                next_after: None,
            });
        }
    }
}
