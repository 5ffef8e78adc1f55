//! The objects of a tree as Flux applies them: a minimal `kustomize build` of each directory a
//! Flux Kustomization points at when that directory is an overlay (it patches, or takes a
//! directory such as `../../base` as a resource). `haven plus validate`, its proofs and
//! `--charts` read the tree through [`tree_objects`], so an overlay's patches are seen applied to
//! its base, and a finding on a patched field names the patch's file and line
//! (`haven_model::Object::patches`).
//!
//! Written by hand: no kept Rust crate builds kustomizations (searched docs.rs and public code
//! for "kustomize build" in Rust: only bindings of Flux's Kustomization CRD, `kcr_*`, which
//! describe the object, not the build). What is built is the part of kustomize the Haven+
//! reference layout and haven's own trees use:
//!
//! - `resources`: files (each a YAML stream) and directories (built recursively; a directory
//!   without a kustomization file is an error, as in kustomize). Remote resources (`://`) are
//!   not fetched and are reported.
//! - The directory a Flux Kustomization points at may have no kustomization file: it is built
//!   with the one kustomize-controller generates ([`build_dir`]). `haven plus import` walks a
//!   whole cluster this way (`migration::tree`), so validate and the migration read a tree
//!   through one build.
//! - `namespace`: set on every namespaced object, as kustomize's namespace transformer does
//!   for `metadata.namespace`, and as the name of Namespace objects (its builtin field specs
//!   include `metadata/name` of kind Namespace); it does not rewrite other references, nor
//!   does this.
//! - `patches` (and the deprecated `patchesStrategicMerge`), from a `path` or inline `patch`,
//!   with or without a `target` (group, version, kind, name and namespace, anchored regular
//!   expressions as kustomize documents them; label and annotation selectors are reported as
//!   not built). A patch whose text is a YAML sequence is a JSON 6902 patch (`json-patch`
//!   crate); anything else is a strategic-merge patch.
//!
//! Strategic merge is applied as a JSON merge patch (RFC 7396: maps merged, `null` deletes a
//! key, lists replaced whole) plus the top-level `$patch: delete`. That is kustomize's own
//! behaviour for the kinds haven renders and patches: kustomize knows merge keys only from the
//! OpenAPI schema of built-in kinds ("Kustomize has an OpenAPI schema builtin, but this schema
//! only has information about builtin kubernetes types", kubectl.docs.kubernetes.io/references/
//! kustomize/kustomization/openapi), so the lists of custom resources (HelmRelease, Flux
//! sources, cert-manager issuers, Gateway API routes) are replaced; of the built-in kinds haven
//! patches, Namespace has no lists and NetworkPolicy's `ingress`, `egress` and `policyTypes`
//! carry no patch strategy in the Kubernetes API (replace). A list with a merge key in a
//! built-in kind (a Deployment's `containers`) would be merged by kustomize and replaced here:
//! haven's trees patch no such kind.
//! Generators (`configMapGenerator`, `secretGenerator`), `components`, name prefixes, labels,
//! images and replacements are not built; an overlay using one is reported, not guessed at.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use haven_model::{Node, Object, Origin, load_objects};
use serde_json::Value;

use crate::validate::normalize;

/// The names kustomize looks for in a directory, in its order.
pub const KUSTOMIZATION_FILES: &[&str] =
    &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Why an overlay could not be built as kustomize would; each names the kustomization file, the
/// line and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KustomizeError {
    #[error("{file}:{line}: resource `{resource}` does not exist in the tree ({field})")]
    MissingResource {
        file: String,
        line: u32,
        field: String,
        resource: String,
    },
    #[error("{file}:{line}: directory `{dir}` has no kustomization.yaml ({field})")]
    NoKustomization {
        file: String,
        line: u32,
        field: String,
        dir: String,
    },
    #[error(
        "{file}:{line}: `{what}` is not built by haven; the objects are validated without it ({field})"
    )]
    Unsupported {
        file: String,
        line: u32,
        field: String,
        what: String,
    },
    #[error("{file}:{line}: the patch matches no resource: {target} ({field})")]
    NoTarget {
        file: String,
        line: u32,
        field: String,
        target: String,
    },
    #[error(
        "{file}:{line}: the patch matches more than one resource: {target}; give its namespace ({field})"
    )]
    Ambiguous {
        file: String,
        line: u32,
        field: String,
        target: String,
    },
    #[error("{file}:{line}: the patch cannot be applied: {message} ({field})")]
    BadPatch {
        file: String,
        line: u32,
        field: String,
        message: String,
    },
    #[error("{file}:{line}: `{dir}` is built inside itself (a resource cycle) ({field})")]
    Cycle {
        file: String,
        line: u32,
        field: String,
        dir: String,
    },
    /// A YAML file of a directory without a kustomization file is not a Kubernetes manifest:
    /// kustomize-controller fails to generate the directory's kustomization.yaml ("failed to
    /// decode Kubernetes YAML"), so the Flux Kustomization applies nothing until it is moved
    /// out of the directory or given another extension.
    #[error(
        "{file}:{line}: not a Kubernetes manifest, so Flux cannot generate a kustomization.yaml for `{dir}`: {message} ({field})"
    )]
    NotKubernetes {
        file: String,
        line: u32,
        field: String,
        dir: String,
        message: String,
    },
}

