//! Finding the CSRF token field in a buffered request body.
//!
//! HTML forms post `application/x-www-form-urlencoded` or `multipart/form-data`; the token is
//! then a form field ([`form_field`], [`multipart_field`]). Every other body (JSON, ...) must
//! carry the token in a header instead: [`content_kind`] says which case applies.
//!
//! The parsers only read: the caller keeps the body and hands it on to the handler intact.
//! They do bounded, linear work on any input, never panic, and answer `None` for anything
//! malformed, so a broken body is a missing token (403), never a 500.

use percent_encoding::percent_decode;

/// The most parts [`multipart_field`] walks through before giving up.
const MAX_PARTS: usize = 256;

/// The largest header block of one multipart part, in bytes.
const MAX_PART_HEADER_LEN: usize = 8 * 1024;

/// The most header lines in one multipart part.
const MAX_PART_HEADERS: usize = 16;

/// The most parameters in a `Content-Type` or `Content-Disposition` value.
const MAX_PARAMS: usize = 16;

/// The longest multipart boundary (RFC 2046).
const MAX_BOUNDARY_LEN: usize = 70;

/// How a body can carry the CSRF token, from its `Content-Type`.
///
/// ```
/// use warden::csrf::{content_kind, BodyKind};
///
/// assert_eq!(
///     content_kind(Some("application/x-www-form-urlencoded; charset=UTF-8")),
///     BodyKind::UrlEncoded
/// );
/// assert_eq!(
///     content_kind(Some("Multipart/Form-Data; boundary=x")),
///     BodyKind::Multipart
/// );
/// assert_eq!(content_kind(Some("application/json")), BodyKind::Other);
/// assert_eq!(content_kind(None), BodyKind::Other);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `application/x-www-form-urlencoded`: read the field with [`form_field`].
    UrlEncoded,
    /// `multipart/form-data`: read the field with [`multipart_field`].
    Multipart,
    /// Anything else, or no `Content-Type`: the token must come in a header.
    Other,
}

/// Classifies a `Content-Type` value by its media type (case-insensitive, surrounding
/// whitespace and parameters ignored).
pub fn content_kind(content_type: Option<&str>) -> BodyKind {
    let Some(content_type) = content_type else {
        return BodyKind::Other;
    };
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or(content_type)
        .trim();
    if media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        BodyKind::UrlEncoded
    } else if media_type.eq_ignore_ascii_case("multipart/form-data") {
        BodyKind::Multipart
    } else {
        BodyKind::Other
    }
}

/// The value of the first field called `name` in an `application/x-www-form-urlencoded` body,
/// decoded (`+` is a space, then percent-escapes; malformed escapes stay literal, as browsers
/// do). `None` if there is no such field or its value is not UTF-8.
///
/// ```
/// use warden::csrf::form_field;
///
/// let body = b"user=ann&csrf_token=abc%2Ddef&csrf_token=second";
/// assert_eq!(form_field(body, "csrf_token").as_deref(), Some("abc-def"));
/// assert_eq!(form_field(b"xcsrf_token=1", "csrf_token"), None);
/// assert_eq!(form_field(b"q=a+b", "q").as_deref(), Some("a b"));
/// ```
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    for pair in body.split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (key, value) = match pair.iter().position(|&b| b == b'=') {
            Some(eq) => {
                let (key, rest) = pair.split_at(eq);
                (key, rest.get(1..).unwrap_or_default())
            }
            None => (pair, &[][..]),
        };
        if form_decode(key) == name.as_bytes() {
            return String::from_utf8(form_decode(value)).ok();
        }
    }
    None
}

/// `application/x-www-form-urlencoded` decoding of one name or value.
fn form_decode(raw: &[u8]) -> Vec<u8> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_decode(&plus_as_space).collect()
}

