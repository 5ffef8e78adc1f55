//! The platform's object store (Garage) brought up with no human step: its layout, one bucket
//! and one access key per consumer, each key granted its own bucket only.
//!
//! A fresh Garage has no layout (it stores nothing until every node has a zone and a
//! capacity), no keys and no buckets; without this module a person runs `garage layout
//! assign/apply`, `garage key create`, `garage bucket create/allow` and copies every key into
//! OpenBao. Here (docs/plus.md, "Object storage"):
//!
//! - **Who needs a bucket is data.** A catalogue component that keeps data in S3 declares
//!   `objectStore: {bucket, secret, keys}` ([`Consumer`]); nothing else names it.
//! - **The credentials are made in the consumer's namespace, never in Git.** Two External
//!   Secrets `Password` generators (12 and 32 random characters, hex-encoded: the 24 and 64 hex
//!   digits Garage's `ImportKey` accepts after `GK`) behind one ExternalSecret write the
//!   consumer's own Secret once (`CreatedOnce`, immutable, kept if the ExternalSecret goes),
//!   in the form the component reads (its `keys` templates), plus the raw pair under
//!   [`KEY_ID`] and [`SECRET_KEY`] for the bootstrap.
//! - **The bootstrap imports them.** A Job in Garage's namespace ([`SCRIPT`], Python's standard
//!   library in the official Python image) assigns the layout, imports each consumer's key,
//!   creates its bucket and grants the key read and write on it. It reads each consumer's
//!   Secret through a Role in the consumer's namespace limited to that one Secret by name, and
//!   Garage's admin token from a Secret of its own namespace (generated, like the keys). Every
//!   step checks before it acts, so a re-run changes nothing; the Job's name carries a hash of
//!   everything it acts on (script, consumers, node count, capacity, Garage's version), so a
//!   scale-up, a new size or a new consumer is a new Job that Flux creates and runs.
//!
//! Pure: objects as JSON, placed into the tree by [`crate::render`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The bootstrap's ServiceAccount, Role and ConfigMap, and the prefix of its Job's name.
pub const BOOTSTRAP: &str = "garage-bootstrap";
/// The Secret (in Garage's namespace) that holds Garage's admin API token.
pub const ADMIN_TOKEN_SECRET: &str = "garage-admin-token";
const ADMIN_TOKEN_FIELD: &str = "token";
/// The keys of a consumer's Secret that hold the raw access key id and secret, which the
/// bootstrap imports into Garage.
pub const KEY_ID: &str = "GARAGE_ACCESS_KEY_ID";
pub const SECRET_KEY: &str = "GARAGE_SECRET_ACCESS_KEY";
/// What a consumer's `keys` templates write for the access key id and the secret key.
pub const ACCESS_KEY_ID_VAR: &str = "${accessKeyId}";
pub const SECRET_ACCESS_KEY_VAR: &str = "${secretAccessKey}";
/// The zone new Garage nodes are assigned (one zone: the cluster).
pub const ZONE: &str = "haven";
/// Garage's admin API port (the chart's `[admin] api_bind_addr`).
pub const ADMIN_PORT: u16 = 3903;
/// The bootstrap program, run by the Job from a ConfigMap.
pub const SCRIPT: &str = include_str!("object_store/bootstrap.py");
/// The Job's image: Docker's official Python image (the Docker Library, built from
/// docker-library/python), a patch release on a pinned Alpine, by the digest of its multi-platform
/// index. Evidence: Docker's own record of the registry, docker-library/repo-info at 27b27367
/// (`repos/python/remote/3.13.15-alpine3.24.md`, built 2026-09-17: index
/// `sha256:79e7a9b9…`, 16 platforms, Python 3.13.15 on Alpine 3.24.2). The script needs only
/// Python 3's standard library.
// renovate: datasource=docker depName=docker.io/library/python
pub const IMAGE: &str = "docker.io/library/python:3.13.15-alpine3.24@sha256:79e7a9b9ff1cbceff819f856fb374477792a5967759d94df266de7b7b4120e6f";
/// Where the bootstrap finds its token and the API server's CA, as in any pod.
const SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// How long one run of the bootstrap waits for Garage's nodes and the consumers' Secrets.
const DEADLINE_SECONDS: u64 = 600;

