//! What Flux makes of a tree: the Kustomization units and their order, and for each
//! HelmRelease what helm-controller (v1.x, Flux 2.9) would install — release name, namespace,
//! chart, values, CRD policy, post-renderers.
//!
//! Each rule is taken from helm-controller's source and named where it is implemented:
//! `HelmRelease.GetReleaseName`/`GetReleaseNamespace` (api/v2), `release.ShortenName`
//! (internal/release/name.go), `crdPolicyOrDefault` (internal/action/crds.go),
//! `chartutil.ChartValuesFromReferences` (fluxcd/pkg/chartutil/values.go).

use crate::validate::normalize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use haven_model::Object;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::error::{ReleaseError, SecretDataError, ValuesError};
use super::strvals;

/// Helm's limit on release names; helm-controller shortens longer ones.
const MAX_RELEASE_NAME: usize = 53;

/// `release.ShortenName`: names over 53 characters become their first 40 characters, `-` and
/// the first 12 hex digits of their SHA-256.
pub fn shorten_name(name: &str) -> String {
    if name.len() <= MAX_RELEASE_NAME {
        return name.to_owned();
    }
    const HASH: usize = 12;
    let sum = Sha256::digest(name.as_bytes());
    let hex: String = sum.iter().map(|b| format!("{b:02x}")).collect();
    // Go slices bytes; Kubernetes names are ASCII, and a cut inside a character is avoided.
    let mut cut = MAX_RELEASE_NAME - (HASH + 1);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}-{}", &name[..cut], &hex[..HASH])
}

/// `GetReleaseName`: `spec.releaseName`, else `<targetNamespace>-<name>` with a target
/// namespace, else the HelmRelease's name; then shortened.
pub fn release_name(hr: &Object) -> String {
    let spec = |k: &str| {
        hr.get(&format!("spec.{k}"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let name = match (spec("releaseName"), spec("targetNamespace")) {
        (Some(r), _) => r.to_owned(),
        (None, Some(t)) => format!("{t}-{}", hr.name),
        (None, None) => hr.name.clone(),
    };
    shorten_name(&name)
}

/// `GetReleaseNamespace`: `spec.targetNamespace`, else the HelmRelease's namespace.
pub fn release_namespace(hr: &Object) -> String {
    hr.get("spec.targetNamespace")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| hr.namespace.clone().unwrap_or_else(|| "default".to_owned()))
}

/// `spec.install.crds` / `spec.upgrade.crds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum CrdPolicy {
    Skip,
    Create,
    CreateReplace,
}

/// The CRD policy of the install action (the one a new cluster sees): `crdPolicyOrDefault`
/// makes an empty policy `Create`. An unknown policy is an error helm-controller reports.
pub fn install_crd_policy(hr: &Object) -> Result<CrdPolicy, ReleaseError> {
    match hr.get("spec.install.crds").and_then(Value::as_str) {
        None | Some("") | Some("Create") => Ok(CrdPolicy::Create),
        Some("Skip") => Ok(CrdPolicy::Skip),
        Some("CreateReplace") => Ok(CrdPolicy::CreateReplace),
        Some(other) => Err(ReleaseError::CrdPolicy {
            policy: other.to_owned(),
        }),
    }
}

/// Where a HelmRelease's chart comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartSpec {
    /// The chart's name (`spec.chart.spec.chart` for a Helm repository, the last segment of an
    /// OCI repository's URL, the last path segment for a chart in Git).
    pub name: String,
    /// The version or constraint asked for (`*` when none).
    pub version: String,
    /// `HelmRepository`, `OCIRepository`, `GitRepository`, `Bucket`, `HelmChart`.
    pub source_kind: String,
    pub source: String,
    /// The source's URL when the source is in the tree.
    pub url: Option<String>,
    /// The field the chart is named by, for messages.
    pub field: &'static str,
}

