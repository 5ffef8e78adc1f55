//! The Haven+ platform expectations (`plus.rs`).

use super::{Case, at, case};
use crate::registry::{
    DEFAULT_NAMESPACE, IMAGE_DIGEST, IMAGE_TAG, NETWORK_POLICY, PDB, PROBES, RESOURCES, RWX,
    SA_TOKEN,
};

pub(super) fn cases() -> Vec<Case> {
    let mut v = resources();
    v.extend(probes());
    v.extend(images());
    v.extend(pdb());
    v.extend(network_policy());
    v.extend(rwx());
    v.extend(sa_token());
    v.extend(default_namespace());
    v
}

fn resources() -> Vec<Case> {
    vec![
        case(
            RESOURCES,
            "each missing request and limit is named, init containers included",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    spec:
      initContainers:
      - name: init
        image: init:1
      containers:
      - name: web
        image: web:1
        resources:
          requests: {cpu: 100m}
          limits: {cpu: "1"}
      - name: sidecar
        image: sidecar:1
        resources:
          requests: {cpu: 10m, memory: 16Mi}
      - name: complete
        image: complete:1
        resources:
          requests: {cpu: 10m, memory: 16Mi}
          limits: {memory: 32Mi}
"#,
            vec![
                at(
                    "app/Deployment/web",
                    "spec.template.spec.initContainers[0].resources",
                    8,
                    "container \"init\" sets no requests.cpu, requests.memory, limits.memory",
                )
                .container("init"),
                at(
                    "app/Deployment/web",
                    "spec.template.spec.containers[0].resources",
                    13,
                    "container \"web\" sets no requests.memory, limits.memory",
                )
                .container("web"),
                at(
                    "app/Deployment/web",
                    "spec.template.spec.containers[1].resources",
                    18,
                    "container \"sidecar\" sets no limits.memory",
                )
                .container("sidecar"),
            ],
        ),
        case(
            RESOURCES,
            "a memory limit alone is not a request",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  containers:
  - name: c
    image: c:1
    resources:
      limits: {cpu: "1", memory: 1Gi}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.containers[0].resources",
                    8,
                    "container \"c\" sets no requests.cpu, requests.memory",
                )
                .container("c"),
            ],
        )
        .object_scope(),
        case(
            RESOURCES,
            "requests for CPU and memory and a memory limit",
            r#"apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: app}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: job
            image: job:1
            resources:
              requests: {cpu: 100m, memory: 64Mi}
              limits: {memory: 128Mi}
"#,
            vec![],
        ),
    ]
}

