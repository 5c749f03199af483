//! Sessions: server-side, revocable, rotating, persisted.
//!
//! [`SessionMiddleware`] loads the session named by the signed cookie from the session actor's
//! read view; the [`Session`] extractor reads and changes it; the middleware persists the
//! changes after the handler. The session lives on the server (`warden_actors::session`): a
//! logged-out or purged cookie is dead everywhere, timeouts are enforced on the server, and
//! tokens rotate on login.
//!
//! The cookie carries the 256-bit token signed with HMAC-SHA256 under the current secret key
//! ([`CookieSigner`]); cookies signed with a previous key are accepted and re-issued under the
//! current one. Anything malformed, forged, oversized or expired is "no session" (never a
//! 500), recorded as a throttled `session.cookie.invalid` event.

mod cookie_token;
mod middleware;
mod state;

pub use cookie_token::{CookieError, CookieSigner, VerifiedCookie, MAX_COOKIE_LEN};
pub use middleware::{InnerSessionMiddleware, SessionMiddleware};
pub use state::{Session, SessionError, SessionStatus};
