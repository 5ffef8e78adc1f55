//! Flux's post-renderers of a HelmRelease, applied to the rendered objects as helm-controller
//! does after `helm template` (internal/postrender/build.go): each `spec.postRenderers[].kustomize`
//! in order (its `patches`, then its `images`, as kustomize orders its transformers), then
//! `spec.commonMetadata`, then the origin labels `helm.toolkit.fluxcd.io/{name,namespace}`.
//!
//! Supported: JSON 6902 patches (the `json-patch` crate: every operation, `test` included; an
//! operation that does not apply fails the release, as kustomize fails the build),
//! strategic merge patches as kustomize's kyaml merges them without a schema (maps merge, `null` deletes, lists of maps merge by the
//! first of kyaml's associative keys every element has, other lists replace, `$patch: delete`
//! and `$patch: replace`), patch targets by group, version, kind, name and namespace
//! (anchored regular expressions) and label and annotation selectors, and image overrides
//! (`name`, `newName`, `newTag`, `digest`) on every `containers`/`initContainers` list. Not
//! supported, and reported: the other `$`-directives of strategic merge patches
//! (`$setElementOrder`, `$retainKeys`, `$deleteFromPrimitiveList`), and the v2beta fields
//! `patchesStrategicMerge` and `patchesJson6902`.

use haven_model::Object;
use haven_selector::{Labels, Selector};
use serde_json::{Map, Value};

use super::error::PatchError;

/// A post-renderer that could not be applied as written: the field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRenderNote {
    /// Field of the HelmRelease (`spec.postRenderers[0].kustomize.patches[1]`).
    pub path: String,
    pub message: String,
    /// kustomize stops here too ([`PatchError::fails_release`]): helm-controller's post-render
    /// fails and the release is not installed. Otherwise haven could not apply what kustomize
    /// would have, or the patch does nothing.
    pub fails_release: bool,
}

/// Keys by which kyaml merges a list of maps when it has no schema for it
/// (`kyaml/yaml.AssociativeSequenceKeys`), in its order.
const ASSOCIATIVE_KEYS: &[&str] = &[
    "name",
    "mountPath",
    "devicePath",
    "ip",
    "type",
    "topologyKey",
    "containerPort",
];

/// Applies every post-renderer of `hr` to `objects`.
pub fn apply(hr: &Object, objects: &mut [Object]) -> Vec<PostRenderNote> {
    let mut notes = Vec::new();
    let renderers = hr
        .get("spec.postRenderers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, r) in renderers.iter().enumerate() {
        let base = format!("spec.postRenderers[{i}].kustomize");
        let Some(k) = r.get("kustomize") else {
            continue;
        };
        for old in ["patchesStrategicMerge", "patchesJson6902"] {
            if k.get(old).is_some() {
                notes.push(PostRenderNote {
                    path: format!("{base}.{old}"),
                    message: format!(
                        "`{old}` was removed in helm.toolkit.fluxcd.io/v2 (use `patches`); not applied"
                    ),
                    fails_release: false,
                });
            }
        }
        for (j, p) in k
            .get("patches")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let path = format!("{base}.patches[{j}]");
            if let Err(e) = apply_patch(p, objects) {
                let fails_release = e.fails_release();
                let message = if fails_release {
                    format!(
                        "{e}; kustomize stops here, so helm-controller does not install the release"
                    )
                } else {
                    e.to_string()
                };
                notes.push(PostRenderNote {
                    path,
                    message,
                    fails_release,
                });
            }
        }
        for image in k
            .get("images")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for o in objects.iter_mut() {
                set_images(&mut o.value, image);
            }
        }
    }
    let mut labels = Map::new();
    let mut annotations = Map::new();
    if let Some(common) = hr.get("spec.commonMetadata") {
        if let Some(l) = common.get("labels").and_then(Value::as_object) {
            labels.extend(l.clone());
        }
        if let Some(a) = common.get("annotations").and_then(Value::as_object) {
            annotations.extend(a.clone());
        }
    }
    labels.insert(
        "helm.toolkit.fluxcd.io/name".to_owned(),
        Value::String(hr.name.clone()),
    );
    labels.insert(
        "helm.toolkit.fluxcd.io/namespace".to_owned(),
        Value::String(hr.namespace.clone().unwrap_or_default()),
    );
    for o in objects.iter_mut() {
        let Some(meta) = o.value.get_mut("metadata").and_then(Value::as_object_mut) else {
            continue;
        };
        for (field, add) in [("labels", &labels), ("annotations", &annotations)] {
            if add.is_empty() {
                continue;
            }
            let slot = meta
                .entry(field)
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Some(m) = slot.as_object_mut() {
                m.extend(add.clone());
            }
        }
        o.name = o.value["metadata"]["name"]
            .as_str()
            .unwrap_or(&o.name)
            .to_owned();
        o.namespace = o.value["metadata"]["namespace"]
            .as_str()
            .map(str::to_owned)
            .or(o.namespace.take());
    }
    notes
}