/// Reads the chart reference of a HelmRelease against the Flux sources of the tree.
pub fn chart_spec(
    hr: &Object,
    sources: &BTreeMap<String, Object>,
) -> Result<ChartSpec, ReleaseError> {
    let own_ns = hr.namespace.clone().unwrap_or_default();
    let source_of = |r: &Value| {
        let kind = r["kind"].as_str().unwrap_or_default().to_owned();
        let name = r["name"].as_str().unwrap_or_default();
        let ns = r["namespace"].as_str().unwrap_or(&own_ns);
        (kind.clone(), format!("{kind}/{ns}/{name}"))
    };
    if let Some(r) = hr.get("spec.chartRef") {
        let (kind, key) = source_of(r);
        let src = sources.get(&key);
        let url = src
            .and_then(|s| s.get("spec.url"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        return match kind.as_str() {
            "OCIRepository" => {
                let src = src.ok_or_else(|| ReleaseError::MissingChartRefSource {
                    source_key: key.clone(),
                })?;
                let name = url
                    .as_deref()
                    .and_then(|u| u.trim_end_matches('/').rsplit('/').next())
                    .unwrap_or_default()
                    .to_owned();
                let version = ["spec.ref.tag", "spec.ref.semver"]
                    .iter()
                    .find_map(|p| src.get(p).and_then(Value::as_str))
                    .unwrap_or("*")
                    .to_owned();
                Ok(ChartSpec {
                    name,
                    version,
                    source_kind: kind,
                    source: key,
                    url,
                    field: "spec.chartRef",
                })
            }
            _ => Err(ReleaseError::UnsupportedChartRef { kind }),
        };
    }
    let Some(spec) = hr.get("spec.chart.spec") else {
        return Err(ReleaseError::NoChart);
    };
    let (kind, key) = source_of(&spec["sourceRef"]);
    let url = sources
        .get(&key)
        .and_then(|s| s.get("spec.url"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let chart = spec["chart"].as_str().unwrap_or_default();
    let name = match kind.as_str() {
        "HelmRepository" => chart.to_owned(),
        _ => chart
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(chart)
            .to_owned(),
    };
    Ok(ChartSpec {
        name,
        version: spec["version"].as_str().unwrap_or("*").to_owned(),
        source_kind: kind,
        source: key,
        url,
        field: "spec.chart.spec",
    })
}

/// How a chart's version compares with what the HelmRelease asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionMatch {
    Same,
    Differs,
    /// A range or wildcard haven does not evaluate.
    NotChecked,
}

/// Compares an exact version request with a chart's version (a leading `v` is not significant,
/// as in Helm's semver); `*` matches anything.
pub fn version_matches(wanted: &str, have: &str) -> VersionMatch {
    let wanted = wanted.trim();
    if wanted.is_empty() || wanted == "*" {
        return VersionMatch::Same;
    }
    let exact = wanted
        .trim_start_matches('v')
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
        && wanted.matches('.').count() == 2
        && !wanted.contains(['x', 'X']);
    if !exact {
        return VersionMatch::NotChecked;
    }
    if wanted.trim_start_matches('v') == have.trim_start_matches('v') {
        VersionMatch::Same
    } else {
        VersionMatch::Differs
    }
}

/// A remark about a HelmRelease's values: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuesNote {
    /// Field of the HelmRelease (`spec.valuesFrom[1]`).
    pub path: String,
    pub message: String,
    /// A reference Flux could not resolve either (the install would fail), rather than one
    /// that will exist in the cluster but is not in the tree.
    pub error: bool,
}

/// What the tree says about a Secret or ConfigMap a values reference may read.
#[derive(Debug, Clone)]
pub enum ValuesSource {
    /// The object is in the tree: its data (Secret data decoded), or why it cannot be read.
    Data(Result<BTreeMap<String, String>, SecretDataError>),
    /// A Secret the tree has made in the cluster (ExternalSecret, SealedSecret): its keys.
    Made { by: String, keys: BTreeSet<String> },
}

/// ConfigMaps and Secrets of the tree (and the Secrets it has made), by `Kind/namespace/name`.
pub fn values_sources(objects: &[Object]) -> BTreeMap<String, ValuesSource> {
    let mut out = BTreeMap::new();
    for o in objects {
        let ns = o.namespace.clone().unwrap_or_default();
        match (o.api_group(), o.kind.as_str()) {
            ("", "ConfigMap") => {
                let data = string_map(o.get("data"));
                out.insert(
                    format!("ConfigMap/{ns}/{}", o.name),
                    ValuesSource::Data(Ok(data)),
                );
            }
            ("", "Secret") => {
                let data = if o.get("sops").is_some() {
                    Err(SecretDataError::Sops)
                } else {
                    let mut data = BTreeMap::new();
                    let mut bad = None;
                    for (k, v) in string_map(o.get("data")) {
                        match base64::engine::general_purpose::STANDARD.decode(v.trim()) {
                            Ok(bytes) => {
                                data.insert(k, String::from_utf8_lossy(&bytes).into_owned());
                            }
                            Err(_) => bad = Some(SecretDataError::NotBase64 { key: k }),
                        }
                    }
                    data.extend(string_map(o.get("stringData")));
                    bad.map_or(Ok(data), Err)
                };
                out.insert(format!("Secret/{ns}/{}", o.name), ValuesSource::Data(data));
            }
            ("external-secrets.io", "ExternalSecret") => {
                let target = o
                    .get("spec.target.name")
                    .and_then(Value::as_str)
                    .unwrap_or(&o.name)
                    .to_owned();
                let keys = o
                    .get("spec.data")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|d| d["secretKey"].as_str().map(str::to_owned))
                    .collect();
                out.entry(format!("Secret/{ns}/{target}"))
                    .or_insert(ValuesSource::Made {
                        by: format!("ExternalSecret {ns}/{}", o.name),
                        keys,
                    });
            }
            ("bitnami.com", "SealedSecret") => {
                let target = o
                    .get("spec.template.metadata.name")
                    .and_then(Value::as_str)
                    .unwrap_or(&o.name)
                    .to_owned();
                let keys = o
                    .get("spec.encryptedData")
                    .and_then(Value::as_object)
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                out.entry(format!("Secret/{ns}/{target}"))
                    .or_insert(ValuesSource::Made {
                        by: format!("SealedSecret {ns}/{}", o.name),
                        keys,
                    });
            }
            _ => {}
        }
    }
    out
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// The values a HelmRelease installs with, merged as `ChartValuesFromReferences` does: each
/// `valuesFrom` in order (a whole values document merged in, or with `targetPath` one value set
/// at a `--set` path after merging `spec.values` in), then `spec.values` over the result.
///
/// A reference to a Secret the tree makes in the cluster (ExternalSecret, SealedSecret) but
/// cannot show its content is rendered with a placeholder at its `targetPath`, and said so; a
/// whole values document from such a Secret cannot be guessed and is left out, with a note.
pub fn values(hr: &Object, sources: &BTreeMap<String, ValuesSource>) -> (Value, Vec<ValuesNote>) {
    let inline = hr
        .get("spec.values")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| Value::Object(Map::new()));
    let ns = hr.namespace.clone().unwrap_or_default();
    let mut notes = Vec::new();
    let mut result = Value::Object(Map::new());
    let refs = hr
        .get("spec.valuesFrom")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, r) in refs.iter().enumerate() {
        let path = format!("spec.valuesFrom[{i}]");
        let kind = r["kind"].as_str().unwrap_or_default();
        let name = r["name"].as_str().unwrap_or_default();
        let key = r["valuesKey"]
            .as_str()
            .filter(|k| !k.is_empty())
            .unwrap_or("values.yaml");
        let target = r["targetPath"].as_str().filter(|t| !t.is_empty());
        let optional = r["optional"].as_bool().unwrap_or(false);
        let literal = r["literal"].as_bool().unwrap_or(false);
        let what = format!("{kind} {ns}/{name} (key `{key}`)");
        let mut note = |message: String, error: bool| {
            notes.push(ValuesNote {
                path: path.clone(),
                message,
                error,
            })
        };
        if kind != "ConfigMap" && kind != "Secret" {
            note(
                format!("valuesFrom kind `{kind}` is not supported by Flux (ConfigMap or Secret)"),
                true,
            );
            continue;
        }
        let data: Option<String> = match sources.get(&format!("{kind}/{ns}/{name}")) {
            Some(ValuesSource::Data(Ok(data))) => match data.get(key) {
                Some(d) => Some(d.clone()),
                None if optional => continue,
                None => {
                    note(
                        format!("{what}: the key is not in it; Flux fails the install"),
                        true,
                    );
                    continue;
                }
            },
            Some(ValuesSource::Data(Err(why))) => {
                note(
                    format!("{what} cannot be read offline ({why}): rendered without it"),
                    false,
                );
                target.map(|t| placeholder(name, key, t))
            }
            Some(ValuesSource::Made { by, keys }) => {
                if !keys.contains(key) && !optional && !keys.is_empty() {
                    note(
                        format!(
                            "{what}: {by} makes the Secret without that key; Flux fails the install"
                        ),
                        true,
                    );
                    continue;
                }
                match target {
                    Some(t) => {
                        note(
                            format!(
                                "{what} is made in the cluster by {by}: rendered with a placeholder at `{t}`"
                            ),
                            false,
                        );
                        Some(placeholder(name, key, t))
                    }
                    None => {
                        note(
                            format!(
                                "{what} is made in the cluster by {by}: its values are not known offline and were left out"
                            ),
                            false,
                        );
                        None
                    }
                }
            }
            None if optional => continue,
            None => {
                note(
                    format!(
                        "{what} is not in the tree: create it before Flux installs the chart (rendered without it)"
                    ),
                    false,
                );
                target.map(|t| placeholder(name, key, t))
            }
        };
        let Some(data) = data else { continue };
        match target {
            Some(t) => {
                merge_maps(&mut result, &inline);
                let set = if literal {
                    strvals::set_literal(&mut result, t, &data)
                } else {
                    strvals::set_path_value(&mut result, t, &data)
                };
                if let Err(e) = set {
                    note(format!("{what}: targetPath `{t}`: {e}"), true);
                }
            }
            None => match read_values_document(&format!("{kind}/{name}/{key}"), &data) {
                Ok(v) => merge_maps(&mut result, &v),
                Err(e) => note(format!("{what}: {e}"), true),
            },
        }
    }
    merge_maps(&mut result, &inline);
    (result, notes)
}

