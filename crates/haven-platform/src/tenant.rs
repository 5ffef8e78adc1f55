//! A tenant: one team's namespace on the platform, and what comes with it.
//!
//! Namespace (Pod Security restricted), ResourceQuota and LimitRange, a Role for the team's OIDC
//! group, default-deny NetworkPolicies with the allows a tenant needs, a ServiceAccount that Flux
//! impersonates to apply the tenant's own repository (so a tenant can never write outside its
//! namespace), and a daily Velero Schedule.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::config::{Backups, Tenant};
use crate::render::{
    allow_ingress_from_ns, allow_same_namespace, base_policies, namespace, yaml_stream,
};

/// What a tenant needs to know about the platform around it.
#[derive(Debug, Clone)]
pub struct TenantContext {
    /// The Flux Kustomization (in flux-system) of the admission policy the sync waits for.
    pub admission_unit: Option<&'static str>,
    pub gateway_ns: Option<String>,
    /// The namespaces of the metrics collectors (Alloy, Prometheus).
    pub metrics_ns: Vec<String>,
    pub postgres_operator_ns: Option<String>,
    /// The telemetry endpoints tenants send to: namespace and TCP ports (catalogue
    /// `network.fromTenants`).
    pub telemetry: Vec<(String, Vec<u16>)>,
    pub velero_ns: Option<String>,
    pub backups: Backups,
    /// `capabilities.admission.allowedRegistries`: a tenant's without its own list.
    pub allowed_registries: Vec<String>,
    /// The host names no tenant may claim: every `<host>.<domain>` the platform routes.
    pub platform_hosts: Vec<String>,
    /// `cluster.domain`: a tenant without `policy.hostnames` gets `<tenant>.<domain>` and
    /// `*.<tenant>.<domain>` (`Tenant::hostnames`).
    pub domain: String,
    /// Every tenant's name and the host names it may claim: each tenant is denied the others'.
    pub tenant_hosts: Vec<(String, Vec<String>)>,
}

impl TenantContext {
    /// The host names `tenant` must not claim: the platform's, then every other tenant's.
    pub fn denied_hosts(&self, tenant: &str) -> Vec<String> {
        let others = self
            .tenant_hosts
            .iter()
            .filter(|(name, _)| name != tenant)
            .flat_map(|(_, hosts)| hosts.iter().cloned());
        self.platform_hosts.iter().cloned().chain(others).collect()
    }
}

/// The namespace annotations the admission engine reads the tenant policy from
/// (comma-separated lists): haven-rules' own names, so render and the webhook cannot drift.
pub use haven_rules::tenant::{
    ALLOW_LOAD_BALANCER, ALLOWED_HOSTNAMES, ALLOWED_REGISTRIES, DENIED_HOSTNAMES,
};

/// The tenant policy's annotations on `t`'s Namespace: an absent annotation is no restriction
/// of its kind, except `allow-load-balancer`, whose absence refuses. The host names are always
/// written: `allowed-hostnames` the tenant's own (given, or the default `<tenant>.<domain>`,
/// `*.<tenant>.<domain>`), `denied-hostnames` the platform's and every other tenant's. The
/// allow-list alone would do while the config keeps tenants apart (it refuses overlaps); the
/// deny-list keeps them apart on the cluster too, whatever a later edit of one Namespace says.
pub fn policy_annotations(t: &Tenant, ctx: &TenantContext) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let registries = if t.policy.allowed_registries.is_empty() {
        &ctx.allowed_registries
    } else {
        &t.policy.allowed_registries
    };
    if !registries.is_empty() {
        out.push((ALLOWED_REGISTRIES, registries.join(",")));
    }
    if t.policy.load_balancer {
        out.push((ALLOW_LOAD_BALANCER, "true".to_owned()));
    }
    let denied = ctx.denied_hosts(&t.name);
    if !denied.is_empty() {
        out.push((DENIED_HOSTNAMES, denied.join(",")));
    }
    out.push((ALLOWED_HOSTNAMES, t.hostnames(&ctx.domain).join(",")));
    out
}

/// Name of the ServiceAccount Flux impersonates for a tenant's sync.
pub const RECONCILER: &str = "flux-reconciler";

/// The Role, and the RoleBinding of the tenant's OIDC group to it, in the tenant's namespace.
pub const DEVELOPERS: &str = "tenant-developer";

