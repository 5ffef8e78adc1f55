//! `haven plus status` against the in-process Kubernetes-style API server: Ready conditions per
//! component and capability, `--wait` while a HelmRelease turns Ready, errors.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use haven_platform::{Catalogue, PlatformConfig, Provider, render};
use haven_test_support::{ApiServer, FakeCluster};
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
