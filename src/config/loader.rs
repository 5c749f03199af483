//! Layering: built-in defaults, then TOML files, then `WARDEN_*` environment variables.

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
};

use figment::{
    providers::{Format, Serialized, Toml},
    value::{Dict, Map, Value},
    Figment, Metadata, Provider,
};
use serde::Serialize;

use super::{env, error::ConfigError, parse_error::from_figment, raw::RawConfig, Config};

/// The file [`ConfigLoader::from_process_env`] reads when `WARDEN_CONFIG` is not set.
pub const DEFAULT_CONFIG_FILE: &str = "config/default.toml";

/// Figment metadata name of [`ConfigLoader::set`] overrides (named in parse errors).
pub(crate) const OVERRIDE_SOURCE: &str = "ConfigLoader::set";

/// Where environment variables come from, in the order they were added.
#[derive(Clone)]
enum EnvSource {
    Process,
    Vars(Vec<(String, String)>),
}

/// Builds a [`Config`] from layers, lowest precedence first: the built-in secure defaults,
/// then each TOML [`file`](Self::file) in the order given, then the `WARDEN_*` environment
/// variables ([`env`](Self::env), [`process_env`](Self::process_env)), then the programmatic
/// overrides of [`set`](Self::set).
///
/// Recognised variables (all others are ignored): `WARDEN_PROFILE`, `WARDEN_BIND`,
/// `WARDEN_DATA_DIR`, `WARDEN_ORIGIN`, `WARDEN_SECRET_KEY` (the current key; empty counts as
/// unset; keys from files follow it as previous keys) and `WARDEN_PREVIOUS_SECRET_KEYS`
/// (comma-separated previous keys; replaces the files' previous keys). `WARDEN_CONFIG` is only
/// read by [`from_process_env`](Self::from_process_env).
///
/// `Debug` shows file paths, variable names and overridden keys, never values.
///
/// ```
/// use warden::{ConfigLoader, Profile};
///
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("warden.toml");
/// std::fs::write(&path, "[session]\nidle_timeout_secs = 600\n").unwrap();
/// let config = ConfigLoader::new()
///     .file(&path)
///     .env([
///         ("WARDEN_PROFILE".to_string(), "production".to_string()),
///         ("WARDEN_ORIGIN".to_string(), "https://app.example.com".to_string()),
///         ("WARDEN_SECRET_KEY".to_string(), "3f9c0a7e5b2d4c1a8e6f0b9d7c5a3e1f".to_string()),
///     ])
///     .load()?;
/// assert_eq!(config.profile, Profile::Production);
/// assert_eq!(config.session.idle_timeout.as_secs(), 600);
/// assert_eq!(config.server.allowed_hosts, vec!["app.example.com".to_string()]);
/// # Ok::<(), warden::ConfigError>(())
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct ConfigLoader {
    files: Vec<PathBuf>,
    env: Vec<EnvSource>,
    overrides: Vec<Override>,
}

/// One [`ConfigLoader::set`] call, serialized up front.
#[derive(Clone)]
struct Override {
    key: String,
    /// The serialized value, or why it could not be serialized.
    value: Result<Value, String>,
}

impl ConfigLoader {
    /// A loader with the built-in defaults only.
    pub fn new() -> Self {
        Self::default()
    }

    /// The loader a binary wants: the file named by `WARDEN_CONFIG` (which must exist), else
    /// [`DEFAULT_CONFIG_FILE`] if it exists, else no file; then the process environment.
    pub fn from_process_env() -> Self {
        let loader = Self::new();
        let loader = match std::env::var_os(env::CONFIG) {
            Some(path) if !path.is_empty() => loader.file(path),
            _ if Path::new(DEFAULT_CONFIG_FILE).is_file() => loader.file(DEFAULT_CONFIG_FILE),
            _ => loader,
        };
        loader.process_env()
    }