/// The value of the first non-file part named `name` in a `multipart/form-data` body.
///
/// The boundary comes from `content_type` (quoted or not; it must be a valid RFC 2046 boundary
/// and appear once). A part matches when its `Content-Disposition` is `form-data` with a
/// `name` parameter exactly equal to `name` (so `xcsrf_token` is not `csrf_token`) and no
/// `filename` parameter; parts with a `filename` are ignored. The value is the part's content
/// up to (not including) the CRLF before the next boundary, and must be UTF-8.
///
/// `None` when the content type is not multipart, has no usable boundary, the field is
/// missing, or the body is malformed or truncated before the matching part is properly
/// closed. At most 256 parts are examined.
///
/// ```
/// use warden::csrf::multipart_field;
///
/// let body = b"--XyZ\r\n\
/// Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
/// Content-Type: text/plain\r\n\r\n\
/// csrf_token\r\n\
/// --XyZ\r\n\
/// Content-Disposition: form-data; name=\"csrf_token\"\r\n\r\n\
/// the-token\r\n\
/// --XyZ--\r\n";
/// let ct = "multipart/form-data; boundary=XyZ";
/// assert_eq!(multipart_field(body, ct, "csrf_token").as_deref(), Some("the-token"));
/// assert_eq!(multipart_field(body, ct, "file"), None);
/// assert_eq!(multipart_field(body, "text/plain", "csrf_token"), None);
/// ```
pub fn multipart_field(body: &[u8], content_type: &str, name: &str) -> Option<String> {
    if content_kind(Some(content_type)) != BodyKind::Multipart {
        return None;
    }
    let boundary = boundary(content_type)?;
    let mut dash_boundary = b"--".to_vec();
    dash_boundary.extend_from_slice(boundary.as_bytes());
    let mut delimiter = b"\r\n".to_vec();
    delimiter.extend_from_slice(&dash_boundary);

    // The first boundary opens the body, or follows a preamble and a CRLF.
    let mut pos = if body.starts_with(&dash_boundary) {
        dash_boundary.len()
    } else {
        find(body, &delimiter, 0)? + delimiter.len()
    };
    for _ in 0..MAX_PARTS {
        // After a boundary: `--` closes the body; otherwise optional padding, then CRLF.
        let part_start = after_boundary(body, pos)?;
        let part_end = find(body, &delimiter, part_start)?;
        let next = part_end + delimiter.len();
        let part = body.get(part_start..part_end)?;
        let (headers, content) = split_part(part)?;
        if part_name_matches(headers, name)? {
            // The part must be properly closed: what follows its delimiter is well-formed.
            let closed = body.get(next..).is_some_and(|rest| rest.starts_with(b"--"))
                || after_boundary(body, next).is_some();
            return if closed {
                String::from_utf8(content.to_vec()).ok()
            } else {
                None
            };
        }
        pos = next;
    }
    None
}

/// The start of the next part's headers, given the position just after a boundary; `None`
/// for the closing boundary (`--`) or anything malformed.
fn after_boundary(body: &[u8], pos: usize) -> Option<usize> {
    let rest = body.get(pos..)?;
    if rest.starts_with(b"--") {
        return None;
    }
    let padding = rest
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    rest.get(padding..)?
        .starts_with(b"\r\n")
        .then_some(pos + padding + 2)
}

/// Splits a part into its header block (without the final CRLF CRLF) and its content.
fn split_part(part: &[u8]) -> Option<(&[u8], &[u8])> {
    if let Some(content) = part.strip_prefix(b"\r\n") {
        return Some((&[], content));
    }
    let window = part.get(..part.len().min(MAX_PART_HEADER_LEN + 4))?;
    let end = find(window, b"\r\n\r\n", 0)?;
    Some((part.get(..end)?, part.get(end + 4..)?))
}

