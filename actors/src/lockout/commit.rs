//! Group commit inside the actor: replies that promise durability wait for the next flush of
//! the store, which runs off the actor's thread; every reply queued while a flush runs shares
//! the next one, so a burst of failures costs a few disk flushes, not one each, and the actor
//! keeps answering checks meanwhile.

use actix::{ActorFutureExt, AsyncContext, Context};

use super::actor::LockoutActor;
use crate::StoreError;

/// A reply waiting for the next flush of the store.
pub(crate) type Pending = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;

/// A copy of a store error, for every reply of a failed flush.
pub(crate) fn dup(e: &StoreError) -> StoreError {
    match e {
        StoreError::Backend(s) => StoreError::Backend(s.clone()),
        StoreError::UnsupportedFormat { keyspace, found } => StoreError::UnsupportedFormat {
            keyspace,
            found: *found,
        },
        StoreError::Corrupt { keyspace, reason } => StoreError::Corrupt { keyspace, reason },
        StoreError::Serialization(s) => StoreError::Serialization(s.clone()),
        StoreError::Closed => StoreError::Closed,
    }
}

impl LockoutActor {
    /// Queues a reply for the next flush, and starts one unless one is running (group commit:
    /// every reply queued while a flush runs shares the next one).
    pub(crate) fn after_flush(&mut self, reply: Pending, ctx: &mut Context<Self>) {
        self.pending.push(reply);
        self.start_flush(ctx);
    }

    fn start_flush(&mut self, ctx: &mut Context<Self>) {
        if self.flushing || self.pending.is_empty() {
            return;
        }
        self.flushing = true;
        let batch = std::mem::take(&mut self.pending);
        let store = self.store.clone();
        let flush = async move {
            actix_rt::task::spawn_blocking(move || store.flush())
                .await
                .unwrap_or_else(|e| Err(StoreError::Backend(format!("flush task: {e}"))))
        };
        ctx.spawn(
            actix::fut::wrap_future::<_, Self>(flush).map(move |r, act: &mut Self, ctx| {
                if let Err(e) = &r {
                    tracing::error!(error = %e, "lockout flush failed; failures not acknowledged");
                }
                batch
                    .into_iter()
                    .for_each(|reply| reply(r.as_ref().map(|_| ())));
                act.flushing = false;
                act.start_flush(ctx);
            }),
        );
    }
}
