//! [`CspBuilder`]: builds and validates a [`ContentSecurityPolicy`].

use super::{
    csp::ContentSecurityPolicy,
    error::{check_item, check_text, HeaderConfigError},
    source::{parse_in, Source},
};

/// Directives whose values are source lists (they take `'none'`, hosts, schemes...).
fn is_source_list(name: &str) -> bool {
    name.ends_with("-src")
        || matches!(
            name,
            "base-uri" | "form-action" | "frame-ancestors" | "navigate-to"
        )
}

/// The directives a per-request nonce goes into (the first two are added when absent).
const NONCE_DIRECTIVES: [&str; 4] = [
    "script-src",
    "style-src",
    "script-src-elem",
    "style-src-elem",
];

#[derive(Debug, Clone)]
enum Value {
    Source(Source),
    Text(String),
}

/// Builds a [`ContentSecurityPolicy`]; every check runs in [`build`](Self::build).
///
/// Typed methods exist for the common directives; [`directive`](Self::directive) adds any
/// other (its values are parsed as sources when the name ends in `-src`). Directives render in
/// the order they were added.
///
/// ```
/// use warden::headers::{ContentSecurityPolicy, Source};
///
/// let csp = ContentSecurityPolicy::builder()
///     .default_src([Source::SelfOrigin])
///     .img_src([Source::SelfOrigin, Source::scheme("data")])
///     .script_src([Source::SelfOrigin, Source::host("https://cdn.example.com")])
///     .object_src([Source::None])
///     .report_to("csp")
///     .build()?;
/// assert_eq!(
///     csp.to_string(),
///     "default-src 'self'; img-src 'self' data:; script-src 'self' https://cdn.example.com; \
///      object-src 'none'; report-to csp"
/// );
/// assert!(csp.is_strict());
/// # Ok::<(), warden::headers::HeaderConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct CspBuilder {
    directives: Vec<(String, Vec<Value>)>,
    errors: Vec<HeaderConfigError>,
    report_only: bool,
    nonce: bool,
    require_default_src: bool,
}

impl Default for CspBuilder {
    fn default() -> Self {
        Self {
            directives: Vec::new(),
            errors: Vec::new(),
            report_only: false,
            nonce: false,
            require_default_src: true,
        }
    }
}

