//! The checks: upstream's names, categories, labels and rationales (HCC v12.8.0, verbatim: dashboards
//! and scripts key on them), and haven's own wording of each question and why it matters (shown by
//! `--rationale`, `-v` and `-o haven-json`).

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
    /// Upstream's label, verbatim (`-o json`, the text table, the `Compliancy` resource).
    pub label: &'static str,
    /// Upstream's rationale, verbatim (`-o json`, the `Compliancy` resource).
    pub upstream_rationale: &'static str,
    /// haven's wording of the question the check answers.
    pub description: &'static str,
    /// haven's rationale: why it matters, and how haven decides where it differs.
    pub rationale: &'static str,
    pub suggested: bool,
}

const fn check(
    name: &'static str,
    category: Category,
    (label, upstream_rationale): (&'static str, &'static str),
    description: &'static str,
    rationale: &'static str,
) -> CheckInfo {
    CheckInfo {
        name,
        category,
        label,
        upstream_rationale,
        description,
        rationale,
        suggested: false,
    }
}

/// Every check, in upstream's order: 15 mandatory, then the 2 suggested ones.
pub const CHECKS: &[CheckInfo] = &[
    check(
        "havenversion",
        Category::Fundamental,
        (
            "Self test: HCC version is latest major or within 3 months upgrade window",
            "Haven clusters must stay up to date",
        ),
        "Self-test: is this checker the latest major version, or is a newer major less than 3 months old?",
        "Compliancy criteria change between major versions; a verdict from an outdated checker proves compliance with outdated criteria.",
    ),
    check(
        "clusteradmin",
        Category::Fundamental,
        (
            "Self test: does HCC have cluster-admin",
            "In order for the Haven Compliancy Checker to function properly elevated privileges are required.",
        ),
        "Self-test: does the checker run with cluster-admin rights?",
        "Upstream needs cluster-wide rights to see everything it judges. haven reads with less: checks whose reads are forbidden become UNKNOWN and name the missing permission.",
    ),
    check(
        "multiaz",
        Category::Infrastructure,
        (
            "Multiple availability zones in use",
            "Running a cluster on a single availability zone means a higher risk of downtime when that single zone runs into problems.",
        ),
        "Infrastructure: is the cluster spread over more than one availability zone?",
        "A single zone is a single point of failure: one data-centre outage takes every application down.",
    ),
    check(
        "hamasters",
        Category::Infrastructure,
        (
            "Running at least 3 master nodes",
            "This ensures a highly available control plane.",
        ),
        "Infrastructure: does the cluster have at least 3 control-plane nodes?",
        "etcd needs a quorum; with fewer than 3 members the loss of one node stops the control plane.",
    ),
    check(
        "haworkers",
        Category::Infrastructure,
        (
            "Running at least 3 worker nodes",
            "This enables running highly available workloads.",
        ),
        "Infrastructure: does the cluster have at least 3 worker nodes?",
        "Applications must be able to run replicas on separate nodes and survive node maintenance.",
    ),
    check(
        "nodehardening",
        Category::Infrastructure,
        (
            "Nodes have SELinux, Grsecurity, AppArmor, LKRG, Talos or Flatcar enabled",
            "Security matters on every layer of a system and should an attacker break out of a deployment onto a node increased node security will help prevent further escalation.",
        ),
        "Infrastructure: do the nodes run a hardened OS (SELinux, Grsecurity, AppArmor, LKRG, Talos or Flatcar)?",
        "A Linux security module confines containers that escape their namespaces.",
    ),
    check(
        "privatenetworking",
        Category::Infrastructure,
        (
            "Private networking topology",
            "Not directly exposing masters or workers to the public internet can increase the security of the cluster.",
        ),
        "Infrastructure: is the network topology private (no node with a public address)?",
        "Nodes reachable from the internet expose kubelet and node ports to attack.",
    ),
    check(
        "kubernetesversion",
        Category::Cluster,
        (
            "Kubernetes version is latest stable or max 3 minor versions behind",
            "This allows cluster users to access new functionality quickly and encourages a well-implemented update mechanism.",
        ),
        "Cluster: is Kubernetes the latest stable minor, or at most 3 minors behind?",
        "Older minors no longer receive security fixes.",
    ),
    check(
        "rbac",
        Category::Cluster,
        (
            "Role Based Access Control is enabled",
            "Basic security option which is enabled by default in order to control who can do what on a cluster.",
        ),
        "Cluster: is role-based access control enabled?",
        "Without RBAC every authenticated identity can do everything.",
    ),
    check(
        "rwxvolumes",
        Category::Cluster,
        (
            "ReadWriteMany persistent volumes support",
            "This ensures that storage can be created which can be used by highly available deployments.",
        ),
        "Cluster: can ReadWriteMany volumes be provisioned?",
        "Common Ground applications share files between replicas and need ReadWriteMany volumes to scale.",
    ),
    check(
        "cncf",
        Category::External,
        (
            "CNCF Kubernetes Conformance",
            "Cloud Native Computing Foundation's Kubernetes checks ensure the Kubernetes cluster adheres to the standard Kubernetes API's.",
        ),
        "External: is the distribution CNCF-certified Kubernetes for this version?",
        "Conformance guarantees that standard Kubernetes manifests behave the same on every Haven cluster.",
    ),
    check(
        "autocerts",
        Category::HavenPlus,
        (
            "Automated HTTPS certificate provisioning",
            "This makes it easy for engineers to expose an Ingress with a valid SSL certificate which automatically renews.",
        ),
        "Haven+: are HTTPS certificates issued automatically (cert-manager with an issuer)?",
        "Manual certificates expire unnoticed; automated issuance keeps every service on HTTPS.",
    ),
    check(
        "logs",
        Category::HavenPlus,
        (
            "Log aggregation is running",
            "In order to be in control of the workload on a cluster it's mandatory to aggregate all container logs.",
        ),
        "Haven+: is log aggregation running?",
        "Container logs vanish with their pods; aggregation keeps them for incident analysis and audits.",
    ),
    check(
        "metrics",
        Category::HavenPlus,
        (
            "Metrics-server is running",
            "In order to be in control of a cluster it's mandatory to have eyes and ears on the cluster resources.",
        ),
        "Haven+: is metrics-server running?",
        "Horizontal pod autoscaling and `kubectl top` need the resource metrics API that metrics-server serves.",
    ),
    check(
        "shavalidation",
        Category::Validation,
        (
            "SHA has been validated",
            "Haven CLI should be validated by SHA",
        ),
        "Validation: does the SHA-256 of this checker binary match a published release?",
        "A verdict is only as trustworthy as the binary that produced it. The hashes of released binaries are published in a signed release-data file next to each release; a binary whose hash it lists passes. A self-built binary has no published hash: the check is SKIPPED (self-built) and does not count against compliance.",
    ),
    CheckInfo {
        name: "cis",
        category: Category::External,
        label: "CIS Kubernetes Security Benchmark",
        upstream_rationale: "Center for Internet Security's Kubernetes benchmark assists in following the best practices of securing a cluster.",
        description: "External: CIS Kubernetes Benchmark (kube-bench as a Job on the nodes), opt-in with --cis",
        rationale: "The CIS benchmark checks node and control-plane configuration in depth. haven runs kube-bench as a Job on every node (needs --allow-writes; the Job's namespace is deleted afterwards) and reads its JSON result.",
        suggested: true,
    },
    CheckInfo {
        name: "kubescape",
        category: Category::External,
        label: "Kubescape",
        upstream_rationale: "Aqua Security's Kubescape tool assists in following the best practices of securing a cluster.",
        description: "External: Kubescape scan, opt-in with --kubescape",
        rationale: "Kubescape scans workloads and configuration against security frameworks. It needs the external tool kubescape on PATH; haven passes it the same kubeconfig and context it checks.",
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
        assert!(CHECKS.iter().all(|c| !c.rationale.is_empty()
            && !c.label.is_empty()
            && !c.description.is_empty()
            && !c.upstream_rationale.is_empty()));
    }
}