fn probes() -> Vec<Case> {
    vec![
        case(
            PROBES,
            "long-running containers and native sidecars without one or both probes",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    spec:
      initContainers:
      - name: migrate
        image: migrate:1
      - name: proxy
        image: proxy:1
        restartPolicy: Always
      containers:
      - name: web
        image: web:1
        livenessProbe: {httpGet: {path: /healthz, port: 8080}}
      - name: worker
        image: worker:1
        readinessProbe: {exec: {command: [check]}}
      - name: bare
        image: bare:1
      - name: complete
        image: complete:1
        livenessProbe: {tcpSocket: {port: 80}}
        readinessProbe: {grpc: {port: 90}}
"#,
            vec![
                at(
                    "app/Deployment/web",
                    "spec.template.spec.initContainers[1]",
                    10,
                    "container \"proxy\" has no livenessProbe and readinessProbe",
                )
                .container("proxy"),
                at(
                    "app/Deployment/web",
                    "spec.template.spec.containers[0]",
                    14,
                    "container \"web\" has no readinessProbe",
                )
                .container("web"),
                at(
                    "app/Deployment/web",
                    "spec.template.spec.containers[1]",
                    17,
                    "container \"worker\" has no livenessProbe",
                )
                .container("worker"),
                at(
                    "app/Deployment/web",
                    "spec.template.spec.containers[2]",
                    20,
                    "container \"bare\" has no livenessProbe and readinessProbe",
                )
                .container("bare"),
            ],
        ),
        case(
            PROBES,
            "every long-running kind",
            r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: app}
spec:
  template:
    spec:
      containers: [{name: db, image: "db:1"}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: app}
spec:
  template:
    spec:
      containers: [{name: agent, image: "agent:1"}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs, namespace: app}
spec:
  template:
    spec:
      containers: [{name: rs, image: "rs:1"}]
---
apiVersion: v1
kind: ReplicationController
metadata: {name: rc, namespace: app}
spec:
  template:
    spec:
      containers: [{name: rc, image: "rc:1"}]
"#,
            vec![
                at(
                    "app/StatefulSet/db",
                    "spec.template.spec.containers[0]",
                    7,
                    "container \"db\" has no livenessProbe and readinessProbe",
                )
                .container("db"),
                at(
                    "app/DaemonSet/agent",
                    "spec.template.spec.containers[0]",
                    15,
                    "container \"agent\" has no livenessProbe and readinessProbe",
                )
                .container("agent"),
                at(
                    "app/ReplicaSet/rs",
                    "spec.template.spec.containers[0]",
                    23,
                    "container \"rs\" has no livenessProbe and readinessProbe",
                )
                .container("rs"),
                at(
                    "app/ReplicationController/rc",
                    "spec.template.spec.containers[0]",
                    31,
                    "container \"rc\" has no livenessProbe and readinessProbe",
                )
                .container("rc"),
            ],
        )
        .object_scope(),
        case(
            PROBES,
            "Jobs, CronJobs, Pods and pod templates run to completion or are not managed",
            r#"apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: app}
spec:
  template:
    spec:
      containers: [{name: a, image: "job:1"}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: app}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: a, image: "job:1"}]
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  containers: [{name: a, image: "p:1"}]
---
apiVersion: v1
kind: PodTemplate
metadata: {name: t, namespace: app}
template:
  spec:
    containers: [{name: a, image: "t:1"}]
"#,
            vec![],
        ),
    ]
}

