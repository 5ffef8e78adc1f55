//! The Haven application landing requirements: containerised, manifests present, a metrics
//! endpoint, and able to run several replicas.

use haven_model::{Object, WorkloadKind};
use serde_json::Value;

use crate::engine::{Sink, Workload};
use crate::registry::{CONTAINERISED, MANIFESTS, METRICS, RWO_SCALE, SCALABLE};
use crate::selector::{label_selector_matches, map_selector_matches};

/// Per workload: every container names an image.
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
        if image.is_none_or(|i| i.trim().is_empty()) {
            let path = w.template.object_path(&format!("{path}.image"));
            sink.emit(
                CONTAINERISED,
                w.object,
                &path,
                Some(name),
                format!("container \"{name}\" names no image"),
            );
        }
    }
}

/// Across the application: manifests present, metrics endpoints, scalability.
pub(crate) fn check_application(
    objects: &[Object],
    workloads: &[Workload<'_>],
    sink: &mut Sink<'_>,
) {
    if workloads.is_empty() {
        if let Some(first) = objects.first() {
            sink.emit(
                MANIFESTS,
                first,
                "",
                None,
                format!(
                    "no workload found among {} object(s): nothing runs the application (expected a Deployment, \
                     StatefulSet, DaemonSet, Job, CronJob or Pod)",
                    objects.len()
                ),
            );
        }
    }
    for w in workloads {
        if needs_metrics(w.template.kind) && !has_metrics(w, objects) {
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
            continue;
        };
        let max = max_replicas(w, objects).unwrap_or(replicas);
        if max < 2 {
            let recreate = w.object.get("spec.strategy.type").and_then(Value::as_str) == Some("Recreate");
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
                if let Some(pvc) = find(objects, w.object, "PersistentVolumeClaim", claim)
                    && is_read_write_once(pvc)
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
}

fn needs_metrics(kind: WorkloadKind) -> bool {
    kind.is_service_controller() || kind == WorkloadKind::DaemonSet
}

/// The highest replica count the workload can reach: an HPA's `maxReplicas` or `spec.replicas`.
pub(crate) fn max_replicas(w: &Workload<'_>, objects: &[Object]) -> Option<i64> {
    let replicas = w.replicas()?;
    let hpa_max = objects
        .iter()
        .filter(|o| o.kind == "HorizontalPodAutoscaler" && same_namespace(o, w.object))
        .filter(|o| {
            o.get("spec.scaleTargetRef.kind").and_then(Value::as_str)
                == Some(w.object.kind.as_str())
                && o.get("spec.scaleTargetRef.name").and_then(Value::as_str)
                    == Some(w.object.name.as_str())
        })
        .filter_map(|o| o.get("spec.maxReplicas").and_then(Value::as_i64))
        .max();
    Some(hpa_max.map_or(replicas, |m| m.max(replicas)))
}

pub(crate) fn same_namespace(a: &Object, b: &Object) -> bool {
    a.namespace == b.namespace
}

/// An object of `kind` named `name` in the workload's namespace.
pub(crate) fn find<'o>(
    objects: &'o [Object],
    near: &Object,
    kind: &str,
    name: &str,
) -> Option<&'o Object> {
    objects
        .iter()
        .find(|o| o.kind == kind && o.name == name && same_namespace(o, near))
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
fn has_metrics(w: &Workload<'_>, objects: &[Object]) -> bool {
    let labels = w.pod_labels();
    let scrape = |o: Option<&serde_json::Map<String, Value>>| {
        o.and_then(|a| a.get("prometheus.io/scrape"))
            .and_then(Value::as_str)
            == Some("true")
    };
    if scrape(w.pod_annotations()) {
        return true;
    }
    let containers: Vec<_> = w.template.containers().map(|(_, c)| c).collect();
    let metrics_port = containers.iter().any(|c| {
        c.ports.iter().flatten().any(|p| {
            p.name
                .as_deref()
                .is_some_and(|n| n.contains("metrics") || n == "prometheus")
        })
    });
    if metrics_port {
        return true;
    }
    let otlp_env =
        |name: &str| name.starts_with("OTEL_EXPORTER_OTLP") && name.ends_with("ENDPOINT");
    let otlp = containers.iter().any(|c| {
        c.env.iter().flatten().any(|e| otlp_env(&e.name))
            || c.env_from.iter().flatten().any(|src| {
                src.config_map_ref
                    .as_ref()
                    .and_then(|r| find(objects, w.object, "ConfigMap", &r.name))
                    .is_some_and(|cm| {
                        cm.get("data")
                            .and_then(Value::as_object)
                            .is_some_and(|d| d.keys().any(|k| otlp_env(k)))
                    })
            })
    });
    if otlp {
        return true;
    }
    let services: Vec<&Object> = objects
        .iter()
        .filter(|o| {
            o.kind == "Service"
                && same_namespace(o, w.object)
                && map_selector_matches(o.get("spec.selector"), labels)
        })
        .collect();
    if services.iter().any(|s| scrape(s.annotations())) {
        return true;
    }
    objects.iter().any(|m| {
        let selector = m.get("spec.selector").cloned().unwrap_or(Value::Null);
        let in_ns = monitor_covers_namespace(m, w.object);
        match (m.api_group(), m.kind.as_str()) {
            ("monitoring.coreos.com", "PodMonitor") => {
                in_ns && label_selector_matches(&selector, labels)
            }
            ("monitoring.coreos.com", "ServiceMonitor") => {
                in_ns
                    && services
                        .iter()
                        .any(|s| label_selector_matches(&selector, s.labels()))
            }
            _ => false,
        }
    })
}

/// A monitor watches its own namespace unless `namespaceSelector` says otherwise.
fn monitor_covers_namespace(monitor: &Object, target: &Object) -> bool {
    match monitor.get("spec.namespaceSelector") {
        Some(ns) if ns.get("any").and_then(Value::as_bool) == Some(true) => true,
        Some(ns) if ns.get("matchNames").is_some() => {
            let names = ns.get("matchNames").and_then(Value::as_array);
            let target_ns = target.namespace.as_deref().unwrap_or_default();
            names
                .into_iter()
                .flatten()
                .any(|n| n.as_str() == Some(target_ns))
        }
        _ => same_namespace(monitor, target),
    }
}
