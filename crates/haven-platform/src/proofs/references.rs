//! References: every Secret, ConfigMap, ServiceAccount, PersistentVolumeClaim, StorageClass,
//! issuer, secret store, GatewayClass, Gateway and Service an object refers to exists in the
//! platform or is produced by it; a Secret produced for someone that nobody consumes is a
//! warning.
//!
//! **What refers.** The fields that break a workload or a reconciliation when their target is
//! missing: pod specs (volumes `secret`/`configMap`/`persistentVolumeClaim`/`projected`, `env`
//! `valueFrom`, `envFrom`, `imagePullSecrets`, `serviceAccountName`) of the nine workload kinds,
//! StatefulSet claim templates' and PVCs' `storageClassName`, HelmRelease `valuesFrom` and
//! `serviceAccountName`, Kustomization `serviceAccountName`, `decryption.secretRef` and
//! `postBuild.substituteFrom`, Flux sources' `secretRef`/`certSecretRef`, ExternalSecret
//! `secretStoreRef`, a secret store's Kubernetes-auth `serviceAccountRef` (and the `kubernetes`
//! provider's `auth.serviceAccount` and CA ConfigMap; an ExternalSecret reading through such a
//! store refers to each `remoteRef.key` in its `remoteNamespace`), Certificate
//! `issuerRef`, Gateway `gatewayClassName` and listener `certificateRefs`, HTTPRoute/GRPCRoute
//! `parentRefs` and `backendRefs`, Ingress `tls[].secretName` and backend Services, and
//! CloudNativePG `storage.storageClass`. References marked `optional` are not judged (they still
//! count as consuming). The credentials of an issuer's DNS-01 solver are judged by
//! [`super::certificates`], which knows the namespace cert-manager reads them from.
//!
//! **What produces.** An object is there when the landscape holds it, or when something in it
//! makes it in the cluster: an ExternalSecret (`spec.target.name`, unless its creation policy
//! is `Merge` or `None`), a SealedSecret, a Certificate (`spec.secretName`), a Gateway or an
//! Ingress carrying cert-manager's shim annotations (the Secrets their TLS entries name), a
//! CloudNativePG `Cluster` (`<name>-app`, `-superuser`, `-ca`, `-server`, `-replication`; the
//! Services `<name>-rw`, `-ro`, `-r`), `flux bootstrap` (the `flux-system` GitRepository's
//! Secret), a component while it runs as its catalogue entry declares (`madeAtRuntime`: the
//! Secret Envoy Gateway's certgen Job writes), and the cluster itself: every namespace's `default` ServiceAccount and
//! `kube-root-ca.crt` ConfigMap, and the StorageClasses the platform-info ConfigMap
//! (`kube-public/haven-plus`, written by `haven plus render` from the provider) says the
//! provider offers. A reference into a namespace the platform does not create (`kube-system`,
//! ...) is the cluster's own business and not judged.
//!
//! **What is not known (tree-only mode, or a component not verified).** A chart that was not
//! rendered ([`super::Landscape::unseen`]) may create any namespaced object in its namespace,
//! and cluster-scoped ones. So:
//! - a reference to a namespaced object in a namespace where an unseen chart installs is not
//!   judged (the chart most likely creates it: a Service, a ServiceAccount, the chart's own
//!   Secret), except when the referrer is that same chart's HelmRelease reading it before the
//!   chart exists (`valuesFrom`, `serviceAccountName`): that is an error, as with `--charts`;
//! - a reference to a cluster-scoped object nothing in the landscape creates is a *warning*
//!   ("not proved") while some chart is unseen, an error otherwise;
//! - a produced Secret that nothing in the landscape consumes is a warning either way, but when
//!   an unseen chart in its namespace has values that name it, it counts as consumed (its chart
//!   is what reads it: `existingSecret: <name>` and the like).
//!
//! In `--charts` mode with every chart rendered, nothing is left to guess: every missing
//! target is an error naming the referrer, the field and the missing object.

use std::collections::{BTreeMap, BTreeSet};

use haven_model::Object;
use serde_json::Value;

use super::{Landscape, Placed};
use crate::charts::{Check, Problem};
use crate::validate::Severity;

/// The kinds of object a reference can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    Secret,
    ConfigMap,
    ServiceAccount,
    PersistentVolumeClaim,
    StorageClass,
    Issuer,
    ClusterIssuer,
    SecretStore,
    ClusterSecretStore,
    GatewayClass,
    Gateway,
    Service,
    IngressClass,
}

impl Kind {
    const ALL: [Kind; 13] = [
        Kind::Secret,
        Kind::ConfigMap,
        Kind::ServiceAccount,
        Kind::PersistentVolumeClaim,
        Kind::StorageClass,
        Kind::Issuer,
        Kind::ClusterIssuer,
        Kind::SecretStore,
        Kind::ClusterSecretStore,
        Kind::GatewayClass,
        Kind::Gateway,
        Kind::Service,
        Kind::IngressClass,
    ];

    /// API group and kind.
    fn api(self) -> (&'static str, &'static str) {
        match self {
            Kind::Secret => ("", "Secret"),
            Kind::ConfigMap => ("", "ConfigMap"),
            Kind::ServiceAccount => ("", "ServiceAccount"),
            Kind::PersistentVolumeClaim => ("", "PersistentVolumeClaim"),
            Kind::StorageClass => ("storage.k8s.io", "StorageClass"),
            Kind::Issuer => ("cert-manager.io", "Issuer"),
            Kind::ClusterIssuer => ("cert-manager.io", "ClusterIssuer"),
            Kind::SecretStore => ("external-secrets.io", "SecretStore"),
            Kind::ClusterSecretStore => ("external-secrets.io", "ClusterSecretStore"),
            Kind::GatewayClass => ("gateway.networking.k8s.io", "GatewayClass"),
            Kind::Gateway => ("gateway.networking.k8s.io", "Gateway"),
            Kind::Service => ("", "Service"),
            Kind::IngressClass => ("networking.k8s.io", "IngressClass"),
        }
    }

