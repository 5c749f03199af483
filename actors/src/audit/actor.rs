//! The audit actor: assigns ids, persists, fans out to sinks and subscribers, applies retention.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use actix::{Actor, AsyncContext, Context, Handler, Supervised};
use serde_json::Value;
use tokio::sync::mpsc::{self, error::TrySendError};

use super::{
    aggregate::Aggregator,
    event::{SecurityEvent, StoredEvent},
    log::{cutoff, scan_after, AuditLog, AuditPage},
    messages::*,
    metrics::AuditMetrics,
    policy::is_must_log,
    sink::SinkWorker,
    spike::SpikeDetector,
};
use crate::{
    clock::SharedClock, runtime::supervise::guarded, runtime::AuditConfig, store::Durability,
    store::Store, ActorError,
};

pub(crate) const NAME: &str = "audit";
const PRUNE_BATCH: usize = 4096;
/// The log may exceed `retention_max_count` by this much before a write prunes at once
/// (instead of waiting for the retention interval), so a flood never outgrows retention.
const PRUNE_SLACK: u64 = 1024;
/// Most records one page of a forward scan examines (bounds the actor's time per page).
const PAGE_SCAN: usize = 2048;
/// How often closed aggregation windows are collected.
const AGGREGATE_TICK: Duration = Duration::from_secs(1);

/// Counters shared between the actor and its handles (so drops before the mailbox count too).
#[derive(Debug, Default)]
pub(crate) struct SharedCounters {
    pub(crate) dropped: AtomicU64,
    pub(crate) restarts: AtomicU64,
    /// Occurrences folded into aggregates or throttled records.
    pub(crate) suppressed: AtomicU64,
    /// Per event name: (start of the current window in ms, events suppressed in it).
    pub(crate) throttle: parking_lot::Mutex<std::collections::HashMap<String, (u64, u64)>>,
    /// Aggregation of flood-prone events (runs in the callers' threads).
    pub(crate) aggregator: Aggregator,
    /// The Prometheus metrics.
    pub(crate) metrics: AuditMetrics,
}

struct Subscriber {
    filter: String,
    tx: mpsc::Sender<Arc<StoredEvent>>,
}

/// The audit actor. Start it through [`Runtime`](crate::Runtime).
pub(crate) struct AuditActor {
    cfg: AuditConfig,
    clock: SharedClock,
    store: Arc<dyn Store>,
    log: AuditLog,
    sinks: Vec<SinkWorker>,
    subscribers: Vec<Subscriber>,
    shared: Arc<SharedCounters>,
    spikes: SpikeDetector,
    processed: u64,
    persisted: u64,
    persist_failures: u64,
    subscriber_drops: u64,
    alerts: u64,
}

impl std::fmt::Debug for AuditActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditActor")
            .field("sinks", &self.sinks.len())
            .field("subscribers", &self.subscribers.len())
            .field("next_id", &self.log.next_id())
            .finish()
    }
}

impl AuditActor {
    pub(crate) fn new(
        cfg: AuditConfig,
        clock: SharedClock,
        store: Arc<dyn Store>,
        sinks: Vec<SinkWorker>,
        shared: Arc<SharedCounters>,
    ) -> Result<Self, crate::StoreError> {
        let log = AuditLog::open(store.clone())?;
        shared.aggregator.configure(&cfg);
        for s in &sinks {
            shared.metrics.add_sink(&s.name, s.counters.clone());
        }
        shared
            .metrics
            .log_len
            .set(i64::try_from(log.count()).unwrap_or(i64::MAX));
        let spikes = SpikeDetector::new(&cfg.spike_kinds, cfg.spike_window, cfg.spike_threshold);
        Ok(Self {
            cfg,
            clock,
            store,
            log,
            sinks,
            subscribers: Vec::new(),
            shared,
            spikes,
            processed: 0,
            persisted: 0,
            persist_failures: 0,
            subscriber_drops: 0,
            alerts: 0,
        })
    }

    /// A message left the mailbox.
    fn dequeued(&self) {
        self.shared.metrics.mailbox_depth.dec();
    }

