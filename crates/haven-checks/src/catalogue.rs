//! The checks: upstream's names and categories (HCC v12.8), our labels and rationales.

use serde::{Deserialize, Serialize};

/// Upstream's categories, printed as shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Category {
    Fundamental,
    Infrastructure,
    Cluster,
    External,
    #[serde(rename = "Haven+")]
    HavenPlus,
    Validation,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Fundamental => "Fundamental",
            Category::Infrastructure => "Infrastructure",
            Category::Cluster => "Cluster",
            Category::External => "External",
            Category::HavenPlus => "Haven+",
            Category::Validation => "Validation",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInfo {
    pub name: &'static str,
    pub category: Category,
    pub label: &'static str,
    pub rationale: &'static str,
    pub suggested: bool,
}

const fn check(
    name: &'static str,
    category: Category,
    label: &'static str,
    rationale: &'static str,
) -> CheckInfo {
    CheckInfo {
        name,
        category,
        label,
        rationale,
        suggested: false,
    }
}

/// Every check, in upstream's order: 15 mandatory, then the 2 suggested ones.
pub const CHECKS: &[CheckInfo] = &[
    check(
        "havenversion",
        Category::Fundamental,
        "Self-test: is this checker the latest major version, or is a newer major less than 3 months old?",
        "Compliancy criteria change between major versions; a verdict from an outdated checker proves compliance with outdated criteria.",
    ),
    check(
        "clusteradmin",
        Category::Fundamental,
        "Self-test: does the checker run with cluster-admin rights?",
        "Upstream needs cluster-wide rights to see everything it judges. haven reads with less: checks whose reads are forbidden become UNKNOWN and name the missing permission.",
    ),
    check(
        "multiaz",
        Category::Infrastructure,
        "Infrastructure: is the cluster spread over more than one availability zone?",
        "A single zone is a single point of failure: one data-centre outage takes every application down.",
    ),
    check(
        "hamasters",
        Category::Infrastructure,
        "Infrastructure: does the cluster have at least 3 control-plane nodes?",
        "etcd needs a quorum; with fewer than 3 members the loss of one node stops the control plane.",
    ),
    check(
        "haworkers",
        Category::Infrastructure,
        "Infrastructure: does the cluster have at least 3 worker nodes?",
        "Applications must be able to run replicas on separate nodes and survive node maintenance.",
    ),
    check(
        "nodehardening",
        Category::Infrastructure,
        "Infrastructure: do the nodes run a hardened OS (SELinux, Grsecurity, AppArmor, LKRG, Talos or Flatcar)?",
        "A Linux security module confines containers that escape their namespaces.",
    ),
    check(
        "privatenetworking",
        Category::Infrastructure,
        "Infrastructure: is the network topology private (no node with a public address)?",
        "Nodes reachable from the internet expose kubelet and node ports to attack.",
    ),
    check(
        "kubernetesversion",
        Category::Cluster,
        "Cluster: is Kubernetes the latest stable minor, or at most 3 minors behind?",
        "Older minors no longer receive security fixes.",
    ),
    check(
        "rbac",
        Category::Cluster,
        "Cluster: is role-based access control enabled?",
        "Without RBAC every authenticated identity can do everything.",
    ),
    check(
        "rwxvolumes",
        Category::Cluster,
        "Cluster: can ReadWriteMany volumes be provisioned?",
        "Common Ground applications share files between replicas and need ReadWriteMany volumes to scale.",
    ),
    check(
        "cncf",
        Category::External,
        "External: is the distribution CNCF-certified Kubernetes for this version?",
        "Conformance guarantees that standard Kubernetes manifests behave the same on every Haven cluster.",
    ),
    check(
        "autocerts",
        Category::HavenPlus,
        "Haven+: are HTTPS certificates issued automatically (cert-manager with an issuer)?",
        "Manual certificates expire unnoticed; automated issuance keeps every service on HTTPS.",
    ),
    check(
        "logs",
        Category::HavenPlus,
        "Haven+: is log aggregation running?",
        "Container logs vanish with their pods; aggregation keeps them for incident analysis and audits.",
    ),
    check(
        "metrics",
        Category::HavenPlus,
        "Haven+: is metrics-server running?",
        "Horizontal pod autoscaling and `kubectl top` need the resource metrics API that metrics-server serves.",
    ),
    check(
        "shavalidation",
        Category::Validation,
        "Validation: does the SHA-256 of this checker binary match a published release?",
        "A verdict is only as trustworthy as the binary that produced it. A self-built haven binary is not in the release list and fails unless waived or the release data lists it.",
    ),
    CheckInfo {
        name: "cis",
        category: Category::External,
        label: "External: CIS Kubernetes Benchmark (kube-bench), opt-in with --cis",
        rationale: "The CIS benchmark checks node and control-plane configuration in depth. It needs the external tool kube-bench on PATH.",
        suggested: true,
    },
    CheckInfo {
        name: "kubescape",
        category: Category::External,
        label: "External: Kubescape scan, opt-in with --kubescape",
        rationale: "Kubescape scans workloads and configuration against security frameworks. It needs the external tool kubescape on PATH.",
        suggested: true,
    },
];

/// Metadata of a check by name.
pub fn check_info(name: &str) -> Option<&'static CheckInfo> {
    CHECKS.iter().find(|c| c.name == name)
}

/// Names of every check, for waiver validation.
pub fn check_names() -> Vec<&'static str> {
    CHECKS.iter().map(|c| c.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifteen_mandatory_two_suggested_with_upstream_names_and_categories() {
        let mandatory: Vec<(&str, &str)> = CHECKS
            .iter()
            .filter(|c| !c.suggested)
            .map(|c| (c.name, c.category.as_str()))
            .collect();
        assert_eq!(
            mandatory,
            vec![
                ("havenversion", "Fundamental"),
                ("clusteradmin", "Fundamental"),
                ("multiaz", "Infrastructure"),
                ("hamasters", "Infrastructure"),
                ("haworkers", "Infrastructure"),
                ("nodehardening", "Infrastructure"),
                ("privatenetworking", "Infrastructure"),
                ("kubernetesversion", "Cluster"),
                ("rbac", "Cluster"),
                ("rwxvolumes", "Cluster"),
                ("cncf", "External"),
                ("autocerts", "Haven+"),
                ("logs", "Haven+"),
                ("metrics", "Haven+"),
                ("shavalidation", "Validation"),
            ]
        );
        let suggested: Vec<&str> = CHECKS
            .iter()
            .filter(|c| c.suggested)
            .map(|c| c.name)
            .collect();
        assert_eq!(suggested, vec!["cis", "kubescape"]);
        assert!(
            CHECKS
                .iter()
                .all(|c| !c.rationale.is_empty() && !c.label.is_empty())
        );
    }
}
