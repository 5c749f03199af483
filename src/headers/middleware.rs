//! [`SecurityHeadersMiddleware`]: the browser security headers on every response.

use std::{net::IpAddr, rc::Rc};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    http::header::{self, HeaderMap, HeaderName, HeaderValue},
    HttpMessage,
};
use futures_util::future::{ready, LocalBoxFuture, Ready};

use super::{CspNonce, SecurityHeadersConfig};
use crate::{ClientIpResolver, Error, ForwardedHeader, Warden};

#[derive(Debug, Clone)]
struct Shared {
    config: SecurityHeadersConfig,
    proxies: Option<ClientIpResolver>,
}

/// Writes the browser security headers of a [`SecurityHeadersConfig`] on **every** response:
/// handler responses, errors returned by handlers, extractors and inner middleware (401, 403,
/// 429, 500, 503...), and actix-web's own 404 and 405.
///
/// Install it **outermost** (the last `.wrap()`), so nothing can answer around it. An error
/// that an inner middleware returns as `Err` keeps its type (downcasting still works); the
/// headers are added to the response it becomes, through
/// [`add_response_mapper`](actix_web::Error::add_response_mapper). Only what fails before the
/// app is called (malformed HTTP rejected by the server itself) is out of its reach.
///
/// - A header the handler already set is kept, unless
///   [`override_handler_headers`](super::SecurityHeadersConfigBuilder::override_handler_headers).
/// - `Strict-Transport-Security` goes only on requests that arrived over HTTPS: over a TLS
///   listener of this server (`req.app_config().secure()`), or, when the socket peer is a
///   trusted proxy, per that proxy's `X-Forwarded-Proto` (or `Forwarded: proto=`, whichever
///   family [`ForwardedHeader`] names). Without a trusted peer the header is ignored, and
///   actix-web's `connection_info().scheme()`, which believes any client, is never used. Or
///   always, with [`force_hsts`](super::SecurityHeadersConfigBuilder::force_hsts).
/// - With a nonce policy, a fresh [`CspNonce`] is drawn per request, stored in the request
///   extensions and written into the CSP. If the OS random source fails, the request is
///   refused with 500 rather than served with a guessable nonce.
///
/// ```
/// use actix_web::{test, web, App, HttpResponse};
/// use warden::headers::{SecurityHeadersConfig, SecurityHeadersMiddleware};
///
/// # actix_web::rt::System::new().block_on(async {
/// let app = test::init_service(
///     App::new()
///         .route("/", web::get().to(HttpResponse::Ok))
///         .wrap(SecurityHeadersMiddleware::new(SecurityHeadersConfig::default())),
/// )
/// .await;
/// let res = test::call_service(&app, test::TestRequest::get().uri("/missing").to_request()).await;
/// assert_eq!(res.status(), 404);
/// assert_eq!(res.headers().get("x-frame-options").unwrap(), "DENY");
/// assert!(res.headers().get("strict-transport-security").is_none()); // plain HTTP
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct SecurityHeadersMiddleware {
    shared: Rc<Shared>,
}

impl SecurityHeadersMiddleware {
    /// The headers of `config`; HTTPS is recognised from the socket only (no proxy trusted).
    pub fn new(config: SecurityHeadersConfig) -> Self {
        Self {
            shared: Rc::new(Shared {
                config,
                proxies: None,
            }),
        }
    }

    /// The `[headers]` configuration of `warden` (`config.headers.middleware`), believing the HTTPS claims of the proxies of
    /// `warden`'s `[proxy]` configuration.
    pub fn for_warden(warden: &Warden) -> Self {
        Self::new(warden.config().headers.middleware.clone())
            .trust_proxies(warden.config().proxy.client_ip_resolver())
    }

