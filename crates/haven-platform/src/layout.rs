//! `cluster.layout: reference`: the flat tree [`crate::render`] writes, laid out as the Haven+
//! reference implementation lays out its repository, so that one repository serves many
//! clusters:
//!
//! - `clusters/<cluster>/infrastructure/kustomization.yaml` lists `<component>.yaml`, each
//!   holding the component's Flux Kustomization(s): `<component>` when it has one unit,
//!   `<component>-controller` and `<component>-config` when it has a config part (custom
//!   resources that need the controller's CRDs), with `dependsOn` renamed to match;
//! - `infrastructure/<component>/[controller|config]/base/`: what comes from the catalogue
//!   alone, the same for every cluster;
//! - `infrastructure/<component>/[controller|config]/overlays/<cluster>/kustomization.yaml`:
//!   `resources: [../../base]` plus the cluster's own objects, and one strategic-merge patch per
//!   base object whose content depends on the config (`patches/<file>-<kind>-<name>.yaml`;
//!   `$patch: delete` for a base object this cluster does not have);
//! - `tenants/<cluster>/`: the tenants of the cluster.
//!
//! The base is what every render agrees on: the flat trees of a fixed set of configs (two
//! providers, cluster names and domains, each capability on, each alternative backend once;
//! [`canonical_configs`]) are intersected object by object and field by field; a field any two
//! of them render differently depends on the config and is left to the overlays. It depends on
//! the catalogue and this build of haven only, never on the cluster's config: rendering a
//! second cluster into the same repository writes the same base files, and `haven plus render`
//! refuses when a base another cluster's overlay uses would change ([`shared_base_conflicts`]).
//! Every overlay is checked when it is written: built with [`crate::kustomize`], it must give
//! back exactly the flat tree's objects.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::catalogue::Catalogue;
use crate::config::PlatformConfig;
use crate::render::{Rendered, Tree, render, yaml_stream};

/// Why a tree could not be laid out in the reference layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// An overlay, built, would not give back the flat tree's objects (a bug in haven).
    #[error(
        "the overlay {dir} does not build to the objects of {flat}: {detail} (a bug in haven; please report it, and use `cluster.layout: flat` meanwhile)"
    )]
    RoundTrip {
        dir: String,
        flat: String,
        detail: String,
    },
    /// A base shared with another cluster's overlay would change.
    #[error(
        "{file} is shared with cluster(s) {others} and would change; render every cluster of the repository with the same haven version and catalogue, or move this cluster to a repository of its own"
    )]
    SharedBase { file: String, others: String },
}

/// Identity of an object in a stream: kustomize matches patches by it.
type Id = (String, String, String, String);

