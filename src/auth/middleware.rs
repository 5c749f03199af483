//! [`AuthMiddleware`]: resolves the current user from a bearer token or the session.

use std::rc::Rc;

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    http::header,
    HttpMessage,
};
use futures_util::future::{ready, LocalBoxFuture, Ready};

use super::{
    identity::{AuthContext, AuthMethod, AuthShared},
    AuthConfig, SharedUserStore,
};
use crate::{
    actors::{session::SessionHandle, tokens::TokenHandle, AuditHandle},
    audit::service_event,
    session::Session,
    Error, Warden,
};

/// How often at most one `auth.token.invalid` event is recorded per name (the rest are
/// counted in the next event's `suppressed`).
const INVALID_TOKEN_WINDOW: std::time::Duration = std::time::Duration::from_secs(1);

struct Shared {
    users: SharedUserStore,
    sessions: SessionHandle,
    tokens: TokenHandle,
    audit: AuditHandle,
    cfg: AuthConfig,
    ctx: Rc<AuthShared>,
}

/// Resolves the current user and makes it available to [`CurrentUser`](super::CurrentUser),
/// [`MaybeUser`](super::MaybeUser), [`LoginRequired`](super::LoginRequired) and
/// [`Requires`](super::Requires).
///
/// - A request with `Authorization: Bearer <token>` is authenticated by the token alone; an
///   invalid token is a 401 (`auth.token.invalid`), never a silent fallback to the session.
/// - Otherwise the session's user, if the session's recorded `session_version` is the user's
///   current one; an older version (a password change or reset happened since) makes the
///   session anonymous, destroys it and records `auth.session.version_mismatch`.
///
/// Needs [`SessionMiddleware`](crate::session::SessionMiddleware) outside it (in actix-web:
/// `.wrap(auth)` before `.wrap(session)`); without it every request is refused with a 500 and
/// one clear log line.
pub struct AuthMiddleware {
    shared: Rc<Shared>,
}

impl std::fmt::Debug for AuthMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthMiddleware")
            .field("config", &self.shared.cfg)
            .finish()
    }
}

impl AuthMiddleware {
    /// Authentication against `users`, with the `[auth]` settings of `warden`'s configuration.
    pub fn new(warden: &Warden, users: SharedUserStore) -> Self {
        let a = &warden.config().auth;
        let cfg = AuthConfig::default()
            .login_url(a.login_url.clone())
            .bearer_header(a.bearer_header.clone())
            .bearer_scheme(a.bearer_scheme.clone());
        Self::with_config(warden, users, cfg)
    }

    /// Authentication with explicit settings.
    pub fn with_config(warden: &Warden, users: SharedUserStore, cfg: AuthConfig) -> Self {
        let audit = warden.audit().clone();
        Self {
            shared: Rc::new(Shared {
                users,
                sessions: warden.runtime().sessions().clone(),
                tokens: warden.runtime().tokens().clone(),
                ctx: Rc::new(AuthShared {
                    login_url: cfg.login_url.clone(),
                    audit: audit.clone(),
                }),
                audit,
                cfg,
            }),
        }
    }
}

impl Shared {
    /// The bearer credential, if the request attempts bearer authentication: `Some(token)`
    /// (possibly empty or garbled) when the header is present and its scheme is the bearer
    /// scheme, or the header is not valid text. A present-but-unusable bearer header is an
    /// invalid token, never a fallback to the session.
    fn bearer(&self, req: &ServiceRequest) -> Option<String> {
        let raw = req.headers().get(&self.cfg.bearer_header)?;
        let Ok(v) = raw.to_str() else {
            return Some(String::new());
        };
        let v = v.trim();
        let (scheme, token) = match v.find([' ', '\t']) {
            Some(i) => (&v[..i], v[i..].trim()),
            None => (v, ""),
        };
        scheme
            .eq_ignore_ascii_case(&self.cfg.bearer_scheme)
            .then(|| token.to_owned())
    }

    async fn resolve(&self, req: &ServiceRequest) -> Result<AuthContext, Error> {
        let mut ctx = AuthContext {
            user: None,
            method: None,
            shared: self.ctx.clone(),
        };
        if let Some(token) = self.bearer(req) {
            let info = self.tokens.lookup_api_token(&token).await?;
            let user = match info {
                Some(info) => self
                    .users
                    .find_by_id(&info.user_id)
                    .await
                    .map_err(|e| Error::Backend(e.to_string()))?,
                None => None,
            };
            return match user {
                Some(u) => {
                    ctx.user = Some(u.into());
                    ctx.method = Some(AuthMethod::Bearer);
                    Ok(ctx)
                }
                None => {
                    let ev = service_event(req, "auth.token.invalid")
                        .detail("scheme", self.cfg.bearer_scheme.as_str());
                    self.audit.emit_throttled(ev, INVALID_TOKEN_WINDOW);
                    Err(Error::InvalidToken)
                }
            };
        }
        let session =
            req.extensions()
                .get::<Session>()
                .cloned()
                .ok_or(Error::MissingMiddleware {
                    missing: "SessionMiddleware",
                    required_by: "AuthMiddleware",
                })?;
        let Some(entry) = session.entry() else {
            return Ok(ctx);
        };
        let Some(user_id) = entry.record().user_id.clone() else {
            return Ok(ctx);
        };
        let current = self.sessions.user_version(&user_id).await?;
        let stored = entry.record().session_version.unwrap_or(0);
        if stored < current {
            session.purge();
            self.audit.emit(
                service_event(req, "auth.session.version_mismatch")
                    .user_id(&user_id)
                    .detail("stored", stored.to_string())
                    .detail("expected", current.to_string()),
            );
            return Ok(ctx);
        }
        match self
            .users
            .find_by_id(&user_id)
            .await
            .map_err(|e| Error::Backend(e.to_string()))?
        {
            Some(u) => {
                ctx.user = Some(u.into());
                ctx.method = Some(AuthMethod::Session);
            }
            // The account is gone: its sessions must not keep working.
            None => session.purge(),
        }
        Ok(ctx)
    }
}

impl<S, B> Transform<S, ServiceRequest> for AuthMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = InnerAuthMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(InnerAuthMiddleware {
            service: Rc::new(service),
            shared: self.shared.clone(),
        }))
    }
}

/// The service [`AuthMiddleware`] wraps around the app.
#[doc(hidden)]
#[allow(missing_debug_implementations)]
pub struct InnerAuthMiddleware<S> {
    service: Rc<S>,
    shared: Rc<Shared>,
}

impl<S, B> Service<ServiceRequest> for InnerAuthMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        let shared = self.shared.clone();
        Box::pin(async move {
            let ctx = match shared.resolve(&req).await {
                Ok(c) => c,
                Err(e) => {
                    let mut res = req.error_response(e);
                    res.headers_mut().insert(
                        header::CACHE_CONTROL,
                        header::HeaderValue::from_static("no-store"),
                    );
                    return Ok(res.map_into_right_body());
                }
            };
            req.extensions_mut().insert(ctx);
            Ok(service.call(req).await?.map_into_left_body())
        })
    }
}
