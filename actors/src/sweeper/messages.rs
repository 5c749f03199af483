//! Messages of the sweeper actor.

use actix::Message;

use crate::ActorError;

pub(crate) const NAME: &str = "sweeper";

/// Sweep one batch now; answers how many records were removed.
#[derive(Debug, Clone, Copy)]
pub struct SweepNow;
impl Message for SweepNow {
    type Result = Result<usize, ActorError>;
}

/// Liveness check.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ping;
impl Message for Ping {
    type Result = Result<(), ActorError>;
}
