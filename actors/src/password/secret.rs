//! [`Password`]: a secret string that is redacted in `Debug` and zeroized on drop.

use std::fmt;

use zeroize::Zeroizing;

/// A password in memory: `Debug` prints `Password(<redacted>)`, there is no `Display` and no
/// serialization, and the bytes are overwritten with zeros when it is dropped.
///
/// The [`PasswordPool`](super::PasswordPool) copies the `&str` it is given into a `Password`
/// before handing it to a worker thread, so the copy never outlives the job.
///
/// ```
/// use warden_actors::password::Password;
///
/// let pw = Password::new("correct horse battery staple");
/// assert_eq!(format!("{pw:?}"), "Password(<redacted>)");
/// assert_eq!(pw.expose_secret(), "correct horse battery staple");
/// ```
pub struct Password(Zeroizing<String>);

impl Password {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Self {
        Password(Zeroizing::new(password.into()))
    }

    /// The password itself. Name and shape make every use visible in review.
    pub fn expose_secret(&self) -> &str {
        self.0.as_str()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the password is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Password {
    fn from(password: String) -> Self {
        Password::new(password)
    }
}

impl From<&str> for Password {
    fn from(password: &str) -> Self {
        Password::new(password)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}
