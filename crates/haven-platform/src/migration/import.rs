//! The Haven+ reference implementation's tree (or one cluster's `kustomize build`) → the
//! equivalent `haven-plus.yaml`, with every reference unit named as mapped or dropped.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::mapping::{self, Action};
use super::tree::{ClusterObjects, FLUX_KUSTOMIZE_GROUP, ObjectId, TreeObject};
use crate::catalogue::Catalogue;
use crate::config::{self, Provider};

/// What the operator asked for beyond the tree.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The reference's cluster directory (`clusters/<cluster>`); also haven's cluster name.
    pub cluster: String,
    /// The base domain when the tree only has placeholders (`<domain>`).
    pub domain: Option<String>,
}

/// A reference unit and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitReport {
    /// The reference's Flux Kustomization.
    pub unit: String,
    /// `mapped`, `builtin`, `dropped` or `unknown`.
    pub outcome: &'static str,
    /// Capability settings written for it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub settings: Vec<String>,
    /// haven components that serve it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<String>,
    /// Why it is dropped, or what differs.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// The result of an import: the config text and value, the unit report, remarks.
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    /// haven-plus.yaml as written (parsed back by `config::parse` before it is returned).
    #[serde(skip)]
    pub yaml: String,
    /// The same config as JSON.
    pub config: Value,
    pub units: Vec<UnitReport>,
    /// Things to check by hand: placeholders, settings this build does not know, choices.
    pub notes: Vec<String>,
}

/// Why an import could not produce a config.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    #[error(
        "no Flux Kustomization found for cluster `{0}` (is it `clusters/<name>` of the reference?)"
    )]
    NoCluster(String),
    #[error("the imported config does not read back: {0}")]
    Invalid(String),
}

/// Capability keys the import writes beyond the mapping table (values from the tree).
pub const VALUE_KEYS: &[(&str, &str)] = &[
    ("cluster.rwxStorageClass", "\"previder-staas\""),
    ("capabilities.loadBalancer.addresses", "[\"192.0.2.0/28\"]"),
    (
        "capabilities.storage.nfs",
        "{\"server\": \"nfs.example.nl\", \"path\": \"/export\"}",
    ),
];

/// The provider of a reference cluster (or overlay) name.
pub fn provider_of(name: &str) -> (Provider, Option<&'static str>) {
    match name {
        "previder" => (Provider::Previder, None),
        "cyso" | "cyso-pdv" => (Provider::Cyso, None),
        "azure" | "azure-commonground" => (Provider::Azure, None),
        "ovh-cloud" | "ovh" => (Provider::Ovh, None),
        "local" => (Provider::Kind, None),
        "odc-noord" => (
            Provider::Generic,
            Some(
                "odc-noord runs OpenShift, which haven has no provider for: imported as `generic`; its SecurityContextConstraints (flux-system/scc.yaml) are not carried over",
            ),
        ),
        _ => (
            Provider::Generic,
            Some("cluster name matches no reference provider: imported as `generic`"),
        ),
    }
}

fn is_placeholder(s: &str) -> bool {
    s.is_empty()
        || s.contains('<')
        || s.contains("set-in-overlay")
        || s.contains("example.")
        || s.contains("${")
}

/// Sets `a.b.c` in a JSON object, creating the maps on the way.
fn set_path(root: &mut Value, path: &str, value: Value) {
    let mut node = root;
    let mut parts = path.split('.').peekable();
    while let Some(p) = parts.next() {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Some(map) = node.as_object_mut() else {
            return;
        };
        if parts.peek().is_none() {
            map.insert(p.to_owned(), value);
            return;
        }
        node = map.entry(p.to_owned()).or_insert_with(|| json!({}));
    }
}

fn remove_path(root: &mut Value, path: &str) -> bool {
    let mut node = root;
    let parts: Vec<&str> = path.split('.').collect();
    let Some((last, init)) = parts.split_last() else {
        return false;
    };
    for p in init {
        match node.get_mut(*p) {
            Some(n) => node = n,
            None => return false,
        }
    }
    node.as_object_mut()
        .is_some_and(|m| m.remove(*last).is_some())
}

