//! End to end: every fixture cluster served over HTTPS by the in-process fake API server,
//! read by the real kube client (`haven_cluster::collect`), judged by `run_checks`. Also paging,
//! injected 403/500/timeouts, the rwxvolumes write probe with a provisioner reactor, the
//! snapshot round trip and `--write-crd`.

use std::collections::BTreeMap;
use std::time::Duration;

use haven_checks::*;
use haven_cluster::probe::{RwxProbeOptions, rwx_probe};
use haven_cluster::*;
use haven_test_support::{Access, AccessRule, ApiServer, FakeCluster, synthetic};
use serde_json::json;

fn fixture(name: &str) -> FakeCluster {
    FakeCluster::named(name)
}

fn options(server: &ApiServer) -> CollectOptions {
    CollectOptions {
        request_timeout: Duration::from_secs(10),
        server: server.url(),
        context: None,
        progress: None,
    }
}

fn inputs(plus: bool) -> RunInputs {
    RunInputs {
        tool_version: env!("CARGO_PKG_VERSION").into(),
        binary_sha256: Some("0".repeat(64)),
        cncf: true,
        plus,
        ..Default::default()
    }
}

fn now() -> jiff::Timestamp {
    "2026-11-25T12:00:00Z".parse().unwrap()
}

fn judge(snapshot: &ClusterSnapshot, plus: bool) -> CheckRun {
    run_checks(
        snapshot,
        &CheckConfig::default(),
        &ReleaseData::embedded(),
        now(),
        &inputs(plus),
    )
}

fn outcomes(run: &CheckRun) -> BTreeMap<String, Outcome> {
    run.results
        .iter()
        .map(|r| (r.name.clone(), r.result))
        .collect()
}

fn result<'a>(run: &'a CheckRun, name: &str) -> &'a CheckResult {
    run.results.iter().find(|r| r.name == name).unwrap()
}

async fn check_fixture(name: &str, plus: bool) -> (CheckRun, ClusterSnapshot, u64, Vec<String>) {
    let server = ApiServer::start(fixture(name)).await.unwrap();
    let snapshot = collect(&server.client(), &options(&server)).await.unwrap();
    let run = judge(&snapshot, plus);
    let (count, requests) = (server.request_count(), server.requests());
    server.shutdown().await;
    (run, snapshot, count, requests)
}

fn expect(run: &CheckRun, expected: &[(&str, Outcome)]) {
    let got = outcomes(run);
    for (name, outcome) in expected {
        let r = result(run, name);
        assert_eq!(got[*name], *outcome, "{name}: {} ({})", r.reason, r.method);
    }
}

use Outcome::{No, Unknown, Yes};

#[tokio::test]
async fn compliant_cluster_is_compliant_with_a_self_built_binary() {
    let (run, snapshot, _, requests) = check_fixture("compliant.yaml", false).await;
    for r in &run.results {
        let want = if r.name == "shavalidation" {
            Outcome::Skipped
        } else {
            Yes
        };
        assert_eq!(r.result, want, "{}: {} ({})", r.name, r.reason, r.method);
    }
    assert_eq!(run.verdict, Verdict::Compliant);
    assert_eq!(
        run.verdict_line(),
        "compliant; shavalidation skipped: self-built binary"
    );
    assert_eq!(run.platform.as_ref().unwrap().name, "RKE2");
    assert_eq!(snapshot.nodes.value().unwrap().len(), 6);
    let logs = result(&run, "logs");
    assert!(logs.reason.contains("Grafana Alloy"), "{}", logs.reason);
    assert!(result(&run, "rwxvolumes").method.contains("nfs-rwx"));
    assert_eq!(
        result(&run, "multiaz").evidence["zones"],
        json!({"eu-nl-1a": 2, "eu-nl-1b": 2, "eu-nl-1c": 2})
    );
    // Read-only, and never Pods or Secrets.
    for r in &requests {
        assert!(
            r.starts_with("GET ") || r.contains("selfsubjectaccessreviews"),
            "a write: {r}"
        );
        assert!(!r.contains("/pods") && !r.contains("/secrets"), "read {r}");
    }
}

#[tokio::test]
async fn kind_dev_cluster() {
    let (run, ..) = check_fixture("kind-dev.yaml", false).await;
    expect(
        &run,
        &[
            ("clusteradmin", Yes),
            ("multiaz", No),
            ("hamasters", No),
            ("haworkers", No),
            ("nodehardening", Yes),
            ("privatenetworking", Yes),
            ("kubernetesversion", Yes),
            ("rbac", Yes),
            ("rwxvolumes", Unknown),
            ("cncf", Yes),
            ("autocerts", No),
            ("logs", No),
            ("metrics", No),
        ],
    );
    assert_eq!(run.platform.as_ref().unwrap().name, "kind");
    assert_eq!(run.verdict, Verdict::NotCompliant);
}

