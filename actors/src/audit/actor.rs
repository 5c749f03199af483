//! The audit actor: assigns ids, persists, fans out to sinks and subscribers, applies retention.

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};

use actix::{Actor, AsyncContext, Context, Handler, Supervised};
use tokio::sync::mpsc::{self, error::TrySendError};

use super::{
    event::{SecurityEvent, StoredEvent},
    log::{cutoff, AuditLog},
    messages::*,
    sink::SinkWorker,
};
use crate::{
    clock::SharedClock, runtime::supervise::guarded, runtime::AuditConfig, store::Durability,
    store::Store, ActorError,
};

pub(crate) const NAME: &str = "audit";
const PRUNE_BATCH: usize = 4096;

/// Counters shared between the actor and its handles (so drops before the mailbox count too).
#[derive(Debug, Default)]
pub(crate) struct SharedCounters {
    pub(crate) dropped: AtomicU64,
    pub(crate) restarts: AtomicU64,
    /// Per event name: (start of the current window in ms, events suppressed in it).
    pub(crate) throttle: parking_lot::Mutex<std::collections::HashMap<String, (u64, u64)>>,
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
    processed: u64,
    persisted: u64,
    persist_failures: u64,
    subscriber_drops: u64,
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
        Ok(Self {
            cfg,
            clock,
            store,
            log,
            sinks,
            subscribers: Vec::new(),
            shared,
            processed: 0,
            persisted: 0,
            persist_failures: 0,
            subscriber_drops: 0,
        })
    }

    /// Persists (if configured) and delivers one event; returns its id.
    fn record(&mut self, ev: SecurityEvent, durability: Durability) -> Result<u64, ActorError> {
        let ev = ev.sanitized();
        self.processed += 1;
        let id = self.log.take_id();
        let stored = StoredEvent::new(id, ev);
        if self.cfg.persist {
            match self.log.append(&stored, durability) {
                Ok(()) => self.persisted += 1,
                Err(e) => {
                    self.persist_failures += 1;
                    tracing::error!(error = %e, event = %stored.event.name, "audit log write failed");
                    if durability == Durability::Durable {
                        return Err(e.into());
                    }
                }
            }
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
            tracing::warn!(dropped, "slow audit subscribers dropped");
        }
        Ok(id)
    }

    fn prune(&mut self) -> Result<usize, ActorError> {
        let cut = cutoff(&self.clock, self.cfg.retention_max_age);
        Ok(self
            .log
            .prune(cut, self.cfg.retention_max_count, PRUNE_BATCH)?)
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
        let _ = self.record(ev, Durability::Buffered);
    }
}

impl Handler<Emit> for AuditActor {
    type Result = ();
    fn handle(&mut self, msg: Emit, ctx: &mut Context<Self>) {
        let _ = guarded::<Self, _>(NAME, ctx, || self.record(msg.0, Durability::Buffered));
    }
}

impl Handler<EmitDurable> for AuditActor {
    type Result = Result<u64, ActorError>;
    fn handle(&mut self, msg: EmitDurable, ctx: &mut Context<Self>) -> Self::Result {
        guarded::<Self, _>(NAME, ctx, || self.record(msg.0, Durability::Durable))?
    }
}

impl Handler<Subscribe> for AuditActor {
    type Result = Result<Subscription, ActorError>;
    fn handle(&mut self, msg: Subscribe, _: &mut Context<Self>) -> Self::Result {
        let (tx, rx) = mpsc::channel(self.cfg.subscriber_queue.max(1));
        self.subscribers.push(Subscriber {
            filter: msg.filter.unwrap_or_default(),
            tx,
        });
        Ok(Subscription { rx })
    }
}

impl Handler<AddSink> for AuditActor {
    type Result = Result<(), ActorError>;
    fn handle(&mut self, msg: AddSink, _: &mut Context<Self>) -> Self::Result {
        let worker = SinkWorker::spawn(msg.0, self.cfg.sink_queue).map_err(|e| {
            ActorError::Store(crate::StoreError::Backend(format!(
                "cannot start sink thread: {e}"
            )))
        })?;
        self.sinks.push(worker);
        Ok(())
    }
}

impl Handler<Query> for AuditActor {
    type Result = Result<Vec<StoredEvent>, ActorError>;
    fn handle(&mut self, msg: Query, ctx: &mut Context<Self>) -> Self::Result {
        guarded::<Self, _>(NAME, ctx, || self.log.query(&msg.0))?.map_err(Into::into)
    }
}

impl Handler<Prune> for AuditActor {
    type Result = Result<usize, ActorError>;
    fn handle(&mut self, _: Prune, ctx: &mut Context<Self>) -> Self::Result {
        guarded::<Self, _>(NAME, ctx, || self.prune())?
    }
}

impl Handler<GetStats> for AuditActor {
    type Result = actix::MessageResult<GetStats>;
    fn handle(&mut self, _: GetStats, _: &mut Context<Self>) -> Self::Result {
        actix::MessageResult(self.stats())
    }
}

impl Handler<Ping> for AuditActor {
    type Result = Result<(), ActorError>;
    fn handle(&mut self, _: Ping, _: &mut Context<Self>) -> Self::Result {
        Ok(self.store.health_check()?)
    }
}

impl Handler<Shutdown> for AuditActor {
    type Result = Result<(), ActorError>;
    fn handle(&mut self, _: Shutdown, _: &mut Context<Self>) -> Self::Result {
        for sink in &mut self.sinks {
            sink.close();
        }
        self.subscribers.clear();
        Ok(self.store.flush()?)
    }
}

#[cfg(any(test, feature = "test-util"))]
impl Handler<Freeze> for AuditActor {
    type Result = ();
    fn handle(&mut self, msg: Freeze, _: &mut Context<Self>) {
        std::thread::sleep(msg.0);
    }
}

#[cfg(any(test, feature = "test-util"))]
impl Handler<Crash> for AuditActor {
    type Result = Result<(), ActorError>;
    fn handle(&mut self, _: Crash, ctx: &mut Context<Self>) -> Self::Result {
        guarded::<Self, _>(NAME, ctx, || panic!("injected audit actor crash"))
    }
}
