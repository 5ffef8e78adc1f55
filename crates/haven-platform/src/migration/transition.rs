//! From one tree to another on a live cluster: which objects change owning Kustomization or
//! move to another namespace, which stateful objects are at risk, and the plan that keeps them.
//!
//! One pure function over the objects of the two trees, used for haven's own upgrades (an older
//! render put platform HelmReleases in the component namespaces, today's puts them in
//! flux-system; a layout change renames Kustomizations) and for the cut-over from the Haven+
//! reference implementation.

use std::collections::BTreeSet;

use serde::Serialize;

use super::import::is_stateful;
use super::plan::{self, Expectation, Plan, PlanInput};
use super::tree::{ClusterObjects, FLUX_KUSTOMIZE_GROUP, ObjectId, Owner, TreeObject};

/// One object whose owner or place changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Move {
    pub object: ObjectId,
    /// The Kustomization that applies it now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_owner: Option<Owner>,
    /// The Kustomization that applies it after the change (for a relocated object, the one
    /// that applies `to`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_owner: Option<Owner>,
    /// Where it moves (another namespace), when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<ObjectId>,
    /// Whether losing it loses more than a moment (data, a Helm release, a CRD's objects, a
    /// unit's objects): such a move makes the change hazardous.
    pub stateful: bool,
}

/// What changes, and how to change it safely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    /// Objects that change owning Kustomization or move: the old owner prunes them (for a
    /// HelmRelease: `helm uninstall`) while the new one applies them.
    pub moves: Vec<Move>,
    /// Stateful objects that the old tree has and the new one does not: pruned when it lands.
    pub removed_stateful: Vec<ObjectId>,
    /// HelmReleases the new tree does not have at all (neither moved nor kept): uninstalled
    /// when it lands unless suspended first.
    pub removed_releases: Vec<ObjectId>,
    pub plan: Plan,
}

impl Transition {
    /// Whether landing the new tree as is could delete something it keeps or moves: a
    /// stateful object, a HelmRelease (uninstalled with its chart), a CustomResourceDefinition
    /// (every object of its kind goes with it) or a Kustomization (garbage-collects what it
    /// applied) that changes owner or place. Other objects that move are only re-created.
    pub fn is_hazardous(&self) -> bool {
        self.moves.iter().any(|m| m.stateful)
    }
}

fn is_unit(id: &ObjectId) -> bool {
    id.kind == "Kustomization" && id.group == FLUX_KUSTOMIZE_GROUP
}

/// What losing loses more than a moment: data, a release, a kind's objects, a unit's objects.
fn at_risk(id: &ObjectId) -> bool {
    is_stateful(id)
        || is_release(id)
        || is_unit(id)
        || (id.kind == "CustomResourceDefinition" && id.group == "apiextensions.k8s.io")
}

fn is_release(id: &ObjectId) -> bool {
    id.kind == "HelmRelease" && id.group == "helm.toolkit.fluxcd.io"
}

fn same_kind_and_name(a: &ObjectId, b: &ObjectId) -> bool {
    a.group == b.group && a.kind == b.kind && a.name == b.name
}

/// The namespace a HelmRelease installs into.
fn release_namespace(o: &TreeObject) -> Option<String> {
    o.value["spec"]["targetNamespace"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| o.id.namespace.clone())
}

fn is_sealed_secrets(o: &TreeObject) -> bool {
    is_release(&o.id)
        && (o.id.name == "sealed-secrets"
            || o.value["spec"]["chart"]["spec"]["chart"] == "sealed-secrets")
}

