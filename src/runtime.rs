//! [`Warden`]: the started runtime plus its configuration, shared by every worker.

use std::sync::Arc;

use actix_web::web;

use crate::{
    actors::{session::SessionPolicy, AuditHandle, AuditSink, Runtime, SharedClock, StartError},
    Config, RequestContextMiddleware,
};

struct Inner {
    config: Config,
    runtime: Runtime,
    allowed_hosts: crate::hosts::AllowedHosts,
}

/// The warden runtime of one process: the validated [`Config`] and handles to the started
/// actors. It holds no other state.
///
/// Start it **once**, before `HttpServer::new` (whose closure runs once per worker), and clone
/// it into the app; clones are cheap and share the same actors.
///
/// ```no_run
/// use actix_web::{web, App, HttpServer};
/// use warden::{health::healthz, ConfigLoader, Warden};
///
/// #[actix_web::main]
/// async fn main() -> std::io::Result<()> {
///     let config = ConfigLoader::from_process_env().load().expect("config");
///     let bind = config.server.bind;
///     let warden = Warden::start(config).expect("start warden");
///     let w = warden.clone();
///     HttpServer::new(move || {
///         App::new()
///             .app_data(w.data())
///             .wrap(w.request_context())
///             .route("/healthz", web::get().to(healthz))
///     })
///     .bind(bind)?
///     .run()
///     .await?;
///     warden.shutdown().await;
///     Ok(())
/// }
/// ```
#[derive(Clone)]
pub struct Warden {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Warden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Warden")
            .field("profile", &self.inner.config.profile)
            .field("runtime", &self.inner.runtime)
            .finish()
    }
}

/// Starts a [`Warden`] with a custom clock or extra audit sinks.
#[must_use]
pub struct WardenBuilder {
    config: Config,
    clock: Option<SharedClock>,
    sinks: Vec<Box<dyn AuditSink>>,
}

impl std::fmt::Debug for WardenBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WardenBuilder")
            .field("sinks", &self.sinks.len())
            .finish()
    }
}

impl WardenBuilder {
    /// The clock every actor uses. Default: the system clock. Tests pass a
    /// [`ManualClock`](crate::actors::ManualClock).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// An extra audit sink (Chirp's `set_security_event_sink`). Default: none besides the
    /// sinks the config turns on.
    pub fn sink(mut self, sink: impl AuditSink) -> Self {
        self.sinks.push(Box::new(sink));
        self
    }

    /// Opens the store and starts the actors.
    ///
    /// # Errors
    ///
    /// [`StartError`] when no actix System runs, the data directory cannot be opened (for
    /// instance another process holds it), or a sink cannot be opened.
    pub fn start(self) -> Result<Warden, StartError> {
        let s = &self.config.session;
        let policy = SessionPolicy::default()
            .idle_timeout(s.idle_timeout)
            .absolute_timeout(s.absolute_timeout)
            .shards(s.shards)
            .touch_interval(s.touch_interval)
            .max_data_bytes(s.max_data_bytes);
        let mut b = Runtime::builder(self.config.runtime.clone().with_session(policy));
        if let Some(c) = self.clock {
            b = b.clock(c);
        }
        for s in self.sinks {
            b = b.boxed_sink(s);
        }
        let allowed_hosts = crate::hosts::AllowedHosts::parse(&self.config.server.allowed_hosts)
            .map_err(|_| StartError::Invalid {
                key: "server.allowed_hosts",
                reason: "not a valid host pattern",
            })?;
        let runtime = b.start()?;
        Ok(Warden {
            inner: Arc::new(Inner {
                config: self.config,
                runtime,
                allowed_hosts,
            }),
        })
    }
}

impl Warden {
    /// A builder for a runtime with this configuration.
    pub fn builder(config: Config) -> WardenBuilder {
        WardenBuilder {
            config,
            clock: None,
            sinks: Vec::new(),
        }
    }

    /// Starts the runtime with the system clock and the sinks the config turns on.
    ///
    /// # Errors
    ///
    /// See [`WardenBuilder::start`].
    pub fn start(config: Config) -> Result<Warden, StartError> {
        Self::builder(config).start()
    }

    /// The validated configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The actor runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }

    /// The audit actor's handle.
    pub fn audit(&self) -> &AuditHandle {
        self.inner.runtime.audit()
    }

    /// This handle as app data, for handlers such as [`healthz`](crate::health::healthz).
    pub fn data(&self) -> web::Data<Warden> {
        web::Data::new(self.clone())
    }

    /// The request-context middleware (client IP through the trusted proxies, request id),
    /// configured from `[proxy]`.
    pub fn request_context(&self) -> RequestContextMiddleware {
        let p = &self.inner.config.proxy;
        RequestContextMiddleware::new(p.client_ip_resolver())
            .request_id_header(&p.request_id_header)
            .trust_request_id(p.trust_request_id)
    }

    /// The session middleware configured from `[session]` and `[secrets]`.
    pub fn session_middleware(&self) -> crate::session::SessionMiddleware {
        crate::session::SessionMiddleware::new(self)
    }

    /// The whole middleware stack in the right order, for one `.wrap()` (see
    /// [`WardenStack`](crate::stack::WardenStack)). Call it inside the `HttpServer::new` closure.
    pub fn stack(&self, users: crate::auth::SharedUserStore) -> crate::stack::WardenStack {
        crate::stack::WardenStack::new(self, users)
    }

    /// The allowed hosts of `server.allowed_hosts`, parsed once at start.
    pub fn allowed_hosts(&self) -> &crate::hosts::AllowedHosts {
        &self.inner.allowed_hosts
    }

    /// The auth-endpoint rate limiter (`[auth_rate_limit]`), keyed on the client IP resolved
    /// through the trusted proxies.
    pub fn auth_rate_limit(&self) -> crate::ratelimit::AuthRateLimitMiddleware {
        crate::ratelimit::AuthRateLimitMiddleware::new(
            self.runtime().ratelimit().clone(),
            self.config().auth_rate_limit.clone(),
            self.config().proxy.client_ip_resolver(),
            self.audit().clone(),
        )
    }

    /// The login lockout helper for login handlers (used by
    /// [`Accounts::authenticate`](crate::auth::Accounts::authenticate)).
    pub fn login_lockout(&self) -> crate::lockout::LoginLockout {
        crate::lockout::LoginLockout::with_config(
            self.runtime().lockout().clone(),
            self.config().lockout.login_lockout_config(),
        )
    }

    /// The CSRF middleware configured from `[csrf]`, `[server]` and `[secrets]`.
    pub fn csrf_middleware(&self) -> crate::csrf::CsrfMiddleware {
        crate::csrf::CsrfMiddleware::new(self)
    }

    /// Graceful shutdown: sinks drain, the store is flushed and closed. Errors are logged.
    pub async fn shutdown(&self) {
        if let Err(e) = self.inner.runtime.shutdown().await {
            tracing::error!(error = %e, "warden shutdown was not clean");
        }
    }
}