    /// Records one event and watches it for spikes; returns its id.
    ///
    /// `strict` (a must-log event whose caller waits): answered only once durably persisted,
    /// and not delivered if persisting failed (the caller refuses its action). Otherwise a
    /// must-log name is still flushed to disk before the actor goes on, and a write failure is
    /// counted but the event is delivered to sinks and subscribers all the same.
    fn record(&mut self, ev: SecurityEvent, strict: bool) -> Result<u64, ActorError> {
        let stored = self.record_one(ev, strict)?;
        self.watch(&stored);
        Ok(stored.id)
    }

    /// Spike detection for one recorded event.
    fn watch(&mut self, stored: &StoredEvent) {
        let ev = &stored.event;
        // An aggregate summary was counted as its occurrences were held back
        // (`flush_aggregates`); a throttled event stands for itself plus those it held back.
        if ev.details.get("aggregated").and_then(Value::as_bool) == Some(true) {
            return;
        }
        let suppressed = ev
            .details
            .get("suppressed")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let name = ev.name.clone();
        self.observe(&name, suppressed.saturating_add(1));
    }

    /// Counts `weight` occurrences of `name` now; a crossing records one `alert.spike`
    /// through the same path as every event.
    fn observe(&mut self, name: &str, weight: u64) {
        if name.starts_with("alert.") {
            return;
        }
        let now = self.clock.now_millis();
        for alert in self.spikes.observe(name, weight, now) {
            self.alerts += 1;
            self.shared.metrics.alert(&alert.kind);
            tracing::warn!(kind = %alert.kind, count = alert.count, "audit event spike");
            let ev = SecurityEvent::new("alert.spike")
                .detail("kind", alert.kind.as_str())
                .detail("count", alert.count)
                .detail("window_secs", self.spikes.window_secs())
                .detail("threshold", self.spikes.threshold())
                .with_ts(self.clock.now_utc());
            if let Err(e) = self.record_one(ev, false) {
                tracing::error!(error = %e, "alert.spike not recorded");
            }
        }
    }

