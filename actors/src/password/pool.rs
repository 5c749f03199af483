//! [`PasswordPool`]: the bounded pool of argon2 threads and its async API.

use std::{
    fmt,
    num::NonZeroUsize,
    panic::{catch_unwind, AssertUnwindSafe},
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        mpsc::{sync_channel, Receiver, SyncSender, TrySendError},
        Arc,
    },
    thread,
};

use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::{
    engine::{self, Engine, Unusable, MAX_PHC_LEN},
    Password, PasswordError, PasswordParams, PasswordPolicyError, Verification,
};

/// Default capacity of the job queue.
pub const DEFAULT_QUEUE: usize = 64;

/// Default number of pool threads: the available parallelism (1 if unknown).
pub fn default_threads() -> usize {
    thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// Counters of a [`PasswordPool`], read with [`PasswordPool::stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PasswordStats {
    /// Jobs run to the end (hashes, verifications, dummy verifications).
    pub completed: u64,
    /// Jobs refused with [`PasswordError::Busy`] because the queue was full.
    pub rejected_busy: u64,
    /// Jobs accepted and not yet picked up by a thread.
    pub queued: usize,
    /// Number of pool threads.
    pub threads: usize,
    /// Capacity of the queue.
    pub queue_capacity: usize,
}

/// The stored hash a verification job checks.
enum Stored {
    Phc(Box<str>),
    Dummy,
}

enum Job {
    Hash {
        password: Password,
        reply: oneshot::Sender<Result<String, PasswordError>>,
    },
    Verify {
        password: Password,
        stored: Stored,
        reply: oneshot::Sender<Verification>,
    },
}

/// State shared by the handles and the threads (not the job sender: threads must not keep the
/// queue open).
struct Shared {
    params: PasswordParams,
    target: argon2::Params,
    dummy: String,
    threads: usize,
    queue: usize,
    completed: AtomicU64,
    rejected_busy: AtomicU64,
    queued: AtomicUsize,
}

struct Inner {
    jobs: SyncSender<Job>,
    shared: Arc<Shared>,
}

/// A bounded pool of threads hashing and verifying passwords with argon2id; a cheap `Clone`
/// handle. Dropping the last handle closes the queue: the threads finish the jobs already
/// accepted and exit.
///
/// Memory: each thread keeps a buffer of `memory_kib` (19 MiB by default) for its lifetime.
///
/// ```
/// use warden_actors::password::{PasswordError, PasswordParams, PasswordPool};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), PasswordError> {
/// let old = PasswordPool::start(PasswordParams::insecure_for_tests(), 1, 8)?;
/// let phc = old.hash("correct horse battery staple").await?;
///
/// // Later the parameters were raised: a successful login reports `needs_rehash`.
/// let new = PasswordPool::start(PasswordParams::insecure_for_tests().iterations(2), 1, 8)?;
/// let check = new.verify("correct horse battery staple", &phc).await?;
/// assert!(check.valid && check.needs_rehash);
/// assert!(new.needs_rehash(&phc));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct PasswordPool {
    inner: Arc<Inner>,
}

