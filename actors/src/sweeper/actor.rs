//! The sweeper actor's state and handlers.

use std::{sync::Arc, time::Duration};

use actix::{Actor, AsyncContext, Context, Handler, Supervised};

use super::messages::{Ping, SweepNow, NAME};
use crate::{
    audit::AuditHandle, clock::SharedClock, runtime::supervise::guarded, store::Store, ActorError,
    SecurityEvent,
};

/// Sweeps expired records on a timer.
#[derive(Debug)]
pub(crate) struct SweeperActor {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: SharedClock,
    pub(crate) interval: Duration,
    pub(crate) batch: usize,
    pub(crate) audit: AuditHandle,
}

impl SweeperActor {
    fn sweep(&self) -> Result<usize, ActorError> {
        Ok(self
            .store
            .sweep_expired(self.clock.now_millis(), self.batch)?)
    }
}

impl Actor for SweeperActor {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(self.interval, |act, _| match act.sweep() {
            Ok(0) => {}
            Ok(n) => tracing::debug!(removed = n, "expired records swept"),
            Err(e) => tracing::error!(error = %e, "expiry sweep failed"),
        });
    }
}

impl Supervised for SweeperActor {
    fn restarting(&mut self, _: &mut Context<Self>) {
        self.audit
            .emit(SecurityEvent::new("actor.restarted").detail("actor", NAME));
    }
}

impl Handler<SweepNow> for SweeperActor {
    type Result = Result<usize, ActorError>;
    fn handle(&mut self, _: SweepNow, ctx: &mut Context<Self>) -> Self::Result {
        guarded::<Self, _>(NAME, ctx, || self.sweep())?
    }
}

impl Handler<Ping> for SweeperActor {
    type Result = Result<(), ActorError>;
    fn handle(&mut self, _: Ping, _: &mut Context<Self>) -> Self::Result {
        Ok(self.store.health_check()?)
    }
}