fn images() -> Vec<Case> {
    const IMAGES: &str = r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  initContainers:
  - {name: init, image: busybox}
  containers:
  - {name: a, image: "nginx:latest"}
  - {name: b, image: "registry.example.nl:5000/team/app"}
  - {name: c, image: "registry.example.nl:5000/team/app:1.4.2"}
  - {name: d, image: "nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000"}
  - {name: e, image: "nginx:latest@sha256:0000000000000000000000000000000000000000000000000000000000000000"}
  - {name: f, image: "nginx:"}
  - {name: g}
"#;
    vec![
        case(
            IMAGE_TAG,
            "no tag (a registry port is no tag, an empty tag neither) or `latest`, init \
             containers included; a digest pins whatever the tag",
            IMAGES,
            vec![
                at(
                    "app/Pod/p",
                    "spec.initContainers[0].image",
                    6,
                    "image \"busybox\" of container \"init\" has no tag (means `latest`)",
                )
                .container("init"),
                at(
                    "app/Pod/p",
                    "spec.containers[0].image",
                    8,
                    "image \"nginx:latest\" of container \"a\" uses the tag `latest`, which moves \
                     with every release",
                )
                .container("a"),
                at(
                    "app/Pod/p",
                    "spec.containers[1].image",
                    9,
                    "image \"registry.example.nl:5000/team/app\" of container \"b\" has no tag \
                     (means `latest`)",
                )
                .container("b"),
            ],
        ),
        case(
            IMAGE_TAG,
            "tags that look like no version move; versions with a suffix do not, unless it \
             names a moving build",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    spec:
      containers:
      - {name: a, image: "app:stable"}
      - {name: b, image: "app:feature-debug-build"}
      - {name: c, image: "postgres:13.x.y"}
      - {name: d, image: "app:1.2-nightly"}
      - {name: e, image: "bitnami/postgresql:16.4.0-debian-12-r7"}
      - {name: f, image: "app:v2"}
      - {name: g, image: "app:a1b2c3d"}
"#,
            vec![
                at(
                    "app/Deployment/web",
                    "spec.template.spec.containers[0].image",
                    8,
                    "image \"app:stable\" of container \"a\" uses the tag `stable`, which is no \
                     version and so may move (`--pinned-tag` names tags that do not)",
                )
                .container("a"),
                at(
                    "app/Deployment/web",
                    "spec.template.spec.containers[1].image",
                    9,
                    "image \"app:feature-debug-build\" of container \"b\" uses the tag \
                     `feature-debug-build`, which is no version and so may move (`--pinned-tag` \
                     names tags that do not)",
                )
                .container("b"),
                at(
                    "app/Deployment/web",
                    "spec.template.spec.containers[2].image",
                    10,
                    "image \"postgres:13.x.y\" of container \"c\" uses the tag `13.x.y`, which \
                     is no version and so may move (`--pinned-tag` names tags that do not)",
                )
                .container("c"),
                at(
                    "app/Deployment/web",
                    "spec.template.spec.containers[3].image",
                    11,
                    "image \"app:1.2-nightly\" of container \"d\" uses the tag `1.2-nightly`, \
                     which names a build published again under it",
                )
                .container("d"),
            ],
        )
        .object_scope(),
        case(
            IMAGE_TAG,
            "--pinned-tag and --moving-tag decide before the tag's shape, moving first",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  containers:
  - {name: a, image: "minio:RELEASE.2024-01-01T00-00-00Z"}
  - {name: b, image: "app:13"}
  - {name: c, image: "app:13.1"}
  - {name: d, image: "app:stable"}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.containers[1].image",
                    7,
                    "image \"app:13\" of container \"b\" uses the tag `13`, which \
                     `--moving-tag [0-9]+` calls moving",
                )
                .container("b"),
                at(
                    "app/Pod/p",
                    "spec.containers[3].image",
                    9,
                    "image \"app:stable\" of container \"d\" uses the tag `stable`, which \
                     `--moving-tag stable` calls moving",
                )
                .container("d"),
            ],
        )
        .tags(&["RELEASE\\..*", "stable"], &["[0-9]+", "stable"]),
        case(
            IMAGE_TAG,
            "a version tag, with or without a digest",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  containers:
  - {name: a, image: "nginx:1.27"}
  - {name: b, image: "nginx:1.27@sha256:0000000000000000000000000000000000000000000000000000000000000000"}
"#,
            vec![],
        )
        .object_scope(),
        case(
            IMAGE_DIGEST,
            "a version tag without a digest",
            IMAGES,
            vec![
                at(
                    "app/Pod/p",
                    "spec.containers[2].image",
                    10,
                    "image \"registry.example.nl:5000/team/app:1.4.2\" of container \"c\" is \
                     pinned by tag, not by digest",
                )
                .container("c"),
            ],
        )
        .object_scope(),
        case(
            IMAGE_DIGEST,
            "a waived finding is still reported, marked as waived",
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: app
  annotations:
    waive.haven.commonground.nl/plus.image-digest: tags are pinned by the release process
spec:
  template:
    spec:
      containers: [{name: web, image: "web:1.2"}]
"#,
            vec![
                at(
                    "app/Deployment/web",
                    "spec.template.spec.containers[0].image",
                    11,
                    "image \"web:1.2\" of container \"web\" is pinned by tag, not by digest",
                )
                .container("web")
                .waived(),
            ],
        ),
        case(
            IMAGE_DIGEST,
            "pinned by digest",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  containers:
  - {name: b, image: "nginx:1.27@sha256:0000000000000000000000000000000000000000000000000000000000000000"}
"#,
            vec![],
        ),
    ]
}

fn pdb() -> Vec<Case> {
    const TEXT: &str = "but no PodDisruptionBudget selects its pods";
    // A Deployment that names no namespace, and a budget for it in `default`.
    const UNPLACED: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "web:1"}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: default}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {app: web}}
"#;
    vec![
        case(
            PDB,
            "replicated, by count or by autoscaler, and no budget selects the pods",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "web:1"}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: app}