impl KustomizeError {
    /// The kustomization file, line and field the problem is at.
    pub fn position(&self) -> (&str, u32, &str) {
        match self {
            Self::MissingResource {
                file, line, field, ..
            }
            | Self::NoKustomization {
                file, line, field, ..
            }
            | Self::Unsupported {
                file, line, field, ..
            }
            | Self::NoTarget {
                file, line, field, ..
            }
            | Self::Ambiguous {
                file, line, field, ..
            }
            | Self::BadPatch {
                file, line, field, ..
            }
            | Self::Cycle {
                file, line, field, ..
            }
            | Self::NotKubernetes {
                file, line, field, ..
            } => (file, *line, field),
        }
    }

    /// The message without the position.
    pub fn message(&self) -> String {
        let text = self.to_string();
        let (file, line, field) = self.position();
        let prefix = format!("{file}:{line}: ");
        let suffix = format!(" ({field})");
        text.strip_prefix(&prefix)
            .unwrap_or(&text)
            .strip_suffix(&suffix)
            .unwrap_or(&text)
            .to_owned()
    }
}

/// Whether `resource`, listed by the kustomization file of `dir`, is the file `flux bootstrap`
/// writes there: `gotk-components.yaml` (Flux's own controllers) in a `flux-system` directory.
/// The render lists it, as Flux documents for a customised bootstrap, so that the lockdown
/// patches apply to the controllers; until bootstrap ran it is absent, which is not an error:
/// the directory is built without it.
pub fn is_bootstrap_written(dir: &Path, resource: &str) -> bool {
    resource == crate::render::FLUX_COMPONENTS
        && dir.file_name().and_then(|n| n.to_str()) == Some(crate::render::FLUX_NS)
}

/// The tree's objects as Flux applies them, and what that took.
#[derive(Debug, Default)]
pub struct TreeObjects {
    /// Objects of plain files, then those built from overlays.
    pub objects: Vec<Object>,
    /// Files whose objects reach the cluster only through a build (bases and patches): not
    /// objects of their own.
    pub consumed: BTreeSet<PathBuf>,
    /// The files named as patches (a subset of `consumed`).
    pub patch_files: BTreeSet<PathBuf>,
    pub errors: Vec<KustomizeError>,
}

fn is_yaml(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml")
}

fn file_name(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// The kustomization file of `dir`, if it has one.
pub fn kustomization_file(dir: &Path, files: &BTreeMap<PathBuf, String>) -> Option<PathBuf> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| files.contains_key(p))
}

fn is_dir(p: &Path, files: &BTreeMap<PathBuf, String>) -> bool {
    files.keys().any(|k| k.starts_with(p) && k != p)
}

/// The kustomization object of a file (the first document), if it parses.
fn kustomization(kfile: &Path, files: &BTreeMap<PathBuf, String>) -> Option<Object> {
    let text = files.get(kfile)?;
    load_objects(Origin::File(&file_name(kfile)), text)
        .objects
        .into_iter()
        .next()
        .or_else(|| {
            // A kustomization.yaml may omit apiVersion and kind: read it with them added at its
            // end, which keeps every line where it is.
            let doc = haven_model::parse_stream(&file_name(kfile), text)
                .into_iter()
                .find_map(Result::ok)?;
            let mut full = text.clone();
            if !full.ends_with('\n') {
                full.push('\n');
            }
            if doc.value.get("apiVersion").is_none() {
                full.push_str("apiVersion: kustomize.config.k8s.io/v1beta1\n");
            }
            if doc.value.get("kind").is_none() {
                full.push_str("kind: Kustomization\n");
            }
            load_objects(Origin::File(&file_name(kfile)), &full)
                .objects
                .into_iter()
                .next()
        })
}

