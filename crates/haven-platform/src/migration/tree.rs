//! A Flux GitOps tree as the cluster receives it: every object with the Flux Kustomization that
//! applies it (its owner), found by walking from `clusters/<cluster>` the way
//! kustomize-controller does.
//!
//! The owner is what decides whether an object survives a change: when the Kustomization that
//! applied an object stops listing it (a renamed or removed Kustomization, a moved file), Flux
//! garbage-collects it (`prune: true`). Both the reference import and the upgrade plan reason on
//! this one model.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::kustomize::{self, KustomizeError};

/// The identity of a Kubernetes object: API group, kind, namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectId {
    /// API group (`""` for the core group).
    pub group: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectId {
    pub fn new(group: &str, kind: &str, namespace: Option<&str>, name: &str) -> Self {
        Self {
            group: group.to_owned(),
            kind: kind.to_owned(),
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
        }
    }

    /// The kubectl resource argument, `kind.group` (`helmrelease.helm.toolkit.fluxcd.io`), which
    /// names the kind unambiguously.
    pub fn resource(&self) -> String {
        let kind = self.kind.to_ascii_lowercase();
        if self.group.is_empty() {
            kind
        } else {
            format!("{kind}.{}", self.group)
        }
    }

    /// `-n NS ` or nothing, for kubectl.
    pub fn ns_flag(&self) -> String {
        self.namespace
            .as_deref()
            .map(|n| format!("-n {n} "))
            .unwrap_or_default()
    }
}

impl std::fmt::Display for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// A Flux Kustomization, by namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Owner {
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kustomization {}/{}", self.namespace, self.name)
    }
}

/// One object of the tree and who applies it.
#[derive(Debug, Clone)]
pub struct TreeObject {
    pub id: ObjectId,
    /// The Flux Kustomization that applies it; `None` in a stream without Flux ownership (the
    /// output of `kustomize build`) for objects that are not themselves Kustomizations.
    pub owner: Option<Owner>,
    /// Whether the owner garbage-collects it when it stops listing it (`spec.prune`, and no
    /// `kustomize.toolkit.fluxcd.io/prune: disabled` on the object).
    pub prunable: bool,
    pub file: String,
    pub value: Value,
}

/// The objects that reach a cluster from a tree, and the Flux Kustomizations among them.
#[derive(Debug, Clone, Default)]
pub struct ClusterObjects {
    pub objects: Vec<TreeObject>,
    /// Files that could not be read as YAML, with the reader's message.
    pub unreadable: Vec<String>,
    /// Files merged over objects as kustomize patches.
    pub patch_files: BTreeSet<PathBuf>,
    /// What the builds of the Kustomizations' directories could not do as Flux would.
    pub errors: Vec<KustomizeError>,
}

pub const FLUX_KUSTOMIZE_GROUP: &str = "kustomize.toolkit.fluxcd.io";
pub const PRUNE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/prune";

impl ClusterObjects {
    pub fn get(&self, id: &ObjectId) -> Option<&TreeObject> {
        self.objects.iter().find(|o| &o.id == id)
    }

    /// The Flux Kustomizations of the tree.
    pub fn kustomizations(&self) -> impl Iterator<Item = &TreeObject> {
        self.objects
            .iter()
            .filter(|o| o.id.kind == "Kustomization" && o.id.group == FLUX_KUSTOMIZE_GROUP)
    }

    /// Reads a stream of objects that carries no ownership (`kustomize build` output, a
    /// `kubectl get -o yaml` List): owners come from the objects' own Flux labels
    /// (`kustomize.toolkit.fluxcd.io/name` and `/namespace`) where they have them.
    pub fn from_stream(file: &str, text: &str) -> Self {
        let mut out = Self::default();
        let loaded = haven_model::load_objects(haven_model::Origin::File(file), text);
        out.unreadable
            .extend(loaded.errors.iter().map(|e| e.to_string()));
        for o in loaded.objects {
            let labels = o.value["metadata"]["labels"].clone();
            let owner = match (
                labels["kustomize.toolkit.fluxcd.io/name"].as_str(),
                labels["kustomize.toolkit.fluxcd.io/namespace"].as_str(),
            ) {
                (Some(name), Some(namespace)) => Some(Owner {
                    namespace: namespace.to_owned(),
                    name: name.to_owned(),
                }),
                _ => None,
            };
            out.objects.push(tree_object(&o.value, owner, true, file));
        }
        out
    }

