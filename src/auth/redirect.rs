//! Open-redirect protection for `next` parameters.

use percent_encoding::percent_decode_str;

/// Longest `next` accepted.
const MAX_NEXT_LEN: usize = 2048;

fn plain_safe(u: &str) -> bool {
    let b = u.as_bytes();
    !u.is_empty()
        && u.len() <= MAX_NEXT_LEN
        && b[0] == b'/'
        && !(b.len() > 1 && (b[1] == b'/' || b[1] == b'\\'))
        && !u.contains('\\')
        && !u.chars().any(|c| c.is_control() || c.is_whitespace())
        && !u.contains("://")
}

/// Whether `url` is safe to redirect to after login: a same-origin relative path only.
///
/// Refuses absolute URLs and schemes (`https://evil`, `javascript:`), scheme-relative
/// (`//evil`), backslash tricks (`/\evil`, `\\evil`), control characters and whitespace, and the
/// same tricks percent-encoded (`/%2F/evil`, `/%5Cevil`).
///
/// ```
/// use warden::auth::is_safe_url;
///
/// assert!(is_safe_url("/dashboard?tab=1"));
/// assert!(!is_safe_url("//evil.example"));
/// assert!(!is_safe_url("/\\evil.example"));
/// assert!(!is_safe_url("https://evil.example/"));
/// assert!(!is_safe_url("/%2F%2Fevil.example"));
/// ```
pub fn is_safe_url(url: &str) -> bool {
    // The raw form, then the path decoded once and twice (double encoding) must all be safe.
    if !plain_safe(url) {
        return false;
    }
    // Decoding matters for the path (where `//` and `\` tricks live); the query and fragment
    // were checked raw above.
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let once = percent_decode_str(path).decode_utf8_lossy();
    if !plain_safe(&once) {
        return false;
    }
    plain_safe(&percent_decode_str(&once).decode_utf8_lossy())
}

#[cfg(test)]
mod tests {
    use super::is_safe_url;

    #[test]
    fn accepts_local_paths() {
        for ok in [
            "/",
            "/dashboard",
            "/notes/1?x=%20y",
            "/a/b#frag",
            "/caf%C3%A9",
        ] {
            assert!(is_safe_url(ok), "{ok}");
        }
    }

    #[test]
    fn rejects_every_redirect_trick() {
        for bad in [
            "",
            "dashboard",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\\/evil.example",
            "https://evil.example",
            "http:/evil.example",
            "javascript:alert(1)",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/%5Cevil.example",
            "/%252F%252Fevil.example",
            "/%09/evil.example",
            "/\t/evil",
            "/ /evil",
            "/redirect?to=https://evil.example",
            "/\u{0000}",
            "/\r\nLocation: https://evil",
        ] {
            assert!(!is_safe_url(bad), "{bad:?}");
        }
        assert!(!is_safe_url(&format!("/{}", "a".repeat(3000))));
    }
}
