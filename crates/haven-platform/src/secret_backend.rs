//! The default secret backend, OpenBao behind External Secrets, brought up with no human step.
//!
//! A fresh OpenBao waits for `bao operator init` and for its unseal keys, and every
//! ExternalSecret of the platform waits behind it (Grafana's admin, the S3 and DNS credentials).
//! This module writes the wiring that removes those steps (docs/plus.md, "Unattended
//! bootstrap"):
//!
//! - **The seal key.** OpenBao's `static` seal (built in since v2.2; AES-256-GCM with a 32-byte
//!   key) unseals every pod by itself. The key is made in the cluster, never in Git: an
//!   External Secrets `Password` generator (32 random characters, hex-encoded: the 64-character
//!   form OpenBao reads as hex) behind an ExternalSecret that creates the Secret
//!   `openbao-seal-key` once (`refreshPolicy: CreatedOnce`), leaves it alone when the
//!   ExternalSecret goes (`creationPolicy: Orphan`, `deletionPolicy: Retain`), makes it
//!   immutable (nothing, ESO included, can overwrite it with a new key: only a deletion can
//!   lose it; ESO 2.9 never applies its template to an existing Secret of an immutable target,
//!   so a key restored before Flux applies the unit is kept) and keeps it out of Velero's backups (`velero.io/exclude-from-backup`), so a
//!   backup of OpenBao's volumes is not also the key that opens them. Flux never prunes it
//!   (`kustomize.toolkit.fluxcd.io/prune: disabled`). The operator copies it out once
//!   (docs/plus.md says how): it is the key to every secret of the platform.
//! - **Initialisation.** OpenBao's declarative self-initialisation (`initialize` stanzas,
//!   v2.4+, only with an auto-unseal) runs once on empty storage, as root, then revokes the
//!   root token: it mounts `secret/` (KV v2), enables Kubernetes auth, and writes two policies
//!   and roles — `external-secrets` (read `secret/platform/*`, for the ClusterSecretStore) and
//!   `platform-admin` (for people, through a token of the ServiceAccount `openbao-admin`).
//!   No root token or recovery key ever exists outside the process.
//! - **One initialiser.** At the pinned v2.6.2 a node with both `initialize` and `retry_join`
//!   may initialise a cluster of its own instead of joining (openbao/openbao#2274, #3652; the
//!   fix, openbao/openbao#3987, is unreleased). So the stanza is not in the shared config: an
//!   init container gives it to pod `-0` alone, and only when no peer already answers as
//!   initialised (a pod `-0` that lost its volume joins the others instead of starting a second
//!   cluster). The chart starts pods one by one (`podManagementPolicy: OrderedReady`), so pod
//!   `-0` is alone when it initialises, and the others join it through `retry_join`.
//! - **Secrets nobody has to type.** A catalogue secret marked `generate` (Grafana's admin,
//!   Zitadel's masterkey) is made in the cluster by a `Password` generator, once, immutable,
//!   instead of being read from OpenBao: nothing waits for a person to write it.
//!
//! Pure: values and objects as JSON, placed into the tree by [`crate::render`].

use serde_json::{Value, json};

use crate::catalogue::SecretRef;

/// The Secret that holds OpenBao's static seal key.
pub const SEAL_KEY_SECRET: &str = "openbao-seal-key";
/// The key of [`SEAL_KEY_SECRET`] that holds the key.
pub const SEAL_KEY_FIELD: &str = "key";
/// The identifier OpenBao stores beside everything the key encrypts; a rotated key gets a new
/// one (`previous_key`/`previous_key_id`, docs/plus.md).
pub const SEAL_KEY_ID: &str = "haven-1";
/// The ConfigMap that holds the self-initialisation stanza.
pub const SELF_INIT_CONFIGMAP: &str = "openbao-self-init";
/// The Kubernetes-auth role and policy External Secrets logs in with.
pub const ESO_ROLE: &str = "external-secrets";
/// The Kubernetes-auth role, policy and ServiceAccount of the platform's administrators.
pub const ADMIN_ROLE: &str = "platform-admin";
pub const ADMIN_SERVICE_ACCOUNT: &str = "openbao-admin";
/// The KV v2 mount, and the prefix the platform's ExternalSecrets read under it.
pub const KV_MOUNT: &str = "secret";
pub const PLATFORM_PREFIX: &str = "platform";

