//! Audit events with their request context.

use actix_web::dev::ServiceRequest;
use actix_web::HttpRequest;

use crate::{actors::SecurityEvent, RequestContextExt};

/// An event named `name` carrying the request's id, method, path (no query string) and client
/// IP (resolved through the trusted proxies when [`RequestContextMiddleware`] runs, else the
/// socket peer).
///
/// [`RequestContextMiddleware`]: crate::RequestContextMiddleware
///
/// ```
/// use actix_web::test::TestRequest;
///
/// let req = TestRequest::post().uri("/login?next=/x").to_http_request();
/// let ev = warden::audit::request_event(&req, "auth.login.failure");
/// assert_eq!(ev.path.as_deref(), Some("/login"));
/// assert_eq!(ev.method.as_deref(), Some("POST"));
/// ```
pub fn request_event(req: &HttpRequest, name: &str) -> SecurityEvent {
    let mut ev = SecurityEvent::new(name)
        .method(req.method().as_str())
        .path(req.path());
    match req.request_context() {
        Some(ctx) => {
            ev = ev.request_id(ctx.request_id.as_str());
            if let Some(ip) = ctx.client_ip {
                ev = ev.client_ip(ip);
            }
        }
        None => {
            if let Some(peer) = req.peer_addr() {
                ev = ev.client_ip(peer.ip());
            }
        }
    }
    ev
}

/// [`request_event`] for a [`ServiceRequest`] (inside middleware).
pub fn service_event(req: &ServiceRequest, name: &str) -> SecurityEvent {
    request_event(req.request(), name)
}
