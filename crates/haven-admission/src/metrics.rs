//! Prometheus metrics: requests by verdict and kind, violations by rule, latency, connections,
//! and the serving certificate's expiry.
//!
//! Every label value comes from a fixed set, whatever a client sends: kinds the webhook does
//! not check are counted as `other`, rule ids come from the registry, reasons and verdicts are
//! constants. A client sending requests for a million made-up kinds would otherwise grow the
//! registry (and every scrape) by a million series.

use std::borrow::Cow;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Label values are borrowed where they can be (verdicts, rule ids, the usual kinds), so
/// that counting a request allocates nothing.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub verdict: Cow<'static, str>,
    pub kind: Cow<'static, str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RuleLabels {
    pub rule: Cow<'static, str>,
}

/// Why a connection was refused or closed by the server.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: &'static str,
}

impl RequestLabels {
    /// `kind` is kept when it is one the webhook checks (or empty, for bad requests) and
    /// counted as `other` otherwise.
    pub fn new(verdict: &'static str, kind: &str) -> Self {
        const KINDS: &[&str] = &[
            "Pod",
            "Deployment",
            "StatefulSet",
            "DaemonSet",
            "ReplicaSet",
            "ReplicationController",
            "Job",
            "CronJob",
            "PodTemplate",
            "",
        ];
        let kind = KINDS
            .iter()
            .find(|k| **k == kind)
            .copied()
            .unwrap_or("other");
        Self {
            verdict: Cow::Borrowed(verdict),
            kind: Cow::Borrowed(kind),
        }
    }
}

/// All metrics of the webhook, registered once.
#[derive(Debug)]
pub struct Metrics {
    pub registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub violations: Family<RuleLabels, Counter>,
    pub latency: Histogram,
    /// Connections open now (TLS handshakes included).
    pub connections: Gauge,
    /// Connections refused at accept: `per-client` or `limit` (the global limit, with no idle
    /// connection to make room).
    pub connections_refused: Family<ReasonLabels, Counter>,
    /// Connections the server closed: `idle` (idle timeout), `evicted` (the longest idle one,
    /// to make room at the global limit or when file descriptors ran out).
    pub connections_closed: Family<ReasonLabels, Counter>,
    /// Failed `accept` calls (e.g. file descriptors exhausted).
    pub accept_errors: Counter,
    /// `notAfter` of the serving certificate in use, in seconds since the Unix epoch.
    pub certificate_expiry: Gauge,
    /// Certificate reloads that failed (unreadable, or certificate and key do not match): the
    /// previous pair stays in use.
    pub certificate_reload_errors: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("haven_admission");
        let requests = Family::<RequestLabels, Counter>::default();
        let violations = Family::<RuleLabels, Counter>::default();
        // 25 µs .. ~1.6 s
        let latency = Histogram::new(exponential_buckets(0.000_025, 2.0, 17));
        registry.register(
            "requests",
            "AdmissionReviews answered, by verdict and kind",
            requests.clone(),
        );
        registry.register(
            "violations",
            "Rule violations found at enforce level, by rule id",
            violations.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time to answer an AdmissionReview",
            latency.clone(),
        );
        let connections = Gauge::default();
        registry.register(
            "connections",
            "Connections open, TLS handshakes included",
            connections.clone(),
        );
        let connections_refused = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "connections_refused",
            "Connections refused at accept, by reason (per-client, limit)",
            connections_refused.clone(),
        );
        let connections_closed = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "connections_closed",
            "Connections closed by the server, by reason (idle, evicted)",
            connections_closed.clone(),
        );
        let accept_errors = Counter::default();
        registry.register(
            "accept_errors",
            "Failed accept calls (e.g. file descriptors exhausted)",
            accept_errors.clone(),
        );
        let certificate_expiry = Gauge::default();
        registry.register(
            "certificate_expiry_timestamp_seconds",
            "notAfter of the serving certificate in use, in seconds since the Unix epoch",
            certificate_expiry.clone(),
        );
        let certificate_reload_errors = Counter::default();
        registry.register(
            "certificate_reload_errors",
            "Certificate reloads that failed; the previous certificate stays in use",
            certificate_reload_errors.clone(),
        );
        Self {
            registry,
            requests,
            violations,
            latency,
            connections,
            connections_refused,
            connections_closed,
            accept_errors,
            certificate_expiry,
            certificate_reload_errors,
        }
    }
}

impl Metrics {
    /// The registry in Prometheus' text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_labels_are_bounded() {
        let m = Metrics::default();
        for kind in [
            "Pod",
            "Deployment",
            "ConfigMap",
            "Made-Up-1",
            "Made-Up-2",
            "",
        ] {
            m.requests
                .get_or_create(&RequestLabels::new("allowed", kind))
                .inc();
        }
        let text = m.encode();
        assert!(
            text.contains(r#"haven_admission_requests_total{verdict="allowed",kind="other"} 3"#),
            "{text}"
        );
        assert!(text.contains(r#"kind="Pod"} 1"#), "{text}");
        assert!(
            !text.contains("Made-Up") && !text.contains("ConfigMap"),
            "{text}"
        );
    }
}
