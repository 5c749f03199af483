//! CSRF exemptions matched after path normalisation.
//!
//! An exemption must never be inherited by a different route through path tricks
//! (`/hooks/../admin`, `//admin`, `/hooks/%2e%2e/admin`, `/hooks%2Fx`). [`normalize_path`]
//! turns a raw request path into one canonical form, or refuses it; [`is_exempt`] compares
//! canonical forms, exactly or by a `/*` prefix. Anything ambiguous is *not* exempt, so the
//! request gets the full CSRF check: failing closed here only costs a 403 on a request no
//! legitimate client sends.

/// The longest raw path looked at, in bytes; longer paths are never exempt.
const MAX_PATH_LEN: usize = 8 * 1024;

/// The canonical form of a raw request path (as received, e.g. `req.uri().path()`), or `None`
/// if it cannot be normalised safely.
///
/// - a query (`?...`) is ignored; the path must start with `/`;
/// - percent-escapes are decoded once; an escape that decodes to `/`, `\`, `.` or `%`, or to a
///   control character, and a malformed escape, give `None` (encoded separators and double
///   encoding are bypass attempts, not names);
/// - a raw `\`, `#` or control character gives `None`, as does a result that is not UTF-8;
/// - repeated slashes collapse (`//a///b` → `/a/b`);
/// - `.` segments are dropped and `..` segments remove the previous one; climbing above the root
///   gives `None`; `...` and `..;x`-style segments give `None`;
/// - a trailing slash is kept (`/a/` and `/a` are different routes), and so is case.
///
/// ```
/// use warden::csrf::normalize_path;
///
/// assert_eq!(normalize_path("/hooks//github").as_deref(), Some("/hooks/github"));
/// assert_eq!(normalize_path("/hooks/../admin").as_deref(), Some("/admin"));
/// assert_eq!(normalize_path("/hook%73/x?y=1").as_deref(), Some("/hooks/x"));
/// assert_eq!(normalize_path("/hooks/%2e%2e/admin"), None);
/// assert_eq!(normalize_path("/hooks%2Fx"), None);
/// assert_eq!(normalize_path("/.."), None);
/// ```
pub fn normalize_path(raw: &str) -> Option<String> {
    let raw = raw.split_once('?').map_or(raw, |(path, _)| path);
    if !raw.starts_with('/') || raw.len() > MAX_PATH_LEN {
        return None;
    }
    let decoded = String::from_utf8(percent_decode_strict(raw.as_bytes())?).ok()?;
    if decoded.chars().any(char::is_control) {
        return None;
    }

    let mut segments: Vec<&str> = Vec::new();
    let mut trailing_slash = false;
    // The first piece is the empty string before the leading '/'.
    for segment in decoded.split('/').skip(1) {
        match segment {
            "" | "." => trailing_slash = true,
            ".." => {
                segments.pop()?;
                trailing_slash = true;
            }
            s if is_dot_trick(s) => return None,
            s => {
                segments.push(s);
                trailing_slash = false;
            }
        }
    }

    let mut out = String::with_capacity(decoded.len());
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() || trailing_slash {
        out.push('/');
    }
    Some(out)
}

/// Whether a request for `raw_path` is exempt from CSRF checks under the `exempt` entries.
///
/// Both the path and the entries are normalised with [`normalize_path`]; a path or entry that
/// does not normalise matches nothing. An entry matches exactly (case-sensitive), unless it
/// ends with `/*`: then it matches every path *below* that prefix (at least one more
/// character), not the prefix itself. `*` anywhere else is a literal character.
///
/// ```
/// use warden::csrf::is_exempt;
///
/// let exempt = vec!["/hooks/*".to_owned(), "/api/ping".to_owned()];
/// assert!(is_exempt("/hooks/github", &exempt));
/// assert!(is_exempt("/api/ping", &exempt));
/// assert!(!is_exempt("/hooks", &exempt));
/// assert!(!is_exempt("/hooks/../admin", &exempt));
/// assert!(!is_exempt("//admin", &exempt));
/// assert!(!is_exempt("/hooks/%2e%2e/admin", &exempt));
/// assert!(!is_exempt("/HOOKS/x", &exempt));
/// assert!(!is_exempt("/api/ping/", &exempt));
/// ```
pub fn is_exempt(raw_path: &str, exempt: &[String]) -> bool {
    let Some(path) = normalize_path(raw_path) else {
        return false;
    };
    exempt.iter().any(|entry| entry_matches(&path, entry))
}

fn entry_matches(path: &str, entry: &str) -> bool {
    match entry.strip_suffix("/*") {
        Some(prefix) => {
            // "/hooks/*" -> "/hooks/"; "/*" -> "/".
            let Some(base) = normalize_path(&format!("{prefix}/")) else {
                return false;
            };
            path.len() > base.len() && path.starts_with(&base)
        }
        None => normalize_path(entry).is_some_and(|e| e == path),
    }
}