/// The overlay a Kustomization applies (`…/overlays/<overlay>`), which names the provider.
fn overlay_of(o: &TreeObject) -> Option<String> {
    let path = o.value["spec"]["path"].as_str()?;
    let mut it = path.split('/').skip_while(|s| *s != "overlays");
    it.next()?;
    it.next().map(str::to_owned)
}

/// Imports one cluster of the reference.
pub fn import(
    objects: &ClusterObjects,
    options: &ImportOptions,
    catalogue: &Catalogue,
) -> Result<Imported, ImportError> {
    let kustomizations: Vec<&TreeObject> = objects.kustomizations().collect();
    if kustomizations.is_empty() {
        return Err(ImportError::NoCluster(options.cluster.clone()));
    }
    let mut notes = Vec::new();
    let overlay = kustomizations
        .iter()
        .find_map(|k| overlay_of(k))
        .unwrap_or_else(|| options.cluster.clone());
    let (provider, why) = provider_of(&overlay);
    notes.extend(why.map(str::to_owned));

    // The reference's own layout (`cluster.layout: reference`), where this build has it: one
    // repository for many clusters, and the reference's Kustomization names, which keeps most
    // units (and what they applied) with the same owner.
    let mut cfg = json!({
        "version": 1,
        "cluster": {"name": options.cluster, "provider": provider.name(), "layout": "reference"},
        "capabilities": {},
        "tenants": [],
    });

    // The domain: the Gateway's wildcard listener, else the routes' hostnames.
    let domain = options.domain.clone().or_else(|| find_domain(objects));
    match domain {
        Some(d) => set_path(&mut cfg, "cluster.domain", json!(d)),
        None => {
            set_path(&mut cfg, "cluster.domain", json!("example.invalid"));
            notes.push(
                "no domain in the tree (its Gateway and routes hold placeholders): cluster.domain is `example.invalid`; pass --domain or edit it".to_owned(),
            );
        }
    }
    if let Some(email) = objects
        .objects
        .iter()
        .filter(|o| o.id.kind == "ClusterIssuer")
        .filter_map(|o| o.value["spec"]["acme"]["email"].as_str())
        .find(|e| !is_placeholder(e) && e.contains('@') && *e != "foo@bar.com")
    {
        set_path(&mut cfg, "cluster.acmeEmail", json!(email));
    }
    if let Some(git) = objects
        .objects
        .iter()
        .find(|o| o.id.kind == "GitRepository" && o.id.name == "flux-system")
    {
        if let Some(url) = git.value["spec"]["url"].as_str() {
            set_path(&mut cfg, "cluster.git.url", json!(url));
        }
        if let Some(branch) = git.value["spec"]["ref"]["branch"].as_str() {
            set_path(&mut cfg, "cluster.git.branch", json!(branch));
        }
    }

    // Every capability off, then on as the reference's units map: the config is the
    // reference's platform, not haven's defaults. Object storage stays as haven needs it: the
    // reference keeps logs, metrics and backups in the provider's S3, haven's components in
    // Garage unless their values point elsewhere.
    // Opt-in capabilities are off unless a unit maps to them.
    let defaults = config::Capabilities::default();
    for cap in config::CAPABILITIES
        .iter()
        .filter(|c| !matches!(**c, "gitops" | "objectStorage"))
        .filter(|c| defaults.selection(c).is_some_and(|(on, _)| on))
    {
        set_path(
            &mut cfg,
            &format!("capabilities.{cap}.enabled"),
            json!(false),
        );
    }
    let units: BTreeSet<&str> = kustomizations
        .iter()
        .map(|k| k.id.name.as_str())
        .filter(|n| *n != "flux-system")
        .collect();
    let tenant_units: BTreeSet<String> = tenant_kustomizations(objects);
    let mut reports = Vec::new();
    let mut components = BTreeSet::new();
    for unit in &units {
        if tenant_units.contains(*unit) {
            continue;
        }
        let Some(row) = mapping::for_unit(unit) else {
            reports.push(UnitReport {
                unit: (*unit).to_owned(),
                outcome: "unknown",
                settings: vec![],
                components: vec![],
                note: "not a unit of the reference haven knows: carry it over by hand".to_owned(),
            });
            continue;
        };
        let report = match row.action {
            Action::Mapped {
                settings,
                components: comps,
                note,
            } => {
                let mut written = Vec::new();
                for (key, value) in settings {
                    let v: Value = serde_json::from_str(value).unwrap_or(Value::Null);
                    set_path(&mut cfg, key, v.clone());
                    written.push(format!("{key}: {v}"));
                }
                let mut comps: Vec<String> = comps.iter().map(|c| (*c).to_owned()).collect();
                if row.component == "ingress-nginx" {
                    let istio = units.contains("istio");
                    let implementation = if istio { "istio" } else { "envoy-gateway" };
                    if !istio {
                        set_path(
                            &mut cfg,
                            "capabilities.ingress.implementation",
                            json!(implementation),
                        );
                        written.push(format!(
                            "capabilities.ingress.implementation: \"{implementation}\""
                        ));
                    } else {
                        comps = vec!["istio-base".to_owned(), "istiod".to_owned()];
                    }
                }
                written.extend(component_values(
                    row.component,
                    objects,
                    &mut cfg,
                    &mut notes,
                ));
                components.extend(comps.iter().cloned());
                UnitReport {
                    unit: (*unit).to_owned(),
                    outcome: "mapped",
                    settings: written,
                    components: comps,
                    note: note.to_owned(),
                }
            }
            Action::Builtin { why } => UnitReport {
                unit: (*unit).to_owned(),
                outcome: "builtin",
                settings: vec![],
                components: vec![],
                note: why.to_owned(),
            },
            Action::Dropped { why } => {
                let mut settings = Vec::new();
                if row.component == "nfs-server-provisioner"
                    && let Some(class) = release_values(objects, "nfs-server-provisioner")
                        .and_then(|v| v["storageClass"]["name"].as_str().map(str::to_owned))
                        .or_else(|| Some("nfs".to_owned()))
                {
                    set_path(&mut cfg, "cluster.rwxStorageClass", json!(class));
                    settings.push(format!("cluster.rwxStorageClass: \"{class}\""));
                }
                UnitReport {
                    unit: (*unit).to_owned(),
                    outcome: "dropped",
                    settings,
                    components: vec![],
                    note: why.to_owned(),
                }
            }
        };
        reports.push(report);
    }
    // The reference's namespaces for the components that keep data, so that their volumes,
    // Secrets and Helm releases stay where they are.
    keep_namespaces(objects, catalogue, &components, &mut cfg, &mut notes);

    let (tenants, tenant_notes) = tenants(objects);
    cfg["tenants"] = Value::Array(tenants);
    notes.extend(tenant_notes);

    let (mut yaml, mut cfg) = read_back(cfg, catalogue, &mut notes)?;
    // A reference release below a version haven's pin must not skip (Mimir's chart 6.0.5 and
    // 6.1.0): the first render pins the stop, and the note says when to drop the pin.
    if let Ok((parsed, _)) = config::parse("haven-plus.yaml", &yaml, catalogue) {
        let skipped = super::upgrade::skipped_stops(objects, &parsed, catalogue);
        if !skipped.is_empty() {
            for s in &skipped {
                set_path(
                    &mut cfg,
                    &format!("components.{}.version", s.component),
                    json!(s.stop),
                );
                notes.push(format!(
                    "components.{c}.version: {stop} (the reference installs {chart} {installed}; \
                     {reason}): render and apply with it, then remove it for {target} \
                     (docs/plus.md, \"Upgrading haven itself\")",
                    c = s.component,
                    stop = s.stop,
                    chart = s.chart,
                    installed = s.installed,
                    reason = s.reason,
                    target = s.target,
                ));
            }
            (yaml, cfg) = read_back(cfg, catalogue, &mut notes)?;
        }
    }
    // A component several reference units map to (velero-controller and velero-config) would
    // otherwise say the same thing once per unit.
    let mut said = std::collections::BTreeSet::new();
    notes.retain(|n| said.insert(n.clone()));
    Ok(Imported {
        yaml,
        config: cfg,
        units: reports,
        notes,
    })
}

