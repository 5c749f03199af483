//! [`PasswordParams`]: argon2id cost parameters and the length policy, with the OWASP floor.

use serde::{Deserialize, Serialize};

use super::{PasswordError, PasswordPolicyError};

/// The OWASP Password Storage Cheat Sheet's equivalent argon2id minimums, as
/// `(memory_kib, iterations)` pairs, all with parallelism 1: parameters pass the floor when they
/// reach both values of at least one pair.
pub const OWASP_FLOOR: [(u32, u32); 5] = [
    (47_104, 1),
    (19_456, 2),
    (12_288, 3),
    (9_216, 4),
    (7_168, 5),
];

/// The largest `max_len` [`PasswordParams::validate`] accepts (64 KiB).
pub const MAX_PASSWORD_LEN_LIMIT: usize = 64 * 1024;

/// Smallest `min_len` accepted without [`PasswordParams::insecure_for_tests`] (NIST SP 800-63B).
pub const MIN_PASSWORD_LEN_FLOOR: usize = 8;

/// argon2id cost parameters and the password length policy of a
/// [`PasswordPool`](super::PasswordPool).
///
/// The defaults are the OWASP floor (m = 19456 KiB, t = 2, p = 1, also argon2's own defaults),
/// passwords of 8 to 1024 bytes. Setters consume and return `self`:
///
/// ```
/// use warden_actors::password::PasswordParams;
///
/// let params = PasswordParams::default().memory_kib(65_536).iterations(3);
/// params.validate().unwrap();
///
/// // Below the floor: refused, unless built from `insecure_for_tests()`.
/// assert!(PasswordParams::default().memory_kib(64).validate().is_err());
/// assert!(PasswordParams::insecure_for_tests().validate().is_ok());
/// ```
///
/// Deserializable with defaults for missing fields (for configuration files); the "insecure"
/// flag is never read from configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordParams {
    /// argon2 memory cost in KiB (`m`). Default 19456 (19 MiB). Each pool thread keeps a buffer of
    /// this size.
    pub memory_kib: u32,
    /// argon2 time cost, the number of passes (`t`). Default 2.
    pub iterations: u32,
    /// argon2 lanes (`p`). Default 1. Lanes are computed one after the other on the worker's
    /// thread; use more pool threads, not more lanes, for throughput.
    pub parallelism: u32,
    /// Longest accepted password in bytes. Default 1024.
    pub max_len: usize,
    /// Shortest password accepted by [`check_policy`](Self::check_policy) (for new passwords;
    /// verification does not apply it). Default 8.
    pub min_len: usize,
    #[serde(skip)]
    insecure: bool,
}

impl Default for PasswordParams {
    fn default() -> Self {
        PasswordParams {
            memory_kib: argon2::Params::DEFAULT_M_COST,
            iterations: argon2::Params::DEFAULT_T_COST,
            parallelism: argon2::Params::DEFAULT_P_COST,
            max_len: 1024,
            min_len: MIN_PASSWORD_LEN_FLOOR,
            insecure: false,
        }
    }
}

