//! Offline validation of a rendered (or hand-edited) tree.
//!
//! - Built-in kinds are decoded into the `k8s-openapi` types of the target minor (1.37) and
//!   serialised back; a field the type dropped is a field the API server would prune (unknown),
//!   a decode error is a type error.
//! - Custom resources are validated with JSON Schema against the CRD schema of their
//!   group/kind/version, then a strict pass reports properties the schema does not declare
//!   (the published CRD schemas do not forbid them). A custom resource without a schema is an
//!   error, never a silent pass.
//! - The tree's own wiring: every `kustomization.yaml` resource exists, every Flux
//!   Kustomization path exists, every `dependsOn` names a Kustomization of the tree, every
//!   HelmRelease and Kustomization source reference names a Flux source of the tree.
//! - Workloads pass `haven app check` (Pod Security restricted and the Haven rules).
//! - No credential in clear text (`crate::secrets`): Secret data, secretGenerator literals,
//!   credential fields in HelmRelease values, URLs with a password or token.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use haven_model::{Object, Origin, load_objects};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Where CRD schemas come from: a directory laid out as `<group>/<kind>_<version>.json`.
pub trait SchemaSource {
    /// The schema of one custom resource kind, lowercase kind; `Ok(None)` when absent.
    fn crd_schema(&self, group: &str, kind: &str, version: &str) -> Result<Option<Value>, String>;
    /// For messages: where schemas were looked up.
    fn describe(&self) -> String;
}

/// In-memory schemas (tests, and callers that fetched them elsewhere).
#[derive(Debug, Default, Clone)]
pub struct MemorySchemas(pub BTreeMap<(String, String, String), Value>);

impl SchemaSource for MemorySchemas {
    fn crd_schema(&self, group: &str, kind: &str, version: &str) -> Result<Option<Value>, String> {
        Ok(self
            .0
            .get(&(group.to_owned(), kind.to_owned(), version.to_owned()))
            .cloned())
    }
    fn describe(&self) -> String {
        "in-memory schemas".to_owned()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in the tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: u32,
    pub severity: Severity,
    /// Field path inside the object, when the problem is about one field.
    pub path: String,
    /// `Kind/name` of the object, when there is one.
    pub object: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}:{}: {sev}: ", self.file, self.line)?;
        if !self.object.is_empty() {
            write!(f, "{}: ", self.object)?;
        }
        write!(f, "{}", self.message)?;
        if !self.path.is_empty() {
            write!(f, " (field `{}`)", self.path)?;
        }
        Ok(())
    }
}

/// Options of a validation run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Target Kubernetes minor, `1.37`.
    pub kubernetes_version: String,
    /// Run `haven app check` on workloads.
    pub check_workloads: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            kubernetes_version: "1.37".to_owned(),
            check_workloads: true,
        }
    }
}

/// The stable API version of each Flux API group the tree uses, as Flux 2.9 serves them.
pub const FLUX_STABLE: &[(&str, &str)] = &[
    ("source.toolkit.fluxcd.io", "v1"),
    ("kustomize.toolkit.fluxcd.io", "v1"),
    ("helm.toolkit.fluxcd.io", "v2"),
];

/// The Kubernetes minors whose schemas this build carries (k8s-openapi's `v1_37`).
pub const SUPPORTED_KUBERNETES: &[&str] = &["1.37"];

/// The outcome of a run.
#[derive(Debug, Default)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
    pub objects: usize,
    pub custom_resources: usize,
    pub files: usize,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }
}