    fn namespaced(self) -> bool {
        !matches!(
            self,
            Kind::StorageClass
                | Kind::ClusterIssuer
                | Kind::ClusterSecretStore
                | Kind::GatewayClass
                | Kind::IngressClass
        )
    }

    pub(crate) fn name(self) -> &'static str {
        self.api().1
    }
}

/// One object a reference names: kind, namespace (None for cluster-scoped kinds), name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Target {
    pub kind: Kind,
    pub namespace: Option<String>,
    pub name: String,
}

impl Target {
    pub(crate) fn new(kind: Kind, namespace: &str, name: &str) -> Self {
        Self {
            kind,
            namespace: kind.namespaced().then(|| namespace.to_owned()),
            name: name.to_owned(),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind.name(), self.name),
            None => write!(f, "{} {}", self.kind.name(), self.name),
        }
    }
}

/// How a target comes to be in the cluster.
#[derive(Debug, Clone)]
pub(crate) enum Source<'a> {
    /// The landscape holds it.
    Object(Placed<'a>),
    /// Something in the landscape makes it (`by` names it), at `path` of that object.
    Produced { by: Placed<'a>, path: String },
    /// The cluster, `flux bootstrap` or a component while it runs (the catalogue's
    /// `madeAtRuntime`) makes it (the module doc lists what).
    Cluster,
}

/// Everything the landscape holds or makes, by target; the namespaces the platform creates and
/// where unseen charts install.
pub(crate) struct Inventory<'a> {
    pub found: BTreeMap<Target, Source<'a>>,
    /// Namespaces the platform creates (Namespace objects).
    pub namespaces: BTreeSet<String>,
    /// Namespace → the unseen components (HelmReleases not rendered) installing into it.
    pub unseen_in: BTreeMap<String, Vec<&'a str>>,
    /// The values of unseen HelmReleases, by namespace (to tell what their charts may read).
    pub unseen_values: BTreeMap<String, Vec<&'a Value>>,
}

/// A catalogue `madeAtRuntime` entry: `Kind/name` of a namespaced kind this check knows.
pub(crate) fn runtime_object(entry: &str) -> Option<(Kind, &str)> {
    let (kind, name) = entry.split_once('/')?;
    let kind = Kind::ALL
        .into_iter()
        .find(|k| k.name() == kind && k.namespaced())?;
    (!name.is_empty() && !name.contains('/')).then_some((kind, name))
}

/// Whether a catalogue `madeAtRuntime` entry is one [`runtime_object`] reads.
pub fn is_runtime_object(entry: &str) -> bool {
    runtime_object(entry).is_some()
}

/// The namespace a namespaced object is in (`default` when it names none).
pub(crate) fn ns_of(o: &Object) -> &str {
    o.namespace.as_deref().unwrap_or("default")
}

/// `Kind/ns/name`, or `Kind/name` for a cluster-scoped object.
pub(crate) fn describe(o: &Object) -> String {
    match (&o.namespace, o.is_namespaced()) {
        (Some(ns), true) => format!("{}/{ns}/{}", o.kind, o.name),
        _ => format!("{}/{}", o.kind, o.name),
    }
}

pub(crate) fn str_at<'v>(v: &'v Value, path: &str) -> Option<&'v str> {
    haven_model::object::lookup(v, path)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn array<'v>(v: &'v Value, path: &str) -> &'v [Value] {
    haven_model::object::lookup(v, path)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The cert-manager shim annotations of a Gateway or Ingress: the issuer it asks for, when the
/// issuer is cert-manager's own (`issuer-group` absent or `cert-manager.io`).
pub(crate) fn shim_issuer(o: &Object) -> Option<(Kind, String)> {
    let a = o.annotations()?;
    let get = |k: &str| a.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    if get("cert-manager.io/issuer-group").is_some_and(|g| g != "cert-manager.io") {
        return None;
    }
    if let Some(n) = get("cert-manager.io/cluster-issuer") {
        return Some((Kind::ClusterIssuer, n.to_owned()));
    }
    let n = get("cert-manager.io/issuer")?;
    let kind = match get("cert-manager.io/issuer-kind") {
        Some("ClusterIssuer") => Kind::ClusterIssuer,
        _ => Kind::Issuer,
    };
    Some((kind, n.to_owned()))
}

fn is(o: &Object, group: &str, kind: &str) -> bool {
    o.kind == kind && o.api_group() == group
}