/// Percent-decodes once, refusing malformed escapes, escaped separators, dots, `%` (double
/// encoding) and control characters, and raw `\`, `#` and control characters.
fn percent_decode_strict(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'%' => {
                let hi = hex_value(*bytes.next()?)?;
                let lo = hex_value(*bytes.next()?)?;
                let d = (hi << 4) | lo;
                if matches!(d, b'/' | b'\\' | b'.' | b'%') || d.is_ascii_control() {
                    return None;
                }
                out.push(d);
            }
            b'\\' | b'#' => return None,
            b if b.is_ascii_control() => return None,
            b => out.push(b),
        }
    }
    Some(out)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Dot segments some servers or proxies interpret: `...`, `....`, and `.`/`..` followed by
/// `;parameters` (`..;/` is a known Tomcat/Spring bypass).
fn is_dot_trick(segment: &str) -> bool {
    let before_params = segment.split(';').next().unwrap_or(segment);
    (segment.len() > 2 && segment.bytes().all(|b| b == b'.'))
        || (segment.contains(';') && matches!(before_params, "." | ".."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(raw: &str) -> Option<String> {
        normalize_path(raw)
    }

    fn ex(entries: &[&str]) -> Vec<String> {
        entries.iter().map(|e| (*e).to_owned()).collect()
    }

    // ---- normalize_path ----

    #[test]
    fn plain_paths_unchanged() {
        for p in [
            "/",
            "/a",
            "/a/b",
            "/a/b/",
            "/hooks/github",
            "/a-b_c~d/e.txt",
            "/A/B",
        ] {
            assert_eq!(n(p).as_deref(), Some(p), "{p}");
        }
    }

    #[test]
    fn slashes_collapse() {
        assert_eq!(n("//admin").as_deref(), Some("/admin"));
        assert_eq!(n("///a//b///").as_deref(), Some("/a/b/"));
        assert_eq!(n("//").as_deref(), Some("/"));
    }

    #[test]
    fn dot_segments_resolve() {
        assert_eq!(n("/a/./b").as_deref(), Some("/a/b"));
        assert_eq!(n("/a/b/..").as_deref(), Some("/a/"));
        assert_eq!(n("/a/b/.").as_deref(), Some("/a/b/"));
        assert_eq!(n("/hooks/../admin").as_deref(), Some("/admin"));
        assert_eq!(n("/a/b/../../c").as_deref(), Some("/c"));
        assert_eq!(n("/a/..").as_deref(), Some("/"));
        assert_eq!(n("/./").as_deref(), Some("/"));
    }

    #[test]
    fn above_root_is_refused() {
        for p in ["/..", "/../admin", "/a/../..", "/a/../../b", "/./.."] {
            assert_eq!(n(p), None, "{p}");
        }
    }

    #[test]
    fn query_is_ignored() {
        assert_eq!(n("/a?b=/../c").as_deref(), Some("/a"));
        assert_eq!(n("/a/?").as_deref(), Some("/a/"));
    }

    #[test]
    fn must_start_with_slash() {
        for p in ["", "a", "*", "hooks/x", "http://x/a", "?/a"] {
            assert_eq!(n(p), None, "{p}");
        }
    }

    #[test]
    fn percent_decoding_once() {
        assert_eq!(n("/hook%73/x").as_deref(), Some("/hooks/x"));
        assert_eq!(n("/a%20b").as_deref(), Some("/a b"));
        assert_eq!(n("/caf%C3%A9").as_deref(), Some("/café"));
        assert_eq!(n("/a%3Fb").as_deref(), Some("/a?b"));
    }

    #[test]
    fn encoded_separators_dots_and_percent_refused() {
        for p in [
            "/hooks%2Fx",
            "/hooks%2fx",
            "/hooks%5Cx",
            "/hooks%5cx",
            "/hooks/%2e%2e/admin",
            "/hooks/%2E%2E/admin",
            "/hooks/.%2e/admin",
            "/hooks/%2e./admin",
            "/hooks/%2e/x",
            "/a%252e%252e/b", // double encoding
            "/a%25",
        ] {
            assert_eq!(n(p), None, "{p}");
        }
    }

    #[test]
    fn malformed_escapes_refused() {
        for p in ["/a%", "/a%2", "/a%zz", "/a%g0", "/a%%", "/%"] {
            assert_eq!(n(p), None, "{p}");
        }
    }

    #[test]
    fn backslash_hash_and_control_refused() {
        for p in [
            "/hooks\\..\\admin",
            "/\\admin",
            "/a#b",
            "/a\0b",
            "/a\tb",
            "/a\nb",
            "/a%00b",
            "/a%0Ab",
            "/a%0db",
            "/a%7F",
            "/a%C2%85b", // U+0085 NEXT LINE
            "/a\u{85}b",
        ] {
            assert_eq!(n(p), None, "{p:?}");
        }
    }

    #[test]
    fn non_utf8_refused() {
        assert_eq!(n("/a%FFb"), None);
        assert_eq!(n("/a%C3"), None);
    }

    #[test]
    fn dot_tricks_refused() {
        for p in [
            "/hooks/..;/admin",
            "/hooks/.;/x",
            "/a/.../b",
            "/a/....",
            "/..;",
        ] {
            assert_eq!(n(p), None, "{p}");
        }
        // Ordinary names with dots are fine.
        assert_eq!(n("/a/.well-known/x").as_deref(), Some("/a/.well-known/x"));
        assert_eq!(n("/a/b..c").as_deref(), Some("/a/b..c"));
        assert_eq!(n("/a;b/c").as_deref(), Some("/a;b/c"));
    }

    #[test]
    fn overlong_path_refused() {
        let long = format!("/{}", "a".repeat(MAX_PATH_LEN));
        assert_eq!(n(&long), None);
    }

    // ---- is_exempt ----

    #[test]
    fn exact_entries() {
        let e = ex(&["/webhooks/github", "/api/ping"]);
        assert!(is_exempt("/webhooks/github", &e));
        assert!(is_exempt("//webhooks//github", &e));
        assert!(is_exempt("/webhooks/x/../github", &e));
        assert!(is_exempt("/api/ping?x=1", &e));
        assert!(!is_exempt("/webhooks/github/", &e));
        assert!(!is_exempt("/webhooks/github/x", &e));
        assert!(!is_exempt("/webhooks/githubx", &e));
        assert!(!is_exempt("/webhooks/github.", &e));
        assert!(!is_exempt("/webhooks", &e));
        assert!(!is_exempt("/", &e));
    }

    #[test]
    fn prefix_entries() {
        let e = ex(&["/hooks/*"]);
        assert!(is_exempt("/hooks/github", &e));
        assert!(is_exempt("/hooks/a/b/c", &e));
        assert!(is_exempt("/hooks//github", &e));
        assert!(is_exempt("/hooks/github/", &e));
        assert!(!is_exempt("/hooks", &e));
        assert!(!is_exempt("/hooks/", &e));
        assert!(!is_exempt("/hooksx", &e));
        assert!(!is_exempt("/hooksx/y", &e));
        assert!(!is_exempt("/hook/x", &e));
    }

    #[test]
    fn bypass_attempts_not_exempt() {
        let e = ex(&["/hooks/*", "/webhooks/github"]);
        for p in [
            "/hooks/../admin",
            "/hooks/./../admin",
            "/hooks/x/../../admin",
            "//admin",
            "/hooks/%2e%2e/admin",
            "/hooks/%2E%2E/admin",
            "/hooks/.%2e/admin",
            "/hooks%2F..%2Fadmin",
            "/hooks%2fgithub",
            "/hooks\\..\\admin",
            "/hooks/..\\admin",
            "/hooks/..;/admin",
            "/hooks/%252e%252e/admin",
            "/HOOKS/x",
            "/Hooks/x",
            "/Webhooks/github",
            "/webhooks/GitHub",
            "/webhooks/../account/delete",
            "/webhooks/github/../../account/delete",
            "/hooks/x%00",
            "/hooks/x#",
            "hooks/x",
            "/../hooks/x",
        ] {
            assert!(!is_exempt(p, &e), "{p:?} must not be exempt");
        }
    }

    #[test]
    fn entries_are_normalised_too() {
        let e = ex(&["//hooks//*", "/a/./b"]);
        assert!(is_exempt("/hooks/x", &e));
        assert!(is_exempt("/a/b", &e));
    }

    #[test]
    fn root_wildcard() {
        let e = ex(&["/*"]);
        assert!(is_exempt("/anything", &e));
        assert!(!is_exempt("/", &e));
        assert!(!is_exempt("/%2e%2e", &e));
    }

    #[test]
    fn invalid_entries_match_nothing() {
        let e = ex(&["", "*", "hooks/*", "/../x", "/a%2Fb", "/x/../../*"]);
        for p in ["/", "/x", "/hooks/x", "/a/b", "/a%2Fb", ""] {
            assert!(!is_exempt(p, &e), "{p}");
        }
    }

    #[test]
    fn star_only_special_at_end() {
        let e = ex(&["/a*/b", "/x*"]);
        assert!(is_exempt("/a*/b", &e));
        assert!(!is_exempt("/ab/b", &e));
        assert!(is_exempt("/x*", &e));
        assert!(!is_exempt("/xy", &e));
    }

    #[test]
    fn no_entries_nothing_exempt() {
        assert!(!is_exempt("/hooks/x", &[]));
    }

    #[test]
    fn arbitrary_input_never_panics() {
        let pieces = [
            "/", "%", "2e", "2F", "..", ".", "a", "\\", "%C3", "%A9", ";", "?", "*", "é",
        ];
        let mut seed = 42u32;
        for _ in 0..5000 {
            let mut s = String::new();
            for _ in 0..(seed % 12) {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                s.push_str(pieces[(seed >> 16) as usize % pieces.len()]);
            }
            let _ = normalize_path(&s);
            let _ = is_exempt(&s, &[s.clone(), format!("{s}/*")]);
        }
    }
}
