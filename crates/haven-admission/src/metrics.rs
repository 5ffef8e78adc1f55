//! Prometheus metrics: requests by verdict and kind, violations by rule, latency.

use std::borrow::Cow;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
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

impl RequestLabels {
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
        let kind = match KINDS.iter().find(|k| **k == kind) {
            Some(k) => Cow::Borrowed(*k),
            None => Cow::Owned(kind.to_owned()),
        };
        Self {
            verdict: Cow::Borrowed(verdict),
            kind,
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
        Self {
            registry,
            requests,
            violations,
            latency,
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
