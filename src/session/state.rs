//! The [`Session`] extractor: read and change the current session inside a handler.

use std::{
    cell::RefCell,
    collections::BTreeMap,
    future::{ready, Ready},
    rc::Rc,
    sync::Arc,
};

use actix_web::{dev::Payload, FromRequest, HttpMessage, HttpRequest};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

use crate::{
    actors::session::{Change, SessionEntry, SessionId, SessionToken},
    Error,
};

/// What the request has done to its session so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionStatus {
    /// Nothing changed.
    Unchanged,
    /// Data changed; persisted after the handler.
    Changed,
    /// A new token will be issued (login, privilege change): the old one dies.
    Renewed,
    /// The session will be destroyed and its cookie cleared.
    Purged,
}

#[derive(Debug, Default)]
pub(crate) struct SessionInner {
    pub(crate) token: Option<SessionToken>,
    pub(crate) entry: Option<Arc<SessionEntry>>,
    /// The local data map, copied from the entry on first use.
    pub(crate) data: Option<BTreeMap<String, Value>>,
    pub(crate) changes: Vec<Change>,
    pub(crate) renew: bool,
    pub(crate) purge: bool,
    /// A CSRF secret created during this request (persisted with the other changes).
    pub(crate) new_csrf_secret: Option<String>,
    pub(crate) accessed: bool,
}

impl SessionInner {
    fn data(&mut self) -> &mut BTreeMap<String, Value> {
        let entry = &self.entry;
        self.data.get_or_insert_with(|| {
            entry
                .as_ref()
                .map(|e| e.record().data.clone())
                .unwrap_or_default()
        })
    }
}

/// A request's session. Changes are recorded here and persisted by
/// [`SessionMiddleware`](super::SessionMiddleware) after the handler returns (not when the
/// response is a 5xx): as per-key changes, so concurrent requests keep each other's updates.
///
/// A visitor who stores nothing gets no server record and no cookie.
///
/// ```
/// use actix_web::{get, HttpResponse};
/// use warden::session::Session;
///
/// #[get("/")]
/// async fn index(session: Session) -> Result<HttpResponse, warden::Error> {
///     let visits: u64 = session.get("visits")?.unwrap_or(0) + 1;
///     session.insert("visits", visits)?;
///     Ok(HttpResponse::Ok().body(format!("visit number {visits}")))
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Session(pub(crate) Rc<RefCell<SessionInner>>);

/// Why a session value could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The stored value does not have the requested type.
    #[error("session value `{key}` has another type: {source}")]
    Deserialize {
        /// The key.
        key: String,
        /// Why.
        source: serde_json::Error,
    },
    /// The value cannot be represented as JSON.
    #[error("session value `{key}` cannot be serialized: {source}")]
    Serialize {
        /// The key.
        key: String,
        /// Why.
        source: serde_json::Error,
    },
}

impl From<SessionError> for Error {
    fn from(e: SessionError) -> Self {
        Error::Internal(e.to_string())
    }
}

