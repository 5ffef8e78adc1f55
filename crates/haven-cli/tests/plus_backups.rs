//! `haven plus backups check` against the in-process Kubernetes-style API server: Velero's
//! storage location, schedules and backups and CloudNativePG's Clusters and backups, fresh,
//! stale, failed and missing; text and `--output json`; exit codes 0, 1 and 2.

use std::path::Path;
use std::process::Command;

use haven_test_support::{ApiServer, FakeCluster};
use serde_json::{Value, json};

fn crd(group: &str, kind: &str, plural: &str) -> String {
    format!(
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: {plural}.{group}}}
spec:
  group: {group}
  names: {{kind: {kind}, listKind: {kind}List, plural: {plural}, singular: {singular}}}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}
    subresources: {{status: {{}}}}
",
        singular = kind.to_lowercase()
    )
}

/// RFC 3339 for `hours` ago.
fn ago(hours: i64) -> String {
    (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(hours)).to_string()
}

fn velero_backup(name: &str, schedule: &str, phase: &str, hours_ago: i64) -> Value {
    json!({"apiVersion": "velero.io/v1", "kind": "Backup",
        "metadata": {"name": name, "namespace": "velero",
                     "labels": {"velero.io/schedule-name": schedule}},
        "status": {"phase": phase, "startTimestamp": ago(hours_ago + 1),
                   "completionTimestamp": ago(hours_ago)}})
}

fn schedule(name: &str) -> Value {
    json!({"apiVersion": "velero.io/v1", "kind": "Schedule",
        "metadata": {"name": name, "namespace": "velero", "creationTimestamp": ago(24 * 30)},
        "spec": {"schedule": "0 2 * * *"}, "status": {"phase": "Enabled"}})
}

fn pg_cluster(name: &str, last_hours_ago: Option<i64>) -> Value {
    let mut c = json!({"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
        "metadata": {"name": name, "namespace": "keycloak", "creationTimestamp": ago(24 * 30)},
        "spec": {"instances": 3, "backup": {"barmanObjectStore": {"destinationPath": "s3://b/keycloak"}}},
        "status": {"conditions": [{"type": "ContinuousArchiving", "status": "True",
            "reason": "ContinuousArchivingSuccess", "message": "", "lastTransitionTime": ago(24 * 30)}]}});
    if let Some(h) = last_hours_ago {
        c["status"]["lastSuccessfulBackup"] = json!(ago(h));
    }
    c
}

fn fixture(objects: &[Value], with_crds: bool) -> String {
    let mut docs = Vec::new();
    if with_crds {
        for (group, kind, plural) in [
            (
                "velero.io",
                "BackupStorageLocation",
                "backupstoragelocations",
            ),
            ("velero.io", "Schedule", "schedules"),
            ("velero.io", "Backup", "backups"),
            ("postgresql.cnpg.io", "Cluster", "clusters"),
            ("postgresql.cnpg.io", "Backup", "backups"),
        ] {
            docs.push(crd(group, kind, plural));
        }
    }
    for ns in ["velero", "keycloak"] {
        docs.push(
            serde_yaml_ng::to_string(
                &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            )
            .unwrap(),
        );
    }
    for o in objects {
        docs.push(serde_yaml_ng::to_string(o).unwrap());
    }
    docs.join("---\n")
}

fn haven(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_haven"));
    cmd.args(["plus", "backups", "check", "--kubeconfig", "kubeconfig"])
        .args(args)
        .current_dir(dir)
        .env_remove("KUBECONFIG");
    cmd
}

fn run(objects: &[Value], with_crds: bool, args: &[&str]) -> (Option<i32>, String, String) {
    let cluster = FakeCluster::from_yaml("fixture.yaml", &fixture(objects, with_crds)).unwrap();
    let server = ApiServer::start_background(cluster).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("kubeconfig"),
        server.kubeconfig_yaml("test"),
    )
    .unwrap();
    let out = haven(tmp.path(), args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn location() -> Value {
    json!({"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
        "metadata": {"name": "default", "namespace": "velero"},
        "spec": {"provider": "aws", "objectStorage": {"bucket": "haven-backups"}},
        "status": {"phase": "Available"}})
}

#[test]
fn fresh_backups_pass() {
    let objects = [
        location(),
        schedule("platform-daily"),
        velero_backup("platform-daily-1", "platform-daily", "Completed", 3),
        pg_cluster("keycloak-db", Some(2)),
    ];
    let (code, stdout, stderr) = run(&objects, true, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.contains("velero/platform-daily"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        line.contains(" ok ") && line.contains("platform-daily-1"),
        "{line}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("keycloak/keycloak-db") && l.contains(" ok ")),
        "{stdout}"
    );
    assert!(stdout.contains("every latest backup is recent"), "{stdout}");
}

#[test]
fn stale_failed_and_missing_backups_fail_with_exit_1_in_text_and_json() {
    let objects = [
        location(),
        schedule("stale"),
        velero_backup("stale-1", "stale", "Completed", 50),
        schedule("failed"),
        velero_backup("failed-1", "failed", "Completed", 30),
        velero_backup("failed-2", "failed", "Failed", 5),
        schedule("missing"),
        pg_cluster("stale-db", Some(72)),
        pg_cluster("missing-db", None),
        json!({"apiVersion": "postgresql.cnpg.io/v1", "kind": "Backup",
            "metadata": {"name": "failed-db-1", "namespace": "keycloak"},
            "spec": {"cluster": {"name": "failed-db"}},
            "status": {"phase": "failed", "startedAt": ago(3), "stoppedAt": ago(3),
                       "error": "can't upload: AccessDenied"}}),
        pg_cluster("failed-db", Some(27)),
    ];
    let (code, stdout, stderr) = run(&objects, true, &[]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    for (object, state) in [
        ("velero/stale", "stale"),
        ("velero/failed", "failed"),
        ("velero/missing", "missing"),
        ("keycloak/stale-db", "stale"),
        ("keycloak/missing-db", "missing"),
        ("keycloak/failed-db", "failed"),
    ] {
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(object))
            .unwrap_or_else(|| panic!("{object}: {stdout}"));
        assert_eq!(line.split_whitespace().nth(2), Some(state), "{line}");
    }
    assert!(stdout.contains("AccessDenied"), "{stdout}");

    // A longer --max-age makes the stale ones recent.
    let (_, stdout, _) = run(&objects, true, &["--max-age", "80h", "-o", "json"]);
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["maxAgeSeconds"], 80 * 3600);
    let state = |name: &str| {
        doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {doc}"))["state"]
            .clone()
    };
    assert_eq!(state("stale"), "ok");
    assert_eq!(state("stale-db"), "ok");
    assert_eq!(state("failed"), "failed");
    assert_eq!(state("missing-db"), "missing");
    assert_eq!(state("default"), "ok");
}

#[test]
fn nothing_installed_is_exit_1_and_an_unreachable_cluster_exit_2() {
    let (code, stdout, stderr) = run(&[], false, &[]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("Velero is not installed"), "{stdout}");
    assert!(stdout.contains("nothing is backed up"), "{stdout}");

    let tmp = tempfile::tempdir().unwrap();
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    std::fs::write(
        tmp.path().join("kubeconfig"),
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"https://127.0.0.1:{port}\", insecure-skip-tls-verify: true}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\ncurrent-context: c\nusers:\n- name: u\n  user: {{token: t}}\n"
        ),
    )
    .unwrap();
    let out = haven(tmp.path(), &["--request-timeout", "5s"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("haven: error:"), "{stderr}");
}