spec:
  replicas: 1
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: "db:1"}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: db, namespace: app}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: db}
  maxReplicas: 3
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: other, namespace: app}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {app: other}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: elsewhere}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {app: web}}
"#,
            vec![
                at(
                    "app/Deployment/web",
                    "spec.replicas",
                    5,
                    &format!("Deployment web runs 2 replicas, {TEXT}"),
                ),
                at(
                    "app/StatefulSet/db",
                    "spec.replicas",
                    15,
                    &format!(
                        "StatefulSet db runs 1 and its HorizontalPodAutoscaler up to 3 replicas, {TEXT}"
                    ),
                ),
            ],
        ),
        case(
            PDB,
            "a budget selects the pods, or there is only one replica",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  replicas: 3
  template:
    metadata: {labels: {app: web, tier: front}}
    spec:
      containers: [{name: web, image: "web:1"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: single, namespace: app}
spec:
  replicas: 1
  template:
    metadata: {labels: {app: single}}
    spec:
      containers: [{name: c, image: "c:1"}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: app}
spec:
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: c, image: "c:1"}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: app}
spec:
  minAvailable: 1
  selector:
    matchExpressions: [{key: tier, operator: In, values: [front]}]
"#,
            vec![],
        ),
        case(
            PDB,
            "is an application rule: the admission webhook does not run it",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  replicas: 2
  template:
    spec:
      containers: [{name: web, image: "web:1"}]
"#,
            vec![],
        )
        .object_scope(),
        case(
            PDB,
            "a chart's budget in {{ .Release.Namespace }} selects the workload that names none",
            r#"---
# Source: chart/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "web:1"}]
---
# Source: chart/templates/pdb.yaml
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: hvn-rns}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {app: web}}
"#,
            vec![],
        )
        .chart(),
        case(
            PDB,
            "installed with --namespace default, a budget in `default` selects the workload",
            UNPLACED,
            vec![],
        )
        .namespace("default"),
        case(
            PDB,
            "without --namespace, a budget in `default` is not where the workload goes",
            UNPLACED,
            vec![at(
                "Deployment/web",
                "spec.replicas",
                5,
                &format!(
                    "Deployment web runs 2 replicas, {TEXT} in its namespace (a \
                     PodDisruptionBudget in `default` does: pass --namespace default if that is \
                     where it is installed)"
                ),
            )],
        ),
    ]
}

fn network_policy() -> Vec<Case> {
    const UNPLACED: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "web:1"}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: default}
spec:
  podSelector: {matchLabels: {app: web}}
