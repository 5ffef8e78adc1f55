//! Identities: what each tenant identity may do, from the platform's RBAC objects.
//!
//! A tenant's identities are the groups and users its namespace's RoleBindings name (its OIDC
//! group), its service accounts (every ServiceAccount in the namespace, `default` included,
//! and those bindings name), and the identity each of its Flux Kustomizations and HelmReleases
//! is reconciled as ([`super::tenancy::Lockdown::reconciler`]). Each is evaluated with
//! `haven-rbac` over every Role, ClusterRole (aggregation resolved: charts aggregate their
//! roles into `admin` and `edit`), RoleBinding and ClusterRoleBinding the landscape holds, on
//! top of the API server's defaults, and must stay inside the tenant's namespace:
//!
//! - errors: reading or writing outside it (Secrets named apart), writing cluster-scoped
//!   objects, writing its own Namespace object (its Pod Security and admission labels),
//!   `escalate` or `bind`, and role bindings or impersonation beyond its namespace (inside it
//!   they are what a namespace admin is for: the API server's escalation check keeps them
//!   within what the tenant holds); a Kustomization or HelmRelease reconciled as a controller's
//!   own identity, or without `serviceAccountName`;
//! - warnings: reading cluster-scoped objects, non-resource URLs.
//!
//! The identity each `SecretStore` of External Secrets' `kubernetes` provider reads as (an OIDC
//! client's reader, `crate::oidc_clients`) may get exactly the Secrets its ExternalSecrets read
//! and nothing else ([`store_readers`]).
//!
//! What every authenticated identity holds by the API server's defaults is not reported.
//! RBAC only ever adds: a finding on the tree alone stays true with the charts' output, which
//! `--charts` adds (their ClusterRoles, aggregated ones included, and bindings).

use std::collections::{BTreeMap, BTreeSet};

use crate::validate::Severity;
use haven_model::Object;
use haven_rbac::{Concern, Defaults, Finding, Identity, Rbac, ResourceScopes, Scope};
use serde_json::Value;

use super::tenancy::{Lockdown, Reconciler, TenantNamespace, is_flux_consumer, problem, tenants};
use super::{Landscape, Placed};
use crate::charts::{Check, Problem};
use crate::render::FLUX_NS;
use crate::tenant::{DEVELOPERS, RECONCILER};

/// One identity of a tenant and how the tree gives it.
struct TenantIdentity {
    identity: Identity,
    /// `Group zaken-devs`, `ServiceAccount zaken/flux-reconciler`.
    label: String,
    /// What makes it the tenant's (`bound in RoleBinding zaken/x`, `reconciles
    /// Kustomization zaken/zaken`).
    why: BTreeSet<String>,
}

/// How a concern counts: `None` when it is what a tenant may do.
fn severity(f: &Finding) -> Option<Severity> {
    match f.concern {
        Concern::ReadOutside
        | Concern::WriteOutside
        | Concern::SecretsOutside
        | Concern::ClusterScopedWrite
        | Concern::NamespaceWrite
        | Concern::Escalate
        | Concern::Bind => Some(Severity::Error),
        Concern::BindingWrite | Concern::Impersonate => (!f.confined).then_some(Severity::Error),
        Concern::ClusterScopedRead | Concern::NonResourceUrl => Some(Severity::Warning),
    }
}

fn object_label(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    }
}

/// The landscape's RBAC on top of the API server's defaults. An RBAC object that cannot be read
/// is the schema check's finding; the others count.
pub(super) fn rbac_of(landscape: &Landscape<'_>) -> Rbac {
    let rbac_objects: Vec<Object> = landscape
        .objects
        .iter()
        .filter(|p| p.object.api_group() == "rbac.authorization.k8s.io")
        .map(|p| p.object.clone())
        .collect();
    Rbac::load(&rbac_objects, Defaults::Kubernetes).rbac
}

/// Which custom resources are namespaced, from the CRDs the landscape installs.
pub(super) fn resource_scopes(landscape: &Landscape<'_>) -> ResourceScopes {
    let mut scopes = ResourceScopes::default();
    for p in landscape.of_kind("apiextensions.k8s.io", "CustomResourceDefinition") {
        let o = p.object;
        let s = |path: &str| o.get(path).and_then(Value::as_str).unwrap_or_default();
        if !s("spec.group").is_empty() {
            scopes.add(
                s("spec.group"),
                s("spec.names.plural"),
                s("spec.scope") != "Cluster",
            );
        }
    }
    scopes
}

