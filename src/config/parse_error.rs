//! Turns figment errors into [`ConfigError::Parse`] naming the key, without leaking secrets.

use figment::error::{Actual, Kind};

use super::{env, error::ConfigError, loader::OVERRIDE_SOURCE};

/// The first figment error, with its full key path and where the value came from.
pub(crate) fn from_figment(err: figment::Error) -> ConfigError {
    let Some(err) = err.into_iter().next() else {
        return ConfigError::Parse {
            key: None,
            message: "unknown configuration error".to_owned(),
        };
    };
    let mut path = err.path.clone();
    let secret = path.first().is_some_and(|p| p == "secrets");
    let message = match &err.kind {
        Kind::UnknownField(field, expected) => {
            // figment already appends the field to the path; older versions did not.
            if path.last() != Some(field) {
                path.push(field.clone());
            }
            format!("unknown key; expected {}", one_of(expected))
        }
        Kind::UnknownVariant(found, expected) if !secret => {
            format!("unknown value `{found}`; expected {}", one_of(expected))
        }
        Kind::InvalidType(actual, expected) => {
            format!(
                "wrong type: found {}, expected {expected}",
                describe(actual, secret)
            )
        }
        Kind::InvalidValue(actual, expected) => {
            format!(
                "invalid value {}, expected {expected}",
                describe(actual, secret)
            )
        }
        Kind::Message(msg) if !secret => strip_snippet(msg),
        kind if !secret => kind.to_string(),
        _ => "invalid value (not shown: it may be a secret)".to_owned(),
    };
    let origin = err.metadata.as_ref().and_then(|md| {
        if md.name == env::SOURCE_NAME {
            let profile = err.profile.clone().unwrap_or_default();
            Some(format!(
                " (from {} {})",
                md.name,
                md.interpolate(&profile, &path)
            ))
        } else if md.name == OVERRIDE_SOURCE {
            Some(format!(" (from {OVERRIDE_SOURCE})"))
        } else {
            md.source
                .as_ref()
                .and_then(|s| s.file_path())
                .map(|p| format!(" (in `{}`)", p.display()))
        }
    });
    let message = format!("{message}{}", origin.unwrap_or_default());
    let key = (!path.is_empty()).then(|| path.join("."));
    ConfigError::Parse { key, message }
}

/// The kind of a value, with the value itself unless it may be a secret.
fn describe(actual: &Actual, secret: bool) -> String {
    if !secret {
        return actual.to_string();
    }
    match actual {
        Actual::Str(_) => "a string".to_owned(),
        Actual::Bytes(_) => "bytes".to_owned(),
        Actual::Char(_) => "a character".to_owned(),
        other => {
            // Numbers, booleans, maps and sequences carry no string payload.
            other.to_string()
        }
    }
}

fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.len() {
        0 => "nothing".to_owned(),
        1 => quoted[0].clone(),
        _ => format!("one of {}", quoted.join(", ")),
    }
}

/// Drops the source excerpt from a TOML syntax error (it could show a secret key).
pub(crate) fn strip_snippet(message: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .filter(|line| {
            let t = line.trim_start();
            let t = t
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .trim_start();
            !t.starts_with('|')
        })
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join(": ")
}