/// A value standing in for one read from a Secret only the cluster has.
fn placeholder(name: &str, key: &str, _target: &str) -> String {
    format!("haven-placeholder-{name}-{key}")
}

/// `common.ReadValues`: one YAML document that must be a mapping (empty is `{}`).
fn read_values_document(name: &str, text: &str) -> Result<Value, ValuesError> {
    let mut docs = haven_model::parse_stream(name, text);
    if docs.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    match docs.remove(0) {
        Ok(d) if d.value.is_object() => Ok(d.value),
        Ok(d) if d.value.is_null() => Ok(Value::Object(Map::new())),
        Ok(_) => Err(ValuesError::NotAMapping),
        Err(e) => Err(ValuesError::Yaml(e)),
    }
}

/// Flux's `MergeMaps`: maps merge recursively, anything else replaces.
pub fn merge_maps(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => {
                        merge_maps(existing, v);
                    }
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// A Flux Kustomization of the tree: its name, what it applies, what it waits for.
#[derive(Debug, Clone)]
pub struct Unit {
    /// `namespace/name`.
    pub key: String,
    pub object: Object,
    /// Files it applies (tree-relative).
    pub files: BTreeSet<PathBuf>,
    /// Units it names in `dependsOn`.
    pub depends_on: Vec<String>,
}

/// The Flux Kustomizations of the tree that read the tree itself (`sourceRef` is the
/// flux-system GitRepository, as `flux bootstrap` names it), with the files each applies and
/// the order between them.
#[derive(Debug, Clone, Default)]
pub struct Units {
    pub units: BTreeMap<String, Unit>,
    /// Unit key → the units that are applied before it: its `dependsOn`, the unit that creates
    /// it, and theirs, transitively.
    pub before: BTreeMap<String, BTreeSet<String>>,
}

impl Units {
    /// Reads the units from the tree's files and objects.
    pub fn new(files: &BTreeMap<PathBuf, String>, objects: &[Object]) -> Self {
        let mut units = BTreeMap::new();
        for o in objects {
            if o.api_group() != "kustomize.toolkit.fluxcd.io" || o.kind != "Kustomization" {
                continue;
            }
            let ns = o.namespace.clone().unwrap_or_default();
            let key = format!("{ns}/{}", o.name);
            let reads_tree =
                o.get("spec.sourceRef.name").and_then(Value::as_str) == Some("flux-system");
            let files_applied = match o.get("spec.path").and_then(Value::as_str) {
                Some(p) if reads_tree => applied_files(Path::new(p), files),
                _ => BTreeSet::new(),
            };
            let depends_on = o
                .get("spec.dependsOn")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|d| {
                    format!(
                        "{}/{}",
                        d["namespace"].as_str().unwrap_or(&ns),
                        d["name"].as_str().unwrap_or_default()
                    )
                })
                .collect();
            units.insert(
                key.clone(),
                Unit {
                    key,
                    object: o.clone(),
                    files: files_applied,
                    depends_on,
                },
            );
        }
        // The unit whose files hold a Kustomization creates it: its objects come first.
        let mut direct: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for u in units.values() {
            let mut d: BTreeSet<String> = u.depends_on.iter().cloned().collect();
            let file = PathBuf::from(u.object.file.as_ref());
            for other in units.values() {
                if other.key != u.key && other.files.contains(&file) {
                    d.insert(other.key.clone());
                }
            }
            direct.insert(u.key.clone(), d);
        }
        let mut before = BTreeMap::new();
        for k in units.keys() {
            let mut seen = BTreeSet::new();
            let mut stack: Vec<String> = direct.get(k).into_iter().flatten().cloned().collect();
            while let Some(n) = stack.pop() {
                if n != *k && seen.insert(n.clone()) {
                    stack.extend(direct.get(&n).into_iter().flatten().cloned());
                }
            }
            before.insert(k.clone(), seen);
        }
        Self { units, before }
    }

    /// The unit that applies a file (the innermost when several do).
    pub fn unit_of(&self, file: &Path) -> Option<&Unit> {
        self.units
            .values()
            .filter(|u| u.files.contains(file))
            .max_by_key(|u| {
                u.object
                    .get("spec.path")
                    .and_then(Value::as_str)
                    .map_or(0, str::len)
            })
    }

    /// Whether unit `a` is applied (and Ready) before unit `b` starts.
    pub fn is_before(&self, a: &str, b: &str) -> bool {
        self.before.get(b).is_some_and(|s| s.contains(a))
    }
}