/// Annotation that keeps Flux from ever deleting an object (its `prune: true` included).
const FLUX_PRUNE: &str = "kustomize.toolkit.fluxcd.io/prune";
const VELERO_EXCLUDE: &str = "velero.io/exclude-from-backup";

const CONFIG_DIR: &str = "/openbao/self-init";
const CONFIG_SOURCE_DIR: &str = "/openbao/self-init-source";
const SELF_INIT_FILE: &str = "self-init.json";
const SEAL_DIR: &str = "/openbao/seal";

/// Where OpenBao runs and who reads from it.
#[derive(Debug, Clone)]
pub struct OpenBao<'a> {
    /// OpenBao's namespace.
    pub namespace: &'a str,
    /// The Helm release (and so the StatefulSet and its `-internal` Service) name.
    pub release: &'a str,
    /// Raft voters: one `retry_join` per pod, and the peers the init container asks.
    pub replicas: u64,
    /// External Secrets' namespace and ServiceAccount, bound to [`ESO_ROLE`].
    pub eso_namespace: &'a str,
    pub eso_service_account: &'a str,
}

impl OpenBao<'_> {
    /// The server configuration (JSON, which OpenBao reads as it reads HCL; the chart writes a
    /// map as JSON into its ConfigMap). The chart's own default plus the static seal, one
    /// `retry_join` per pod and an audit device on standard output.
    pub fn server_config(&self) -> Value {
        let joins: Vec<Value> = (0..self.replicas)
            .map(|i| {
                json!({"leader_api_addr": format!(
                    "http://{r}-{i}.{r}-internal:8200", r = self.release
                )})
            })
            .collect();
        json!({
            "ui": true,
            "listener": [{"tcp": {
                "tls_disable": 1,
                "address": "[::]:8200",
                "cluster_address": "[::]:8201",
            }}],
            "storage": {"raft": {"path": "/openbao/data", "retry_join": joins}},
            "seal": {"static": {
                "current_key_id": SEAL_KEY_ID,
                "current_key": format!("file://{SEAL_DIR}/{SEAL_KEY_FIELD}"),
            }},
            "service_registration": {"kubernetes": {}},
            "audit": [{"file": {"stdout": {
                "description": "Every request, with its secrets HMAC'd, on the pod's log.",
                "options": {"file_path": "stdout"},
            }}}],
        })
    }

    /// The `initialize` stanza: run once, as root, on empty storage, by pod `-0`.
    pub fn self_init(&self) -> Value {
        let request = |name: &str, path: String, data: Value| json!({name: {"operation": "update", "path": path, "data": data}});
        let eso_policy = format!(
            "path \"{KV_MOUNT}/data/{PLATFORM_PREFIX}/*\" {{\n  capabilities = [\"read\"]\n}}\n\
             path \"{KV_MOUNT}/metadata/{PLATFORM_PREFIX}/*\" {{\n  capabilities = [\"read\", \"list\"]\n}}\n"
        );
        // Root's replacement, for people: whoever may create a token for the ServiceAccount
        // (cluster administrators) administers OpenBao; tenants cannot.
        let admin_policy = "path \"*\" {\n  capabilities = [\"create\", \"read\", \"update\", \"patch\", \"delete\", \"list\", \"sudo\"]\n}\n";
        json!({"initialize": [
            {"secrets-engine": {"request": [request(
                "kv",
                format!("sys/mounts/{KV_MOUNT}"),
                json!({"type": "kv", "options": {"version": "2"}}),
            )]}},
            {"kubernetes-auth": {"request": [
                request("enable", "sys/auth/kubernetes".into(), json!({"type": "kubernetes"})),
                // In a pod, OpenBao reviews tokens with its own ServiceAccount and CA (the
                // chart's auth-delegator binding lets it).
                request(
                    "config",
                    "auth/kubernetes/config".into(),
                    json!({"kubernetes_host": "https://kubernetes.default.svc"}),
                ),
            ]}},
            {"policies": {"request": [
                request(ESO_ROLE, format!("sys/policies/acl/{ESO_ROLE}"), json!({"policy": eso_policy})),
                request(ADMIN_ROLE, format!("sys/policies/acl/{ADMIN_ROLE}"), json!({"policy": admin_policy})),
            ]}},
            {"roles": {"request": [
                request(ESO_ROLE, format!("auth/kubernetes/role/{ESO_ROLE}"), json!({
                    "bound_service_account_names": [self.eso_service_account],
                    "bound_service_account_namespaces": [self.eso_namespace],
                    "token_policies": [ESO_ROLE],
                    "token_ttl": "1h",
                })),
                request(ADMIN_ROLE, format!("auth/kubernetes/role/{ADMIN_ROLE}"), json!({
                    "bound_service_account_names": [ADMIN_SERVICE_ACCOUNT],
                    "bound_service_account_namespaces": [self.namespace],
                    "token_policies": [ADMIN_ROLE],
                    "token_ttl": "15m",
                    "token_max_ttl": "1h",
                })),
            ]}},
        ]})
    }

    /// The init container's script: the stanza for pod `-0` of a cluster no peer has
    /// initialised, an empty configuration (`{}`) for everyone else.
    fn init_script(&self) -> String {
        let peers: Vec<String> = (1..self.replicas).map(|i| i.to_string()).collect();
        format!(
            "set -u\n\
             echo '{{}}' > {CONFIG_DIR}/{SELF_INIT_FILE}\n\
             case \"$POD_NAME\" in *-0) ;; *) echo 'not pod -0: joining through retry_join'; exit 0 ;; esac\n\
             base=\"${{POD_NAME%-0}}\"\n\
             for i in {peers}; do\n  \
               if bao status -address=\"http://$base-$i.$base-internal:8200\" -format=json 2>/dev/null | grep -q '\"initialized\": *true'; then\n    \
                 echo \"$base-$i is initialised: joining it instead of initialising\"; exit 0\n  \
               fi\n\
             done\n\
             cp {CONFIG_SOURCE_DIR}/{SELF_INIT_FILE} {CONFIG_DIR}/{SELF_INIT_FILE}\n\
             echo 'no initialised peer: self-initialising if the storage is empty'\n",
            peers = if peers.is_empty() {
                "none".to_owned()
            } else {
                peers.join(" ")
            },
        )
    }

    /// Helm values merged over the catalogue's: the configuration above, the seal key mounted
    /// read-only, and the init container that hands out the stanza.
    pub fn values(&self) -> Value {
        // The server's own image, through the chart's template (so `render --mirror` and
        // `vendor` see one image, and no second pin can drift).
        let image = "{{ .Values.server.image.registry | default \"docker.io\" }}/{{ .Values.server.image.repository }}:{{ .Values.server.image.tag | default (trimPrefix \"v\" .Chart.AppVersion) }}";
        // As text: the chart (0.29.2) decides between text and a map by the type of
        // `server.ha.config`, not of `server.ha.raft.config`, so a map fails to render. JSON
        // text passes its `tpl` unchanged (no `{{`) and OpenBao reads a file starting with `{`
        // as JSON.
        let config = serde_json::to_string_pretty(&self.server_config()).unwrap_or_default();
        json!({"server": {
            "ha": {"raft": {"config": config}},
            "extraArgs": format!("-config={CONFIG_DIR}/{SELF_INIT_FILE}"),
            "volumes": [
                // 0440: the pod's fsGroup reads it, nobody else.
                {"name": "seal-key", "secret": {"secretName": SEAL_KEY_SECRET, "defaultMode": 288}},
                {"name": "self-init-source", "configMap": {"name": SELF_INIT_CONFIGMAP}},
                {"name": "self-init", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
            ],
            "volumeMounts": [
                {"name": "seal-key", "mountPath": SEAL_DIR, "readOnly": true},
                {"name": "self-init", "mountPath": CONFIG_DIR, "readOnly": true},
            ],
            "extraInitContainers": [{
                "name": "self-init",
                "image": image,
                "command": ["/bin/sh", "-c", self.init_script()],
                "env": [
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "BAO_CLIENT_TIMEOUT", "value": "5s"},
                ],
                "volumeMounts": [
                    {"name": "self-init-source", "mountPath": CONFIG_SOURCE_DIR, "readOnly": true},
                    {"name": "self-init", "mountPath": CONFIG_DIR},
                ],
                "securityContext": {
                    "allowPrivilegeEscalation": false,
                    "readOnlyRootFilesystem": true,
                    "runAsNonRoot": true,
                    "capabilities": {"drop": ["ALL"]},
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "resources": {
                    "requests": {"cpu": "10m", "memory": "32Mi"},
                    "limits": {"memory": "64Mi"},
                },
            }],
        }})
    }

    /// The objects beside the release: the seal key's generator and ExternalSecret, the
    /// self-initialisation ConfigMap, the administrators' ServiceAccount.
    pub fn objects(&self) -> Vec<Value> {
        let ns = self.namespace;
        let keep = json!({FLUX_PRUNE: "disabled"});
        // `{}` would be an object of its own: the stanza is the file's whole text.
        let stanza = serde_json::to_string_pretty(&self.self_init()).unwrap_or_default();
        vec![
            json!({
                "apiVersion": "generators.external-secrets.io/v1alpha1",
                "kind": "Password",
                "metadata": {"name": SEAL_KEY_SECRET, "namespace": ns, "annotations": keep},
                "spec": {
                    "length": 32,
                    "digits": 8,
                    "symbols": 8,
                    "allowRepeat": true,
                    "noUpper": false,
                    "encoding": "hex",
                    "secretKeys": [SEAL_KEY_FIELD],
                },
            }),
            json!({
                "apiVersion": "external-secrets.io/v1",
                "kind": "ExternalSecret",
                "metadata": {"name": SEAL_KEY_SECRET, "namespace": ns, "annotations": keep},
                "spec": {
                    "refreshPolicy": "CreatedOnce",
                    "dataFrom": [{"sourceRef": {"generatorRef": {
                        "apiVersion": "generators.external-secrets.io/v1alpha1",
                        "kind": "Password",
                        "name": SEAL_KEY_SECRET,
                    }}}],
                    "target": {
                        "name": SEAL_KEY_SECRET,
                        "creationPolicy": "Orphan",
                        "deletionPolicy": "Retain",
                        "immutable": true,
                        "template": {"metadata": {
                            "labels": {VELERO_EXCLUDE: "true"},
                            "annotations": {
                                FLUX_PRUNE: "disabled",
                                "haven.commonground.nl/backup": "copy this Secret out of the cluster once (docs/plus.md, Unattended bootstrap): it opens every secret of the platform",
                            },
                        }},
                    },
                },
            }),
            json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": SELF_INIT_CONFIGMAP, "namespace": ns},
                "data": {SELF_INIT_FILE: format!("{stanza}\n")},
            }),
            json!({
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": ADMIN_SERVICE_ACCOUNT, "namespace": ns},
                // Only for `kubectl create token`: no pod runs as it.
                "automountServiceAccountToken": false,
            }),
        ]
    }
}