impl Session {
    /// A value of the session, deserialized; `None` when absent.
    ///
    /// # Errors
    ///
    /// [`SessionError::Deserialize`] when the value has another type.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        let mut s = self.0.borrow_mut();
        s.accessed = true;
        match s.data().get(key) {
            None => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|source| SessionError::Deserialize {
                    key: key.to_owned(),
                    source,
                }),
        }
    }

    /// Sets a value.
    ///
    /// # Errors
    ///
    /// [`SessionError::Serialize`] when the value cannot be represented as JSON.
    pub fn insert<T: Serialize>(
        &self,
        key: impl Into<String>,
        value: T,
    ) -> Result<(), SessionError> {
        let key = key.into();
        let v = serde_json::to_value(value).map_err(|source| SessionError::Serialize {
            key: key.clone(),
            source,
        })?;
        let mut s = self.0.borrow_mut();
        s.accessed = true;
        s.data().insert(key.clone(), v.clone());
        s.changes.push(Change::Insert(key, v));
        Ok(())
    }

    /// Removes a value, returning it.
    pub fn remove(&self, key: &str) -> Option<Value> {
        let mut s = self.0.borrow_mut();
        s.accessed = true;
        let old = s.data().remove(key);
        if old.is_some() {
            s.changes.push(Change::Remove(key.to_owned()));
        }
        old
    }

    /// Removes every value (the session itself stays; see [`Session::purge`]).
    pub fn clear(&self) {
        let mut s = self.0.borrow_mut();
        s.accessed = true;
        let had = !s.data().is_empty() || s.entry.is_some();
        s.data().clear();
        if had {
            s.changes.push(Change::Clear);
        }
    }

    /// Issues a new token for this session after the handler: same data, and the old token
    /// stops working at once. Do this whenever privileges change.
    pub fn renew(&self) {
        self.0.borrow_mut().renew = true;
    }

    /// Destroys the session on the server and clears the cookie.
    pub fn purge(&self) {
        let mut s = self.0.borrow_mut();
        s.purge = true;
        s.changes.clear();
    }

    /// Marks the session authenticated for `user_id` at `session_version` and renews it
    /// (a login always issues a new token: no session fixation).
    pub fn mark_authenticated(&self, user_id: impl Into<String>, session_version: u64) {
        let mut s = self.0.borrow_mut();
        s.accessed = true;
        s.renew = true;
        s.changes.push(Change::Login {
            user_id: user_id.into(),
            session_version,
        });
    }

    /// The session's CSRF secret (base64url), if the session exists and has one; a secret
    /// created during this request counts.
    pub(crate) fn csrf_secret(&self) -> Option<String> {
        let s = self.0.borrow();
        if s.purge || s.renew {
            // A login or purge in this request rotates the secret.
            return s.new_csrf_secret.clone();
        }
        s.new_csrf_secret.clone().or_else(|| {
            s.entry
                .as_ref()
                .and_then(|e| e.record().csrf_secret.clone())
        })
    }

    /// Whether a server-side session exists for this request (loaded at its start).
    pub(crate) fn exists(&self) -> bool {
        self.0.borrow().entry.is_some()
    }

    /// Whether the session will be created after the handler (none existed and the request
    /// stored something).
    pub(crate) fn will_create(&self) -> bool {
        let s = self.0.borrow();
        s.entry.is_none() && !s.purge && (s.renew || !s.changes.is_empty())
    }

    /// Stores a new CSRF secret in the session (after the handler, with the other changes).
    pub(crate) fn set_csrf_secret(&self, secret: String) {
        let mut s = self.0.borrow_mut();
        s.new_csrf_secret = Some(secret.clone());
        s.changes.push(Change::SetCsrfSecret(Some(secret)));
    }

    /// The authenticated user of the session, if any.
    pub fn user_id(&self) -> Option<String> {
        let mut s = self.0.borrow_mut();
        s.accessed = true;
        s.entry.as_ref().and_then(|e| e.record().user_id.clone())
    }

    /// The session as loaded at the start of the request (`None` for a visitor without one).
    pub fn entry(&self) -> Option<Arc<SessionEntry>> {
        let mut s = self.0.borrow_mut();
        s.accessed = true;
        s.entry.clone()
    }

    /// The session's id (SHA-256 of its token; safe to show and log), if it has one.
    pub fn id(&self) -> Option<SessionId> {
        self.0.borrow().token.as_ref().map(SessionToken::id)
    }

    /// What the request has done to the session so far.
    pub fn status(&self) -> SessionStatus {
        let s = self.0.borrow();
        if s.purge {
            SessionStatus::Purged
        } else if s.renew {
            SessionStatus::Renewed
        } else if !s.changes.is_empty() {
            SessionStatus::Changed
        } else {
            SessionStatus::Unchanged
        }
    }
}

impl FromRequest for Session {
    type Error = Error;
    type Future = Ready<Result<Session, Error>>;

    /// Fails with a 500 (and one clear log line) when [`SessionMiddleware`](super::SessionMiddleware)
    /// is not installed: a session that silently does nothing would be worse.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Session>()
                .cloned()
                .ok_or(Error::MissingMiddleware {
                    missing: "SessionMiddleware",
                    required_by: "the Session extractor",
                }),
        )
    }
}
