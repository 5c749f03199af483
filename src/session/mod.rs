//! Sessions: the actix-web side. (work in progress)

mod cookie_token;

pub use cookie_token::{CookieError, CookieSigner, VerifiedCookie};
