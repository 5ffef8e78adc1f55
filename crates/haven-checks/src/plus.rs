//! `--plus`: for each Haven+ capability, which component provides it, its version and health.
//!
//! The catalogue is data (`plus` in the check configuration). A component is found through its
//! workloads (names, images), its CRD groups or a Flux HelmRelease of its chart. Version: the
//! HelmRelease's chart version, else the workload label `app.kubernetes.io/version`, else the
//! image tag. Health: workloads available, CRDs established, HelmReleases Ready, and the
//! component's own objects in its CRD groups (Flux Kustomizations and sources, cert-manager
//! issuers) not Ready=False.

use haven_snapshot::{ClusterSnapshot, CustomRecord, Read, WorkloadRecord};
use serde::{Deserialize, Serialize};

use crate::checks::workload_matches;
use crate::config::{CheckConfig, Matcher, name_matches};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CapabilityStatus {
    /// A component is found and healthy.
    Provided,
    /// Components are found, none is healthy (or, for logs, no log agent runs).
    Degraded,
    /// No component found.
    Missing,
    /// Reads needed to tell failed.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentReport {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub healthy: bool,
    /// Where it was found and what is wrong, one line each.
    pub evidence: Vec<String>,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityReport {
    pub capability: String,
    pub status: CapabilityStatus,
    pub components: Vec<ComponentReport>,
    /// What keeps the capability from being provided although components were found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read_problems: Vec<String>,
}

fn image_tag(image: &str) -> Option<String> {
    let image = image.split('@').next()?;
    let last = image.rsplit('/').next()?;
    last.split_once(':').map(|(_, t)| t.to_owned())
}

pub fn report(s: &ClusterSnapshot, config: &CheckConfig) -> Vec<CapabilityReport> {
    let (workloads, workload_problems) = s.workloads();
    let crds = s.crds.value().map(Vec::as_slice).unwrap_or_default();
    let releases: Vec<&CustomRecord> = match s
        .custom_resources
        .get("helmreleases.helm.toolkit.fluxcd.io")
    {
        Some(Read::Ok { value }) => value.iter().collect(),
        _ => Vec::new(),
    };
    let mut read_problems = workload_problems;
    read_problems.extend(s.crds.problem().map(|p| format!("CRDs: {p}")));
    if let Some(p) = s
        .custom_resources
        .get("helmreleases.helm.toolkit.fluxcd.io")
        .and_then(Read::problem)
    {
        read_problems.push(format!("HelmReleases: {p}"));
    }
    config
        .plus
        .iter()
        .map(|cap| {
            let mut components: Vec<ComponentReport> = cap
                .components
                .iter()
                .filter_map(|m| component(m, &workloads, crds, &releases, s))
                .collect();
            // The ingress capability: per gateway, HTTPS, redirect, HSTS and TLS as Dutch law
            // asks them (evidence for the Forum Standaardisatie measurement).
            let gateways = cap.components.iter().any(|m| {
                m.crd_groups
                    .iter()
                    .any(|g| g == "gateway.networking.k8s.io")
            });
            if gateways && let Some(first) = components.first_mut() {
                first.evidence.extend(crate::transport::evidence(s));
            }
            let mut problems = Vec::new();
            let mut status = if components.iter().any(|c| c.healthy) {
                CapabilityStatus::Provided
            } else if !components.is_empty() {
                CapabilityStatus::Degraded
            } else if !read_problems.is_empty() {
                CapabilityStatus::Unknown
            } else {
                CapabilityStatus::Missing
            };
            // Logs: a store (Loki, ...) without a running log agent aggregates nothing. The same
            // agents as the mandatory logs check count (logAgents), so the two never disagree.
            if cap.capability == "logs" && status == CapabilityStatus::Provided {
                let agent_runs = config.log_agents.iter().any(|m| {
                    workloads
                        .iter()
                        .any(|w| workload_matches(m, w) && w.healthy())
                });
                if !agent_runs && read_problems.is_empty() {
                    status = CapabilityStatus::Degraded;
                    problems.push(
                        "no log agent (logAgents) runs: nothing ships container logs to it"
                            .to_owned(),
                    );
                } else if !agent_runs {
                    // An agent may run among the workloads that could not be read.
                    status = CapabilityStatus::Unknown;
                    problems.push(
                        "no log agent (logAgents) seen, and workloads could not all be read"
                            .to_owned(),
                    );
                }
            }
            CapabilityReport {
                capability: cap.capability.clone(),
                status,
                problems,
                components,
                read_problems: if status == CapabilityStatus::Unknown {
                    read_problems.clone()
                } else {
                    Vec::new()
                },
            }
        })
        .collect()
}

fn component(
    m: &Matcher,
    workloads: &[&WorkloadRecord],
    crds: &[haven_snapshot::CrdRecord],
    releases: &[&CustomRecord],
    s: &ClusterSnapshot,
) -> Option<ComponentReport> {
    let ws: Vec<&&WorkloadRecord> = workloads
        .iter()
        .filter(|w| workload_matches(m, w))
        .collect();
    let cs: Vec<&haven_snapshot::CrdRecord> = crds
        .iter()
        .filter(|c| m.crd_groups.contains(&c.group))
        .collect();
    let hs: Vec<&&CustomRecord> = releases
        .iter()
        .filter(|r| {
            r.chart
                .as_deref()
                .is_some_and(|c| m.charts.iter().any(|p| name_matches(p, c)))
        })
        .collect();
    if ws.is_empty() && cs.is_empty() && hs.is_empty() {
        return None;
    }
    let mut evidence = Vec::new();
    let mut problems = Vec::new();
    for w in &ws {
        evidence.push(format!(
            "{} {}/{} ({}/{} ready)",
            w.kind, w.namespace, w.name, w.ready, w.desired
        ));
        if !w.healthy() {
            problems.push(format!(
                "{} {}/{} is not available ({}/{} ready)",
                w.kind, w.namespace, w.name, w.ready, w.desired
            ));
        }
    }
    if !cs.is_empty() {
        evidence.push(format!(
            "{} CRD(s) in {}",
            cs.len(),
            m.crd_groups.join(", ")
        ));
        for c in cs.iter().filter(|c| !c.established) {
            problems.push(format!("CRD {} is not established", c.name));
        }
    }
    // The component's own objects (Flux Kustomizations and sources, cert-manager issuers): each
    // must not report Ready=False. HelmReleases belong to the component of their chart (above).
    if !cs.is_empty() {
        for (key, read) in &s.custom_resources {
            let (plural, group) = key.split_once('.').unwrap_or((key.as_str(), ""));
            if plural == "helmreleases" || !m.crd_groups.iter().any(|g| g == group) {
                continue;
            }
            let Some(objects) = read.value() else {
                continue;
            };
            if objects.is_empty() {
                continue;
            }
            let not_ready: Vec<&CustomRecord> =
                objects.iter().filter(|o| o.ready == Some(false)).collect();
            evidence.push(format!(
                "{} {}(s), {} not Ready",
                objects.len(),
                objects[0].kind,
                not_ready.len()
            ));
            for o in not_ready {
                let ns = o
                    .namespace
                    .as_deref()
                    .map(|n| format!("{n}/"))
                    .unwrap_or_default();
                problems.push(format!(
                    "{} {ns}{} is not Ready: {}",
                    o.kind, o.name, o.message
                ));
            }
        }
    }
    for h in &hs {
        let ns = h.namespace.as_deref().unwrap_or_default();
        evidence.push(format!(
            "HelmRelease {ns}/{} (chart {})",
            h.name,
            h.chart.as_deref().unwrap_or_default()
        ));
        if h.ready == Some(false) {
            problems.push(format!(
                "HelmRelease {ns}/{} is not Ready: {}",
                h.name, h.message
            ));
        }
    }
    let version = hs
        .iter()
        .find_map(|h| h.chart_version.clone())
        .or_else(|| {
            ws.iter()
                .find_map(|w| w.labels.get("app.kubernetes.io/version").cloned())
        })
        .or_else(|| {
            ws.iter()
                .flat_map(|w| w.images.iter())
                .find_map(|i| image_tag(i))
        });
    // CRDs alone (e.g. Gateway API) are healthy when established; workloads, when present, must run.
    let healthy = problems.is_empty();
    Some(ComponentReport {
        name: m.name.clone(),
        version,
        healthy,
        evidence,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_tags() {
        assert_eq!(
            image_tag("grafana/alloy:v1.18.1").as_deref(),
            Some("v1.18.1")
        );
        assert_eq!(
            image_tag("registry:5000/x/y:1.2@sha256:ab").as_deref(),
            Some("1.2")
        );
        assert_eq!(image_tag("registry:5000/x/y"), None);
    }
}