impl PasswordParams {
    /// Cheap parameters for tests only (m = 64 KiB, t = 1, p = 1, lengths 8 to 1024), marked so
    /// that [`validate`](Self::validate) and the pool accept them (and any other sub-floor values
    /// set on them afterwards). A pool started with them logs a warning. Never use in production:
    /// such hashes can be brute-forced quickly.
    pub fn insecure_for_tests() -> Self {
        PasswordParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
            insecure: true,
            ..PasswordParams::default()
        }
    }

    /// Sets the memory cost in KiB.
    #[must_use]
    pub fn memory_kib(mut self, memory_kib: u32) -> Self {
        self.memory_kib = memory_kib;
        self
    }

    /// Sets the number of passes.
    #[must_use]
    pub fn iterations(mut self, iterations: u32) -> Self {
        self.iterations = iterations;
        self
    }

    /// Sets the number of lanes.
    #[must_use]
    pub fn parallelism(mut self, parallelism: u32) -> Self {
        self.parallelism = parallelism;
        self
    }

    /// Sets the longest accepted password, in bytes.
    #[must_use]
    pub fn max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }

    /// Sets the shortest accepted new password, in bytes.
    #[must_use]
    pub fn min_len(mut self, min_len: usize) -> Self {
        self.min_len = min_len;
        self
    }

    /// Whether these parameters came from [`insecure_for_tests`](Self::insecure_for_tests).
    pub fn is_insecure_for_tests(&self) -> bool {
        self.insecure
    }

    /// Checks the parameters.
    ///
    /// Always refused: values argon2 cannot use (`parallelism` 0 or above 2^24 - 1, `iterations`
    /// 0, `memory_kib` below 8 × `parallelism`), `min_len` above `max_len`, `max_len` 0 or above
    /// [`MAX_PASSWORD_LEN_LIMIT`]. Refused unless built from
    /// [`insecure_for_tests`](Self::insecure_for_tests): cost below every pair of
    /// [`OWASP_FLOOR`], `min_len` below 8.
    ///
    /// # Errors
    /// [`PasswordError::InsecureParams`] saying what is wrong.
    pub fn validate(&self) -> Result<(), PasswordError> {
        let refuse = |reason: String| Err(PasswordError::InsecureParams { reason });
        if self.parallelism == 0 || self.parallelism > argon2::Params::MAX_P_COST {
            return refuse(format!(
                "parallelism must be between 1 and {}",
                argon2::Params::MAX_P_COST
            ));
        }
        if self.iterations == 0 {
            return refuse("iterations must be at least 1".into());
        }
        if u64::from(self.memory_kib) < 8 * u64::from(self.parallelism) {
            return refuse("memory_kib must be at least 8 x parallelism".into());
        }
        if self.max_len == 0 || self.max_len > MAX_PASSWORD_LEN_LIMIT {
            return refuse(format!(
                "max_len must be between 1 and {MAX_PASSWORD_LEN_LIMIT} bytes"
            ));
        }
        if self.min_len > self.max_len {
            return refuse("min_len must not exceed max_len".into());
        }
        if self.insecure {
            return Ok(());
        }
        if !self.meets_owasp_floor() {
            return refuse(format!(
                "m={} KiB, t={} is below the OWASP argon2id floor (m=19456 KiB, t=2, p=1 or an \
                 equivalent pair: {:?})",
                self.memory_kib, self.iterations, OWASP_FLOOR
            ));
        }
        if self.min_len < MIN_PASSWORD_LEN_FLOOR {
            return refuse(format!(
                "min_len must be at least {MIN_PASSWORD_LEN_FLOOR} bytes"
            ));
        }
        Ok(())
    }

    /// Whether the cost reaches at least one pair of [`OWASP_FLOOR`].
    pub fn meets_owasp_floor(&self) -> bool {
        OWASP_FLOOR
            .iter()
            .any(|&(m, t)| self.memory_kib >= m && self.iterations >= t)
    }

    /// Checks a new password against the length policy (bytes between `min_len` and `max_len`;
    /// no composition rules).
    ///
    /// ```
    /// use warden_actors::password::{PasswordParams, PasswordPolicyError};
    ///
    /// let params = PasswordParams::default();
    /// assert!(params.check_policy("correct horse").is_ok());
    /// assert_eq!(
    ///     params.check_policy("short"),
    ///     Err(PasswordPolicyError::TooShort { min_len: 8 })
    /// );
    /// ```
    ///
    /// # Errors
    /// [`PasswordPolicyError::TooShort`] or [`PasswordPolicyError::TooLong`].
    pub fn check_policy(&self, password: &str) -> Result<(), PasswordPolicyError> {
        if password.len() > self.max_len {
            Err(PasswordPolicyError::TooLong {
                max_len: self.max_len,
            })
        } else if password.len() < self.min_len {
            Err(PasswordPolicyError::TooShort {
                min_len: self.min_len,
            })
        } else {
            Ok(())
        }
    }

    /// The argon2 parameters of new hashes (32-byte output, no key id or associated data).
    pub(crate) fn argon2_params(&self) -> Result<argon2::Params, PasswordError> {
        argon2::Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(argon2::Params::DEFAULT_OUTPUT_LEN),
        )
        .map_err(|e| PasswordError::InsecureParams {
            reason: e.to_string(),
        })
    }
}
