//! End-to-end tests of the `warden` operator CLI: each command runs as a child process against
//! a temporary data directory prepared by an in-process [`Warden`].

#[path = "../common/mod.rs"]
mod common;

mod backup;
mod check;
mod ops;

use std::{
    path::Path,
    process::{Command, Output, Stdio},
};

use warden::{
    actors::session::{Change, SessionToken},
    Warden,
};

/// Runs the CLI with a clean `WARDEN_*` environment in `cwd`.
pub(crate) fn warden_cmd(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warden"));
    cmd.current_dir(cwd);
    for (k, _) in std::env::vars() {
        if k.starts_with("WARDEN_") {
            cmd.env_remove(k);
        }
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs the CLI with `args` against data directory `dir` (cwd: its parent).
pub(crate) fn run(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = warden_cmd(dir.parent().expect("parent"));
    cmd.args(args).arg("--data-dir").arg(dir);
    cmd.output().expect("run warden")
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A Warden on `dir` with the real clock (the CLI runs on it too), the CLI's default shard
/// count and cheap password hashing.
pub(crate) fn start(dir: &Path) -> Warden {
    let mut config = common::test_config(dir, |raw| raw.session.shards = 0);
    config.runtime = config
        .runtime
        .clone()
        .with_passwords(common::cheap_passwords());
    Warden::start(config).expect("start warden")
}

/// Creates an authenticated session of `user`.
pub(crate) async fn login(w: &Warden, user: &str) -> SessionToken {
    let (token, _) = w
        .runtime()
        .sessions()
        .create(&[Change::Login {
            user_id: user.to_owned(),
            session_version: 0,
        }])
        .await
        .expect("create session");
    token
}

/// Shuts a Warden down and drops it, releasing the data directory.
pub(crate) async fn stop(w: Warden) {
    w.shutdown().await;
    drop(w);
}

#[test]
fn every_command_has_help() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        &[][..],
        &["check"][..],
        &["sessions"][..],
        &["sessions", "list"][..],
        &["sessions", "revoke"][..],
        &["users", "bump-version"][..],
        &["lockout", "status"][..],
        &["lockout", "unlock"][..],
        &["audit", "tail"][..],
        &["audit", "export"][..],
        &["backup"][..],
        &["restore"][..],
        &["hash-password"][..],
    ] {
        let o = warden_cmd(tmp.path())
            .args(args)
            .arg("--help")
            .output()
            .unwrap();
        assert!(o.status.success(), "{args:?}");
        assert!(
            stdout(&o).contains("Usage: warden"),
            "{args:?}: {}",
            stdout(&o)
        );
    }
    // An unknown command is a usage error.
    let o = warden_cmd(tmp.path()).arg("frobnicate").output().unwrap();
    assert!(!o.status.success());
}
