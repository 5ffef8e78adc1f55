//! A cut-over that cannot lose data, as ordered steps with the exact commands and, per step,
//! what a cluster snapshot shows once it is done (`haven plus import --check`).
//!
//! The order is the safety argument: every stateful object is marked
//! `kustomize.toolkit.fluxcd.io/prune: disabled` (and PVCs `helm.sh/resource-policy: keep`),
//! the old Kustomizations stop pruning and the HelmReleases that change owner are suspended
//! (a suspended HelmRelease that is deleted is not uninstalled) *before* the tree switches; only
//! then the switch, a verification, and the cleanup of what the switch left behind.

use std::collections::BTreeSet;

use serde::Serialize;

use super::tree::{ClusterObjects, ObjectId, Owner, PRUNE_ANNOTATION};

/// What a snapshot must show for a step to be done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "expect", rename_all = "kebab-case")]
pub enum Expectation {
    /// The object carries this annotation (or label) with this value.
    Annotated {
        object: ObjectId,
        key: String,
        value: String,
    },
    /// The Flux Kustomization has `spec.prune: false`.
    PruneOff { kustomization: Owner },
    /// The HelmRelease has `spec.suspend: true`.
    Suspended { release: ObjectId },
    /// The object exists.
    Exists { object: ObjectId },
    /// The object no longer exists.
    Absent { object: ObjectId },
    /// The object exists with a `Ready` condition `True`.
    Ready { object: ObjectId },
    /// Nothing on the cluster shows it (a backup kept elsewhere): the operator confirms it.
    Manual { what: String },
}

/// One step of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Stable id (`protect`, `stop-pruning`, …).
    pub id: &'static str,
    pub title: String,
    /// Why this step comes here.
    pub why: String,
    /// Commands to run, in order (shell, kubectl, flux, git).
    pub commands: Vec<String>,
    pub expect: Vec<Expectation>,
}

/// The ordered plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub steps: Vec<Step>,
}

/// What the plan is made from: the objects of the old tree and what changes.
#[derive(Debug, Clone, Default)]
pub struct PlanInput {
    /// Objects whose loss loses data (protected before anything moves).
    pub stateful: Vec<ObjectId>,
    /// Namespaces in which every claim is marked (claims made by StatefulSets are in no tree).
    pub claim_namespaces: BTreeSet<String>,
    /// Namespaces of the sealed-secrets controller, whose key Secrets are backed up and marked.
    pub sealed_secrets_namespaces: BTreeSet<String>,
    /// Resources marked in every namespace (`kubectl annotate RESOURCE -A --all`): databases and
    /// sealed secrets the old tree's controllers run, also those made outside the tree.
    pub cluster_wide: Vec<&'static str>,
    /// Old Flux Kustomizations that stop pruning before the switch.
    pub old_kustomizations: Vec<Owner>,
    /// Old HelmReleases that change owner or place: suspended before the switch, deleted after.
    pub moved_releases: Vec<ObjectId>,
    /// Old HelmReleases the new tree does not adopt: left installed; uninstalling them is the
    /// operator's call after the data moved.
    pub orphaned_releases: Vec<ObjectId>,
    /// Secrets to copy under haven's names.
    pub secret_copies: Vec<SecretCopy>,
    /// How the tree switches (commands), and what exists afterwards.
    pub switch: Vec<String>,
    pub switch_expect: Vec<Expectation>,
    /// Old Kustomizations to delete after the switch (with prune off, nothing goes with them).
    pub cleanup_kustomizations: Vec<Owner>,
}

/// A Secret copied under another name, key by key, in its namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretCopy {
    pub namespace: String,
    pub from: String,
    pub to: String,
    /// (key in `from`, key in `to`).
    pub keys: Vec<(String, String)>,
}

pub const KEEP_POLICY: &str = "helm.sh/resource-policy";
const SEALED_KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";

