//! Prometheus metrics of the audit stream (prometheus-client), rendered as text on demand.
//!
//! Every metric is an atomic updated where the thing happens (the handle for drops and
//! aggregation, the actor for records, the sink threads for deliveries), so a scrape never asks
//! the actor anything: `/metrics` answers even while the audit actor is flooded or down.
//!
//! | metric | type | labels | what |
//! |---|---|---|---|
//! | `warden_audit_events_total` | counter | `name` | events recorded (persisted and fanned out) |
//! | `warden_audit_suppressed_events_total` | counter | `name` | occurrences folded into an aggregate or throttled record instead of a record of their own |
//! | `warden_audit_dropped_events_total` | counter | `reason` (`mailbox_full`, `actor_down`, `overloaded`) | events lost before reaching the actor (`overloaded`: must-log events beyond the memory bound of last resort) |
//! | `warden_audit_persist_failures_total` | counter | | log writes that failed |
//! | `warden_audit_subscriber_drops_total` | counter | | live subscribers (SSE clients) dropped for being slow |
//! | `warden_audit_spike_alerts_total` | counter | `kind` | `alert.spike` events raised |
//! | `warden_actor_restarts_total` | counter | `actor` | supervised restarts, from `actor.restarted` events |
//! | `warden_audit_sink_delivered_total` | counter | `sink` | events written by each sink |
//! | `warden_audit_sink_dropped_total` | counter | `sink` | events dropped because a sink's queue was full |
//! | `warden_audit_sink_failures_total` | counter | `sink` | sink writes that failed or panicked |
//! | `warden_audit_log_events` | gauge | | events in the persisted log |
//! | `warden_audit_mailbox_depth` | gauge | | messages queued for the audit actor and not yet handled |
//! | `warden_audit_subscribers` | gauge | | live subscribers |

use std::{
    collections::{BTreeMap, HashSet},
    fmt,
    sync::Arc,
};

use parking_lot::Mutex;
use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeMetric},
    metrics::{counter::ConstCounter, counter::Counter, family::Family, gauge::Gauge, MetricType},
    registry::Registry,
};

use super::sink::SinkCounters;

/// Most distinct event names with a series of their own; the rest share `name="other"`.
const MAX_NAME_LABELS: usize = 512;

/// The `Content-Type` of [`AuditHandle::metrics_text`](crate::AuditHandle::metrics_text)
/// (Prometheus text format 0.0.4).
pub const PROMETHEUS_CONTENT_TYPE: &str =
    prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The `Content-Type` of
/// [`AuditHandle::metrics_openmetrics`](crate::AuditHandle::metrics_openmetrics).
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Label = [(&'static str, String); 1];

/// The sinks' counters, read at scrape time.
#[derive(Debug, Default)]
struct SinkCollector {
    sinks: Mutex<Vec<(String, Arc<SinkCounters>)>>,
}

impl Collector for SinkCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> fmt::Result {
        // Sum per name, so two sinks with one name still give one series.
        let mut by_name: BTreeMap<String, [u64; 3]> = BTreeMap::new();
        for (name, c) in self.sinks.lock().iter() {
            let e = by_name.entry(name.clone()).or_default();
            e[0] += c.delivered.load(std::sync::atomic::Ordering::Relaxed);
            e[1] += c.dropped.load(std::sync::atomic::Ordering::Relaxed);
            e[2] += c.failed.load(std::sync::atomic::Ordering::Relaxed);
        }
        let metrics = [
            (
                "warden_audit_sink_delivered",
                "Audit events written by each sink",
            ),
            (
                "warden_audit_sink_dropped",
                "Audit events dropped because a sink's queue was full",
            ),
            (
                "warden_audit_sink_failures",
                "Audit sink writes that failed or panicked",
            ),
        ];
        for (i, (name, help)) in metrics.into_iter().enumerate() {
            let mut m = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (sink, values) in &by_name {
                let labels = [("sink", sink.as_str())];
                let fam = m.encode_family(&labels)?;
                ConstCounter::new(values[i]).encode(fam)?;
            }
        }
        Ok(())
    }
}

/// The audit metrics and their registry.
pub(crate) struct AuditMetrics {
    registry: Registry,
    events: Family<Label, Counter>,
    suppressed: Family<Label, Counter>,
    dropped: Family<Label, Counter>,
    pub(crate) persist_failures: Counter,
    pub(crate) subscriber_drops: Counter,
    alerts: Family<Label, Counter>,
    restarts: Family<Label, Counter>,
    pub(crate) log_len: Gauge,
    pub(crate) mailbox_depth: Gauge,
    pub(crate) subscribers: Gauge,
    sinks: Arc<SinkCollector>,
    names: Mutex<HashSet<String>>,
}

impl fmt::Debug for AuditMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditMetrics").finish_non_exhaustive()
    }
}

