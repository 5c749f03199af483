//! [`AuditHandle`]: the cheap, clonable way to talk to the audit actor.

use std::{
    future::Future,
    sync::{atomic::Ordering, Arc},
    time::Duration,
};

use actix::{dev::SendError, Addr};

use super::{
    actor::{AuditActor, SharedCounters, NAME},
    aggregate::Admit,
    event::{SecurityEvent, StoredEvent},
    log::{AuditPage, AuditQuery},
    messages::*,
    policy::is_must_log,
    sink::AuditSink,
};
use crate::{
    clock::{millis_to_utc, SharedClock},
    runtime::supervise::ask,
    ActorError,
};

/// Most events one [`AuditHandle::page_after`] answers.
pub const MAX_PAGE: usize = 1000;

/// Messages queued for the audit actor beyond which even must-log events are refused: the
/// memory bound of last resort (about 64 MiB of events). Must-log events come from logins,
/// lockouts, password changes and resets, which are rate-limited; reaching this means the actor
/// is stuck or those limits are missing. Refusals are counted (`reason="overloaded"`) and logged
/// as errors; [`AuditHandle::emit_must`] answers [`ActorError::Overloaded`].
pub const MUST_LOG_QUEUE_LIMIT: i64 = 65_536;

/// A handle to the audit actor. Clone it freely; every clone talks to the same actor.
#[derive(Clone)]
pub struct AuditHandle {
    addr: Addr<AuditActor>,
    clock: SharedClock,
    timeout: Duration,
    shared: Arc<SharedCounters>,
}

impl std::fmt::Debug for AuditHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditHandle")
            .field("connected", &self.addr.connected())
            .finish()
    }
}

/// Asks the audit actor through a fresh sender. actix gives every sender one guaranteed slot
/// beyond the mailbox's bound (capacity = bound + senders), so the message is queued at once
/// even on a full mailbox, instead of waiting for space behind a flood of ordinary events (the
/// handle's own sender may be parked by an earlier overflowing `try_send`). The ask timeout
/// then bounds the wait for the answer. Keeps the mailbox-depth gauge: up on queueing, down
/// when the actor handles the message.
fn call<M>(
    addr: &Addr<AuditActor>,
    shared: &Arc<SharedCounters>,
    msg: M,
    timeout: Duration,
) -> impl Future<Output = Result<M::Result, ActorError>> + Send + 'static
where
    AuditActor: actix::Handler<M>,
    M: actix::Message + Send + 'static,
    M::Result: Send,
{
    let addr = addr.clone();
    let shared = shared.clone();
    async move {
        shared.metrics.mailbox_depth.inc();
        let r = ask(NAME, &addr, msg, timeout).await;
        if matches!(r, Err(ActorError::Unavailable { .. })) {
            // Never queued (or the mailbox went away with it).
            shared.metrics.mailbox_depth.dec();
        }
        r
    }
}

impl AuditHandle {
    pub(crate) fn new(
        addr: Addr<AuditActor>,
        clock: SharedClock,
        timeout: Duration,
        shared: Arc<SharedCounters>,
    ) -> Self {
        Self {
            addr,
            clock,
            timeout,
            shared,
        }
    }

    /// Normalises the name and stamps the time from the runtime clock.
    fn stamp(&self, event: SecurityEvent) -> (SecurityEvent, u64) {
        let now = self.clock.now_millis();
        (event.with_clean_name().with_ts(millis_to_utc(now)), now)
    }

    fn count_drop(&self, name: &str, reason: &'static str) {
        self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        self.shared.metrics.dropped(reason);
        if reason == "actor_down" {
            tracing::error!(event = %name, "audit actor down; event dropped");
        } else if reason == "overloaded" {
            tracing::error!(event = %name, "audit actor overloaded; must-log event dropped");
        } else {
            tracing::warn!(event = %name, "audit mailbox full; event dropped");
        }
    }

