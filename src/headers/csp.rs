//! [`ContentSecurityPolicy`]: a validated policy, rendered with or without a nonce.

use std::fmt;

use actix_web::http::header::{self, HeaderName};

use super::{CspBuilder, HeaderConfigError, Source};

/// What the nonce is replaced with in [`ContentSecurityPolicy`]'s `Display`.
const NONCE_PLACEHOLDER: &str = "{nonce}";

/// A validated Content Security Policy.
///
/// Build one with [`ContentSecurityPolicy::builder`] or [`ContentSecurityPolicy::parse`];
/// [`ContentSecurityPolicy::default`] is warden's strict default:
/// `default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self';
/// form-action 'self'`. `Display` renders the header value (with `'nonce-{nonce}'` where the
/// per-request nonce goes).
///
/// ```
/// use warden::headers::ContentSecurityPolicy;
///
/// let csp = ContentSecurityPolicy::parse("default-src 'self'; style-src 'self' 'unsafe-inline'")?;
/// assert!(!csp.is_strict());
/// assert_eq!(csp.weaknesses(), ["`style-src` allows 'unsafe-inline'"]);
/// assert!(ContentSecurityPolicy::parse("default-src 'self'\r\nX-Evil: 1").is_err());
/// assert!(ContentSecurityPolicy::parse("default-src self").is_err());
/// # Ok::<(), warden::headers::HeaderConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentSecurityPolicy {
    pub(super) directives: Vec<(String, Vec<String>)>,
    /// The header text split where the nonce goes (one segment: no nonce).
    pub(super) segments: Vec<String>,
    pub(super) report_only: bool,
}

impl Default for ContentSecurityPolicy {
    fn default() -> Self {
        Self::builder()
            .default_src([Source::SelfOrigin])
            .frame_ancestors([Source::None])
            .object_src([Source::None])
            .base_uri([Source::SelfOrigin])
            .form_action([Source::SelfOrigin])
            .build()
            .expect("the default policy is valid")
    }
}

impl ContentSecurityPolicy {
    /// A builder for a policy.
    pub fn builder() -> CspBuilder {
        CspBuilder::new()
    }

    /// Parses and validates an enforced policy written as text (no nonce).
    ///
    /// # Errors
    ///
    /// See [`CspBuilder::build`] and [`CspBuilder::policy`].
    pub fn parse(text: &str) -> Result<Self, HeaderConfigError> {
        CspBuilder::new().policy(text).build()
    }

    /// `Content-Security-Policy`, or `Content-Security-Policy-Report-Only`.
    pub fn header_name(&self) -> HeaderName {
        if self.report_only {
            header::CONTENT_SECURITY_POLICY_REPORT_ONLY
        } else {
            header::CONTENT_SECURITY_POLICY
        }
    }

    /// Whether violations are only reported.
    pub fn is_report_only(&self) -> bool {
        self.report_only
    }

    /// Whether a per-request nonce is inserted.
    pub fn uses_nonce(&self) -> bool {
        self.segments.len() > 1
    }

    /// The values of a directive (without the nonce), if the policy has it.
    pub fn directive(&self, name: &str) -> Option<&[String]> {
        self.directives
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The header value with `nonce` inserted where the policy takes one.
    pub fn render(&self, nonce: &str) -> String {
        self.segments.join(nonce)
    }

    /// Whether no [`weakness`](Self::weaknesses) was found.
    pub fn is_strict(&self) -> bool {
        self.weaknesses().is_empty()
    }

    /// What makes this policy weaker than a strict one: `'unsafe-inline'`, `'unsafe-eval'` or
    /// `'unsafe-hashes'` in any directive; scripts from any host (`*`), any `http:`/`https:`
    /// URL or `data:`/`blob:` URLs; no `script-src` nor `default-src` at all.
    pub fn weaknesses(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, values) in &self.directives {
            for kw in [
                Source::UnsafeInline,
                Source::UnsafeEval,
                Source::UnsafeHashes,
            ] {
                let kw = kw.to_string();
                if values.contains(&kw) {
                    out.push(format!("`{name}` allows {kw}"));
                }
            }
        }
        let scripts = ["script-src", "default-src"]
            .into_iter()
            .find_map(|n| self.directive(n).map(|v| (n, v)));
        match scripts {
            None => out.push("scripts are unrestricted (no script-src or default-src)".into()),
            Some((name, values)) => {
                for broad in ["*", "http:", "https:", "data:", "blob:"] {
                    if values.iter().any(|v| v == broad) {
                        out.push(format!("`{name}` allows scripts from {broad}"));
                    }
                }
            }
        }
        out
    }
}

impl fmt::Display for ContentSecurityPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(NONCE_PLACEHOLDER))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_nonce_derivation() {
        let d = ContentSecurityPolicy::default();
        assert_eq!(
            d.to_string(),
            "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'; \
             form-action 'self'"
        );
        assert!(d.is_strict() && !d.uses_nonce());
        let n = CspBuilder::new()
            .policy("default-src 'none'; style-src 'self'; frame-ancestors 'none'")
            .nonce(true)
            .build()
            .unwrap();
        assert_eq!(
            n.render("N"),
            "default-src 'none'; style-src 'self' 'nonce-N'; script-src 'nonce-N'; \
             frame-ancestors 'none'"
        );
        let bad = CspBuilder::new().policy("default-src 'self'; script-src 'none'");
        assert!(matches!(
            bad.nonce(true).build(),
            Err(HeaderConfigError::NonceWithNone { .. })
        ));
    }

    #[test]
    fn refusals() {
        for bad in [
            "default-src 'self', script-src *",
            "default-src 'self'; default-src *",
            "img-src 'self'",
            "default-src 'none' 'self'",
            "default-src 'self'; Sc!ript-src x",
            "default-src 'self'; report-uri /a\u{0}b",
            "default-src",
            "",
        ] {
            assert!(ContentSecurityPolicy::parse(bad).is_err(), "{bad:?}");
        }
        assert!(CspBuilder::new()
            .default_src([Source::SelfOrigin])
            .report_to("a;b")
            .build()
            .is_err());
    }
}
