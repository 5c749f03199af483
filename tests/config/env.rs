//! `WARDEN_*` environment overrides.

use super::*;

// Environment overrides

#[test]
fn environment_overrides_the_file() {
    let toml = "profile = \"development\"\n[server]\nbind = \"127.0.0.1:9000\"\n\
                data_dir = \"/from/file\"\norigin = \"https://file.example.org\"\n";
    let cfg = load(
        toml,
        &[
            ("WARDEN_PROFILE", "production"),
            ("WARDEN_BIND", "0.0.0.0:7000"),
            ("WARDEN_DATA_DIR", "/from/env"),
            ("WARDEN_ORIGIN", "https://env.example.net/"),
            ("WARDEN_SECRET_KEY", KEY_A),
            ("UNRELATED", "ignored"),
        ],
    )
    .unwrap();
    assert_eq!(cfg.profile, Profile::Production);
    assert_eq!(
        cfg.server.bind,
        "0.0.0.0:7000".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(cfg.server.data_dir, PathBuf::from("/from/env"));
    assert_eq!(
        cfg.runtime.data_dir.as_deref(),
        Some(Path::new("/from/env"))
    );
    assert_eq!(cfg.server.origin, "https://env.example.net");
    assert_eq!(cfg.server.allowed_hosts, vec!["env.example.net".to_owned()]);
}

#[test]
fn the_origin_defaults_to_the_bind_address() {
    let cfg = load("", &[("WARDEN_BIND", "[::1]:4000")]).unwrap();
    assert_eq!(cfg.server.origin, "http://[::1]:4000");
    assert_eq!(cfg.server.allowed_hosts, vec!["[::1]:4000".to_owned()]);
}

#[test]
fn later_environment_sources_win() {
    let cfg = ConfigLoader::new()
        .env(vars(&[("WARDEN_BIND", "127.0.0.1:1111")]))
        .env(vars(&[("WARDEN_BIND", "127.0.0.1:2222")]))
        .load()
        .unwrap();
    assert_eq!(cfg.server.bind.port(), 2222);
}

#[test]
fn environment_secret_goes_first_and_file_keys_follow_as_previous() {
    let toml = format!("[secrets]\nkeys = [\"{KEY_B}\", \"{KEY_C}\"]\n");
    let cfg = load(&toml, &[("WARDEN_SECRET_KEY", KEY_A)]).unwrap();
    let all: Vec<&[u8]> = cfg.secrets.all().collect();
    assert_eq!(
        all,
        vec![KEY_A.as_bytes(), KEY_B.as_bytes(), KEY_C.as_bytes()]
    );
    assert_eq!(cfg.secrets.current(), KEY_A.as_bytes());
    let previous: Vec<&[u8]> = cfg.secrets.previous().collect();
    assert_eq!(previous, vec![KEY_B.as_bytes(), KEY_C.as_bytes()]);
}

#[test]
fn environment_secret_equal_to_the_file_key_is_not_duplicated() {
    let toml = format!("[secrets]\nkeys = [\"{KEY_A}\", \"{KEY_B}\"]\n");
    let cfg = load(&toml, &[("WARDEN_SECRET_KEY", KEY_A)]).unwrap();
    let all: Vec<&[u8]> = cfg.secrets.all().collect();
    assert_eq!(all, vec![KEY_A.as_bytes(), KEY_B.as_bytes()]);
}

#[test]
fn previous_keys_from_the_environment_replace_the_files_previous_keys() {
    let toml = format!("[secrets]\nkeys = [\"{KEY_B}\", \"{KEY_C}\"]\n");
    let prev = format!(" {KEY_B} ,, {KEY_C},");
    let cfg = load(
        &toml,
        &[
            ("WARDEN_SECRET_KEY", KEY_A),
            ("WARDEN_PREVIOUS_SECRET_KEYS", &prev),
        ],
    )
    .unwrap();
    let all: Vec<&[u8]> = cfg.secrets.all().collect();
    assert_eq!(
        all,
        vec![KEY_A.as_bytes(), KEY_B.as_bytes(), KEY_C.as_bytes()]
    );

    // Without WARDEN_SECRET_KEY the file's first key stays current.
    let toml = format!("[secrets]\nkeys = [\"{KEY_A}\", \"{KEY_B}\"]\n");
    let cfg = load(&toml, &[("WARDEN_PREVIOUS_SECRET_KEYS", KEY_C)]).unwrap();
    let all: Vec<&[u8]> = cfg.secrets.all().collect();
    assert_eq!(all, vec![KEY_A.as_bytes(), KEY_C.as_bytes()]);
}

#[test]
fn previous_keys_without_a_current_key_are_rejected() {
    let reason = only_error(
        "",
        &[("WARDEN_PREVIOUS_SECRET_KEYS", KEY_B)],
        "secrets.keys",
    );
    assert!(reason.contains("WARDEN_SECRET_KEY"), "{reason}");
}

#[test]
fn an_empty_secret_variable_counts_as_unset() {
    let cfg = load("", &[("WARDEN_SECRET_KEY", "")]).unwrap();
    assert!(cfg.secrets.is_ephemeral());
    let err = load(
        "",
        &[
            ("WARDEN_SECRET_KEY", "  "),
            ("WARDEN_PROFILE", "production"),
        ],
    )
    .unwrap_err();
    assert!(err.keys().contains(&"secrets.keys"), "{err}");
    assert!(err
        .reason_for("secrets.keys")
        .unwrap()
        .contains("WARDEN_SECRET_KEY"));
}
