//! [`TokenHandle`]: API-token lookups from the view, and the messages for every change.

use std::{future::Future, sync::Arc, time::Duration};

use actix::{Addr, Arbiter};
use parking_lot::Mutex;

use super::{
    actor::{TokenActor, NAME},
    messages::*,
    record::{ApiTokenInfo, ResetOutcome, TokenPolicy},
    secret::{parse, parse_id, ApiToken, ResetToken, API_TOKEN_PREFIX, RESET_TOKEN_PREFIX},
    view::{ApiEntry, TokenView},
};
use crate::{clock::SharedClock, runtime::supervise::ask, ActorError};

struct Shared {
    addr: Addr<TokenActor>,
    view: Arc<TokenView>,
    policy: TokenPolicy,
    clock: SharedClock,
    timeout: Duration,
    arbiter: Mutex<Option<Arbiter>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(a) = self.arbiter.get_mut().take() {
            a.stop();
        }
    }
}

/// A handle to the token actor. Clone it freely; the actor's arbiter stops when
/// [`TokenHandle::shutdown`] is called or the last clone is dropped.
///
/// [`TokenHandle::lookup_api_token`] (every bearer-authenticated request) is served from a read
/// view without a message, unless the token is not in the view yet (after a start or a
/// restart). Every change is a message with the ask deadline; revocations leave the view
/// before they are acknowledged, and while the actor is down lookups fail closed.
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use warden_actors::{
///     store::{SledStore, Store},
///     tokens::{start_tokens, ResetOutcome, TokenPolicy},
///     ManualClock, StoreConfig,
/// };
///
/// #[actix::main]
/// async fn main() {
///     let clock = Arc::new(ManualClock::new(1_700_000_000_000));
///     let store: Arc<dyn Store> =
///         Arc::new(SledStore::temporary(&StoreConfig::default(), clock.clone()).unwrap());
///     let tokens = start_tokens(store, clock, TokenPolicy::default(), 64, Duration::from_secs(2));
///
///     let (token, info) = tokens.issue_api_token("alice", "laptop".into(), None).await.unwrap();
///     let found = tokens.lookup_api_token(token.expose_secret()).await.unwrap().unwrap();
///     assert_eq!((found.user_id.as_str(), found.label.as_str()), ("alice", "laptop"));
///     assert!(tokens.revoke_api_token(&info.id).await.unwrap());
///     assert_eq!(tokens.lookup_api_token(token.expose_secret()).await.unwrap(), None);
///
///     let reset = tokens.issue_reset_token("alice", 7).await.unwrap();
///     let outcome = tokens.consume_reset_token(reset.expose_secret(), 7).await.unwrap();
///     assert_eq!(outcome, ResetOutcome::Valid { user_id: "alice".into() });
///     let again = tokens.consume_reset_token(reset.expose_secret(), 7).await.unwrap();
///     assert_eq!(again, ResetOutcome::Invalid);
///     tokens.shutdown().await;
/// }
/// ```
#[derive(Clone)]
pub struct TokenHandle {
    inner: Arc<Shared>,
}

impl std::fmt::Debug for TokenHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenHandle")
            .field("policy", &self.inner.policy)
            .field("cached_api_tokens", &self.inner.view.api.read().len())
            .finish()
    }
}

impl TokenHandle {
    pub(crate) fn new(
        addr: Addr<TokenActor>,
        view: Arc<TokenView>,
        policy: TokenPolicy,
        clock: SharedClock,
        timeout: Duration,
        arbiter: Arbiter,
    ) -> Self {
        Self {
            inner: Arc::new(Shared {
                addr,
                view,
                policy,
                clock,
                timeout,
                arbiter: Mutex::new(Some(arbiter)),
            }),
        }
    }

    /// The lifetimes and limits in force.
    pub fn policy(&self) -> &TokenPolicy {
        &self.inner.policy
    }

    async fn ask<M>(&self, msg: M) -> Result<M::Result, ActorError>
    where
        M: actix::Message + Send + 'static,
        M::Result: Send,
        TokenActor: actix::Handler<M>,
    {
        ask(NAME, &self.inner.addr, msg, self.inner.timeout).await
    }

