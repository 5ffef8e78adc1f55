//! The component catalogue: one YAML file per component under `crates/haven-platform/catalogue/`,
//! embedded in the binary. Data, not code, so that a version bump is a one-line change Renovate
//! can make (see the `# renovate:` comment above each `version:`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::{CAPABILITIES, PlatformConfig};

macro_rules! entries {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../catalogue/", $name, ".yaml")))),*]
    };
}

/// Every catalogue file, by name, in rendering order.
pub const FILES: &[(&str, &str)] = entries!(
    "flux",
    "cert-manager",
    "external-secrets",
    "openbao",
    "sealed-secrets",
    "haven-admission",
    "kyverno",
    "envoy-gateway",
    "gateway-api",
    "traefik",
    "cilium",
    "istio-base",
    "istiod",
    "external-dns",
    "metrics-server",
    "garage",
    "cloudnative-pg",
    "velero",
    "loki",
    "mimir",
    "kube-prometheus-stack",
    "tempo",
    "prometheus-operator-crds",
    "alloy",
    "grafana",
    "keycloak",
    "dex",
    "zitadel",
    "trivy-operator",
    "falco",
    "metallb",
    "nfs-subdir-external-provisioner",
    "kube-state-metrics",
    "pinniped",
    "headlamp",
    "policy-reporter",
);

/// One component: where its chart comes from, the pin, and what it needs around it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Component {
    pub name: String,
    pub description: String,
    /// The capabilities this component serves (with the choice that selects it).
    pub provides: Vec<Provides>,
    pub source: Source,
    pub chart: String,
    /// The pinned chart version (a Git tag for `git` sources).
    pub version: String,
    pub app_version: String,
    /// False for pins that are not in the Haven+ version table and were not checked upstream.
    #[serde(default = "yes")]
    pub verified: bool,
    pub namespace: String,
    pub pod_security: PodSecurity,
    /// Components that must be Ready before this one.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Components this one is ordered after when they are selected, but does not need: an
    /// ordering, not a requirement (cert-manager's Gateway API support reads the Gateway API
    /// CRDs at start-up, so it waits for `gateway-api` when an ingress choice brings that
    /// component, and runs without it otherwise).
    #[serde(default)]
    pub after: Vec<String>,
    /// API groups of the CRDs this component installs.
    #[serde(default)]
    pub crds: Vec<String>,
    /// Secrets the component reads, delivered as ExternalSecrets (or SealedSecrets).
    #[serde(default)]
    pub secrets: Vec<SecretRef>,
    /// The bucket this component keeps its data in, on the platform's object store: Garage's
    /// bootstrap makes the bucket and a key granted only it, and the key reaches the
    /// component's own Secret (`crate::object_store`).
    #[serde(default)]
    pub object_store: Option<crate::object_store::Consumer>,
    #[serde(default)]
    pub network: Network,
    /// The content digest of the pinned chart (`haven plus vendor` checks it; how it is computed:
    /// docs/plus.md, "Chart digests"). `None` where no copy of the chart could be checked here.
    #[serde(default)]
    pub content_digest: Option<String>,
    /// Where the recorded digest came from when that is not the published chart itself (a
    /// mirror rebuilt from Git): shown with a digest mismatch, so a maintainer knows which side
    /// to trust.
    #[serde(default)]
    pub digest_note: Option<String>,
    /// Chart versions an installed release must be upgraded to, and run, before it goes past
    /// them, each with upstream's reason (Mimir 3.2 needs every querier on Mimir 3.1 first):
    /// `haven plus render` over a tree whose HelmRelease is below a stop and would jump past
    /// it refuses and names the step ([`crate::migration::upgrade`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upgrade_stops: Vec<UpgradeStop>,
    /// Container images the component runs that no chart of ours names (a `bootstrap` component:
    /// Flux's controllers, which `flux bootstrap` installs).
    #[serde(default)]
    pub images: Vec<String>,
    /// Default Helm values; `${domain}`, `${clusterName}`, `${storageClass}`,
    /// `${rwxStorageClass}`, `${serviceType}`, `${dnsProvider}` are substituted.
    #[serde(default)]
    pub values: Map<String, Value>,
    /// Objects the component makes while it runs, which no template of its chart holds (the
    /// Secrets a certgen Job writes), as `Kind/name` in the component's namespace:
    /// `plus.proofs.references` counts them as made.
    #[serde(default)]
    pub made_at_runtime: Vec<String>,
    /// Workloads of the component's namespace that need its `podSecurity` level when that level
    /// is above `restricted`, as `Kind/name` (`DaemonSet/falco`): `validate --charts` holds
    /// every other pod of the namespace to `restricted`, so the exemption covers only them.
    #[serde(default)]
    pub pod_security_exempt: Vec<String>,
    /// Why the component's own identities may read Secrets in every namespace (External
    /// Secrets writes them, Velero backs them up): without it, a chart that grants that right
    /// is an error of `plus.proofs.identities` ([`crate::proofs::secret_readers`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets_cluster_wide: Option<String>,
    /// Why the component's own identities hold rights that amount to control of the cluster
    /// beyond their namespace, one reason per power (starting Pods in other namespaces, writing
    /// admission webhooks, changing CRDs, …; [`crate::proofs::cluster_control`]): a chart that
    /// grants a power without its reason here is an error of `plus.proofs.identities`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cluster_control: BTreeMap<ClusterPower, String>,
    /// The namespaced resources of the component's API that tenants create in their own
    /// namespace (by API group, plural names): the render aggregates them into `admin` and `edit`
    /// (`haven-tenant-extras`, unit `tenant-roles`), so that a tenant's `flux-reconciler` can
    /// apply what the docs tell tenants to write (HTTPRoutes on the platform's Gateway, their
    /// own CloudNativePG Clusters, ServiceMonitors). Only what the platform serves tenants: a
    /// Gateway API implementation lists routes, never `gateways` (tenants use the platform's).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tenant_resources: BTreeMap<String, Vec<String>>,
    /// Flux post-renderers of the component's HelmRelease (`spec.postRenderers`, as Flux reads
    /// them): for what no chart value reaches, such as narrowing a chart's ClusterRole.
    /// `validate --charts` applies them as helm-controller does (`charts::postrender`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_renderers: Vec<Value>,
    /// Pods the component's operator creates while it runs, which no template of its chart
    /// holds (Trivy's scan Jobs): `validate --charts` adds them to the chart's objects, so
    /// the Pod Security check and the flow proof see them as they see rendered pods.
    #[serde(default)]
    pub spawns: Vec<crate::charts::spawned::Spawned>,
    /// Problems `validate --charts` finds in this component that are upstream's to fix: each
    /// with its check and the reason, shown with every problem it waives.
    #[serde(default)]
    pub waivers: Vec<crate::charts::check::ChartWaiver>,
}