/// The label that makes a Namespace a tenant's (its value: the tenant's name).
pub const TENANT_LABEL: &str = "haven.commonground.nl/tenant";
/// The labels haven-admission reads for the Haven and Haven+ rule groups
/// (`haven_admission::policy::{HAVEN_LABEL, PLUS_LABEL}`).
pub const HAVEN_GROUP_LABEL: &str = "haven.commonground.nl/haven";
pub const PLUS_GROUP_LABEL: &str = "haven.commonground.nl/plus";

/// Why `name` cannot be a tenant's namespace, if it cannot: Kubernetes' own namespaces
/// (`kube-*`, `default`), Flux's (`flux-system`) and every platform component's. A tenant there
/// would share the namespace, its service accounts and its Pod Security exemptions with the
/// system, and its reconciler (admin in its namespace) would rule over the platform's objects.
/// `components` lists the platform's namespaces with the component that uses each: every
/// catalogue component's (on or off: a later config may turn it on) and every namespace the
/// config or the tree gives one.
pub fn reserved<'c>(
    name: &str,
    components: impl IntoIterator<Item = (&'c str, &'c str)>,
) -> Option<String> {
    if name.starts_with("kube-") {
        return Some("`kube-*` namespaces belong to Kubernetes".to_owned());
    }
    if name == "default" {
        return Some("`default` is Kubernetes' own namespace".to_owned());
    }
    if name == crate::render::FLUX_NS {
        return Some(
            "`flux-system` is Flux's namespace, where the platform is reconciled".to_owned(),
        );
    }
    components
        .into_iter()
        .find(|(ns, _)| *ns == name)
        .map(|(_, c)| format!("`{name}` is the namespace of the platform component `{c}`"))
}

/// The platform namespaces [`reserved`] keeps from tenants under `config`: each catalogue
/// component's own, and the one the config moves it to.
pub fn platform_namespaces<'c>(
    config: &'c crate::PlatformConfig,
    catalogue: &'c crate::Catalogue,
) -> Vec<(&'c str, &'c str)> {
    let mut out: Vec<(&str, &str)> = catalogue
        .components
        .iter()
        .map(|c| (c.namespace.as_str(), c.name.as_str()))
        .collect();
    out.extend(
        config
            .components
            .iter()
            .filter_map(|(name, o)| Some((o.namespace.as_deref()?, name.as_str()))),
    );
    out
}

/// The files of `tenants/<name>/`.
/// The tenant's daily Velero Schedule (in Velero's namespace), when backups are on. Not part
/// of the tenant's directory: the `tenants` unit would then have to wait for Velero to be
/// Ready (with an off-cluster target, for hand-written S3 credentials) before a tenant is
/// onboarded; the render puts the Schedules in a unit of their own after Velero's.
pub fn backup_schedule(t: &Tenant, ctx: &TenantContext) -> Option<Value> {
    let vns = ctx.velero_ns.as_ref().filter(|_| ctx.backups.enabled)?;
    let ns = t.name.as_str();
    Some(json!({
        "apiVersion": "velero.io/v1",
        "kind": "Schedule",
        "metadata": {"name": format!("tenant-{ns}"), "namespace": vns},
        "spec": {
            "schedule": ctx.backups.schedule,
            "template": {
                "includedNamespaces": [ns],
                "ttl": ctx.backups.ttl,
                "storageLocation": "default",
                // Volume data too, by Velero's node agent (file-system backup).
                "defaultVolumesToFsBackup": true,
            },
        },
    }))
}

