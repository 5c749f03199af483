//! `[headers]` → [`HeadersSettings`]: every value is checked by building it with the
//! [`headers`](crate::headers) module itself, so the configuration accepts exactly what the
//! middleware can send.

use std::time::Duration;

use serde::de::{value::StrDeserializer, Deserialize, IntoDeserializer};

use super::{raw::RawHeaders, validate::Errors, HeadersSettings};
use crate::headers::{
    ContentSecurityPolicy, CspBuilder, FrameOptions, HeaderConfigError, Hsts, PermissionsPolicy,
    SecurityHeadersConfig,
};

/// The smallest `headers.hsts_max_age_secs` accepted in production (one year).
const MIN_PRODUCTION_HSTS: u64 = 31_536_000;

pub(super) fn headers(raw: &RawHeaders, production: bool, errors: &mut Errors) -> HeadersSettings {
    let before = errors.0.len();

    let frame_options = frame_options(&raw.frame_options, errors);
    let referrer_policy = header_enum(
        "headers.referrer_policy",
        "Referrer-Policy",
        &raw.referrer_policy,
        errors,
    );
    let cross_origin_opener_policy = header_enum(
        "headers.cross_origin_opener_policy",
        "Cross-Origin-Opener-Policy",
        &raw.cross_origin_opener_policy,
        errors,
    );
    let cross_origin_resource_policy = header_enum(
        "headers.cross_origin_resource_policy",
        "Cross-Origin-Resource-Policy",
        &raw.cross_origin_resource_policy,
        errors,
    );
    let cross_origin_embedder_policy = header_enum(
        "headers.cross_origin_embedder_policy",
        "Cross-Origin-Embedder-Policy",
        &raw.cross_origin_embedder_policy,
        errors,
    );

    const CSP: &str = "headers.content_security_policy";
    let content_security_policy = match raw.content_security_policy.trim() {
        "" => {
            if production {
                errors.push(
                    CSP,
                    "production requires a Content-Security-Policy (the default is a strict \
                     one: remove the key to use it)",
                );
            }
            None
        }
        text => csp(CSP, text, false, raw.csp_nonce, errors),
    };
    if let Some(policy) = &content_security_policy {
        let weaknesses = policy.weaknesses();
        if !weaknesses.is_empty() {
            let list = weaknesses.join(", ");
            if production {
                errors.push(
                    CSP,
                    format!(
                        "production requires a strict policy (no 'unsafe-inline', \
                         'unsafe-eval' or 'unsafe-hashes', no scripts from `*`, `http:`, \
                         `https:`, `data:` or `blob:`), but {list}; mark inline scripts and \
                         styles with the per-request nonce (`headers.csp_nonce = true`) instead"
                    ),
                );
            } else {
                tracing::warn!(
                    target: "warden::config",
                    "{CSP}: the policy is not strict ({list}): it does less to stop injected \
                     scripts; the production profile refuses it"
                );
            }
        }
    }

    const REPORT_ONLY: &str = "headers.csp_report_only";
    let csp_report_only = match raw.csp_report_only.as_deref().map(str::trim) {
        None => None,
        Some("") => {
            errors.push(
                REPORT_ONLY,
                "must not be empty (omit the key for no report-only policy)",
            );
            None
        }
        Some(text) => csp(REPORT_ONLY, text, true, raw.csp_nonce, errors),
    };

    let permissions_policy = match raw.permissions_policy.trim() {
        "" => None,
        text => match permissions_policy(text) {
            Ok(policy) => Some(policy),
            Err(why) => {
                errors.push("headers.permissions_policy", why);
                None
            }
        },
    };

    let hsts = hsts(raw, production, errors);

    if production && frame_options.is_none() {
        let frame_ancestors = content_security_policy
            .as_ref()
            .is_some_and(|p| p.directive("frame-ancestors").is_some());
        if !frame_ancestors {
            errors.push(
                "headers.frame_options",
                "production refuses to turn X-Frame-Options off while the \
                 Content-Security-Policy has no `frame-ancestors` directive: nothing would stop \
                 other sites from framing the pages (clickjacking)",
            );
        }
    }

    let mut settings = HeadersSettings {
        frame_options,
        content_type_options: raw.content_type_options,
        referrer_policy,
        content_security_policy,
        csp_nonce: raw.csp_nonce,
        csp_report_only,
        permissions_policy,
        cross_origin_opener_policy,
        cross_origin_resource_policy,
        cross_origin_embedder_policy,
        hsts,
        force_hsts: raw.force_hsts,
        override_handler_headers: raw.override_handler_headers,
        middleware: SecurityHeadersConfig::default(),
    };
    // Every part was built above; this catches what only the whole can refuse.
    if errors.0.len() == before {
        match settings.to_middleware_config() {
            Ok(middleware) => settings.middleware = middleware,
            Err(e) => errors.push("headers", e.to_string()),
        }
    }
    settings
}

/// `DENY`, `SAMEORIGIN` (also `same-origin`), case-insensitively, or `""` (off).
fn frame_options(value: &str, errors: &mut Errors) -> Option<FrameOptions> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" => None,
        "deny" => Some(FrameOptions::Deny),
        "sameorigin" | "same-origin" => Some(FrameOptions::SameOrigin),
        _ => {
            let why = if value.trim().to_ascii_lowercase().starts_with("allow-from") {
                " (`ALLOW-FROM` is obsolete and ignored by browsers: list the allowed framers in \
                 the CSP's `frame-ancestors` instead)"
            } else {
                ""
            };
            errors.push(
                "headers.frame_options",
                format!(
                    "`{}` is not a valid X-Frame-Options value; expected \"DENY\", \
                     \"SAMEORIGIN\" or \"\" (off){why}",
                    value.escape_default()
                ),
            );
            None
        }
    }
}

