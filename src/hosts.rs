//! [`AllowedHostsMiddleware`]: refuses requests for a host this app does not serve.
//!
//! A request's host decides absolute URLs, password-reset links and cache keys; a forged one
//! (DNS rebinding, Host-header poisoning) must not reach the app. The host is the request's
//! single `Host` header (HTTP/1.1) or its URI authority (HTTP/2 `:authority`, HTTP/1.1
//! absolute-form); when both are present they must agree. `X-Forwarded-Host` is never read.

use std::{fmt, net::Ipv6Addr, rc::Rc, time::Duration};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    http::header,
};
use futures_util::{
    future::{ready, Either, MapOk, Ready},
    TryFutureExt,
};

use crate::{actors::AuditHandle, audit::service_event, Error, Warden};

/// How often at most one `host.rejected` event is recorded (the rest are counted).
const REJECTED_WINDOW: Duration = Duration::from_secs(10);

/// Most characters of a rejected host copied into the event.
const MAX_LOGGED_HOST: usize = 100;

/// An allowed-hosts entry that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid allowed host {input:?}: {reason} (expected `host`, `host:port`, `[ipv6]:port` or \
     `*.example.com`)"
)]
pub struct InvalidHostPattern {
    input: String,
    reason: &'static str,
}

impl InvalidHostPattern {
    /// The refused entry, as given.
    pub fn input(&self) -> &str {
        &self.input
    }
}

/// One allowed-hosts entry: an exact host or a `*.` wildcard, with an optional port.
///
/// Hosts compare case-insensitively, ignoring one trailing dot; IPv6 literals compare as
/// addresses (`[0:0::1]` is `[::1]`). An entry without a port allows any port; with a port,
/// only that port (a request without a port does not match it). `*.example.com` allows any
/// subdomain at any depth, never `example.com` itself.
///
/// ```
/// use warden::hosts::HostPattern;
///
/// let p = HostPattern::parse("*.Example.com")?;
/// assert!(p.matches_authority("a.example.com:8443"));
/// assert!(p.matches_authority("A.B.EXAMPLE.COM."));
/// assert!(!p.matches_authority("example.com"));
/// assert!(!p.matches_authority("a.example.com.evil"));
/// let p = HostPattern::parse("[::1]:8080")?;
/// assert!(p.matches_authority("[0:0:0:0:0:0:0:1]:8080"));
/// assert!(!p.matches_authority("[::1]:8081"));
/// # Ok::<(), warden::hosts::InvalidHostPattern>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    /// The normalised host; for a wildcard, the suffix with its leading dot.
    host: String,
    wildcard: bool,
    port: Option<u16>,
}

impl HostPattern {
    /// Parses an entry.
    ///
    /// # Errors
    ///
    /// An empty entry, a bare `*`, a scheme, path, user info or invalid port, a host with
    /// characters other than letters, digits, `-`, `_` and `.`, or a wildcard on an IP.
    pub fn parse(entry: &str) -> Result<Self, InvalidHostPattern> {
        let fail = |reason| InvalidHostPattern {
            input: entry.to_owned(),
            reason,
        };
        let text = entry.trim_matches(' ');
        if text == "*" {
            return Err(fail("`*` would allow every host; list the hosts you serve"));
        }
        let (wildcard, rest) = match text.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (host, port) = split_authority(rest).ok_or_else(|| fail("malformed host"))?;
        if wildcard && host.starts_with('[') {
            return Err(fail("a wildcard cannot apply to an IP address"));
        }
        let host = if wildcard { format!(".{host}") } else { host };
        Ok(Self {
            host,
            wildcard,
            port,
        })
    }

    /// Whether a normalised host and port match.
    fn matches(&self, host: &str, port: Option<u16>) -> bool {
        let host_ok = if self.wildcard {
            host.len() > self.host.len() && host.ends_with(&self.host)
        } else {
            host == self.host
        };
        host_ok && (self.port.is_none() || self.port == port)
    }

