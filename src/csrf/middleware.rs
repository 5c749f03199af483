//! [`CsrfMiddleware`]: refuses forged unsafe requests.

use std::{cell::RefCell, rc::Rc};

use actix_web::{
    body::{EitherBody, MessageBody},
    cookie::{Cookie, SameSite},
    dev::{forward_ready, Payload, Service, ServiceRequest, ServiceResponse, Transform},
    http::{
        header::{self, HeaderValue},
        Method, StatusCode,
    },
    web::{Bytes, BytesMut},
    HttpMessage, HttpResponse,
};
use futures_util::{
    future::{ready, LocalBoxFuture, Ready},
    StreamExt,
};

use super::{
    body::{content_kind, form_field, multipart_field, BodyKind},
    origin::{check_origin, normalize_origin, OriginPolicy, OriginVerdict},
    path::is_exempt,
    state::{CsrfInner, CsrfState},
    token::{verify, CsrfSecret, PresessionSigner},
};
use crate::{
    actors::AuditHandle, audit::service_event, config::CsrfSettings, session::Session, Error,
    Warden,
};

pub(crate) struct Shared {
    pub(crate) settings: CsrfSettings,
    pub(crate) origin: OriginPolicy,
    pub(crate) presession: PresessionSigner,
    pub(crate) audit: AuditHandle,
    pub(crate) cookie_secure: bool,
    /// The header that carries bearer tokens (`[auth] bearer_header`) and its scheme.
    pub(crate) bearer_header: String,
    pub(crate) bearer_scheme: String,
}

/// Cross-site request forgery protection.
///
/// Every method but GET, HEAD and OPTIONS is checked; TRACE is refused (405). A checked request
/// passes when, in order:
///
/// 1. its path is exempt (`csrf.exempt_paths`, matched after normalisation), or it carries a
///    bearer token and no cookies (`csrf.bearer_exempt`);
/// 2. its Fetch Metadata and `Origin` (or, over HTTPS without `Origin`, `Referer`) are
///    consistent with the configured origin: `Sec-Fetch-Site: cross-site` is refused unless
///    `Origin` is a trusted origin, `same-site` unless `csrf.trust_same_site`, `Origin: null`
///    always (`csrf.reject.origin`);
/// 3. it carries a valid masked token in the `X-CSRF-Token` header or the `csrf_token` form
///    field (URL-encoded or multipart bodies up to `csrf.body_limit`, handed on intact to the
///    handler; larger bodies get 413): the session's secret when a session exists, else the
///    secret of the signed pre-session cookie `__Host-csrf` (login CSRF without any server
///    record). Missing → `csrf.reject.missing`, wrong → `csrf.reject.invalid`.
///
/// Refusals are a 403 with a generic body. `X-HTTP-Method-Override` and the like are never
/// consulted: the request's real method decides. Mount it inside
/// [`SessionMiddleware`](crate::session::SessionMiddleware) (in actix-web: `.wrap(csrf)` before
/// `.wrap(session)`); without a session middleware every request is refused with a 500.
pub struct CsrfMiddleware {
    shared: Rc<Shared>,
}

impl std::fmt::Debug for CsrfMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsrfMiddleware")
            .field("enabled", &self.shared.settings.enabled)
            .finish()
    }
}

impl CsrfMiddleware {
    /// CSRF protection configured from `warden`'s `[csrf]`, `[server]` and `[secrets]`.
    pub fn new(warden: &Warden) -> Self {
        let cfg = warden.config();
        // Compared with browsers' `Origin` serialisation (no default port, lowercase).
        let own = normalize_origin(&cfg.server.origin).unwrap_or_else(|| cfg.server.origin.clone());
        Self {
            shared: Rc::new(Shared {
                settings: cfg.csrf.clone(),
                origin: OriginPolicy {
                    trusted_origins: cfg.csrf.trusted_origins.clone(),
                    trust_same_site: cfg.csrf.trust_same_site,
                    ..OriginPolicy::new(own)
                },
                presession: PresessionSigner::from_secrets(&cfg.secrets),
                audit: warden.audit().clone(),
                cookie_secure: cfg.session.secure,
                bearer_header: cfg.auth.bearer_header.clone(),
                bearer_scheme: cfg.auth.bearer_scheme.clone(),
            }),
        }
    }
}