pub fn render(t: &Tenant, ctx: &TenantContext) -> Vec<(PathBuf, String)> {
    let ns = t.name.as_str();
    let dir = format!("tenants/{ns}");
    let mut files = Vec::new();
    let mut resources = Vec::new();
    let mut put = |file: &str, docs: &[Value]| {
        files.push((PathBuf::from(format!("{dir}/{file}")), yaml_stream(docs)));
        resources.push(file.to_owned());
    };
    let mut namespace = namespace(
        ns,
        "restricted",
        &[
            (TENANT_LABEL, ns),
            (HAVEN_GROUP_LABEL, t.admission.haven.label()),
            (PLUS_GROUP_LABEL, t.admission.plus.label()),
        ],
    );
    let annotations = policy_annotations(t, ctx);
    // Added to those every rendered Namespace has (`prune: disabled`).
    if let Some(existing) = namespace["metadata"]["annotations"].as_object_mut() {
        for (k, v) in annotations {
            existing.insert(k.to_owned(), Value::String(v));
        }
    }
    put("namespace.yaml", &[namespace]);
    put(
        "quota.yaml",
        &[
            json!({
                "apiVersion": "v1",
                "kind": "ResourceQuota",
                "metadata": {"name": "tenant-quota", "namespace": ns},
                "spec": {"hard": {
                    "requests.cpu": t.quota.cpu.to_string(),
                    "requests.memory": t.quota.memory.request().to_string(),
                    "limits.memory": t.quota.memory.limit().to_string(),
                    "pods": t.quota.pods.to_string(),
                }},
            }),
            json!({
                "apiVersion": "v1",
                "kind": "LimitRange",
                "metadata": {"name": "tenant-defaults", "namespace": ns},
                "spec": {"limits": [{
                    "type": "Container",
                    "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                    "default": {"memory": "256Mi"},
                    "max": {"memory": "8Gi"},
                }]},
            }),
        ],
    );
    put(
        "rbac.yaml",
        &[
            json!({
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": RECONCILER, "namespace": ns},
            }),
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": RECONCILER, "namespace": ns},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
                "subjects": [{"kind": "ServiceAccount", "name": RECONCILER, "namespace": ns}],
            }),
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": {"name": DEVELOPERS, "namespace": ns},
                "rules": [
                    {"apiGroups": ["", "apps", "batch", "autoscaling", "policy"],
                     "resources": ["pods", "pods/log", "services", "configmaps",
                                   "persistentvolumeclaims", "events", "deployments", "statefulsets",
                                   "replicasets", "jobs", "cronjobs", "horizontalpodautoscalers",
                                   "poddisruptionbudgets"],
                     "verbs": ["get", "list", "watch"]},
                    // `kubectl port-forward` is a `create` on `pods/portforward` (a read of it
                    // grants nothing): developers debug their own pods, in their namespace only.
                    {"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["create"]},
                    {"apiGroups": ["apps"], "resources": ["deployments/scale", "statefulsets/scale"],
                     "verbs": ["patch", "update"]},
                    {"apiGroups": ["kustomize.toolkit.fluxcd.io", "source.toolkit.fluxcd.io", "helm.toolkit.fluxcd.io"],
                     "resources": ["kustomizations", "gitrepositories", "helmreleases"],
                     "verbs": ["get", "list", "watch", "patch"]},
                ],
            }),
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": DEVELOPERS, "namespace": ns},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": DEVELOPERS},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": t.group}],
            }),
        ],
    );
    let mut policies = base_policies(ns);
    policies.push(allow_same_namespace(ns));
    for peer in ctx
        .gateway_ns
        .iter()
        .chain(&ctx.metrics_ns)
        .chain(&ctx.postgres_operator_ns)
    {
        policies.push(allow_ingress_from_ns(
            &format!("allow-from-{peer}"),
            ns,
            peer,
        ));
    }
    for (to, ports) in &ctx.telemetry {
        policies.push(crate::render::allow_egress_to_ns_ports(ns, to, ports));
    }
    // A tenant's own CloudNativePG databases: their instance managers watch their Cluster
    // through the API server, as the platform's databases do (only those pods).
    if ctx.postgres_operator_ns.is_some() {
        policies.push(crate::render::allow_kube_api(
            ns,
            crate::render::cnpg_instances(),
        ));
    }
    put("network-policies.yaml", &policies);
    if let Some(repo) = &t.repo {
        let mut spec = json!({
            "interval": "5m",
            "retryInterval": "2m",
            "timeout": "5m",
            "path": t.path.as_deref().unwrap_or("./"),
            "prune": true,
            "targetNamespace": ns,
            "serviceAccountName": RECONCILER,
            "sourceRef": {"kind": "GitRepository", "name": ns},
        });
        if let Some(a) = ctx.admission_unit {
            spec["dependsOn"] = json!([{"name": a, "namespace": "flux-system"}]);
        }
        // A private repository is read with the Secret the config names, never with
        // credentials in the URL (`crate::secrets`).
        let mut git = json!({"interval": "5m", "url": repo, "ref": {"branch": t.branch.as_deref().unwrap_or("main")}});
        if let Some(name) = &t.repo_secret_ref {
            git["secretRef"] = json!({"name": name});
        }
        put(
            "sync.yaml",
            &[
                json!({
                    "apiVersion": "source.toolkit.fluxcd.io/v1",
                    "kind": "GitRepository",
                    "metadata": {"name": ns, "namespace": ns},
                    "spec": git,
                }),
                json!({
                    "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                    "kind": "Kustomization",
                    "metadata": {"name": ns, "namespace": ns},
                    "spec": spec,
                }),
            ],
        );
    }
    let refs: Vec<&str> = resources.iter().map(String::as_str).collect();
    let kustomization = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": refs,
    });
    files.push((
        PathBuf::from(format!("{dir}/kustomization.yaml")),
        yaml_stream(&[kustomization]),
    ));
    files
}

