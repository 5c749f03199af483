//! Export of the persisted audit log as JSON lines (one [`StoredEvent`] per line), filtered by
//! time range, name prefix and user: for the operator CLI, incident response and shipping to
//! another system.

use std::io::Write;

use super::{
    event::StoredEvent,
    handle::{AuditHandle, MAX_PAGE},
    log::{scan_after, AuditQuery},
};
use crate::{store::Store, ActorError, StoreError};

/// Records one offline export page examines.
const OFFLINE_SCAN: usize = 8192;

/// Why an export stopped. Lines written before the error are complete lines.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The audit actor did not answer.
    #[error(transparent)]
    Actor(#[from] ActorError),
    /// The store failed (offline export).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing failed.
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
}

fn write_line(w: &mut impl Write, ev: &StoredEvent) -> std::io::Result<()> {
    let line = ev.to_json_line();
    w.write_all(line.as_bytes())?;
    w.write_all(b"\n")
}

/// Writes the events of the log matching `q` to `w`, one JSON object per line, oldest first,
/// reading the store directly: for tools that open the data directory while the server is
/// stopped (sled allows one process at a time). `q.since`, `q.until`, `q.name_prefix`,
/// `q.user_id` filter; `q.after_id` starts after that id; `q.limit` is ignored (everything that
/// matches is written). Answers how many lines were written.
///
/// ```
/// use warden_actors::{export_jsonl, store::Store, AuditQuery};
///
/// # fn f(store: &dyn Store) -> Result<(), warden_actors::ExportError> {
/// let mut out = Vec::new();
/// let n = export_jsonl(store, &AuditQuery::new().name_prefix("auth."), &mut out)?;
/// assert_eq!(String::from_utf8_lossy(&out).lines().count() as u64, n);
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// [`ExportError::Store`] if the store fails, [`ExportError::Io`] if writing fails.
pub fn export_jsonl(
    store: &dyn Store,
    q: &AuditQuery,
    mut w: impl Write,
) -> Result<u64, ExportError> {
    let mut after = q.after_id.unwrap_or(0);
    let mut n = 0;
    loop {
        let page = scan_after(store, q, after, MAX_PAGE, OFFLINE_SCAN)?;
        for ev in &page.events {
            write_line(&mut w, ev)?;
            n += 1;
        }
        match page.next_after {
            Some(a) => after = a,
            None => break,
        }
    }
    w.flush()?;
    Ok(n)
}

impl AuditHandle {
    /// [`export_jsonl`] through the running audit actor, page by page (each page is bounded
    /// work for the actor, so a large export does not stall it): the events matching `q`, one
    /// JSON object per line, oldest first; `q.limit` is ignored. Answers how many lines were
    /// written. Events recorded while the export runs are included if they match.
    ///
    /// ```no_run
    /// # async fn f(audit: warden_actors::AuditHandle) -> Result<(), warden_actors::ExportError> {
    /// use warden_actors::AuditQuery;
    ///
    /// let file = std::fs::File::create("audit-alice.jsonl")?;
    /// let n = audit
    ///     .export_jsonl(AuditQuery::new().user_id("alice"), std::io::BufWriter::new(file))
    ///     .await?;
    /// # let _ = n; Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ExportError::Actor`] if the actor does not answer, [`ExportError::Io`] if writing
    /// fails.
    pub async fn export_jsonl<W: Write>(
        &self,
        q: AuditQuery,
        mut w: W,
    ) -> Result<u64, ExportError> {
        let mut after = q.after_id.unwrap_or(0);
        let mut n = 0;
        loop {
            let page = self.page_after(&q, after, MAX_PAGE).await?;
            for ev in &page.events {
                write_line(&mut w, ev)?;
                n += 1;
            }
            match page.next_after {
                Some(a) => after = a,
                None => break,
            }
        }
        w.flush()?;
        Ok(n)
    }
}
