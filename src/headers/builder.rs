//! [`SecurityHeadersConfigBuilder`]: starts from the defaults, validates in `build`.

use actix_web::http::header::{self, HeaderName, HeaderValue};

use super::{
    error::{check_item, check_text, HeaderConfigError},
    ContentSecurityPolicy, CrossOriginEmbedderPolicy, CrossOriginOpenerPolicy,
    CrossOriginResourcePolicy, FrameOptions, Hsts, PermissionsPolicy, ReferrerPolicy,
    SecurityHeadersConfig,
};

/// Builds a [`SecurityHeadersConfig`]; starts from the defaults, checks everything in
/// [`build`](Self::build).
///
/// `Option` setters take `None` to turn a header off.
#[derive(Debug, Clone)]
#[must_use]
pub struct SecurityHeadersConfigBuilder {
    c: SecurityHeadersConfig,
    csp_is_default: bool,
    errors: Vec<HeaderConfigError>,
    extra: Vec<(String, String)>,
}

impl Default for SecurityHeadersConfigBuilder {
    fn default() -> Self {
        Self {
            c: SecurityHeadersConfig {
                frame_options: Some(FrameOptions::Deny),
                content_type_options: true,
                referrer_policy: Some(ReferrerPolicy::StrictOriginWhenCrossOrigin),
                csp: Some(ContentSecurityPolicy::default()),
                csp_report_only: None,
                permissions_policy: Some(PermissionsPolicy::default()),
                coop: Some(CrossOriginOpenerPolicy::SameOrigin),
                corp: Some(CrossOriginResourcePolicy::SameOrigin),
                coep: None,
                hsts: Some(Hsts::default()),
                force_hsts: false,
                override_handler_headers: false,
                reporting_endpoints: Vec::new(),
                extra: Vec::new(),
                fixed: Vec::new(),
                hsts_value: None,
                nonced: Vec::new(),
            },
            csp_is_default: true,
            errors: Vec::new(),
            extra: Vec::new(),
        }
    }
}

impl SecurityHeadersConfigBuilder {
    /// `X-Frame-Options` (default `DENY`).
    pub fn frame_options(mut self, v: Option<FrameOptions>) -> Self {
        self.c.frame_options = v;
        self
    }

    /// `X-Content-Type-Options: nosniff` (default on).
    pub fn content_type_options(mut self, on: bool) -> Self {
        self.c.content_type_options = on;
        self
    }

    /// `Referrer-Policy` (default `strict-origin-when-cross-origin`).
    pub fn referrer_policy(mut self, v: Option<ReferrerPolicy>) -> Self {
        self.c.referrer_policy = v;
        self
    }

    /// Sets a CSP: a report-only policy (built with `report_only(true)`) goes out as
    /// `Content-Security-Policy-Report-Only`, next to the enforced one; an enforced policy
    /// replaces the default. Giving two policies of the same kind is an error.
    pub fn csp(mut self, policy: ContentSecurityPolicy) -> Self {
        if policy.is_report_only() {
            if self.c.csp_report_only.is_some() {
                self.errors.push(HeaderConfigError::DuplicatePolicy {
                    kind: "report-only",
                });
            }
            self.c.csp_report_only = Some(policy);
        } else {
            if self.c.csp.is_some() && !self.csp_is_default {
                self.errors
                    .push(HeaderConfigError::DuplicatePolicy { kind: "enforced" });
            }
            self.c.csp = Some(policy);
            self.csp_is_default = false;
        }
        self
    }

    /// No CSP at all (neither the default nor a report-only one set before).
    pub fn without_csp(mut self) -> Self {
        self.c.csp = None;
        self.c.csp_report_only = None;
        self.csp_is_default = false;
        self
    }

    /// `Permissions-Policy` (default camera, microphone and geolocation off).
    pub fn permissions_policy(mut self, v: Option<PermissionsPolicy>) -> Self {
        self.c.permissions_policy = v;
        self
    }

    /// `Cross-Origin-Opener-Policy` (default `same-origin`).
    pub fn cross_origin_opener_policy(mut self, v: Option<CrossOriginOpenerPolicy>) -> Self {
        self.c.coop = v;
        self
    }

    /// `Cross-Origin-Resource-Policy` (default `same-origin`).
    pub fn cross_origin_resource_policy(mut self, v: Option<CrossOriginResourcePolicy>) -> Self {
        self.c.corp = v;
        self
    }

    /// `Cross-Origin-Embedder-Policy` (default off).
    pub fn cross_origin_embedder_policy(mut self, v: Option<CrossOriginEmbedderPolicy>) -> Self {
        self.c.coep = v;
        self
    }

    /// `Strict-Transport-Security` (default two years with `includeSubDomains`), sent on
    /// HTTPS requests only unless [`force_hsts`](Self::force_hsts).
    pub fn hsts(mut self, v: Option<Hsts>) -> Self {
        self.c.hsts = v;
        self
    }

    /// Send HSTS on every response, even when the request did not arrive over HTTPS as far as
    /// warden can tell (TLS ends at a proxy that is not listed as trusted). Default off.
    pub fn force_hsts(mut self, on: bool) -> Self {
        self.c.force_hsts = on;
        self
    }