/// Validates every YAML file of a tree given as path → text.
pub fn validate(
    files: &BTreeMap<PathBuf, String>,
    schemas: &dyn SchemaSource,
    opts: &Options,
) -> Report {
    let mut report = Report::default();
    if !SUPPORTED_KUBERNETES.contains(&opts.kubernetes_version.as_str()) {
        report.diagnostics.push(Diagnostic {
            file: String::new(),
            line: 0,
            severity: Severity::Error,
            path: String::new(),
            object: String::new(),
            message: format!(
                "Kubernetes {} is not supported: this build validates against {}",
                opts.kubernetes_version,
                SUPPORTED_KUBERNETES.join(", ")
            ),
        });
        return report;
    }
    let mut v = Validator {
        schemas,
        compiled: HashMap::new(),
        diags: Vec::new(),
    };
    let mut all_objects = Vec::new();
    let mut flux_units: BTreeMap<String, FluxUnit> = BTreeMap::new();
    // Flux sources (`Kind/namespace/name`) and the references to them.
    let mut sources: BTreeSet<String> = BTreeSet::new();
    let mut source_refs: Vec<(Object, &str, String)> = Vec::new();
    let dirs: BTreeSet<PathBuf> = files
        .keys()
        .flat_map(|p| p.ancestors().skip(1).map(Path::to_path_buf))
        .collect();
    for (path, text) in files {
        let name = path.to_string_lossy().replace('\\', "/");
        if !(name.ends_with(".yaml") || name.ends_with(".yml")) {
            continue;
        }
        report.files += 1;
        let outcome = load_objects(Origin::File(&name), text);
        for e in outcome.errors {
            v.push(
                &name,
                e.line,
                e.field.as_deref().unwrap_or(""),
                "",
                e.message,
            );
        }
        for o in outcome.objects {
            for n in &o.notes {
                v.diags.push(Diagnostic {
                    file: name.clone(),
                    line: n.line,
                    severity: Severity::Warning,
                    path: n.path.clone(),
                    object: label(&o),
                    message: format!(
                        "`{}` is read by Kubernetes as {} but by YAML 1.2 tools as {}; quote it",
                        n.text, n.kubernetes_reads, n.yaml12_reads
                    ),
                });
            }
            v.secrets(&o);
            if o.api_version.starts_with("kustomize.config.k8s.io/") {
                v.kustomize_file(&o, path, files);
                continue;
            }
            report.objects += 1;
            if let Some((group, version)) = o.api_version.split_once('/')
                && let Some((_, stable)) = FLUX_STABLE.iter().find(|(g, _)| *g == group)
                && version != *stable
            {
                let loc = o.location("apiVersion");
                v.diags.push(Diagnostic {
                    file: loc.file.to_string(),
                    line: loc.line,
                    severity: Severity::Warning,
                    path: "apiVersion".to_owned(),
                    object: label(&o),
                    message: format!(
                        "`{}` is not the version Flux 2.9 serves as stable (deprecated or removed; \
                         a schema of that name may be another project's): use `{group}/{stable}`",
                        o.api_version
                    ),
                });
            }
            let own_ns = o.namespace.clone().unwrap_or_default();
            if o.api_version.starts_with("source.toolkit.fluxcd.io/") {
                sources.insert(format!("{}/{own_ns}/{}", o.kind, o.name));
            }
            let is_flux_consumer = (o.api_version.starts_with("helm.toolkit.fluxcd.io/")
                && o.kind == "HelmRelease")
                || (o.api_version.starts_with("kustomize.toolkit.fluxcd.io/")
                    && o.kind == "Kustomization");
            if is_flux_consumer {
                for path in [
                    "spec.chartRef",
                    "spec.chart.spec.sourceRef",
                    "spec.sourceRef",
                ] {
                    if let Some(r) = o.get(path).and_then(Value::as_object) {
                        let kind = r.get("kind").and_then(Value::as_str).unwrap_or_default();
                        let name = r.get("name").and_then(Value::as_str).unwrap_or_default();
                        let ns = r
                            .get("namespace")
                            .and_then(Value::as_str)
                            .unwrap_or(&own_ns);
                        source_refs.push((o.clone(), path, format!("{kind}/{ns}/{name}")));
                    }
                }
            }
            if o.api_version == "kustomize.toolkit.fluxcd.io/v1" && o.kind == "Kustomization" {
                let deps = o
                    .get("spec.dependsOn")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|d| {
                                (
                                    d["name"].as_str().unwrap_or_default().to_owned(),
                                    d["namespace"].as_str().map(str::to_owned),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let ns = o.namespace.clone().unwrap_or_default();
                flux_units.insert(format!("{ns}/{}", o.name), (o.clone(), deps));
                v.flux_path(&o, &dirs);
            }
            if v.object(&o) {
                report.custom_resources += 1;
            }
            // Flux's own controllers, as `flux bootstrap` commits them, are Flux's to configure:
            // schema-checked like everything else, but not held to the application rules.
            if !name.ends_with(&format!("/flux-system/{}", crate::render::FLUX_COMPONENTS)) {
                all_objects.push(o);
            }
        }
    }
    for (key, (o, deps)) in &flux_units {
        let own_ns = key.split_once('/').map_or("", |(n, _)| n);
        for (i, (dep, dep_ns)) in deps.iter().enumerate() {
            let want = format!("{}/{dep}", dep_ns.as_deref().unwrap_or(own_ns));
            if !flux_units.contains_key(&want) {
                let loc = o.location(&format!("spec.dependsOn[{i}]"));
                v.diags.push(Diagnostic {
                    file: loc.file.to_string(),
                    line: loc.line,
                    severity: Severity::Error,
                    path: format!("spec.dependsOn[{i}]"),
                    object: label(o),
                    message: format!("depends on Kustomization `{want}`, which is not in the tree"),
                });
            }
        }
    }
    for (o, path, want) in &source_refs {
        if !sources.contains(want) {
            let loc = o.location(path);
            let (kind, rest) = want.split_once('/').unwrap_or(("", want));
            v.diags.push(Diagnostic {
                file: loc.file.to_string(),
                line: loc.line,
                severity: Severity::Error,
                path: (*path).to_owned(),
                object: label(o),
                message: format!("refers to {kind} `{rest}`, which is not in the tree"),
            });
        }
    }
    if opts.check_workloads {
        // `haven.manifests` asks an *application* to ship a workload; a platform tree is
        // HelmReleases and policies, whose workloads come from the charts at reconcile time.
        let rules = haven_rules::CheckOptions {
            skip: vec!["haven.manifests".to_owned()],
            ..Default::default()
        };
        let outcome = haven_rules::check(&all_objects, &rules);
        for f in outcome.findings {
            v.diags.push(Diagnostic {
                file: f.location.file.to_string(),
                line: f.location.line,
                severity: Severity::Error,
                path: f.path.clone(),
                object: format!("{}/{}", f.object.kind, f.object.name),
                message: format!("haven app check: {} {}", f.rule, f.message),
            });
        }
        for e in outcome.errors {
            v.push(
                &e.file,
                e.line,
                e.field.as_deref().unwrap_or(""),
                "",
                e.message,
            );
        }
    }
    v.diags.sort();
    v.diags.dedup();
    report.diagnostics = v.diags;
    report
}

/// A SOPS-encrypted object (the way to keep a Secret in Git that `crate::secrets` points to) as
/// Flux's kustomize-controller hands it to the API server: without the `sops` metadata, and with
/// each encrypted value (`ENC[AES256_GCM,...]`) standing for a value of the right shape.
/// `None` for an object that is not SOPS-encrypted.
fn sops_decrypted_shape(value: &Value) -> Option<Value> {
    fn blank(v: &mut Value) {
        match v {
            Value::String(s) if s.starts_with("ENC[") => s.clear(),
            Value::Object(m) => m.values_mut().for_each(blank),
            Value::Array(a) => a.iter_mut().for_each(blank),
            _ => {}
        }
    }
    value.get("sops")?;
    let mut v = value.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("sops");
    }
    blank(&mut v);
    Some(v)
}

/// A Flux Kustomization and its `dependsOn` (name, namespace).
type FluxUnit = (Object, Vec<(String, Option<String>)>);

/// A compiled CRD schema (with its source, for the strict pass), or why there is none.
type CompiledSchema = Result<(Value, jsonschema::Validator), String>;

fn label(o: &Object) -> String {
    format!("{}/{}", o.kind, o.name)
}

struct Validator<'s> {
    schemas: &'s dyn SchemaSource,
    compiled: HashMap<(String, String, String), CompiledSchema>,
    diags: Vec<Diagnostic>,
}