/// A header whose typed value deserializes from its header text (kebab-case), or `""` (off).
fn header_enum<T>(key: &str, header: &str, value: &str, errors: &mut Errors) -> Option<T>
where
    T: for<'de> Deserialize<'de>,
{
    let text = value.trim().to_ascii_lowercase();
    if text.is_empty() {
        return None;
    }
    let de: StrDeserializer<'_, serde::de::value::Error> = text.as_str().into_deserializer();
    match T::deserialize(de) {
        Ok(v) => Some(v),
        Err(e) => {
            // serde's message: "unknown variant `x`, expected one of `a`, `b`".
            let expected = e
                .to_string()
                .split_once("expected ")
                .map_or_else(String::new, |(_, list)| format!("; expected {list}"));
            errors.push(
                key,
                format!(
                    "`{}` is not a valid {header} value{expected}, or \"\" (off)",
                    value.escape_default()
                ),
            );
            None
        }
    }
}

/// Parses and validates a policy; a nonce error names `headers.csp_nonce`.
fn csp(
    key: &str,
    text: &str,
    report_only: bool,
    nonce: bool,
    errors: &mut Errors,
) -> Option<ContentSecurityPolicy> {
    let built = CspBuilder::new()
        .policy(text)
        .report_only(report_only)
        .nonce(nonce)
        .build();
    match built {
        Ok(policy) => Some(policy),
        Err(e @ HeaderConfigError::NonceWithNone { .. }) => {
            errors.push(
                "headers.csp_nonce",
                format!(
                    "cannot apply to `{key}`: {e} (allow scripts and styles with a nonce, or \
                     set `headers.csp_nonce = false`)"
                ),
            );
            None
        }
        Err(e) => {
            errors.push(key, e.to_string());
            None
        }
    }
}

/// `feature=(allowlist), ...` as written in the header (`feature=*` and `feature=self` too);
/// origins may be quoted. Validated by [`PermissionsPolicy::header_value`].
fn permissions_policy(text: &str) -> Result<PermissionsPolicy, String> {
    let mut policy = PermissionsPolicy::new();
    for item in text.split(',') {
        let item = item.trim();
        let Some((feature, allowlist)) = item.split_once('=') else {
            return Err(format!(
                "`{}` is not `feature=(allowlist)` (e.g. `camera=()` or \
                 `fullscreen=(self \"https://player.example.com\")`)",
                item.escape_default()
            ));
        };
        let allowlist = allowlist.trim();
        let inner = match allowlist.strip_prefix('(') {
            Some(rest) => rest.strip_suffix(')').ok_or_else(|| {
                format!(
                    "`{}`: the allowlist of `{}` has no closing `)`",
                    item.escape_default(),
                    feature.trim().escape_default()
                )
            })?,
            None => allowlist,
        };
        let origins: Vec<&str> = inner
            .split_ascii_whitespace()
            .map(|o| {
                o.strip_prefix('"')
                    .and_then(|o| o.strip_suffix('"'))
                    .unwrap_or(o)
            })
            .collect();
        policy = policy.allow(feature.trim(), origins);
    }
    policy.header_value().map_err(|e| e.to_string())?;
    Ok(policy)
}

/// `Strict-Transport-Security` from `hsts_*`; `None` for `hsts_max_age_secs = 0`.
fn hsts(raw: &RawHeaders, production: bool, errors: &mut Errors) -> Option<Hsts> {
    const MAX_AGE: &str = "headers.hsts_max_age_secs";
    let secs = raw.hsts_max_age_secs;
    if production && secs < MIN_PRODUCTION_HSTS {
        let got = if secs == 0 {
            "0 (no HSTS)".to_owned()
        } else {
            secs.to_string()
        };
        errors.push(
            MAX_AGE,
            format!(
                "production requires at least {MIN_PRODUCTION_HSTS} (one year), got {got}: a \
                 shorter HSTS policy leaves browsers open to SSL stripping once it lapses"
            ),
        );
    }
    if secs == 0 {
        if raw.hsts_preload {
            errors.push(
                "headers.hsts_preload",
                "needs HSTS: `headers.hsts_max_age_secs` is 0 (set it to at least 31536000)",
            );
        }
        if raw.force_hsts {
            errors.push(
                "headers.force_hsts",
                "has no effect: `headers.hsts_max_age_secs` is 0, so no HSTS is sent",
            );
        }
        return None;
    }
    let hsts = Hsts::new(Duration::from_secs(secs))
        .include_subdomains(raw.hsts_include_subdomains)
        .preload(raw.hsts_preload);
    match hsts.header_value() {
        Ok(_) => Some(hsts),
        Err(_) => {
            errors.push(
                "headers.hsts_preload",
                format!(
                    "the HSTS preload list requires `headers.hsts_include_subdomains = true` \
                     and `headers.hsts_max_age_secs` of at least 31536000 (one year), got \
                     includeSubDomains = {} and max-age = {secs}",
                    raw.hsts_include_subdomains
                ),
            );
            None
        }
    }
}