/// Writes the config as YAML and reads it back with `config::parse`; a key this build does not
/// accept (a capability not merged yet, a value out of range) is removed with a note, so the
/// import still writes a config that renders.
fn read_back(
    mut cfg: Value,
    catalogue: &Catalogue,
    notes: &mut Vec<String>,
) -> Result<(String, Value), ImportError> {
    for _ in 0..32 {
        let yaml = to_yaml(&cfg);
        match config::parse("haven-plus.yaml", &yaml, catalogue) {
            Ok(_) => return Ok((yaml, cfg)),
            Err(errors) => {
                let mut removed = false;
                for e in &errors {
                    if !e.path.is_empty() && remove_path(&mut cfg, &e.path) {
                        notes.push(format!(
                            "`{}` left out: {} (this haven does not accept it)",
                            e.path, e.message
                        ));
                        removed = true;
                    }
                }
                if !removed {
                    return Err(ImportError::Invalid(
                        errors
                            .iter()
                            .map(|e| e.describe())
                            .collect::<Vec<_>>()
                            .join("; "),
                    ));
                }
            }
        }
    }
    Err(ImportError::Invalid("too many keys refused".to_owned()))
}

const IMPORT_HEADER: &str = "# haven-plus.yaml imported from the Haven+ reference implementation by `haven plus import`.\n# Review the notes it printed; `haven plus explain <key>` documents every key.\n";