/// A component that keeps its data in the object store (`objectStore` in its catalogue file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Consumer {
    /// The buckets (their global aliases in Garage): made by the bootstrap, granted to this
    /// component's key only.
    pub buckets: Vec<String>,
    /// The Secret in the component's namespace that the component reads its credentials from.
    pub secret: String,
    /// The Secret's keys as the component reads them, each a text in which
    /// `${accessKeyId}` and `${secretAccessKey}` stand for the credentials (an AWS
    /// credentials file for Velero, two environment variables for Loki).
    pub keys: BTreeMap<String, String>,
}

impl Consumer {
    /// What is wrong with the declaration, one message each (the catalogue test fails on any).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.buckets.is_empty() {
            out.push("buckets: at least one".to_owned());
        }
        for b in &self.buckets {
            if !is_bucket_name(b) {
                out.push(format!(
                    "bucket `{b}` is not an S3 bucket name (3-63 lowercase letters, digits, '-' and '.')"
                ));
            }
        }
        if !crate::catalogue::is_dns_label(&self.secret) {
            out.push(format!("secret `{}` is not a Secret name", self.secret));
        }
        if self.keys.is_empty() {
            out.push("keys: the Secret needs at least one key".to_owned());
        }
        for (key, text) in &self.keys {
            if key == KEY_ID || key == SECRET_KEY {
                out.push(format!("keys: `{key}` is the bootstrap's own key"));
            }
            if text.contains("{{") {
                out.push(format!(
                    "keys.{key}: `{{{{` would be read as External Secrets' template"
                ));
            }
            if !text.contains(ACCESS_KEY_ID_VAR) && !text.contains(SECRET_ACCESS_KEY_VAR) {
                out.push(format!(
                    "keys.{key}: uses neither {ACCESS_KEY_ID_VAR} nor {SECRET_ACCESS_KEY_VAR}"
                ));
            }
        }
        out
    }
}

/// S3's bucket naming rules as Garage checks them (`is_valid_bucket_name`): 3 to 63
/// characters, lowercase letters, digits, '-' and '.', starting and ending with a letter or
/// digit.
fn is_bucket_name(s: &str) -> bool {
    let ok_end = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && ok_end(s.chars().next())
        && ok_end(s.chars().last())
}

/// A consumer as the render places it: in which namespace its Secret is.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed<'a> {
    pub component: &'a str,
    pub namespace: &'a str,
    /// Borrowed from the catalogue, or made by the render (a database's backups).
    pub consumer: std::borrow::Cow<'a, Consumer>,
}

/// The generator output keys the templates read.
const GEN_KEY_ID: &str = "keyid";
const GEN_SECRET: &str = "secret";

fn generator(name: &str, namespace: &str, length: u32, key: &str) -> Value {
    json!({
        "apiVersion": "generators.external-secrets.io/v1alpha1",
        "kind": "Password",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "length": length,
            "digits": 8,
            "symbols": 0,
            "allowRepeat": true,
            "noUpper": false,
            // Hex: Garage imports only hex key ids and secrets.
            "encoding": "hex",
            "secretKeys": [key],
        },
    })
}

/// The template text of one key: the variables as External Secrets' Go template.
fn template(text: &str) -> String {
    text.replace(ACCESS_KEY_ID_VAR, &format!("GK{{{{ .{GEN_KEY_ID} }}}}"))
        .replace(SECRET_ACCESS_KEY_VAR, &format!("{{{{ .{GEN_SECRET} }}}}"))
}

