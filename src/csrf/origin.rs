//! The Origin and Fetch Metadata checks for unsafe requests (security-standards §2.2, steps 2
//! to 4b), as one pure function: [`check_origin`].
//!
//! | `Sec-Fetch-Site` | condition | verdict |
//! |---|---|---|
//! | `same-origin` | | [`Pass`](OriginVerdict::Pass) (the token decides) |
//! | `cross-site` | `Origin` is a trusted origin | `Pass` |
//! | `cross-site` | otherwise | `cross_site` |
//! | `same-site` | `Origin` is a trusted origin | `Pass` |
//! | `same-site` | `trust_same_site` off | `same_site` |
//! | `same-site` | `trust_same_site` on | `Origin`, if present, must be own or trusted |
//! | `none` or absent | `Origin` present | it must be own or trusted (`origin_null`, `origin_malformed`, `origin_mismatch`) |
//! | `none` or absent | no `Origin`, HTTPS | `Referer` must be present, parse, be `https` and have an own or trusted origin (`referer_missing`, `referer_malformed`, `referer_insecure`, `referer_mismatch`) |
//! | `none` or absent | no `Origin`, plain HTTP | `Pass` (the token decides) |
//! | anything else, or repeated | | `fetch_site_malformed` |
//!
//! Origins are compared as whole origins (scheme, host, port) after normalisation: scheme and
//! host lowercased, default ports (`:443` for https, `:80` for http) removed, IPv6 literals
//! canonicalised. The parser is strict: `scheme://host[:port]` with no path (not even `/`), no
//! user info, no query or fragment, ASCII only. The application's own origin comes from
//! configuration, never from `Host` or `X-Forwarded-Host`.

use std::net::Ipv6Addr;

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue, ORIGIN, REFERER};

/// The longest `Origin` value looked at, in bytes. Longer values are `origin_malformed`.
const MAX_ORIGIN_LEN: usize = 512;

/// The longest `Referer` value looked at, in bytes. Longer values are `referer_malformed`.
const MAX_REFERER_LEN: usize = 8 * 1024;

/// The `Sec-Fetch-Site` request header.
fn sec_fetch_site() -> HeaderName {
    HeaderName::from_static("sec-fetch-site")
}

/// What [`check_origin`] compares requests against.
///
/// The configured origins are normalised on every check (cheap), so they may be written with
/// any case, a default port or a trailing `/`; an entry that is not a valid origin never
/// matches anything. Use [`normalize_origin`] to validate them at start-up.
///
/// ```
/// use warden::csrf::OriginPolicy;
///
/// let policy = OriginPolicy::new("https://app.example.com");
/// assert!(policy.https);
/// assert!(!policy.trust_same_site);
/// assert!(policy.trusted_origins.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPolicy {
    /// The application's own public origin, e.g. `https://app.example.com` (from
    /// configuration, never from request headers).
    pub own_origin: String,
    /// Other origins allowed to send unsafe requests, even cross-site (e.g. a separate front
    /// end). Exact origins only, no wildcards.
    pub trusted_origins: Vec<String>,
    /// Accept `Sec-Fetch-Site: same-site` (sibling subdomains) when the `Origin`, if present,
    /// is the own or a trusted origin. Off by default: `same-site` is refused unless `Origin`
    /// is a trusted origin.
    pub trust_same_site: bool,
    /// The application is served over HTTPS: without `Origin` (and without a decisive
    /// `Sec-Fetch-Site`), a matching `https` `Referer` is required.
    pub https: bool,
}

impl OriginPolicy {
    /// A policy for `own_origin` with no trusted origins, `same-site` refused, and `https` set
    /// when `own_origin` starts with `https://` (case-insensitive).
    pub fn new(own_origin: impl Into<String>) -> Self {
        let own_origin = own_origin.into();
        let https = own_origin
            .trim_start()
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
        OriginPolicy {
            own_origin,
            trusted_origins: Vec::new(),
            trust_same_site: false,
            https,
        }
    }
}