impl PasswordPool {
    /// Validates `params` ([`PasswordParams::validate`]), computes the dummy hash (one hash on
    /// the calling thread, ~15 ms at the OWASP floor), allocates one argon2 buffer per thread and
    /// starts `threads` threads named `warden-argon2-N` (`0` means [`default_threads`]) behind a
    /// queue of `queue` jobs (`0` accepts a job only when a thread is idle).
    ///
    /// # Errors
    /// [`PasswordError::InsecureParams`] for sub-floor or invalid parameters,
    /// [`PasswordError::Hash`] when memory cannot be allocated or argon2 fails,
    /// [`PasswordError::Spawn`] when a thread cannot be started.
    pub fn start(
        params: PasswordParams,
        threads: usize,
        queue: usize,
    ) -> Result<PasswordPool, PasswordError> {
        params.validate()?;
        if params.is_insecure_for_tests() {
            tracing::warn!(
                memory_kib = params.memory_kib,
                iterations = params.iterations,
                "password pool started with insecure test parameters"
            );
        }
        let target = params.argon2_params()?;
        let threads = if threads == 0 {
            default_threads()
        } else {
            threads
        };
        let mut engines = Vec::with_capacity(threads);
        for _ in 0..threads {
            engines.push(Engine::new(target.clone())?);
        }
        // A random password nobody knows: the dummy never verifies.
        let secret = argon2::password_hash::try_generate_salt()
            .map_err(|e| PasswordError::Hash(format!("OS random generator failed: {e}")))?;
        let dummy = match engines.first_mut() {
            Some(engine) => engine.hash(&secret)?,
            None => return Err(PasswordError::Spawn("no threads".into())),
        };
        let shared = Arc::new(Shared {
            params,
            target,
            dummy,
            threads,
            queue,
            completed: AtomicU64::new(0),
            rejected_busy: AtomicU64::new(0),
            queued: AtomicUsize::new(0),
        });
        let (jobs, receiver) = sync_channel(queue);
        let receiver = Arc::new(Mutex::new(receiver));
        for (n, engine) in engines.into_iter().enumerate() {
            let (receiver, shared) = (Arc::clone(&receiver), Arc::clone(&shared));
            thread::Builder::new()
                .name(format!("warden-argon2-{n}"))
                .spawn(move || work(engine, &receiver, &shared))
                .map_err(|e| PasswordError::Spawn(e.to_string()))?;
        }
        Ok(PasswordPool {
            inner: Arc::new(Inner { jobs, shared }),
        })
    }

    /// [`start`](Self::start) with [`default_threads`] and [`DEFAULT_QUEUE`].
    ///
    /// # Errors
    /// As [`start`](Self::start).
    pub fn start_with_defaults(params: PasswordParams) -> Result<PasswordPool, PasswordError> {
        PasswordPool::start(params, default_threads(), DEFAULT_QUEUE)
    }

    /// The pool's parameters.
    pub fn params(&self) -> &PasswordParams {
        &self.inner.shared.params
    }

    /// Checks a new password against the length policy; see [`PasswordParams::check_policy`].
    ///
    /// # Errors
    /// [`PasswordPolicyError::TooShort`] or [`PasswordPolicyError::TooLong`].
    pub fn check_policy(&self, password: &str) -> Result<(), PasswordPolicyError> {
        self.params().check_policy(password)
    }

