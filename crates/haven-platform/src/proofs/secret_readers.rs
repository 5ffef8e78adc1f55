//! Platform identities that can read Secrets in every namespace.
//!
//! A ServiceAccount with the right to get, list or watch Secrets outside its own namespace reads
//! every Secret of the cluster: the OpenBao seal key, the backup credentials, every tenant's.
//! Some components must have that right (External Secrets writes Secrets wherever it is asked,
//! Velero backs them up, Flux applies them); a chart's convenience default must not give it to
//! one that does not. Grafana's and Loki's sidecars had it by default, through a ClusterRole on
//! every ConfigMap and Secret, though they read ConfigMaps of their own namespace only: a
//! compromise of the internet-facing Grafana would have read every Secret.
//!
//! So every ServiceAccount the platform creates (the tree's and, with `--charts`, the charts'),
//! whose rights reach Secrets outside its own namespace, is an error unless its component's
//! catalogue entry says why it needs them (`secretsClusterWide`). Rights the API server gives
//! every service account by default are not counted, nor rules limited to named Secrets
//! (`resourceNames`: the Garage bootstrap reads each consumer's one Secret). Without `--charts`
//! only the tree's own RBAC is seen; the charts' ClusterRoles are what this proof is mostly
//! about.

use std::collections::BTreeMap;

use haven_rbac::{Concern, Scope};

use super::{Landscape, Placed};
use crate::charts::{Check, Problem};
use crate::validate::Severity;

/// Every platform ServiceAccount that can read Secrets beyond its namespace without a reason in
/// the catalogue.
pub fn prove(landscape: &Landscape<'_>, catalogue: &crate::Catalogue) -> Vec<Problem> {
    let mut out = Vec::new();
    for account in super::platform_accounts(landscape, catalogue) {
        let (sa, ns, owners) = (account.sa, account.namespace.as_str(), &account.owners);
        if owners.iter().any(|c| c.secrets_cluster_wide.is_some()) {
            continue;
        }
        // One problem per binding and role that grants it.
        let mut grants: BTreeMap<(String, String), &Scope> = BTreeMap::new();
        for f in &account.findings {
            if f.concern == Concern::SecretsOutside {
                grants
                    .entry((f.grant.binding.to_string(), f.grant.role.to_string()))
                    .or_insert(&f.grant.scope);
            }
        }
        for ((binding, role), scope) in grants {
            let reach = match scope {
                Scope::Cluster => "in every namespace".to_owned(),
                Scope::Namespace(other) => format!("in namespace `{other}`"),
            };
            let whose = match owners.first() {
                Some(c) => format!(
                    "; if component `{}` needs this, say why in its catalogue entry (`secretsClusterWide`), else turn it off in its values",
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
                    "ServiceAccount {ns}/{} can read Secrets {reach} through {binding} to {role}: every Secret there, the platform's keys among them{whose}",
                    sa.object.name
                ),
            ));
        }
    }
    out
}

/// The catalogue components a ServiceAccount belongs to: the chart that rendered it, else the
/// components whose namespace it is in (the tree's own accounts).
pub(super) fn owners<'c>(
    sa: Placed<'_>,
    ns: &str,
    catalogue: &'c crate::Catalogue,
) -> Vec<&'c crate::catalogue::Component> {
    let by_chart: Vec<_> = catalogue
        .components
        .iter()
        .filter(|c| c.name == sa.component)
        .collect();
    if !by_chart.is_empty() {
        return by_chart;
    }
    catalogue
        .components
        .iter()
        .filter(|c| c.namespace == ns)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chart's sidecar account with a ClusterRole on every ConfigMap and Secret (the grafana
    /// chart's default), bound cluster-wide.
    const GRAFANA: &str = r#"
apiVersion: v1
kind: ServiceAccount
metadata: {name: grafana, namespace: grafana}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: grafana-clusterrole}
rules: [{apiGroups: [""], resources: [configmaps, secrets], verbs: [get, watch, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: grafana-clusterrolebinding}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: grafana-clusterrole}
subjects: [{kind: ServiceAccount, name: grafana, namespace: grafana}]
"#;

    fn run(text: &str, component: &str, catalogue: &crate::Catalogue) -> Vec<String> {
        crate::proofs::test_support::blocking(prove, text, component, catalogue)
    }

    #[test]
    fn a_chart_account_that_reads_every_secret_is_an_error() {
        let cat = crate::Catalogue::builtin().unwrap();
        let found = run(GRAFANA, "grafana", &cat);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].contains("ServiceAccount grafana/grafana can read Secrets in every namespace")
                && found[0].contains("ClusterRole grafana-clusterrole")
                && found[0].contains("component `grafana`"),
            "{found:#?}"
        );
        // The same right in its own namespace only (a Role, `rbac.namespaced: true`) is fine.
        let namespaced = GRAFANA
            .replace("kind: ClusterRoleBinding", "kind: RoleBinding")
            .replace(
                "metadata: {name: grafana-clusterrolebinding}",
                "metadata: {name: grafana, namespace: grafana}",
            );
        assert_eq!(run(&namespaced, "grafana", &cat), Vec::<String>::new());
    }

    #[test]
    fn a_reason_in_the_catalogue_or_named_secrets_only_are_not() {
        let mut cat = crate::Catalogue::builtin().unwrap();
        // Named Secrets only (`resourceNames`), as the Garage bootstrap reads its consumers'.
        let named = GRAFANA.replace(
            "verbs: [get, watch, list]}",
            "verbs: [get], resourceNames: [s3]}",
        );
        assert_eq!(run(&named, "grafana", &cat), Vec::<String>::new());
        // External Secrets has its reason; Grafana, given one, would too.
        let eso = GRAFANA.replace("namespace: grafana", "namespace: external-secrets");
        assert_eq!(run(&eso, "external-secrets", &cat), Vec::<String>::new());
        assert_eq!(run(&eso, "grafana", &cat).len(), 1);
        for c in &mut cat.components {
            if c.name == "grafana" {
                c.secrets_cluster_wide = Some("test".into());
            }
        }
        assert_eq!(run(GRAFANA, "grafana", &cat), Vec::<String>::new());
        // The tree's own accounts (no chart) belong to the component of their namespace.
        assert_eq!(run(GRAFANA, "", &cat), Vec::<String>::new());
    }
}
