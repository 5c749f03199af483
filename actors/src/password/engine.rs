//! The synchronous argon2id core run by each pool thread: hashing into a reused memory buffer,
//! PHC encoding and parsing, verification and the rehash decision.

use argon2::{
    password_hash::phc::{Output, ParamsString, PasswordHash, Salt},
    Algorithm, Argon2, Block, Version, ARGON2ID_IDENT,
};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use super::{PasswordError, Verification};

/// Longest PHC string considered for parsing; real argon2id strings are about 100 characters.
pub(crate) const MAX_PHC_LEN: usize = 512;

/// Salt length of new hashes, in bytes.
const SALT_LEN: usize = 16;

/// Absolute memory a stored hash may ask for even when the pool's own cost is lower (KiB).
const VERIFY_MEMORY_FLOOR_KIB: u32 = 256 * 1024;
/// Absolute number of passes a stored hash may ask for even when the pool's own cost is lower.
const VERIFY_ITERATIONS_FLOOR: u32 = 16;
/// Absolute number of lanes a stored hash may ask for.
const VERIFY_PARALLELISM_FLOOR: u32 = 16;

/// The largest cost a stored hash may ask for: a planted or corrupted hash must not make a
/// worker allocate gigabytes or spin for minutes. Anything above is treated as invalid.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VerifyLimits {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl VerifyLimits {
    /// Four times the pool's cost, and at least 256 MiB, 16 passes, 16 lanes.
    pub(crate) fn for_target(target: &argon2::Params) -> Self {
        VerifyLimits {
            memory_kib: target
                .m_cost()
                .saturating_mul(4)
                .max(VERIFY_MEMORY_FLOOR_KIB),
            iterations: target
                .t_cost()
                .saturating_mul(4)
                .max(VERIFY_ITERATIONS_FLOOR),
            parallelism: target.p_cost().max(VERIFY_PARALLELISM_FLOOR),
        }
    }

    fn allows(&self, params: &argon2::Params) -> bool {
        params.m_cost() <= self.memory_kib
            && params.t_cost() <= self.iterations
            && params.p_cost() <= self.parallelism
    }
}

/// A stored hash that passed every structural check and can be recomputed.
struct Parsed {
    version: Version,
    params: argon2::Params,
    salt: Salt,
    expected: Output,
}

/// Why a PHC string cannot be verified (logged without the string itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unusable {
    TooLong,
    Syntax,
    NotArgon2id,
    Version,
    Params,
    MissingSaltOrHash,
    OverLimits,
}

/// Parses and checks a PHC string: argon2id only (argon2i and argon2d hashes are refused),
/// version 0x10 or 0x13, parameters argon2 accepts, a salt and an output.
fn parse(phc: &str) -> Result<Parsed, Unusable> {
    if phc.len() > MAX_PHC_LEN {
        return Err(Unusable::TooLong);
    }
    let hash = PasswordHash::new(phc).map_err(|_| Unusable::Syntax)?;
    if hash.algorithm != ARGON2ID_IDENT {
        return Err(Unusable::NotArgon2id);
    }
    let version = match hash.version {
        None => Version::V0x13,
        Some(v) => Version::try_from(v).map_err(|_| Unusable::Version)?,
    };
    let params = argon2::Params::try_from(&hash).map_err(|_| Unusable::Params)?;
    match (hash.salt, hash.hash) {
        (Some(salt), Some(expected)) if salt.len() >= argon2::MIN_SALT_LEN => Ok(Parsed {
            version,
            params,
            salt,
            expected,
        }),
        _ => Err(Unusable::MissingSaltOrHash),
    }
}

fn differs(parsed: &Parsed, target: &argon2::Params) -> bool {
    parsed.version != Version::V0x13 || parsed.params != *target
}

/// Whether `phc` is anything other than an argon2id v19 hash with exactly `target`'s
/// parameters (malformed strings included).
pub(crate) fn needs_rehash(phc: &str, target: &argon2::Params) -> bool {
    parse(phc).map_or(true, |parsed| differs(&parsed, target))
}

/// Allocates `blocks` argon2 memory blocks without aborting on allocation failure.
fn allocate(blocks: usize) -> Result<Vec<Block>, PasswordError> {
    let mut memory = Vec::new();
    memory
        .try_reserve_exact(blocks)
        .map_err(|_| PasswordError::Hash("cannot allocate argon2 memory".into()))?;
    memory.resize(blocks, Block::new());
    Ok(memory)
}

