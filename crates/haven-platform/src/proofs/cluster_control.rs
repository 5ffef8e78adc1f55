//! Platform identities whose rights amount to control of the cluster.
//!
//! Reading every Secret is one way to own a cluster ([`super::secret_readers`]); these are the
//! others, each enough on its own to become cluster-admin or to run code anywhere:
//! - `escalate` or `bind` on roles, `impersonate`, or writing role bindings beyond its own
//!   namespace: it grants itself (or acts as) anyone;
//! - starting or entering workloads in other namespaces (Pods, their controllers, `exec`,
//!   `attach`, ephemeral containers, tokens of other ServiceAccounts): the code runs under that
//!   namespace's identities and mounts its Secrets;
//! - the kubelet's API through `nodes/proxy` (its `exec` needs only `get` over a WebSocket);
//! - the cluster's gates: admission webhooks and policies (a mutating webhook rewrites every
//!   Pod), changing CustomResourceDefinitions (a conversion webhook sees every object of the
//!   kind), a Namespace's labels (its Pod Security level), approving certificate requests.
//!
//! Several platform components need one of these by design (Flux applies everything, the
//! cert-manager CA injector patches webhook configurations, CloudNativePG starts a tenant's
//! database Pods in the tenant's namespace, Velero restores anything). A chart's convenience
//! default must not give them to one that does not. So every platform ServiceAccount holding
//! such a right, outside its own namespace, is an error unless its component's catalogue entry
//! says why (`clusterControl`). Rules limited to named objects (`resourceNames`: a component
//! patching its own webhook configuration) and the API server's default grants are not counted.

use std::collections::{BTreeMap, BTreeSet};

use haven_rbac::{Concern, Finding, Rule, Scope};

use super::Landscape;
use crate::catalogue::ClusterPower;
use crate::charts::{Check, Problem};
use crate::validate::Severity;

const WRITE: &[&str] = &["create", "update", "patch"];

/// What starts or enters code in a namespace: (group, resource, verbs).
const WORKLOADS: &[(&str, &str, &[&str])] = &[
    ("", "pods", &["create"]),
    ("", "pods/exec", &["create", "get"]),
    ("", "pods/attach", &["create", "get"]),
    ("", "pods/ephemeralcontainers", &["update", "patch"]),
    ("", "serviceaccounts/token", &["create"]),
    ("", "replicationcontrollers", WRITE),
    ("apps", "deployments", WRITE),
    ("apps", "daemonsets", WRITE),
    ("apps", "statefulsets", WRITE),
    ("apps", "replicasets", WRITE),
    ("batch", "jobs", WRITE),
    ("batch", "cronjobs", WRITE),
];

/// The cluster's gates, granted cluster-wide: (group, resource, verbs, power).
const GATES: &[(&str, &str, &[&str], ClusterPower)] = &[
    (
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
        WRITE,
        ClusterPower::Admission,
    ),
    (
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
        WRITE,
        ClusterPower::Admission,
    ),
    (
        "admissionregistration.k8s.io",
        "mutatingadmissionpolicies",
        WRITE,
        ClusterPower::Admission,
    ),
    (
        "admissionregistration.k8s.io",
        "mutatingadmissionpolicybindings",
        WRITE,
        ClusterPower::Admission,
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
        WRITE,
        ClusterPower::Admission,
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
        WRITE,
        ClusterPower::Admission,
    ),
    (
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        // Changing an existing one (a conversion webhook sees every object of its kind);
        // creating a new kind is not counted (Dex registers its storage kinds).
        &["update", "patch"],
        ClusterPower::Crds,
    ),
    (
        "apiregistration.k8s.io",
        "apiservices",
        WRITE,
        ClusterPower::ApiServices,
    ),
    (
        "",
        "namespaces",
        &["update", "patch"],
        ClusterPower::Namespaces,
    ),
    ("", "nodes/proxy", &["get", "create"], ClusterPower::Kubelet),
    (
        "certificates.k8s.io",
        "certificatesigningrequests/approval",
        &["update", "patch"],
        ClusterPower::CertificateApproval,
    ),
];