    /// Records an event without waiting. Never blocks. The timestamp is set here, from the
    /// runtime clock.
    ///
    /// - An ordinary event is dropped and counted ([`AuditStats::dropped`]) if the actor's
    ///   bounded mailbox is full or the actor is down.
    /// - A flood-prone event ([`AuditConfig::aggregate_names`](crate::AuditConfig::aggregate_names))
    ///   beyond its burst is only counted, in this thread, into its window's summary.
    /// - A must-log event ([`MUST_LOG`](crate::MUST_LOG)) is never dropped for a full mailbox:
    ///   it is queued through a fresh sender, which actix guarantees one slot beyond the bound
    ///   (so the bound can be exceeded by the must-log events arriving while it is full; their
    ///   rate is that of logins, lockouts and password changes, not of requests). The actor
    ///   flushes it to disk before going on. Only a stopped actor, or a queue beyond
    ///   [`MUST_LOG_QUEUE_LIMIT`] (the memory bound of last resort), loses it (counted and
    ///   logged as an error). Use [`AuditHandle::emit_must`] to wait for the durable write.
    pub fn emit(&self, event: SecurityEvent) {
        let (event, now) = self.stamp(event);
        if is_must_log(&event.name) {
            self.enqueue_must(event);
            return;
        }
        if self.shared.aggregator.admit(&event, now) == Admit::Hold {
            self.shared.suppressed.fetch_add(1, Ordering::Relaxed);
            self.shared.metrics.suppressed(&event.name, 1);
            return;
        }
        self.shared.metrics.mailbox_depth.inc();
        match self.addr.try_send(Emit(event)) {
            Ok(()) => {}
            Err(SendError::Full(Emit(ev))) => {
                self.shared.metrics.mailbox_depth.dec();
                self.count_drop(&ev.name, "mailbox_full");
            }
            Err(SendError::Closed(Emit(ev))) => {
                self.shared.metrics.mailbox_depth.dec();
                self.count_drop(&ev.name, "actor_down");
            }
        }
    }

    fn enqueue_must(&self, event: SecurityEvent) {
        if self.shared.metrics.mailbox_depth.get() >= MUST_LOG_QUEUE_LIMIT {
            self.count_drop(&event.name, "overloaded");
            return;
        }
        self.shared.metrics.mailbox_depth.inc();
        // A fresh sender is never parked: its message is queued even beyond the bound.
        let fresh = self.addr.clone();
        match fresh.try_send(Emit(event)) {
            Ok(()) => {}
            Err(SendError::Full(Emit(ev))) => {
                // Not reachable with actix's channel (a fresh sender always has its slot). If
                // it ever were, refuse loudly and count it, never queue without a bound.
                self.shared.metrics.mailbox_depth.dec();
                tracing::error!(event = %ev.name, "must-log audit event refused: mailbox full");
                self.count_drop(&ev.name, "mailbox_full");
            }
            Err(SendError::Closed(Emit(ev))) => {
                self.shared.metrics.mailbox_depth.dec();
                self.count_drop(&ev.name, "actor_down");
            }
        }
    }

