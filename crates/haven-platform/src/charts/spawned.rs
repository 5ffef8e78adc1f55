//! Pods an operator creates while it runs (Trivy's scan Jobs, its node collector), which no
//! template of its chart holds.
//!
//! Without them, `validate --charts` would prove Pod Security and the flows of the operator's
//! own Deployment only, while the pods that do the work land later in the same namespace and may
//! be refused there. The catalogue declares each such pod (`spawns:`): the workload as upstream's
//! code builds it, and which keys of the operator's rendered ConfigMaps fill in the parts the
//! values decide (the security contexts, the image, whether the operator makes it at all). The
//! model is built from the chart's render, so a value that changes the operator's pods changes
//! the model; it is added to the release's objects and checked like a rendered pod.

use std::collections::BTreeMap;

use haven_model::{Object, Origin, load_objects};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::check::{Check, Problem};
use crate::validate::Severity;

/// One kind of pod an operator spawns (catalogue `spawns:`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Spawned {
    /// The workload's name in the model (the operator's are generated per scanned object).
    pub name: String,
    /// What it is, and where upstream builds it (file at the pinned tag).
    pub why: String,
    /// Spawned only when this ConfigMap key holds `"true"` (the operator's switch for it).
    #[serde(default)]
    pub when: Option<ConfigKey>,
    /// The pod and container security contexts the operator copies from its ConfigMap (JSON).
    #[serde(default)]
    pub security_context_from: Option<SecurityContextFrom>,
    /// The image of every container: repository and tag from a ConfigMap.
    #[serde(default)]
    pub image_from: Option<ImageFrom>,
    /// The workload (a Job) as the operator builds it, less what the keys above fill in.
    pub template: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfigKey {
    pub config_map: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecurityContextFrom {
    pub config_map: String,
    /// The key holding the pod's `securityContext` (empty or absent: the operator sets none).
    pub pod: String,
    /// The key holding every container's `securityContext`.
    pub container: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageFrom {
    pub config_map: String,
    /// The key of the whole reference (`node.collector.imageRef`), or else
    #[serde(default)]
    pub image: Option<String>,
    /// the keys of its repository and tag (`trivy.repository`, `trivy.tag`).
    #[serde(default)]
    pub repository: Option<String>,
    #[serde(default)]
    pub tag: Option<String>,
}

/// A ConfigMap key the model reads that the chart's render does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ConfigMap {config_map} key {key}")]
pub struct MissingKey {
    pub config_map: String,
    pub key: String,
}

impl ImageFrom {
    /// The image reference, or the key that is missing.
    fn resolve(&self, config_maps: &BTreeMap<&str, &Object>) -> Result<String, MissingKey> {
        let get = |key: &Option<String>| {
            let key = key.as_deref().unwrap_or("repository");
            read(config_maps, &self.config_map, key).ok_or_else(|| MissingKey {
                config_map: self.config_map.clone(),
                key: key.to_owned(),
            })
        };
        if self.image.is_some() {
            return get(&self.image);
        }
        Ok(format!("{}:{}", get(&self.repository)?, get(&self.tag)?))
    }
}

/// The spawned pods of `component` modelled on its rendered `objects` (in `namespace`, where
/// the operator creates them). A ConfigMap or key the model reads that the render lacks is a
/// problem: the model no longer matches the chart.
pub fn model(
    component: &str,
    namespace: &str,
    spawns: &[Spawned],
    objects: &[Object],
    problems: &mut Vec<Problem>,
) -> Vec<Object> {
    let config_maps: BTreeMap<&str, &Object> = objects
        .iter()
        .filter(|o| o.kind == "ConfigMap" && o.api_group().is_empty())
        .filter(|o| o.namespace.as_deref().is_none_or(|n| n == namespace))
        .map(|o| (o.name.as_str(), o))
        .collect();
    let file = format!("catalogue/{component}.yaml");
    let mut out = Vec::new();
    for s in spawns {
        let mut missing = Vec::new();
        if let Some(w) = &s.when {
            match read(&config_maps, &w.config_map, &w.key) {
                Some(v) if v == "true" => {}
                Some(_) => continue,
                None => missing.push(format!("ConfigMap {} key {}", w.config_map, w.key)),
            }
        }
        let mut workload = Value::Object(s.template.clone());
        workload["metadata"]["name"] = Value::String(s.name.clone());
        workload["metadata"]["namespace"] = Value::String(namespace.to_owned());
        let pod = &mut workload["spec"]["template"]["spec"];
        if let Some(sc) = &s.security_context_from {
            if let Some(text) =
                read(&config_maps, &sc.config_map, &sc.pod).filter(|t| !t.is_empty())
            {
                pod["securityContext"] = parse_json(&text, &mut missing, &sc.pod);
            }
            if let Some(text) =
                read(&config_maps, &sc.config_map, &sc.container).filter(|t| !t.is_empty())
            {
                let c = parse_json(&text, &mut missing, &sc.container);
                for_each_container(pod, |ct| ct["securityContext"] = c.clone());
            }
        }
        if let Some(i) = &s.image_from {
            match i.resolve(&config_maps) {
                Ok(image) => {
                    let image = Value::String(image);
                    for_each_container(pod, |ct| ct["image"] = image.clone());
                }
                Err(m) => missing.push(m.to_string()),
            }
        }
        if !missing.is_empty() {
            problems.push(Problem {
                severity: Severity::Error,
                check: Check::Render,
                component: component.to_owned(),
                file: file.clone(),
                line: 1,
                object: format!("Job/{}", s.name),
                path: "spawns".to_owned(),
                message: format!(
                    "the model of the pods the operator spawns reads {}, which the chart's render lacks or holds unreadable: the catalogue's `spawns` no longer matches the chart",
                    missing.join(", ")
                ),
                waived: None,
            });
            continue;
        }
        let text = match serde_yaml_ng::to_string(&workload) {
            Ok(t) => t,
            Err(_) => continue,
        };
        let origin = format!("{file} (spawns: {}, modelled)", s.name);
        out.extend(load_objects(Origin::File(&origin), &text).objects);
    }
    out
}

/// The value of `key` in the data of ConfigMap `cm`.
fn read(config_maps: &BTreeMap<&str, &Object>, cm: &str, key: &str) -> Option<String> {
    config_maps
        .get(cm)
        .and_then(|o| data_key(o, key))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// A ConfigMap data key with dots in it (`scanJob.podTemplatePodSecurityContext`), which a
/// dotted path cannot name.
fn data_key<'o>(o: &'o Object, key: &str) -> Option<&'o Value> {
    o.get("data")?.as_object()?.get(key)
}

fn parse_json(text: &str, missing: &mut Vec<String>, key: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| {
        missing.push(format!("key {key} (not JSON)"));
        Value::Null
    })
}