/// Whether a part's headers name the wanted, non-file field. `Some(false)` for parts that are
/// not it (including parts with undecodable or ambiguous headers); `None` if the header block
/// is malformed (a line without a colon, too many lines).
fn part_name_matches(headers: &[u8], name: &str) -> Option<bool> {
    if headers.is_empty() {
        return Some(false);
    }
    let mut disposition = None;
    let mut lines = 0;
    for line in split_crlf(headers) {
        lines += 1;
        if lines > MAX_PART_HEADERS {
            return None;
        }
        let colon = line.iter().position(|&b| b == b':')?;
        let (header, value) = line.split_at(colon);
        if header.is_empty() || header.iter().any(|b| b.is_ascii_whitespace()) {
            // Includes obsolete line folding (a line starting with whitespace).
            return None;
        }
        if header.eq_ignore_ascii_case(b"content-disposition") {
            if disposition.is_some() {
                return Some(false);
            }
            disposition = Some(value.get(1..).unwrap_or_default());
        }
    }
    let Some(value) = disposition.and_then(|v| std::str::from_utf8(v).ok()) else {
        return Some(false);
    };
    Some(form_data_name(value) == Some(name))
}

/// The `name` of a `form-data` disposition without `filename`; `None` otherwise.
fn form_data_name(value: &str) -> Option<&str> {
    let (kind, params) = split_params(value)?;
    if !kind.eq_ignore_ascii_case("form-data") {
        return None;
    }
    let mut name = None;
    for (key, val) in params {
        if key.eq_ignore_ascii_case("filename") || key.eq_ignore_ascii_case("filename*") {
            return None;
        }
        if key.eq_ignore_ascii_case("name") {
            if name.is_some() {
                return None;
            }
            name = Some(val);
        }
    }
    name
}

/// The multipart boundary from a `Content-Type` value: the single `boundary` parameter, quoted
/// or not, 1 to 70 RFC 2046 `bchars`, not ending in a space.
fn boundary(content_type: &str) -> Option<&str> {
    let (_, params) = split_params(content_type)?;
    let mut found = None;
    for (key, val) in params {
        if key.eq_ignore_ascii_case("boundary") {
            if found.is_some() {
                return None;
            }
            found = Some(val);
        }
    }
    let b = found?;
    let valid = !b.is_empty()
        && b.len() <= MAX_BOUNDARY_LEN
        && !b.ends_with(' ')
        && b.bytes().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    b'\''
                        | b'('
                        | b')'
                        | b'+'
                        | b'_'
                        | b','
                        | b'-'
                        | b'.'
                        | b'/'
                        | b':'
                        | b'='
                        | b'?'
                        | b' '
                )
        });
    valid.then_some(b)
}

/// Splits `type; key=value; key="quoted value"` into the trimmed type and its parameters
/// (keys trimmed, quotes removed; no backslash escapes, as browsers percent-encode quotes).
/// `None` if a parameter has no `=`, a quote is unterminated, something follows a closing
/// quote, or there are too many parameters.
fn split_params(value: &str) -> Option<(&str, Vec<(&str, &str)>)> {
    let (kind, mut rest) = match value.split_once(';') {
        Some((kind, rest)) => (kind.trim(), rest),
        None => return Some((value.trim(), Vec::new())),
    };
    let mut params = Vec::new();
    loop {
        if params.len() >= MAX_PARAMS {
            return None;
        }
        let (key, after_eq) = rest.split_once('=')?;
        let key = key.trim();
        if key.is_empty() || key.contains(';') {
            return None;
        }
        let after_eq = after_eq.trim_start();
        let (val, remainder) = if let Some(quoted) = after_eq.strip_prefix('"') {
            let (val, after_quote) = quoted.split_once('"')?;
            let after_quote = after_quote.trim_start();
            if after_quote.is_empty() {
                (val, None)
            } else {
                (val, Some(after_quote.strip_prefix(';')?))
            }
        } else {
            match after_eq.split_once(';') {
                Some((val, remainder)) => (val.trim_end(), Some(remainder)),
                None => (after_eq.trim_end(), None),
            }
        };
        params.push((key, val));
        match remainder {
            // A trailing `;` is tolerated.
            Some(r) if !r.trim().is_empty() => rest = r,
            _ => return Some((kind, params)),
        }
    }
}

