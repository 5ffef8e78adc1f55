//! The Haven+ platform expectations: resources, probes, pinned images, disruption budgets,
//! network policies, RWX claims, token automount and namespaces.

use haven_model::{Object, WorkloadKind};
use serde_json::Value;

use crate::engine::{Sink, Workload};
use crate::haven::{is_read_write_many, max_replicas};
use crate::image::{self, TagVerdict};
use crate::index::AppIndex;
use crate::registry::{
    DEFAULT_NAMESPACE, IMAGE_DIGEST, IMAGE_TAG, NETWORK_POLICY, PDB, PROBES, RESOURCES, RWX,
    SA_TOKEN,
};

pub(crate) fn check_workload(w: &Workload<'_>, ix: Option<&AppIndex<'_>>, sink: &mut Sink<'_>) {
    let long_running = matches!(
        w.template.kind,
        WorkloadKind::Deployment
            | WorkloadKind::StatefulSet
            | WorkloadKind::DaemonSet
            | WorkloadKind::ReplicaSet
            | WorkloadKind::ReplicationController
    );
    for (base, c) in w.template.containers() {
        let name = c.name.as_str();
        let res = c.resources.as_ref();
        let has = |section: Option<&std::collections::BTreeMap<String, _>>, key: &str| {
            section.is_some_and(|m| m.contains_key(key))
        };
        let requests = res.and_then(|r| r.requests.as_ref());
        let limits = res.and_then(|r| r.limits.as_ref());
        let missing: Vec<&str> = [
            (!has(requests, "cpu")).then_some("requests.cpu"),
            (!has(requests, "memory")).then_some("requests.memory"),
            (!has(limits, "memory")).then_some("limits.memory"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !missing.is_empty() {
            let path = w.template.object_path(&format!("{base}.resources"));
            let message = format!("container \"{name}\" sets no {}", missing.join(", "));
            sink.emit(RESOURCES, w.object, &path, Some(name), message);
        }
        let is_init = base.starts_with("spec.initContainers");
        // A native sidecar (init container with restartPolicy Always) runs for the pod's life.
        let sidecar = is_init && c.restart_policy.as_deref() == Some("Always");
        if long_running && (!is_init || sidecar) {
            let missing: Vec<&str> = [
                c.liveness_probe.is_none().then_some("livenessProbe"),
                c.readiness_probe.is_none().then_some("readinessProbe"),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !missing.is_empty() {
                let path = w.template.object_path(&base);
                let message = format!("container \"{name}\" has no {}", missing.join(" and "));
                sink.emit(PROBES, w.object, &path, Some(name), message);
            }
        }
        if let Some(img) = c.image.as_deref().filter(|i| !i.trim().is_empty()) {
            let path = w.template.object_path(&format!("{base}.image"));
            // An invalid reference is `haven.containerised`'s.
            let Ok(r) = image::parse(img) else { continue };
            let moving =
                |why: String| format!("image \"{img}\" of container \"{name}\" uses the tag {why}");
            match (r.tag, r.digest) {
                (_, Some(_)) => {}
                (None, None) => sink.emit(
                    IMAGE_TAG,
                    w.object,
                    &path,
                    Some(name),
                    format!("image \"{img}\" of container \"{name}\" has no tag (means `latest`)"),
                ),
                (Some(tag), None) => {
                    let message = match sink.opts.tags.judge(tag) {
                        TagVerdict::Pinned => {
                            sink.emit(
                                IMAGE_DIGEST,
                                w.object,
                                &path,
                                Some(name),
                                format!(
                                    "image \"{img}\" of container \"{name}\" is pinned by tag, \
                                     not by digest"
                                ),
                            );
                            continue;
                        }
                        TagVerdict::Latest => {
                            moving("`latest`, which moves with every release".into())
                        }
                        TagVerdict::NoVersion => moving(format!(
                            "`{tag}`, which is no version and so may move (`--pinned-tag` names \
                             tags that do not)"
                        )),
                        TagVerdict::MovingWord => moving(format!(
                            "`{tag}`, which names a build published again under it"
                        )),
                        TagVerdict::Moving(p) => {
                            moving(format!("`{tag}`, which `--moving-tag {p}` calls moving"))
                        }
                    };
                    sink.emit(IMAGE_TAG, w.object, &path, Some(name), message);
                }
            }
        }
    }
    sa_token(w, ix, sink);
}

/// `plus.sa-token-automount`, as the kubelet decides: the pod's own
/// `automountServiceAccountToken` wins; left out, its ServiceAccount's decides; left out there
/// too, the token is mounted. The ServiceAccount is read when the application ships it (`ix`:
/// an application check); the admission webhook sees the pod alone and asks for the field on
/// the pod.
fn sa_token(w: &Workload<'_>, ix: Option<&AppIndex<'_>>, sink: &mut Sink<'_>) {
    let spec = &w.template.spec;
    let account = spec
        .service_account_name
        .as_deref()
        .or(spec.service_account.as_deref())
        .filter(|a| !a.is_empty())
        .unwrap_or("default");
    let why = match spec.automount_service_account_token {
        Some(false) => return,
        Some(true) => "the pod spec sets automountServiceAccountToken: true".to_owned(),
        None => {
            let ns = w.object.namespace.as_deref();
            let sa = ix.and_then(|ix| ix.find("ServiceAccount", ns, account));
            match sa.and_then(|sa| sa.get("automountServiceAccountToken")) {
                Some(Value::Bool(false)) => return,
                Some(Value::Bool(true)) => format!(
                    "its ServiceAccount {account} sets automountServiceAccountToken: true and the \
                     pod spec does not override it"
                ),
                _ if sa.is_some() => format!(
                    "neither the pod spec nor its ServiceAccount {account} sets \
                     automountServiceAccountToken: false"
                ),
                // One object alone (the admission webhook): its ServiceAccount is not at hand.
                _ if ix.is_none() => {
                    "the pod spec does not set automountServiceAccountToken: false".to_owned()
                }
                _ => format!(
                    "the pod spec does not set automountServiceAccountToken: false (its \
                     ServiceAccount {account} is not among the manifests in its namespace)"
                ),
            }
        }
    };
    let path = w.template.object_path("spec.automountServiceAccountToken");
    sink.emit(
        SA_TOKEN,
        w.object,
        &path,
        None,
        format!(
            "{} {} mounts a service-account token: {why}",
            w.object.kind, w.object.name
        ),
    );
}

pub(crate) fn check_object(object: &Object, sink: &mut Sink<'_>) {
    // The namespace the manifest writes, not the one the release puts it in: a chart is not
    // to blame for `--namespace default`, nor for `{{ .Release.Namespace }}` rendered without
    // `--namespace` (see `crate::namespace`).
    let written = object.get("metadata.namespace").and_then(Value::as_str);
    if object.is_namespaced() && written == Some("default") {
        sink.emit(
            DEFAULT_NAMESPACE,
            object,
            "metadata.namespace",
            None,
            format!(
                "{} {} names the `default` namespace itself (`namespace: default`)",
                object.kind, object.name
            ),
        );
    }
    if object.kind == "PersistentVolumeClaim"
        && object.api_group().is_empty()
        && is_read_write_many(object)
    {
        sink.emit(
            RWX,
            object,
            "spec.accessModes",
            None,
            format!(
                "claim \"{}\" requests ReadWriteMany: the cluster needs an RWX storage class",
                object.name
            ),
        );
    }
    if object.kind == "StatefulSet" {
        let templates = object
            .get("spec.volumeClaimTemplates")
            .and_then(Value::as_array);
        for (i, t) in templates.into_iter().flatten().enumerate() {
            let modes = t
                .get("spec")
                .and_then(|s| s.get("accessModes"))
                .and_then(Value::as_array);
            if modes
                .into_iter()
                .flatten()
                .any(|m| m.as_str() == Some("ReadWriteMany"))
            {
                let name = t
                    .get("metadata")
                    .and_then(|m| m.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                sink.emit(
                    RWX,
                    object,
                    &format!("spec.volumeClaimTemplates[{i}].spec.accessModes"),
                    None,
                    format!("claim template \"{name}\" requests ReadWriteMany: the cluster needs an RWX storage class"),
                );
            }
        }
    }
}

/// Per workload, with the rest of the application at hand: disruption budget, network policy.
pub(crate) fn check_application_workload(w: &Workload<'_>, ix: &AppIndex<'_>, sink: &mut Sink<'_>) {
    let labels = w.pod_labels();
    let ns = w.object.namespace.as_deref();
    // A workload that names no namespace, checked without `--namespace`, is related to nothing
    // in `default`: where it lands is the installer's choice. When something in `default` would
    // have matched, the finding says how to check it as installed there.
    let elsewhere = |found: bool, what: &str| {
        if ns.is_none() && found {
            format!(
                " in its namespace (a {what} in `default` does: pass --namespace default if \
                 that is where it is installed)"
            )
        } else {
            String::new()
        }
    };
    if let Some(replicas) = w.replicas()
        && let Some(max) = max_replicas(w, ix).filter(|&m| m > 1)
        && !ix.pdb_selects(ns, labels)
    {
        let runs = if max > replicas {
            format!("runs {replicas} and its HorizontalPodAutoscaler up to {max} replicas")
        } else {
            format!("runs {replicas} replicas")
        };
        let hint = elsewhere(
            ix.pdb_selects(Some("default"), labels),
            "PodDisruptionBudget",
        );
        sink.emit(
            PDB,
            w.object,
            "spec.replicas",
            None,
            format!(
                "{} {} {runs}, but no PodDisruptionBudget selects its pods{hint}",
                w.object.kind, w.object.name
            ),
        );
    }
    if w.template.kind != WorkloadKind::PodTemplate && !ix.network_policy_selects(ns, labels) {
        let path = w.template.object_path("metadata.labels");
        let hint = elsewhere(
            ix.network_policy_selects(Some("default"), labels),
            "NetworkPolicy",
        );
        sink.emit(
            NETWORK_POLICY,
            w.object,
            &path,
            None,
            format!(
                "no NetworkPolicy selects the pods of {} {}{hint}",
                w.object.kind, w.object.name
            ),
        );
    }
}
