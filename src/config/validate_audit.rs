//! `[audit]` → the audit actor's [`AuditConfig`].

use std::time::Duration;

use warden_actors::AuditConfig;

use super::{
    raw::RawAudit,
    validate::{scaled, Errors},
};

const DAY_SECS: u64 = 24 * 3600;

pub(super) fn audit(raw: RawAudit, production: bool, errors: &mut Errors) -> AuditConfig {
    // In the order of the keys in `config/default.toml`.
    if production && !raw.tracing_sink && raw.jsonl_path.is_none() {
        errors.push(
            "audit.tracing_sink",
            "production requires an audit sink: keep `audit.tracing_sink = true` or set \
             `audit.jsonl_path` (security events would otherwise only reach the store)",
        );
    }
    if raw
        .jsonl_path
        .as_ref()
        .is_some_and(|p| p.as_os_str().is_empty())
    {
        errors.push(
            "audit.jsonl_path",
            "must not be empty (omit the key to disable the JSON-lines sink)",
        );
    }
    let sink_queue = errors.nonzero("audit.sink_queue", raw.sink_queue);
    let subscriber_queue = errors.nonzero("audit.subscriber_queue", raw.subscriber_queue);
    let retention_max_age = scaled(
        errors,
        "audit.retention_max_age_days",
        raw.retention_max_age_days,
        DAY_SECS,
    );
    let retention_max_count = errors.nonzero("audit.retention_max_count", raw.retention_max_count);
    let retention_interval =
        errors.nonzero("audit.retention_interval_secs", raw.retention_interval_secs);

    let spike_kinds = patterns("audit.spike_kinds", &raw.spike_kinds, errors);
    if production {
        const OFF: &str = "production requires spike alerts (an `alert.spike` event when failed \
                           logins, invalid tokens, CSRF rejections, ... suddenly pile up)";
        if raw.spike_kinds.is_empty() {
            errors.push("audit.spike_kinds", format!("must not be empty: {OFF}"));
        }
        if raw.spike_window_secs == 0 {
            errors.push(
                "audit.spike_window_secs",
                format!("must be greater than 0: {OFF}"),
            );
        }
        if raw.spike_threshold == 0 {
            errors.push(
                "audit.spike_threshold",
                format!("must be greater than 0: {OFF}"),
            );
        }
    }
    let aggregate_names = patterns("audit.aggregate_names", &raw.aggregate_names, errors);
    let aggregate_max_keys = errors.nonzero("audit.aggregate_max_keys", raw.aggregate_max_keys);

    AuditConfig::default()
        .tracing_sink(raw.tracing_sink)
        .jsonl_path(raw.jsonl_path)
        .sink_queue(sink_queue)
        .subscriber_queue(subscriber_queue)
        .persist(raw.persist)
        .retention_max_age(Duration::from_secs(retention_max_age))
        .retention_max_count(retention_max_count)
        .retention_interval(Duration::from_secs(retention_interval))
        .spike_kinds(spike_kinds)
        .spike_window(Duration::from_secs(raw.spike_window_secs))
        .spike_threshold(raw.spike_threshold)
        .aggregate_names(aggregate_names)
        .aggregate_window(Duration::from_secs(raw.aggregate_window_secs))
        .aggregate_burst(raw.aggregate_burst)
        .aggregate_name_budget(raw.aggregate_name_budget)
        .aggregate_max_keys(aggregate_max_keys)
}

/// Event-name patterns, without duplicates: `[a-z0-9._]+` with an optional trailing `*`.
fn patterns(key: &str, list: &[String], errors: &mut Errors) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for pattern in list {
        match pattern_error(pattern) {
            Some(why) => errors.push(key, why),
            None if !out.contains(pattern) => out.push(pattern.clone()),
            None => {}
        }
    }
    out
}

fn pattern_error(pattern: &str) -> Option<String> {
    let shown = pattern.escape_default();
    let stem = pattern.strip_suffix('*').unwrap_or(pattern);
    if stem.is_empty() {
        return Some(format!(
            "`{shown}` would match every event; list event names or prefixes such as \
             `csrf.reject.*`"
        ));
    }
    if let Some(c) = stem
        .chars()
        .find(|&c| !matches!(c, 'a'..='z' | '0'..='9' | '.' | '_'))
    {
        let hint = if c == '*' {
            " (`*` only at the end)".to_owned()
        } else if c.is_ascii_uppercase() {
            " (event names are lowercase)".to_owned()
        } else {
            String::new()
        };
        return Some(format!(
            "`{shown}` contains the character {c:?}; event-name patterns are `a-z`, `0-9`, `.` \
             and `_`, optionally ending in `*`{hint}"
        ));
    }
    let max = RawAudit::MAX_PATTERN_LEN;
    if stem.len() > max {
        return Some(format!(
            "`{shown}` is longer than {max} characters, the longest event name, so it would \
             never match"
        ));
    }
    None
}
