//! Offline validation of a rendered (or hand-edited) tree.
//!
//! - Built-in kinds are checked against the API of the target minor (`kubernetes.rs`: the
//!   tables `cargo shapes` generates from `k8s-openapi` for every minor of the supported
//!   window): a kind or version that minor does not serve, a field its type does not declare
//!   there, a value of the wrong type; each message names the minor (and the minors that have
//!   what this one lacks).
//! - Custom resources are validated with JSON Schema against the CRD schema of their
//!   group/kind/version (from a [`SchemaSource`]: the CLI asks `--crd-schemas DIR`, then the
//!   schemas built into haven, [`crate::crds`]), with the API server's structural-schema rules
//!   (`crd.rs`): properties the schema does not declare are reported, as the server would prune
//!   them. A custom resource without a schema is an error, never a silent pass, reported once
//!   per kind with the number of objects.
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
use serde_json::Value;

pub use crate::error::SchemaError;
use crate::kubernetes::{Api, Issue, Problem};

/// Where CRD schemas come from: the ones built into haven ([`crate::crds::BuiltinSchemas`]), a
/// directory laid out as `<group>/<kind>_<version>.json`, or several of those in turn.
pub trait SchemaSource {
    /// The schema of one custom resource kind, lowercase kind; `Ok(None)` when absent.
    fn crd_schema(
        &self,
        group: &str,
        kind: &str,
        version: &str,
    ) -> Result<Option<Value>, SchemaError>;
    /// For messages: where schemas were looked up.
    fn describe(&self) -> String;
    /// What the source knows of a kind (lowercase) beyond one version's schema: which
    /// versions its CRD has and who installs it. A directory of schemas knows nothing of that.
    fn crd_kind(&self, _group: &str, _kind: &str) -> Option<CrdKind> {
        None
    }
}

/// A custom resource kind as its CRD defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrdKind {
    /// Who installs the CRD, for messages (`cert-manager v1.21.1`).
    pub installed_by: String,
    pub versions: Vec<CrdVersion>,
}

/// One version of a CRD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrdVersion {
    pub name: String,
    /// Whether the API server serves it (an object of a version not served is refused).
    pub served: bool,
    /// The CRD's deprecation warning, when the version is deprecated.
    pub deprecated: Option<String>,
}

/// Schema sources asked in turn; the first that has a schema wins (the user's own directory
/// before the built-in schemas, so that it can also override them).
pub struct Layered<'a>(pub Vec<&'a dyn SchemaSource>);

impl SchemaSource for Layered<'_> {
    fn crd_schema(
        &self,
        group: &str,
        kind: &str,
        version: &str,
    ) -> Result<Option<Value>, SchemaError> {
        for s in &self.0 {
            if let Some(schema) = s.crd_schema(group, kind, version)? {
                return Ok(Some(schema));
            }
        }
        Ok(None)
    }
    fn describe(&self) -> String {
        let all: Vec<String> = self.0.iter().map(|s| s.describe()).collect();
        all.join(", then ")
    }
    fn crd_kind(&self, group: &str, kind: &str) -> Option<CrdKind> {
        self.0.iter().find_map(|s| s.crd_kind(group, kind))
    }
}

/// In-memory schemas (tests, and callers that fetched them elsewhere).
#[derive(Debug, Default, Clone)]
pub struct MemorySchemas(pub BTreeMap<(String, String, String), Value>);

