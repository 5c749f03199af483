//! The error type of the HTTP layer and how it becomes a response.

use std::{
    sync::{Mutex, PoisonError},
    time::Duration,
};

use actix_web::{
    http::{
        header::{self, HeaderValue},
        StatusCode,
    },
    HttpResponse, HttpResponseBuilder, ResponseError,
};
use warden_actors::{ActorError, StoreError};

/// An error of warden's HTTP layer.
///
/// Every variant becomes a short, generic `text/plain` response with `Cache-Control: no-store`:
/// the body is the status's reason phrase and nothing else, so no internal detail (source errors,
/// actor names, paths) ever reaches a client. Server-side faults (5xx) are logged in full with
/// `tracing::error!` instead.
///
/// | variant | status |
/// | --- | --- |
/// | `Unauthenticated` | 401 |
/// | `Forbidden` | 403 |
/// | `BadRequest` | 400 |
/// | `TooManyRequests` | 429, with `Retry-After` in whole seconds (rounded up, at least 1) |
/// | `Unavailable`, `Store` | 503 |
/// | `Internal`, `MissingMiddleware` | 500 |
///
/// ```
/// use actix_web::{http::StatusCode, ResponseError};
/// use std::time::Duration;
///
/// let err = warden::Error::TooManyRequests { retry_after: Duration::from_millis(1200) };
/// let res = err.error_response();
/// assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
/// assert_eq!(res.headers().get("retry-after").unwrap(), "2");
///
/// let err = warden::Error::Internal("db password=hunter2".into());
/// assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request needs an authenticated user (401).
    #[error("authentication required")]
    Unauthenticated,
    /// An API client must authenticate (401, JSON body `{"error":"unauthenticated"}`).
    #[error("authentication required (API)")]
    UnauthenticatedApi,
    /// A bearer token was sent but is not valid (401, JSON body `{"error":"invalid_token"}`,
    /// `WWW-Authenticate: Bearer error="invalid_token"`). Never a silent fallback.
    #[error("invalid bearer token")]
    InvalidToken,
    /// A browser must log in first: 303 to the login URL (with `next`).
    #[error("login required")]
    LoginRedirect(String),
    /// The user may not do this (403). Which check failed is never revealed.
    #[error("forbidden")]
    Forbidden,
    /// The request is malformed (400).
    #[error("bad request")]
    BadRequest,
    /// The client is being throttled (429).
    #[error("too many requests; retry after {retry_after:?}")]
    TooManyRequests {
        /// How long the client should wait; sent as `Retry-After` in whole seconds, rounded up.
        retry_after: Duration,
    },
    /// An actor did not answer (503): the request is refused, never passed through.
    #[error("actor unavailable")]
    Unavailable(#[source] ActorError),
    /// The store failed (503).
    #[error("store failure")]
    Store(#[source] StoreError),
    /// A dependency of the application (its user store, a directory) failed (503). The text is
    /// logged, never sent.
    #[error("backend failure: {0}")]
    Backend(String),
    /// Any other server-side fault (500). The text is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
    /// A middleware or extractor ran without the middleware it depends on (500).
    ///
    /// Logged once per process per `(missing, required_by)` pair, as one clear line.
    #[error("{required_by} requires {missing}, which is not installed on this route")]
    MissingMiddleware {
        /// The middleware that is missing, e.g. `"RequestContextMiddleware"`.
        missing: &'static str,
        /// What needed it, e.g. `"the RequestContext extractor"`.
        required_by: &'static str,
    },
}

impl From<ActorError> for Error {
    /// A store failure reported by an actor becomes [`Error::Store`]; anything else
    /// [`Error::Unavailable`].
    fn from(err: ActorError) -> Self {
        match err {
            ActorError::Store(store) => Error::Store(store),
            invalid @ ActorError::Invalid { .. } => Error::Internal(invalid.to_string()),
            other => Error::Unavailable(other),
        }
    }
}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        Error::Store(err)
    }
}

impl Error {
    /// The `Retry-After` value for a wait: whole seconds, rounded up, at least 1.
    pub fn retry_after_secs(wait: Duration) -> u64 {
        let secs = wait
            .as_secs()
            .saturating_add(u64::from(wait.subsec_nanos() > 0));
        secs.max(1)
    }

    /// Logs a server-side fault with its full source chain.
    fn log(&self) {
        if let Error::MissingMiddleware {
            missing,
            required_by,
        } = self
        {
            log_missing_once(missing, required_by);
            return;
        }
        let mut chain = String::new();
        let mut source = std::error::Error::source(self);
        while let Some(err) = source {
            chain.push_str(": ");
            chain.push_str(&err.to_string());
            source = err.source();
        }
        tracing::error!(
            status = self.status_code().as_u16(),
            detail = ?self,
            "request failed: {self}{chain}"
        );
    }
}

/// `(missing, required_by)` pairs already logged.
static LOGGED_MISSING: Mutex<Vec<(&str, &str)>> = Mutex::new(Vec::new());

fn log_missing_once(missing: &'static str, required_by: &'static str) {
    let mut logged = LOGGED_MISSING
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if logged.contains(&(missing, required_by)) {
        return;
    }
    logged.push((missing, required_by));
    drop(logged);
    tracing::error!(
        missing,
        required_by,
        "misconfiguration: {required_by} requires {missing}, which is not installed on this \
         route; requests are refused with 500 until it is added (`.wrap({missing}::..)`). \
         This is logged once."
    );
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Error::Unauthenticated | Error::UnauthenticatedApi | Error::InvalidToken => {
                StatusCode::UNAUTHORIZED
            }
            Error::LoginRedirect(_) => StatusCode::SEE_OTHER,
            Error::Forbidden => StatusCode::FORBIDDEN,
            Error::BadRequest => StatusCode::BAD_REQUEST,
            Error::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Unavailable(_) | Error::Store(_) | Error::Backend(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Error::Internal(_) | Error::MissingMiddleware { .. } => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            self.log();
        } else {
            tracing::debug!(status = status.as_u16(), error = %self, "request refused");
        }
        let mut res = HttpResponseBuilder::new(status);
        match self {
            Error::UnauthenticatedApi | Error::InvalidToken => {
                let code = if matches!(self, Error::InvalidToken) {
                    res.insert_header((
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Bearer error=\"invalid_token\""),
                    ));
                    "invalid_token"
                } else {
                    "unauthenticated"
                };
                return res
                    .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
                    .content_type("application/json")
                    .body(format!("{{\"error\":\"{code}\"}}"));
            }
            Error::LoginRedirect(location) => {
                // The location is built by warden from a checked path; refuse anything odd.
                let loc = HeaderValue::from_str(location)
                    .unwrap_or_else(|_| HeaderValue::from_static("/"));
                return res
                    .insert_header((header::LOCATION, loc))
                    .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
                    .finish();
            }
            _ => {}
        }
        res.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        ))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if let Error::TooManyRequests { retry_after } = self {
            res.insert_header((header::RETRY_AFTER, Self::retry_after_secs(*retry_after)));
        }
        res.body(status.canonical_reason().unwrap_or("Error"))
    }
}
