//! [`WardenStack`]: the whole warden middleware stack, in the right order, in one `.wrap()`.

use std::rc::Rc;

use actix_service::{boxed, boxed::BoxService, ServiceExt};
use actix_web::{
    body::{BoxBody, MessageBody},
    dev::{Service, ServiceRequest, ServiceResponse, Transform},
};
use futures_util::future::LocalBoxFuture;

use crate::{
    auth::{AuthMiddleware, SharedUserStore},
    csrf::CsrfMiddleware,
    headers::SecurityHeadersMiddleware,
    hosts::AllowedHostsMiddleware,
    ratelimit::AuthRateLimitMiddleware,
    session::SessionMiddleware,
    RequestContextMiddleware, Warden,
};

struct Parts {
    headers: SecurityHeadersMiddleware,
    context: RequestContextMiddleware,
    hosts: AllowedHostsMiddleware,
    ratelimit: AuthRateLimitMiddleware,
    session: SessionMiddleware,
    auth: AuthMiddleware,
    csrf: CsrfMiddleware,
}

/// Every warden middleware, composed in the one order that is right, so it cannot be gotten
/// wrong (in actix-web the last `.wrap()` runs first, which makes hand-made stacks easy to
/// invert). Outermost first:
///
/// 1. [`SecurityHeadersMiddleware`]: headers on every response, errors included;
/// 2. [`RequestContextMiddleware`]: client IP through the trusted proxies, request id;
/// 3. [`AllowedHostsMiddleware`]: 400 for a foreign `Host`;
/// 4. [`AuthRateLimitMiddleware`]: 429 on the auth endpoints;
/// 5. [`SessionMiddleware`]; 6. [`AuthMiddleware`]; 7. [`CsrfMiddleware`].
///
/// Build it inside the `HttpServer::new` closure (it is per worker); the actors behind it are
/// the ones started once by [`Warden::start`].
///
/// ```no_run
/// use actix_web::{web, App, HttpResponse, HttpServer};
/// use warden::{auth::SharedUserStore, ConfigLoader, Warden};
///
/// # async fn run(users: SharedUserStore) -> std::io::Result<()> {
/// let warden = Warden::start(ConfigLoader::from_process_env().load().unwrap()).unwrap();
/// let w = warden.clone();
/// HttpServer::new(move || {
///     App::new()
///         .app_data(w.data())
///         .wrap(w.stack(users.clone()))
///         .route("/", web::get().to(HttpResponse::Ok))
/// })
/// .bind("127.0.0.1:8080")?
/// .run()
/// .await
/// # }
/// ```
pub struct WardenStack {
    parts: Rc<Parts>,
}

impl std::fmt::Debug for WardenStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WardenStack(headers, request context, allowed hosts, auth rate limit, session, auth, csrf)")
    }
}

impl WardenStack {
    /// The stack configured from `warden`'s configuration, authenticating against `users`.
    pub fn new(warden: &Warden, users: SharedUserStore) -> Self {
        Self {
            parts: Rc::new(Parts {
                headers: SecurityHeadersMiddleware::for_warden(warden),
                context: warden.request_context(),
                hosts: AllowedHostsMiddleware::new(
                    warden.allowed_hosts().clone(),
                    warden.audit().clone(),
                ),
                ratelimit: warden.auth_rate_limit(),
                session: SessionMiddleware::new(warden),
                auth: AuthMiddleware::new(warden, users),
                csrf: CsrfMiddleware::new(warden),
            }),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for WardenStack
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Transform = BoxService<ServiceRequest, ServiceResponse<BoxBody>, actix_web::Error>;
    type InitError = ();
    type Future = LocalBoxFuture<'static, Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let p = self.parts.clone();
        Box::pin(async move {
            // Innermost first.
            let s = p.csrf.new_transform(service).await?;
            let s = p.auth.new_transform(s).await?;
            let s = p.session.new_transform(s).await?;
            let s = p.ratelimit.new_transform(s).await?;
            let s = p.hosts.new_transform(s).await?;
            let s = p.context.new_transform(s).await?;
            let s = p.headers.new_transform(s).await?;
            Ok(boxed::service(s.map(|res| res.map_into_boxed_body())))
        })
    }
}
