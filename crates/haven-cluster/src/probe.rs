//! Write probes, run only with `--allow-writes`.
//!
//! `rwxvolumes`: upstream proves that ReadWriteMany volumes can be provisioned by creating a claim
//! and waiting for it to bind. We do the same, but in a namespace of our own (so nothing of the
//! user's is touched and one delete removes everything), with a deadline, and with cleanup that
//! always runs: after success, failure, timeout, and on Ctrl-C.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{
    Namespace, PersistentVolumeClaim, PersistentVolumeClaimSpec, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Client;
use kube::api::{Api, DeleteParams, PostParams};

use crate::error::ProbeError;
use crate::snapshot::ProbeRecord;

/// Label on everything a probe creates, so leftovers can be found: `kubectl get ns -l haven.commonground.nl/probe`.
pub const PROBE_LABEL: &str = "haven.commonground.nl/probe";

#[derive(Debug, Clone)]
pub struct RwxProbeOptions {
    /// The StorageClass to claim from; `None` uses the cluster default.
    pub storage_class: Option<String>,
    /// How long to wait for `Bound`.
    pub timeout: Duration,
    /// How often to look.
    pub poll: Duration,
    /// Namespace name; unique per run by default.
    pub namespace: String,
}

impl Default for RwxProbeOptions {
    fn default() -> Self {
        RwxProbeOptions {
            storage_class: None,
            timeout: Duration::from_secs(180),
            poll: Duration::from_secs(2),
            namespace: format!("haven-check-rwx-{}", jiff::Timestamp::now().as_second()),
        }
    }
}

/// Create a ReadWriteMany claim in a fresh namespace, wait for it to bind, delete the namespace.
/// The namespace is deleted in every case, including Ctrl-C (then the run ends as interrupted).
pub async fn rwx_probe(client: &Client, options: &RwxProbeOptions) -> ProbeRecord {
    let outcome = tokio::select! {
        r = rwx_probe_inner(client, options) => r,
        _ = tokio::signal::ctrl_c() => Err(ProbeError::Interrupted),
    };
    let cleanup = cleanup(client, &options.namespace).await;
    let mut facts = BTreeMap::new();
    facts.insert("namespace".to_owned(), options.namespace.clone());
    facts.insert(
        "storageClass".to_owned(),
        options
            .storage_class
            .clone()
            .unwrap_or_else(|| "(cluster default)".into()),
    );
    facts.insert(
        "cleanup".to_owned(),
        cleanup.unwrap_or_else(|e| e.to_string()),
    );
    match outcome {
        Ok((phase, waited)) => {
            facts.insert("phase".to_owned(), phase.clone());
            facts.insert("waitedSeconds".to_owned(), waited.as_secs().to_string());
            let passed = phase == "Bound";
            ProbeRecord {
                check: "rwxvolumes".into(),
                passed: Some(passed),
                detail: if passed {
                    format!(
                        "write probe: a ReadWriteMany claim bound after {}s",
                        waited.as_secs()
                    )
                } else {
                    format!(
                        "write probe: a ReadWriteMany claim was still {phase} after {}s",
                        waited.as_secs()
                    )
                },
                facts,
                interrupted: false,
            }
        }
        Err(message) => ProbeRecord {
            check: "rwxvolumes".into(),
            passed: None,
            interrupted: matches!(message, ProbeError::Interrupted),
            detail: format!("write probe could not run: {message}"),
            facts,
        },
    }
}