    /// Adds a TOML file layer; later files override earlier ones. A missing file is an
    /// error ([`ConfigError::NotFound`]) when loading.
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.files.push(path.into());
        self
    }

    /// Adds environment variables as `(name, value)` pairs (tests use this instead of touching
    /// the process environment). Later sources override earlier ones.
    pub fn env<I>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (String, String)>,
    {
        self.env.push(EnvSource::Vars(vars.into_iter().collect()));
        self
    }

    /// Reads the recognised `WARDEN_*` variables from the process environment when loading.
    pub fn process_env(mut self) -> Self {
        self.env.push(EnvSource::Process);
        self
    }

    /// Overrides one value by its dotted key (`"session.idle_timeout_secs"`), with the
    /// highest precedence: above every file and environment variable, including
    /// `WARDEN_SECRET_KEY` for `secrets.keys`. Later calls for the same key win; a table value
    /// (e.g. `set("session", raw_session)`) is merged key by key, as files are. The value is
    /// checked like any other layer when loading: an unknown key or a wrong type is a
    /// [`ConfigError::Parse`] naming the key, an invalid value a [`ConfigError::Invalid`].
    ///
    /// Handy in tests, e.g. a throw-away store directory and no audit log lines:
    ///
    /// ```
    /// use std::time::Duration;
    /// use warden::ConfigLoader;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let config = ConfigLoader::new()
    ///     .set("server.data_dir", dir.path())
    ///     .set("audit.tracing_sink", false)
    ///     .set("session.idle_timeout_secs", 60)
    ///     .set("proxy.trusted_proxies", ["10.0.0.0/8"])
    ///     .load()?;
    /// assert_eq!(config.server.data_dir, dir.path());
    /// assert!(!config.runtime.audit.tracing_sink);
    /// assert_eq!(config.session.idle_timeout, Duration::from_secs(60));
    ///
    /// let err = ConfigLoader::new().set("session.idle_timeout", 60).load().unwrap_err();
    /// assert_eq!(err.keys(), vec!["session.idle_timeout"]); // unknown key
    /// # Ok::<(), warden::ConfigError>(())
    /// ```
    pub fn set(mut self, key: &str, value: impl Serialize) -> Self {
        // The serializer's message is dropped: it could echo a secret.
        let value = Value::serialize(value)
            .map_err(|_| "the value cannot be represented as configuration".to_owned());
        self.overrides.push(Override {
            key: key.to_owned(),
            value,
        });
        self
    }

    /// Loads and validates.
    ///
    /// # Errors
    ///
    /// [`ConfigError::NotFound`] / [`ConfigError::Io`] for files, [`ConfigError::Parse`] for
    /// syntax errors, unknown keys and wrong types, [`ConfigError::Invalid`] listing every
    /// invalid value.
    pub fn load(&self) -> Result<Config, ConfigError> {
        Config::from_raw(self.load_raw()?)
    }

    /// Loads all layers without validating (secret keys from the environment are already
    /// placed in `secrets.keys`).
    ///
    /// # Errors
    ///
    /// As [`load`](Self::load), except [`ConfigError::Invalid`] only for a set
    /// `WARDEN_PREVIOUS_SECRET_KEYS` without any current key.
    pub fn load_raw(&self) -> Result<RawConfig, ConfigError> {
        let vars = self.collect_env()?;
        let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
        for path in &self.files {
            figment = figment.merge(read_file(path)?);
        }
        figment = figment.merge(EnvLayer(vars.clone()));
        let mut raw: RawConfig = figment.extract().map_err(from_figment)?;
        apply_secret_env(&mut raw, &vars)?;
        if self.overrides.is_empty() {
            return Ok(raw);
        }
        // Overrides go on top of everything, secrets from the environment included.
        let mut figment = Figment::from(Serialized::defaults(raw));
        for o in &self.overrides {
            figment = figment.merge(o.provider()?);
        }
        figment.extract().map_err(from_figment)
    }

    /// The recognised variables, later sources winning.
    fn collect_env(&self) -> Result<BTreeMap<&'static str, String>, ConfigError> {
        let mut vars = BTreeMap::new();
        for source in &self.env {
            match source {
                EnvSource::Process => {
                    for &(name, key) in env::OVERRIDES {
                        match std::env::var(name) {
                            Ok(value) => {
                                vars.insert(name, value);
                            }
                            Err(std::env::VarError::NotPresent) => {}
                            Err(std::env::VarError::NotUnicode(_)) => {
                                return Err(ConfigError::Parse {
                                    key: Some(key.to_owned()),
                                    message: format!(
                                        "environment variable {name} is not valid UTF-8"
                                    ),
                                });
                            }
                        }
                    }
                }
                EnvSource::Vars(list) => {
                    for (name, value) in list {
                        if let Some(&(known, _)) =
                            env::OVERRIDES.iter().find(|(n, _)| *n == name.as_str())
                        {
                            vars.insert(known, value.clone());
                        }
                    }
                }
            }
        }
        Ok(vars)
    }
}

impl fmt::Debug for ConfigLoader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env: Vec<String> = self
            .env
            .iter()
            .map(|s| match s {
                EnvSource::Process => "<process environment>".to_owned(),
                EnvSource::Vars(v) => {
                    let names: Vec<&str> = v.iter().map(|(n, _)| n.as_str()).collect();
                    format!("{names:?}")
                }
            })
            .collect();
        let overrides: Vec<&str> = self.overrides.iter().map(|o| o.key.as_str()).collect();
        f.debug_struct("ConfigLoader")
            .field("files", &self.files)
            .field("env", &env)
            .field("overrides", &overrides)
            .finish()
    }
}

