//! [`Accounts`]: login, logout, password change, password reset and API tokens.

use std::sync::Arc;

use actix_web::{
    http::header::{HeaderName, HeaderValue},
    HttpRequest,
};

use super::{SharedUserStore, User};
use crate::{
    actors::{
        password::{PasswordError, PasswordPolicyError},
        tokens::{ApiToken, ApiTokenInfo, ResetOutcome, ResetToken},
    },
    audit::request_event,
    lockout::LoginLockout,
    session::Session,
    Error, Warden,
};

/// Delivers password-reset tokens (by e-mail, SMS, …). The application implements it. The
/// token must reach only the user: never log it.
#[async_trait::async_trait]
pub trait ResetNotifier: Send + Sync + 'static {
    /// Sends `token` to `user`.
    async fn send_reset(&self, user: &User, token: &ResetToken) -> Result<(), String>;
}

/// The outcome of [`Accounts::change_password`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasswordChange {
    /// Changed: every other session of the user is gone, this one rotates.
    Changed,
    /// The current password was wrong; nothing changed.
    WrongPassword,
    /// The new password does not meet the policy.
    Rejected(PasswordPolicyError),
}

/// The outcome of [`Accounts::complete_reset`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResetCompletion {
    /// The password was set; every session of the user is gone.
    Completed,
    /// The token is unknown, used, expired, or outdated (the same answer for each).
    InvalidToken,
    /// The new password does not meet the policy; the token was not spent.
    Rejected(PasswordPolicyError),
}

/// The `Clear-Site-Data: "cookies"` header sent on logout.
pub fn clear_site_data() -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static("clear-site-data"),
        HeaderValue::from_static("\"cookies\""),
    )
}

fn busy(e: PasswordError) -> Error {
    match e {
        PasswordError::Busy => {
            Error::Unavailable(crate::actors::ActorError::Overloaded { actor: "passwords" })
        }
        PasswordError::Stopped => {
            Error::Unavailable(crate::actors::ActorError::Unavailable { actor: "passwords" })
        }
        other => Error::Internal(other.to_string()),
    }
}

fn store_err(e: super::UserStoreError) -> Error {
    Error::Backend(e.to_string())
}

/// Account flows over the application's [`UserStore`](super::UserStore) and warden's actors.
///
/// Every flow answers the same for "no such user" and "wrong password", spends the same argon2
/// work on both (a dummy verify), and records its audit events.
#[derive(Clone)]
pub struct Accounts {
    users: SharedUserStore,
    warden: Warden,
    notifier: Arc<dyn ResetNotifier>,
    lockout: LoginLockout,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts").finish_non_exhaustive()
    }
}

impl Accounts {
    /// Flows over `users`, delivering reset tokens through `notifier`.
    pub fn new(warden: &Warden, users: SharedUserStore, notifier: Arc<dyn ResetNotifier>) -> Self {
        Self {
            users,
            warden: warden.clone(),
            notifier,
            lockout: warden.login_lockout(),
        }
    }

    /// Uses `lockout` instead of [`Warden::login_lockout`] (a custom policy or the 429 answer
    /// for locked attempts).
    #[must_use]
    pub fn with_lockout(mut self, lockout: LoginLockout) -> Self {
        self.lockout = lockout;
        self
    }

    /// The user store.
    pub fn users(&self) -> &SharedUserStore {
        &self.users
    }