async fn rwx_probe_inner(
    client: &Client,
    o: &RwxProbeOptions,
) -> Result<(String, Duration), ProbeError> {
    let labels = BTreeMap::from([(PROBE_LABEL.to_owned(), "rwxvolumes".to_owned())]);
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(o.namespace.clone()),
            labels: Some(labels.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    tokio::time::timeout(o.timeout, namespaces.create(&PostParams::default(), &ns))
        .await
        .map_err(ProbeError::timed_out("creating the namespace"))?
        .map_err(ProbeError::api(format!("create namespace {}", o.namespace)))?;
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &o.namespace);
    let claim = PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some("haven-rwx-probe".into()),
            labels: Some(labels),
            ..Default::default()
        },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteMany".into()]),
            storage_class_name: o.storage_class.clone(),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_owned(),
                    Quantity("1Mi".into()),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    tokio::time::timeout(o.timeout, claims.create(&PostParams::default(), &claim))
        .await
        .map_err(ProbeError::timed_out("creating the claim"))?
        .map_err(ProbeError::api("create persistentvolumeclaim"))?;
    let start = Instant::now();
    loop {
        let phase = match tokio::time::timeout(
            o.poll.max(Duration::from_secs(5)),
            claims.get("haven-rwx-probe"),
        )
        .await
        {
            Ok(Ok(c)) => c
                .status
                .and_then(|s| s.phase)
                .unwrap_or_else(|| "Pending".into()),
            Ok(Err(e)) => return Err(ProbeError::api("get persistentvolumeclaim")(e)),
            Err(_) => "Pending".into(),
        };
        if phase == "Bound" || start.elapsed() >= o.timeout {
            return Ok((phase, start.elapsed()));
        }
        tokio::time::sleep(o.poll).await;
    }
}

/// Delete the probe namespace (its claim goes with it). Errors are reported, not hidden: a
/// leftover namespace is something the operator must know about.
async fn cleanup(client: &Client, namespace: &str) -> Result<String, ProbeError> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    match tokio::time::timeout(
        Duration::from_secs(30),
        namespaces.delete(namespace, &DeleteParams::default()),
    )
    .await
    {
        Ok(Ok(_)) => Ok(format!("namespace {namespace} deleted")),
        Ok(Err(kube::Error::Api(s))) if s.code == 404 => {
            Ok(format!("namespace {namespace} was not created"))
        }
        Ok(Err(e)) => Err(ProbeError::Leftover {
            namespace: namespace.to_owned(),
            detail: e.to_string(),
        }),
        Err(_) => Err(ProbeError::Leftover {
            namespace: namespace.to_owned(),
            detail: "deleting it timed out".to_owned(),
        }),
    }
}

/// `nodehardening` with `--allow-writes`: as upstream, one short-lived pod per node reads the
/// kernel's active security modules. The pod reports through its termination message (no
/// `pods/log` permission needed): `/sys/kernel/security/lsm`, plus `lkrg` when that module is
/// loaded. A node passes with SELinux, AppArmor or LKRG active, a grsecurity kernel, or (as
/// upstream) Talos or Flatcar.
#[derive(Debug, Clone)]
pub struct NodeProbeOptions {
    pub namespace: String,
    /// A small image with `sh` and `cat`.
    pub image: String,
    pub timeout: Duration,
    pub poll: Duration,
    /// Pods created at once.
    pub concurrency: usize,
}

impl Default for NodeProbeOptions {
    fn default() -> Self {
        NodeProbeOptions {
            namespace: format!("haven-check-nodes-{}", jiff::Timestamp::now().as_second()),
            image: "busybox:1.37".into(),
            timeout: Duration::from_secs(120),
            poll: Duration::from_secs(2),
            concurrency: 16,
        }
    }
}

/// A node as the node probe needs it: name, OS image and kernel (for the Talos/Flatcar and
/// grsecurity rules, which need no pod).
#[derive(Debug, Clone)]
pub struct ProbeNode {
    pub name: String,
    pub os_image: String,
    pub kernel: String,
}