    /// Walks a tree from `clusters/<cluster>` as kustomize-controller does: the flux-system
    /// Kustomization applies that directory, every Flux Kustomization found applies its
    /// `spec.path`, each directory built by [`kustomize::build_dir`] (its kustomization file,
    /// or the one Flux generates for a directory without). Objects of files no Kustomization
    /// reaches are not on the cluster and are left out, so one repository with many clusters
    /// (the reference) gives one cluster's view.
    pub fn from_tree(files: &BTreeMap<PathBuf, String>, cluster: &str) -> Self {
        let mut out = Self::default();
        // Every YAML file's reading errors, reached or not: an unreadable file is worth
        // knowing before a migration whichever Kustomization it belongs to.
        for (path, text) in files {
            if !is_yaml(path) {
                continue;
            }
            let name = path.to_string_lossy();
            out.unreadable.extend(
                haven_model::parse_stream(&name, text)
                    .into_iter()
                    .filter_map(Result::err)
                    .map(|e| e.to_string()),
            );
        }
        let root = Owner {
            namespace: "flux-system".to_owned(),
            name: "flux-system".to_owned(),
        };
        let mut queue: VecDeque<(Owner, PathBuf, bool)> = VecDeque::new();
        queue.push_back((root, PathBuf::from("clusters").join(cluster), true));
        let mut seen_owner = BTreeSet::new();
        let mut seen_object = BTreeSet::new();
        while let Some((owner, dir, prune)) = queue.pop_front() {
            if !seen_owner.insert(owner.clone()) {
                continue;
            }
            let built = kustomize::build_dir(files, &dir);
            out.patch_files.extend(built.patch_files);
            out.errors.extend(built.errors);
            for o in built.objects {
                let v = &o.value;
                let t = tree_object(v, Some(owner.clone()), prune, &o.file);
                if !seen_object.insert((t.id.clone(), owner.clone())) {
                    continue;
                }
                // Only a Kustomization of this repository (the flux-system GitRepository)
                // applies files of this tree; a tenant's applies its own repository.
                if t.id.kind == "Kustomization"
                    && t.id.group == FLUX_KUSTOMIZE_GROUP
                    && v["spec"]["sourceRef"]["kind"] == "GitRepository"
                    && v["spec"]["sourceRef"]["name"] == "flux-system"
                    && let Some(path) = v["spec"]["path"].as_str()
                {
                    let child = Owner {
                        namespace: t
                            .id
                            .namespace
                            .clone()
                            .unwrap_or_else(|| "flux-system".to_owned()),
                        name: t.id.name.clone(),
                    };
                    let prune = v["spec"]["prune"].as_bool().unwrap_or(false);
                    queue.push_back((child, PathBuf::from(path), prune));
                }
                out.objects.push(t);
            }
        }
        out
    }
}

fn tree_object(v: &Value, owner: Option<Owner>, prune: bool, file: &str) -> TreeObject {
    let api = v["apiVersion"].as_str().unwrap_or_default();
    let group = api.rsplit_once('/').map(|(g, _)| g).unwrap_or_default();
    let meta = &v["metadata"];
    let namespace = meta["namespace"].as_str().filter(|_| !is_cluster_scoped(v));
    let disabled = [&meta["annotations"], &meta["labels"]]
        .iter()
        .any(|m| m[PRUNE_ANNOTATION].as_str() == Some("disabled"));
    TreeObject {
        id: ObjectId::new(
            group,
            v["kind"].as_str().unwrap_or_default(),
            namespace,
            meta["name"].as_str().unwrap_or_default(),
        ),
        owner,
        prunable: prune && !disabled,
        file: file.to_owned(),
        value: v.clone(),
    }
}