fn yes() -> bool {
    true
}

/// A chart version an upgrade must stop at (see [`Component::upgrade_stops`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpgradeStop {
    /// The chart version (SemVer) to upgrade to first.
    pub version: String,
    /// Why, from upstream's release notes, with the source.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Provides {
    pub capability: String,
    #[serde(default)]
    pub choice: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Source {
    #[serde(rename = "type")]
    pub kind: SourceKind,
    pub url: String,
    /// Chart directory inside a Git repository.
    #[serde(default)]
    pub path: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// A classic Helm repository (HelmRepository).
    Helm,
    /// An OCI artifact (OCIRepository).
    Oci,
    /// A chart inside a Git repository (GitRepository).
    Git,
    /// Installed by `flux bootstrap`, not by a HelmRelease.
    Bootstrap,
    /// Plain manifests (`path` of a Git repository at the pinned tag) that a Flux Kustomization
    /// applies, not a chart: upstream publishes the Gateway API CRDs this way only.
    Manifests,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PodSecurity {
    Restricted,
    Baseline,
    Privileged,
}

impl PodSecurity {
    pub fn label(self) -> &'static str {
        match self {
            PodSecurity::Restricted => "restricted",
            PodSecurity::Baseline => "baseline",
            PodSecurity::Privileged => "privileged",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretRef {
    pub name: String,
    pub keys: Vec<String>,
    /// Random values nobody has to choose (an admin password, an encryption key): made in the
    /// cluster once by an External Secrets generator instead of read from OpenBao, so nothing
    /// waits for a person to write them (`crate::secret_backend`).
    #[serde(default)]
    pub generate: bool,
}

/// A right that amounts to control of the cluster, as `clusterControl` keys name it
/// ([`crate::proofs::cluster_control`] says which RBAC rules give each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ClusterPower {
    /// `escalate` or `bind` on roles, `impersonate`, or writing role bindings beyond its
    /// namespace.
    Rbac,
    /// Starting or entering workloads in other namespaces (Pods, their controllers, `exec`,
    /// `attach`, ephemeral containers, ServiceAccount tokens).
    Workloads,
    /// The kubelet's API through `nodes/proxy`.
    Kubelet,
    /// Writing admission webhooks or admission policies.
    Admission,
    /// Changing CustomResourceDefinitions.
    Crds,
    /// Writing aggregated APIs (APIServices).
    ApiServices,
    /// Changing Namespaces (their labels: the Pod Security level).
    Namespaces,
    /// Approving certificate signing requests.
    CertificateApproval,
}

impl ClusterPower {
    /// The key in `clusterControl`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Rbac => "rbac",
            Self::Workloads => "workloads",
            Self::Kubelet => "kubelet",
            Self::Admission => "admission",
            Self::Crds => "crds",
            Self::ApiServices => "apiServices",
            Self::Namespaces => "namespaces",
            Self::CertificateApproval => "certificateApproval",
        }
    }

    /// What it lets an identity do, for a finding.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Rbac => "grants itself any role (escalate, bind, impersonate or role bindings)",
            Self::Workloads => "starts or enters workloads in other namespaces",
            Self::Kubelet => "reaches every kubelet's API",
            Self::Admission => "writes admission webhooks or policies",
            Self::Crds => "changes CustomResourceDefinitions",
            Self::ApiServices => "writes aggregated APIs",
            Self::Namespaces => "relabels Namespaces",
            Self::CertificateApproval => "approves certificate requests",
        }
    }
}