/// Judge one node from its reported security modules.
pub fn node_hardened(node: &ProbeNode, lsm: Option<&str>) -> Option<(bool, String)> {
    let os = node.os_image.to_ascii_lowercase();
    if os.contains("talos") || os.contains("flatcar") {
        return Some((
            true,
            format!("{} (accepted as upstream does)", node.os_image),
        ));
    }
    if node.kernel.to_ascii_lowercase().contains("grsec") {
        return Some((true, format!("grsecurity kernel {}", node.kernel)));
    }
    let lsm = lsm?;
    let modules: Vec<&str> = lsm
        .trim()
        .split([',', '\n'])
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .collect();
    let hardened = modules
        .iter()
        .any(|m| matches!(*m, "selinux" | "apparmor" | "lkrg"));
    Some((hardened, format!("security modules: {}", modules.join(","))))
}

pub async fn node_probe(
    client: &Client,
    nodes: &[ProbeNode],
    options: &NodeProbeOptions,
) -> ProbeRecord {
    let outcome = tokio::select! {
        r = node_probe_inner(client, nodes, options) => r,
        _ = tokio::signal::ctrl_c() => Err(ProbeError::Interrupted),
    };
    let cleanup = cleanup(client, &options.namespace).await;
    let mut facts = BTreeMap::new();
    facts.insert("namespace".to_owned(), options.namespace.clone());
    facts.insert(
        "cleanup".to_owned(),
        cleanup.unwrap_or_else(|e| e.to_string()),
    );
    match outcome {
        Err(message) => ProbeRecord {
            check: "nodehardening".into(),
            passed: None,
            interrupted: matches!(message, ProbeError::Interrupted),
            detail: format!("write probe could not run: {message}"),
            facts,
        },
        Ok(per_node) => {
            let mut unhardened = Vec::new();
            let mut unanswered = Vec::new();
            for (node, verdict) in &per_node {
                match verdict {
                    Some((ok, detail)) => {
                        facts.insert(format!("node/{}", node.name), detail.clone());
                        if !ok {
                            unhardened.push(node.name.clone());
                        }
                    }
                    None => unanswered.push(node.name.clone()),
                }
            }
            let (passed, detail) = if !unhardened.is_empty() {
                (
                    Some(false),
                    format!(
                        "write probe: {} node(s) without SELinux, AppArmor or LKRG: {}",
                        unhardened.len(),
                        unhardened.join(", ")
                    ),
                )
            } else if !unanswered.is_empty() {
                (
                    None,
                    format!(
                        "write probe: no answer within {}s from {}",
                        options.timeout.as_secs(),
                        unanswered.join(", ")
                    ),
                )
            } else {
                (
                    Some(true),
                    format!(
                        "write probe: all {} node(s) run a security module",
                        per_node.len()
                    ),
                )
            };
            ProbeRecord {
                check: "nodehardening".into(),
                passed,
                detail,
                facts,
                interrupted: false,
            }
        }
    }
}

type NodeVerdict = (ProbeNode, Option<(bool, String)>);