impl<'a> Inventory<'a> {
    pub(crate) fn of(landscape: &Landscape<'a>, catalogue: &crate::Catalogue) -> Self {
        let mut found: BTreeMap<Target, Source<'a>> = BTreeMap::new();
        // flux-system is the platform's too (`flux bootstrap` creates it): its HelmReleases read
        // their `valuesFrom` there.
        let mut namespaces = BTreeSet::from([crate::render::FLUX_NS.to_owned()]);
        let mut storage_classes = Vec::new();
        for &p in &landscape.objects {
            let o = p.object;
            if is(o, "", "Namespace") {
                namespaces.insert(o.name.clone());
            }
            for kind in Kind::ALL {
                let (g, k) = kind.api();
                if is(o, g, k) {
                    found.insert(Target::new(kind, ns_of(o), &o.name), Source::Object(p));
                }
            }
            if is(o, "", "ConfigMap")
                && o.name == "haven-plus"
                && o.namespace.as_deref() == Some("kube-public")
            {
                for key in ["data.storageClass", "data.rwxStorageClass"] {
                    if let Some(sc) = str_at(&o.value, key) {
                        storage_classes.push(sc.to_owned());
                    }
                }
            }
        }
        let produce = |found: &mut BTreeMap<Target, Source<'a>>, t: Target, by, path| {
            found.entry(t).or_insert(Source::Produced { by, path });
        };
        for &p in &landscape.objects {
            let o = p.object;
            let ns = ns_of(o);
            let v = &o.value;
            if is(o, "external-secrets.io", "ExternalSecret") {
                let policy = str_at(v, "spec.target.creationPolicy").unwrap_or("Owner");
                if policy == "Owner" || policy == "Orphan" {
                    let (name, path) = match str_at(v, "spec.target.name") {
                        Some(n) => (n, "spec.target.name"),
                        None => (o.name.as_str(), "metadata.name"),
                    };
                    produce(
                        &mut found,
                        Target::new(Kind::Secret, ns, name),
                        p,
                        path.to_owned(),
                    );
                }
            } else if is(o, "bitnami.com", "SealedSecret") {
                let (name, path) = match str_at(v, "spec.template.metadata.name") {
                    Some(n) => (n, "spec.template.metadata.name"),
                    None => (o.name.as_str(), "metadata.name"),
                };
                produce(
                    &mut found,
                    Target::new(Kind::Secret, ns, name),
                    p,
                    path.to_owned(),
                );
            } else if is(o, "cert-manager.io", "Certificate") {
                if let Some(s) = str_at(v, "spec.secretName") {
                    produce(
                        &mut found,
                        Target::new(Kind::Secret, ns, s),
                        p,
                        "spec.secretName".to_owned(),
                    );
                }
            } else if is(o, "gateway.networking.k8s.io", "Gateway") && shim_issuer(o).is_some() {
                for (i, l) in array(v, "spec.listeners").iter().enumerate() {
                    if str_at(l, "hostname").is_none() {
                        continue; // gateway-shim skips listeners without a hostname
                    }
                    for (j, r) in array(l, "tls.certificateRefs").iter().enumerate() {
                        if str_at(r, "kind").unwrap_or("Secret") != "Secret"
                            || str_at(r, "group").is_some()
                        {
                            continue;
                        }
                        if let Some(n) = str_at(r, "name") {
                            let rns = str_at(r, "namespace").unwrap_or(ns);
                            produce(
                                &mut found,
                                Target::new(Kind::Secret, rns, n),
                                p,
                                format!("spec.listeners[{i}].tls.certificateRefs[{j}]"),
                            );
                        }
                    }
                }
            } else if is(o, "networking.k8s.io", "Ingress") && shim_issuer(o).is_some() {
                for (i, t) in array(v, "spec.tls").iter().enumerate() {
                    if let Some(n) = str_at(t, "secretName") {
                        produce(
                            &mut found,
                            Target::new(Kind::Secret, ns, n),
                            p,
                            format!("spec.tls[{i}].secretName"),
                        );
                    }
                }
            } else if is(o, "postgresql.cnpg.io", "Cluster") {
                for suffix in ["app", "superuser", "ca", "server", "replication"] {
                    produce(
                        &mut found,
                        Target::new(Kind::Secret, ns, &format!("{}-{suffix}", o.name)),
                        p,
                        "metadata.name".to_owned(),
                    );
                }
                for suffix in ["rw", "ro", "r"] {
                    produce(
                        &mut found,
                        Target::new(Kind::Service, ns, &format!("{}-{suffix}", o.name)),
                        p,
                        "metadata.name".to_owned(),
                    );
                }
            } else if is(o, "source.toolkit.fluxcd.io", "GitRepository")
                && o.name == "flux-system"
                && ns == "flux-system"
                && let Some(s) = str_at(v, "spec.secretRef.name")
            {
                found
                    .entry(Target::new(Kind::Secret, ns, s))
                    .or_insert(Source::Cluster);
                // Flux's controllers' own service accounts (its install, which `flux bootstrap`
                // writes), named by the platform's Flux objects under the lockdown.
                for sa in [
                    crate::render::KUSTOMIZE_CONTROLLER,
                    crate::render::HELM_CONTROLLER,
                ] {
                    found
                        .entry(Target::new(Kind::ServiceAccount, ns, sa))
                        .or_insert(Source::Cluster);
                }
            }
        }
        for ns in &namespaces {
            found
                .entry(Target::new(Kind::ServiceAccount, ns, "default"))
                .or_insert(Source::Cluster);
            found
                .entry(Target::new(Kind::ConfigMap, ns, "kube-root-ca.crt"))
                .or_insert(Source::Cluster);
        }
        for sc in storage_classes {
            found
                .entry(Target::new(Kind::StorageClass, "", &sc))
                .or_insert(Source::Cluster);
        }
        // What the catalogue says a component makes while it runs, in its release's namespace.
        for p in landscape.of_kind("helm.toolkit.fluxcd.io", "HelmRelease") {
            let o = p.object;
            let Some(c) = catalogue.get(&o.name) else {
                continue;
            };
            let target = str_at(&o.value, "spec.targetNamespace").unwrap_or(ns_of(o));
            for (kind, name) in c.made_at_runtime.iter().filter_map(|m| runtime_object(m)) {
                found
                    .entry(Target::new(kind, target, name))
                    .or_insert(Source::Cluster);
            }
        }
        let mut unseen_in: BTreeMap<String, Vec<&'a str>> = BTreeMap::new();
        let mut unseen_values: BTreeMap<String, Vec<&'a Value>> = BTreeMap::new();
        for p in landscape.of_kind("helm.toolkit.fluxcd.io", "HelmRelease") {
            let o = p.object;
            if !landscape.unseen.contains(o.name.as_str()) {
                continue;
            }
            let target = str_at(&o.value, "spec.targetNamespace").unwrap_or(ns_of(o));
            unseen_in
                .entry(target.to_owned())
                .or_default()
                .push(o.name.as_str());
            if let Some(values) = o.get("spec.values") {
                unseen_values
                    .entry(target.to_owned())
                    .or_default()
                    .push(values);
            }
        }
        Self {
            found,
            namespaces,
            unseen_in,
            unseen_values,
        }
    }
}

