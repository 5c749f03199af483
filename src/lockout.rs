//! [`LoginLockout`]: the lockout actor for login handlers, keyed on the request's client
//! address.
//!
//! The flow of a login handler (the `Accounts` flows do this for you once lockout is wired
//! into them):
//!
//! 1. `let gate = lockout.check(&req, login).await?;` before anything else;
//! 2. if `gate.is_locked()`: verify the password against the dummy hash anyway (same time as
//!    a real check), record the failure, and answer **exactly** as for a wrong password, or
//!    with `gate.refusal()` (a 429 with `Retry-After`) if the configuration says so;
//! 3. otherwise verify; on failure `lockout.record_failure(&req, login).await?`, on success
//!    `lockout.record_success(&req, login).await?`.
//!
//! Every actor error is a 503 (fail closed): a login is never checked without the lockout.
//!
//! ```no_run
//! use actix_web::{web, HttpRequest, HttpResponse};
//! use serde::Deserialize;
//! use warden::{auth::Accounts, lockout::LoginLockout, Error};
//!
//! #[derive(Deserialize)]
//! struct LoginForm {
//!     username: String,
//!     password: String,
//! }
//!
//! fn invalid() -> HttpResponse {
//!     HttpResponse::Unauthorized().body("Invalid username or password.")
//! }
//!
//! async fn login(
//!     req: HttpRequest,
//!     form: web::Form<LoginForm>,
//!     accounts: web::Data<Accounts>,
//!     lockout: web::Data<LoginLockout>,
//!     warden: web::Data<warden::Warden>,
//! ) -> Result<HttpResponse, Error> {
//!     let gate = lockout.check(&req, &form.username).await?;
//!     if gate.is_locked() {
//!         let _ = warden.runtime().passwords().verify_dummy(&form.password).await;
//!         lockout.record_failure(&req, &form.username).await?;
//!         return match gate.refusal() {
//!             Some(too_many) => Err(too_many),
//!             None => Ok(invalid()),
//!         };
//!     }
//!     match accounts.authenticate(&req, &form.username, &form.password).await? {
//!         Some(_user) => {
//!             lockout.record_success(&req, &form.username).await?;
//!             Ok(HttpResponse::SeeOther().insert_header(("location", "/")).finish())
//!         }
//!         None => {
//!             lockout.record_failure(&req, &form.username).await?;
//!             Ok(invalid())
//!         }
//!     }
//! }
//! ```

use std::{
    fmt,
    net::{IpAddr, Ipv6Addr},
    str::FromStr,
    time::Duration,
};

use actix_web::HttpRequest;
use serde::Deserialize;

pub use crate::actors::lockout::{
    normalize_login, start_lockout, AccountStatus, LockoutHandle, LockoutPolicy, Scope, Status,
};
use crate::{audit::request_event, client_ip::network_key, Error, RequestContextExt};

/// How a login handler answers while an attempt is locked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[non_exhaustive]
pub enum LockedResponse {
    /// The same generic 401 as a wrong password: nothing reveals the lock (nor, therefore,
    /// that the name was tried before). TOML: `"generic_401"`. The default.
    #[default]
    #[serde(rename = "generic_401")]
    Generic401,
    /// `429 Too Many Requests` with `Retry-After` (whole seconds until the lock ends). Tells
    /// the client it is locked, not whether the account exists. TOML: `"too_many_requests"`.
    #[serde(rename = "too_many_requests")]
    TooManyRequests,
}

impl LockedResponse {
    /// The configuration spelling: `generic_401` or `too_many_requests`.
    pub fn as_str(self) -> &'static str {
        match self {
            LockedResponse::Generic401 => "generic_401",
            LockedResponse::TooManyRequests => "too_many_requests",
        }
    }
}

impl fmt::Display for LockedResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value that is neither `generic_401` nor `too_many_requests`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`lockout.locked_response` must be \"generic_401\" or \"too_many_requests\"")]
pub struct InvalidLockedResponse;

impl FromStr for LockedResponse {
    type Err = InvalidLockedResponse;

    /// `generic_401` (or `401`) and `too_many_requests` (or `429`), case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "generic_401" | "401" => Ok(LockedResponse::Generic401),
            "too_many_requests" | "429" => Ok(LockedResponse::TooManyRequests),
            _ => Err(InvalidLockedResponse),
        }
    }
}

/// HTTP-side lockout settings (the counters' settings are the actor's
/// [`LockoutPolicy`]).
///
/// ```
/// use warden::lockout::{LockedResponse, LoginLockoutConfig};
///
/// let c = LoginLockoutConfig::default();
/// assert_eq!(c.locked_response, LockedResponse::Generic401);
/// let c = c.locked_response("too_many_requests".parse().unwrap());
/// assert_eq!(c.locked_response, LockedResponse::TooManyRequests);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoginLockoutConfig {
    /// How a locked attempt is answered. Default: [`LockedResponse::Generic401`].
    pub locked_response: LockedResponse,
}