async fn node_probe_inner(
    client: &Client,
    nodes: &[ProbeNode],
    o: &NodeProbeOptions,
) -> Result<Vec<NodeVerdict>, ProbeError> {
    use futures::StreamExt;
    use k8s_openapi::api::core::v1::{
        Container, HostPathVolumeSource, Pod, PodSpec, Toleration, Volume, VolumeMount,
    };

    // Nodes decided by OS or kernel need no pod.
    let need_pod: Vec<&ProbeNode> = nodes
        .iter()
        .filter(|n| node_hardened(n, None).is_none())
        .collect();
    let mut out: Vec<NodeVerdict> = nodes
        .iter()
        .filter_map(|n| node_hardened(n, None).map(|v| (n.clone(), Some(v))))
        .collect();
    if need_pod.is_empty() {
        return Ok(out);
    }
    // hostPath volumes need the privileged Pod Security level.
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns = privileged_probe_namespace(&o.namespace, "nodehardening");
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .map_err(ProbeError::api(format!("create namespace {}", o.namespace)))?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &o.namespace);
    let host = |name: &str, path: &str| Volume {
        name: name.into(),
        host_path: Some(HostPathVolumeSource {
            path: path.into(),
            type_: Some("Directory".into()),
        }),
        ..Default::default()
    };
    let script = "cat /host/security/lsm > /dev/termination-log 2>/dev/null; [ -d /host/module/lkrg ] && printf ',lkrg' >> /dev/termination-log; exit 0";
    let deadline = std::time::Instant::now() + o.timeout;
    let results = futures::stream::iter(need_pod.into_iter().enumerate())
        .map(|(i, node)| {
            let pods = pods.clone();
            let pod = Pod {
                metadata: ObjectMeta {
                    name: Some(format!("haven-lsm-{i}")),
                    labels: Some(BTreeMap::from([(
                        PROBE_LABEL.to_owned(),
                        "nodehardening".to_owned(),
                    )])),
                    ..Default::default()
                },
                spec: Some(PodSpec {
                    node_name: Some(node.name.clone()),
                    restart_policy: Some("Never".into()),
                    tolerations: Some(vec![Toleration {
                        operator: Some("Exists".into()),
                        ..Default::default()
                    }]),
                    automount_service_account_token: Some(false),
                    containers: vec![Container {
                        name: "lsm".into(),
                        image: Some(o.image.clone()),
                        command: Some(vec!["sh".into(), "-c".into(), script.into()]),
                        volume_mounts: Some(vec![
                            VolumeMount {
                                name: "security".into(),
                                mount_path: "/host/security".into(),
                                read_only: Some(true),
                                ..Default::default()
                            },
                            VolumeMount {
                                name: "module".into(),
                                mount_path: "/host/module".into(),
                                read_only: Some(true),
                                ..Default::default()
                            },
                        ]),
                        ..Default::default()
                    }],
                    volumes: Some(vec![
                        host("security", "/sys/kernel/security"),
                        host("module", "/sys/module"),
                    ]),
                    ..Default::default()
                }),
                ..Default::default()
            };
            async move {
                let name = pod.metadata.name.clone().unwrap_or_default();
                if let Err(e) = pods.create(&PostParams::default(), &pod).await {
                    return (
                        node.clone(),
                        Some((false, format!("probe pod not created: {e}"))),
                    );
                }
                loop {
                    if let Ok(p) = pods.get(&name).await {
                        let terminated = p
                            .status
                            .and_then(|s| s.container_statuses)
                            .and_then(|cs| cs.into_iter().next())
                            .and_then(|c| c.state)
                            .and_then(|s| s.terminated);
                        if let Some(t) = terminated {
                            let message = t.message.unwrap_or_default();
                            return (node.clone(), node_hardened(node, Some(&message)));
                        }
                    }
                    if std::time::Instant::now() >= deadline {
                        return (node.clone(), None);
                    }
                    tokio::time::sleep(o.poll).await;
                }
            }
        })
        .buffer_unordered(o.concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    out.extend(results);
    out.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    Ok(out)
}

/// `--cis --allow-writes`: the CIS Kubernetes Benchmark with kube-bench, run where it can see
/// what it judges, on the nodes: one Job per node, pinned to it, in a namespace of its own,
/// shaped as kube-bench's own `job.yaml` (hostPID, the node's Kubernetes, kubelet, etcd, CNI and
/// systemd directories mounted read-only), with `--json`. Its result is read from the pod's log
/// (the JSON is too large for a termination message), so the run needs `create` on jobs and `get`
/// on `pods/log` in that namespace. The namespace goes afterwards, also on failure, timeout and
/// Ctrl-C.
#[derive(Debug, Clone)]
pub struct CisProbeOptions {
    pub namespace: String,
    /// kube-bench's image, pinned by version as in kube-bench's `job.yaml`.
    pub image: String,
    /// How long each node's Job may take (also its `activeDeadlineSeconds`).
    pub timeout: Duration,
    pub poll: Duration,
    /// Jobs created at once.
    pub concurrency: usize,
}

