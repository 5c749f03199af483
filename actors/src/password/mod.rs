//! Password hashing and verification: argon2id, PHC strings, on a bounded pool of threads.
//!
//! argon2id at the OWASP floor costs ~15 ms of CPU and 19 MiB per hash or verify, far too much
//! for an async worker thread. A [`PasswordPool`] runs the work on its own named threads
//! (`warden-argon2-N`), each keeping and reusing its argon2 memory buffer, behind a bounded
//! queue: when the queue is full the caller gets [`PasswordError::Busy`] at once (the HTTP layer
//! answers 503) instead of an ever-growing backlog. Results come back through a
//! `tokio::sync::oneshot` channel, so the async API works on any runtime.
//!
//! - [`PasswordPool::hash`]: a PHC string `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` with a
//!   16-byte salt from the OS random generator;
//! - [`PasswordPool::verify`]: [`Verification`] `{ valid, needs_rehash }`; `needs_rehash` says
//!   the stored parameters differ from the pool's, so the caller stores a fresh hash after a
//!   successful login; a malformed stored hash is invalid (after the same work, never a panic);
//! - [`PasswordPool::verify_dummy`]: the same work against a dummy hash, for unknown users and
//!   locked accounts, so that timing does not reveal them;
//! - [`PasswordPool::check_policy`]: length only (8 to 1024 bytes by default); `hash` refuses
//!   what the policy refuses and `verify` answers invalid for over-long input before any argon2
//!   work (hashing denial of service).
//!
//! Passwords travel to the worker inside [`Password`], redacted in `Debug` and zeroized on drop.
//!
//! ```
//! use warden_actors::password::{PasswordParams, PasswordPool};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), warden_actors::password::PasswordError> {
//! // Production: `PasswordParams::default()` (the OWASP floor). Doc examples use cheap ones.
//! let pool = PasswordPool::start(PasswordParams::insecure_for_tests(), 2, 64)?;
//!
//! let phc = pool.hash("correct horse battery staple").await?;
//! assert!(phc.starts_with("$argon2id$v=19$"));
//!
//! let check = pool.verify("correct horse battery staple", &phc).await?;
//! assert!(check.valid && !check.needs_rehash);
//! assert!(!pool.verify("Tr0ub4dor&3", &phc).await?.valid);
//!
//! // Unknown user: spend the same time, then answer the same thing as for a wrong password.
//! pool.verify_dummy("whatever was typed").await?;
//! # Ok(())
//! # }
//! ```

mod engine;
mod error;
mod params;
mod pool;
mod secret;

pub use self::{
    error::{PasswordError, PasswordPolicyError},
    params::{PasswordParams, MAX_PASSWORD_LEN_LIMIT, MIN_PASSWORD_LEN_FLOOR, OWASP_FLOOR},
    pool::{default_threads, PasswordPool, PasswordStats, DEFAULT_QUEUE},
    secret::Password,
};

/// The outcome of [`PasswordPool::verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Verification {
    /// The password matches the stored hash.
    pub valid: bool,
    /// Only when `valid`: the stored hash was made with another algorithm version or other
    /// parameters than the pool's current ones (weaker or merely different); store
    /// [`PasswordPool::hash`] of the password now.
    pub needs_rehash: bool,
}

impl Verification {
    /// No match (also the answer for malformed or unusable stored hashes and over-long
    /// passwords).
    pub const INVALID: Verification = Verification {
        valid: false,
        needs_rehash: false,
    };
}