/// The traffic a component needs beyond DNS; everything else is denied.
///
/// One source of truth: `haven plus render` writes the component's NetworkPolicies from it
/// (`render.rs`), and `haven plus validate` proves the rendered policies (and the charts' own)
/// allow every flow it declares and open nothing else across namespaces
/// ([`crate::proofs::flows`]). A flow between two components may be declared on either side
/// (`egressTo` on the client or `ingressFrom` on the server): the render opens both ends.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Network {
    /// Egress to the Kubernetes API (controllers, operators).
    #[serde(default)]
    pub kube_api: bool,
    /// Egress to the internet on 443 (ACME, DNS APIs, vulnerability databases).
    #[serde(default)]
    pub internet: bool,
    /// Egress to the configured authoritative DNS server (`capabilities.dns`: the RFC 2136
    /// server, OVH's ACME challenge server) on its port, UDP and TCP: TSIG updates from
    /// ExternalDNS and cert-manager's DNS-01 solver. Opened only where the config names one.
    #[serde(default)]
    pub dns_server: bool,
    /// Egress to kubelets on the nodes (metrics-server).
    #[serde(default)]
    pub nodes: bool,
    /// Ports the API server calls (admission webhooks, aggregated APIs).
    #[serde(default)]
    pub webhook_ports: Vec<u16>,
    /// Components whose namespaces may connect in.
    #[serde(default)]
    pub ingress_from: Vec<String>,
    /// Components whose namespaces this one connects to.
    #[serde(default)]
    pub egress_to: Vec<String>,
    /// Scrapes metrics from every namespace (the metrics collector).
    #[serde(default)]
    pub scrapes_all: bool,
    /// Receives traffic from the Gateway (a user-facing UI).
    #[serde(default)]
    pub from_gateway: bool,
    /// Is a Gateway: receives traffic from outside the cluster and forwards to any namespace.
    #[serde(default)]
    pub gateway: bool,
    /// The Gateway's data-plane pods (the proxies), which alone get that traffic
    /// (`allow-gateway`): the controller beside them (istiod, Envoy Gateway's) keeps only what
    /// the rest of `network:` declares, so that its xDS and debug ports are not open to every
    /// pod and address. Required with `gateway`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_pods: Option<PodSelector>,
    /// Talks to its own PostgreSQL clusters (CloudNativePG) in the same namespace (whose
    /// instance managers talk to the Kubernetes API).
    #[serde(default)]
    pub postgres: bool,
    /// Its pods talk to each other (clustering, gossip, a controller and its webhook or
    /// workers): traffic inside its namespace is allowed.
    #[serde(default)]
    pub own_pods: bool,
    /// TCP ports tenants' pods may connect to (the telemetry endpoints: OTLP).
    #[serde(default)]
    pub from_tenants: Vec<u16>,
    /// The component without which nothing listens on `fromTenants` (Alloy's OTLP receiver
    /// exists only with Tempo to send traces to): absent, tenants get no way in.
    #[serde(default)]
    pub from_tenants_with: Option<String>,
    /// The TCP container ports it serves to the components that declare a flow to it
    /// (`ingressFrom`, their `egressTo`, the Gateway for `fromGateway`); empty: every port.
    /// `validate --charts` checks that its chart's pods listen on them.
    #[serde(default)]
    pub ports: Vec<u16>,
}