    /// Hashes a new password on the pool: a PHC string
    /// `$argon2id$v=19$m=<memory_kib>,t=<iterations>,p=<parallelism>$<salt>$<hash>` with a
    /// 16-byte salt from the OS random generator. The policy is checked first.
    ///
    /// # Errors
    /// [`PasswordError::Policy`], [`PasswordError::Busy`] (queue full, at once),
    /// [`PasswordError::Stopped`], [`PasswordError::Hash`].
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        self.check_policy(password)?;
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash {
            password: Password::new(password),
            reply,
        })?;
        answer.await.map_err(|_| PasswordError::Stopped)?
    }

    /// Verifies a password against a stored PHC string on the pool.
    ///
    /// Answers [`Verification::INVALID`] at once, without argon2 work, for a password over
    /// `max_len` (its length is known to the sender anyway). A malformed or unusable stored hash
    /// (not argon2id; parameters over 4× the pool's memory or passes and over 256 MiB / 16
    /// passes / 16 lanes) is logged without its text and answered `INVALID` after the work of
    /// [`verify_dummy`](Self::verify_dummy), so an account without a usable hash costs the same
    /// time as a wrong password. `min_len` is not applied: older passwords still verify.
    ///
    /// # Errors
    /// [`PasswordError::Busy`] (queue full, at once), [`PasswordError::Stopped`].
    pub async fn verify(&self, password: &str, phc: &str) -> Result<Verification, PasswordError> {
        if password.len() > self.params().max_len {
            return Ok(Verification::INVALID);
        }
        if phc.len() > MAX_PHC_LEN {
            engine::log_unusable(Unusable::TooLong);
            return self
                .run_verify(password, Stored::Dummy)
                .await
                .map(|_| Verification::INVALID);
        }
        self.run_verify(password, Stored::Phc(phc.into())).await
    }

    /// Does the work of [`verify`](Self::verify) against a dummy hash made at start with the
    /// pool's parameters, and discards the result: for an unknown user or a locked account, so
    /// that the answer takes as long as for a wrong password. Always treat the outcome as
    /// "invalid".
    ///
    /// # Errors
    /// [`PasswordError::Busy`], [`PasswordError::Stopped`], as for a real verification.
    pub async fn verify_dummy(&self, password: &str) -> Result<(), PasswordError> {
        if password.len() > self.params().max_len {
            return Ok(());
        }
        self.run_verify(password, Stored::Dummy).await.map(|_| ())
    }

    /// Whether a stored hash should be replaced: anything but argon2id v19 with exactly the
    /// pool's parameters (malformed strings included). Cheap: parses only, no pool.
    pub fn needs_rehash(&self, phc: &str) -> bool {
        engine::needs_rehash(phc, &self.inner.shared.target)
    }

    /// The pool's counters.
    pub fn stats(&self) -> PasswordStats {
        let shared = &self.inner.shared;
        PasswordStats {
            completed: shared.completed.load(Ordering::Relaxed),
            rejected_busy: shared.rejected_busy.load(Ordering::Relaxed),
            queued: shared.queued.load(Ordering::Relaxed),
            threads: shared.threads,
            queue_capacity: shared.queue,
        }
    }

    async fn run_verify(
        &self,
        password: &str,
        stored: Stored,
    ) -> Result<Verification, PasswordError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Verify {
            password: Password::new(password),
            stored,
            reply,
        })?;
        answer.await.map_err(|_| PasswordError::Stopped)
    }

    /// Queues a job or refuses it at once.
    fn submit(&self, job: Job) -> Result<(), PasswordError> {
        let shared = &self.inner.shared;
        // Counted before sending so that a thread's decrement never comes first.
        shared.queued.fetch_add(1, Ordering::Relaxed);
        match self.inner.jobs.try_send(job) {
            Ok(()) => Ok(()),
            Err(refused) => {
                shared.queued.fetch_sub(1, Ordering::Relaxed);
                match refused {
                    TrySendError::Full(_) => {
                        shared.rejected_busy.fetch_add(1, Ordering::Relaxed);
                        Err(PasswordError::Busy)
                    }
                    TrySendError::Disconnected(_) => Err(PasswordError::Stopped),
                }
            }
        }
    }
}

impl fmt::Debug for PasswordPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordPool")
            .field("params", self.params())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// A pool thread: takes jobs until the queue is closed and drained.
fn work(mut engine: Engine, jobs: &Mutex<Receiver<Job>>, shared: &Shared) {
    loop {
        // The lock is held while waiting; the other idle threads queue on it.
        let next = jobs.lock().recv();
        let Ok(job) = next else { break };
        shared.queued.fetch_sub(1, Ordering::Relaxed);
        // On a panic the reply sender is dropped and the caller gets `Stopped`.
        if catch_unwind(AssertUnwindSafe(|| run(&mut engine, shared, job))).is_err() {
            tracing::error!("a password hashing job panicked");
        }
    }
}

/// Runs one job unless its caller has gone away. `completed` is counted before the reply is
/// sent, so a caller that got its answer sees it in [`PasswordPool::stats`].
fn run(engine: &mut Engine, shared: &Shared, job: Job) {
    let done = || shared.completed.fetch_add(1, Ordering::Relaxed);
    match job {
        Job::Hash { password, reply } => {
            if reply.is_closed() {
                return;
            }
            let phc = engine.hash(password.expose_secret().as_bytes());
            done();
            let _ = reply.send(phc);
        }
        Job::Verify {
            password,
            stored,
            reply,
        } => {
            if reply.is_closed() {
                return;
            }
            let dummy = shared.dummy.as_str();
            let phc = match &stored {
                Stored::Phc(phc) => phc,
                Stored::Dummy => dummy,
            };
            let outcome = engine.verify(password.expose_secret().as_bytes(), phc, dummy);
            done();
            let _ = reply.send(outcome);
        }
    }
}
