//! The release namespace: where an object that names no namespace is installed.
//!
//! `helm install --namespace` and `kubectl apply -n` put every namespaced object that names no
//! namespace into one namespace, and Helm charts write `namespace: {{ .Release.Namespace }}`
//! for the same effect. Both mean "wherever the application is installed", which the chart
//! does not choose. So objects are related by their effective namespace (absent = the release
//! namespace; `--namespace` names it, else it stays unnamed, `None`), and only a namespace the
//! manifests themselves write counts as theirs (`plus.default-namespace`).
//!
//! A chart rendered without `--namespace` (or with `default`) is rendered with
//! [`RELEASE_NAMESPACE_PLACEHOLDER`] as Helm's release namespace (see `haven-input`); here each
//! of its objects is mapped back: a namespace that is the placeholder is the release namespace,
//! and everywhere else the placeholder reads `default`, as `helm template` prints it.

use haven_model::{Object, RELEASE_NAMESPACE_PLACEHOLDER};
use serde_json::{Map, Value};

/// What `helm template` prints for the release namespace when none is given.
const HELM_DEFAULT: &str = "default";

/// Maps one object of a chart rendered with the placeholder back to what the chart says.
///
/// - `metadata.namespace` that is the placeholder: the object names no namespace of its own
///   (`object.namespace` is `None`, and the field goes from its value too);
/// - a monitor's `namespaceSelector.matchNames` entry that is the placeholder stays: the index
///   reads it as the release namespace ([`crate::index::AppIndex`]);
/// - every other string and key: the placeholder becomes `default`.
pub(crate) fn map_placeholder(object: &mut Object) {
    if object.namespace.as_deref() == Some(RELEASE_NAMESPACE_PLACEHOLDER) {
        object.namespace = None;
        if let Some(Value::Object(meta)) = object.value.get_mut("metadata") {
            meta.remove("namespace");
        }
    }
    if object.name.contains(RELEASE_NAMESPACE_PLACEHOLDER) {
        object.name = object
            .name
            .replace(RELEASE_NAMESPACE_PLACEHOLDER, HELM_DEFAULT);
    }
    let monitor = is_monitor(object);
    let selector = if monitor {
        object
            .value
            .pointer_mut("/spec/namespaceSelector")
            .and_then(Value::as_object_mut)
            .and_then(|s| s.remove("matchNames"))
    } else {
        None
    };
    replace_in(&mut object.value);
    if let Some(mut names) = selector {
        if let Value::Array(items) = &mut names {
            for item in items {
                if item.as_str() != Some(RELEASE_NAMESPACE_PLACEHOLDER) {
                    replace_in(item);
                }
            }
        }
        if let Some(Value::Object(s)) = object.value.pointer_mut("/spec/namespaceSelector") {
            s.insert("matchNames".to_owned(), names);
        }
    }
}

/// Whether a `namespaceSelector.matchNames` entry names the namespace `target` (`None`: the
/// unnamed release namespace), where `release` is the namespace `--namespace` gave.
pub(crate) fn names_namespace(entry: &str, target: Option<&str>, release: Option<&str>) -> bool {
    if entry == RELEASE_NAMESPACE_PLACEHOLDER {
        target == release
    } else {
        target == Some(entry)
    }
}

pub(crate) fn is_monitor(object: &Object) -> bool {
    object.api_group() == "monitoring.coreos.com"
        && matches!(object.kind.as_str(), "PodMonitor" | "ServiceMonitor")
}

fn replace_in(value: &mut Value) {
    match value {
        Value::String(s) if s.contains(RELEASE_NAMESPACE_PLACEHOLDER) => {
            *s = s.replace(RELEASE_NAMESPACE_PLACEHOLDER, HELM_DEFAULT);
        }
        Value::Array(items) => items.iter_mut().for_each(replace_in),
        Value::Object(map) => {
            if map
                .keys()
                .any(|k| k.contains(RELEASE_NAMESPACE_PLACEHOLDER))
            {
                let old = std::mem::take(map);
                *map = old
                    .into_iter()
                    .map(|(k, v)| (k.replace(RELEASE_NAMESPACE_PLACEHOLDER, HELM_DEFAULT), v))
                    .collect::<Map<String, Value>>();
            }
            map.values_mut().for_each(replace_in);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use haven_model::{Origin, load_objects};
    use serde_json::json;

    use super::*;

    #[test]
    fn the_placeholder_is_the_release_namespace_and_reads_default_elsewhere() {
        let text = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader-hvn-rns, labels: {hvn-rns/x: \"hvn-rns\"}}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: m, namespace: hvn-rns}
spec:
  namespaceSelector: {matchNames: [hvn-rns, other, hvn-rns-x]}
  endpoints: [{port: http, path: /metrics/hvn-rns}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: kube-system}
data: {url: http://svc.hvn-rns.svc:80}
";
        let mut objects = load_objects(Origin::File("x.yaml"), text).objects;
        objects.iter_mut().for_each(map_placeholder);
        let [role, monitor, map] = objects.as_slice() else {
            panic!("{objects:?}")
        };
        assert_eq!(role.name, "reader-default");
        assert_eq!(
            role.value["metadata"],
            json!({"name": "reader-default", "labels": {"default/x": "default"}})
        );
        assert_eq!(monitor.namespace, None);
        assert_eq!(monitor.value["metadata"], json!({"name": "m"}));
        assert_eq!(
            monitor.value["spec"],
            json!({
                "namespaceSelector": {"matchNames": ["hvn-rns", "other", "default-x"]},
                "endpoints": [{"port": "http", "path": "/metrics/default"}],
            })
        );
        assert_eq!(map.namespace.as_deref(), Some("kube-system"));
        assert_eq!(map.value["data"]["url"], "http://svc.default.svc:80");
    }

    #[test]
    fn match_names_entries_name_namespaces() {
        let p = RELEASE_NAMESPACE_PLACEHOLDER;
        assert!(names_namespace(p, None, None));
        assert!(!names_namespace(p, Some("default"), None));
        assert!(names_namespace(p, Some("zaken"), Some("zaken")));
        assert!(!names_namespace(p, Some("other"), Some("zaken")));
        assert!(names_namespace("zaken", Some("zaken"), None));
        assert!(
            !names_namespace("", None, None),
            "an empty name is no namespace"
        );
    }
}