/// Pods selected by labels, as a NetworkPolicy's `podSelector` selects them: every
/// `matchLabels` pair, and every `matchExpressions` key present (`Exists`, the one operator
/// the catalogue needs: a proxy's label names its Gateway, whose name the chart does not know).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodSelector {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelExists>,
}

/// `{key: K, operator: Exists}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelExists {
    pub key: String,
    pub operator: ExistsOperator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExistsOperator {
    Exists,
}

impl PodSelector {
    /// As a NetworkPolicy's `podSelector`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| Value::Object(Map::new()))
    }

    /// Whether a pod with these labels is selected, as the API server judges the selector
    /// (haven-selector; a selector it refuses selects nothing).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        serde_json::from_value(self.to_json())
            .ok()
            .and_then(|s| haven_selector::Selector::from_label_selector(Some(&s)).ok())
            .is_some_and(|s| s.matches(labels))
    }

    /// Labels of a pod it selects (an `Exists` key with the value `value`): the stand-in for
    /// pods no chart renders (a Gateway's proxies, which the controller creates).
    pub fn example_labels(&self, value: &str) -> BTreeMap<String, String> {
        let mut out = self.match_labels.clone();
        for e in &self.match_expressions {
            out.entry(e.key.clone()).or_insert_with(|| value.to_owned());
        }
        out
    }
}

impl Network {
    /// The ports tenants may connect to on a platform where `is_on` tells which components
    /// are installed: none when the component that serves them (`fromTenantsWith`) is off.
    pub fn tenant_ports(&self, is_on: impl Fn(&str) -> bool) -> &[u16] {
        match &self.from_tenants_with {
            Some(needed) if !is_on(needed) => &[],
            _ => &self.from_tenants,
        }
    }
}

/// The parsed catalogue.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub components: Vec<Component>,
}

impl Catalogue {
    /// The catalogue shipped in this binary. The data is tested, so a parse failure is a bug in
    /// this build, reported as an error rather than a panic.
    ///
    /// Read by haven's one YAML loader, as Helm reads the values it is given (YAML 1.1).
    pub fn builtin() -> Result<Self, crate::error::CatalogueError> {
        let mut components = Vec::new();
        for (name, text) in FILES {
            let file = format!("catalogue/{name}.yaml");
            let c: Component = haven_model::load::single_document(&file, text)
                .and_then(|doc| {
                    let doc = doc.ok_or_else(|| {
                        haven_model::InputError::new(
                            haven_model::InputErrorKind::NotAnObject,
                            &file,
                            1,
                            "empty",
                        )
                    })?;
                    doc.deserialize(&doc.value)
                })
                .map_err(crate::error::CatalogueError::Read)?;
            if c.name != *name {
                return Err(crate::error::CatalogueError::NameMismatch {
                    file: (*name).to_owned(),
                    name: c.name,
                });
            }
            components.push(c);
        }
        Ok(Self { components })
    }

    /// [`Self::builtin`], parsed once per process (`None` if it does not parse, which
    /// [`Self::builtin`] reports where the catalogue is read for a command).
    pub fn shared() -> Option<&'static Self> {
        static SHARED: std::sync::OnceLock<Option<Catalogue>> = std::sync::OnceLock::new();
        SHARED.get_or_init(|| Self::builtin().ok()).as_ref()
    }

    pub fn get(&self, name: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.name == name)
    }

    pub fn names(&self) -> Vec<String> {
        self.components.iter().map(|c| c.name.clone()).collect()
    }

    /// The components the capability selection turns on, in catalogue order.
    pub fn selected<'a>(&'a self, config: &PlatformConfig) -> Vec<&'a Component> {
        self.components
            .iter()
            .filter(|c| selected_by(c, config))
            .collect()
    }
}

