//! Who the request is from: the [`CurrentUser`] and [`MaybeUser`] extractors.

use std::{
    future::{ready, Ready},
    rc::Rc,
    sync::Arc,
};

use actix_web::{dev::Payload, http::header, FromRequest, HttpMessage, HttpRequest};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use super::User;
use crate::{actors::AuditHandle, audit::request_event, Error};

/// How the current user proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthMethod {
    /// A session cookie.
    Session,
    /// An `Authorization: Bearer` API token.
    Bearer,
}

#[derive(Debug)]
pub(crate) struct AuthShared {
    pub(crate) login_url: String,
    pub(crate) audit: AuditHandle,
}

/// The authentication state of a request, set by [`AuthMiddleware`](super::AuthMiddleware).
#[derive(Debug, Clone)]
pub(crate) struct AuthContext {
    pub(crate) user: Option<Arc<User>>,
    pub(crate) method: Option<AuthMethod>,
    pub(crate) shared: Rc<AuthShared>,
}

pub(crate) fn auth_context(req: &HttpRequest) -> Result<AuthContext, Error> {
    req.extensions()
        .get::<AuthContext>()
        .cloned()
        .ok_or(Error::MissingMiddleware {
            missing: "AuthMiddleware",
            required_by: "an authentication check",
        })
}

/// Whether the request comes from an API client rather than a browser: it sends an
/// `Authorization` header, `X-Requested-With: XMLHttpRequest`, or an `Accept` header that
/// prefers JSON over HTML.
///
/// ```
/// use actix_web::test::TestRequest;
/// use warden::auth::is_api_request;
///
/// let api = TestRequest::get().insert_header(("accept", "application/json")).to_http_request();
/// let browser = TestRequest::get()
///     .insert_header(("accept", "text/html,application/xhtml+xml,*/*;q=0.8"))
///     .to_http_request();
/// assert!(is_api_request(&api));
/// assert!(!is_api_request(&browser));
/// ```
pub fn is_api_request(req: &HttpRequest) -> bool {
    let h = req.headers();
    if h.contains_key(header::AUTHORIZATION) {
        return true;
    }
    if h.get("x-requested-with")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("xmlhttprequest"))
    {
        return true;
    }
    let Some(accept) = h.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let (mut json, mut html) = (0.0f32, 0.0f32);
    for part in accept.split(',').take(32) {
        let mut it = part.split(';');
        let media = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = it
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0)
            .clamp(0.0, 1.0);
        if media == "application/json" || media.ends_with("+json") {
            json = json.max(q);
        } else if media == "text/html" || media == "application/xhtml+xml" {
            html = html.max(q);
        }
    }
    json > html
}

/// The refusal for an anonymous request to a protected route: a 303 to the login page with
/// `next` for browsers, a 401 JSON for API clients; records `auth.require.unauthenticated`.
pub(crate) fn login_required(req: &HttpRequest, ctx: &AuthContext) -> Error {
    let api = is_api_request(req);
    ctx.shared.audit.emit(
        request_event(req, "auth.require.unauthenticated")
            .detail("response", if api { "401" } else { "303" }),
    );
    if api {
        return Error::UnauthenticatedApi;
    }
    let target = match req.uri().path_and_query() {
        Some(pq) => pq.as_str().to_owned(),
        None => req.path().to_owned(),
    };
    let next = utf8_percent_encode(&target, NON_ALPHANUMERIC);
    Error::LoginRedirect(format!("{}?next={next}", ctx.shared.login_url))
}

/// The authenticated user. As a handler argument it is the `login_required` check: anonymous
/// browsers are redirected to the login page (303), API clients get a 401 JSON.
///
/// ```
/// use actix_web::HttpResponse;
/// use warden::auth::CurrentUser;
///
/// async fn dashboard(user: CurrentUser) -> HttpResponse {
///     HttpResponse::Ok().body(format!("hello {}", user.login))
/// }
/// ```
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Arc<User>);

impl std::ops::Deref for CurrentUser {
    type Target = User;
    fn deref(&self) -> &User {
        &self.0
    }
}

impl CurrentUser {
    /// How the user authenticated on this request.
    pub fn method(req: &HttpRequest) -> Option<AuthMethod> {
        req.extensions().get::<AuthContext>().and_then(|c| c.method)
    }
}

impl FromRequest for CurrentUser {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(auth_context(req).and_then(|ctx| match &ctx.user {
            Some(u) => Ok(CurrentUser(u.clone())),
            None => Err(login_required(req, &ctx)),
        }))
    }
}

/// The authenticated user, if any (never refuses).
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<Arc<User>>);

impl FromRequest for MaybeUser {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(auth_context(req).map(|ctx| MaybeUser(ctx.user)))
    }
}