/// Whether the directory is an overlay: its kustomization patches, or takes a directory as a
/// resource. Plain directories (haven's flat layout) are read file by file as before.
pub fn is_overlay(dir: &Path, files: &BTreeMap<PathBuf, String>) -> bool {
    let Some(kfile) = kustomization_file(dir, files) else {
        return false;
    };
    let Some(k) = kustomization(&kfile, files) else {
        return false;
    };
    let patches = ["patches", "patchesStrategicMerge", "patchesJson6902"]
        .iter()
        .any(|f| {
            k.get(f)
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
        });
    patches
        || k.get("resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|r| !r.contains("://") && is_dir(&normalize(&dir.join(r)), files))
}

/// The files named as patches (`patches[].path`, `patchesStrategicMerge`) by any kustomization
/// of the tree: partial objects, never objects of their own.
pub fn patch_files(files: &BTreeMap<PathBuf, String>) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for path in files.keys() {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !KUSTOMIZATION_FILES.contains(&name) {
            continue;
        }
        let dir = path.parent().unwrap_or(Path::new(""));
        let Some(k) = kustomization(path, files) else {
            continue;
        };
        for p in k
            .get("patches")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(f) = p.get("path").and_then(Value::as_str) {
                out.insert(normalize(&dir.join(f)));
            }
        }
        for p in k
            .get("patchesStrategicMerge")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(f) = p.as_str().filter(|f| !f.contains('\n')) {
                out.insert(normalize(&dir.join(f)));
            }
        }
    }
    out
}

/// The tree's objects as Flux applies them: every overlay a Flux Kustomization of the tree's
/// own source points at is built; the files it consumed (bases, patches) are not read again.
pub fn tree_objects(files: &BTreeMap<PathBuf, String>) -> TreeObjects {
    let patches = patch_files(files);
    let mut direct: Vec<Object> = Vec::new();
    for (path, text) in files {
        let name = file_name(path);
        if is_yaml(&name) && !patches.contains(path) {
            direct.extend(load_objects(Origin::File(&name), text).objects);
        }
    }
    view(files, direct)
}

/// [`tree_objects`] from the objects of the tree's files, already read (`validate` reads each
/// file once): those of consumed files are dropped, the overlays' built objects added.
pub fn view(files: &BTreeMap<PathBuf, String>, direct: Vec<Object>) -> TreeObjects {
    let mut out = TreeObjects::default();
    let patches = patch_files(files);
    let mut roots: BTreeSet<PathBuf> = BTreeSet::new();
    for o in &direct {
        if o.api_group() == "kustomize.toolkit.fluxcd.io"
            && o.kind == "Kustomization"
            && o.get("spec.sourceRef.name").and_then(Value::as_str) == Some("flux-system")
            && let Some(p) = o.get("spec.path").and_then(Value::as_str)
        {
            let dir = normalize(Path::new(p));
            if is_overlay(&dir, files) {
                roots.insert(dir);
            }
        }
    }
    let mut built = Vec::new();
    for dir in &roots {
        let mut b = Builder {
            files,
            consumed: BTreeSet::new(),
            patch_files: BTreeSet::new(),
            errors: Vec::new(),
            stack: Vec::new(),
        };
        built.extend(b.build(dir, None));
        out.consumed.extend(b.consumed);
        out.errors.extend(b.errors);
    }
    out.consumed.extend(patches.iter().cloned());
    out.patch_files = patches;
    out.objects = direct
        .into_iter()
        .filter(|o| !out.consumed.contains(Path::new(o.file.as_ref())))
        .collect();
    out.objects.extend(built);
    out.errors.sort_by(|a, b| a.position().cmp(&b.position()));
    out.errors.dedup();
    out
}

/// Builds one directory (`kustomize build DIR`) of a tree.
pub fn build(files: &BTreeMap<PathBuf, String>, dir: &Path) -> (Vec<Object>, Vec<KustomizeError>) {
    let built = build_dir(files, dir);
    (built.objects, built.errors)
}

/// What building one directory took and gave.
#[derive(Debug, Default)]
pub struct Built {
    pub objects: Vec<Object>,
    pub errors: Vec<KustomizeError>,
    /// The files read for it: kustomization files, resources, patches.
    pub consumed: BTreeSet<PathBuf>,
    /// The files read as patches.
    pub patch_files: BTreeSet<PathBuf>,
}

/// Builds the directory a Flux Kustomization's `spec.path` names, as kustomize-controller
/// does: with its kustomization file when it has one, else with the one the controller
/// generates (fluxcd/pkg `kustomize.Generator`): every `.yaml`/`.yml` file of the directory
/// and of its subdirectories, in the order of a walk by name, where a subdirectory that has a
/// kustomization file is one resource, built whole, and not walked into. Each such file must
/// hold Kubernetes objects; one that does not is a [`KustomizeError::NotKubernetes`] (the
/// controller fails the whole build; here the other files' objects are still given, so one
/// bad file hides no finding). A directory without a kustomization file named in `resources`
/// stays an error ([`KustomizeError::NoKustomization`]): only the root is generated.
pub fn build_dir(files: &BTreeMap<PathBuf, String>, dir: &Path) -> Built {
    let mut b = Builder {
        files,
        consumed: BTreeSet::new(),
        patch_files: BTreeSet::new(),
        errors: Vec::new(),
        stack: Vec::new(),
    };
    let objects = b.build(&normalize(dir), None);
    Built {
        objects,
        errors: b.errors,
        consumed: b.consumed,
        patch_files: b.patch_files,
    }
}

