//! Opaque tokens: API (bearer) tokens and password-reset tokens, stored only hashed.
//!
//! A token is 32 bytes from the OS CSPRNG, written as a prefix and 64 lowercase hex characters
//! (`wdn_…` for API tokens, `wdr_…` for reset tokens; see [`ApiToken`], [`ResetToken`]). The
//! holder gets it once; the store keeps SHA-256 of it in
//! [`Keyspace::Tokens`](crate::store::Keyspace::Tokens), so a copy of the database yields no
//! usable token. Every record with a lifetime carries its expiry in the store, so the
//! sweeper removes expired tokens through the expiry index.
//!
//! One supervised actor owns every token write ([`start_tokens`]). API-token lookups, on every
//! bearer request, read a view the actor publishes and cost no message; a view miss asks the
//! actor to load the record. Reset tokens are rare and always go through the actor.
//!
//! Durability: issuing and revoking tokens and consuming reset tokens are on disk before they
//! are acknowledged; `last_used_at` is folded in periodically (buffered).

mod actor;
mod handle;
mod messages;
mod record;
mod secret;
mod view;

use std::{sync::Arc, time::Duration};

use actix::{Arbiter, Supervisor};

use self::{
    actor::TokenActor,
    view::{AliveGuard, TokenView},
};
pub use self::{
    handle::TokenHandle,
    record::{ApiTokenInfo, ResetOutcome, TokenPolicy, MAX_LABEL_CHARS},
    secret::{
        ApiToken, ResetToken, API_TOKEN_PREFIX, RESET_TOKEN_PREFIX, SECRET_BYTES, TOKEN_CHARS,
        TOKEN_ID_CHARS,
    },
};
use crate::{clock::SharedClock, store::Store};

/// Starts the token actor on its own arbiter, supervised, with a bounded mailbox of `mailbox`
/// messages; every ask waits at most `ask_timeout`. The arbiter lives in the returned handle's
/// shared state: it stops on [`TokenHandle::shutdown`] or when the last clone is dropped.
///
/// # Panics
///
/// Outside a running actix `System` (as any actix arbiter does).
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use warden_actors::{
///     store::{SledStore, Store},
///     tokens::{start_tokens, TokenPolicy},
///     StoreConfig, SystemClock,
/// };
///
/// #[actix::main]
/// async fn main() {
///     let store: Arc<dyn Store> =
///         Arc::new(SledStore::temporary(&StoreConfig::default(), Arc::new(SystemClock)).unwrap());
///     let tokens = start_tokens(
///         store,
///         Arc::new(SystemClock),
///         TokenPolicy::default(),
///         1024,
///         Duration::from_secs(2),
///     );
///     tokens.ping().await.unwrap();
///     assert_eq!(tokens.lookup_api_token("not a token").await.unwrap(), None);
/// }
/// ```
pub fn start_tokens(
    store: Arc<dyn Store>,
    clock: SharedClock,
    cfg: TokenPolicy,
    mailbox: usize,
    ask_timeout: Duration,
) -> TokenHandle {
    let view = Arc::new(TokenView::default());
    // Live from the start: lookups issued before the actor's `started` runs queue behind it
    // instead of failing. The guard clears the flag when the actor is gone.
    view.alive.store(true, std::sync::atomic::Ordering::SeqCst);
    let actor = TokenActor {
        policy: cfg.clone(),
        clock: clock.clone(),
        store,
        view: view.clone(),
        _alive: AliveGuard(view.clone()),
    };
    let arbiter = Arbiter::new();
    let cap = mailbox.max(1);
    let addr = Supervisor::start_in_arbiter(&arbiter.handle(), move |ctx| {
        ctx.set_mailbox_capacity(cap);
        actor
    });
    TokenHandle::new(addr, view, cfg, clock, ask_timeout, arbiter)
}
