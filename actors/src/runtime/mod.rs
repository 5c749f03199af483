//! The runtime: opens the store and starts every actor once per process, each on its own
//! arbiter (thread), supervised, with bounded mailboxes.
//!
//! Call [`Runtime::start`] once, **outside** `HttpServer::new` (that closure runs once per
//! worker), and clone the [`Runtime`] into the app: clones are cheap handles to the same actors.

mod config;
pub(crate) mod supervise;

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use actix::{Addr, Arbiter, Supervisor, System};

pub use self::config::{
    AuditConfig, PasswordSettings, RuntimeConfig, RuntimeConfigBuilder, StoreConfig,
};
use self::supervise::ask;
use crate::{
    audit::{
        AuditActor, AuditHandle, AuditSink, JsonLinesSink, SharedCounters, SinkWorker, TracingSink,
    },
    clock::{SharedClock, SystemClock},
    lockout::{start_lockout, LockoutHandle},
    password::PasswordPool,
    ratelimit::{start_ratelimit, RateLimitHandle},
    session::{AliveGuard, SessionHandle, SessionShard, SessionView},
    store::{SledStore, Store},
    sweeper::{SweepNow, SweeperActor, SweeperPing, NAME as SWEEPER},
    tokens::{start_tokens, TokenHandle},
    ActorError, StoreError,
};

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// No actix `System` is running on this thread (start inside `#[actix_web::main]`).
    #[error("no actix System is running; start the runtime inside #[actix_web::main] or actix_rt::System")]
    NoSystem,
    /// The store could not be opened (a second process holding the data directory, bad
    /// permissions, corruption).
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    /// A sink could not be opened or its thread started.
    #[error("cannot start audit sink: {0}")]
    Sink(String),
    /// The password hashing pool could not start (parameters below the OWASP floor, a thread
    /// that cannot be spawned).
    #[error("cannot start the password hashing pool: {0}")]
    Passwords(#[from] crate::password::PasswordError),
    /// A setting is unusable.
    #[error("invalid runtime setting `{key}`: {reason}")]
    Invalid {
        /// The setting.
        key: &'static str,
        /// Why.
        reason: &'static str,
    },
}

/// Starts a [`Runtime`] with optional extras.
///
/// ```no_run
/// use std::sync::Arc;
/// use warden_actors::{FnSink, Runtime, RuntimeConfig, SystemClock};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let rt = Runtime::builder(RuntimeConfig::builder().data_dir("./data").build())
///     .clock(Arc::new(SystemClock))
///     .sink(FnSink::new("stdout", |ev| println!("{}", ev.to_json_line())))
///     .start()?;
/// rt.health().await?;
/// rt.shutdown().await?;
/// # Ok(()) }
/// ```
#[must_use]
pub struct RuntimeBuilder {
    cfg: RuntimeConfig,
    clock: SharedClock,
    sinks: Vec<Box<dyn AuditSink>>,
}

impl std::fmt::Debug for RuntimeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeBuilder")
            .field("cfg", &self.cfg)
            .field("sinks", &self.sinks.len())
            .finish()
    }
}

impl RuntimeBuilder {
    /// The clock every actor uses. Default: [`SystemClock`].
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// An extra audit sink, besides those the config turns on. Default: none.
    pub fn sink(mut self, sink: impl AuditSink) -> Self {
        self.sinks.push(Box::new(sink));
        self
    }

    /// An extra audit sink, already boxed.
    pub fn boxed_sink(mut self, sink: Box<dyn AuditSink>) -> Self {
        self.sinks.push(sink);
        self
    }

    /// Opens the store and starts the actors.
    pub fn start(self) -> Result<Runtime, StartError> {
        Runtime::start_inner(self)
    }
}

struct Inner {
    cfg: RuntimeConfig,
    clock: SharedClock,
    store: Arc<SledStore>,
    audit: AuditHandle,
    sessions: SessionHandle,
    tokens: TokenHandle,
    passwords: PasswordPool,
    lockout: LockoutHandle,
    ratelimit: RateLimitHandle,
    sweeper: Addr<SweeperActor>,
    arbiters: Mutex<Vec<Arbiter>>,
    stopped: AtomicBool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let arbiters = self.arbiters.get_mut().unwrap_or_else(|p| p.into_inner());
        for a in arbiters.drain(..) {
            a.stop();
        }
    }
}

/// The started actors and their store. Cheap to clone; every clone is the same runtime.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("data_dir", &self.inner.cfg.data_dir)
            .field("stopped", &self.inner.stopped.load(Ordering::Relaxed))
            .finish()
    }
}