macro_rules! typed {
    ($($(#[$doc:meta])* $fn:ident => $name:literal;)*) => {$(
        $(#[$doc])*
        pub fn $fn(self, sources: impl IntoIterator<Item = Source>) -> Self {
            self.push($name, sources.into_iter().map(Value::Source).collect())
        }
    )*};
}

impl CspBuilder {
    /// An empty policy (see [`ContentSecurityPolicy::default`] for the strict default).
    pub fn new() -> Self {
        Self::default()
    }

    fn push(mut self, name: &str, values: Vec<Value>) -> Self {
        self.directives.push((name.to_owned(), values));
        self
    }

    typed! {
        /// `default-src`: the fallback of every fetch directive not listed.
        default_src => "default-src";
        /// `script-src`.
        script_src => "script-src";
        /// `style-src`.
        style_src => "style-src";
        /// `img-src`.
        img_src => "img-src";
        /// `connect-src` (fetch, XHR, WebSocket, EventSource).
        connect_src => "connect-src";
        /// `font-src`.
        font_src => "font-src";
        /// `frame-ancestors`: who may frame the page (`'none'` is the modern X-Frame-Options DENY).
        frame_ancestors => "frame-ancestors";
        /// `object-src` (plugins; `'none'` recommended).
        object_src => "object-src";
        /// `base-uri` (what `<base href>` may be).
        base_uri => "base-uri";
        /// `form-action` (where forms may submit).
        form_action => "form-action";
    }

    /// Any directive, e.g. `("worker-src", ["'self'"])`, `("sandbox", ["allow-forms"])` or
    /// `("upgrade-insecure-requests", [])`. Names are lowercased and must be `[a-z0-9-]+`;
    /// values of `*-src`, `base-uri`, `form-action` and `frame-ancestors` are parsed as
    /// [`Source`]s, other values must be single items (no space, `;`, `,`, quote or control
    /// character).
    pub fn directive<I, S>(self, name: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let values = values.into_iter().map(|v| Value::Text(v.into())).collect();
        self.push(&name.to_ascii_lowercase(), values)
    }

    /// `upgrade-insecure-requests`.
    pub fn upgrade_insecure_requests(self) -> Self {
        self.push("upgrade-insecure-requests", Vec::new())
    }

    /// `report-to <group>`: the reporting group (declare its URL with
    /// [`SecurityHeadersConfigBuilder::reporting_endpoint`](super::SecurityHeadersConfigBuilder::reporting_endpoint)).
    pub fn report_to(self, group: &str) -> Self {
        self.push("report-to", vec![Value::Text(group.to_owned())])
    }

    /// `report-uri <uri>` (deprecated in favour of `report-to`, still the one most browsers
    /// honour).
    pub fn report_uri(self, uri: &str) -> Self {
        self.push("report-uri", vec![Value::Text(uri.to_owned())])
    }

    /// Report violations without enforcing: the header becomes
    /// `Content-Security-Policy-Report-Only`. Default: enforce.
    pub fn report_only(mut self, on: bool) -> Self {
        self.report_only = on;
        self
    }

    /// A fresh nonce per request (≥ 128 bits from the OS CSPRNG, base64) inserted as
    /// `'nonce-…'` into `script-src` and `style-src` (each added, with `default-src`'s
    /// sources, when absent) and into `script-src-elem`/`style-src-elem` when present. Read it
    /// in handlers with the [`CspNonce`](super::CspNonce) extractor. Default: off.
    pub fn nonce(mut self, on: bool) -> Self {
        self.nonce = on;
        self
    }

    /// Accept a policy without `default-src` (e.g. the nonce-only `script-src 'strict-dynamic'`
    /// style). By default its absence is a construction error.
    pub fn without_default_src(mut self) -> Self {
        self.require_default_src = false;
        self
    }

    /// Adds every directive of a policy written as text (`"default-src 'self'; img-src *"`).
    /// A `,` (which would start a second policy) or a control character is an error,
    /// reported by [`build`](Self::build).
    pub fn policy(mut self, text: &str) -> Self {
        if let Err(e) = check_text("Content-Security-Policy", text) {
            self.errors.push(e);
            return self;
        }
        if text.contains(',') {
            self.errors.push(HeaderConfigError::Separator {
                what: "Content-Security-Policy".into(),
                value: text.to_owned(),
                ch: ',',
            });
            return self;
        }
        for part in text.split(';') {
            let mut words = part.split_ascii_whitespace();
            if let Some(name) = words.next() {
                self = self.directive(name, words);
            }
        }
        self
    }

    /// Validates and builds the policy.
    ///
    /// # Errors
    ///
    /// [`HeaderConfigError`] for an invalid or duplicate directive, an invalid source, an
    /// empty source list, `'none'` with other sources, a missing `default-src` (unless
    /// [`without_default_src`](Self::without_default_src)), a nonce for a `'none'` directive,
    /// or an empty policy.
    pub fn build(self) -> Result<ContentSecurityPolicy, HeaderConfigError> {
        if let Some(e) = self.errors.into_iter().next() {
            return Err(e);
        }
        let mut directives: Vec<(String, Vec<String>)> = Vec::new();
        for (name, values) in self.directives {
            let valid_name = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !valid_name {
                return Err(HeaderConfigError::InvalidDirectiveName { name });
            }
            if directives.iter().any(|(n, _)| *n == name) {
                return Err(HeaderConfigError::DuplicateDirective { name });
            }
            let rendered = render_values(&name, values)?;
            directives.push((name, rendered));
        }
        if directives.is_empty() {
            return Err(HeaderConfigError::invalid(
                "Content-Security-Policy",
                "",
                "the policy has no directive",
            ));
        }
        let has = |d: &[(String, Vec<String>)], n: &str| d.iter().any(|(k, _)| k == n);
        if self.require_default_src && !has(&directives, "default-src") {
            return Err(HeaderConfigError::MissingDefaultSrc);
        }
        let mut nonced = Vec::new();
        if self.nonce {
            derive_nonce_directives(&mut directives, &mut nonced)?;
        }
        let segments = render_segments(&directives, &nonced);
        Ok(ContentSecurityPolicy {
            directives,
            segments,
            report_only: self.report_only,
        })
    }
}

fn render_values(name: &str, values: Vec<Value>) -> Result<Vec<String>, HeaderConfigError> {
    let mut out = Vec::with_capacity(values.len());
    if is_source_list(name) {
        let mut sources = Vec::with_capacity(values.len());
        for v in values {
            let s = match v {
                Value::Source(s) => {
                    s.validate(name)?;
                    s
                }
                Value::Text(t) => parse_in(name, &t)?,
            };
            sources.push(s);
        }
        if sources.is_empty() {
            return Err(HeaderConfigError::EmptyDirective { name: name.into() });
        }
        if sources.len() > 1 && sources.contains(&Source::None) {
            return Err(HeaderConfigError::NoneWithOthers { name: name.into() });
        }
        out.extend(sources.iter().map(ToString::to_string));
    } else {
        for v in values {
            let text = match v {
                Value::Source(s) => s.to_string(),
                Value::Text(t) => t,
            };
            check_item(name, &text)?;
            if text.is_empty() {
                return Err(HeaderConfigError::invalid(name, "", "empty value"));
            }
            out.push(text);
        }
    }
    Ok(out)
}

/// Adds `script-src`/`style-src` (from `default-src`) where absent, and lists the indices of
/// the directives that receive the nonce.
fn derive_nonce_directives(
    directives: &mut Vec<(String, Vec<String>)>,
    nonced: &mut Vec<usize>,
) -> Result<(), HeaderConfigError> {
    let none = Source::None.to_string();
    for (i, name) in NONCE_DIRECTIVES.iter().enumerate() {
        match directives.iter().position(|(n, _)| n == name) {
            Some(at) if directives[at].1.contains(&none) => {
                return Err(HeaderConfigError::NonceWithNone {
                    name: (*name).to_owned(),
                })
            }
            Some(at) => nonced.push(at),
            None if i < 2 => {
                let base = match directives.iter().find(|(n, _)| n == "default-src") {
                    Some((_, values)) => values.clone(),
                    None => Vec::new(),
                };
                // Right after the last of default-src, script-src and style-src.
                let at = directives
                    .iter()
                    .rposition(|(n, _)| {
                        ["default-src", "script-src", "style-src"].contains(&n.as_str())
                    })
                    .map_or(0, |p| p + 1);
                let base = base.into_iter().filter(|s| *s != none).collect();
                for idx in nonced.iter_mut().filter(|idx| **idx >= at) {
                    *idx += 1;
                }
                directives.insert(at, ((*name).to_owned(), base));
                nonced.push(at);
            }
            None => {}
        }
    }
    Ok(())
}

/// The header text split where the nonce goes: `segments.join(nonce)`.
fn render_segments(directives: &[(String, Vec<String>)], nonced: &[usize]) -> Vec<String> {
    let mut segments = Vec::new();
    let mut cur = String::new();
    for (i, (name, values)) in directives.iter().enumerate() {
        if i > 0 {
            cur.push_str("; ");
        }
        cur.push_str(name);
        for v in values {
            cur.push(' ');
            cur.push_str(v);
        }
        if nonced.contains(&i) {
            cur.push_str(" 'nonce-");
            segments.push(std::mem::replace(&mut cur, "'".to_owned()));
        }
    }
    segments.push(cur);
    segments
}
