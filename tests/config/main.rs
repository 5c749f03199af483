//! Layered, validated configuration: files, environment overrides, programmatic overrides,
//! every validation rule.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use warden::{
    config::{RawConfig, SameSite, SecretKeys, SessionSettings},
    Config, ConfigError, ConfigLoader, ForwardedHeader, Profile,
};

/// Strong 32+ byte keys that are neither placeholders nor repetitive.
const KEY_A: &str = "k3J9x2Lq8Vn4Rz7Tw1Yb5Hc0Md6Fg_aP";
const KEY_B: &str = "Q7m!2vXz9LpR4tW8yB1nC5hJ0kD3fG6s";
const KEY_C: &str = "u8Y2e6R0t4W9q1Z5x3C7v2B6n0M4k8J1";

fn repo_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Writes `toml` to a temporary file; keep the guard alive while loading.
fn toml_file(toml: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("warden.toml");
    std::fs::write(&path, toml).expect("write config");
    (dir, path)
}

fn load(toml: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let (_dir, path) = toml_file(toml);
    ConfigLoader::new().file(&path).env(vars(env)).load()
}

/// Loads and expects `ConfigError::Invalid`; returns the keys it names.
fn invalid(toml: &str, env: &[(&str, &str)]) -> ConfigError {
    match load(toml, env) {
        Err(e @ ConfigError::Invalid { .. }) => e,
        other => panic!("expected ConfigError::Invalid, got {other:?}"),
    }
}

/// Expects exactly one invalid key and returns its reason.
fn only_error(toml: &str, env: &[(&str, &str)], key: &str) -> String {
    let err = invalid(toml, env);
    assert_eq!(err.keys(), vec![key], "unexpected keys in: {err}");
    err.errors()[0].reason.clone()
}

/// What `session.shards = 0` resolves to on this machine.
fn available_shards() -> usize {
    std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(SessionSettings::MAX_SHARDS)
}

fn parse_error(toml: &str, env: &[(&str, &str)]) -> (Option<String>, String) {
    match load(toml, env) {
        Err(ConfigError::Parse { key, message }) => (key, message),
        other => panic!("expected ConfigError::Parse, got {other:?}"),
    }
}

/// Loads the defaults with one override.
fn with(key: &str, value: impl serde::Serialize) -> Result<Config, ConfigError> {
    ConfigLoader::new().set(key, value).load()
}

/// Expects exactly one invalid key, `key`, when it is set to `value`; returns the reason.
fn rejected(key: &str, value: impl serde::Serialize + std::fmt::Debug) -> String {
    let shown = format!("{value:?}");
    match with(key, value) {
        Err(err @ ConfigError::Invalid { .. }) => {
            assert_eq!(err.keys(), vec![key], "{key} = {shown}: {err}");
            err.errors()[0].reason.clone()
        }
        other => panic!("{key} = {shown}: expected ConfigError::Invalid, got {other:?}"),
    }
}

/// Expects the defaults with `key = value` to be valid.
fn accepted(key: &str, value: impl serde::Serialize + std::fmt::Debug) -> Config {
    let shown = format!("{value:?}");
    with(key, value).unwrap_or_else(|e| panic!("{key} = {shown} should be valid: {e}"))
}

/// The text of `[section]` in `config/default.toml`.
fn default_toml_section(section: &str) -> String {
    let text = std::fs::read_to_string(repo_file("config/default.toml")).unwrap();
    text.split(&format!("\n[{section}]\n"))
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .unwrap_or_else(|| panic!("a [{section}] section"))
        .to_owned()
}

/// Asserts that every key line of a `config/default.toml` section follows a comment.
fn assert_every_key_commented(section: &str) {
    let lines: Vec<&str> = section.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if !line.is_empty() && !line.starts_with('#') {
            assert!(
                i > 0 && lines[i - 1].starts_with('#'),
                "`{line}` has no comment"
            );
        }
    }
}

mod audit;
mod auth;
mod csrf;
mod env;
mod files;
mod headers;
mod lockout;
mod logs;
mod overrides;
mod parse;
mod ratelimit;
mod secrets;
mod session;
mod validation;
