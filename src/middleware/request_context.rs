//! The per-request context: request id, client IP and socket peer.

use std::{fmt, future::Ready, net::IpAddr, rc::Rc};

use actix_web::{
    body::MessageBody,
    dev::{forward_ready, Payload, Service, ServiceRequest, ServiceResponse, Transform},
    error::InternalError,
    http::header::{HeaderName, HeaderValue, InvalidHeaderName},
    FromRequest, HttpMessage, HttpRequest,
};
use futures_util::future::LocalBoxFuture;

use crate::{ClientIpResolver, Error, RequestId};

/// What warden knows about a request before any handler runs.
///
/// Inserted into the request extensions by [`RequestContextMiddleware`]; read it with the
/// extractor (`ctx: RequestContext` as a handler argument) or with [`RequestContextExt`].
///
/// ```
/// use actix_web::{get, HttpResponse};
/// use warden::RequestContext;
///
/// #[get("/whoami")]
/// async fn whoami(ctx: RequestContext) -> HttpResponse {
///     HttpResponse::Ok().body(format!("{:?} ({})", ctx.client_ip, ctx.request_id))
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestContext {
    /// The request id, echoed in the response header and carried by audit events.
    pub request_id: RequestId,
    /// The client address resolved through the trusted proxies (`None` without a socket peer).
    pub client_ip: Option<IpAddr>,
    /// The socket peer address (`None` without a socket peer, e.g. some test requests).
    pub peer_ip: Option<IpAddr>,
}

impl RequestContext {
    /// A context with the given values (for tests and custom middleware stacks).
    pub fn new(request_id: RequestId, client_ip: Option<IpAddr>, peer_ip: Option<IpAddr>) -> Self {
        Self {
            request_id,
            client_ip,
            peer_ip,
        }
    }
}

impl FromRequest for RequestContext {
    type Error = Error;
    type Future = Ready<Result<Self, Self::Error>>;

    /// Fails with a 500 (and one clear log line per process) when [`RequestContextMiddleware`]
    /// is not installed.
    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(req.request_context().ok_or(Error::MissingMiddleware {
            missing: "RequestContextMiddleware",
            required_by: "the RequestContext extractor",
        }))
    }
}

/// Reads the [`RequestContext`] of a request, if [`RequestContextMiddleware`] inserted one.
///
/// ```
/// use actix_web::HttpRequest;
/// use warden::RequestContextExt;
///
/// fn client(req: &HttpRequest) -> Option<std::net::IpAddr> {
///     req.request_context().and_then(|ctx| ctx.client_ip)
/// }
/// ```
pub trait RequestContextExt {
    /// A copy of the request's context, or `None` without the middleware.
    fn request_context(&self) -> Option<RequestContext>;
}

impl RequestContextExt for HttpRequest {
    fn request_context(&self) -> Option<RequestContext> {
        self.extensions().get::<RequestContext>().cloned()
    }
}

impl RequestContextExt for ServiceRequest {
    fn request_context(&self) -> Option<RequestContext> {
        self.extensions().get::<RequestContext>().cloned()
    }
}

/// The default response (and trusted request) header carrying the request id.
pub const DEFAULT_REQUEST_ID_HEADER: &str = "x-request-id";

#[derive(Debug, Clone)]
struct Config {
    resolver: ClientIpResolver,
    header: HeaderName,
    trust_request_id: bool,
}

/// Middleware that builds the [`RequestContext`] of every request and echoes its request id.
///
/// - `client_ip` is resolved by the [`ClientIpResolver`] (the socket peer unless it is a trusted
///   proxy); `peer_ip` is the socket peer. IPv4-mapped IPv6 addresses become IPv4.
/// - The request id is taken from the request's id header only when the socket peer is a trusted
///   proxy and the value is a valid [`RequestId`]; otherwise a fresh one is generated.
/// - Every response, errors included, carries the id in the same header.
///
/// Install it outermost (the last `.wrap()`), so that everything inside can read the context.
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use warden::{ClientIpResolver, ForwardedHeader, RequestContextMiddleware, TrustedProxies};
///
/// let resolver = ClientIpResolver::new(
///     TrustedProxies::parse(["10.0.0.0/8"]).unwrap(),
///     ForwardedHeader::XForwardedFor,
/// );
/// let app = App::new()
///     .route("/", web::get().to(HttpResponse::Ok))
///     .wrap(RequestContextMiddleware::new(resolver).request_id_header("x-correlation-id"));
/// ```
#[derive(Debug, Clone)]
pub struct RequestContextMiddleware {
    config: Config,
}

