//! [`SessionMiddleware`]: loads the session before the handler, persists its changes after.

use std::{cell::RefCell, rc::Rc, time::Duration};

use actix_web::{
    body::{EitherBody, MessageBody},
    cookie::{time::Duration as CookieDuration, Cookie, SameSite as CookieSameSite},
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    http::header::{self, HeaderValue},
    HttpMessage, ResponseError,
};
use futures_util::future::{ready, LocalBoxFuture, Ready};

use super::{
    state::{Session, SessionInner},
    CookieSigner,
};
use crate::{
    actors::{
        session::{ApplyOutcome, Lookup, RotateOutcome, SessionHandle, SessionToken},
        AuditHandle,
    },
    audit::service_event,
    config::{SameSite, SessionSettings},
    Error, Warden,
};

/// How often at most one `session.cookie.invalid` event is recorded (the rest are counted).
const INVALID_COOKIE_WINDOW: Duration = Duration::from_secs(10);

struct Shared {
    sessions: SessionHandle,
    audit: AuditHandle,
    signer: CookieSigner,
    settings: SessionSettings,
}

/// Server-side sessions for actix-web.
///
/// For each request: verifies the signed cookie, looks the session up in the session actor's
/// read view (no message on the hot path), enforces the idle and absolute timeouts, and makes
/// it available through the [`Session`] extractor. After the handler it persists the changes
/// (never for a 5xx response), rotates the token if asked, destroys the session on purge, adds
/// `Vary: Cookie` when the session was read, and sends `Set-Cookie` only when needed.
///
/// Fails closed: when the session actor does not answer, requests that carry a session cookie
/// (or that change the session) are refused with 503.
///
/// Events: `session.created`, `session.rotated`, `session.revoked`, `session.expired.idle`,
/// `session.expired.absolute`, `session.cookie.invalid` (throttled: one per 10 s, with a
/// count of the suppressed ones).
///
/// ```no_run
/// use actix_web::{web, App, HttpResponse};
/// use warden::session::{Session, SessionMiddleware};
/// # fn app(warden: warden::Warden) {
/// let app = App::new()
///     .wrap(SessionMiddleware::new(&warden))
///     .route("/", web::get().to(|s: Session| async move {
///         let n: u32 = s.get("n")?.unwrap_or(0);
///         s.insert("n", n + 1)?;
///         Ok::<_, warden::Error>(HttpResponse::Ok().body(format!("{n}")))
///     }));
/// # }
/// ```
#[derive(Clone)]
pub struct SessionMiddleware {
    shared: Rc<Shared>,
}

impl std::fmt::Debug for SessionMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionMiddleware")
            .field("cookie_name", &self.shared.settings.cookie_name)
            .finish()
    }
}

impl SessionMiddleware {
    /// Sessions with the settings of `warden`'s configuration (`[session]`, `[secrets]`).
    pub fn new(warden: &Warden) -> Self {
        Self {
            shared: Rc::new(Shared {
                sessions: warden.runtime().sessions().clone(),
                audit: warden.audit().clone(),
                signer: CookieSigner::new(&warden.config().secrets),
                settings: warden.config().session.clone(),
            }),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for SessionMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = InnerSessionMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(InnerSessionMiddleware {
            service: Rc::new(service),
            shared: self.shared.clone(),
        }))
    }
}

/// The service [`SessionMiddleware`] wraps around the app.
#[doc(hidden)]
#[allow(missing_debug_implementations)]
pub struct InnerSessionMiddleware<S> {
    service: Rc<S>,
    shared: Rc<Shared>,
}

/// What the middleware must do to the cookie when the response goes out.
enum CookieAction {
    None,
    Set(SessionToken),
    Remove,
}