#[tokio::test]
async fn managed_eks_cluster_without_visible_control_plane() {
    let (run, ..) = check_fixture("managed-eks.yaml", false).await;
    expect(
        &run,
        &[
            ("multiaz", Yes),
            ("hamasters", Yes),
            ("haworkers", Yes),
            ("nodehardening", Yes),
            ("privatenetworking", Yes),
            ("kubernetesversion", No),
            ("rwxvolumes", Yes),
            ("cncf", Yes),
            ("metrics", Yes),
            ("autocerts", No),
            ("logs", No),
        ],
    );
    let p = run.platform.as_ref().unwrap();
    assert_eq!(p.name, "Amazon EKS");
    assert!(p.determined_by.contains("eks.amazonaws.com/nodegroup"));
    assert!(
        result(&run, "hamasters")
            .method
            .contains("managed platform")
    );
}

#[tokio::test]
async fn public_node_addresses_fail_privatenetworking_with_evidence() {
    let (run, ..) = check_fixture("public-nodes.yaml", false).await;
    let r = result(&run, "privatenetworking");
    assert_eq!(r.result, No);
    let addrs = r.evidence["externalAddresses"].as_array().unwrap();
    assert_eq!(addrs.len(), 4);
    assert!(addrs.contains(&json!({"node": "worker-1", "address": "203.0.113.20"})));
}

#[tokio::test]
async fn loki_alloy_cert_manager_and_metrics_server_pass_the_haven_plus_checks() {
    let (run, ..) = check_fixture("observability.yaml", true).await;
    expect(
        &run,
        &[
            ("autocerts", Yes),
            ("logs", Yes),
            ("metrics", Yes),
            ("hamasters", No),
            ("nodehardening", Yes),
            ("kubernetesversion", Yes),
            ("cncf", Yes),
        ],
    );
    assert_eq!(run.platform.as_ref().unwrap().name, "Talos Linux");
    let plus = run.plus.as_ref().unwrap();
    let logs = plus.iter().find(|c| c.capability == "logs").unwrap();
    assert_eq!(logs.status, CapabilityStatus::Provided, "{logs:?}");
    assert!(logs.problems.is_empty());
    let names: Vec<&str> = logs.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Grafana Alloy", "Grafana Loki"]);
}

#[tokio::test]
async fn failing_flux_helm_releases_show_in_the_plus_report() {
    let (run, snapshot, ..) = check_fixture("flux-failing.yaml", true).await;
    let releases = snapshot.custom_resources["helmreleases.helm.toolkit.fluxcd.io"]
        .value()
        .unwrap();
    assert_eq!(releases.len(), 4);
    let plus = run.plus.clone().unwrap();
    let cap = |n: &str| plus.iter().find(|c| c.capability == n).unwrap().clone();
    let admission = cap("admission policy");
    assert_eq!(admission.status, CapabilityStatus::Degraded);
    let kyverno = &admission.components[0];
    assert_eq!(kyverno.version.as_deref(), Some("3.9.0"));
    assert!(
        kyverno.problems.iter().any(
            |p| p.contains("HelmRelease flux-system/kyverno is not Ready: Helm install failed")
        ),
        "{:?}",
        kyverno.problems
    );
    assert!(
        kyverno
            .problems
            .iter()
            .any(|p| p.contains("kyverno-admission-controller is not available")),
        "{:?}",
        kyverno.problems
    );
    assert_eq!(cap("backups").status, CapabilityStatus::Degraded);
    assert_eq!(cap("certificates").status, CapabilityStatus::Provided);
    assert_eq!(cap("GitOps").status, CapabilityStatus::Provided);
    // Loki runs but no log agent ships to it: the capability agrees with the logs check (NO).
    let logs = cap("logs");
    assert_eq!(logs.status, CapabilityStatus::Degraded);
    assert_eq!(logs.components[0].name, "Grafana Loki");
    assert!(logs.components[0].healthy);
    assert!(
        logs.problems[0].starts_with("no log agent (logAgents) runs"),
        "{:?}",
        logs.problems
    );
    assert_eq!(result(&run, "logs").result, No);
    assert_eq!(
        cap("GitOps").components[0].version.as_deref(),
        Some("v1.7.0")
    );
    assert_eq!(cap("DNS").status, CapabilityStatus::Missing);
}