/// A catalogue secret made in the cluster (`generate: true`): a `Password` generator with one
/// 32-character password per key, and an ExternalSecret that writes them once, immutable, and
/// leaves them in place if it is ever deleted.
pub fn generated(namespace: &str, secret: &SecretRef) -> Vec<Value> {
    vec![
        json!({
            "apiVersion": "generators.external-secrets.io/v1alpha1",
            "kind": "Password",
            "metadata": {"name": secret.name, "namespace": namespace},
            "spec": {
                "length": 32,
                "digits": 8,
                "symbols": 0,
                "allowRepeat": true,
                "noUpper": false,
                "secretKeys": secret.keys,
            },
        }),
        json!({
            "apiVersion": "external-secrets.io/v1",
            "kind": "ExternalSecret",
            "metadata": {"name": secret.name, "namespace": namespace},
            "spec": {
                "refreshPolicy": "CreatedOnce",
                "dataFrom": [{"sourceRef": {"generatorRef": {
                    "apiVersion": "generators.external-secrets.io/v1alpha1",
                    "kind": "Password",
                    "name": secret.name,
                }}}],
                "target": {
                    "name": secret.name,
                    "creationPolicy": "Orphan",
                    "deletionPolicy": "Retain",
                    "immutable": true,
                },
            },
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bao() -> OpenBao<'static> {
        OpenBao {
            namespace: "openbao",
            release: "openbao",
            replicas: 3,
            eso_namespace: "external-secrets",
            eso_service_account: "external-secrets",
        }
    }

    /// The requests of the stanza by `(block, request)`, in execution order.
    fn requests(init: &Value) -> Vec<(String, String, String, Value)> {
        let mut out = Vec::new();
        for block in init["initialize"].as_array().unwrap() {
            for (bname, b) in block.as_object().unwrap() {
                for req in b["request"].as_array().unwrap() {
                    for (rname, r) in req.as_object().unwrap() {
                        out.push((
                            bname.clone(),
                            rname.clone(),
                            r["path"].as_str().unwrap().to_owned(),
                            r["data"].clone(),
                        ));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn self_init_mounts_kv_enables_kubernetes_auth_and_binds_external_secrets() {
        let init = bao().self_init();
        let reqs = requests(&init);
        // OpenBao refuses other names for blocks and requests.
        for (b, r, _, _) in &reqs {
            assert!(block_name(b) && block_name(r), "{b}/{r}");
        }
        let path_of = |p: &str| reqs.iter().position(|(_, _, path, _)| path == p);
        let kv = path_of("sys/mounts/secret").unwrap();
        let auth = path_of("sys/auth/kubernetes").unwrap();
        let config = path_of("auth/kubernetes/config").unwrap();
        let role = path_of("auth/kubernetes/role/external-secrets").unwrap();
        let policy = path_of("sys/policies/acl/external-secrets").unwrap();
        assert!(auth < config && config < role && policy < role && kv < role);
        let role = &reqs[role].3;
        assert_eq!(
            role["bound_service_account_names"],
            json!(["external-secrets"])
        );
        assert_eq!(
            role["bound_service_account_namespaces"],
            json!(["external-secrets"])
        );
        assert_eq!(role["token_policies"], json!(["external-secrets"]));
        let policy = reqs[policy].3["policy"].as_str().unwrap();
        assert!(
            policy.contains("path \"secret/data/platform/*\""),
            "{policy}"
        );
        assert!(
            !policy.contains("update") && !policy.contains("sudo"),
            "{policy}"
        );
        assert_eq!(reqs[kv].3["options"]["version"], "2");
        let admin = path_of("auth/kubernetes/role/platform-admin").unwrap();
        assert_eq!(
            reqs[admin].3["bound_service_account_namespaces"],
            json!(["openbao"])
        );
    }

    /// `^[A-Za-z_][A-Za-z0-9_-]*$`, OpenBao's rule for the names of blocks and requests.
    fn block_name(s: &str) -> bool {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    }

    #[test]
    fn server_config_auto_unseals_from_the_mounted_key_and_joins_every_pod() {
        let v = bao().values();
        let text = v["server"]["ha"]["raft"]["config"].as_str().unwrap();
        assert!(!text.contains("{{"), "the chart runs it through tpl");
        let config: &Value = &serde_json::from_str(text).unwrap();
        assert_eq!(
            config["seal"]["static"]["current_key"],
            "file:///openbao/seal/key"
        );
        assert_eq!(config["seal"]["static"]["current_key_id"], SEAL_KEY_ID);
        let joins = config["storage"]["raft"]["retry_join"].as_array().unwrap();
        assert_eq!(joins.len(), 3);
        assert_eq!(
            joins[2]["leader_api_addr"],
            "http://openbao-2.openbao-internal:8200"
        );
        // The stanza is never in the shared config: every pod would initialise a cluster.
        assert!(config.get("initialize").is_none());
        // The chart substitutes these words anywhere in the config text (its start script).
        let text = config.to_string();
        for word in [
            "HOST_IP",
            "POD_IP",
            "HOSTNAME",
            "API_ADDR",
            "TRANSIT_ADDR",
            "RAFT_ADDR",
        ] {
            assert!(!text.contains(word), "{word} in {text}");
        }
        let mounts = v["server"]["volumeMounts"].as_array().unwrap();
        assert!(
            mounts
                .iter()
                .any(|m| m["mountPath"] == "/openbao/seal" && m["readOnly"] == true)
        );
        assert_eq!(
            v["server"]["extraArgs"],
            "-config=/openbao/self-init/self-init.json"
        );
    }

    #[test]
    fn only_pod_zero_of_a_new_cluster_gets_the_stanza() {
        let script = bao().init_script();
        assert!(script.contains("*-0) ;;"), "{script}");
        assert!(script.contains("for i in 1 2; do"), "{script}");
        // Everyone starts from an empty configuration, so a failed check never leaves the
        // stanza behind from an earlier start (the directory is a fresh emptyDir anyway).
        let empty = script.find("echo '{}'").unwrap();
        let copy = script.find("cp /openbao/self-init-source").unwrap();
        assert!(empty < copy);
        let one = OpenBao {
            replicas: 1,
            ..bao()
        };
        assert!(one.init_script().contains("for i in none; do"));
    }

    #[test]
    fn the_seal_key_is_made_once_immutable_kept_and_not_backed_up_with_the_data() {
        let objs = bao().objects();
        let generator = objs.iter().find(|o| o["kind"] == "Password").unwrap();
        // 32 characters, hex-encoded: 64 hex digits, the form OpenBao decodes to 32 bytes.
        assert_eq!(generator["spec"]["length"], 32);
        assert_eq!(generator["spec"]["encoding"], "hex");
        let es = objs.iter().find(|o| o["kind"] == "ExternalSecret").unwrap();
        let spec = &es["spec"];
        assert_eq!(spec["refreshPolicy"], "CreatedOnce");
        assert_eq!(spec["target"]["immutable"], true);
        assert_eq!(spec["target"]["creationPolicy"], "Orphan");
        assert_eq!(
            spec["target"]["template"]["metadata"]["labels"][VELERO_EXCLUDE],
            "true"
        );
        assert_eq!(es["metadata"]["annotations"][FLUX_PRUNE], "disabled");
        let cm = objs.iter().find(|o| o["kind"] == "ConfigMap").unwrap();
        let text = cm["data"][SELF_INIT_FILE].as_str().unwrap();
        let parsed: Value = serde_json::from_str(text).unwrap();
        assert_eq!(parsed, bao().self_init());
    }

    #[test]
    fn generated_secrets_have_one_password_per_key() {
        let s = SecretRef {
            name: "grafana-admin".into(),
            keys: vec!["admin-user".into(), "admin-password".into()],
            generate: true,
        };
        let docs = generated("grafana", &s);
        assert_eq!(
            docs[0]["spec"]["secretKeys"],
            json!(["admin-user", "admin-password"])
        );
        assert_eq!(docs[1]["spec"]["target"]["name"], "grafana-admin");
        assert!(docs[1]["spec"].get("secretStoreRef").is_none());
    }

    fn rendered(config: &crate::PlatformConfig) -> crate::render::Tree {
        crate::render::render(config, &crate::Catalogue::builtin().unwrap()).files
    }

    fn docs(files: &crate::render::Tree, path: &str) -> Vec<Value> {
        haven_model::parse_stream(path, &files[std::path::Path::new(path)])
            .into_iter()
            .map(|d| d.unwrap().value)
            .collect()
    }

    fn unit_deps(files: &crate::render::Tree, unit: &str) -> Vec<String> {
        let (path, _) = files
            .iter()
            .find(|(p, _)| p.to_string_lossy().ends_with("/infrastructure.yaml"))
            .unwrap();
        docs(files, &path.to_string_lossy())
            .into_iter()
            .find(|d| d["metadata"]["name"] == unit)
            .unwrap()["spec"]["dependsOn"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn the_render_wires_the_bootstrap_and_orders_it() {
        let config = crate::PlatformConfig::new("c", "example.nl", crate::Provider::Azure);
        let files = rendered(&config);
        let boot = docs(&files, "infrastructure/openbao/bootstrap.yaml");
        assert_eq!(boot, bao().objects());
        let release = &docs(&files, "infrastructure/openbao/release.yaml")[0];
        let text = release["spec"]["values"]["server"]["ha"]["raft"]["config"]
            .as_str()
            .unwrap();
        let config_json: Value = serde_json::from_str(text).unwrap();
        assert_eq!(config_json, bao().server_config());
        // External Secrets makes the seal key, so OpenBao waits for it. Grafana's secrets are
        // made in the cluster (its admin user; with the identity provider on, its single
        // sign-on's client secret, `crate::oidc_clients`), so it waits for External Secrets and
        // for Keycloak's unit (where its client's Secret is), not for OpenBao's store. With
        // Zitadel and `dashboards.sso: true` the client's secret is a person's, from the store.
        assert!(unit_deps(&files, "openbao").contains(&"external-secrets".to_owned()));
        let grafana = unit_deps(&files, "grafana");
        assert!(
            grafana.contains(&"external-secrets".to_owned())
                && grafana.contains(&"keycloak".to_owned()),
            "{grafana:?}"
        );
        assert!(
            !grafana.contains(&"external-secrets-config".to_owned()),
            "{grafana:?}"
        );
        let mut with_sso = config.clone();
        with_sso.capabilities.identity.provider = crate::config::IdentityProvider::Zitadel;
        with_sso.capabilities.dashboards.sso = Some(true);
        let sso_files = rendered(&with_sso);
        let grafana = unit_deps(&sso_files, "grafana");
        assert!(
            grafana.contains(&"external-secrets-config".to_owned()),
            "{grafana:?}"
        );
        // Loki's S3 key is made in the cluster too (`crate::object_store`): it waits for
        // External Secrets' generators, not for OpenBao's store, and nobody writes it.
        let loki = unit_deps(&files, "loki");
        assert!(loki.contains(&"external-secrets".to_owned()), "{loki:?}");
        assert!(
            !loki.contains(&"external-secrets-config".to_owned()),
            "{loki:?}"
        );
        let notes = crate::render::render(&config, &crate::Catalogue::builtin().unwrap()).notes;
        for s3 in ["loki-s3", "mimir-s3", "velero-s3"] {
            assert!(!notes.iter().any(|n| n.contains(s3)), "{s3}: {notes:#?}");
        }
        assert!(
            !notes.iter().any(|n| n.contains("grafana-admin")),
            "{notes:#?}"
        );
        // The generated admin user only (the OIDC client's Secret is copied from Keycloak's
        // namespace); with Zitadel's SSO the OIDC client from the store first.
        let grafana_secrets = docs(&files, "infrastructure/grafana/secrets.yaml");
        assert_eq!(grafana_secrets.len(), 2);
        assert_eq!(grafana_secrets[0]["kind"], "Password");
        assert_eq!(grafana_secrets[1]["spec"]["target"]["immutable"], true);
        assert!(
            !notes.iter().any(|n| n.contains("grafana-oidc")),
            "{notes:#?}"
        );
        let grafana_secrets = docs(&sso_files, "infrastructure/grafana/secrets.yaml");
        assert_eq!(grafana_secrets[0]["metadata"]["name"], "grafana-oidc");
        assert_eq!(grafana_secrets[1]["kind"], "Password");
    }

    #[test]
    fn the_configs_own_openbao_values_win() {
        let mut config = crate::PlatformConfig::new("c", "example.nl", crate::Provider::Azure);
        let own = json!({"server": {"ha": {"raft": {"config": "seal \"azurekeyvault\" {}"}}}});
        config.components.insert(
            "openbao".into(),
            serde_json::from_value(json!({"values": own})).unwrap(),
        );
        let files = rendered(&config);
        let release = &docs(&files, "infrastructure/openbao/release.yaml")[0];
        let server = &release["spec"]["values"]["server"];
        assert_eq!(server["ha"]["raft"]["config"], "seal \"azurekeyvault\" {}");
        // The rest of the wiring stays.
        assert_eq!(
            server["volumes"][0]["secret"]["secretName"],
            SEAL_KEY_SECRET
        );
    }
}