    fn alive(&self) -> Result<(), ActorError> {
        if self.inner.view.is_alive() {
            Ok(())
        } else {
            Err(ActorError::Unavailable { actor: NAME })
        }
    }

    fn classify(&self, e: &ApiEntry) -> Option<ApiTokenInfo> {
        let now = self.inner.clock.now_millis();
        if e.info().is_expired(now) {
            return None;
        }
        e.touch(now);
        Some(e.snapshot())
    }

    /// Issues an API token for `user_id`. `expires_in` overrides the policy's default lifetime
    /// ([`TokenPolicy::api_default_ttl`]). Durable before it returns. If the user already holds
    /// [`TokenPolicy::max_api_tokens_per_user`] live tokens, the oldest are revoked.
    ///
    /// Returns the token (hand [`ApiToken::expose_secret`] to the user once; it cannot be
    /// recovered) and its public description.
    pub async fn issue_api_token(
        &self,
        user_id: &str,
        label: String,
        expires_in: Option<Duration>,
    ) -> Result<(ApiToken, ApiTokenInfo), ActorError> {
        let token = ApiToken::generate();
        let hash = token.hash();
        let ttl = expires_in.or(self.inner.policy.api_default_ttl);
        let now = self.inner.clock.now_millis();
        let info = ApiTokenInfo::new(&hash, user_id, &label, now, ttl);
        let info = self.ask(IssueApi { hash, info }).await??;
        Ok((token, info))
    }

    /// Looks an API token up (the bearer hot path). `Ok(None)` for a malformed, unknown,
    /// revoked or expired token; a malformed one (wrong length or prefix, not lowercase hex)
    /// is rejected without touching the actor or the store. A token in the view costs no
    /// message; a miss asks the actor to load it from the store. Fails closed with
    /// [`ActorError::Unavailable`] while the actor is down.
    pub async fn lookup_api_token(&self, token: &str) -> Result<Option<ApiTokenInfo>, ActorError> {
        let Some(hash) = parse(API_TOKEN_PREFIX, token) else {
            return Ok(None);
        };
        self.alive()?;
        if let Some(e) = self.inner.view.get(&hash) {
            return Ok(self.classify(&e));
        }
        Ok(self
            .ask(LoadApi(hash))
            .await??
            .and_then(|e| self.classify(&e)))
    }

    /// Revokes an API token by its public id ([`ApiTokenInfo::id`]). Durable, and out of the
    /// view, before it returns. Returns whether a live token was revoked; a malformed id is
    /// `Ok(false)`. The caller must check the token belongs to whoever asks; see
    /// [`TokenHandle::revoke_user_api_token`].
    pub async fn revoke_api_token(&self, token_id: &str) -> Result<bool, ActorError> {
        let Some(id) = parse_id(token_id) else {
            return Ok(false);
        };
        self.ask(RevokeApi { id, owner: None }).await?
    }

    /// Like [`TokenHandle::revoke_api_token`], but only if the token belongs to `user_id`
    /// (for "revoke my token" endpoints: another user's id is `Ok(false)`, as if unknown).
    pub async fn revoke_user_api_token(
        &self,
        user_id: &str,
        token_id: &str,
    ) -> Result<bool, ActorError> {
        let Some(id) = parse_id(token_id) else {
            return Ok(false);
        };
        let owner = Some(user_id.to_owned());
        self.ask(RevokeApi { id, owner }).await?
    }

    /// A user's live API tokens, oldest first.
    pub async fn list_api_tokens(&self, user_id: &str) -> Result<Vec<ApiTokenInfo>, ActorError> {
        self.ask(ListApi(user_id.to_owned())).await?
    }

    /// Revokes every API token of a user (account compromise, deletion). Durable, and out of
    /// the view, before it returns. Returns how many were revoked. Reset tokens are separate:
    /// see [`TokenHandle::revoke_reset_tokens`].
    pub async fn revoke_all_for_user(&self, user_id: &str) -> Result<usize, ActorError> {
        self.ask(RevokeAllApi(user_id.to_owned())).await?
    }

