//! How the lockout actor answers its messages. Every handler runs under
//! [`guarded`](crate::runtime::supervise::guarded); replies that promise durability (failures,
//! unlocks, flushes) wait for the next group-committed flush of the store.

use actix::{Context, Handler, ResponseFuture};
use tokio::sync::oneshot;

use super::{
    actor::{LockoutActor, NAME},
    commit::dup,
    messages::*,
};
use crate::{runtime::supervise::guarded, ActorError};

/// Answers `r` once everything written so far is on disk (or with the flush's error).
fn durable<T: Send + 'static>(
    act: &mut LockoutActor,
    ctx: &mut Context<LockoutActor>,
    r: Result<T, ActorError>,
) -> ResponseFuture<Result<T, ActorError>> {
    let value = match r {
        Ok(v) => v,
        Err(e) => return Box::pin(async move { Err(e) }),
    };
    let (tx, rx) = oneshot::channel();
    act.after_flush(
        Box::new(move |flushed| {
            let _ = tx.send(flushed.map(|()| value).map_err(|e| dup(e).into()));
        }),
        ctx,
    );
    Box::pin(async move {
        // The sender drops if the actor restarts or stops before the flush: fail closed.
        rx.await
            .unwrap_or(Err(ActorError::Unavailable { actor: NAME }))
    })
}

macro_rules! handler {
    ($msg:ty, $ret:ty, |$act:ident, $m:ident| $body:expr) => {
        impl Handler<$msg> for LockoutActor {
            type Result = Result<$ret, ActorError>;
            fn handle(&mut self, $m: $msg, ctx: &mut Context<Self>) -> Self::Result {
                let $act = &mut *self;
                guarded::<Self, _>(NAME, ctx, || $body)?
            }
        }
    };
}

macro_rules! durable_handler {
    ($msg:ty, $ret:ty, |$act:ident, $m:ident| $body:expr) => {
        impl Handler<$msg> for LockoutActor {
            type Result = ResponseFuture<Result<$ret, ActorError>>;
            fn handle(&mut self, $m: $msg, ctx: &mut Context<Self>) -> Self::Result {
                let $act = &mut *self;
                let r = guarded::<Self, _>(NAME, ctx, || $body).and_then(|r| r);
                durable(self, ctx, r)
            }
        }
    };
}

handler!(Check, Status, |a, m| a.check(&m.account, m.ip));
handler!(RecordSuccess, u64, |a, m| a
    .record_success(&m.account, m.ip));
handler!(GetAccountStatus, AccountStatus, |a, m| a
    .account_status(&m.0));
handler!(GetStats, LockoutStats, |a, _m| Ok(a.stats()));
handler!(Ping, (), |a, _m| Ok(a.store.health_check()?));
durable_handler!(RecordFailure, Status, |a, m| a
    .record_failure(&m.account, m.ip, m.context));
durable_handler!(Unlock, usize, |a, m| a.unlock(&m.0));
durable_handler!(Lock, u64, |a, m| a.lock_account(&m.account, m.for_ms));
durable_handler!(UnlockIp, bool, |a, m| a.unlock_ip(m.0));
durable_handler!(Flush, (), |_a, _m| Ok(()));

#[cfg(any(test, feature = "test-util"))]
impl Handler<Crash> for LockoutActor {
    type Result = Result<(), ActorError>;
    fn handle(&mut self, _: Crash, ctx: &mut Context<Self>) -> Self::Result {
        guarded::<Self, _>(NAME, ctx, || panic!("injected lockout actor crash"))
    }
}