fn to_yaml(cfg: &Value) -> String {
    format!(
        "{IMPORT_HEADER}{}",
        serde_yaml_ng::to_string(cfg).unwrap_or_default()
    )
}

fn find_domain(objects: &ClusterObjects) -> Option<String> {
    let listeners = objects
        .objects
        .iter()
        .filter(|o| o.id.kind == "Gateway")
        .flat_map(|o| {
            o.value["spec"]["listeners"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|l| l["hostname"].as_str().map(str::to_owned))
        .filter_map(|h| h.strip_prefix("*.").map(str::to_owned));
    let routes = objects
        .objects
        .iter()
        .filter(|o| matches!(o.id.kind.as_str(), "HTTPRoute" | "TLSRoute" | "GRPCRoute"))
        .flat_map(|o| {
            o.value["spec"]["hostnames"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|h| {
            h.as_str()
                .and_then(|h| h.split_once('.'))
                .map(|(_, d)| d.to_owned())
        });
    listeners
        .chain(routes)
        .find(|d| !is_placeholder(d) && d.contains('.'))
}

/// The values of the reference's HelmRelease of a component (after the overlay's patches).
fn release_values(objects: &ClusterObjects, name: &str) -> Option<Value> {
    objects
        .objects
        .iter()
        .find(|o| o.id.kind == "HelmRelease" && o.id.name == name)
        .map(|o| o.value["spec"]["values"].clone())
}

/// Settings that come from the reference's values rather than from the unit's presence.
fn component_values(
    component: &str,
    objects: &ClusterObjects,
    cfg: &mut Value,
    notes_out: &mut Vec<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    match component {
        "metallb" => {
            let addresses: Vec<Value> = objects
                .objects
                .iter()
                .filter(|o| o.id.kind == "IPAddressPool")
                .flat_map(|o| {
                    o.value["spec"]["addresses"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                })
                .collect();
            if !addresses.is_empty() {
                out.push(format!(
                    "capabilities.loadBalancer.addresses: {}",
                    Value::Array(addresses.clone())
                ));
                set_path(
                    cfg,
                    "capabilities.loadBalancer.addresses",
                    Value::Array(addresses),
                );
            }
        }
        "nfs-subdir-external-provisioner" => {
            if let Some(v) = release_values(objects, component) {
                let server = v["nfs"]["server"].as_str().unwrap_or_default();
                let path = v["nfs"]["path"].as_str().unwrap_or_default();
                // A placeholder becomes one that reads as such and renders (a reserved
                // `.invalid` name), so the rest of the platform can be validated meanwhile.
                let (server, path) = if is_placeholder(server) || is_placeholder(path) {
                    notes_out.push(format!(
                        "capabilities.storage.nfs: the reference's values hold placeholders (server `{server}`, path `{path}`): written as `nfs.example.invalid:/set-the-export`; set the NFS export"
                    ));
                    ("nfs.example.invalid", "/set-the-export")
                } else {
                    (server, path)
                };
                let nfs = json!({"server": server, "path": path});
                out.push(format!("capabilities.storage.nfs: {nfs}"));
                set_path(cfg, "capabilities.storage.nfs", nfs);
                if let Some(class) = v["storageClass"]["name"].as_str() {
                    // The class haven's provisioner makes keeps the reference's name: claims
                    // made with it stay provisioned, and the platform's new claims use it.
                    set_path(
                        cfg,
                        &format!("components.{component}.values.storageClass.name"),
                        json!(class),
                    );
                    set_path(cfg, "cluster.rwxStorageClass", json!(class));
                    out.push(format!(
                        "components.{component}.values.storageClass.name, cluster.rwxStorageClass: \"{class}\""
                    ));
                }
            }
        }
        "velero" => {
            // The reference's daily Schedule (one per tenant namespace): its cron and retention.
            if let Some(schedule) = objects
                .objects
                .iter()
                .find(|o| o.id.kind == "Schedule" && o.id.group == "velero.io")
            {
                if let Some(cron) = schedule.value["spec"]["schedule"].as_str() {
                    set_path(cfg, "capabilities.backups.schedule", json!(cron));
                    out.push(format!("capabilities.backups.schedule: \"{cron}\""));
                }
                if let Some(ttl) = schedule.value["spec"]["template"]["ttl"].as_str() {
                    set_path(cfg, "capabilities.backups.ttl", json!(ttl));
                    out.push(format!("capabilities.backups.ttl: \"{ttl}\""));
                }
            }
        }
        _ => {}
    }
    // Data the reference keeps outside the cluster stays where it is; haven's components store
    // in Garage, so they start empty unless pointed at it.
    if let Some(v) = release_values(objects, component) {
        let text = v.to_string();
        let external = ["s3Url", "endpoint"].iter().any(|k| {
            find_strings(&v, k)
                .iter()
                .any(|u| !u.contains(".svc") && !u.is_empty() && !u.starts_with("${"))
        });
        if external && text.contains("s3-credentials") {
            notes_out.push(format!(
                "{component}: the reference stores its data in the provider's object storage ({}); haven's {component} stores in Garage in the cluster and starts empty. The old buckets are not touched: to keep using them, point components.{component}.values at them and allow that egress",
                find_strings(&v, "s3Url")
                    .into_iter()
                    .chain(find_strings(&v, "endpoint"))
                    .next()
                    .unwrap_or_default()
            ));
        }
    }
    out
}

/// Every string value under a key of this name, at any depth.
fn find_strings(v: &Value, key: &str) -> Vec<String> {
    let mut out = Vec::new();
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == key
                    && let Some(s) = x.as_str()
                {
                    out.push(s.to_owned());
                }
                out.extend(find_strings(x, key));
            }
        }
        Value::Array(a) => a.iter().for_each(|x| out.extend(find_strings(x, key))),
        _ => {}
    }
    out
}

/// Components whose reference namespace differs from the catalogue's get a namespace override,
/// so their PersistentVolumeClaims, Secrets and Helm release storage stay where they are.
fn keep_namespaces(
    objects: &ClusterObjects,
    catalogue: &Catalogue,
    components: &BTreeSet<String>,
    cfg: &mut Value,
    notes: &mut Vec<String>,
) {
    for name in components {
        let Some(c) = catalogue.get(name) else {
            continue;
        };
        let Some(hr) = objects
            .objects
            .iter()
            .find(|o| o.id.kind == "HelmRelease" && o.id.name == *name)
        else {
            continue;
        };
        let ns = hr.value["spec"]["targetNamespace"]
            .as_str()
            .or(hr.id.namespace.as_deref());
        if let Some(ns) = ns
            && ns != c.namespace
            && ns != "flux-system"
        {
            set_path(cfg, &format!("components.{name}.namespace"), json!(ns));
            notes.push(format!(
                "components.{name}.namespace: `{ns}` (the reference's, instead of `{}`), so its volumes and Secrets stay where they are",
                c.namespace
            ));
        }
    }
}

/// The Flux Kustomizations that are tenants' own syncs (in a namespace other than
/// flux-system) or the cluster's `tenants` entry points.
fn tenant_kustomizations(objects: &ClusterObjects) -> BTreeSet<String> {
    objects
        .kustomizations()
        .filter(|k| {
            k.value["spec"]["path"]
                .as_str()
                .is_some_and(|p| p.trim_start_matches("./").starts_with("tenants/"))
                || k.id
                    .namespace
                    .as_deref()
                    .is_some_and(|n| n != "flux-system")
        })
        .map(|k| k.id.name.clone())
        .collect()
}

/// Tenants: a GitRepository outside flux-system with a Flux Kustomization in its namespace.
fn tenants(objects: &ClusterObjects) -> (Vec<Value>, Vec<String>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut seen = BTreeSet::new();
    for git in objects.objects.iter().filter(|o| {
        o.id.kind == "GitRepository" && o.id.namespace.as_deref() != Some("flux-system")
    }) {
        let Some(ns) = git.id.namespace.clone() else {
            continue;
        };
        if !seen.insert(ns.clone()) {
            continue;
        }
        let sync = objects.kustomizations().find(|k| {
            k.id.namespace.as_deref() == Some(&ns)
                && k.value["spec"]["sourceRef"]["name"].as_str() == Some(&git.id.name)
        });
        let group = objects
            .objects
            .iter()
            .filter(|o| o.id.kind == "RoleBinding" && o.id.namespace.as_deref() == Some(&ns))
            .flat_map(|o| o.value["subjects"].as_array().cloned().unwrap_or_default())
            .find(|s| s["kind"] == "Group")
            .and_then(|s| s["name"].as_str().map(str::to_owned));
        let group = match group {
            Some(g) => g,
            None => {
                notes.push(format!(
                    "tenant `{ns}`: the reference binds no OIDC group in it (only its reconciler, as cluster-admin of the namespace); tenants[].group is `{ns}`: set the group of its team"
                ));
                ns.clone()
            }
        };
        let mut t = json!({"name": ns, "group": group});
        if let Some(url) = git.value["spec"]["url"].as_str() {
            t["repo"] = json!(url);
        }
        if let Some(branch) = git.value["spec"]["ref"]["branch"].as_str()
            && branch != "main"
        {
            t["branch"] = json!(branch);
        }
        if let Some(secret) = git.value["spec"]["secretRef"]["name"].as_str() {
            t["repoSecretRef"] = json!(secret);
        }
        if let Some(path) = sync.and_then(|k| k.value["spec"]["path"].as_str())
            && !path
                .trim_start_matches("./")
                .trim_end_matches('/')
                .is_empty()
        {
            t["path"] = json!(path);
        }
        if sync.is_some_and(|k| k.value["spec"]["prune"] == false) {
            notes.push(format!(
                "tenant `{ns}`: the reference syncs it with `prune: false`; haven's tenant sync prunes (objects removed from the tenant's repository are deleted): check its repository holds everything it runs"
            ));
        }
        out.push(t);
    }
    (out, notes)
}

/// The reference's stateful objects on the cluster: what a careless cut-over deletes.
pub fn stateful(objects: &ClusterObjects) -> Vec<&TreeObject> {
    objects
        .objects
        .iter()
        .filter(|o| is_stateful(&o.id))
        .collect()
}

/// Kinds whose deletion loses data: a Namespace (everything in it), a claim (its volume),
/// a CloudNativePG Cluster (the database), a SealedSecret (the Secret it owns), a Secret.
pub fn is_stateful(id: &ObjectId) -> bool {
    matches!(
        (id.group.as_str(), id.kind.as_str()),
        ("", "Namespace" | "PersistentVolumeClaim" | "Secret")
            | ("postgresql.cnpg.io", "Cluster")
            | ("bitnami.com", "SealedSecret")
            | ("velero.io", "BackupStorageLocation")
    )
}

/// The Flux Kustomizations of the reference (not the root `flux-system`).
pub fn reference_units(objects: &ClusterObjects) -> Vec<&TreeObject> {
    objects
        .kustomizations()
        .filter(|k| k.id.name != "flux-system" && k.id.group == FLUX_KUSTOMIZE_GROUP)
        .collect()
}

/// Reference components by their units, for the plan.
pub fn units_by_component(objects: &ClusterObjects) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for k in reference_units(objects) {
        let component = mapping::for_unit(&k.id.name)
            .map(|m| m.component.to_owned())
            .unwrap_or_else(|| k.id.name.clone());
        out.entry(component).or_default().push(k.id.name.clone());
    }
    out
}

/// The cut-over from the reference to the imported config: the reference cluster's objects
/// against the tree `haven plus render` writes for it (`new`: the render, laid out as the
/// config says), with the reference's `s3-credentials` copied under haven's names.
pub fn cutover(
    reference: &ClusterObjects,
    config: &crate::PlatformConfig,
    new: &BTreeMap<std::path::PathBuf, String>,
) -> super::Transition {
    let new = ClusterObjects::from_tree(new, &config.cluster.name);
    let name = &config.cluster.name;
    let switch = vec![
        format!(
            "git rm -r -q clusters/{name}/infrastructure clusters/{name}/tenants.yaml infrastructure tenants  # the reference's units; keep clusters/{name}/flux-system"
        ),
        "haven plus render -c haven-plus.yaml -o .".to_owned(),
        format!(
            "git add haven-plus.yaml clusters/{name} infrastructure tenants && git commit -m 'platform: haven plus' && git push"
        ),
        format!(
            "kubectl -n flux-system patch kustomizations.kustomize.toolkit.fluxcd.io flux-system --type=merge -p '{{\"spec\":{{\"path\":\"./clusters/{name}\"}}}}'  # the path haven renders (unchanged when the cluster keeps its name)"
        ),
        "flux reconcile kustomization flux-system --with-source".to_owned(),
    ];
    let mut t = super::transition(reference, &new, switch, true);
    let secret_copies: Vec<super::plan::SecretCopy> = mapping::SECRETS
        .iter()
        .filter_map(|m| {
            let release = reference.objects.iter().find(|o| {
                o.id.kind == "HelmRelease"
                    && o.id.name == m.component
                    && o.value["spec"].to_string().contains(m.from)
            })?;
            let ns = release.id.namespace.clone()?;
            Some(super::plan::SecretCopy {
                namespace: ns,
                from: m.from.to_owned(),
                to: m.to.to_owned(),
                keys: m
                    .keys
                    .iter()
                    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                    .collect(),
            })
        })
        .collect();
    if !secret_copies.is_empty() {
        let at = t
            .plan
            .steps
            .iter()
            .position(|s| s.id == "switch")
            .unwrap_or(t.plan.steps.len());
        let mut input = super::plan::PlanInput {
            secret_copies,
            ..Default::default()
        };
        input.switch.clear();
        let step = super::plan::build(&input)
            .steps
            .into_iter()
            .find(|s| s.id == "map-secrets");
        if let Some(step) = step {
            t.plan.steps.insert(at, step);
        }
    }
    t
}
