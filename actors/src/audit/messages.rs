//! The audit actor's messages: its whole API.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
#[cfg(any(test, feature = "test-util"))]
use std::time::Duration;

use actix::Message;
use futures_util::Stream;
use tokio::sync::mpsc;

use super::{
    event::{SecurityEvent, StoredEvent},
    log::{AuditPage, AuditQuery},
    sink::{AuditSink, SinkStats},
};
use crate::ActorError;

/// Record an event; fire-and-forget (a full mailbox drops it and counts the drop).
#[derive(Debug)]
pub(crate) struct Emit(pub(crate) SecurityEvent);
impl Message for Emit {
    type Result = ();
}

/// Record a must-log event: answered only after the event is durably persisted.
#[derive(Debug)]
pub(crate) struct EmitDurable(pub(crate) SecurityEvent);
impl Message for EmitDurable {
    type Result = Result<u64, ActorError>;
}

/// Open a subscription to the live stream, optionally filtered by name prefix.
#[derive(Debug, Default)]
pub(crate) struct Subscribe {
    /// Name prefix filter (`"csrf."`, `"csrf.reject.*"`); `None` for every event.
    pub(crate) filter: Option<String>,
}
impl Message for Subscribe {
    type Result = Result<Subscription, ActorError>;
}

/// Add a sink at run time.
pub(crate) struct AddSink(pub(crate) Box<dyn AuditSink>);
impl std::fmt::Debug for AddSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("AddSink").field(&self.0.name()).finish()
    }
}
impl Message for AddSink {
    type Result = Result<(), ActorError>;
}

/// Read the persisted log.
#[derive(Debug)]
pub(crate) struct Query(pub(crate) AuditQuery);
impl Message for Query {
    type Result = Result<Vec<StoredEvent>, ActorError>;
}

/// One page of a forward scan of the log after an id.
#[derive(Debug)]
pub(crate) struct PageAfter {
    pub(crate) query: AuditQuery,
    pub(crate) after: u64,
    pub(crate) max_out: usize,
}
impl Message for PageAfter {
    type Result = Result<AuditPage, ActorError>;
}

/// Record the summaries of the aggregation windows that ended (all of them if `all`);
/// answers how many summaries were recorded.
#[derive(Debug)]
pub(crate) struct FlushAggregates {
    pub(crate) all: bool,
}
impl Message for FlushAggregates {
    type Result = Result<usize, ActorError>;
}

/// Apply retention now; answers how many events were removed.
#[derive(Debug)]
pub(crate) struct Prune;
impl Message for Prune {
    type Result = Result<usize, ActorError>;
}

/// Counters of the audit actor.
#[derive(Debug)]
pub(crate) struct GetStats;
impl Message for GetStats {
    type Result = AuditStats;
}

/// Liveness check: the actor answers and its store answers.
#[derive(Debug)]
pub(crate) struct Ping;
impl Message for Ping {
    type Result = Result<(), ActorError>;
}

/// Drain and close every sink and flush the store (graceful shutdown).
#[derive(Debug)]
pub(crate) struct Shutdown;
impl Message for Shutdown {
    type Result = Result<(), ActorError>;
}

/// Test-only fault injection: block the actor's thread for a while.
#[cfg(any(test, feature = "test-util"))]
#[derive(Debug)]
pub(crate) struct Freeze(pub(crate) Duration);
#[cfg(any(test, feature = "test-util"))]
impl Message for Freeze {
    type Result = ();
}

/// Test-only fault injection: panic inside a handler.
#[cfg(any(test, feature = "test-util"))]
#[derive(Debug)]
pub(crate) struct Crash;
#[cfg(any(test, feature = "test-util"))]
impl Message for Crash {
    type Result = Result<(), ActorError>;
}

/// A snapshot of the audit actor's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditStats {
    /// Events processed by the actor.
    pub processed: u64,
    /// Events dropped before reaching the actor (mailbox full or actor down).
    pub dropped: u64,
    /// Events persisted to the log.
    pub persisted: u64,
    /// Events whose persistence failed.
    pub persist_failures: u64,
    /// Subscribers dropped for being too slow.
    pub subscriber_drops: u64,
    /// Live subscribers.
    pub subscribers: usize,
    /// Times the audit actor was restarted after a panic.
    pub restarts: u64,
    /// Events currently in the persisted log.
    pub log_len: u64,
    /// Occurrences of flood-prone events folded into aggregate summaries instead of being
    /// recorded one by one (see [`AuditConfig::aggregate_names`](crate::AuditConfig::aggregate_names)).
    pub suppressed: u64,
    /// `alert.spike` events raised.
    pub alerts: u64,
    /// Messages queued for the actor and not yet handled.
    pub mailbox_depth: u64,
    /// Per-sink counters.
    pub sinks: Vec<SinkStats>,
}

/// A live stream of audit events.
///
/// Bounded: if the subscriber falls behind by more than its queue (256 events by default) it
/// is dropped, counted, and the stream ends (`recv` returns `None`).
#[derive(Debug)]
pub struct Subscription {
    pub(crate) rx: mpsc::Receiver<Arc<StoredEvent>>,
}

impl Subscription {
    /// The next event, or `None` once the subscription has been dropped or the runtime stopped.
    pub async fn recv(&mut self) -> Option<Arc<StoredEvent>> {
        self.rx.recv().await
    }

    /// The next event if one is queued.
    pub fn try_recv(&mut self) -> Option<Arc<StoredEvent>> {
        self.rx.try_recv().ok()
    }
}

impl Stream for Subscription {
    type Item = Arc<StoredEvent>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}
