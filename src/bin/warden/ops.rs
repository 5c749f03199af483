//! The commands that open the data directory through a [`Warden`]: sessions, users, lockout
//! and audit; and `hash-password`.

use std::{
    fs::OpenOptions,
    io::{self, BufRead, BufWriter, IsTerminal, Write},
    path::PathBuf,
};

use serde_json::json;
use time::{format_description::well_known::Rfc3339, OffsetDateTime};
use warden::{
    actors::{session::SessionId, AuditQuery, Runtime, MAX_QUERY_LIMIT},
    Warden,
};

use crate::{block_on, open_warden, Failure, Global, Outcome};

/// Runs `f` against a Warden on the configured data directory, then shuts it down.
fn with_warden<T>(
    g: &Global,
    f: impl AsyncFnOnce(&Warden) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let config = g.load()?;
    block_on(async move {
        let w = open_warden(config)?;
        let out = f(&w).await;
        w.shutdown().await;
        out
    })
}

fn actor(e: impl std::fmt::Display) -> Failure {
    Failure::new(format!("the runtime refused the request: {e}"))
}

/// Milliseconds since the epoch as RFC 3339.
fn ts(ms: u64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

fn session_id(hex: &str) -> Result<SessionId, Failure> {
    SessionId::from_hex(hex).ok_or_else(|| {
        Failure::new(format!(
            "`{hex}` is not a session id (the 64 hex characters `warden sessions list` prints)"
        ))
    })
}

/// `warden sessions list --user U`.
pub(crate) fn sessions_list(g: &Global, user: &str) -> Outcome {
    let list = with_warden(g, async |w| {
        w.runtime()
            .sessions()
            .list_for_user(user)
            .await
            .map_err(actor)
    })?;
    if g.json {
        let items: Vec<_> = list
            .iter()
            .map(|s| {
                json!({
                    "id": s.id.to_hex(),
                    "created_at": ts(s.created_at),
                    "last_seen_at": ts(s.last_seen_at),
                    "authenticated_at": s.authenticated_at.map(ts),
                })
            })
            .collect();
        println!("{}", json!({ "user": user, "sessions": items }));
    } else if list.is_empty() {
        println!("no live sessions for user `{user}`");
    } else {
        println!("{} live session(s) for user `{user}`:", list.len());
        for s in &list {
            println!(
                "{}  created {}  last seen {}",
                s.id.to_hex(),
                ts(s.created_at),
                ts(s.last_seen_at)
            );
        }
    }
    Ok(true)
}

/// `warden sessions revoke (--user U [--except ID] | --id ID)`.
pub(crate) fn sessions_revoke(
    g: &Global,
    user: Option<&str>,
    except: Option<&str>,
    id: Option<&str>,
) -> Outcome {
    if let Some(id) = id {
        let sid = session_id(id)?;
        let existed = with_warden(g, async |w| {
            w.runtime().sessions().destroy(sid).await.map_err(actor)
        })?;
        if !existed {
            return Err(Failure::new(format!("no live session with id `{id}`")));
        }
        print_result(
            g,
            json!({ "revoked": [id] }),
            &format!("revoked session {id}"),
        );
        return Ok(true);
    }
    let user = user.ok_or_else(|| Failure::new("give --user or --id"))?;
    let except = except.map(session_id).transpose()?;
    let removed = with_warden(g, async |w| {
        w.runtime()
            .sessions()
            .destroy_all_for_user(user, except)
            .await
            .map_err(actor)
    })?;
    if removed.is_empty() {
        return Err(Failure::new(format!(
            "no live sessions to revoke for user `{user}` (unknown user, or already revoked)"
        )));
    }
    let ids: Vec<String> = removed.iter().map(SessionId::to_hex).collect();
    print_result(
        g,
        json!({ "user": user, "revoked": ids }),
        &format!("revoked {} session(s) of user `{user}`", ids.len()),
    );
    Ok(true)
}

/// `warden users bump-version U`.
pub(crate) fn bump_version(g: &Global, user: &str) -> Outcome {
    let (version, revoked) = with_warden(g, async |w| {
        let sessions = w.runtime().sessions();
        let before = sessions.list_for_user(user).await.map_err(actor)?.len();
        let v = sessions.bump_version(user, None).await.map_err(actor)?;
        Ok((v, before))
    })?;
    print_result(
        g,
        json!({ "user": user, "session_version": version, "revoked": revoked }),
        &format!("user `{user}`: session version is now {version}; {revoked} session(s) revoked"),
    );
    Ok(true)
}

/// `warden lockout status U`.
pub(crate) fn lockout_status(g: &Global, account: &str) -> Outcome {
    let st = with_warden(g, async |w| {
        w.runtime().lockout().status(account).await.map_err(actor)
    })?;
    let locked_until = st.locked_until.map(ts);
    if g.json {
        println!(
            "{}",
            json!({
                "account": account,
                "locked": st.locked_until.is_some(),
                "locked_until": locked_until,
                "failures": st.account.failures,
                "locks": st.account.locks,
                "tracked_pairs": st.tracked_pairs,
                "locked_pairs": st.locked_pairs,
            })
        );
    } else if st.account.failures == 0 && st.tracked_pairs == 0 && st.locked_until.is_none() {
        println!("account `{account}`: no lockout state (no recent failures, not locked)");
    } else {
        println!(
            "account `{account}`: {}; {} failure(s), {} lock(s); {} network pair(s) tracked, {} locked",
            match &locked_until {
                Some(t) => format!("LOCKED until {t}"),
                None => "not locked".to_owned(),
            },
            st.account.failures,
            st.account.locks,
            st.tracked_pairs,
            st.locked_pairs
        );
    }
    Ok(true)
}

/// `warden lockout unlock U`.
pub(crate) fn lockout_unlock(g: &Global, account: &str) -> Outcome {
    let cleared = with_warden(g, async |w| {
        w.runtime().lockout().unlock(account).await.map_err(actor)
    })?;
    if cleared == 0 {
        return Err(Failure::new(format!(
            "nothing to unlock for account `{account}` (unknown account, or no failures recorded)"
        )));
    }
    print_result(
        g,
        json!({ "account": account, "cleared": cleared }),
        &format!("unlocked account `{account}` ({cleared} counter(s) cleared)"),
    );
    Ok(true)
}

/// `warden lockout lock U --for 1h`.
pub(crate) fn lockout_lock(g: &Global, account: &str, duration: std::time::Duration) -> Outcome {
    let until = with_warden(g, async |w| {
        w.runtime()
            .lockout()
            .lock(account, duration)
            .await
            .map_err(actor)
    })?;
    let until = ts(until);
    print_result(
        g,
        json!({ "account": account, "locked_until": until }),
        &format!("locked account `{account}` on every network until {until}"),
    );
    Ok(true)
}

/// Parses `90s`, `15m`, `1h`, `7d` (a positive whole number and one unit).
pub(crate) fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}`: expected a number with a unit, e.g. 1h"))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{s}`: the unit must be s, m, h or d")),
    };
    if n == 0 {
        return Err(format!("`{s}`: must be greater than 0"));
    }
    n.checked_mul(secs)
        .filter(|t| *t <= 366 * 86_400)
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| format!("`{s}`: at most 366d"))
}

