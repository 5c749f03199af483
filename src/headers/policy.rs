//! The typed values of the non-CSP security headers.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::{check_item, HeaderConfigError};

macro_rules! header_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// The header value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }
    };
}

header_enum! {
    /// `X-Frame-Options` (legacy; CSP `frame-ancestors` is the modern control).
    /// In TOML: `"deny"`, `"same-origin"`.
    FrameOptions {
        /// `DENY` (default).
        Deny => "DENY",
        /// `SAMEORIGIN`.
        SameOrigin => "SAMEORIGIN",
    }
}

header_enum! {
    /// `Referrer-Policy`; the serde names are the header values.
    ReferrerPolicy {
        /// `no-referrer`.
        NoReferrer => "no-referrer",
        /// `no-referrer-when-downgrade`.
        NoReferrerWhenDowngrade => "no-referrer-when-downgrade",
        /// `origin`.
        Origin => "origin",
        /// `origin-when-cross-origin`.
        OriginWhenCrossOrigin => "origin-when-cross-origin",
        /// `same-origin`.
        SameOrigin => "same-origin",
        /// `strict-origin`.
        StrictOrigin => "strict-origin",
        /// `strict-origin-when-cross-origin` (default).
        StrictOriginWhenCrossOrigin => "strict-origin-when-cross-origin",
        /// `unsafe-url`.
        UnsafeUrl => "unsafe-url",
    }
}

header_enum! {
    /// `Cross-Origin-Opener-Policy`; the serde names are the header values.
    CrossOriginOpenerPolicy {
        /// `same-origin` (default).
        SameOrigin => "same-origin",
        /// `same-origin-allow-popups`.
        SameOriginAllowPopups => "same-origin-allow-popups",
        /// `noopener-allow-popups`.
        NoopenerAllowPopups => "noopener-allow-popups",
        /// `unsafe-none`.
        UnsafeNone => "unsafe-none",
    }
}

header_enum! {
    /// `Cross-Origin-Resource-Policy`; the serde names are the header values.
    CrossOriginResourcePolicy {
        /// `same-origin` (default).
        SameOrigin => "same-origin",
        /// `same-site`.
        SameSite => "same-site",
        /// `cross-origin` (public assets).
        CrossOrigin => "cross-origin",
    }
}

header_enum! {
    /// `Cross-Origin-Embedder-Policy` (off by default); the serde names are the header values.
    CrossOriginEmbedderPolicy {
        /// `require-corp`.
        RequireCorp => "require-corp",
        /// `credentialless`.
        Credentialless => "credentialless",
        /// `unsafe-none`.
        UnsafeNone => "unsafe-none",
    }
}

/// One year, the minimum `max-age` of the HSTS preload list.
const ONE_YEAR: u64 = 31_536_000;

/// `Strict-Transport-Security`. Default: `max-age=63072000; includeSubDomains` (two years).
///
/// ```
/// use std::time::Duration;
/// use warden::headers::Hsts;
///
/// assert_eq!(Hsts::default().header_value()?, "max-age=63072000; includeSubDomains");
/// let preload = Hsts::new(Duration::from_secs(63_072_000)).preload(true);
/// assert_eq!(preload.header_value()?, "max-age=63072000; includeSubDomains; preload");
/// // The preload list needs a year or more and includeSubDomains.
/// assert!(Hsts::new(Duration::from_secs(600)).preload(true).header_value().is_err());
/// # Ok::<(), warden::headers::HeaderConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Hsts {
    max_age: Duration,
    include_subdomains: bool,
    preload: bool,
}

impl Default for Hsts {
    fn default() -> Self {
        Self::new(Duration::from_secs(63_072_000))
    }
}

impl Hsts {
    /// `max-age` (whole seconds), with `includeSubDomains` and without `preload`.
    pub fn new(max_age: Duration) -> Self {
        Self {
            max_age,
            include_subdomains: true,
            preload: false,
        }
    }

    /// Whether to add `includeSubDomains` (default on).
    pub fn include_subdomains(mut self, on: bool) -> Self {
        self.include_subdomains = on;
        self
    }

    /// Whether to add `preload` (default off; needs `includeSubDomains` and a year or more).
    pub fn preload(mut self, on: bool) -> Self {
        self.preload = on;
        self
    }