/// Whether any capability the component provides is on with the matching choice.
fn selected_by(c: &Component, config: &PlatformConfig) -> bool {
    c.provides
        .iter()
        .any(|p| match config.capabilities.selection(&p.capability) {
            Some((true, chosen)) => p.choice.is_none() || p.choice == chosen,
            _ => false,
        })
}

/// A component with the user's overrides applied and placeholders substituted.
#[derive(Debug, Clone)]
pub struct Resolved<'a> {
    pub component: &'a Component,
    pub version: String,
    pub namespace: String,
    pub values: Value,
}

/// The enabled components with overrides applied.
pub fn resolve<'a>(catalogue: &'a Catalogue, config: &PlatformConfig) -> Vec<Resolved<'a>> {
    let vars = [
        ("${domain}", config.cluster.domain.clone()),
        ("${clusterName}", config.cluster.name.clone()),
        ("${storageClass}", config.storage_class()),
        ("${rwxStorageClass}", config.rwx_storage_class()),
        (
            "${serviceType}",
            config.load_balancer().service_type().to_owned(),
        ),
        ("${dnsProvider}", config.dns_provider()),
    ];
    catalogue
        .selected(config)
        .into_iter()
        .map(|c| {
            let o = config.components.get(&c.name);
            let mut values = Value::Object(c.values.clone());
            substitute(&mut values, &vars);
            if let Some(extra) = o.and_then(|o| o.values.as_ref()) {
                merge(&mut values, &Value::Object(extra.clone()));
            }
            Resolved {
                component: c,
                version: o
                    .and_then(|o| o.version.clone())
                    .unwrap_or_else(|| c.version.clone()),
                namespace: o
                    .and_then(|o| o.namespace.clone())
                    .unwrap_or_else(|| c.namespace.clone()),
                values,
            }
        })
        .collect()
}