fn is_yaml(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

/// Kinds that never live in a namespace (haven-model's one list).
pub fn is_cluster_scoped(v: &Value) -> bool {
    haven_model::object::is_cluster_scoped_kind(v["kind"].as_str().unwrap_or_default())
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

    #[test]
    fn owners_follow_spec_path_and_kustomization_resources() {
        let t = tree(&[
            (
                "clusters/a/apps.yaml",
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: app, namespace: flux-system}\nspec: {path: ./infra/app/overlays/a, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}\n",
            ),
            (
                "clusters/a/tenant.yaml",
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: t, namespace: t}\nspec: {path: ./, prune: true, sourceRef: {kind: GitRepository, name: t}}\n",
            ),
            (
                "clusters/b/apps.yaml",
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: app-b, namespace: flux-system}\nspec: {path: ./infra/app/overlays/b, prune: true}\n",
            ),
            (
                "infra/app/overlays/a/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: app\nresources: [../../base, extra.yaml]\n",
            ),
            (
                "infra/app/overlays/a/extra.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n",
            ),
            (
                "infra/app/overlays/b/only-b.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
            ),
            (
                "infra/app/base/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: set-in-overlay\nresources: [ns.yaml, cm.yaml]\n",
            ),
            (
                "infra/app/base/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: base}\n",
            ),
            (
                "infra/app/base/ns.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app\n  annotations: {kustomize.toolkit.fluxcd.io/prune: disabled}\n",
            ),
        ]);
        let c = ClusterObjects::from_tree(&t, "a");
        let ids: Vec<String> = c.objects.iter().map(|o| o.id.to_string()).collect();
        assert_eq!(
            ids,
            [
                "Kustomization flux-system/app",
                // A tenant's Kustomization applies its own repository, not this tree's `./`.
                "Kustomization t/t",
                // The overlay's namespace wins over the base's, for the Namespace's name too.
                "Namespace app",
                "ConfigMap app/base",
                "ConfigMap app/extra"
            ]
        );
        let app = Owner {
            namespace: "flux-system".into(),
            name: "app".into(),
        };
        assert_eq!(c.objects[2].owner.as_ref(), Some(&app));
        assert!(!c.objects[2].prunable, "prune disabled by annotation");
        assert!(c.objects[4].prunable);
    }

    #[test]
    fn a_renamed_kustomization_moves_what_it_applied() {
        use crate::migration::transition;
        let ks = |name: &str| {
            format!(
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {{name: {name}, namespace: flux-system}}\nspec: {{path: ./infrastructure/loki, prune: true, sourceRef: {{kind: GitRepository, name: flux-system}}}}\n"
            )
        };
        let loki = "apiVersion: v1\nkind: Namespace\nmetadata: {name: loki}\n---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: loki, namespace: flux-system}\nspec: {chart: {spec: {chart: loki}}, targetNamespace: loki}\n";
        let (old_ks, new_ks) = (ks("infrastructure"), ks("loki-controller"));
        let old = tree(&[
            ("clusters/c/infrastructure.yaml", old_ks.as_str()),
            ("infrastructure/loki/all.yaml", loki),
        ]);
        let new = tree(&[
            ("clusters/c/infrastructure/loki.yaml", new_ks.as_str()),
            ("infrastructure/loki/all.yaml", loki),
        ]);
        let t = transition(
            &ClusterObjects::from_tree(&old, "c"),
            &ClusterObjects::from_tree(&new, "c"),
            vec![],
            false,
        );
        assert!(t.is_hazardous());
        let moved: Vec<String> = t.moves.iter().map(|m| m.object.to_string()).collect();
        assert_eq!(moved, ["Namespace loki", "HelmRelease flux-system/loki"]);
        let step = |id: &str| t.plan.steps.iter().position(|s| s.id == id).unwrap();
        let protect = &t.plan.steps[step("protect")];
        assert!(protect.commands.contains(
            &"kubectl annotate namespace loki kustomize.toolkit.fluxcd.io/prune=disabled --overwrite"
                .to_owned()
        ));
        let stop = &t.plan.steps[step("stop-pruning")];
        assert!(
            stop.commands[0].contains("kustomizations.kustomize.toolkit.fluxcd.io infrastructure")
        );
        assert!(step("protect") < step("switch") && step("stop-pruning") < step("switch"));
        // A policy of the same name in another namespace is another object, not a move.
        let policy = |ns: &str| {
            format!(
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: default-deny, namespace: {ns}}}\nspec: {{podSelector: {{}}}}\n"
            )
        };
        let (a, b) = (policy("a"), policy("b"));
        let ks_a = ks("infrastructure");
        let t2 = transition(
            &ClusterObjects::from_tree(
                &tree(&[
                    ("clusters/c/ks.yaml", ks_a.as_str()),
                    ("infrastructure/loki/p.yaml", a.as_str()),
                ]),
                "c",
            ),
            &ClusterObjects::from_tree(
                &tree(&[
                    ("clusters/c/ks.yaml", ks_a.as_str()),
                    ("infrastructure/loki/p.yaml", b.as_str()),
                ]),
                "c",
            ),
            vec![],
            false,
        );
        assert!(t2.moves.is_empty() && !t2.is_hazardous(), "{:?}", t2.moves);
        let cleanup = &t.plan.steps[step("cleanup")];
        assert!(cleanup.commands.iter().any(|c| {
            c.contains("delete kustomizations.kustomize.toolkit.fluxcd.io infrastructure")
        }));
    }
}
