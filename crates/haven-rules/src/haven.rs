//! The Haven application landing requirements: containerised, manifests present, a metrics
//! endpoint, and able to run several replicas.

use haven_model::{Object, WorkloadKind};
use serde_json::Value;

use crate::engine::{Sink, Workload};
use crate::index::AppIndex;
use crate::registry::{CONTAINERISED, MANIFESTS, METRICS, RWO_SCALE, SCALABLE};

/// Per workload: every container names an image, by a reference the container runtime reads.
pub(crate) fn check_workload(w: &Workload<'_>, sink: &mut Sink<'_>) {
    let spec = &w.template.spec;
    let all = w
        .template
        .containers()
        .map(|(p, c)| (p, &c.name, c.image.as_deref()))
        .chain(
            spec.ephemeral_containers
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, c)| {
                    (
                        format!("spec.ephemeralContainers[{i}]"),
                        &c.name,
                        c.image.as_deref(),
                    )
                }),
        );
    for (path, name, image) in all {
        let message = match image {
            None => format!("container \"{name}\" names no image"),
            Some(i) if i.trim().is_empty() => format!("container \"{name}\" names no image"),
            Some(i) => match crate::image::parse(i) {
                Ok(_) => continue,
                Err(why) => format!(
                    "image \"{i}\" of container \"{name}\" is no valid image reference ({why}): \
                     the runtime cannot pull it (InvalidImageName)"
                ),
            },
        };
        let path = w.template.object_path(&format!("{path}.image"));
        sink.emit(CONTAINERISED, w.object, &path, Some(name), message);
    }
}

/// Across the application: at least one workload ships. `workloads` counts the decoded ones.
/// `objects` is how many objects the application has, `first` the first of them, and
/// `workload_kind` whether any of them is of a workload kind.
pub(crate) fn check_manifests(
    first: Option<&Object>,
    objects: usize,
    workload_kind: bool,
    workloads: usize,
    sink: &mut Sink<'_>,
) {
    // A workload whose template could not be decoded still counts as shipped: its input error
    // is reported on its own, and "no manifests" would only mislead.
    if workloads == 0
        && !workload_kind
        && let Some(first) = first
    {
        sink.emit(
            MANIFESTS,
            first,
            "",
            None,
            format!(
                "no workload found among {} object(s): nothing runs the application (expected a Deployment, \
                 StatefulSet, DaemonSet, Job, CronJob or Pod)",
                objects
            ),
        );
    }
}

/// Per workload, with the rest of the application at hand: metrics endpoint, scalability.
pub(crate) fn check_application_workload(w: &Workload<'_>, ix: &AppIndex<'_>, sink: &mut Sink<'_>) {
    if needs_metrics(w.template.kind) && !has_metrics(w, ix) {
        let path = w.template.object_path("spec.containers");
        sink.emit(
            METRICS,
            w.object,
            &path,
            None,
            format!(
                "{} {} exposes no metrics endpoint: no ServiceMonitor or PodMonitor selects it, no \
                 prometheus.io/scrape annotation, no port named like `metrics`, no OTLP exporter",
                w.object.kind, w.object.name
            ),
        );
    }
    let Some(replicas) = w.replicas() else {
        return;
    };
    let max = max_replicas(w, ix).unwrap_or(replicas);
    if max < 2 {
        let recreate =
            w.object.get("spec.strategy.type").and_then(Value::as_str) == Some("Recreate");
        let singleton = if recreate {
            "; its `Recreate` strategy suggests a deliberate singleton: if so, waive this rule with the reason"
        } else {
            ""
        };
        sink.emit(
            SCALABLE,
            w.object,
            "spec.replicas",
            None,
            format!(
                "{} {} runs {replicas} replica and no HorizontalPodAutoscaler scales it to 2 or more{singleton}",
                w.object.kind, w.object.name
            ),
        );
    }
    if max >= 2 && w.template.kind != WorkloadKind::StatefulSet {
        for (i, claim) in claims(w) {
            if let Some(pvc) = ix.find(
                "PersistentVolumeClaim",
                w.object.namespace.as_deref(),
                claim,
            ) && is_read_write_once(pvc)
            {
                let path = w.template.object_path(&format!(
                    "spec.volumes[{i}].persistentVolumeClaim.claimName"
                ));
                sink.emit(
                    RWO_SCALE,
                    w.object,
                    &path,
                    None,
                    format!(
                        "claim \"{claim}\" is ReadWriteOnce but shared by up to {max} replicas of {} {}: \
                         replicas on other nodes cannot mount it",
                        w.object.kind, w.object.name
                    ),
                );
            }
        }
    }
}