fn print_result(g: &Global, value: serde_json::Value, text: &str) {
    if g.json {
        println!("{value}");
    } else {
        println!("{text}");
    }
}

fn parse_time(flag: &str, s: Option<String>) -> Result<Option<OffsetDateTime>, Failure> {
    s.map(|s| {
        OffsetDateTime::parse(&s, &Rfc3339).map_err(|e| {
            Failure::new(format!(
                "--{flag} `{s}` is not an RFC 3339 time (e.g. 2024-05-01T00:00:00Z): {e}"
            ))
        })
    })
    .transpose()
}

/// `warden audit tail`: the last `lines` matching events, oldest first, as JSON lines.
pub(crate) fn audit_tail(
    g: &Global,
    name: Option<String>,
    user: Option<String>,
    lines: usize,
) -> Outcome {
    let mut q = AuditQuery::default();
    q.name_prefix = name;
    q.user_id = user;
    q.limit = lines.min(MAX_QUERY_LIMIT);
    let mut events = with_warden(g, async |w| w.audit().query(q).await.map_err(actor))?;
    events.sort_by_key(|e| e.id);
    let stdout = io::stdout();
    let mut out = stdout.lock();
    for e in &events {
        let line = serde_json::to_string(e).map_err(|e| Failure::new(e.to_string()))?;
        writeln!(out, "{line}").map_err(|e| Failure::new(e.to_string()))?;
    }
    Ok(true)
}

