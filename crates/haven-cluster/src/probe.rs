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

use crate::snapshot::ProbeRecord;

const INTERRUPTED: &str = "interrupted (Ctrl-C)";

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
        _ = tokio::signal::ctrl_c() => Err(INTERRUPTED.to_owned()),
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
    facts.insert("cleanup".to_owned(), cleanup.clone().unwrap_or_else(|e| e));
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
            interrupted: message.starts_with(INTERRUPTED),
            detail: format!("write probe could not run: {message}"),
            facts,
        },
    }
}

async fn rwx_probe_inner(
    client: &Client,
    o: &RwxProbeOptions,
) -> Result<(String, Duration), String> {
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
        .map_err(|_| "creating the namespace timed out".to_owned())?
        .map_err(|e| format!("create namespace {}: {e}", o.namespace))?;
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
        .map_err(|_| "creating the claim timed out".to_owned())?
        .map_err(|e| format!("create persistentvolumeclaim: {e}"))?;
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
            Ok(Err(e)) => return Err(format!("get persistentvolumeclaim: {e}")),
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
async fn cleanup(client: &Client, namespace: &str) -> Result<String, String> {
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
        Ok(Err(e)) => Err(format!(
            "could not delete namespace {namespace}: {e}; delete it by hand"
        )),
        Err(_) => Err(format!(
            "deleting namespace {namespace} timed out; delete it by hand"
        )),
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
        _ = tokio::signal::ctrl_c() => Err(INTERRUPTED.to_owned()),
    };
    let cleanup = cleanup(client, &options.namespace).await;
    let mut facts = BTreeMap::new();
    facts.insert("namespace".to_owned(), options.namespace.clone());
    facts.insert("cleanup".to_owned(), cleanup.unwrap_or_else(|e| e));
    match outcome {
        Err(message) => ProbeRecord {
            check: "nodehardening".into(),
            passed: None,
            interrupted: message.starts_with(INTERRUPTED),
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
) -> Result<Vec<NodeVerdict>, String> {
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
    let labels = BTreeMap::from([
        (PROBE_LABEL.to_owned(), "nodehardening".to_owned()),
        // hostPath volumes need the privileged Pod Security level.
        (
            "pod-security.kubernetes.io/enforce".to_owned(),
            "privileged".to_owned(),
        ),
    ]);
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(o.namespace.clone()),
            labels: Some(labels),
            ..Default::default()
        },
        ..Default::default()
    };
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .map_err(|e| format!("create namespace {}: {e}", o.namespace))?;
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
}