fn needs_metrics(kind: WorkloadKind) -> bool {
    kind.is_service_controller() || kind == WorkloadKind::DaemonSet
}

/// The highest replica count the workload can reach: an HPA's `maxReplicas` or `spec.replicas`.
pub(crate) fn max_replicas(w: &Workload<'_>, ix: &AppIndex<'_>) -> Option<i64> {
    let replicas = w.replicas()?;
    let hpa = ix.hpa_max(
        w.object.namespace.as_deref(),
        &w.object.kind,
        &w.object.name,
    );
    Some(hpa.map_or(replicas, |m| m.max(replicas)))
}

/// `(volume index, claim name)` of every persistentVolumeClaim volume.
pub(crate) fn claims<'w>(w: &'w Workload<'_>) -> impl Iterator<Item = (usize, &'w str)> {
    w.template
        .spec
        .volumes
        .iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, v)| {
            v.persistent_volume_claim
                .as_ref()
                .map(|c| (i, c.claim_name.as_str()))
        })
}

fn access_modes(pvc: &Object) -> Vec<&str> {
    pvc.get("spec.accessModes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn is_read_write_once(pvc: &Object) -> bool {
    let modes = access_modes(pvc);
    !modes.is_empty()
        && modes
            .iter()
            .all(|m| *m == "ReadWriteOnce" || *m == "ReadWriteOncePod")
}

pub(crate) fn is_read_write_many(pvc: &Object) -> bool {
    access_modes(pvc).contains(&"ReadWriteMany")
}

/// Any of the accepted ways of exposing metrics.
fn has_metrics(w: &Workload<'_>, ix: &AppIndex<'_>) -> bool {
    let labels = w.pod_labels();
    let ns = w.object.namespace.as_deref();
    let scrape = |o: Option<&serde_json::Map<String, Value>>| {
        o.and_then(|a| a.get("prometheus.io/scrape"))
            .and_then(Value::as_str)
            == Some("true")
    };
    if scrape(w.pod_annotations()) {
        return true;
    }
    let mut containers = w.template.containers().map(|(_, c)| c);
    let otlp_env =
        |name: &str| name.starts_with("OTEL_EXPORTER_OTLP") && name.ends_with("ENDPOINT");
    let exposes = containers.any(|c| {
        let metrics_port = c.ports.iter().flatten().any(|p| {
            p.name
                .as_deref()
                .is_some_and(|n| n.contains("metrics") || n == "prometheus")
        });
        // `envFrom` a ConfigMap or a Secret: its keys, with the source's prefix, are variables.
        let otlp = c.env.iter().flatten().any(|e| otlp_env(&e.name))
            || c.env_from.iter().flatten().any(|src| {
                let prefix = src.prefix.as_deref().unwrap_or_default();
                let source = match (&src.config_map_ref, &src.secret_ref) {
                    (Some(r), _) => ix.find("ConfigMap", ns, &r.name),
                    (None, Some(r)) => ix.find("Secret", ns, &r.name),
                    (None, None) => None,
                };
                source.is_some_and(|o| {
                    ["data", "stringData"].into_iter().any(|field| {
                        o.get(field)
                            .and_then(Value::as_object)
                            .is_some_and(|d| d.keys().any(|k| otlp_env(&format!("{prefix}{k}"))))
                    })
                })
            });
        metrics_port || otlp
    });
    if exposes || ix.pod_monitor_selects(ns, labels) {
        return true;
    }
    ix.services_selecting(ns, labels)
        .into_iter()
        .any(|s| scrape(s.annotations()) || ix.service_monitor_selects(s))
}