impl Validator<'_> {
    fn push(&mut self, file: &str, line: u32, path: &str, object: &str, message: String) {
        self.diags.push(Diagnostic {
            file: file.to_owned(),
            line,
            severity: Severity::Error,
            path: path.to_owned(),
            object: object.to_owned(),
            message,
        });
    }

    fn at(&mut self, o: &Object, path: &str, message: String) {
        let loc = o.location(path);
        self.push(&loc.file, loc.line, path, &label(o), message);
    }

    /// Credentials in clear text (`crate::secrets`): named by field, never repeated.
    fn secrets(&mut self, o: &Object) {
        for e in crate::secrets::scan_object(&o.api_version, &o.kind, &o.value) {
            self.at(o, &e.path, e.what);
        }
    }

    /// `resources:` of a kustomize file must exist next to it.
    fn kustomize_file(&mut self, o: &Object, path: &Path, files: &BTreeMap<PathBuf, String>) {
        let dir = path.parent().unwrap_or(Path::new(""));
        let Some(resources) = o.get("resources").and_then(Value::as_array) else {
            return;
        };
        for (i, r) in resources.iter().enumerate() {
            let Some(r) = r.as_str() else { continue };
            let target = normalize(&dir.join(r));
            let exists = files.contains_key(&target)
                || files.keys().any(|k| k.starts_with(&target) && k != &target);
            if !exists {
                self.at(
                    o,
                    &format!("resources[{i}]"),
                    format!("resource `{r}` does not exist in the tree"),
                );
            }
        }
    }

    /// A Flux Kustomization reading the tree's own repository must point at a directory of it.
    fn flux_path(&mut self, o: &Object, dirs: &BTreeSet<PathBuf>) {
        if o.get("spec.sourceRef.name").and_then(Value::as_str) != Some("flux-system") {
            return;
        }
        let Some(p) = o.get("spec.path").and_then(Value::as_str) else {
            return;
        };
        let target = normalize(Path::new(p));
        if !dirs.contains(&target) {
            self.at(
                o,
                "spec.path",
                format!("path `{p}` is not a directory of the tree"),
            );
        }
    }

    /// Validates one object; returns whether it is a custom resource.
    fn object(&mut self, o: &Object) -> bool {
        let sops = sops_decrypted_shape(&o.value);
        let value = sops.as_ref().unwrap_or(&o.value);
        match typed_roundtrip(&o.api_version, &o.kind, value) {
            Some(Ok(back)) => {
                let mut dropped = Vec::new();
                find_dropped(value, &back, String::new(), &mut dropped);
                for path in dropped {
                    self.at(
                        o,
                        &path,
                        format!("unknown field `{path}` for {} {}", o.api_version, o.kind),
                    );
                }
                false
            }
            Some(Err((path, msg))) => {
                self.at(o, &path, format!("{} {}: {msg}", o.api_version, o.kind));
                false
            }
            None if is_builtin_group(o.api_group()) => {
                self.at(
                    o,
                    "kind",
                    format!(
                        "no built-in kind {} in {} for Kubernetes 1.37 (or not one haven validates)",
                        o.kind, o.api_version
                    ),
                );
                false
            }
            None => {
                self.custom_resource(o);
                true
            }
        }
    }

    fn custom_resource(&mut self, o: &Object) {
        let group = o.api_group().to_owned();
        let version = o
            .api_version
            .rsplit_once('/')
            .map_or(o.api_version.as_str(), |(_, v)| v)
            .to_owned();
        let kind = o.kind.to_lowercase();
        let key = (group.clone(), kind.clone(), version.clone());
        if !self.compiled.contains_key(&key) {
            let entry = match self.schemas.crd_schema(&group, &kind, &version) {
                Ok(Some(schema)) => jsonschema::validator_for(&schema)
                    .map(|v| (schema, v))
                    .map_err(|e| {
                        format!("the schema {group}/{kind}_{version}.json is invalid: {e}")
                    }),
                Ok(None) => Err(format!(
                    "no schema for {} {} ({group}/{kind}_{version}.json in {}); pass --crd-schemas DIR",
                    o.api_version,
                    o.kind,
                    self.schemas.describe()
                )),
                Err(e) => Err(e),
            };
            self.compiled.insert(key.clone(), entry);
        }
        let mut found = Vec::new();
        match &self.compiled[&key] {
            Err(e) => found.push((String::new(), e.clone())),
            Ok((schema, validator)) => {
                for e in validator.iter_errors(&o.value) {
                    let mut path = String::new();
                    for seg in e.instance_path().iter() {
                        match seg {
                            jsonschema::paths::LocationSegment::Property(p) => {
                                haven_model::path::push_key(&mut path, &p);
                            }
                            jsonschema::paths::LocationSegment::Index(i) => {
                                path.push_str(&format!("[{i}]"));
                            }
                        }
                    }
                    let mut msg = e.to_string();
                    if msg.len() > 240 {
                        let cut = (0..=240)
                            .rev()
                            .find(|i| msg.is_char_boundary(*i))
                            .unwrap_or(0);
                        msg.truncate(cut);
                        msg.push('…');
                    }
                    found.push((path, msg));
                }
                for u in haven_model::strict::unknown_properties(schema, &o.value) {
                    // metadata is `type: object` in CRD schemas; it is checked below, typed.
                    if u.parent.is_empty() && u.key == "metadata" {
                        continue;
                    }
                    let full = crate::config::join_path(&u.parent, &u.key);
                    let hint = haven_model::did_you_mean(&u.key, &u.known)
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    found.push((
                        full.clone(),
                        format!("unknown field `{full}` (not in the CRD schema){hint}"),
                    ));
                }
            }
        }
        // The strict pass says the same as a schema's own `additionalProperties: false`, with the
        // full path and a suggestion: keep only its line.
        let strict: Vec<(String, String)> = found
            .iter()
            .filter(|(_, m)| m.starts_with("unknown field `"))
            .map(|(p, _)| p.clone())
            .map(|p| match p.rfind('.') {
                Some(i) => (p[..i].to_owned(), p[i + 1..].to_owned()),
                None => (String::new(), p.clone()),
            })
            .collect();
        found.retain(|(path, msg)| {
            !(msg.starts_with("Additional properties are not allowed")
                && strict
                    .iter()
                    .any(|(parent, key)| parent == path && msg.contains(&format!("'{key}'"))))
        });
        for (path, msg) in found {
            self.at(o, &path, msg);
        }
        if let Some(meta) = o.value.get("metadata") {
            match roundtrip::<k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>(meta) {
                Ok(back) => {
                    let mut dropped = Vec::new();
                    find_dropped(meta, &back, "metadata".to_owned(), &mut dropped);
                    for p in dropped {
                        self.at(o, &p, format!("unknown field `{p}` in ObjectMeta"));
                    }
                }
                Err((p, msg)) => {
                    let p = crate::config::join_path("metadata", &p);
                    self.at(o, &p, format!("metadata: {msg}"));
                }
            }
        }
    }
}