struct Builder<'a> {
    files: &'a BTreeMap<PathBuf, String>,
    consumed: BTreeSet<PathBuf>,
    patch_files: BTreeSet<PathBuf>,
    errors: Vec<KustomizeError>,
    stack: Vec<PathBuf>,
}

/// Where in a kustomization file a field is.
fn at(k: &Object, field: &str) -> (String, u32, String) {
    let loc = k.location(field);
    (loc.file.to_string(), loc.line, field.to_owned())
}

/// Which resources a patch applies to.
#[derive(Debug, Default)]
struct Target {
    group: Option<String>,
    version: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
}

impl Target {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("group", &self.group),
            ("version", &self.version),
            ("kind", &self.kind),
            ("name", &self.name),
            ("namespace", &self.namespace),
        ] {
            if let Some(v) = v {
                parts.push(format!("{k}={v}"));
            }
        }
        parts.join(", ")
    }

    fn matches(&self, o: &Object) -> bool {
        let anchored = |pattern: &str, value: &str| {
            regex::Regex::new(&format!("^(?:{pattern})$"))
                .map(|r| r.is_match(value))
                .unwrap_or(pattern == value)
        };
        let version = o.api_version.rsplit('/').next().unwrap_or_default();
        self.group.as_deref().is_none_or(|g| g == o.api_group())
            && self.version.as_deref().is_none_or(|v| v == version)
            && self.kind.as_deref().is_none_or(|k| k == o.kind)
            && self.name.as_deref().is_none_or(|n| anchored(n, &o.name))
            && self
                .namespace
                .as_deref()
                .is_none_or(|n| anchored(n, o.namespace.as_deref().unwrap_or_default()))
    }
}

