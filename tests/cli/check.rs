//! `warden check`.

use std::path::{Path, PathBuf};

use crate::{common::KEY_A, stderr, stdout, warden_cmd};

const WEAK: &str = r#"
profile = "development"

[session]
cookie_name = "session"
secure = false
http_only = false
idle_timeout_secs = 86400
absolute_timeout_secs = 2592000

[csrf]
enabled = false
cookie_name = "csrf"

[auth_rate_limit]
paths = ["/signup"]

[lockout]
max_failures = 50
account_max_failures = 500
ip_max_failures = 1000

[audit]
tracing_sink = false
spike_threshold = 0

[proxy]
trusted_proxies = ["0.0.0.0/0"]

[headers]
content_security_policy = "default-src 'self'; script-src 'self' 'unsafe-inline' *"
hsts_max_age_secs = 3600
"#;

fn production_toml() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/production.toml")
}

fn findings(o: &std::process::Output) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(o), stderr(o)));
    v["findings"].as_array().unwrap().clone()
}

fn ids(f: &[serde_json::Value]) -> Vec<String> {
    f.iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn flags_every_weak_setting() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("weak.toml");
    std::fs::write(&file, WEAK).unwrap();
    let o = warden_cmd(tmp.path())
        .args(["check", "--json", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let f = findings(&o);
    let ids = ids(&f);
    for want in [
        "secret.missing",
        "cookie.secure",
        "cookie.httponly",
        "session.idle_timeout",
        "session.absolute_timeout",
        "csrf.disabled",
        "ratelimit.coverage",
        "lockout.thresholds",
        "csp.weak",
        "hsts.short",
        "audit.sink",
        "audit.spike",
        "proxy.trust_all",
    ] {
        assert!(
            ids.contains(&want.to_owned()),
            "{want} missing from {ids:?}"
        );
    }
    // Both auth paths are named.
    let rl: Vec<_> = f
        .iter()
        .filter(|f| f["id"] == "ratelimit.coverage")
        .collect();
    assert_eq!(rl.len(), 2);
    for x in &f {
        for field in ["id", "severity", "key", "message", "fix"] {
            assert!(x[field].is_string(), "{x}");
        }
    }

    // Text output names keys and fixes.
    let o = warden_cmd(tmp.path())
        .args(["check", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let text = stdout(&o);
    assert!(
        text.contains("session.secure") && text.contains("fix:"),
        "{text}"
    );
    assert!(text.contains("FAILED"), "{text}");
}

#[test]
fn same_site_none_and_missing_headers() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("weak.toml");
    std::fs::write(
        &file,
        "[session]\nsame_site = \"none\"\nsecure = true\n[headers]\ncontent_security_policy = \"\"\nhsts_max_age_secs = 0\n[proxy]\ntrusted_proxies = []\n",
    )
    .unwrap();
    let o = warden_cmd(tmp.path())
        .args(["check", "--json", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    let f = findings(&o);
    let ids = ids(&f);
    for want in [
        "cookie.samesite",
        "csp.missing",
        "hsts.missing",
        "proxy.none",
    ] {
        assert!(
            ids.contains(&want.to_owned()),
            "{want} missing from {ids:?}"
        );
    }
    let proxy = f.iter().find(|f| f["id"] == "proxy.none").unwrap();
    assert_eq!(proxy["severity"], "warning");
    assert!(proxy["fix"]
        .as_str()
        .unwrap()
        .contains("behind a proxy? list it"));
}

#[test]
fn production_profile_refuses_what_validation_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("weak.toml");
    std::fs::write(&file, WEAK).unwrap();
    let o = warden_cmd(tmp.path())
        .args(["check", "--json", "--profile", "production", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let f = findings(&o);
    let keys: Vec<&str> = f.iter().map(|f| f["key"].as_str().unwrap()).collect();
    for want in ["session.secure", "csrf.enabled"] {
        assert!(keys.contains(&want), "{want} missing from {keys:?}");
    }
    assert!(f.iter().all(|f| f["id"] == "config.invalid"), "{f:?}");
}

#[test]
fn production_toml_passes_with_a_strong_key() {
    let tmp = tempfile::tempdir().unwrap();
    let o = warden_cmd(tmp.path())
        .args(["check", "--profile", "production", "--config"])
        .arg(production_toml())
        .env("WARDEN_SECRET_KEY", KEY_A)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("ok: 0 error(s), 0 warning(s)"),
        "{}",
        stdout(&o)
    );

    // Without the key, the secret is named.
    let o = warden_cmd(tmp.path())
        .args(["check", "--json", "--config"])
        .arg(production_toml())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let f = findings(&o);
    assert!(
        f.iter()
            .any(|f| f["key"].as_str().unwrap().starts_with("secrets")),
        "{f:?}"
    );

    // A missing file.
    let o = warden_cmd(tmp.path())
        .args(["check", "--json", "--config", "nope.toml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(ids(&findings(&o)), vec!["config.file"]);
}