/// Every tenant identity's reach beyond its namespace, and the secret store readers' reach.
pub fn prove(landscape: &Landscape<'_>, catalogue: &crate::Catalogue) -> Vec<Problem> {
    let rbac = rbac_of(landscape);
    let mut out = store_readers(landscape, &rbac);
    let tenants = tenants(landscape);
    if tenants.is_empty() {
        return out;
    }
    let lockdown = Lockdown::of(landscape);
    let scopes = resource_scopes(landscape);
    let bindings: BTreeMap<(Option<&str>, &str, &str), Placed<'_>> = landscape
        .objects
        .iter()
        .filter(|p| {
            p.object.api_group() == "rbac.authorization.k8s.io"
                && (p.object.kind == "RoleBinding" || p.object.kind == "ClusterRoleBinding")
        })
        .map(|p| {
            let ns = (p.object.kind == "RoleBinding")
                .then(|| p.object.namespace.as_deref().unwrap_or("default"));
            ((ns, p.object.kind.as_str(), p.object.name.as_str()), *p)
        })
        .collect();
    // A tenant's own group is the one its `tenant-developer` RoleBinding names (the config's
    // `group`): bound in another tenant's namespace, it is that other tenant's reach, not one
    // of its identities.
    let mut owners: BTreeMap<(String, String), &str> = BTreeMap::new();
    for t in &tenants {
        for p in landscape.of_kind("rbac.authorization.k8s.io", "RoleBinding") {
            if p.object.namespace.as_deref() == Some(t.name) && p.object.name == DEVELOPERS {
                for (kind, name, _) in subjects(p.object, t.name) {
                    owners.entry((kind, name)).or_insert(t.name);
                }
            }
        }
    }
    let wanted = tenant_resources(landscape, catalogue);
    for t in &tenants {
        let ids = identities(landscape, &lockdown, t, &owners, &mut out);
        let inside = BTreeSet::from([t.name.to_owned()]);
        for id in ids.values() {
            report(&rbac, &scopes, &bindings, t, id, &inside, &mut out);
        }
        enough(landscape, &lockdown, &rbac, t, &wanted, &mut out);
    }
    out
}

