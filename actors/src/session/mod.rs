//! Sessions: server-side, revocable, rotating, persisted. (work in progress)

mod token;

pub use token::{SessionId, SessionToken, TOKEN_LEN};
