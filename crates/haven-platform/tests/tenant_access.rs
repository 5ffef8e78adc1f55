//! Operator review 2, finding 5 and two minor items: what a tenant can do in its own namespace
//! is enough for what the docs tell it to do (HTTPRoutes, its own CloudNativePG databases and
//! their backups, ServiceMonitors), and stays inside it; its developers can port-forward; its
//! databases reach the API server. Evaluated on the rendered tree with the same engines
//! `haven plus validate` uses (haven-rbac, haven-netpol), for every provider and alternative.

use std::collections::BTreeMap;
use std::path::PathBuf;

use haven_model::Object;
use haven_netpol::{Analysis, IpSet, PortQuery, Protocol, Workload, objects};
use haven_platform::charts::Check;
use haven_platform::validate::Severity;
use haven_platform::{Catalogue, render};
use haven_rbac::{Defaults, Identity, Rbac, Request};

mod common;

fn rbac_of(tree: &[Object]) -> Rbac {
    let rbac: Vec<Object> = tree
        .iter()
        .filter(|o| o.api_group() == "rbac.authorization.k8s.io")
        .cloned()
        .collect();
    Rbac::load(&rbac, Defaults::Kubernetes).rbac
}

fn can(rbac: &Rbac, id: &Identity, verb: &str, group: &str, resource: &str, ns: &str) -> bool {
    rbac.authorize(id, &Request::resource(verb, group, resource, Some(ns)))
        .allowed
}

/// What docs/plus.md tells a tenant to create, by the capability that serves it.
const ROUTES: [&str; 3] = ["httproutes", "grpcroutes", "referencegrants"];
const DATABASES: [&str; 4] = ["clusters", "scheduledbackups", "backups", "poolers"];
const MONITORS: [&str; 2] = ["servicemonitors", "podmonitors"];

/// Finding 5: the tenant's `flux-reconciler` (bound to `admin` in its namespace) can create
/// HTTPRoutes, CloudNativePG Clusters and ScheduledBackups and ServiceMonitors there — and not
/// in another namespace, and never a Gateway (tenants use the platform's).
#[test]
fn a_tenant_can_create_every_kind_the_docs_tell_it_to() {
    let catalogue = Catalogue::builtin().unwrap();
    let mut checked = 0;
    for (label, config) in common::every_provider_and_alternative() {
        let files = render(&config, &catalogue).files;
        let tree = haven_platform::charts::tree_objects(&files);
        let rbac = rbac_of(&tree);
        let reconciler = Identity::service_account("zaken", "flux-reconciler");
        let caps = &config.capabilities;
        let mut expected: Vec<(&str, &str)> = Vec::new();
        if caps.ingress.enabled {
            expected.extend(ROUTES.map(|r| ("gateway.networking.k8s.io", r)));
        }
        if files
            .keys()
            .any(|p| p.starts_with("infrastructure/cloudnative-pg"))
        {
            expected.extend(DATABASES.map(|r| ("postgresql.cnpg.io", r)));
        }
        if caps.metrics.enabled {
            expected.extend(MONITORS.map(|r| ("monitoring.coreos.com", r)));
            expected.push(("monitoring.coreos.com", "prometheusrules"));
        }
        assert!(
            expected.len() >= 9,
            "{label}: the default platforms have a gateway, CloudNativePG and metrics: {expected:?}"
        );
        for (group, resource) in &expected {
            for verb in ["create", "update", "delete", "get"] {
                assert!(
                    can(&rbac, &reconciler, verb, group, resource, "zaken"),
                    "{label}: the tenant's reconciler cannot {verb} {resource}.{group} in zaken"
                );
            }
            assert!(
                !can(&rbac, &reconciler, "create", group, resource, "keycloak"),
                "{label}: {resource}.{group} outside the tenant's namespace"
            );
            assert!(
                !can(&rbac, &reconciler, "create", group, resource, "otherteam"),
                "{label}: {resource}.{group} in another tenant's namespace"
            );
            checked += 1;
        }
        for kind in ["gateways", "gatewayclasses"] {
            assert!(
                !can(
                    &rbac,
                    &reconciler,
                    "create",
                    "gateway.networking.k8s.io",
                    kind,
                    "zaken"
                ),
                "{label}: a tenant may not run its own {kind}"
            );
        }
        // The ClusterRole is applied before the tenants are.
        let tenants_unit = files
            .iter()
            .find(|(p, _)| p.ends_with("tenants.yaml"))
            .map(|(_, t)| t.as_str())
            .unwrap_or_default();
        assert!(
            tenants_unit.contains("name: tenant-roles"),
            "{label}: {tenants_unit}"
        );
        // And the whole tree still validates and proves clean: the tenant stays confined.
        common::assert_validates_and_proves(
            &label,
            &files,
            &catalogue,
            &config.cluster.kubernetes_version,
        );
    }
    assert!(checked > 50, "{checked}");
}

