//! Route checks as middleware: [`LoginRequired`] and [`Requires`] (permissions and policies).

use std::{rc::Rc, sync::Arc};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    HttpRequest,
};
use futures_util::future::{ready, LocalBoxFuture, Ready};

use super::{
    identity::{auth_context, login_required},
    User,
};
use crate::{audit::request_event, Error};

/// An object-level check: given the user and the request, may the user proceed? May be async
/// (load the object, compare its owner).
pub type PolicyFn = Rc<dyn Fn(Arc<User>, HttpRequest) -> LocalBoxFuture<'static, bool>>;

#[derive(Clone)]
struct Rule {
    login_only: bool,
    permissions: Vec<String>,
    policy: Option<(String, PolicyFn)>,
}

impl Rule {
    /// `Ok(())` to proceed, else the refusal.
    async fn check(&self, req: &HttpRequest) -> Result<(), Error> {
        let ctx = auth_context(req)?;
        let Some(user) = ctx.user.clone() else {
            return Err(login_required(req, &ctx));
        };
        if self.login_only {
            return Ok(());
        }
        let missing = user.missing(&self.permissions);
        if !missing.is_empty() {
            ctx.shared.audit.emit(
                request_event(req, "authz.permission.denied")
                    .user_id(&user.id)
                    .detail("missing", missing),
            );
            return Err(Error::Forbidden);
        }
        if let Some((name, policy)) = &self.policy {
            if !policy(user.clone(), req.clone()).await {
                ctx.shared.audit.emit(
                    request_event(req, "authz.policy.denied")
                        .user_id(&user.id)
                        .detail("policy", name.as_str()),
                );
                return Err(Error::Forbidden);
            }
        }
        Ok(())
    }
}

/// Refuses anonymous requests: browsers get a 303 to the login URL with `next`, API clients a
/// 401 JSON. Wrap a scope or resource with it. Needs [`AuthMiddleware`](super::AuthMiddleware)
/// outside it.
///
/// ```no_run
/// use actix_web::{web, App, HttpResponse};
/// use warden::auth::LoginRequired;
///
/// let app = App::new().service(
///     web::scope("/account").wrap(LoginRequired).route("", web::get().to(HttpResponse::Ok)),
/// );
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct LoginRequired;

/// Requires permissions and optionally an object-level policy. Every refusal is the same 403
/// body, whichever check failed; the audit event says which (`authz.permission.denied` with the
/// missing permissions, `authz.policy.denied` with the policy name).
///
/// ```no_run
/// use actix_web::{web, App, HttpResponse};
/// use warden::auth::Requires;
///
/// let admin = web::scope("/admin")
///     .wrap(Requires::new(["admin"]))
///     .route("", web::get().to(HttpResponse::Ok));
/// let notes = web::resource("/notes/{id}")
///     .wrap(Requires::login().policy("note_owner", |user, req| async move {
///         let id = req.match_info().get("id").unwrap_or_default().to_owned();
///         // load the note and compare its owner with user.id
///         id == "1" && user.login == "alice"
///     }))
///     .route(web::get().to(HttpResponse::Ok));
/// ```
#[derive(Clone)]
pub struct Requires(Rule);

impl std::fmt::Debug for Requires {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Requires")
            .field("permissions", &self.0.permissions)
            .field("policy", &self.0.policy.as_ref().map(|p| &p.0))
            .finish()
    }
}

impl Requires {
    /// Requires every one of `permissions`.
    pub fn new<I, S>(permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Requires(Rule {
            login_only: false,
            permissions: permissions.into_iter().map(Into::into).collect(),
            policy: None,
        })
    }

    /// Requires only a logged-in user (add a [`Requires::policy`]).
    pub fn login() -> Self {
        Self::new(Vec::<String>::new())
    }

    /// Adds an object-level policy named `name` (the name goes into the audit event, never to
    /// the client).
    #[must_use]
    pub fn policy<F, Fut>(mut self, name: impl Into<String>, f: F) -> Self
    where
        F: Fn(Arc<User>, HttpRequest) -> Fut + 'static,
        Fut: std::future::Future<Output = bool> + 'static,
    {
        let f: PolicyFn = Rc::new(move |u, r| Box::pin(f(u, r)));
        self.0.policy = Some((name.into(), f));
        self
    }

    /// Runs the check for a request by hand (inside a handler): `Ok(())` or the refusal.
    pub async fn check(&self, req: &HttpRequest) -> Result<(), Error> {
        self.0.check(req).await
    }
}

/// The service [`LoginRequired`] and [`Requires`] wrap around routes.
#[doc(hidden)]
#[allow(missing_debug_implementations)]
pub struct InnerGuard<S> {
    service: Rc<S>,
    rule: Rc<Rule>,
}

fn transform<S>(service: S, rule: Rule) -> Ready<Result<InnerGuard<S>, ()>> {
    ready(Ok(InnerGuard {
        service: Rc::new(service),
        rule: Rc::new(rule),
    }))
}

impl<S, B> Transform<S, ServiceRequest> for LoginRequired
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = InnerGuard<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        transform(
            service,
            Rule {
                login_only: true,
                permissions: Vec::new(),
                policy: None,
            },
        )
    }
}

impl<S, B> Transform<S, ServiceRequest> for Requires
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = InnerGuard<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        transform(service, self.0.clone())
    }
}

impl<S, B> Service<ServiceRequest> for InnerGuard<S>
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
        let rule = self.rule.clone();
        Box::pin(async move {
            if let Err(e) = rule.check(req.request()).await {
                return Ok(req.error_response(e).map_into_right_body());
            }
            Ok(service.call(req).await?.map_into_left_body())
        })
    }
}