#[tokio::test]
async fn lists_are_paged_and_large_clusters_are_read_without_pods() {
    let server = ApiServer::start(synthetic(1203, 5000, 3)).await.unwrap();
    let snapshot = collect(&server.client(), &options(&server)).await.unwrap();
    assert_eq!(snapshot.nodes.value().unwrap().len(), 1203);
    let requests = server.requests();
    let node_pages: Vec<&String> = requests
        .iter()
        .filter(|r| r.starts_with("GET /api/v1/nodes"))
        .collect();
    assert_eq!(node_pages.len(), 3, "{node_pages:?}");
    assert!(node_pages.iter().all(|r| r.contains("limit=500")));
    assert!(node_pages[1].contains("continue="));
    assert!(
        !requests
            .iter()
            .any(|r| r.contains("/pods") || r.contains("/secrets"))
    );
    let run = judge(&snapshot, false);
    assert_eq!(result(&run, "multiaz").result, Yes);
    server.shutdown().await;
}

#[tokio::test]
async fn forbidden_nodes_make_only_the_node_checks_unknown() {
    let cluster = fixture("compliant.yaml");
    // Everything but nodes.
    cluster.set_access(Access::Rules(vec![
        AccessRule::new(
            &["get", "list", "watch"],
            &[
                "",
                "apps",
                "storage.k8s.io",
                "apiregistration.k8s.io",
                "apiextensions.k8s.io",
                "cert-manager.io",
                "helm.toolkit.fluxcd.io",
                "kustomize.toolkit.fluxcd.io",
                "source.toolkit.fluxcd.io",
            ],
            &[
                "namespaces",
                "persistentvolumeclaims",
                "storageclasses",
                "deployments",
                "daemonsets",
                "statefulsets",
                "apiservices",
                "customresourcedefinitions",
                "issuers",
                "clusterissuers",
                "helmreleases",
                "kustomizations",
                "gitrepositories",
                "helmrepositories",
                "ocirepositories",
            ],
        ),
        AccessRule::new(
            &["create"],
            &["authorization.k8s.io"],
            &["selfsubjectaccessreviews"],
        ),
    ]));
    let server = ApiServer::start(cluster).await.unwrap();
    let snapshot = collect(&server.client(), &options(&server)).await.unwrap();
    server.shutdown().await;
    assert!(
        matches!(&snapshot.nodes, Read::Forbidden { permission, .. } if permission == "list nodes (core)"),
        "{:?}",
        snapshot.nodes
    );
    let run = judge(&snapshot, false);
    for name in [
        "multiaz",
        "hamasters",
        "haworkers",
        "nodehardening",
        "privatenetworking",
    ] {
        let r = result(&run, name);
        assert_eq!(r.result, Unknown, "{name}");
        assert!(
            r.reason.contains("missing permission to list nodes (core)"),
            "{name}: {}",
            r.reason
        );
    }
    expect(
        &run,
        &[
            ("clusteradmin", No),
            ("rbac", Yes),
            ("metrics", Yes),
            ("logs", Yes),
            ("autocerts", Yes),
            ("rwxvolumes", Yes),
            ("kubernetesversion", Yes),
            ("cncf", Yes),
        ],
    );
}

#[tokio::test]
async fn server_errors_and_timeouts_make_only_their_checks_unknown() {
    let server = ApiServer::start(fixture("compliant.yaml")).await.unwrap();
    server
        .faults()
        .fail("/apis/apiregistration.k8s.io/v1/apiservices", 500);
    server.faults().delay(
        "/apis/storage.k8s.io/v1/storageclasses",
        Duration::from_secs(5),
    );
    let mut o = options(&server);
    o.request_timeout = Duration::from_millis(1500);
    let snapshot = collect(&server.client(), &o).await.unwrap();
    server.shutdown().await;
    let run = judge(&snapshot, false);
    let metrics = result(&run, "metrics");
    assert_eq!(metrics.result, Unknown);
    assert!(metrics.reason.contains("HTTP 500"), "{}", metrics.reason);
    let rwx = result(&run, "rwxvolumes");
    assert_eq!(rwx.result, Unknown);
    assert!(rwx.reason.contains("timed out"), "{}", rwx.reason);
    assert_eq!(run.summary.unknown, 2);
    assert_eq!(result(&run, "logs").result, Yes);
}