fn apply_patch(p: &Value, objects: &mut [Object]) -> Result<(), PatchError> {
    let text = p
        .get("patch")
        .and_then(Value::as_str)
        .ok_or(PatchError::NoPatch)?;
    let docs = haven_model::parse_stream("patch", text);
    let doc = match docs.into_iter().next() {
        Some(Ok(d)) => d.value,
        Some(Err(e)) => return Err(PatchError::NotYaml(e)),
        None => return Err(PatchError::Empty),
    };
    let target = p.get("target");
    match &doc {
        Value::Array(_) => {
            let ops: json_patch::Patch =
                serde_json::from_value(doc.clone()).map_err(PatchError::NotJson6902)?;
            let target = target.ok_or(PatchError::NoTarget)?;
            let select = Target::new(target)?;
            let mut matched = 0;
            for o in objects.iter_mut().filter(|o| select.matches(o)) {
                matched += 1;
                json_patch::patch(&mut o.value, &ops).map_err(|source| PatchError::Apply {
                    kind: o.kind.clone(),
                    name: o.name.clone(),
                    source,
                })?;
            }
            if matched == 0 {
                return Err(PatchError::NothingSelected);
            }
            Ok(())
        }
        Value::Object(_) => {
            if let Some(d) = find_directive(&doc) {
                return Err(PatchError::UnsupportedDirective(d));
            }
            let select = match target {
                Some(t) => Target::new(t)?,
                None => Target::of_patch(&doc)?,
            };
            let mut matched = 0;
            for o in objects.iter_mut().filter(|o| select.matches(o)) {
                matched += 1;
                let mut patch = doc.clone();
                // With a target the patch's own identity does not rename what it patches.
                if target.is_some()
                    && let Some(m) = patch.as_object_mut()
                {
                    m.remove("apiVersion");
                    m.remove("kind");
                    if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
                        meta.remove("name");
                        meta.remove("namespace");
                    }
                }
                strategic_merge(&mut o.value, &patch);
            }
            if matched == 0 {
                return Err(PatchError::NothingSelected);
            }
            Ok(())
        }
        _ => Err(PatchError::NotAPatch),
    }
}

fn find_directive(v: &Value) -> Option<String> {
    match v {
        Value::Object(m) => m.iter().find_map(|(k, v)| {
            let unsupported = k.starts_with("$setElementOrder")
                || k == "$retainKeys"
                || k.starts_with("$deleteFromPrimitiveList");
            if unsupported {
                Some(k.clone())
            } else {
                find_directive(v)
            }
        }),
        Value::Array(a) => a.iter().find_map(find_directive),
        _ => None,
    }
}

/// kustomize's patch target (`types.Selector`).
struct Target {
    group: Option<String>,
    version: Option<String>,
    kind: Option<String>,
    name: Option<regex::Regex>,
    namespace: Option<regex::Regex>,
    labels: Option<Selector>,
    annotations: Option<Selector>,
}