/// The kube-bench release whose `job.yaml` the Job follows.
pub const KUBE_BENCH_IMAGE: &str = "docker.io/aquasec/kube-bench:v0.15.6";

impl Default for CisProbeOptions {
    fn default() -> Self {
        CisProbeOptions {
            namespace: format!("haven-check-cis-{}", jiff::Timestamp::now().as_second()),
            image: KUBE_BENCH_IMAGE.into(),
            timeout: Duration::from_secs(180),
            poll: Duration::from_secs(2),
            concurrency: 16,
        }
    }
}

/// kube-bench's totals on one node, and the benchmark items that failed (`1.1.12`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeBenchResult {
    pub pass: u64,
    pub fail: u64,
    pub warn: u64,
    pub info: u64,
    pub failed: Vec<String>,
}

/// Read kube-bench's `--json` output from a pod log. The log also carries kube-bench's stderr
/// (warnings about files it could not find), so the JSON is the last line that parses as an
/// object with `Totals`.
pub fn parse_kube_bench(log: &str) -> Result<KubeBenchResult, ProbeError> {
    #[derive(serde::Deserialize)]
    struct Output {
        #[serde(rename = "Controls", default)]
        controls: Vec<Controls>,
        #[serde(rename = "Totals")]
        totals: Totals,
    }
    #[derive(serde::Deserialize)]
    struct Controls {
        #[serde(default)]
        tests: Vec<Group>,
    }
    #[derive(serde::Deserialize)]
    struct Group {
        #[serde(default)]
        results: Vec<CheckOut>,
    }
    #[derive(serde::Deserialize)]
    struct CheckOut {
        #[serde(default)]
        test_number: String,
        #[serde(default)]
        status: String,
    }
    #[derive(serde::Deserialize)]
    struct Totals {
        #[serde(default)]
        total_pass: u64,
        #[serde(default)]
        total_fail: u64,
        #[serde(default)]
        total_warn: u64,
        #[serde(default)]
        total_info: u64,
    }
    let out = log
        .lines()
        .rev()
        .map(str::trim)
        .filter(|l| l.starts_with('{'))
        .find_map(|l| serde_json::from_str::<Output>(l).ok())
        .ok_or_else(|| {
            let last = log
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            ProbeError::Output(format!(
                "no kube-bench JSON with Totals in the log (last line: {last:?})"
            ))
        })?;
    let failed = out
        .controls
        .iter()
        .flat_map(|c| &c.tests)
        .flat_map(|g| &g.results)
        .filter(|r| r.status == "FAIL")
        .map(|r| r.test_number.clone())
        .collect();
    Ok(KubeBenchResult {
        pass: out.totals.total_pass,
        fail: out.totals.total_fail,
        warn: out.totals.total_warn,
        info: out.totals.total_info,
        failed,
    })
}

/// One node's line in the evidence.
fn kube_bench_line(r: &KubeBenchResult) -> String {
    let mut line = format!("{} passed, {} failed, {} warnings", r.pass, r.fail, r.warn);
    if !r.failed.is_empty() {
        let shown: Vec<&str> = r.failed.iter().take(20).map(String::as_str).collect();
        line.push_str(&format!(
            " (failed: {}{})",
            shown.join(", "),
            if r.failed.len() > shown.len() {
                ", ..."
            } else {
                ""
            }
        ));
    }
    line
}

