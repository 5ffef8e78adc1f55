//! Upstream's `Compliancy` resource (`haven.commonground.nl/v1alpha1`, cluster-scoped), in the
//! shape upstream's CRD (v12.8.0) requires: `spec.compliant`, `spec.created`, `spec.version`,
//! `spec.input` {commandline, kubeHost, platform}, and under `spec.output` a camelCase mirror of
//! the JSON output whose `config` keys are upstream's `CIS`, `CNCF` and `kubescape` (not the
//! JSON's `KESC`). Written only with `--write-crd`; `tests/cluster_check.rs` validates it against
//! upstream's CRD schema, and `compliancy_crd` carries that same schema.

use serde_json::{Value, json};

use super::ClusterReport;

fn check_json(r: &haven_checks::CheckResult) -> Value {
    json!({
        "name": r.name,
        "label": r.label,
        "category": r.category.as_str(),
        "rationale": r.upstream_rationale,
        "result": r.result.as_str(),
    })
}

pub const COMPLIANCY_GROUP: &str = "haven.commonground.nl";

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
    let s = &report.run.summary;
    json!({
        "apiVersion": format!("{COMPLIANCY_GROUP}/v1alpha1"),
        "kind": "Compliancy",
        "metadata": {"name": format!("haven-{name}"), "labels": {"app.kubernetes.io/managed-by": "haven"}},
        "spec": {
            "compliant": report.upstream_compliant(),
            "version": report.upstream_version(),
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
            "output": {
                "version": report.upstream_version(),
                "havenCompliant": report.upstream_compliant(),
                "startTS": report.started,
                "stopTS": report.stopped,
                "config": {
                    "CNCF": report.run.config_cncf,
                    "CIS": report.run.config_cis,
                    "kubescape": report.run.config_kubescape,
                },
                "compliancyChecks": {
                    "results": report.run.results.iter().map(check_json).collect::<Vec<_>>(),
                    "summary": {
                        "total": s.total,
                        "unknown": s.unknown,
                        "skipped": s.skipped,
                        "failed": s.failed,
                        "passed": s.passed,
                    },
                },
                "suggestedChecks": {
                    "results": report.run.suggested.iter().map(check_json).collect::<Vec<_>>(),
                },
            },
        },
    })
}

fn strings(names: &[&str]) -> Value {
    Value::Object(
        names
            .iter()
            .map(|n| ((*n).to_owned(), json!({"type": "string"})))
            .collect(),
    )
}

fn check_schema() -> Value {
    json!({
        "type": "object",
        "required": ["category", "label", "name", "rationale", "result"],
        "properties": strings(&["category", "label", "name", "rationale", "result"]),
    })
}

/// The CRD for `compliancies.haven.commonground.nl`, created when absent: the structural schema
/// of upstream's CRD v1alpha1, so a cluster that already has upstream's CRD and one where haven
/// created it accept the same resources.
pub fn compliancy_crd() -> Value {
    let integer = json!({"type": "integer"});
    let boolean = json!({"type": "boolean"});
    let spec = json!({
        "type": "object",
        "required": ["compliant", "created", "input", "output", "version"],
        "properties": {
            "compliant": boolean,
            "created": {"type": "string"},
            "version": {"type": "string"},
            "input": {
                "type": "object",
                "required": ["commandline", "kubeHost", "platform"],
                "properties": {
                    "commandline": {"type": "string"},
                    "kubeHost": {"type": "string"},
                    "platform": {
                        "type": "object",
                        "required": ["determinedPlatform", "determiningLabel", "proxy"],
                        "properties": {
                            "determinedPlatform": {"type": "string"},
                            "determiningLabel": {"type": "string"},
                            "proxy": boolean,
                        },
                    },
                },
            },
            "output": {
                "type": "object",
                "required": ["compliancyChecks", "config", "havenCompliant", "startTS", "stopTS", "suggestedChecks", "version"],
                "properties": {
                    "compliancyChecks": {
                        "type": "object",
                        "required": ["results", "summary"],
                        "properties": {
                            "results": {"type": "array", "items": check_schema()},
                            "summary": {
                                "type": "object",
                                "required": ["failed", "passed", "skipped", "total", "unknown"],
                                "properties": {
                                    "failed": integer, "passed": integer, "skipped": integer,
                                    "total": integer, "unknown": integer,
                                },
                            },
                        },
                    },
                    "config": {
                        "type": "object",
                        "required": ["CIS", "CNCF", "kubescape"],
                        "properties": {"CIS": boolean, "CNCF": boolean, "kubescape": boolean},
                    },
                    "havenCompliant": boolean,
                    "startTS": {"type": "string"},
                    "stopTS": {"type": "string"},
                    "suggestedChecks": {
                        "type": "object",
                        "required": ["results"],
                        "properties": {"results": {"type": "array", "items": check_schema()}},
                    },
                    "version": {"type": "string"},
                },
            },
        },
    });
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
                    "required": ["spec"],
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "metadata": {"type": "object"},
                        "spec": spec,
                    },
                }},
            }],
        },
    })
}