impl Default for AuditMetrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let events = Family::<Label, Counter>::default();
        let suppressed = Family::<Label, Counter>::default();
        let dropped = Family::<Label, Counter>::default();
        let persist_failures = Counter::default();
        let subscriber_drops = Counter::default();
        let alerts = Family::<Label, Counter>::default();
        let restarts = Family::<Label, Counter>::default();
        let log_len = Gauge::default();
        let mailbox_depth = Gauge::default();
        let subscribers = Gauge::default();
        let sinks = Arc::new(SinkCollector::default());
        registry.register(
            "warden_audit_events",
            "Audit events recorded, by event name",
            events.clone(),
        );
        registry.register(
            "warden_audit_suppressed_events",
            "Occurrences folded into an aggregate or throttled record, by event name",
            suppressed.clone(),
        );
        registry.register(
            "warden_audit_dropped_events",
            "Audit events lost before reaching the audit actor, by reason",
            dropped.clone(),
        );
        registry.register(
            "warden_audit_persist_failures",
            "Audit log writes that failed",
            persist_failures.clone(),
        );
        registry.register(
            "warden_audit_subscriber_drops",
            "Live audit subscribers dropped for falling behind",
            subscriber_drops.clone(),
        );
        registry.register(
            "warden_audit_spike_alerts",
            "alert.spike events raised, by watched kind",
            alerts.clone(),
        );
        registry.register(
            "warden_actor_restarts",
            "Supervised actor restarts, by actor",
            restarts.clone(),
        );
        registry.register(
            "warden_audit_log_events",
            "Events in the persisted audit log",
            log_len.clone(),
        );
        registry.register(
            "warden_audit_mailbox_depth",
            "Messages queued for the audit actor and not yet handled",
            mailbox_depth.clone(),
        );
        registry.register(
            "warden_audit_subscribers",
            "Live audit subscribers",
            subscribers.clone(),
        );
        registry.register_collector(Box::new(sinks.clone()));
        // Series that should read 0 rather than be absent before anything happens.
        for reason in ["mailbox_full", "actor_down", "overloaded"] {
            drop(dropped.get_or_create(&[("reason", reason.to_owned())]));
        }
        drop(restarts.get_or_create(&[("actor", "audit".to_owned())]));
        Self {
            registry,
            events,
            suppressed,
            dropped,
            persist_failures,
            subscriber_drops,
            alerts,
            restarts,
            log_len,
            mailbox_depth,
            subscribers,
            sinks,
            names: Mutex::new(HashSet::new()),
        }
    }
}

impl AuditMetrics {
    /// The label for an event name, capping the number of distinct series.
    fn name_label(&self, name: &str) -> Label {
        let mut names = self.names.lock();
        if names.contains(name) {
            return [("name", name.to_owned())];
        }
        if names.len() < MAX_NAME_LABELS {
            names.insert(name.to_owned());
            return [("name", name.to_owned())];
        }
        [("name", "other".to_owned())]
    }

    pub(crate) fn recorded(&self, name: &str) {
        self.events.get_or_create(&self.name_label(name)).inc();
    }

    pub(crate) fn suppressed(&self, name: &str, n: u64) {
        self.suppressed
            .get_or_create(&self.name_label(name))
            .inc_by(n);
    }

    pub(crate) fn dropped(&self, reason: &'static str) {
        self.dropped
            .get_or_create(&[("reason", reason.to_owned())])
            .inc();
    }

    pub(crate) fn alert(&self, kind: &str) {
        self.alerts
            .get_or_create(&[("kind", kind.to_owned())])
            .inc();
    }

    pub(crate) fn restarted(&self, actor: &str) {
        let actor: String = actor
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            .take(32)
            .collect();
        self.restarts.get_or_create(&[("actor", actor)]).inc();
    }

    pub(crate) fn add_sink(&self, name: &str, counters: Arc<SinkCounters>) {
        self.sinks.sinks.lock().push((name.to_owned(), counters));
    }

    /// Prometheus text format 0.0.4.
    pub(crate) fn prometheus_text(&self) -> Result<String, fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)?;
        Ok(out)
    }

    /// OpenMetrics text format 1.0 (ends with `# EOF`).
    pub(crate) fn openmetrics_text(&self) -> Result<String, fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}