fn id_of(v: &Value) -> Id {
    let s = |p: &str| {
        haven_model::object::lookup(v, p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    (
        s("apiVersion"),
        s("kind"),
        s("metadata.namespace"),
        s("metadata.name"),
    )
}

fn docs(text: &str) -> Vec<Value> {
    haven_model::parse_stream("rendered", text)
        .into_iter()
        .filter_map(Result::ok)
        .map(|d| d.value)
        .filter(|v| !v.is_null())
        .collect()
}

/// The fixed configs whose agreement is the base: every capability on (including ones a later
/// catalogue adds, found in the serialised config), each alternative backend in one of them,
/// on two providers with different names and domains.
pub fn canonical_configs() -> Vec<PlatformConfig> {
    let variants: [&[(&str, &str, &str)]; 4] = [
        &[],
        &[
            ("secrets", "backend", "sealed-secrets"),
            ("admission", "engine", "kyverno"),
            ("identity", "provider", "dex"),
            ("ingress", "implementation", "traefik"),
            ("metrics", "backend", "kube-prometheus-stack"),
        ],
        &[
            ("identity", "provider", "zitadel"),
            ("ingress", "implementation", "istio"),
        ],
        &[("ingress", "implementation", "cilium")],
    ];
    let mut out = Vec::new();
    for (name, domain, provider) in [
        (
            "layout-base-a",
            "a.layout.invalid",
            crate::Provider::Generic,
        ),
        (
            "layout-base-b",
            "b.layout.invalid",
            crate::Provider::Previder,
        ),
    ] {
        for variant in variants {
            let base = PlatformConfig::new(name, domain, provider);
            let Ok(mut v) = serde_json::to_value(&base) else {
                continue;
            };
            // One capability at a time: one that cannot be switched on without settings of its
            // own (or a choice it does not have) is left as its default.
            let reads = |v: &Value| serde_json::from_value::<PlatformConfig>(v.clone()).is_ok();
            let caps: Vec<String> = v["capabilities"]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            let mut edits: Vec<(String, String, Value)> = caps
                .iter()
                .filter(|c| v["capabilities"][c.as_str()].get("enabled").is_some())
                .map(|c| (c.clone(), "enabled".to_owned(), Value::Bool(true)))
                .collect();
            edits.extend(variant.iter().map(|(c, k, val)| {
                (
                    (*c).to_owned(),
                    (*k).to_owned(),
                    Value::String((*val).to_owned()),
                )
            }));
            for (cap, key, value) in edits {
                let mut next = v.clone();
                if let Some(Value::Object(m)) = next["capabilities"].get_mut(&cap) {
                    m.insert(key, value);
                }
                if reads(&next) {
                    v = next;
                }
            }
            if let Ok(c) = serde_json::from_value::<PlatformConfig>(v) {
                out.push(c);
            }
        }
    }
    out
}

/// The Flux Kustomizations of a flat tree (`clusters/<name>/infrastructure.yaml`).
fn flat_units(flat: &Tree, cluster: &str) -> Vec<Value> {
    flat.get(Path::new(&format!(
        "clusters/{cluster}/infrastructure.yaml"
    )))
    .map(|t| docs(t))
    .unwrap_or_default()
}

fn unit_dir(unit: &Value) -> Option<String> {
    unit["spec"]["path"]
        .as_str()
        .map(|p| p.trim_start_matches("./").trim_end_matches('/').to_owned())
}

/// The files of a flat unit directory, in its kustomization's order, each as its objects.
type UnitFiles = Vec<(String, Vec<Value>)>;

fn unit_files(flat: &Tree, dir: &str) -> UnitFiles {
    let Some(k) = flat.get(Path::new(&format!("{dir}/kustomization.yaml"))) else {
        return Vec::new();
    };
    let resources: Vec<String> = docs(k)
        .first()
        .and_then(|k| k["resources"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect();
    resources
        .into_iter()
        .map(|f| {
            let objects = flat
                .get(Path::new(&format!("{dir}/{f}")))
                .map(|t| docs(t))
                .unwrap_or_default();
            (f, objects)
        })
        .collect()
}

/// What two values agree on: mappings key by key, anything else whole. `None`: nothing.
fn agree(a: &Value, b: &Value) -> Option<Value> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut out = Map::new();
            for (k, va) in x {
                if let Some(vb) = y.get(k)
                    && let Some(v) = agree(va, vb)
                {
                    out.insert(k.clone(), v);
                }
            }
            Some(Value::Object(out))
        }
        _ if a == b => Some(a.clone()),
        _ => None,
    }
}

/// The JSON merge patch (RFC 7396) that turns `base` into `want`; `None` when they are equal.
fn merge_diff(base: &Value, want: &Value) -> Option<Value> {
    match (base, want) {
        (Value::Object(b), Value::Object(w)) => {
            let mut out = Map::new();
            for (k, wv) in w {
                match b.get(k) {
                    Some(bv) => {
                        if let Some(d) = merge_diff(bv, wv) {
                            out.insert(k.clone(), d);
                        }
                    }
                    None => {
                        out.insert(k.clone(), wv.clone());
                    }
                }
            }
            for k in b.keys() {
                if !w.contains_key(k) {
                    out.insert(k.clone(), Value::Null);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        _ if base == want => None,
        _ => Some(want.clone()),
    }
}

/// The identity fields a patch carries so that kustomize finds its target.
fn patch_head(id: &Id) -> Value {
    let mut meta = json!({"name": id.3});
    if !id.2.is_empty() {
        meta["namespace"] = json!(id.2);
    }
    json!({"apiVersion": id.0, "kind": id.1, "metadata": meta})
}

/// The bases of every flat unit directory the canonical renders have: directory → file →
/// objects (only those every render of that directory has, each cut to what they agree on).
pub type Bases = BTreeMap<String, BTreeMap<String, Vec<Value>>>;

/// Renders the canonical configs and intersects them ([`Bases`]); also the unit directories
/// that have a config part (`<component>-config`).
pub fn bases(catalogue: &Catalogue) -> Bases {
    let mut seen: BTreeMap<String, Vec<UnitFiles>> = BTreeMap::new();
    for c in canonical_configs() {
        let flat = render(&c, catalogue).files;
        for unit in flat_units(&flat, &c.cluster.name) {
            if let Some(dir) = unit_dir(&unit) {
                let files = unit_files(&flat, &dir);
                seen.entry(dir).or_default().push(files);
            }
        }
    }
    let mut out = Bases::new();
    for (dir, renders) in seen {
        let mut files: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let Some((first, rest)) = renders.split_first() else {
            continue;
        };
        for (file, objects) in first {
            let mut kept = Vec::new();
            'object: for o in objects {
                let id = id_of(o);
                let mut cut = o.clone();
                for other in rest {
                    let Some((_, theirs)) = other.iter().find(|(f, _)| f == file) else {
                        continue 'object;
                    };
                    let Some(t) = theirs.iter().find(|t| id_of(t) == id) else {
                        continue 'object;
                    };
                    match agree(&cut, t) {
                        Some(v) => cut = v,
                        None => continue 'object,
                    }
                }
                kept.push(cut);
            }
            if !kept.is_empty() {
                files.insert(file.clone(), kept);
            }
        }
        out.insert(dir, files);
    }
    out
}

/// A component and its part: `(component, Some("controller" | "config"))`, or `(name, None)`
/// for a component of one unit.
fn part_of(unit: &str, has_config: &BTreeSet<String>) -> (String, Option<&'static str>) {
    if let Some(c) = unit.strip_suffix("-config")
        && has_config.contains(c)
    {
        return (c.to_owned(), Some("config"));
    }
    if has_config.contains(unit) {
        return (unit.to_owned(), Some("controller"));
    }
    (unit.to_owned(), None)
}

fn unit_name(component: &str, part: Option<&str>) -> String {
    match part {
        Some(p) => format!("{component}-{p}"),
        None => component.to_owned(),
    }
}

fn part_dir(component: &str, part: Option<&str>) -> String {
    match part {
        Some(p) => format!("infrastructure/{component}/{p}"),
        None => format!("infrastructure/{component}"),
    }
}

/// Whether a file of the reference layout belongs to `cluster` alone (its overlays, its
/// `clusters/` and `tenants/` directories): the files a render of that cluster may call stale.
/// Bases are shared and never stale for one cluster.
///
/// A flat layout's files (`infrastructure/<unit>/<file>`, `tenants/kustomization.yaml`) are no
/// cluster's in the reference layout: they count as stale, so that a tree moved from one layout
/// to the other names what is left over.
pub fn owned_by(path: &Path, cluster: &str) -> bool {
    let s = path.to_string_lossy().replace('\\', "/");
    let flat_leftover = (s.starts_with("infrastructure/") && s.split('/').count() == 3)
        || s == "tenants/kustomization.yaml";
    flat_leftover
        || s.starts_with(&format!("clusters/{cluster}/"))
        || s.starts_with(&format!("tenants/{cluster}/"))
        || (s.starts_with("infrastructure/") && s.contains(&format!("/overlays/{cluster}/")))
}

/// Bases of `rendered` that already exist in `existing` with other content while another
/// cluster's overlay uses them.
pub fn shared_base_conflicts(rendered: &Tree, existing: &Tree, cluster: &str) -> Vec<LayoutError> {
    let mut out = Vec::new();
    for (path, text) in rendered {
        let s = path.to_string_lossy().replace('\\', "/");
        let Some((part, _)) = s.split_once("/base/") else {
            continue;
        };
        if !s.starts_with("infrastructure/") || existing.get(path).is_none_or(|old| old == text) {
            continue;
        }
        let prefix = format!("{part}/overlays/");
        let others: BTreeSet<String> = existing
            .keys()
            .filter_map(|p| {
                let p = p.to_string_lossy().replace('\\', "/");
                let rest = p.strip_prefix(&prefix)?.to_owned();
                let name = rest.split('/').next()?.to_owned();
                (name != cluster).then_some(name)
            })
            .collect();
        if !others.is_empty() {
            out.push(LayoutError::SharedBase {
                file: s.clone(),
                others: others.into_iter().collect::<Vec<_>>().join(", "),
            });
        }
    }
    out
}

/// Lays a flat render out in the reference layout (see the module documentation).
pub fn to_reference(
    flat: &Rendered,
    config: &PlatformConfig,
    catalogue: &Catalogue,
) -> Result<Rendered, LayoutError> {
    let cluster = config.cluster.name.as_str();
    let bases = bases(catalogue);
    let units = flat_units(&flat.files, cluster);
    let flat_unit_names: BTreeSet<String> = units
        .iter()
        .filter_map(|u| u["metadata"]["name"].as_str().map(str::to_owned))
        .collect();
    // A component has a config part when any render has one (so that its directories are the
    // same for every cluster), or this one does.
    let has_config: BTreeSet<String> = bases
        .keys()
        .map(|d| d.trim_start_matches("infrastructure/").to_owned())
        .chain(flat_unit_names.iter().cloned())
        .filter_map(|u| u.strip_suffix("-config").map(str::to_owned))
        .filter(|c| {
            bases.contains_key(&format!("infrastructure/{c}")) || flat_unit_names.contains(c)
        })
        .collect();
    let rename: BTreeMap<String, String> = flat_unit_names
        .iter()
        .map(|u| {
            let (c, p) = part_of(u, &has_config);
            (u.clone(), unit_name(&c, p))
        })
        .collect();

    let mut files = Tree::new();
    let mut per_component: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut flat_dirs: BTreeSet<String> = BTreeSet::new();
    for unit in &units {
        let (Some(name), Some(dir)) = (unit["metadata"]["name"].as_str(), unit_dir(unit)) else {
            continue;
        };
        flat_dirs.insert(dir.clone());
        let (component, part) = part_of(name, &has_config);
        let pdir = part_dir(&component, part);
        let overlay = format!("{pdir}/overlays/{cluster}");
        let empty = BTreeMap::new();
        let base = bases.get(&dir).unwrap_or(&empty);
        // The base: the same for every cluster.
        let mut base_resources: Vec<&str> = Vec::new();
        for (file, objects) in base {
            files.insert(
                PathBuf::from(format!("{pdir}/base/{file}")),
                yaml_stream(objects),
            );
            base_resources.push(file);
        }
        files.insert(
            PathBuf::from(format!("{pdir}/base/kustomization.yaml")),
            yaml_stream(&[kustomization(&base_resources)]),
        );
        // The overlay: this cluster's objects beside the base, and patches on it.
        let mut resources: Vec<String> = vec!["../../base".to_owned()];
        let mut patches: Vec<Value> = Vec::new();
        let flat_files = unit_files(&flat.files, &dir);
        let mut wanted: BTreeMap<Id, Value> = BTreeMap::new();
        for (file, objects) in &flat_files {
            let base_objects = base.get(file).map(Vec::as_slice).unwrap_or_default();
            let mut extra = Vec::new();
            for o in objects {
                let id = id_of(o);
                wanted.insert(id.clone(), o.clone());
                match base_objects.iter().find(|b| id_of(b) == id) {
                    Some(b) => {
                        if let Some(mut p) = merge_diff(b, o) {
                            if let (Value::Object(pm), Value::Object(head)) =
                                (&mut p, patch_head(&id))
                            {
                                for (k, v) in head {
                                    let merged = match (pm.remove(&k), v) {
                                        (Some(Value::Object(mut a)), Value::Object(b)) => {
                                            a.extend(b);
                                            Value::Object(a)
                                        }
                                        (_, v) => v,
                                    };
                                    pm.insert(k, merged);
                                }
                            }
                            patches.push(p);
                        }
                    }
                    None => extra.push(o.clone()),
                }
            }
            if !extra.is_empty() {
                files.insert(
                    PathBuf::from(format!("{overlay}/{file}")),
                    yaml_stream(&extra),
                );
                resources.push(file.clone());
            }
        }
        // Base objects this cluster does not have.
        for objects in base.values() {
            for b in objects {
                let id = id_of(b);
                if !wanted.contains_key(&id) {
                    let mut p = patch_head(&id);
                    p["$patch"] = json!("delete");
                    patches.push(p);
                }
            }
        }
        let mut entries = Vec::new();
        for p in &patches {
            let id = id_of(p);
            let mut file = format!(
                "patches/{}-{}.yaml",
                id.1.to_lowercase(),
                id.3.replace(['/', ':'], "-")
            );
            if files.contains_key(Path::new(&format!("{overlay}/{file}"))) {
                file = format!(
                    "patches/{}-{}-{}.yaml",
                    id.1.to_lowercase(),
                    id.2,
                    id.3.replace(['/', ':'], "-")
                );
            }
            files.insert(
                PathBuf::from(format!("{overlay}/{file}")),
                yaml_stream(std::slice::from_ref(p)),
            );
            entries.push(json!({"path": file}));
        }
        let refs: Vec<&str> = resources.iter().map(String::as_str).collect();
        let mut k = kustomization(&refs);
        if !entries.is_empty() {
            k["patches"] = Value::Array(entries);
        }
        files.insert(
            PathBuf::from(format!("{overlay}/kustomization.yaml")),
            yaml_stream(&[k]),
        );
        // The Flux Kustomization, renamed and pointed at the overlay.
        let mut u = unit.clone();
        u["metadata"]["name"] = json!(unit_name(&component, part));
        u["spec"]["path"] = json!(format!("./{overlay}"));
        rename_deps(&mut u, &rename);
        per_component.entry(component).or_default().push(u);
        check_round_trip(&files, &overlay, &dir, wanted)?;
    }
    let cdir = format!("clusters/{cluster}");
    let mut listed = Vec::new();
    for (component, units) in &per_component {
        files.insert(
            PathBuf::from(format!("{cdir}/infrastructure/{component}.yaml")),
            yaml_stream(units),
        );
        listed.push(format!("{component}.yaml"));
    }
    let refs: Vec<&str> = listed.iter().map(String::as_str).collect();
    files.insert(
        PathBuf::from(format!("{cdir}/infrastructure/kustomization.yaml")),
        yaml_stream(&[kustomization(&refs)]),
    );
    // Everything else: the cluster's own files as they are, tenants under the cluster's name.
    let infrastructure_yaml = PathBuf::from(format!("{cdir}/infrastructure.yaml"));
    for (path, text) in &flat.files {
        let s = path.to_string_lossy().replace('\\', "/");
        if *path == infrastructure_yaml || flat_dirs.iter().any(|d| s.starts_with(&format!("{d}/")))
        {
            continue;
        }
        let (path, mut objects) = match s.strip_prefix("tenants/") {
            Some(rest) => (PathBuf::from(format!("tenants/{cluster}/{rest}")), None),
            None => (path.clone(), None::<Vec<Value>>),
        };
        // Flux Kustomizations elsewhere (tenants.yaml, the tenants' own) wait for units by name.
        if text.contains("dependsOn") || s == format!("{cdir}/tenants.yaml") {
            let mut all = docs(text);
            let mut changed = false;
            for d in &mut all {
                changed |= rename_deps(d, &rename);
                if s == format!("{cdir}/tenants.yaml") && d["kind"] == "Kustomization" {
                    d["spec"]["path"] = json!(format!("./tenants/{cluster}"));
                    changed = true;
                }
            }
            if changed {
                objects = Some(all);
            }
        }
        let text = match objects {
            Some(o) => yaml_stream(&o),
            None => text.clone(),
        };
        files.insert(path, text);
    }
    Ok(Rendered {
        files,
        notes: flat.notes.clone(),
    })
}

/// Renames `spec.dependsOn` entries in flux-system (or without a namespace) after the units'
/// new names; whether anything changed.
fn rename_deps(o: &mut Value, rename: &BTreeMap<String, String>) -> bool {
    if o["kind"] != "Kustomization" && o["kind"] != "HelmRelease" {
        return false;
    }
    let own_ns = o["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut changed = false;
    if let Some(deps) = o
        .pointer_mut("/spec/dependsOn")
        .and_then(Value::as_array_mut)
    {
        for d in deps {
            let ns = d["namespace"].as_str().unwrap_or(&own_ns);
            if ns != crate::render::FLUX_NS {
                continue;
            }
            if let Some(new) = d["name"].as_str().and_then(|n| rename.get(n))
                && d["name"] != json!(new)
            {
                d["name"] = json!(new);
                changed = true;
            }
        }
    }
    changed
}

fn kustomization(resources: &[&str]) -> Value {
    json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    })
}

/// The overlay, built as Flux builds it, must give exactly the flat unit's objects.
fn check_round_trip(
    files: &Tree,
    overlay: &str,
    flat_dir: &str,
    wanted: BTreeMap<Id, Value>,
) -> Result<(), LayoutError> {
    let (objects, errors) = crate::kustomize::build(files, Path::new(overlay));
    let fail = |detail: String| LayoutError::RoundTrip {
        dir: overlay.to_owned(),
        flat: flat_dir.to_owned(),
        detail,
    };
    if let Some(e) = errors.first() {
        return Err(fail(e.to_string()));
    }
    let built: BTreeMap<Id, Value> = objects
        .into_iter()
        .map(|o| (id_of(&o.value), o.value))
        .collect();
    for (id, want) in &wanted {
        match built.get(id) {
            Some(got) if got == want => {}
            Some(_) => return Err(fail(format!("{} {} differs", id.1, id.3))),
            None => return Err(fail(format!("{} {} is missing", id.1, id.3))),
        }
    }
    if let Some(id) = built.keys().find(|id| !wanted.contains_key(*id)) {
        return Err(fail(format!("{} {} is extra", id.1, id.3)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_configs_switch_every_capability_on_and_each_alternative_once() {
        let configs = canonical_configs();
        assert_eq!(configs.len(), 8);
        for c in &configs {
            let v = serde_json::to_value(c).unwrap();
            for (name, cap) in v["capabilities"].as_object().unwrap() {
                if let Some(on) = cap.get("enabled") {
                    assert_eq!(on, &Value::Bool(true), "{name}");
                }
            }
        }
        let v: Vec<Value> = configs
            .iter()
            .map(|c| serde_json::to_value(c).unwrap())
            .collect();
        assert!(
            v.iter()
                .any(|c| c["capabilities"]["ingress"]["implementation"] == "cilium")
        );
        assert!(
            v.iter()
                .any(|c| c["capabilities"]["secrets"]["backend"] == "sealed-secrets")
        );
    }

    #[test]
    fn merge_diff_is_undone_by_a_merge() {
        let base = json!({"a": 1, "b": {"c": [1, 2], "d": "x"}, "gone": true});
        let want = json!({"a": 2, "b": {"c": [3], "d": "x", "e": {"f": 1}}});
        let patch = merge_diff(&base, &want).unwrap();
        assert_eq!(
            patch,
            json!({"a": 2, "b": {"c": [3], "e": {"f": 1}}, "gone": null})
        );
        let mut built = base.clone();
        json_patch::merge(&mut built, &patch);
        assert_eq!(built, want);
        assert_eq!(merge_diff(&want, &want), None);
        assert_eq!(
            agree(&base, &json!({"a": 1, "b": {"c": [1, 2], "d": "y"}})),
            Some(json!({"a": 1, "b": {"c": [1, 2]}}))
        );
    }
}