/// Builds the ordered plan.
pub fn build(input: &PlanInput) -> Plan {
    let mut steps = Vec::new();
    if !input.sealed_secrets_namespaces.is_empty() {
        steps.push(Step {
            id: "backup",
            title: "Back up the sealed-secrets keys".to_owned(),
            why: "every SealedSecret in Git decrypts only with these keys; a copy off the cluster survives any mistake".to_owned(),
            commands: input
                .sealed_secrets_namespaces
                .iter()
                .map(|ns| {
                    format!(
                        "kubectl -n {ns} get secret -l {SEALED_KEY_LABEL} -o yaml > sealed-secrets-keys-{ns}.yaml  # store it offline, encrypted"
                    )
                })
                .collect(),
            expect: vec![Expectation::Manual {
                what: "the sealed-secrets key backup is stored off the cluster".to_owned(),
            }],
        });
    }
    let mut protect = Vec::new();
    let mut expect = Vec::new();
    for id in &input.stateful {
        protect.push(format!(
            "kubectl annotate {}{} {} {PRUNE_ANNOTATION}=disabled --overwrite",
            id.ns_flag(),
            id.resource(),
            id.name
        ));
        expect.push(Expectation::Annotated {
            object: id.clone(),
            key: PRUNE_ANNOTATION.to_owned(),
            value: "disabled".to_owned(),
        });
    }
    for ns in &input.claim_namespaces {
        protect.push(format!(
            "kubectl -n {ns} annotate pvc --all {PRUNE_ANNOTATION}=disabled {KEEP_POLICY}=keep --overwrite"
        ));
    }
    for resource in &input.cluster_wide {
        protect.push(format!(
            "kubectl annotate {resource} -A --all {PRUNE_ANNOTATION}=disabled --overwrite"
        ));
    }
    for ns in &input.sealed_secrets_namespaces {
        protect.push(format!(
            "kubectl -n {ns} annotate secret -l {SEALED_KEY_LABEL} {PRUNE_ANNOTATION}=disabled --overwrite"
        ));
    }
    steps.push(Step {
        id: "protect",
        title: "Mark every stateful object so that Flux never deletes it".to_owned(),
        why: "Flux deletes what a Kustomization stops listing (prune: true) and everything in a deleted Namespace; marked objects are skipped by its garbage collection, marked claims by `helm uninstall`".to_owned(),
        commands: protect,
        expect,
    });
    if !input.old_kustomizations.is_empty() {
        let mut commands: Vec<String> = input
            .old_kustomizations
            .iter()
            .map(|k| {
                format!(
                    "kubectl -n {} patch kustomizations.kustomize.toolkit.fluxcd.io {} --type=merge -p '{{\"spec\":{{\"prune\":false}}}}'",
                    k.namespace, k.name
                )
            })
            .collect();
        commands.push(
            "# and set `prune: false` on the same Kustomizations in Git (commit, push), or the flux-system Kustomization sets it back".to_owned(),
        );
        steps.push(Step {
            id: "stop-pruning",
            title: "Stop the old Kustomizations from pruning".to_owned(),
            why: "a renamed or removed Kustomization garbage-collects what it applied; with prune off it leaves everything in place for the new owner".to_owned(),
            commands,
            expect: input
                .old_kustomizations
                .iter()
                .map(|k| Expectation::PruneOff {
                    kustomization: k.clone(),
                })
                .collect(),
        });
    }
    if !input.moved_releases.is_empty() {
        let mut commands = Vec::new();
        for r in &input.moved_releases {
            commands.push(format!(
                "flux suspend helmrelease {} -n {}",
                r.name,
                r.namespace.as_deref().unwrap_or("flux-system")
            ));
            commands.push(format!(
                "kubectl annotate {}{} {} {PRUNE_ANNOTATION}=disabled --overwrite",
                r.ns_flag(),
                r.resource(),
                r.name
            ));
        }
        steps.push(Step {
            id: "suspend-releases",
            title: "Suspend the HelmReleases that change owner or place".to_owned(),
            why: "deleting a HelmRelease uninstalls its chart (its Deployments, Services, Secrets and claims) unless it is suspended; the new HelmRelease adopts the same Helm release".to_owned(),
            commands,
            expect: input
                .moved_releases
                .iter()
                .map(|r| Expectation::Suspended { release: r.clone() })
                .collect(),
        });
    }
    if !input.secret_copies.is_empty() {
        let mut commands = Vec::new();
        let mut expect = Vec::new();
        for SecretCopy {
            namespace: ns,
            from,
            to,
            keys,
        } in &input.secret_copies
        {
            let literals: Vec<String> = keys
                .iter()
                .map(|(fk, tk)| {
                    format!(
                        "--from-literal={tk}=\"$(kubectl -n {ns} get secret {from} -o jsonpath='{{.data.{fk}}}' | base64 -d)\""
                    )
                })
                .collect();
            commands.push(format!(
                "kubectl -n {ns} create secret generic {to} {}",
                literals.join(" ")
            ));
            expect.push(Expectation::Exists {
                object: ObjectId::new("", "Secret", Some(ns), to),
            });
        }
        steps.push(Step {
            id: "map-secrets",
            title: "Keep the credentials under haven's Secret names".to_owned(),
            why: "haven's components read their own Secret names and keys; copied before the switch, they start with the same credentials and data".to_owned(),
            commands,
            expect,
        });
    }
    steps.push(Step {
        id: "switch",
        title: "Switch the tree".to_owned(),
        why: "only now may the old Kustomizations and HelmReleases disappear from Git: nothing they owned can be deleted".to_owned(),
        commands: input.switch.clone(),
        expect: input.switch_expect.clone(),
    });
    steps.push(Step {
        id: "verify",
        title: "Verify".to_owned(),
        why: "the new owners must be Ready and the data still there before anything old is removed"
            .to_owned(),
        commands: vec![
            "haven plus status --wait".to_owned(),
            "kubectl get pvc -A  # every claim Bound, as before".to_owned(),
            "kubectl get clusters.postgresql.cnpg.io -A  # every database healthy".to_owned(),
        ],
        expect: input
            .stateful
            .iter()
            .map(|id| Expectation::Exists { object: id.clone() })
            .collect(),
    });
    let mut cleanup = Vec::new();
    let mut cleanup_expect = Vec::new();
    for r in &input.moved_releases {
        cleanup.push(format!(
            "kubectl {}delete {} {}  # suspended: Helm does not uninstall",
            r.ns_flag(),
            r.resource(),
            r.name
        ));
        cleanup_expect.push(Expectation::Absent { object: r.clone() });
    }
    for k in &input.cleanup_kustomizations {
        cleanup.push(format!(
            "kubectl -n {} delete kustomizations.kustomize.toolkit.fluxcd.io {}  # prune off: deletes nothing it applied",
            k.namespace, k.name
        ));
        cleanup_expect.push(Expectation::Absent {
            object: ObjectId::new(
                super::tree::FLUX_KUSTOMIZE_GROUP,
                "Kustomization",
                Some(&k.namespace),
                &k.name,
            ),
        });
    }
    for r in &input.orphaned_releases {
        cleanup.push(format!(
            "# helm -n {} uninstall {}  # an old release the new tree does not adopt (another name): only once its data is moved and nothing needs it",
            r.namespace.as_deref().unwrap_or("flux-system"),
            r.name
        ));
    }
    cleanup.push(format!(
        "# keep `{PRUNE_ANNOTATION}: disabled` on Namespaces, databases and the sealed-secrets keys: removing a component from the config must never delete its data"
    ));
    steps.push(Step {
        id: "cleanup",
        title: "Clean up what the switch left behind".to_owned(),
        why: "the suspended HelmReleases and the old Kustomizations no longer do anything"
            .to_owned(),
        commands: cleanup,
        expect: cleanup_expect,
    });
    Plan { steps }
}