    /// Records a must-log event and answers its id once it is durably persisted (flushed to
    /// disk). The event is queued when the future is first polled, never refused for a full
    /// mailbox (see [`AuditHandle::emit`]); the wait for the write is bounded by the ask
    /// timeout. An error means "not confirmed": callers refuse the action they were about to
    /// take (fail closed). After a [`ActorError::Timeout`] the event may still be recorded;
    /// beyond [`MUST_LOG_QUEUE_LIMIT`] queued messages the answer is [`ActorError::Overloaded`].
    ///
    /// The time is stamped when this is called, not when the future is polled.
    ///
    /// ```no_run
    /// # async fn f(audit: warden_actors::AuditHandle) -> Result<(), warden_actors::ActorError> {
    /// use warden_actors::SecurityEvent;
    ///
    /// let id = audit
    ///     .emit_must(SecurityEvent::new("password.changed").user_id("alice"))
    ///     .await?;
    /// # let _ = id; Ok(()) }
    /// ```
    pub fn emit_must(
        &self,
        event: SecurityEvent,
    ) -> impl Future<Output = Result<u64, ActorError>> + Send + 'static {
        let (event, _) = self.stamp(event);
        let overloaded = self.shared.metrics.mailbox_depth.get() >= MUST_LOG_QUEUE_LIMIT;
        if overloaded {
            self.count_drop(&event.name, "overloaded");
        }
        let fut = call(&self.addr, &self.shared, EmitDurable(event), self.timeout);
        async move {
            if overloaded {
                return Err(ActorError::Overloaded { actor: NAME });
            }
            fut.await?
        }
    }

    /// Records an event that attackers can trigger at will (an invalid cookie, a forged
    /// token) without letting them flood the log: at most one event per name per `window`;
    /// the next one emitted carries `details.suppressed`, the number held back before it.
    /// Returns whether this event was emitted.
    ///
    /// ```no_run
    /// # async fn f(audit: warden_actors::AuditHandle) {
    /// use std::time::Duration;
    /// use warden_actors::SecurityEvent;
    ///
    /// for _ in 0..10_000 {
    ///     audit.emit_throttled(SecurityEvent::new("session.cookie.invalid"), Duration::from_secs(10));
    /// }
    /// // At most one event reached the log in this window.
    /// # }
    /// ```
    pub fn emit_throttled(&self, event: SecurityEvent, window: Duration) -> bool {
        let now = self.clock.now_millis();
        let win = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        let event = event.with_clean_name();
        let suppressed = {
            let mut map = self.shared.throttle.lock();
            let slot = map.entry(event.name.clone()).or_insert((0, 0));
            let fresh = slot.0 == 0 || now >= slot.0.saturating_add(win);
            if !fresh {
                slot.1 += 1;
                drop(map);
                self.shared.suppressed.fetch_add(1, Ordering::Relaxed);
                self.shared.metrics.suppressed(&event.name, 1);
                return false;
            }
            let held = slot.1;
            *slot = (now.max(1), 0);
            held
        };
        let event = if suppressed > 0 {
            event.detail("suppressed", suppressed)
        } else {
            event
        };
        self.emit(event);
        true
    }

    /// Records a must-log event and returns its id once it is durably persisted. The same as
    /// [`AuditHandle::emit_must`].
    pub async fn emit_durable(&self, event: SecurityEvent) -> Result<u64, ActorError> {
        self.emit_must(event).await
    }

    fn ask<M>(&self, msg: M) -> impl Future<Output = Result<M::Result, ActorError>> + Send + 'static
    where
        AuditActor: actix::Handler<M>,
        M: actix::Message + Send + 'static,
        M::Result: Send,
    {
        call(&self.addr, &self.shared, msg, self.timeout)
    }

    /// Subscribes to the live stream; `filter` is a name prefix (`"csrf."`, `"auth.*"`).
    pub async fn subscribe(&self, filter: Option<&str>) -> Result<super::Subscription, ActorError> {
        let msg = Subscribe {
            filter: filter.map(str::to_owned),
        };
        self.ask(msg).await?
    }

    /// Adds a sink; it receives every event from now on, on its own thread.
    pub async fn add_sink(&self, sink: impl AuditSink) -> Result<(), ActorError> {
        self.ask(AddSink(Box::new(sink))).await?
    }

    /// Reads the persisted log.
    pub async fn query(&self, q: AuditQuery) -> Result<Vec<StoredEvent>, ActorError> {
        self.ask(Query(q)).await?
    }

    /// One page of the log after id `after_id` (exclusive), oldest first: the events matching
    /// `q` (its `after_id` and `limit` are ignored), at most `max` (capped at [`MAX_PAGE`]).
    /// Each page examines a bounded number of records, so a page may be short or empty while
    /// more follow: continue from [`AuditPage::next_after`] until it is `None`. Used by the SSE
    /// replay and by [`AuditHandle::export_jsonl`].
    pub async fn page_after(
        &self,
        q: &AuditQuery,
        after_id: u64,
        max: usize,
    ) -> Result<AuditPage, ActorError> {
        let msg = PageAfter {
            query: q.clone(),
            after: after_id,
            max_out: max.clamp(1, MAX_PAGE),
        };
        self.ask(msg).await?
    }

    /// Records now the summaries of the aggregation windows that have ended (the actor does it
    /// every second by itself); answers how many. Handy in tests with a manual clock.
    pub async fn flush_aggregates(&self) -> Result<usize, ActorError> {
        self.ask(FlushAggregates { all: false }).await?
    }

    /// Applies retention now; returns how many events were removed.
    pub async fn prune(&self) -> Result<usize, ActorError> {
        self.ask(Prune).await?
    }

    /// The actor's counters.
    pub async fn stats(&self) -> Result<AuditStats, ActorError> {
        let mut s = self.ask(GetStats).await?;
        s.dropped = self.shared.dropped.load(Ordering::Relaxed);
        Ok(s)
    }

    /// Events dropped before reaching the actor; readable even while the actor is down.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// The audit metrics in the Prometheus text format (version 0.0.4; serve it with
    /// [`PROMETHEUS_CONTENT_TYPE`](crate::PROMETHEUS_CONTENT_TYPE)). Reads atomics only: it
    /// answers even while the actor is flooded or down. The metrics are listed in the
    /// `audit::metrics` module docs: events by name, suppressed and dropped events, sink
    /// deliveries, drops and failures, subscriber drops, persist failures, spike alerts, actor
    /// restarts, log length, mailbox depth, subscribers.
    ///
    /// # Errors
    ///
    /// Only if encoding fails, which writing to a `String` does not
    /// ([`ActorError::Invalid`]).
    pub fn metrics_text(&self) -> Result<String, ActorError> {
        self.shared
            .metrics
            .prometheus_text()
            .map_err(|_| ActorError::Invalid {
                actor: NAME,
                reason: "metrics encoding failed",
            })
    }

    /// The same metrics in the OpenMetrics text format 1.0 (ends with `# EOF`; serve it with
    /// [`OPENMETRICS_CONTENT_TYPE`](crate::OPENMETRICS_CONTENT_TYPE)).
    ///
    /// # Errors
    ///
    /// As [`AuditHandle::metrics_text`].
    pub fn metrics_openmetrics(&self) -> Result<String, ActorError> {
        self.shared
            .metrics
            .openmetrics_text()
            .map_err(|_| ActorError::Invalid {
                actor: NAME,
                reason: "metrics encoding failed",
            })
    }

    /// Checks that the actor and its store answer within the ask timeout.
    pub async fn ping(&self) -> Result<(), ActorError> {
        self.ask(Ping).await?
    }

    pub(crate) async fn shutdown(&self) -> Result<(), ActorError> {
        call(
            &self.addr,
            &self.shared,
            Shutdown,
            self.timeout.max(Duration::from_secs(10)),
        )
        .await?
    }

    /// Test-only: blocks the actor's thread for `d` (to exercise timeouts).
    #[cfg(any(test, feature = "test-util"))]
    pub fn freeze_for_tests(&self, d: Duration) {
        self.shared.metrics.mailbox_depth.inc();
        if self.addr.clone().try_send(Freeze(d)).is_err() {
            self.shared.metrics.mailbox_depth.dec();
        }
    }

    /// Test-only: makes the actor panic inside a handler (to exercise supervision).
    #[cfg(any(test, feature = "test-util"))]
    pub async fn crash_for_tests(&self) -> Result<(), ActorError> {
        self.ask(Crash).await?
    }
}