fn check(cfg: &RuntimeConfig) -> Result<(), StartError> {
    let bad = |key, reason| Err(StartError::Invalid { key, reason });
    if cfg.mailbox_capacity == 0 {
        return bad("runtime.mailbox_capacity", "must be greater than 0");
    }
    if cfg.ask_timeout.is_zero() {
        return bad("runtime.ask_timeout_ms", "must be greater than 0");
    }
    if cfg.store.sweep_interval.is_zero() || cfg.store.flush_every.is_zero() {
        return bad(
            "store.sweep_interval_ms",
            "intervals must be greater than 0",
        );
    }
    if cfg.store.sweep_batch == 0 {
        return bad("store.sweep_batch", "must be greater than 0");
    }
    if cfg.audit.retention_interval.is_zero() || cfg.audit.sink_queue == 0 {
        return bad("audit.retention_interval_secs", "must be greater than 0");
    }
    if cfg.session.idle_timeout.is_zero() || cfg.session.absolute_timeout.is_zero() {
        return bad(
            "session.idle_timeout_secs",
            "timeouts must be greater than 0",
        );
    }
    if cfg.session.touch_interval.is_zero() {
        return bad("session.touch_interval_ms", "must be greater than 0");
    }
    if let Err(e) = cfg.lockout.validate() {
        return Err(StartError::Invalid {
            key: e.key,
            reason: e.reason,
        });
    }
    if cfg.tokens.reset_ttl.is_zero() {
        return bad("auth.reset_token_ttl_secs", "must be greater than 0");
    }
    if cfg.audit.subscriber_queue == 0 {
        return bad("audit.subscriber_queue", "must be greater than 0");
    }
    Ok(())
}

impl Runtime {
    /// A builder for a runtime with this configuration.
    pub fn builder(cfg: RuntimeConfig) -> RuntimeBuilder {
        RuntimeBuilder {
            cfg,
            clock: Arc::new(SystemClock),
            sinks: Vec::new(),
        }
    }

    /// Opens the store and starts every actor with the system clock.
    pub fn start(cfg: RuntimeConfig) -> Result<Runtime, StartError> {
        Self::builder(cfg).start()
    }

    fn start_inner(b: RuntimeBuilder) -> Result<Runtime, StartError> {
        check(&b.cfg)?;
        if System::try_current().is_none() {
            return Err(StartError::NoSystem);
        }
        let cfg = b.cfg;
        let clock = b.clock;
        let store = Arc::new(match &cfg.data_dir {
            Some(dir) => SledStore::open(dir, &cfg.store, clock.clone())?,
            None => SledStore::temporary(&cfg.store, clock.clone())?,
        });
        let dyn_store: Arc<dyn Store> = store.clone();
        let passwords = PasswordPool::start(
            cfg.passwords.params.clone(),
            cfg.passwords.threads,
            cfg.passwords.queue,
        )?;

        let mut sinks: Vec<Box<dyn AuditSink>> = Vec::new();
        if cfg.audit.tracing_sink {
            sinks.push(Box::new(TracingSink));
        }
        if let Some(path) = &cfg.audit.jsonl_path {
            let s = JsonLinesSink::open(path)
                .map_err(|e| StartError::Sink(format!("{}: {e}", path.display())))?;
            sinks.push(Box::new(s));
        }
        sinks.extend(b.sinks);
        let workers = sinks
            .into_iter()
            .map(|s| SinkWorker::spawn(s, cfg.audit.sink_queue))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StartError::Sink(e.to_string()))?;

        let shared = Arc::new(SharedCounters::default());
        let audit_actor = AuditActor::new(
            cfg.audit.clone(),
            clock.clone(),
            dyn_store.clone(),
            workers,
            shared.clone(),
        )?;
        let cap = cfg.mailbox_capacity;
        let audit_arbiter = Arbiter::new();
        // Each actor's mailbox bound is set on its own thread; wait for that before handing
        // out addresses, so no early message meets actix's default bound of 16.
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
        let tx = ready_tx.clone();
        let audit_addr = Supervisor::start_in_arbiter(&audit_arbiter.handle(), move |ctx| {
            ctx.set_mailbox_capacity(cap);
            let _ = tx.send(());
            audit_actor
        });
        let mut expected_ready = 1;
        let audit = AuditHandle::new(audit_addr, clock.clone(), cfg.ask_timeout, shared);

        let shards = cfg.session.shards.clamp(1, 64);
        let view = Arc::new(SessionView::new(shards));
        let mut arbiters = vec![audit_arbiter];
        let mut shard_addrs = Vec::with_capacity(shards);
        for index in 0..shards {
            let arbiter = Arbiter::new();
            view.shards[index]
                .alive
                .store(true, std::sync::atomic::Ordering::SeqCst);
            let shard = SessionShard {
                index,
                shards,
                policy: cfg.session.clone(),
                clock: clock.clone(),
                store: dyn_store.clone(),
                view: view.shards[index].clone(),
                _alive: AliveGuard(view.shards[index].clone()),
            };
            let tx = ready_tx.clone();
            shard_addrs.push(Supervisor::start_in_arbiter(
                &arbiter.handle(),
                move |ctx| {
                    ctx.set_mailbox_capacity(cap);
                    let _ = tx.send(());
                    shard
                },
            ));
            expected_ready += 1;
            arbiters.push(arbiter);
        }
        let sessions = SessionHandle::new(
            shard_addrs,
            view,
            cfg.session.clone(),
            clock.clone(),
            cfg.ask_timeout,
        );