    /// Persists (if configured) and delivers one event.
    fn record_one(
        &mut self,
        ev: SecurityEvent,
        strict: bool,
    ) -> Result<Arc<StoredEvent>, ActorError> {
        let ev = ev.sanitized();
        let durability = if strict || is_must_log(&ev.name) {
            Durability::Durable
        } else {
            Durability::Buffered
        };
        self.processed += 1;
        let id = self.log.take_id();
        let stored = StoredEvent::new(id, ev);
        if self.cfg.persist {
            match self.log.append(&stored, durability) {
                Ok(()) => {
                    self.persisted += 1;
                    if self.log.count() > self.cfg.retention_max_count.saturating_add(PRUNE_SLACK) {
                        if let Err(e) = self.prune() {
                            tracing::error!(error = %e, "audit retention failed");
                        }
                    }
                    self.update_log_len();
                }
                Err(e) => {
                    self.persist_failures += 1;
                    self.shared.metrics.persist_failures.inc();
                    tracing::error!(error = %e, event = %stored.event.name, "audit log write failed");
                    if strict {
                        return Err(e.into());
                    }
                }
            }
        }
        let metrics = &self.shared.metrics;
        metrics.recorded(&stored.event.name);
        if stored.event.name == "actor.restarted" {
            let actor = stored.event.details.get("actor").and_then(Value::as_str);
            metrics.restarted(actor.unwrap_or("unknown"));
        }
        let stored = Arc::new(stored);
        for sink in &self.sinks {
            sink.offer(&stored);
        }
        let mut dropped = 0;
        self.subscribers.retain(|s| {
            if !stored.event.matches(&s.filter) {
                return !s.tx.is_closed();
            }
            match s.tx.try_send(stored.clone()) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    dropped += 1;
                    false
                }
                Err(TrySendError::Closed(_)) => false,
            }
        });
        if dropped > 0 {
            self.subscriber_drops += dropped;
            self.shared.metrics.subscriber_drops.inc_by(dropped);
            tracing::warn!(dropped, "slow audit subscribers dropped");
        }
        self.update_subscribers();
        Ok(stored)
    }

    fn update_log_len(&self) {
        let n = i64::try_from(self.log.count()).unwrap_or(i64::MAX);
        self.shared.metrics.log_len.set(n);
    }

    fn update_subscribers(&self) {
        let n = i64::try_from(self.subscribers.len()).unwrap_or(i64::MAX);
        self.shared.metrics.subscribers.set(n);
    }

    fn prune(&mut self) -> Result<usize, ActorError> {
        let cut = cutoff(&self.clock, self.cfg.retention_max_age);
        let removed = self
            .log
            .prune(cut, self.cfg.retention_max_count, PRUNE_BATCH)?;
        self.update_log_len();
        Ok(removed)
    }

    /// Counts the occurrences held back since the last call toward spikes, then records the
    /// summaries of closed aggregation windows (all windows if `all`).
    fn flush_aggregates(&mut self, all: bool) -> usize {
        for (name, n) in self.shared.aggregator.take_unreported() {
            self.observe(&name, n);
        }
        let now = self.clock.now_millis();
        let summaries = self.shared.aggregator.flush(now, all);
        let n = summaries.len();
        for ev in summaries {
            let ev = ev.with_ts(self.clock.now_utc());
            if let Err(e) = self.record(ev, false) {
                tracing::error!(error = %e, "audit aggregate not recorded");
            }
        }
        n
    }

    fn stats(&self) -> AuditStats {
        AuditStats {
            processed: self.processed,
            dropped: self.shared.dropped.load(Ordering::Relaxed),
            persisted: self.persisted,
            persist_failures: self.persist_failures,
            subscriber_drops: self.subscriber_drops,
            subscribers: self.subscribers.len(),
            restarts: self.shared.restarts.load(Ordering::Relaxed),
            log_len: self.log.count(),
            suppressed: self.shared.suppressed.load(Ordering::Relaxed),
            alerts: self.alerts,
            mailbox_depth: u64::try_from(self.shared.metrics.mailbox_depth.get()).unwrap_or(0),
            sinks: self.sinks.iter().map(SinkWorker::stats).collect(),
        }
    }
}

impl Actor for AuditActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if self.cfg.persist {
            ctx.run_interval(self.cfg.retention_interval, |act, _| {
                if let Err(e) = act.prune() {
                    tracing::error!(error = %e, "audit retention failed");
                }
            });
        }
        if !self.cfg.aggregate_window.is_zero() {
            ctx.run_interval(AGGREGATE_TICK, |act, _| {
                act.flush_aggregates(false);
            });
        }
    }
}

impl Supervised for AuditActor {
    fn restarting(&mut self, _ctx: &mut Context<Self>) {
        self.shared.restarts.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.log.reload() {
            tracing::error!(error = %e, "audit log reload after restart failed");
        }
        let ev = SecurityEvent::new("actor.restarted")
            .detail("actor", NAME)
            .with_ts(self.clock.now_utc());
        let _ = self.record(ev, false);
    }
}

impl Handler<Emit> for AuditActor {
    type Result = ();
    fn handle(&mut self, msg: Emit, ctx: &mut Context<Self>) {
        self.dequeued();
        let _ = guarded::<Self, _>(NAME, ctx, || self.record(msg.0, false));
    }
}

impl Handler<EmitDurable> for AuditActor {
    type Result = Result<u64, ActorError>;
    fn handle(&mut self, msg: EmitDurable, ctx: &mut Context<Self>) -> Self::Result {
        self.dequeued();
        guarded::<Self, _>(NAME, ctx, || self.record(msg.0, true))?
    }
}