impl Shared {
    fn cookie(&self, value: String) -> Cookie<'static> {
        let s = &self.settings;
        let mut c = Cookie::build(s.cookie_name.clone(), value)
            .path(s.path.clone())
            .secure(s.secure)
            .http_only(s.http_only)
            .same_site(match s.same_site {
                SameSite::Strict => CookieSameSite::Strict,
                SameSite::Lax => CookieSameSite::Lax,
                SameSite::None => CookieSameSite::None,
            });
        if let Some(d) = &s.domain {
            c = c.domain(d.clone());
        }
        if s.persistent {
            let secs = i64::try_from(s.absolute_timeout.as_secs()).unwrap_or(i64::MAX);
            c = c.max_age(CookieDuration::seconds(secs));
        }
        c.finish()
    }

    fn removal(&self) -> Cookie<'static> {
        let mut c = self.cookie(String::new());
        c.make_removal();
        c
    }

    /// Loads the session named by the request's cookie.
    async fn load(&self, req: &ServiceRequest) -> Result<(SessionInner, CookieAction), Error> {
        let mut inner = SessionInner::default();
        let name = &self.settings.cookie_name;
        // Only the session cookie's value leaves the parsed jar (no copy of every cookie on the
        // hot path); the jar is not held across the lookup below.
        let (value, duplicate) = {
            let Ok(cookies) = req.cookies() else {
                return Ok((inner, CookieAction::None));
            };
            let mut values = cookies
                .iter()
                .filter(|c| c.name() == name)
                .map(|c| c.value());
            match values.next() {
                None => return Ok((inner, CookieAction::None)),
                Some(first) => (first.to_owned(), values.any(|v| v != first)),
            }
        };
        let value = value.as_str();
        // Two different session cookies (a planted one beside the real one): ambiguous, so
        // no session at all, deterministically.
        if duplicate {
            let ev = service_event(req, "session.cookie.invalid").detail("reason", "duplicate");
            self.audit.emit_throttled(ev, INVALID_COOKIE_WINDOW);
            return Ok((inner, CookieAction::Remove));
        }
        let verified = match self.signer.verify(value) {
            Ok(v) => v,
            Err(e) => {
                let ev = service_event(req, "session.cookie.invalid").detail("reason", e.reason());
                self.audit.emit_throttled(ev, INVALID_COOKIE_WINDOW);
                return Ok((inner, CookieAction::Remove));
            }
        };
        match self.sessions.lookup(&verified.token).await? {
            Lookup::Active(entry) => {
                let action = if verified.needs_resign {
                    CookieAction::Set(verified.token.clone())
                } else {
                    CookieAction::None
                };
                inner.entry = Some(entry);
                inner.token = Some(verified.token);
                Ok((inner, action))
            }
            Lookup::Expired(reason) => {
                let ev = service_event(req, reason.event_name())
                    .detail("session", verified.token.id().short());
                self.audit.emit(ev);
                Ok((inner, CookieAction::Remove))
            }
            Lookup::VersionMismatch {
                user_id,
                stored,
                current,
            } => {
                self.audit.emit(
                    service_event(req, "auth.session.version_mismatch")
                        .user_id(&user_id)
                        .detail("session", verified.token.id().short())
                        .detail("stored", stored.to_string())
                        .detail("expected", current.to_string()),
                );
                Ok((inner, CookieAction::Remove))
            }
            // Revoked, swept, or from another deployment: no session, and clear the cookie.
            _ => Ok((inner, CookieAction::Remove)),
        }
    }

    /// Persists what the handler did; returns what to do with the cookie.
    async fn persist(
        &self,
        req: &actix_web::HttpRequest,
        state: SessionInner,
        mut action: CookieAction,
    ) -> Result<CookieAction, Error> {
        let event = |name: &str| crate::audit::request_event(req, name);
        let id = state.token.as_ref().map(SessionToken::id);
        let user = state
            .entry
            .as_ref()
            .and_then(|e| e.record().user_id.clone());
        if state.purge {
            if let Some(id) = id {
                self.sessions.destroy(id).await?;
                let mut ev = event("session.revoked")
                    .detail("session", id.short())
                    .detail("reason", "purge");
                if let Some(u) = &user {
                    ev = ev.user_id(u);
                }
                self.audit.emit(ev);
            }
            return Ok(CookieAction::Remove);
        }
        match id {
            None if state.changes.is_empty() => {}
            // Changes that leave an empty, anonymous record (a clear, a remove) cost nothing.
            None if {
                let mut scratch = crate::actors::session::SessionRecord::new(0);
                scratch.apply(&state.changes, 0);
                scratch.data.is_empty() && scratch.user_id.is_none()
            } => {}
            None => {
                let (token, entry) = self.sessions.create(&state.changes).await?;
                let mut ev = event("session.created").detail("session", token.id().short());
                if let Some(u) = &entry.record().user_id {
                    ev = ev.user_id(u);
                }
                self.audit.emit(ev);
                action = CookieAction::Set(token);
            }
            Some(id) if state.renew => match self.sessions.rotate(id, &state.changes).await? {
                RotateOutcome::Rotated(token, entry) => {
                    let mut ev = event("session.rotated")
                        .detail("from", id.short())
                        .detail("session", token.id().short());
                    if let Some(u) = &entry.record().user_id {
                        ev = ev.user_id(u);
                    }
                    self.audit.emit(ev);
                    action = CookieAction::Set(token);
                }
                RotateOutcome::TooLarge => {
                    return Err(Error::Internal(
                        "session data exceeds session.max_data_bytes".into(),
                    ))
                }
                _ => action = CookieAction::Remove,
            },
            Some(_) if state.changes.is_empty() => {}
            Some(id) => match self.sessions.apply(id, state.changes).await? {
                ApplyOutcome::Applied(_) => {}
                ApplyOutcome::Gone => action = CookieAction::Remove,
                ApplyOutcome::TooLarge => {
                    return Err(Error::Internal(
                        "session data exceeds session.max_data_bytes".into(),
                    ))
                }
                _ => {}
            },
        }
        Ok(action)
    }
}

impl<S, B> Service<ServiceRequest> for InnerSessionMiddleware<S>
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
            let (inner, action) = match shared.load(&req).await {
                Ok(v) => v,
                Err(e) => return Ok(req.error_response(e).map_into_right_body()),
            };
            let session = Session(Rc::new(RefCell::new(inner)));
            req.extensions_mut().insert(session.clone());
            let mut res = service.call(req).await?;
            // The handler's request may still hold clones; take the state out.
            let state = std::mem::take(&mut *session.0.borrow_mut());
            res.request().extensions_mut().remove::<Session>();
            let accessed = state.accessed;
            let action = if res.status().is_server_error() {
                // Changes of a failed request are not persisted (the cookie is left alone).
                CookieAction::None
            } else {
                match shared.persist(res.request(), state, action).await {
                    Ok(a) => a,
                    Err(e) => {
                        let http = res.request().clone();
                        let mut r = e.error_response();
                        r.headers_mut()
                            .append(header::VARY, HeaderValue::from_static("Cookie"));
                        return Ok(ServiceResponse::new(http, r).map_into_right_body());
                    }
                }
            };
            let headers = res.headers_mut();
            if accessed || !matches!(action, CookieAction::None) {
                headers.append(header::VARY, HeaderValue::from_static("Cookie"));
            }
            let cookie = match action {
                CookieAction::None => None,
                CookieAction::Set(token) => Some(shared.cookie(shared.signer.sign(&token))),
                CookieAction::Remove => Some(shared.removal()),
            };
            if let Some(c) = cookie {
                if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
                    headers.append(header::SET_COOKIE, v);
                }
                if !headers.contains_key(header::CACHE_CONTROL) {
                    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                }
            }
            Ok(res.map_into_left_body())
        })
    }
}