"#;
    vec![
        case(
            NETWORK_POLICY,
            "without --namespace, a policy in `default` is not where the workload goes",
            UNPLACED,
            vec![at(
                "Deployment/web",
                "spec.template.metadata.labels",
                6,
                "no NetworkPolicy selects the pods of Deployment web in its namespace (a \
                 NetworkPolicy in `default` does: pass --namespace default if that is where it is \
                 installed)",
            )],
        ),
        case(
            NETWORK_POLICY,
            "installed with --namespace default, a policy in `default` selects the workload",
            UNPLACED,
            vec![],
        )
        .namespace("default"),
        case(
            NETWORK_POLICY,
            "no policy selects the pods (one in another namespace does not count)",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      containers: [{name: web, image: "web:1"}]
---
apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: app
  labels: {app: p}
spec:
  containers: [{name: c, image: "c:1"}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: elsewhere}
spec:
  podSelector: {matchLabels: {app: web}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: app}
spec:
  podSelector: {matchLabels: {app: q}}
"#,
            vec![
                at(
                    "app/Deployment/web",
                    "spec.template.metadata.labels",
                    7,
                    "no NetworkPolicy selects the pods of Deployment web",
                ),
                at(
                    "app/Pod/p",
                    "metadata.labels",
                    16,
                    "no NetworkPolicy selects the pods of Pod p",
                ),
            ],
        ),
        case(
            NETWORK_POLICY,
            "matchExpressions: In, NotIn, Exists and DoesNotExist, all of them must hold",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    metadata: {labels: {tier: web}}
    spec:
      containers: [{name: c, image: "c:1"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: app}
spec:
  template:
    metadata: {labels: {tier: db, team: a}}
    spec:
      containers: [{name: c, image: "c:1"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cache, namespace: app}
spec:
  template:
    metadata: {labels: {tier: cache}}
    spec:
      containers: [{name: c, image: "c:1"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: lonely, namespace: app}
spec:
  template:
    metadata: {labels: {tier: db}}
    spec:
      containers: [{name: c, image: "c:1"}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: not-in, namespace: app}
spec:
  podSelector:
    matchExpressions: [{key: tier, operator: NotIn, values: [db, cache]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: exists, namespace: app}
spec:
  podSelector:
    matchExpressions:
    - {key: team, operator: Exists}
    - {key: tier, operator: In, values: [db]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: does-not-exist, namespace: app}
spec:
  podSelector:
    matchExpressions:
    - {key: team, operator: DoesNotExist}
    - {key: tier, operator: In, values: [cache]}
"#,
            vec![at(
                "app/Deployment/lonely",
                "spec.template.metadata.labels",
                33,
                "no NetworkPolicy selects the pods of Deployment lonely",
            )],
        ),
        case(
            NETWORK_POLICY,
            "a policy selects the pods by label or selects every pod; pod templates are not run",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "web:1"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: other}
spec:
  template:
    spec:
      containers: [{name: w, image: "w:1"}]
---
apiVersion: v1
kind: PodTemplate
metadata: {name: t, namespace: elsewhere}
template:
  spec:
    containers: [{name: a, image: "t:1"}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: app}
spec:
  podSelector: {matchLabels: {app: web}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: other}
spec:
  podSelector: {}
"#,
            vec![],
        ),
    ]
}

fn rwx() -> Vec<Case> {
    vec![
        case(
            RWX,
            "a ReadWriteMany claim and claim template",
            r#"apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: shared, namespace: app}
spec:
  accessModes: [ReadWriteOnce, ReadWriteMany]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: app}
spec:
  template:
    spec:
      containers: [{name: db, image: "db:1"}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce]}
  - metadata: {name: files}
    spec:
      accessModes: [ReadWriteMany]
  - spec:
      accessModes: [ReadWriteMany]
"#,
            vec![
                at(
                    "app/PersistentVolumeClaim/shared",
                    "spec.accessModes",
                    5,
                    "claim \"shared\" requests ReadWriteMany: the cluster needs an RWX storage \
                     class",
                ),
                at(
                    "app/StatefulSet/db",
                    "spec.volumeClaimTemplates[1].spec.accessModes",
                    19,
                    "claim template \"files\" requests ReadWriteMany: the cluster needs an RWX \
                     storage class",
                ),
                at(
                    "app/StatefulSet/db",
                    "spec.volumeClaimTemplates[2].spec.accessModes",
                    21,
                    "claim template \"?\" requests ReadWriteMany: the cluster needs an RWX \
                     storage class",
                ),
            ],
        )
        .object_scope(),
        case(
            RWX,
            "ReadWriteOnce claims, and a kind of the same name in another API group",
            r#"apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: app}
spec:
  accessModes: [ReadWriteOnce]
---
apiVersion: example.com/v1
kind: PersistentVolumeClaim
metadata: {name: other, namespace: app}
spec:
  accessModes: [ReadWriteMany]
---
apiVersion: example.com/v1
kind: Database
metadata: {name: db, namespace: app}
spec:
  volumeClaimTemplates:
  - metadata: {name: files}
    spec: {accessModes: [ReadWriteMany]}
"#,
            vec![],
        ),
    ]
}

