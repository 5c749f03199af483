//! Syntax checks for individual values (origins, hosts, cookie and header names, CIDRs).
//!
//! Each function returns the normalised value or a reason suitable for a [`KeyError`](super::KeyError).

use std::net::IpAddr;

use ipnet::IpNet;

use crate::hosts::HostPattern;

/// `scheme://authority` of an origin, lowercased, without a trailing slash.
pub(crate) fn origin(value: &str) -> Result<String, String> {
    let trimmed = value.trim();
    let lower = trimmed.to_ascii_lowercase();
    let (scheme, rest) = if let Some(rest) = lower.strip_prefix("https://") {
        ("https", rest)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        ("http", rest)
    } else {
        return Err(format!(
            "`{trimmed}` must start with `http://` or `https://`"
        ));
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#']) {
        return Err(format!(
            "`{trimmed}` must be a bare origin (scheme, host and optional port) without a path, query or fragment"
        ));
    }
    authority_syntax(authority).map_err(|why| format!("`{trimmed}`: {why}"))?;
    Ok(format!("{scheme}://{authority}"))
}

/// The `host[:port]` part of a normalised origin.
pub(crate) fn origin_authority(origin: &str) -> &str {
    origin
        .split_once("://")
        .map_or(origin, |(_, authority)| authority)
}

/// An allowed `Host` value: `host`, `host:port`, `[ipv6][:port]` or a `*.example.com`
/// wildcard, checked by [`HostPattern::parse`] (so the configuration accepts exactly what
/// [`AllowedHostsMiddleware`](crate::hosts::AllowedHostsMiddleware) does) and returned in its
/// normalised form (lowercase, no trailing dot, canonical IPv6).
pub(crate) fn allowed_host(value: &str) -> Result<String, String> {
    let host = value.trim();
    let shown = host.escape_default();
    if host.is_empty() {
        return Err("entries must not be empty".to_owned());
    }
    if host.contains("://") {
        return Err(format!(
            "`{shown}` must be a host name (e.g. `app.example.com`), without a scheme"
        ));
    }
    if host.contains('@') {
        // Not echoed: the user info could be a password.
        return Err("user info (`user@`) is not allowed in a host".to_owned());
    }
    if host.contains(['/', '?', '#']) {
        return Err(format!("`{shown}` must be a host name, without a path"));
    }
    if host == "*" {
        return Err(
            "`*` would allow every host (DNS rebinding, Host-header poisoning); list the hosts \
             you serve, or a `*.example.com` wildcard"
                .to_owned(),
        );
    }
    if host.strip_prefix("*.").unwrap_or(host).contains('*') {
        return Err(format!(
            "`{shown}`: a wildcard is only allowed as a leading `*.` (e.g. `*.example.com`)"
        ));
    }
    match HostPattern::parse(host) {
        Ok(pattern) => Ok(pattern.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// `host[:port]` with an RFC 3986 reg-name or IP literal host and no user info.
fn authority_syntax(authority: &str) -> Result<(), String> {
    if authority.is_empty() {
        return Err("the host is missing".to_owned());
    }
    if authority.contains('@') {
        return Err("user info (`user@`) is not allowed".to_owned());
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (v6, after) = rest
            .split_once(']')
            .ok_or_else(|| "unterminated IPv6 literal".to_owned())?;
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("`[{v6}]` is not an IPv6 address"));
        }
        match after {
            "" => (v6, None),
            p => (
                v6,
                Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| "unexpected text after the IPv6 literal".to_owned())?,
                ),
            ),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if let Some(port) = port {
        if port.parse::<u16>().is_err() {
            return Err(format!("`{port}` is not a valid port"));
        }
    }
    if host.is_empty() {
        return Err("the host is missing".to_owned());
    }
    let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':');
    if !host.chars().all(valid_char) {
        return Err("the host contains characters not allowed in a host name".to_owned());
    }
    Ok(())
}

/// A cookie name per RFC 6265 (an RFC 7230 token).
pub(crate) fn cookie_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if let Some(c) = name.chars().find(|&c| !is_tchar(c)) {
        return Err(format!(
            "`{}` contains the character {c:?}, which is not allowed in a cookie name",
            name.escape_default()
        ));
    }
    Ok(())
}

/// A cookie `Path` attribute: starts with `/`, printable ASCII without `;`, `,` or spaces.
pub(crate) fn cookie_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!("`{}` must start with `/`", path.escape_default()));
    }
    if let Some(c) = path
        .chars()
        .find(|&c| matches!(c, ';' | ',') || !c.is_ascii_graphic())
    {
        return Err(format!(
            "`{}` contains the character {c:?}; a cookie path must not contain `;`, `,`, \
             whitespace, control or non-ASCII characters",
            path.escape_default()
        ));
    }
    Ok(())
}