/// The outcome of [`check_origin`].
///
/// ```
/// use warden::csrf::OriginVerdict;
///
/// assert!(OriginVerdict::Pass.is_pass());
/// assert_eq!(OriginVerdict::Reject("origin_null").reason(), Some("origin_null"));
/// assert_eq!(OriginVerdict::Pass.reason(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginVerdict {
    /// Nothing here says the request is cross-origin: continue to the token check.
    Pass,
    /// Refuse the request (403). The reason is a short stable code for logs and audit events:
    /// `cross_site`, `same_site`, `fetch_site_malformed`, `origin_null`, `origin_malformed`,
    /// `origin_mismatch`, `referer_missing`, `referer_malformed`, `referer_insecure` or
    /// `referer_mismatch`. It never contains header values.
    Reject(&'static str),
}

impl OriginVerdict {
    /// Whether the verdict is [`Pass`](OriginVerdict::Pass).
    pub fn is_pass(&self) -> bool {
        matches!(self, OriginVerdict::Pass)
    }

    /// The reason code of a rejection, `None` for [`Pass`](OriginVerdict::Pass).
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            OriginVerdict::Pass => None,
            OriginVerdict::Reject(reason) => Some(reason),
        }
    }
}

/// Applies the Fetch Metadata / Origin / Referer decision table (security-standards §2.2) to
/// an unsafe request's headers. Pure; never panics, whatever the headers.
///
/// Call it only for unsafe methods and non-exempt paths; a [`Pass`](OriginVerdict::Pass) still
/// needs a valid token.
///
/// ```
/// use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue, ORIGIN};
/// use warden::csrf::{check_origin, OriginPolicy, OriginVerdict};
///
/// let policy = OriginPolicy::new("https://app.example.com");
/// let mut headers = HeaderMap::new();
/// headers.insert(
///     HeaderName::from_static("sec-fetch-site"),
///     HeaderValue::from_static("cross-site"),
/// );
/// headers.insert(ORIGIN, HeaderValue::from_static("https://evil.example"));
/// assert_eq!(check_origin(&headers, &policy), OriginVerdict::Reject("cross_site"));
///
/// let mut headers = HeaderMap::new();
/// headers.insert(ORIGIN, HeaderValue::from_static("https://app.example.com:443"));
/// assert_eq!(check_origin(&headers, &policy), OriginVerdict::Pass);
///
/// let mut headers = HeaderMap::new();
/// headers.insert(ORIGIN, HeaderValue::from_static("https://app.example.com.evil"));
/// assert_eq!(check_origin(&headers, &policy), OriginVerdict::Reject("origin_mismatch"));
/// ```
pub fn check_origin(headers: &HeaderMap, cfg: &OriginPolicy) -> OriginVerdict {
    let origin = single(headers, &ORIGIN);
    let fetch_site = match single(headers, &sec_fetch_site()) {
        Single::Absent => FetchSite::Absent,
        Single::One(value) => match value.to_str().map(str::trim) {
            Ok(v) if v.eq_ignore_ascii_case("same-origin") => FetchSite::SameOrigin,
            Ok(v) if v.eq_ignore_ascii_case("same-site") => FetchSite::SameSite,
            Ok(v) if v.eq_ignore_ascii_case("cross-site") => FetchSite::CrossSite,
            Ok(v) if v.eq_ignore_ascii_case("none") => FetchSite::Absent,
            _ => return OriginVerdict::Reject("fetch_site_malformed"),
        },
        Single::Many => return OriginVerdict::Reject("fetch_site_malformed"),
    };
    match fetch_site {
        FetchSite::SameOrigin => OriginVerdict::Pass,
        FetchSite::CrossSite => {
            if origin_is_trusted(&origin, cfg) {
                OriginVerdict::Pass
            } else {
                OriginVerdict::Reject("cross_site")
            }
        }
        FetchSite::SameSite => {
            if origin_is_trusted(&origin, cfg) {
                OriginVerdict::Pass
            } else if !cfg.trust_same_site {
                OriginVerdict::Reject("same_site")
            } else {
                // The browser vouches that the request is same-site; with `trust_same_site`
                // any well-formed, non-null `Origin` (a sibling) is accepted. The token is
                // still required.
                match check_origin_header(&origin, cfg) {
                    OriginVerdict::Reject("origin_mismatch") => OriginVerdict::Pass,
                    other => other,
                }
            }
        }
        FetchSite::Absent => match origin {
            Single::Absent if cfg.https => check_referer(headers, cfg),
            Single::Absent => OriginVerdict::Pass,
            present => check_origin_header(&present, cfg),
        },
    }
}