impl Builder<'_> {
    fn build(&mut self, dir: &Path, from: Option<(&Object, &str)>) -> Vec<Object> {
        let Some(kfile) = kustomization_file(dir, self.files) else {
            if let Some((k, field)) = from {
                let (file, line, field) = at(k, field);
                self.errors.push(KustomizeError::NoKustomization {
                    file,
                    line,
                    field,
                    dir: file_name(dir),
                });
                return Vec::new();
            }
            return self.generated(dir);
        };
        if self.stack.contains(&dir.to_path_buf()) {
            if let Some((k, field)) = from {
                let (file, line, field) = at(k, field);
                self.errors.push(KustomizeError::Cycle {
                    file,
                    line,
                    field,
                    dir: file_name(dir),
                });
            }
            return Vec::new();
        }
        self.consumed.insert(kfile.clone());
        let Some(k) = kustomization(&kfile, self.files) else {
            return Vec::new();
        };
        self.stack.push(dir.to_path_buf());
        let mut objects = Vec::new();
        let resources: Vec<Value> = k
            .get("resources")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (i, r) in resources.iter().enumerate() {
            let Some(r) = r.as_str() else { continue };
            let field = format!("resources[{i}]");
            if r.contains("://") {
                let (file, line, field) = at(&k, &field);
                self.errors.push(KustomizeError::Unsupported {
                    file,
                    line,
                    field,
                    what: format!("remote resource {r}"),
                });
                continue;
            }
            let target = normalize(&dir.join(r));
            if let Some(text) = self.files.get(&target) {
                self.consumed.insert(target.clone());
                objects.extend(load_objects(Origin::File(&file_name(&target)), text).objects);
            } else if is_dir(&target, self.files) {
                objects.extend(self.build(&target, Some((&k, &field))));
            } else if is_bootstrap_written(dir, r) {
                // Written by `flux bootstrap`; the rest of the directory is built.
            } else {
                let (file, line, field) = at(&k, &field);
                self.errors.push(KustomizeError::MissingResource {
                    file,
                    line,
                    field,
                    resource: r.to_owned(),
                });
            }
        }
        for field in [
            "configMapGenerator",
            "secretGenerator",
            "components",
            "namePrefix",
            "nameSuffix",
            "commonLabels",
            "labels",
            "commonAnnotations",
            "images",
            "replacements",
            "replicas",
            "helmCharts",
            "patchesJson6902",
        ] {
            if k.get(field).is_some() {
                let (file, line, field) = at(&k, field);
                self.errors.push(KustomizeError::Unsupported {
                    file,
                    line,
                    what: field.clone(),
                    field,
                });
            }
        }
        let smp: Vec<Value> = k
            .get("patchesStrategicMerge")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (i, p) in smp.iter().enumerate() {
            let entry = match p.as_str() {
                Some(s) if s.contains('\n') => serde_json::json!({"patch": s}),
                Some(s) => serde_json::json!({"path": s}),
                None => continue,
            };
            self.patch(
                &k,
                dir,
                &format!("patchesStrategicMerge[{i}]"),
                &entry,
                &mut objects,
            );
        }
        let patches: Vec<Value> = k
            .get("patches")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (i, p) in patches.iter().enumerate() {
            self.patch(&k, dir, &format!("patches[{i}]"), p, &mut objects);
        }
        // kustomize runs its namespace transformer after the patches (api/krusty, the order of
        // its builtin transformers): patches match the objects as their files name them.
        if let Some(ns) = k.get("namespace").and_then(Value::as_str) {
            for o in &mut objects {
                if o.is_namespaced() {
                    o.value["metadata"]["namespace"] = Value::String(ns.to_owned());
                    o.namespace = Some(ns.to_owned());
                } else if o.kind == "Namespace" && o.api_group().is_empty() {
                    // kustomize's namespace field specs rename Namespace objects too
                    // (`metadata/name`, kind Namespace, in its builtin namespace transformer
                    // config), so a base's Namespace follows the overlay's `namespace:`.
                    o.value["metadata"]["name"] = Value::String(ns.to_owned());
                    o.name = ns.to_owned();
                }
            }
        }
        self.stack.pop();
        objects
    }

    /// The objects of the kustomization.yaml kustomize-controller generates for a directory
    /// without one (see [`build_dir`]).
    fn generated(&mut self, dir: &Path) -> Vec<Object> {
        if self.stack.contains(&dir.to_path_buf()) {
            return Vec::new();
        }
        self.stack.push(dir.to_path_buf());
        let mut objects = Vec::new();
        // A subdirectory with a kustomization file, built whole: its files are not walked.
        let mut built_dir: Option<PathBuf> = None;
        // The keys below `dir` are contiguous and sorted component by component, which is the
        // order of Go's `filepath.Walk` (entries of a directory by name, a subdirectory's
        // files where its name sorts).
        let below = self
            .files
            .range(dir.to_path_buf()..)
            .take_while(|(p, _)| p.starts_with(dir));
        for (path, text) in below {
            if path == dir || built_dir.as_ref().is_some_and(|b| path.starts_with(b)) {
                continue;
            }
            let rel = path.strip_prefix(dir).unwrap_or(path);
            let mut sub = dir.to_path_buf();
            let mut with_kustomization = None;
            let parts: Vec<_> = rel.components().collect();
            for part in parts.iter().take(parts.len().saturating_sub(1)) {
                sub.push(part);
                if kustomization_file(&sub, self.files).is_some() {
                    with_kustomization = Some(sub.clone());
                    break;
                }
            }
            if let Some(sub) = with_kustomization {
                objects.extend(self.build(&sub, None));
                built_dir = Some(sub);
                continue;
            }
            let name = file_name(path);
            if !is_yaml(&name) {
                continue;
            }
            self.consumed.insert(path.clone());
            let loaded = load_objects(Origin::File(&name), text);
            for e in loaded.errors {
                self.errors.push(KustomizeError::NotKubernetes {
                    file: e.file,
                    line: e.line,
                    field: e.field.unwrap_or_else(|| "apiVersion, kind".to_owned()),
                    dir: file_name(dir),
                    message: e.message,
                });
            }
            objects.extend(loaded.objects);
        }
        self.stack.pop();
        objects
    }

    fn patch(
        &mut self,
        k: &Object,
        dir: &Path,
        field: &str,
        entry: &Value,
        objects: &mut Vec<Object>,
    ) {
        let kname = k.file.to_string();
        let (text, name, inline_at) = if let Some(p) = entry.get("path").and_then(Value::as_str) {
            let target = normalize(&dir.join(p));
            match self.files.get(&target) {
                Some(t) => {
                    self.consumed.insert(target.clone());
                    self.patch_files.insert(target.clone());
                    (t.clone(), file_name(&target), None)
                }
                None => {
                    let (file, line, field) = at(k, &format!("{field}.path"));
                    self.errors.push(KustomizeError::MissingResource {
                        file,
                        line,
                        field,
                        resource: p.to_owned(),
                    });
                    return;
                }
            }
        } else if let Some(p) = entry.get("patch").and_then(Value::as_str) {
            let loc = k.location(&format!("{field}.patch"));
            (p.to_owned(), kname.clone(), Some((loc.line, loc.column)))
        } else {
            return;
        };
        let target = entry.get("target").map(|t| {
            let s = |f: &str| t.get(f).and_then(Value::as_str).map(str::to_owned);
            for unsupported in ["labelSelector", "annotationSelector"] {
                if t.get(unsupported).is_some() {
                    let (file, line, field) = at(k, &format!("{field}.target.{unsupported}"));
                    self.errors.push(KustomizeError::Unsupported {
                        file,
                        line,
                        field,
                        what: format!("target.{unsupported}"),
                    });
                }
            }
            Target {
                group: s("group"),
                version: s("version"),
                kind: s("kind"),
                name: s("name"),
                namespace: s("namespace"),
            }
        });
        let err = |message: String| {
            let (file, line, field) = at(k, field);
            KustomizeError::BadPatch {
                file,
                line,
                field,
                message,
            }
        };
        // A YAML sequence is a JSON 6902 patch.
        let docs: Vec<Value> = haven_model::parse_stream(&name, &text)
            .into_iter()
            .filter_map(Result::ok)
            .map(|d| d.value)
            .filter(|v| !v.is_null())
            .collect();
        if let [Value::Array(ops)] = docs.as_slice() {
            let Some(target) = target else {
                self.errors
                    .push(err("a JSON 6902 patch needs a `target`".to_owned()));
                return;
            };
            let ops: json_patch::Patch = match serde_json::from_value(Value::Array(ops.clone())) {
                Ok(p) => p,
                Err(e) => {
                    self.errors.push(err(e.to_string()));
                    return;
                }
            };
            for o in objects.iter_mut().filter(|o| target.matches(o)) {
                let mut value = o.value.clone();
                match json_patch::patch(&mut value, &ops) {
                    Ok(()) => set_value(o, value, None),
                    Err(e) => self.errors.push(err(e.to_string())),
                }
            }
            return;
        }
        let mut patch_objects = load_objects(Origin::File(&name), &text).objects;
        if let Some((line, col)) = inline_at {
            // An inline patch's lines count from its own text: point at the `patch:` key.
            for p in &mut patch_objects {
                p.root = Node::scalar(line, col);
                p.line_shift = 0;
            }
        }
        for p in patch_objects {
            let delete = p.value.get("$patch").and_then(Value::as_str) == Some("delete");
            let (matched, described): (Vec<usize>, String) = match &target {
                Some(t) => (
                    (0..objects.len())
                        .filter(|&i| t.matches(&objects[i]))
                        .collect(),
                    t.describe(),
                ),
                None => {
                    let t = Target {
                        group: Some(p.api_group().to_owned()),
                        version: None,
                        kind: Some(p.kind.clone()),
                        name: Some(regex::escape(&p.name)),
                        namespace: p.namespace.as_deref().map(regex::escape),
                    };
                    let found: Vec<usize> = (0..objects.len())
                        .filter(|&i| t.matches(&objects[i]))
                        .collect();
                    let described = format!(
                        "{} {}{}",
                        p.kind,
                        p.namespace
                            .as_deref()
                            .map(|n| format!("{n}/"))
                            .unwrap_or_default(),
                        p.name
                    );
                    if found.len() > 1 {
                        let (file, line, field) = at(k, field);
                        self.errors.push(KustomizeError::Ambiguous {
                            file,
                            line,
                            field,
                            target: described,
                        });
                        continue;
                    }
                    (found, described)
                }
            };
            if matched.is_empty() {
                let (file, line, field) = at(k, field);
                self.errors.push(KustomizeError::NoTarget {
                    file,
                    line,
                    field,
                    target: described,
                });
                continue;
            }
            if delete {
                let gone: BTreeSet<usize> = matched.into_iter().collect();
                let mut i = 0;
                objects.retain(|_| {
                    i += 1;
                    !gone.contains(&(i - 1))
                });
                continue;
            }
            let mut merge = p.value.clone();
            if target.is_some()
                && let Value::Object(m) = &mut merge
            {
                // With a target, the patch's own identity does not rename what it patches.
                m.remove("apiVersion");
                m.remove("kind");
                if let Some(Value::Object(meta)) = m.get_mut("metadata") {
                    meta.remove("name");
                    meta.remove("namespace");
                }
            }
            for i in matched {
                let mut value = objects[i].value.clone();
                json_patch::merge(&mut value, &merge);
                set_value(&mut objects[i], value, Some(&p));
            }
        }
    }
}