/// Resolves `.` and `..` without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// API groups Kubernetes itself serves; anything else is a custom resource.
fn is_builtin_group(group: &str) -> bool {
    matches!(
        group,
        "" | "apps"
            | "batch"
            | "autoscaling"
            | "policy"
            | "networking.k8s.io"
            | "rbac.authorization.k8s.io"
            | "storage.k8s.io"
            | "scheduling.k8s.io"
            | "admissionregistration.k8s.io"
            | "apiextensions.k8s.io"
            | "apiregistration.k8s.io"
            | "coordination.k8s.io"
            | "discovery.k8s.io"
            | "node.k8s.io"
            | "certificates.k8s.io"
            | "events.k8s.io"
            | "flowcontrol.apiserver.k8s.io"
            | "resource.k8s.io"
    )
}

type RoundtripError = (String, String);

fn roundtrip<T: DeserializeOwned + Serialize>(v: &Value) -> Result<Value, RoundtripError> {
    let t: T = serde_path_to_error::deserialize(v).map_err(|e| {
        let p = e.path().to_string();
        let p = if p == "." { String::new() } else { p };
        (p, e.inner().to_string())
    })?;
    serde_json::to_value(&t).map_err(|e| (String::new(), e.to_string()))
}

/// Decodes a built-in object into its typed struct and serialises it back; `None` when the
/// kind is not a built-in one haven knows.
fn typed_roundtrip(
    api_version: &str,
    kind: &str,
    v: &Value,
) -> Option<Result<Value, RoundtripError>> {
    use k8s_openapi::api::{
        apps::v1 as apps, autoscaling::v2 as autoscaling, batch::v1 as batch, core::v1 as core,
        networking::v1 as networking, policy::v1 as policy, rbac::v1 as rbac,
        storage::v1 as storage,
    };
    macro_rules! kinds {
        ($($av:literal, $k:literal => $t:ty;)*) => {
            match (api_version, kind) {
                $(($av, $k) => Some(roundtrip::<$t>(v)),)*
                _ => None,
            }
        };
    }
    kinds! {
        "v1", "Namespace" => core::Namespace;
        "v1", "ConfigMap" => core::ConfigMap;
        "v1", "Secret" => core::Secret;
        "v1", "Service" => core::Service;
        "v1", "ServiceAccount" => core::ServiceAccount;
        "v1", "ResourceQuota" => core::ResourceQuota;
        "v1", "LimitRange" => core::LimitRange;
        "v1", "PersistentVolumeClaim" => core::PersistentVolumeClaim;
        "v1", "Pod" => core::Pod;
        "apps/v1", "Deployment" => apps::Deployment;
        "apps/v1", "StatefulSet" => apps::StatefulSet;
        "apps/v1", "DaemonSet" => apps::DaemonSet;
        "batch/v1", "Job" => batch::Job;
        "batch/v1", "CronJob" => batch::CronJob;
        "autoscaling/v2", "HorizontalPodAutoscaler" => autoscaling::HorizontalPodAutoscaler;
        "policy/v1", "PodDisruptionBudget" => policy::PodDisruptionBudget;
        "networking.k8s.io/v1", "NetworkPolicy" => networking::NetworkPolicy;
        "networking.k8s.io/v1", "Ingress" => networking::Ingress;
        "rbac.authorization.k8s.io/v1", "Role" => rbac::Role;
        "rbac.authorization.k8s.io/v1", "RoleBinding" => rbac::RoleBinding;
        "rbac.authorization.k8s.io/v1", "ClusterRole" => rbac::ClusterRole;
        "rbac.authorization.k8s.io/v1", "ClusterRoleBinding" => rbac::ClusterRoleBinding;
        "storage.k8s.io/v1", "StorageClass" => storage::StorageClass;
    }
}

