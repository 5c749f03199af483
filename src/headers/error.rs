//! [`HeaderConfigError`]: a security-header configuration refused at construction.

/// A security-header, CSP or Permissions-Policy configuration that cannot be used.
///
/// Every check runs when the configuration is built (at start-up), never while serving a
/// request: a value that could split a header (CR, LF, NUL or any other control character), a
/// separator where a single item is expected (`;` inside a CSP source, `,` anywhere in a CSP),
/// an unquoted CSP keyword, a duplicate directive or an inconsistent HSTS policy is refused
/// here, with the offending value escaped in the message.
///
/// ```
/// use warden::headers::{ContentSecurityPolicy, HeaderConfigError, Source};
///
/// let err = ContentSecurityPolicy::builder()
///     .default_src([Source::host("https://cdn.example.com; script-src *")])
///     .build()
///     .unwrap_err();
/// assert!(matches!(err, HeaderConfigError::Separator { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderConfigError {
    /// A value contains a control character (CR, LF, NUL, TAB, DEL...) or a non-ASCII one.
    #[error(
        "{what}: {value:?} contains the character {ch:?}; header values must be printable \
         ASCII (a control character such as CR, LF or NUL would allow header injection)"
    )]
    ForbiddenCharacter {
        /// What was being configured (a header or CSP directive name).
        what: String,
        /// The refused value.
        value: String,
        /// The first refused character.
        ch: char,
    },
    /// A separator (`;`, `,`, a space or a quote) where a single item is expected.
    #[error(
        "{what}: {value:?} contains {ch:?}, which is not allowed here (it would end the item and \
         start another directive, source or policy)"
    )]
    Separator {
        /// What was being configured.
        what: String,
        /// The refused value.
        value: String,
        /// The separator found.
        ch: char,
    },
    /// A CSP source expression that is not valid.
    #[error("Content-Security-Policy `{directive}`: invalid source {value:?}: {reason}")]
    InvalidSource {
        /// The directive it was given for.
        directive: String,
        /// The refused source.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// A CSP directive name that is not `[a-z0-9-]+`.
    #[error("Content-Security-Policy: invalid directive name {name:?} (expected e.g. `img-src`)")]
    InvalidDirectiveName {
        /// The refused name.
        name: String,
    },
    /// A CSP directive given twice (browsers ignore the second one).
    #[error("Content-Security-Policy: the directive `{name}` is given twice")]
    DuplicateDirective {
        /// The repeated directive.
        name: String,
    },
    /// A CSP fetch directive without any source (write `'none'` to allow nothing).
    #[error("Content-Security-Policy: `{name}` has no source; write 'none' to allow nothing")]
    EmptyDirective {
        /// The empty directive.
        name: String,
    },
    /// `'none'` next to other sources (browsers then ignore `'none'`).
    #[error("Content-Security-Policy: `{name}` combines 'none' with other sources")]
    NoneWithOthers {
        /// The directive.
        name: String,
    },
    /// A CSP without `default-src`, which leaves every unlisted fetch kind unrestricted.
    #[error(
        "Content-Security-Policy: `default-src` is missing, so every resource type it does not \
         list is unrestricted (call `without_default_src()` if this is intended)"
    )]
    MissingDefaultSrc,
    /// A per-request nonce was asked for, but the directive it goes into is `'none'`.
    #[error("Content-Security-Policy: a nonce cannot be added to `{name}`, which is 'none'")]
    NonceWithNone {
        /// The directive.
        name: String,
    },
    /// Two policies of the same kind (two enforced, or two report-only).
    #[error("only one {kind} Content-Security-Policy can be configured")]
    DuplicatePolicy {
        /// `enforced` or `report-only`.
        kind: &'static str,
    },
    /// A header name that is not a valid HTTP token.
    #[error("invalid header name {name:?}")]
    InvalidHeaderName {
        /// The refused name.
        name: String,
    },
    /// Any other invalid value (an HSTS policy, a Permissions-Policy feature, a reporting
    /// endpoint...).
    #[error("{what}: invalid value {value:?}: {reason}")]
    Invalid {
        /// What was being configured.
        what: String,
        /// The refused value.
        value: String,
        /// Why it was refused.
        reason: String,
    },
}

impl HeaderConfigError {
    pub(crate) fn invalid(what: &str, value: &str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            what: what.to_owned(),
            value: value.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Refuses control characters, DEL and non-ASCII: a whole header value may hold printable
/// ASCII and spaces only.
pub(crate) fn check_text(what: &str, value: &str) -> Result<(), HeaderConfigError> {
    match value.chars().find(|&c| !(c == ' ' || c.is_ascii_graphic())) {
        Some(ch) => Err(HeaderConfigError::ForbiddenCharacter {
            what: what.to_owned(),
            value: value.to_owned(),
            ch,
        }),
        None => Ok(()),
    }
}

/// [`check_text`], and refuses spaces, `;`, `,` and quotes: a single item of a list.
pub(crate) fn check_item(what: &str, value: &str) -> Result<(), HeaderConfigError> {
    check_text(what, value)?;
    match value.chars().find(|c| matches!(c, ' ' | ';' | ',' | '"')) {
        Some(ch) => Err(HeaderConfigError::Separator {
            what: what.to_owned(),
            value: value.to_owned(),
            ch,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_items() {
        assert!(check_text("x", "a b;c").is_ok());
        for bad in ["a\rb", "a\nb", "a\0b", "a\tb", "a\u{7f}", "é", "a\u{2028}"] {
            assert!(matches!(
                check_text("x", bad),
                Err(HeaderConfigError::ForbiddenCharacter { .. })
            ));
        }
        assert!(check_item("x", "https://a.example").is_ok());
        for bad in ["a;b", "a,b", "a b", "a\"b"] {
            assert!(matches!(
                check_item("x", bad),
                Err(HeaderConfigError::Separator { .. })
            ));
        }
    }
}