/// A step's state on a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Done,
    NotDone,
    /// Only the operator can tell.
    Confirm,
}

/// A step's state and what is still missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepCheck {
    pub id: &'static str,
    pub title: String,
    pub state: State,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

/// Which steps a snapshot (`kubectl get … -A -o yaml`) shows done.
pub fn check(plan: &Plan, snapshot: &ClusterObjects) -> Vec<StepCheck> {
    plan.steps
        .iter()
        .map(|s| {
            let mut missing = Vec::new();
            let mut manual = false;
            for e in &s.expect {
                match e {
                    Expectation::Manual { what } => {
                        manual = true;
                        missing.push(format!("confirm: {what}"));
                    }
                    other => {
                        if let Some(m) = unmet(other, snapshot) {
                            missing.push(m);
                        }
                    }
                }
            }
            let state = if manual && missing.len() == 1 {
                State::Confirm
            } else if missing.is_empty() {
                State::Done
            } else {
                State::NotDone
            };
            StepCheck {
                id: s.id,
                title: s.title.clone(),
                state,
                missing,
            }
        })
        .collect()
}

/// The object of a snapshot with this identity; the group of a snapshot object and of the
/// plan agree, except that a plan's Kustomization without namespace is in flux-system.
fn find<'a>(snapshot: &'a ClusterObjects, id: &ObjectId) -> Option<&'a serde_json::Value> {
    snapshot.get(id).map(|o| &o.value)
}