#[tokio::test]
async fn flux_kustomizations_and_sources_that_are_not_ready_degrade_gitops() {
    let cluster = fixture("flux-failing.yaml");
    cluster
        .apply(json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "platform", "namespace": "flux-system"},
            "spec": {"url": "https://git.example.nl/platform.git", "interval": "1m"},
            "status": {"conditions": [{"type": "Ready", "status": "True", "message": "stored artifact"}]}
        }))
        .unwrap();
    cluster
        .apply(json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": "apps", "namespace": "flux-system"},
            "spec": {"path": "./apps", "interval": "5m", "prune": true,
                     "sourceRef": {"kind": "GitRepository", "name": "platform"}},
            "status": {"conditions": [{"type": "Ready", "status": "False",
                       "message": "kustomization path not found: ./apps"}]}
        }))
        .unwrap();
    let server = ApiServer::start(cluster).await.unwrap();
    let snapshot = collect(&server.client(), &options(&server)).await.unwrap();
    server.shutdown().await;
    let run = judge(&snapshot, true);
    let plus = run.plus.unwrap();
    let gitops = plus.iter().find(|c| c.capability == "GitOps").unwrap();
    assert_eq!(gitops.status, CapabilityStatus::Degraded, "{gitops:?}");
    let flux = &gitops.components[0];
    assert_eq!(
        flux.problems,
        ["Kustomization flux-system/apps is not Ready: kustomization path not found: ./apps"]
    );
    assert!(
        flux.evidence
            .contains(&"1 GitRepository(s), 0 not Ready".to_owned()),
        "{:?}",
        flux.evidence
    );
    // The failing kyverno HelmRelease is Kyverno's problem, not Flux's.
    assert!(!flux.problems.iter().any(|p| p.contains("kyverno")));
}

#[tokio::test]
async fn progress_counts_every_read() {
    let server = ApiServer::start(fixture("flux-failing.yaml"))
        .await
        .unwrap();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut o = options(&server);
    o.progress = Some(done.clone());
    collect(&server.client(), &o).await.unwrap();
    server.shutdown().await;
    assert_eq!(
        done.load(std::sync::atomic::Ordering::Relaxed),
        haven_cluster::collect::READS
    );
}

#[tokio::test]
async fn a_slow_version_endpoint_alone_is_not_fatal_but_a_silent_server_is() {
    // Only /version hangs: the checks that need it are UNKNOWN, the rest are decided.
    let server = ApiServer::start(fixture("compliant.yaml")).await.unwrap();
    server.faults().delay("/version", Duration::from_secs(5));
    let mut o = options(&server);
    o.request_timeout = Duration::from_millis(800);
    let snapshot = collect(&server.client(), &o).await.unwrap();
    let run = judge(&snapshot, false);
    let k = result(&run, "kubernetesversion");
    assert_eq!(k.result, Unknown);
    assert!(k.reason.contains("timed out after 0.8s"), "{}", k.reason);
    expect(&run, &[("multiaz", Yes), ("logs", Yes), ("rbac", Yes)]);

    // Everything hangs: collect gives up after /version and discovery, with one clear error.
    server.faults().clear();
    server.faults().delay("/", Duration::from_secs(5));
    let started = std::time::Instant::now();
    let e = collect(&server.client(), &o).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(&e, ClusterError::Unreachable { detail, .. } if detail.contains("neither /version nor discovery answered within 0.8s")),
        "{e}"
    );

    // Everything fails with 500: no evidence at all, so no verdict.
    server.faults().clear();
    server.faults().fail("/", 500);
    let e = collect(&server.client(), &o).await.unwrap_err();
    assert!(
        e.to_string().contains("no read of the API server") && e.to_string().contains("HTTP 500"),
        "{e}"
    );

    // Only some reads forbidden or failing: still a snapshot (checked above and elsewhere).
    server.faults().clear();
    server.faults().fail("/api/v1/nodes", 500);
    assert!(collect(&server.client(), &o).await.is_ok());
    server.shutdown().await;
}

