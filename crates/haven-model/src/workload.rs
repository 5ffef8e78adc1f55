//! Finds the pod template inside every kind that runs pods, and decodes it with the
//! Kubernetes API types so that a wrong field type is reported the way the API server would.

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use crate::error::{InputError, InputErrorKind};
use crate::object::Object;
use crate::path;

/// The kinds whose pods haven checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkloadKind {
    Pod,
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    ReplicationController,
    Job,
    CronJob,
    PodTemplate,
}

impl WorkloadKind {
    /// Recognises a workload by kind and API group (`apps`, `extensions`, `batch` or core).
    pub fn of(object: &Object) -> Option<Self> {
        Self::from_group_kind(object.api_group(), &object.kind)
    }

    /// The workload kind of an API group and kind (as an AdmissionReview's `request.kind`
    /// names them).
    pub fn from_group_kind(group: &str, kind: &str) -> Option<Self> {
        let kind = match (group, kind) {
            ("", "Pod") => Self::Pod,
            ("", "ReplicationController") => Self::ReplicationController,
            ("", "PodTemplate") => Self::PodTemplate,
            ("apps" | "extensions", "Deployment") => Self::Deployment,
            ("apps", "StatefulSet") => Self::StatefulSet,
            ("apps" | "extensions", "DaemonSet") => Self::DaemonSet,
            ("apps" | "extensions", "ReplicaSet") => Self::ReplicaSet,
            ("batch", "Job") => Self::Job,
            ("batch", "CronJob") => Self::CronJob,
            _ => return None,
        };
        Some(kind)
    }

    /// Path of the pod (its `metadata` and `spec`) inside the object; empty for a Pod.
    pub fn pod_path(self) -> &'static str {
        match self {
            Self::Pod => "",
            Self::PodTemplate => "template",
            Self::CronJob => "spec.jobTemplate.spec.template",
            _ => "spec.template",
        }
    }

    /// Whether the kind runs a long-lived, replicated service (as opposed to a Job or bare Pod).
    pub fn is_service_controller(self) -> bool {
        matches!(
            self,
            Self::Deployment | Self::StatefulSet | Self::ReplicaSet | Self::ReplicationController
        )
    }
}

/// The pod a workload runs, decoded, with the path prefix to map findings back to the object.
#[derive(Debug, Clone)]
pub struct PodTemplate {
    pub kind: WorkloadKind,
    /// Path of the pod inside the object: `spec.template`, or empty for a Pod.
    pub base: &'static str,
    pub meta: ObjectMeta,
    pub spec: PodSpec,
}

impl PodTemplate {
    /// Turns a pod-relative path (`spec.containers[0].image`) into an object path
    /// (`spec.template.spec.containers[0].image`).
    pub fn object_path(&self, pod_path: &str) -> String {
        path::join(self.base, pod_path)
    }

    /// All containers with their pod-relative path prefix: init, regular and ephemeral.
    pub fn containers(
        &self,
    ) -> impl Iterator<Item = (String, &k8s_openapi::api::core::v1::Container)> {
        let init = self.spec.init_containers.iter().flatten().enumerate();
        let main = self.spec.containers.iter().enumerate();
        init.map(|(i, c)| (format!("spec.initContainers[{i}]"), c))
            .chain(main.map(|(i, c)| (format!("spec.containers[{i}]"), c)))
    }
}

/// Decodes the pod template of a workload object. `None` when the object is no workload.
pub fn pod_template(object: &Object) -> Option<Result<PodTemplate, InputError>> {
    let kind = WorkloadKind::of(object)?;
    let base = kind.pod_path();
    let pod = if base.is_empty() {
        Some(&object.value)
    } else {
        object.get(base)
    };
    let Some(pod) = pod else {
        return Some(Err(missing(object, base, "no pod template")));
    };
    let meta = match pod.get("metadata") {
        None | Some(Value::Null) => ObjectMeta::default(),
        Some(m) => match decode::<ObjectMeta>(m) {
            Ok(meta) => meta,
            Err((p, msg)) => {
                return Some(Err(type_error(
                    object,
                    &path::join(base, &path::join("metadata", &p)),
                    msg,
                )));
            }
        },
    };
    let spec = match pod.get("spec") {
        None | Some(Value::Null) => {
            return Some(Err(missing(
                object,
                &path::join(base, "spec"),
                "no pod spec",
            )));
        }
        Some(s) => match decode::<PodSpec>(s) {
            Ok(spec) => spec,
            Err((p, msg)) => {
                return Some(Err(type_error(
                    object,
                    &path::join(base, &path::join("spec", &p)),
                    msg,
                )));
            }
        },
    };
    Some(Ok(PodTemplate {
        kind,
        base,
        meta,
        spec,
    }))
}

/// Decodes with plain serde first; only a failure pays for a second, path-tracking pass that
/// names the offending field (path tracking allocates for every key it passes).
fn decode<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, (String, String)> {
    if let Ok(v) = serde::Deserialize::deserialize(value) {
        return Ok(v);
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let p = e.path().to_string();
        let p = if p == "." { String::new() } else { p };
        (p, e.into_inner().to_string())
    })
}

fn missing(object: &Object, field: &str, what: &str) -> InputError {
    let loc = object.location(field);
    InputError::new(
        InputErrorKind::FieldType,
        &loc.file,
        loc.line,
        format!("{} {} has {what} at `{field}`", object.kind, object.name),
    )
    .with_field(field)
}

fn type_error(object: &Object, field: &str, msg: String) -> InputError {
    let loc = object.location(field);
    let note = object
        .notes
        .iter()
        .find(|n| n.path == field)
        .map(|n| {
            format!(
                " (YAML 1.1 reads `{}` as {}; quote it to keep a string)",
                n.text, n.kubernetes_reads
            )
        })
        .unwrap_or_default();
    InputError::new(
        InputErrorKind::FieldType,
        &loc.file,
        loc.line,
        format!(
            "{} {}: wrong type at `{field}`: {msg}{note}",
            object.kind, object.name
        ),
    )
    .with_field(field)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{Origin, load_objects};

    fn obj(text: &str) -> Object {
        let mut out = load_objects(Origin::File("w.yaml"), text);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        out.objects.remove(0)
    }

    #[test]
    fn finds_the_template_of_every_kind() {
        let cron = obj(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: [{name: a, image: x:1}]\n",
        );
        let t = pod_template(&cron).unwrap().unwrap();
        assert_eq!(t.kind, WorkloadKind::CronJob);
        assert_eq!(
            t.object_path("spec.containers[0].image"),
            "spec.jobTemplate.spec.template.spec.containers[0].image"
        );
        assert_eq!(t.spec.containers[0].image.as_deref(), Some("x:1"));
        let svc = obj("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n");
        assert!(pod_template(&svc).is_none());
    }

    #[test]
    fn wrong_field_type_names_line_and_field() {
        let d = obj(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n        image: x:1\n        env:\n        - name: DEBUG\n          value: on\n",
        );
        let e = pod_template(&d).unwrap().unwrap_err();
        assert_eq!(e.line, 12);
        assert_eq!(
            e.field.as_deref(),
            Some("spec.template.spec.containers[0].env[0].value")
        );
        assert!(
            e.message.contains("YAML 1.1 reads `on` as boolean true"),
            "{}",
            e.message
        );
    }
}
