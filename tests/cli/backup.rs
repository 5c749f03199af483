//! backup and restore.

use std::{ops::Bound, path::Path};

use warden::actors::store::{Entry, Keyspace};

use crate::{login, run, start, stderr, stdout};

/// Every live record of every keyspace.
async fn snapshot(dir: &Path) -> Vec<(Keyspace, Vec<Entry>)> {
    let w = start(dir);
    let store = w.runtime().store();
    let mut out = Vec::new();
    for ks in Keyspace::ALL {
        let rows = store
            .range(ks, Bound::Unbounded, Bound::Unbounded, usize::MAX, false)
            .unwrap();
        out.push((ks, rows));
    }
    crate::stop(w).await;
    out
}

#[actix_rt::test]
async fn round_trip_of_10k_sessions_and_corrupt_backups_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    let w = start(&dir);
    for chunk in 0..20 {
        let futs = (0..500).map(|i| {
            let user = format!("user{}", (chunk * 500 + i) % 10);
            let w = &w;
            async move { login(w, &user).await }
        });
        futures_util::future::join_all(futs).await;
    }
    crate::stop(w).await;
    let before = snapshot(&dir).await;
    let sessions = &before
        .iter()
        .find(|(ks, _)| *ks == Keyspace::Sessions)
        .unwrap()
        .1;
    assert_eq!(sessions.len(), 10_000);

    let file = tmp.path().join("snap.wbk");
    let o = run(&dir, &["backup", "--out", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("backed up"), "{}", stdout(&o));
    // Never overwrites.
    let o = run(&dir, &["backup", "--out", file.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("already exists"));

    let restored = tmp.path().join("restored");
    let o = run(&restored, &["restore", file.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["entries"].as_u64().unwrap() >= 20_000, "{v}");
    assert_eq!(snapshot(&restored).await, before);
    let w = start(&restored);
    assert_eq!(
        w.runtime()
            .sessions()
            .list_for_user("user3")
            .await
            .unwrap()
            .len(),
        1000
    );
    crate::stop(w).await;

    // Restoring over a non-empty directory is refused.
    let o = run(&dir, &["restore", file.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("is not empty"), "{}", stderr(&o));

    // Corrupt copies: refused, and the target is never created.
    let good = std::fs::read(&file).unwrap();
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    let mut bad_version = good.clone();
    bad_version[8..12].copy_from_slice(&2u32.to_be_bytes());
    let mut bad_magic = good.clone();
    bad_magic[0] = b'X';
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("flipped", flipped, "checksum mismatch"),
        (
            "truncated",
            good[..good.len() - 100].to_vec(),
            "checksum mismatch",
        ),
        ("tiny", good[..10].to_vec(), "truncated"),
        ("version", bad_version, "unsupported format version 2"),
        ("magic", bad_magic, "bad magic"),
    ];
    for (name, bytes, want) in cases {
        let path = tmp.path().join(format!("{name}.wbk"));
        std::fs::write(&path, bytes).unwrap();
        let target = tmp.path().join(format!("target-{name}"));
        let o = run(&target, &["restore", path.to_str().unwrap()]);
        assert!(!o.status.success(), "{name}");
        assert!(stderr(&o).contains(want), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains("nothing was restored"), "{name}");
        assert!(!target.exists(), "{name}");
    }
    // No temporary directories are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("restore-"))
        .collect();
    assert!(leftovers.is_empty());
}