#[tokio::test]
async fn rwx_write_probe_binds_and_always_cleans_up() {
    let cluster = fixture("kind-dev.yaml");
    cluster.on_create("persistentvolumeclaims", |pvc| {
        pvc["status"] = json!({"phase": "Bound", "accessModes": ["ReadWriteMany"]});
    });
    let server = ApiServer::start(cluster).await.unwrap();
    let client = server.client();
    let o = RwxProbeOptions {
        storage_class: Some("standard".into()),
        timeout: Duration::from_secs(5),
        poll: Duration::from_millis(100),
        namespace: "haven-check-rwx-test".into(),
    };
    let probe = rwx_probe(&client, &o).await;
    assert_eq!(probe.passed, Some(true), "{probe:?}");
    assert!(
        server
            .cluster()
            .get("v1", "Namespace", None, "haven-check-rwx-test")
            .is_none(),
        "namespace deleted"
    );
    let requests = server.requests();
    assert!(
        requests.iter().any(|r| r
            .starts_with("POST /api/v1/namespaces/haven-check-rwx-test/persistentvolumeclaims")),
        "{requests:?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("DELETE /api/v1/namespaces/haven-check-rwx-test")),
        "{requests:?}"
    );
    let mut snapshot = collect(&client, &options(&server)).await.unwrap();
    snapshot.probes.push(probe);
    let run = judge(&snapshot, false);
    let rwx = result(&run, "rwxvolumes");
    assert_eq!(rwx.result, Yes);
    assert!(rwx.method.contains("write probe"));
    server.shutdown().await;

    // No provisioner: the claim stays Pending, the probe says NO, and still cleans up.
    let server = ApiServer::start(fixture("kind-dev.yaml")).await.unwrap();
    let o = RwxProbeOptions {
        timeout: Duration::from_millis(600),
        ..o
    };
    let probe = rwx_probe(&server.client(), &o).await;
    assert_eq!(probe.passed, Some(false), "{probe:?}");
    assert!(probe.detail.contains("still Pending"), "{}", probe.detail);
    assert!(
        server
            .cluster()
            .get("v1", "Namespace", None, "haven-check-rwx-test")
            .is_none()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_snapshot_gives_the_same_verdicts_offline() {
    for name in ["compliant.yaml", "kind-dev.yaml", "flux-failing.yaml"] {
        let (run, snapshot, ..) = check_fixture(name, true).await;
        let file = ClusterSnapshot::from_json("snap.json", &snapshot.to_json()).unwrap();
        assert_eq!(file, snapshot);
        assert_eq!(judge(&file, true), run, "{name}");
    }
}

#[tokio::test]
async fn write_crd_creates_the_definition_and_the_compliancy() {
    let server = ApiServer::start(fixture("kind-dev.yaml")).await.unwrap();
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "compliancies.haven.commonground.nl"},
        "spec": {"group": "haven.commonground.nl", "scope": "Cluster",
                 "names": {"kind": "Compliancy", "listKind": "CompliancyList", "plural": "compliancies", "singular": "compliancy"},
                 "versions": [{"name": "v1alpha1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    });
    let object = json!({"apiVersion": "haven.commonground.nl/v1alpha1", "kind": "Compliancy", "metadata": {"name": "haven-run-1"}, "spec": {"output": {"havenCompliant": false}}});
    let name = haven_cluster::write::write_compliancy(&server.client(), crd, object)
        .await
        .unwrap();
    assert_eq!(name, "haven-run-1");
    let stored = server
        .cluster()
        .get(
            "haven.commonground.nl/v1alpha1",
            "Compliancy",
            None,
            "haven-run-1",
        )
        .unwrap();
    assert_eq!(stored["spec"]["output"]["havenCompliant"], false);
    server.shutdown().await;
}

#[tokio::test]
async fn node_write_probe_reads_security_modules_per_node_and_cleans_up() {
    use haven_cluster::probe::{NodeProbeOptions, ProbeNode, node_probe};
    let cluster = fixture("kind-dev.yaml");
    // A kubelet that runs the probe: the node named in spec.nodeName reports its modules.
    cluster.on_create("pods", |pod| {
        let node = pod["spec"]["nodeName"].as_str().unwrap_or_default().to_owned();
        let lsm = if node == "plain" { "capability,yama" } else { "lockdown,capability,yama,apparmor" };
        pod["status"] = json!({"phase": "Succeeded", "containerStatuses": [{"name": "lsm", "image": "busybox", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": 0, "message": lsm}}}]});
    });
    let server = ApiServer::start(cluster).await.unwrap();
    let nodes = vec![
        ProbeNode {
            name: "kind-control-plane".into(),
            os_image: "Debian GNU/Linux 12 (bookworm)".into(),
            kernel: "6.8.0".into(),
        },
        ProbeNode {
            name: "flatcar-1".into(),
            os_image: "Flatcar Container Linux by Kinvolk 4152.2.0".into(),
            kernel: "6.6".into(),
        },
    ];
    let o = NodeProbeOptions {
        namespace: "haven-check-nodes-test".into(),
        timeout: Duration::from_secs(5),
        poll: Duration::from_millis(50),
        ..Default::default()
    };
    let probe = node_probe(&server.client(), &nodes, &o).await;
    assert_eq!(probe.passed, Some(true), "{probe:?}");
    assert_eq!(
        probe.facts["node/kind-control-plane"],
        "security modules: lockdown,capability,yama,apparmor"
    );
    assert!(probe.facts["node/flatcar-1"].contains("accepted as upstream does"));
    let pods: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("POST") && r.contains("/pods"))
        .collect();
    assert_eq!(pods.len(), 1, "Flatcar needs no pod: {pods:?}");
    assert!(
        server
            .cluster()
            .get("v1", "Namespace", None, "haven-check-nodes-test")
            .is_none()
    );

    let plain = vec![ProbeNode {
        name: "plain".into(),
        os_image: "Arch Linux".into(),
        kernel: "6.8".into(),
    }];
    let probe = node_probe(&server.client(), &plain, &o).await;
    assert_eq!(probe.passed, Some(false));
    assert!(probe.detail.contains("plain"), "{}", probe.detail);
    let mut snapshot = collect(&server.client(), &options(&server)).await.unwrap();
    snapshot.probes.push(probe);
    let run = judge(&snapshot, false);
    assert_eq!(result(&run, "nodehardening").result, No);
    server.shutdown().await;
}

/// The platforms of issue #23 with the verdicts upstream gives them, on 2026-12-07 (1.37 is the
/// latest release, 1.38 is due 2026-12-16). A self-built binary: shavalidation SKIPPED, which
/// does not count against compliance.
#[tokio::test]
async fn platform_fixtures_get_upstreams_verdicts() {
    let today: jiff::Timestamp = "2026-12-07T10:00:00Z".parse().unwrap();
    type Case<'a> = (&'a str, &'a str, Verdict, &'a [(&'a str, Outcome)]);
    let cases: &[Case<'_>] = &[
        (
            "rke2-1.36.yaml",
            "RKE2",
            Verdict::Compliant,
            &[("cncf", Yes), ("kubernetesversion", Yes)],
        ),
        (
            "rke2-1.37.yaml",
            "RKE2",
            Verdict::Compliant,
            &[("cncf", Yes), ("kubernetesversion", Yes)],
        ),
        (
            "compliant.yaml",
            "RKE2",
            Verdict::Compliant,
            &[("cncf", Yes)],
        ),
        (
            "kubeadm.yaml",
            "kubeadm",
            Verdict::Compliant,
            &[("cncf", Yes), ("nodehardening", Yes)],
        ),
        (
            "talos.yaml",
            "Talos Linux",
            Verdict::Compliant,
            &[("cncf", Yes), ("nodehardening", Yes)],
        ),
        // EKS 1.33: four minors behind 1.37; certified; managed control plane passes hamasters.
        (
            "managed-eks.yaml",
            "Amazon EKS",
            Verdict::NotCompliant,
            &[("cncf", Yes), ("hamasters", Yes), ("kubernetesversion", No)],
        ),
        (
            "public-nodes.yaml",
            "",
            Verdict::NotCompliant,
            &[("privatenetworking", No)],
        ),
    ];
    for (file, platform, verdict, expected) in cases {
        let server = ApiServer::start(fixture(file)).await.unwrap();
        let snapshot = collect(&server.client(), &options(&server)).await.unwrap();
        server.shutdown().await;
        let run = run_checks(
            &snapshot,
            &CheckConfig::default(),
            &ReleaseData::embedded(),
            today,
            &inputs(false),
        );
        let got = run
            .platform
            .as_ref()
            .map(|p| p.name.as_str())
            .unwrap_or_default();
        assert_eq!(got, *platform, "{file}: platform");
        for (name, outcome) in *expected {
            let r = result(&run, name);
            assert_eq!(
                r.result, *outcome,
                "{file}: {name}: {} ({})",
                r.reason, r.method
            );
        }
        let failing: Vec<String> = run
            .results
            .iter()
            .filter(|r| !r.passing())
            .map(|r| format!("{} {:?}: {}", r.name, r.result, r.reason))
            .collect();
        assert_eq!(run.verdict, *verdict, "{file}: {failing:#?}");
        if *verdict == Verdict::Compliant {
            assert_eq!(
                run.verdict_line(),
                "compliant; shavalidation skipped: self-built binary",
                "{file}"
            );
        }
    }
}
