//! `warden backup` and `warden restore`: a raw snapshot of every sled tree of the data
//! directory (every keyspace, with its expiry envelopes, and the expiry index), in one file.
//!
//! Format (version 1), all integers big-endian:
//!
//! ```text
//! "WARDENBK"  u32 version
//! ( 0x01 u32 len tree-name | 0x02 u32 len key u32 len value )*
//! 0xFF u64 entry-count
//! SHA-256 of every byte above (32 bytes)
//! ```

use std::{
    fs::{self, File, OpenOptions},
    io::{self, BufReader, BufWriter, IsTerminal, Read, Write},
    path::{Path, PathBuf},
};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{in_use, require_dir, Failure, Global, Outcome};

/// The file's first bytes.
pub(crate) const MAGIC: &[u8; 8] = b"WARDENBK";
/// The format this build writes and reads.
pub(crate) const VERSION: u32 = 1;
const TREE: u8 = 0x01;
const ENTRY: u8 = 0x02;
const END: u8 = 0xFF;
const DEFAULT_TREE: &[u8] = b"__sled__default";

fn data_dir(g: &Global) -> Result<PathBuf, Failure> {
    match &g.data_dir {
        Some(d) => Ok(d.clone()),
        None => Ok(g.load()?.server.data_dir),
    }
}

fn io_err<'a>(what: &str, path: &'a Path) -> impl FnOnce(io::Error) -> Failure + 'a {
    let what = what.to_owned();
    move |e| Failure::new(format!("{what} `{}`: {e}", path.display()))
}

fn progress(total: u64, quiet: bool) -> ProgressBar {
    if quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    if total == 0 {
        let pb = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {pos} records") {
            pb.set_style(style);
        }
        return pb;
    }
    let pb = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} records ({eta})") {
        pb.set_style(style);
    }
    pb
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn put_bytes(w: &mut impl Write, b: &[u8]) -> io::Result<()> {
    let len = u32::try_from(b.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "record larger than 4 GiB"))?;
    w.write_all(&len.to_be_bytes())?;
    w.write_all(b)
}

/// `warden backup --out FILE`.
pub(crate) fn backup(g: &Global, out: &Path) -> Outcome {
    let dir = data_dir(g)?;
    require_dir(&dir)?;
    if out.exists() {
        return Err(Failure::new(format!(
            "`{}` already exists; choose a new file",
            out.display()
        )));
    }
    let db = sled::Config::new()
        .path(&dir)
        .open()
        .map_err(|e| in_use(&dir, &e))?;
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let result = write_snapshot(&db, &partial, g.json);
    drop(db);
    match result {
        Ok((trees, entries)) => {
            fs::rename(&partial, out).map_err(io_err("cannot move the backup to", out))?;
            if g.json {
                println!(
                    "{}",
                    json!({ "out": out, "trees": trees, "entries": entries, "format_version": VERSION })
                );
            } else {
                println!(
                    "backed up {entries} record(s) in {trees} tree(s) of `{}` to `{}`",
                    dir.display(),
                    out.display()
                );
            }
            Ok(true)
        }
        Err(e) => {
            let _ = fs::remove_file(&partial);
            Err(e)
        }
    }
}

fn write_snapshot(db: &sled::Db, path: &Path, quiet: bool) -> Result<(usize, u64), Failure> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io_err("cannot create", path))?;
    let mut w = Hashing {
        inner: BufWriter::new(file),
        hash: Sha256::new(),
    };
    let names = db.tree_names();
    let total: u64 = names
        .iter()
        .filter_map(|n| db.open_tree(n).ok())
        .map(|t| t.len() as u64)
        .sum();
    let pb = progress(total, quiet);
    let wr = io_err("cannot write", path);
    let mut entries = 0u64;
    let res: io::Result<()> = (|| {
        w.write_all(MAGIC)?;
        w.write_all(&VERSION.to_be_bytes())?;
        for name in &names {
            let tree = db.open_tree(name).map_err(io::Error::other)?;
            w.write_all(&[TREE])?;
            put_bytes(&mut w, name)?;
            for item in tree.iter() {
                let (k, v) = item.map_err(io::Error::other)?;
                w.write_all(&[ENTRY])?;
                put_bytes(&mut w, &k)?;
                put_bytes(&mut w, &v)?;
                entries += 1;
                pb.inc(1);
            }
        }
        w.write_all(&[END])?;
        w.write_all(&entries.to_be_bytes())?;
        let digest = w.hash.finalize_reset();
        w.inner.write_all(&digest)?;
        w.inner.flush()?;
        w.inner.get_ref().sync_all()
    })();
    pb.finish_and_clear();
    res.map_err(wr)?;
    Ok((names.len(), entries))
}

/// Why a backup file is refused.
fn corrupt(path: &Path, why: &str) -> Failure {
    Failure::new(format!(
        "`{}` is not a usable warden backup: {why}; nothing was restored",
        path.display()
    ))
}

