//! The audit actor: every security event goes through it.
//!
//! - **Emit**: [`AuditHandle::emit`] is fire-and-forget for ordinary events (a full mailbox drops
//!   and counts); [`AuditHandle::emit_durable`] answers after the event is flushed to disk, for
//!   must-log events.
//! - **Sinks**: [`TracingSink`] (on by default), [`JsonLinesSink`], and any [`AuditSink`] of
//!   yours; each runs on its own thread behind a bounded queue, so a slow or failing sink never
//!   blocks requests or other sinks. Failures and drops are counted per sink.
//! - **Subscribe**: [`AuditHandle::subscribe`] gives a bounded [`Subscription`] stream, filtered
//!   by name prefix; a subscriber that falls behind is dropped and counted, never waited for.
//! - **Log**: events are persisted in the store's audit keyspace by id, pruned by age and count
//!   ([`AuditConfig`](crate::AuditConfig)), and read back with [`AuditHandle::query`].

mod actor;
mod event;
mod handle;
mod log;
mod messages;
mod sink;

pub(crate) use actor::{AuditActor, SharedCounters};
pub use event::{SecurityEvent, StoredEvent, MAX_FIELD_CHARS, REDACTED};
pub use handle::AuditHandle;
pub use log::{AuditQuery, MAX_QUERY_LIMIT};
pub use messages::{AuditStats, Subscription};
pub(crate) use sink::SinkWorker;
pub use sink::{AuditSink, FnSink, JsonLinesSink, SinkError, SinkStats, TracingSink};
