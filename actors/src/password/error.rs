//! Errors of the password service.

/// Why a password was refused by the length policy.
///
/// The policy is length only (in bytes, not characters): no composition rules, as recommended by
/// NIST SP 800-63B and OWASP. The variants carry the limits, never the password or its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordPolicyError {
    /// The password is shorter than [`PasswordParams::min_len`](super::PasswordParams::min_len).
    #[error("password must be at least {min_len} bytes long")]
    TooShort {
        /// The minimum length in bytes.
        min_len: usize,
    },
    /// The password is longer than [`PasswordParams::max_len`](super::PasswordParams::max_len)
    /// (a guard against hashing denial of service).
    #[error("password must be at most {max_len} bytes long")]
    TooLong {
        /// The maximum length in bytes.
        max_len: usize,
    },
}

/// A failure of the password service.
///
/// A wrong password is not an error: it is
/// [`Verification { valid: false, .. }`](super::Verification). No variant ever contains a
/// password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// The pool's queue is full; the job was refused at once. The HTTP layer answers 503.
    #[error("password hashing pool is busy")]
    Busy,
    /// The pool has shut down, or the worker handling the job failed before answering.
    #[error("password hashing pool is stopped")]
    Stopped,
    /// The password does not meet the length policy.
    #[error(transparent)]
    Policy(#[from] PasswordPolicyError),
    /// argon2 (or the OS random generator for the salt) failed; the text is the library's
    /// message, never input.
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The parameters are below the OWASP floor (without
    /// [`PasswordParams::insecure_for_tests`](super::PasswordParams::insecure_for_tests)) or
    /// otherwise unusable.
    #[error("insecure or invalid password hashing parameters: {reason}")]
    InsecureParams {
        /// What is wrong with the parameters.
        reason: String,
    },
    /// A worker thread could not be started.
    #[error("cannot start a password hashing thread: {0}")]
    Spawn(String),
}

impl PasswordError {
    /// A library failure as [`PasswordError::Hash`] (kept out of the public API: no `From` impls
    /// for argon2's types).
    pub(crate) fn hash(e: impl std::fmt::Display) -> Self {
        PasswordError::Hash(e.to_string())
    }
}
