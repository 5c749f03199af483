//! The session record, the changes a request can make to it, and the timeout policy.

use std::{collections::BTreeMap, fmt, time::Duration};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One session as stored: keyed by [`SessionId`](super::SessionId), never by the token.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionRecord {
    /// The authenticated user, if any.
    pub user_id: Option<String>,
    /// Application data.
    pub data: BTreeMap<String, Value>,
    /// Creation time (ms since the epoch); the absolute timeout counts from here.
    pub created_at: u64,
    /// Last request seen (ms since the epoch); the idle timeout counts from here.
    pub last_seen_at: u64,
    /// When the user last proved their identity (login, re-authentication).
    pub authenticated_at: Option<u64>,
    /// The user's session version when this session was authenticated.
    pub session_version: Option<u64>,
    /// The per-session CSRF secret (base64url), created on first use.
    pub csrf_secret: Option<String>,
}

impl fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRecord")
            .field("user_id", &self.user_id)
            .field("keys", &self.data.keys().collect::<Vec<_>>())
            .field("created_at", &self.created_at)
            .field("last_seen_at", &self.last_seen_at)
            .field("authenticated_at", &self.authenticated_at)
            .field("session_version", &self.session_version)
            .field("csrf_secret", &self.csrf_secret.as_ref().map(|_| ".."))
            .finish()
    }
}

impl SessionRecord {
    /// A new anonymous, empty record created at `now`.
    pub fn new(now: u64) -> Self {
        Self {
            user_id: None,
            data: BTreeMap::new(),
            created_at: now,
            last_seen_at: now,
            authenticated_at: None,
            session_version: None,
            csrf_secret: None,
        }
    }

    /// Applies changes key by key (so concurrent requests changing different keys both win).
    pub fn apply(&mut self, changes: &[Change], now: u64) {
        for c in changes {
            match c {
                Change::Insert(k, v) => {
                    self.data.insert(k.clone(), v.clone());
                }
                Change::Remove(k) => {
                    self.data.remove(k);
                }
                Change::Clear => self.data.clear(),
                Change::Login {
                    user_id,
                    session_version,
                } => {
                    // Another user's login on this browser inherits nothing of the previous
                    // user's session (Django's flush-on-different-user, Spring's new session).
                    if self.user_id.as_ref().is_some_and(|u| u != user_id) {
                        self.data.clear();
                    }
                    // The CSRF secret rotates on every login (a token seen before login is
                    // worthless after it).
                    self.csrf_secret = None;
                    self.user_id = Some(user_id.clone());
                    self.authenticated_at = Some(now);
                    self.session_version = Some(*session_version);
                }
                Change::Logout => {
                    self.user_id = None;
                    self.authenticated_at = None;
                    self.session_version = None;
                }
                Change::SetVersion(v) => self.session_version = Some(*v),
                Change::SetCsrfSecret(s) => self.csrf_secret = s.clone(),
            }
        }
    }

    /// Size of the data map as JSON, for the `max_data_bytes` limit.
    pub fn data_len(&self) -> usize {
        serde_json::to_vec(&self.data).map_or(usize::MAX, |v| v.len())
    }
}

/// One change a request makes to its session. Changes carry the difference, never the whole
/// record, so concurrent requests do not overwrite each other.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum Change {
    /// Set a data key.
    Insert(String, Value),
    /// Remove a data key.
    Remove(String),
    /// Remove every data key.
    Clear,
    /// Mark the session authenticated (always together with a rotation).
    Login {
        /// The user.
        user_id: String,
        /// The user's current session version.
        session_version: u64,
    },
    /// Forget the user (the session stays, anonymous).
    Logout,
    /// Record the user's new session version (the session that changed the password).
    SetVersion(u64),
    /// Set or clear the CSRF secret.
    SetCsrfSecret(Option<String>),
}

impl fmt::Debug for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Insert(k, _) => write!(f, "Insert({k:?}, ..)"),
            Change::Remove(k) => write!(f, "Remove({k:?})"),
            Change::Clear => f.write_str("Clear"),
            Change::Login {
                user_id,
                session_version,
            } => {
                write!(f, "Login({user_id:?}, v{session_version})")
            }
            Change::Logout => f.write_str("Logout"),
            Change::SetVersion(v) => write!(f, "SetVersion({v})"),
            Change::SetCsrfSecret(_) => f.write_str("SetCsrfSecret(..)"),
        }
    }
}

impl Change {
    /// Whether the change must be durable before it is acknowledged (logins, logouts,
    /// version and CSRF-secret changes); data changes are buffered.
    pub fn is_security_relevant(&self) -> bool {
        !matches!(self, Change::Insert(..) | Change::Remove(_) | Change::Clear)
    }
}

/// Why a session is no longer valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExpiryReason {
    /// No request within the idle timeout.
    Idle,
    /// Older than the absolute timeout.
    Absolute,
}

impl ExpiryReason {
    /// The audit event name for this reason.
    pub fn event_name(self) -> &'static str {
        match self {
            ExpiryReason::Idle => "session.expired.idle",
            ExpiryReason::Absolute => "session.expired.absolute",
        }
    }
}