/// One reference: who, at which field, to what.
struct Ref<'a> {
    from: Placed<'a>,
    path: String,
    target: Target,
    optional: bool,
}

/// Every reference of one object.
fn refs_of<'a>(p: Placed<'a>, cluster_resource_ns: &str, out: &mut Vec<Ref<'a>>) {
    let o = p.object;
    let ns = ns_of(o);
    let v = &o.value;
    let mut push = |path: String, kind: Kind, tns: &str, name: &str, optional: bool| {
        out.push(Ref {
            from: p,
            path,
            target: Target::new(kind, tns, name),
            optional,
        });
    };
    let group = o.api_group();
    let pod_spec = match (group, o.kind.as_str()) {
        ("", "Pod") => Some("spec"),
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job")
        | ("", "ReplicationController") => Some("spec.template.spec"),
        ("batch", "CronJob") => Some("spec.jobTemplate.spec.template.spec"),
        _ => None,
    };
    if let Some(base) = pod_spec
        && let Some(spec) = o.get(base)
    {
        pod_refs(base, spec, ns, &mut push);
    }
    if is(o, "apps", "StatefulSet") {
        for (i, t) in array(v, "spec.volumeClaimTemplates").iter().enumerate() {
            if let Some(sc) = str_at(t, "spec.storageClassName") {
                push(
                    format!("spec.volumeClaimTemplates[{i}].spec.storageClassName"),
                    Kind::StorageClass,
                    "",
                    sc,
                    false,
                );
            }
        }
    }
    match (group, o.kind.as_str()) {
        ("", "PersistentVolumeClaim") => {
            if let Some(sc) = str_at(v, "spec.storageClassName") {
                push(
                    "spec.storageClassName".into(),
                    Kind::StorageClass,
                    "",
                    sc,
                    false,
                );
            }
        }
        ("helm.toolkit.fluxcd.io", "HelmRelease") => {
            for (i, r) in array(v, "spec.valuesFrom").iter().enumerate() {
                let kind = match str_at(r, "kind") {
                    Some("Secret") => Kind::Secret,
                    Some("ConfigMap") => Kind::ConfigMap,
                    _ => continue,
                };
                if let Some(n) = str_at(r, "name") {
                    let optional = r["optional"].as_bool().unwrap_or(false);
                    push(format!("spec.valuesFrom[{i}]"), kind, ns, n, optional);
                }
            }
            if let Some(sa) = str_at(v, "spec.serviceAccountName") {
                push(
                    "spec.serviceAccountName".into(),
                    Kind::ServiceAccount,
                    ns,
                    sa,
                    false,
                );
            }
        }
        ("kustomize.toolkit.fluxcd.io", "Kustomization") => {
            if let Some(sa) = str_at(v, "spec.serviceAccountName") {
                push(
                    "spec.serviceAccountName".into(),
                    Kind::ServiceAccount,
                    ns,
                    sa,
                    false,
                );
            }
            if let Some(s) = str_at(v, "spec.decryption.secretRef.name") {
                push(
                    "spec.decryption.secretRef.name".into(),
                    Kind::Secret,
                    ns,
                    s,
                    false,
                );
            }
            for (i, r) in array(v, "spec.postBuild.substituteFrom").iter().enumerate() {
                let kind = match str_at(r, "kind") {
                    Some("Secret") => Kind::Secret,
                    Some("ConfigMap") => Kind::ConfigMap,
                    _ => continue,
                };
                if let Some(n) = str_at(r, "name") {
                    let optional = r["optional"].as_bool().unwrap_or(false);
                    push(
                        format!("spec.postBuild.substituteFrom[{i}]"),
                        kind,
                        ns,
                        n,
                        optional,
                    );
                }
            }
        }
        (
            "source.toolkit.fluxcd.io",
            "GitRepository" | "HelmRepository" | "OCIRepository" | "Bucket" | "HelmChart",
        ) => {
            for field in ["secretRef", "certSecretRef", "proxySecretRef"] {
                let path = format!("spec.{field}.name");
                if let Some(s) = str_at(v, &path) {
                    push(path, Kind::Secret, ns, s, false);
                }
            }
        }
        ("external-secrets.io", "ExternalSecret") => {
            if let Some(n) = str_at(v, "spec.secretStoreRef.name") {
                let kind = match str_at(v, "spec.secretStoreRef.kind") {
                    Some("ClusterSecretStore") => Kind::ClusterSecretStore,
                    _ => Kind::SecretStore,
                };
                push("spec.secretStoreRef".into(), kind, ns, n, false);
            }
        }
        ("external-secrets.io", "SecretStore" | "ClusterSecretStore") => {
            // Kubernetes auth of the providers that have it (Vault/OpenBao, Kubernetes, ...).
            if let Some(provider) = v
                .get("spec")
                .and_then(|s| s.get("provider"))
                .and_then(Value::as_object)
            {
                for (name, cfg) in provider {
                    let path = format!("spec.provider.{name}.auth.kubernetes.serviceAccountRef");
                    if let Some(sa) = str_at(cfg, "auth.kubernetes.serviceAccountRef.name") {
                        let sns = str_at(cfg, "auth.kubernetes.serviceAccountRef.namespace")
                            .unwrap_or(ns);
                        push(path, Kind::ServiceAccount, sns, sa, false);
                    }
                    // The `kubernetes` provider's own login: a token of a ServiceAccount (of
                    // the store's namespace), and the API server's CA from a ConfigMap.
                    if name == "kubernetes" {
                        if let Some(sa) = str_at(cfg, "auth.serviceAccount.name") {
                            let sns = str_at(cfg, "auth.serviceAccount.namespace")
                                .filter(|_| o.kind == "ClusterSecretStore")
                                .unwrap_or(ns);
                            let path = format!("spec.provider.{name}.auth.serviceAccount");
                            push(path, Kind::ServiceAccount, sns, sa, false);
                        }
                        if str_at(cfg, "server.caProvider.type") == Some("ConfigMap")
                            && let Some(cm) = str_at(cfg, "server.caProvider.name")
                        {
                            let path = format!("spec.provider.{name}.server.caProvider");
                            push(path, Kind::ConfigMap, ns, cm, false);
                        }
                    }
                }
            }
        }
        ("cert-manager.io", "Certificate") => {
            if let Some(n) = str_at(v, "spec.issuerRef.name") {
                let group = str_at(v, "spec.issuerRef.group").unwrap_or("cert-manager.io");
                if group == "cert-manager.io" {
                    let kind = match str_at(v, "spec.issuerRef.kind") {
                        Some("ClusterIssuer") => Kind::ClusterIssuer,
                        _ => Kind::Issuer,
                    };
                    push("spec.issuerRef".into(), kind, ns, n, false);
                }
            }
        }
        ("gateway.networking.k8s.io", "Gateway") => {
            if let Some(c) = str_at(v, "spec.gatewayClassName") {
                push(
                    "spec.gatewayClassName".into(),
                    Kind::GatewayClass,
                    "",
                    c,
                    false,
                );
            }
            for (i, l) in array(v, "spec.listeners").iter().enumerate() {
                for (j, r) in array(l, "tls.certificateRefs").iter().enumerate() {
                    if str_at(r, "kind").unwrap_or("Secret") != "Secret"
                        || str_at(r, "group").is_some()
                    {
                        continue;
                    }
                    if let Some(n) = str_at(r, "name") {
                        let rns = str_at(r, "namespace").unwrap_or(ns);
                        push(
                            format!("spec.listeners[{i}].tls.certificateRefs[{j}]"),
                            Kind::Secret,
                            rns,
                            n,
                            false,
                        );
                    }
                }
            }
        }
        (
            "gateway.networking.k8s.io",
            "HTTPRoute" | "GRPCRoute" | "TLSRoute" | "TCPRoute" | "UDPRoute",
        ) => {
            for (i, r) in array(v, "spec.parentRefs").iter().enumerate() {
                if str_at(r, "kind").unwrap_or("Gateway") != "Gateway"
                    || str_at(r, "group").unwrap_or("gateway.networking.k8s.io")
                        != "gateway.networking.k8s.io"
                {
                    continue;
                }
                if let Some(n) = str_at(r, "name") {
                    let rns = str_at(r, "namespace").unwrap_or(ns);
                    push(
                        format!("spec.parentRefs[{i}]"),
                        Kind::Gateway,
                        rns,
                        n,
                        false,
                    );
                }
            }
            for (i, rule) in array(v, "spec.rules").iter().enumerate() {
                for (j, b) in array(rule, "backendRefs").iter().enumerate() {
                    if str_at(b, "kind").unwrap_or("Service") != "Service"
                        || str_at(b, "group").is_some()
                    {
                        continue;
                    }
                    if let Some(n) = str_at(b, "name") {
                        let bns = str_at(b, "namespace").unwrap_or(ns);
                        push(
                            format!("spec.rules[{i}].backendRefs[{j}]"),
                            Kind::Service,
                            bns,
                            n,
                            false,
                        );
                    }
                }
            }
        }
        ("networking.k8s.io", "Ingress") => {
            for (i, t) in array(v, "spec.tls").iter().enumerate() {
                if let Some(n) = str_at(t, "secretName") {
                    push(
                        format!("spec.tls[{i}].secretName"),
                        Kind::Secret,
                        ns,
                        n,
                        false,
                    );
                }
            }
            if let Some(n) = str_at(v, "spec.defaultBackend.service.name") {
                push(
                    "spec.defaultBackend.service.name".into(),
                    Kind::Service,
                    ns,
                    n,
                    false,
                );
            }
            for (i, rule) in array(v, "spec.rules").iter().enumerate() {
                for (j, path) in array(rule, "http.paths").iter().enumerate() {
                    if let Some(n) = str_at(path, "backend.service.name") {
                        push(
                            format!("spec.rules[{i}].http.paths[{j}].backend.service.name"),
                            Kind::Service,
                            ns,
                            n,
                            false,
                        );
                    }
                }
            }
        }
        ("cert-manager.io", "Issuer" | "ClusterIssuer") => {
            // Judged by the certificates check (DNS-01 credentials); counted here as consumed.
            let sns = if o.kind == "ClusterIssuer" {
                cluster_resource_ns
            } else {
                ns
            };
            for (i, s) in array(v, "spec.acme.solvers").iter().enumerate() {
                if let Some(dns01) = s.get("dns01") {
                    let mut secrets = Vec::new();
                    super::certificates::solver_secrets(
                        dns01,
                        &format!("spec.acme.solvers[{i}].dns01"),
                        &mut secrets,
                    );
                    for (path, name) in secrets {
                        push(path, Kind::Secret, sns, &name, true);
                    }
                }
            }
        }
        ("postgresql.cnpg.io", "Cluster") => {
            if let Some(sc) = str_at(v, "spec.storage.storageClass") {
                push(
                    "spec.storage.storageClass".into(),
                    Kind::StorageClass,
                    "",
                    sc,
                    false,
                );
            }
            if let Some(s) = str_at(v, "spec.bootstrap.initdb.secret.name") {
                push(
                    "spec.bootstrap.initdb.secret.name".into(),
                    Kind::Secret,
                    ns,
                    s,
                    false,
                );
            }
        }
        _ => {}
    }
}

