//! Authentication and authorization: who the request is from, and what they may do.
//!
//! - [`AuthMiddleware`] resolves the current user from a bearer token or the session (with the
//!   session-version check), after [`SessionMiddleware`](crate::session::SessionMiddleware).
//! - [`CurrentUser`] / [`MaybeUser`] extractors; [`CurrentUser`] is `login_required`.
//! - [`LoginRequired`] and [`Requires`] (permissions and async object-level policies) as
//!   middleware on scopes and resources; every refusal is the same 403.
//! - [`Accounts`]: login, logout, password change, password reset, API tokens.
//! - [`is_safe_url`] for `next` parameters.
//!
//! The application provides its users through [`UserStore`].

mod config;
mod flows;
mod guard;
mod identity;
mod middleware;
mod redirect;
mod user;

pub use self::{
    config::AuthConfig,
    flows::{clear_site_data, Accounts, PasswordChange, ResetCompletion, ResetNotifier},
    guard::{InnerGuard, LoginRequired, PolicyFn, Requires},
    identity::{is_api_request, AuthMethod, CurrentUser, MaybeUser},
    middleware::{AuthMiddleware, InnerAuthMiddleware},
    redirect::is_safe_url,
    user::{SharedUserStore, User, UserStore, UserStoreError},
};