    /// Whether a request authority (`host[:port]`, as in a `Host` header) matches. A
    /// malformed authority never does.
    pub fn matches_authority(&self, authority: &str) -> bool {
        split_authority(authority).is_some_and(|(h, p)| self.matches(&h, p))
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.wildcard {
            f.write_str("*")?;
        }
        f.write_str(&self.host)?;
        match self.port {
            Some(p) => write!(f, ":{p}"),
            None => Ok(()),
        }
    }
}

/// Splits and normalises `host[:port]`: lowercase, one trailing dot removed, IPv6 literals in
/// canonical form. `None` when malformed.
fn split_authority(text: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        let addr: Ipv6Addr = inner.parse().ok()?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (format!("[{addr}]"), port)
    } else {
        let (host, port) = match text.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        };
        let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        };
        if host.len() > 253 || !host.split('.').all(label_ok) {
            return None;
        }
        (host, port)
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().ok()?)
        }
        Some(_) => return None,
    };
    Some((host, port))
}

/// A validated, non-empty host allowlist.
///
/// ```
/// use warden::hosts::AllowedHosts;
///
/// let hosts = AllowedHosts::parse(["app.example.com", "*.cdn.example.com", "127.0.0.1:8080"])?;
/// assert!(hosts.is_allowed("APP.example.com:443"));
/// assert!(hosts.is_allowed("127.0.0.1:8080"));
/// assert!(!hosts.is_allowed("127.0.0.1:9090"));
/// assert!(!hosts.is_allowed("evil.example"));
/// assert!(AllowedHosts::parse(Vec::<String>::new()).is_err());
/// # Ok::<(), warden::hosts::InvalidHostPattern>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts {
    patterns: Vec<HostPattern>,
}

impl AllowedHosts {
    /// Parses every entry (see [`HostPattern`]).
    ///
    /// # Errors
    ///
    /// The first invalid entry, or an empty list (which would refuse every request).
    pub fn parse<I, S>(entries: I) -> Result<Self, InvalidHostPattern>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let patterns = entries
            .into_iter()
            .map(|e| HostPattern::parse(e.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        if patterns.is_empty() {
            return Err(InvalidHostPattern {
                input: String::new(),
                reason: "the list is empty, so every request would be refused",
            });
        }
        Ok(Self { patterns })
    }

    /// The entries.
    pub fn patterns(&self) -> &[HostPattern] {
        &self.patterns
    }

    /// Whether a request authority (`host[:port]`) is allowed.
    pub fn is_allowed(&self, authority: &str) -> bool {
        split_authority(authority)
            .is_some_and(|(h, p)| self.patterns.iter().any(|x| x.matches(&h, p)))
    }
}

struct Shared {
    hosts: AllowedHosts,
    audit: AuditHandle,
}

/// Answers `400 Bad Request` (generic `text/plain` body) to requests whose host is not in the
/// allowlist, and records a `host.rejected` event (throttled: at most one per 10 s, with the
/// count of suppressed ones) with `details.reason` — `missing`, `multiple` (several `Host`
/// headers), `malformed`, `conflict` (`Host` and URI authority differ) or `not_allowed` — and
/// `details.host` (truncated).
///
/// A request without a host (HTTP/1.0 without `Host`) is refused. Install it inside
/// [`SecurityHeadersMiddleware`](crate::headers::SecurityHeadersMiddleware) and
/// [`RequestContextMiddleware`](crate::RequestContextMiddleware), so the 400 carries the
/// security headers and the event the request id and client IP.
///
/// ```no_run
/// use actix_web::{web, App, HttpResponse};
/// use warden::{headers::SecurityHeadersMiddleware, hosts::AllowedHostsMiddleware};
/// # fn app(warden: warden::Warden) -> Result<(), warden::hosts::InvalidHostPattern> {
/// let app = App::new()
///     .route("/", web::get().to(HttpResponse::Ok))
///     .wrap(AllowedHostsMiddleware::for_warden(&warden)?)
///     .wrap(warden.request_context())
///     .wrap(SecurityHeadersMiddleware::for_warden(&warden));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AllowedHostsMiddleware {
    shared: Rc<Shared>,
}