/// The references of a pod spec at `base`.
fn pod_refs(
    base: &str,
    spec: &Value,
    ns: &str,
    push: &mut impl FnMut(String, Kind, &str, &str, bool),
) {
    let optional = |v: &Value| v["optional"].as_bool().unwrap_or(false);
    if let Some(sa) = str_at(spec, "serviceAccountName") {
        push(
            format!("{base}.serviceAccountName"),
            Kind::ServiceAccount,
            ns,
            sa,
            false,
        );
    }
    for (i, s) in array(spec, "imagePullSecrets").iter().enumerate() {
        if let Some(n) = str_at(s, "name") {
            push(
                format!("{base}.imagePullSecrets[{i}]"),
                Kind::Secret,
                ns,
                n,
                false,
            );
        }
    }
    for (i, vol) in array(spec, "volumes").iter().enumerate() {
        let at = format!("{base}.volumes[{i}]");
        if let Some(n) = str_at(vol, "secret.secretName") {
            push(
                format!("{at}.secret.secretName"),
                Kind::Secret,
                ns,
                n,
                optional(&vol["secret"]),
            );
        }
        if let Some(n) = str_at(vol, "configMap.name") {
            push(
                format!("{at}.configMap.name"),
                Kind::ConfigMap,
                ns,
                n,
                optional(&vol["configMap"]),
            );
        }
        if let Some(n) = str_at(vol, "persistentVolumeClaim.claimName") {
            push(
                format!("{at}.persistentVolumeClaim.claimName"),
                Kind::PersistentVolumeClaim,
                ns,
                n,
                false,
            );
        }
        for (j, src) in array(vol, "projected.sources").iter().enumerate() {
            for (field, kind) in [("secret", Kind::Secret), ("configMap", Kind::ConfigMap)] {
                if let Some(n) = str_at(src, &format!("{field}.name")) {
                    push(
                        format!("{at}.projected.sources[{j}].{field}.name"),
                        kind,
                        ns,
                        n,
                        optional(&src[field]),
                    );
                }
            }
        }
    }
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for (i, c) in array(spec, list).iter().enumerate() {
            let at = format!("{base}.{list}[{i}]");
            for (j, e) in array(c, "env").iter().enumerate() {
                for (field, kind) in [
                    ("secretKeyRef", Kind::Secret),
                    ("configMapKeyRef", Kind::ConfigMap),
                ] {
                    let r = &e["valueFrom"][field];
                    if let Some(n) = str_at(r, "name") {
                        push(
                            format!("{at}.env[{j}].valueFrom.{field}.name"),
                            kind,
                            ns,
                            n,
                            optional(r),
                        );
                    }
                }
            }
            for (j, e) in array(c, "envFrom").iter().enumerate() {
                for (field, kind) in [
                    ("secretRef", Kind::Secret),
                    ("configMapRef", Kind::ConfigMap),
                ] {
                    let r = &e[field];
                    if let Some(n) = str_at(r, "name") {
                        push(
                            format!("{at}.envFrom[{j}].{field}.name"),
                            kind,
                            ns,
                            n,
                            optional(r),
                        );
                    }
                }
            }
        }
    }
}