/// The powers one grant gives when it reaches beyond `own` namespace.
fn powers(f: &Finding, own: &str) -> BTreeSet<ClusterPower> {
    let rule: &Rule = &f.grant.rule;
    let mut out = BTreeSet::new();
    if !f.confined
        && matches!(
            f.concern,
            Concern::Escalate | Concern::Bind | Concern::Impersonate | Concern::BindingWrite
        )
    {
        out.insert(ClusterPower::Rbac);
    }
    let outside = match &f.grant.scope {
        Scope::Cluster => true,
        Scope::Namespace(ns) => ns != own,
    };
    if outside
        && WORKLOADS
            .iter()
            .any(|(g, r, verbs)| verbs.iter().any(|v| rule.allows_some(v, g, r)))
    {
        out.insert(ClusterPower::Workloads);
    }
    if f.grant.scope == Scope::Cluster {
        for (g, r, verbs, power) in GATES {
            if verbs.iter().any(|v| rule.allows_some(v, g, r)) {
                out.insert(*power);
            }
        }
    }
    out
}

/// Every platform ServiceAccount with a right of the list above without a reason in the
/// catalogue.
pub fn prove(landscape: &Landscape<'_>, catalogue: &crate::Catalogue) -> Vec<Problem> {
    let mut out = Vec::new();
    for account in super::platform_accounts(landscape, catalogue) {
        let (sa, ns, owners) = (account.sa, account.namespace.as_str(), &account.owners);
        // The powers the component's catalogue entry gives a reason for.
        let justified: BTreeSet<ClusterPower> = owners
            .iter()
            .flat_map(|c| c.cluster_control.keys().copied())
            .collect();
        // One problem per binding and role, with every unjustified power it gives.
        let mut grants: BTreeMap<(String, String), BTreeSet<ClusterPower>> = BTreeMap::new();
        for f in &account.findings {
            let p: BTreeSet<ClusterPower> = powers(f, ns)
                .into_iter()
                .filter(|p| !justified.contains(p))
                .collect();
            if !p.is_empty() {
                grants
                    .entry((f.grant.binding.to_string(), f.grant.role.to_string()))
                    .or_default()
                    .extend(p);
            }
        }
        for ((binding, role), powers) in grants {
            let keys = powers
                .iter()
                .map(|p| format!("`clusterControl.{}`", p.key()))
                .collect::<Vec<_>>()
                .join(", ");
            let whose = match owners.first() {
                Some(c) => format!(
                    "; if component `{}` needs this, say why in its catalogue entry ({keys}), else turn it off or narrow it in its values",
                    c.name
                ),
                None => String::new(),
            };
            out.push(super::references::problem(
                Check::Identities,
                Severity::Error,
                sa,
                "metadata.name",
                format!(
                    "ServiceAccount {ns}/{} {} through {binding} to {role}: enough to take over the cluster{whose}",
                    sa.object.name,
                    powers
                        .iter()
                        .map(|p| p.describe())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An operator account with a cluster-wide right to create Pods and patch webhook
    /// configurations (a chart's default ClusterRole).
    const OPERATOR: &str = r#"
apiVersion: v1
kind: ServiceAccount
metadata: {name: op, namespace: grafana}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: op}
rules:
  - {apiGroups: [""], resources: [pods], verbs: [create, delete, get]}
  - {apiGroups: [admissionregistration.k8s.io], resources: [mutatingwebhookconfigurations], verbs: [get, patch]}
  - {apiGroups: [""], resources: [configmaps], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: op}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: op}
subjects: [{kind: ServiceAccount, name: op, namespace: grafana}]
"#;

    fn run(text: &str, component: &str, catalogue: &crate::Catalogue) -> Vec<String> {
        crate::proofs::test_support::blocking(prove, text, component, catalogue)
    }

    #[test]
    fn a_chart_account_that_starts_pods_anywhere_or_writes_webhooks_is_an_error() {
        let cat = crate::Catalogue::builtin().unwrap();
        let found = run(OPERATOR, "grafana", &cat);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].contains("ServiceAccount grafana/op starts or enters workloads in other namespaces, writes admission webhooks or policies through ClusterRoleBinding op to ClusterRole op")
                && found[0].contains("component `grafana`")
                && found[0].contains("(`clusterControl.workloads`, `clusterControl.admission`)"),
            "{found:#?}"
        );
    }

    #[test]
    fn each_power_is_found_and_its_own_namespace_is_not_counted() {
        let cat = crate::Catalogue::builtin().unwrap();
        for (rule, power) in [
            (
                "{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [escalate]}",
                "grants itself any role",
            ),
            (
                "{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind]}",
                "grants itself any role",
            ),
            (
                "{apiGroups: [\"\"], resources: [users], verbs: [impersonate]}",
                "grants itself any role",
            ),
            (
                "{apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: [create]}",
                "grants itself any role",
            ),
            (
                "{apiGroups: [\"\"], resources: [pods/exec], verbs: [create]}",
                "starts or enters workloads",
            ),
            (
                "{apiGroups: [\"\"], resources: [serviceaccounts/token], verbs: [create]}",
                "starts or enters workloads",
            ),
            (
                "{apiGroups: [apps], resources: [\"*\"], verbs: [patch]}",
                "starts or enters workloads",
            ),
            (
                "{apiGroups: [\"\"], resources: [nodes/proxy], verbs: [get]}",
                "reaches every kubelet's API",
            ),
            (
                "{apiGroups: [apiextensions.k8s.io], resources: [customresourcedefinitions], verbs: [update]}",
                "changes CustomResourceDefinitions",
            ),
            (
                "{apiGroups: [\"\"], resources: [namespaces], verbs: [patch]}",
                "relabels Namespaces",
            ),
            (
                "{apiGroups: [\"*\"], resources: [\"*\"], verbs: [\"*\"]}",
                "grants itself any role",
            ),
        ] {
            let text = OPERATOR.replace(
                "  - {apiGroups: [\"\"], resources: [pods], verbs: [create, delete, get]}\n  - {apiGroups: [admissionregistration.k8s.io], resources: [mutatingwebhookconfigurations], verbs: [get, patch]}",
                &format!("  - {rule}"),
            );
            let found = run(&text, "grafana", &cat);
            assert_eq!(found.len(), 1, "{rule}: {found:#?}");
            assert!(found[0].contains(power), "{rule}: {found:#?}");
        }
        // Reads only, deletes only, or named objects only: nothing.
        for rule in [
            "{apiGroups: [\"\"], resources: [pods], verbs: [get, list, watch, delete]}",
            "{apiGroups: [admissionregistration.k8s.io], resources: [validatingwebhookconfigurations], verbs: [get, update], resourceNames: [my-webhook]}",
        ] {
            let text = OPERATOR.replace(
                "  - {apiGroups: [\"\"], resources: [pods], verbs: [create, delete, get]}\n  - {apiGroups: [admissionregistration.k8s.io], resources: [mutatingwebhookconfigurations], verbs: [get, patch]}",
                &format!("  - {rule}"),
            );
            assert_eq!(run(&text, "grafana", &cat), Vec::<String>::new(), "{rule}");
        }
        // Pods in its own namespace only (a Role and RoleBinding there): fine.
        let own = r#"
apiVersion: v1
kind: ServiceAccount
metadata: {name: op, namespace: grafana}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: op, namespace: grafana}
rules: [{apiGroups: ["", apps, batch], resources: [pods, pods/exec, deployments, jobs], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: op, namespace: grafana}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: op}
subjects: [{kind: ServiceAccount, name: op, namespace: grafana}]
"#;
        assert_eq!(run(own, "grafana", &cat), Vec::<String>::new());
        // The same Role and binding in another namespace: an error.
        let other = own.replace(
            "metadata: {name: op, namespace: grafana}\nrules",
            "metadata: {name: op, namespace: loki}\nrules",
        );
        let other = other.replace(
            "kind: RoleBinding\nmetadata: {name: op, namespace: grafana}",
            "kind: RoleBinding\nmetadata: {name: op, namespace: loki}",
        );
        let found = run(&other, "grafana", &cat);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].contains("starts or enters workloads in other namespaces"));
    }

    #[test]
    fn a_reason_covers_its_own_power_only() {
        let mut cat = crate::Catalogue::builtin().unwrap();
        assert_eq!(run(OPERATOR, "grafana", &cat).len(), 1);
        let grafana = |cat: &mut crate::Catalogue| {
            cat.components
                .iter_mut()
                .find(|c| c.name == "grafana")
                .unwrap()
                .cluster_control
                .insert(ClusterPower::Admission, "test".into());
        };
        grafana(&mut cat);
        // The webhook right has its reason; starting Pods elsewhere still has none.
        let found = run(OPERATOR, "grafana", &cat);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].contains("grafana/op starts or enters workloads in other namespaces through")
                && found[0].contains("(`clusterControl.workloads`)")
                && !found[0].contains("admission"),
            "{found:#?}"
        );
        cat.components
            .iter_mut()
            .find(|c| c.name == "grafana")
            .unwrap()
            .cluster_control
            .insert(ClusterPower::Workloads, "test".into());
        assert_eq!(run(OPERATOR, "grafana", &cat), Vec::<String>::new());
    }
}