/// The consumer's side, in its own namespace: the generators and ExternalSecret that make its
/// Secret, and the Role that lets the bootstrap read that one Secret.
pub fn consumer_objects(p: &Placed<'_>, garage_namespace: &str) -> Vec<Value> {
    let c = &*p.consumer;
    let ns = p.namespace;
    let id_gen = format!("{}-key-id", c.secret);
    let secret_gen = format!("{}-secret-key", c.secret);
    let mut data: serde_json::Map<String, Value> = c
        .keys
        .iter()
        .map(|(k, t)| (k.clone(), Value::String(template(t))))
        .collect();
    data.insert(
        KEY_ID.to_owned(),
        Value::String(template(ACCESS_KEY_ID_VAR)),
    );
    data.insert(
        SECRET_KEY.to_owned(),
        Value::String(template(SECRET_ACCESS_KEY_VAR)),
    );
    let gen_ref = |name: &str| {
        json!({"sourceRef": {"generatorRef": {
            "apiVersion": "generators.external-secrets.io/v1alpha1",
            "kind": "Password",
            "name": name,
        }}})
    };
    let reader = format!("{BOOTSTRAP}-read");
    vec![
        generator(&id_gen, ns, 12, GEN_KEY_ID),
        generator(&secret_gen, ns, 32, GEN_SECRET),
        json!({
            "apiVersion": "external-secrets.io/v1",
            "kind": "ExternalSecret",
            "metadata": {"name": c.secret, "namespace": ns},
            "spec": {
                "refreshPolicy": "CreatedOnce",
                "dataFrom": [gen_ref(&id_gen), gen_ref(&secret_gen)],
                "target": {
                    "name": c.secret,
                    "creationPolicy": "Orphan",
                    "deletionPolicy": "Retain",
                    "immutable": true,
                    "template": {
                        "engineVersion": "v2",
                        "metadata": {"annotations": {
                            "haven.commonground.nl/object-store": format!(
                                "the key of bucket(s) {} in the platform's Garage; to rotate: docs/plus.md, Object storage",
                                c.buckets.join(", ")
                            ),
                        }},
                        "data": data,
                    },
                },
            },
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": reader, "namespace": ns},
            "rules": [{
                "apiGroups": [""],
                "resources": ["secrets"],
                "resourceNames": [c.secret],
                "verbs": ["get"],
            }],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": reader, "namespace": ns},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": reader},
            "subjects": [{"kind": "ServiceAccount", "name": BOOTSTRAP, "namespace": garage_namespace}],
        }),
    ]
}

/// Garage's side of the bootstrap.
#[derive(Debug, Clone)]
pub struct Bootstrap<'a> {
    /// Garage's namespace.
    pub namespace: &'a str,
    /// The Helm release (and so the StatefulSet and headless Service) name.
    pub release: &'a str,
    /// Garage's nodes (the StatefulSet's replicas): the bootstrap waits for this many.
    pub nodes: u64,
    /// Each node's capacity in the layout, in bytes (`capabilities.objectStorage.size`).
    pub capacity: u64,
    /// Garage's version (a new one is a new Job).
    pub version: &'a str,
    pub consumers: Vec<Placed<'a>>,
}

