//! The signed session cookie value. (helper fills this in)

/// Placeholder.
#[derive(Debug)]
pub struct CookieSigner;
/// Placeholder.
#[derive(Debug)]
pub struct VerifiedCookie;
/// Placeholder.
#[derive(Debug)]
pub enum CookieError {}