/// Normalises a configured origin: trims surrounding whitespace and one trailing `/`, then
/// parses `scheme://host[:port]` strictly and returns it lowercased with any default port
/// removed (`https://App.Example.com:443/` → `https://app.example.com`). `None` if it is not a
/// valid origin (path, query, user info, bad port, `null`, ...).
///
/// ```
/// use warden::csrf::normalize_origin;
///
/// assert_eq!(
///     normalize_origin("https://App.Example.com:443/").as_deref(),
///     Some("https://app.example.com")
/// );
/// assert_eq!(
///     normalize_origin("http://localhost:8080").as_deref(),
///     Some("http://localhost:8080")
/// );
/// assert_eq!(normalize_origin("https://app.example.com/path"), None);
/// assert_eq!(normalize_origin("null"), None);
/// ```
pub fn normalize_origin(value: &str) -> Option<String> {
    parse_configured(value).map(|o| o.serialize())
}

/// `Sec-Fetch-Site`, with `none` folded into `Absent`.
enum FetchSite {
    Absent,
    SameOrigin,
    SameSite,
    CrossSite,
}

/// A header that should appear at most once.
enum Single<'a> {
    Absent,
    One(&'a HeaderValue),
    Many,
}

fn single<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Single<'a> {
    let mut values = headers.get_all(name);
    match (values.next(), values.next()) {
        (None, _) => Single::Absent,
        (Some(v), None) => Single::One(v),
        (Some(_), Some(_)) => Single::Many,
    }
}

/// A parsed, normalised origin.
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    /// Lowercase.
    scheme: String,
    /// Lowercase reg-name or IPv4, or a canonical bracketed IPv6 literal.
    host: String,
    /// `None` when absent or the scheme's default.
    port: Option<u16>,
}

impl Origin {
    fn serialize(&self) -> String {
        match self.port {
            Some(port) => format!("{}://{}:{port}", self.scheme, self.host),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }
}

/// Whether a single `Origin` header is exactly one of the trusted origins (not the own origin).
fn origin_is_trusted(origin: &Single<'_>, cfg: &OriginPolicy) -> bool {
    let Single::One(value) = origin else {
        return false;
    };
    value
        .to_str()
        .ok()
        .and_then(parse_origin_header)
        .is_some_and(|o| is_in(&o, &cfg.trusted_origins))
}

/// A present `Origin` header must be the own or a trusted origin.
fn check_origin_header(origin: &Single<'_>, cfg: &OriginPolicy) -> OriginVerdict {
    let value = match origin {
        Single::Absent => return OriginVerdict::Pass,
        Single::Many => return OriginVerdict::Reject("origin_malformed"),
        Single::One(value) => value,
    };
    let Ok(value) = value.to_str() else {
        return OriginVerdict::Reject("origin_malformed");
    };
    if value.trim().eq_ignore_ascii_case("null") {
        return OriginVerdict::Reject("origin_null");
    }
    match parse_origin_header(value) {
        None => OriginVerdict::Reject("origin_malformed"),
        Some(o) if is_own_or_trusted(&o, cfg) => OriginVerdict::Pass,
        Some(_) => OriginVerdict::Reject("origin_mismatch"),
    }
}

/// Without `Origin` over HTTPS: `Referer` must be a single, well-formed `https` URL whose origin
/// is the own or a trusted origin.
fn check_referer(headers: &HeaderMap, cfg: &OriginPolicy) -> OriginVerdict {
    let value = match single(headers, &REFERER) {
        Single::Absent => return OriginVerdict::Reject("referer_missing"),
        Single::Many => return OriginVerdict::Reject("referer_malformed"),
        Single::One(value) => value,
    };
    let Ok(value) = value.to_str() else {
        return OriginVerdict::Reject("referer_malformed");
    };
    if value.len() > MAX_REFERER_LEN {
        return OriginVerdict::Reject("referer_malformed");
    }
    let Some((scheme, rest)) = value.split_once("://") else {
        return OriginVerdict::Reject("referer_malformed");
    };
    if !is_scheme(scheme) {
        return OriginVerdict::Reject("referer_malformed");
    }
    if !scheme.eq_ignore_ascii_case("https") {
        return OriginVerdict::Reject("referer_insecure");
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..authority_end).unwrap_or_default();
    match parse_authority(authority) {
        None => OriginVerdict::Reject("referer_malformed"),
        Some((host, port)) => {
            let o = origin_of("https", host, port);
            if is_own_or_trusted(&o, cfg) {
                OriginVerdict::Pass
            } else {
                OriginVerdict::Reject("referer_mismatch")
            }
        }
    }
}

fn is_own_or_trusted(o: &Origin, cfg: &OriginPolicy) -> bool {
    parse_configured(&cfg.own_origin).is_some_and(|own| own == *o) || is_in(o, &cfg.trusted_origins)
}

fn is_in(o: &Origin, configured: &[String]) -> bool {
    configured
        .iter()
        .any(|c| parse_configured(c).is_some_and(|c| c == *o))
}

/// A configured origin: surrounding whitespace and one trailing `/` tolerated.
fn parse_configured(value: &str) -> Option<Origin> {
    let value = value.trim();
    parse_origin_header(value.strip_suffix('/').unwrap_or(value))
}

/// An `Origin` header value (RFC 6454 serialisation): `scheme://host[:port]`, nothing else.
fn parse_origin_header(value: &str) -> Option<Origin> {
    if value.is_empty() || value.len() > MAX_ORIGIN_LEN {
        return None;
    }
    let (scheme, authority) = value.split_once("://")?;
    if !is_scheme(scheme) {
        return None;
    }
    let (host, port) = parse_authority(authority)?;
    Some(origin_of(scheme, host, port))
}

fn origin_of(scheme: &str, host: String, port: Option<u16>) -> Origin {
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    };
    Origin {
        port: port.filter(|p| Some(*p) != default_port),
        scheme,
        host,
    }
}

