//! `warden`: the operator command line of the warden security runtime.
//!
//! Verifies a configuration against the production checklist (`warden check`), inspects and
//! revokes sessions, inspects and clears login lockouts, reads and exports the audit log, backs
//! the sled data directory up and restores it, and hashes passwords for seeding users.
//!
//! Every command that opens the data directory (`sessions`, `users`, `lockout`, `audit`,
//! `backup`) needs the app **stopped**: sled locks its directory, and a second process fails
//! with "the data directory is in use — stop the app first". `check`, `hash-password` and
//! `restore` (into a new directory) never touch a running app's store. See `RUNBOOK.md`.

use std::{
    fmt,
    path::{Path, PathBuf},
    process::ExitCode,
};

use clap::{ArgGroup, Parser, Subcommand};
use warden::{Config, ConfigLoader, Warden};

mod backup;
mod check;
mod ops;

/// The warden operator CLI.
#[derive(Debug, Parser)]
#[command(
    name = "warden",
    version,
    about = "Operate a warden deployment: checks, sessions, lockouts, audit, backups"
)]
struct Cli {
    /// The configuration file (TOML), layered over the built-in defaults and overridden by
    /// WARDEN_* environment variables, exactly as the app loads it. Default: $WARDEN_CONFIG,
    /// else config/default.toml when present.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The sled data directory (overrides `server.data_dir`).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify the effective configuration against the production checklist (exit 1 on errors).
    Check {
        /// Validate as this profile (e.g. `production`) whatever the file says.
        #[arg(long, value_name = "PROFILE")]
        profile: Option<String>,
    },
    /// List or revoke sessions (app stopped).
    #[command(subcommand)]
    Sessions(SessionsCmd),
    /// User-wide session operations (app stopped).
    #[command(subcommand)]
    Users(UsersCmd),
    /// Inspect or clear login lockouts (app stopped).
    #[command(subcommand)]
    Lockout(LockoutCmd),
    /// Read or export the persisted audit log (app stopped).
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Write a consistent snapshot of the whole data directory to FILE (app stopped).
    Backup {
        /// Where to write the backup (must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Restore a backup into a new, empty data directory (`--data-dir`, else `server.data_dir`).
    Restore {
        /// The backup file written by `warden backup`.
        file: PathBuf,
    },
    /// Hash a password read from stdin (no echo on a terminal) with the configured argon2id
    /// parameters; prints the PHC string.
    HashPassword,
}

#[derive(Debug, Subcommand)]
enum SessionsCmd {
    /// A user's live sessions, oldest first.
    List {
        /// The user id.
        #[arg(long)]
        user: String,
    },
    /// Revoke every session of a user (optionally but one), or one session by id.
    #[command(group(ArgGroup::new("target").required(true).args(["user", "id"])))]
    Revoke {
        /// Revoke every session of this user.
        #[arg(long)]
        user: Option<String>,
        /// Keep this session (hex id) when revoking a user's sessions.
        #[arg(long, requires = "user", value_name = "ID")]
        except: Option<String>,
        /// Revoke this one session (hex id, as `sessions list` prints it).
        #[arg(long, value_name = "ID")]
        id: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum UsersCmd {
    /// Bump the user's session version: every existing session of the user dies.
    BumpVersion {
        /// The user id.
        user: String,
    },
}

#[derive(Debug, Subcommand)]
enum LockoutCmd {
    /// An account's lockout state.
    Status {
        /// The account (login name).
        account: String,
    },
    /// Clear an account's lockout counters and any operator lock (every network).
    Unlock {
        /// The account (login name).
        account: String,
    },
    /// Lock an account on every network (incident response; trusted networks included, a
    /// successful login does not clear it; `unlock` does).
    Lock {
        /// The account (login name).
        account: String,
        /// How long: a number with a unit, `s`, `m`, `h` or `d` (e.g. `90m`, `1h`, `7d`).
        #[arg(long = "for", value_parser = ops::parse_duration)]
        duration: std::time::Duration,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCmd {
    /// The most recent audit events, oldest first, one JSON object a line.
    Tail {
        /// Only events whose name starts with this prefix (a trailing `*` is allowed).
        #[arg(long, value_name = "PREFIX")]
        name: Option<String>,
        /// Only events of this user.
        #[arg(long)]
        user: Option<String>,
        /// How many events.
        #[arg(long, short = 'n', default_value_t = 20)]
        lines: usize,
    },
    /// Export matching events as JSON lines.
    Export {
        /// Only events at or after this RFC 3339 time.
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Only events before this RFC 3339 time.
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        /// Only events of this user.
        #[arg(long)]
        user: Option<String>,
        /// Only events whose name starts with this prefix.
        #[arg(long, value_name = "PREFIX")]
        name: Option<String>,
        /// Write here (must not exist) instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// A command failure: a message for stderr and a non-zero exit.
#[derive(Debug)]
pub(crate) struct Failure(pub(crate) String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Failure {
    pub(crate) fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

/// The result of a command: `Ok(true)` success, `Ok(false)` a finding-style failure already
/// reported (exit 1).
pub(crate) type Outcome = Result<bool, Failure>;

/// The options every command shares.
#[derive(Debug, Clone)]
pub(crate) struct Global {
    pub(crate) config: Option<PathBuf>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) json: bool,
}

impl Global {
    /// The loader the app itself would use, plus `--data-dir`.
    pub(crate) fn loader(&self) -> ConfigLoader {
        let loader = match &self.config {
            Some(path) => ConfigLoader::new().file(path).process_env(),
            None => ConfigLoader::from_process_env(),
        };
        match &self.data_dir {
            Some(dir) => loader.set("server.data_dir", dir),
            None => loader,
        }
    }

    /// The effective configuration.
    pub(crate) fn load(&self) -> Result<Config, Failure> {
        self.loader()
            .load()
            .map_err(|e| Failure::new(format!("invalid configuration:\n{e}")))
    }
}

/// Starts a [`Warden`] on an existing data directory, with a clear message when the store is
/// held by a running app.
pub(crate) fn open_warden(config: Config) -> Result<Warden, Failure> {
    let dir = config.server.data_dir.clone();
    require_dir(&dir)?;
    Warden::start(config).map_err(|e| match e {
        warden::StartError::Store(e) => in_use(&dir, &e),
        e => Failure::new(format!("cannot start warden on `{}`: {e}", dir.display())),
    })
}

/// The data directory must already exist: a typo must not create an empty store.
pub(crate) fn require_dir(dir: &Path) -> Result<(), Failure> {
    if dir.is_dir() {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "data directory `{}` does not exist (check --data-dir or server.data_dir)",
            dir.display()
        )))
    }
}

/// The message for a store that cannot be opened.
pub(crate) fn in_use(dir: &Path, e: &dyn fmt::Display) -> Failure {
    Failure::new(format!(
        "cannot open the store in `{}`: the data directory is in use — stop the app first \
         (or check its permissions): {e}",
        dir.display()
    ))
}

/// Runs `f` on a fresh actix System (the actors need one).
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    actix_web::rt::System::new().block_on(f)
}

fn run(cli: Cli) -> Outcome {
    let g = Global {
        config: cli.config,
        data_dir: cli.data_dir,
        json: cli.json,
    };
    match cli.command {
        Command::Check { profile } => check::run(&g, profile.as_deref()),
        Command::Sessions(SessionsCmd::List { user }) => ops::sessions_list(&g, &user),
        Command::Sessions(SessionsCmd::Revoke { user, except, id }) => {
            ops::sessions_revoke(&g, user.as_deref(), except.as_deref(), id.as_deref())
        }
        Command::Users(UsersCmd::BumpVersion { user }) => ops::bump_version(&g, &user),
        Command::Lockout(LockoutCmd::Status { account }) => ops::lockout_status(&g, &account),
        Command::Lockout(LockoutCmd::Unlock { account }) => ops::lockout_unlock(&g, &account),
        Command::Lockout(LockoutCmd::Lock { account, duration }) => {
            ops::lockout_lock(&g, &account, duration)
        }
        Command::Audit(AuditCmd::Tail { name, user, lines }) => {
            ops::audit_tail(&g, name, user, lines)
        }
        Command::Audit(AuditCmd::Export {
            since,
            until,
            user,
            name,
            out,
        }) => ops::audit_export(&g, since, until, user, name, out),
        Command::Backup { out } => backup::backup(&g, &out),
        Command::Restore { file } => backup::restore(&g, &file),
        Command::HashPassword => ops::hash_password(&g),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