/// Where a problem is: the object's file and the field's line.
pub(crate) fn problem(
    check: Check,
    severity: Severity,
    at: Placed<'_>,
    path: &str,
    message: String,
) -> Problem {
    let loc = at.object.location(path);
    Problem {
        severity,
        check,
        component: at.component.to_owned(),
        file: loc.file.to_string(),
        line: loc.line,
        object: describe(at.object),
        path: path.to_owned(),
        message,
        waived: None,
    }
}

/// How a reference stands.
pub(crate) enum Verdict<'i, 'a> {
    /// There, or made by something.
    There(&'i Source<'a>),
    /// Not judged: the namespace is the cluster's own (not created by the platform).
    ClusterOwn,
    /// Not proved: unseen charts (these) may create it.
    MaybeBy(Vec<&'a str>),
    /// Nothing creates it.
    Missing,
}

impl<'a> Inventory<'a> {
    /// Whether `target` is there. `own`: the component the referrer belongs to when the
    /// reference is read before its chart is installed (its chart cannot be the one making it).
    pub(crate) fn judge(&self, target: &Target, own: Option<&str>) -> Verdict<'_, 'a> {
        if let Some(s) = self.found.get(target) {
            return Verdict::There(s);
        }
        match &target.namespace {
            Some(ns) => {
                let maybe: Vec<&'a str> = self
                    .unseen_in
                    .get(ns)
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|c| Some(*c) != own)
                    .collect();
                if !maybe.is_empty() {
                    Verdict::MaybeBy(maybe)
                } else if !self.namespaces.contains(ns) {
                    Verdict::ClusterOwn
                } else {
                    Verdict::Missing
                }
            }
            None => {
                let maybe: Vec<&'a str> = self
                    .unseen_in
                    .values()
                    .flatten()
                    .copied()
                    .filter(|c| Some(*c) != own)
                    .collect();
                if maybe.is_empty() {
                    Verdict::Missing
                } else {
                    Verdict::MaybeBy(maybe)
                }
            }
        }
    }
}

/// A short list of components for a message: the first few and how many more.
pub(crate) fn few(names: &[&str]) -> String {
    const SHOWN: usize = 3;
    if names.len() <= SHOWN {
        names.join(", ")
    } else {
        format!(
            "{} and {} more",
            names[..SHOWN].join(", "),
            names.len() - SHOWN
        )
    }
}

