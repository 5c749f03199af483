//! Names of the environment variables warden reads, and the keys they override.

/// Path of the configuration file (read by `ConfigLoader::from_process_env` only).
pub const CONFIG: &str = "WARDEN_CONFIG";
/// Overrides `profile`.
pub const PROFILE: &str = "WARDEN_PROFILE";
/// Overrides `server.bind`.
pub const BIND: &str = "WARDEN_BIND";
/// Overrides `server.data_dir`.
pub const DATA_DIR: &str = "WARDEN_DATA_DIR";
/// Overrides `server.origin`.
pub const ORIGIN: &str = "WARDEN_ORIGIN";
/// The current secret key (first of `secrets.keys`); empty counts as unset.
pub const SECRET_KEY: &str = "WARDEN_SECRET_KEY";
/// Previous secret keys, comma-separated (the rest of `secrets.keys`).
pub const PREVIOUS_SECRET_KEYS: &str = "WARDEN_PREVIOUS_SECRET_KEYS";

/// Every recognised override: (variable, dotted config key).
pub(crate) const OVERRIDES: &[(&str, &str)] = &[
    (PROFILE, "profile"),
    (BIND, "server.bind"),
    (DATA_DIR, "server.data_dir"),
    (ORIGIN, "server.origin"),
    (SECRET_KEY, "secrets.keys"),
    (PREVIOUS_SECRET_KEYS, "secrets.keys"),
];

/// Figment metadata name of the environment layer.
pub(crate) const SOURCE_NAME: &str = "environment variable";

/// The variable that overrides a (non-secret) dotted key.
pub(crate) fn var_for_key(key: &str) -> Option<&'static str> {
    OVERRIDES
        .iter()
        .find(|(name, k)| *k == key && *name != PREVIOUS_SECRET_KEYS)
        .map(|(name, _)| *name)
}
