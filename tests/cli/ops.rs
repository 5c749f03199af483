//! sessions, users, lockout, audit and hash-password.

use std::{
    io::Write,
    net::{IpAddr, Ipv4Addr},
    process::Stdio,
};

use warden::actors::SecurityEvent;

use crate::{login, run, start, stderr, stdout, warden_cmd};

const IP: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));

#[actix_rt::test]
async fn sessions_list_revoke_and_bump_version() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    let w = start(&dir);
    let a1 = login(&w, "alice").await.id();
    let a2 = login(&w, "alice").await.id();
    let a3 = login(&w, "alice").await.id();
    let b1 = login(&w, "bob").await.id();
    let _b2 = login(&w, "bob").await.id();
    crate::stop(w).await;

    let o = run(&dir, &["sessions", "list", "--user", "alice"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("3 live session(s)"), "{out}");
    for id in [a1, a2, a3] {
        assert!(out.contains(&id.to_hex()), "{out}");
    }

    let o = run(&dir, &["sessions", "list", "--user", "alice", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["sessions"].as_array().unwrap().len(), 3);

    // Unknown user: an empty list, and revoking nothing is an error.
    let o = run(&dir, &["sessions", "list", "--user", "nobody"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("no live sessions"), "{}", stdout(&o));
    let o = run(&dir, &["sessions", "revoke", "--user", "nobody"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no live sessions to revoke"),
        "{}",
        stderr(&o)
    );

    // One by id; a bad and an unknown id are refused.
    let o = run(&dir, &["sessions", "revoke", "--id", &a1.to_hex()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&dir, &["sessions", "revoke", "--id", &a1.to_hex()]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no live session with id"),
        "{}",
        stderr(&o)
    );
    let o = run(&dir, &["sessions", "revoke", "--id", "xyz"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("is not a session id"), "{}", stderr(&o));

    // Every other session of alice.
    let o = run(
        &dir,
        &[
            "sessions",
            "revoke",
            "--user",
            "alice",
            "--except",
            &a3.to_hex(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("revoked 1 session(s)"),
        "{}",
        stdout(&o)
    );
    let o = run(&dir, &["sessions", "list", "--user", "alice"]);
    assert!(stdout(&o).contains(&a3.to_hex()) && !stdout(&o).contains(&a2.to_hex()));

    // Neither --user nor --id.
    let o = run(&dir, &["sessions", "revoke"]);
    assert!(!o.status.success());

    // bump-version kills every session of bob.
    let o = run(&dir, &["users", "bump-version", "bob", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["session_version"], 1);
    assert_eq!(v["revoked"], 2);

    let w = start(&dir);
    assert!(w
        .runtime()
        .sessions()
        .list_for_user("bob")
        .await
        .unwrap()
        .is_empty());
    assert!(!w.runtime().sessions().destroy(b1).await.unwrap());
    assert_eq!(w.runtime().sessions().user_version("bob").await.unwrap(), 1);
    assert_eq!(
        w.runtime()
            .sessions()
            .list_for_user("alice")
            .await
            .unwrap()
            .len(),
        1
    );
    crate::stop(w).await;
}

#[actix_rt::test]
async fn lockout_status_and_unlock() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    let w = start(&dir);
    for _ in 0..6 {
        w.runtime()
            .lockout()
            .record_failure("mallory", IP)
            .await
            .unwrap();
    }
    crate::stop(w).await;

    let o = run(&dir, &["lockout", "status", "mallory", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["locked"], true, "{v}");
    assert_eq!(v["locked_pairs"], 1, "{v}");
    let o = run(&dir, &["lockout", "status", "mallory"]);
    assert!(stdout(&o).contains("LOCKED until"), "{}", stdout(&o));

    let o = run(&dir, &["lockout", "unlock", "mallory"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("unlocked account `mallory`"));

    let o = run(&dir, &["lockout", "status", "mallory", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["locked"], false, "{v}");

    // Unknown account: status says so, unlock fails.
    let o = run(&dir, &["lockout", "status", "nobody"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("no lockout state"), "{}", stdout(&o));
    let o = run(&dir, &["lockout", "unlock", "nobody"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("nothing to unlock"), "{}", stderr(&o));
}

#[actix_rt::test]
async fn lockout_lock_holds_on_every_network_until_unlocked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    crate::stop(start(&dir)).await;

    let o = run(&dir, &["lockout", "lock", "alice", "--for", "1h", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["account"], "alice", "{v}");
    assert!(v["locked_until"].is_string(), "{v}");

    // The app sees the lock from any network, and a success does not lift it.
    let w = start(&dir);
    let lockout = w.runtime().lockout();
    for ip in [
        IP,
        "198.51.100.9".parse().unwrap(),
        "2001:db8::1".parse().unwrap(),
    ] {
        let st = lockout.check("alice", ip).await.unwrap();
        assert!(st.locked, "{ip}: {st:?}");
        assert!(st.retry_after.unwrap() > std::time::Duration::from_secs(3500));
    }
    lockout.record_success("alice", IP).await.unwrap();
    assert!(lockout.check("alice", IP).await.unwrap().locked);
    assert!(!lockout.check("bob", IP).await.unwrap().locked);
    crate::stop(w).await;

    let o = run(&dir, &["lockout", "status", "alice"]);
    assert!(stdout(&o).contains("LOCKED until"), "{}", stdout(&o));
    let o = run(&dir, &["lockout", "unlock", "alice"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&dir, &["lockout", "status", "alice", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["locked"], false, "{v}");

    // Bad durations are refused with a clear message.
    for bad in ["0h", "1w", "h", "-1h", "400d"] {
        let o = run(&dir, &["lockout", "lock", "alice", "--for", bad]);
        assert!(!o.status.success(), "{bad}");
        assert!(!stderr(&o).is_empty(), "{bad}");
    }
}

#[actix_rt::test]
async fn audit_tail_and_export() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    let w = start(&dir);
    for i in 0..5 {
        w.audit()
            .emit_durable(
                SecurityEvent::new("auth.login.failure")
                    .user_id("alice")
                    .detail("i", i),
            )
            .await
            .unwrap();
    }
    w.audit()
        .emit_durable(SecurityEvent::new("auth.login.success").user_id("bob"))
        .await
        .unwrap();
    crate::stop(w).await;

    let o = run(&dir, &["audit", "tail", "--user", "alice", "-n", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|e| e["user_id"] == "alice"));
    assert_eq!(lines[2]["details"]["i"], 4, "{lines:?}");

    let o = run(&dir, &["audit", "tail", "--name", "auth.login.success"]);
    assert_eq!(stdout(&o).lines().count(), 1, "{}", stdout(&o));

    let out = tmp.path().join("alice.jsonl");
    let o = run(
        &dir,
        &[
            "audit",
            "export",
            "--user",
            "alice",
            "--since",
            "2000-01-01T00:00:00Z",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(text.lines().all(|l| l.contains("\"alice\"")));

    // The file exists now: refused, left alone.
    let o = run(&dir, &["audit", "export", "--out", out.to_str().unwrap()]);
    assert!(!o.status.success());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text);

    // A future --since finds nothing; a bad time is refused.
    let o = run(
        &dir,
        &["audit", "export", "--since", "2999-01-01T00:00:00Z"],
    );
    assert!(o.status.success());
    assert!(stdout(&o).is_empty());
    let o = run(&dir, &["audit", "export", "--since", "yesterday"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("RFC 3339"), "{}", stderr(&o));
}

#[actix_rt::test]
async fn a_running_app_holds_the_data_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    let w = start(&dir);
    login(&w, "alice").await;
    for args in [
        &["sessions", "list", "--user", "alice"][..],
        &["lockout", "status", "alice"][..],
        &[
            "backup",
            "--out",
            tmp.path().join("b.bak").to_str().unwrap(),
        ][..],
    ] {
        let o = run(&dir, args);
        assert!(!o.status.success(), "{args:?}");
        assert!(
            stderr(&o).contains("the data directory is in use — stop the app first"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    assert!(!tmp.path().join("b.bak").exists());
    crate::stop(w).await;

    // A missing data directory is not created.
    let missing = tmp.path().join("typo");
    let o = run(&missing, &["sessions", "list", "--user", "alice"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    assert!(!missing.exists());
}

#[test]
fn hash_password_reads_stdin() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = warden_cmd(tmp.path())
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"correct horse battery staple\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let hash = stdout(&o);
    assert!(hash.trim().starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("correct horse"));

    // Too short for the policy: refused.
    let mut child = warden_cmd(tmp.path())
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"short\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("password refused"), "{}", stderr(&o));

    // Nothing on stdin.
    let o = warden_cmd(tmp.path())
        .arg("hash-password")
        .output()
        .unwrap();
    assert!(!o.status.success());
}
