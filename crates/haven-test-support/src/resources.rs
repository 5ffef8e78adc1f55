//! The table of resource types the fake server knows: the built-in Kubernetes APIs the haven
//! commands read, plus whatever CustomResourceDefinitions the store holds.

use serde_json::{Value, json};

/// One served resource type (one group/version/plural).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    pub group: String,
    pub version: String,
    pub plural: String,
    pub singular: String,
    pub kind: String,
    pub namespaced: bool,
    pub verbs: Vec<String>,
    pub short_names: Vec<String>,
    pub status_subresource: bool,
}

impl ResourceType {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The discovery v1 `APIResource` entries for this type (the resource and its `/status`).
    pub(crate) fn api_resources(&self) -> Vec<Value> {
        let mut out = vec![json!({
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": self.verbs,
            "shortNames": self.short_names,
        })];
        if self.status_subresource {
            out.push(json!({
                "name": format!("{}/status", self.plural),
                "singularName": "",
                "namespaced": self.namespaced,
                "kind": self.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
        out
    }

    /// The aggregated discovery (apidiscovery.k8s.io/v2) `APIResourceDiscovery` entry.
    pub(crate) fn aggregated(&self) -> Value {
        let kind = json!({"group": self.group, "version": self.version, "kind": self.kind});
        let mut subresources = Vec::new();
        if self.status_subresource {
            subresources.push(json!({
                "subresource": "status",
                "responseKind": kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
        json!({
            "resource": self.plural,
            "responseKind": kind,
            "scope": if self.namespaced { "Namespaced" } else { "Cluster" },
            "singularResource": self.singular,
            "verbs": self.verbs,
            "shortNames": self.short_names,
            "subresources": subresources,
        })
    }
}

const ALL: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

fn rt(
    group: &str,
    version: &str,
    plural: &str,
    kind: &str,
    namespaced: bool,
    short: &[&str],
    status: bool,
) -> ResourceType {
    ResourceType {
        group: group.into(),
        version: version.into(),
        plural: plural.into(),
        singular: kind.to_ascii_lowercase(),
        kind: kind.into(),
        namespaced,
        verbs: ALL.iter().map(|v| (*v).to_owned()).collect(),
        short_names: short.iter().map(|v| (*v).to_owned()).collect(),
        status_subresource: status,
    }
}

/// The built-in resource types, in the order discovery lists them.
pub fn builtin() -> Vec<ResourceType> {
    let mut v = vec![
        rt("", "v1", "namespaces", "Namespace", false, &["ns"], true),
        rt("", "v1", "nodes", "Node", false, &["no"], true),
        rt("", "v1", "pods", "Pod", true, &["po"], true),
        rt("", "v1", "services", "Service", true, &["svc"], true),
        rt("", "v1", "endpoints", "Endpoints", true, &["ep"], false),
        rt("", "v1", "configmaps", "ConfigMap", true, &["cm"], false),
        rt("", "v1", "secrets", "Secret", true, &[], false),
        rt(
            "",
            "v1",
            "serviceaccounts",
            "ServiceAccount",
            true,
            &["sa"],
            false,
        ),
        rt(
            "",
            "v1",
            "persistentvolumeclaims",
            "PersistentVolumeClaim",
            true,
            &["pvc"],
            true,
        ),
        rt(
            "",
            "v1",
            "persistentvolumes",
            "PersistentVolume",
            false,
            &["pv"],
            true,
        ),
        rt("", "v1", "events", "Event", true, &["ev"], false),
        rt(
            "apps",
            "v1",
            "deployments",
            "Deployment",
            true,
            &["deploy"],
            true,
        ),
        rt("apps", "v1", "daemonsets", "DaemonSet", true, &["ds"], true),
        rt(
            "apps",
            "v1",
            "statefulsets",
            "StatefulSet",
            true,
            &["sts"],
            true,
        ),
        rt(
            "apps",
            "v1",
            "replicasets",
            "ReplicaSet",
            true,
            &["rs"],
            true,
        ),
        rt("batch", "v1", "jobs", "Job", true, &[], true),
        rt("batch", "v1", "cronjobs", "CronJob", true, &["cj"], true),
        rt(
            "storage.k8s.io",
            "v1",
            "storageclasses",
            "StorageClass",
            false,
            &["sc"],
            false,
        ),
        rt(
            "storage.k8s.io",
            "v1",
            "csidrivers",
            "CSIDriver",
            false,
            &[],
            false,
        ),
        rt(
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
            "CustomResourceDefinition",
            false,
            &["crd", "crds"],
            true,
        ),
        rt(
            "apiregistration.k8s.io",
            "v1",
            "apiservices",
            "APIService",
            false,
            &[],
            true,
        ),
        rt(
            "rbac.authorization.k8s.io",
            "v1",
            "roles",
            "Role",
            true,
            &[],
            false,
        ),
        rt(
            "rbac.authorization.k8s.io",
            "v1",
            "rolebindings",
            "RoleBinding",
            true,
            &[],
            false,
        ),
        rt(
            "rbac.authorization.k8s.io",
            "v1",
            "clusterroles",
            "ClusterRole",
            false,
            &[],
            false,
        ),
        rt(
            "rbac.authorization.k8s.io",
            "v1",
            "clusterrolebindings",
            "ClusterRoleBinding",
            false,
            &[],
            false,
        ),
        rt(
            "networking.k8s.io",
            "v1",
            "networkpolicies",
            "NetworkPolicy",
            true,
            &["netpol"],
            false,
        ),
        rt(
            "networking.k8s.io",
            "v1",
            "ingresses",
            "Ingress",
            true,
            &["ing"],
            true,
        ),
        rt(
            "policy",
            "v1",
            "poddisruptionbudgets",
            "PodDisruptionBudget",
            true,
            &["pdb"],
            true,
        ),
        rt(
            "admissionregistration.k8s.io",
            "v1",
            "validatingwebhookconfigurations",
            "ValidatingWebhookConfiguration",
            false,
            &[],
            false,
        ),
        rt(
            "coordination.k8s.io",
            "v1",
            "leases",
            "Lease",
            true,
            &[],
            false,
        ),
    ];
    let mut ssar = rt(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        false,
        &[],
        false,
    );
    ssar.verbs = vec!["create".into()];
    v.push(ssar);
    v
}

/// A CustomResourceDefinition without a field the API server requires.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("CustomResourceDefinition: missing {0}")]
pub struct MissingField(pub &'static str);

/// The resource types a CustomResourceDefinition object declares (one per served version).
pub fn from_crd(crd: &Value) -> Result<Vec<ResourceType>, MissingField> {
    let spec = &crd["spec"];
    let field = |path: &'static str, v: &Value| -> Result<String, MissingField> {
        v.as_str().map(str::to_owned).ok_or(MissingField(path))
    };
    let group = field("spec.group", &spec["group"])?;
    let names = &spec["names"];
    let plural = field("spec.names.plural", &names["plural"])?;
    let kind = field("spec.names.kind", &names["kind"])?;
    let singular = names["singular"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| kind.to_ascii_lowercase());
    let short_names: Vec<String> = names["shortNames"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let namespaced = spec["scope"].as_str() != Some("Cluster");
    let versions = spec["versions"]
        .as_array()
        .ok_or(MissingField("spec.versions"))?;
    let mut out = Vec::new();
    for v in versions {
        if v["served"].as_bool() == Some(false) {
            continue;
        }
        let version = field("spec.versions[].name", &v["name"])?;
        out.push(ResourceType {
            group: group.clone(),
            version,
            plural: plural.clone(),
            singular: singular.clone(),
            kind: kind.clone(),
            namespaced,
            verbs: ALL.iter().map(|v| (*v).to_owned()).collect(),
            short_names: short_names.clone(),
            status_subresource: v["subresources"]["status"].is_object(),
        });
    }
    Ok(out)
}