/// `warden audit export`: every matching event as JSON lines, to `--out` or stdout.
pub(crate) fn audit_export(
    g: &Global,
    since: Option<String>,
    until: Option<String>,
    user: Option<String>,
    name: Option<String>,
    out: Option<PathBuf>,
) -> Outcome {
    let mut q = AuditQuery::default();
    q.since = parse_time("since", since)?;
    q.until = parse_time("until", until)?;
    q.user_id = user;
    q.name_prefix = name;
    let file = match &out {
        Some(path) => Some(
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(|e| Failure::new(format!("cannot create `{}`: {e}", path.display())))?,
        ),
        None => None,
    };
    let result = with_warden(g, async |w| {
        let n = match file {
            Some(f) => {
                let mut wr = BufWriter::new(f);
                let n = w.audit().export_jsonl(q, &mut wr).await;
                wr.flush().map_err(|e| Failure::new(e.to_string()))?;
                n
            }
            None => w.audit().export_jsonl(q, io::stdout().lock()).await,
        };
        n.map_err(|e| Failure::new(format!("export failed: {e}")))
    });
    match result {
        Ok(n) => {
            if let Some(path) = &out {
                eprintln!("exported {n} event(s) to {}", path.display());
            }
            Ok(true)
        }
        Err(e) => {
            if let Some(path) = &out {
                let _ = std::fs::remove_file(path);
            }
            Err(e)
        }
    }
}

/// Reads the password: without echo from a terminal, else one line of stdin.
fn read_password() -> Result<String, Failure> {
    let mut line = if io::stdin().is_terminal() {
        rpassword::prompt_password("password: ")
            .map_err(|e| Failure::new(format!("cannot read the password: {e}")))?
    } else {
        let mut s = String::new();
        io::stdin()
            .lock()
            .read_line(&mut s)
            .map_err(|e| Failure::new(format!("cannot read the password from stdin: {e}")))?;
        s
    };
    while line.ends_with('\n') || line.ends_with('\r') {
        line.pop();
    }
    if line.is_empty() {
        return Err(Failure::new("no password given on stdin"));
    }
    Ok(line)
}

/// `warden hash-password`: hashes with the configured parameters, on a temporary store (the
/// data directory is not opened).
pub(crate) fn hash_password(g: &Global) -> Outcome {
    let config = g.load()?;
    let password = read_password()?;
    let mut rc = config.runtime.clone();
    rc.data_dir = None;
    rc.audit.jsonl_path = None;
    rc.audit.tracing_sink = false;
    let hash = block_on(async move {
        let rt = Runtime::start(rc)
            .map_err(|e| Failure::new(format!("cannot start the hashing pool: {e}")))?;
        let h = rt.passwords().hash(&password).await;
        let _ = rt.shutdown().await;
        h.map_err(|e| Failure::new(format!("password refused: {e}")))
    })?;
    print_result(g, json!({ "hash": hash }), &hash);
    Ok(true)
}
