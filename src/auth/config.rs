//! [`AuthConfig`]: Chirp's authentication settings, with its defaults.

/// Settings of [`AuthMiddleware`](super::AuthMiddleware).
///
/// ```
/// use warden::auth::AuthConfig;
///
/// let cfg = AuthConfig::default().login_url("/signin");
/// assert_eq!(cfg.login_url, "/signin");
/// assert_eq!(cfg.bearer_scheme, "Bearer");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthConfig {
    /// Where anonymous browsers are sent (with `?next=`). Default: `/login`.
    pub login_url: String,
    /// The header carrying bearer tokens. Default: `Authorization`.
    pub bearer_header: String,
    /// The scheme of bearer tokens (case-insensitive). Default: `Bearer`.
    pub bearer_scheme: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            login_url: "/login".into(),
            bearer_header: "authorization".into(),
            bearer_scheme: "Bearer".into(),
        }
    }
}

impl AuthConfig {
    /// Sets [`AuthConfig::login_url`].
    #[must_use]
    pub fn login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = url.into();
        self
    }
    /// Sets [`AuthConfig::bearer_header`] (lowercased).
    #[must_use]
    pub fn bearer_header(mut self, h: impl Into<String>) -> Self {
        self.bearer_header = h.into().to_ascii_lowercase();
        self
    }
    /// Sets [`AuthConfig::bearer_scheme`].
    #[must_use]
    pub fn bearer_scheme(mut self, s: impl Into<String>) -> Self {
        self.bearer_scheme = s.into();
        self
    }
}