/// Timeouts and limits of sessions, enforced on the server.
///
/// ```
/// use std::time::Duration;
/// use warden_actors::session::SessionPolicy;
///
/// let p = SessionPolicy::default();
/// assert_eq!(p.idle_timeout, Duration::from_secs(1800));
/// assert_eq!(p.absolute_timeout, Duration::from_secs(43200));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionPolicy {
    /// A session unused this long is dead. Default: 30 minutes.
    pub idle_timeout: Duration,
    /// A session this old is dead, however active. Default: 12 hours.
    pub absolute_timeout: Duration,
    /// Number of session actor shards (arbiters). Default: available parallelism.
    pub shards: usize,
    /// How often `last_seen_at` updates are folded into the store. Default: 1 s.
    pub touch_interval: Duration,
    /// Largest data map (as JSON) a session may hold. Default: 16 KiB.
    pub max_data_bytes: usize,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(1800),
            absolute_timeout: Duration::from_secs(43200),
            shards: std::thread::available_parallelism().map_or(1, |n| n.get()),
            touch_interval: Duration::from_secs(1),
            max_data_bytes: 16 * 1024,
        }
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl SessionPolicy {
    /// Sets the idle timeout.
    #[must_use]
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }
    /// Sets the absolute timeout.
    #[must_use]
    pub fn absolute_timeout(mut self, d: Duration) -> Self {
        self.absolute_timeout = d;
        self
    }
    /// Sets the number of shards (at least 1).
    #[must_use]
    pub fn shards(mut self, n: usize) -> Self {
        self.shards = n.max(1);
        self
    }
    /// Sets the touch-folding interval.
    #[must_use]
    pub fn touch_interval(mut self, d: Duration) -> Self {
        self.touch_interval = d;
        self
    }
    /// Sets the data size limit.
    #[must_use]
    pub fn max_data_bytes(mut self, n: usize) -> Self {
        self.max_data_bytes = n;
        self
    }

    /// Whether a session created at `created_at` and last seen at `last_seen` is still valid.
    pub fn check(&self, created_at: u64, last_seen: u64, now: u64) -> Result<(), ExpiryReason> {
        if now >= created_at.saturating_add(ms(self.absolute_timeout)) {
            return Err(ExpiryReason::Absolute);
        }
        if now >= last_seen.saturating_add(ms(self.idle_timeout)) {
            return Err(ExpiryReason::Idle);
        }
        Ok(())
    }

    /// When the store may forget the record: the earlier of the two deadlines.
    pub fn expires_at(&self, created_at: u64, last_seen: u64) -> u64 {
        created_at
            .saturating_add(ms(self.absolute_timeout))
            .min(last_seen.saturating_add(ms(self.idle_timeout)))
    }

    /// When the absolute deadline falls.
    pub fn absolute_deadline(&self, created_at: u64) -> u64 {
        created_at.saturating_add(ms(self.absolute_timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_checks_both_deadlines() {
        let p = SessionPolicy::default()
            .idle_timeout(Duration::from_secs(10))
            .absolute_timeout(Duration::from_secs(100));
        assert_eq!(p.check(0, 0, 9_999), Ok(()));
        assert_eq!(p.check(0, 0, 10_000), Err(ExpiryReason::Idle));
        assert_eq!(p.check(0, 95_000, 99_999), Ok(()));
        assert_eq!(p.check(0, 95_000, 100_000), Err(ExpiryReason::Absolute));
        assert_eq!(p.expires_at(0, 95_000), 100_000);
        assert_eq!(p.expires_at(0, 5_000), 15_000);
    }

    #[test]
    fn changes_apply_per_key() {
        let mut r = SessionRecord::new(1);
        r.apply(
            &[
                Change::Insert("a".into(), 1.into()),
                Change::Insert("b".into(), 2.into()),
            ],
            5,
        );
        r.apply(&[Change::Remove("a".into())], 6);
        assert_eq!(r.data.keys().collect::<Vec<_>>(), vec!["b"]);
        r.apply(
            &[Change::Login {
                user_id: "alice".into(),
                session_version: 3,
            }],
            7,
        );
        assert_eq!(
            (r.user_id.as_deref(), r.authenticated_at, r.session_version),
            (Some("alice"), Some(7), Some(3))
        );
        r.apply(&[Change::Logout, Change::Clear], 8);
        assert_eq!(r.user_id, None);
        assert!(r.data.is_empty());
        assert!(Change::Logout.is_security_relevant());
        assert!(!Change::Clear.is_security_relevant());
    }

    #[test]
    fn debug_never_shows_data_values_or_the_csrf_secret() {
        let mut r = SessionRecord::new(1);
        r.apply(
            &[
                Change::Insert("k".into(), "secret-value".into()),
                Change::SetCsrfSecret(Some("csrf-secret".into())),
            ],
            1,
        );
        let d = format!("{r:?}");
        assert!(!d.contains("secret-value") && !d.contains("csrf-secret"));
    }
}