/// One worker's hasher: the pool's parameters and a memory buffer sized for them, reused by
/// every job (allocating and faulting in 19 MiB per hash is a large part of its cost).
pub(crate) struct Engine {
    target: argon2::Params,
    limits: VerifyLimits,
    memory: Vec<Block>,
}

impl Engine {
    /// Allocates the buffer for `target`.
    pub(crate) fn new(target: argon2::Params) -> Result<Self, PasswordError> {
        let memory = allocate(target.block_count())?;
        Ok(Engine {
            limits: VerifyLimits::for_target(&target),
            target,
            memory,
        })
    }

    /// Runs argon2 into `out`, in the reused buffer when it is large enough, else in a buffer
    /// allocated for this job. The used memory is zeroed afterwards.
    fn compute(
        &mut self,
        version: Version,
        params: &argon2::Params,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), PasswordError> {
        let argon2 = Argon2::new(Algorithm::Argon2id, version, params.clone());
        let blocks = params.block_count();
        let mut temporary;
        let memory = match self.memory.get_mut(..blocks) {
            Some(reused) => reused,
            None => {
                temporary = allocate(blocks)?;
                temporary.as_mut_slice()
            }
        };
        let result = argon2.hash_password_into_with_memory(password, salt, out, &mut *memory);
        for block in memory.iter_mut() {
            block.zeroize();
        }
        result.map_err(PasswordError::hash)
    }

    /// Hashes `password` with a fresh 16-byte salt from the OS random generator; returns the PHC
    /// string `$argon2id$v=19$m=..,t=..,p=..$salt$hash`.
    pub(crate) fn hash(&mut self, password: &[u8]) -> Result<String, PasswordError> {
        let salt: [u8; SALT_LEN] = argon2::password_hash::try_generate_salt()
            .map_err(|e| PasswordError::Hash(format!("OS random generator failed: {e}")))?;
        let mut out = [0u8; argon2::Params::DEFAULT_OUTPUT_LEN];
        let target = self.target.clone();
        self.compute(Version::V0x13, &target, password, &salt, &mut out)?;
        let phc = PasswordHash {
            algorithm: ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&target).map_err(PasswordError::hash)?,
            salt: Some(Salt::new(&salt).map_err(PasswordError::hash)?),
            hash: Some(Output::new(&out).map_err(PasswordError::hash)?),
        };
        Ok(phc.to_string())
    }

    /// Verifies `password` against `phc`; `needs_rehash` is only set on a valid match.
    ///
    /// An unusable `phc` (malformed, not argon2id, over the [`VerifyLimits`]) is logged (without
    /// its text) and answered `valid: false` after the same argon2 work against `dummy`, so that
    /// an account without a usable hash cannot be told apart by timing.
    pub(crate) fn verify(&mut self, password: &[u8], phc: &str, dummy: &str) -> Verification {
        match parse(phc) {
            Ok(parsed) if self.limits.allows(&parsed.params) => self.check(password, &parsed),
            Ok(_) => self.spend(password, Unusable::OverLimits, dummy),
            Err(why) => self.spend(password, why, dummy),
        }
    }

    /// The work of a verification against `dummy`, then `INVALID`.
    fn spend(&mut self, password: &[u8], why: Unusable, dummy: &str) -> Verification {
        log_unusable(why);
        if let Ok(parsed) = parse(dummy) {
            let _ = self.check(password, &parsed);
        }
        Verification::INVALID
    }

    fn check(&mut self, password: &[u8], parsed: &Parsed) -> Verification {
        let mut out = [0u8; Output::MAX_LENGTH];
        let Some(out) = out.get_mut(..parsed.expected.len()) else {
            return Verification::INVALID;
        };
        if let Err(e) = self.compute(parsed.version, &parsed.params, password, &parsed.salt, out) {
            tracing::warn!(error = %e, "password verification could not run argon2");
            return Verification::INVALID;
        }
        let valid: bool = out.ct_eq(parsed.expected.as_bytes()).into();
        Verification {
            valid,
            needs_rehash: valid && differs(parsed, &self.target),
        }
    }
}

/// Logs why a stored hash cannot be used, never the hash or the password.
pub(crate) fn log_unusable(why: Unusable) {
    tracing::warn!(reason = ?why, "stored password hash is unusable; treated as invalid");
}