/// Fields present in `input` (and not null) that are missing from the typed round trip.
fn find_dropped(input: &Value, back: &Value, path: String, out: &mut Vec<String>) {
    match (input, back) {
        (Value::Object(i), Value::Object(b)) => {
            for (k, v) in i {
                if v.is_null() {
                    continue;
                }
                let mut p = path.clone();
                haven_model::path::push_key(&mut p, k);
                match b.get(k) {
                    Some(bv) => find_dropped(v, bv, p, out),
                    None => out.push(p),
                }
            }
        }
        (Value::Array(i), Value::Array(b)) => {
            for (n, (iv, bv)) in i.iter().zip(b).enumerate() {
                find_dropped(iv, bv, format!("{path}[{n}]"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_roundtrip_finds_unknown_and_mistyped_fields() {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "a", "lables": {"x": "y"}}});
        let back = typed_roundtrip("v1", "Namespace", &ns).unwrap().unwrap();
        let mut dropped = Vec::new();
        find_dropped(&ns, &back, String::new(), &mut dropped);
        assert_eq!(dropped, vec!["metadata.lables".to_owned()]);

        let bad = json!({"apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": "q"}, "spec": {"hard": {"pods": ["x"]}}});
        let (path, _) = typed_roundtrip("v1", "ResourceQuota", &bad)
            .unwrap()
            .unwrap_err();
        assert!(path.starts_with("spec.hard"), "{path}");
        assert!(typed_roundtrip("example.com/v1", "Thing", &bad).is_none());
    }

    #[test]
    fn normalizes_relative_paths() {
        assert_eq!(normalize(Path::new("./a/b/../c")), PathBuf::from("a/c"));
    }
}