fn reject(status: StatusCode) -> HttpResponse {
    let body = status.canonical_reason().unwrap_or("Forbidden");
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

impl Shared {
    /// The secret the request's token must match: the session's, else the pre-session
    /// cookie's.
    fn expected(&self, req: &ServiceRequest, session: &Session) -> Option<CsrfSecret> {
        if session.exists() {
            return session.csrf_secret().and_then(|s| CsrfSecret::from_b64(&s));
        }
        let cookie = req.cookie(&self.settings.cookie_name)?;
        self.presession.open(cookie.value())
    }

    /// Reads a form body (up to the limit) to find the token, and puts the body back.
    async fn token_from_body(
        &self,
        req: &mut ServiceRequest,
    ) -> Result<Option<String>, StatusCode> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let kind = content_kind(ct.as_deref());
        if matches!(kind, BodyKind::Other) {
            return Ok(None);
        }
        let limit = self.settings.body_limit;
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(StatusCode::PAYLOAD_TOO_LARGE);
        }
        let mut payload = req.take_payload();
        let mut buf = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| StatusCode::BAD_REQUEST)?;
            if buf.len() + chunk.len() > limit {
                return Err(StatusCode::PAYLOAD_TOO_LARGE);
            }
            buf.extend_from_slice(&chunk);
        }
        let body: Bytes = buf.freeze();
        let field = &self.settings.field_name;
        let token = match kind {
            BodyKind::UrlEncoded => form_field(&body, field),
            BodyKind::Multipart => multipart_field(&body, ct.as_deref().unwrap_or(""), field),
            BodyKind::Other => None,
        };
        req.set_payload(Payload::from(body));
        Ok(token)
    }

    /// `Ok(())` when the request may proceed; else the refusal.
    async fn check(&self, req: &mut ServiceRequest, session: &Session) -> Result<(), HttpResponse> {
        let s = &self.settings;
        if is_exempt(req.path(), &s.exempt_paths) {
            tracing::debug!(path = req.path(), "csrf: exempt path");
            return Ok(());
        }
        // A request authenticated only by a bearer token (no cookies at all) is not something
        // a browser can be tricked into sending.
        let has_cookies = req.headers().contains_key(header::COOKIE);
        let bearer = req
            .headers()
            .get(self.bearer_header.as_str())
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once([' ', '\t']))
            .is_some_and(|(scheme, token)| {
                scheme.eq_ignore_ascii_case(&self.bearer_scheme) && !token.trim().is_empty()
            });
        if s.bearer_exempt && bearer && !has_cookies {
            return Ok(());
        }
        if let OriginVerdict::Reject(reason) = check_origin(req.headers(), &self.origin) {
            self.audit
                .emit(service_event(req, "csrf.reject.origin").detail("reason", reason));
            return Err(reject(StatusCode::FORBIDDEN));
        }
        let header_token = req
            .headers()
            .get(s.header_name.as_str())
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let token = match header_token {
            Some(t) => Some(t),
            None => match self.token_from_body(req).await {
                Ok(t) => t,
                Err(status) => {
                    self.audit
                        .emit(service_event(req, "csrf.reject.missing").detail(
                            "reason",
                            if status == StatusCode::PAYLOAD_TOO_LARGE {
                                "body_too_large"
                            } else {
                                "body_unreadable"
                            },
                        ));
                    return Err(reject(status));
                }
            },
        };
        let Some(token) = token else {
            self.audit
                .emit(service_event(req, "csrf.reject.missing").detail("reason", "token_missing"));
            return Err(reject(StatusCode::FORBIDDEN));
        };
        let Some(expected) = self.expected(req, session) else {
            self.audit
                .emit(service_event(req, "csrf.reject.missing").detail("reason", "no_secret"));
            return Err(reject(StatusCode::FORBIDDEN));
        };
        if !verify(&token, &expected) {
            self.audit
                .emit(service_event(req, "csrf.reject.invalid").detail("reason", "token_mismatch"));
            return Err(reject(StatusCode::FORBIDDEN));
        }
        Ok(())
    }

    fn presession_cookie(&self, value: String) -> Cookie<'static> {
        Cookie::build(self.settings.cookie_name.clone(), value)
            .path("/")
            .secure(self.cookie_secure)
            .http_only(true)
            .same_site(SameSite::Strict)
            .finish()
    }
}

impl<S, B> Transform<S, ServiceRequest> for CsrfMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = InnerCsrfMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(InnerCsrfMiddleware {
            service: Rc::new(service),
            shared: self.shared.clone(),
        }))
    }
}

/// The service [`CsrfMiddleware`] wraps around the app.
#[doc(hidden)]
#[allow(missing_debug_implementations)]
pub struct InnerCsrfMiddleware<S> {
    service: Rc<S>,
    shared: Rc<Shared>,
}

impl<S, B> Service<ServiceRequest> for InnerCsrfMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        let shared = self.shared.clone();
        Box::pin(async move {
            if req.method() == Method::TRACE {
                return Ok(req
                    .into_response(reject(StatusCode::METHOD_NOT_ALLOWED))
                    .map_into_right_body());
            }
            let Some(session) = req.extensions().get::<Session>().cloned() else {
                let e = Error::MissingMiddleware {
                    missing: "SessionMiddleware",
                    required_by: "CsrfMiddleware",
                };
                return Ok(req.error_response(e).map_into_right_body());
            };
            let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
            if !safe && shared.settings.enabled {
                if let Err(res) = shared.check(&mut req, &session).await {
                    return Ok(req.into_response(res).map_into_right_body());
                }
            }
            let state = CsrfState(Rc::new(RefCell::new(CsrfInner {
                shared: shared.clone(),
                session,
                secret: None,
                set_cookie: None,
            })));
            req.extensions_mut().insert(state.clone());
            let had_presession = req.cookie(&shared.settings.cookie_name).is_some();
            let mut res = service.call(req).await?;
            state.after_handler(had_presession);
            let set = state.0.borrow_mut().set_cookie.take();
            if let Some(value) = set {
                let c = shared.presession_cookie(value);
                if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
                    res.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            Ok(res.map_into_left_body())
        })
    }
}