fn unmet(e: &Expectation, snapshot: &ClusterObjects) -> Option<String> {
    match e {
        Expectation::Annotated { object, key, value } => match find(snapshot, object) {
            None => Some(format!("{object}: not in the snapshot")),
            Some(v) => {
                let m = &v["metadata"];
                let ok = [&m["annotations"], &m["labels"]]
                    .iter()
                    .any(|a| a[key.as_str()].as_str() == Some(value));
                (!ok).then(|| format!("{object}: no {key}: {value}"))
            }
        },
        Expectation::PruneOff { kustomization } => {
            let id = ObjectId::new(
                super::tree::FLUX_KUSTOMIZE_GROUP,
                "Kustomization",
                Some(&kustomization.namespace),
                &kustomization.name,
            );
            match find(snapshot, &id) {
                // Already removed: it can prune nothing any more only if it was off; a missing
                // one is reported, the operator knows whether it was deleted with prune off.
                None => Some(format!("{kustomization}: not in the snapshot")),
                Some(v) => (v["spec"]["prune"] != false)
                    .then(|| format!("{kustomization}: spec.prune is not false")),
            }
        }
        Expectation::Suspended { release } => match find(snapshot, release) {
            None => Some(format!("{release}: not in the snapshot")),
            Some(v) => (v["spec"]["suspend"] != true)
                .then(|| format!("{release}: spec.suspend is not true")),
        },
        Expectation::Exists { object } => find(snapshot, object)
            .is_none()
            .then(|| format!("{object}: not in the snapshot")),
        Expectation::Absent { object } => find(snapshot, object)
            .is_some()
            .then(|| format!("{object}: still there")),
        Expectation::Ready { object } => match find(snapshot, object) {
            None => Some(format!("{object}: not in the snapshot")),
            Some(v) => {
                let ready = v["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True");
                (!ready).then(|| format!("{object}: not Ready"))
            }
        },
        Expectation::Manual { what } => Some(what.clone()),
    }
}

/// The plan as text, one numbered step after another.
pub fn format(plan: &Plan) -> String {
    let mut out = String::new();
    for (i, s) in plan.steps.iter().enumerate() {
        out.push_str(&format!(
            "{}. {} [{}]\n   why: {}\n",
            i + 1,
            s.title,
            s.id,
            s.why
        ));
        for c in &s.commands {
            out.push_str(&format!("   {c}\n"));
        }
        out.push('\n');
    }
    out
}

/// The check as text.
pub fn format_check(checks: &[StepCheck]) -> String {
    let mut out = String::new();
    for c in checks {
        let state = match c.state {
            State::Done => "done",
            State::NotDone => "NOT DONE",
            State::Confirm => "confirm",
        };
        out.push_str(&format!("{state:9} {} ({})\n", c.title, c.id));
        for m in c.missing.iter().take(20) {
            out.push_str(&format!("          - {m}\n"));
        }
        if c.missing.len() > 20 {
            out.push_str(&format!("          … and {} more\n", c.missing.len() - 20));
        }
    }
    out
}