/// Replaces an object's value after a patch, keeping its identity fields in step and adding the
/// patch (if it is a merge patch) to those [`Object::location`] consults.
fn set_value(o: &mut Object, value: Value, patch: Option<&Object>) {
    let text = |v: &Value, path: &str| {
        haven_model::object::lookup(v, path)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if let Some(a) = text(&value, "apiVersion") {
        o.api_version = a;
    }
    if let Some(k) = text(&value, "kind") {
        o.kind = k;
    }
    if let Some(n) = text(&value, "metadata.name") {
        o.name = n;
    }
    o.namespace = text(&value, "metadata.namespace");
    o.value = value;
    if let Some(p) = patch {
        let mut all: Vec<Object> = o
            .patches
            .as_deref()
            .map(<[Object]>::to_vec)
            .unwrap_or_default();
        all.push(p.clone());
        o.patches = Some(Arc::from(all));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> BTreeMap<PathBuf, String> {
        files
            .iter()
            .map(|(p, t)| (PathBuf::from(p), (*t).to_owned()))
            .collect()
    }

    const BASE_HR: &str = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: loki\n  namespace: flux-system\nspec:\n  interval: 30m\n  values:\n    replicas: 1\n    keep: true\n    list: [a, b]\n";

    #[test]
    fn an_overlay_merges_its_patch_and_names_the_patch_line() {
        let files = tree(&[
            ("c/base/kustomization.yaml", "resources:\n- release.yaml\n"),
            ("c/base/release.yaml", BASE_HR),
            (
                "c/overlays/a/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../../base\npatches:\n- path: patches/release.yaml\n",
            ),
            (
                "c/overlays/a/patches/release.yaml",
                "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: loki\n  namespace: flux-system\nspec:\n  values:\n    replicas: 3\n    keep: null\n    list: [c]\n",
            ),
        ]);
        let (objects, errors) = build(&files, Path::new("c/overlays/a"));
        assert_eq!(errors, []);
        let [o] = objects.as_slice() else {
            panic!("{objects:?}")
        };
        assert_eq!(o.value["spec"]["values"]["replicas"], 3);
        assert_eq!(o.value["spec"]["values"].get("keep"), None);
        assert_eq!(o.value["spec"]["values"]["list"], serde_json::json!(["c"]));
        assert_eq!(o.value["spec"]["interval"], "30m");
        let patched = o.location("spec.values.replicas");
        assert_eq!(
            (&*patched.file, patched.line),
            ("c/overlays/a/patches/release.yaml", 8)
        );
        let list_item = o.location("spec.values.list[0]");
        assert_eq!(&*list_item.file, "c/overlays/a/patches/release.yaml");
        let base = o.location("spec.interval");
        assert_eq!((&*base.file, base.line), ("c/base/release.yaml", 7));
    }

    #[test]
    fn delete_patches_json6902_namespace_and_errors() {
        let files = tree(&[
            (
                "b/kustomization.yaml",
                "resources:\n- ns.yaml\n- release.yaml\n",
            ),
            (
                "b/ns.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: loki\n",
            ),
            ("b/release.yaml", BASE_HR),
            (
                "o/kustomization.yaml",
                "namespace: other\nresources:\n- ../b\n- missing.yaml\npatches:\n- patch: |\n    apiVersion: v1\n    kind: Namespace\n    metadata:\n      name: loki\n    $patch: delete\n- patch: |\n    - op: replace\n      path: /spec/interval\n      value: 5m\n  target:\n    kind: HelmRelease\n    name: lo.*\n- patch: |\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: nowhere\n",
            ),
        ]);
        let (objects, errors) = build(&files, Path::new("o"));
        assert_eq!(objects.len(), 1, "{objects:?}");
        assert_eq!(objects[0].value["spec"]["interval"], "5m");
        assert_eq!(objects[0].namespace.as_deref(), Some("other"));
        assert!(
            matches!(&errors[0], KustomizeError::MissingResource { line: 4, .. }),
            "{errors:?}"
        );
        assert!(
            matches!(&errors[1], KustomizeError::NoTarget { line: 19, .. }),
            "{errors:?}"
        );
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn patches_match_before_the_namespace_is_set() {
        let files = tree(&[
            ("b/kustomization.yaml", "resources:\n- release.yaml\n"),
            ("b/release.yaml", BASE_HR),
            (
                "o/kustomization.yaml",
                "namespace: loki\nresources:\n- ../b\npatches:\n- patch: |\n    apiVersion: helm.toolkit.fluxcd.io/v2\n    kind: HelmRelease\n    metadata:\n      name: loki\n      namespace: flux-system\n    spec:\n      interval: 1m\n",
            ),
        ]);
        let (objects, errors) = build(&files, Path::new("o"));
        assert_eq!(errors, []);
        assert_eq!(objects[0].namespace.as_deref(), Some("loki"));
        assert_eq!(objects[0].value["spec"]["interval"], "1m");
        // An inline patch's fields are found at its `patch:` key.
        let loc = objects[0].location("spec.interval");
        assert_eq!((&*loc.file, loc.line), ("o/kustomization.yaml", 5));
    }

    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: NAME\n";

    fn cm(name: &str) -> String {
        CM.replace("NAME", name)
    }

    #[test]
    fn a_directory_without_kustomization_gets_the_one_flux_generates() {
        let (a, b, c, d) = (cm("a"), cm("b"), cm("c"), cm("d"));
        let files = tree(&[
            ("app/b.yaml", b.as_str()),
            ("app/a.yml", a.as_str()),
            ("app/README.md", "# not YAML: not a resource\n"),
            ("app/nested/deeper/c.yaml", c.as_str()),
            // A subdirectory with a kustomization is one resource, built whole: its
            // kustomization decides (here: d.yaml only, with a namespace).
            (
                "app/overlay/kustomization.yaml",
                "namespace: set\nresources:\n- d.yaml\n",
            ),
            ("app/overlay/d.yaml", d.as_str()),
            ("app/overlay/not-listed.yaml", cm("skipped").as_str()),
            ("other/e.yaml", cm("e").as_str()),
        ]);
        let built = build_dir(&files, Path::new("./app"));
        assert_eq!(built.errors, []);
        let names: Vec<(&str, Option<&str>)> = built
            .objects
            .iter()
            .map(|o| (o.name.as_str(), o.namespace.as_deref()))
            .collect();
        // The order of a walk by name: a.yml, b.yaml, nested/…, overlay/.
        assert_eq!(
            names,
            [("a", None), ("b", None), ("c", None), ("d", Some("set"))]
        );
        assert!(
            built
                .consumed
                .contains(Path::new("app/nested/deeper/c.yaml"))
        );
        assert!(
            !built
                .consumed
                .contains(Path::new("app/overlay/not-listed.yaml"))
        );
    }

    #[test]
    fn a_generated_kustomization_refuses_files_that_are_not_manifests() {
        let files = tree(&[
            ("app/good.yaml", cm("good").as_str()),
            ("app/values.yaml", "replicas: 3\nimage:\n  tag: v1\n"),
        ]);
        let built = build_dir(&files, Path::new("app"));
        // The good file's objects are still there: one bad file hides nothing.
        assert_eq!(built.objects.len(), 1);
        let [
            KustomizeError::NotKubernetes {
                file, line, dir, ..
            },
        ] = built.errors.as_slice()
        else {
            panic!("{:?}", built.errors)
        };
        assert_eq!(
            (file.as_str(), *line, dir.as_str()),
            ("app/values.yaml", 1, "app")
        );
        assert!(
            built.errors[0]
                .to_string()
                .starts_with("app/values.yaml:1: not a Kubernetes manifest")
        );
    }

    #[test]
    fn only_the_root_is_generated_and_a_namespace_renames_namespaces() {
        let files = tree(&[
            (
                "o/kustomization.yaml",
                "namespace: team\nresources:\n- ../plain\n- ns.yaml\n",
            ),
            (
                "o/ns.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: placeholder\n",
            ),
            ("plain/a.yaml", cm("a").as_str()),
        ]);
        let (objects, errors) = build(&files, Path::new("o"));
        // kustomize itself refuses a resource directory without a kustomization file.
        assert!(
            matches!(
                &errors[..],
                [KustomizeError::NoKustomization { line: 3, .. }]
            ),
            "{errors:?}"
        );
        let [ns] = objects.as_slice() else {
            panic!("{objects:?}")
        };
        assert_eq!((ns.kind.as_str(), ns.name.as_str()), ("Namespace", "team"));
        assert_eq!(ns.value["metadata"]["name"], "team");
        assert_eq!(ns.namespace, None);
    }

    #[test]
    fn tree_objects_builds_flux_overlays_and_skips_consumed_files() {
        let files = tree(&[
            (
                "clusters/a/loki.yaml",
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: loki, namespace: flux-system}\nspec:\n  path: ./c/overlays/a\n  sourceRef: {kind: GitRepository, name: flux-system}\n",
            ),
            ("c/base/kustomization.yaml", "resources:\n- release.yaml\n"),
            ("c/base/release.yaml", BASE_HR),
            (
                "c/overlays/a/kustomization.yaml",
                "resources:\n- ../../base\npatches:\n- path: p.yaml\n",
            ),
            (
                "c/overlays/a/p.yaml",
                "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: loki}\nspec: {interval: 1m}\n",
            ),
        ]);
        let t = tree_objects(&files);
        assert_eq!(t.errors, []);
        let kinds: Vec<(&str, &str)> = t
            .objects
            .iter()
            .map(|o| {
                (
                    o.kind.as_str(),
                    o.value["spec"]["interval"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(kinds, [("Kustomization", ""), ("HelmRelease", "1m")]);
        assert!(t.consumed.contains(Path::new("c/overlays/a/p.yaml")));
        assert!(t.consumed.contains(Path::new("c/base/release.yaml")));
    }
}