/// Compares the objects of the old and the new tree. `switch` is how the new tree lands
/// (commands for the plan's `switch` step). `protect_all` marks every stateful object of the
/// old tree, not only those whose owner is affected: for a cut-over between implementations,
/// where what "unaffected" means rests on two trees the operator has not compared.
pub fn transition(
    old: &ClusterObjects,
    new: &ClusterObjects,
    switch: Vec<String>,
    protect_all: bool,
) -> Transition {
    let mut moves = Vec::new();
    let mut removed_stateful = Vec::new();
    let mut removed_releases = Vec::new();
    for o in &old.objects {
        // The root Kustomization applies itself; what it lists is compared object by object.
        if o.id.kind == "Kustomization"
            && o.id.group == FLUX_KUSTOMIZE_GROUP
            && o.id.name == "flux-system"
        {
            continue;
        }
        if let Some(n) = new.get(&o.id) {
            if n.owner != o.owner && o.prunable {
                moves.push(Move {
                    object: o.id.clone(),
                    from_owner: o.owner.clone(),
                    to_owner: n.owner.clone(),
                    to: None,
                    stateful: at_risk(&o.id),
                });
            }
            continue;
        }
        // A HelmRelease or Kustomization under the same name in another namespace is the same
        // release or unit moved; for other kinds a same name elsewhere (a `default-deny` policy
        // in every namespace) is a different object.
        if let Some(n) = new
            .objects
            .iter()
            .filter(|_| is_release(&o.id) || is_unit(&o.id))
            .find(|n| same_kind_and_name(&n.id, &o.id) && old.get(&n.id).is_none())
        {
            moves.push(Move {
                object: o.id.clone(),
                from_owner: o.owner.clone(),
                to_owner: n.owner.clone(),
                to: Some(n.id.clone()),
                stateful: is_stateful(&o.id) || is_release(&o.id),
            });
            continue;
        }
        if is_release(&o.id) {
            removed_releases.push(o.id.clone());
        } else if is_stateful(&o.id) {
            removed_stateful.push(o.id.clone());
        }
    }

    let moved: BTreeSet<&ObjectId> = moves.iter().map(|m| &m.object).collect();
    let affected_owners: BTreeSet<Owner> = moves
        .iter()
        .filter_map(|m| m.from_owner.clone())
        .chain(
            old.objects
                .iter()
                .filter(|o| removed_stateful.contains(&o.id) || removed_releases.contains(&o.id))
                .filter_map(|o| o.owner.clone()),
        )
        .collect();
    let releases: Vec<&TreeObject> = old
        .objects
        .iter()
        .filter(|o| {
            is_release(&o.id) && (moved.contains(&o.id) || removed_releases.contains(&o.id))
        })
        .collect();
    let mut claim_namespaces: BTreeSet<String> = releases
        .iter()
        .filter_map(|r| release_namespace(r))
        .collect();
    claim_namespaces.extend(
        old.objects
            .iter()
            .filter(|o| o.id.kind == "Namespace" && o.id.group.is_empty())
            .filter(|o| {
                o.owner
                    .as_ref()
                    .is_some_and(|w| affected_owners.contains(w))
            })
            .map(|o| o.id.name.clone()),
    );
    let sealed_secrets_namespaces: BTreeSet<String> = old
        .objects
        .iter()
        .filter(|o| is_sealed_secrets(o))
        .filter_map(release_namespace)
        .collect();
    // Every stateful object whose owner is affected, or that moves or goes: marked first.
    let stateful: Vec<ObjectId> = old
        .objects
        .iter()
        .filter(|o| is_stateful(&o.id) && o.prunable)
        .filter(|o| {
            protect_all
                || moved.contains(&o.id)
                || removed_stateful.contains(&o.id)
                || o.owner
                    .as_ref()
                    .is_some_and(|w| affected_owners.contains(w))
                || (o.id.kind == "Namespace" && claim_namespaces.contains(&o.id.name))
        })
        .map(|o| o.id.clone())
        .fold(Vec::new(), |mut out: Vec<ObjectId>, id| {
            // One object applied by two Kustomizations (a Namespace in two units) once.
            if !out.contains(&id) {
                out.push(id);
            }
            out
        });
    let mut old_kustomizations: Vec<Owner> = affected_owners
        .iter()
        .filter(|w| !(w.namespace == "flux-system" && w.name == "flux-system"))
        .cloned()
        .collect();
    if protect_all {
        // Every old unit that goes stops pruning, whatever it applied.
        for k in old.kustomizations() {
            let owner = Owner {
                namespace: k
                    .id
                    .namespace
                    .clone()
                    .unwrap_or_else(|| "flux-system".to_owned()),
                name: k.id.name.clone(),
            };
            if k.id.name != "flux-system"
                && new.get(&k.id).is_none()
                && k.value["spec"]["prune"] == true
                && !old_kustomizations.contains(&owner)
            {
                old_kustomizations.push(owner);
            }
        }
        old_kustomizations.sort();
    }
    // The root applies the platform's Kustomizations themselves: it prunes the renamed ones.
    if affected_owners
        .iter()
        .any(|w| w.namespace == "flux-system" && w.name == "flux-system")
    {
        old_kustomizations.push(Owner {
            namespace: "flux-system".to_owned(),
            name: "flux-system".to_owned(),
        });
    }
    let cleanup_kustomizations: Vec<Owner> = old
        .kustomizations()
        .filter(|k| new.get(&k.id).is_none() && k.id.name != "flux-system")
        .map(|k| Owner {
            namespace: k
                .id
                .namespace
                .clone()
                .unwrap_or_else(|| "flux-system".to_owned()),
            name: k.id.name.clone(),
        })
        .collect();
    let moved_releases: Vec<ObjectId> = releases.iter().map(|r| r.id.clone()).collect();
    let mut switch_expect: Vec<Expectation> = moves
        .iter()
        .filter(|m| is_release(&m.object))
        .filter_map(|m| m.to.clone())
        .map(|object| Expectation::Ready { object })
        .collect();
    switch_expect.extend(
        new.kustomizations()
            .filter(|k| old.get(&k.id).is_none())
            .map(|k| Expectation::Ready {
                object: k.id.clone(),
            }),
    );
    let runs = |chart: &str| {
        old.objects.iter().any(|o| {
            is_release(&o.id)
                && (o.id.name == chart || o.value["spec"]["chart"]["spec"]["chart"] == chart)
        })
    };
    let mut cluster_wide = Vec::new();
    if runs("cloudnative-pg") {
        cluster_wide.push("clusters.postgresql.cnpg.io");
    }
    if runs("sealed-secrets") {
        cluster_wide.push("sealedsecrets.bitnami.com");
    }
    let input = PlanInput {
        cluster_wide,
        stateful,
        claim_namespaces,
        sealed_secrets_namespaces,
        old_kustomizations,
        moved_releases,
        orphaned_releases: removed_releases.clone(),
        secret_copies: Vec::new(),
        switch,
        switch_expect,
        cleanup_kustomizations,
    };
    let plan = plan::build(&input);
    Transition {
        moves,
        removed_stateful,
        removed_releases,
        plan,
    }
}

/// The moves as text, for `render`'s refusal and `diff`.
pub fn format_moves(t: &Transition) -> String {
    let mut out = String::new();
    let show = |o: &Option<Owner>| {
        o.as_ref()
            .map(|o| o.to_string())
            .unwrap_or_else(|| "no Kustomization".to_owned())
    };
    for m in &t.moves {
        let mark = if m.stateful { " (stateful)" } else { "" };
        match &m.to {
            Some(to) => out.push_str(&format!(
                "> {} moves to {}{mark}: {} → {}\n",
                m.object,
                to,
                show(&m.from_owner),
                show(&m.to_owner)
            )),
            None => out.push_str(&format!(
                "> {} changes owner{mark}: {} → {}\n",
                m.object,
                show(&m.from_owner),
                show(&m.to_owner)
            )),
        }
    }
    for id in &t.removed_releases {
        out.push_str(&format!(
            "> {id} is no longer rendered: Helm uninstalls it\n"
        ));
    }
    for id in &t.removed_stateful {
        out.push_str(&format!(
            "> {id} is no longer rendered: Flux deletes it (stateful)\n"
        ));
    }
    out
}