    /// Checks a login name and password. `Ok(None)` for an unknown user, a wrong password and
    /// a locked login alike (same argon2 work, same answer); `Err` only for faults (503 when
    /// the hashing pool is busy or an actor does not answer), or a 429 when
    /// `lockout.locked_response = "too_many_requests"`. Consults [`LoginLockout`] before any
    /// password work and records the failure or success after. Records `auth.login.failure`
    /// on failure. Rehashes a password whose stored parameters are outdated.
    pub async fn authenticate(
        &self,
        req: &HttpRequest,
        login: &str,
        password: &str,
    ) -> Result<Option<Arc<User>>, Error> {
        let pool = self.warden.runtime().passwords();
        let lockout = self.lockout.clone();
        // Before any password work: is this login (account, account+IP, IP) locked?
        let gate = lockout.check(req, login).await?;
        let user = self.users.find_by_login(login).await.map_err(store_err)?;
        let verdict = match (&user, gate.is_locked()) {
            (Some(u), false) => pool
                .verify(password, &u.password_hash)
                .await
                .map_err(busy)?,
            // Unknown user or locked: the same argon2 work, the same answer.
            _ => {
                pool.verify_dummy(password).await.map_err(busy)?;
                crate::actors::password::Verification::INVALID
            }
        };
        let known = user.as_ref().map(|u| u.id.clone());
        let Some(user) = user.filter(|_| verdict.valid) else {
            let reason = if gate.is_locked() {
                "locked"
            } else {
                "bad_credentials"
            };
            let mut ev = request_event(req, "auth.login.failure").detail("reason", reason);
            if let Some(id) = &known {
                ev = ev.user_id(id);
            }
            self.warden.audit().emit(ev);
            lockout
                .record_failure_as(req, login, known.as_deref())
                .await?;
            if let Some(refusal) = gate.refusal() {
                return Err(refusal);
            }
            return Ok(None);
        };
        lockout.record_success(req, login).await?;
        if verdict.needs_rehash {
            match pool.hash(password).await {
                Ok(phc) => {
                    if let Err(e) = self.users.set_password_hash(&user.id, &phc).await {
                        tracing::warn!(error = %e, "rehash after login not stored");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "rehash after login failed"),
            }
        }
        Ok(Some(Arc::new(user)))
    }

    /// Logs `user` in on `session`: the session rotates (always, also on re-login: no
    /// fixation), records the user, `authenticated_at` and the user's session version.
    /// Records `auth.login.success`.
    pub async fn login(
        &self,
        req: &HttpRequest,
        session: &Session,
        user: &User,
    ) -> Result<(), Error> {
        let version = self
            .warden
            .runtime()
            .sessions()
            .user_version(&user.id)
            .await?;
        session.mark_authenticated(&user.id, version);
        self.warden
            .audit()
            .emit(request_event(req, "auth.login.success").user_id(&user.id));
        Ok(())
    }

    /// Logs out: the server-side session is destroyed and its cookie cleared after the
    /// handler. Send [`clear_site_data`] with the response. Records `auth.logout.success`.
    pub fn logout(&self, req: &HttpRequest, session: &Session) {
        let mut ev = request_event(req, "auth.logout.success");
        if let Some(u) = session.user_id() {
            ev = ev.user_id(u);
        }
        session.purge();
        self.warden.audit().emit(ev);
    }

    /// Changes the password after checking the current one: the new hash is stored, the
    /// user's session version is bumped (every other session dies), outstanding reset tokens
    /// die, and this session rotates. Records `password.changed`.
    pub async fn change_password(
        &self,
        req: &HttpRequest,
        session: &Session,
        user: &User,
        current: &str,
        new: &str,
    ) -> Result<PasswordChange, Error> {
        let pool = self.warden.runtime().passwords();
        if let Err(p) = pool.check_policy(new) {
            return Ok(PasswordChange::Rejected(p));
        }
        let fresh = self.users.find_by_id(&user.id).await.map_err(store_err)?;
        let Some(fresh) = fresh else {
            return Err(Error::Unauthenticated);
        };
        if !pool
            .verify(current, &fresh.password_hash)
            .await
            .map_err(busy)?
            .valid
        {
            self.warden.audit().emit(
                request_event(req, "password.change.failure")
                    .user_id(&user.id)
                    .detail("reason", "wrong_current_password"),
            );
            return Ok(PasswordChange::WrongPassword);
        }
        let phc = pool.hash(new).await.map_err(busy)?;
        self.users
            .set_password_hash(&user.id, &phc)
            .await
            .map_err(store_err)?;
        let rt = self.warden.runtime();
        rt.sessions().bump_version(&user.id, session.id()).await?;
        rt.tokens().revoke_reset_tokens(&user.id).await?;
        session.renew();
        self.warden
            .audit()
            .emit(request_event(req, "password.changed").user_id(&user.id));
        Ok(PasswordChange::Changed)
    }

    /// Starts a password reset for `login`. Answers at once and the same whether or not the
    /// user exists: the work (issuing the token, notifying) happens in the background.
    /// Records `password.reset.requested`.
    pub fn request_reset(&self, req: &HttpRequest, login: &str) {
        let me = self.clone();
        let event = request_event(req, "password.reset.requested");
        let login = login.to_owned();
        actix_web::rt::spawn(async move {
            if let Err(e) = me.issue_reset(&login, event).await {
                tracing::error!(error = %e, "password reset request failed");
            }
        });
    }

    async fn issue_reset(
        &self,
        login: &str,
        event: crate::actors::SecurityEvent,
    ) -> Result<(), Error> {
        let Some(user) = self.users.find_by_login(login).await.map_err(store_err)? else {
            self.warden.audit().emit(event.detail("known", false));
            return Ok(());
        };
        let rt = self.warden.runtime();
        let version = rt.sessions().user_version(&user.id).await?;
        let token = rt.tokens().issue_reset_token(&user.id, version).await?;
        if let Err(e) = self.notifier.send_reset(&user, &token).await {
            tracing::error!(error = %e, user = %user.id, "reset notification failed");
        }
        self.warden
            .audit()
            .emit(event.user_id(&user.id).detail("known", true));
        Ok(())
    }

    /// Completes a password reset: the token is spent (single use; unknown, expired or
    /// outdated tokens are all [`ResetCompletion::InvalidToken`]), the new password stored, the
    /// user's session version bumped, every session and every API token of the user destroyed
    /// (account recovery: whoever held them is out). Records
    /// `password.reset.completed`.
    pub async fn complete_reset(
        &self,
        req: &HttpRequest,
        token: &str,
        new_password: &str,
    ) -> Result<ResetCompletion, Error> {
        let rt = self.warden.runtime();
        if let Err(p) = rt.passwords().check_policy(new_password) {
            return Ok(ResetCompletion::Rejected(p));
        }
        // Hash first: if the pool is busy the caller gets a 503 and the token is not spent.
        let phc = rt.passwords().hash(new_password).await.map_err(busy)?;
        let sessions = rt.sessions().clone();
        let outcome = rt
            .tokens()
            .consume_reset_token_with(
                token,
                |uid| async move { sessions.user_version(&uid).await },
            )
            .await?;
        let ResetOutcome::Valid { user_id } = outcome else {
            self.warden.audit().emit(
                request_event(req, "password.reset.failure").detail("reason", "invalid_token"),
            );
            return Ok(ResetCompletion::InvalidToken);
        };
        self.users
            .set_password_hash(&user_id, &phc)
            .await
            .map_err(store_err)?;
        rt.sessions().bump_version(&user_id, None).await?;
        rt.tokens().revoke_reset_tokens(&user_id).await?;
        // Account recovery: API tokens issued before the reset die too.
        rt.tokens().revoke_all_for_user(&user_id).await?;
        self.warden
            .audit()
            .emit(request_event(req, "password.reset.completed").user_id(&user_id));
        Ok(ResetCompletion::Completed)
    }

    /// Issues an API token for the bearer flow (shown once; stored hashed).
    pub async fn issue_api_token(
        &self,
        req: &HttpRequest,
        user: &User,
        label: &str,
    ) -> Result<(ApiToken, ApiTokenInfo), Error> {
        let (token, info) = self
            .warden
            .runtime()
            .tokens()
            .issue_api_token(&user.id, label.to_owned(), None)
            .await?;
        self.warden.audit().emit(
            request_event(req, "auth.token.issued")
                .user_id(&user.id)
                .detail("token", info.id.as_str()),
        );
        Ok((token, info))
    }
}
