//! The form limited paths are compared in, and prefix matching on it.

/// The form paths are compared in: segments of a normalised path without `;parameters`,
/// no empty segments, no trailing slash, ASCII-lowercased unless case-sensitive.
pub(super) fn canonical(normalized: &str, case_sensitive: bool) -> String {
    let mut out = String::with_capacity(normalized.len());
    for segment in normalized.split('/') {
        let name = segment.split(';').next().unwrap_or_default();
        if !name.is_empty() {
            out.push('/');
            out.push_str(name);
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    if !case_sensitive {
        out.make_ascii_lowercase();
    }
    out
}

/// Whether `prefix` (canonical) is `path` or one of its ancestors.
pub(super) fn covers(prefix: &str, path: &str) -> bool {
    prefix == "/"
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        for (raw, want) in [
            ("/login", "/login"),
            ("/login/", "/login"),
            ("//login//", "/login"),
            ("/LOGIN", "/login"),
            ("/login;jsessionid=x", "/login"),
            ("/;x/login", "/login"),
            ("/", "/"),
            ("/a/B/", "/a/b"),
        ] {
            assert_eq!(canonical(raw, false), want, "{raw}");
        }
        assert_eq!(canonical("/LOGIN/", true), "/LOGIN");
    }

    #[test]
    fn covers_whole_segments_only() {
        assert!(covers("/login", "/login"));
        assert!(covers("/login", "/login/x"));
        assert!(!covers("/login", "/loginx"));
        assert!(!covers("/login", "/log"));
        assert!(covers("/", "/anything"));
    }
}