    /// Issues a password-reset token for `user_id`, recording `user_version` (the user's
    /// current session version): the token dies if the version changes. It expires after
    /// [`TokenPolicy::reset_ttl`]; the user's previous reset tokens are revoked. Durable.
    pub async fn issue_reset_token(
        &self,
        user_id: &str,
        user_version: u64,
    ) -> Result<ResetToken, ActorError> {
        let token = ResetToken::generate();
        let msg = IssueReset {
            hash: token.hash(),
            user_id: user_id.to_owned(),
            user_version,
        };
        self.ask(msg).await??;
        Ok(token)
    }

    /// The user a reset token is for, if it is live, without consuming it (to show the "new
    /// password" form, and to learn whose version to pass to
    /// [`TokenHandle::consume_reset_token`]).
    pub async fn peek_reset_token(&self, token: &str) -> Result<Option<String>, ActorError> {
        let Some(hash) = parse(RESET_TOKEN_PREFIX, token) else {
            return Ok(None);
        };
        Ok(self.ask(PeekReset(hash)).await??.map(|r| r.user_id))
    }

    /// Consumes a reset token: single use (the record is durably removed before `Valid` is
    /// answered; any later attempt is `Invalid`). `Invalid` too when the token is malformed,
    /// unknown, expired, or `current_version` (the user's session version now) differs from
    /// the one recorded at issue.
    pub async fn consume_reset_token(
        &self,
        token: &str,
        current_version: u64,
    ) -> Result<ResetOutcome, ActorError> {
        self.consume_reset_token_with(token, |_| async move { Ok(current_version) })
            .await
    }

    /// Like [`TokenHandle::consume_reset_token`], but reads the user's current version once
    /// the token has been taken, through `current_version(user_id)` (e.g. the session actor's
    /// `user_version`). If that fails the token is spent and the error is returned.
    pub async fn consume_reset_token_with<F, Fut>(
        &self,
        token: &str,
        current_version: F,
    ) -> Result<ResetOutcome, ActorError>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<u64, ActorError>>,
    {
        let Some(hash) = parse(RESET_TOKEN_PREFIX, token) else {
            return Ok(ResetOutcome::Invalid);
        };
        let Some(rec) = self.ask(TakeReset(hash)).await?? else {
            return Ok(ResetOutcome::Invalid);
        };
        if current_version(rec.user_id.clone()).await? != rec.user_version {
            return Ok(ResetOutcome::Invalid);
        }
        Ok(ResetOutcome::Valid {
            user_id: rec.user_id,
        })
    }

    /// Revokes every outstanding reset token of a user (e.g. after a password change).
    /// Durable. Returns how many were revoked.
    pub async fn revoke_reset_tokens(&self, user_id: &str) -> Result<usize, ActorError> {
        self.ask(RevokeResets(user_id.to_owned())).await?
    }

    /// Folds pending `last_used_at` updates into the store now (done every
    /// [`TokenPolicy::touch_interval`] anyway). Returns how many tokens were written.
    pub async fn fold_now(&self) -> Result<usize, ActorError> {
        self.ask(Fold).await?
    }

    /// Checks the actor and its store answer within the ask deadline.
    pub async fn ping(&self) -> Result<(), ActorError> {
        self.ask(Ping).await?
    }

    /// Stops the actor's arbiter and waits for it. Later calls fail closed with
    /// [`ActorError::Unavailable`]. Idempotent. (The runtime calls this on shutdown.)
    pub async fn shutdown(&self) {
        let Some(a) = self.inner.arbiter.lock().take() else {
            return;
        };
        a.stop();
        let _ = actix_rt::task::spawn_blocking(move || a.join()).await;
    }

    /// Test-only: makes the actor panic in a handler (to exercise supervision).
    #[cfg(any(test, feature = "test-util"))]
    pub async fn crash_for_tests(&self) -> Result<(), ActorError> {
        self.ask(Crash).await?
    }
}