impl Handler<Subscribe> for AuditActor {
    type Result = Result<Subscription, ActorError>;
    fn handle(&mut self, msg: Subscribe, _: &mut Context<Self>) -> Self::Result {
        self.dequeued();
        let (tx, rx) = mpsc::channel(self.cfg.subscriber_queue.max(1));
        self.subscribers.retain(|s| !s.tx.is_closed());
        self.subscribers.push(Subscriber {
            filter: msg.filter.unwrap_or_default(),
            tx,
        });
        self.update_subscribers();
        Ok(Subscription { rx })
    }
}

impl Handler<AddSink> for AuditActor {
    type Result = Result<(), ActorError>;
    fn handle(&mut self, msg: AddSink, _: &mut Context<Self>) -> Self::Result {
        self.dequeued();
        let worker = SinkWorker::spawn(msg.0, self.cfg.sink_queue).map_err(|e| {
            ActorError::Store(crate::StoreError::Backend(format!(
                "cannot start sink thread: {e}"
            )))
        })?;
        self.shared
            .metrics
            .add_sink(&worker.name, worker.counters.clone());
        self.sinks.push(worker);
        Ok(())
    }
}

impl Handler<Query> for AuditActor {
    type Result = Result<Vec<StoredEvent>, ActorError>;
    fn handle(&mut self, msg: Query, ctx: &mut Context<Self>) -> Self::Result {
        self.dequeued();
        guarded::<Self, _>(NAME, ctx, || self.log.query(&msg.0))?.map_err(Into::into)
    }
}

impl Handler<PageAfter> for AuditActor {
    type Result = Result<AuditPage, ActorError>;
    fn handle(&mut self, msg: PageAfter, ctx: &mut Context<Self>) -> Self::Result {
        self.dequeued();
        let store = self.store.clone();
        guarded::<Self, _>(NAME, ctx, || {
            scan_after(&*store, &msg.query, msg.after, msg.max_out, PAGE_SCAN)
        })?
        .map_err(Into::into)
    }
}

impl Handler<FlushAggregates> for AuditActor {
    type Result = Result<usize, ActorError>;
    fn handle(&mut self, msg: FlushAggregates, ctx: &mut Context<Self>) -> Self::Result {
        self.dequeued();
        guarded::<Self, _>(NAME, ctx, || self.flush_aggregates(msg.all))
    }
}

impl Handler<Prune> for AuditActor {
    type Result = Result<usize, ActorError>;
    fn handle(&mut self, _: Prune, ctx: &mut Context<Self>) -> Self::Result {
        self.dequeued();
        guarded::<Self, _>(NAME, ctx, || self.prune())?
    }
}

impl Handler<GetStats> for AuditActor {
    type Result = actix::MessageResult<GetStats>;
    fn handle(&mut self, _: GetStats, _: &mut Context<Self>) -> Self::Result {
        self.dequeued();
        actix::MessageResult(self.stats())
    }
}

impl Handler<Ping> for AuditActor {
    type Result = Result<(), ActorError>;
    fn handle(&mut self, _: Ping, _: &mut Context<Self>) -> Self::Result {
        self.dequeued();
        Ok(self.store.health_check()?)
    }
}

impl Handler<Shutdown> for AuditActor {
    type Result = Result<(), ActorError>;
    fn handle(&mut self, _: Shutdown, _: &mut Context<Self>) -> Self::Result {
        self.dequeued();
        // Held-back counts are recorded before the sinks close.
        self.flush_aggregates(true);
        for sink in &mut self.sinks {
            sink.close();
        }
        self.subscribers.clear();
        self.update_subscribers();
        Ok(self.store.flush()?)
    }
}

#[cfg(any(test, feature = "test-util"))]
impl Handler<Freeze> for AuditActor {
    type Result = ();
    fn handle(&mut self, msg: Freeze, _: &mut Context<Self>) {
        self.dequeued();
        std::thread::sleep(msg.0);
    }
}

#[cfg(any(test, feature = "test-util"))]
impl Handler<Crash> for AuditActor {
    type Result = Result<(), ActorError>;
    fn handle(&mut self, _: Crash, ctx: &mut Context<Self>) -> Self::Result {
        self.dequeued();
        guarded::<Self, _>(NAME, ctx, || panic!("injected audit actor crash"))
    }
}