impl Target {
    fn new(t: &Value) -> Result<Self, PatchError> {
        let s = |k: &str| {
            t.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let re = |field: &'static str| -> Result<Option<regex::Regex>, PatchError> {
            s(field)
                .map(|r| {
                    regex::Regex::new(&format!("^(?:{r})$"))
                        .map_err(|source| PatchError::TargetRegex { field, source })
                })
                .transpose()
        };
        let sel = |field: &'static str| -> Result<Option<Selector>, PatchError> {
            s(field)
                .map(|r| {
                    Selector::parse(&r)
                        .map_err(|source| PatchError::TargetSelector { field, source })
                })
                .transpose()
        };
        Ok(Self {
            group: s("group"),
            version: s("version"),
            kind: s("kind"),
            name: re("name")?,
            namespace: re("namespace")?,
            labels: sel("labelSelector")?,
            annotations: sel("annotationSelector")?,
        })
    }

    /// The target of a strategic merge patch without one: its own kind and name.
    fn of_patch(doc: &Value) -> Result<Self, PatchError> {
        let api = doc["apiVersion"].as_str().unwrap_or_default();
        let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
        let name = doc["metadata"]["name"].as_str().ok_or(PatchError::NoName)?;
        Ok(Self {
            group: Some(group.to_owned()),
            version: Some(version.to_owned()).filter(|v| !v.is_empty()),
            kind: doc["kind"].as_str().map(str::to_owned),
            name: Some(
                regex::Regex::new(&format!("^{}$", regex::escape(name))).map_err(|source| {
                    PatchError::TargetRegex {
                        field: "name",
                        source,
                    }
                })?,
            ),
            namespace: doc["metadata"]["namespace"]
                .as_str()
                .map(|n| regex::Regex::new(&format!("^{}$", regex::escape(n))))
                .transpose()
                .map_err(|source| PatchError::TargetRegex {
                    field: "namespace",
                    source,
                })?,
            labels: None,
            annotations: None,
        })
    }

    fn matches(&self, o: &Object) -> bool {
        let version = o.api_version.rsplit('/').next().unwrap_or_default();
        let map = |field: &str| -> Labels {
            o.value["metadata"][field]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                        .collect()
                })
                .unwrap_or_default()
        };
        self.group.as_deref().is_none_or(|g| g == o.api_group())
            && self.version.as_deref().is_none_or(|v| v == version)
            && self.kind.as_deref().is_none_or(|k| k == o.kind)
            && self.name.as_ref().is_none_or(|r| r.is_match(&o.name))
            && self
                .namespace
                .as_ref()
                .is_none_or(|r| r.is_match(o.namespace.as_deref().unwrap_or_default()))
            && self
                .labels
                .as_ref()
                .is_none_or(|s| s.matches(&map("labels")))
            && self
                .annotations
                .as_ref()
                .is_none_or(|s| s.matches(&map("annotations")))
    }
}

/// A strategic merge patch as kyaml merges one without a schema.
fn strategic_merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            if p.get("$patch").and_then(Value::as_str) == Some("replace") {
                let mut p = p.clone();
                p.remove("$patch");
                *t = p;
                return;
            }
            for (k, pv) in p {
                if k == "$patch" {
                    continue;
                }
                match pv {
                    Value::Null => {
                        t.remove(k);
                    }
                    _ => match t.get_mut(k) {
                        Some(tv) => strategic_merge(tv, pv),
                        None => {
                            let mut v = pv.clone();
                            strip_directives(&mut v);
                            t.insert(k.clone(), v);
                        }
                    },
                }
            }
        }
        (Value::Array(t), Value::Array(p)) => {
            let key = ASSOCIATIVE_KEYS
                .iter()
                .find(|k| !t.is_empty() && t.iter().chain(p.iter()).all(|e| e.get(**k).is_some()));
            let Some(key) = key else {
                let mut p = Value::Array(p.clone());
                strip_directives(&mut p);
                *t = p.as_array().cloned().unwrap_or_default();
                return;
            };
            for pe in p {
                let id = &pe[*key];
                let delete = pe.get("$patch").and_then(Value::as_str) == Some("delete");
                match t.iter().position(|te| &te[*key] == id) {
                    Some(i) if delete => {
                        t.remove(i);
                    }
                    Some(i) => strategic_merge(&mut t[i], pe),
                    None if delete => {}
                    None => {
                        let mut v = pe.clone();
                        strip_directives(&mut v);
                        t.push(v);
                    }
                }
            }
        }
        (t, p) => {
            *t = p.clone();
            strip_directives(t);
        }
    }
}

fn strip_directives(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("$patch");
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(strip_directives);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_directives),
        _ => {}
    }
}