impl RequestContextMiddleware {
    /// Middleware resolving client addresses with `resolver`, using the `x-request-id` header and
    /// trusting request ids from trusted proxies.
    pub fn new(resolver: ClientIpResolver) -> Self {
        Self {
            config: Config {
                resolver,
                header: HeaderName::from_static(DEFAULT_REQUEST_ID_HEADER),
                trust_request_id: true,
            },
        }
    }

    /// Use the header `name` for request ids, or fail if it is not a valid header name.
    pub fn try_request_id_header(mut self, name: &str) -> Result<Self, InvalidHeaderName> {
        self.config.header = HeaderName::from_bytes(name.as_bytes())?;
        Ok(self)
    }

    /// Use the header `name` for request ids (default `x-request-id`).
    ///
    /// # Panics
    ///
    /// At setup, if `name` is not a valid header name; see
    /// [`try_request_id_header`](Self::try_request_id_header) for a fallible version.
    pub fn request_id_header(self, name: &str) -> Self {
        match self.try_request_id_header(name) {
            Ok(this) => this,
            Err(_) => panic!("invalid request id header name: {name:?}"),
        }
    }

    /// Whether to keep a valid request id sent by a trusted proxy (default `true`). When `false`,
    /// every request gets a generated id.
    pub fn trust_request_id(mut self, trust: bool) -> Self {
        self.config.trust_request_id = trust;
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for RequestContextMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = InnerRequestContextMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(InnerRequestContextMiddleware {
            service,
            config: Rc::new(self.config.clone()),
        }))
    }
}

/// The service produced by [`RequestContextMiddleware`].
#[doc(hidden)]
pub struct InnerRequestContextMiddleware<S> {
    service: S,
    config: Rc<Config>,
}

impl<S> fmt::Debug for InnerRequestContextMiddleware<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InnerRequestContextMiddleware")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for InnerRequestContextMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let config = &*self.config;
        let existing = req.request_context();
        let ctx = match existing {
            // Installed twice: the outer instance already decided.
            Some(ctx) => ctx,
            None => {
                let ctx = build_context(config, &req);
                req.extensions_mut().insert(ctx.clone());
                ctx
            }
        };
        let header = config.header.clone();
        let value = HeaderValue::from_str(ctx.request_id.as_str()).ok();
        let fut = self.service.call(req);
        Box::pin(async move {
            match fut.await {
                Ok(mut res) => {
                    if let Some(value) = value {
                        res.headers_mut().insert(header, value);
                    }
                    Ok(res)
                }
                // An error that is not a response yet: build its response now, with the id, and
                // pass it on as an error whose response is that one.
                Err(err) => {
                    let mut res = err.error_response();
                    if let Some(value) = value {
                        res.headers_mut().insert(header, value);
                    }
                    Err(InternalError::from_response(err, res).into())
                }
            }
        })
    }
}

fn build_context(config: &Config, req: &ServiceRequest) -> RequestContext {
    let peer_ip = req.peer_addr().map(|addr| addr.ip().to_canonical());
    let client_ip = peer_ip.map(|peer| config.resolver.resolve(peer, req.headers()));
    let from_trusted = peer_ip.is_some_and(|peer| config.resolver.proxies().contains(peer));
    let request_id = if config.trust_request_id && from_trusted {
        req.headers()
            .get(&config.header)
            .and_then(|value| value.to_str().ok())
            .and_then(RequestId::parse)
    } else {
        None
    }
    .unwrap_or_else(RequestId::generate);
    RequestContext {
        request_id,
        client_ip,
        peer_ip,
    }
}