/// What tenants are told to create in their namespace (catalogue `tenantResources` of the
/// installed components, each with the component that serves it).
fn tenant_resources<'c>(
    landscape: &Landscape<'_>,
    catalogue: &'c crate::Catalogue,
) -> Vec<(&'c str, &'c str, &'c str)> {
    let mut out = Vec::new();
    for p in landscape.of_kind("helm.toolkit.fluxcd.io", "HelmRelease") {
        let Some(c) = catalogue
            .components
            .iter()
            .find(|c| c.name == p.object.name)
        else {
            continue;
        };
        for (group, resources) in &c.tenant_resources {
            for r in resources {
                out.push((c.name.as_str(), group.as_str(), r.as_str()));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The other half of confinement: each tenant Kustomization's reconciler can create, in its
/// namespace, everything the platform tells tenants to create ([`tenant_resources`]). Without
/// it the first HTTPRoute of a tenant's repository fails the whole Kustomization at dry-run,
/// and nothing of the repository is applied.
fn enough(
    landscape: &Landscape<'_>,
    lockdown: &Lockdown<'_>,
    rbac: &Rbac,
    t: &TenantNamespace<'_>,
    wanted: &[(&str, &str, &str)],
    out: &mut Vec<Problem>,
) {
    if wanted.is_empty() {
        return;
    }
    for p in landscape.of_kind("kustomize.toolkit.fluxcd.io", "Kustomization") {
        let o = p.object;
        if o.namespace.as_deref() != Some(t.name) {
            continue;
        }
        // Without `serviceAccountName` (the controller itself, or the lockdown's default) it
        // is reported above, with the fix; what that identity cannot create adds nothing.
        let Reconciler::ServiceAccount {
            namespace,
            name,
            defaulted: false,
        } = lockdown.reconciler(o)
        else {
            continue;
        };
        let id = Identity::service_account(&namespace, &name);
        let missing: Vec<String> = wanted
            .iter()
            .filter(|(_, group, resource)| {
                let request =
                    haven_rbac::Request::resource("create", group, resource, Some(t.name));
                !rbac.authorize(&id, &request).allowed
            })
            .map(|(component, group, resource)| format!("{resource}.{group} ({component})"))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let object = object_label(&o.kind, Some(t.name), &o.name);
        out.push(problem(
            Severity::Error,
            Check::Identities,
            p,
            "spec.serviceAccountName",
            &object,
            format!(
                "tenant `{}`: {object} is reconciled as ServiceAccount {namespace}/{name}, which \
                 cannot create {} in its namespace: the platform tells tenants to (catalogue \
                 `tenantResources`), and the first such object in the tenant's repository fails \
                 its whole Kustomization; aggregate them into `admin` (the render's ClusterRole \
                 `{}`, unit `{}`)",
                t.name,
                missing.join(", "),
                crate::render::TENANT_EXTRAS,
                crate::render::TENANT_ROLES,
            ),
        ));
    }
}

/// The identity a `SecretStore` of External Secrets' `kubernetes` provider reads as (the
/// ServiceAccount whose token External Secrets requests, an OIDC client's reader:
/// `crate::oidc_clients`) may get exactly the Secrets its ExternalSecrets read, in the store's
/// `remoteNamespace`, and nothing else: errors for a Secret it cannot get (the ExternalSecret
/// never syncs) and for every other right it holds beyond the API server's defaults (a reader
/// of one client's secret that can read another's, or list them all).
fn store_readers(landscape: &Landscape<'_>, rbac: &Rbac) -> Vec<Problem> {
    let mut out = Vec::new();
    for store in landscape.of_kind("external-secrets.io", "SecretStore") {
        let o = store.object;
        let s = |path: &str| o.get(path).and_then(Value::as_str).unwrap_or_default();
        let (remote, sa) = (
            s("spec.provider.kubernetes.remoteNamespace"),
            s("spec.provider.kubernetes.auth.serviceAccount.name"),
        );
        if remote.is_empty() || sa.is_empty() {
            continue;
        }
        let ns = o.namespace.as_deref().unwrap_or("default");
        let label = format!("ServiceAccount {ns}/{sa}");
        let object = object_label("SecretStore", Some(ns), &o.name);
        let id = Identity::service_account(ns, sa);
        // The Secrets its ExternalSecrets read.
        let mut wanted: BTreeSet<&str> = BTreeSet::new();
        for es in landscape.of_kind("external-secrets.io", "ExternalSecret") {
            let e = es.object;
            let field = |path: &str| e.get(path).and_then(Value::as_str).unwrap_or_default();
            if e.namespace.as_deref() != Some(ns)
                || field("spec.secretStoreRef.name") != o.name
                || !matches!(field("spec.secretStoreRef.kind"), "" | "SecretStore")
            {
                continue;
            }
            for d in e
                .get("spec.data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(key) = d.pointer("/remoteRef/key").and_then(Value::as_str) {
                    wanted.insert(key);
                }
            }
        }
        for name in &wanted {
            let request =
                haven_rbac::Request::resource("get", "", "secrets", Some(remote)).named(name);
            if !rbac.authorize(&id, &request).allowed {
                out.push(problem(
                    Severity::Error,
                    Check::Identities,
                    store,
                    "spec.provider.kubernetes.auth.serviceAccount",
                    &object,
                    format!(
                        "{label}, which {object} reads as, cannot get Secret {remote}/{name} that \
                         its ExternalSecrets read: bind it to a Role of {remote} that allows \
                         `get` on that Secret"
                    ),
                ));
            }
        }
        for g in rbac.grants(&id) {
            if g.kubernetes_default {
                continue;
            }
            let r = &g.rule;
            let exact = g.scope == Scope::Namespace(remote.to_owned())
                && r.verbs.iter().all(|v| v == "get")
                && r.api_groups.iter().all(String::is_empty)
                && r.resources.iter().all(|x| x == "secrets")
                && !r.resource_names.is_empty()
                && r.resource_names.iter().all(|n| wanted.contains(n.as_str()));
            if !exact {
                out.push(problem(
                    Severity::Error,
                    Check::Identities,
                    store,
                    "spec.provider.kubernetes.auth.serviceAccount",
                    &object,
                    format!(
                        "{label}, which {object} reads as, holds more than `get` on the Secrets its \
                         ExternalSecrets read ({} in {remote}): {g}",
                        wanted.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
    }
    out
}

/// The tenant's identities, and the problems of its Flux objects' reconcilers.
fn identities<'a>(
    landscape: &Landscape<'a>,
    lockdown: &Lockdown<'a>,
    t: &TenantNamespace<'a>,
    owners: &BTreeMap<(String, String), &str>,
    out: &mut Vec<Problem>,
) -> BTreeMap<String, TenantIdentity> {
    let mut ids: BTreeMap<String, TenantIdentity> = BTreeMap::new();
    let mut add = |identity: Identity, label: String, why: String| {
        ids.entry(identity.user.clone())
            .or_insert_with(|| TenantIdentity {
                identity,
                label,
                why: BTreeSet::new(),
            })
            .why
            .insert(why);
    };
    let sa = |name: &str| Identity::service_account(t.name, name);
    add(
        sa("default"),
        format!("ServiceAccount {}/default", t.name),
        "every namespace has it".to_owned(),
    );
    for p in landscape.of_kind("", "ServiceAccount") {
        if p.object.namespace.as_deref() == Some(t.name) {
            add(
                sa(&p.object.name),
                format!("ServiceAccount {}/{}", t.name, p.object.name),
                "a ServiceAccount of the namespace".to_owned(),
            );
        }
    }
    for p in landscape.of_kind("rbac.authorization.k8s.io", "RoleBinding") {
        if p.object.namespace.as_deref() != Some(t.name) {
            continue;
        }
        let binding = format!("named in RoleBinding {}/{}", t.name, p.object.name);
        for (kind, name, sns) in subjects(p.object, t.name) {
            let (kind, name, sns) = (kind.as_str(), name.as_str(), sns.as_str());
            if owners
                .get(&(kind.to_owned(), name.to_owned()))
                .is_some_and(|owner| *owner != t.name)
            {
                continue;
            }
            match kind {
                // `system:` groups and users are Kubernetes' own (every service account, every
                // node): binding them in a tenant's namespace grants them, it does not make
                // them the tenant's.
                "Group" if !name.starts_with("system:") => add(
                    Identity::user(&format!("(a member of {name})"), &[name]),
                    format!("Group {name}"),
                    binding.clone(),
                ),
                "User" if !name.starts_with("system:") => add(
                    Identity::user(name, &[]),
                    format!("User {name}"),
                    binding.clone(),
                ),
                "ServiceAccount" if sns == t.name => add(
                    sa(name),
                    format!("ServiceAccount {}/{name}", t.name),
                    binding.clone(),
                ),
                _ => {}
            }
        }
    }
    for p in landscape.objects.iter().copied() {
        let o = p.object;
        if !is_flux_consumer(o) || o.namespace.as_deref() != Some(t.name) {
            continue;
        }
        let object = object_label(&o.kind, Some(t.name), &o.name);
        match lockdown.reconciler(o) {
            Reconciler::Controller(controller) => out.push(problem(
                Severity::Error,
                Check::Identities,
                p,
                "spec",
                &object,
                format!(
                    "tenant `{}`: {object} has no serviceAccountName and Flux runs without the \
                     lockdown's `--default-service-account`: it is reconciled as {controller} \
                     itself ({FLUX_NS}, cluster-admin), so the tenant's repository can change \
                     anything in the cluster; name the tenant's `{RECONCILER}`",
                    t.name
                ),
            )),
            Reconciler::ServiceAccount {
                namespace,
                name,
                defaulted,
            } => {
                if defaulted {
                    out.push(problem(
                        Severity::Error,
                        Check::Identities,
                        p,
                        "spec",
                        &object,
                        format!(
                            "tenant `{}`: {object} has no serviceAccountName: it is reconciled as \
                             ServiceAccount {namespace}/{name} (the lockdown's default), not as \
                             the tenant's reconciler, and without the lockdown as the controller \
                             itself (cluster-admin); set `serviceAccountName: {RECONCILER}`",
                            t.name
                        ),
                    ));
                }
                add(
                    Identity::service_account(&namespace, &name),
                    format!("ServiceAccount {namespace}/{name}"),
                    format!("reconciles {object}"),
                );
            }
        }
    }
    ids
}

/// A binding's subjects as (kind, name, namespace), a service account's namespace defaulted
/// to the binding's.
fn subjects(binding: &Object, namespace: &str) -> Vec<(String, String, String)> {
    binding
        .get("subjects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|s| {
            let field = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or_default();
            let ns = Some(field("namespace"))
                .filter(|n| !n.is_empty())
                .unwrap_or(namespace);
            (
                field("kind").to_owned(),
                field("name").to_owned(),
                ns.to_owned(),
            )
        })
        .collect()
}

fn report(
    rbac: &Rbac,
    scopes: &ResourceScopes,
    bindings: &BTreeMap<(Option<&str>, &str, &str), Placed<'_>>,
    t: &TenantNamespace<'_>,
    id: &TenantIdentity,
    inside: &BTreeSet<String>,
    out: &mut Vec<Problem>,
) {
    // One problem per binding and role: every concern it raises, one rule as the example.
    let mut grouped: BTreeMap<(String, String), Vec<(Severity, &Finding)>> = BTreeMap::new();
    let findings = rbac.confinement(&id.identity, inside, scopes);
    for f in &findings {
        if f.grant.kubernetes_default {
            continue;
        }
        if let Some(sev) = severity(f) {
            grouped
                .entry((f.grant.binding.to_string(), f.grant.role.to_string()))
                .or_default()
                .push((sev, f));
        }
    }
    for found in grouped.values() {
        let grant = &found[0].1.grant;
        let (kind, ns) = match &grant.scope {
            Scope::Cluster => ("ClusterRoleBinding", None),
            Scope::Namespace(ns) => ("RoleBinding", Some(ns.as_str())),
        };
        let Some(at) = bindings.get(&(ns, kind, grant.binding.name.as_str())) else {
            continue;
        };
        let severity = if found.iter().any(|(s, _)| *s == Severity::Error) {
            Severity::Error
        } else {
            Severity::Warning
        };
        let concerns: Vec<&str> = found
            .iter()
            .map(|(_, f)| f.concern)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(Concern::describe)
            .collect();
        let example = found
            .iter()
            .find(|(s, _)| *s == severity)
            .map_or(&found[0].1.grant, |(_, f)| &f.grant);
        let aggregated: BTreeSet<&str> = found
            .iter()
            .filter_map(|(_, f)| f.grant.aggregated_from.as_deref())
            .collect();
        let mut message = format!(
            "tenant `{}`: {} ({}) {} through {} to {}",
            t.name,
            id.label,
            id.why.iter().cloned().collect::<Vec<_>>().join(", "),
            concerns.join(", "),
            grant.binding,
            grant.role,
        );
        if !aggregated.is_empty() {
            message.push_str(&format!(
                " (rules aggregated into it from ClusterRole {})",
                aggregated.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        message.push_str(&format!("; e.g. {} {}", example.rule, example.scope));
        out.push(problem(
            severity,
            Check::Identities,
            *at,
            "subjects",
            &object_label(kind, ns, &grant.binding.name),
            message,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haven_model::{Origin, load_objects};

    const TENANT: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: zaken, labels: {haven.commonground.nl/tenant: zaken}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: flux-reconciler, namespace: zaken}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: flux-reconciler, namespace: zaken}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
subjects: [{kind: ServiceAccount, name: flux-reconciler, namespace: zaken}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: developers, namespace: zaken}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: zaken-devs}]
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: zaken, namespace: zaken}
spec: {serviceAccountName: flux-reconciler, path: ./, sourceRef: {kind: GitRepository, name: zaken}}
"#;

    const LOCKDOWN: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [gotk-sync.yaml]\npatches:\n- patch: |\n    - op: add\n      path: /spec/template/spec/containers/0/args/-\n      value: --default-service-account=default\n  target: {kind: Deployment, name: \"(kustomize-controller|helm-controller)\"}\n";

    fn run(extra: &str, lockdown: bool) -> Vec<Problem> {
        let mut tree = load_objects(Origin::File("tenants/zaken/all.yaml"), TENANT).objects;
        tree.extend(load_objects(Origin::File("extra.yaml"), extra).objects);
        if lockdown {
            tree.extend(
                load_objects(
                    Origin::File("clusters/c/flux-system/kustomization.yaml"),
                    LOCKDOWN,
                )
                .objects,
            );
        }
        let l = Landscape::of_tree(&tree);
        prove(&l, &crate::Catalogue::builtin().unwrap())
    }

    fn errors(problems: &[Problem]) -> Vec<String> {
        problems
            .iter()
            .filter(|p| p.blocks())
            .map(|p| format!("{} {}", p.object, p.message))
            .collect()
    }

    #[test]
    fn a_tenant_with_namespace_admin_is_confined() {
        assert_eq!(errors(&run("", true)), Vec::<String>::new());
    }

    #[test]
    fn a_kustomization_without_service_account_is_an_error_with_and_without_lockdown() {
        let k = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: zaken}\nspec: {path: ./, sourceRef: {kind: GitRepository, name: zaken}}\n";
        let with = errors(&run(k, true));
        assert_eq!(with.len(), 1, "{with:#?}");
        assert!(
            with[0].starts_with("Kustomization/zaken/apps "),
            "{with:#?}"
        );
        assert!(
            with[0].contains("ServiceAccount zaken/default"),
            "{with:#?}"
        );
        let without = errors(&run(k, false));
        assert_eq!(without.len(), 1, "{without:#?}");
        assert!(
            without[0].contains("kustomize-controller itself"),
            "{without:#?}"
        );
    }

    #[test]
    fn cluster_admin_and_roles_aggregated_into_a_bound_role_are_found() {
        let crb = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: zaken-admin}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: flux-reconciler, namespace: zaken}]\n";
        let e = errors(&run(crb, true));
        assert_eq!(e.len(), 1, "{e:#?}");
        assert!(
            e[0].starts_with("ClusterRoleBinding/zaken-admin "),
            "{e:#?}"
        );
        assert!(
            e[0].contains("ServiceAccount zaken/flux-reconciler"),
            "{e:#?}"
        );
        assert!(e[0].contains("may read Secrets outside"), "{e:#?}");
        // A chart aggregating a cluster-wide rule into `edit`, which the group holds in its
        // namespace: inside it that is fine, but a Namespace write is not.
        let agg = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: chart-edit, labels: {rbac.authorization.k8s.io/aggregate-to-edit: \"true\"}}\nrules: [{apiGroups: [\"\"], resources: [namespaces], verbs: [update, patch]}]\n";
        let e = errors(&run(agg, true));
        assert_eq!(e.len(), 2, "{e:#?}");
        assert!(
            e.iter().all(|m| m.contains("from ClusterRole chart-edit")
                && m.contains("may change or delete its Namespace object")),
            "{e:#?}"
        );
        // Bound in its namespace to a role that aggregates cluster-admin-like rules.
        let custom = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: power}\naggregationRule: {clusterRoleSelectors: [{matchLabels: {power: \"yes\"}}]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: all, labels: {power: \"yes\"}}\nrules: [{apiGroups: [\"*\"], resources: [\"*\"], verbs: [\"*\"]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: power, namespace: zaken}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: power}\nsubjects: [{kind: Group, name: zaken-devs}]\n";
        let e = errors(&run(custom, true));
        assert_eq!(e.len(), 1, "{e:#?}");
        assert!(e[0].starts_with("RoleBinding/zaken/power "), "{e:#?}");
        assert!(e[0].contains("Group zaken-devs"), "{e:#?}");
        assert!(e[0].contains("may escalate"), "{e:#?}");
        assert!(e[0].contains("from ClusterRole all"), "{e:#?}");
    }

    #[test]
    fn reading_another_tenants_secrets_is_found() {
        let other = "apiVersion: v1\nkind: Namespace\nmetadata: {name: belasting, labels: {haven.commonground.nl/tenant: belasting}}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: secrets, namespace: belasting}\nrules: [{apiGroups: [\"\"], resources: [secrets], verbs: [get, list]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: zaken-reads, namespace: belasting}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secrets}\nsubjects: [{kind: ServiceAccount, name: flux-reconciler, namespace: zaken}]\n";
        let e = errors(&run(other, true));
        assert_eq!(e.len(), 1, "{e:#?}");
        assert!(
            e[0].starts_with("RoleBinding/belasting/zaken-reads "),
            "{e:#?}"
        );
        assert!(e[0].contains("tenant `zaken`"), "{e:#?}");
        assert!(e[0].contains("may read Secrets outside"), "{e:#?}");
    }
}
