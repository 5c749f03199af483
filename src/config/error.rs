//! The error type of configuration loading and validation.

use std::{fmt, path::PathBuf};

/// One invalid configuration value: the dotted key that holds it and why it was rejected.
///
/// Displayed as ``config key `session.idle_timeout_secs`: must be greater than 0``.
/// The reason never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyError {
    /// The dotted key path, e.g. `session.idle_timeout_secs`.
    pub key: String,
    /// Why the value was rejected.
    pub reason: String,
}

impl KeyError {
    /// A new error for `key`.
    ///
    /// ```
    /// use warden::config::KeyError;
    ///
    /// let e = KeyError::new("session.idle_timeout_secs", "must be greater than 0");
    /// assert_eq!(e.to_string(), "config key `session.idle_timeout_secs`: must be greater than 0");
    /// ```
    pub fn new(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "config key `{}`: {}", self.key, self.reason)
    }
}

/// Why a configuration could not be loaded.
///
/// Validation collects **every** problem it finds, not only the first one:
/// [`ConfigError::Invalid`] holds them all and displays them one per line, in the order of
/// the configuration file's sections. Parse errors (unknown keys, wrong types) stop at the
/// first problem, because nothing can be validated before the file has been read.
///
/// No variant ever contains a secret key, not even a rejected one.
///
/// ```
/// use warden::{ConfigError, ConfigLoader};
///
/// let err = ConfigLoader::new()
///     .env([("WARDEN_BIND".to_string(), "not an address".to_string())])
///     .load()
///     .unwrap_err();
/// assert!(matches!(err, ConfigError::Invalid { .. }));
/// assert_eq!(err.keys(), vec!["server.bind"]);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A configuration file given explicitly does not exist.
    #[error("config file `{}` not found", path.display())]
    NotFound {
        /// The path that was asked for.
        path: PathBuf,
    },
    /// A configuration file exists but could not be read.
    #[error("cannot read config file `{}`: {source}", path.display())]
    Io {
        /// The path that was asked for.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration could not be parsed: a TOML syntax error, an unknown key or a value
    /// of the wrong type.
    #[error("{}", display_parse(key.as_deref(), message))]
    Parse {
        /// The dotted key path of the offending value, when known.
        key: Option<String>,
        /// What went wrong, including where the value came from (file or environment).
        message: String,
    },
    /// One or more values are invalid; displayed one per line.
    #[error("{}", display_list(errors))]
    Invalid {
        /// Every invalid value found (never empty).
        errors: Vec<KeyError>,
    },
}

fn display_parse(key: Option<&str>, message: &str) -> String {
    match key {
        Some(key) => format!("config key `{key}`: {message}"),
        None => message.to_owned(),
    }
}

fn display_list(errors: &[KeyError]) -> String {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

impl ConfigError {
    /// A single invalid value.
    pub fn invalid(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            errors: vec![KeyError::new(key, reason)],
        }
    }

    /// The dotted keys this error names, in order (empty for I/O errors and for parse errors
    /// without a key).
    pub fn keys(&self) -> Vec<&str> {
        match self {
            Self::Parse { key: Some(k), .. } => vec![k.as_str()],
            Self::Invalid { errors } => errors.iter().map(|e| e.key.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// The individual invalid values, if this is [`ConfigError::Invalid`].
    pub fn errors(&self) -> &[KeyError] {
        match self {
            Self::Invalid { errors } => errors,
            _ => &[],
        }
    }

    /// The reason given for `key`, if this error names it.
    pub fn reason_for(&self, key: &str) -> Option<&str> {
        match self {
            Self::Parse {
                key: Some(k),
                message,
            } if k == key => Some(message),
            Self::Invalid { errors } => errors
                .iter()
                .find(|e| e.key == key)
                .map(|e| e.reason.as_str()),
            _ => None,
        }
    }
}