pub async fn cis_probe(
    client: &Client,
    nodes: &[ProbeNode],
    options: &CisProbeOptions,
) -> ProbeRecord {
    let outcome = tokio::select! {
        r = cis_probe_inner(client, nodes, options) => r,
        _ = tokio::signal::ctrl_c() => Err(ProbeError::Interrupted),
    };
    let cleanup = cleanup(client, &options.namespace).await;
    let mut facts = BTreeMap::new();
    facts.insert("namespace".to_owned(), options.namespace.clone());
    facts.insert("image".to_owned(), options.image.clone());
    facts.insert(
        "cleanup".to_owned(),
        cleanup.unwrap_or_else(|e| e.to_string()),
    );
    let per_node = match outcome {
        Err(message) => {
            return ProbeRecord {
                check: "cis".into(),
                passed: None,
                interrupted: matches!(message, ProbeError::Interrupted),
                detail: format!("kube-bench could not run: {message}"),
                facts,
            };
        }
        Ok(r) => r,
    };
    let (mut pass, mut fail, mut warn) = (0, 0, 0);
    let mut failing = Vec::new();
    let mut unanswered = Vec::new();
    for (node, result) in &per_node {
        match result {
            Ok(r) => {
                pass += r.pass;
                fail += r.fail;
                warn += r.warn;
                if r.fail > 0 {
                    failing.push(node.clone());
                }
                facts.insert(format!("node/{node}"), kube_bench_line(r));
            }
            Err(e) => {
                unanswered.push(node.clone());
                facts.insert(format!("node/{node}"), e.to_string());
            }
        }
    }
    let totals = format!(
        "kube-bench on {} node(s): {pass} passed, {fail} failed, {warn} warnings",
        per_node.len() - unanswered.len()
    );
    let (passed, detail) = if !failing.is_empty() {
        (
            Some(false),
            format!(
                "{totals}; failures on {}{}",
                failing.join(", "),
                if unanswered.is_empty() {
                    String::new()
                } else {
                    format!("; no result from {}", unanswered.join(", "))
                }
            ),
        )
    } else if !unanswered.is_empty() {
        (
            None,
            format!("{totals}; no result from {}", unanswered.join(", ")),
        )
    } else if per_node.is_empty() {
        (None, "no nodes to run kube-bench on".to_owned())
    } else {
        (Some(true), totals)
    };
    ProbeRecord {
        check: "cis".into(),
        passed,
        detail,
        facts,
        interrupted: false,
    }
}

type NodeBench = (String, Result<KubeBenchResult, ProbeError>);