fn substitute(v: &mut Value, vars: &[(&str, String)]) {
    match v {
        Value::String(s) if s.contains("${") => {
            for (k, val) in vars {
                if s.contains(k) {
                    *s = s.replace(k, val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| substitute(i, vars)),
        Value::Object(m) => m.values_mut().for_each(|i| substitute(i, vars)),
        _ => {}
    }
}

/// Helm's own merge: maps merge key by key, anything else replaces.
pub fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// Conflicts between the capability selection and the component overrides, and unmet
/// dependencies: `(key path, explanation)`.
pub fn check_choices(config: &PlatformConfig, catalogue: &Catalogue) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let names = catalogue.names();
    for (name, o) in &config.components {
        let path = crate::config::join_path("components", name);
        let Some(c) = catalogue.get(name) else {
            let hint = haven_model::did_you_mean(name, &names)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            out.push((
                path,
                format!(
                    "unknown component `{name}`; {hint}`haven plus explain components` lists them"
                ),
            ));
            continue;
        };
        let on = selected_by(c, config);
        match o.enabled {
            Some(true) if !on => out.push((format!("{path}.enabled"), why_not_selected(c, config))),
            Some(false) if on => {
                let caps: Vec<String> = c
                    .provides
                    .iter()
                    .filter(|p| {
                        matches!(
                            config.capabilities.selection(&p.capability),
                            Some((true, _))
                        )
                    })
                    .map(|p| format!("capabilities.{}", p.capability))
                    .collect();
                out.push((
                    format!("{path}.enabled"),
                    format!(
                        "`{name}` provides {} which is enabled; a capability cannot be on without its provider: set {}.enabled: false to leave it out, or remove this override",
                        caps.join(", "),
                        caps.first().cloned().unwrap_or_default()
                    ),
                ));
            }
            _ => {}
        }
        if let Some(ns) = &o.namespace
            && !is_dns_label(ns)
        {
            out.push((
                format!("{path}.namespace"),
                format!("`{ns}` is not a valid namespace name (lowercase letters, digits, '-', at most 63)"),
            ));
        }
    }
    let selected = catalogue.selected(config);
    let on: BTreeSet<&str> = selected.iter().map(|c| c.name.as_str()).collect();
    for c in &selected {
        for dep in &c.depends_on {
            if !on.contains(dep.as_str()) {
                let provider_caps: Vec<String> = catalogue
                    .get(dep)
                    .map(|d| {
                        d.provides
                            .iter()
                            .map(|p| format!("capabilities.{}", p.capability))
                            .collect()
                    })
                    .unwrap_or_default();
                out.push((
                    provider_caps.first().cloned().unwrap_or_default(),
                    format!(
                        "`{}` needs `{dep}`, which is off; enable {}",
                        c.name,
                        provider_caps.join(" / ")
                    ),
                ));
            }
        }
    }
    out.extend(check_login_and_cluster(config));
    // Velero and the databases store in the backup target: off the cluster, or Garage.
    let b = &config.capabilities.backups;
    if b.enabled && on.contains("velero") && !on.contains("garage") && b.s3().is_none() {
        out.push((
            "capabilities.backups".to_owned(),
            "backups have nowhere to go: objectStorage (Garage) is off and there is no `target.s3`; set `capabilities.backups.target.s3` (an object store outside the cluster) or enable capabilities.objectStorage".to_owned(),
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, t) in config.tenants.iter().enumerate() {
        let at = |field: &str| format!("tenants[{i}].{field}");
        if !is_dns_label(&t.name) {
            out.push((
                at("name"),
                format!("tenant name `{}` is not a valid namespace name", t.name),
            ));
        }
        if !seen.insert(t.name.as_str()) {
            out.push((at("name"), format!("tenant `{}` is listed twice", t.name)));
        }
        if let Some(repo) = &t.repo
            && !is_git_url(repo)
        {
            out.push((
                at("repo"),
                format!("`{repo}` is not a Git URL Flux can fetch (http://, https:// or ssh://)"),
            ));
        }
        if let Some(why) = crate::tenant::reserved(
            &t.name,
            crate::tenant::platform_namespaces(config, catalogue),
        ) {
            out.push((
                at("name"),
                format!(
                    "tenant name `{}` is reserved: {why}; a tenant gets a namespace of its own",
                    t.name
                ),
            ));
        }
    }
    if !is_git_url(&config.cluster.git.url) {
        out.push((
            "cluster.git.url".to_owned(),
            format!(
                "`{}` is not a Git URL Flux can fetch (http://, https:// or ssh://)",
                config.cluster.git.url
            ),
        ));
    }
    if !is_dns_label(&config.cluster.name) {
        out.push((
            "cluster.name".to_owned(),
            format!(
                "`{}` is not a valid name (lowercase letters, digits, '-')",
                config.cluster.name
            ),
        ));
    }
    let domain = &config.cluster.domain;
    if domain.len() > 253 || domain.split('.').count() < 2 || !domain.split('.').all(is_dns_label) {
        out.push((
            "cluster.domain".to_owned(),
            format!("`{domain}` is not a DNS domain (lowercase labels separated by dots, e.g. platform.example.nl)"),
        ));
    }
    let minor = &config.cluster.kubernetes_version;
    if !crate::validate::SUPPORTED_KUBERNETES.contains(&minor.as_str()) {
        out.push((
            "cluster.kubernetesVersion".to_owned(),
            crate::validate::unsupported_kubernetes(minor),
        ));
    }
    out
}

/// The settings of the capabilities of issue 26 (kubectl login, cluster UI, policy reports,
/// MetalLB, NFS storage) that a render cannot guess.
fn check_login_and_cluster(config: &PlatformConfig) -> Vec<(String, String)> {
    let caps = &config.capabilities;
    let mut out = Vec::new();
    for (key, on, what) in [
        ("kubectlLogin", caps.kubectl_login.enabled, "Pinniped"),
        ("clusterUI", caps.cluster_ui.enabled, "Headlamp"),
        (
            "policyReports",
            caps.policy_reports.enabled,
            "policy-reporter's UI",
        ),
    ] {
        if on && !caps.identity.enabled {
            out.push((
                format!("capabilities.{key}.enabled"),
                format!("{what} logs people in with the platform's identity provider, and capabilities.identity is off: enable it, or set capabilities.{key}.enabled: false"),
            ));
        }
    }
    let lb = &caps.load_balancer;
    if lb.enabled && lb.addresses.is_empty() {
        out.push((
            "capabilities.loadBalancer.addresses".to_owned(),
            "MetalLB needs the addresses it may hand out: a CIDR (`192.0.2.32/27`) or a range (`192.0.2.10-192.0.2.20`) on the nodes' network".to_owned(),
        ));
    }
    for (i, a) in lb.addresses.iter().enumerate() {
        if let Err(why) = crate::formats::cidr_or_range(a.trim()) {
            out.push((
                format!("capabilities.loadBalancer.addresses[{i}]"),
                why.to_string(),
            ));
        }
    }
    if !lb.enabled && !lb.addresses.is_empty() {
        out.push((
            "capabilities.loadBalancer.enabled".to_owned(),
            "addresses are set but MetalLB is off: set capabilities.loadBalancer.enabled: true"
                .to_owned(),
        ));
    }
    if let Some(nfs) = &caps.storage.nfs {
        if nfs.server.trim().is_empty() || nfs.server.contains(char::is_whitespace) {
            out.push((
                "capabilities.storage.nfs.server".to_owned(),
                format!("`{}` is not a host name or address", nfs.server),
            ));
        }
        if !nfs.path.starts_with('/') {
            out.push((
                "capabilities.storage.nfs.path".to_owned(),
                format!(
                    "`{}` is not an absolute export path (e.g. /exports/haven)",
                    nfs.path
                ),
            ));
        }
    }
    out
}

/// What Flux's GitRepository accepts (`^(http|https|ssh)://.*$`), with a host.
fn is_git_url(url: &str) -> bool {
    ["http://", "https://", "ssh://"].iter().any(|scheme| {
        url.strip_prefix(scheme).is_some_and(|rest| {
            !rest.is_empty() && !rest.starts_with('/') && !rest.contains(char::is_whitespace)
        })
    })
}

fn why_not_selected(c: &Component, config: &PlatformConfig) -> String {
    for p in &c.provides {
        if let Some((enabled, chosen)) = config.capabilities.selection(&p.capability) {
            if !enabled {
                return format!(
                    "`{}` provides {cap}, which is disabled; set capabilities.{cap}.enabled: true instead",
                    c.name,
                    cap = p.capability
                );
            }
            if let (Some(want), Some(chosen)) = (&p.choice, chosen) {
                return format!(
                    "two {cap} implementations: capabilities.{cap} selects `{chosen}`, and this enables `{}`; choose one by setting the capability's choice to `{want}`",
                    c.name,
                    cap = p.capability
                );
            }
        }
    }
    format!("`{}` is not selected by any capability", c.name)
}

/// RFC 1123 label: what a namespace name must be.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Checks that the catalogue data is coherent: dependencies and network peers name components,
/// capabilities exist. Run by the tests.
pub fn lint(catalogue: &Catalogue) -> Vec<String> {
    let names: BTreeSet<&str> = catalogue
        .components
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let mut out = Vec::new();
    for c in &catalogue.components {
        for d in c
            .depends_on
            .iter()
            .chain(&c.after)
            .chain(&c.network.ingress_from)
            .chain(&c.network.egress_to)
        {
            if !names.contains(d.as_str()) {
                out.push(format!("{}: unknown component `{d}`", c.name));
            }
        }
        for p in &c.provides {
            if !CAPABILITIES.contains(&p.capability.as_str()) {
                out.push(format!("{}: unknown capability `{}`", c.name, p.capability));
            }
        }
        if !is_dns_label(&c.namespace) {
            out.push(format!("{}: bad namespace", c.name));
        }
        for stop in &c.upgrade_stops {
            match (
                semver::Version::parse(&stop.version),
                semver::Version::parse(&c.version),
            ) {
                (Ok(at), Ok(pin)) if at < pin => {}
                (Ok(_), Ok(_)) => out.push(format!(
                    "{}: upgrade stop {} is not below the pin {}: it stops nothing",
                    c.name, stop.version, c.version
                )),
                _ => out.push(format!(
                    "{}: upgrade stop {} and the pin {} must both be SemVer versions",
                    c.name, stop.version, c.version
                )),
            }
        }
        // `allow-gateway` opens the proxies alone: without a selector it would open every pod
        // of the namespace, the controller included.
        let selects = c
            .network
            .gateway_pods
            .as_ref()
            .is_some_and(|p| !p.match_labels.is_empty() || !p.match_expressions.is_empty());
        if c.network.gateway != selects {
            out.push(format!(
                "{}: network.gateway and network.gatewayPods (a non-empty selector of its proxy \
                 pods) go together",
                c.name
            ));
        }
        if !c.pod_security_exempt.is_empty() && c.pod_security == PodSecurity::Restricted {
            out.push(format!(
                "{}: podSecurityExempt on a restricted namespace exempts nothing",
                c.name
            ));
        }
        for s in &c.spawns {
            let kind = s.template.get("kind").and_then(Value::as_str).unwrap_or("");
            if !matches!(
                kind,
                "Job" | "Pod" | "Deployment" | "DaemonSet" | "StatefulSet"
            ) {
                out.push(format!(
                    "{}: spawns `{}` is not a workload ({kind:?})",
                    c.name, s.name
                ));
            }
        }
        if let Some(store) = &c.object_store {
            for p in store.problems() {
                out.push(format!("{}: objectStore: {p}", c.name));
            }
            if !c.depends_on.iter().chain(&c.after).any(|d| d == "garage") {
                out.push(format!(
                    "{}: objectStore needs `dependsOn: [garage]` or `after: [garage]` (the object store it uses)",
                    c.name
                ));
            }
        }
        for made in &c.made_at_runtime {
            if !crate::proofs::references::is_runtime_object(made) {
                out.push(format!(
                    "{}: madeAtRuntime `{made}` is not `Kind/name` of a kind the references proof knows",
                    c.name
                ));
            }
        }
    }
    out
}

/// What `haven plus explain components[.name]` prints.
pub fn explain(catalogue: &Catalogue, name: Option<&str>) -> Option<String> {
    match name {
        None => {
            let mut out = String::from("components (override under `components.<name>`):\n");
            let width = catalogue
                .components
                .iter()
                .map(|c| c.name.len())
                .max()
                .unwrap_or(0);
            for c in &catalogue.components {
                let caps: Vec<String> = c
                    .provides
                    .iter()
                    .map(|p| match &p.choice {
                        Some(ch) => format!("{}={ch}", p.capability),
                        None => p.capability.clone(),
                    })
                    .collect();
                out.push_str(&format!(
                    "  {:<width$} {:<12} {:<40} {}\n",
                    c.name,
                    c.version,
                    caps.join(", "),
                    c.description
                ));
            }
            Some(out)
        }
        Some(n) => {
            let c = catalogue.get(n)?;
            // The rights beyond its namespace the catalogue gives a reason for (the proofs
            // `secret_readers` and `cluster_control` hold every other component to none).
            let mut rights = String::new();
            if let Some(why) = &c.secrets_cluster_wide {
                rights.push_str(&format!("  secrets in every namespace: {why}\n"));
            }
            for (power, why) in &c.cluster_control {
                rights.push_str(&format!("  {}: {why}\n", power.key()));
            }
            if !rights.is_empty() {
                rights = format!("\nrights beyond its namespace, and why:\n{rights}");
            }
            Some(format!(
                "components.{n}\n  {}\n\nchart:       {} ({:?} {})\nversion:     {}{}\napp version: {}\nnamespace:   {} (Pod Security {})\nprovides:    {}\ndepends on:  {}\nCRD groups:  {}\n{}{rights}\nOverride with components.{n}.version / .namespace / .values.\n",
                c.description,
                c.chart,
                c.source.kind,
                c.source.url,
                c.version,
                if c.verified { "" } else { " (unverified pin)" },
                c.app_version,
                c.namespace,
                c.pod_security.label(),
                c.provides
                    .iter()
                    .map(|p| match &p.choice {
                        Some(ch) => format!("{} ({ch})", p.capability),
                        None => p.capability.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                if c.depends_on.is_empty() && c.after.is_empty() {
                    "-".to_owned()
                } else {
                    c.depends_on
                        .iter()
                        .cloned()
                        .chain(c.after.iter().map(|a| format!("{a} (when selected)")))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                if c.crds.is_empty() {
                    "-".to_owned()
                } else {
                    c.crds.join(", ")
                },
                c.upgrade_stops
                    .iter()
                    .map(|s| format!(
                        "upgrade stop: {} (an install below it runs it before going past: {})\n",
                        s.version, s.reason
                    ))
                    .collect::<String>(),
            ))
        }
    }
}