    /// Replace headers a handler set itself (default off: the handler's value is kept).
    pub fn override_handler_headers(mut self, on: bool) -> Self {
        self.c.override_handler_headers = on;
        self
    }

    /// Adds `name="url"` to `Reporting-Endpoints` (the groups of CSP `report-to`). The name
    /// is `[A-Za-z0-9_-]+`; the URL is `https://…` or a path starting with `/`.
    pub fn reporting_endpoint(mut self, name: &str, url: &str) -> Self {
        let name_ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
        if let Err(e) = check_item("Reporting-Endpoints", url) {
            self.errors.push(e);
        } else if !name_ok {
            let e = HeaderConfigError::invalid("Reporting-Endpoints", name, "not a group name");
            self.errors.push(e);
        } else if !(url.starts_with("https://") || url.starts_with('/')) {
            let why = "the URL must be https:// or a path starting with /";
            self.errors
                .push(HeaderConfigError::invalid("Reporting-Endpoints", url, why));
        } else {
            let entry = (name.to_owned(), url.to_owned());
            self.c.reporting_endpoints.push(entry);
        }
        self
    }

    /// Any other header (e.g. `Cache-Control`, `X-Robots-Tag`). The value must be printable
    /// ASCII; the headers above must be set with their own option.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.extra.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Validates and renders every header.
    ///
    /// # Errors
    ///
    /// The first [`HeaderConfigError`] found: an invalid value in any option, a duplicate
    /// policy, an inconsistent HSTS policy, or an extra header that is invalid or managed by
    /// an option of its own.
    pub fn build(self) -> Result<SecurityHeadersConfig, HeaderConfigError> {
        if let Some(e) = self.errors.into_iter().next() {
            return Err(e);
        }
        let mut c = self.c;
        let mut fixed: Vec<(HeaderName, String)> = Vec::new();
        if let Some(v) = c.frame_options {
            fixed.push((header::X_FRAME_OPTIONS, v.as_str().into()));
        }
        if c.content_type_options {
            fixed.push((header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()));
        }
        if let Some(v) = c.referrer_policy {
            fixed.push((header::REFERRER_POLICY, v.as_str().into()));
        }
        for policy in [&c.csp, &c.csp_report_only].into_iter().flatten() {
            if policy.uses_nonce() {
                check_text("Content-Security-Policy", &policy.render("AAAA"))?;
                c.nonced.push(policy.clone());
            } else {
                fixed.push((policy.header_name(), policy.render("")));
            }
        }
        if let Some(p) = &c.permissions_policy {
            let v = p.header_value()?;
            if !v.is_empty() {
                fixed.push((HeaderName::from_static("permissions-policy"), v));
            }
        }
        if let Some(v) = c.coop {
            fixed.push((header::CROSS_ORIGIN_OPENER_POLICY, v.as_str().into()));
        }
        if let Some(v) = c.corp {
            fixed.push((header::CROSS_ORIGIN_RESOURCE_POLICY, v.as_str().into()));
        }
        if let Some(v) = c.coep {
            fixed.push((header::CROSS_ORIGIN_EMBEDDER_POLICY, v.as_str().into()));
        }
        if !c.reporting_endpoints.is_empty() {
            let list: Vec<String> = c
                .reporting_endpoints
                .iter()
                .map(|(n, u)| format!("{n}=\"{u}\""))
                .collect();
            fixed.push((
                HeaderName::from_static("reporting-endpoints"),
                list.join(", "),
            ));
        }
        c.hsts_value = match &c.hsts {
            Some(h) => Some(value("Strict-Transport-Security", h.header_value()?)?),
            None => None,
        };
        let managed: Vec<HeaderName> = [
            header::STRICT_TRANSPORT_SECURITY,
            header::CONTENT_SECURITY_POLICY,
            header::CONTENT_SECURITY_POLICY_REPORT_ONLY,
            header::X_FRAME_OPTIONS,
            header::X_CONTENT_TYPE_OPTIONS,
            header::REFERRER_POLICY,
            header::CROSS_ORIGIN_OPENER_POLICY,
            header::CROSS_ORIGIN_RESOURCE_POLICY,
            header::CROSS_ORIGIN_EMBEDDER_POLICY,
            HeaderName::from_static("permissions-policy"),
            HeaderName::from_static("reporting-endpoints"),
        ]
        .into();
        for (name, v) in self.extra {
            let n = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| HeaderConfigError::InvalidHeaderName { name: name.clone() })?;
            if managed.contains(&n) || c.extra.iter().any(|(e, _)| *e == n) {
                let why = "set this header with its own option, once";
                return Err(HeaderConfigError::invalid(&name, &v, why));
            }
            check_text(&name, &v)?;
            c.extra.push((n, value(&name, v)?));
        }
        c.fixed = fixed
            .into_iter()
            .map(|(n, v)| Ok((n.clone(), value(n.as_str(), v)?)))
            .collect::<Result<_, HeaderConfigError>>()?;
        c.fixed.extend(c.extra.iter().cloned());
        Ok(c)
    }
}

/// A header value, checked once more (never the unchecked constructors).
fn value(what: &str, v: String) -> Result<HeaderValue, HeaderConfigError> {
    check_text(what, &v)?;
    HeaderValue::try_from(v.as_str())
        .map_err(|_| HeaderConfigError::invalid(what, &v, "not a valid header value"))
}