/// RFC 3986 scheme: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// `host[:port]`, where host is a reg-name of `[A-Za-z0-9._-]` (lowercased) or a bracketed
/// IPv6 literal (canonicalised), and port is 1 to 5 digits, 1 to 65535. No user info, no
/// percent-encoding, nothing after the port.
fn parse_authority(authority: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (literal, after) = rest.split_once(']')?;
        let ip: Ipv6Addr = literal.parse().ok()?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (format!("[{ip}]"), port)
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        {
            return None;
        }
        (host.to_ascii_lowercase(), port)
    };
    let port = match port {
        None => None,
        Some(p) => {
            if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            match p.parse::<u16>() {
                Ok(0) | Err(_) => return None,
                Ok(n) => Some(n),
            }
        }
    };
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "https://app.example.com";
    const TRUSTED: &str = "https://admin.example.net";

    fn policy() -> OriginPolicy {
        OriginPolicy {
            own_origin: OWN.to_owned(),
            trusted_origins: vec![TRUSTED.to_owned()],
            trust_same_site: false,
            https: true,
        }
    }

    fn http_policy() -> OriginPolicy {
        OriginPolicy {
            own_origin: "http://localhost:8080".to_owned(),
            trusted_origins: Vec::new(),
            trust_same_site: false,
            https: false,
        }
    }

    /// Headers from (name, value) pairs; repeated names are appended.
    fn h(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        map
    }

    fn check(pairs: &[(&str, &[u8])]) -> OriginVerdict {
        check_origin(&h(pairs), &policy())
    }

    const PASS: OriginVerdict = OriginVerdict::Pass;

    fn reject(reason: &'static str) -> OriginVerdict {
        OriginVerdict::Reject(reason)
    }

    // ---- Sec-Fetch-Site rows ----

    #[test]
    fn same_origin_passes() {
        assert_eq!(check(&[("sec-fetch-site", b"same-origin")]), PASS);
        assert_eq!(
            check(&[
                ("sec-fetch-site", b"same-origin"),
                ("origin", OWN.as_bytes())
            ]),
            PASS
        );
    }

    #[test]
    fn fetch_site_value_case_and_whitespace_tolerated() {
        assert_eq!(check(&[("sec-fetch-site", b" Same-Origin ")]), PASS);
        assert_eq!(
            check(&[("sec-fetch-site", b"CROSS-SITE")]),
            reject("cross_site")
        );
    }

    #[test]
    fn cross_site_rejected() {
        assert_eq!(
            check(&[
                ("sec-fetch-site", b"cross-site"),
                ("origin", b"https://evil.example")
            ]),
            reject("cross_site")
        );
        assert_eq!(
            check(&[("sec-fetch-site", b"cross-site")]),
            reject("cross_site")
        );
    }

    #[test]
    fn cross_site_with_own_origin_rejected() {
        // cross-site means it is not us, whatever Origin says.
        assert_eq!(
            check(&[
                ("sec-fetch-site", b"cross-site"),
                ("origin", OWN.as_bytes())
            ]),
            reject("cross_site")
        );
    }

    #[test]
    fn cross_site_from_trusted_origin_passes() {
        assert_eq!(
            check(&[
                ("sec-fetch-site", b"cross-site"),
                ("origin", TRUSTED.as_bytes())
            ]),
            PASS
        );
        assert_eq!(
            check(&[
                ("sec-fetch-site", b"cross-site"),
                ("origin", b"https://ADMIN.example.net:443")
            ]),
            PASS
        );
    }

    #[test]
    fn cross_site_from_trusted_origin_wrong_scheme_or_port_rejected() {
        for o in [
            "http://admin.example.net",
            "https://admin.example.net:8443",
            "https://admin.example.net.evil",
            "https://admin.example.net/",
            "null",
        ] {
            assert_eq!(
                check(&[("sec-fetch-site", b"cross-site"), ("origin", o.as_bytes())]),
                reject("cross_site"),
                "{o}"
            );
        }
    }

    #[test]
    fn cross_site_with_two_origins_rejected() {
        assert_eq!(
            check(&[
                ("sec-fetch-site", b"cross-site"),
                ("origin", TRUSTED.as_bytes()),
                ("origin", TRUSTED.as_bytes()),
            ]),
            reject("cross_site")
        );
    }

    #[test]
    fn same_site_rejected_by_default() {
        assert_eq!(
            check(&[
                ("sec-fetch-site", b"same-site"),
                ("origin", b"https://blog.example.com")
            ]),
            reject("same_site")
        );
        assert_eq!(
            check(&[("sec-fetch-site", b"same-site")]),
            reject("same_site")
        );
    }

    #[test]
    fn same_site_from_trusted_origin_passes_even_by_default() {
        assert_eq!(
            check(&[
                ("sec-fetch-site", b"same-site"),
                ("origin", TRUSTED.as_bytes())
            ]),
            PASS
        );
    }

    #[test]
    fn same_site_with_trust_same_site() {
        let cfg = OriginPolicy {
            trust_same_site: true,
            ..policy()
        };
        let run = |pairs: &[(&str, &[u8])]| check_origin(&h(pairs), &cfg);
        assert_eq!(run(&[("sec-fetch-site", b"same-site")]), PASS);
        assert_eq!(
            run(&[("sec-fetch-site", b"same-site"), ("origin", OWN.as_bytes())]),
            PASS
        );
        // A sibling's Origin is what browsers send on a same-site POST: accepted when
        // same-site is trusted (the token is still required).
        assert_eq!(
            run(&[
                ("sec-fetch-site", b"same-site"),
                ("origin", b"https://blog.example.com")
            ]),
            PASS
        );
        assert_eq!(
            run(&[("sec-fetch-site", b"same-site"), ("origin", b"null")]),
            reject("origin_null")
        );
        assert_eq!(
            run(&[("sec-fetch-site", b"same-site"), ("origin", b"https://[")]),
            reject("origin_malformed")
        );
        assert_eq!(
            run(&[
                ("sec-fetch-site", b"same-site"),
                ("origin", OWN.as_bytes()),
                ("origin", OWN.as_bytes())
            ]),
            reject("origin_malformed")
        );
    }

    #[test]
    fn fetch_site_none_is_treated_as_missing() {
        assert_eq!(
            check(&[("sec-fetch-site", b"none"), ("origin", OWN.as_bytes())]),
            PASS
        );
        assert_eq!(
            check(&[
                ("sec-fetch-site", b"none"),
                ("origin", b"https://evil.example")
            ]),
            reject("origin_mismatch")
        );
        assert_eq!(
            check(&[("sec-fetch-site", b"none")]),
            reject("referer_missing")
        );
    }

    #[test]
    fn unknown_or_repeated_fetch_site_rejected() {
        for v in [&b"same-origin, cross-site"[..], b"", b"sameorigin", b"\xff"] {
            assert_eq!(
                check(&[("sec-fetch-site", v), ("origin", OWN.as_bytes())]),
                reject("fetch_site_malformed"),
                "{v:?}"
            );
        }
        assert_eq!(
            check(&[
                ("sec-fetch-site", b"same-origin"),
                ("sec-fetch-site", b"same-origin")
            ]),
            reject("fetch_site_malformed")
        );
    }

    // ---- Origin rows (no Sec-Fetch-Site) ----

    #[test]
    fn matching_origin_passes() {
        for o in [
            OWN,
            "https://app.example.com:443",
            "HTTPS://APP.EXAMPLE.COM",
            TRUSTED,
        ] {
            assert_eq!(check(&[("origin", o.as_bytes())]), PASS, "{o}");
        }
    }

    #[test]
    fn null_origin_rejected() {
        assert_eq!(check(&[("origin", b"null")]), reject("origin_null"));
        assert_eq!(check(&[("origin", b"NULL")]), reject("origin_null"));
    }

    #[test]
    fn origin_mismatch_cases() {
        for o in [
            "https://evil.example",
            "http://app.example.com",       // scheme downgrade
            "https://app.example.com:8443", // another port
            "https://app.example.com:80",
            "https://app.example.com.evil", // suffix attack
            "https://app.example.com.evil.net",
            "https://evilapp.example.com",
            "https://example.com",
            "https://sub.app.example.com",
            "https://app.example.co",
            "https://app.example.com.", // trailing dot is another host
            "chrome-extension://abcdef",
            "https://127.0.0.1",
            "https://[::1]",
        ] {
            assert_eq!(
                check(&[("origin", o.as_bytes())]),
                reject("origin_mismatch"),
                "{o}"
            );
        }
    }

    #[test]
    fn malformed_origin_rejected() {
        let long = format!("https://{}.example.com", "a".repeat(600));
        for o in [
            "",
            " ",
            "https://",
            "https://[",
            "https://[::1",
            "https://[::1]x",
            "https://[zz::1]",
            "app.example.com",
            "//app.example.com",
            "https:app.example.com",
            "https:/app.example.com",
            "https://app.example.com/", // trailing slash
            "https://app.example.com/path",
            "https://app.example.com?x",
            "https://app.example.com#x",
            "https://user@app.example.com",
            "https://app.example.com@evil.net",
            "https://user:pass@app.example.com",
            "https://app.example.com:",
            "https://app.example.com:0",
            "https://app.example.com:65536",
            "https://app.example.com:443443",
            "https://app.example.com:+443",
            "https://app.example.com:44 3",
            "https://app.example.com:443:443",
            "https://app%2eexample.com",
            "https://app.example.com\\evil",
            "https://app example.com",
            "1https://app.example.com",
            "https ://app.example.com",
            &long,
        ] {
            assert_eq!(
                check(&[("origin", o.as_bytes())]),
                reject("origin_malformed"),
                "{o:?}"
            );
        }
    }

    #[test]
    fn non_ascii_origin_rejected() {
        assert_eq!(
            check(&[("origin", "https://äpp.example.com".as_bytes())]),
            reject("origin_malformed")
        );
        assert_eq!(
            check(&[("origin", b"https://app.example.com\xff")]),
            reject("origin_malformed")
        );
    }

    #[test]
    fn multiple_origin_headers_rejected() {
        assert_eq!(
            check(&[("origin", OWN.as_bytes()), ("origin", OWN.as_bytes())]),
            reject("origin_malformed")
        );
        assert_eq!(
            check(&[
                ("origin", OWN.as_bytes()),
                ("origin", b"https://evil.example")
            ]),
            reject("origin_malformed")
        );
    }

    #[test]
    fn default_port_normalisation_both_sides() {
        let cfg = OriginPolicy {
            own_origin: "HTTPS://App.Example.com:443/".to_owned(),
            ..policy()
        };
        assert_eq!(check_origin(&h(&[("origin", OWN.as_bytes())]), &cfg), PASS);
        let cfg = OriginPolicy {
            own_origin: "http://app.example.com:80".to_owned(),
            https: false,
            ..policy()
        };
        assert_eq!(
            check_origin(&h(&[("origin", b"http://app.example.com")]), &cfg),
            PASS
        );
        assert_eq!(
            check_origin(&h(&[("origin", b"https://app.example.com:80")]), &cfg),
            reject("origin_mismatch")
        );
    }

    #[test]
    fn non_default_port_must_match() {
        let cfg = http_policy();
        let run = |o: &str| check_origin(&h(&[("origin", o.as_bytes())]), &cfg);
        assert_eq!(run("http://localhost:8080"), PASS);
        assert_eq!(run("http://LOCALHOST:8080"), PASS);
        assert_eq!(run("http://localhost"), reject("origin_mismatch"));
        assert_eq!(run("http://localhost:8081"), reject("origin_mismatch"));
        assert_eq!(run("https://localhost:8080"), reject("origin_mismatch"));
    }

    #[test]
    fn ipv6_origins_canonicalised() {
        let cfg = OriginPolicy {
            own_origin: "http://[0:0:0:0:0:0:0:1]:8080".to_owned(),
            ..http_policy()
        };
        assert_eq!(
            check_origin(&h(&[("origin", b"http://[::1]:8080")]), &cfg),
            PASS
        );
        assert_eq!(
            check_origin(&h(&[("origin", b"http://[::2]:8080")]), &cfg),
            reject("origin_mismatch")
        );
    }

    #[test]
    fn invalid_configured_origin_never_matches() {
        let cfg = OriginPolicy {
            own_origin: "not an origin".to_owned(),
            trusted_origins: vec!["null".to_owned(), "https://x.example/path".to_owned()],
            ..policy()
        };
        for o in ["https://x.example", "null", "not an origin"] {
            assert_ne!(check_origin(&h(&[("origin", o.as_bytes())]), &cfg), PASS);
        }
    }

    // ---- Referer rows (no Origin) ----

    #[test]
    fn https_without_origin_needs_referer() {
        assert_eq!(check(&[]), reject("referer_missing"));
    }

    #[test]
    fn good_referer_passes() {
        for r in [
            "https://app.example.com/",
            "https://app.example.com",
            "https://app.example.com/login?next=/x#frag",
            "https://app.example.com:443/a",
            "https://APP.example.com/a",
            "https://app.example.com?q",
            "https://admin.example.net/page",
        ] {
            assert_eq!(check(&[("referer", r.as_bytes())]), PASS, "{r}");
        }
    }

    #[test]
    fn bad_referer_rejected() {
        for r in [
            "https://evil.example/",
            "https://app.example.com.evil.net/",
            "https://app.example.com:8443/",
            "https://evil.example/https://app.example.com/",
        ] {
            assert_eq!(
                check(&[("referer", r.as_bytes())]),
                reject("referer_mismatch"),
                "{r}"
            );
        }
    }

    #[test]
    fn insecure_referer_rejected() {
        for r in [
            "http://app.example.com/",
            "http://http://app.example.com/",
            "ftp://app.example.com/",
        ] {
            assert_eq!(
                check(&[("referer", r.as_bytes())]),
                reject("referer_insecure"),
                "{r}"
            );
        }
    }

    #[test]
    fn malformed_referer_rejected() {
        let long = format!("https://app.example.com/{}", "a".repeat(10_000));
        for r in [
            &b""[..],
            b"//app.example.com/",
            b"https://",
            b"https:///path",
            b"https://[",
            b"https://app.example.com@evil.net/",
            b"https://user@app.example.com/",
            b"https://app.example.com:/",
            b"https://app.example.com:99999/",
            b"/relative/path",
            "\u{d8}B\u{f6}I\u{df}".as_bytes(), // ØBöIß
            b"https://app.example.com\\@evil.net/",
            long.as_bytes(),
        ] {
            assert_eq!(
                check(&[("referer", r)]),
                reject("referer_malformed"),
                "{r:?}"
            );
        }
    }

    #[test]
    fn multiple_referers_rejected() {
        assert_eq!(
            check(&[
                ("referer", b"https://app.example.com/"),
                ("referer", b"https://app.example.com/")
            ]),
            reject("referer_malformed")
        );
    }

    #[test]
    fn origin_takes_precedence_over_referer() {
        assert_eq!(
            check(&[
                ("origin", b"https://evil.example"),
                ("referer", b"https://app.example.com/")
            ]),
            reject("origin_mismatch")
        );
        assert_eq!(
            check(&[
                ("origin", OWN.as_bytes()),
                ("referer", b"https://evil.example/")
            ]),
            PASS
        );
    }

    #[test]
    fn plain_http_without_origin_passes_to_token() {
        let cfg = http_policy();
        assert_eq!(check_origin(&h(&[]), &cfg), PASS);
        // Referer is not consulted over plain HTTP.
        assert_eq!(
            check_origin(&h(&[("referer", b"http://evil.example/")]), &cfg),
            PASS
        );
        // But a present Origin still is.
        assert_eq!(
            check_origin(&h(&[("origin", b"http://evil.example")]), &cfg),
            reject("origin_mismatch")
        );
        assert_eq!(
            check_origin(&h(&[("origin", b"null")]), &cfg),
            reject("origin_null")
        );
    }

    #[test]
    fn host_headers_are_ignored() {
        // The own origin is configuration; Host / X-Forwarded-Host cannot widen it.
        assert_eq!(
            check(&[
                ("host", b"evil.example"),
                ("x-forwarded-host", b"evil.example"),
                ("origin", b"https://evil.example")
            ]),
            reject("origin_mismatch")
        );
    }

    // ---- helpers ----

    #[test]
    fn policy_new_infers_https() {
        assert!(OriginPolicy::new("https://a.example").https);
        assert!(OriginPolicy::new("HTTPS://a.example").https);
        assert!(!OriginPolicy::new("http://a.example").https);
        assert!(!OriginPolicy::new("").https);
        assert!(!OriginPolicy::new("é").https);
    }

    #[test]
    fn normalize_origin_cases() {
        let n = |s: &str| normalize_origin(s);
        assert_eq!(
            n(" https://A.example:443/ ").as_deref(),
            Some("https://a.example")
        );
        assert_eq!(
            n("http://a.example:80").as_deref(),
            Some("http://a.example")
        );
        assert_eq!(
            n("http://a.example:443").as_deref(),
            Some("http://a.example:443")
        );
        assert_eq!(
            n("https://[::FFFF:1.2.3.4]:8443").as_deref(),
            Some("https://[::ffff:1.2.3.4]:8443")
        );
        assert_eq!(n("https://a.example//"), None);
        assert_eq!(n("https://a.example/x"), None);
        assert_eq!(n("https://*.example.com"), None);
        assert_eq!(n(""), None);
    }

    #[test]
    fn verdict_helpers() {
        assert!(PASS.is_pass());
        assert!(!reject("x").is_pass());
        assert_eq!(reject("same_site").reason(), Some("same_site"));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut seed = 0x1234_5678u32;
        for _ in 0..2000 {
            let len = (seed % 40) as usize;
            let mut v = Vec::with_capacity(len);
            for _ in 0..len {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let b = (seed >> 16) as u8;
                // Header values may contain tab, visible ASCII and obs-text only.
                if b == b'\t' || (b >= 0x20 && b != 0x7f) {
                    v.push(b);
                }
            }
            let mut with_prefix = b"https://".to_vec();
            with_prefix.extend_from_slice(&v);
            for value in [&v, &with_prefix] {
                let _ = check(&[("origin", value)]);
                let _ = check(&[("referer", value)]);
                let _ = check(&[("sec-fetch-site", value)]);
            }
        }
    }
}