impl SchemaSource for MemorySchemas {
    fn crd_schema(
        &self,
        group: &str,
        kind: &str,
        version: &str,
    ) -> Result<Option<Value>, SchemaError> {
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

/// The Kubernetes minors whose APIs this build carries (`kubernetes/v1_NN.txt`, generated by
/// `cargo shapes` from `k8s-openapi`), oldest first: the supported window.
pub const SUPPORTED_KUBERNETES: &[&str] = &["1.35", "1.36", "1.37"];

/// Why `minor` cannot be validated against: outside the window, or too new for this build.
pub fn unsupported_kubernetes(minor: &str) -> String {
    let newest = SUPPORTED_KUBERNETES.last().copied().unwrap_or_default();
    let newer = |v: &str| {
        let parse = |v: &str| {
            v.split_once('.')
                .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
        };
        matches!((parse(v), parse(newest)), (Some(a), Some(b)) if a > b)
    };
    let window = SUPPORTED_KUBERNETES.join(", ");
    if newer(minor) {
        format!(
            "Kubernetes {minor} is newer than this build knows: it validates against {window}; \
             a haven release whose k8s-openapi carries the {minor} API adds it"
        )
    } else {
        format!("Kubernetes {minor} is not supported: this build validates against {window}")
    }
}

/// What a rendered tree says of itself in its `kube-public/haven-plus` ConfigMap (written by
/// `haven plus render` from the config): the Kubernetes minor it targets and the catalogue
/// components it installs. Empty for a tree without one.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PlatformFacts {
    /// `cluster.kubernetesVersion`, as rendered.
    pub kubernetes_version: Option<String>,
    /// Names of the installed components.
    pub components: Vec<String>,
    /// Where the ConfigMap was found (`file:line`), for messages.
    pub found_in: Option<String>,
}

/// Reads [`PlatformFacts`] from a tree (only files that can hold the ConfigMap are parsed).
pub fn platform_facts(files: &BTreeMap<PathBuf, String>) -> PlatformFacts {
    for (path, text) in files {
        let name = path.to_string_lossy().replace('\\', "/");
        if !(name.ends_with(".yaml") || name.ends_with(".yml"))
            || !text.contains("haven-plus")
            || !text.contains("kube-public")
        {
            continue;
        }
        for o in load_objects(Origin::File(&name), text).objects {
            if o.api_version != "v1"
                || o.kind != "ConfigMap"
                || o.name != "haven-plus"
                || o.namespace.as_deref() != Some("kube-public")
            {
                continue;
            }
            let data = |k: &str| o.get(&format!("data.{k}")).and_then(Value::as_str);
            let loc = o.location("data.kubernetesVersion");
            return PlatformFacts {
                kubernetes_version: data("kubernetesVersion").map(str::to_owned),
                components: data("components")
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|c| c.split('=').next())
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect(),
                found_in: Some(format!("{}:{}", loc.file, loc.line)),
            };
        }
    }
    PlatformFacts::default()
}

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
    let mut v = match Validator::new(schemas, opts) {
        Ok(v) => v,
        Err(d) => {
            report.diagnostics.push(d);
            return report;
        }
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
    // Overlays are read as Flux builds them: their bases and patches are not objects of their
    // own, and a patched field's findings name the patch (`crate::kustomize`).
    let patch_files = crate::kustomize::patch_files(files);
    let mut loaded: Vec<Object> = Vec::new();
    let mut direct: Vec<Object> = Vec::new();
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
            if o.api_version.starts_with("kustomize.config.k8s.io/") {
                v.kustomize_file(&o, path, files);
                v.flux_system_lockdown(&o, path, files);
                loaded.push(o);
            } else if patch_files.contains(path) {
                // A patch is part of the objects built from it; its own YAML readings and
                // clear-text values are its file's.
                notes(&mut v, &o);
                v.secrets(&o);
            } else {
                direct.push(o);
            }
        }
    }
    let view = crate::kustomize::view(files, direct);
    for e in &view.errors {
        let (file, line, field) = e.position();
        v.diags.push(Diagnostic {
            file: file.to_owned(),
            line,
            // What haven does not build is said, not failed: the rest is still validated.
            severity: if matches!(e, crate::kustomize::KustomizeError::Unsupported { .. }) {
                Severity::Warning
            } else {
                Severity::Error
            },
            path: field.to_owned(),
            object: String::new(),
            message: e.message(),
        });
    }
    loaded.extend(view.objects);
    for o in loaded {
        let name = o.file.to_string();
        {
            notes(&mut v, &o);
            v.secrets(&o);
            if o.api_version.starts_with("kustomize.config.k8s.io/") {
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
            v.dex_connectors(&o);
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
    v.flush_per_kind();
    v.diags.sort();
    v.diags.dedup();
    report.diagnostics = v.diags;
    report
}

/// Warnings for the YAML 1.1 readings of one object's own document.
fn notes(v: &mut Validator<'_>, o: &Object) {
    for n in &o.notes {
        v.diags.push(Diagnostic {
            file: o.file.to_string(),
            line: n.line,
            severity: Severity::Warning,
            path: n.path.clone(),
            object: label(o),
            message: format!(
                "`{}` is read by Kubernetes as {} but by YAML 1.2 tools as {}; quote it",
                n.text, n.kubernetes_reads, n.yaml12_reads
            ),
        });
    }
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

/// What [`validate_objects`] found.
#[derive(Debug, Default)]
pub struct ObjectsReport {
    pub diagnostics: Vec<Diagnostic>,
    pub custom_resources: usize,
}

/// The per-object checks of [`validate`] (built-in kinds against the API of the minor, custom
/// resources against their CRD schemas), for objects that are not files of a tree: a chart's
/// rendered output.
pub fn validate_objects(
    objects: &[Object],
    schemas: &dyn SchemaSource,
    opts: &Options,
) -> ObjectsReport {
    let mut report = ObjectsReport::default();
    let mut v = match Validator::new(schemas, opts) {
        Ok(v) => v,
        Err(d) => {
            report.diagnostics.push(d);
            return report;
        }
    };
    for o in objects {
        if v.object(o) {
            report.custom_resources += 1;
        }
    }
    v.flush_per_kind();
    v.diags.sort();
    v.diags.dedup();
    report.diagnostics = v.diags;
    report
}

/// A Flux Kustomization and its `dependsOn` (name, namespace).
type FluxUnit = (Object, Vec<(String, Option<String>)>);

/// A compiled CRD schema (with its source, for the pruning pass), none, or why it is unusable.
type CompiledSchema = Result<Option<(Value, jsonschema::Validator)>, SchemaError>;

/// A problem of a whole custom resource kind, and where it was first seen.
struct PerKind {
    message: String,
    first: Diagnostic,
    count: usize,
}

/// `cert-manager.io/v1, cert-manager.io/v1alpha2 (not served)`.
fn served_versions(group: &str, info: &CrdKind) -> String {
    let served: Vec<String> = info
        .versions
        .iter()
        .filter(|v| v.served)
        .map(|v| format!("{group}/{}", v.name))
        .collect();
    if served.is_empty() {
        "no version".to_owned()
    } else {
        served.join(", ")
    }
}

fn label(o: &Object) -> String {
    format!("{}/{}", o.kind, o.name)
}

struct Validator<'s> {
    schemas: &'s dyn SchemaSource,
    /// What the schema source knows of each custom resource kind (group, lowercase kind).
    kinds: HashMap<(String, String), Option<CrdKind>>,
    /// Problems of a whole kind (no schema, a version not served, a deprecated version): one
    /// diagnostic per kind at its first object, with the count of objects.
    per_kind: BTreeMap<(String, String, String, String), PerKind>,
    /// The API of the target minor.
    api: &'static Api,
    compiled: HashMap<(String, String, String), CompiledSchema>,
    diags: Vec<Diagnostic>,
}

impl<'s> Validator<'s> {
    /// A validator for the minor `opts` names; an unsupported minor is the one diagnostic.
    fn new(schemas: &'s dyn SchemaSource, opts: &Options) -> Result<Self, Diagnostic> {
        let Some(api) = crate::kubernetes::api(&opts.kubernetes_version) else {
            return Err(Diagnostic {
                file: String::new(),
                line: 0,
                severity: Severity::Error,
                path: String::new(),
                object: String::new(),
                message: unsupported_kubernetes(&opts.kubernetes_version),
            });
        };
        Ok(Self {
            schemas,
            kinds: HashMap::new(),
            per_kind: BTreeMap::new(),
            api,
            compiled: HashMap::new(),
            diags: Vec::new(),
        })
    }
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

    /// Counts one object under a problem of its whole kind.
    fn per_kind(
        &mut self,
        o: &Object,
        key: &(String, String, String),
        severity: Severity,
        message: String,
    ) {
        let (group, kind, version) = key.clone();
        let entry = self
            .per_kind
            .entry((group, kind, version, message.clone()))
            .or_insert_with(|| {
                let loc = o.location("apiVersion");
                PerKind {
                    message,
                    first: Diagnostic {
                        file: loc.file.to_string(),
                        line: loc.line,
                        severity,
                        path: "apiVersion".to_owned(),
                        object: label(o),
                        message: String::new(),
                    },
                    count: 0,
                }
            });
        entry.count += 1;
    }

    /// One diagnostic per kind-wide problem, at its first object, saying how many there are.
    fn flush_per_kind(&mut self) {
        for (_, p) in std::mem::take(&mut self.per_kind) {
            let mut d = p.first;
            d.message = if p.count == 1 {
                p.message
            } else {
                format!(
                    "{} [{} objects of this kind: this one and {} more]",
                    p.message,
                    p.count,
                    p.count - 1
                )
            };
            self.diags.push(d);
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
            // A remote resource is not in the tree by nature; `crate::kustomize` says it is not
            // fetched.
            if r.contains("://") {
                continue;
            }
            let target = normalize(&dir.join(r));
            let exists = files.contains_key(&target)
                || files.keys().any(|k| k.starts_with(&target) && k != &target);
            if !exists && !crate::kustomize::is_bootstrap_written(dir, r) {
                self.at(
                    o,
                    &format!("resources[{i}]"),
                    format!("resource `{r}` does not exist in the tree"),
                );
            }
        }
    }

    /// Flux's multi-tenancy lockdown in `clusters/<name>/flux-system/kustomization.yaml` works
    /// only when that file lists `gotk-components.yaml`, the file `flux bootstrap` writes with
    /// the controllers: bootstrap keeps an existing kustomization.yaml as it is, so one listing
    /// only `gotk-sync.yaml` leaves the patches matching no Deployment, and tenants'
    /// Kustomizations without `serviceAccountName` are reconciled as cluster-admin. Once the
    /// file is in the tree, every patch targeting a Deployment must match one of it.
    fn flux_system_lockdown(&mut self, o: &Object, path: &Path, files: &BTreeMap<PathBuf, String>) {
        let dir = path.parent().unwrap_or(Path::new(""));
        if dir.file_name().and_then(|n| n.to_str()) != Some(crate::render::FLUX_NS) {
            return;
        }
        let components = dir.join(crate::render::FLUX_COMPONENTS);
        let listed = o
            .get("resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|r| normalize(&dir.join(r)) == components);
        let present = files.get(&components);
        if present.is_some() && !listed {
            self.at(
                o,
                "resources",
                format!(
                    "`{}` is in {} but not listed here: Flux's controllers are not built with this \
                     kustomization, so its lockdown patches match no Deployment and tenant \
                     Kustomizations without serviceAccountName run as cluster-admin; list it \
                     first (`haven plus render` does)",
                    crate::render::FLUX_COMPONENTS,
                    dir.display()
                ),
            );
            return;
        }
        let Some(text) = present else {
            return;
        };
        let deployments: Vec<String> =
            load_objects(Origin::File(&components.to_string_lossy()), text)
                .objects
                .into_iter()
                .filter(|d| d.kind == "Deployment")
                .map(|d| d.name)
                .collect();
        for (i, p) in o
            .get("patches")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if p.pointer("/target/kind").and_then(Value::as_str) != Some("Deployment") {
                continue;
            }
            let name = p
                .pointer("/target/name")
                .and_then(Value::as_str)
                .unwrap_or(".*");
            let Ok(re) = regex::Regex::new(&format!("^(?:{name})$")) else {
                continue;
            };
            if !deployments.iter().any(|d| re.is_match(d)) {
                self.at(
                    o,
                    &format!("patches[{i}].target"),
                    format!(
                        "the patch matches no Deployment of {} (name `{name}`): the lockdown \
                         flag it adds is not set on any Flux controller",
                        components.display()
                    ),
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

    /// A Dex HelmRelease without a connector, a password database or values from elsewhere
    /// renders a Dex that exits at start ([`crate::render::DEX_NO_CONNECTOR`]). A warning, not
    /// an error: the tree is what the config asks for, and the config has no connector yet.
    fn dex_connectors(&mut self, o: &Object) {
        if !(o.kind == "HelmRelease" && o.api_version.starts_with("helm.toolkit.fluxcd.io/")) {
            return;
        }
        let chart = o.get("spec.chart.spec.chart").and_then(Value::as_str);
        if chart != Some("dex") && !(chart.is_none() && o.name == "dex") {
            return;
        }
        let has = |path: &str| match o.get(path) {
            Some(Value::Array(a)) => !a.is_empty(),
            Some(Value::Bool(b)) => *b,
            _ => false,
        };
        if has("spec.values.config.connectors")
            || has("spec.values.config.enablePasswordDB")
            || has("spec.valuesFrom")
        {
            return;
        }
        let path = if o.get("spec.values.config").is_some() {
            "spec.values.config"
        } else {
            "spec.values"
        };
        let loc = o.location(path);
        self.diags.push(Diagnostic {
            file: loc.file.to_string(),
            line: loc.line,
            severity: Severity::Warning,
            path: path.to_owned(),
            object: label(o),
            message: format!(
                "{}: give it `config.connectors` (haven's config: capabilities.identity.dex.connectors)",
                crate::render::DEX_NO_CONNECTOR
            ),
        });
    }

    /// Validates one object; returns whether it is a custom resource.
    fn object(&mut self, o: &Object) -> bool {
        // A SOPS-encrypted object is checked in the shape Flux hands the API server.
        let sops = sops_decrypted_shape(&o.value);
        let value = sops.as_ref().unwrap_or(&o.value);
        let api = self.api;
        if let Some(kind) = api.kind(&o.api_version, &o.kind) {
            for issue in api.check_object(kind, value) {
                self.builtin_issue(o, issue);
            }
            return false;
        }
        if crate::kubernetes::is_builtin_group(o.api_group()) {
            self.missing_builtin(o);
            return false;
        }
        self.custom_resource(o);
        true
    }

    /// One departure of a built-in object from the API of the target minor.
    fn builtin_issue(&mut self, o: &Object, issue: Issue) {
        let api = self.api;
        let what = format!("{} {}", o.api_version, o.kind);
        let message = match &issue.problem {
            Problem::UnknownField { known } => {
                let key = path_leaf(&issue.path);
                let hint = haven_model::did_you_mean(key, known)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                let elsewhere: Vec<&str> = crate::kubernetes::minors()
                    .filter(|m| *m != api.minor())
                    .filter(|m| {
                        crate::kubernetes::api(m).is_some_and(|other| {
                            other
                                .kind(&o.api_version, &o.kind)
                                .is_some_and(|k| other.has_path(k, &issue.path))
                        })
                    })
                    .collect();
                let elsewhere = if elsewhere.is_empty() {
                    String::new()
                } else {
                    format!(" (it exists in Kubernetes {})", elsewhere.join(", "))
                };
                format!(
                    "unknown field `{}` for {what} in Kubernetes {}{elsewhere}{hint}",
                    issue.path,
                    api.minor()
                )
            }
            Problem::Invalid { expected, found } => {
                format!("{what}: expected {expected}, found {found}")
            }
            Problem::Missing => format!("{what}: missing required field `{}`", issue.path),
        };
        self.at(o, &issue.path, message);
    }

    /// A built-in group's kind or version that the target minor does not serve.
    fn missing_builtin(&mut self, o: &Object) {
        let api = self.api;
        let group = o.api_group();
        let mut message = format!(
            "{} {} does not exist in Kubernetes {}",
            o.api_version,
            o.kind,
            api.minor()
        );
        let served = api.versions_of(group, &o.kind);
        if !served.is_empty() {
            message.push_str(&format!(
                "; {} is served there as {}",
                o.kind,
                served.join(", ")
            ));
        } else {
            let kinds = api.kinds_of(&o.api_version);
            if let Some(s) = haven_model::did_you_mean(&o.kind, &kinds) {
                message.push_str(&format!("; did you mean {s}?"));
            }
        }
        let elsewhere: Vec<&str> = crate::kubernetes::minors()
            .filter(|m| *m != api.minor())
            .filter(|m| {
                crate::kubernetes::api(m).is_some_and(|a| a.kind(&o.api_version, &o.kind).is_some())
            })
            .collect();
        if !elsewhere.is_empty() {
            message.push_str(&format!(
                " (it exists in Kubernetes {})",
                elsewhere.join(", ")
            ));
        }
        self.at(o, "apiVersion", message);
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
                Ok(Some(schema)) => jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft4)
                    .should_validate_formats(false)
                    .build(&crate::crd::prepare_schema(&schema))
                    .map(|v| Some((schema, v)))
                    .map_err(|source| SchemaError::Invalid {
                        file: format!("{group}/{kind}_{version}.json"),
                        source: Box::new(source),
                    }),
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            };
            self.compiled.insert(key.clone(), entry);
        }
        if !self.kinds.contains_key(&(group.clone(), kind.clone())) {
            let info = self.schemas.crd_kind(&group, &kind);
            self.kinds.insert((group.clone(), kind.clone()), info);
        }
        let info = self.kinds[&(group.clone(), kind.clone())].clone();
        let info = info.as_ref();
        let served = info.and_then(|i| i.versions.iter().find(|v| v.name == version));
        if let (Some(info), Some(v)) = (info, served)
            && v.served
            && let Some(warning) = &v.deprecated
        {
            let message = format!(
                "{} {} is deprecated ({}): {warning}",
                o.api_version, o.kind, info.installed_by
            );
            self.per_kind(o, &key, Severity::Warning, message);
        }
        let mut found = Vec::new();
        match &self.compiled[&key] {
            Err(e) => found.push((String::new(), e.to_string())),
            Ok(None) => {
                let message = match (info, served) {
                    (Some(info), Some(v)) if !v.served => format!(
                        "{} {} is not served by the CRD of {}; it serves {}",
                        o.api_version,
                        o.kind,
                        info.installed_by,
                        served_versions(&group, info)
                    ),
                    (Some(info), None) => format!(
                        "{} {} does not exist in the CRD of {}, which serves {}",
                        o.api_version,
                        o.kind,
                        info.installed_by,
                        served_versions(&group, info)
                    ),
                    _ => format!(
                        "no schema for {} {}: not a kind of the pinned components, whose CRD \
                         schemas haven carries; pass --crd-schemas DIR with \
                         {group}/{kind}_{version}.json (the CRDs-catalog layout) to validate it \
                         (looked in {})",
                        o.api_version,
                        o.kind,
                        self.schemas.describe()
                    ),
                };
                self.per_kind(o, &key, Severity::Error, message);
                return;
            }
            Ok(Some((schema, validator))) => {
                let instance = crate::crd::prepare_instance(schema, &o.value);
                for e in validator.iter_errors(&instance) {
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
                    let msg = schema_message(&e);
                    found.push((path, msg));
                }
                for u in crate::crd::pruned_fields(schema, &o.value) {
                    let full = crate::config::join_path(&u.parent, &u.key);
                    let hint = haven_model::did_you_mean(&u.key, &u.known)
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    found.push((
                        full.clone(),
                        format!("unknown field `{full}` (not in the CRD schema){hint}"),
                    ));
                }
                for at in crate::crd::embedded_resources(schema, &o.value) {
                    let Some(embedded) = o.get(&at) else { continue };
                    for field in ["apiVersion", "kind"] {
                        let p = crate::config::join_path(&at, field);
                        match embedded.get(field) {
                            Some(Value::String(v)) if !v.is_empty() => {}
                            Some(v) if !v.is_null() => found.push((
                                p,
                                format!(
                                    "`{field}` of an embedded resource must be a non-empty string"
                                ),
                            )),
                            _ => found.push((p, format!("an embedded resource needs `{field}`"))),
                        }
                    }
                    if let Some(meta) = embedded.get("metadata") {
                        let base = crate::config::join_path(&at, "metadata");
                        self.object_meta(o, meta, &base);
                    }
                }
            }
        }
        // The pruning pass says the same as a schema's own `additionalProperties: false`, with
        // the full path and a suggestion: keep only its line.
        let pruned: Vec<(String, String)> = found
            .iter()
            .filter(|(_, m)| m.starts_with("unknown field `"))
            .map(|(p, _)| match p.rfind('.') {
                Some(i) => (p[..i].to_owned(), p[i + 1..].to_owned()),
                None => (String::new(), p.clone()),
            })
            .collect();
        found.retain(|(path, msg)| {
            !(msg.starts_with("Additional properties are not allowed")
                && pruned
                    .iter()
                    .any(|(parent, key)| parent == path && msg.contains(&format!("'{key}'"))))
        });
        for (path, msg) in found {
            self.at(o, &path, msg);
        }
        if let Some(meta) = o.value.get("metadata") {
            self.object_meta(o, meta, "metadata");
        }
    }

    /// `metadata` of a custom resource (or of a resource embedded in one): ObjectMeta of the
    /// target minor.
    fn object_meta(&mut self, o: &Object, meta: &Value, base: &str) {
        let api = self.api;
        for issue in api.check_type("meta.v1.ObjectMeta", meta, base) {
            let message = match &issue.problem {
                Problem::UnknownField { known } => {
                    let hint = haven_model::did_you_mean(path_leaf(&issue.path), known)
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    format!("unknown field `{}` in ObjectMeta{hint}", issue.path)
                }
                Problem::Invalid { expected, found } => {
                    format!("metadata: expected {expected}, found {found}")
                }
                Problem::Missing => format!("metadata: missing required field `{}`", issue.path),
            };
            self.at(o, &issue.path, message);
        }
    }
}

/// The last key of a field path (`spec.template.metadata.lables` -> `lables`).
fn path_leaf(p: &str) -> &str {
    haven_model::path::parse(p)
        .filter_map(|s| match s {
            haven_model::path::Step::Key(k) => Some(k),
            haven_model::path::Step::Index(_) => None,
        })
        .last()
        .unwrap_or(p)
}

/// A JSON Schema error's message, cut at 240 bytes (a schema error can quote a whole value).
pub(crate) fn schema_message(e: &jsonschema::ValidationError<'_>) -> String {
    let mut msg = e.to_string();
    if msg.len() > 240 {
        let cut = (0..=240)
            .rev()
            .find(|i| msg.is_char_boundary(*i))
            .unwrap_or(0);
        msg.truncate(cut);
        msg.push('…');
    }
    msg
}

/// Resolves `.` and `..` without touching the file system.
pub(crate) fn normalize(p: &Path) -> PathBuf {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_relative_paths() {
        assert_eq!(normalize(Path::new("./a/b/../c")), PathBuf::from("a/c"));
    }
}