    /// Believe `X-Forwarded-Proto: https` (or `Forwarded: proto=https`) from the trusted
    /// proxies of `resolver`.
    #[must_use]
    pub fn trust_proxies(mut self, resolver: ClientIpResolver) -> Self {
        Rc::make_mut(&mut self.shared).proxies = Some(resolver);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &SecurityHeadersConfig {
        &self.shared.config
    }
}

/// Whether a trusted proxy says the client connected over HTTPS.
///
/// Only when `peer` is one of `resolver`'s trusted proxies. With
/// [`ForwardedHeader::XForwardedFor`] the last value of `X-Forwarded-Proto` is read, with
/// [`ForwardedHeader::Forwarded`] the `proto` of the last `Forwarded` element: both are what
/// the nearest proxy wrote (a proxy that does not write the other family may pass a client's
/// copy through, so it is never read).
///
/// ```
/// use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
/// use warden::{headers::forwarded_https, ClientIpResolver, ForwardedHeader, TrustedProxies};
///
/// let resolver = ClientIpResolver::new(
///     TrustedProxies::parse(["10.0.0.0/8"]).unwrap(),
///     ForwardedHeader::XForwardedFor,
/// );
/// let mut headers = HeaderMap::new();
/// headers.insert(HeaderName::from_static("x-forwarded-proto"), HeaderValue::from_static("https"));
/// assert!(forwarded_https(&resolver, Some("10.0.0.1".parse().unwrap()), &headers));
/// assert!(!forwarded_https(&resolver, Some("198.51.100.7".parse().unwrap()), &headers));
/// ```
pub fn forwarded_https(
    resolver: &ClientIpResolver,
    peer: Option<IpAddr>,
    headers: &HeaderMap,
) -> bool {
    if !peer.is_some_and(|p| resolver.proxies().contains(p)) {
        return false;
    }
    let last = |name: &str| {
        let line = headers.get_all(name).last()?.to_str().ok()?;
        line.rsplit(',').next().map(str::trim)
    };
    let https = |v: &str| v.trim_matches('"').eq_ignore_ascii_case("https");
    match resolver.header() {
        ForwardedHeader::XForwardedFor => last("x-forwarded-proto").is_some_and(https),
        ForwardedHeader::Forwarded => last("forwarded").is_some_and(|element| {
            element.split(';').any(|pair| {
                pair.split_once('=')
                    .is_some_and(|(k, v)| k.trim().eq_ignore_ascii_case("proto") && https(v.trim()))
            })
        }),
    }
}

impl Shared {
    fn is_https(&self, req: &ServiceRequest) -> bool {
        self.config.force_hsts
            || req.app_config().secure()
            || self
                .proxies
                .as_ref()
                .is_some_and(|r| forwarded_https(r, req.peer_addr().map(|a| a.ip()), req.headers()))
    }

    fn apply(&self, headers: &mut HeaderMap, https: bool, nonce: Option<&CspNonce>) {
        let c = &self.config;
        let keep = !c.override_handler_headers;
        let mut set = |name: &HeaderName, value: &dyn Fn() -> Option<HeaderValue>| {
            if keep && headers.contains_key(name) {
                return;
            }
            if let Some(v) = value() {
                headers.insert(name.clone(), v);
            }
        };
        for (name, value) in &c.fixed {
            set(name, &|| Some(value.clone()));
        }
        if let Some(n) = nonce {
            for policy in &c.nonced {
                set(&policy.header_name(), &|| {
                    HeaderValue::try_from(policy.render(n.as_str())).ok()
                });
            }
        }
        if https {
            if let Some(v) = &c.hsts_value {
                set(&header::STRICT_TRANSPORT_SECURITY, &|| Some(v.clone()));
            }
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for SecurityHeadersMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = InnerSecurityHeadersMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(InnerSecurityHeadersMiddleware {
            service,
            shared: self.shared.clone(),
        }))
    }
}

/// The service [`SecurityHeadersMiddleware`] wraps around the app.
#[doc(hidden)]
#[allow(missing_debug_implementations)]
pub struct InnerSecurityHeadersMiddleware<S> {
    service: S,
    shared: Rc<Shared>,
}

impl<S, B> Service<ServiceRequest> for InnerSecurityHeadersMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let shared = self.shared.clone();
        let https = shared.is_https(&req);
        let nonce = if shared.config.uses_nonce() {
            match CspNonce::generate() {
                Ok(n) => {
                    req.extensions_mut().insert(n.clone());
                    Some(n)
                }
                Err(e) => {
                    let err = Error::Internal(format!("no CSP nonce: OS random source: {e}"));
                    let mut res = req.error_response(err);
                    shared.apply(res.headers_mut(), https, None);
                    return Box::pin(ready(Ok(res.map_into_right_body())));
                }
            }
        } else {
            None
        };
        let fut = self.service.call(req);
        Box::pin(async move {
            match fut.await {
                Ok(mut res) => {
                    shared.apply(res.headers_mut(), https, nonce.as_ref());
                    Ok(res.map_into_left_body())
                }
                Err(mut err) => {
                    err.add_response_mapper(move |mut res| {
                        shared.apply(res.headers_mut(), https, nonce.as_ref());
                        res
                    });
                    Err(err)
                }
            }
        })
    }
}