impl Bootstrap<'_> {
    /// What a person does instead of the bootstrap, on a platform without External Secrets
    /// (Sealed Secrets: nothing can make the keys in the cluster, so no Job runs): the note
    /// names the layout and each consumer's Secret and buckets; docs/plus.md ("Object storage
    /// with Sealed Secrets") has Garage's commands.
    pub fn manual_steps(&self) -> String {
        let consumers = self
            .consumers
            .iter()
            .map(|p| {
                format!(
                    "{}/{} → {}",
                    p.namespace,
                    p.consumer.secret,
                    p.consumer.buckets.join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        format!(
            "Garage with Sealed Secrets: no Job lays it out or makes its keys and buckets, and it stores nothing until a person does, once its pods run (`kubectl -n {ns} exec {release}-0 -- /garage …`, docs/plus.md, \"Object storage with Sealed Secrets\"): assign each of its {nodes} node(s) to zone `{ZONE}` with capacity {capacity} and apply the layout; then for each consumer import the key sealed into its Secret and create and allow its buckets: {consumers}",
            ns = self.namespace,
            release = self.release,
            nodes = self.nodes,
            capacity = if self.capacity > 0 {
                format!("{} bytes", self.capacity)
            } else {
                "<bytes>".to_owned()
            },
        )
    }
}

/// What the bootstrap reads of each consumer (the ConfigMap's `consumers.json`).
fn consumers_json(consumers: &[Placed<'_>]) -> Value {
    Value::Array(
        consumers
            .iter()
            .map(|p| {
                json!({
                    "component": p.component,
                    "namespace": p.namespace,
                    "secret": p.consumer.secret,
                    "buckets": p.consumer.buckets,
                })
            })
            .collect(),
    )
}

impl Bootstrap<'_> {
    /// The admin API of node `-0`, through the headless Service's per-pod name (the chart
    /// exposes the admin port on no Service; every node answers for the whole cluster).
    pub fn admin_url(&self) -> String {
        format!(
            "http://{r}-0.{r}-headless.{ns}.svc:{ADMIN_PORT}",
            r = self.release,
            ns = self.namespace
        )
    }

    /// The Job's name: [`BOOTSTRAP`] and a hash of everything the run acts on, so that a
    /// changed input is a new Job (a Job's template cannot be changed in place).
    pub fn job_name(&self) -> String {
        let mut h = Sha256::new();
        h.update(SCRIPT.as_bytes());
        h.update(IMAGE.as_bytes());
        h.update(consumers_json(&self.consumers).to_string().as_bytes());
        h.update(
            format!(
                "{}/{}/{}/{}",
                self.nodes,
                self.capacity,
                self.version,
                self.admin_url()
            )
            .as_bytes(),
        );
        let digest = h.finalize();
        let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
        format!("{BOOTSTRAP}-{hex}")
    }

    /// Helm values merged over the catalogue's: the admin token from its generated Secret.
    pub fn values(&self) -> Value {
        json!({
            "environment": [{
                "name": "GARAGE_ADMIN_TOKEN",
                "valueFrom": {"secretKeyRef": {"name": ADMIN_TOKEN_SECRET, "key": ADMIN_TOKEN_FIELD}},
            }],
        })
    }

    /// Garage's admin token, made in the cluster (in Garage's own unit: its pods read it).
    pub fn admin_token(&self) -> Vec<Value> {
        let ns = self.namespace;
        vec![
            json!({
                "apiVersion": "generators.external-secrets.io/v1alpha1",
                "kind": "Password",
                "metadata": {"name": ADMIN_TOKEN_SECRET, "namespace": ns},
                "spec": {
                    "length": 32,
                    "digits": 8,
                    "symbols": 0,
                    "allowRepeat": true,
                    "noUpper": false,
                    "encoding": "hex",
                    "secretKeys": [ADMIN_TOKEN_FIELD],
                },
            }),
            json!({
                "apiVersion": "external-secrets.io/v1",
                "kind": "ExternalSecret",
                "metadata": {"name": ADMIN_TOKEN_SECRET, "namespace": ns},
                "spec": {
                    "refreshPolicy": "CreatedOnce",
                    "dataFrom": [{"sourceRef": {"generatorRef": {
                        "apiVersion": "generators.external-secrets.io/v1alpha1",
                        "kind": "Password",
                        "name": ADMIN_TOKEN_SECRET,
                    }}}],
                    "target": {
                        "name": ADMIN_TOKEN_SECRET,
                        "creationPolicy": "Orphan",
                        "deletionPolicy": "Retain",
                        "immutable": true,
                    },
                },
            }),
        ]
    }

    /// The bootstrap (unit `garage-config`, after Garage's): its ServiceAccount, ConfigMap and
    /// Job.
    pub fn objects(&self) -> Vec<Value> {
        let ns = self.namespace;
        let consumers =
            serde_json::to_string_pretty(&consumers_json(&self.consumers)).unwrap_or_default();
        let restricted = json!({
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "runAsNonRoot": true,
            "runAsUser": 65534,
            "runAsGroup": 65534,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        });
        let env = |name: &str, value: String| json!({"name": name, "value": value});
        vec![
            json!({
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": BOOTSTRAP, "namespace": ns},
                "automountServiceAccountToken": false,
            }),
            json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": BOOTSTRAP, "namespace": ns},
                "data": {
                    "bootstrap.py": SCRIPT,
                    "consumers.json": format!("{consumers}\n"),
                },
            }),
            json!({
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {
                    "name": self.job_name(),
                    "namespace": ns,
                    // Garage's: its NetworkPolicies and declared flows are the Job's
                    // (`proofs::COMPONENT_LABEL`).
                    "labels": {"app.kubernetes.io/name": BOOTSTRAP, crate::proofs::COMPONENT_LABEL: "garage"},
                    // A Job's pod template is immutable: should Flux ever need to change this
                    // one in place, it replaces it (a changed input is a new name anyway).
                    "annotations": {"kustomize.toolkit.fluxcd.io/force": "enabled"},
                },
                "spec": {
                    "backoffLimit": 6,
                    "activeDeadlineSeconds": 3600,
                    "template": {
                        "metadata": {"labels": {"app.kubernetes.io/name": BOOTSTRAP}},
                        "spec": {
                            "serviceAccountName": BOOTSTRAP,
                            // No automatic token: the one token this pod needs (for the Roles
                            // that let it read the consumers' Secrets) is projected below,
                            // short-lived and for the API server only.
                            "automountServiceAccountToken": false,
                            "restartPolicy": "Never",
                            "securityContext": {
                                "runAsNonRoot": true,
                                // The admin token's file is 0440, readable through the group.
                                "fsGroup": 65534,
                                "seccompProfile": {"type": "RuntimeDefault"},
                            },
                            "containers": [{
                                "name": "bootstrap",
                                "image": IMAGE,
                                "command": ["python3", "-B", "/bootstrap/bootstrap.py"],
                                "env": [
                                    env("GARAGE_ADMIN", self.admin_url()),
                                    env("GARAGE_ADMIN_TOKEN_FILE", format!("/admin/{ADMIN_TOKEN_FIELD}")),
                                    env("GARAGE_NODES", self.nodes.to_string()),
                                    env("GARAGE_CAPACITY", self.capacity.to_string()),
                                    env("GARAGE_ZONE", ZONE.to_owned()),
                                    env("CONSUMERS_FILE", "/bootstrap/consumers.json".to_owned()),
                                    env("DEADLINE_SECONDS", DEADLINE_SECONDS.to_string()),
                                    env("PYTHONDONTWRITEBYTECODE", "1".to_owned()),
                                ],
                                "volumeMounts": [
                                    {"name": "bootstrap", "mountPath": "/bootstrap", "readOnly": true},
                                    {"name": "admin", "mountPath": "/admin", "readOnly": true},
                                    {"name": "kube-api", "mountPath": SA_DIR, "readOnly": true},
                                ],
                                "securityContext": restricted,
                                "resources": {
                                    "requests": {"cpu": "10m", "memory": "32Mi"},
                                    "limits": {"memory": "64Mi"},
                                },
                            }],
                            "volumes": [
                                {"name": "bootstrap", "configMap": {"name": BOOTSTRAP}},
                                // 0440: the pod's group reads it, nobody else.
                                {"name": "admin", "secret": {"secretName": ADMIN_TOKEN_SECRET, "defaultMode": 288}},
                                {"name": "kube-api", "projected": {"defaultMode": 292, "sources": [
                                    {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}},
                                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                                ]}},
                            ],
                        },
                    },
                },
            }),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loki() -> Consumer {
        Consumer {
            buckets: vec!["loki-chunks".into(), "loki-ruler".into()],
            secret: "loki-s3".into(),
            keys: BTreeMap::from([
                ("AWS_ACCESS_KEY_ID".into(), ACCESS_KEY_ID_VAR.into()),
                ("AWS_SECRET_ACCESS_KEY".into(), SECRET_ACCESS_KEY_VAR.into()),
            ]),
        }
    }

    fn boot<'a>(c: &'a Consumer, nodes: u64) -> Bootstrap<'a> {
        Bootstrap {
            namespace: "garage",
            release: "garage",
            nodes,
            capacity: 10 << 30,
            version: "v2.1.0",
            consumers: vec![Placed {
                component: "loki",
                namespace: "loki",
                consumer: std::borrow::Cow::Borrowed(c),
            }],
        }
    }

    #[test]
    fn credentials_have_the_form_garage_imports() {
        let c = loki();
        let p = Placed {
            component: "loki",
            namespace: "loki",
            consumer: std::borrow::Cow::Borrowed(&c),
        };
        let objs = consumer_objects(&p, "garage");
        let gens: Vec<&Value> = objs.iter().filter(|o| o["kind"] == "Password").collect();
        // 12 and 32 characters, hex: 24 and 64 hex digits (`Key::import`: `GK` + 12 bytes, a
        // 32-byte secret).
        assert_eq!(gens[0]["spec"]["length"], 12);
        assert_eq!(gens[1]["spec"]["length"], 32);
        assert!(gens.iter().all(|g| g["spec"]["encoding"] == "hex"));
        let es = objs.iter().find(|o| o["kind"] == "ExternalSecret").unwrap();
        let data = &es["spec"]["target"]["template"]["data"];
        assert_eq!(data["AWS_ACCESS_KEY_ID"], "GK{{ .keyid }}");
        assert_eq!(data[KEY_ID], "GK{{ .keyid }}");
        assert_eq!(data[SECRET_KEY], "{{ .secret }}");
        assert_eq!(es["spec"]["refreshPolicy"], "CreatedOnce");
        assert_eq!(es["spec"]["target"]["immutable"], true);
        let role = objs.iter().find(|o| o["kind"] == "Role").unwrap();
        assert_eq!(role["rules"][0]["resourceNames"], json!(["loki-s3"]));
        assert_eq!(role["rules"][0]["verbs"], json!(["get"]));
        let binding = objs.iter().find(|o| o["kind"] == "RoleBinding").unwrap();
        assert_eq!(binding["subjects"][0]["namespace"], "garage");
        assert_eq!(binding["subjects"][0]["name"], BOOTSTRAP);
    }

    #[test]
    fn a_changed_input_is_a_new_job() {
        let c = loki();
        let a = boot(&c, 3).job_name();
        assert_eq!(a, boot(&c, 3).job_name());
        assert_ne!(a, boot(&c, 4).job_name());
        let mut other = loki();
        other.buckets.push("logs".into());
        assert_ne!(a, boot(&other, 3).job_name());
        assert!(a.len() <= 63, "{a}");
    }

    #[test]
    fn the_job_runs_restricted_with_a_deadline() {
        let c = loki();
        let objs = boot(&c, 3).objects();
        assert_eq!(boot(&c, 3).admin_token().len(), 2);
        let job = objs.iter().find(|o| o["kind"] == "Job").unwrap();
        assert!(job["spec"]["activeDeadlineSeconds"].as_u64().is_some());
        assert!(job["spec"]["backoffLimit"].as_u64().is_some());
        let pod = &job["spec"]["template"]["spec"];
        let sc = &pod["containers"][0]["securityContext"];
        assert_eq!(sc["allowPrivilegeEscalation"], false);
        assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
        assert!(
            !pod["containers"][0]["image"]
                .as_str()
                .unwrap()
                .contains("latest")
        );
        let cm = objs.iter().find(|o| o["kind"] == "ConfigMap").unwrap();
        let consumers: Value =
            serde_json::from_str(cm["data"]["consumers.json"].as_str().unwrap()).unwrap();
        assert_eq!(
            consumers[0]["buckets"],
            json!(["loki-chunks", "loki-ruler"])
        );
        assert_eq!(consumers[0]["namespace"], "loki");
    }

    #[test]
    fn bad_declarations_are_named() {
        let mut c = loki();
        assert!(c.problems().is_empty(), "{:?}", c.problems());
        c.buckets.push("Loki_Logs".into());
        c.keys.insert("x".into(), "{{ .secret }}".into());
        let p = c.problems();
        assert_eq!(p.len(), 3, "{p:?}");
    }
}