impl LoginLockoutConfig {
    /// Sets [`LoginLockoutConfig::locked_response`].
    #[must_use]
    pub fn locked_response(mut self, r: LockedResponse) -> Self {
        self.locked_response = r;
        self
    }
}

/// The answer of [`LoginLockout::check`].
#[derive(Debug, Clone)]
pub struct LoginGate {
    status: Status,
    response: LockedResponse,
}

impl LoginGate {
    /// Whether the password must not be checked (verify a dummy hash instead, record the
    /// failure, and answer as for a wrong password or with [`LoginGate::refusal`]).
    pub fn is_locked(&self) -> bool {
        self.status.locked
    }

    /// How long until the lock ends (`None` when not locked).
    pub fn retry_after(&self) -> Option<Duration> {
        self.status.retry_after
    }

    /// The lockout state behind the decision (server-side only: never tell the client).
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// The error to answer a locked attempt with when the configuration says
    /// [`LockedResponse::TooManyRequests`]: a 429 with `Retry-After`. `None` when not locked,
    /// or when the handler must answer exactly as for a wrong password (the default).
    pub fn refusal(&self) -> Option<Error> {
        match (self.status.locked, self.response) {
            (true, LockedResponse::TooManyRequests) => Some(Error::TooManyRequests {
                retry_after: self.status.retry_after.unwrap_or(Duration::from_secs(1)),
            }),
            _ => None,
        }
    }
}

/// The lockout actor, for login handlers: counters keyed on the login name and the request's
/// client address. Cheap to clone; share one per process (as `web::Data`).
#[derive(Debug, Clone)]
pub struct LoginLockout {
    handle: LockoutHandle,
    config: LoginLockoutConfig,
}

/// The address a login attempt is counted under: the client IP resolved through the trusted
/// proxies by [`RequestContextMiddleware`](crate::RequestContextMiddleware), else the socket
/// peer, collapsed with [`network_key`]. Requests without either (a Unix socket, some test
/// requests) share one bucket, `::`.
pub fn attempt_network(req: &HttpRequest) -> IpAddr {
    let ip = req
        .request_context()
        .and_then(|c| c.client_ip)
        .or_else(|| req.peer_addr().map(|p| p.ip()))
        .unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    network_key(ip)
}

impl LoginLockout {
    /// Over a started lockout actor, with the default configuration.
    pub fn new(handle: LockoutHandle) -> Self {
        Self::with_config(handle, LoginLockoutConfig::default())
    }

    /// Over a started lockout actor, with `config`.
    pub fn with_config(handle: LockoutHandle, config: LoginLockoutConfig) -> Self {
        Self { handle, config }
    }

    /// The actor's handle (admin calls: `unlock`, `status`, `unlock_ip`).
    pub fn handle(&self) -> &LockoutHandle {
        &self.handle
    }

    /// The HTTP-side settings.
    pub fn config(&self) -> &LoginLockoutConfig {
        &self.config
    }

    /// Whether `login` may check a password from this request's address now. 503 if the
    /// actor does not answer.
    pub async fn check(&self, req: &HttpRequest, login: &str) -> Result<LoginGate, Error> {
        let status = self.handle.check(login, attempt_network(req)).await?;
        Ok(LoginGate {
            status,
            response: self.config.locked_response,
        })
    }

    /// Counts a failed (or locked) login of `login` from this request's address; durable
    /// before it returns. Does not record `auth.login.failure` (the login flow does); records
    /// `auth.lockout.locked`, with the request's context, for every lock it imposes.
    pub async fn record_failure(&self, req: &HttpRequest, login: &str) -> Result<Status, Error> {
        self.record_failure_as(req, login, None).await
    }

    /// [`LoginLockout::record_failure`], naming the user (when the login name belongs to one)
    /// in the `auth.lockout.locked` events.
    pub async fn record_failure_as(
        &self,
        req: &HttpRequest,
        login: &str,
        user_id: Option<&str>,
    ) -> Result<Status, Error> {
        let mut context = request_event(req, "auth.lockout.locked");
        if let Some(u) = user_id {
            context = context.user_id(u);
        }
        Ok(self
            .handle
            .record_failure_with(login, attempt_network(req), Some(context))
            .await?)
    }

    /// A successful login of `login` from this request's address: clears the account's and
    /// this pair's counters (never the address's). Returns the account failures it cleared.
    pub async fn record_success(&self, req: &HttpRequest, login: &str) -> Result<u64, Error> {
        Ok(self
            .handle
            .record_success(login, attempt_network(req))
            .await?)
    }
}
