//! [`Source`]: one CSP source expression, parsed and validated.

use std::fmt;

use super::error::{check_item, HeaderConfigError};

/// The hash algorithm of a CSP hash source (`'sha256-…'`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// `sha256`.
    Sha256,
    /// `sha384`.
    Sha384,
    /// `sha512`.
    Sha512,
}

impl HashAlgorithm {
    fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sha384 => "sha384",
            HashAlgorithm::Sha512 => "sha512",
        }
    }

    /// Length of the base64 digest, with padding.
    fn digest_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 44,
            HashAlgorithm::Sha384 => 64,
            HashAlgorithm::Sha512 => 88,
        }
    }
}

/// One source expression of a CSP fetch directive.
///
/// Keywords render quoted (`'self'`); [`Source::host`], [`Source::scheme`] and
/// [`Source::Hash`] carry text that is validated when the policy is built (a `;`, `,`, space,
/// quote or control character there is a construction error). A per-request nonce is not a
/// source you write: turn on [`CspBuilder::nonce`](super::CspBuilder::nonce).
///
/// ```
/// use warden::headers::Source;
///
/// assert_eq!(Source::parse("'self'").unwrap(), Source::SelfOrigin);
/// assert_eq!(Source::parse("https:").unwrap(), Source::scheme("https"));
/// assert_eq!(Source::host("*.example.com").to_string(), "*.example.com");
/// assert!(Source::parse("self").is_err()); // keywords must be quoted
/// assert!(Source::parse("a.example;b").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Source {
    /// `'self'`: the document's own origin.
    SelfOrigin,
    /// `'none'`: nothing (must be the directive's only source).
    None,
    /// `'strict-dynamic'`: trust scripts loaded by nonce'd or hashed scripts.
    StrictDynamic,
    /// `'unsafe-inline'`: inline scripts or styles. Makes the policy non-strict.
    UnsafeInline,
    /// `'unsafe-eval'`: `eval()` and friends. Makes the policy non-strict.
    UnsafeEval,
    /// `'unsafe-hashes'`: hashed inline event handlers. Makes the policy non-strict.
    UnsafeHashes,
    /// `'wasm-unsafe-eval'`: WebAssembly compilation.
    WasmUnsafeEval,
    /// `'report-sample'`: include a sample of the violating code in reports.
    ReportSample,
    /// A scheme source, without the colon: `Scheme("https")` renders `https:`.
    Scheme(String),
    /// A host source: `example.com`, `*.example.com`, `https://cdn.example.com:443/path/`,
    /// or `*` (any host; makes the policy non-strict in `script-src`).
    Host(String),
    /// A hash source: `'sha256-<base64 digest>'`.
    Hash {
        /// The algorithm.
        algorithm: HashAlgorithm,
        /// The base64 digest.
        digest: String,
    },
}

const KEYWORDS: [(&str, Source); 8] = [
    ("self", Source::SelfOrigin),
    ("none", Source::None),
    ("strict-dynamic", Source::StrictDynamic),
    ("unsafe-inline", Source::UnsafeInline),
    ("unsafe-eval", Source::UnsafeEval),
    ("unsafe-hashes", Source::UnsafeHashes),
    ("wasm-unsafe-eval", Source::WasmUnsafeEval),
    ("report-sample", Source::ReportSample),
];

impl Source {
    /// A host source (validated when the policy is built).
    pub fn host(host: impl Into<String>) -> Self {
        Source::Host(host.into())
    }

    /// A scheme source such as `https` or `data` (without the colon; validated when the
    /// policy is built).
    pub fn scheme(scheme: impl Into<String>) -> Self {
        Source::Scheme(scheme.into())
    }

    /// Whether this source weakens a policy (`'unsafe-inline'`, `'unsafe-eval'`,
    /// `'unsafe-hashes'`).
    pub fn is_unsafe(&self) -> bool {
        matches!(
            self,
            Source::UnsafeInline | Source::UnsafeEval | Source::UnsafeHashes
        )
    }

    /// Parses one source expression as written in a policy.
    ///
    /// # Errors
    ///
    /// [`HeaderConfigError`] for control characters, separators, unquoted keywords
    /// (`self`), unknown quoted keywords, static nonces, and malformed schemes, hosts, ports,
    /// paths or hashes.
    pub fn parse(text: &str) -> Result<Self, HeaderConfigError> {
        parse_in("source", text)
    }

    pub(crate) fn validate(&self, directive: &str) -> Result<(), HeaderConfigError> {
        match self {
            Source::Scheme(_) | Source::Host(_) | Source::Hash { .. } => {
                let text = self.to_string();
                if parse_in(directive, &text)? == *self {
                    Ok(())
                } else {
                    Err(bad(directive, &text, "not in canonical form"))
                }
            }
            _ => Ok(()),
        }
    }
}

