//! `haven plus status` against the in-process Kubernetes-style API server: Ready conditions per
//! component and capability, `--wait` while a HelmRelease turns Ready, errors.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use haven_platform::{Catalogue, PlatformConfig, Provider, render};
use haven_test_support::{Access, AccessRule, ApiServer, FakeCluster};
use serde_json::{Value, json};

const FLUX_CRDS: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: helmreleases.helm.toolkit.fluxcd.io}
spec:
  group: helm.toolkit.fluxcd.io
  names: {kind: HelmRelease, listKind: HelmReleaseList, plural: helmreleases, singular: helmrelease}
  scope: Namespaced
  versions:
  - name: v2
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
    subresources: {status: {}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: kustomizations.kustomize.toolkit.fluxcd.io}
spec:
  group: kustomize.toolkit.fluxcd.io
  names: {kind: Kustomization, listKind: KustomizationList, plural: kustomizations, singular: kustomization}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
    subresources: {status: {}}
";

/// External Secrets' kinds that `haven plus status` reads beside Flux's.
const ESO_CRDS: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: externalsecrets.external-secrets.io}
spec:
  group: external-secrets.io
  names: {kind: ExternalSecret, listKind: ExternalSecretList, plural: externalsecrets, singular: externalsecret}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
    subresources: {status: {}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: clustersecretstores.external-secrets.io}
spec:
  group: external-secrets.io
  names: {kind: ClusterSecretStore, listKind: ClusterSecretStoreList, plural: clustersecretstores, singular: clustersecretstore}
  scope: Cluster
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
    subresources: {status: {}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: secretstores.external-secrets.io}
spec:
  group: external-secrets.io
  names: {kind: SecretStore, listKind: SecretStoreList, plural: secretstores, singular: secretstore}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
    subresources: {status: {}}
";

fn config() -> PlatformConfig {
    let mut c = PlatformConfig::new("haven", "example.nl", Provider::Kind);
    // A smaller platform keeps the fixture readable; the fold is the same.
    c.capabilities.identity.enabled = false;
    c.capabilities.image_scanning.enabled = false;
    c.capabilities.intrusion_detection.enabled = false;
    c
}

fn ready(mut obj: Value, status: &str, reason: &str) -> Value {
    obj["status"] = json!({"conditions": [{"type": "Ready", "status": status, "reason": reason,
        "message": format!("{reason} for test"), "lastTransitionTime": "2026-11-25T12:00:00Z"}]});
    obj
}

/// The cluster as Flux would leave it after applying the rendered tree: every Kustomization and
/// HelmRelease Ready, except Loki's release, still installing.
fn fixture(config: &PlatformConfig) -> (String, Value) {
    let files = render(config, &Catalogue::builtin().unwrap()).files;
    let mut docs = vec![FLUX_CRDS.to_owned(), ESO_CRDS.to_owned()];
    let mut loki = Value::Null;
    let mut objects: Vec<Value> = vec![json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "flux-system", "namespace": "flux-system"}, "spec": {}})];
    for (path, text) in &files {
        for doc in haven_model::parse_stream(&path.to_string_lossy(), text) {
            let v = doc.unwrap().value;
            if v["kind"] == "Namespace"
                || v["kind"] == "HelmRelease"
                || v["kind"] == "ExternalSecret"
                || v["kind"] == "ClusterSecretStore"
                || v["kind"] == "Job"
                || (v["kind"] == "Kustomization"
                    && v["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"
                    && v["metadata"]["namespace"] == "flux-system"
                    && v["metadata"]["name"] != "flux-system")
            {
                objects.push(v);
            }
        }
    }
    docs.push(
        serde_yaml_ng::to_string(
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}}),
        )
        .unwrap(),
    );
    for o in objects {
        let o = if o["kind"] == "Namespace" {
            o
        } else if o["kind"] == "Job" {
            let mut o = o;
            o["status"] =
                json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]});
            o
        } else if o["kind"] == "HelmRelease" && o["metadata"]["name"] == "loki" {
            loki = o.clone();
            ready(o, "Unknown", "Progressing")
        } else {
            ready(o, "True", "ReconciliationSucceeded")
        };
        docs.push(serde_yaml_ng::to_string(&o).unwrap());
    }
    (docs.join("---\n"), loki)
}

fn setup(dir: &Path, server: &ApiServer, config: &PlatformConfig) {
    std::fs::write(dir.join("kubeconfig"), server.kubeconfig_yaml("test")).unwrap();
    std::fs::write(
        dir.join("haven-plus.yaml"),
        serde_yaml_ng::to_string(config).unwrap(),
    )
    .unwrap();
}

fn haven(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_haven"));
    cmd.args(["plus", "status", "--kubeconfig", "kubeconfig"])
        .args(args)
        .current_dir(dir)
        .env_remove("KUBECONFIG");
    cmd
}

