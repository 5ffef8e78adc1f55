//! Upstream's `Compliancy` resource (`haven.commonground.nl/v1alpha1`, cluster-scoped): a
//! camelCase mirror of the JSON output under `spec.output`, and the run's inputs under
//! `spec.input`. Written only with `--write-crd`.

use serde_json::{Value, json};

use super::{ClusterReport, upstream_json};

pub const COMPLIANCY_GROUP: &str = "haven.commonground.nl";

/// `FooBar` → `fooBar`, recursively for object keys; `CNCF` → `cncf`.
fn camel_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let key = if k.chars().all(|c| c.is_ascii_uppercase()) {
                        k.to_ascii_lowercase()
                    } else {
                        let mut cs = k.chars();
                        cs.next()
                            .map(|c| c.to_ascii_lowercase().to_string() + cs.as_str())
                            .unwrap_or_default()
                    };
                    (key, camel_keys(v))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(camel_keys).collect()),
        other => other.clone(),
    }
}

/// The resource. Its name is the stop time in a DNS-label-safe form, so that runs accumulate.
pub fn compliancy_resource(report: &ClusterReport) -> Value {
    let name: String = report
        .stopped
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .to_owned();
    let platform = report.run.platform.as_ref();
    json!({
        "apiVersion": format!("{COMPLIANCY_GROUP}/v1alpha1"),
        "kind": "Compliancy",
        "metadata": {"name": format!("haven-{name}"), "labels": {"app.kubernetes.io/managed-by": "haven"}},
        "spec": {
            "created": report.stopped,
            "input": {
                "commandline": report.command_line,
                "kubeHost": report.target,
                "platform": {
                    "determinedPlatform": platform.map(|p| p.name.clone()).unwrap_or_default(),
                    "determiningLabel": platform.map(|p| p.determined_by.clone()).unwrap_or_default(),
                    "proxy": false,
                },
            },
            "output": camel_keys(&upstream_json(report)),
        },
    })
}

/// The CRD for `compliancies.haven.commonground.nl`, created when absent.
pub fn compliancy_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("compliancies.{COMPLIANCY_GROUP}")},
        "spec": {
            "group": COMPLIANCY_GROUP,
            "scope": "Cluster",
            "names": {"kind": "Compliancy", "listKind": "CompliancyList", "plural": "compliancies", "singular": "compliancy"},
            "versions": [{
                "name": "v1alpha1",
                "served": true,
                "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                }},
            }],
        },
    })
}
