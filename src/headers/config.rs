//! [`SecurityHeadersConfig`] and its builder.

use actix_web::http::header::{self, HeaderName, HeaderValue};

use super::{
    ContentSecurityPolicy, CrossOriginEmbedderPolicy, CrossOriginOpenerPolicy,
    CrossOriginResourcePolicy, FrameOptions, Hsts, PermissionsPolicy, ReferrerPolicy,
    SecurityHeadersConfigBuilder,
};

/// The headers [`SecurityHeadersMiddleware`](super::SecurityHeadersMiddleware) writes,
/// validated and pre-rendered.
///
/// Defaults (every one can be changed or turned off with the builder):
///
/// | header | default |
/// |---|---|
/// | `X-Frame-Options` | `DENY` |
/// | `X-Content-Type-Options` | `nosniff` |
/// | `Referrer-Policy` | `strict-origin-when-cross-origin` |
/// | `Content-Security-Policy` | `default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'` |
/// | `Permissions-Policy` | `camera=(), microphone=(), geolocation=()` |
/// | `Cross-Origin-Opener-Policy` | `same-origin` |
/// | `Cross-Origin-Resource-Policy` | `same-origin` |
/// | `Strict-Transport-Security` | `max-age=63072000; includeSubDomains`, on HTTPS requests only |
///
/// `Cross-Origin-Embedder-Policy`, a report-only CSP, `Reporting-Endpoints` and extra headers
/// are off. Headers a handler set itself are kept (`override_handler_headers` off).
///
/// ```
/// use warden::headers::{ContentSecurityPolicy, ReferrerPolicy, SecurityHeadersConfig};
///
/// let config = SecurityHeadersConfig::builder()
///     .referrer_policy(Some(ReferrerPolicy::SameOrigin))
///     .csp(ContentSecurityPolicy::parse("default-src 'none'; frame-ancestors 'none'")?)
///     .header("x-robots-tag", "noindex")
///     .build()?;
/// assert_eq!(config.referrer_policy(), Some(ReferrerPolicy::SameOrigin));
///
/// // Header injection is refused when the configuration is built.
/// assert!(SecurityHeadersConfig::builder().header("x-a", "1\r\nSet-Cookie: a=b").build().is_err());
/// # Ok::<(), warden::headers::HeaderConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SecurityHeadersConfig {
    pub(super) frame_options: Option<FrameOptions>,
    pub(super) content_type_options: bool,
    pub(super) referrer_policy: Option<ReferrerPolicy>,
    pub(super) csp: Option<ContentSecurityPolicy>,
    pub(super) csp_report_only: Option<ContentSecurityPolicy>,
    pub(super) permissions_policy: Option<PermissionsPolicy>,
    pub(super) coop: Option<CrossOriginOpenerPolicy>,
    pub(super) corp: Option<CrossOriginResourcePolicy>,
    pub(super) coep: Option<CrossOriginEmbedderPolicy>,
    pub(super) hsts: Option<Hsts>,
    pub(super) force_hsts: bool,
    pub(super) override_handler_headers: bool,
    pub(super) reporting_endpoints: Vec<(String, String)>,
    pub(super) extra: Vec<(HeaderName, HeaderValue)>,
    /// Every header that does not depend on the request, in order.
    pub(super) fixed: Vec<(HeaderName, HeaderValue)>,
    pub(super) hsts_value: Option<HeaderValue>,
    /// The CSPs that take a per-request nonce.
    pub(super) nonced: Vec<ContentSecurityPolicy>,
}

impl Default for SecurityHeadersConfig {
    fn default() -> Self {
        Self::builder()
            .build()
            .expect("the default security headers are valid")
    }
}

impl SecurityHeadersConfig {
    /// A builder starting from the secure defaults.
    pub fn builder() -> SecurityHeadersConfigBuilder {
        SecurityHeadersConfigBuilder::default()
    }

    /// `X-Frame-Options`.
    pub fn frame_options(&self) -> Option<FrameOptions> {
        self.frame_options
    }

    /// Whether `X-Content-Type-Options: nosniff` is sent.
    pub fn content_type_options(&self) -> bool {
        self.content_type_options
    }

    /// `Referrer-Policy`.
    pub fn referrer_policy(&self) -> Option<ReferrerPolicy> {
        self.referrer_policy
    }

    /// The enforced `Content-Security-Policy`.
    pub fn csp(&self) -> Option<&ContentSecurityPolicy> {
        self.csp.as_ref()
    }

    /// The `Content-Security-Policy-Report-Only` policy.
    pub fn csp_report_only(&self) -> Option<&ContentSecurityPolicy> {
        self.csp_report_only.as_ref()
    }

    /// `Permissions-Policy`.
    pub fn permissions_policy(&self) -> Option<&PermissionsPolicy> {
        self.permissions_policy.as_ref()
    }

    /// `Cross-Origin-Opener-Policy`.
    pub fn cross_origin_opener_policy(&self) -> Option<CrossOriginOpenerPolicy> {
        self.coop
    }

    /// `Cross-Origin-Resource-Policy`.
    pub fn cross_origin_resource_policy(&self) -> Option<CrossOriginResourcePolicy> {
        self.corp
    }

    /// `Cross-Origin-Embedder-Policy`.
    pub fn cross_origin_embedder_policy(&self) -> Option<CrossOriginEmbedderPolicy> {
        self.coep
    }

    /// `Strict-Transport-Security`.
    pub fn hsts(&self) -> Option<Hsts> {
        self.hsts
    }

    /// Whether HSTS is sent on every response, HTTPS or not.
    pub fn force_hsts(&self) -> bool {
        self.force_hsts
    }

    /// Whether these headers replace the same headers set by a handler.
    pub fn override_handler_headers(&self) -> bool {
        self.override_handler_headers
    }

    /// Whether a per-request CSP nonce is drawn.
    pub fn uses_nonce(&self) -> bool {
        !self.nonced.is_empty()
    }

    /// The names of every header this configuration may write (HSTS included).
    pub fn header_names(&self) -> Vec<HeaderName> {
        let mut names: Vec<HeaderName> = self.fixed.iter().map(|(n, _)| n.clone()).collect();
        names.extend(self.nonced.iter().map(ContentSecurityPolicy::header_name));
        if self.hsts_value.is_some() {
            names.push(header::STRICT_TRANSPORT_SECURITY);
        }
        names
    }
}