#[test]
fn status_reports_per_component_and_capability_and_waits() {
    let config = config();
    let (fixture, loki) = fixture(&config);
    let cluster = FakeCluster::from_yaml("fixture.yaml", &fixture).unwrap();
    let server = ApiServer::start_background(cluster).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    setup(tmp.path(), &server, &config);

    let out = haven(tmp.path(), &[]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let loki_line = stdout
        .lines()
        .find(|l| l.starts_with("loki "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        loki_line.contains("progressing") && loki_line.contains("Progressing for test"),
        "{loki_line}"
    );
    let cert = stdout
        .lines()
        .find(|l| l.starts_with("cert-manager "))
        .unwrap();
    assert!(cert.contains("ready"), "{cert}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("logs ") && l.contains("progressing")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("certificates ") && l.contains("ready")),
        "{stdout}"
    );

    let out = haven(tmp.path(), &["--json"]).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["ready"], false);
    assert_eq!(doc["capabilities"]["logs"]["state"], "progressing");
    assert_eq!(doc["capabilities"]["backups"]["state"], "ready");

    // --wait: Loki turns Ready while we watch.
    let child = haven(
        tmp.path(),
        &["--wait", "--interval", "1", "--timeout", "60"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    server
        .cluster()
        .apply(ready(loki, "True", "InstallSucceeded"))
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("ready] waiting for loki"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("logs ") && l.contains("ready")),
        "{stdout}"
    );
    assert!(server.request_count() > 4);
}

#[test]
fn wait_times_out_and_missing_flux_is_explained() {
    let config = config();
    let (fixture, _) = fixture(&config);
    let server =
        ApiServer::start_background(FakeCluster::from_yaml("f.yaml", &fixture).unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    setup(tmp.path(), &server, &config);
    let out = haven(tmp.path(), &["--wait", "--interval", "1", "--timeout", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("timed out"));

    let bare =
        ApiServer::start_background(FakeCluster::from_yaml("empty.yaml", "").unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    setup(tmp.path(), &bare, &config);
    let out = haven(tmp.path(), &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is Flux installed"), "{err}");
}

/// A person with rights on the platform's namespaces only: Flux's objects and the secret store
/// everywhere (as `plus status` needs them), ExternalSecrets and Jobs only where the tree puts
/// them. `plus status` reads exactly that (before: Jobs in every namespace, exit 2); without
/// any right on Jobs the bootstrap Job is `unknown`, "could not read … (forbidden)", not
/// counted as Ready (exit 1), and `--wait` does not wait for it.
#[test]
fn status_reads_jobs_only_in_the_trees_namespaces_and_shows_a_forbidden_read() {
    let config = config();
    let (fixture, loki) = fixture(&config);
    let cluster = FakeCluster::from_yaml("fixture.yaml", &fixture).unwrap();
    cluster
        .apply(ready(loki, "True", "InstallSucceeded"))
        .unwrap();
    let files = render(&config, &Catalogue::builtin().unwrap()).files;
    let namespaces_of = |kind: &str| -> BTreeSet<String> {
        files
            .iter()
            .flat_map(|(p, t)| {
                haven_model::parse_stream(&p.to_string_lossy(), t)
                    .into_iter()
                    .flatten()
                    .map(|d| d.value)
            })
            .filter(|o| o["kind"] == kind)
            .map(|o| o["metadata"]["namespace"].as_str().unwrap().to_owned())
            .collect()
    };
    let job_namespaces = namespaces_of("Job");
    assert_eq!(
        job_namespaces.iter().collect::<Vec<_>>(),
        ["garage"],
        "the object store's bootstrap"
    );
    let es_namespaces = namespaces_of("ExternalSecret");
    let es: Vec<&str> = es_namespaces.iter().map(String::as_str).collect();
    let platform = |jobs: bool| {
        let mut rules = vec![
            AccessRule::new(
                &["list"],
                &["kustomize.toolkit.fluxcd.io", "helm.toolkit.fluxcd.io"],
                &["kustomizations", "helmreleases"],
            ),
            AccessRule::new(
                &["list"],
                &["external-secrets.io"],
                &["clustersecretstores"],
            ),
            AccessRule::new(&["list"], &["external-secrets.io"], &["externalsecrets"])
                .in_namespaces(&es),
        ];
        if jobs {
            rules
                .push(AccessRule::new(&["list"], &["batch"], &["jobs"]).in_namespaces(&["garage"]));
        }
        Access::Rules(rules)
    };
    cluster.set_access(platform(true));
    let server = ApiServer::start_background(cluster).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    setup(tmp.path(), &server, &config);

    let out = haven(tmp.path(), &[]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let job = stdout
        .lines()
        .find(|l| l.starts_with("Job/garage/garage-bootstrap-"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(job.contains(" ready "), "{job}");

    // No right on Jobs at all: the rest is read and shown; the Job is unknown, named with the
    // read that was refused.
    server.cluster().set_access(platform(false));
    let out = haven(tmp.path(), &[]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let job = stdout
        .lines()
        .find(|l| l.starts_with("Job/garage/garage-bootstrap-"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        job.contains("unknown")
            && job.contains("could not read jobs.batch in namespace garage (forbidden)"),
        "{job}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("cert-manager ") && l.contains("ready")),
        "{stdout}"
    );
    let out = haven(tmp.path(), &["--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["ready"], false);
    let unit = doc["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"].as_str().unwrap().starts_with("Job/garage/"))
        .unwrap();
    assert_eq!(unit["status"]["state"], "unknown", "{unit}");
    // Waiting does not change a refused read: `--wait` ends once the rest is Ready.
    let started = std::time::Instant::now();
    let out = haven(
        tmp.path(),
        &["--wait", "--interval", "1", "--timeout", "60"],
    )
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("could not read (forbidden)"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(30), "{stderr}");

    // A required read refused is still an error naming it (exit 2).
    server.cluster().set_access(Access::Rules(vec![]));
    let out = haven(tmp.path(), &[]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("kustomizations"), "{stderr}");
}

/// A platform laid out like the public reference (HelmReleases in flux-system, no per-component
/// Kustomizations): the shared `flux-failing` fixture. Releases are found by name and their
/// failures reach the capability.
#[test]
fn reference_layout_releases_are_read_from_flux_system() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../haven-test-support/fixtures/clusters/flux-failing.yaml");
    let server = ApiServer::start_background(FakeCluster::from_fixture(&fixture).unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut config = PlatformConfig::new("haven", "example.nl", Provider::Generic);
    config.capabilities.admission.engine = haven_platform::config::AdmissionEngine::Kyverno;
    setup(tmp.path(), &server, &config);
    let out = haven(tmp.path(), &["--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let release = |name: &str| {
        doc["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {doc:#}"))["release"]
            .clone()
    };
    assert_eq!(release("cert-manager")["state"], "ready", "{doc:#}");
    assert_eq!(release("loki")["state"], "ready", "{doc:#}");
    assert_eq!(release("velero")["state"], "failed", "{doc:#}");
    assert!(
        release("kyverno")["message"]
            .as_str()
            .is_some_and(|m| m.contains("context deadline exceeded")),
        "{doc:#}"
    );
    assert_eq!(release("tempo")["state"], "missing", "{doc:#}");
    assert_eq!(doc["capabilities"]["backups"]["state"], "failed", "{doc:#}");
    assert_eq!(
        doc["capabilities"]["admission"]["state"], "failed",
        "{doc:#}"
    );
}

/// What the controllers of a fresh cluster do with the rendered tree, modelled so that only the
/// tree's own wiring makes things Ready:
/// - Flux applies a unit (a flux-system Kustomization) once every unit it depends on is Ready,
///   and the unit is Ready once everything in it is;
/// - External Secrets (once its unit is Ready) makes the Secret of an ExternalSecret from a
///   `Password` generator of the same namespace, or reads it through the ClusterSecretStore from
///   OpenBao's KV, where only a person writes (`kv`);
/// - OpenBao is initialised and unsealed only when its values wire an auto-unseal (the static
///   seal's key file mounted from a Secret that exists) and a self-initialisation stanza (from a
///   ConfigMap of its unit, through the init container into the file `extraArgs` loads); it then
///   has the policies and Kubernetes-auth roles that stanza writes, and nothing else. Otherwise
///   it stays sealed, waiting for `bao operator init`, as a fresh OpenBao does;
/// - the store is Ready when its role exists in OpenBao, bound to its ServiceAccount, with a
///   policy that reads the path the ExternalSecrets read;
/// - the object store's bootstrap Job completes once Garage's admin token Secret exists and
///   every consumer its ConfigMap names has its Secret (with the key pair) readable by the Job's
///   ServiceAccount through a Role and RoleBinding of the consumer's namespace; it then knows
///   those keys, and a consumer's release is Ready only once Garage knows its key.
struct Controllers {
    units: Vec<(String, Vec<String>, Vec<Value>)>,
    ready: BTreeSet<String>,
    /// Secrets that exist: (namespace, name) → keys.
    secrets: BTreeMap<(String, String), BTreeSet<String>>,
    /// OpenBao once it has initialised itself.
    bao: Option<Bao>,
    /// What a person wrote into OpenBao: path → keys.
    kv: BTreeMap<String, BTreeSet<String>>,
    store_ready: bool,
    /// Consumers' Secrets whose key Garage's bootstrap imported: (namespace, name).
    garage_keys: BTreeSet<(String, String)>,
    /// The objects with the status the cluster shows, written to the API server.
    shown: BTreeMap<(String, String, String), Value>,
}

/// Whether ServiceAccount `sa` (namespace, name) may get Secret `name` in namespace `ns` through
/// a Role and RoleBinding of `ns` among the applied objects (by the Secret's name).
fn may_get_secret(applied: &[Value], sa: (&str, &str), ns: &str, name: &str) -> bool {
    applied.iter().any(|b| {
        b["kind"] == "RoleBinding"
            && b["metadata"]["namespace"] == ns
            && b["subjects"].as_array().unwrap().iter().any(|s| {
                s["kind"] == "ServiceAccount" && s["name"] == sa.1 && s["namespace"] == sa.0
            })
            && applied.iter().any(|r| {
                r["kind"] == "Role"
                    && r["metadata"]["namespace"] == ns
                    && r["metadata"]["name"] == b["roleRef"]["name"]
                    && r["rules"].as_array().unwrap().iter().any(|rule| {
                        rule["resources"] == json!(["secrets"])
                            && rule["verbs"].as_array().unwrap().contains(&json!("get"))
                            && rule["resourceNames"]
                                .as_array()
                                .is_some_and(|n| n.contains(&json!(name)))
                    })
            })
    })
}

/// An initialised, unsealed OpenBao: where it runs, and what its self-initialisation wrote.
struct Bao {
    namespace: String,
    /// Kubernetes-auth role → its parameters.
    roles: BTreeMap<String, Value>,
    /// ACL policy → its text.
    policies: BTreeMap<String, String>,
}

impl Controllers {
    fn new(files: &BTreeMap<std::path::PathBuf, String>) -> Self {
        let mut units = Vec::new();
        for (path, text) in files {
            let p = path.to_string_lossy();
            if !(p.ends_with("/infrastructure.yaml") || p.ends_with("/tenants.yaml")) {
                continue;
            }
            for doc in haven_model::parse_stream(&p, text).into_iter().flatten() {
                let v = doc.value;
                let name = v["metadata"]["name"].as_str().unwrap().to_owned();
                let deps = v["spec"]["dependsOn"]
                    .as_array()
                    .map(|d| {
                        d.iter()
                            .map(|x| x["name"].as_str().unwrap().to_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                let dir = v["spec"]["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("./")
                    .to_owned();
                let objects: Vec<Value> = files
                    .iter()
                    .filter(|(f, _)| {
                        f.parent().is_some_and(|d| d.to_string_lossy() == dir)
                            && !f.ends_with("kustomization.yaml")
                    })
                    .flat_map(|(f, t)| {
                        haven_model::parse_stream(&f.to_string_lossy(), t)
                            .into_iter()
                            .flatten()
                            .map(|d| d.value)
                            .collect::<Vec<_>>()
                    })
                    .collect();
                units.push((name, deps, objects));
            }
        }
        assert!(units.len() > 10, "{}", units.len());
        Controllers {
            units,
            ready: BTreeSet::new(),
            secrets: BTreeMap::new(),
            bao: None,
            kv: BTreeMap::new(),
            store_ready: false,
            garage_keys: BTreeSet::new(),
            shown: BTreeMap::new(),
        }
    }

    /// Every object of every unit that has been applied (its dependencies were Ready).
    fn applied(&self, ready_before: &BTreeSet<String>) -> Vec<Value> {
        self.units
            .iter()
            .filter(|(_, deps, _)| deps.iter().all(|d| ready_before.contains(d)))
            .flat_map(|(_, _, objects)| objects.clone())
            .collect()
    }

    /// The bootstrap Job's run: the consumers whose keys it imports, or why it cannot finish.
    fn bootstrap(
        &self,
        job: &Value,
        unit: &[Value],
        applied: &[Value],
    ) -> Result<BTreeSet<(String, String)>, String> {
        let ns = job["metadata"]["namespace"].as_str().unwrap();
        let pod = &job["spec"]["template"]["spec"];
        let sa = pod["serviceAccountName"].as_str().unwrap();
        let mut consumers = None;
        for v in pod["volumes"].as_array().unwrap() {
            if let Some(secret) = v["secret"]["secretName"].as_str()
                && !self
                    .secrets
                    .contains_key(&(ns.to_owned(), secret.to_owned()))
            {
                return Err(format!("pods wait for Secret {ns}/{secret}"));
            }
            if let Some(cm) = v["configMap"]["name"].as_str() {
                let cm = unit
                    .iter()
                    .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == cm)
                    .ok_or(format!("no ConfigMap {cm}"))?;
                let list: Vec<Value> =
                    serde_json::from_str(cm["data"]["consumers.json"].as_str().unwrap()).unwrap();
                consumers = Some(list);
            }
        }
        let mut keys = BTreeSet::new();
        for c in consumers.ok_or("no consumers")? {
            let cns = c["namespace"].as_str().unwrap();
            let name = c["secret"].as_str().unwrap();
            let has = self.secrets.get(&(cns.to_owned(), name.to_owned()));
            if !has.is_some_and(|k| {
                k.contains("GARAGE_ACCESS_KEY_ID") && k.contains("GARAGE_SECRET_ACCESS_KEY")
            }) {
                return Err(format!("waiting for Secret {cns}/{name}"));
            }
            if !may_get_secret(applied, (ns, sa), cns, name) {
                return Err(format!(
                    "secrets \"{name}\" is forbidden: User \"system:serviceaccount:{ns}:{sa}\" cannot get resource \"secrets\" in the namespace \"{cns}\""
                ));
            }
            keys.insert((cns.to_owned(), name.to_owned()));
        }
        Ok(keys)
    }

    fn show(&mut self, obj: &Value, ok: bool, reason: &str, message: &str) {
        let mut o = obj.clone();
        o["status"] = json!({"conditions": [{"type": "Ready", "status": if ok { "True" } else { "False" },
            "reason": reason, "message": message, "lastTransitionTime": "2026-12-07T12:00:00Z"}]});
        if o["kind"] == "Job" {
            o["status"] = if ok {
                json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]})
            } else {
                json!({"active": 1, "failed": 1})
            };
        }
        let key = (
            o["kind"].as_str().unwrap().to_owned(),
            o["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            o["metadata"]["name"].as_str().unwrap().to_owned(),
        );
        self.shown.insert(key, o);
    }

    /// OpenBao's unattended start, as its values wire it: the self-initialisation stanza it
    /// runs; `Err` says why it stays sealed or uninitialised.
    fn openbao(&self, ns: &str, values: &Value, unit: &[Value]) -> Result<Value, String> {
        let sealed = "sealed: waiting for `bao operator init` and its unseal keys";
        let server = &values["server"];
        let config: Value = server["ha"]["raft"]["config"]
            .as_str()
            .and_then(|t| serde_json::from_str(t).ok())
            .ok_or(sealed)?;
        let key = config["seal"]["static"]["current_key"]
            .as_str()
            .and_then(|k| k.strip_prefix("file://"))
            .ok_or(sealed)?;
        let (dir, file) = key.rsplit_once('/').unwrap();
        let volume_at = |dir: &str| {
            server["volumeMounts"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|m| m["mountPath"] == dir)
                .and_then(|m| {
                    server["volumes"]
                        .as_array()?
                        .iter()
                        .find(|v| v["name"] == m["name"])
                })
                .cloned()
        };
        let secret =
            volume_at(dir).ok_or("the seal key file is not mounted")?["secret"]["secretName"]
                .as_str()
                .ok_or("the seal key is not from a Secret")?
                .to_owned();
        if !self
            .secrets
            .get(&(ns.to_owned(), secret.clone()))
            .is_some_and(|k| k.contains(file))
        {
            return Err(format!("the seal key Secret {ns}/{secret} does not exist"));
        }
        // Self-initialisation: the file extraArgs loads, filled by an init container from a
        // ConfigMap of the unit.
        let uninit = "initialised by nobody: waiting for `bao operator init`";
        let init_file = server["extraArgs"]
            .as_str()
            .and_then(|a| a.strip_prefix("-config="))
            .ok_or(uninit)?;
        let (init_dir, init_name) = init_file.rsplit_once('/').unwrap();
        let init = server["extraInitContainers"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| {
                c["volumeMounts"]
                    .as_array()
                    .is_some_and(|m| m.iter().any(|m| m["mountPath"] == init_dir))
            })
            .ok_or(uninit)?;
        let script = init["command"][2].as_str().unwrap_or_default();
        let source = init["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|m| {
                let from = m["mountPath"].as_str()?;
                script
                    .contains(&format!("cp {from}/{init_name} {init_file}"))
                    .then(|| m["name"].clone())
            })
            .ok_or(uninit)?;
        let cm_name = server["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == source)
            .and_then(|v| v["configMap"]["name"].as_str())
            .ok_or(uninit)?;
        let stanza: Value = unit
            .iter()
            .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == cm_name)
            .and_then(|cm| cm["data"][init_name].as_str())
            .and_then(|t| serde_json::from_str(t).ok())
            .ok_or(uninit)?;
        Ok(stanza)
    }

    /// Runs the stanza OpenBao would: its policies and Kubernetes-auth roles.
    fn self_initialise(&mut self, ns: &str, stanza: &Value) {
        let (mut roles, mut policies) = (BTreeMap::new(), BTreeMap::new());
        let mut kubernetes_auth = false;
        for block in stanza["initialize"].as_array().unwrap() {
            for b in block.as_object().unwrap().values() {
                for req in b["request"].as_array().unwrap() {
                    for r in req.as_object().unwrap().values() {
                        let path = r["path"].as_str().unwrap();
                        if path == "sys/auth/kubernetes" {
                            kubernetes_auth = true;
                        } else if let Some(p) = path.strip_prefix("sys/policies/acl/") {
                            policies.insert(
                                p.to_owned(),
                                r["data"]["policy"].as_str().unwrap().to_owned(),
                            );
                        } else if let Some(role) = path.strip_prefix("auth/kubernetes/role/") {
                            assert!(kubernetes_auth, "a role before its auth method");
                            roles.insert(role.to_owned(), r["data"].clone());
                        }
                    }
                }
            }
        }
        self.bao = Some(Bao {
            namespace: ns.to_owned(),
            roles,
            policies,
        });
    }

    /// The store's login works and may read what the ExternalSecrets read.
    fn store(&self, store: &Value) -> Result<(), String> {
        let vault = &store["spec"]["provider"]["vault"];
        let Bao {
            namespace: ns,
            roles,
            policies,
        } = self.bao.as_ref().ok_or("OpenBao is sealed")?;
        if vault["server"] != format!("http://openbao.{ns}.svc:8200") {
            return Err(format!("no OpenBao at {}", vault["server"]));
        }
        let k = &vault["auth"]["kubernetes"];
        let role = roles
            .get(k["role"].as_str().unwrap_or_default())
            .ok_or("permission denied: no such role")?;
        let bound = |field: &str, want: &Value| {
            role[field]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == want))
        };
        if !bound(
            "bound_service_account_names",
            &k["serviceAccountRef"]["name"],
        ) || !bound(
            "bound_service_account_namespaces",
            &k["serviceAccountRef"]["namespace"],
        ) {
            return Err("permission denied: service account not bound".into());
        }
        let want = format!(
            "path \"{}/data/platform/*\"",
            vault["path"].as_str().unwrap()
        );
        let readable = role["token_policies"].as_array().unwrap().iter().any(|p| {
            policies
                .get(p.as_str().unwrap())
                .is_some_and(|text| text.contains(&want))
        });
        if !readable {
            return Err("403: the role's policies cannot read platform/*".into());
        }
        Ok(())
    }

    /// An ExternalSecret that reads through a `SecretStore` of the `kubernetes` provider (an
    /// OIDC client's secret from the identity provider's namespace): the store's login works,
    /// its ServiceAccount may get each Secret read, and that Secret exists with the key; the
    /// Secret made holds the template's keys.
    fn read_through_store(
        &self,
        es: &Value,
        unit: &[Value],
        ready_before: &BTreeSet<String>,
    ) -> Result<BTreeSet<String>, String> {
        let ns = es["metadata"]["namespace"].as_str().unwrap();
        let name = &es["spec"]["secretStoreRef"]["name"];
        let store = unit
            .iter()
            .find(|s| {
                s["kind"] == "SecretStore"
                    && s["metadata"]["namespace"] == ns
                    && s["metadata"]["name"] == *name
            })
            .ok_or(format!("SecretStore {ns}/{name} does not exist"))?;
        let applied = self.applied(ready_before);
        let (remote, sa) = kubernetes_store(store, &applied)?;
        for d in es["spec"]["data"].as_array().unwrap() {
            let key = d["remoteRef"]["key"].as_str().unwrap();
            let prop = d["remoteRef"]["property"].as_str().unwrap();
            if !may_get_secret(&applied, (ns, &sa), &remote, key) {
                return Err(format!(
                    "secrets \"{key}\" is forbidden: User \"system:serviceaccount:{ns}:{sa}\" cannot get resource \"secrets\" in the namespace \"{remote}\""
                ));
            }
            if !self
                .secrets
                .get(&(remote.clone(), key.to_owned()))
                .is_some_and(|k| k.contains(prop))
            {
                return Err(format!("Secret {remote}/{key} has no key {prop}"));
            }
        }
        Ok(es["spec"]["target"]["template"]["data"]
            .as_object()
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default())
    }

    /// One round: every unit whose dependencies are Ready is applied and judged once.
    fn tick(&mut self) {
        let units = self.units.clone();
        // Flux sees a dependency Ready on its next reconciliation, not within this one.
        let ready_before = self.ready.clone();
        for (name, deps, objects) in &units {
            let unit_obj = json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": {"name": name, "namespace": "flux-system"}, "spec": {}});
            if self.ready.contains(name) {
                continue;
            }
            if let Some(d) = deps.iter().find(|d| !ready_before.contains(*d)) {
                self.show(
                    &unit_obj,
                    false,
                    "DependencyNotReady",
                    &format!("dependency 'flux-system/{d}' is not ready"),
                );
                continue;
            }
            let mut healthy = true;
            let mut blocked = String::new();
            for o in objects {
                let ns = o["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let (ok, why) = match o["kind"].as_str().unwrap() {
                    "ExternalSecret" => {
                        let target = o["spec"]["target"]["name"].as_str().unwrap().to_owned();
                        let made = if o["spec"]["dataFrom"][0]["sourceRef"]["generatorRef"]
                            .is_object()
                        {
                            // Every generator's keys, or the template's when it has one.
                            let mut keys = BTreeSet::new();
                            let mut missing = None;
                            for d in o["spec"]["dataFrom"].as_array().unwrap() {
                                let g = &d["sourceRef"]["generatorRef"];
                                match objects
                                    .iter()
                                    .find(|p| {
                                        p["kind"] == g["kind"]
                                            && p["metadata"]["name"] == g["name"]
                                            && p["metadata"]["namespace"] == ns.as_str()
                                    })
                                    .filter(|_| ready_before.contains("external-secrets"))
                                {
                                    Some(p) => keys.extend(
                                        p["spec"]["secretKeys"]
                                            .as_array()
                                            .unwrap()
                                            .iter()
                                            .map(|k| k.as_str().unwrap().to_owned()),
                                    ),
                                    None => missing = Some("no generator".to_owned()),
                                }
                            }
                            if let Some(t) = o["spec"]["target"]["template"]["data"].as_object() {
                                keys = t.keys().cloned().collect();
                            }
                            missing.map_or(Ok(keys), Err)
                        } else if o["spec"]["secretStoreRef"]["kind"] == "SecretStore" {
                            self.read_through_store(o, objects, &ready_before)
                        } else if !self.store_ready {
                            Err("SecretStore \"openbao\" is not ready".to_owned())
                        } else {
                            let mut keys = BTreeSet::new();
                            let mut missing = None;
                            for d in o["spec"]["data"].as_array().unwrap() {
                                let path = d["remoteRef"]["key"].as_str().unwrap();
                                let prop = d["remoteRef"]["property"].as_str().unwrap();
                                if self.kv.get(path).is_some_and(|k| k.contains(prop)) {
                                    keys.insert(d["secretKey"].as_str().unwrap().to_owned());
                                } else {
                                    missing = Some(format!("secret/{path} has no {prop}"));
                                }
                            }
                            missing.map_or(Ok(keys), Err)
                        };
                        match made {
                            Ok(keys) => {
                                self.secrets.insert((ns.clone(), target), keys);
                                (true, String::new())
                            }
                            Err(e) => (
                                false,
                                format!("could not get secret data from provider: {e}"),
                            ),
                        }
                    }
                    "SecretStore" => {
                        let applied = self.applied(&ready_before);
                        match kubernetes_store(o, &applied) {
                            Ok(_) => (true, String::new()),
                            Err(e) => (false, e),
                        }
                    }
                    "ClusterSecretStore" => match self.store(o) {
                        Ok(()) => {
                            self.store_ready = true;
                            (true, String::new())
                        }
                        Err(e) => (false, e),
                    },
                    "HelmRelease" if o["metadata"]["name"] == "openbao" => {
                        let ns = o["spec"]["targetNamespace"].as_str().unwrap().to_owned();
                        match self.openbao(&ns, &o["spec"]["values"], objects) {
                            Ok(stanza) => {
                                self.self_initialise(&ns, &stanza);
                                (true, String::new())
                            }
                            Err(e) => (false, e),
                        }
                    }
                    "Job" => {
                        let applied = self.applied(&ready_before);
                        match self.bootstrap(o, objects, &applied) {
                            Ok(keys) => {
                                self.garage_keys.extend(keys);
                                (true, String::new())
                            }
                            Err(e) => (false, e),
                        }
                    }
                    "HelmRelease"
                        if objects.iter().any(|e| {
                            e["kind"] == "ExternalSecret"
                                && e["spec"]["target"]["template"]["data"]["GARAGE_ACCESS_KEY_ID"]
                                    .is_string()
                                && !self.garage_keys.contains(&(
                                    e["metadata"]["namespace"].as_str().unwrap().to_owned(),
                                    e["spec"]["target"]["name"].as_str().unwrap().to_owned(),
                                ))
                        }) =>
                    {
                        // An object-store consumer's pods fail until Garage knows their key.
                        (
                            false,
                            "S3: InvalidAccessKeyId: the key is not known to Garage".to_owned(),
                        )
                    }
                    "HelmRelease" => {
                        // A release's pods start once the Secrets of its unit exist.
                        let tns = o["spec"]["targetNamespace"].as_str().unwrap();
                        let wanted: Vec<&str> = objects
                            .iter()
                            .filter(|e| e["kind"] == "ExternalSecret")
                            .filter_map(|e| e["spec"]["target"]["name"].as_str())
                            .collect();
                        match wanted.iter().find(|w| {
                            !self
                                .secrets
                                .contains_key(&(tns.to_owned(), (**w).to_owned()))
                        }) {
                            Some(w) => (false, format!("pods wait for Secret {tns}/{w}")),
                            None => (true, String::new()),
                        }
                    }
                    _ => continue,
                };
                let kind = o["kind"].as_str().unwrap();
                let reason = match (kind, ok) {
                    ("Job", _) => "",
                    ("HelmRelease", true) => "InstallSucceeded",
                    ("HelmRelease", false) => "Progressing",
                    (_, true) => "SecretSynced",
                    (_, false) => "SecretSyncedError",
                };
                self.show(o, ok, reason, &why);
                if !ok {
                    healthy = false;
                    blocked = format!(
                        "{kind}/{ns}/{}: {why}",
                        o["metadata"]["name"].as_str().unwrap()
                    );
                }
            }
            if healthy {
                self.ready.insert(name.clone());
                self.show(
                    &unit_obj,
                    true,
                    "ReconciliationSucceeded",
                    "Applied revision: main",
                );
            } else {
                self.show(&unit_obj, false, "HealthCheckFailed", &blocked);
            }
        }
    }

    /// Ticks until nothing changes; the units left not Ready.
    fn settle(&mut self) -> Vec<String> {
        loop {
            let before = (
                self.ready.len(),
                self.secrets.len(),
                self.store_ready,
                self.garage_keys.len(),
            );
            self.tick();
            if before
                == (
                    self.ready.len(),
                    self.secrets.len(),
                    self.store_ready,
                    self.garage_keys.len(),
                )
            {
                break;
            }
        }
        self.units
            .iter()
            .map(|u| u.0.clone())
            .filter(|n| !self.ready.contains(n))
            .collect()
    }

    fn publish(&self, cluster: &FakeCluster) {
        for o in self.shown.values() {
            cluster.apply(o.clone()).unwrap();
        }
    }
}

/// A `SecretStore` of External Secrets' `kubernetes` provider, as its controller validates it:
/// External Secrets can get a token of its ServiceAccount (the ServiceAccount exists) and that
/// identity may get some Secret of the remote namespace. Its remote namespace and
/// ServiceAccount, or why it is not Ready.
fn kubernetes_store(store: &Value, applied: &[Value]) -> Result<(String, String), String> {
    let ns = store["metadata"]["namespace"].as_str().unwrap();
    let k = &store["spec"]["provider"]["kubernetes"];
    let remote = k["remoteNamespace"]
        .as_str()
        .ok_or("not a kubernetes store")?;
    let sa = k["auth"]["serviceAccount"]["name"]
        .as_str()
        .ok_or("no auth provider given")?;
    if !applied.iter().any(|o| {
        o["kind"] == "ServiceAccount"
            && o["metadata"]["namespace"] == ns
            && o["metadata"]["name"] == sa
    }) {
        return Err(format!(
            "could not fetch Auth.ServiceAccount: serviceaccounts \"{sa}\" not found"
        ));
    }
    let any_secret = applied.iter().any(|r| {
        r["kind"] == "Role"
            && r["metadata"]["namespace"] == remote
            && r["rules"].as_array().unwrap().iter().any(|rule| {
                rule["resourceNames"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|n| may_get_secret(applied, (ns, sa), remote, n.as_str().unwrap()))
            })
    });
    if !any_secret {
        return Err("client is not allowed to get secrets".to_owned());
    }
    Ok((remote.to_owned(), sa.to_owned()))
}

/// A fresh cluster: the CRDs, the tree's namespaces, flux-system's own sync Ready (`flux
/// bootstrap`), and nothing else yet.
fn fresh_cluster(files: &BTreeMap<std::path::PathBuf, String>) -> FakeCluster {
    let mut docs = vec![FLUX_CRDS.to_owned(), ESO_CRDS.to_owned()];
    let mut namespaces =
        vec![json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}})];
    for (path, text) in files {
        for doc in haven_model::parse_stream(&path.to_string_lossy(), text) {
            let v = doc.unwrap().value;
            if v["kind"] == "Namespace" {
                namespaces.push(v);
            }
        }
    }
    namespaces.push(ready(
        json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "flux-system", "namespace": "flux-system"}, "spec": {}}),
        "True",
        "ReconciliationSucceeded",
    ));
    for n in namespaces {
        docs.push(serde_yaml_ng::to_string(&n).unwrap());
    }
    FakeCluster::from_yaml("fresh.yaml", &docs.join("---\n")).unwrap()
}

/// A platform whose every secret is made in the cluster (kind: no DNS credentials; no S3):
/// from a fresh cluster, `haven plus status --wait` reaches Ready while the modelled
/// controllers converge, with nobody initialising, unsealing or writing into OpenBao.
#[test]
fn a_fresh_cluster_converges_to_ready_with_no_manual_step() {
    let mut config = config();
    config.capabilities.logs.enabled = false;
    config.capabilities.backups.enabled = false;
    config.capabilities.metrics.backend =
        haven_platform::config::MetricsBackend::KubePrometheusStack;
    config.capabilities.identity.enabled = true;
    config.capabilities.identity.provider = haven_platform::config::IdentityProvider::Zitadel;
    let files = render(&config, &Catalogue::builtin().unwrap()).files;
    // The premise: OpenBao and its store are on, and nothing is read from OpenBao's KV that a
    // person would have to write (every ExternalSecret has a generator).
    let all: Vec<Value> = files
        .iter()
        .flat_map(|(p, t)| {
            haven_model::parse_stream(&p.to_string_lossy(), t)
                .into_iter()
                .flatten()
                .map(|d| d.value)
        })
        .collect();
    assert!(all.iter().any(|o| o["kind"] == "ClusterSecretStore"));
    // Grafana's OIDC client secret (single sign-on) is the one value a person writes: the
    // client is registered by hand at Zitadel (docs/plus.md, "Observability").
    let generated: Vec<&Value> = all
        .iter()
        .filter(|o| o["kind"] == "ExternalSecret" && o["metadata"]["name"] != "grafana-oidc")
        .collect();
    assert!(
        generated.len() >= 3,
        "seal key, grafana, zitadel: {generated:?}"
    );
    assert!(
        generated
            .iter()
            .all(|o| o["spec"]["dataFrom"][0]["sourceRef"]["generatorRef"].is_object())
    );

    // The model can fail: without the seal, OpenBao waits for a person and so does the store.
    let mut broken = files.clone();
    let release = std::path::PathBuf::from("infrastructure/openbao/release.yaml");
    let text = broken[&release].replace("\"seal\": {", "\"no-seal\": {");
    assert_ne!(text, broken[&release], "the seal stanza is in the release");
    broken.insert(release, text);
    let mut sealed = Controllers::new(&broken);
    let stuck = sealed.settle();
    assert!(
        stuck.contains(&"openbao".to_owned())
            && stuck.contains(&"external-secrets-config".to_owned()),
        "{stuck:?}"
    );

    let server = ApiServer::start_background(fresh_cluster(&files)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    setup(tmp.path(), &server, &config);
    let mut controllers = Controllers::new(&files);
    controllers.tick();
    controllers.publish(server.cluster());
    let child = haven(
        tmp.path(),
        &["--wait", "--interval", "1", "--timeout", "120", "--json"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // The controllers work while haven waits: one round every 700 ms.
    let mut rounds = 0;
    loop {
        std::thread::sleep(Duration::from_millis(700));
        let before = controllers.ready.len();
        controllers.tick();
        controllers.publish(server.cluster());
        rounds += 1;
        if controllers.ready.len() == controllers.units.len()
            || (before == controllers.ready.len() && rounds > 60)
        {
            break;
        }
    }
    assert_eq!(
        controllers.ready.len(),
        controllers.units.len(),
        "stuck: {:?}",
        controllers.settle()
    );
    assert!(
        rounds >= 3,
        "converged in {rounds} rounds: the wait saw it happen"
    );
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("waiting for") && l.contains("openbao")),
        "{stderr}"
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["ready"], true);
    assert_eq!(doc["capabilities"]["secrets"]["state"], "ready", "{doc:#}");
    let secrets = doc["secrets"].as_array().unwrap();
    assert!(secrets.len() >= 4, "{doc:#}");
    assert!(
        secrets.iter().all(|s| s["state"]["state"] == "ready"),
        "{doc:#}"
    );
}

/// The default platform, with the S3 credentials of Loki, Mimir and Velero that a person once
/// wrote into OpenBao: now made in the cluster and imported into Garage by its bootstrap Job,
/// so from a fresh cluster `haven plus status --wait` reaches Ready with nobody writing
/// anything, and shows the bootstrap while it waits.
#[test]
fn the_default_platform_converges_with_its_object_store_bootstrapped() {
    let config = config();
    let files = render(&config, &Catalogue::builtin().unwrap()).files;
    // Nothing is read from OpenBao's KV: every ExternalSecret has a generator.
    let all: Vec<Value> = files
        .iter()
        .flat_map(|(p, t)| {
            haven_model::parse_stream(&p.to_string_lossy(), t)
                .into_iter()
                .flatten()
                .map(|d| d.value)
        })
        .collect();
    let external: Vec<&Value> = all
        .iter()
        .filter(|o| o["kind"] == "ExternalSecret")
        .collect();
    assert!(
        external
            .iter()
            .any(|o| o["metadata"]["name"] == "velero-s3"),
        "{external:?}"
    );
    assert!(
        external
            .iter()
            .all(|o| o["spec"]["dataFrom"][0]["sourceRef"]["generatorRef"].is_object()),
        "{external:?}"
    );

    // The model can fail: without the Role that lets the bootstrap read Velero's Secret, the
    // Job cannot import Velero's key, and Velero never starts.
    let mut broken = files.clone();
    let store = std::path::PathBuf::from("infrastructure/velero/object-store.yaml");
    let text = broken[&store].replace("- get", "- list");
    assert_ne!(text, broken[&store], "the Role is in the consumer's unit");
    broken.insert(store, text);
    let stuck = Controllers::new(&broken).settle();
    assert!(
        stuck.contains(&"garage-config".to_owned()) && stuck.contains(&"velero".to_owned()),
        "{stuck:?}"
    );

    let server = ApiServer::start_background(fresh_cluster(&files)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    setup(tmp.path(), &server, &config);
    let mut controllers = Controllers::new(&files);
    controllers.tick();
    controllers.publish(server.cluster());
    let child = haven(
        tmp.path(),
        &["--wait", "--interval", "1", "--timeout", "120", "--json"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut rounds = 0;
    loop {
        std::thread::sleep(Duration::from_millis(700));
        let before = controllers.ready.len();
        controllers.tick();
        controllers.publish(server.cluster());
        rounds += 1;
        if controllers.ready.len() == controllers.units.len()
            || (before == controllers.ready.len() && rounds > 60)
        {
            break;
        }
    }
    assert_eq!(
        controllers.ready.len(),
        controllers.units.len(),
        "stuck: {:?}",
        controllers.settle()
    );
    assert!(controllers.kv.is_empty(), "nobody wrote into OpenBao");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("waiting for") && l.contains("Job/garage/garage-bootstrap-")),
        "{stderr}"
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["ready"], true);
    for cap in ["logs", "backups", "objectStorage"] {
        assert_eq!(doc["capabilities"][cap]["state"], "ready", "{cap}: {doc:#}");
    }
    assert!(
        doc["units"].as_array().unwrap().iter().any(|u| u["name"]
            .as_str()
            .unwrap()
            .starts_with("Job/garage/garage-bootstrap-")
            && u["status"]["state"] == "ready"),
        "{doc:#}"
    );
}

/// Every object of a rendered tree.
fn tree_objects(files: &BTreeMap<std::path::PathBuf, String>) -> Vec<Value> {
    files
        .iter()
        .flat_map(|(p, t)| {
            haven_model::parse_stream(&p.to_string_lossy(), t)
                .into_iter()
                .flatten()
                .map(|d| d.value)
        })
        .collect()
}

/// The default platform with its identity provider on (Keycloak; Dex in the model alone):
/// Grafana's single sign-on is on, its client's secret made in the identity provider's
/// namespace and copied by Grafana's reader, so from a fresh cluster `haven plus status --wait`
/// reaches Ready with nobody writing anything, the reader's SecretStore and ExternalSecret
/// among what it counts.
#[test]
fn the_default_platform_with_identity_converges_with_grafana_single_sign_on() {
    use haven_platform::config::IdentityProvider;
    for idp in [IdentityProvider::Dex, IdentityProvider::Keycloak] {
        let mut config = config();
        config.capabilities.identity.enabled = true;
        config.capabilities.identity.provider = idp;
        let files = render(&config, &Catalogue::builtin().unwrap()).files;
        let all = tree_objects(&files);
        // The premise: Grafana logs in with the identity provider, and nothing is read from
        // OpenBao's KV (every ExternalSecret is made by a generator or copied in the cluster).
        let grafana = all
            .iter()
            .find(|o| o["kind"] == "HelmRelease" && o["metadata"]["name"] == "grafana")
            .unwrap();
        assert_eq!(
            grafana["spec"]["values"]["grafana.ini"]["auth.generic_oauth"]["enabled"], true,
            "{idp:?}"
        );
        let oidc = all
            .iter()
            .find(|o| o["kind"] == "ExternalSecret" && o["metadata"]["name"] == "grafana-oidc")
            .unwrap();
        assert_eq!(oidc["spec"]["secretStoreRef"]["kind"], "SecretStore");
        assert!(
            all.iter()
                .filter(|o| o["kind"] == "ExternalSecret")
                .all(|o| o["spec"]["secretStoreRef"]["kind"] != "ClusterSecretStore"),
            "{idp:?}"
        );
        let unit = format!(
            "infrastructure/{}/oidc-clients.yaml",
            if idp == IdentityProvider::Dex {
                "dex"
            } else {
                "keycloak"
            }
        );
        // The model can fail: Grafana's reader bound in another namespace cannot get the
        // client's Secret, and Grafana never starts.
        let mut broken = files.clone();
        let path = std::path::PathBuf::from(&unit);
        let text = broken[&path].replace("namespace: grafana", "namespace: headlamp");
        assert_ne!(text, broken[&path], "the RoleBinding is in the IdP's unit");
        broken.insert(path, text);
        let stuck = Controllers::new(&broken).settle();
        assert!(stuck.contains(&"grafana".to_owned()), "{idp:?}: {stuck:?}");
        let mut model = Controllers::new(&files);
        assert_eq!(model.settle(), Vec::<String>::new(), "{idp:?}");
        assert!(model.kv.is_empty(), "nobody wrote into OpenBao");
        if idp == IdentityProvider::Dex {
            continue;
        }

        let server = ApiServer::start_background(fresh_cluster(&files)).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        setup(tmp.path(), &server, &config);
        let mut controllers = Controllers::new(&files);
        controllers.tick();
        controllers.publish(server.cluster());
        let child = haven(
            tmp.path(),
            &["--wait", "--interval", "1", "--timeout", "120", "--json"],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        let mut rounds = 0;
        loop {
            std::thread::sleep(Duration::from_millis(700));
            let before = controllers.ready.len();
            controllers.tick();
            controllers.publish(server.cluster());
            rounds += 1;
            if controllers.ready.len() == controllers.units.len()
                || (before == controllers.ready.len() && rounds > 60)
            {
                break;
            }
        }
        assert_eq!(
            controllers.ready.len(),
            controllers.units.len(),
            "stuck: {:?}",
            controllers.settle()
        );
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["ready"], true, "{doc:#}");
        assert_eq!(
            doc["capabilities"]["dashboards"]["state"], "ready",
            "{doc:#}"
        );
        let secrets = doc["secrets"].as_array().unwrap();
        for (kind, ns, name) in [
            ("SecretStore", "grafana", "oidc-client-grafana-reader"),
            ("ExternalSecret", "grafana", "grafana-oidc"),
            ("ExternalSecret", "keycloak", "oidc-client-grafana"),
        ] {
            assert!(
                secrets.iter().any(|s| s["kind"] == kind
                    && s["namespace"] == ns
                    && s["name"] == name
                    && s["state"]["state"] == "ready"),
                "{kind}/{ns}/{name}: {doc:#}"
            );
        }
    }
}
