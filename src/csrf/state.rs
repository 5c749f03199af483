//! The [`CsrfToken`] extractor and the per-request CSRF state.

use std::{
    cell::RefCell,
    future::{ready, Ready},
    rc::Rc,
};

use actix_web::{dev::Payload, FromRequest, HttpMessage, HttpRequest};

use super::{
    middleware::Shared,
    token::{mask, CsrfSecret},
};
use crate::{
    session::{Session, SessionStatus},
    Error,
};

pub(crate) struct CsrfInner {
    pub(crate) shared: Rc<Shared>,
    pub(crate) session: Session,
    /// The secret tokens of this request are masked from (resolved on first use).
    pub(crate) secret: Option<CsrfSecret>,
    /// A pre-session cookie value to send with the response.
    pub(crate) set_cookie: Option<String>,
}

#[derive(Clone)]
pub(crate) struct CsrfState(pub(crate) Rc<RefCell<CsrfInner>>);

impl CsrfState {
    /// After the handler, before the session is saved: no session is ever left without a CSRF
    /// secret, and the pre-session cookie rotates when the session is created, renewed (login)
    /// or purged (logout).
    pub(crate) fn after_handler(&self, had_presession: bool) {
        let mut inner = self.0.borrow_mut();
        let status = inner.session.status();
        let renewed = matches!(status, SessionStatus::Renewed);
        let purged = matches!(status, SessionStatus::Purged);
        if renewed || inner.session.will_create() {
            // A token rendered during this request (from the pre-session cookie, or from the
            // session before a login) stays valid only if it was rendered after a login;
            // otherwise the session gets a fresh secret: a login always rotates it.
            let secret = match &inner.secret {
                Some(s) if !renewed => s.clone(),
                _ => CsrfSecret::generate(),
            };
            inner.session.set_csrf_secret(secret.to_b64());
        }
        if (renewed || purged || inner.session.will_create()) && had_presession {
            // The login page's token must not outlive the login or come back after logout.
            let (cookie, _) = inner.shared.presession.issue();
            inner.set_cookie = Some(cookie);
        }
    }
}

impl CsrfInner {
    /// The secret of this request, creating one if needed: in the session when one exists
    /// (persisted with the session's changes), else in a new signed pre-session cookie (no
    /// server-side record at all).
    fn secret(&mut self, req: &HttpRequest) -> CsrfSecret {
        if let Some(s) = &self.secret {
            return s.clone();
        }
        let secret = if self.session.exists() {
            match self
                .session
                .csrf_secret()
                .and_then(|s| CsrfSecret::from_b64(&s))
            {
                Some(s) => s,
                None => {
                    let s = CsrfSecret::generate();
                    self.session.set_csrf_secret(s.to_b64());
                    s
                }
            }
        } else {
            let existing = req
                .cookie(&self.shared.settings.cookie_name)
                .and_then(|c| self.shared.presession.open(c.value()));
            match existing {
                Some(s) => s,
                None => {
                    let (cookie, s) = self.shared.presession.issue();
                    self.set_cookie = Some(cookie);
                    s
                }
            }
        };
        self.secret = Some(secret.clone());
        secret
    }
}

/// A CSRF token for the current request: masked with a fresh one-time pad on every render, so
/// it differs every time (BREACH) while staying valid for the session.
///
/// ```
/// use actix_web::HttpResponse;
/// use warden::csrf::CsrfToken;
///
/// async fn form(csrf: CsrfToken) -> HttpResponse {
///     HttpResponse::Ok().content_type("text/html").body(format!(
///         "<form method=\"post\" action=\"/account/password\">{}<button>Go</button></form>",
///         csrf.field()
///     ))
/// }
/// ```
#[derive(Clone)]
pub struct CsrfToken {
    masked: String,
    field_name: String,
    header_name: String,
}

impl std::fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfToken(..)")
    }
}

impl CsrfToken {
    /// The masked token (for a JSON body or a custom header).
    pub fn value(&self) -> &str {
        &self.masked
    }

    /// The name of the header that carries it (`X-CSRF-Token` by default).
    pub fn header_name(&self) -> &str {
        &self.header_name
    }

    /// `<input type="hidden" name="csrf_token" value="...">`, escaped, for every unsafe form.
    pub fn field(&self) -> String {
        format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            html_escape(&self.field_name),
            html_escape(&self.masked)
        )
    }

    /// `<meta name="csrf-token" content="...">` for JavaScript clients, which send it back in
    /// the header.
    pub fn meta(&self) -> String {
        format!(
            "<meta name=\"csrf-token\" content=\"{}\">",
            html_escape(&self.masked)
        )
    }
}

/// The hidden form field of `token` (see [`CsrfToken::field`]).
pub fn csrf_field(token: &CsrfToken) -> String {
    token.field()
}

/// The meta tag of `token` (see [`CsrfToken::meta`]).
pub fn csrf_meta(token: &CsrfToken) -> String {
    token.meta()
}

fn html_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#x27;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

impl FromRequest for CsrfToken {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    /// Fails with a 500 (and one clear log line) without [`CsrfMiddleware`](super::CsrfMiddleware).
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.extensions().get::<CsrfState>().cloned() else {
            return ready(Err(Error::MissingMiddleware {
                missing: "CsrfMiddleware",
                required_by: "the CsrfToken extractor",
            }));
        };
        let mut inner = state.0.borrow_mut();
        let secret = inner.secret(req);
        let s = &inner.shared.settings;
        ready(Ok(CsrfToken {
            masked: mask(&secret),
            field_name: s.field_name.clone(),
            header_name: s.header_name.clone(),
        }))
    }
}
