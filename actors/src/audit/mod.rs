//! The audit actor: every security event goes through it.
//!
//! - **Emit**: [`AuditHandle::emit`] is fire-and-forget for ordinary events (a full mailbox drops
//!   and counts); must-log events ([`MUST_LOG`]) are never dropped for a full mailbox, and
//!   [`AuditHandle::emit_must`] answers after the event is flushed to disk.
//! - **Floods**: repeats of flood-prone events (rejections) are aggregated per (name, client IP)
//!   and window in the caller's thread, before the mailbox: a burst is recorded one by one, the
//!   rest only counted into one summary per name and window (`details.aggregated`,
//!   `details.suppressed`). A write beyond the retention count prunes at once.
//! - **Spikes**: per watched kind, a sliding window and a threshold; each crossing records one
//!   `alert.spike` (kind, count, window) through the same path as every event, re-armed once the
//!   count falls back below the threshold.
//! - **Sinks**: [`TracingSink`] (on by default), [`JsonLinesSink`], and any [`AuditSink`] of
//!   yours; each runs on its own thread behind a bounded queue, so a slow or failing sink never
//!   blocks requests or other sinks. Failures and drops are counted per sink.
//! - **Subscribe**: [`AuditHandle::subscribe`] gives a bounded [`Subscription`] stream, filtered
//!   by name prefix; a subscriber that falls behind is dropped and counted, never waited for.
//! - **Log**: events are persisted in the store's audit keyspace by id, pruned by age and count
//!   ([`AuditConfig`](crate::AuditConfig)), read back with [`AuditHandle::query`] and
//!   [`AuditHandle::page_after`], exported with [`AuditHandle::export_jsonl`] or, offline,
//!   [`export_jsonl`].
//! - **Metrics**: [`AuditHandle::metrics_text`] renders Prometheus counters and gauges.

mod actor;
mod aggregate;
mod event;
mod export;
mod handle;
mod log;
mod messages;
mod metrics;
mod policy;
mod sink;
mod spike;

pub(crate) use actor::{AuditActor, SharedCounters};
pub use event::{SecurityEvent, StoredEvent, MAX_DETAILS_BYTES, MAX_FIELD_CHARS, REDACTED};
pub use export::{export_jsonl, ExportError};
pub use handle::{AuditHandle, MAX_PAGE, MUST_LOG_QUEUE_LIMIT};
pub use log::{AuditPage, AuditQuery, MAX_QUERY_LIMIT};
pub use messages::{AuditStats, Subscription};
pub use metrics::{OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE};
pub use policy::{is_must_log, DEFAULT_AGGREGATE_NAMES, DEFAULT_SPIKE_KINDS, MUST_LOG};
pub(crate) use sink::SinkWorker;
pub use sink::{AuditSink, FnSink, JsonLinesSink, SinkError, SinkStats, TracingSink};