    /// The `max-age`.
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// The header value.
    ///
    /// # Errors
    ///
    /// `preload` with a `max-age` under one year or without `includeSubDomains`.
    pub fn header_value(&self) -> Result<String, HeaderConfigError> {
        let secs = self.max_age.as_secs();
        if self.preload && (secs < ONE_YEAR || !self.include_subdomains) {
            return Err(HeaderConfigError::invalid(
                "Strict-Transport-Security",
                &format!("max-age={secs}"),
                "preload needs max-age of at least 31536000 (one year) and includeSubDomains",
            ));
        }
        let mut v = format!("max-age={secs}");
        if self.include_subdomains {
            v.push_str("; includeSubDomains");
        }
        if self.preload {
            v.push_str("; preload");
        }
        Ok(v)
    }
}

/// `Permissions-Policy`: which browser features the page may use, and for whom.
///
/// Default: `camera=(), microphone=(), geolocation=()` (all three off). Feature names and
/// origins are validated when the configuration is built.
///
/// ```
/// use warden::headers::PermissionsPolicy;
///
/// let p = PermissionsPolicy::new()
///     .deny("camera")
///     .allow("fullscreen", ["self", "https://player.example.com"]);
/// assert_eq!(p.header_value()?, r#"camera=(), fullscreen=(self "https://player.example.com")"#);
/// assert!(PermissionsPolicy::new().deny("camera=(*)").header_value().is_err());
/// # Ok::<(), warden::headers::HeaderConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct PermissionsPolicy {
    features: Vec<(String, Vec<String>)>,
}

impl Default for PermissionsPolicy {
    fn default() -> Self {
        Self::new()
            .deny("camera")
            .deny("microphone")
            .deny("geolocation")
    }
}

impl PermissionsPolicy {
    /// An empty policy.
    pub fn new() -> Self {
        Self {
            features: Vec::new(),
        }
    }

    /// `feature=()`: off for everyone.
    pub fn deny(self, feature: &str) -> Self {
        self.allow(feature, Vec::<String>::new())
    }

    /// `feature=(…)`: on for `self`, `*` or origins such as `https://a.example.com`.
    pub fn allow<I, S>(mut self, feature: &str, allowlist: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let list = allowlist.into_iter().map(Into::into).collect();
        self.features.push((feature.to_owned(), list));
        self
    }

    /// The header value.
    ///
    /// # Errors
    ///
    /// A feature name that is not `[a-z0-9-]+`, a feature listed twice, or an allowlist entry
    /// that is not `self`, `*` or a `scheme://host[:port]` origin.
    pub fn header_value(&self) -> Result<String, HeaderConfigError> {
        const WHAT: &str = "Permissions-Policy";
        let mut parts = Vec::with_capacity(self.features.len());
        for (i, (feature, list)) in self.features.iter().enumerate() {
            let name_ok = !feature.is_empty()
                && feature
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !name_ok {
                check_item(WHAT, feature)?;
                return Err(HeaderConfigError::invalid(
                    WHAT,
                    feature,
                    "not a feature name",
                ));
            }
            if self.features[..i].iter().any(|(f, _)| f == feature) {
                return Err(HeaderConfigError::invalid(WHAT, feature, "listed twice"));
            }
            let mut items = Vec::with_capacity(list.len());
            for origin in list {
                check_item(WHAT, origin)?;
                items.push(match origin.as_str() {
                    "self" | "*" => origin.clone(),
                    o if is_origin(o) => format!("\"{o}\""),
                    o => {
                        return Err(HeaderConfigError::invalid(
                            WHAT,
                            o,
                            "expected self, * or an origin such as https://a.example.com",
                        ))
                    }
                });
            }
            parts.push(format!("{feature}=({})", items.join(" ")));
        }
        Ok(parts.join(", "))
    }
}

/// `scheme://host[:port]`, no path.
fn is_origin(s: &str) -> bool {
    let Some((scheme, authority)) = s.split_once("://") else {
        return false;
    };
    let host_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    !scheme.is_empty()
        && scheme.chars().all(|c| c.is_ascii_alphanumeric())
        && !authority.is_empty()
        && authority.chars().all(host_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        assert_eq!(
            PermissionsPolicy::default().header_value().unwrap(),
            "camera=(), microphone=(), geolocation=()"
        );
        assert_eq!(
            ReferrerPolicy::StrictOriginWhenCrossOrigin.as_str(),
            "strict-origin-when-cross-origin"
        );
        let p: ReferrerPolicy = serde_json::from_str("\"no-referrer\"").unwrap();
        assert_eq!(p, ReferrerPolicy::NoReferrer);
        assert!(PermissionsPolicy::new()
            .deny("camera")
            .deny("camera")
            .header_value()
            .is_err());
        assert!(PermissionsPolicy::new()
            .allow("camera", ["https://a.example/path"])
            .header_value()
            .is_err());
        assert!(PermissionsPolicy::new()
            .allow("camera", ["https://a\r\n.example"])
            .header_value()
            .is_err());
    }
}