/// The files a Flux Kustomization applies from `path`: what its `kustomization.yaml` lists
/// (files and directories, recursively), or without one every YAML file under it, a
/// subdirectory with its own `kustomization.yaml` taken through that (as kustomize-controller
/// generates one).
pub fn applied_files(path: &Path, files: &BTreeMap<PathBuf, String>) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut seen = BTreeSet::new();
    collect_dir(&normalize(path), files, &mut out, &mut seen);
    out
}

fn collect_dir(
    dir: &Path,
    files: &BTreeMap<PathBuf, String>,
    out: &mut BTreeSet<PathBuf>,
    seen: &mut BTreeSet<PathBuf>,
) {
    if !seen.insert(dir.to_path_buf()) {
        return;
    }
    let kfile = ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| files.contains_key(p));
    if let Some(kfile) = kfile {
        let resources = haven_model::parse_stream(&kfile.to_string_lossy(), &files[&kfile])
            .into_iter()
            .filter_map(Result::ok)
            .flat_map(|d| {
                d.value
                    .get("resources")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|r| r.as_str().map(str::to_owned))
            .collect::<Vec<_>>();
        for r in resources {
            if r.contains("://") {
                continue;
            }
            let target = normalize(&dir.join(&r));
            if files.contains_key(&target) {
                out.insert(target);
            } else {
                collect_dir(&target, files, out, seen);
            }
        }
        return;
    }
    let mut subdirs = BTreeSet::new();
    for p in files.keys() {
        let Ok(rest) = p.strip_prefix(dir) else {
            continue;
        };
        let mut parts = rest.components();
        let first = parts.next();
        if parts.next().is_some() {
            if let Some(first) = first {
                subdirs.insert(dir.join(first.as_os_str()));
            }
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.insert(p.clone());
        }
    }
    for s in subdirs {
        let has_kustomization = ["kustomization.yaml", "kustomization.yml", "Kustomization"]
            .iter()
            .any(|n| files.contains_key(&s.join(n)));
        if has_kustomization {
            collect_dir(&s, files, out, seen);
        } else {
            // Plain subdirectories are walked as part of this one.
            let mut inner = BTreeSet::new();
            collect_dir(&s, files, &mut inner, seen);
            out.extend(inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haven_model::{Origin, load_objects};
    use serde_json::json;

    fn object(yaml: &str) -> Object {
        load_objects(Origin::File("t.yaml"), yaml).objects.remove(0)
    }

    /// What cannot be read of a HelmRelease's chart and install settings is told apart by
    /// variant, and the message names the field's value as before.
    #[test]
    fn unreadable_charts_and_policies_are_typed() {
        let hr = |spec: &str| {
            object(&format!(
                "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {{name: web, namespace: apps}}\nspec: {spec}\n"
            ))
        };
        let sources = BTreeMap::new();
        let policy = install_crd_policy(&hr("{install: {crds: Sometimes}}")).unwrap_err();
        assert_eq!(
            policy,
            ReleaseError::CrdPolicy {
                policy: "Sometimes".to_owned()
            }
        );
        assert_eq!(
            policy.to_string(),
            "invalid CRD policy `Sometimes`: Skip, Create or CreateReplace"
        );
        assert_eq!(chart_spec(&hr("{}"), &sources), Err(ReleaseError::NoChart));
        assert!(matches!(
            chart_spec(&hr("{chartRef: {kind: HelmChart, name: web}}"), &sources),
            Err(ReleaseError::UnsupportedChartRef { kind }) if kind == "HelmChart"
        ));
        let missing = chart_spec(
            &hr("{chartRef: {kind: OCIRepository, name: web}}"),
            &sources,
        )
        .unwrap_err();
        assert!(
            matches!(&missing, ReleaseError::MissingChartRefSource { source_key } if source_key == "OCIRepository/apps/web"),
            "{missing:?}"
        );
        assert_eq!(
            missing.to_string(),
            "its chartRef names OCIRepository/apps/web, which is not in the tree"
        );
    }

    /// A Secret the tree holds but cannot be read offline says why, by variant.
    #[test]
    fn unreadable_secrets_are_typed() {
        let secrets = load_objects(
            Origin::File("t.yaml"),
            "apiVersion: v1\nkind: Secret\nmetadata: {name: sealed, namespace: apps}\nsops: {version: 3}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: bad, namespace: apps}\ndata: {key: '!!!'}\n",
        )
        .objects;
        let sources = values_sources(&secrets);
        assert!(matches!(
            sources.get("Secret/apps/sealed"),
            Some(ValuesSource::Data(Err(SecretDataError::Sops)))
        ));
        match sources.get("Secret/apps/bad") {
            Some(ValuesSource::Data(Err(e @ SecretDataError::NotBase64 { key }))) => {
                assert_eq!(key, "key");
                assert_eq!(e.to_string(), "data.key is not base64");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read_values_document("v", "- a\n"),
            Err(ValuesError::NotAMapping)
        ));
        assert!(matches!(
            read_values_document("v", "a: [\n"),
            Err(ValuesError::Yaml(_))
        ));
    }

    #[test]
    fn release_names_as_helm_controller() {
        let hr = |spec: &str| {
            object(&format!(
                "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {{name: podinfo, namespace: apps}}\nspec: {spec}\n"
            ))
        };
        assert_eq!(release_name(&hr("{}")), "podinfo");
        assert_eq!(release_name(&hr("{targetNamespace: web}")), "web-podinfo");
        assert_eq!(
            release_name(&hr("{targetNamespace: web, releaseName: x}")),
            "x"
        );
        assert_eq!(release_namespace(&hr("{targetNamespace: web}")), "web");
        assert_eq!(release_namespace(&hr("{}")), "apps");
        // helm-controller's own test case (internal/release/name_test.go).
        assert_eq!(
            shorten_name("some-front-appended-namespace-release-with-a-very-long-name"),
            "some-front-appended-namespace-release-wi-1234567890ab".replace("1234567890ab", &{
                let s =
                    Sha256::digest(b"some-front-appended-namespace-release-with-a-very-long-name");
                s.iter().map(|b| format!("{b:02x}")).collect::<String>()[..12].to_owned()
            })
        );
        let long = "a".repeat(54);
        assert_eq!(shorten_name(&long).len(), 53);
        assert_eq!(shorten_name(&"a".repeat(53)), "a".repeat(53));
    }

    #[test]
    fn values_merge_in_fluxs_order() {
        let cm = object(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: base, namespace: apps}\ndata:\n  values.yaml: |\n    a: {b: from-cm, c: cm}\n    d: cm\n  host: example.org\n",
        );
        let es = object(
            "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: creds, namespace: apps}\nspec: {target: {name: creds}, data: [{secretKey: password, remoteRef: {key: x}}]}\n",
        );
        let hr = object(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: p, namespace: apps}\nspec:\n  values: {a: {b: inline}, e: inline}\n  valuesFrom:\n  - {kind: ConfigMap, name: base}\n  - {kind: ConfigMap, name: base, valuesKey: host, targetPath: \"ingress.hosts[0]\"}\n  - {kind: Secret, name: creds, valuesKey: password, targetPath: auth.password}\n  - {kind: Secret, name: gone, optional: true}\n  - {kind: Secret, name: missing}\n",
        );
        let sources = values_sources(&[cm, es]);
        let (v, notes) = values(&hr, &sources);
        assert_eq!(
            v,
            json!({"a": {"b": "inline", "c": "cm"}, "d": "cm", "e": "inline",
                   "ingress": {"hosts": ["example.org"]},
                   "auth": {"password": "haven-placeholder-creds-password"}})
        );
        let paths: Vec<(&str, bool)> = notes.iter().map(|n| (n.path.as_str(), n.error)).collect();
        assert_eq!(
            paths,
            [("spec.valuesFrom[2]", false), ("spec.valuesFrom[4]", false)]
        );
        assert!(notes[1].message.contains("not in the tree"), "{notes:?}");
    }

    #[test]
    fn versions_compare_exactly_or_not_at_all() {
        assert_eq!(version_matches("v1.21.1", "v1.21.1"), VersionMatch::Same);
        assert_eq!(version_matches("1.21.1", "v1.21.1"), VersionMatch::Same);
        assert_eq!(version_matches("1.21.2", "1.21.1"), VersionMatch::Differs);
        assert_eq!(version_matches("*", "9"), VersionMatch::Same);
        assert_eq!(
            version_matches(">=1.0.0", "1.2.0"),
            VersionMatch::NotChecked
        );
        assert_eq!(version_matches("1.2.x", "1.2.0"), VersionMatch::NotChecked);
    }

    #[test]
    fn units_know_what_they_apply_and_their_order() {
        let mut files = BTreeMap::new();
        let f = |s: &str| PathBuf::from(s);
        files.insert(
            f("clusters/c/infra.yaml"),
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: a, namespace: flux-system}\nspec: {path: ./infra/a, sourceRef: {kind: GitRepository, name: flux-system}}\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: b, namespace: flux-system}\nspec: {path: ./infra/b, dependsOn: [{name: a}], sourceRef: {kind: GitRepository, name: flux-system}}\n".to_owned(),
        );
        files.insert(
            f("clusters/c/sync.yaml"),
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: flux-system, namespace: flux-system}\nspec: {path: ./clusters/c, sourceRef: {kind: GitRepository, name: flux-system}}\n".to_owned(),
        );
        files.insert(
            f("infra/a/kustomization.yaml"),
            "resources: [x.yaml, sub]\n".to_owned(),
        );
        files.insert(f("infra/a/x.yaml"), String::new());
        files.insert(f("infra/a/unlisted.yaml"), String::new());
        files.insert(f("infra/a/sub/y.yaml"), String::new());
        files.insert(f("infra/b/z.yaml"), String::new());
        files.insert(f("infra/b/deep/w.yaml"), String::new());
        let objects: Vec<Object> = files
            .iter()
            .flat_map(|(p, t)| load_objects(Origin::File(&p.to_string_lossy()), t).objects)
            .collect();
        let units = Units::new(&files, &objects);
        let a = &units.units["flux-system/a"];
        assert_eq!(
            a.files,
            BTreeSet::from([f("infra/a/x.yaml"), f("infra/a/sub/y.yaml")])
        );
        assert_eq!(
            units.units["flux-system/b"].files,
            BTreeSet::from([f("infra/b/z.yaml"), f("infra/b/deep/w.yaml")])
        );
        assert!(units.is_before("flux-system/a", "flux-system/b"));
        assert!(units.is_before("flux-system/flux-system", "flux-system/b"));
        assert!(!units.is_before("flux-system/b", "flux-system/a"));
        assert_eq!(
            units.unit_of(Path::new("infra/a/sub/y.yaml")).unwrap().key,
            "flux-system/a"
        );
    }
}
