//! [`AuthRateLimitMiddleware`]: GCRA per client network on the authentication endpoints.

use std::{net::IpAddr, rc::Rc, sync::Arc};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    http::header::{HeaderMap, HeaderName, HeaderValue},
};
use futures_util::future::{ready, LocalBoxFuture, Ready};

use super::config::{AuthRateLimitConfig, CompiledPolicy};
use crate::{
    actors::{
        ratelimit::{Decision, RateLimitHandle},
        AuditHandle,
    },
    audit::service_event,
    client_ip::network_key,
    ClientIpResolver, Error, RequestContextExt,
};

/// The IETF draft's `RateLimit-Policy` header.
pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// The IETF draft's `RateLimit` header.
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// The key of requests without any client address (some test requests): one shared budget.
const UNKNOWN_CLIENT: &str = "unknown";

struct Shared {
    limits: RateLimitHandle,
    config: AuthRateLimitConfig,
    resolver: ClientIpResolver,
    audit: AuditHandle,
}

/// Rate limiting for authentication endpoints (Chirp's `AuthRateLimitMiddleware`, fixed).
///
/// For each request whose method and path the [`AuthRateLimitConfig`] limits:
///
/// - the key is the client's network: the client IP of the
///   [`RequestContext`](crate::RequestContext) (resolved through the trusted proxies; without
///   [`RequestContextMiddleware`](crate::RequestContextMiddleware), the `resolver` given here
///   resolves it from the socket peer), IPv6 collapsed to its /64
///   ([`network_key`]); a spoofed `X-Forwarded-For` from an untrusted peer changes nothing;
/// - the rate-limit actor decides (GCRA, atomic per key); a refusal is a `429` with
///   `Retry-After` (whole seconds, rounded up, at least 1), `RateLimit-Policy` and `RateLimit`
///   (`"auth";r=0;t=<Retry-After>`), `Cache-Control: no-store` and a generic body; allowed
///   responses carry `RateLimit-Policy` and `RateLimit` (`r` = requests left now, `t` =
///   seconds until one more is available) unless
///   [`headers_on_allowed`](super::AuthRateLimitConfigBuilder::headers_on_allowed) is off;
/// - the first refusal of a key in a policy period records a `ratelimit.blocked` event
///   (details: `policy`, `key`, `retry_after_secs`); later ones are only counted
///   ([`RateLimitHandle::stats`]), so an attacker cannot flood the log;
/// - fail closed: when the actor does not answer in time or is down, the request is refused
///   with `503`, never passed through.
///
/// Other requests pass through untouched. Install it outside the session middleware and
/// inside [`RequestContextMiddleware`](crate::RequestContextMiddleware) (`.wrap()` it before).
///
/// ```no_run
/// use actix_web::{web, App, HttpResponse};
/// use warden::ratelimit::{AuthRateLimitConfig, AuthRateLimitMiddleware};
/// # fn app(warden: warden::Warden, limits: warden::actors::ratelimit::RateLimitHandle) {
/// let app = App::new()
///     .wrap(AuthRateLimitMiddleware::new(
///         limits,
///         AuthRateLimitConfig::default(),
///         warden.config().proxy.client_ip_resolver(),
///         warden.audit().clone(),
///     ))
///     .wrap(warden.request_context())
///     .route("/login", web::post().to(HttpResponse::Ok));
/// # }
/// ```
#[derive(Clone)]
pub struct AuthRateLimitMiddleware {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for AuthRateLimitMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRateLimitMiddleware")
            .field("config", &self.shared.config)
            .finish()
    }
}

impl AuthRateLimitMiddleware {
    /// Limits requests per `config` through the rate-limit actor behind `limits`; `resolver`
    /// finds the client when no [`RequestContext`](crate::RequestContext) is present; events go
    /// to `audit`.
    pub fn new(
        limits: RateLimitHandle,
        config: AuthRateLimitConfig,
        resolver: ClientIpResolver,
        audit: AuditHandle,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                limits,
                config,
                resolver,
                audit,
            }),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &AuthRateLimitConfig {
        &self.shared.config
    }
}

impl<S, B> Transform<S, ServiceRequest> for AuthRateLimitMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = InnerAuthRateLimitMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(InnerAuthRateLimitMiddleware {
            service: Rc::new(service),
            shared: self.shared.clone(),
        }))
    }
}

/// The service [`AuthRateLimitMiddleware`] wraps around the app.
#[doc(hidden)]
#[allow(missing_debug_implementations)]
pub struct InnerAuthRateLimitMiddleware<S> {
    service: Rc<S>,
    shared: Arc<Shared>,
}

/// The rate-limit key of a client address: IPv4 as is, IPv6 as its /64.
fn client_key(ip: Option<IpAddr>) -> String {
    match ip.map(network_key) {
        Some(IpAddr::V6(net)) => format!("{net}/64"),
        Some(v4) => v4.to_string(),
        None => UNKNOWN_CLIENT.to_owned(),
    }
}

/// Adds the draft's two fields for `policy` with `r` units left and `t` seconds to wait.
fn add_headers(headers: &mut HeaderMap, policy: &CompiledPolicy, r: u32, t: u64) {
    let value = format!("\"{}\";r={r};t={t}", policy.policy.name);
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.append(RATELIMIT_POLICY, policy.header.clone());
        headers.append(RATELIMIT, v);
    }
}

impl<S, B> Service<ServiceRequest> for InnerAuthRateLimitMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let Some(policy) = self
            .shared
            .config
            .compiled_for(req.method(), req.uri().path())
            .cloned()
        else {
            let fut = self.service.call(req);
            return Box::pin(async move { Ok(fut.await?.map_into_left_body()) });
        };
        let service = self.service.clone();
        let shared = self.shared.clone();
        Box::pin(async move {
            let ip = req
                .request_context()
                .and_then(|ctx| ctx.client_ip)
                .or_else(|| shared.resolver.resolve_request(req.request()));
            let key = client_key(ip);
            match shared.limits.check(&policy.policy, &key).await {
                Err(e) => Ok(req.error_response(Error::from(e)).map_into_right_body()),
                Ok(Decision::Deny {
                    retry_after,
                    first_in_window,
                    ..
                }) => {
                    let secs = Error::retry_after_secs(retry_after);
                    if first_in_window {
                        let ev = service_event(&req, "ratelimit.blocked")
                            .detail("policy", policy.policy.name.as_str())
                            .detail("key", key)
                            .detail("retry_after_secs", secs);
                        shared.audit.emit(ev);
                    }
                    let mut res = req.error_response(Error::TooManyRequests { retry_after });
                    add_headers(res.headers_mut(), &policy, 0, secs);
                    Ok(res.map_into_right_body())
                }
                Ok(Decision::Allow {
                    remaining,
                    next_after,
                    ..
                }) => {
                    let mut res = service.call(req).await?;
                    if shared.config.headers_on_allowed() {
                        let t = Error::retry_after_secs(next_after);
                        add_headers(res.headers_mut(), &policy, remaining, t);
                    }
                    Ok(res.map_into_left_body())
                }
            }
        })
    }
}
