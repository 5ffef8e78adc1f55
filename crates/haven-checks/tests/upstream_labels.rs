//! Every check's Name, Category and Label against the list in issue #23, as upstream's
//! Haven Compliancy Checker v12.8.0 prints them (dashboards and scripts key on these strings), and
//! against the real upstream run in `../shared/context/hcc-upstream-output/`.

use haven_checks::CHECKS;

/// Issue #23, "Upstream v12.8.0 labels", verbatim, in upstream's order.
const ISSUE_23: &[(&str, &str, &str)] = &[
    (
        "havenversion",
        "Fundamental",
        "Self test: HCC version is latest major or within 3 months upgrade window",
    ),
    (
        "clusteradmin",
        "Fundamental",
        "Self test: does HCC have cluster-admin",
    ),
    (
        "multiaz",
        "Infrastructure",
        "Multiple availability zones in use",
    ),
    (
        "hamasters",
        "Infrastructure",
        "Running at least 3 master nodes",
    ),
    (
        "haworkers",
        "Infrastructure",
        "Running at least 3 worker nodes",
    ),
    (
        "nodehardening",
        "Infrastructure",
        "Nodes have SELinux, Grsecurity, AppArmor, LKRG, Talos or Flatcar enabled",
    ),
    (
        "privatenetworking",
        "Infrastructure",
        "Private networking topology",
    ),
    (
        "kubernetesversion",
        "Cluster",
        "Kubernetes version is latest stable or max 3 minor versions behind",
    ),
    ("rbac", "Cluster", "Role Based Access Control is enabled"),
    (
        "rwxvolumes",
        "Cluster",
        "ReadWriteMany persistent volumes support",
    ),
    ("cncf", "External", "CNCF Kubernetes Conformance"),
    (
        "autocerts",
        "Haven+",
        "Automated HTTPS certificate provisioning",
    ),
    ("logs", "Haven+", "Log aggregation is running"),
    ("metrics", "Haven+", "Metrics-server is running"),
    ("shavalidation", "Validation", "SHA has been validated"),
    ("cis", "External", "CIS Kubernetes Security Benchmark"),
    ("kubescape", "External", "Kubescape"),
];

#[test]
fn names_categories_and_labels_are_upstreams() {
    let ours: Vec<(&str, &str, &str)> = CHECKS
        .iter()
        .map(|c| (c.name, c.category.as_str(), c.label))
        .collect();
    assert_eq!(ours, ISSUE_23);
    // The issue's six categories, and no other.
    let mut categories: Vec<&str> = CHECKS.iter().map(|c| c.category.as_str()).collect();
    categories.dedup();
    assert_eq!(
        categories,
        [
            "Fundamental",
            "Infrastructure",
            "Cluster",
            "External",
            "Haven+",
            "Validation",
            "External"
        ]
    );
}

#[test]
#[ignore = "needs ../shared/context (cargo test -- --include-ignored)"]
fn labels_and_rationales_match_a_real_upstream_run() {
    let path = haven_test_support::shared_path("context/hcc-upstream-output/v12.8.0-run.json");
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let upstream: Vec<&serde_json::Value> = run["CompliancyChecks"]["Results"]
        .as_array()
        .unwrap()
        .iter()
        .chain(run["SuggestedChecks"]["Results"].as_array().unwrap())
        .collect();
    assert_eq!(upstream.len(), CHECKS.len());
    for (c, u) in CHECKS.iter().zip(upstream) {
        assert_eq!(u["Name"], c.name);
        assert_eq!(u["Category"], c.category.as_str(), "{}", c.name);
        assert_eq!(u["Label"], c.label, "{}", c.name);
        assert_eq!(u["Rationale"], c.upstream_rationale, "{}", c.name);
    }
}