        let tokens = start_tokens(
            dyn_store.clone(),
            clock.clone(),
            cfg.tokens.clone(),
            cap,
            cfg.ask_timeout,
        );

        let lockout = start_lockout(
            dyn_store.clone(),
            clock.clone(),
            cfg.lockout.clone(),
            audit.clone(),
            cap,
            cfg.ask_timeout,
        );

        let ratelimit = start_ratelimit(
            dyn_store.clone(),
            clock.clone(),
            cfg.ratelimit.clone(),
            cap,
            cfg.ask_timeout,
        );

        let sweeper_actor = SweeperActor {
            store: dyn_store,
            clock: clock.clone(),
            interval: cfg.store.sweep_interval,
            batch: cfg.store.sweep_batch,
            audit: audit.clone(),
        };
        let sweeper_arbiter = Arbiter::new();
        let tx = ready_tx;
        let sweeper = Supervisor::start_in_arbiter(&sweeper_arbiter.handle(), move |ctx| {
            ctx.set_mailbox_capacity(cap);
            let _ = tx.send(());
            sweeper_actor
        });
        expected_ready += 1;
        for _ in 0..expected_ready {
            if ready_rx.recv_timeout(Duration::from_secs(10)).is_err() {
                return Err(StartError::Invalid {
                    key: "runtime",
                    reason: "an actor did not start within 10 s",
                });
            }
        }

        Ok(Runtime {
            inner: Arc::new(Inner {
                cfg,
                clock,
                store,
                audit,
                sweeper,
                sessions,
                tokens,
                passwords,
                lockout,
                ratelimit,
                arbiters: Mutex::new({
                    arbiters.push(sweeper_arbiter);
                    arbiters
                }),
                stopped: AtomicBool::new(false),
            }),
        })
    }

    /// The audit actor.
    pub fn audit(&self) -> &AuditHandle {
        &self.inner.audit
    }

    /// The session actor.
    pub fn sessions(&self) -> &SessionHandle {
        &self.inner.sessions
    }

    /// The token actor (API and password-reset tokens).
    pub fn tokens(&self) -> &TokenHandle {
        &self.inner.tokens
    }

    /// The rate-limit actor.
    pub fn ratelimit(&self) -> &RateLimitHandle {
        &self.inner.ratelimit
    }

    /// The login lockout actor.
    pub fn lockout(&self) -> &LockoutHandle {
        &self.inner.lockout
    }

    /// The argon2id hashing pool.
    pub fn passwords(&self) -> &PasswordPool {
        &self.inner.passwords
    }

    /// The store (for actors started by later layers and for operator tools).
    pub fn store(&self) -> Arc<dyn Store> {
        self.inner.store.clone()
    }

    /// The clock every actor uses.
    pub fn clock(&self) -> SharedClock {
        self.inner.clock.clone()
    }

    /// The configuration the runtime was started with.
    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.cfg
    }

    /// The ask timeout: how long callers wait for an actor before failing closed.
    pub fn ask_timeout(&self) -> Duration {
        self.inner.cfg.ask_timeout
    }

    /// Sweeps one batch of expired records now.
    pub async fn sweep_now(&self) -> Result<usize, ActorError> {
        ask(SWEEPER, &self.inner.sweeper, SweepNow, self.ask_timeout()).await?
    }

    /// Checks that every actor and the store answer within the ask timeout. An error means
    /// protected requests must be refused (503).
    pub async fn health(&self) -> Result<(), ActorError> {
        if self.inner.stopped.load(Ordering::SeqCst) {
            return Err(ActorError::Unavailable { actor: "runtime" });
        }
        let (a, s) = futures_util::join!(
            self.inner.audit.ping(),
            ask(
                SWEEPER,
                &self.inner.sweeper,
                SweeperPing,
                self.ask_timeout()
            )
        );
        a?;
        s??;
        Ok(())
    }

    /// Graceful shutdown: sinks drain and flush, the store is flushed and closed, the actors
    /// stop. Later asks fail at once with [`ActorError::Unavailable`]. Idempotent.
    pub async fn shutdown(&self) -> Result<(), ActorError> {
        if self.inner.stopped.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        // Fold pending session touches so idle timers survive the restart.
        if let Err(e) = self.inner.sessions.fold_now().await {
            tracing::warn!(error = %e, "session touches not folded at shutdown");
        }
        let audit = self.inner.audit.shutdown().await;
        self.inner.tokens.shutdown().await;
        self.inner.lockout.shutdown().await;
        self.inner.ratelimit.shutdown().await;
        let close = self.inner.store.close();
        let arbiters: Vec<Arbiter> = self
            .inner
            .arbiters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        for a in &arbiters {
            a.stop();
        }
        for a in arbiters {
            let _ = actix_rt::task::spawn_blocking(move || a.join()).await;
        }
        audit?;
        close?;
        Ok(())
    }
}