/// Adds a tenant to the config text, keeping the user's comments: the `tenants:` list is
/// appended to in place when it is the last top-level key (as `haven plus init` writes it);
/// otherwise the caller re-serialises the config.
pub fn append_to_config_text(text: &str, t: &Tenant) -> Option<String> {
    let entry = serde_yaml_ng::to_string(&vec![t]).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let idx = lines.iter().rposition(|l| l.starts_with("tenants:"))?;
    // Only when nothing but list items, comments and blank lines follow.
    let rest_ok = lines[idx + 1..]
        .iter()
        .all(|l| l.is_empty() || l.starts_with(' ') || l.starts_with('-') || l.starts_with('#'));
    if !rest_ok {
        return None;
    }
    let head = lines[idx].trim_end();
    let mut out: String = lines[..idx].iter().map(|l| format!("{l}\n")).collect();
    if head == "tenants: []" {
        out.push_str("tenants:\n");
    } else if head == "tenants:" {
        out.push_str("tenants:\n");
        for l in &lines[idx + 1..] {
            out.push_str(l);
            out.push('\n');
        }
    } else {
        return None;
    }
    out.push_str(&entry);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{MemoryQuota, Quota};
    use haven_model::Quantity;

    fn quota_of(memory: &str, cpu: &str) -> Value {
        let t = Tenant {
            name: "zaken".into(),
            group: "g".into(),
            repo: None,
            repo_secret_ref: None,
            branch: None,
            path: None,
            quota: Quota {
                cpu: Quantity::parse(cpu).unwrap(),
                memory: MemoryQuota::new(Quantity::parse(memory).unwrap()).unwrap(),
                pods: 10,
            },
            admission: Default::default(),
            policy: Default::default(),
        };
        let ctx = TenantContext {
            admission_unit: None,
            gateway_ns: None,
            metrics_ns: Vec::new(),
            postgres_operator_ns: None,
            telemetry: Vec::new(),
            velero_ns: None,
            backups: Backups::default(),
            allowed_registries: Vec::new(),
            platform_hosts: Vec::new(),
            domain: "example.nl".into(),
            tenant_hosts: Vec::new(),
        };
        let files = render(&t, &ctx);
        let (_, text) = files
            .iter()
            .find(|(p, _)| p.ends_with("quota.yaml"))
            .unwrap();
        let doc = haven_model::parse_stream("quota.yaml", text)
            .remove(0)
            .unwrap();
        doc.value["spec"]["hard"].clone()
    }

    #[test]
    fn memory_limits_are_exactly_twice_the_requests() {
        let hard = quota_of("8Gi", "4");
        assert_eq!(hard["limits.memory"], "16Gi");
        assert_eq!(hard["requests.cpu"], "4");
        // Fractions: doubling the leading digits made `1.5Gi` into `2.5Gi`.
        assert_eq!(quota_of("1.5Gi", "4")["limits.memory"], "3Gi");
        assert_eq!(quota_of("1.5Gi", "4")["requests.memory"], "1536Mi");
        assert_eq!(quota_of("0.5G", "4")["limits.memory"], "1G");
        assert_eq!(quota_of("750Mi", "2500m")["limits.memory"], "1500Mi");
        assert_eq!(quota_of("750Mi", "2500m")["requests.cpu"], "2500m");
    }

    #[test]
    fn a_limit_that_overflows_is_refused() {
        assert!(MemoryQuota::new(Quantity::parse("5Ei").unwrap()).is_err());
    }
}