fn without_tenant_roles(files: &BTreeMap<PathBuf, String>) -> BTreeMap<PathBuf, String> {
    let mut files = files.clone();
    files.retain(|p, _| !p.starts_with("infrastructure/tenant-roles"));
    for text in files.values_mut() {
        if text.contains("path: ./infrastructure/tenant-roles") {
            let docs: Vec<String> = text
                .split("\n---\n")
                .filter(|d| !d.contains("path: ./infrastructure/tenant-roles"))
                .map(str::to_owned)
                .collect();
            *text = docs.join("\n---\n");
        }
    }
    files
}

/// `plus validate` proves it: without the render's ClusterRole, the tenant's Kustomization is
/// an error naming what its reconciler cannot create.
#[test]
fn validate_proves_a_tenant_can_create_what_the_platform_tells_it_to() {
    let catalogue = Catalogue::builtin().unwrap();
    let (_, config) = common::every_provider_and_alternative().remove(0);
    let files = without_tenant_roles(&render(&config, &catalogue).files);
    assert!(
        !files
            .values()
            .any(|t| t.contains("aggregate-to-admin") && t.contains("httproutes"))
    );
    let tree = haven_platform::charts::tree_objects(&files);
    let landscape = haven_platform::proofs::Landscape::of_tree(&tree);
    let errors: Vec<String> = haven_platform::proofs::prove(&landscape, &catalogue)
        .iter()
        .filter(|p| p.severity == Severity::Error && p.check == Check::Identities)
        .map(|p| p.to_string())
        .collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    for needed in [
        "Kustomization/zaken/zaken",
        "ServiceAccount zaken/flux-reconciler",
        "httproutes.gateway.networking.k8s.io (envoy-gateway)",
        "clusters.postgresql.cnpg.io (cloudnative-pg)",
        "scheduledbackups.postgresql.cnpg.io",
        "servicemonitors.monitoring.coreos.com",
        "haven-tenant-extras",
    ] {
        assert!(errors[0].contains(needed), "{needed}: {}", errors[0]);
    }
}

/// Minor finding: `kubectl port-forward` is a `create` on `pods/portforward`; the tenant's
/// developers hold it in their namespace only.
#[test]
fn tenant_developers_can_port_forward_in_their_namespace_only() {
    let catalogue = Catalogue::builtin().unwrap();
    let (_, config) = common::every_provider_and_alternative().remove(0);
    let files = render(&config, &catalogue).files;
    let rbac = rbac_of(&haven_platform::charts::tree_objects(&files));
    let developer = Identity::user("ana", &["zaken-developers"]);
    assert!(can(
        &rbac,
        &developer,
        "create",
        "",
        "pods/portforward",
        "zaken"
    ));
    assert!(!can(
        &rbac,
        &developer,
        "create",
        "",
        "pods/portforward",
        "keycloak"
    ));
    assert!(!can(&rbac, &developer, "create", "", "pods/exec", "zaken"));
    assert!(!can(&rbac, &developer, "create", "", "pods", "zaken"));
}

/// Minor finding: a tenant's own CloudNativePG database reaches the API server (its instance
/// manager watches its Cluster), its other pods do not.
#[test]
fn tenant_databases_reach_the_api_server() {
    let catalogue = Catalogue::builtin().unwrap();
    for (label, config) in common::every_provider_and_alternative() {
        let files = render(&config, &catalogue).files;
        let tree = haven_platform::charts::tree_objects(&files);
        let loaded = objects::load(tree.iter());
        let mut cluster = loaded.cluster;
        let pod = |name: &str, labels: &[(&str, &str)]| Workload {
            namespace: "zaken".into(),
            name: name.into(),
            kind: "Pod".into(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ports: Vec::new(),
        };
        let db = cluster.add_workload(pod("app-db-1", &[("cnpg.io/cluster", "app-db")]));
        let app = cluster.add_workload(pod("app", &[("app", "web")]));
        let api = cluster.add_external("api-server", IpSet::from_cidr("10.0.0.1/32").unwrap());
        let analysis = Analysis::new(cluster, loaded.policies);
        let reach = |from, port| {
            analysis
                .check(from, api, Protocol::Tcp, PortQuery::Number(port))
                .unwrap()
                .allowed
        };
        assert!(reach(db, 443) && reach(db, 6443), "{label}");
        assert!(!reach(app, 443), "{label}: every pod of the tenant");
        assert!(!reach(db, 5432), "{label}: only the API server's ports");
    }
}
