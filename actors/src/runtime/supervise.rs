//! Supervision and asking: panics in handlers become restarts, and every ask has a deadline.

use std::{
    panic::{catch_unwind, AssertUnwindSafe},
    time::Duration,
};

use actix::{dev::ToEnvelope, Actor, ActorContext, Addr, Handler, MailboxError, Message};

use crate::ActorError;

/// Runs a handler body; if it panics, stops the actor (its `Supervisor` restarts it, calling
/// `Supervised::restarting`, where the actor reloads its state from the store) and answers
/// [`ActorError::Panicked`] instead of unwinding through the arbiter.
pub(crate) fn guarded<A, R>(
    actor: &'static str,
    ctx: &mut A::Context,
    f: impl FnOnce() -> R,
) -> Result<R, ActorError>
where
    A: Actor,
    A::Context: ActorContext,
{
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Ok(r),
        Err(_) => {
            tracing::error!(
                actor,
                "actor panicked while handling a message; restarting it"
            );
            ctx.stop();
            Err(ActorError::Panicked { actor })
        }
    }
}

/// Sends `msg` and waits at most `timeout` for the answer. A full mailbox waits too (bounded
/// back-pressure); a closed one fails at once. Never hangs.
pub(crate) async fn ask<A, M>(
    actor: &'static str,
    addr: &Addr<A>,
    msg: M,
    timeout: Duration,
) -> Result<M::Result, ActorError>
where
    A: Actor + Handler<M>,
    A::Context: ToEnvelope<A, M>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    if !addr.connected() {
        return Err(ActorError::Unavailable { actor });
    }
    match addr.send(msg).timeout(timeout).await {
        Ok(r) => Ok(r),
        Err(MailboxError::Timeout) => Err(ActorError::Timeout { actor, timeout }),
        Err(MailboxError::Closed) => Err(ActorError::Unavailable { actor }),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use actix::{Context, Supervised};

    use super::*;

    #[derive(Default)]
    struct Sleepy {
        restarts: u32,
    }
    impl Actor for Sleepy {
        type Context = Context<Self>;
    }
    impl Supervised for Sleepy {
        fn restarting(&mut self, _: &mut Context<Self>) {
            self.restarts += 1;
        }
    }

    struct Nap(Duration);
    impl Message for Nap {
        type Result = ();
    }
    impl Handler<Nap> for Sleepy {
        type Result = ();
        fn handle(&mut self, m: Nap, _: &mut Context<Self>) {
            std::thread::sleep(m.0);
        }
    }

    struct Boom(bool);
    impl Message for Boom {
        type Result = Result<u32, ActorError>;
    }
    impl Handler<Boom> for Sleepy {
        type Result = Result<u32, ActorError>;
        fn handle(&mut self, m: Boom, ctx: &mut Context<Self>) -> Self::Result {
            let restarts = self.restarts;
            guarded::<Self, _>("sleepy", ctx, || {
                assert!(!m.0, "boom");
                restarts
            })
        }
    }

    #[actix::test]
    async fn a_slow_actor_times_out_instead_of_hanging() {
        let arbiter = actix::Arbiter::new();
        let addr = Sleepy::start_in_arbiter(&arbiter.handle(), |_| Sleepy::default());
        addr.try_send(Nap(Duration::from_millis(600))).unwrap();
        let t = Instant::now();
        let err = ask(
            "sleepy",
            &addr,
            Nap(Duration::ZERO),
            Duration::from_millis(50),
        )
        .await
        .unwrap_err();
        assert!(matches!(
            err,
            ActorError::Timeout {
                actor: "sleepy",
                ..
            }
        ));
        assert!(t.elapsed() < Duration::from_millis(500));
        arbiter.stop();
    }

    #[actix::test]
    async fn a_stopped_actor_fails_fast() {
        let arbiter = actix::Arbiter::new();
        let addr = Sleepy::start_in_arbiter(&arbiter.handle(), |_| Sleepy::default());
        arbiter.stop();
        arbiter.join().unwrap();
        let t = Instant::now();
        let err = ask("sleepy", &addr, Nap(Duration::ZERO), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(matches!(err, ActorError::Unavailable { actor: "sleepy" }));
        assert!(t.elapsed() < Duration::from_secs(1));
    }

    #[actix::test]
    async fn a_panicking_handler_restarts_the_actor() {
        let arbiter = actix::Arbiter::new();
        let addr = actix::Supervisor::start_in_arbiter(&arbiter.handle(), |_| Sleepy::default());
        let t = Duration::from_secs(2);
        assert_eq!(
            ask("sleepy", &addr, Boom(false), t).await.unwrap().unwrap(),
            0
        );
        let err = ask("sleepy", &addr, Boom(true), t)
            .await
            .unwrap()
            .unwrap_err();
        assert!(matches!(err, ActorError::Panicked { actor: "sleepy" }));
        // Same address, restarted actor: it answers and has seen one restart.
        assert_eq!(
            ask("sleepy", &addr, Boom(false), t).await.unwrap().unwrap(),
            1
        );
        arbiter.stop();
    }
}