/// Runs the check on the landscape.
pub fn prove(landscape: &Landscape<'_>, catalogue: &crate::Catalogue) -> Vec<Problem> {
    let inv = Inventory::of(landscape, catalogue);
    let crns = super::certificates::cluster_resource_namespace(landscape);
    let mut refs = Vec::new();
    for &p in &landscape.objects {
        refs_of(p, &crns, &mut refs);
    }
    remote_refs(landscape, &mut refs);
    let mut out = Vec::new();
    let mut consumed: BTreeSet<&Target> = BTreeSet::new();
    for r in &refs {
        let own_pre_install = is(r.from.object, "helm.toolkit.fluxcd.io", "HelmRelease")
            .then_some(r.from.object.name.as_str());
        let verdict = inv.judge(&r.target, own_pre_install);
        if let Verdict::There(_) = verdict
            && let Some((t, _)) = inv.found.get_key_value(&r.target)
        {
            consumed.insert(t);
        }
        if r.optional {
            continue;
        }
        match verdict {
            Verdict::There(_) | Verdict::ClusterOwn => {}
            Verdict::MaybeBy(charts) if r.target.namespace.is_some() => {
                // A chart installing into that namespace most likely makes it: not judged.
                let _ = charts;
            }
            Verdict::MaybeBy(charts) => out.push(problem(
                Check::References,
                Severity::Warning,
                r.from,
                &r.path,
                format!(
                    "not proved: refers to {}, which nothing in the tree creates; a chart not rendered ({}) may (validate with --charts)",
                    r.target,
                    few(&charts)
                ),
            )),
            Verdict::Missing => out.push(problem(
                Check::References,
                Severity::Error,
                r.from,
                &r.path,
                format!(
                    "refers to {}, which nothing in the platform creates",
                    r.target
                ),
            )),
        }
    }
    out.extend(unconsumed(landscape, &inv, &consumed));
    out.extend(traefik_listener_ports(landscape));
    out
}

/// The controller name of Traefik's Gateway provider.
const TRAEFIK_CONTROLLER: &str = "traefik.io/gateway-controller";

