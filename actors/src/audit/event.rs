//! The security event record and its sanitisation.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// Longest string kept in an event field; longer values are truncated.
pub const MAX_FIELD_CHARS: usize = 512;

/// Most bytes (roughly, as JSON) of an event's `details`; entries beyond are dropped and
/// `details._truncated` is set, so one event stays small whatever the caller put in it.
pub const MAX_DETAILS_BYTES: usize = 8 * 1024;

/// Detail keys whose values are never recorded (compared case-insensitively, as substrings).
const SECRET_KEY_PARTS: [&str; 10] = [
    "password",
    "passwd",
    "secret",
    "token",
    "csrf",
    "cookie",
    "authorization",
    "api_key",
    "apikey",
    "signature",
];

/// What replaces a secret-looking detail value.
pub const REDACTED: &str = "[redacted]";

/// One security event, as Chirp's `SecurityEvent`, with the request context the design asks
/// for. Never carries a password, session token, CSRF token or reset token: detail values under
/// secret-looking keys are replaced by `"[redacted]"`, and every string is stripped of control
/// characters (log injection) and truncated.
///
/// `ts` is stamped by [`AuditHandle::emit`](crate::AuditHandle::emit) from the runtime clock.
///
/// ```
/// use warden_actors::SecurityEvent;
///
/// let ev = SecurityEvent::new("auth.login.failure")
///     .user_id("alice")
///     .detail("reason", "bad_credentials")
///     .detail("password", "hunter2");
/// assert_eq!(ev.details["password"], "[redacted]");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SecurityEvent {
    /// Dotted event name, e.g. `auth.login.success`.
    pub name: String,
    /// When the event happened (UTC, RFC 3339 in JSON).
    #[serde(with = "time::serde::rfc3339")]
    pub ts: OffsetDateTime,
    /// The request's id, if the event belongs to a request.
    pub request_id: Option<String>,
    /// HTTP method.
    pub method: Option<String>,
    /// Request path, without the query string.
    pub path: Option<String>,
    /// Client address, resolved through the trusted-proxy list.
    pub client_ip: Option<IpAddr>,
    /// The user concerned, if any.
    pub user_id: Option<String>,
    /// Event-specific details.
    pub details: Map<String, Value>,
}

/// An event as persisted and delivered: the event plus its sequence number in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoredEvent {
    /// Monotonic id (used for `Last-Event-ID` resumption).
    pub id: u64,
    /// The event.
    #[serde(flatten)]
    pub event: SecurityEvent,
}

impl StoredEvent {
    /// Wraps an event with its id.
    pub fn new(id: u64, event: SecurityEvent) -> Self {
        Self { id, event }
    }

    /// The event as one line of JSON (no newline inside; control characters escaped).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|_| format!(r#"{{"id":{},"name":"audit.encode_failed"}}"#, self.id))
    }
}

fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}'))
        .take(MAX_FIELD_CHARS)
        .collect()
}

fn clean_name(s: &str) -> String {
    let n: String = s
        .chars()
        .take(64)
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '.' | '_' | '*' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '_',
        })
        .collect();
    if n.is_empty() {
        "unnamed".into()
    } else {
        n
    }
}

fn is_clean_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'*'))
}

/// Roughly how many bytes a value takes as JSON.
fn approx_size(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len() + 2,
        Value::Array(a) => a.iter().map(approx_size).sum::<usize>() + a.len() + 2,
        Value::Object(m) => {
            m.iter()
                .map(|(k, v)| k.len() + 4 + approx_size(v))
                .sum::<usize>()
                + 2
        }
        _ => 8,
    }
}

/// Keeps the entries of `m` (in order) that fit in [`MAX_DETAILS_BYTES`].
fn cap_details(m: Map<String, Value>) -> Map<String, Value> {
    let mut used = 0;
    let mut out = Map::new();
    for (k, v) in m {
        let size = k.len() + 4 + approx_size(&v);
        if used + size > MAX_DETAILS_BYTES {
            out.insert("_truncated".into(), Value::Bool(true));
            break;
        }
        used += size;
        out.insert(k, v);
    }
    out
}

fn is_secret_key(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    SECRET_KEY_PARTS.iter().any(|p| k.contains(p))
}

fn clean_value(v: Value, depth: usize) -> Value {
    match v {
        Value::String(s) => Value::String(clean(&s)),
        Value::Array(a) if depth < 4 => Value::Array(
            a.into_iter()
                .take(64)
                .map(|v| clean_value(v, depth + 1))
                .collect(),
        ),
        Value::Object(m) if depth < 4 => Value::Object(clean_map(m, depth + 1)),
        Value::Array(_) | Value::Object(_) => Value::String("[truncated]".into()),
        other => other,
    }
}

fn clean_map(m: Map<String, Value>, depth: usize) -> Map<String, Value> {
    m.into_iter()
        .take(64)
        .map(|(k, v)| {
            let key = clean(&k);
            if is_secret_key(&key) {
                (key, Value::String(REDACTED.into()))
            } else {
                (key, clean_value(v, depth))
            }
        })
        .collect()
}

impl SecurityEvent {
    /// A new event with the given dotted name (lowercased; other characters become `_`).
    pub fn new(name: impl AsRef<str>) -> Self {
        Self {
            name: clean_name(name.as_ref()),
            ts: OffsetDateTime::UNIX_EPOCH,
            request_id: None,
            method: None,
            path: None,
            client_ip: None,
            user_id: None,
            details: Map::new(),
        }
    }