/// Checks magic, version and checksum; returns the length of the checksummed part.
fn verify(path: &Path) -> Result<u64, Failure> {
    let mut f = File::open(path).map_err(io_err("cannot open", path))?;
    let len = f.metadata().map_err(io_err("cannot read", path))?.len();
    let mut header = [0u8; 12];
    if len < 12 || f.read_exact(&mut header).is_err() {
        return Err(corrupt(path, "truncated header"));
    }
    if &header[..8] != MAGIC {
        return Err(corrupt(path, "bad magic bytes (not a warden backup)"));
    }
    let version = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
    if version != VERSION {
        return Err(corrupt(
            path,
            &format!("unsupported format version {version} (this warden reads version {VERSION})"),
        ));
    }
    if len < 12 + 9 + 32 {
        return Err(corrupt(path, "truncated"));
    }
    let body = len - 32;
    let mut hash = Sha256::new();
    hash.update(header);
    let mut r = BufReader::new((&mut f).take(body - 12));
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf).map_err(io_err("cannot read", path))?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
    }
    let f = r.into_inner().into_inner();
    let mut trailer = [0u8; 32];
    f.read_exact(&mut trailer)
        .map_err(|_| corrupt(path, "truncated"))?;
    if hash.finalize().as_slice() != trailer {
        return Err(corrupt(path, "checksum mismatch (corrupted or truncated)"));
    }
    Ok(body)
}

fn read_bytes(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let mut v = vec![0u8; u32::from_be_bytes(len) as usize];
    r.read_exact(&mut v)?;
    Ok(v)
}

/// `warden restore FILE`.
pub(crate) fn restore(g: &Global, file: &Path) -> Outcome {
    let target = data_dir(g)?;
    let body = verify(file)?;
    if target.exists() {
        let empty = target.is_dir()
            && fs::read_dir(&target)
                .map_err(io_err("cannot read", &target))?
                .next()
                .is_none();
        if !empty {
            return Err(Failure::new(format!(
                "target `{}` exists and is not empty; restore into a new directory, then swap \
                 it in with the app stopped",
                target.display()
            )));
        }
    }
    let name = target
        .file_name()
        .ok_or_else(|| Failure::new(format!("`{}` is not a directory path", target.display())))?
        .to_string_lossy()
        .into_owned();
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io_err("cannot create", &parent))?;
    let tmp = parent.join(format!(".{name}.restore-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let result = write_restore(file, body, &tmp, g.json);
    let (trees, entries) = match result {
        Ok(n) => n,
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    if target.exists() {
        fs::remove_dir(&target).map_err(io_err("cannot replace", &target))?;
    }
    if let Err(e) = fs::rename(&tmp, &target) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(io_err("cannot move the restored store to", &target)(e));
    }
    if let Ok(d) = File::open(&parent) {
        let _ = d.sync_all();
    }
    if g.json {
        println!(
            "{}",
            json!({ "data_dir": target, "trees": trees, "entries": entries })
        );
    } else {
        println!(
            "restored {entries} record(s) in {trees} tree(s) into `{}`",
            target.display()
        );
    }
    Ok(true)
}

fn write_restore(file: &Path, body: u64, tmp: &Path, quiet: bool) -> Result<(usize, u64), Failure> {
    let f = File::open(file).map_err(io_err("cannot open", file))?;
    let mut r = BufReader::new(f).take(body);
    let mut header = [0u8; 12];
    r.read_exact(&mut header)
        .map_err(|_| corrupt(file, "truncated header"))?;
    let db = sled::Config::new()
        .path(tmp)
        .open()
        .map_err(|e| Failure::new(format!("cannot create `{}`: {e}", tmp.display())))?;
    let pb = progress(0, quiet);
    let bad = |why: &str| corrupt(file, why);
    let mut tree: Option<sled::Tree> = None;
    let mut trees = 0usize;
    let mut entries = 0u64;
    loop {
        let mut tag = [0u8; 1];
        r.read_exact(&mut tag)
            .map_err(|_| bad("truncated (no end record)"))?;
        match tag[0] {
            TREE => {
                let name = read_bytes(&mut r).map_err(|_| bad("truncated tree name"))?;
                let t = if name == DEFAULT_TREE {
                    (*db).clone()
                } else {
                    db.open_tree(&name)
                        .map_err(|e| Failure::new(format!("cannot write the store: {e}")))?
                };
                tree = Some(t);
                trees += 1;
            }
            ENTRY => {
                let t = tree.as_ref().ok_or_else(|| bad("entry before any tree"))?;
                let k = read_bytes(&mut r).map_err(|_| bad("truncated entry"))?;
                let v = read_bytes(&mut r).map_err(|_| bad("truncated entry"))?;
                t.insert(k, v)
                    .map_err(|e| Failure::new(format!("cannot write the store: {e}")))?;
                entries += 1;
                pb.inc(1);
            }
            END => {
                let mut n = [0u8; 8];
                r.read_exact(&mut n)
                    .map_err(|_| bad("truncated end record"))?;
                if u64::from_be_bytes(n) != entries {
                    return Err(bad("record count mismatch"));
                }
                break;
            }
            _ => return Err(bad("unknown record type")),
        }
    }
    pb.finish_and_clear();
    drop(tree);
    db.flush()
        .map_err(|e| Failure::new(format!("cannot flush the restored store: {e}")))?;
    drop(db);
    Ok((trees, entries))
}