fn bad(directive: &str, value: &str, reason: &str) -> HeaderConfigError {
    HeaderConfigError::InvalidSource {
        directive: directive.to_owned(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

pub(crate) fn parse_in(directive: &str, text: &str) -> Result<Source, HeaderConfigError> {
    check_item(directive, text)?;
    if text.is_empty() {
        return Err(bad(directive, text, "empty source"));
    }
    if let Some(inner) = text.strip_prefix('\'') {
        let inner = inner
            .strip_suffix('\'')
            .ok_or_else(|| bad(directive, text, "unterminated quote"))?;
        let lower = inner.to_ascii_lowercase();
        if let Some((_, kw)) = KEYWORDS.iter().find(|(k, _)| *k == lower) {
            return Ok(kw.clone());
        }
        if lower.starts_with("nonce-") {
            return Err(bad(
                directive,
                text,
                "a fixed nonce defeats its purpose; enable the per-request nonce instead",
            ));
        }
        return parse_hash(directive, text, inner);
    }
    if text.contains('\'') {
        return Err(bad(directive, text, "misplaced quote"));
    }
    let lower = text.to_ascii_lowercase();
    if KEYWORDS.iter().any(|(k, _)| *k == lower) {
        return Err(bad(
            directive,
            text,
            "keywords must be single-quoted (write 'self', not self)",
        ));
    }
    if let Some(scheme) = text.strip_suffix(':') {
        return if is_scheme(scheme) {
            Ok(Source::Scheme(scheme.to_owned()))
        } else {
            Err(bad(directive, text, "invalid scheme"))
        };
    }
    check_host_source(text).map_err(|why| bad(directive, text, why))?;
    Ok(Source::Host(text.to_owned()))
}

fn parse_hash(directive: &str, text: &str, inner: &str) -> Result<Source, HeaderConfigError> {
    let (alg, digest) = inner
        .split_once('-')
        .ok_or_else(|| bad(directive, text, "unknown keyword"))?;
    let algorithm = match alg.to_ascii_lowercase().as_str() {
        "sha256" => HashAlgorithm::Sha256,
        "sha384" => HashAlgorithm::Sha384,
        "sha512" => HashAlgorithm::Sha512,
        _ => return Err(bad(directive, text, "unknown keyword")),
    };
    let body = digest.trim_end_matches('=');
    let base64_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_');
    if digest.len() != algorithm.digest_len()
        || body.is_empty()
        || !body.chars().all(base64_char)
        || digest.len() - body.len() > 2
    {
        return Err(bad(
            directive,
            text,
            "a hash source is the base64 digest of the algorithm's full length",
        ));
    }
    Ok(Source::Hash {
        algorithm,
        digest: digest.to_owned(),
    })
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// `[scheme "://"] host [":" port] [path]` per CSP Level 3 `host-source`.
fn check_host_source(text: &str) -> Result<(), &'static str> {
    let rest = match text.split_once("://") {
        Some((scheme, rest)) if is_scheme(scheme) => rest,
        Some(_) => return Err("invalid scheme"),
        None => text,
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if host != "*" {
        let name = host.strip_prefix("*.").unwrap_or(host);
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if !name.split('.').all(label_ok) {
            return Err("invalid host (letters, digits, `-` and `.`, optionally `*.` first)");
        }
    }
    if let Some(p) = port {
        let digits = !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit());
        if !(p == "*" || digits && p.parse::<u16>().is_ok()) {
            return Err("invalid port");
        }
    }
    let path_char = |c: char| {
        c.is_ascii_alphanumeric() || "-._~!$&()*+=:@/%".contains(c) // no `;` `,` `'` `"`
    };
    if !path.chars().all(path_char) {
        return Err("invalid path character");
    }
    Ok(())
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((k, _)) = KEYWORDS.iter().find(|(_, s)| s == self) {
            return write!(f, "'{k}'");
        }
        match self {
            Source::Scheme(s) => write!(f, "{s}:"),
            Source::Host(h) => f.write_str(h),
            Source::Hash { algorithm, digest } => write!(f, "'{}-{digest}'", algorithm.name()),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        for ok in [
            "'self'",
            "'NONE'",
            "'strict-dynamic'",
            "https:",
            "data:",
            "*",
            "example.com",
            "*.example.com",
            "https://cdn.example.com:443/js/",
            "https://*.example.com:*",
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
        ] {
            assert!(Source::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "self",
            "'unknown'",
            "'nonce-abc'",
            "'self",
            "a'b",
            "exa mple.com",
            "a;b",
            "a,b",
            "a\r\nb",
            "ex_ample.com",
            "example.com:99999",
            "https://a.example/x;y",
            "1http:",
            "'sha256-short'",
            "",
        ] {
            assert!(Source::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Source::host("a.example; script-src *")
            .validate("x")
            .is_err());
        assert!(Source::scheme("https:").validate("x").is_err());
        assert_eq!(Source::parse("'SELF'").unwrap().to_string(), "'self'");
    }
}
