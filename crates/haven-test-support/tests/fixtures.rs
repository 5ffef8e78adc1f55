//! Fixture loading and the benchmark binary.

use haven_test_support::{Access, FakeCluster};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn example_fixture_loads_everything() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/example.yaml");
    let cluster = FakeCluster::from_fixture(&path).unwrap();
    assert_eq!(cluster.count("v1", "Node"), 2);
    assert_eq!(
        cluster.count("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
        1,
        "CR before or after its CRD"
    );
    let ns = cluster.get("v1", "Namespace", None, "zaken").unwrap();
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    assert!(ns["metadata"]["uid"].is_string());
    assert!(ns["metadata"]["resourceVersion"].is_string());
}

#[test]
fn unknown_kind_names_file_and_line() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\n# a comment\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n";
    let err = FakeCluster::from_yaml("cluster.yaml", text)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("cluster.yaml:7: "), "{err}");
    assert!(
        err.contains("unknown kind Widget in example.com/v1"),
        "{err}"
    );
}

#[test]
fn broken_yaml_and_bad_access_are_reported_together() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [unclosed\n---\napiVersion: test.haven.commonground.nl/v1\nkind: FakeClusterInfo\naccess:\n- verbs: get\n";
    let err = FakeCluster::from_yaml("bad.yaml", text)
        .unwrap_err()
        .to_string();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].starts_with("bad.yaml:"), "{err}");
    assert!(
        lines[1].starts_with("bad.yaml:7: access rule: missing list verbs"),
        "{err}"
    );
}

#[test]
fn access_rules_from_fixture() {
    let text = "apiVersion: test.haven.commonground.nl/v1\nkind: FakeClusterInfo\naccess:\n- verbs: [list]\n  apiGroups: ['']\n  resources: [nodes]\n";
    FakeCluster::from_yaml("a.yaml", text).unwrap();
    let access = Access::from_value(
        &serde_json::json!([{"verbs": ["list"], "apiGroups": [""], "resources": ["nodes"]}]),
    )
    .unwrap();
    assert!(access.allows("list", "", "nodes", None));
    assert!(!access.allows("get", "", "nodes", None));
    assert!(!access.allows("list", "apps", "nodes", None));
}

#[test]
fn binary_serves_a_fixture_and_counts_requests() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let mut child = Command::new(env!("CARGO_BIN_EXE_haven-fake-apiserver"))
        .args([
            "--fixture",
            concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/example.yaml"),
        ])
        .arg("--kubeconfig-out")
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    out.read_line(&mut url).unwrap();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let nodes = rt.block_on(async {
        let kc = kube::config::Kubeconfig::read_from(&kubeconfig).unwrap();
        let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .unwrap();
        let client = kube::Client::try_from(config).unwrap();
        let api: kube::Api<k8s_openapi::api::core::v1::Node> = kube::Api::all(client);
        api.list(&Default::default()).await.unwrap().items.len()
    });
    assert_eq!(nodes, 2);

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(rest.trim(), "requests: 1");
}

#[test]
fn binary_rejects_bad_arguments() {
    let out = Command::new(env!("CARGO_BIN_EXE_haven-fake-apiserver"))
        .args(["--synthetic", "ten"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected NODES,PODS"));
}