/// A cookie `Domain` attribute: a bare host name, returned lowercased without a leading dot.
pub(crate) fn cookie_domain(domain: &str) -> Result<String, String> {
    let shown = domain.escape_default();
    if domain.is_empty() {
        return Err(
            "must not be empty (omit the key for a host-only cookie, which is recommended)"
                .to_owned(),
        );
    }
    if let Some(c) = domain
        .chars()
        .find(|&c| c == ';' || c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "`{shown}` contains the character {c:?}; a cookie domain must not contain `;`, \
             whitespace or control characters"
        ));
    }
    if domain.contains("://") {
        return Err(format!(
            "`{shown}` must be a bare domain (e.g. `example.com`), without a scheme"
        ));
    }
    if domain.contains(['/', '?', '#']) {
        return Err(format!(
            "`{shown}` must be a bare domain (e.g. `example.com`), without a path"
        ));
    }
    if domain.contains(':') {
        return Err(format!(
            "`{shown}` must be a bare domain (e.g. `example.com`), without a port \
             (cookies are not port-specific)"
        ));
    }
    let lower = domain
        .strip_prefix('.')
        .unwrap_or(domain)
        .to_ascii_lowercase();
    if lower.is_empty() {
        return Err(format!("`{shown}` has no domain name"));
    }
    let valid_label = |label: &str| {
        !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if !lower.split('.').all(valid_label) {
        return Err(format!(
            "`{shown}` is not a valid domain name (letters, digits and `-` in dot-separated \
             labels)"
        ));
    }
    Ok(lower)
}

/// A header name: an RFC 7230 token, returned lowercased.
pub(crate) fn header_name(name: &str) -> Result<String, String> {
    if name.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if let Some(c) = name.chars().find(|&c| !is_tchar(c)) {
        return Err(format!(
            "`{}` is not a valid HTTP header name (character {c:?} is not allowed)",
            name.escape_default()
        ));
    }
    Ok(name.to_ascii_lowercase())
}

/// An authentication scheme (`Bearer`): a non-empty RFC 7230 token, kept as written.
pub(crate) fn auth_scheme(scheme: &str) -> Result<(), String> {
    if scheme.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if let Some(c) = scheme.chars().find(|&c| !is_tchar(c)) {
        return Err(format!(
            "`{}` is not a valid authentication scheme (character {c:?} is not allowed; \
             letters, digits and !#$%&'*+-.^_`|~ only)",
            scheme.escape_default()
        ));
    }
    Ok(())
}

/// A same-site redirect target: a path starting with a single `/`, printable ASCII without `\`,
/// and without a query or fragment (the caller appends `?next=`).
pub(crate) fn local_path(path: &str) -> Result<(), String> {
    let shown = path.escape_default();
    if path.is_empty() {
        return Err("must not be empty (a local path such as `/login`)".to_owned());
    }
    if let Some(c) = path.chars().find(|&c| !c.is_ascii_graphic()) {
        return Err(format!(
            "`{shown}` contains the character {c:?}; a local path must not contain whitespace, \
             control or non-ASCII characters (percent-encode them)"
        ));
    }
    if !path.starts_with('/') {
        let has_scheme = path.split_once(':').is_some_and(|(scheme, _)| {
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
        return Err(if has_scheme {
            format!(
                "`{shown}` must be a local path starting with `/`, not an absolute URL with a \
                 scheme (redirects must stay on this site)"
            )
        } else {
            format!("`{shown}` must be a local path starting with `/`")
        });
    }
    if path.contains('\\') {
        return Err(format!(
            "`{shown}` must not contain `\\` (browsers read it as `/`, so `/\\host` would \
             redirect to another site)"
        ));
    }
    if path.starts_with("//") {
        return Err(format!(
            "`{shown}` must not start with `//` (a protocol-relative URL pointing at another \
             host)"
        ));
    }
    if path.contains(['?', '#']) {
        return Err(format!(
            "`{shown}` must be a path without a query or fragment (`?next=` is appended to it)"
        ));
    }
    Ok(())
}

/// RFC 7230 `tchar`.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '!' | '#'
                | '$'
                | '%'
                | '&'
                | '\''
                | '*'
                | '+'
                | '-'
                | '.'
                | '^'
                | '_'
                | '`'
                | '|'
                | '~'
        )
}