/// kustomize's image transformer (`imagetag.LegacyFilter`): every `image` in a `containers` or
/// `initContainers` list anywhere in the object whose name is the override's `name`.
fn set_images(v: &mut Value, image: &Value) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                if (k == "containers" || k == "initContainers")
                    && let Value::Array(items) = child
                {
                    for c in items.iter_mut() {
                        if let Some(Value::String(s)) = c.get_mut("image")
                            && let Some(new) = override_image(s, image)
                        {
                            *s = new;
                        }
                    }
                }
                set_images(child, image);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|i| set_images(i, image)),
        _ => {}
    }
}

/// The image reference after one override, or `None` when the override does not apply
/// (kustomize's `isImageMatched` and `updateImageTag`).
pub fn override_image(current: &str, image: &Value) -> Option<String> {
    let name = image.get("name").and_then(Value::as_str)?;
    let (cur_name, cur_tag, cur_digest) = split_image(current);
    if cur_name != name {
        return None;
    }
    let new_name = image
        .get("newName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or(cur_name);
    let new_tag = image
        .get("newTag")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let digest = image
        .get("digest")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let mut out = new_name.to_owned();
    match (digest, new_tag) {
        (Some(d), _) => {
            out.push('@');
            out.push_str(d);
        }
        (None, Some(t)) => {
            out.push(':');
            out.push_str(t);
        }
        (None, None) => {
            if let Some(t) = cur_tag {
                out.push(':');
                out.push_str(t);
            }
            if let Some(d) = cur_digest {
                out.push('@');
                out.push_str(d);
            }
        }
    }
    Some(out)
}

/// `registry/name:tag@digest` → (name, tag, digest); a `:` before the last `/` is a port.
pub fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[slash..].rfind(':') {
        Some(i) => (&rest[..slash + i], Some(&rest[slash + i + 1..]), digest),
        None => (rest, None, digest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haven_model::{Origin, load_objects};
    use serde_json::json;

    fn objects(yaml: &str) -> Vec<Object> {
        load_objects(Origin::File("t.yaml"), yaml).objects
    }

    /// Each way a patch cannot be applied is its own variant (the note's message is its text).
    #[test]
    fn patches_that_cannot_apply_are_typed() {
        let patch = |p: Value| apply_patch(&p, &mut objects(DEPLOY));
        assert!(matches!(patch(json!({})), Err(PatchError::NoPatch)));
        assert!(matches!(
            patch(json!({"patch": ""})),
            Err(PatchError::Empty)
        ));
        assert!(matches!(
            patch(json!({"patch": "a: [\n"})),
            Err(PatchError::NotYaml(_))
        ));
        assert!(matches!(
            patch(json!({"patch": "- op: replace\n  path: /x\n  value: 1\n"})),
            Err(PatchError::NoTarget)
        ));
        assert!(matches!(
            patch(json!({"patch": "- {op: remove, path: /nothing}\n", "target": {"kind": "Deployment"}})),
            Err(PatchError::Apply { kind, name, .. }) if kind == "Deployment" && name == "web"
        ));
        assert!(matches!(
            patch(json!({"patch": "kind: Deployment\n", "target": {"name": "("}})),
            Err(PatchError::TargetRegex { field: "name", .. })
        ));
        assert!(matches!(
            patch(json!({"patch": "kind: Deployment\n", "target": {"labelSelector": "a in"}})),
            Err(PatchError::TargetSelector {
                field: "labelSelector",
                ..
            })
        ));
        assert!(matches!(
            patch(json!({"patch": "apiVersion: v1\nkind: ConfigMap\n"})),
            Err(PatchError::NoName)
        ));
        let none =
            patch(json!({"patch": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n"}))
                .unwrap_err();
        assert!(matches!(none, PatchError::NothingSelected));
        assert_eq!(none.to_string(), "its target selects no rendered object");
        assert!(matches!(
            patch(json!({"patch": "kind: Deployment\n$retainKeys: [a]\n", "target": {"kind": "Deployment"}})),
            Err(PatchError::UnsupportedDirective(d)) if d == "$retainKeys"
        ));
        assert!(matches!(
            patch(json!({"patch": "3\n"})),
            Err(PatchError::NotAPatch)
        ));
    }

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: apps, labels: {app: web}}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: docker.io/org/app:1.0\n        env: [{name: A, value: a}, {name: B, value: b}]\n      - name: side\n        image: registry:5000/side@sha256:abc\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n";

    #[test]
    fn patches_images_and_origin_labels() {
        let hr = objects(
            r#"apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: web, namespace: apps}
spec:
  commonMetadata: {labels: {team: x}}
  postRenderers:
  - kustomize:
      patches:
      - target: {kind: Deployment, name: "w.*", labelSelector: "app=web"}
        patch: |
          - op: replace
            path: /spec/template/spec/containers/0/env/0/value
            value: patched
      - patch: |
          apiVersion: apps/v1
          kind: Deployment
          metadata: {name: web}
          spec:
            template:
              spec:
                containers:
                - name: app
                  env: [{name: B, $patch: delete}, {name: C, value: c}]
                  securityContext: {runAsNonRoot: true}
      - target: {kind: Service}
        patch: |
          - {op: remove, path: /nothing}
      - target: {kind: Secret}
        patch: "metadata: {labels: {a: b}}"
      images:
      - {name: docker.io/org/app, newName: mirror.example/app, newTag: "1.1"}
      - {name: registry:5000/side, newName: mirror.example/side}
"#,
        )
        .remove(0);
        let mut objs = objects(DEPLOY);
        let notes = apply(&hr, &mut objs);
        let paths: Vec<&str> = notes.iter().map(|n| n.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "spec.postRenderers[0].kustomize.patches[2]",
                "spec.postRenderers[0].kustomize.patches[3]"
            ],
            "{notes:?}"
        );
        let c = &objs[0].value["spec"]["template"]["spec"]["containers"];
        assert_eq!(
            c[0],
            json!({"name": "app", "image": "mirror.example/app:1.1",
                   "env": [{"name": "A", "value": "patched"}, {"name": "C", "value": "c"}],
                   "securityContext": {"runAsNonRoot": true}})
        );
        assert_eq!(c[1]["image"], "mirror.example/side@sha256:abc");
        assert_eq!(
            objs[1].value["metadata"]["labels"],
            json!({"team": "x", "helm.toolkit.fluxcd.io/name": "web",
                   "helm.toolkit.fluxcd.io/namespace": "apps"})
        );
    }

    /// A JSON 6902 `test` guards the operations after it: when its value differs, kustomize
    /// stops (and helm-controller installs nothing), so the note fails the release and the
    /// object is left as rendered; when it matches, the patch applies. Notes about what haven
    /// cannot apply, or about a target that selects nothing, do not fail the release.
    #[test]
    fn a_failed_test_operation_fails_the_release_and_patches_nothing() {
        let hr = |expected: &str| {
            objects(&format!(
                r#"apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {{name: web, namespace: apps}}
spec:
  postRenderers:
  - kustomize:
      patches:
      - target: {{kind: Deployment}}
        patch: |
          - {{op: test, path: /spec/template/spec/containers/0/name, value: {expected}}}
          - {{op: replace, path: /spec/template/spec/containers/0/image, value: patched}}
      - target: {{kind: Secret}}
        patch: "metadata: {{labels: {{a: b}}}}"
"#
            ))
            .remove(0)
        };
        let mut objs = objects(DEPLOY);
        let notes = apply(&hr("side"), &mut objs);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert_eq!(notes[0].path, "spec.postRenderers[0].kustomize.patches[0]");
        assert!(notes[0].fails_release, "{notes:?}");
        assert!(
            notes[0].message.contains("value did not match"),
            "{notes:?}"
        );
        assert!(!notes[1].fails_release, "{notes:?}");
        let image = |objs: &[Object]| {
            objs[0].value["spec"]["template"]["spec"]["containers"][0]["image"].clone()
        };
        assert_eq!(image(&objs), "docker.io/org/app:1.0");

        let mut objs = objects(DEPLOY);
        let notes = apply(&hr("app"), &mut objs);
        assert!(notes.iter().all(|n| !n.fails_release), "{notes:?}");
        assert_eq!(image(&objs), "patched");
    }

    #[test]
    fn image_references_split_and_override() {
        assert_eq!(split_image("nginx"), ("nginx", None, None));
        assert_eq!(
            split_image("registry:5000/a/b:1.2@sha256:x"),
            ("registry:5000/a/b", Some("1.2"), Some("sha256:x"))
        );
        let o = json!({"name": "nginx", "digest": "sha256:y"});
        assert_eq!(
            override_image("nginx:1", &o).as_deref(),
            Some("nginx@sha256:y")
        );
        assert_eq!(override_image("nginxx:1", &o), None);
    }
}