    /// Sets the request id.
    #[must_use]
    pub fn request_id(mut self, id: impl AsRef<str>) -> Self {
        self.request_id = Some(clean(id.as_ref()));
        self
    }

    /// Sets the HTTP method.
    #[must_use]
    pub fn method(mut self, m: impl AsRef<str>) -> Self {
        self.method = Some(clean(m.as_ref()));
        self
    }

    /// Sets the path (anything after `?` is dropped: query strings may carry tokens).
    #[must_use]
    pub fn path(mut self, p: impl AsRef<str>) -> Self {
        let p = p.as_ref();
        let p = p.split('?').next().unwrap_or_default();
        self.path = Some(clean(p));
        self
    }

    /// Sets the client address.
    #[must_use]
    pub fn client_ip(mut self, ip: IpAddr) -> Self {
        self.client_ip = Some(ip);
        self
    }

    /// Sets the user id.
    #[must_use]
    pub fn user_id(mut self, u: impl AsRef<str>) -> Self {
        self.user_id = Some(clean(u.as_ref()));
        self
    }

    /// Adds one detail; secret-looking keys are redacted.
    #[must_use]
    pub fn detail(mut self, key: impl AsRef<str>, value: impl Into<Value>) -> Self {
        let key = clean(key.as_ref());
        let value = if is_secret_key(&key) {
            Value::String(REDACTED.into())
        } else {
            clean_value(value.into(), 0)
        };
        if self.details.len() < 64 || self.details.contains_key(&key) {
            self.details.insert(key, value);
        }
        self
    }

    /// Sets the timestamp (the runtime stamps it on emit).
    pub(crate) fn with_ts(mut self, ts: OffsetDateTime) -> Self {
        self.ts = ts;
        self
    }

    /// Re-applies sanitisation to every field (for events built by struct update or
    /// deserialised from elsewhere).
    pub fn sanitized(self) -> Self {
        Self {
            name: clean_name(&self.name),
            ts: self.ts,
            request_id: self.request_id.as_deref().map(clean),
            method: self.method.as_deref().map(clean),
            path: self
                .path
                .as_deref()
                .map(|p| clean(p.split('?').next().unwrap_or_default())),
            client_ip: self.client_ip,
            user_id: self.user_id.as_deref().map(clean),
            details: cap_details(clean_map(self.details, 0)),
        }
    }

    /// Normalises the name if it is not already (cheap when it is).
    pub(crate) fn with_clean_name(mut self) -> Self {
        if !is_clean_name(&self.name) {
            self.name = clean_name(&self.name);
        }
        self
    }

    /// Whether the name matches a filter: `""` matches all, `"csrf."` matches by prefix, and a
    /// trailing `*` is the same as a prefix (`"csrf.reject.*"`).
    pub fn matches(&self, filter: &str) -> bool {
        let f = filter.strip_suffix('*').unwrap_or(filter);
        self.name.starts_with(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let ev = SecurityEvent::new("x")
            .detail("Password", "p")
            .detail("csrf_token", "t")
            .detail(
                "nested",
                serde_json::json!({"session_token": "s", "ok": "fine"}),
            )
            .sanitized();
        assert_eq!(ev.details["Password"], REDACTED);
        assert_eq!(ev.details["csrf_token"], REDACTED);
        assert_eq!(ev.details["nested"]["session_token"], REDACTED);
        assert_eq!(ev.details["nested"]["ok"], "fine");
    }

    #[test]
    fn control_characters_cannot_forge_lines() {
        let ev = SecurityEvent::new("auth.login.failure")
            .user_id("bob\n{\"name\":\"fake\"}\r\u{2028}\u{85}\x1b[31m")
            .path("/login?token=abc");
        let line = StoredEvent::new(1, ev.clone()).to_json_line();
        assert!(!line.contains('\n') && !line.contains('\r') && !line.contains('\u{2028}'));
        assert_eq!(ev.user_id.as_deref(), Some("bob{\"name\":\"fake\"}[31m"));
        assert_eq!(ev.path.as_deref(), Some("/login"));
        let back: StoredEvent = serde_json::from_str(&line).unwrap();
        assert_eq!(back.event, ev);
    }

    #[test]
    fn names_are_normalised_and_filters_match_prefixes() {
        let ev = SecurityEvent::new("CSRF.Reject.Missing\n");
        assert_eq!(ev.name, "csrf.reject.missing_");
        assert!(ev.matches("csrf.reject.*"));
        assert!(ev.matches("csrf."));
        assert!(ev.matches(""));
        assert!(!ev.matches("auth."));
        assert_eq!(SecurityEvent::new("").name, "unnamed");
    }

    #[test]
    fn huge_details_are_capped() {
        let mut ev = SecurityEvent::new("x");
        for i in 0..64 {
            ev = ev.detail(format!("k{i}"), "v".repeat(10_000));
        }
        let ev = ev.sanitized();
        assert!(StoredEvent::new(1, ev.clone()).to_json_line().len() < MAX_DETAILS_BYTES + 1024);
        assert_eq!(ev.details["_truncated"], true);
        assert_eq!(ev.details["k0"].as_str().unwrap().len(), MAX_FIELD_CHARS);
        let small = SecurityEvent::new("x").detail("a", 1).sanitized();
        assert!(small.details.get("_truncated").is_none());
    }

    #[test]
    fn long_values_are_truncated() {
        let ev = SecurityEvent::new("x").detail("k", "a".repeat(10_000));
        assert_eq!(ev.details["k"].as_str().unwrap().len(), MAX_FIELD_CHARS);
    }
}