fn sa_token() -> Vec<Case> {
    vec![
        case(
            SA_TOKEN,
            "the token is mounted by default or on request",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    spec:
      containers: [{name: web, image: "web:1"}]
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  automountServiceAccountToken: true
  containers: [{name: c, image: "c:1"}]
"#,
            vec![
                at(
                    "app/Deployment/web",
                    "spec.template.spec.automountServiceAccountToken",
                    6,
                    "Deployment web mounts a service-account token: the pod spec does not set \
                     automountServiceAccountToken: false",
                ),
                at(
                    "app/Pod/p",
                    "spec.automountServiceAccountToken",
                    13,
                    "Pod p mounts a service-account token: the pod spec sets \
                     automountServiceAccountToken: true",
                ),
            ],
        )
        .object_scope(),
        case(
            SA_TOKEN,
            "the ServiceAccount the pods run as decides when the pod spec says nothing",
            r#"apiVersion: v1
kind: ServiceAccount
metadata: {name: quiet}
automountServiceAccountToken: false
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: loud}
automountServiceAccountToken: true
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: silent}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: quiet}
spec:
  template:
    spec:
      serviceAccountName: quiet
      containers: [{name: web, image: "web:1"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: loud}
spec:
  template:
    spec:
      serviceAccountName: loud
      containers: [{name: web, image: "web:1"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: silent}
spec:
  template:
    spec:
      serviceAccount: silent
      containers: [{name: web, image: "web:1"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: overridden}
spec:
  template:
    spec:
      serviceAccountName: quiet
      automountServiceAccountToken: true
      containers: [{name: web, image: "web:1"}]
---
apiVersion: v1
kind: Pod
metadata: {name: elsewhere, namespace: other}
spec:
  serviceAccountName: quiet
  containers: [{name: web, image: "web:1"}]
"#,
            vec![
                at(
                    "Deployment/loud",
                    "spec.template.spec.automountServiceAccountToken",
                    29,
                    "Deployment loud mounts a service-account token: its ServiceAccount loud sets \
                     automountServiceAccountToken: true and the pod spec does not override it",
                ),
                at(
                    "Deployment/silent",
                    "spec.template.spec.automountServiceAccountToken",
                    38,
                    "Deployment silent mounts a service-account token: neither the pod spec nor \
                     its ServiceAccount silent sets automountServiceAccountToken: false",
                ),
                at(
                    "Deployment/overridden",
                    "spec.template.spec.automountServiceAccountToken",
                    49,
                    "Deployment overridden mounts a service-account token: the pod spec sets \
                     automountServiceAccountToken: true",
                ),
                at(
                    "other/Pod/elsewhere",
                    "spec.automountServiceAccountToken",
                    55,
                    "Pod elsewhere mounts a service-account token: the pod spec does not set \
                     automountServiceAccountToken: false (its ServiceAccount quiet is not among \
                     the manifests in its namespace)",
                ),
            ],
        ),
        case(
            SA_TOKEN,
            "automountServiceAccountToken: false",
            r#"apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: app}
spec:
  template:
    spec:
      automountServiceAccountToken: false
      containers: [{name: a, image: "job:1"}]
"#,
            vec![],
        ),
    ]
}

fn default_namespace() -> Vec<Case> {
    vec![
        case(
            DEFAULT_NAMESPACE,
            "namespaced objects of any kind in `default`",
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: default
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: default}
"#,
            vec![
                at(
                    "default/ConfigMap/settings",
                    "metadata.namespace",
                    5,
                    "ConfigMap settings names the `default` namespace itself (`namespace: default`)",
                ),
                at(
                    "default/Widget/w",
                    "metadata.namespace",
                    9,
                    "Widget w names the `default` namespace itself (`namespace: default`)",
                ),
            ],
        )
        .object_scope(),
        case(
            DEFAULT_NAMESPACE,
            "another namespace, none written, or a cluster-scoped kind",
            r#"apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: app}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: unplaced}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader, namespace: default}
"#,
            vec![],
        ),
        case(
            DEFAULT_NAMESPACE,
            "installed with --namespace default: the manifests are not to blame",
            r#"apiVersion: v1
kind: ConfigMap
metadata: {name: unplaced}
"#,
            vec![],
        )
        .namespace("default"),
        case(
            DEFAULT_NAMESPACE,
            "a chart's {{ .Release.Namespace }} rendered without --namespace is the release's",
            r#"---
# Source: chart/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: hvn-rns
---
# Source: chart/templates/widget.yaml
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: "hvn-rns"}
"#,
            vec![],
        )
        .chart(),
        case(
            DEFAULT_NAMESPACE,
            "a chart that writes `namespace: default` itself",
            r#"---
# Source: chart/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: default
---
# Source: chart/templates/release.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: release
  namespace: hvn-rns
"#,
            vec![at(
                "default/ConfigMap/settings",
                "metadata.namespace",
                5,
                "ConfigMap settings names the `default` namespace itself (`namespace: default`)",
            )],
        )
        .chart()
        .namespace("default"),
    ]
}
