//! The sweeper actor: removes expired records through the store's expiry index, a bounded
//! batch per tick, so expired sessions, counters and tokens do not pile up.

mod actor;
mod messages;

pub(crate) use actor::SweeperActor;
pub use messages::SweepNow;
pub(crate) use messages::{Ping as SweeperPing, NAME};