/// A listener of a Gateway Traefik serves refers to an entryPoint by its port: Traefik's
/// Gateway provider attaches a listener to the entryPoint whose address has the listener's
/// port ("no matching entryPoint for port"), and leaves the listener unserved otherwise (the
/// Traefik chart's entryPoints are `:8000` and `:8443`, not 80 and 443; its Service maps
/// those). The entryPoints are read from the rendered Traefik workloads' `--entryPoints.<name>.
/// address` arguments; without a rendered Traefik (tree only) nothing is judged.
fn traefik_listener_ports(landscape: &Landscape<'_>) -> Vec<Problem> {
    let classes: BTreeSet<&str> = landscape
        .of_kind("gateway.networking.k8s.io", "GatewayClass")
        .filter(|p| str_at(&p.object.value, "spec.controllerName") == Some(TRAEFIK_CONTROLLER))
        .map(|p| p.object.name.as_str())
        .collect();
    if classes.is_empty() {
        return Vec::new();
    }
    let mut entry_points: BTreeMap<u64, String> = BTreeMap::new();
    let mut traefik_seen = false;
    for p in landscape.objects.iter().filter(|p| {
        p.object.api_group() == "apps"
            && matches!(p.object.kind.as_str(), "Deployment" | "DaemonSet")
    }) {
        for c in array(&p.object.value, "spec.template.spec.containers") {
            let args: Vec<&str> = array(c, "args").iter().filter_map(Value::as_str).collect();
            if !args.iter().any(|a| {
                a.to_ascii_lowercase()
                    .starts_with("--providers.kubernetesgateway")
            }) {
                continue;
            }
            traefik_seen = true;
            for a in args {
                if let Some((name, port)) = entry_point(a) {
                    entry_points.insert(port, name.to_owned());
                }
            }
        }
    }
    if !traefik_seen {
        return Vec::new();
    }
    let known = entry_points
        .iter()
        .map(|(port, name)| format!("{name} :{port}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut out = Vec::new();
    for gw in landscape.of_kind("gateway.networking.k8s.io", "Gateway") {
        if !str_at(&gw.object.value, "spec.gatewayClassName").is_some_and(|c| classes.contains(c)) {
            continue;
        }
        for (i, l) in array(&gw.object.value, "spec.listeners").iter().enumerate() {
            let Some(port) = l.get("port").and_then(Value::as_u64) else {
                continue;
            };
            if entry_points.contains_key(&port) {
                continue;
            }
            out.push(problem(
                Check::References,
                Severity::Error,
                gw,
                &format!("spec.listeners[{i}].port"),
                format!(
                    "listener `{}` is on port {port}, and Traefik has no entryPoint on that port ({}): Traefik attaches a listener to the entryPoint of the same port, so this one serves nothing; use an entryPoint's port (the Service maps its own ports to them)",
                    str_at(l, "name").unwrap_or_default(),
                    if known.is_empty() { "none found".to_owned() } else { known.clone() }
                ),
            ));
        }
    }
    out
}

/// `--entryPoints.<name>.address=[host]:<port>[/tcp|/udp]` (Traefik's flags are
/// case-insensitive): the entryPoint's name and port. UDP entryPoints serve no HTTP listener.
fn entry_point(arg: &str) -> Option<(&str, u64)> {
    let (flag, address) = arg.split_once('=')?;
    let rest = flag
        .get(..14)
        .filter(|p| p.eq_ignore_ascii_case("--entrypoints."))
        .map(|_| &flag[14..])?;
    let name = rest
        .get(rest.len().checked_sub(8)?..)
        .filter(|s| s.eq_ignore_ascii_case(".address"))
        .map(|_| &rest[..rest.len() - 8])?;
    let (address, proto) = address.split_once('/').unwrap_or((address, "tcp"));
    if !proto.eq_ignore_ascii_case("tcp") {
        return None;
    }
    let port = address.rsplit_once(':')?.1.parse().ok()?;
    Some((name, port))
}

/// The Secrets an ExternalSecret reads through a `SecretStore` of External Secrets' `kubernetes`
/// provider (an OIDC client's secret, `crate::oidc_clients`): `remoteRef.key` in the store's
/// `remoteNamespace`. Missing, the ExternalSecret never syncs; there, it is consumed.
fn remote_refs<'a>(landscape: &Landscape<'a>, out: &mut Vec<Ref<'a>>) {
    let stores: BTreeMap<(&str, &str), &str> = landscape
        .of_kind("external-secrets.io", "SecretStore")
        .filter_map(|p| {
            let remote = str_at(&p.object.value, "spec.provider.kubernetes.remoteNamespace")?;
            Some(((ns_of(p.object), p.object.name.as_str()), remote))
        })
        .collect();
    for p in landscape.of_kind("external-secrets.io", "ExternalSecret") {
        let v = &p.object.value;
        if str_at(v, "spec.secretStoreRef.kind").unwrap_or("SecretStore") != "SecretStore" {
            continue;
        }
        let Some(remote) =
            str_at(v, "spec.secretStoreRef.name").and_then(|n| stores.get(&(ns_of(p.object), n)))
        else {
            continue;
        };
        for (i, d) in array(v, "spec.data").iter().enumerate() {
            if let Some(key) = str_at(d, "remoteRef.key") {
                out.push(Ref {
                    from: p,
                    path: format!("spec.data[{i}].remoteRef.key"),
                    target: Target::new(Kind::Secret, remote, key),
                    optional: false,
                });
            }
        }
    }
}

/// Secrets made for someone (an ExternalSecret's or SealedSecret's, a Certificate's) that
/// nothing consumes.
fn unconsumed(
    landscape: &Landscape<'_>,
    inv: &Inventory<'_>,
    consumed: &BTreeSet<&Target>,
) -> Vec<Problem> {
    let mut out = Vec::new();
    for (t, s) in &inv.found {
        let Source::Produced { by, path } = s else {
            continue;
        };
        let o = by.object;
        let made_for_someone = is(o, "external-secrets.io", "ExternalSecret")
            || is(o, "bitnami.com", "SealedSecret")
            || is(o, "cert-manager.io", "Certificate");
        if t.kind != Kind::Secret || !made_for_someone || consumed.contains(t) {
            continue;
        }
        let ns = t.namespace.as_deref().unwrap_or_default();
        if named_elsewhere(landscape, o, ns, &t.name) {
            continue;
        }
        let unseen = inv.unseen_in.get(ns).map(Vec::as_slice).unwrap_or(&[]);
        if inv
            .unseen_values
            .get(ns)
            .into_iter()
            .flatten()
            .any(|v| mentions(v, &t.name))
        {
            continue;
        }
        let mut message = format!(
            "makes {t}, which nothing in the platform consumes (no pod, values or reference names it)"
        );
        if !unseen.is_empty() {
            message.push_str(&format!(
                "; not proved for the charts not rendered in {ns} ({}), whose values do not name it either",
                few(unseen)
            ));
        }
        out.push(problem(
            Check::References,
            Severity::Warning,
            *by,
            path,
            message,
        ));
    }
    out
}

/// Whether an object in the namespace other than the producer names the Secret in a field
/// about secrets (`existingSecret: <name>`, `secretName`, a custom resource's `...SecretRef`),
/// a reference this check has no rule for but the object's controller or chart reads.
fn named_elsewhere(landscape: &Landscape<'_>, producer: &Object, ns: &str, name: &str) -> bool {
    landscape.objects.iter().any(|p| {
        !std::ptr::eq(p.object, producer)
            && p.object.namespace.as_deref() == Some(ns)
            && (secret_field_names(&p.object.value, false, name)
                || config_files_name(&p.object.value, name))
    })
}

/// Whether a configuration file a chart renders into a ConfigMap or Secret names the Secret
/// under a secret-ish key: the application reads that Secret through the API at run time
/// (policy-reporter's UI: `openIDConnect.secretRef` in the `config.yaml` of Secret
/// `policy-reporter-ui-config`, base64 in `data`). Files that are not YAML or JSON name
/// nothing.
fn config_files_name(v: &Value, name: &str) -> bool {
    use base64::Engine as _;
    let kind = v.get("kind").and_then(Value::as_str);
    if !matches!(kind, Some("ConfigMap" | "Secret")) || v["apiVersion"] != "v1" {
        return false;
    }
    let names = |text: &str| {
        text.contains(name)
            && serde_yaml_ng::from_str::<Value>(text)
                .is_ok_and(|doc| secret_field_names(&doc, false, name))
    };
    let files = |field: &str| {
        v.get(field)
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.values().filter_map(Value::as_str))
    };
    if kind == Some("ConfigMap") {
        return files("data").any(names);
    }
    files("stringData").any(names)
        || files("data").any(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .is_some_and(|text| names(&text))
        })
}

fn secret_field_names(v: &Value, under_secret_key: bool, name: &str) -> bool {
    match v {
        Value::String(s) => under_secret_key && s == name,
        Value::Array(a) => a
            .iter()
            .any(|x| secret_field_names(x, under_secret_key, name)),
        Value::Object(m) => m.iter().any(|(k, x)| {
            let secretish = under_secret_key || k.to_ascii_lowercase().contains("secret");
            secret_field_names(x, secretish, name)
        }),
        _ => false,
    }
}

/// Whether a values document holds the string anywhere: as a value, or as the `name:` of a
/// block of YAML given as a string (values a chart passes through `tpl`, such as keycloakx's
/// `extraEnvFrom: "- secretRef:\n    name: <secret>"`).
fn mentions(v: &Value, name: &str) -> bool {
    match v {
        Value::String(s) => s == name || yaml_block_names(s, name),
        Value::Array(a) => a.iter().any(|x| mentions(x, name)),
        Value::Object(m) => m.values().any(|x| mentions(x, name)),
        _ => false,
    }
}

fn yaml_block_names(s: &str, name: &str) -> bool {
    s.contains('\n')
        && s.lines().any(|l| {
            l.trim()
                .trim_start_matches("- ")
                .strip_prefix("name:")
                .is_some_and(|v| v.trim().trim_matches(['"', '\'']) == name)
        })
}

#[cfg(test)]
mod tests;