async fn cis_probe_inner(
    client: &Client,
    nodes: &[ProbeNode],
    o: &CisProbeOptions,
) -> Result<Vec<NodeBench>, ProbeError> {
    use futures::StreamExt;
    use k8s_openapi::api::batch::v1::{Job, JobSpec};
    use k8s_openapi::api::core::v1::{
        Container, HostPathVolumeSource, Pod, PodSpec, PodTemplateSpec, Toleration, Volume,
        VolumeMount,
    };
    use kube::api::{ListParams, LogParams};

    // hostPID and hostPath volumes need the privileged Pod Security level.
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns = privileged_probe_namespace(&o.namespace, "cis");
    tokio::time::timeout(o.timeout, namespaces.create(&PostParams::default(), &ns))
        .await
        .map_err(ProbeError::timed_out("creating the namespace"))?
        .map_err(ProbeError::api(format!("create namespace {}", o.namespace)))?;
    let jobs: Api<Job> = Api::namespaced(client.clone(), &o.namespace);
    let pods: Api<Pod> = Api::namespaced(client.clone(), &o.namespace);
    // kube-bench's job.yaml: (volume name, host path, mount path).
    const MOUNTS: [(&str, &str, &str); 12] = [
        ("var-lib-cni", "/var/lib/cni", "/var/lib/cni"),
        ("var-lib-etcd", "/var/lib/etcd", "/var/lib/etcd"),
        ("var-lib-kubelet", "/var/lib/kubelet", "/var/lib/kubelet"),
        (
            "var-lib-kube-scheduler",
            "/var/lib/kube-scheduler",
            "/var/lib/kube-scheduler",
        ),
        (
            "var-lib-kube-controller-manager",
            "/var/lib/kube-controller-manager",
            "/var/lib/kube-controller-manager",
        ),
        ("etc-systemd", "/etc/systemd", "/etc/systemd"),
        ("lib-systemd", "/lib/systemd", "/lib/systemd/"),
        ("srv-kubernetes", "/srv/kubernetes", "/srv/kubernetes/"),
        ("etc-kubernetes", "/etc/kubernetes", "/etc/kubernetes"),
        ("usr-bin", "/usr/bin", "/usr/local/mount-from-host/bin"),
        ("etc-cni-netd", "/etc/cni/net.d/", "/etc/cni/net.d/"),
        ("opt-cni-bin", "/opt/cni/bin/", "/opt/cni/bin/"),
    ];
    let deadline = Instant::now() + o.timeout;
    let results = futures::stream::iter(nodes.iter().enumerate())
        .map(|(i, node)| {
            let (jobs, pods) = (jobs.clone(), pods.clone());
            let name = format!("haven-kube-bench-{i}");
            let job = Job {
                metadata: ObjectMeta {
                    name: Some(name.clone()),
                    labels: Some(BTreeMap::from([(PROBE_LABEL.to_owned(), "cis".to_owned())])),
                    ..Default::default()
                },
                spec: Some(JobSpec {
                    backoff_limit: Some(0),
                    active_deadline_seconds: Some(o.timeout.as_secs().max(1) as i64),
                    template: PodTemplateSpec {
                        metadata: Some(ObjectMeta {
                            labels: Some(BTreeMap::from([(
                                PROBE_LABEL.to_owned(),
                                "cis".to_owned(),
                            )])),
                            ..Default::default()
                        }),
                        spec: Some(PodSpec {
                            node_name: Some(node.name.clone()),
                            host_pid: Some(true),
                            restart_policy: Some("Never".into()),
                            // kube-bench reads the node's files; it needs no API access.
                            automount_service_account_token: Some(false),
                            tolerations: Some(vec![Toleration {
                                operator: Some("Exists".into()),
                                ..Default::default()
                            }]),
                            containers: vec![Container {
                                name: "kube-bench".into(),
                                image: Some(o.image.clone()),
                                command: Some(vec!["kube-bench".into(), "--json".into()]),
                                volume_mounts: Some(
                                    MOUNTS
                                        .iter()
                                        .map(|(v, _, m)| VolumeMount {
                                            name: (*v).into(),
                                            mount_path: (*m).into(),
                                            read_only: Some(true),
                                            ..Default::default()
                                        })
                                        .collect(),
                                ),
                                ..Default::default()
                            }],
                            volumes: Some(
                                MOUNTS
                                    .iter()
                                    .map(|(v, h, _)| Volume {
                                        name: (*v).into(),
                                        host_path: Some(HostPathVolumeSource {
                                            path: (*h).into(),
                                            type_: None,
                                        }),
                                        ..Default::default()
                                    })
                                    .collect(),
                            ),
                            ..Default::default()
                        }),
                    },
                    ..Default::default()
                }),
                ..Default::default()
            };
            async move {
                let node = node.name.clone();
                if let Err(e) = jobs.create(&PostParams::default(), &job).await {
                    return (node, Err(ProbeError::api("job not created")(e)));
                }
                // Wait for the Job to finish (kube-bench exits 0 also when items fail).
                let finished = loop {
                    if let Ok(j) = jobs.get(&name).await
                        && let Some(st) = j.status
                        && (st.succeeded.unwrap_or(0) > 0 || st.failed.unwrap_or(0) > 0)
                    {
                        break true;
                    }
                    if Instant::now() >= deadline {
                        break false;
                    }
                    tokio::time::sleep(o.poll).await;
                };
                if !finished {
                    return (
                        node,
                        Err(ProbeError::TimedOut {
                            what: format!("kube-bench (within {}s)", o.timeout.as_secs()),
                        }),
                    );
                }
                let list = ListParams::default().labels(&format!("job-name={name}"));
                let pod = match pods.list(&list).await {
                    Ok(l) => l.items.into_iter().next(),
                    Err(e) => return (node, Err(ProbeError::api("list the job's pod")(e))),
                };
                let Some(pod_name) = pod.and_then(|p| p.metadata.name) else {
                    return (
                        node,
                        Err(ProbeError::Output(format!("job {name} has no pod"))),
                    );
                };
                match pods.logs(&pod_name, &LogParams::default()).await {
                    Ok(log) => (node, parse_kube_bench(&log)),
                    Err(e) => (
                        node,
                        Err(ProbeError::api(format!("read the log of pod {pod_name}"))(
                            e,
                        )),
                    ),
                }
            }
        })
        .buffer_unordered(o.concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    let mut results = results;
    results.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(results)
}

/// The throw-away namespace of a probe whose pods need the privileged Pod Security level,
/// labelled with the probe's name so that cleanup finds it.
fn privileged_probe_namespace(name: &str, probe: &str) -> Namespace {
    Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(BTreeMap::from([
                (PROBE_LABEL.to_owned(), probe.to_owned()),
                (
                    "pod-security.kubernetes.io/enforce".to_owned(),
                    "privileged".to_owned(),
                ),
            ])),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(os: &str, kernel: &str) -> ProbeNode {
        ProbeNode {
            name: "n".into(),
            os_image: os.into(),
            kernel: kernel.into(),
        }
    }

    #[test]
    fn node_verdicts() {
        assert!(
            node_hardened(&node("Flatcar Container Linux", "6.6"), None)
                .unwrap()
                .0
        );
        assert!(
            node_hardened(&node("Talos (v1.11)", "6.12"), None)
                .unwrap()
                .0
        );
        assert!(node_hardened(&node("Debian", "6.1-grsec"), None).unwrap().0);
        assert!(
            node_hardened(&node("Ubuntu", "6.8"), None).is_none(),
            "needs the pod"
        );
        assert!(
            node_hardened(
                &node("Ubuntu", "6.8"),
                Some("lockdown,capability,landlock,yama,apparmor")
            )
            .unwrap()
            .0
        );
        assert!(
            node_hardened(&node("Arch", "6.8"), Some("capability,lkrg"))
                .unwrap()
                .0
        );
        let (ok, detail) = node_hardened(&node("Arch", "6.8"), Some("capability,yama\n")).unwrap();
        assert!(!ok);
        assert_eq!(detail, "security modules: capability,yama");
    }

    #[test]
    fn kube_bench_output() {
        let log = concat!(
            "W1207 12:00:00 util.go:1] config file not found: /etc/kubernetes/scheduler.conf\n",
            r#"{"Controls":[{"id":"1","tests":[{"section":"1.1","results":[{"test_number":"1.1.1","status":"PASS"},{"test_number":"1.1.12","status":"FAIL"}]}]},{"id":"4","tests":[{"section":"4.2","results":[{"test_number":"4.2.6","status":"FAIL"},{"test_number":"4.2.7","status":"WARN"}]}]}],"Totals":{"total_pass":60,"total_fail":2,"total_warn":11,"total_info":0}}"#,
            "\n"
        );
        let r = parse_kube_bench(log).unwrap();
        assert_eq!((r.pass, r.fail, r.warn, r.info), (60, 2, 11, 0));
        assert_eq!(r.failed, ["1.1.12", "4.2.6"]);
        assert_eq!(
            kube_bench_line(&r),
            "60 passed, 2 failed, 11 warnings (failed: 1.1.12, 4.2.6)"
        );
        let e = parse_kube_bench("error: unable to determine benchmark version\n").unwrap_err();
        assert!(
            matches!(&e, ProbeError::Output(m) if m.contains("unable to determine benchmark version")),
            "{e}"
        );
        assert!(parse_kube_bench(r#"{"Controls":[]}"#).is_err(), "no Totals");
    }
}
