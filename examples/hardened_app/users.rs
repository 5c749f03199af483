//! The demo's user store: a JSON file under the data directory, created on first start with the
//! demo users `alice` (role `user`) and `admin` (roles `user`, `admin`).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::RwLock,
};

use warden::{
    actors::password::PasswordPool,
    auth::{User, UserStore, UserStoreError},
};

/// Users kept in `users.json` (mode 0600), written atomically on every change.
pub(crate) struct FileUsers {
    path: PathBuf,
    users: RwLock<BTreeMap<String, User>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Row {
    id: String,
    login: String,
    permissions: Vec<String>,
    password_hash: String,
}

impl FileUsers {
    /// Opens the store, creating the demo users (hashing `demo_password`) on first start.
    pub(crate) async fn open(
        dir: &Path,
        pool: &PasswordPool,
        demo_password: &str,
    ) -> Result<Self, String> {
        let path = dir.join("users.json");
        let mut users = BTreeMap::new();
        if path.exists() {
            let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
            let rows: Vec<Row> = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            for r in rows {
                let u = User::new(r.id.clone(), r.login, r.password_hash)
                    .with_permissions(r.permissions);
                users.insert(r.id, u);
            }
        } else {
            let hash = pool.hash(demo_password).await.map_err(|e| e.to_string())?;
            users.insert(
                "1".into(),
                User::new("1", "alice", hash.clone()).with_permissions(["user"]),
            );
            let hash = pool.hash(demo_password).await.map_err(|e| e.to_string())?;
            users.insert(
                "2".into(),
                User::new("2", "admin", hash).with_permissions(["user", "admin"]),
            );
        }
        let store = FileUsers {
            path,
            users: RwLock::new(users),
        };
        store.save()?;
        Ok(store)
    }

    fn save(&self) -> Result<(), String> {
        let rows: Vec<Row> = self
            .users
            .read()
            .map_err(|_| "poisoned".to_string())?
            .values()
            .map(|u| Row {
                id: u.id.clone(),
                login: u.login.clone(),
                permissions: u.permissions.iter().cloned().collect(),
                password_hash: u.password_hash.clone(),
            })
            .collect();
        let text = serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?;
        let tmp = self.path.with_extension("json.tmp");
        write_private(&tmp, text.as_bytes()).map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, &self.path).map_err(|e| e.to_string())
    }
}

/// Writes a file readable by its owner only.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).write(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[async_trait::async_trait]
impl UserStore for FileUsers {
    async fn find_by_id(&self, id: &str) -> Result<Option<User>, UserStoreError> {
        let users = self
            .users
            .read()
            .map_err(|_| UserStoreError("poisoned".into()))?;
        Ok(users.get(id).cloned())
    }

    async fn find_by_login(&self, login: &str) -> Result<Option<User>, UserStoreError> {
        let users = self
            .users
            .read()
            .map_err(|_| UserStoreError("poisoned".into()))?;
        Ok(users.values().find(|u| u.login == login).cloned())
    }

    async fn set_password_hash(&self, id: &str, phc: &str) -> Result<(), UserStoreError> {
        {
            let mut users = self
                .users
                .write()
                .map_err(|_| UserStoreError("poisoned".into()))?;
            let u = users
                .get_mut(id)
                .ok_or_else(|| UserStoreError(format!("no user {id}")))?;
            u.password_hash = phc.to_owned();
        }
        self.save().map_err(UserStoreError)
    }
}

/// Delivers reset tokens by appending a link to `reset-outbox.txt` in the data directory
/// (mode 0600): the demo's stand-in for e-mail. Tokens never go to the log.
pub(crate) struct FileOutbox {
    pub(crate) path: PathBuf,
    pub(crate) origin: String,
}

#[async_trait::async_trait]
impl warden::auth::ResetNotifier for FileOutbox {
    async fn send_reset(
        &self,
        user: &User,
        token: &warden::actors::tokens::ResetToken,
    ) -> Result<(), String> {
        use std::io::Write;
        let line = format!(
            "to {}: {}/password-reset/complete?token={}\n",
            user.login,
            self.origin,
            token.expose_secret()
        );
        let mut opts = std::fs::OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&self.path).map_err(|e| e.to_string())?;
        f.write_all(line.as_bytes()).map_err(|e| e.to_string())
    }
}