impl fmt::Debug for AllowedHostsMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AllowedHostsMiddleware")
            .field("hosts", &self.shared.hosts)
            .finish()
    }
}

impl AllowedHostsMiddleware {
    /// Allows `hosts`; events go to `audit`.
    pub fn new(hosts: AllowedHosts, audit: AuditHandle) -> Self {
        Self {
            shared: Rc::new(Shared { hosts, audit }),
        }
    }

    /// Allows `warden`'s `server.allowed_hosts` (by default the host and port of
    /// `server.origin`, i.e. the bind address).
    ///
    /// # Errors
    ///
    /// An entry this middleware cannot parse.
    pub fn for_warden(warden: &Warden) -> Result<Self, InvalidHostPattern> {
        let hosts = AllowedHosts::parse(&warden.config().server.allowed_hosts)?;
        Ok(Self::new(hosts, warden.audit().clone()))
    }

    /// The allowlist.
    pub fn hosts(&self) -> &AllowedHosts {
        &self.shared.hosts
    }
}

/// The request's host, or why there is no usable one.
fn request_host(req: &ServiceRequest) -> Result<&str, (&'static str, &str)> {
    let mut values = req.headers().get_all(header::HOST);
    let first = values.next();
    if values.next().is_some() {
        return Err(("multiple", ""));
    }
    let from_header = match first {
        Some(v) => Some(v.to_str().map_err(|_| ("malformed", ""))?),
        None => None,
    };
    let from_uri = req.uri().authority().map(|a| a.as_str());
    let host = match (from_header, from_uri) {
        (Some(h), Some(u)) if !h.eq_ignore_ascii_case(u) => return Err(("conflict", h)),
        (Some(h), _) => h,
        (None, Some(u)) => u,
        (None, None) => return Err(("missing", "")),
    };
    if host.is_empty() {
        return Err(("missing", ""));
    }
    Ok(host)
}

impl<S, B> Transform<S, ServiceRequest> for AllowedHostsMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = InnerAllowedHostsMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(InnerAllowedHostsMiddleware {
            service,
            shared: self.shared.clone(),
        }))
    }
}

/// Passes an allowed request's response through (a fn pointer: no allocation per request).
type IntoLeft<B> = fn(ServiceResponse<B>) -> ServiceResponse<EitherBody<B>>;

/// The service [`AllowedHostsMiddleware`] wraps around the app.
#[doc(hidden)]
#[allow(missing_debug_implementations)]
pub struct InnerAllowedHostsMiddleware<S> {
    service: S,
    shared: Rc<Shared>,
}

impl<S, B> Service<ServiceRequest> for InnerAllowedHostsMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = Either<MapOk<S::Future, IntoLeft<B>>, Ready<Result<Self::Response, Self::Error>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let rejected = match request_host(&req) {
            Ok(host) if self.shared.hosts.is_allowed(host) => None,
            Ok(host) => Some(("not_allowed", host)),
            Err(why) => Some(why),
        };
        if let Some((reason, host)) = rejected {
            let shown: String = host
                .chars()
                .take(MAX_LOGGED_HOST)
                .map(|c| if c.is_ascii_graphic() { c } else { '?' })
                .collect();
            let ev = service_event(&req, "host.rejected")
                .detail("reason", reason)
                .detail("host", shown);
            self.shared.audit.emit_throttled(ev, REJECTED_WINDOW);
            let res = req.error_response(Error::BadRequest);
            return Either::Right(ready(Ok(res.map_into_right_body())));
        }
        let left: IntoLeft<B> = ServiceResponse::map_into_left_body;
        Either::Left(self.service.call(req).map_ok(left))
    }
}
