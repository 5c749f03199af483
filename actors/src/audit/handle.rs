//! [`AuditHandle`]: the cheap, clonable way to talk to the audit actor.

use std::{
    sync::{atomic::Ordering, Arc},
    time::Duration,
};

use actix::{dev::SendError, Addr};

use super::{
    actor::{AuditActor, SharedCounters, NAME},
    event::{SecurityEvent, StoredEvent},
    log::AuditQuery,
    messages::*,
    sink::AuditSink,
};
use crate::{clock::SharedClock, runtime::supervise::ask, ActorError};

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

    /// Records an ordinary event without waiting. Never blocks: if the actor's bounded
    /// mailbox is full or the actor is down, the event is dropped and counted
    /// ([`AuditStats::dropped`]). The timestamp is set here, from the runtime clock.
    pub fn emit(&self, event: SecurityEvent) {
        let event = event.with_ts(self.clock.now_utc());
        match self.addr.try_send(Emit(event)) {
            Ok(()) => {}
            Err(SendError::Full(Emit(ev))) => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(event = %ev.name, "audit mailbox full; event dropped");
            }
            Err(SendError::Closed(Emit(ev))) => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::error!(event = %ev.name, "audit actor down; event dropped");
            }
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
        let suppressed = {
            let mut map = self.shared.throttle.lock();
            let slot = map.entry(event.name.clone()).or_insert((0, 0));
            let fresh = slot.0 == 0 || now >= slot.0.saturating_add(win);
            if !fresh {
                slot.1 += 1;
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

    /// Records a must-log event and returns its id once it is durably persisted. Callers that
    /// cannot log must refuse the action they were about to take (fail closed).
    pub async fn emit_durable(&self, event: SecurityEvent) -> Result<u64, ActorError> {
        let event = event.with_ts(self.clock.now_utc());
        ask(NAME, &self.addr, EmitDurable(event), self.timeout).await?
    }

    /// Subscribes to the live stream; `filter` is a name prefix (`"csrf."`, `"auth.*"`).
    pub async fn subscribe(&self, filter: Option<&str>) -> Result<super::Subscription, ActorError> {
        let msg = Subscribe {
            filter: filter.map(str::to_owned),
        };
        ask(NAME, &self.addr, msg, self.timeout).await?
    }

    /// Adds a sink; it receives every event from now on, on its own thread.
    pub async fn add_sink(&self, sink: impl AuditSink) -> Result<(), ActorError> {
        ask(NAME, &self.addr, AddSink(Box::new(sink)), self.timeout).await?
    }

    /// Reads the persisted log.
    pub async fn query(&self, q: AuditQuery) -> Result<Vec<StoredEvent>, ActorError> {
        ask(NAME, &self.addr, Query(q), self.timeout).await?
    }

    /// Applies retention now; returns how many events were removed.
    pub async fn prune(&self) -> Result<usize, ActorError> {
        ask(NAME, &self.addr, Prune, self.timeout).await?
    }

    /// The actor's counters.
    pub async fn stats(&self) -> Result<AuditStats, ActorError> {
        let mut s = ask(NAME, &self.addr, GetStats, self.timeout).await?;
        s.dropped = self.shared.dropped.load(Ordering::Relaxed);
        Ok(s)
    }

    /// Events dropped before reaching the actor; readable even while the actor is down.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Checks that the actor and its store answer within the ask timeout.
    pub async fn ping(&self) -> Result<(), ActorError> {
        ask(NAME, &self.addr, Ping, self.timeout).await?
    }

    pub(crate) async fn shutdown(&self) -> Result<(), ActorError> {
        ask(
            NAME,
            &self.addr,
            Shutdown,
            self.timeout.max(Duration::from_secs(10)),
        )
        .await?
    }

    /// Test-only: blocks the actor's thread for `d` (to exercise timeouts).
    #[cfg(any(test, feature = "test-util"))]
    pub fn freeze_for_tests(&self, d: Duration) {
        let _ = self.addr.try_send(Freeze(d));
    }

    /// Test-only: makes the actor panic inside a handler (to exercise supervision).
    #[cfg(any(test, feature = "test-util"))]
    pub async fn crash_for_tests(&self) -> Result<(), ActorError> {
        ask(NAME, &self.addr, Crash, self.timeout).await?
    }
}