/// Lines of a header block separated by CRLF.
fn split_crlf(block: &[u8]) -> impl Iterator<Item = &[u8]> + '_ {
    let mut rest = Some(block);
    std::iter::from_fn(move || {
        let current = rest?;
        match find(current, b"\r\n", 0) {
            Some(i) => {
                rest = current.get(i + 2..);
                current.get(..i)
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// The first index at or after `from` where `needle` occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut start = from;
    loop {
        let window = haystack.get(start..)?;
        let offset = window.iter().position(|&b| b == first)?;
        let at = start + offset;
        if haystack.get(at..at + needle.len())? == needle {
            return Some(at);
        }
        start = at + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: &str = "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW";
    const B: &str = "----WebKitFormBoundary7MA4YWxkTrZu0gW";

    /// A multipart body from (headers, content) parts, CRLF line endings, closed.
    fn multipart(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for (headers, content) in parts {
            body.extend_from_slice(format!("--{B}\r\n{headers}\r\n\r\n").as_bytes());
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{B}--\r\n").as_bytes());
        body
    }

    fn field(name: &str) -> String {
        format!("Content-Disposition: form-data; name=\"{name}\"")
    }

    fn mp(body: &[u8]) -> Option<String> {
        multipart_field(body, CT, "csrf_token")
    }

    // ---- content_kind ----

    #[test]
    fn content_kinds() {
        use BodyKind::*;
        for (ct, kind) in [
            ("application/x-www-form-urlencoded", UrlEncoded),
            ("APPLICATION/X-WWW-FORM-URLENCODED", UrlEncoded),
            (
                " application/x-www-form-urlencoded ;charset=utf-8",
                UrlEncoded,
            ),
            ("multipart/form-data; boundary=abc", Multipart),
            ("Multipart/Form-Data", Multipart),
            ("multipart/mixed; boundary=abc", Other),
            ("application/json", Other),
            ("text/plain", Other),
            ("application/x-www-form-urlencodedx", Other),
            ("application/x-www-form-urlencoded2; x", Other),
            ("", Other),
            (";", Other),
        ] {
            assert_eq!(content_kind(Some(ct)), kind, "{ct}");
        }
        assert_eq!(content_kind(None), Other);
    }

    // ---- form_field ----

    #[test]
    fn form_simple() {
        assert_eq!(
            form_field(b"csrf_token=abc", "csrf_token").as_deref(),
            Some("abc")
        );
        assert_eq!(
            form_field(b"a=1&csrf_token=abc&b=2", "csrf_token").as_deref(),
            Some("abc")
        );
    }

    #[test]
    fn form_first_occurrence_wins() {
        assert_eq!(
            form_field(b"csrf_token=first&csrf_token=second", "csrf_token").as_deref(),
            Some("first")
        );
    }

    #[test]
    fn form_missing() {
        assert_eq!(form_field(b"", "csrf_token"), None);
        assert_eq!(form_field(b"a=1&b=2", "csrf_token"), None);
        assert_eq!(
            form_field(b"xcsrf_token=1&csrf_tokenx=2", "csrf_token"),
            None
        );
        assert_eq!(form_field(b"csrf_token_=1", "csrf_token"), None);
        assert_eq!(form_field(b"CSRF_TOKEN=1", "csrf_token"), None);
    }

    #[test]
    fn form_decoding() {
        assert_eq!(form_field(b"t=a+b%2Bc", "t").as_deref(), Some("a b+c"));
        assert_eq!(form_field(b"t=%41%42", "t").as_deref(), Some("AB"));
        assert_eq!(form_field(b"t=caf%C3%A9", "t").as_deref(), Some("café"));
        // Malformed escapes stay literal.
        assert_eq!(form_field(b"t=100%", "t").as_deref(), Some("100%"));
        assert_eq!(form_field(b"t=%zz", "t").as_deref(), Some("%zz"));
        // Encoded names match.
        assert_eq!(
            form_field(b"csrf%5Ftoken=x", "csrf_token").as_deref(),
            Some("x")
        );
        assert_eq!(form_field(b"my+field=x", "my field").as_deref(), Some("x"));
        // '=' inside the value.
        assert_eq!(form_field(b"t=a=b", "t").as_deref(), Some("a=b"));
        // Encoded '&' does not split.
        assert_eq!(form_field(b"t=a%26b&c=d", "t").as_deref(), Some("a&b"));
    }

    #[test]
    fn form_empty_and_valueless() {
        assert_eq!(
            form_field(b"csrf_token=", "csrf_token").as_deref(),
            Some("")
        );
        assert_eq!(form_field(b"csrf_token", "csrf_token").as_deref(), Some(""));
        assert_eq!(
            form_field(b"&&csrf_token=x&&", "csrf_token").as_deref(),
            Some("x")
        );
    }

    #[test]
    fn form_non_utf8_value_is_none() {
        assert_eq!(form_field(b"csrf_token=%FF", "csrf_token"), None);
        assert_eq!(form_field(b"csrf_token=\xff", "csrf_token"), None);
        // Junk elsewhere does not matter.
        assert_eq!(
            form_field(b"\xff\xfe=\x00&csrf_token=ok", "csrf_token").as_deref(),
            Some("ok")
        );
    }

    #[test]
    fn form_binary_junk_never_panics() {
        let mut seed = 7u32;
        for _ in 0..2000 {
            let mut v = Vec::new();
            for _ in 0..(seed % 64) {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let alphabet = b"&=%+a\xffc_2F";
                v.push(alphabet[(seed >> 16) as usize % alphabet.len()]);
            }
            let _ = form_field(&v, "csrf_token");
            let _ = form_field(&v, "");
        }
    }

    // ---- multipart boundary ----

    #[test]
    fn boundary_parsing() {
        assert_eq!(boundary("multipart/form-data; boundary=abc"), Some("abc"));
        assert_eq!(
            boundary("multipart/form-data;boundary=\"a b:c\""),
            Some("a b:c")
        );
        assert_eq!(boundary("multipart/form-data; BOUNDARY=abc"), Some("abc"));
        assert_eq!(
            boundary("multipart/form-data; charset=utf-8; boundary=abc;"),
            Some("abc")
        );
        assert_eq!(
            boundary("multipart/form-data; boundary=\"abc\" ; charset=utf-8"),
            Some("abc")
        );
        for bad in [
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "multipart/form-data; boundary=\"\"",
            "multipart/form-data; boundary=\"abc",
            "multipart/form-data; boundary=\"abc\"x",
            "multipart/form-data; boundary=a; boundary=b",
            "multipart/form-data; boundary=a\"b",
            "multipart/form-data; boundary=a\\b",
            "multipart/form-data; boundary=\"abc \"",
            "multipart/form-data; boundary",
        ] {
            assert_eq!(boundary(bad), None, "{bad}");
        }
        let long = format!("multipart/form-data; boundary={}", "a".repeat(71));
        assert_eq!(boundary(&long), None);
        let max = format!("multipart/form-data; boundary={}", "a".repeat(70));
        assert!(boundary(&max).is_some());
    }

    // ---- multipart_field ----

    #[test]
    fn multipart_simple() {
        let body = multipart(&[(&field("csrf_token"), b"tok123")]);
        assert_eq!(mp(&body).as_deref(), Some("tok123"));
    }

    #[test]
    fn multipart_among_other_fields() {
        let body = multipart(&[
            (&field("title"), b"hello"),
            (&field("body"), b"line1\r\nline2"),
            (&field("csrf_token"), b"tok"),
            (&field("after"), b"x"),
        ]);
        assert_eq!(mp(&body).as_deref(), Some("tok"));
        assert_eq!(
            multipart_field(&body, CT, "body").as_deref(),
            Some("line1\r\nline2")
        );
    }

    #[test]
    fn multipart_first_occurrence_wins() {
        let body = multipart(&[
            (&field("csrf_token"), b"first"),
            (&field("csrf_token"), b"second"),
        ]);
        assert_eq!(mp(&body).as_deref(), Some("first"));
    }

    #[test]
    fn multipart_missing() {
        let body = multipart(&[(&field("title"), b"hello")]);
        assert_eq!(mp(&body), None);
        assert_eq!(mp(&multipart(&[])), None);
        assert_eq!(mp(b""), None);
    }

    #[test]
    fn multipart_name_must_match_exactly() {
        for other in [
            "xcsrf_token",
            "csrf_tokenx",
            "CSRF_TOKEN",
            "csrf_token ",
            "",
        ] {
            let body = multipart(&[(&field(other), b"tok")]);
            assert_eq!(mp(&body), None, "{other:?}");
        }
        // The field name appearing elsewhere in the headers does not count.
        let body = multipart(&[(
            "Content-Disposition: form-data; name=\"x\"\r\nX-Note: name=\"csrf_token\"",
            b"tok",
        )]);
        assert_eq!(mp(&body), None);
    }

    #[test]
    fn multipart_unquoted_name_and_case_insensitive_keys() {
        let body = multipart(&[("content-disposition: FORM-DATA; NAME=csrf_token", b"tok")]);
        assert_eq!(mp(&body).as_deref(), Some("tok"));
    }

    #[test]
    fn multipart_file_parts_ignored() {
        let body = multipart(&[
            (
                "Content-Disposition: form-data; name=\"csrf_token\"; filename=\"t.txt\"\r\nContent-Type: text/plain",
                b"from-file",
            ),
            (&field("csrf_token"), b"from-field"),
        ]);
        assert_eq!(mp(&body).as_deref(), Some("from-field"));
        let only_file = multipart(&[(
            "Content-Disposition: form-data; filename=\"t.txt\"; name=\"csrf_token\"",
            b"from-file",
        )]);
        assert_eq!(mp(&only_file), None);
        let star = multipart(&[(
            "Content-Disposition: form-data; name=\"csrf_token\"; filename*=UTF-8''t.txt",
            b"from-file",
        )]);
        assert_eq!(mp(&star), None);
    }

    #[test]
    fn multipart_token_inside_file_content_ignored() {
        // A file whose content looks like a token field (without a real delimiter).
        let inner = format!("{}\r\n\r\nsmuggled", field("csrf_token"));
        let body = multipart(&[(
            "Content-Disposition: form-data; name=\"f\"; filename=\"a\"",
            inner.as_bytes(),
        )]);
        assert_eq!(mp(&body), None);
    }

    #[test]
    fn multipart_binary_file_then_field() {
        let junk: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        let body = multipart(&[
            (
                "Content-Disposition: form-data; name=\"upload\"; filename=\"x.bin\"\r\nContent-Type: application/octet-stream",
                &junk,
            ),
            (&field("csrf_token"), b"tok"),
        ]);
        assert_eq!(mp(&body).as_deref(), Some("tok"));
    }

    #[test]
    fn multipart_quoted_boundary_and_preamble() {
        let mut body = b"this is a preamble\r\n".to_vec();
        body.extend_from_slice(&multipart(&[(&field("csrf_token"), b"tok")]));
        let ct = format!("multipart/form-data; boundary=\"{B}\"");
        assert_eq!(
            multipart_field(&body, &ct, "csrf_token").as_deref(),
            Some("tok")
        );
    }

    #[test]
    fn multipart_transport_padding_after_boundary() {
        let body = format!("--{B}  \r\n{}\r\n\r\ntok\r\n--{B}--", field("csrf_token"));
        assert_eq!(mp(body.as_bytes()).as_deref(), Some("tok"));
    }

    #[test]
    fn multipart_value_keeps_inner_whitespace() {
        let body = multipart(&[(&field("csrf_token"), b" tok \r\n")]);
        assert_eq!(mp(&body).as_deref(), Some(" tok \r\n"));
    }

    #[test]
    fn multipart_non_utf8_value_is_none() {
        let body = multipart(&[(&field("csrf_token"), b"\xff\xfe")]);
        assert_eq!(mp(&body), None);
    }

    #[test]
    fn multipart_wrong_or_missing_boundary() {
        let body = multipart(&[(&field("csrf_token"), b"tok")]);
        assert_eq!(
            multipart_field(&body, "multipart/form-data; boundary=other", "csrf_token"),
            None
        );
        assert_eq!(
            multipart_field(&body, "multipart/form-data", "csrf_token"),
            None
        );
        assert_eq!(
            multipart_field(
                &body,
                "application/x-www-form-urlencoded; boundary=x",
                "csrf_token"
            ),
            None
        );
        // A boundary that is a prefix of the real one does not open the body.
        let prefix = format!("multipart/form-data; boundary={}", &B[..10]);
        assert_eq!(multipart_field(&body, &prefix, "csrf_token"), None);
    }

    #[test]
    fn multipart_truncated_bodies() {
        let body = multipart(&[(&field("a"), b"1"), (&field("csrf_token"), b"tok")]);
        let full = mp(&body);
        assert_eq!(full.as_deref(), Some("tok"));
        // Cut before the token part is closed: no token.
        let closing = body.len() - format!("--{B}--\r\n").len();
        for cut in 0..closing + 4 + B.len() {
            let got = mp(&body[..cut]);
            assert_eq!(got, None, "cut at {cut}");
        }
        // Once the closing "--" is there, the token is found.
        assert_eq!(mp(&body[..closing + 4 + B.len()]).as_deref(), Some("tok"));
    }

    #[test]
    fn multipart_lf_only_is_malformed() {
        let body =
            format!("--{B}\nContent-Disposition: form-data; name=\"csrf_token\"\n\ntok\n--{B}--\n");
        assert_eq!(mp(body.as_bytes()), None);
    }

    #[test]
    fn multipart_malformed_headers() {
        // Header line without a colon.
        let body = multipart(&[("Content-Disposition form-data; name=\"csrf_token\"", b"t")]);
        assert_eq!(mp(&body), None);
        // Folded header.
        let body = multipart(&[(
            "Content-Disposition: form-data;\r\n name=\"csrf_token\"",
            b"t",
        )]);
        assert_eq!(mp(&body), None);
        // Unterminated quote.
        let body = multipart(&[("Content-Disposition: form-data; name=\"csrf_token", b"t")]);
        assert_eq!(mp(&body), None);
        // Not form-data.
        let body = multipart(&[("Content-Disposition: attachment; name=\"csrf_token\"", b"t")]);
        assert_eq!(mp(&body), None);
        // Duplicate name parameters or dispositions: ambiguous, skipped.
        let body = multipart(&[(
            "Content-Disposition: form-data; name=\"csrf_token\"; name=\"x\"",
            b"t",
        )]);
        assert_eq!(mp(&body), None);
        let body = multipart(&[(
            "Content-Disposition: form-data; name=\"x\"\r\nContent-Disposition: form-data; name=\"csrf_token\"",
            b"t",
        )]);
        assert_eq!(mp(&body), None);
        // Too many header lines.
        let many = (0..20)
            .map(|i| format!("X-H{i}: v"))
            .chain([field("csrf_token")])
            .collect::<Vec<_>>()
            .join("\r\n");
        assert_eq!(mp(&multipart(&[(&many, b"t")])), None);
    }

    #[test]
    fn multipart_part_without_headers() {
        let body = format!(
            "--{B}\r\n\r\ncontent\r\n--{B}\r\n{}\r\n\r\ntok\r\n--{B}--",
            field("csrf_token")
        );
        assert_eq!(mp(body.as_bytes()).as_deref(), Some("tok"));
    }

    #[test]
    fn multipart_after_closing_boundary_ignored() {
        let mut body = multipart(&[(&field("a"), b"1")]);
        body.extend_from_slice(
            format!("--{B}\r\n{}\r\n\r\ntok\r\n--{B}--\r\n", field("csrf_token")).as_bytes(),
        );
        assert_eq!(mp(&body), None);
    }

    #[test]
    fn multipart_garbage_after_delimiter_is_malformed() {
        let body = format!("--{B}x\r\n{}\r\n\r\ntok\r\n--{B}--", field("csrf_token"));
        assert_eq!(mp(body.as_bytes()), None);
        let body = format!("--{B}\r\n{}\r\n\r\ntok\r\n--{B}junk", field("csrf_token"));
        assert_eq!(mp(body.as_bytes()), None);
    }

    #[test]
    fn multipart_part_limit() {
        let filler = field("f");
        let mut parts: Vec<(&str, &[u8])> = vec![(filler.as_str(), &b"x"[..]); MAX_PARTS];
        let token = field("csrf_token");
        parts.push((token.as_str(), &b"tok"[..]));
        assert_eq!(mp(&multipart(&parts)), None);
        parts.remove(0);
        assert_eq!(mp(&multipart(&parts)).as_deref(), Some("tok"));
    }

    #[test]
    fn multipart_header_block_limit() {
        let big = format!(
            "{}\r\nX-Big: {}",
            field("csrf_token"),
            "a".repeat(MAX_PART_HEADER_LEN)
        );
        assert_eq!(mp(&multipart(&[(&big, b"tok")])), None);
    }

    #[test]
    fn multipart_binary_junk_never_panics() {
        let alphabet: Vec<&[u8]> = vec![
            b"\r\n",
            b"--",
            B.as_bytes(),
            b"Content-Disposition: form-data; name=\"csrf_token\"",
            b"\r\n\r\n",
            b"\"",
            b";",
            b"\xff",
            b"tok",
            b" ",
            b"filename=\"x\"",
        ];
        let mut seed = 99u32;
        for _ in 0..5000 {
            let mut v = Vec::new();
            for _ in 0..(seed % 24) {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                v.extend_from_slice(alphabet[(seed >> 16) as usize % alphabet.len()]);
            }
            let _ = mp(&v);
            let _ = multipart_field(&v, "multipart/form-data; boundary=\"", "csrf_token");
        }
    }

    #[test]
    fn split_params_cases() {
        assert_eq!(
            split_params("form-data; name=\"a;b\"; x=y"),
            Some(("form-data", vec![("name", "a;b"), ("x", "y")]))
        );
        assert_eq!(split_params("form-data"), Some(("form-data", vec![])));
        assert_eq!(split_params("form-data;"), None);
        assert_eq!(split_params("form-data; =x"), None);
        assert_eq!(split_params("form-data; a"), None);
        let many = format!("t{}", "; a=b".repeat(MAX_PARAMS + 1));
        assert_eq!(split_params(&many), None);
    }

    #[test]
    fn find_cases() {
        assert_eq!(find(b"abcabc", b"bc", 0), Some(1));
        assert_eq!(find(b"abcabc", b"bc", 2), Some(4));
        assert_eq!(find(b"abc", b"", 0), None);
        assert_eq!(find(b"abc", b"abcd", 0), None);
        assert_eq!(find(b"abc", b"c", 10), None);
        assert_eq!(find(b"", b"a", 0), None);
    }
}