/// A CIDR, or a bare IP taken as a single-host network; host bits are cleared.
pub(crate) fn trusted_proxy(entry: &str) -> Result<IpNet, String> {
    let entry = entry.trim();
    if let Ok(net) = entry.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    Err(format!(
        "`{}` is not a CIDR (e.g. `10.0.0.0/8`) or an IP address",
        entry.escape_default()
    ))
}

/// A form field name: non-empty, only ASCII letters, digits, `_`, `.` and `-` (nothing that
/// needs escaping in HTML attributes or percent-encoding in a form body).
pub(crate) fn form_field_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if let Some(c) = name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "`{}` contains the character {c:?}; a form field name may only contain ASCII \
             letters, digits, `_`, `.` and `-`",
            name.escape_default()
        ));
    }
    Ok(())
}

/// A CSRF trusted origin, normalised exactly as browsers serialise the `Origin` header:
/// `scheme://host[:port]`, lowercase, without the scheme's default port or a trailing slash.
pub(crate) fn trusted_origin(value: &str) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err("entries must not be empty".to_owned());
    }
    if trimmed.eq_ignore_ascii_case("null") {
        return Err(
            "`null` is refused: it is the opaque origin of sandboxed frames, `file:` and \
             `data:` documents and cross-site redirects, which any site can produce"
                .to_owned(),
        );
    }
    if trimmed.contains('*') {
        return Err(format!(
            "`{}`: wildcards are not supported; list each origin exactly, as \
             `https://host[:port]`",
            trimmed.escape_default()
        ));
    }
    if trimmed.contains('@') {
        // Not echoed: the user info could be a password.
        return Err("user info (`user@`) is not allowed in an origin".to_owned());
    }
    let origin = origin(trimmed)?;
    let (scheme, authority) = origin.split_once("://").unwrap_or(("", origin.as_str()));
    let shown = trimmed.escape_default();
    let (host, port) = match authority.strip_prefix('[') {
        Some(_) => match authority.split_once(']') {
            Some((v6, rest)) => (&authority[..=v6.len()], rest.strip_prefix(':')),
            None => (authority, None),
        },
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if host.contains(':') && !host.starts_with('[') {
        return Err(format!(
            "`{shown}`: an IPv6 address must be written in brackets, e.g. `http://[::1]:8080`"
        ));
    }
    let port = match port.map(str::parse::<u16>) {
        None => None,
        Some(Ok(0) | Err(_)) => return Err(format!("`{shown}` has an invalid port")),
        Some(Ok(p)) => Some(p),
    };
    Ok(match (scheme, port) {
        ("https", Some(443)) | ("http", Some(80)) | (_, None) => format!("{scheme}://{host}"),
        (_, Some(p)) => format!("{scheme}://{host}:{p}"),
    })
}

/// A CSRF exempt path: an exact path or a prefix ending in `/*`, in a form that normalisation
/// leaves unchanged (so a configured path never matches something unexpected).
pub(crate) fn exempt_path(path: &str) -> Result<(), String> {
    let shown = path.escape_default();
    if !path.starts_with('/') {
        return Err(format!("`{shown}` must start with `/`"));
    }
    if let Some(c) = path.chars().find(|&c| !c.is_ascii_graphic()) {
        return Err(format!(
            "`{shown}` contains the character {c:?}; exempt paths must not contain whitespace, \
             control or non-ASCII characters"
        ));
    }
    if path.contains('%') {
        return Err(format!(
            "`{shown}` must not contain `%`: exempt paths are matched against the decoded, \
             normalised request path, so percent-encoded forms never match"
        ));
    }
    if path.contains('\\') {
        return Err(format!("`{shown}` must not contain `\\`"));
    }
    if path.contains("//") {
        return Err(format!(
            "`{shown}` must not contain `//` (normalisation merges repeated slashes)"
        ));
    }
    if path.contains("..") || path.split('/').any(|segment| segment == ".") {
        return Err(format!(
            "`{shown}` must not contain `..` or `.` segments (normalisation resolves them)"
        ));
    }
    if path.contains(['?', '#']) {
        return Err(format!(
            "`{shown}` must be a path without a query or fragment"
        ));
    }
    if let Some(star) = path.find('*') {
        if star != path.len() - 1 || !path.ends_with("/*") {
            return Err(format!(
                "`{shown}`: `*` is only allowed as a final `/*` (a prefix such as `/hooks/*`)"
            ));
        }
        if path == "/*" {
            return Err(
                "`/*` would exempt every path; list the paths that need an exemption (or, in \
                 development only, set `csrf.enabled = false`)"
                    .to_owned(),
            );
        }
    }
    Ok(())
}
