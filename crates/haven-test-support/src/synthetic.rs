//! A generated cluster for benchmarks and scale tests: realistic Nodes across zones, and pods of
//! DaemonSets (one per node) and Deployments (via ReplicaSets) spread over namespaces.

use crate::cluster::FakeCluster;
use serde_json::{Value, json};

const CONTROL_PLANE: usize = 3;
const PODS_PER_DEPLOYMENT: usize = 10;
const DEPLOYMENTS_PER_NAMESPACE: usize = 20;

fn zone_name(i: usize) -> String {
    format!("eu-west-{}{}", 1 + i / 26, (b'a' + (i % 26) as u8) as char)
}

fn node(i: usize, zones: usize) -> Value {
    let name = format!("node-{i:05}");
    let control_plane = i < CONTROL_PLANE;
    let mut labels = json!({
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
        "topology.kubernetes.io/zone": zone_name(i % zones.max(1)),
        "topology.kubernetes.io/region": "eu-west-1",
        "node.kubernetes.io/instance-type": if control_plane { "m5.xlarge" } else { "m5.2xlarge" },
    });
    let mut taints = Vec::new();
    if control_plane {
        labels["node-role.kubernetes.io/control-plane"] = json!("");
        taints
            .push(json!({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}));
    }
    let ip = format!("10.{}.{}.{}", 16 + i / 65536, (i / 256) % 256, i % 256);
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": {"podCIDR": format!("100.{}.{}.0/24", 64 + i / 256 % 64, i % 256), "taints": taints},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": ip},
                {"type": "Hostname", "address": name},
            ],
            "capacity": {"cpu": "8", "memory": "32778028Ki", "pods": "110", "ephemeral-storage": "101445540Ki"},
            "allocatable": {"cpu": "7910m", "memory": "31627052Ki", "pods": "110", "ephemeral-storage": "93492209510"},
            "conditions": [
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"},
                {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure"},
                {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID"},
                {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"},
            ],
            "nodeInfo": {
                "machineID": format!("{i:032x}"),
                "systemUUID": format!("ec2{i:05x}-0000-4000-8000-000000000000"),
                "bootID": format!("b007{i:04x}-0000-4000-8000-000000000000"),
                "kernelVersion": "6.8.0-1015-aws",
                "osImage": "Ubuntu 24.04.1 LTS",
                "containerRuntimeVersion": "containerd://1.7.22",
                "kubeletVersion": "v1.33.4",
                "kubeProxyVersion": "v1.33.4",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    })
}

fn owner(api_version: &str, kind: &str, name: &str, uid: &str) -> Value {
    json!([{"apiVersion": api_version, "kind": kind, "name": name, "uid": uid, "controller": true, "blockOwnerDeletion": true}])
}

fn pod(
    namespace: &str,
    name: &str,
    app: &str,
    node: &str,
    owners: Value,
    image: &str,
    i: usize,
) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/name": app},
            "ownerReferences": owners,
        },
        "spec": {
            "nodeName": node,
            "serviceAccountName": "default",
            "containers": [{
                "name": app,
                "image": image,
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                "securityContext": {"runAsNonRoot": true, "allowPrivilegeEscalation": false},
            }],
        },
        "status": {
            "phase": "Running",
            "podIP": format!("100.{}.{}.{}", 64 + (i >> 16) % 64, (i >> 8) % 256, i % 256),
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    })
}

fn uid_of(cluster: &FakeCluster, api_version: &str, kind: &str, ns: &str, name: &str) -> String {
    cluster
        .get(api_version, kind, Some(ns), name)
        .and_then(|o| o["metadata"]["uid"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A cluster with `nodes` Nodes (3 control-plane) over `zones` zones and exactly `pods` Pods:
/// first one pod per node for each of two kube-system DaemonSets, the rest from Deployments of
/// 10 replicas, 20 per namespace `app-NNN`.
pub fn synthetic(nodes: usize, pods: usize, zones: usize) -> FakeCluster {
    let cluster = FakeCluster::new();
    let apply = |v: Value| cluster.apply(v).expect("synthetic object is valid");
    for i in 0..nodes {
        apply(node(i, zones));
    }
    let mut left = pods;
    let mut pod_index = 0usize;
    for (ds, image) in [
        ("kube-proxy", "registry.k8s.io/kube-proxy:v1.33.4"),
        ("cilium", "quay.io/cilium/cilium:v1.16.3"),
    ] {
        if nodes == 0 {
            break;
        }
        apply(json!({
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": ds, "namespace": "kube-system", "labels": {"app.kubernetes.io/name": ds}},
            "spec": {
                "selector": {"matchLabels": {"app.kubernetes.io/name": ds}},
                "template": {"metadata": {"labels": {"app.kubernetes.io/name": ds}}, "spec": {"containers": [{"name": ds, "image": image}]}},
            },
            "status": {"desiredNumberScheduled": nodes, "numberReady": nodes},
        }));
        let uid = uid_of(&cluster, "apps/v1", "DaemonSet", "kube-system", ds);
        for n in 0..nodes {
            if left == 0 {
                break;
            }
            let owners = owner("apps/v1", "DaemonSet", ds, &uid);
            apply(pod(
                "kube-system",
                &format!("{ds}-{n:05x}"),
                ds,
                &format!("node-{n:05}"),
                owners,
                image,
                pod_index,
            ));
            pod_index += 1;
            left -= 1;
        }
    }
    let workers = nodes.saturating_sub(CONTROL_PLANE).max(1);
    let mut deployment = 0usize;
    while left > 0 {
        let ns = format!("app-{:03}", deployment / DEPLOYMENTS_PER_NAMESPACE);
        if deployment.is_multiple_of(DEPLOYMENTS_PER_NAMESPACE) {
            apply(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}}),
            );
        }
        let app = format!("svc-{deployment:05}");
        let replicas = left.min(PODS_PER_DEPLOYMENT);
        let image = format!("registry.example.nl/gemeente/{app}:1.{}.0", deployment % 7);
        let template = json!({"metadata": {"labels": {"app.kubernetes.io/name": app}}, "spec": {"containers": [{"name": app, "image": image}]}});
        apply(json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": app, "namespace": ns, "labels": {"app.kubernetes.io/name": app}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app.kubernetes.io/name": app}}, "template": template},
            "status": {"replicas": replicas, "readyReplicas": replicas},
        }));
        let duid = uid_of(&cluster, "apps/v1", "Deployment", &ns, &app);
        let rs = format!("{app}-7d9f8b6c5");
        apply(json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": rs, "namespace": ns, "labels": {"app.kubernetes.io/name": app}, "ownerReferences": owner("apps/v1", "Deployment", &app, &duid)},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app.kubernetes.io/name": app}}, "template": template},
            "status": {"replicas": replicas, "readyReplicas": replicas},
        }));
        let rsuid = uid_of(&cluster, "apps/v1", "ReplicaSet", &ns, &rs);
        for r in 0..replicas {
            let node = format!(
                "node-{:05}",
                (CONTROL_PLANE.min(nodes) + pod_index % workers).min(nodes.saturating_sub(1))
            );
            let owners = owner("apps/v1", "ReplicaSet", &rs, &rsuid);
            apply(pod(
                &ns,
                &format!("{rs}-{r:05x}"),
                &app,
                &node,
                owners,
                &image,
                pod_index,
            ));
            pod_index += 1;
        }
        left -= replicas;
        deployment += 1;
    }
    cluster
}