impl Override {
    /// The figment layer, or a parse error naming the key.
    fn provider(&self) -> Result<OverrideLayer, ConfigError> {
        let error = |message: String| ConfigError::Parse {
            key: Some(self.key.clone()),
            message: format!("{message} (from {OVERRIDE_SOURCE})"),
        };
        if self.key.is_empty() || self.key.split('.').any(str::is_empty) {
            return Err(error(
                "not a dotted key (expected e.g. `session.idle_timeout_secs`)".to_owned(),
            ));
        }
        match &self.value {
            Ok(value) => Ok(OverrideLayer(figment::util::nest(&self.key, value.clone()))),
            Err(why) => Err(error(why.clone())),
        }
    }
}

/// One [`ConfigLoader::set`] value, nested under its key.
struct OverrideLayer(Value);

impl Provider for OverrideLayer {
    fn metadata(&self) -> Metadata {
        Metadata::named(OVERRIDE_SOURCE)
    }

    fn data(&self) -> Result<Map<figment::Profile, Dict>, figment::Error> {
        let dict = self.0.clone().into_dict().unwrap_or_default();
        Ok(figment::Profile::Default.collect(dict))
    }
}

/// A TOML file read up front, so that a missing file is an error rather than an empty layer.
struct TomlFile {
    path: PathBuf,
    text: String,
}

fn read_file(path: &Path) -> Result<TomlFile, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(TomlFile {
            path: path.to_path_buf(),
            text,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ConfigError::NotFound {
            path: path.to_path_buf(),
        }),
        Err(source) => Err(ConfigError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

impl Provider for TomlFile {
    fn metadata(&self) -> Metadata {
        Metadata::named("TOML file").source(self.path.as_path())
    }

    fn data(&self) -> Result<Map<figment::Profile, Dict>, figment::Error> {
        // The file's path is added from `metadata` when the error is reported.
        Toml::string(&self.text).data().map_err(|e| {
            figment::Error::from(super::parse_error::strip_snippet(&e.kind.to_string()))
        })
    }
}

/// The non-secret `WARDEN_*` overrides as a figment layer.
struct EnvLayer(BTreeMap<&'static str, String>);

impl Provider for EnvLayer {
    fn metadata(&self) -> Metadata {
        Metadata::named(env::SOURCE_NAME).interpolater(|_: &figment::Profile, keys: &[&str]| {
            env::var_for_key(&keys.join("."))
                .unwrap_or("WARDEN_*")
                .to_owned()
        })
    }

    fn data(&self) -> Result<Map<figment::Profile, Dict>, figment::Error> {
        let mut root = Dict::new();
        let mut server = Dict::new();
        for &(name, key) in env::OVERRIDES {
            let Some(value) = self.0.get(name) else {
                continue;
            };
            match key.split_once('.') {
                None if key == "profile" => {
                    root.insert(key.to_owned(), Value::from(value.clone()));
                }
                Some(("server", field)) => {
                    server.insert(field.to_owned(), Value::from(value.clone()));
                }
                // Secrets are applied after extraction (see `apply_secret_env`).
                _ => {}
            }
        }
        if !server.is_empty() {
            root.insert("server".to_owned(), Value::from(server));
        }
        Ok(figment::Profile::Default.collect(root))
    }
}

/// `WARDEN_SECRET_KEY` / `WARDEN_PREVIOUS_SECRET_KEYS` → `raw.secrets.keys`.
fn apply_secret_env(
    raw: &mut RawConfig,
    vars: &BTreeMap<&'static str, String>,
) -> Result<(), ConfigError> {
    let current = vars
        .get(env::SECRET_KEY)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty());
    let previous: Option<Vec<String>> = vars
        .get(env::PREVIOUS_SECRET_KEYS)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|list| !list.is_empty());
    let keys = &mut raw.secrets.keys;
    match (current, previous) {
        (Some(current), Some(previous)) => {
            *keys = std::iter::once(current.to_owned())
                .chain(previous)
                .collect();
        }
        (Some(current), None) => {
            let from_files = std::mem::take(keys);
            keys.push(current.to_owned());
            keys.extend(from_files.into_iter().filter(|k| k != current));
        }
        (None, Some(previous)) => {
            if keys.is_empty() {
                return Err(ConfigError::invalid(
                    "secrets.keys",
                    "WARDEN_PREVIOUS_SECRET_KEYS is set but there is no current key; \
                     set WARDEN_SECRET_KEY",
                ));
            }
            keys.truncate(1);
            keys.extend(previous);
        }
        (None, None) => {}
    }
    Ok(())
}
