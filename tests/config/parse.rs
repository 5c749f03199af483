//! Parse errors (unknown keys, wrong types, syntax) name the key and hide secrets.

use super::*;

// Parse errors name the key

#[test]
fn an_unknown_nested_key_is_a_parse_error_naming_it() {
    let (key, message) = parse_error("[server]\nbnd = \"127.0.0.1:1\"\n", &[]);
    assert_eq!(key.as_deref(), Some("server.bnd"));
    assert!(message.contains("unknown key"), "{message}");
    assert!(
        message.contains("`bind`"),
        "lists the expected keys: {message}"
    );
    assert!(message.contains("warden.toml"), "names the file: {message}");
}

#[test]
fn an_unknown_top_level_key_or_section_is_a_parse_error_naming_it() {
    let (key, _) = parse_error("profil = \"production\"\n", &[]);
    assert_eq!(key.as_deref(), Some("profil"));
    let (key, _) = parse_error("[sesion]\nsecure = false\n", &[]);
    assert_eq!(key.as_deref(), Some("sesion"));
    let (key, _) = parse_error("[secrets]\nkey = \"whatever\"\n", &[]);
    assert_eq!(key.as_deref(), Some("secrets.key"));
}

#[test]
fn a_wrong_type_is_a_parse_error_naming_the_key() {
    let (key, message) = parse_error("[session]\nidle_timeout_secs = \"soon\"\n", &[]);
    assert_eq!(key.as_deref(), Some("session.idle_timeout_secs"));
    assert!(message.contains("wrong type"), "{message}");
    let (key, _) = parse_error("[session]\nsecure = \"yes\"\n", &[]);
    assert_eq!(key.as_deref(), Some("session.secure"));
    let (key, _) = parse_error("[store]\nsweep_batch = -1\n", &[]);
    assert_eq!(key.as_deref(), Some("store.sweep_batch"));
    let (key, message) = parse_error("[session]\nsame_site = \"sometimes\"\n", &[]);
    assert_eq!(key.as_deref(), Some("session.same_site"));
    assert!(message.contains("`strict`"), "{message}");
    let (key, _) = parse_error("[proxy]\nforwarded_header = \"x-real-ip\"\n", &[]);
    assert_eq!(key.as_deref(), Some("proxy.forwarded_header"));
}

#[test]
fn a_bad_environment_value_names_the_key_and_the_variable() {
    let (key, message) = parse_error("", &[("WARDEN_PROFILE", "prod")]);
    assert_eq!(key.as_deref(), Some("profile"));
    assert!(message.contains("WARDEN_PROFILE"), "{message}");
    assert!(message.contains("`production`"), "{message}");
}

#[test]
fn parse_errors_in_secrets_never_echo_the_value() {
    let (key, message) = parse_error(&format!("[secrets]\nkeys = \"{KEY_A}\"\n"), &[]);
    assert_eq!(key.as_deref(), Some("secrets.keys"));
    assert!(!message.contains(KEY_A), "{message}");
    let (key, message) = parse_error(&format!("[secrets]\nkeys = [\"{KEY_A}\", 3]\n"), &[]);
    assert_eq!(key.as_deref(), Some("secrets.keys.1"));
    assert!(!message.contains(KEY_A), "{message}");
}

#[test]
fn a_toml_syntax_error_names_the_file_and_hides_the_source_line() {
    let (key, message) = parse_error(&format!("[secrets]\nkeys = [\"{KEY_A}\"\n"), &[]);
    assert_eq!(key, None);
    assert!(message.contains("warden.toml"), "{message}");
    assert!(message.contains("line"), "{message}");
    assert!(!message.contains(KEY_A), "{message}");
}
