//! Users: the application owns them; warden asks for them through [`UserStore`].

use std::{collections::BTreeSet, fmt, sync::Arc};

/// A user as warden needs to know it.
///
/// ```
/// use warden::auth::User;
///
/// let alice = User::new("1", "alice", "$argon2id$v=19$...").with_permissions(["user"]);
/// assert!(alice.has_permission("user"));
/// assert!(!alice.has_permission("admin"));
/// assert!(!format!("{alice:?}").contains("argon2"));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct User {
    /// Stable id (what sessions and tokens refer to).
    pub id: String,
    /// Login name.
    pub login: String,
    /// Permissions and roles.
    pub permissions: BTreeSet<String>,
    /// The argon2id PHC string. Never logged (`Debug` hides it).
    pub password_hash: String,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("permissions", &self.permissions)
            .finish_non_exhaustive()
    }
}

impl User {
    /// A user without permissions.
    pub fn new(
        id: impl Into<String>,
        login: impl Into<String>,
        password_hash: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            login: login.into(),
            permissions: BTreeSet::new(),
            password_hash: password_hash.into(),
        }
    }

    /// Adds permissions.
    #[must_use]
    pub fn with_permissions<I, S>(mut self, perms: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.permissions.extend(perms.into_iter().map(Into::into));
        self
    }

    /// Whether the user holds `perm`.
    pub fn has_permission(&self, perm: &str) -> bool {
        self.permissions.contains(perm)
    }

    /// The permissions of `required` that the user lacks, sorted.
    pub fn missing<'a>(&self, required: &'a [String]) -> Vec<&'a str> {
        let mut m: Vec<&str> = required
            .iter()
            .filter(|p| !self.permissions.contains(*p))
            .map(String::as_str)
            .collect();
        m.sort_unstable();
        m
    }
}

/// A failure of the application's user store. Requests that needed it are refused with 503.
#[derive(Debug, thiserror::Error)]
#[error("user store failure: {0}")]
pub struct UserStoreError(pub String);

/// Where users live: the application implements this (a database, a directory, a file).
///
/// warden keeps each user's `session_version` itself; the store only keeps users and their
/// password hashes.
///
/// ```
/// use std::{collections::HashMap, sync::RwLock};
/// use warden::auth::{User, UserStore, UserStoreError};
///
/// #[derive(Default)]
/// struct Memory(RwLock<HashMap<String, User>>);
///
/// #[async_trait::async_trait]
/// impl UserStore for Memory {
///     async fn find_by_id(&self, id: &str) -> Result<Option<User>, UserStoreError> {
///         Ok(self.0.read().unwrap().get(id).cloned())
///     }
///     async fn find_by_login(&self, login: &str) -> Result<Option<User>, UserStoreError> {
///         Ok(self.0.read().unwrap().values().find(|u| u.login == login).cloned())
///     }
///     async fn set_password_hash(&self, id: &str, phc: &str) -> Result<(), UserStoreError> {
///         match self.0.write().unwrap().get_mut(id) {
///             Some(u) => { u.password_hash = phc.to_owned(); Ok(()) }
///             None => Err(UserStoreError(format!("no user {id}"))),
///         }
///     }
/// }
/// ```
#[async_trait::async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// The user with this id.
    async fn find_by_id(&self, id: &str) -> Result<Option<User>, UserStoreError>;
    /// The user with this login name.
    async fn find_by_login(&self, login: &str) -> Result<Option<User>, UserStoreError>;
    /// Replaces the user's password hash.
    async fn set_password_hash(&self, id: &str, phc: &str) -> Result<(), UserStoreError>;
}

/// A shared user store.
pub type SharedUserStore = Arc<dyn UserStore>;