fn for_each_container(pod: &mut Value, mut f: impl FnMut(&mut Value)) {
    for list in ["initContainers", "containers"] {
        if let Some(cs) = pod.get_mut(list).and_then(Value::as_array_mut) {
            cs.iter_mut().for_each(&mut f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(data: &str) -> Vec<Object> {
        let text = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: op, namespace: ns}}\ndata:\n{data}"
        );
        load_objects(Origin::File("t.yaml"), &text).objects
    }

    fn spawn(when: bool) -> Spawned {
        serde_json::from_value(serde_json::json!({
            "name": "scan",
            "why": "test",
            "when": if when { serde_json::json!({"configMap": "op", "key": "scan.enabled"}) } else { Value::Null },
            "securityContextFrom": {"configMap": "op", "pod": "pod.sc", "container": "ct.sc"},
            "imageFrom": {"configMap": "op", "repository": "repo", "tag": "tag"},
            "template": {"apiVersion": "batch/v1", "kind": "Job", "metadata": {},
                "spec": {"template": {"spec": {"restartPolicy": "Never",
                    "initContainers": [{"name": "db"}], "containers": [{"name": "scan"}]}}}}
        }))
        .unwrap()
    }

    #[test]
    fn the_model_takes_contexts_and_image_from_the_rendered_config_map() {
        let objects = cm(
            "  pod.sc: '{\"runAsNonRoot\":true}'\n  ct.sc: '{\"privileged\":false}'\n  repo: r/trivy\n  tag: '1'\n  scan.enabled: 'true'\n",
        );
        let mut problems = Vec::new();
        let out = model("x", "ns", &[spawn(true)], &objects, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(out.len(), 1);
        let o = &out[0];
        assert_eq!(o.namespace.as_deref(), Some("ns"));
        assert_eq!(
            o.get("spec.template.spec.securityContext.runAsNonRoot"),
            Some(&Value::Bool(true))
        );
        for list in ["initContainers", "containers"] {
            let c = &o.get(&format!("spec.template.spec.{list}")).unwrap()[0];
            assert_eq!(c["image"], "r/trivy:1");
            assert_eq!(c["securityContext"]["privileged"], false);
        }
    }

    #[test]
    fn a_switched_off_pod_is_not_modelled_and_a_missing_key_is_a_problem() {
        let objects = cm("  repo: r\n  tag: '1'\n  scan.enabled: 'false'\n");
        let mut problems = Vec::new();
        assert!(model("x", "ns", &[spawn(true)], &objects, &mut problems).is_empty());
        assert!(problems.is_empty());
        let objects = cm("  tag: '1'\n");
        let out = model("x", "ns", &[spawn(false)], &objects, &mut problems);
        assert!(out.is_empty());
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("ConfigMap op key repo"));
    }
}
